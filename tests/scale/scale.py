#!/usr/bin/env python3
"""Guest part of scripts/scale: procperf with tens of thousands of processes.

With pid_max and threads-max raised and capacity 65 536, the spawner ($PP_SPAWN, tests/scale/spawn.c)
grows the machine to 10 000, 30 000 and 65 536 processes; at each size the module must track every
process, and the pass time and ns per process are reported. Then 70 000 processes, more than the
table holds: tracked stays at the capacity, the rest are counted as untracked once per pass, the
the pass stays linear, and when tracked processes exit their slots go to the
waiting ones. The memory `stats` reports for the table must match what the kernel's vmalloc counter
saw it take. The guest's splat check (soft lockups, RCU stalls, hung tasks, KASAN, lockdep) covers
the rest. Prints TAP, and the table as `# scale:` lines.
"""
import os, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from guest import Tap, DEBUGFS, load_module, read, stats, write  # noqa: E402

SIZES = [int(n) for n in os.environ.get("PP_SCALE_SIZES", "10000 30000 65536").split()]
OVER = int(os.environ.get("PP_SCALE_OVER", "70000"))
CAPACITY = 65536
WARM = 10
tap = Tap()
write("/proc/sys/kernel/pid_max", "4194304")
write("/proc/sys/kernel/threads-max", "4000000")
kmemleak = "/sys/kernel/debug/kmemleak"
if os.path.exists(kmemleak):
    write(kmemleak, "scan=off")  # a scan of a machine this full takes minutes under TCG
load_module(tap, interval_ms=1000)


def meminfo(key):
    return next(int(l.split()[1]) * 1024 for l in read("/proc/meminfo").splitlines() if l.startswith(key + ":"))


# The table's memory, seen from both sides: stats' memory_bytes and the kernel's vmalloc counter.
m0, v0 = stats()["memory_bytes"], meminfo("VmallocUsed")
tap.check(f"capacity accepts {CAPACITY}", write(f"{DEBUGFS}/capacity", str(CAPACITY)) == 0)
m1, v1 = stats()["memory_bytes"], meminfo("VmallocUsed")
dm, dv = m1 - m0, v1 - v0
tap.check(f"memory_bytes grew by {dm / 2**20:.1f} MiB, vmalloc by {dv / 2**20:.1f} MiB (within 10 %)",
          dm > 0 and abs(dv - dm) <= 0.10 * dm)

