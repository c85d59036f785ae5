#!/usr/bin/env python3
"""Guest side of the dashboard screenshot (monitoring/render/run boots a test guest with it).

Loads the module (PP_KO), runs real programs in three services' cgroups for PP_CAPTURE_SECONDS
(default 300) while `procperf exporter` (PP_PROCPERF) serves the module's files and a real
Prometheus (PP_PROMETHEUS) scrapes it every second, then evaluates the PromQL of every panel of
monitoring/grafana/procperf.json through Prometheus's HTTP API, as Grafana would for that time
range, and writes the answers to /run/out/dashboard-data.json (PP_CAPTURE_OUT) for render.py.

The services, under /sys/fs/cgroup/demo.slice (the memory controller enabled):
  db.service     a database and its front: one long-lived sqlite3 shell fed inserts in
                 transactions, aggregate queries and VACUUM by a client (comm db-frontend) that also
                 fetches files from busybox httpd in the same cgroup (loopback network), with idle
                 stretches; the database is on the scratch disk (ext4 on /dev/vda), so disk I/O is real
  build.service  a build loop: gcc -O2 on a generated C file, xz and gzip of a 8 MiB tar, pauses
  leak.service   memory.max 300M; a process (comm leaky-cache) that takes 20 MiB more every 10 s
                 up to 260 MiB, holds it 30 s, lets it all go, rests 30 s, and starts again
Dashboard variables: Host = All (".*"), Cgroup = each of the three (the cgroup row is evaluated once
per service); $__interval is the 2 s step, $__rate_interval Grafana's max(4 x scrape interval,
step + scrape interval) = 4 s, $__range the whole range. Timeseries and stat panels: query_range
over the capture (from a short idle lead-in to its end) at a 2 s step; instant queries (the table,
the stats over $__range) at its end. Values are kept as Prometheus answered them (NaN and
infinities as null). Prints TAP: the module loads, Prometheus scrapes, the leak service counts as
one process below its memory.max (a guard against picturing a broken build), the
services ran throughout, every panel has data.
"""
import json, os, random, re, signal, subprocess, sys, time, urllib.parse, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
from guest import Tap, DEBUGFS, read  # noqa: E402

CG = "/sys/fs/cgroup"
SLICE = "/demo.slice"
SERVICES = ["db", "build", "leak"]
LEAK_MAX = "300M"
DASHBOARD = os.path.join(REPO, "monitoring", "grafana", "procperf.json")
EXPORTER_PORT, PROM_PORT, HTTP_PORT = 9877, 9090, 47531
SCRAPE_S, STEP_S, LEAD_S = 1, 2, 20
# The host name the dashboard's Host variable lists (Prometheus's instance label, set in the scrape
# config as a fleet would name its hosts).
INSTANCE = "procperf-guest"
MIB = 1 << 20


def set_comm(name):
    with open("/proc/self/comm", "w") as f:
        f.write(name[:15])


def log(role, msg):
    """A role's phase log line (time since the capture's start is added by the reader)."""
    print(f"{time.time():.1f} {role} {msg}", file=sys.stderr, flush=True)


# ---- the services (each runs as `capture.py --role NAME SCRATCH SEED` inside its cgroup) -------

