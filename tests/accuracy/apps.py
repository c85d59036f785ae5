#!/usr/bin/env python3
"""Guest test: the default model's forecasts and intervals on real applications no mix runs.

Runs scripts/workloads/apps-mix (a database, a web server under a benchmark, version control,
compression, a compiler build; PP_APPS_SECONDS, default 420) on a fresh ext4 on the scratch disk
with the embedded default model at the default 1 s interval, snapshots `predictions.csv` every
pass, and scores every busy forecast (CPU >= 1 % now or ahead) of every target at 5 and 60
intervals against what happened (tests/lib/forecasts.py), beside persistence, the EWMA and
predict_linear. A model off its calibration data is where fixed split-conformal bands fail, and
where the per-process adaptive bands (rust/model/src/adapt.rs) must hold: each band's coverage
must be at least 70 % (the nominal 80 % less what a run of this length varies); 75-85 % is the
goal, reported as TODO where it is missed. Fails if the mix does not run, if too few forecasts
are busy, or if a published forecast is clearly behind the better of persistence and EWMA (the
95 % interval of its MAE ratio, processes resampled, starts above 1.10: a broken path). The linear model's forecasts are printed beside them: they are not published in
`predictions` and are reported, not checked.

`make accuracy` runs it after the held-out test, on the release kernel.
"""
import os, random, subprocess, sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from guest import Tap, load_module  # noqa: E402
from forecasts import TARGETS, bootstrap, ewma_alphas, run_mix, score  # noqa: E402

SECONDS = int(os.environ.get("PP_APPS_SECONDS", "420"))
# Seed 5's regimes (scripts/workloads/mixlib.py): quiet to 53 s, then busy and normal stretches.
SEED = os.environ.get("PP_APPS_SEED", "5")
HORIZONS = (5, 60)
GUARD = 1.10
COVERAGE_FLOOR = 0.70
COVERAGE_GOAL = (0.75, 0.85)
tap = Tap()
load_module(tap, interval_ms=1000)
repo = os.environ.get("PP_REPO", ".")
alphas = ewma_alphas(repo)

subprocess.run(["ip", "link", "set", "lo", "up"])
snap, out = run_mix(tap, os.path.join(repo, "scripts/workloads/apps-mix"), SECONDS, SEED, max(HORIZONS) + 3)
phases = [line for line in out.splitlines() if line[:1] == " "]
print(f"# {len(phases)} phases; programs seen: "
      + ", ".join(sorted({c for c in snap.comms.values() if c in
                          {"sqlite3", "busybox", "ab", "git", "xz", "zstd", "make", "cc1", "gcc"}})))

rng = random.Random(0)
for h in HORIZONS:
    scores = score(snap, h, alphas)
    n = scores["cpu"].n
    tap.check(f"enough busy {h} s forecasts to score ({n})", n >= (200 if h == 5 else 100))
    if not n:
        continue
    for tg in TARGETS:
        s = scores[tg]
        better = "persistence" if s.err["persistence"] <= s.err["ewma"] else "ewma"
        ratio = s.ratio("forest", better)
        lo, hi = bootstrap(s.per_pid, "forest", better, rng)
        cov = s.coverage()
        print(f"# {tg} at {h} s: forest/persistence {s.ratio('forest', 'persistence'):.2f}, forest/EWMA "
              f"{s.ratio('forest', 'ewma'):.2f} (forest/{better} 95 % {lo:.2f}-{hi:.2f}), forest/predict_linear "
              f"{s.ratio('forest', 'predict_linear'):.2f}, linear/persistence {s.ratio('linear', 'persistence'):.2f}, "
              f"80 % band coverage {100 * cov:.0f} % of {s.n}")
        # A broken path (wrong feature, unit or base) is worse than the baselines on every
        # resampling; a working one can be behind on a run whose few busy processes of a target
        # the model reads wrongly, with an interval reaching well below 1.
        if s.err[better]:
            tap.check(f"{tg} {h} s forest MAE not clearly behind the better baseline "
                      f"(95 % interval {lo:.2f}-{hi:.2f}, starts below {GUARD})", lo < GUARD)
        tap.check(f"{tg} {h} s band covers at least {100 * COVERAGE_FLOOR:.0f} % ({100 * cov:.0f} %)",
                  cov >= COVERAGE_FLOOR)
        why = ("a minute's band learns from one outcome a minute, and most processes here live a few"
               if cov < COVERAGE_GOAL[0] else
               "where most busy outcomes are exactly the forecast, any band holds them (docs/results.md)")
        tap.todo(f"{tg} {h} s band covers {100 * COVERAGE_GOAL[0]:.0f}-{100 * COVERAGE_GOAL[1]:.0f} % ({100 * cov:.0f} %)",
                 COVERAGE_GOAL[0] <= cov <= COVERAGE_GOAL[1], why)
tap.done()
