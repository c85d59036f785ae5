#!/usr/bin/env python3
"""Guest part of scripts/soak: PP_SOAK_SECONDS (default 1800) of everything at once.

- fork/exec storms: `stress-ng --fork` and `--exec`, and a shell starting short-lived programs;
- memory pressure up to the OOM killer: a heap grows by 64 MiB of written pages until the kernel
  kills it, and is started again; the test's own processes are exempt (oom_score_adj -1000);
- a model swap every 20 s (the two test blobs in turn), an interval change every 15 s
  (100-2000 ms), a capacity change every 90 s;
- `samples` read throughout by one reader that pauses for 30 s every 5 minutes.

Checked: the module keeps publishing every minute; the OOM killer did kill; the samples stream's
rows are whole, and rows the reader got plus rows counted as dropped equal the rows written (up to
the last pass's, written after its last read); drops happen while the reader pauses and are counted;
the module's memory is what `stats` said at the start; after unloading, kmemleak reports nothing
new. The splat check covers the rest. Prints TAP, and one `# soak:` line per minute.
"""
import os, random, subprocess, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from guest import Tap, DEBUGFS, load_module, read, stats, upload, write  # noqa: E402

SECONDS = int(os.environ.get("PP_SOAK_SECONDS", "1800"))
KMEMLEAK = "/sys/kernel/debug/kmemleak"
tap = Tap()
write("/proc/self/oom_score_adj", "-1000")
write("/proc/sys/vm/overcommit_memory", "1")  # the heap below meets the OOM killer, not a refused mmap
write(KMEMLEAK, "scan=off")
write(KMEMLEAK, "clear")
load_module(tap, interval_ms=500)
blobs = [open(os.environ[v], "rb").read() for v in ("PP_BLOB_A", "PP_BLOB_B")]
memory0 = stats()["memory_bytes"]


def kmsg(text):
    with open("/dev/kmsg", "w") as f:
        f.write(f"procperf-test: {text}\n")


