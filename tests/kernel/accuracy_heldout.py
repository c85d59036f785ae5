#!/usr/bin/env python3
"""Guest test: how the default model's CPU forecasts compare with the naive ones on workloads it never saw.

Runs scripts/workloads/heldout-mix (programs and patterns absent from the training mix) as the
recorder does (scratch files on a fresh ext4 on the scratch disk), with the embedded default model
at the default 1 s interval, snapshots `predictions.csv` every pass, and scores
every forecast of the mean CPU over the next 5 intervals against what happened, on rows where the
process was busy now or ahead (>= 1 % CPU). "forest" is the published forecast, the forest blended
per process with persistence and the EWMA base (`rust/model/src/blend.rs`). Fails if the mix does
not run, if too few forecasts are busy, if the forest's MAE exceeds 1.25x persistence's (a
broken model path) or 1.06x the better of persistence's and EWMA's (a blend that does not follow
the better one). The goal, the forest's MAE below persistence's and below the EWMA baseline's
(alpha from the model's manifest), is checked on runs of 1500 s or more (`make accuracy`); the
200 s run of `make test` is too short to show it reliably and reports it as TAP TODO. Reports
the ratios, 95 % bootstrap intervals of the forest's ratios (whole processes resampled), the
interval coverage and the best per-process choice among the four forecasters in hindsight. `make
accuracy` runs it on the release kernel, like the training data; `make test` on the debug kernel,
whose KASAN slowdown changes the workload being forecast, which the guards allow for but the
ratios it reports there do not. The run's CPU series is kept in its output directory
(cpu-series.csv).

The 60 s horizon is scored too, for CPU, RSS and disk: every forecast against the next 60 passes
(a process that exited counts as 0 after its last row), beside persistence, the EWMA (the
horizon's alpha from the manifest) and predict_linear over the last 8 levels. A forecast more
than 1.25x behind the better naive one fails (a broken path); the goals (CPU and disk at most
0.70x the better of persistence and EWMA, RSS at most 0.80x persistence, 80 % bands covering
75-85 %) are checked from STRICT_SECONDS on and reported as TODO below.
"""
import os, random, sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from guest import Tap, accuracy, load_module  # noqa: E402
from forecasts import bootstrap, ewma_alphas, run_mix, score  # noqa: E402

SECONDS = int(os.environ.get("PP_HELDOUT_SECONDS", "200"))
# Seed 3's regime schedule (scripts/workloads/mixlib.py) is quiet 0-67 s, busy 67-149 s, quiet
# 149-197 s, busy after: two busy stretches, so the score rests on hundreds of busy forecasts
# rather than on the few blips of a mostly quiet run.
SEED = os.environ.get("PP_HELDOUT_SEED", "3")
GUARD = 1.25
BLEND_GUARD = 1.06
STRICT_SECONDS = 1500  # from this run length on, "below both baselines" is checked, not TODO
H = 5
H_LONG = 60
# The 60 s goals (docs/results.md): the forest's MAE over the better of persistence and EWMA for
# CPU and disk, over persistence for RSS (the peak ahead), and the band's coverage.
LONG_GOALS = {"cpu": 0.70, "disk": 0.70, "rss": 0.80}
COVERAGE = (0.75, 0.85)
tap = Tap()
load_module(tap, interval_ms=1000)
repo = os.environ.get("PP_REPO", ".")
alphas = ewma_alphas(repo)
alpha = alphas[("cpu", H)]

live = {}  # the module's own scores, as of the last snapshot


def read_live():
    live.update(accuracy())


snap, _ = run_mix(tap, os.path.join(repo, "scripts/workloads/heldout-mix"), SECONDS, SEED, H_LONG + 3,
                  env={"PP_DROP_CACHES": "1"}, each_poll=read_live)
# pid -> {t_ms: (current, linear, forest, lo, hi)} for CPU at 5 intervals
cols = ("cpu_current", f"cpu_linear_{H}", f"cpu_forest_{H}", f"cpu_lo_{H}", f"cpu_hi_{H}")
series = {pid: {t: tuple(row[c] for c in cols) for t, row in by_t.items()} for pid, by_t in snap.rows.items()}
comms = snap.comms

