//! Preprocessing for the linear model, as a list of small steps with scikit-learn's `fit` /
//! `transform`, each reporting what it did. The forest never sees these: its thresholds must be on the
//! kernel's raw integer features.
//!
//! Order: [`Clip`] (winsorise to training quantiles) → [`SignedLog1p`] (gaussianise heavy-tailed
//! columns, opt-in) → [`DropCollinear`] → [`Standardize`]. Everything is fitted on training rows only.
//!
//! The kernel evaluates `w · x + b` on raw integer features, so the exported model must be a linear
//! function of them. [`Standardize`] and [`DropCollinear`] fold exactly into `w` and `b`
//! ([`Pipeline::fold`]). [`Clip`] is not linear: its bounds travel separately and are applied by the
//! evaluator when the blob format carries them, otherwise the export drops them and the trainer reports
//! the effect. [`SignedLog1p`] cannot fold at all, so it is off for exported models and available only
//! as a float-only diagnostic (`--gaussianise`).

/// A dense row-major matrix of floats with column names.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub data: Vec<f64>,
    pub names: Vec<String>,
}

impl Frame {
    pub fn n_cols(&self) -> usize {
        self.names.len()
    }
    pub fn n_rows(&self) -> usize {
        if self.names.is_empty() {
            0
        } else {
            self.data.len() / self.names.len()
        }
    }
    pub fn column(&self, j: usize) -> impl Iterator<Item = f64> + '_ {
        self.data.iter().skip(j).step_by(self.n_cols()).copied()
    }
    /// A copy with `f(column, value)` applied to every value.
    pub fn map_values(&self, f: impl Fn(usize, f64) -> f64) -> Frame {
        let d = self.n_cols();
        let mut out = self.clone();
        for row in out.data.chunks_exact_mut(d.max(1)) {
            for (j, v) in row.iter_mut().enumerate() {
                *v = f(j, *v);
            }
        }
        out
    }
    /// Keeps only the listed columns, in that order.
    pub fn select(&self, keep: &[usize]) -> Frame {
        let d = self.n_cols();
        let mut data = Vec::with_capacity(self.n_rows() * keep.len());
        for row in self.data.chunks_exact(d.max(1)) {
            data.extend(keep.iter().map(|&j| row[j]));
        }
        Frame {
            data,
            names: keep.iter().map(|&j| self.names[j].clone()).collect(),
        }
    }
}

fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos - pos.floor());
    let hi = sorted[(i + 1).min(sorted.len() - 1)];
    sorted[i] + frac * (hi - sorted[i])
}

fn mean_std(v: impl Iterator<Item = f64>) -> (f64, f64, usize) {
    let (mut n, mut m, mut s) = (0usize, 0.0, 0.0);
    for x in v {
        n += 1;
        let d = x - m;
        m += d / n as f64;
        s += d * (x - m);
    }
    (m, if n > 1 { (s / n as f64).sqrt() } else { 0.0 }, n)
}

/// Winsorises each column to its training quantiles `[q, 1 - q]`: noise removal that keeps a few
/// extreme rows from dominating the least-squares fit.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Clip {
    pub quantile: f64,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
    clipped_fraction: Vec<f64>,
}

