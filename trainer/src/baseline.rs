//! Naive forecasts every model must beat, as predicted CHANGES like the models' outputs:
//! persistence (no change), the training mean change, and an EWMA of the target's levels over the
//! window with the smoothing factor chosen on training rows.
//!
//! The EWMA is the model crate's [`BaseAlpha::level`], the same integer computation the kernel
//! runs for a model's base level: the baseline the report shows is exactly what a model falls back
//! to when its learned correction is zero.

use procperf_model::schema::Target;
use procperf_model::target::BaseAlpha;

use crate::dataset::Dataset;

/// Smoothing factors tried when fitting the EWMA baseline, permille; 1000 is persistence.
pub const EWMA_ALPHAS: [u16; 12] = [50, 100, 150, 200, 300, 400, 500, 600, 700, 800, 900, 1000];

/// Predicted change of the EWMA of each row's window levels: `ewma − level`.
pub fn ewma_deltas(ds: &Dataset, target: Target, alpha: BaseAlpha) -> Vec<f64> {
    ds.base_deltas(target, alpha)
}

/// The smoothing factor with the lowest MAE on `ds` (training rows).
pub fn fit_ewma_alpha(ds: &Dataset, target: Target) -> BaseAlpha {
    let y = ds.y(target);
    let mut best = (f64::INFINITY, BaseAlpha::PERSISTENCE);
    for a in EWMA_ALPHAS.iter().filter_map(|&a| BaseAlpha::new(a)) {
        let p = ewma_deltas(ds, target, a);
        let mae = p.iter().zip(&y).map(|(p, t)| (p - t).abs()).sum::<f64>() / y.len().max(1) as f64;
        if mae < best.0 {
            best = (mae, a);
        }
    }
    best.1
}

/// The trend forecasts Prometheus users already have, fitted on each row's window of levels
/// (oldest first, one interval apart) and read `H` intervals ahead as the target defines it: the
/// line's mean over the next `H` intervals for rates, its highest point there for RSS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trend {
    /// Least-squares line over the window: PromQL's `predict_linear`.
    Linear,
    /// Holt's double exponential smoothing (level 0.4, trend 0.2): PromQL's `holt_winters`
    /// (`double_exponential_smoothing` since Prometheus 3).
    Holt,
}

impl Trend {
    pub const ALL: [Trend; 2] = [Trend::Linear, Trend::Holt];

    pub fn name(self) -> &'static str {
        match self {
            Trend::Linear => "predict_linear",
            Trend::Holt => "holt",
        }
    }

    /// (level at the newest sample, slope per interval) of a window of levels.
    fn fit(self, past: &[i64]) -> (f64, f64) {
        let n = past.len() as f64;
        match self {
            Trend::Linear => {
                let xm = (n - 1.0) / 2.0;
                let ym = past.iter().sum::<i64>() as f64 / n;
                let (mut sxy, mut sxx) = (0.0, 0.0);
                for (i, &y) in past.iter().enumerate() {
                    let dx = i as f64 - xm;
                    sxy += dx * (y as f64 - ym);
                    sxx += dx * dx;
                }
                let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
                (ym + slope * (n - 1.0 - xm), slope)
            }
            Trend::Holt => {
                let (a, b) = (0.4, 0.2);
                let mut level = past[0] as f64;
                let mut trend = past.get(1).map_or(0.0, |&y| y as f64 - level);
                for &y in &past[1..] {
                    let prev = level;
                    level = a * y as f64 + (1.0 - a) * (level + trend);
                    trend = b * (level - prev) + (1.0 - b) * trend;
                }
                (level, trend)
            }
        }
    }
}

/// Predicted changes of a trend forecast on every row of `ds`, at its horizon.
pub fn trend_deltas(ds: &Dataset, target: Target, trend: Trend) -> Vec<f64> {
    let h = procperf_model::schema::HORIZONS[ds.horizon] as f64;
    let t = target.index();
    (0..ds.len())
        .map(|i| {
            let (level, slope) = trend.fit(&ds.past[i][t]);
            let ahead = match target {
                // The highest point of a line over steps 1..=H is at one of its ends.
                Target::Rss => (level + slope).max(level + slope * h),
                // The mean of the line over steps 1..=H is its value at the midpoint.
                _ => level + slope * (h + 1.0) / 2.0,
            };
            ahead.max(0.0) - ds.levels[i][t] as f64
        })
        .collect()
}

/// The factor as the fraction people read (0.4 for 400 ‰).
pub fn alpha_f64(a: BaseAlpha) -> f64 {
    f64::from(a.permille()) / 1000.0
}

/// A fraction from a manifest back to a factor; `None` outside (0, 1].
pub fn alpha_from_f64(a: f64) -> Option<BaseAlpha> {
    if !(a > 0.0 && a <= 1.0) {
        return None;
    }
    BaseAlpha::new((a * 1000.0).round() as u16)
}

#[cfg(test)]
mod tests {
    #[test]
    fn trends_extrapolate_a_straight_line_exactly() {
        // Levels 0, 10, ..., 70: both trends continue the line at 10 per interval.
        let past: Vec<i64> = (0..8).map(|i| 10 * i).collect();
        let (level, slope) = Trend::Linear.fit(&past);
        assert!((level - 70.0).abs() < 1e-9 && (slope - 10.0).abs() < 1e-9);
        let (level, slope) = Trend::Holt.fit(&past);
        assert!((level - 70.0).abs() < 1e-9 && (slope - 10.0).abs() < 1e-9);
        // A step: the line leans towards it, Holt's level follows it part way.
        let step = [0, 0, 0, 0, 0, 0, 0, 100];
        let (level, slope) = Trend::Holt.fit(&step);
        assert!((level - 40.0).abs() < 1e-9 && slope > 0.0);
    }

    use super::*;
    use crate::dataset::build;
    use procperf_model::history::HISTORY_LEN;

    #[test]
    fn ewma_with_alpha_one_is_persistence() {
        let ds = build(&crate::dataset::tests::synthetic(2, 1, 40), true, 0);
        assert!(ewma_deltas(&ds, Target::Cpu, BaseAlpha::PERSISTENCE)
            .iter()
            .all(|&d| d == 0.0));
    }

    #[test]
    fn ewma_is_the_window_ewma_of_each_row() {
        let ds = build(&crate::dataset::tests::synthetic(2, 1, 40), true, 0);
        let a = BaseAlpha::new(500).unwrap();
        let d = ewma_deltas(&ds, Target::Cpu, a);
        for (i, d) in d.iter().enumerate() {
            let past = &ds.past[i][Target::Cpu.index()];
            assert_eq!(past[HISTORY_LEN - 1], ds.level(i, Target::Cpu));
            assert_eq!(*d, (a.level(past) - ds.level(i, Target::Cpu)) as f64);
        }
    }

    #[test]
    fn alpha_round_trips_through_the_manifest_fraction() {
        for a in EWMA_ALPHAS {
            let b = BaseAlpha::new(a).unwrap();
            assert_eq!(alpha_from_f64(alpha_f64(b)), Some(b));
        }
        assert_eq!(alpha_from_f64(0.0), None);
        assert_eq!(alpha_from_f64(1.5), None);
    }
}
