#!/usr/bin/env python3
"""Guest test: hot-swapping models.

- the embedded default model answers after load;
- a valid new blob is used from the next pass (model_info and the forecasts change);
- corrupted blobs — truncated, a flipped byte, a wrong schema id, an absurd tree count, garbage,
  oversized — are refused with EINVAL/E2BIG and the previous model still answers;
- 100 swaps while `predictions` is read continuously: no splat, no leak (kmemleak on the debug
  kernel), every read well-formed;
- unloading while a reader holds `predictions` open is safe (refused while open, fine after).
Blobs: $PP_BLOB_A and $PP_BLOB_B, two valid models trained with different settings. Prints TAP.
"""
import errno, os, struct, subprocess, sys, threading, time, zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import guest  # noqa: E402
from guest import Tap, accuracy, load_module, DEBUGFS, read  # noqa: E402

tap = Tap()
kmemleak = "/sys/kernel/debug/kmemleak"
if os.path.exists(kmemleak):
    open(kmemleak, "w").write("scan=off")  # one scan at the end; automatic scans only slow TCG down
load_module(tap, interval_ms=200)
MODEL = f"{DEBUGFS}/model"
blob_a = open(os.environ["PP_BLOB_A"], "rb").read()
blob_b = open(os.environ["PP_BLOB_B"], "rb").read()
tap.check("the two test blobs differ", blob_a != blob_b)


def upload(data, chunk=None):
    """Writes `data` to the model file (in chunks if given) and closes it; returns 0 or errno."""
    step = chunk or len(data) or 1
    return guest.upload(MODEL, (data[i:i + step] for i in range(0, max(len(data), 1), step)))


def info():
    return dict(l.split(None, 1) for l in read(f"{DEBUGFS}/model_info").splitlines() if " " in l and not l.startswith(" "))


def with_crc(b):
    b = bytes(b[:-4])
    return b + struct.pack("<I", zlib.crc32(b))


def forecasts():
    lines = read(f"{DEBUGFS}/predictions.csv").splitlines()
    return {tuple(l.split(",")[1:2]): l.split(",")[3:] for l in lines[1:]}


time.sleep(2.5)  # 8 intervals of history at 200 ms
tap.check("default model is active", info().get("source") == "default", info())
tap.check("forecasts are published", len(read(f"{DEBUGFS}/predictions.csv").splitlines()) > 5)

# The live scores count the default model's checks (a busy process guarantees active ones) and
# restart with a new model: none of the new model's checks can complete within 5 passes.
spin = subprocess.Popen(["timeout", "20", "sh", "-c", "while :; do :; done"])
deadline = time.time() + 15
while time.time() < deadline and accuracy()[("cpu", 5)]["scored"] == 0:
    time.sleep(0.2)
before = accuracy()
tap.check("accuracy counts the default model's checks", before[("cpu", 5)]["scored"] > 0, before)
tap.check("a valid blob is accepted (written in 4 KiB chunks)", upload(blob_a, 4096) == 0)
deadline = time.time() + 3
while time.time() < deadline:
    after = accuracy()
    if all(v["scored"] == 0 for v in after.values()):
        break
    time.sleep(0.1)
tap.check("accuracy restarts with the new model", all(v["scored"] == 0 for v in after.values()), after)
spin.kill()
i = info()
tap.check("model_info shows the uploaded model", i.get("source") == "uploaded" and int(i["size_bytes"]) == len(blob_a), i)
time.sleep(0.6)
fa = forecasts()
tap.check("blob B is accepted in one write", upload(blob_b) == 0)
time.sleep(0.6)
fb = forecasts()
common = set(fa) & set(fb)
tap.check(f"forecasts change with the model ({len(common)} processes compared)",
          any(fa[k] != fb[k] for k in common))
swaps = int(info()["swaps"])

