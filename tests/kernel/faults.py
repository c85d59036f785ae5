#!/usr/bin/env python3
"""Guest test: allocation and user-copy failures, injected by the kernel's fault injection
(CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_USERCOPY, debug kernel only).

- Load: `finit_module` with the n-th allocation of the loading task made to fail (the task's
  `fail-nth`), for every allocation the module's init makes and every 16th of the whole load's
  (the kernel's loader included): each load either works or fails with an error code, and a failed
  one leaves no debugfs directory and no module behind.
- Once loaded, with failures restricted by stack-trace filter to calls made from the module's code:
  the n-th such allocation or copy fails, for every n, in a capacity change, a model upload, an
  interval change, the first open of `samples`, and reads of every file. Each operation works or
  fails with ENOMEM/EFAULT, and a failed change leaves the previous capacity, model or interval in
  effect.
- A sampling pass allocates nothing: the sampler thread's `fail-nth` stays armed for many passes.
- 20 s of random failures (5 % of the module's allocations and copies, in any task, so several
  can fail in one operation) under readers and writers: every answer is whole or an error code, a
  refused capacity change or upload leaves the value it found; afterwards the module publishes again and a
  valid upload and capacity change take effect.
- kmemleak finds nothing that was not already reported before the test.
Prints TAP. The console markers "procperf-test: faults on/off" let tests/splat-check tell the
kernel's reports of failed allocations from splats.
"""
import ctypes, errno, os, random, subprocess, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import guest  # noqa: E402
from guest import Tap, DEBUGFS, close_quietly, read, write  # noqa: E402

tap = Tap()
FI = "/sys/kernel/debug"
ATTRS = ("failslab", "fail_page_alloc", "fail_usercopy")
KMEMLEAK = "/sys/kernel/debug/kmemleak"
KO = os.environ["PP_KO"]
blobs = [open(os.environ[v], "rb").read() for v in ("PP_BLOB_A", "PP_BLOB_B")]
SYS_FINIT_MODULE = 313  # x86_64
libc = ctypes.CDLL(None, use_errno=True)
GIVEN_UP = {errno.ENOMEM, errno.EFAULT}  # what an injected failure may be answered with


def kmsg(text):
    with open("/dev/kmsg", "w") as f:
        f.write(f"procperf-test: {text}\n")


def configure(start=0, end=(1 << 64) - 1, probability=0, task_filter=False, copies=True):
    """Every kind of failure: every size, sleeping allocations too, only where the stack passes
    through [start, end) (everywhere by default), quietly (the kernel prints nothing per failure).
    copies=False: no user copy fails (unfiltered, the test's own reads of fail-nth would)."""
    for a in ATTRS:
        d = f"{FI}/{a}"
        lo, hi = (start, end) if copies or a != "fail_usercopy" else (0, 1)
        for name, value in [("verbose", 0), ("probability", probability), ("interval", 1), ("times", -1),
                            ("space", 0), ("task-filter", "Y" if task_filter else "N"),
                            ("stacktrace-depth", 32), ("require-start", lo), ("require-end", hi)]:
            assert write(f"{d}/{name}", str(value)) == 0, (d, name)
    for a in ("failslab", "fail_page_alloc"):
        assert write(f"{FI}/{a}/ignore-gfp-wait", "N") == 0
    assert write(f"{FI}/fail_page_alloc/ignore-gfp-highmem", "N") == 0
    assert write(f"{FI}/fail_page_alloc/min-order", "0") == 0


class FailNth:
    """This thread's `fail-nth`: set(n) makes the n-th fault-injection site this thread reaches fail
    (0: none); injected() tells whether it did. The file stays open: opening it allocates."""

    def __init__(self, path="/proc/thread-self/fail-nth"):
        self.fd = os.open(path, os.O_RDWR)

    def set(self, n):
        os.pwrite(self.fd, str(n).encode(), 0)

    def left(self):
        return int(os.pread(self.fd, 32, 0))

    def run(self, n, op):
        """op() with the n-th site failing: (op's result, whether the failure was injected)."""
        self.set(n)
        try:
            r = op()
        finally:
            left = self.left()
            self.set(0)
        return r, left == 0


def attempt(f):
    """f() -> 0, or the errno it failed with."""
    try:
        f()
        return 0
    except OSError as e:
        return e.errno


def finit():
    try:
        fd = os.open(KO_COPY, os.O_RDONLY)
    except OSError as e:
        return e.errno
    try:
        r = libc.syscall(SYS_FINIT_MODULE, fd, b"", 0)
        return 0 if r == 0 else ctypes.get_errno()
    finally:
        os.close(fd)


