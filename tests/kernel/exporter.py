#!/usr/bin/env python3
"""Guest test: `procperf exporter` on the live module, scraped by a real Prometheus.

Loads the module, puts a spinner and a sleeper in a cgroup of their own (/pp-export), starts
many sleepers, runs the exporter (PP_PROCPERF) on a loopback port and Prometheus (PP_PROMETHEUS)
scraping it every second, then queries Prometheus's HTTP API: the series exist; the cgroup's
values equal the module's own cgroups.csv at the same pass (the exporter reads the files once
per pass; `procperf_passes_total` names the pass); the spinner has per-process series with its
cgroup's path; the series count stays within the exporter's documented bound with hundreds of
processes; the exporter's answers negotiate OpenMetrics and Prometheus text. Prints TAP.
"""
import json, os, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.parse, urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from guest import Tap, load_module, DEBUGFS, read, stats, Rows  # noqa: E402

CG = "/sys/fs/cgroup"
BOUND = 4549  # cli/README.md: the series bound at the defaults
tap = Tap()
load_module(tap)  # the default 1 s interval: the exporter reads once per pass
procperf, prometheus = os.environ["PP_PROCPERF"], os.environ["PP_PROMETHEUS"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, accept=None):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.headers.get("Content-Type", ""), r.read().decode()


def query(q):
    _, body = get(f"http://127.0.0.1:{prom_port}/api/v1/query?" + urllib.parse.urlencode({"query": q}))
    return json.loads(body)["data"]["result"]


os.makedirs(f"{CG}/pp-export", exist_ok=True)
cg_id = os.stat(f"{CG}/pp-export").st_ino
spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
nap = subprocess.Popen(["sleep", "1000"])
for p in (spin, nap):
    with open(f"{CG}/pp-export/cgroup.procs", "w") as f:
        f.write(str(p.pid))
crowd = [subprocess.Popen(["sleep", "1000"]) for _ in range(300)]

exp_port, prom_port = free_port(), free_port()
exporter = subprocess.Popen([procperf, "exporter", "--listen", f"127.0.0.1:{exp_port}"],
                            stderr=subprocess.PIPE, text=True)
work = tempfile.mkdtemp()
with open(f"{work}/prometheus.yml", "w") as f:
    f.write(f"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            f"scrape_configs:\n  - job_name: procperf\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{exp_port}']\n")
prom = subprocess.Popen([prometheus, f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/data",
                         f"--web.listen-address=127.0.0.1:{prom_port}"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    up = []
    deadline = time.time() + 120
    while time.time() < deadline:
        time.sleep(2)
        try:
            up = query('procperf_up{job="procperf"}')
            spinner = query(f'procperf_process_cpu_usage_ratio{{pid="{spin.pid}"}}')
            if up and up[0]["value"][1] == "1" and spinner:
                break
        except (OSError, KeyError, ValueError):
            continue
    tap.check("Prometheus scrapes the exporter, which reads the module (procperf_up 1)",
              up and up[0]["value"][1] == "1", up)
    tap.check("the spinner has per-process series, labelled with its cgroup's path",
              any(s["metric"].get("cgroup") == "/pp-export" for s in query(f'procperf_process_cpu_usage_ratio{{pid="{spin.pid}"}}')),
              query(f'procperf_process_cpu_usage_ratio{{pid="{spin.pid}"}}'))

    # Same pass: the module's cgroups.csv read just after a scrape Prometheus stored, compared
    # where both name the same pass (t_ms is the pass; the exporter serves one read per pass).
    matched = None
    for _ in range(20):
        rows = {r["cgroup"]: r for r in Rows(read(f"{DEBUGFS}/cgroups.csv")).rows}
        mine = rows.get(cg_id)
        res = query('{__name__=~"procperf_cgroup_(processes|cpu_seconds_total|resident_memory_bytes)",cgroup="/pp-export"}')
        got = {(s["metric"]["__name__"], s["metric"].get("mode", "")): float(s["value"][1]) for s in res}
        if mine and got:
            want = {("procperf_cgroup_processes", ""): mine["processes"],
                    ("procperf_cgroup_cpu_seconds_total", "user"): mine["cpu_user_ns"] / 1e9,
                    ("procperf_cgroup_cpu_seconds_total", "system"): mine["cpu_sys_ns"] / 1e9,
                    ("procperf_cgroup_resident_memory_bytes", ""): mine["rss_kib"] * 1024}
            if all(abs(got.get(k, -1) - v) <= 1e-9 * max(1, abs(v)) for k, v in want.items()):
                matched = (got, want)
                break
        time.sleep(0.5)
    tap.check("the cgroup's series equal the module's cgroups.csv at the same pass", matched is not None,
              (got, want) if matched is None else None)
    tap.check("the cgroup counts its two processes", matched and matched[1][("procperf_cgroup_processes", "")] == 2,
              matched)
    st = stats()
    tracked = query("procperf_tracked_processes")
    tap.check(f"module gauges come through (tracked {tracked[0]['value'][1] if tracked else None} vs stats {st['processes_tracked']})",
              tracked and abs(float(tracked[0]["value"][1]) - st["processes_tracked"]) <= 5, tracked)
    n = query('count({__name__=~"procperf_.*",job="procperf"})')
    count = int(n[0]["value"][1]) if n else 0
    tap.check(f"series stay bounded with {st['processes_tracked']} processes ({count} <= {BOUND})", 0 < count <= BOUND, n)
    cov = query('procperf_forecast_checks_total{target="cpu",horizon_seconds="5"}')
    tap.check("live accuracy counters are exported", cov and float(cov[0]["value"][1]) > 0, cov)
    ctype, body = get(f"http://127.0.0.1:{exp_port}/metrics", "application/openmetrics-text; version=1.0.0")
    tap.check("OpenMetrics when asked (# EOF at the end)",
              ctype.startswith("application/openmetrics-text") and body.rstrip().endswith("# EOF"), ctype)
    ctype, body = get(f"http://127.0.0.1:{exp_port}/metrics")
    tap.check("Prometheus text 0.0.4 otherwise", ctype.startswith("text/plain") and "# EOF" not in body, ctype)
    promtool = os.path.join(os.path.dirname(prometheus), "promtool")
    r = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, text=True)
    tap.check("promtool check metrics passes on the live output", r.returncode == 0, r.stdout + r.stderr)
finally:
    for p in [prom, exporter, spin, nap] + crowd:
        p.send_signal(signal.SIGKILL)
        p.wait()
    shutil.rmtree(work, ignore_errors=True)
time.sleep(1.5)
os.rmdir(f"{CG}/pp-export")
r = subprocess.run(["rmmod", "procperf"], capture_output=True, text=True)
tap.check("rmmod", r.returncode == 0, r.stderr)
tap.done()