errs = {"forest": 0.0, "linear": 0.0, "persistence": 0.0, "ewma": 0.0}
per_pid = {}  # pid -> the same error sums over that process's forecasts, for the intervals
n = covered = 0
scored = set()  # (t_ms, pid) of every scored forecast
for pid, by_t in series.items():
    ts = sorted(by_t)
    ewma = None
    for i, t in enumerate(ts):
        cur, lin, forest, lo, hi = by_t[t]
        ewma = cur if ewma is None else alpha * cur + (1 - alpha) * ewma
        future = ts[i + 1:i + 1 + H]
        # Consecutive passes only (1 s apart): a gap means the snapshot missed a pass.
        if len(future) < H or future[-1] - t > (H + 0.5) * 1000:
            continue
        truth = sum(by_t[u][0] for u in future) / H
        if max(cur, truth) < 10:
            continue
        n += 1
        row = {"forest": abs(forest - truth), "linear": abs(lin - truth), "persistence": abs(cur - truth),
               "ewma": abs(ewma - truth)}
        mine = per_pid.setdefault(pid, dict.fromkeys(errs, 0.0))
        for k, e in row.items():
            errs[k] += e
            mine[k] += e
        covered += lo <= truth <= hi
        scored.add((t, pid))
tap.check(f"enough busy forecasts to score ({n})", n >= 100)
if os.path.isdir("/run/out"):  # tests/vm's output directory, kept on the host: the series for offline study
    with open("/run/out/cpu-series.csv.tmp", "w") as out:
        out.write("t_ms,pid,comm,current,linear,forest,lo,hi,scored\n")
        out.writelines(f"{t},{pid},{comms[pid]},{','.join(map(str, v))},{int((t, pid) in scored)}\n"
                       for pid, by_t in series.items() for t, v in sorted(by_t.items()))
    os.rename("/run/out/cpu-series.csv.tmp", "/run/out/cpu-series.csv")
if n:
    mae = {k: v / n / 10 for k, v in errs.items()}  # % of one CPU
    for k in ("forest", "linear", "persistence", "ewma"):
        print(f"# {k:<12} MAE {mae[k]:6.2f} %CPU  ({mae[k] / mae['persistence']:.2f}x persistence, "
              f"{mae[k] / mae['ewma']:.2f}x EWMA)")
    print(f"# forest 80 % interval coverage: {100 * covered / n:.0f} % of {n} forecasts")
    # 95 % percentile-bootstrap intervals of the forest's ratios, resampling whole processes as
    # `trainer eval` does.
    rng = random.Random(0)
    for base in ("persistence", "ewma"):
        lo, hi = bootstrap(per_pid, "forest", base, rng)
        print(f"# forest / {base}: 95 % interval {lo:.2f}-{hi:.2f} ({len(per_pid)} processes resampled)")
    # How much any per-process choice among these four forecasters could gain: each process's best
    # one, picked knowing the outcome. A model that beats EWMA by more than this must use a signal
    # none of them has.
    best = sum(min(p.values()) for p in per_pid.values()) / n / 10
    print(f"# best of the four per process, chosen in hindsight: MAE {best:.2f} %CPU "
          f"({best / mae['persistence']:.2f}x persistence, {best / mae['ewma']:.2f}x EWMA)")
    # A guard that fails on a broken model path (wrong feature, base level or unit: those score far
    # worse than persistence), loose enough for run-to-run variation of the workload.
    ratio = mae["forest"] / mae["persistence"]
    tap.check(f"forest CPU MAE within {GUARD}x persistence ({ratio:.2f}x)", ratio < GUARD)
    # The blend's promise: never far behind whichever naive forecast suits this run. The forest
    # alone can fall well behind persistence on a run whose programs step between phases, and so
    # would a blend that stopped following the better baseline; a working blend stays within a
    # few percent of it (docs/results.md).
    best_base = min(mae["persistence"], mae["ewma"])
    tap.check(f"forest CPU MAE within {BLEND_GUARD}x the better baseline ({mae['forest'] / best_base:.3f}x)",
              mae["forest"] < BLEND_GUARD * best_base)
    # The goal: below both baselines. Between 200 s runs the ratios vary about as much as the
    # margin by which the published forecast beats the baselines, so a 200 s run (make test) can
    # miss one of the two by chance and reports them as TODO. From STRICT_SECONDS on (make
    # accuracy) a run varies far less than the margin, and they are checked (docs/results.md has
    # the runs behind both choices).
    for base in ("persistence", "ewma"):
        what = f"forest CPU MAE below {base} ({mae['forest']:.2f} < {mae[base]:.2f} %CPU)"
        if SECONDS >= STRICT_SECONDS:
            tap.check(what, mae["forest"] < mae[base])
        else:
            tap.todo(what, mae["forest"] < mae[base],
                     f"a {SECONDS} s run is too short to show it reliably; make accuracy runs {STRICT_SECONDS} s")


