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


def spawn(code):
    """Starts a python workload: `code` runs after a 1 s pause, then the process idles."""
    script = "import time, os, sys\ntime.sleep(1.0)\n" + code + "\nprint('done', flush=True)\ntime.sleep(3600)\n"
    return subprocess.Popen([PY, "-c", script], stdout=subprocess.PIPE, text=True)


def wait_done(p, timeout=120):
    line = p.stdout.readline()
    if line.strip() != "done":
        raise RuntimeError(f"workload {p.pid} said {line!r}")
    time.sleep(1.2)  # let a few more passes see the idle process


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
    cpu = spawn("t=time.process_time()\nwhile time.process_time()-t < 3.0: pass")
    # Multi-threaded CPU: 2 threads hashing (hashlib releases the GIL on large buffers).
    mt = spawn(
        "import hashlib, threading\nbuf=os.urandom(4<<20)\n"
        "def burn():\n  t=time.time()\n  while time.time()-t < 3.0: hashlib.sha256(buf).digest()\n"
        "ts=[threading.Thread(target=burn) for _ in range(2)]\n[t.start() for t in ts]\n[t.join() for t in ts]"
    )
    # Memory: 200 MiB of touched anonymous memory.
    mem = spawn("b=bytearray(200<<20)\nfor i in range(0,len(b),4096): b[i]=1")
    procs += [cpu, mt, mem]
    for p in (cpu, mt, mem):
        wait_done(p)

    # Disk: write 64 MiB to the scratch block device and fsync; then read 32 MiB with O_DIRECT.
    dev = "/dev/vda"
    have_disk = os.path.exists(dev)
    if have_disk:
        wr = spawn(
            f"fd=os.open('{dev}', os.O_WRONLY)\nblk=os.urandom(1<<20)\n"
            "for _ in range(64): os.write(fd, blk)\nos.fsync(fd)\nos.close(fd)"
        )
        procs.append(wr)
        wait_done(wr)
        rd = spawn(
            "import mmap\nfd=os.open('/dev/vda', os.O_RDONLY|os.O_DIRECT)\nbuf=mmap.mmap(-1, 1<<20)\n"
            "for _ in range(32): os.readv(fd, [buf])\nos.close(fd)"
        )
        procs.append(rd)
        wait_done(rd)
        # A shell that runs dd and waits for it: /proc folds dd's writes into the shell; we must not.
        sh = subprocess.Popen(
            ["bash", "-c", f"sleep 1; dd if=/dev/zero of={dev} bs=1M count=16 seek=100 conv=fsync status=none; echo done; sleep 3600"],
            stdout=subprocess.PIPE, text=True)
        procs.append(sh)
        wait_done(sh)

    # Network: 32 MiB over loopback TCP.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    srv.close()
    rx = spawn(
        f"import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"s.bind(('127.0.0.1',{port}))\ns.listen(1)\nc,_=s.accept()\nn=0\n"
        "while True:\n  d=c.recv(1<<16)\n  if not d: break\n  n+=len(d)\nprint(n, flush=True)"
    )
    time.sleep(1.5)
    tx = spawn(
        f"import socket\ns=socket.create_connection(('127.0.0.1',{port}))\nblk=b'x'*(1<<20)\n"
        "for _ in range(32): s.sendall(blk)\ns.close()"
    )
    procs += [rx, tx]
    rx_bytes = int(rx.stdout.readline())
    wait_done(rx)
    wait_done(tx)

    rows = reader.stop()
    by_pid = rows.by_pid()
    tap.check("samples stream has a header and rows", rows.n_rows > 0)
    tap.check("no torn rows (every row has all columns)", rows.bad_rows == 0, rows.bad_examples)

    def ksum(p, col):
        return sum(r[col] for r in by_pid.get(p.pid, []))

    def klast(p, col):
        rs = by_pid.get(p.pid, [])
        return rs[-1][col] if rs else -1

    for name, p in (("cpu burner", cpu), ("2-thread burner", mt)):
        k = ksum(p, "cpu_user_ns") + ksum(p, "cpu_sys_ns")
        # The first observation is a baseline: add what /proc showed before the work began (~0).
        report(f"{name} CPU ns", k, proc_stat_cpu_ns(p.pid), abs_tol=20_000_000)
    tap.check("2-thread burner used about 2 CPUs' worth (>= 1.5x the single burner)",
              ksum(mt, "cpu_user_ns") + ksum(mt, "cpu_sys_ns") >= 1.5 * (ksum(cpu, "cpu_user_ns") + ksum(cpu, "cpu_sys_ns")))
    report("memory RSS anon KiB", klast(mem, "rss_anon_kib"), proc_status_kib(mem.pid, "RssAnon"), abs_tol=512)
    report("memory VM KiB", klast(mem, "vm_kib"), proc_status_kib(mem.pid, "VmSize"), abs_tol=512)

    if have_disk:
        report("disk writer write_bytes", ksum(wr, "disk_write_bytes"), proc_io(wr.pid)["write_bytes"], abs_tol=64 * 1024)
        tap.check("disk writer wrote at least 64 MiB", ksum(wr, "disk_write_bytes") >= 64 * MiB)
        report("disk reader read_bytes", ksum(rd, "disk_read_bytes"), proc_io(rd.pid)["read_bytes"], abs_tol=64 * 1024)
        tap.check("disk reader read at least 32 MiB", ksum(rd, "disk_read_bytes") >= 32 * MiB)
        report("disk writer wchar", ksum(wr, "wchar_bytes"), proc_io(wr.pid)["wchar"], abs_tol=64 * 1024)
        sh_proc = proc_io(sh.pid)["write_bytes"]
        tap.check(f"/proc folds the reaped dd's 16 MiB into the shell ({sh_proc} bytes)", sh_proc >= 16 * MiB)
        tap.check(f"the kernel reports the shell's OWN writes only ({ksum(sh, 'disk_write_bytes')} bytes)",
                  ksum(sh, "disk_write_bytes") < MiB)
    else:
        tap.skip("disk tests", "no /dev/vda in this guest")

    sent = 32 * MiB
    report("TCP sender net_tx_bytes vs bytes sent", ksum(tx, "net_tx_bytes"), sent)
    report("TCP receiver net_rx_bytes vs bytes received", ksum(rx, "net_rx_bytes"), rx_bytes)
    tap.check("receiver got everything", rx_bytes == sent)
finally:
    for p in procs:
        p.kill()

tap.done()
