"""Helpers for guest-side Python tests in tests/kernel/: TAP output, loading the module, reading the
`samples` stream. The module under test is $PP_KO (set by scripts/test)."""
import csv, io, os, subprocess, sys, threading, time

DEBUGFS = "/sys/kernel/debug/procperf"


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, desc, cond, diag=None):
        self.n += 1
        if cond:
            print(f"ok {self.n} - {desc}", flush=True)
        else:
            self.failed += 1
            print(f"not ok {self.n} - {desc}", flush=True)
            if diag:
                for line in str(diag).splitlines():
                    print(f"# {line}", flush=True)
        return cond

    def todo(self, desc, cond, why):
        """A known shortfall: reported as TAP TODO when it fails, so it is visible but not a failure."""
        self.n += 1
        status = "ok" if cond else "not ok"
        print(f"{status} {self.n} - {desc} # TODO {why}", flush=True)

    def skip(self, desc, why):
        self.n += 1
        print(f"ok {self.n} - {desc} # SKIP {why}", flush=True)

    def done(self):
        print(f"1..{self.n}", flush=True)
        sys.exit(1 if self.failed else 0)


def load_module(tap, interval_ms=None):
    ko = os.environ["PP_KO"]
    r = subprocess.run(["insmod", ko], capture_output=True, text=True)
    if not tap.check("insmod procperf.ko", r.returncode == 0, r.stderr):
        tap.done()
    if interval_ms is not None:
        write(f"{DEBUGFS}/interval_ms", str(interval_ms))


def write(path, text):
    """Writes text to a debugfs file in one write(); returns 0 or the errno."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError as e:
        return e.errno
    try:
        os.write(fd, text.encode() if isinstance(text, str) else text)
        return 0
    except OSError as e:
        return e.errno
    finally:
        os.close(fd)


def close_quietly(fd):
    try:
        os.close(fd)
    except OSError:
        pass


def upload(path, pieces):
    """Writes each of `pieces` (bytes) to an upload file in its own write() and closes it; returns
    0, or the errno of the open, write or close that failed (the file closed either way)."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError as e:
        return e.errno
    try:
        for p in pieces:
            os.write(fd, p)
    except OSError as e:
        close_quietly(fd)
        return e.errno
    try:
        os.close(fd)
    except OSError as e:
        return e.errno
    return 0


def read(path):
    with open(path) as f:
        return f.read()


def stats():
    return {k: int(v) for k, v in (l.split() for l in read(f"{DEBUGFS}/stats").splitlines())}


def accuracy():
    """The module's live scores: {(target, horizon): {column: value}}."""
    lines = read(f"{DEBUGFS}/accuracy").splitlines()
    names = lines[0].split()
    rows = [dict(zip(names, l.split())) for l in lines[1:]]
    return {(r["target"], int(r["horizon"])): {k: int(v) for k, v in r.items() if k not in ("target", "horizon")}
            for r in rows}


class Rows:
    def __init__(self, text):
        lines = text.splitlines()
        self.header = lines[0].split(",") if lines else []
        self.rows = []
        self.bad_rows = 0
        self.bad_examples = ""
        for line in lines[1:]:
            f = line.split(",")
            if len(f) != len(self.header):
                self.bad_rows += 1
                if self.bad_rows <= 3:
                    self.bad_examples += line + "\n"
                continue
            try:
                row = {k: (v if k == "comm" else int(v)) for k, v in zip(self.header, f)}
            except ValueError:
                self.bad_rows += 1
                continue
            self.rows.append(row)
        self.n_rows = len(self.rows)

    def by_pid(self):
        out = {}
        for r in self.rows:
            out.setdefault(r["pid"], []).append(r)
        return out


class SamplesReader:
    """Reads the `samples` stream in a background thread until stop()."""

    def __init__(self, path=f"{DEBUGFS}/samples"):
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.buf = io.BytesIO()
        self.stopping = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        import select
        while not self.stopping:
            try:
                d = os.read(self.fd, 1 << 16)
                self.buf.write(d)
            except BlockingIOError:
                time.sleep(0.05)

    def stop(self):
        self.stopping = True
        self.t.join()
        os.close(self.fd)
        return Rows(self.buf.getvalue().decode())