impl Clip {
    pub fn new(quantile: f64) -> Self {
        Self {
            quantile,
            lo: vec![],
            hi: vec![],
            clipped_fraction: vec![],
        }
    }
    pub fn fit(&mut self, x: &Frame) {
        self.lo.clear();
        self.hi.clear();
        self.clipped_fraction.clear();
        for j in 0..x.n_cols() {
            let mut col: Vec<f64> = x.column(j).collect();
            col.sort_by(f64::total_cmp);
            let (lo, hi) = (
                quantile_sorted(&col, self.quantile),
                quantile_sorted(&col, 1.0 - self.quantile),
            );
            let out = col.iter().filter(|&&v| v < lo || v > hi).count();
            self.lo.push(lo);
            self.hi.push(hi);
            self.clipped_fraction
                .push(out as f64 / col.len().max(1) as f64);
        }
    }
    pub fn transform(&self, x: &Frame) -> Frame {
        x.map_values(|j, v| v.clamp(self.lo[j], self.hi[j]))
    }
    pub fn report(&self, names: &[String]) -> String {
        let mut touched: Vec<(f64, &str)> = self
            .clipped_fraction
            .iter()
            .zip(names)
            .filter(|(f, _)| **f > 0.0)
            .map(|(f, n)| (*f, n.as_str()))
            .collect();
        touched.sort_by(|a, b| b.0.total_cmp(&a.0));
        let top: Vec<String> = touched
            .iter()
            .take(5)
            .map(|(f, n)| format!("{n} {:.2}%", f * 100.0))
            .collect();
        format!(
            "clip: winsorised {} of {} columns to train quantiles [{}, {}]{}",
            touched.len(),
            names.len(),
            self.quantile,
            1.0 - self.quantile,
            if top.is_empty() {
                String::new()
            } else {
                format!(" (most rows clipped: {})", top.join(", "))
            }
        )
    }
}

/// Sample skewness of a column.
pub fn skewness(v: &[f64]) -> f64 {
    let (m, s, n) = mean_std(v.iter().copied());
    if n < 3 || s == 0.0 {
        return 0.0;
    }
    v.iter().map(|x| ((x - m) / s).powi(3)).sum::<f64>() / n as f64
}

/// `sign(x) · ln(1 + |x|)` on the columns whose training skewness exceeds a threshold in magnitude.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SignedLog1p {
    pub max_abs_skew: f64,
    pub columns: Vec<usize>,
}

impl SignedLog1p {
    pub fn new(max_abs_skew: f64) -> Self {
        Self {
            max_abs_skew,
            columns: vec![],
        }
    }
    pub fn fit(&mut self, x: &Frame) {
        self.columns = (0..x.n_cols())
            .filter(|&j| {
                let col: Vec<f64> = x.column(j).collect();
                skewness(&col).abs() > self.max_abs_skew
            })
            .collect();
    }
    pub fn transform(&self, x: &Frame) -> Frame {
        let d = x.n_cols();
        let mut out = x.clone();
        for row in out.data.chunks_exact_mut(d.max(1)) {
            for &j in &self.columns {
                row[j] = row[j].signum() * row[j].abs().ln_1p();
            }
        }
        out
    }
    pub fn report(&self, names: &[String]) -> String {
        let cols: Vec<&str> = self.columns.iter().map(|&j| names[j].as_str()).collect();
        format!(
            "gaussianise: signed log1p on {} columns with |skew| > {} ({})",
            cols.len(),
            self.max_abs_skew,
            cols.join(", ")
        )
    }
}

/// Drops constant columns and, of each pair with |Pearson r| above the threshold, the later one.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DropCollinear {
    pub max_abs_r: f64,
    /// Kept input columns, ascending.
    pub keep: Vec<usize>,
    dropped: Vec<(usize, Option<(usize, f64)>)>,
}

impl DropCollinear {
    pub fn new(max_abs_r: f64) -> Self {
        Self {
            max_abs_r,
            keep: vec![],
            dropped: vec![],
        }
    }
    pub fn fit(&mut self, x: &Frame) {
        let d = x.n_cols();
        let n = x.n_rows();
        let stats: Vec<(f64, f64)> = (0..d)
            .map(|j| {
                let (m, s, _) = mean_std(x.column(j));
                (m, s)
            })
            .collect();
        // Standardised columns, column-major, for the correlation products.
        let z: Vec<Vec<f64>> = (0..d)
            .map(|j| {
                let (m, s) = stats[j];
                x.column(j)
                    .map(|v| if s > 0.0 { (v - m) / s } else { 0.0 })
                    .collect()
            })
            .collect();
        self.keep.clear();
        self.dropped.clear();
        for j in 0..d {
            if stats[j].1 <= 1e-12 * stats[j].0.abs().max(1.0) {
                self.dropped.push((j, None));
                continue;
            }
            let hit = self.keep.iter().find_map(|&k| {
                let r = z[j].iter().zip(&z[k]).map(|(a, b)| a * b).sum::<f64>() / n.max(1) as f64;
                (r.abs() > self.max_abs_r).then_some((k, r))
            });
            match hit {
                Some(pair) => self.dropped.push((j, Some(pair))),
                None => self.keep.push(j),
            }
        }
    }
    pub fn transform(&self, x: &Frame) -> Frame {
        x.select(&self.keep)
    }
    pub fn report(&self, names: &[String]) -> String {
        let constant: Vec<&str> = self
            .dropped
            .iter()
            .filter(|(_, p)| p.is_none())
            .map(|(j, _)| names[*j].as_str())
            .collect();
        let pairs: Vec<String> = self
            .dropped
            .iter()
            .filter_map(|(j, p)| {
                p.map(|(k, r)| format!("{} (r={r:.3} with {})", names[*j], names[k]))
            })
            .collect();
        format!(
            "collinearity: kept {} of {} columns; dropped {} constant ({}) and {} with |r| > {} ({})",
            self.keep.len(),
            names.len(),
            constant.len(),
            constant.join(", "),
            pairs.len(),
            self.max_abs_r,
            pairs.join(", ")
        )
    }
}

