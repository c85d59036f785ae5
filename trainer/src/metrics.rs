//! Regression metrics, in the target's own units: MAE, RMSE and R².
//!
//! Models learn the CHANGE from the current level, but metrics are computed on LEVELS
//! (`current + change`): MAE and RMSE are the same either way, while R² on levels is what makes
//! persistence ("next = current") a meaningful, strong baseline instead of a trivial 0.

/// Metrics of one model on one set of rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Scores {
    pub n: usize,
    pub mae: f64,
    pub rmse: f64,
    pub r2: f64,
}

/// Scores predictions against truths; `None` for no rows.
///
/// ```
/// use trainer::metrics::score;
/// let s = score(&[1.0, 2.0, 3.0], &[1.0, 2.0, 4.0]).unwrap();
/// assert!((s.mae - 1.0 / 3.0).abs() < 1e-12);
/// assert!((s.r2 - 0.5).abs() < 1e-12);
/// ```
pub fn score(truth: &[f64], pred: &[f64]) -> Option<Scores> {
    assert_eq!(truth.len(), pred.len(), "one prediction per truth");
    let n = truth.len();
    if n == 0 {
        return None;
    }
    let mean = truth.iter().sum::<f64>() / n as f64;
    let (mut abs, mut sq, mut tot) = (0.0, 0.0, 0.0);
    for (t, p) in truth.iter().zip(pred) {
        abs += (t - p).abs();
        sq += (t - p) * (t - p);
        tot += (t - mean) * (t - mean);
    }
    let r2 = if tot > 0.0 {
        1.0 - sq / tot
    } else if sq == 0.0 {
        1.0
    } else {
        0.0
    };
    Some(Scores {
        n,
        mae: abs / n as f64,
        rmse: (sq / n as f64).sqrt(),
        r2,
    })
}

/// Scores only the rows where `mask` is true.
pub fn score_masked(truth: &[f64], pred: &[f64], mask: &[bool]) -> Option<Scores> {
    let (t, p): (Vec<f64>, Vec<f64>) = truth
        .iter()
        .zip(pred)
        .zip(mask)
        .filter(|(_, &m)| m)
        .map(|((t, p), _)| (*t, *p))
        .unzip();
    score(&t, &p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_prediction_has_zero_error_and_r2_one() {
        let s = score(&[3.0, 5.0], &[3.0, 5.0]).unwrap();
        assert_eq!((s.mae, s.rmse, s.r2), (0.0, 0.0, 1.0));
    }

    #[test]
    fn predicting_the_mean_has_r2_zero() {
        let s = score(&[1.0, 3.0], &[2.0, 2.0]).unwrap();
        assert_eq!(s.r2, 0.0);
    }

    #[test]
    fn no_rows_gives_no_scores() {
        assert_eq!(score(&[], &[]), None);
        assert_eq!(score_masked(&[1.0], &[1.0], &[false]), None);
    }
}