class OomKills(threading.Thread):
    """Counts the OOM killer's "Killed process" reports in the kernel log from now on (the test
    kernels have no vmstat event counters)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(self.fd, 0, os.SEEK_END)
        self.count = 0
        self.start()

    def run(self):
        while True:
            try:
                rec = os.read(self.fd, 8192)
            except BlockingIOError:
                time.sleep(0.2)
                continue
            except BrokenPipeError:  # records overwritten before they were read
                continue
            self.count += b"Killed process" in rec


class Reader(threading.Thread):
    """Reads `samples` without pause except when asked; keeps counts, not rows."""

    def __init__(self):
        super().__init__(daemon=True)
        self.fd = os.open(f"{DEBUGFS}/samples", os.O_RDONLY | os.O_NONBLOCK)
        self.rows = self.torn = 0
        self.width = None
        self.rest = b""
        self.pause_until = 0.0
        self.stopping = False

    def drain(self):
        while True:
            try:
                d = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                return
            if not d:
                return
            lines = (self.rest + d).split(b"\n")
            self.rest = lines.pop()
            for line in lines:
                n = line.count(b",") + 1
                if self.width is None:
                    self.width = n  # the header
                    continue
                self.rows += 1
                self.torn += n != self.width

    def run(self):
        while not self.stopping:
            if time.time() >= self.pause_until:
                self.drain()
            time.sleep(0.05)

    def close(self):
        self.stopping = True
        self.join()
        self.drain()
        os.close(self.fd)


oom_kills = OomKills()
s_start = stats()
reader = Reader()
reader.start()
kmsg("faults on")  # the OOM killer's reports (a stack dump each) are expected from here on
load = [
    subprocess.Popen(["stress-ng", "--fork", "2", "--exec", "1", "--timeout", f"{SECONDS}s",
                      "--quiet", "--temp-path", "/tmp"]),
    # A heap that grows by 64 MiB of written pages until the OOM killer ends it, started again.
    subprocess.Popen(["bash", "-c", f"end=$((SECONDS+{SECONDS})); while [ $SECONDS -lt $end ]; do "
                      "python3 -c 'import time\nb = []\nwhile True: b.append(b\"x\" * (64 << 20)); time.sleep(0.2)'; "
                      "done"], preexec_fn=lambda: write("/proc/self/oom_score_adj", "1000")),
    subprocess.Popen(["bash", "-c", f"end=$((SECONDS+{SECONDS})); while [ $SECONDS -lt $end ]; do "
                      "for i in 1 2 3 4 5; do (sleep 0.$RANDOM; true) & done; wait; done"]),
]
rng = random.Random(1)
problems = []
start = time.time()
next_swap, next_interval, next_capacity, next_pause, next_report = 20, 15, 90, 300, 60
swaps = intervals = capacities = pauses = 0
drops_in_pause = 0
last = stats()
while time.time() - start < SECONDS:
    time.sleep(1)
    t = time.time() - start
    if t >= next_swap:
        next_swap += 20
        rc = upload(f"{DEBUGFS}/model", [blobs[swaps % 2]])
        swaps += 1
        if rc:
            problems.append(f"{t:.0f} s: upload refused, errno {rc}")
    if t >= next_interval:
        next_interval += 15
        intervals += 1
        if write(f"{DEBUGFS}/interval_ms", str(rng.choice([100, 250, 500, 1000, 2000]))):
            problems.append(f"{t:.0f} s: interval refused")
    if t >= next_capacity:
        next_capacity += 90
        capacities += 1
        if write(f"{DEBUGFS}/capacity", str(rng.choice([256, 1024, 4096]))):
            problems.append(f"{t:.0f} s: capacity refused")
    if t >= next_pause:
        next_pause += 300
        pauses += 1
        # At 100 ms, 30 s of rows outgrow the ring (8 192 rows) whatever the number of processes.
        write(f"{DEBUGFS}/interval_ms", "100")
        d0 = stats()["rows_dropped"]
        reader.pause_until = time.time() + 30
        time.sleep(31)
        reader.drain()
        drops_in_pause += stats()["rows_dropped"] - d0
    if t >= next_report:
        next_report += 60
        s = stats()
        if s["passes"] <= last["passes"]:
            problems.append(f"{t:.0f} s: no pass in the last minute")
        print(f"# soak: {t / 60:.0f} min: {s['passes'] - last['passes']} passes, {s['processes_seen']} processes, "
              f"{s['processes_tracked']} tracked, {reader.rows} rows read, {s['rows_dropped']} dropped, "
              f"{oom_kills.count} OOM kills, {swaps} swaps", flush=True)
        last = s
for p in load:
    p.wait()
kmsg("faults off")
reader.close()
s_end = stats()
emitted = s_end["rows_emitted"] - s_start["rows_emitted"]
dropped = s_end["rows_dropped"] - s_start["rows_dropped"]
gap = emitted - reader.rows - dropped
print(f"# reliability: load={SECONDS / 60:.0f} min of stress-ng --fork --exec, short-lived shells and a heap grown to OOM; "
      f"faults={oom_kills.count} OOM kills, {pauses} reader stalls of 30 s; "
      f"inputs={swaps} model swaps, {intervals} interval and {capacities} capacity changes, {reader.rows} rows read")
oom = oom_kills.count
tap.check(f"{SECONDS} s of churn, OOM, {swaps} swaps, {intervals} interval and {capacities} capacity changes: "
          "every change accepted, a pass every minute", not problems, "\n".join(problems[:10]))
time.sleep(3)
tap.check(f"the OOM killer killed {oom} times and the module went on", oom > 0 and stats()["passes"] > s_end["passes"])
tap.check(f"{reader.rows} rows read, none torn", reader.rows > 1000 and reader.torn == 0, f"{reader.torn} torn")
tap.check(f"rows read + dropped ({dropped}) = written ({emitted}) but for the last pass's ({gap})",
          0 <= gap <= s_end["processes_seen"] + 64)
tap.check(f"the reader's {pauses} pauses of 30 s at 100 ms dropped {drops_in_pause} rows, and counted them",
          pauses > 0 and drops_in_pause > 0)
tap.check(f"memory_bytes at the end is what capacity {read(f'{DEBUGFS}/capacity').strip()} holds",
          write(f"{DEBUGFS}/capacity", "4096") == 0 and stats()["memory_bytes"] == memory0)
r = subprocess.run(["rmmod", "procperf"], capture_output=True, text=True)
tap.check("the module unloads", r.returncode == 0, r.stderr)
time.sleep(6)
write(KMEMLEAK, "scan")
leaks = [b for b in read(KMEMLEAK).split("unreferenced object") if b.strip()]
tap.check("kmemleak reports nothing new", not leaks, "".join(leaks[:3])[:3000])
tap.done()
