#!/usr/bin/env python3
"""Guest test: the sampler's numbers agree with /proc and with what programs really did.

Real workloads run while the `samples` stream is read; each one works for a while and then stays
alive, idle, so its /proc files can be read after the work is done. The kernel's per-interval deltas
summed over the process's rows must equal /proc's cumulative counters (within 2 %), and levels (RSS)
must match /proc/PID/status. Prints TAP.
"""
import os, socket, subprocess, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from guest import Tap, load_module, SamplesReader, DEBUGFS  # noqa: E402

tap = Tap()
load_module(tap, interval_ms=250)
reader = SamplesReader()
time.sleep(1.0)  # the reader's stream is open before any workload starts

PY = sys.executable
MiB = 1 << 20


class Workload:
    """A python workload that waits for "go" on stdin, runs `code`, says "done", then idles.

    The test reads /proc just before "go" (the process is idle and the kernel has already taken
    its baseline), so the kernel's rows stamped after that moment and /proc's change since then
    cover the same work.
    """

    def __init__(self, code):
        script = ("import time, os, sys\nprint('ready', flush=True)\nsys.stdin.readline()\n" + code +
                  "\nprint('done', flush=True)\ntime.sleep(3600)\n")
        self.p = subprocess.Popen([PY, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.pid = self.p.pid
        assert self.p.stdout.readline().strip() == "ready"

    def run(self):
        time.sleep(0.8)  # at least two passes at 250 ms: the kernel has its baseline
        self.t_start_ms = time.monotonic() * 1000
        self.cpu0 = proc_stat_cpu_ns(self.pid)
        self.io0 = proc_io(self.pid)
        self.p.stdin.write("go\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline().strip()
        if line != "done":
            self.output = line
            line = self.p.stdout.readline().strip()
        assert line == "done", line
        time.sleep(1.2)  # a few passes see the finished, idle process
        return self

    def kill(self):
        self.p.kill()


def proc_stat_cpu_ns(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // ticks  # utime + stime


def proc_io(pid):
    with open(f"/proc/{pid}/io") as f:
        return {k: int(v) for k, v in (line.split(": ") for line in f)}


def proc_status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def within(a, b, rel=0.02, abs_tol=0):
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), abs_tol)


def report(name, kernel, proc, rel=0.02, abs_tol=0):
    tap.check(f"{name}: kernel {kernel} vs /proc {proc}", within(kernel, proc, rel, abs_tol))


procs = []
try:
    # CPU: one thread burning 3 s of CPU.
    cpu = Workload("t=time.process_time()\nwhile time.process_time()-t < 3.0: pass")
    # Multi-threaded CPU: 2 threads hashing (hashlib releases the GIL on large buffers).
    mt = Workload(
        "import hashlib, threading\nbuf=os.urandom(4<<20)\n"
        "def burn():\n  t=time.time()\n  while time.time()-t < 3.0: hashlib.sha256(buf).digest()\n"
        "ts=[threading.Thread(target=burn) for _ in range(2)]\n[t.start() for t in ts]\n[t.join() for t in ts]"
    )
    # Memory: 200 MiB of touched anonymous memory.
    mem = Workload("b=bytearray(200<<20)\nfor i in range(0,len(b),4096): b[i]=1")
    procs += [cpu, mt, mem]
    for w in (cpu, mt, mem):
        w.run()

    # Disk: write 64 MiB to the scratch block device and fsync; then read 32 MiB with O_DIRECT.
    dev = "/dev/vda"
    have_disk = os.path.exists(dev)
    if have_disk:
        wr = Workload(
            f"fd=os.open('{dev}', os.O_WRONLY)\nblk=os.urandom(1<<20)\n"
            "for _ in range(64): os.write(fd, blk)\nos.fsync(fd)\nos.close(fd)"
        )
        rd = Workload(
            f"import mmap\nfd=os.open('{dev}', os.O_RDONLY|os.O_DIRECT)\nbuf=mmap.mmap(-1, 1<<20)\n"
            "for _ in range(32): os.readv(fd, [buf])\nos.close(fd)"
        )
        # A process that runs dd and waits for it: /proc folds dd's writes into it; we must not.
        sh = Workload(
            f"import subprocess\nsubprocess.run(['dd','if=/dev/zero','of={dev}','bs=1M','count=16','seek=100',"
            "'conv=fsync','status=none'], check=True)"
        )
        procs += [wr, rd, sh]
        for w in (wr, rd, sh):
            w.run()

    # Network: 32 MiB over loopback TCP, receiver and sender in separate processes.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    port = srv.getsockname()[1]
    srv.close()
    rx = Workload(
        f"import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"s.bind(('127.0.0.1',{port}))\ns.listen(1)\nc,_=s.accept()\nn=0\n"
        "while True:\n  d=c.recv(1<<16)\n  if not d: break\n  n+=len(d)\nprint(n, flush=True)"
    )
    tx = Workload(
        f"import socket\ns=socket.create_connection(('127.0.0.1',{port}))\nblk=b'x'*(1<<20)\n"
        "for _ in range(32): s.sendall(blk)\ns.close()"
    )
    procs += [rx, tx]
    # The receiver must be listening before the sender connects: start it, then the sender.
    rx_thread = threading.Thread(target=rx.run)
    rx_thread.start()
    time.sleep(1.5)
    tx.run()
    rx_thread.join()
    rx_bytes = int(rx.output)

    rows = reader.stop()
    by_pid = rows.by_pid()
    tap.check("samples stream has a header and rows", rows.n_rows > 0)
    tap.check("no torn rows (every row has all columns)", rows.bad_rows == 0, rows.bad_examples)

    def ksum(w, col):
        """The kernel's deltas for the workload's process, from the moment it was told to go."""
        return sum(r[col] for r in by_pid.get(w.pid, []) if r["t_ms"] > w.t_start_ms)

    def klast(w, col):
        rs = by_pid.get(w.pid, [])
        return rs[-1][col] if rs else -1

    for name, w in (("cpu burner", cpu), ("2-thread burner", mt)):
        k = ksum(w, "cpu_user_ns") + ksum(w, "cpu_sys_ns")
        report(f"{name} CPU ns", k, proc_stat_cpu_ns(w.pid) - w.cpu0, abs_tol=20_000_000)
    threads = max((r["threads"] for r in by_pid.get(mt.pid, [])), default=0)
    tap.check(f"2-thread burner showed 3 threads (main + 2 workers): {threads}", threads == 3)
    report("memory RSS anon KiB", klast(mem, "rss_anon_kib"), proc_status_kib(mem.pid, "RssAnon"), abs_tol=512)
    report("memory VM KiB", klast(mem, "vm_kib"), proc_status_kib(mem.pid, "VmSize"), abs_tol=512)

    if have_disk:
        def io_delta(w, key):
            return proc_io(w.pid)[key] - w.io0[key]
        report("disk writer write_bytes", ksum(wr, "disk_write_bytes"), io_delta(wr, "write_bytes"), abs_tol=64 * 1024)
        tap.check("disk writer wrote at least 64 MiB", ksum(wr, "disk_write_bytes") >= 64 * MiB)
        report("disk reader read_bytes", ksum(rd, "disk_read_bytes"), io_delta(rd, "read_bytes"), abs_tol=64 * 1024)
        tap.check("disk reader read at least 32 MiB", ksum(rd, "disk_read_bytes") >= 32 * MiB)
        report("disk writer wchar", ksum(wr, "wchar_bytes"), io_delta(wr, "wchar"), abs_tol=64 * 1024)
        sh_proc = io_delta(sh, "write_bytes")
        tap.check(f"/proc folds the reaped dd's 16 MiB into its parent ({sh_proc} bytes)", sh_proc >= 16 * MiB)
        tap.check(f"the kernel reports the parent's OWN writes only ({ksum(sh, 'disk_write_bytes')} bytes)",
                  ksum(sh, "disk_write_bytes") < MiB)
    else:
        tap.skip("disk tests", "no /dev/vda in this guest")

    sent = 32 * MiB
    report("TCP sender net_tx_bytes vs bytes sent", ksum(tx, "net_tx_bytes"), sent)
    report("TCP receiver net_rx_bytes vs bytes received", ksum(rx, "net_rx_bytes"), rx_bytes)
    tap.check("receiver got everything", rx_bytes == sent)
finally:
    for w in procs:
        w.kill()

tap.done()
