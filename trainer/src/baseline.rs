//! Naive forecasts every model must beat, as predicted CHANGES like the models' outputs:
//! persistence (no change), the training mean change, and an EWMA of the target's past levels with
//! the smoothing factor chosen on training rows.

use procperf_model::schema::Target;

use crate::dataset::Dataset;

/// Smoothing factors tried when fitting the EWMA baseline; 1.0 is persistence.
pub const EWMA_ALPHAS: [f64; 12] = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// Predicted change of an EWMA of each run's levels up to and including the row:
/// `ewma_t = α·level_t + (1 − α)·ewma_{t−1}`, restarting at each run; prediction `ewma_t − level_t`.
pub fn ewma_deltas(ds: &Dataset, target: Target, alpha: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(ds.len());
    let mut state = 0.0;
    for i in 0..ds.len() {
        let level = ds.level(i, target) as f64;
        let new_run = i == 0 || ds.meta[i].run != ds.meta[i - 1].run;
        state = if new_run {
            level
        } else {
            alpha * level + (1.0 - alpha) * state
        };
        out.push(state - level);
    }
    out
}

/// The smoothing factor with the lowest MAE on `ds` (training rows).
pub fn fit_ewma_alpha(ds: &Dataset, target: Target) -> f64 {
    let y = ds.y(target);
    let mut best = (f64::INFINITY, 1.0);
    for &a in &EWMA_ALPHAS {
        let p = ewma_deltas(ds, target, a);
        let mae = p.iter().zip(&y).map(|(p, t)| (p - t).abs()).sum::<f64>() / y.len().max(1) as f64;
        if mae < best.0 {
            best = (mae, a);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{build, RowMeta};

    #[test]
    fn ewma_with_alpha_one_is_persistence() {
        let ds = build(&crate::dataset::tests::synthetic(2, 1, 40), true);
        assert!(ewma_deltas(&ds, Target::Cpu, 1.0).iter().all(|&d| d == 0.0));
    }

    #[test]
    fn ewma_restarts_at_each_run() {
        let mut ds = Dataset::default();
        for (run, level) in [(0, 100), (0, 0), (1, 50)] {
            ds.levels.push([level, 0, 0, 0]);
            ds.targets.push([0; 4]);
            ds.meta.push(RowMeta {
                t_ms: 0,
                pid: 0,
                comm: 0,
                group: 0,
                process: 0,
                run,
            });
        }
        let d = ewma_deltas(&ds, Target::Cpu, 0.5);
        assert_eq!(d, vec![0.0, 50.0, 0.0]);
    }
}
