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
    use super::*;
    use crate::dataset::build;
    use procperf_model::history::HISTORY_LEN;

    #[test]
    fn ewma_with_alpha_one_is_persistence() {
        let ds = build(&crate::dataset::tests::synthetic(2, 1, 40), true);
        assert!(ewma_deltas(&ds, Target::Cpu, BaseAlpha::PERSISTENCE)
            .iter()
            .all(|&d| d == 0.0));
    }

    #[test]
    fn ewma_is_the_window_ewma_of_each_row() {
        let ds = build(&crate::dataset::tests::synthetic(2, 1, 40), true);
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