def loaded():
    return any(l.split()[0] == "procperf" for l in read("/proc/modules").splitlines())


def rmmod():
    return subprocess.run(["rmmod", "procperf"], capture_output=True).returncode == 0


def kmemleak_new():
    """Objects kmemleak reports now (after a scan) that it had not reported before `clear`."""
    time.sleep(6)
    write(KMEMLEAK, "scan")
    return [b for b in read(KMEMLEAK).split("unreferenced object") if b.strip()]


# Loads read the module from tmpfs: a failed allocation in the 9p client (the guest's root) can
# leave it unusable, which is not what this test is about.
KO_COPY = "/tmp/procperf.ko"
with open(KO, "rb") as src, open(KO_COPY, "wb") as dst:
    dst.write(src.read())
fail_nth = FailNth()
write(KMEMLEAK, "scan=off")
write(KMEMLEAK, "clear")  # whatever leaked before the test is not the test's business
finit()  # the first call of each path (ctypes, page cache) outside the counted runs
rmmod()

# --- Load: allocations of a load fail one at a time ------------------------------------------------
# Unfiltered (the first count), a site the load does not reach would be the test's own next
# allocation or user copy: user copies are left out there, and the KO is read from tmpfs.
def symbols():
    """(address, type, module or None) of every kernel symbol."""
    for line in read("/proc/kallsyms").splitlines():
        f = line.split()
        yield int(f[0], 16), f[1], (f[3] if len(f) >= 4 else None)


def module_text():
    """[start, end) of the loaded module's code, from its symbols."""
    addrs = [a for a, t, m in symbols() if m == "[procperf]" and t in "tT"]
    return min(addrs), max(addrs) + 0x4000


def module_area():
    """[start, end) holding any module's code and no code of the kernel's own: from just past the
    kernel's last symbol to the end of the x86-64 module area (procperf is the only module here)."""
    text = module_text()[0]
    kernel_end = max(a for a, _, m in symbols() if m is None and a < text)
    return kernel_end + 1, 0xFFFFFFFFFF000000


def count_sites():
    """How many sites a whole load passes: arm a count far above it and see how much is left."""
    fail_nth.set(1 << 20)
    rc = finit()
    sites = (1 << 20) - fail_nth.left()
    fail_nth.set(0)
    return rc, sites


def loads(sites, where):
    """A load with site n failing, for each n in `sites`: each works or fails cleanly."""
    outcomes, broken = {}, []
    for n in sites:
        rc, injected = fail_nth.run(n, finit)
        outcomes[rc] = outcomes.get(rc, 0) + 1
        if rc == 0:
            if not (os.path.isdir(DEBUGFS) and read(f"{DEBUGFS}/interval_ms").strip() == "1000" and rmmod()):
                broken.append(f"{where} site {n}: loaded but not usable or not removable")
        elif loaded() or os.path.exists(DEBUGFS):
            broken.append(f"{where} site {n}: errno {rc} but left {'the module' if loaded() else 'debugfs'}")
            rmmod()
            if os.path.exists(DEBUGFS):
                break  # every later load would fail for this reason alone
        if not injected and rc != 0:
            broken.append(f"{where} site {n}: not injected, yet errno {rc}")
    print(f"# {where}: " + ", ".join(f"{errno.errorcode.get(k, k) if k else 'loaded'}: {v}"
                                     for k, v in sorted(outcomes.items())))
    return outcomes, broken


# The module's own part of a load (its init): every site, counted only where the stack passes
# through the module area (procperf is the only module in the test kernel).
configure(copies=False)
rc, _ = count_sites()
area = module_area()
rmmod()
configure(*area)
kmsg("faults on")
rc, init_sites = count_sites()
rmmod()
t0 = time.time()
outcomes, broken = loads(range(1, init_sites + 1), "init")
tap.check(f"the module's init: each of its {init_sites} allocations failing in turn gives a working module "
          f"or an error code and nothing left behind ({time.time() - t0:.0f} s)",
          rc == 0 and init_sites > 10 and not broken and any(outcomes.get(k) for k in GIVEN_UP), "\n".join(broken[:10]) or outcomes)
# The kernel's loader: every 16th of all sites of a load (most fail before the module's code runs).
configure(copies=False)
rc, all_sites = count_sites()
rmmod()
t0 = time.time()
outcomes, broken = loads(range(1, all_sites + 1, 16), "loader")
kmsg("faults off")
load_sites = init_sites + len(range(1, all_sites + 1, 16))
print(f"# reliability: load={load_sites + 3} loads; faults=allocation n of the module's init failing, "
      f"n = 1..{init_sites}, and every 16th of a whole load's {all_sites}")
