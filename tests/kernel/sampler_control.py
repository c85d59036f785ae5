#!/usr/bin/env python3
"""Guest test: sampler settings and bounded state.

- interval_ms: default 1000; a valid write takes effect (pass rate follows); invalid writes fail
  with EINVAL and change nothing;
- capacity: invalid writes refused; a small table stays within capacity, evicting or refusing the
  rest and counting it;
- churn: 60 s of `stress-ng --fork` and short-lived processes while `samples` is read: no torn row,
  tracked never above capacity, and exited processes' entries are gone afterwards, from the
  table and from the accounting table (network bytes, exited threads' I/O).
Prints TAP; the harness adds the kernel-splat check.
"""
import errno, os, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from guest import Tap, load_module, SamplesReader, DEBUGFS, read, write, stats  # noqa: E402

tap = Tap()
load_module(tap)
iv = f"{DEBUGFS}/interval_ms"
cap = f"{DEBUGFS}/capacity"

tap.check("interval_ms defaults to 1000", read(iv).strip() == "1000", read(iv))
for bad in ["0", "99", "60001", "abc", "", "  ", "1000000000000", "-5", "250ms"]:
    e = write(iv, bad)
    tap.check(f"interval_ms refuses {bad!r} with EINVAL", e == errno.EINVAL, f"errno {e}")
tap.check("refused writes left interval_ms at 1000", read(iv).strip() == "1000")
tap.check("a 64-byte write is refused with E2BIG", write(iv, "1" * 64) == errno.E2BIG)

# A valid interval takes effect at once (the thread is woken) and the pass rate follows it.
tap.check("interval_ms accepts 100", write(iv, "100\n") == 0 and read(iv).strip() == "100")
p0 = stats()["passes"]
time.sleep(3.0)
rate_fast = (stats()["passes"] - p0) / 3.0
write(iv, "1000")
p0 = stats()["passes"]
time.sleep(3.0)
rate_slow = (stats()["passes"] - p0) / 3.0
tap.check(f"pass rate follows the interval ({rate_fast:.1f}/s at 100 ms, {rate_slow:.1f}/s at 1000 ms)",
          rate_fast >= 3 * rate_slow and rate_slow <= 1.5, None)

for bad in ["0", "15", "65537", "x"]:
    tap.check(f"capacity refuses {bad!r} with EINVAL", write(cap, bad) == errno.EINVAL)
tap.check("capacity is still 4096", read(cap).strip() == "4096")

# Small table: more processes than slots.
write(iv, "200")
tap.check("capacity accepts 32", write(cap, "32") == 0 and read(cap).strip() == "32")
sleepers = [subprocess.Popen(["sleep", "3600"]) for _ in range(40)]
time.sleep(1.5)
s = stats()
tap.check(f"tracked ({s['processes_tracked']}) never above capacity 32 with {s['processes_seen']} processes",
          s["processes_tracked"] <= 32 and s["processes_seen"] > 32)
tap.check("processes that did not fit are counted (untracked)", s["untracked"] > 0, s)
for p in sleepers:
    p.kill()
    p.wait()
tap.check("capacity back to 4096", write(cap, "4096") == 0)

# Churn.
write(iv, "250")
reader = SamplesReader()
churn = [
    subprocess.Popen(["stress-ng", "--fork", "2", "--timeout", "60s", "--quiet", "--temp-path", "/tmp"]),
    # About 50 new processes a second, each living 0.6 s: long enough to be sampled twice.
    subprocess.Popen(["bash", "-c", "end=$((SECONDS+60)); while [ $SECONDS -lt $end ]; do sh -c 'sleep 0.6' & sleep 0.02; done; wait"]),
]
max_tracked = max_acct = 0
capacity = int(read(cap))
deadline = time.time() + 62
while time.time() < deadline and any(p.poll() is None for p in churn):
    st = stats()
    max_tracked = max(max_tracked, st["processes_tracked"])
    max_acct = max(max_acct, st["acct_processes"])
    time.sleep(0.5)
codes = [p.wait() for p in churn]
tap.check(f"churn: stress-ng and the spawner ran to the end (exit codes {codes})", codes == [0, 0])
time.sleep(1.5)  # a few passes after the churn
rows = reader.stop()
s = stats()
tap.check(f"churn: rows were streamed ({rows.n_rows})", rows.n_rows > 1000)
tap.check("churn: no torn or malformed row", rows.bad_rows == 0, rows.bad_examples)
pids = len(rows.by_pid())
tap.check(f"churn: many short-lived processes were sampled ({pids} distinct pids)", pids > 50)
print(f"# reliability: load=60 s of stress-ng --fork and 50 new processes a second ({pids} processes, "
      f"{rows.n_rows} samples rows); inputs=invalid intervals and capacities, 40 processes for 32 slots")
tap.check(f"churn: tracked never above capacity (max {max_tracked} <= {capacity})", max_tracked <= capacity)
alive = {int(d) for d in os.listdir("/proc") if d.isdigit()}
tap.check(f"churn: exited processes are gone from the table ({s['processes_tracked']} tracked, {len(alive)} alive)",
          s["processes_tracked"] <= len(alive) + 2, s)
# Every exiting process gets an accounting slot (its threads' I/O); the pass forgets the slots of
# processes it no longer tracks.
tap.check(f"churn: exits used the accounting table (up to {max_acct} processes at once), no overflow",
          max_acct > 0 and s["acct_overflow"] == 0, s)
tap.check(f"churn: exited processes are gone from the accounting table ({s['acct_processes']} left)",
          s["acct_processes"] <= len(alive) + 2, s)
expected = ["t_ms", "pid", "comm", "cgroup"]
tap.check("churn: the stream starts with the CSV header", rows.header[:4] == expected and len(rows.header) == 27, rows.header)
tap.check("stats shows memory in use", s["memory_bytes"] > 0)
tap.check(f"stats shows the bytes per process slot ({s['bytes_per_process']}), within memory_bytes per slot",
          0 < s["bytes_per_process"] and s["bytes_per_process"] * capacity <= s["memory_bytes"], s)
r = subprocess.run(["rmmod", "procperf"], capture_output=True, text=True)
tap.check("rmmod after churn", r.returncode == 0, r.stderr)
tap.done()
