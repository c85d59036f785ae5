//! Split-conformal prediction intervals: residual quantiles measured on a calibration part of the
//! training data that the model did not see.
//!
//! For a nominal 80 % band the offsets are the 10 % and 90 % quantiles of `truth - prediction` on
//! calibration rows, with the finite-sample correction of split conformal: the lower offset is the
//! ⌊(n+1)·0.1⌋-th smallest residual and the upper the ⌈(n+1)·0.9⌉-th. The band `[ŷ + lo, ŷ + hi]`
//! then covers a new exchangeable row with probability at least 80 % (each tail at most 10 %).
//! Exchangeability is an assumption: on a workload mix unlike the calibration one, measured test
//! coverage is the honest number, and the report prints it.

/// Offsets added to a point prediction.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
    /// Nominal coverage, e.g. 0.8.
    pub nominal: f64,
    /// Calibration rows used.
    pub n: usize,
}

/// Calibrates a two-sided band of nominal coverage `1 - alpha` from calibration residuals.
///
/// ```
/// use trainer::conformal::calibrate;
/// let residuals: Vec<f64> = (0..99).map(|i| i as f64 - 49.0).collect();
/// let iv = calibrate(&residuals, 0.2).unwrap();
/// assert_eq!((iv.lo, iv.hi), (-40.0, 40.0)); // the 10th smallest and the 90th
/// ```
pub fn calibrate(residuals: &[f64], alpha: f64) -> Option<Interval> {
    let n = residuals.len();
    if n == 0 {
        return None;
    }
    let mut r = residuals.to_vec();
    r.sort_by(f64::total_cmp);
    let lo_rank = (((n + 1) as f64) * alpha / 2.0).floor() as usize; // 1-based
    let hi_rank = (((n + 1) as f64) * (1.0 - alpha / 2.0)).ceil() as usize;
    let lo = if lo_rank == 0 {
        r[0]
    } else {
        r[lo_rank.min(n) - 1]
    };
    let hi = r[hi_rank.clamp(1, n) - 1];
    Some(Interval {
        lo,
        hi,
        nominal: 1.0 - alpha,
        n,
    })
}

impl Interval {
    /// Whether `truth` lies in the band around `pred`.
    pub fn covers(&self, pred: f64, truth: f64) -> bool {
        truth >= pred + self.lo && truth <= pred + self.hi
    }
}

/// Fraction of rows whose truth lies in the band.
pub fn coverage(iv: &Interval, pred: &[f64], truth: &[f64]) -> f64 {
    if pred.is_empty() {
        return f64::NAN;
    }
    pred.iter()
        .zip(truth)
        .filter(|(p, t)| iv.covers(**p, **t))
        .count() as f64
        / pred.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn calibration_band_covers_at_least_nominal_share_of_calibration_rows(
            res in proptest::collection::vec(-1e3f64..1e3, 10..500),
        ) {
            let iv = calibrate(&res, 0.2).unwrap();
            let zeros = vec![0.0; res.len()];
            prop_assert!(coverage(&iv, &zeros, &res) >= 0.8 - 1.0 / res.len() as f64 - 1e-12);
            prop_assert!(iv.lo <= iv.hi);
        }
    }
}
