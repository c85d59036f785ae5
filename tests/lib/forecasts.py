"""Scores the module's live forecasts: snapshots of predictions.csv against what happened next.

Used by the guest accuracy tests. `Snapshots.poll()` reads predictions.csv (one row per process
per pass); `score()` then scores every busy forecast at a horizon of H passes against the next H
passes, as the targets are defined (rust/model/src/target.rs): CPU, disk and net the mean rate
over the horizon, RSS the peak, a process that exited counting 0 after its last row. Beside the
published forecast it scores persistence, the EWMA at the horizon's alpha (from the default
model's manifest), predict_linear over the last 8 levels and the linear model, and counts the
published 80 % band's coverage. Only forecasts whose H following passes the snapshots all caught
are scored.
"""
import json
import math
import os
import subprocess
import time

from guest import DEBUGFS, read

TARGETS = ("cpu", "rss", "disk", "net")
BUSY_PERMILLE = 10  # a forecast is scored when CPU is >= 1 % now or over the horizon
MODELS = ("forest", "linear", "persistence", "ewma", "predict_linear")


def ewma_alphas(repo):
    """{(target, horizon): alpha} of the default model's EWMA baselines."""
    manifest = json.load(open(os.path.join(repo, "rust/model/default/model.json")))
    return {(b["target"], b.get("horizon", 5)): b["ewma_alpha"] for b in manifest["baselines"]}


class Snapshots:
    """Every row of predictions.csv seen: {pid: {t_ms: {column: value}}}, and the passes seen."""

    def __init__(self):
        self.rows, self.comms, self.passes = {}, {}, set()

    def poll(self):
        lines = read(f"{DEBUGFS}/predictions.csv").splitlines()
        if not lines:
            return
        names = lines[0].split(",")
        for line in lines[1:]:
            f = line.split(",")
            pid, t = int(f[1]), int(f[0])
            self.rows.setdefault(pid, {})[t] = {n: int(v) for n, v in zip(names[3:], f[3:])}
            self.comms[pid] = f[2]
            self.passes.add(t)


def run_mix(tap, mixer, seconds, seed, tail, env=None, each_poll=None):
    """Runs a workload mix (scripts/workloads/*-mix) for `seconds` as scripts/workloads/record
    does, with everything it writes on a fresh ext4 on the scratch disk, snapshotting
    predictions.csv 4 times a pass until `tail` seconds after it ends (so the last forecasts have
    their outcomes); `each_poll()` runs after every snapshot. Checks that it prepared and ran to
    the end; returns the snapshots and the mix's output."""
    name = os.path.basename(mixer)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", "/dev/vda"], check=True)
    os.makedirs("/tmp/vda", exist_ok=True)
    subprocess.run(["mount", "-t", "ext4", "/dev/vda", "/tmp/vda"], check=True)
    env = dict(os.environ, PP_SCRATCH="/tmp/vda", **(env or {}))
    prep = subprocess.run([mixer, "--prepare-only"], env=env, capture_output=True, text=True)
    tap.check(f"{name} prepares its inputs", prep.returncode == 0, prep.stderr[-2000:])
    # The phase log goes to a file: a pipe read only at the end could fill and stall the mix.
    log = open(f"/tmp/{name}.log", "w+")
    mix = subprocess.Popen([mixer, str(seconds), "--seed", str(seed)], env=env, stdout=log,
                           stderr=subprocess.PIPE, text=True)
    snap = Snapshots()
    start = time.time()
    while time.time() < start + seconds + tail:
        snap.poll()
        if each_poll:
            each_poll()
        if mix.poll() is not None and time.time() < start + seconds - 5:
            break  # the mix died early: what follows would score an idle machine
        time.sleep(0.25)
    ran = time.time() - start
    try:  # the mix stops its roles and removes its files after its deadline
        _, err = mix.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        mix.kill()
        _, err = mix.communicate()
    tap.check(f"{name} ran its {seconds} s to the end (exit {mix.returncode} after {ran:.0f} s)",
              mix.returncode == 0 and ran >= seconds - 5, err[-2000:])
    subprocess.run(["umount", "/tmp/vda"])
    log.seek(0)
    return snap, log.read()


def rate(level):
    """B/s from a log2q8(1 + B/s) level."""
    return 2 ** (level / 256) - 1