/// Centres each column on its training mean and divides by its training standard deviation.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Standardize {
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
}

impl Standardize {
    pub fn fit(x: &Frame) -> Self {
        let (mut mean, mut scale) = (vec![], vec![]);
        for j in 0..x.n_cols() {
            let (m, s, _) = mean_std(x.column(j));
            mean.push(m);
            scale.push(if s > 0.0 { s } else { 1.0 });
        }
        Self { mean, scale }
    }
    pub fn transform(&self, x: &Frame) -> Frame {
        x.map_values(|j, v| (v - self.mean[j]) / self.scale[j])
    }
    pub fn report(&self) -> String {
        format!(
            "rescale: standardised {} columns to mean 0, std 1",
            self.mean.len()
        )
    }
}

/// Options of the linear model's preprocessing.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PreprocessParams {
    /// Winsorising quantile (0 disables clipping).
    pub clip_quantile: f64,
    /// Correlation above which one of a pair is dropped.
    pub max_abs_r: f64,
    /// Signed log1p on columns with |skew| above this; `None` disables it (the default: not foldable).
    pub gaussianise_skew: Option<f64>,
}

impl Default for PreprocessParams {
    fn default() -> Self {
        Self {
            clip_quantile: 0.001,
            max_abs_r: 0.95,
            gaussianise_skew: None,
        }
    }
}

/// The fitted steps in order.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Pipeline {
    pub input_names: Vec<String>,
    pub clip: Option<Clip>,
    pub log: Option<SignedLog1p>,
    pub collinear: DropCollinear,
    pub scale: Standardize,
    /// One line per step saying what it did.
    pub report: Vec<String>,
}

impl Pipeline {
    /// Fits every step on the training frame and returns the pipeline and the transformed frame.
    pub fn fit_transform(x: &Frame, p: &PreprocessParams) -> (Self, Frame) {
        let mut report = vec![];
        let names = x.names.clone();
        let mut cur = x.clone();
        let clip = (p.clip_quantile > 0.0).then(|| {
            let mut c = Clip::new(p.clip_quantile);
            c.fit(&cur);
            report.push(c.report(&names));
            cur = c.transform(&cur);
            c
        });
        let log = p.gaussianise_skew.map(|s| {
            let mut l = SignedLog1p::new(s);
            l.fit(&cur);
            report.push(l.report(&names));
            cur = l.transform(&cur);
            l
        });
        let mut collinear = DropCollinear::new(p.max_abs_r);
        collinear.fit(&cur);
        report.push(collinear.report(&names));
        cur = collinear.transform(&cur);
        let scale = Standardize::fit(&cur);
        report.push(scale.report());
        cur = scale.transform(&cur);
        (
            Self {
                input_names: names,
                clip,
                log,
                collinear,
                scale,
                report,
            },
            cur,
        )
    }

    /// Applies the fitted steps (with or without the clip bounds).
    pub fn transform(&self, x: &Frame, with_clip: bool) -> Frame {
        let mut cur = x.clone();
        if let (Some(c), true) = (&self.clip, with_clip) {
            cur = c.transform(&cur);
        }
        if let Some(l) = &self.log {
            cur = l.transform(&cur);
        }
        self.scale.transform(&self.collinear.transform(&cur))
    }

