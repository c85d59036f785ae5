#!/usr/bin/env python3
"""Guest test: cgroup attribution, the per-group totals (cgroups.csv, comms.csv) and the anomaly flag.

Builds a nested cgroup tree (/pp/a/b and /pp/c), runs a spinner and a sleeper in /pp/a/b under
command names of their own, moves the spinner to /pp/c, then ends both. Checks that every file
names a process's cgroup by the id userspace sees (the directory's inode number), that each
cgroup's row counts its own processes only (the leaf, not its ancestors), follows the migration,
keeps its counters after the processes exit, and that every counter equals the sum of the
`samples` rows of that cgroup and of that command name. Then 1 100 short-lived processes with
distinct names overflow the 1 024 command-name groups: the oldest give way, nothing is lost
silently (stats counts it). Last, faults injected into calm processes: one starts spinning, one
takes 200 MiB at once; both must be flagged (and counted in their cgroup's `anomalous`) and a calm
one beside them not. Prints TAP.
"""
import os, signal, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from guest import Tap, load_module, DEBUGFS, read, stats, write, Rows, SamplesReader  # noqa: E402

INTERVAL_MS = 200
CG = "/sys/fs/cgroup"
COUNTERS = ["cpu_user_ns", "cpu_sys_ns", "disk_read_bytes", "disk_write_bytes", "net_rx_bytes",
            "net_tx_bytes", "nvcsw", "nivcsw", "minflt", "majflt"]
tap = Tap()
if not tap.check("cgroup2 is mounted", os.path.exists(f"{CG}/cgroup.procs")):
    tap.done()
load_module(tap, interval_ms=INTERVAL_MS)
reader = SamplesReader()


def passes(n, ms=INTERVAL_MS):
    time.sleep(n * ms / 1000)


def groups(name):
    """cgroups.csv or comms.csv: (header, {key: row})."""
    rows = Rows(read(f"{DEBUGFS}/{name}"))
    key = rows.header[1] if len(rows.header) > 1 else "?"
    return rows.header, {r[key]: r for r in rows.rows}, rows.bad_rows


def mkcg(path):
    os.makedirs(f"{CG}{path}", exist_ok=True)
    return os.stat(f"{CG}{path}").st_ino


def move(pid, path):
    with open(f"{CG}{path}/cgroup.procs", "w") as f:
        f.write(str(pid))