def role_db(scratch, rng):
    """sqlite3 fed by this client; busybox httpd serving exports the client fetches."""
    set_comm("db-frontend")
    d = os.path.join(scratch, "db")
    www = os.path.join(d, "www")
    os.makedirs(www, exist_ok=True)
    for kib in (16, 256):
        with open(os.path.join(www, f"export-{kib}k"), "wb") as f:
            f.write(os.urandom(kib << 10))
    httpd = subprocess.Popen(["busybox", "httpd", "-f", "-p", f"127.0.0.1:{HTTP_PORT}", "-h", www])
    sql = subprocess.Popen(["sqlite3", os.path.join(d, "app.db")], stdin=subprocess.PIPE,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def send(text):
        sql.stdin.write(text.encode())
        sql.stdin.flush()

    def fetch(kib):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{HTTP_PORT}/export-{kib}k", timeout=10) as r:
                r.read()
        except OSError:
            pass

    send("PRAGMA journal_mode=WAL;\nCREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, "
         "customer INTEGER, item TEXT, amount REAL);\n")
    time.sleep(1)
    while True:
        what = rng.choice(["insert", "insert", "query", "export", "idle", "vacuum"])
        secs = rng.uniform(8, 25)
        log("db", f"{what} {secs:.0f} s")
        end = time.monotonic() + secs
        if what == "insert":
            rows, size = rng.choice([500, 2000]), rng.choice([64, 400])
            while time.monotonic() < end:
                send(f"BEGIN; WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) "
                     f"INSERT INTO orders (customer, item, amount) SELECT abs(random()) % 100000, "
                     f"hex(randomblob({size // 2})), abs(random()) % 10000 / 100.0 FROM c; COMMIT;\n")
                time.sleep(rng.choice([0.2, 0.5, 1.0]))
        elif what == "query":
            while time.monotonic() < end:
                send("SELECT customer % 97, count(*), avg(amount), max(length(item)) FROM orders "
                     "GROUP BY 1 ORDER BY 2 DESC LIMIT 5;\n")
                fetch(16)
                time.sleep(rng.choice([0.3, 1.0]))
        elif what == "export":
            while time.monotonic() < end:
                fetch(256)
                time.sleep(rng.choice([0.1, 0.5]))
        elif what == "vacuum":
            send("DELETE FROM orders WHERE amount < 5; VACUUM;\n")
            time.sleep(secs)
        else:
            time.sleep(secs)
        if httpd.poll() is not None or sql.poll() is not None:
            log("db", "a server ended")
            return


def role_build(scratch, rng):
    """A compile loop with compression steps in between."""
    set_comm("build-loop")
    d = os.path.join(scratch, "build")
    os.makedirs(d, exist_ok=True)
    src = os.path.join(d, "unit.c")
    with open(src, "w") as f:
        for i in range(120):
            f.write(f"double f{i}(const double *a, int n) {{ double s = {i}; for (int k = 0; k < n; k++) "
                    f"{{ s += a[k] * (k % {i + 3}) / (1.0 + a[(k * {i + 7}) % n]); if (s > 1e9) s /= {i + 2}; }} "
                    f"return s; }}\n")
    corpus = os.path.join(d, "corpus.tar")
    subprocess.run(f"tar -cf - /usr/share/doc 2>/dev/null | head -c {8 * MIB} > {corpus}", shell=True)
    while True:
        what = rng.choice(["cc", "cc", "cc", "xz", "gzip", "idle"])
        log("build", what)
        if what == "cc":
            subprocess.run(["gcc", "-O2", "-c", src, "-o", os.path.join(d, "unit.o")])
        elif what == "xz":
            subprocess.run(f"xz -T1 -3 -c {corpus} > {corpus}.xz", shell=True)
        elif what == "gzip":
            subprocess.run(f"gzip -6 -c {corpus} > {corpus}.gz", shell=True)
        else:
            time.sleep(rng.uniform(5, 15))
        time.sleep(rng.uniform(0.5, 3))


def role_leak(scratch, rng):
    """Grows 20 MiB every 10 s to 260 MiB, holds, frees everything, rests; again."""
    set_comm("leaky-cache")
    held = []
    while True:
        while len(held) < 13:
            held.append(bytes([len(held) + 1]) * (20 * MIB))   # written: resident at once
            log("leak", f"{len(held) * 20} MiB")
            time.sleep(10)
        time.sleep(30)
        held.clear()
        log("leak", "freed")
        time.sleep(30)


ROLES = {"db": role_db, "build": role_build, "leak": role_leak}


# ---- Prometheus --------------------------------------------------------------------------------

def api(path, **params):
    url = f"http://127.0.0.1:{PROM_PORT}/api/v1/{path}?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=120) as r:
        body = json.loads(r.read().decode())
    if body.get("status") != "success":
        raise RuntimeError(f"{path} {params}: {body}")
    return body["data"]


def number(s):
    """A sample value as JSON can hold it: NaN and infinities become null."""
    v = float(s)
    return v if v == v and abs(v) != float("inf") else None


def regex_escape(value):
    """A variable's value inside a PromQL regex string, escaped as Grafana escapes it."""
    return re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\\\1", value)


def fill(expr, variables):
    def sub(m):
        name = m.group(1) or m.group(2)
        if name not in variables:
            raise SystemExit(f"capture.py: no value for Grafana variable ${name} in {expr}")
        return variables[name]
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", sub, expr)


def evaluate(panel, variables, start, end):
    """The panel as the renderer needs it, with each target's expression and Prometheus's answer."""
    out = {k: panel[k] for k in ("id", "type", "title", "description", "gridPos", "fieldConfig", "options",
                                 "transformations") if k in panel}
    out["targets"] = []
    for t in panel.get("targets", []):
        expr = fill(t["expr"], variables)
        instant = bool(t.get("instant")) and not t.get("range")
        if instant:
            data = api("query", query=expr, time=f"{end:.3f}")
            result = [{"metric": s["metric"], "value": [s["value"][0], number(s["value"][1])]}
                      for s in data["result"]]
        else:
            data = api("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=f"{STEP_S}s")
            result = [{"metric": s["metric"], "values": [[v[0], number(v[1])] for v in s["values"]]}
                      for s in data["result"]]
        out["targets"].append({"refId": t.get("refId"), "expr": expr, "legendFormat": t.get("legendFormat", ""),
                               "instant": instant, "format": t.get("format", "time_series"), "result": result})
    return out


def evaluate_dashboard(dash, cgroups, start, end):
    """Rows in the dashboard's order; the repeated cgroup row once per cgroup."""
    rows, row = [], None
    for p in dash["panels"]:
        if p["type"] == "row":
            row = {"title": p["title"], "repeat": p.get("repeat"), "panels": []}
            rows.append(row)
        else:
            row["panels"].append(p)
    base = {"instance": ".*", "datasource": "prometheus", "__interval": f"{STEP_S}s",
            "__rate_interval": f"{max(4 * SCRAPE_S, STEP_S + SCRAPE_S)}s", "__range": f"{round(end - start)}s"}
    out = []
    for r in rows:
        values = cgroups if r["repeat"] == "cgroup" else [None]
        for v in values:
            variables = dict(base, cgroup=regex_escape(v) if v else ".*")
            out.append({"title": fill(r["title"], {"cgroup": v or ""}), "repeat": r["repeat"], "cgroup": v,
                        "panels": [evaluate(p, variables, start, end) for p in r["panels"]]})
    return out


# ---- the capture --------------------------------------------------------------------------------

def start_role(name, scratch, seed):
    path = f"{CG}{SLICE}/{name}.service"

    def enter():
        with open(f"{path}/cgroup.procs", "w") as f:
            f.write(str(os.getpid()))
    return subprocess.Popen([sys.executable, os.path.abspath(__file__), "--role", name, scratch, str(seed)],
                            preexec_fn=enter, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(scratch, f"{name}.log"), "w"))


def stop_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()


def wait_empty(path, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not read(f"{path}/cgroup.procs").strip():
            return True
        time.sleep(0.5)
    return False


def main():
    tap = Tap()
    seconds = int(os.environ.get("PP_CAPTURE_SECONDS", "300"))
    seed = int(os.environ.get("PP_CAPTURE_SEED", "1"))
    out_path = os.environ.get("PP_CAPTURE_OUT", "/run/out/dashboard-data.json")
    procperf, prometheus = os.environ["PP_PROCPERF"], os.environ["PP_PROMETHEUS"]
    if not tap.check("cgroup2 is mounted", os.path.exists(f"{CG}/cgroup.procs")):
        tap.done()
    r = subprocess.run(["insmod", os.environ["PP_KO"]], capture_output=True, text=True)
    if not tap.check("insmod procperf.ko", r.returncode == 0, r.stderr):
        tap.done()

    # The scratch disk, so the database's writes are block I/O (tmpfs has none).
    scratch = "/tmp/capture"
    os.makedirs(scratch, exist_ok=True)
    on_disk = False
    if os.path.exists("/dev/vda"):
        r = subprocess.run(["mkfs.ext4", "-q", "-F", "/dev/vda"], capture_output=True, text=True)
        on_disk = r.returncode == 0 and subprocess.run(["mount", "-t", "ext4", "/dev/vda", scratch]).returncode == 0
    tap.check(f"scratch file system on /dev/vda ({'ext4' if on_disk else 'tmpfs: no disk I/O'})", on_disk)

    for path, ctl in [(CG, "+memory"), (f"{CG}{SLICE}", "+memory")]:
        os.makedirs(path, exist_ok=True)
        with open(f"{path}/cgroup.subtree_control", "w") as f:
            f.write(ctl)
    for s in SERVICES:
        os.makedirs(f"{CG}{SLICE}/{s}.service", exist_ok=True)
    with open(f"{CG}{SLICE}/leak.service/memory.max", "w") as f:
        f.write(LEAK_MAX)
    cgroups = [f"{SLICE}/{s}.service" for s in SERVICES]

    work = "/tmp/prometheus"
    os.makedirs(work, exist_ok=True)
    exporter = subprocess.Popen([procperf, "exporter", "--listen", f"127.0.0.1:{EXPORTER_PORT}"],
                                stdout=subprocess.DEVNULL, stderr=open(f"{work}/exporter.log", "w"))
    with open(f"{work}/prometheus.yml", "w") as f:
        f.write(f"global:\n  scrape_interval: {SCRAPE_S}s\n  evaluation_interval: {SCRAPE_S}s\n"
                f"scrape_configs:\n  - job_name: procperf\n    static_configs:\n"
                f"      - targets: ['127.0.0.1:{EXPORTER_PORT}']\n        labels:\n          instance: {INSTANCE}\n")
    prom = subprocess.Popen([prometheus, f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/data",
                             f"--web.listen-address=127.0.0.1:{PROM_PORT}"],
                            stdout=subprocess.DEVNULL, stderr=open(f"{work}/prometheus.log", "w"))
    roles = []
    try:
        up, deadline = [], time.time() + 300
        while time.time() < deadline:
            time.sleep(2)
            try:
                up = api("query", query='procperf_up{job="procperf"}')["result"]
                if up and up[0]["value"][1] == "1":
                    break
            except (OSError, ValueError, RuntimeError):
                continue
        if not tap.check("Prometheus scrapes the exporter, which reads the module", up and up[0]["value"][1] == "1",
                         read(f"{work}/prometheus.log")[-2000:]):
            tap.done()

        start = time.time()
        print(f"# idle lead-in {LEAD_S} s, then the services for {seconds} s", flush=True)
        time.sleep(LEAD_S)
        t0 = time.time()
        rng = random.Random(seed)
        roles = [start_role(s, scratch, rng.randrange(1 << 30)) for s in SERVICES]
        while time.time() < t0 + seconds:
            time.sleep(min(30, t0 + seconds - time.time()))
            print(f"# {time.time() - t0:.0f} s", flush=True)
        end = time.time()
        # The picture must not show a broken build: the leak service is one process below its limit.
        leak = f'{{cgroup="{SLICE}/leak.service"}}'
        n = api("query", query=f"procperf_cgroup_processes{leak}")["result"]
        rss = api("query", query=f"procperf_cgroup_resident_memory_bytes{leak} < procperf_cgroup_memory_max_bytes{leak}")["result"]
        tap.check("the exporter counts the leak service's one process, its RSS below memory.max",
                  [s["value"][1] for s in n] == ["1"] and len(rss) == 1, (n, rss))
        for p in roles:
            tap.check(f"the {p.args[3]} service ran the whole capture", p.poll() is None,
                      open(os.path.join(scratch, f"{p.args[3]}.log")).read()[-1500:])
            stop_group(p)

        began = time.time()
        with open(DASHBOARD) as f:
            dash = json.load(f)
        rows = evaluate_dashboard(dash, cgroups, start, end)
        print(f"# {sum(len(t['result']) for r in rows for p in r['panels'] for t in p['targets'])} series from "
              f"{sum(len(p['targets']) for r in rows for p in r['panels'])} queries in {time.time() - began:.0f} s",
              flush=True)
        empty = [f"{r['title']} / {p['title']}" for r in rows for p in r["panels"]
                 if not any(t["result"] for t in p["targets"])]
        tap.check("every panel has data", not empty, "\n".join(empty))

        events = []
        for s in SERVICES:
            for line in open(os.path.join(scratch, f"{s}.log")):
                parts = line.split(" ", 2)
                if len(parts) == 3 and parts[1] == s:
                    try:
                        events.append([round(float(parts[0]), 1), s, parts[2].strip()])
                    except ValueError:
                        pass
        v = subprocess.run([prometheus, "--version"], capture_output=True, text=True)
        version = v.stdout or v.stderr
        model = dict(l.split(None, 1) for l in read(f"{DEBUGFS}/model_info").splitlines() if " " in l.strip())
        data = {
            "dashboard": {"title": dash.get("title"), "uid": dash.get("uid"), "file": "monitoring/grafana/procperf.json"},
            "capture": {
                "date": time.strftime("%Y-%m-%d", time.gmtime(t0)),
                "start": start, "services_start": t0, "end": end, "seconds": seconds, "step": STEP_S,
                "scrape_interval": SCRAPE_S, "kernel": os.uname().release, "module": read(f"{DEBUGFS}/version").strip(),
                "model": {k: v.strip() for k, v in model.items()},
                "accel": os.environ.get("PP_ACCEL", ""), "cpus": os.cpu_count(),
                "prometheus": version.strip().split("\n")[0],
                "scratch": "ext4 on /dev/vda" if on_disk else "tmpfs",
                "services": {c: doc for c, doc in zip(cgroups, [
                    "sqlite3 fed inserts, queries and VACUUM by db-frontend, which also fetches from busybox httpd",
                    "gcc -O2, xz -3 and gzip -6 in a loop with pauses",
                    f"leaky-cache: +20 MiB every 10 s to 260 MiB, holds 30 s, frees, rests 30 s (memory.max {LEAK_MAX})"])},
                "events": sorted(events),
            },
            "variables": {"datasource": "Prometheus", "instance": "All", "cgroup": cgroups},
            "rows": rows,
        }
        with open(out_path + ".tmp", "w") as f:
            json.dump(data, f, separators=(",", ":"))
        os.replace(out_path + ".tmp", out_path)
        tap.check(f"wrote {out_path} ({os.path.getsize(out_path) >> 10} KiB)", True)
    finally:
        for p in roles:
            stop_group(p)
        for p in (prom, exporter):
            p.send_signal(signal.SIGKILL)
            p.wait()
    for s in SERVICES:
        if wait_empty(f"{CG}{SLICE}/{s}.service"):
            os.rmdir(f"{CG}{SLICE}/{s}.service")
    time.sleep(1.5)
    r = subprocess.run(["rmmod", "procperf"], capture_output=True, text=True)
    tap.check("rmmod", r.returncode == 0, r.stderr)
    if on_disk:
        subprocess.run(["umount", scratch])
    tap.done()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--role":
        name, scratch, seed = sys.argv[2], sys.argv[3], int(sys.argv[4])
        ROLES[name](scratch, random.Random(seed))
    else:
        main()
