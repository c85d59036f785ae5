//! Ridge regression solved exactly: the normal equations `(XᵀX + αI) β = Xᵀy` on centred data,
//! factored by Cholesky. With standardised inputs (see `preprocess`) and tens of features the Gram
//! matrix is small and well conditioned, so Cholesky in f64 is both fast and accurate; α > 0 keeps it
//! positive definite when two columns survive collinearity removal nearly dependent.
//!
//! The intercept is not penalised (scikit-learn's `Ridge(fit_intercept=True)`).

/// A fitted linear model on whatever columns it was given: `y = intercept + Σ coef[j] · x[j]`.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Ridge {
    pub coef: Vec<f64>,
    pub intercept: f64,
    pub alpha: f64,
}

impl Ridge {
    pub fn predict(&self, x: &[f64]) -> f64 {
        self.intercept + self.coef.iter().zip(x).map(|(c, v)| c * v).sum::<f64>()
    }
}

/// Why a fit failed.
#[derive(Clone, Debug, PartialEq)]
pub enum FitError {
    NoRows,
    /// The regularised Gram matrix was not positive definite (only possible with α = 0).
    Singular,
}

impl std::fmt::Display for FitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FitError::NoRows => write!(f, "no training rows"),
            FitError::Singular => write!(f, "singular normal equations; use --alpha > 0"),
        }
    }
}

impl std::error::Error for FitError {}

/// Fits ridge regression on row-major `x` (`n × d`) and `y`.
///
/// ```
/// use trainer::linear::fit;
/// let x = [0.0, 1.0, 1.0, 0.0, 2.0, 1.0, 3.0, 5.0];   // 4 rows, 2 columns
/// let y: Vec<f64> = x.chunks(2).map(|r| 1.0 + 2.0 * r[0] - 3.0 * r[1]).collect();
/// let m = fit(&x, 2, &y, 0.0).unwrap();
/// assert!((m.coef[0] - 2.0).abs() < 1e-9 && (m.coef[1] + 3.0).abs() < 1e-9);
/// assert!((m.intercept - 1.0).abs() < 1e-9);
/// ```
pub fn fit(x: &[f64], d: usize, y: &[f64], alpha: f64) -> Result<Ridge, FitError> {
    let n = y.len();
    if n == 0 {
        return Err(FitError::NoRows);
    }
    assert_eq!(x.len(), n * d, "matrix shape");
    let mut mean = vec![0.0; d];
    let mut y_mean = 0.0;
    for (row, &t) in x.chunks_exact(d.max(1)).zip(y) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v;
        }
        y_mean += t;
    }
    for m in &mut mean {
        *m /= n as f64;
    }
    y_mean /= n as f64;
    if d == 0 {
        return Ok(Ridge {
            coef: vec![],
            intercept: y_mean,
            alpha,
        });
    }

    // Gram matrix of centred data (lower triangle) and Xᵀy, accumulated in blocks of rows so the
    // inner loop is a contiguous axpy.
    let mut g = vec![0.0; d * d];
    let mut b = vec![0.0; d];
    let mut c = vec![0.0; d];
    for (row, &t) in x.chunks_exact(d).zip(y) {
        for j in 0..d {
            c[j] = row[j] - mean[j];
        }
        let ty = t - y_mean;
        for j in 0..d {
            let cj = c[j];
            b[j] += cj * ty;
            let gj = &mut g[j * d..j * d + j + 1];
            for (gk, ck) in gj.iter_mut().zip(&c[..=j]) {
                *gk += cj * ck;
            }
        }
    }
    for j in 0..d {
        g[j * d + j] += alpha;
    }
    let l = cholesky(&mut g, d).ok_or(FitError::Singular)?;
    let coef = cholesky_solve(l, d, &b);
    let intercept = y_mean - coef.iter().zip(&mean).map(|(c, m)| c * m).sum::<f64>();
    Ok(Ridge {
        coef,
        intercept,
        alpha,
    })
}

/// In-place Cholesky of the lower triangle of `a` (`d × d`, row-major): `a = L Lᵀ`.
fn cholesky(a: &mut [f64], d: usize) -> Option<&[f64]> {
    for j in 0..d {
        let mut s = a[j * d + j];
        for k in 0..j {
            s -= a[j * d + k] * a[j * d + k];
        }
        // NaN fails this test too.
        if s.partial_cmp(&(1e-12 * (1.0 + a[j * d + j].abs()))) != Some(std::cmp::Ordering::Greater)
        {
            return None;
        }
        let ljj = s.sqrt();
        a[j * d + j] = ljj;
        for i in j + 1..d {
            let mut s = a[i * d + j];
            for k in 0..j {
                s -= a[i * d + k] * a[j * d + k];
            }
            a[i * d + j] = s / ljj;
        }
    }
    Some(a)
}

fn cholesky_solve(l: &[f64], d: usize, b: &[f64]) -> Vec<f64> {
    let mut z = b.to_vec();
    for i in 0..d {
        for k in 0..i {
            z[i] -= l[i * d + k] * z[k];
        }
        z[i] /= l[i * d + i];
    }
    for i in (0..d).rev() {
        for k in i + 1..d {
            z[i] -= l[k * d + i] * z[k];
        }
        z[i] /= l[i * d + i];
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn ridge_recovers_known_coefficients(
            coef in proptest::collection::vec(-10.0f64..10.0, 1..6),
            intercept in -100.0f64..100.0,
            seed in any::<u64>(),
        ) {
            let d = coef.len();
            let mut rng = crate::forest::Rng::new(seed);
            let n = 50 + 10 * d;
            let x: Vec<f64> = (0..n * d).map(|_| (rng.next_u64() % 2001) as f64 / 100.0 - 10.0).collect();
            let y: Vec<f64> = x.chunks(d).map(|r| intercept + r.iter().zip(&coef).map(|(a, b)| a * b).sum::<f64>()).collect();
            let m = fit(&x, d, &y, 1e-9).unwrap();
            for (a, b) in m.coef.iter().zip(&coef) {
                prop_assert!((a - b).abs() < 1e-5, "{a} vs {b}");
            }
            prop_assert!((m.intercept - intercept).abs() < 1e-4);
        }
    }

    #[test]
    fn duplicated_column_is_singular_without_penalty_and_split_with_it() {
        let x: Vec<f64> = (0..20).flat_map(|i| [i as f64, i as f64]).collect();
        let y: Vec<f64> = (0..20).map(|i| 2.0 * i as f64).collect();
        assert_eq!(fit(&x, 2, &y, 0.0), Err(FitError::Singular));
        let m = fit(&x, 2, &y, 1e-6).unwrap();
        assert!((m.coef[0] - 1.0).abs() < 1e-3 && (m.coef[1] - 1.0).abs() < 1e-3);
    }

    #[test]
    fn penalty_shrinks_coefficients_towards_zero() {
        let x: Vec<f64> = (0..50).map(|i| i as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| 3.0 * v).collect();
        let a = fit(&x, 1, &y, 0.0).unwrap();
        let b = fit(&x, 1, &y, 1e4).unwrap();
        assert!(b.coef[0].abs() < a.coef[0].abs());
    }
}