tap.check(f"a whole load: every 16th of its {all_sites} allocations failing gives a working module or an "
          f"error code and nothing left behind ({time.time() - t0:.0f} s)",
          rc == 0 and not broken and any(k != 0 for k in outcomes), "\n".join(broken[:10]) or outcomes)

# --- Loaded: every allocation and copy of the module's own code fails once, per operation ----------
tap.check("a load without faults works", finit() == 0 and loaded())
write(f"{DEBUGFS}/interval_ms", "200")


start, end = module_text()
tap.check(f"the module's code is at {start:#x}..{end:#x}", 0 < start < end < (1 << 64))
configure(start, end)


def info_size():
    i = dict(l.split(None, 1) for l in read(f"{DEBUGFS}/model_info").splitlines() if " " in l)
    return int(i["size_bytes"])


def setting(name):
    return int(read(f"{DEBUGFS}/{name}").strip())


def change(name, values):
    """An operation that sets `name` to the next of `values`: (op, check(rc) -> problem or None)."""
    state = {"i": 0}

    def op():
        state["before"] = setting(name)
        state["want"] = values[state["i"] % len(values)]
        state["i"] += 1
        return guest.write(f"{DEBUGFS}/{name}", str(state["want"]))

    def check(rc):
        now = setting(name)
        if rc == 0:
            return None if now == state["want"] else f"accepted {state['want']} but reads {now}"
        return None if now == state["before"] else f"refused (errno {rc}) yet changed {state['before']} -> {now}"
    return op, check


def upload_op():
    state = {"i": 0}

    def op():
        state["before"] = info_size()
        blob = blobs[state["i"] % 2]
        state["want"] = len(blob)
        state["i"] += 1
        return guest.upload(f"{DEBUGFS}/model", [blob[:4096], blob[4096:]])

    def check(rc):
        now = info_size()
        if rc == 0:
            return None if now == state["want"] else f"accepted a {state['want']}-byte blob but has {now}"
        return None if now == state["before"] else f"refused (errno {rc}) yet the model changed"
    return op, check


def read_op(name, whole):
    state = {}

    def op():
        try:
            state["text"] = read(f"{DEBUGFS}/{name}")
            return 0
        except OSError as e:
            return e.errno

    def check(rc):
        return None if rc != 0 or whole(state["text"]) else f"{name}: a read that is not whole"
    return op, check


def samples_op():
    def op():
        try:
            fd = os.open(f"{DEBUGFS}/samples", os.O_RDONLY | os.O_NONBLOCK)
        except OSError as e:
            return e.errno
        try:
            time.sleep(0.5)
            os.read(fd, 1 << 16)
            return 0
        except BlockingIOError:
            return 0
        except OSError as e:
            return e.errno
        finally:
            close_quietly(fd)
    return op, lambda rc: None


def csv_whole(text):
    lines = text.splitlines()
    return lines and all(len(l.split(",")) == len(lines[0].split(",")) for l in lines[1:])


ops = {
    "capacity change": change("capacity", [2048, 8192, 4096]),
    "model upload": upload_op(),
    "interval change": change("interval_ms", [300, 200]),
    "first open of samples": samples_op(),
    "read predictions.csv": read_op("predictions.csv", csv_whole),
    "read predictions": read_op("predictions", lambda t: bool(t.strip())),
    "read cgroups.csv": read_op("cgroups.csv", csv_whole),
    "read comms.csv": read_op("comms.csv", csv_whole),
    "read stats": read_op("stats", lambda t: all(l.split()[-1].isdigit() for l in t.splitlines())),
    "read accuracy": read_op("accuracy", lambda t: bool(t.strip())),
    "read model_info": read_op("model_info", lambda t: "size_bytes" in t),
}
kmsg("faults on")
op_sites = 0
for what, (op, check) in ops.items():
    problems, refused, absorbed, n = [], {}, 0, 0
    while n < 400:
        n += 1
        rc, injected = fail_nth.run(n, op)
        bad = check(rc)
        if bad:
            problems.append(f"site {n}: {bad}")
        if not injected:
            if rc != 0:
                problems.append(f"no failure left to inject, yet errno {rc}")
            break
        if rc == 0:
            absorbed += 1
        elif rc in GIVEN_UP:
            refused[errno.errorcode[rc]] = refused.get(errno.errorcode[rc], 0) + 1
        else:
            problems.append(f"site {n}: errno {rc}")
    sites = n - 1
    op_sites += sites
    tap.check(f"{what}: each of its {sites} allocations and copies failing once is refused cleanly "
              f"({refused or 'none refused'}, {absorbed} absorbed) and the state is kept",
              not problems and sites < 399, "\n".join(problems[:8]))