def trend(levels, h, peak):
    """predict_linear over `levels`, read as the target reads the future."""
    n = len(levels)
    xm, ym = (n - 1) / 2, sum(levels) / n
    sxx = sum((i - xm) ** 2 for i in range(n))
    slope = sum((i - xm) * (y - ym) for i, y in enumerate(levels)) / sxx if sxx else 0.0
    now = ym + slope * (n - 1 - xm)
    return max(0.0, max(now + slope, now + slope * h) if peak else now + slope * (h + 1) / 2)


class Score:
    """One target at one horizon: absolute error sums per model, overall and per process, and the
    band's coverage."""

    def __init__(self):
        self.n = self.covered = 0
        self.err = dict.fromkeys(MODELS, 0.0)
        self.per_pid = {}

    def add(self, pid, errs, covered):
        self.n += 1
        self.covered += covered
        mine = self.per_pid.setdefault(pid, dict.fromkeys(MODELS, 0.0))
        for k, e in errs.items():
            self.err[k] += e
            mine[k] += e

    def ratio(self, model, base):
        return self.err[model] / self.err[base] if self.err[base] else float("nan")

    def coverage(self):
        return self.covered / self.n if self.n else float("nan")


def score(snap, h, alphas):
    """{target: Score} of the forecasts `h` passes ahead in `snap`."""
    order = sorted(snap.passes)
    index = {t: i for i, t in enumerate(order)}
    # Passes run late in a loaded guest: a missed pass is a gap well beyond the usual one.
    gaps = sorted(b - a for a, b in zip(order, order[1:]))
    usual = gaps[len(gaps) // 2] if gaps else 1000
    missed = [i > 0 and order[i] - order[i - 1] > 1.6 * usual for i in range(len(order))]
    # missed_upto[i]: missed passes among the first i.
    missed_upto = [0]
    for m in missed:
        missed_upto.append(missed_upto[-1] + m)
    out = {tg: Score() for tg in TARGETS}
    for pid, by_t in snap.rows.items():
        ts = sorted(by_t)
        ew = {}
        for k, t in enumerate(ts):
            row = by_t[t]
            for tg in TARGETS:
                a, cur = alphas.get((tg, h), 1.0), row[f"{tg}_current"]
                ew[tg] = cur if tg not in ew else a * cur + (1 - a) * ew[tg]
            if f"cpu_forest_{h}" not in row:
                continue
            i = index[t]
            ahead = order[i + 1:i + 1 + h]
            if len(ahead) < h or missed_upto[i + 1 + h] - missed_upto[i + 1]:
                continue
            level = lambda tg, u: by_t[u][f"{tg}_current"] if u in by_t else 0  # noqa: E731
            truth = {
                "cpu": sum(level("cpu", u) for u in ahead) / h,
                "rss": max(level("rss", u) for u in ahead),
                "disk": 256 * math.log2(1 + sum(rate(level("disk", u)) if u in by_t else 0 for u in ahead) / h),
                "net": 256 * math.log2(1 + sum(rate(level("net", u)) if u in by_t else 0 for u in ahead) / h),
            }
            if max(row["cpu_current"], truth["cpu"]) < BUSY_PERMILLE:
                continue
            past = ts[max(0, k - 7):k + 1]
            for tg, y in truth.items():
                errs = {
                    "forest": abs(row[f"{tg}_forest_{h}"] - y),
                    "linear": abs(row[f"{tg}_linear_{h}"] - y),
                    "persistence": abs(row[f"{tg}_current"] - y),
                    "ewma": abs(ew[tg] - y),
                    "predict_linear": abs(trend([by_t[u][f"{tg}_current"] for u in past], h, tg == "rss") - y),
                }
                out[tg].add(pid, errs, row[f"{tg}_lo_{h}"] <= y <= row[f"{tg}_hi_{h}"])
    return out


def bootstrap(per_pid, model, base, rng, draws=2000):
    """95 % percentile interval of `model`'s MAE over `base`'s, resampling whole processes (a
    process's forecasts are not independent of each other) from `per_pid`: {pid: {model: error
    sum}}."""
    sums = list(per_pid.values())
    ratios = []
    for _ in range(draws):
        pick = [rng.choice(sums) for _ in sums]
        b = sum(p[base] for p in pick)
        if b > 0:
            ratios.append(sum(p[model] for p in pick) / b)
    ratios.sort()
    if not ratios:
        return float("nan"), float("nan")
    return ratios[round(0.025 * (len(ratios) - 1))], ratios[round(0.975 * (len(ratios) - 1))]
