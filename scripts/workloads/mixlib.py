"""Shared machinery of procperf's workload mixes (train-mix, heldout-mix).

A mix is a set of *roles*. Each role is a forked child that names itself (its `comm`, so the samples
CSV says which role a row belongs to), draws every decision from its own `random.Random` seeded by the
mix seed and the role name (so one role's draws never shift another's), and loops over phases until
the mix's deadline. Roles start programs in the role's scratch directory, bounded by the deadline.

A mix-wide *regime* schedule (quiet / normal / busy stretches of 40-120 s, drawn from the seed) sets
how likely each role is to start an active phase, so the machine as a whole also goes idle and busy.

The orchestrator is a child subreaper: when the deadline passes it stops every process it (or any
role) started, including orphans, and removes the scratch directories. Nothing writes outside the
scratch directory, which is `$PP_SCRATCH` (the recorder mounts an ext4 file system on /dev/vda
there) or a new directory under /tmp.

Timing is reproducible up to scheduling: the same seed gives the same sequence of phases, lengths and
sizes, but how long a program takes depends on the machine.
"""

import argparse
import ctypes
import os
import random
import shutil
import signal
import subprocess
import sys
import time

# How likely a role is to start an active phase in each regime.
REGIME_ACTIVITY = {"quiet": 0.15, "normal": 0.5, "busy": 0.85}
REGIME_SECONDS = (40, 120)
PR_SET_CHILD_SUBREAPER = 36
# A program a role runs is stopped after this long (TCG guests are slow): phases stay bounded.
MAX_RUN_SECONDS = 150


def set_comm(name):
    """Names the calling process (the 15-byte `comm` the kernel reports)."""
    with open("/proc/self/comm", "w") as f:
        f.write(name[:15])


def regimes(mix, seed, seconds):
    """[(end_s, regime)] covering `seconds`, starting quiet so the first samples see idle roles."""
    rng = random.Random(f"{mix}:{seed}:regimes")
    out, t, level = [], 0.0, "quiet"
    while t < seconds:
        t += rng.uniform(*REGIME_SECONDS)
        out.append((t, level))
        level = rng.choice([r for r in REGIME_ACTIVITY if r != level])
    return out


