//! Forest fit time on N rows resampled from a real `--save-matrix` train.csv.
//!
//! Usage: cargo bench -p trainer --bench fit_time -- MATRIX.csv TARGET N [N...]
//! Rows are drawn with replacement (seeded) from the matrix, so the value distribution is the real
//! one at any size. Prints one line per N: rows, seconds (binning + 32 trees, depth 8, leaf 5).

use std::time::Instant;

use procperf_model::schema::{FEATURE_NAMES, N_FEATURES};
use trainer::forest::{bin_features, fit_binned, ForestParams, Matrix, Rng};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.len() < 3 {
        eprintln!("usage: fit_time MATRIX.csv TARGET N [N...]");
        std::process::exit(2);
    }
    let mut rdr = csv::Reader::from_path(&args[0]).expect("open matrix");
    let header: Vec<String> = rdr
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let fcols: Vec<usize> = FEATURE_NAMES.iter().map(|n| col(n)).collect();
    let tcol = col(&format!("target_{}", args[1]));
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for rec in rdr.records() {
        let rec = rec.expect("record");
        x.extend(
            fcols
                .iter()
                .map(|&c| rec[c].parse::<i32>().expect("int feature")),
        );
        y.push(rec[tcol].parse::<f64>().expect("target"));
    }
    let n0 = y.len();
    for n in args[2..].iter().map(|s| s.parse::<usize>().expect("N")) {
        let mut rng = Rng::new(n as u64);
        let (mut xs, mut ys) = (Vec::with_capacity(n * N_FEATURES), Vec::with_capacity(n));
        for _ in 0..n {
            let i = rng.below(n0);
            xs.extend_from_slice(&x[i * N_FEATURES..(i + 1) * N_FEATURES]);
            ys.push(y[i]);
        }
        let t0 = Instant::now();
        let binned = bin_features(Matrix::new(&xs, N_FEATURES));
        let (f, _) = fit_binned(
            &binned,
            &ys,
            &ForestParams::default(),
            &indicatif::ProgressBar::hidden(),
        );
        println!(
            "rows {n} seconds {:.2} nodes {}",
            t0.elapsed().as_secs_f64(),
            f.n_nodes()
        );
    }
}