    /// Whether [`Pipeline::fold`] is exact (no signed log1p).
    pub fn is_foldable(&self) -> bool {
        self.log.is_none()
    }

    /// Folds standardisation and column selection into a linear model on the raw input columns:
    /// `(weights per input column, bias)`. Exact when [`Pipeline::is_foldable`], except for clipping,
    /// whose bounds ([`Pipeline::clip_bounds`]) must be applied to the raw features first.
    pub fn fold(&self, coef: &[f64], intercept: f64) -> (Vec<f64>, f64) {
        let mut w = vec![0.0; self.input_names.len()];
        let mut b = intercept;
        for (k, &j) in self.collinear.keep.iter().enumerate() {
            let wk = coef[k] / self.scale.scale[k];
            w[j] = wk;
            b -= wk * self.scale.mean[k];
        }
        (w, b)
    }

    /// Clip bounds per raw input column, if clipping is on.
    pub fn clip_bounds(&self) -> Option<(&[f64], &[f64])> {
        self.clip
            .as_ref()
            .map(|c| (c.lo.as_slice(), c.hi.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(rows: &[[f64; 3]]) -> Frame {
        Frame {
            data: rows.iter().flatten().copied().collect(),
            names: vec!["a".into(), "b".into(), "c".into()],
        }
    }

    #[test]
    fn collinear_pair_loses_its_later_column_and_constant_is_dropped() {
        let rows: Vec<[f64; 3]> = (0..50)
            .map(|i| [i as f64, 2.0 * i as f64 + 1.0, 7.0])
            .collect();
        let mut d = DropCollinear::new(0.95);
        d.fit(&frame(&rows));
        assert_eq!(d.keep, vec![0]);
        let r = d.report(&["a".into(), "b".into(), "c".into()]);
        assert!(
            r.contains("b (r=1.000 with a)") && r.contains("constant (c)"),
            "{r}"
        );
    }

    #[test]
    fn folded_model_equals_pipeline_then_model_without_clip() {
        let rows: Vec<[f64; 3]> = (0..40)
            .map(|i| [i as f64, ((i * 37) % 11) as f64, (i % 3) as f64])
            .collect();
        let x = frame(&rows);
        let p = PreprocessParams {
            clip_quantile: 0.0,
            ..Default::default()
        };
        let (pipe, z) = Pipeline::fit_transform(&x, &p);
        let y: Vec<f64> = rows
            .iter()
            .map(|r| r[0] - 2.0 * r[1] + 0.5 * r[2])
            .collect();
        let m = crate::linear::fit(&z.data, z.n_cols(), &y, 0.1).unwrap();
        let (w, b) = pipe.fold(&m.coef, m.intercept);
        for (i, r) in rows.iter().enumerate() {
            let direct = m.predict(&z.data[i * z.n_cols()..(i + 1) * z.n_cols()]);
            let folded = b + w.iter().zip(r).map(|(a, v)| a * v).sum::<f64>();
            assert!((direct - folded).abs() < 1e-9);
        }
    }

    #[test]
    fn clip_bounds_come_from_training_quantiles() {
        let rows: Vec<[f64; 3]> = (0..1001).map(|i| [i as f64, 0.0, 0.0]).collect();
        let mut c = Clip::new(0.01);
        c.fit(&frame(&rows));
        assert_eq!((c.lo[0], c.hi[0]), (10.0, 990.0));
        let t = c.transform(&frame(&[[5000.0, 0.0, 0.0]]));
        assert_eq!(t.data[0], 990.0);
    }

    #[test]
    fn heavy_tailed_column_is_chosen_for_log_and_symmetric_one_is_not() {
        let rows: Vec<[f64; 3]> = (0..200)
            .map(|i| [((i % 50) as f64).exp(), i as f64, 0.0])
            .collect();
        let mut l = SignedLog1p::new(2.0);
        l.fit(&frame(&rows));
        assert_eq!(l.columns, vec![0]);
    }
}