bad = {
    "truncated": (blob_a[: len(blob_a) // 2], errno.EINVAL),
    "one flipped byte": (blob_a[:100] + bytes([blob_a[100] ^ 0x40]) + blob_a[101:], errno.EINVAL),
    "wrong schema id": (with_crc(blob_a[:16] + struct.pack("<I", 0xDEADBEEF) + blob_a[20:]), errno.EINVAL),
    "format 2 (an older procperf's 5 s-only model)": (with_crc(blob_a[:8] + struct.pack("<I", 2) + blob_a[12:]), errno.EINVAL),
    "garbage": (os.urandom(4096), errno.EINVAL),
    "oversized (declared 64 MiB)": (blob_a[:12] + struct.pack("<I", 64 << 20) + blob_a[16:], errno.E2BIG),
    "empty (nothing written, nothing changes)": (b"", 0),
}
# An absurd tree count in the first target's forest header: just after the linear section, which
# follows the header (36 bytes and 2 per horizon, their count at offset 32).
n_features = struct.unpack_from("<H", blob_a, 20)[0]
n_horizons = struct.unpack_from("<H", blob_a, 32)[0]
trees_at = 36 + 2 * n_horizons + 20 + 8 * n_features
bad["65535 trees"] = (with_crc(blob_a[:trees_at] + struct.pack("<H", 65535) + blob_a[trees_at + 2:]), errno.EINVAL)
for name, (data, want) in bad.items():
    got = upload(data)
    verdict = f"refused ({errno.errorcode[want]})" if want else "accepted as a no-op"
    tap.check(f"{name} blob: {verdict}", got == want, f"errno {got}")
log = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
tap.check("the kernel log says why the old format was refused and what to do",
          "unsupported blob format version: a model of another procperf" in log and "refit it" in log,
          "\n".join(l for l in log.splitlines() if "procperf" in l)[-1500:])
i = info()
tap.check("after the refusals the previous model is still active",
          i.get("source") == "uploaded" and int(i["size_bytes"]) == len(blob_b) and int(i["swaps"]) == swaps, i)
time.sleep(0.5)
tap.check("and still answers", len(read(f"{DEBUGFS}/predictions.csv").splitlines()) > 5)

# 100 swaps under continuous reads.
stop = threading.Event()
reads = {"n": 0, "bad": 0}


def reader():
    while not stop.is_set():
        for f in ("predictions", "predictions.csv", "model_info"):
            text = read(f"{DEBUGFS}/{f}")
            reads["n"] += 1
            if f == "predictions.csv" and not text.startswith("t_ms,pid,comm,cgroup,cpu_current"):
                reads["bad"] += 1


readers = [threading.Thread(target=reader) for _ in range(2)]
for t in readers:
    t.start()
errors = [upload(blob_a if k % 2 else blob_b) for k in range(100)]
stop.set()
for t in readers:
    t.join()
tap.check("100 swaps under continuous reads all succeed", errors == [0] * 100, errors)
print(f"# reliability: load=100 model swaps under continuous reads; inputs={len(bad)} kinds of corrupt blob")
tap.check(f"every read was well-formed ({reads['n']} reads)", reads["bad"] == 0 and reads["n"] > 10, reads)
tap.check("swap counter counted them", int(info()["swaps"]) == swaps + 100)

# Unload while a reader holds `predictions` open.
f = open(f"{DEBUGFS}/predictions")
r = subprocess.run(["rmmod", "procperf"], capture_output=True, text=True)
tap.check("rmmod is refused while predictions is open", r.returncode != 0, r.stdout + r.stderr)
tap.check("the open file still reads", f.read().startswith("procperf predictions"))
f.close()
r = subprocess.run(["rmmod", "procperf"], capture_output=True, text=True)
tap.check("rmmod succeeds after close", r.returncode == 0, r.stderr)

if os.path.exists(kmemleak):
    time.sleep(6)  # kmemleak reports only objects older than 5 s
    open(kmemleak, "w").write("scan")
    # Each report is a block starting "unreferenced object"; ours name the module in the backtrace.
    leaks = [b for b in read(kmemleak).split("unreferenced object") if "[procperf]" in b or "procperf" in b]
    tap.check("kmemleak finds no leak of procperf's after load, swaps, unload", not leaks, "".join(leaks)[:3000])
else:
    tap.skip("kmemleak check", "kernel without kmemleak")
tap.done()