# The 60 s horizon: every target's published forecast against what the next 60 passes held, a
# process that exited counting as 0 for the passes after its last row (the targets' definition,
# rust/model/src/target.rs). Scored where the snapshots caught all 60 passes after the forecast.
long = score(snap, H_LONG, alphas)
long_n = long["cpu"].n
tap.check(f"enough busy 60 s forecasts to score ({long_n})", long_n >= 50)
strict = SECONDS >= STRICT_SECONDS
for tg, goal in LONG_GOALS.items():
    e = long[tg].err
    if not long_n or not e["persistence"]:
        continue
    better = e["persistence"] if tg == "rss" else min(e["persistence"], e["ewma"])
    ratio = e["forest"] / better
    cov = long[tg].coverage()
    print(f"# {tg} at {H_LONG} s: forest/persistence {e['forest'] / e['persistence']:.2f}, forest/EWMA "
          f"{e['forest'] / max(e['ewma'], 1e-9):.2f}, forest/predict_linear {e['forest'] / max(e['predict_linear'], 1e-9):.2f}, "
          f"80 % band coverage {100 * cov:.0f} % of {long_n}")
    # The guard: a working long-horizon path is never far behind the better naive forecast.
    tap.check(f"{tg} {H_LONG} s forest MAE within {GUARD}x the better baseline ({ratio:.2f}x)", ratio < GUARD)
    for what, ok in ((f"{tg} {H_LONG} s forest MAE at most {goal}x the better baseline ({ratio:.2f}x)", ratio <= goal),
                     (f"{tg} {H_LONG} s band covers {100 * COVERAGE[0]:.0f}-{100 * COVERAGE[1]:.0f} % ({100 * cov:.0f} %)",
                      COVERAGE[0] <= cov <= COVERAGE[1])):
        if strict:
            tap.check(what, ok)
        else:
            tap.todo(what, ok, f"a {SECONDS} s run is too short to show it reliably; make accuracy runs {STRICT_SECONDS} s")

# The module's live scores (`accuracy`: one check per process and horizon at a time) are a sample
# of the forecasts scored above from the snapshots (every forecast): their coverage and MAE ratio
# must agree within what sampling one forecast in H allows.
short = score(snap, H, alphas)["cpu"]
mine, theirs = live[("cpu", H)], short
print(f"# accuracy file, cpu at {H} s: {mine['scored']} checks, coverage {mine['coverage_permille'] / 10:.0f} %, "
      f"published/persistence {mine['published_per_persistence_permille'] / 1000:.2f}; the snapshots: "
      f"{theirs.n} forecasts, coverage {100 * theirs.coverage():.0f} %, {theirs.ratio('forest', 'persistence'):.2f}")
tap.check(f"accuracy scored the busy processes' checks ({mine['scored']} of about {theirs.n // H})",
          theirs.n // (3 * H) <= mine["scored"] <= theirs.n)
tap.check("accuracy's coverage agrees with the snapshots' within 10 points",
          abs(mine["coverage_permille"] / 1000 - theirs.coverage()) <= 0.10)
tap.check("accuracy's MAE ratio agrees with the snapshots' within 0.15",
          abs(mine["published_per_persistence_permille"] / 1000 - theirs.ratio("forest", "persistence")) <= 0.15)
tap.done()
