#!/usr/bin/env python3
"""Guest test: many users at once.

For PP_STRESS_SECONDS (default 60; longer runs outside `make test`), at the same time:
- readers of `predictions`, `predictions.csv`, `stats`, `accuracy`, `model_info` and the
  `samples` stream, checking every read: a whole predictions.csv is one pass (one `t_ms`) and
  every row has the header's fields; `model_info` always shows a model that was uploaded whole
  (the default's size or one of the two test blobs');
- two writers of `interval_ms` and one of `capacity`, valid values and garbage;
- three writers of `model`: the two valid blobs in random chunk sizes, truncated and corrupted
  blobs, a blob over 5 MiB, uploads closed half-way from another thread, uploads that seek back;
- unload attempts while files are open.
Every garbage write must be refused (EINVAL, E2BIG), every valid one accepted, every unload
refused; afterwards a valid upload, interval and capacity take effect and forecasts are published.
The guest's splat check covers the rest (KASAN, lockdep, kmemleak). Prints TAP.
"""
import errno, os, random, struct, subprocess, sys, threading, time, zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import guest  # noqa: E402
from guest import Tap, close_quietly, load_module, DEBUGFS, read, write, SamplesReader  # noqa: E402

SECONDS = int(os.environ.get("PP_STRESS_SECONDS", "60"))
tap = Tap()
load_module(tap, interval_ms=200)
MODEL = f"{DEBUGFS}/model"
blob_a = open(os.environ["PP_BLOB_A"], "rb").read()
blob_b = open(os.environ["PP_BLOB_B"], "rb").read()
default_size = int(dict(l.split(None, 1) for l in read(f"{DEBUGFS}/model_info").splitlines()
                        if " " in l)["size_bytes"])
whole = {default_size, len(blob_a), len(blob_b)}
stop = threading.Event()
problems = []  # (what, detail): every broken promise seen by any thread
counts = {}
lock = threading.Lock()


def note(key, bad=None):
    with lock:
        counts[key] = counts.get(key, 0) + 1
        if bad is not None and len(problems) < 20:
            problems.append((key, bad))


def resealed(b):
    b = bytes(b[:-4])
    return b + struct.pack("<I", zlib.crc32(b))


def pieces(data, rng):
    """`data` in random chunk sizes, from single bytes to all of it in one write."""
    i = 0
    while i < len(data):
        n = rng.choice([1, 7, 512, 4096, 65536, len(data)])
        yield data[i:i + n]
        i += n