def named(name, code):
    """A python child whose command name is `name` (prctl PR_SET_NAME), running `code`."""
    pre = (f"import ctypes; ctypes.CDLL(None).prctl(15, {name.encode()!r}, 0, 0, 0); "
           "import time, sys; print('ready', flush=True); ")
    p = subprocess.Popen([sys.executable, "-c", pre + code], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    p.stdout.readline()
    return p


with open(f"{CG}/cgroup.subtree_control", "w") as f:
    f.write("+memory")
ids = {p: mkcg(p) for p in ["/pp", "/pp/a", "/pp/a/b", "/pp/c"]}
b, c = ids["/pp/a/b"], ids["/pp/c"]
spin = named("pp-spin", "t = time.time()\nwhile True: t += 1")
sleeper = named("pp-sleep", "time.sleep(1000)")
move(spin.pid, "/pp/a/b")
move(sleeper.pid, "/pp/a/b")
passes(15)  # a full history (8 intervals) and more

csv = Rows(read(f"{DEBUGFS}/predictions.csv"))
mine = {r["pid"]: r for r in csv.rows if r["pid"] in (spin.pid, sleeper.pid)}
tap.check("predictions.csv names both processes' cgroup by its inode number",
          len(mine) == 2 and all(r["cgroup"] == b for r in mine.values()), (b, mine))
table = [l.split() for l in read(f"{DEBUGFS}/predictions").splitlines()[3:]]
tap.check("predictions shows the cgroup id after the command name",
          any(l[:3] == [str(spin.pid), "pp-spin", str(b)] for l in table), table[:5])

header, cg, bad = groups("cgroups.csv")
tap.check("cgroups.csv: header t_ms,cgroup,processes,anomalous, then counters, levels and forecasts per horizon",
          header[:5] == ["t_ms", "cgroup", "processes", "anomalous", "cpu_user_ns"] and "net_bytes_per_s_60" in header
          and "rss_kib_hi_60" in header and bad == 0, (header, bad))
row_b = cg.get(b, {})
tap.check("the leaf cgroup counts both processes; its ancestors have no row of their own",
          row_b.get("processes") == 2 and ids["/pp/a"] not in cg and ids["/pp"] not in cg, row_b)
tap.check(f"the spinner's CPU shows in its cgroup's level and forecasts ({row_b.get('cpu_permille')} permille)",
          row_b.get("cpu_permille", 0) >= 300 and row_b.get("cpu_permille_5", 0) >= 300
          and row_b.get("cpu_permille_60", 0) > 0, row_b)
rss = sum(int(l.split()[1]) for l in read(f"/proc/{spin.pid}/status").splitlines() + read(f"/proc/{sleeper.pid}/status").splitlines()
          if l.startswith("VmRSS:"))
tap.check(f"the cgroup's RSS is its processes' ({row_b.get('rss_kib')} KiB vs VmRSS {rss} KiB)",
          abs(row_b.get("rss_kib", 0) - rss) <= max(256, rss // 10), row_b)
_, comms, _ = groups("comms.csv")
tap.check("comms.csv has a row per command name",
          comms.get("pp-spin", {}).get("processes") == 1 and comms.get("pp-sleep", {}).get("processes") == 1,
          {k: comms.get(k) for k in ("pp-spin", "pp-sleep")})

move(spin.pid, "/pp/c")
passes(10)
_, cg2, _ = groups("cgroups.csv")
cpu = lambda r: r.get("cpu_user_ns", 0) + r.get("cpu_sys_ns", 0)  # noqa: E731
b2, c2 = cg2.get(b, {}), cg2.get(c, {})
tap.check("a migrated process counts in its new cgroup only",
          b2.get("processes") == 1 and c2.get("processes") == 1 and cpu(c2) > 0, (b2, c2))
tap.check("the old cgroup's counters keep what it did and stop growing with the spinner's CPU",
          cpu(row_b) <= cpu(b2) <= cpu(row_b) + 3 * INTERVAL_MS * 10**6 and c2.get("cpu_permille", 0) >= 300,
          (cpu(row_b), cpu(b2)))

for p in (spin, sleeper):
    p.send_signal(signal.SIGKILL)
    p.wait()
passes(5)
_, cg3, _ = groups("cgroups.csv")
b3, c3 = cg3.get(b, {}), cg3.get(c, {})
tap.check("after the processes exit their cgroups stay, with no processes, no levels and their counters",
          b3.get("processes") == 0 and c3.get("processes") == 0 and b3.get("cpu_permille") == 0
          and b3.get("rss_kib_5") == 0 and cpu(b3) >= cpu(b2) and cpu(c3) >= cpu(c2), (b3, c3))
_, comms3, _ = groups("comms.csv")

samples = reader.stop()
s = stats()
tap.check("no samples row was dropped (the sums below see every interval)", s["rows_dropped"] == 0, s)


def sums(rows):
    return {k: sum(r[k] for r in rows) for k in COUNTERS}


for name, key, rows, got in [
        ("cgroup /pp/a/b", b, [r for r in samples.rows if r["cgroup"] == b], b3),
        ("cgroup /pp/c", c, [r for r in samples.rows if r["cgroup"] == c], c3),
        ("command pp-spin", "pp-spin", [r for r in samples.rows if r["comm"] == "pp-spin"], comms3.get("pp-spin", {}))]:
    want = sums(rows)
    tap.check(f"{name}: every counter equals the sum of its samples rows ({len(rows)} rows)",
              rows and all(got.get(k) == v for k, v in want.items()),
              {k: (got.get(k), v) for k, v in want.items()})
for p in ["/pp/a/b", "/pp/a", "/pp/c"]:
    os.rmdir(f"{CG}{p}")

# Anomalies: three calm processes; on a line from the test, one spins, one takes 200 MiB at once
# (one memset), one stays calm. At the default 1 s interval: a memset of 200 MiB in this guest
# takes a few 200 ms passes, and a rise spread over passes is followed by the forecasts.
write(f"{DEBUGFS}/interval_ms", "1000")
d = mkcg("/pp/d")
wake = named("pp-wake", "sys.stdin.readline()\nwhile True: pass")
grow = named("pp-grow", "sys.stdin.readline()\nb = b'x' * (200 << 20)\ntime.sleep(1000)")
quiet = named("pp-quiet", "sys.stdin.readline()\ntime.sleep(1000)")
for p in (wake, grow, quiet):
    move(p.pid, "/pp/d")
pids = {wake.pid: "wake", grow.pid: "grow", quiet.pid: "quiet"}


def flags():
    rows = Rows(read(f"{DEBUGFS}/predictions.csv")).rows
    return {pids[r["pid"]]: r["anomaly"] for r in rows if r["pid"] in pids}


passes(12, 1000)
calm = flags()
tap.check("calm processes are not flagged", len(calm) == 3 and not any(calm.values()), calm)
start = time.time()
for p in (wake, grow):
    p.stdin.write("go\n")
    p.stdin.flush()
seen, when, cgd, table = {}, {}, {}, []
while time.time() - start < 40 and not (seen.get("wake", 0) & 1 and seen.get("grow", 0) & 2):
    passes(1, 1000)
    for k, v in flags().items():
        if v and k not in when:
            when[k] = round(time.time() - start, 1)
        seen[k] = seen.get(k, 0) | v
    if seen.get("wake", 0) & 1 and seen.get("grow", 0) & 2:
        _, cgd, _ = groups("cgroups.csv")
        table = [l.split() for l in read(f"{DEBUGFS}/predictions").splitlines()[3:]]
tap.check(f"a process that starts spinning is flagged on CPU ({when.get('wake')} s after)",
          seen.get("wake", 0) & 1, seen)
tap.check(f"a process that takes 200 MiB is flagged on RSS ({when.get('grow')} s after)",
          seen.get("grow", 0) & 2, seen)
tap.check("the calm one beside them is not", seen.get("quiet", 0) == 0, seen)
tap.check("their cgroup counts its anomalous processes", cgd.get(d, {}).get("anomalous") == 2, cgd.get(d))
tap.check("predictions shows the flags as letters",
          any(l[:4] == [str(wake.pid), "pp-wake", str(d), "C---"] for l in table)
          and any(l[:4] == [str(grow.pid), "pp-grow", str(d), "-R--"] for l in table),
          [l[:4] for l in table])
for p in (wake, grow, quiet):
    p.send_signal(signal.SIGKILL)
    p.wait()
passes(2, 1000)
write(f"{DEBUGFS}/interval_ms", str(INTERVAL_MS))
for p in ["/pp/d", "/pp"]:
    os.rmdir(f"{CG}{p}")

# Overflow: more command names than groups. Each name lives a few passes (a group appears with a
# process's first sampled interval).
links = "/tmp/pp-names"
os.makedirs(links, exist_ok=True)
before = stats()
N = 1100
for batch in range(0, N, 100):
    procs = []
    for i in range(batch, min(N, batch + 100)):
        path = f"{links}/ppn{i:05d}"
        if not os.path.exists(path):
            os.symlink("/bin/sleep", path)
        procs.append(subprocess.Popen([path, str(4 * INTERVAL_MS / 1000)]))
    for p in procs:
        p.wait()
passes(3)
_, comms4, bad4 = groups("comms.csv")
after = stats()
names = [k for k in comms4 if k.startswith("ppn")]
tap.check(f"comms.csv holds at most 1024 groups ({len(comms4)}), whole rows", len(comms4) <= 1024 and bad4 == 0,
          (len(comms4), bad4))
tap.check(f"the newest names are in, the oldest gave way ({after['group_evictions'] - before['group_evictions']} evictions)",
          after["group_evictions"] - before["group_evictions"] >= N - 1024 + len(comms) - 10
          and f"ppn{N - 1:05d}" in comms4 and "ppn00000" not in comms4, (len(names), sorted(names)[:3]))
tap.check(f"stats counts the pass time total and no interval left out of a group "
          f"({after['bytes_per_process']} bytes per process slot, {after['memory_bytes']} bytes in all)",
          after["pass_ns_total"] > 0 and after["group_untracked"] == 0, after)
r = subprocess.run(["rmmod", "procperf"], capture_output=True, text=True)
tap.check("rmmod", r.returncode == 0, r.stderr)
tap.done()