spawn = subprocess.Popen([os.environ["PP_SPAWN"]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def grow(n):
    """Children such that the machine has about `n` processes; returns the child count."""
    base = sum(1 for p in os.listdir("/proc") if p.isdigit()) - children[0]
    spawn.stdin.write(f"{max(n - base, 0)}\n")
    spawn.stdin.flush()
    children[0] = int(spawn.stdout.readline())
    return children[0]


def settle(passes=3, warm=WARM):
    """Waits for `warm` passes (a new history is complete, and its forecasts computed, only after
    HISTORY_LEN + 1 of them), then for `passes` whole passes; returns stats before and after them."""
    p = stats()["passes"]
    while stats()["passes"] < p + warm:
        time.sleep(0.2)
    s0 = sampled()
    while stats()["passes"] < s0["passes"] + passes:
        time.sleep(0.2)
    return s0, sampled()


def window(s0, s1):
    """Mean pass duration (wall clock) and CPU time of the sampler thread per pass, ns."""
    n = max(s1["passes"] - s0["passes"], 1)
    return (s1["pass_ns_total"] - s0["pass_ns_total"]) / n, (s1["cpu_ns"] - s0["cpu_ns"]) / n


THREAD = next(p for p in os.listdir("/proc") if p.isdigit() and read(f"/proc/{p}/comm").strip() == "procperf")


def sampled():
    """stats, and the sampler thread's CPU time (ns run, from schedstat) as `cpu_ns`."""
    s = stats()
    s["cpu_ns"] = int(read(f"/proc/{THREAD}/schedstat").split()[0])
    return s


children = [0]
rows = []
print(f"# scale: {'processes':>9} {'tracked':>8} {'untracked/pass':>14} {'pass ms':>8} {'pass ms (max)':>13} "
      f"{'CPU ms/pass':>11} {'CPU ns/process':>14} {'module MiB':>10} {'guest free MiB':>14}")
for n in SIZES + [OVER]:
    t = time.time()
    grow(n)
    spawned_s = time.time() - t
    s0, s1 = settle()
    seen, tracked = s1["processes_seen"], s1["processes_tracked"]
    per_pass = (s1["untracked"] - s0["untracked"]) / max(s1["passes"] - s0["passes"], 1)
    mean, cpu = window(s0, s1)
    rows.append((seen, tracked, per_pass, mean, cpu))
    print(f"# scale: {seen:>9} {tracked:>8} {per_pass:>14.0f} {mean / 1e6:>8.0f} {s1['pass_ns_max'] / 1e6:>13.0f} "
          f"{cpu / 1e6:>11.0f} {cpu / max(seen, 1):>14.0f} {s1['memory_bytes'] / 2**20:>10.1f} "
          f"{meminfo('MemAvailable') / 2**20:>14.0f}", flush=True)
    if n <= CAPACITY:
        tap.check(f"{seen} processes (spawned in {spawned_s:.0f} s): all tracked", tracked == seen and seen >= 0.98 * n,
                  f"tracked {tracked}")
    else:
        tap.check(f"{seen} processes, more than capacity: {tracked} tracked, {per_pass:.0f} untracked per pass",
                  tracked == CAPACITY and abs(per_pass - (seen - CAPACITY)) <= 0.02 * seen)

print(f"# reliability: load={', '.join(str(r[0]) for r in rows)} processes at capacity {CAPACITY}, "
      f"passes up to {max(r[3] for r in rows) / 1e6:.0f} ms; inputs=capacity 1024 and back with 60 000 processes, "
      "unload with them alive")

# Linear, and a process that does not fit costs no more than a tracked one (it is read, found
# absent and counted; nothing is searched for room): per process, the pass over more processes
# than the table holds costs at most what the full table's did, within TCG's noise. Adjacent
# windows in one guest, in the sampler's own CPU time.
(seen_full, _, _, _, cpu_full), (seen_over, _, _, _, cpu_over) = rows[-2], rows[-1]
tap.check(f"{seen_over} processes: {cpu_over / seen_over / 1e3:.0f} µs of CPU per process per pass, at most 1.5x "
          f"the {cpu_full / seen_full / 1e3:.0f} µs of {seen_full}", cpu_over / seen_over <= 1.5 * cpu_full / seen_full)

# Tracked processes exit: the waiting ones take their slots at the next passes.
spawn.stdin.write("kill 10000\n")
spawn.stdin.flush()
children[0] = int(spawn.stdout.readline())
s0, s1 = settle(1, warm=2)
tap.check(f"after 10 000 exits, {s1['processes_tracked']} of {s1['processes_seen']} processes tracked",
          s1["processes_tracked"] == min(CAPACITY, s1["processes_seen"]))

# A smaller table with all of them, then back; unloading with 60 000 processes.
tap.check("capacity 1024 with 60 000 processes", write(f"{DEBUGFS}/capacity", "1024") == 0
          and settle(1, warm=2)[1]["processes_tracked"] == 1024)
tap.check(f"capacity {CAPACITY} again", write(f"{DEBUGFS}/capacity", str(CAPACITY)) == 0)
settle(1, warm=2)
t = time.time()
r = subprocess.run(["rmmod", "procperf"], capture_output=True, text=True)
tap.check(f"unload with {children[0]} children alive ({time.time() - t:.1f} s)", r.returncode == 0, r.stderr)
spawn.stdin.close()
spawn.wait()
tap.done()