def upload(data, rng, close_early=False, seek_back=False):
    """One upload in random chunks; returns 0 or the errno of the write or close that failed.
    `close_early`: half the bytes, then another thread closes the file (returns -1).
    `seek_back`: half the bytes, then a seek to the start."""
    if not (close_early or seek_back):
        return guest.upload(MODEL, pieces(data, rng))
    try:
        fd = os.open(MODEL, os.O_WRONLY)
    except OSError as e:
        return e.errno
    try:
        os.write(fd, data[:len(data) // 2])
    except OSError as e:
        close_quietly(fd)
        return e.errno
    if close_early:
        t = threading.Thread(target=close_quietly, args=(fd,))
        t.start()
        t.join()
        return -1
    try:
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError as e:
        return e.errno
    finally:
        close_quietly(fd)
    return 0


def reader(name, check):
    while not stop.is_set():
        try:
            text = read(f"{DEBUGFS}/{name}")
        except OSError as e:
            note(f"read {name}", f"errno {e.errno}")
            continue
        bad = check(text)
        note(f"read {name}", bad)


def csv_bad(text):
    lines = text.splitlines()
    if not lines or not lines[0].startswith("t_ms,pid,comm,cgroup,cpu_current"):
        return f"header {lines[:1]}"
    width = len(lines[0].split(","))
    passes = {l.split(",", 1)[0] for l in lines[1:]}
    if any(len(l.split(",")) != width for l in lines[1:]):
        return "a row with another number of fields"
    if len(passes) > 1:
        return f"rows of {len(passes)} passes in one read"
    return None


def info_bad(text):
    i = dict(l.split(None, 1) for l in text.splitlines() if " " in l and not l.startswith(" "))
    size = int(i.get("size_bytes", "-1"))
    return None if size in whole else f"size_bytes {size}"


def table_bad(text):
    return None if text.strip() else "empty"


def numbers_bad(text):
    lines = text.splitlines()[1:] if text.startswith("target") else text.splitlines()
    return None if lines and all(l.split()[-1].isdigit() for l in lines) else "a line without a number"


def setting_writer(path, valid, garbage, seed):
    rng = random.Random(seed)
    while not stop.is_set():
        if rng.random() < 0.5:
            rc = write(path, str(rng.choice(valid)))
            note(f"{path} valid", None if rc == 0 else f"errno {rc}")
        else:
            g = rng.choice(garbage)
            rc = write(path, g)
            note(f"{path} garbage", None if rc in (errno.EINVAL, errno.ERANGE) else f"{g!r}: {rc}")
        time.sleep(rng.uniform(0.05, 0.4))


def model_writer(seed):
    rng = random.Random(seed)
    while not stop.is_set():
        kind = rng.choice(["valid", "valid", "truncated", "flipped", "huge", "closed", "seek"])
        blob = rng.choice([blob_a, blob_b])
        if kind == "valid":
            rc = upload(blob, rng)  # each open file collects its own upload
            note("model valid", None if rc == 0 else f"errno {rc}")
        elif kind == "truncated":
            rc = upload(blob[: rng.randint(1, len(blob) - 1)], rng)
            note("model truncated", None if rc == errno.EINVAL else f"errno {rc}")
        elif kind == "flipped":
            b = bytearray(blob)
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            rc = upload(bytes(b) if rng.random() < 0.5 else resealed(b), rng)
            # A flip resealed with a fresh CRC may still be a valid model (a leaf value, say).
            # A flip in the length field may declare more than 5 MiB: E2BIG.
            note("model flipped", None if rc in (0, errno.EINVAL, errno.E2BIG) else f"errno {rc}")
        elif kind == "huge":
            # A blob that declares 6 MiB, and sends them: refused once its header is in.
            b = bytearray(blob + bytes((6 << 20) - len(blob)))
            b[12:16] = struct.pack("<I", len(b))
            rc = upload(bytes(b), rng)
            note("model huge", None if rc == errno.E2BIG else f"errno {rc}")
        elif kind == "closed":
            rc = upload(blob, rng, close_early=True)
            note("model closed half-way", None if rc == -1 else f"errno {rc}")
        else:
            rc = upload(blob, rng, seek_back=True)
            note("model seek", None if rc == errno.ESPIPE else f"errno {rc}")  # the file has no positions
        time.sleep(rng.uniform(0.0, 0.2))


def unloader():
    while not stop.is_set():
        time.sleep(2)
        r = subprocess.run(["rmmod", "procperf"], capture_output=True, text=True)
        note("unload while in use", None if r.returncode != 0 else "rmmod succeeded")
        if r.returncode == 0:
            stop.set()


samples = SamplesReader()
threads = [threading.Thread(target=reader, args=a) for a in [
    ("predictions.csv", csv_bad), ("predictions.csv", csv_bad), ("predictions", table_bad),
    ("stats", numbers_bad), ("accuracy", numbers_bad), ("model_info", info_bad)]]
threads += [threading.Thread(target=setting_writer, args=(f"{DEBUGFS}/interval_ms", [200, 300, 500],
                                                           ["abc", "0", "99", "60001", "-5", "1e3"], s))
            for s in (1, 2)]
threads += [threading.Thread(target=setting_writer, args=(f"{DEBUGFS}/capacity", [1024, 2048, 4096],
                                                           ["15", "65537", "x", "-1"], 3))]
threads += [threading.Thread(target=model_writer, args=(s,)) for s in (4, 5, 6)]
threads += [threading.Thread(target=unloader)]
for t in threads:
    t.start()
stop.wait(SECONDS)
stop.set()
for t in threads:
    t.join()
samples.stop()
text = samples.buf.getvalue().decode(errors="replace")
lines = [l for l in text.splitlines() if l]
width = len(lines[0].split(",")) if lines else 0
torn = sum(len(l.split(",")) != width for l in lines[1:])

print("# " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
print(f"# reliability: load={SECONDS} s of 6 readers, 3 setting writers, 3 model writers, unload attempts "
      f"and a samples reader; inputs={sum(counts.values())} operations, "
      f"{sum(v for k, v in counts.items() if not k.endswith('valid') and not k.startswith('read'))} of them "
      "garbage settings, corrupt, oversized, half-closed or seeking uploads, unloads")
for what, detail in problems:
    print(f"# {what}: {detail}")
tap.check(f"every read and write answered as promised for {SECONDS} s ({sum(counts.values())} operations)",
          not problems, problems)
tap.check("every kind of operation ran", all(counts.get(k, 0) > 0 for k in (
    "read predictions.csv", "read model_info", "model valid", "model truncated", "model huge",
    "model closed half-way", "unload while in use")), counts)
tap.check(f"the samples stream stayed whole ({len(lines)} rows, {torn} torn)", len(lines) > 100 and torn == 0)
# Afterwards every setting and a whole model take effect.
tap.check("a final upload is accepted", upload(blob_a, random.Random(7)) == 0)
tap.check("a final interval is accepted", write(f"{DEBUGFS}/interval_ms", "250") == 0
          and read(f"{DEBUGFS}/interval_ms").strip() == "250")
tap.check("a final capacity is accepted", write(f"{DEBUGFS}/capacity", "4096") == 0
          and read(f"{DEBUGFS}/capacity").strip() == "4096")
time.sleep(3)
i = dict(l.split(None, 1) for l in read(f"{DEBUGFS}/model_info").splitlines() if " " in l)
tap.check("the final model is in effect", int(i["size_bytes"]) == len(blob_a) and i["source"] == "uploaded", i)
tap.check("forecasts are published again", len(read(f"{DEBUGFS}/predictions.csv").splitlines()) > 2)
tap.done()