# One failure at a time is often absorbed (kvmalloc falls back to vmalloc, vmalloc's bulk page
# allocation to single pages); the random failures below fail several in one operation.
configure(start, end)
kmsg("faults off")
print(f"# reliability: faults=module allocation or user copy n of an operation failing, n = 1..all "
      f"({op_sites} sites in {len(ops)} kinds of operation)")
tap.check("after them, the capacity, model and interval can be set",
          write(f"{DEBUGFS}/capacity", "4096") == 0 and upload_op()[0]() == 0 and write(f"{DEBUGFS}/interval_ms", "200") == 0)

# --- A sampling pass allocates nothing -------------------------------------------------------------
pid = next(p for p in os.listdir("/proc") if p.isdigit() and read(f"/proc/{p}/comm").strip() == "procperf")
thread = FailNth(f"/proc/{pid}/fail-nth")
p0 = guest.stats()["passes"]
thread.set(1)
time.sleep(3)
left = thread.left()
thread.set(0)
passes = guest.stats()["passes"] - p0
tap.check(f"{passes} sampling passes made no allocation from the module's code (fail-nth 1 left {left})",
          passes >= 5 and left == 1)

# --- Random failures under load --------------------------------------------------------------------
stop = threading.Event()
seen, problems = {}, []
lock = threading.Lock()


def worker(name, op, check, seed):
    rng = random.Random(seed)
    while not stop.is_set():
        rc = op()
        bad = check(rc) or (None if rc == 0 or rc in GIVEN_UP else f"errno {rc}")
        with lock:
            seen[(name, rc)] = seen.get((name, rc), 0) + 1
            if bad and len(problems) < 10:
                problems.append(f"{name}: {bad}")
        time.sleep(rng.uniform(0, 0.05))


workers = [("predictions.csv", *read_op("predictions.csv", csv_whole)),
           ("predictions", *read_op("predictions", lambda t: bool(t.strip()))),
           ("stats", *read_op("stats", lambda t: bool(t.strip()))),
           ("cgroups.csv", *read_op("cgroups.csv", csv_whole)),
           # One writer of each setting: a refused change must leave the value it found.
           ("upload", *upload_op()),
           ("capacity", *change("capacity", [2048, 4096]))]
configure(start, end, probability=5)
kmsg("faults on")
p0 = guest.stats()["passes"]
threads = [threading.Thread(target=worker, args=(*w, i)) for i, w in enumerate(workers)]
for t in threads:
    t.start()
time.sleep(20)
stop.set()
for t in threads:
    t.join()
configure(start, end, probability=0)
kmsg("faults off")
failed = sum(v for (_, rc), v in seen.items() if rc != 0)
print(f"# reliability: load=20 s of {len(workers)} concurrent readers and writers; "
      f"faults=5 % of the module's allocations and copies for 20 s ({failed} operations refused); "
      f"inputs={sum(seen.values())} operations")
print("# " + ", ".join(f"{n} {errno.errorcode.get(rc, 'ok') if rc else 'ok'}: {v}" for (n, rc), v in sorted(seen.items())))
tap.check(f"20 s of 5 % failures: {sum(seen.values())} operations, {failed} refused, every answer whole or an error code",
          not problems and failed > 0, "\n".join(problems))
p1 = guest.stats()["passes"]
time.sleep(2)
tap.check(f"sampling went on throughout ({p1 - p0} passes) and after", p1 - p0 >= 50 and guest.stats()["passes"] > p1)
tap.check("a valid upload and capacity change take effect afterwards",
          guest.upload(f"{DEBUGFS}/model", [blobs[1]]) == 0 and info_size() == len(blobs[1])
          and write(f"{DEBUGFS}/capacity", "4096") == 0 and setting("capacity") == 4096)
time.sleep(2)
tap.check("forecasts are published again", len(read(f"{DEBUGFS}/predictions.csv").splitlines()) > 2)
tap.check("the module unloads", rmmod() and not os.path.exists(DEBUGFS))
leaks = kmemleak_new()
tap.check("kmemleak reports nothing new", not leaks, "".join(leaks[:3])[:3000])
tap.done()
