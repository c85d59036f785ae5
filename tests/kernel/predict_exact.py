#!/usr/bin/env python3
"""Guest test: the kernel's predictions equal `trainer predict` on the same rows, bit for bit.

While real programs run, the `samples` stream is recorded and `predictions.csv` is snapshotted after
every pass. `trainer predict` (the host build, $PP_TRAINER) then evaluates the same embedded blob on
the recorded samples with the shared fixed-point code. Every (t_ms, pid) row present in both must be
identical: every column, at every horizon, for processes that started after the recording began,
and the current levels for the others. A process's forecasts depend on everything the module saw
of it (the long-memory features, the blend record of `model::blend`), and the recording holds that
only for processes it saw start. Also checks the human `predictions` format. Prints TAP.
"""
import os, re, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from guest import Tap, load_module, SamplesReader, DEBUGFS, read, stats  # noqa: E402

tap = Tap()
load_module(tap, interval_ms=200)
reader = SamplesReader()
# Processes alive now may have been tracked before the recording began; later ones were not.
before = {int(p) for p in os.listdir("/proc") if p.isdigit()}
work = [
    subprocess.Popen(["stress-ng", "--cpu", "1", "--cpu-load", "70", "--timeout", "12s", "--quiet", "--temp-path", "/tmp"]),
    subprocess.Popen(["bash", "-c", "for i in $(seq 6); do head -c 20000000 /dev/urandom | gzip -1 > /tmp/z.gz; sleep 0.7; done"]),
    subprocess.Popen(["python3", "-c", "import time\nb=[]\nfor i in range(40):\n  b.append(bytearray(2<<20)); time.sleep(0.25)"]),
]
kernel = {}
header = None
deadline = time.time() + 13
while time.time() < deadline:
    lines = read(f"{DEBUGFS}/predictions.csv").splitlines()
    header = lines[0]
    for line in lines[1:]:
        f = line.split(",")
        kernel[(f[0], f[1])] = line
    time.sleep(0.08)
for p in work:
    p.wait()
# Sleeping processes' features are refreshed, not recomputed (the sampler's shortcut): the rows
# compared below include theirs, so the shortcut is held to the same bit-exactness.
st = stats()
rows = reader.stop()
human = read(f"{DEBUGFS}/predictions")

samples_csv = "/tmp/samples.csv"
with open(samples_csv, "w") as f:
    f.write(",".join(rows.header) + "\n")
    for r in rows.rows:
        f.write(",".join(str(r[k]) for k in rows.header) + "\n")
blob = os.path.join(os.environ.get("PP_REPO", "."), "rust/model/default/model.bin")
r = subprocess.run([os.environ["PP_TRAINER"], "predict", blob, samples_csv], capture_output=True, text=True)
tap.check("trainer predict ran on the recorded samples", r.returncode == 0, r.stderr[-2000:])
out = r.stdout.splitlines()
tap.check("kernel and trainer print the same CSV header", out and out[0] == header, f"kernel:  {header}\ntrainer: {out[0] if out else ''}")
trainer = {}
for line in out[1:]:
    f = line.split(",")
    trainer[(f[0], f[1])] = line
both = set(kernel) & set(trainer)


current = [i for i, name in enumerate(header.split(",")) if i < 3 or name.endswith("_current")]


def comparable(key, line):
    """The whole row for a process seen from its start, else its identity and current levels."""
    if int(key[1]) not in before:
        return line
    f = line.split(",")
    return [f[i] for i in current]


diff = [k for k in both if comparable(k, kernel[k]) != comparable(k, trainer[k])]
whole = [k for k in both if int(k[1]) not in before]
tap.check(f"the last pass refreshed sleeping processes' features ({st['predict_still']} of {st['predicted']})",
          st["predict_still"] > 0)
tap.check(f"kernel rows were matched by trainer rows ({len(both)} of {len(kernel)} kernel rows)", len(both) >= 50)
tap.check(f"rows of processes seen from their start were matched ({len(whole)})", len(whole) >= 30)
tap.check(f"all {len(both)} matched rows are identical, bit for bit ({len(whole)} in every column)",
          not diff, "\n".join(f"kernel:  {kernel[k]}\ntrainer: {trainer[k]}" for k in sorted(diff)[:5]))

# Golden formats: what scripts and people parse must not change by accident.
golden = os.path.join(os.path.dirname(__file__), "..", "golden")
tap.check("predictions.csv header matches tests/golden/predictions.csv.header",
          header == open(os.path.join(golden, "predictions.csv.header")).read().rstrip("\n"), header)
lines = human.splitlines()
tap.check("predictions column headings match tests/golden/predictions.header",
          lines[2] == open(os.path.join(golden, "predictions.header")).read().rstrip("\n"), "\n".join(lines[:3]))
# The human format: a title, a count line, column headings, and rows of pid, comm, cgroup and 4 target
# groups of the current level and a forecast with its band per horizon.
tap.check("predictions header names interval, horizons and model",
          re.match(r"procperf predictions: every \d+ ms, forecasts over the next \+\d+ \([\d.]+ s\)(, \+\d+ \([\d.]+ s\))+ intervals \(CPU, disk, net: mean; RSS: peak\); model (default|uploaded) \(schema 0x[0-9a-f]{8}, trained at \d+ ms, \d+% intervals\)$", lines[0]) is not None, lines[0])
n_horizons = lines[0].count("+")
row = re.compile(r"^ *\d+ .{15} +\d+ [-CRDN]{4}( \| +[\d.]+(( +[\d.]+ \[[\d.]+\.\.[\d.]+\]){%d})){4}$" % n_horizons)
body = [l for l in lines[3:] if l.strip()]
tap.check(f"every predictions row has pid, comm, cgroup and 4 target groups ({len(body)} rows)",
          body and all(row.match(l) for l in body), "\n".join(l for l in body if not row.match(l))[:1500])
cpu = [float(l.split("|")[1].split()[1]) for l in body]
tap.check("rows are sorted by the forest's CPU forecast", cpu == sorted(cpu, reverse=True), cpu[:10])
tap.done()