class Role:
    """What a role's function sees: its random source, its clock, its scratch directory."""

    def __init__(self, mix, name):
        self.mix = mix
        self.name = name
        self.rng = random.Random(f"{mix.name}:{mix.seed}:{name}")
        self.dir = os.path.join(mix.scratch, name)
        os.makedirs(self.dir, exist_ok=True)

    # -- clock ---------------------------------------------------------------------------------------
    def now(self):
        return time.monotonic() - self.mix.t0

    def left(self):
        return self.mix.seconds - self.now()

    def running(self):
        """True while there is time for another phase (at least 2 s)."""
        return self.left() >= 2

    def sleep(self, s):
        s = min(s, self.left())
        if s > 0:
            time.sleep(s)

    def regime(self):
        t = self.now()
        for end, level in self.mix.schedule:
            if t < end:
                return level
        return self.mix.schedule[-1][1]

    def active(self, scale=1.0):
        """True if the role should start an active phase now (the regime sets the odds)."""
        return self.rng.random() < min(1.0, REGIME_ACTIVITY[self.regime()] * scale)

    # -- draws ---------------------------------------------------------------------------------------
    def uniform(self, a, b):
        return self.rng.uniform(a, b)

    def randint(self, a, b):
        return self.rng.randint(a, b)

    def choice(self, xs):
        return self.rng.choice(xs)

    def secs(self, a, b):
        """A phase length in whole seconds, at least 1 and, while `running()`, ending before the
        deadline."""
        return max(1, min(self.randint(a, b), int(self.left()) - 1))

    # -- output --------------------------------------------------------------------------------------
    def log(self, msg):
        line = f"{self.now():7.1f} {self.regime():<6} {self.name:<12} {msg}\n"
        os.write(1, line.encode())  # one write per line: lines from many roles never interleave

    def path(self, name):
        return os.path.join(self.dir, name)

    # -- programs ------------------------------------------------------------------------------------
    def run(self, args, timeout=MAX_RUN_SECONDS, shell=False, env=None, stdin=None, stdout=subprocess.DEVNULL):
        """Runs a program (or a `bash -c` line) to completion, killed at its timeout or the deadline.

        Returns its exit status, or None when it was killed."""
        limit = min(timeout, self.left())
        if limit <= 0.5:
            return None
        cmd = ["bash", "-c", args] if shell else args
        e = dict(os.environ, **(env or {}))
        p = subprocess.Popen(cmd, cwd=self.dir, env=e, stdin=stdin or subprocess.DEVNULL,
                             stdout=stdout, stderr=subprocess.DEVNULL, process_group=0)
        try:
            return p.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            kill_group(p)
            if limit == timeout:
                self.log(f"killed after {timeout} s: {args if shell else ' '.join(args)}"[:160])
            return None

    def spawn(self, args, stdin=subprocess.DEVNULL, env=None):
        """Starts a long-running program; the orchestrator stops it at the deadline."""
        return subprocess.Popen(args, cwd=self.dir, env=dict(os.environ, **(env or {})), stdin=stdin,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stress(self, seconds, *opts):
        """One stress-ng run of `seconds` with `opts`, temporary files in the role's directory."""
        if seconds <= 0:
            return None
        return self.run(["stress-ng", "--quiet", "--temp-path", self.dir, "--timeout", f"{seconds}s",
                         *map(str, opts)], timeout=seconds + 15)


def kill_group(p):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            return
        try:
            p.wait(timeout=3)
            return
        except subprocess.TimeoutExpired:
            pass


def descendants(root):
    """Every live process below `root` (a snapshot of /proc)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


class Mix:
    def __init__(self, name, description):
        ap = argparse.ArgumentParser(prog=name, description=description)
        ap.add_argument("seconds", nargs="?", type=float, default=600.0, help="duration (default 600)")
        ap.add_argument("--seed", type=int, default=1, help="seed of every random draw (default 1)")
        ap.add_argument("--scratch", default=os.environ.get("PP_SCRATCH"),
                        help="directory for every file the mix writes (default $PP_SCRATCH, else a new "
                             "directory under /tmp)")
        ap.add_argument("--only", help="comma-separated roles to run (default: all)")
        ap.add_argument("--prepare-only", action="store_true",
                        help="only build what the roles need (kept for the next run) and exit")
        a = ap.parse_args()
        self.prepare_only = a.prepare_only
        self.name, self.seconds, self.seed = name, a.seconds, a.seed
        self.only = set(a.only.split(",")) if a.only else None
        base = a.scratch or "/tmp"
        if not os.path.isdir(base):
            sys.exit(f"{name}: scratch directory {base} does not exist")
        self.scratch = os.path.join(base, f"{name}.{os.getpid()}")
        self.prep = os.path.join(base, f"{name}.prep")
        self.schedule = regimes(name, self.seed, self.seconds)
        self.roles = []
        self.required = set()
        self.preparations = []

    def role(self, name, fn, needs=()):
        if self.only is None or name in self.only:
            self.roles.append((name, fn))
            self.required.update(needs)

    def prepare(self, fn, needs=()):
        """Registers `fn(prep_dir)`, run before the clock starts: builds what roles need (once; it
        must skip work whose result is already in `prep_dir`)."""
        self.preparations.append(fn)
        self.required.update(needs)

    def run(self):
        missing = sorted(p for p in self.required if shutil.which(p) is None)
        if missing:
            sys.exit(f"{self.name}: missing programs: {', '.join(missing)}")
        prepared = os.path.isdir(self.prep)
        os.makedirs(self.prep, exist_ok=True)
        for fn in self.preparations:
            fn(self.prep)
        if self.prepare_only:
            print(f"{self.name}: prepared {self.prep}", flush=True)
            return
        set_comm(self.name)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        os.makedirs(self.scratch)
        self.t0 = time.monotonic()
        sched = ", ".join(f"{lvl} to {end:.0f} s" for end, lvl in self.schedule)
        print(f"{self.name}: {len(self.roles)} roles for {self.seconds:.0f} s, seed {self.seed}, "
              f"scratch {self.scratch}; regimes: {sched}", flush=True)
        pids = {}
        for name, fn in self.roles:
            pid = os.fork()
            if pid == 0:
                self._child(name, fn)
            pids[pid] = name
        try:
            while time.monotonic() - self.t0 < self.seconds:
                time.sleep(0.5)
                self._reap(pids)
        finally:
            self._stop(pids)
            shutil.rmtree(self.scratch, ignore_errors=True)
            if not prepared:
                shutil.rmtree(self.prep, ignore_errors=True)
        print(f"{self.name}: done after {time.monotonic() - self.t0:.0f} s", flush=True)

    def _child(self, name, fn):
        status = 0
        try:
            signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
            set_comm(name)
            r = Role(self, name)
            fn(r)
            r.sleep(r.left())  # a role that finishes early idles until the end
        except Exception as e:  # a failing role must not take the mix down; say so and idle
            os.write(2, f"{self.name}: role {name} failed: {e!r}\n".encode())
            status = 1
        os._exit(status)

    def _reap(self, pids):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in pids and os.waitstatus_to_exitcode(status) != 0:
                print(f"{self.name}: role {pids[pid]} exited with {os.waitstatus_to_exitcode(status)}",
                      flush=True)

    def _stop(self, pids):
        me = os.getpid()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in descendants(me):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and descendants(me):
                self._reap({})
                time.sleep(0.2)
        self._reap({})
