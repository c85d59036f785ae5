//! Host only: deterministic synthetic models and inputs for tests, benchmarks, fuzz seeds and the
//! kernel module's own tests (a valid blob without running the trainer).
//!
//! Nothing here is a trained model: weights, thresholds and leaves are pseudo-random in ranges
//! like those of real features and targets, so the evaluators do realistic work.

use std::format;
use std::vec::Vec;

use super::float::{ForestF64, IntervalF64, LinearF64, ModelF64, NodeF64, TargetModelF64, TreeF64};
use super::history::History;
use super::sample::RawSample;
use super::schema::{FEATURE_MAX, N_FEATURES};
use super::target::BaseAlpha;

/// SplitMix64: small, seedable, good enough for test data.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 for `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64().checked_rem(n).unwrap_or(0)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

/// A full binary tree of `depth` splits per path, in breadth-first node order (children stored
/// after their parent but not in preorder, so quantisation's relayout is exercised).
pub fn random_tree(rng: &mut Rng, depth: usize, leaf_scale: f64) -> TreeF64 {
    let n_splits = (1usize << depth) - 1;
    let mut nodes = Vec::with_capacity(2 * n_splits + 1);
    for i in 0..n_splits {
        nodes.push(NodeF64::Split {
            feature: rng.below(N_FEATURES as u64) as usize,
            // Thresholds where log-scaled features live (0..4096), with a tail.
            threshold: rng.range(-64.0, 4096.0),
            left: 2 * i + 1,
            right: 2 * i + 2,
        });
    }
    for _ in 0..=n_splits {
        nodes.push(NodeF64::Leaf {
            value: rng.range(-leaf_scale, leaf_scale),
        });
    }
    TreeF64 { nodes }
}

/// A model for every target at every horizon: linear weights spanning 1e-4..1e2, `n_trees` trees of `depth`.
pub fn random_model(seed: u64, n_trees: usize, depth: usize) -> ModelF64 {
    let mut rng = Rng(seed);
    let mut model = ModelF64 {
        interval_ms: 1000,
        coverage_permille: 800,
        metadata: format!("synthetic model, seed {seed}, {n_trees} trees of depth {depth}"),
        ..Default::default()
    };
    for slot in model.heads.iter_mut() {
        let scale = rng.range(10.0, 2000.0);
        let weights = (0..N_FEATURES)
            .map(|_| rng.range(-1.0, 1.0) * 10f64.powf(rng.range(-4.0, 2.0)))
            .collect();
        let linear = LinearF64 {
            intercept: rng.range(-scale, scale),
            weights,
            interval: IntervalF64 {
                lo: -rng.range(0.0, scale),
                hi: rng.range(0.0, scale),
            },
        };
        let trees = (0..n_trees)
            .map(|_| random_tree(&mut rng, depth, scale))
            .collect();
        let forest = ForestF64 {
            trees,
            interval: IntervalF64 {
                lo: -rng.range(0.0, scale),
                hi: rng.range(0.0, scale),
            },
        };
        let base = BaseAlpha::new(rng.range(1.0, 1000.0) as u16).unwrap_or_default();
        *slot = Some(TargetModelF64 {
            base,
            linear,
            forest,
        });
    }
    model
}

/// A feature vector with values in the feature range, mostly small like real ones.
pub fn random_features(rng: &mut Rng) -> [i32; N_FEATURES] {
    core::array::from_fn(|_| match rng.below(8) {
        0 => rng.range(-f64::from(FEATURE_MAX), f64::from(FEATURE_MAX)) as i32,
        1 => 0,
        _ => rng.range(-256.0, 4096.0) as i32,
    })
}

/// A full history of a busy process: CPU, memory growth, disk and network traffic.
pub fn busy_history(seed: u64) -> History {
    let mut rng = Rng(seed);
    let mut h = History::new();
    let mut rss = 100_000 + rng.below(1 << 20);
    for _ in 0..super::history::HISTORY_LEN {
        rss += rng.below(4096);
        h.push(&RawSample {
            interval_ns: 1_000_000_000 + rng.below(5_000_000),
            cpu_user_ns: rng.below(900_000_000),
            cpu_sys_ns: rng.below(100_000_000),
            rss_anon_kib: rss,
            rss_file_kib: 20_000,
            rss_shmem_kib: 1000,
            vm_kib: 4 * rss,
            disk_read_bytes: rng.below(1 << 24),
            disk_write_bytes: rng.below(1 << 22),
            rchar_bytes: rng.below(1 << 26),
            wchar_bytes: rng.below(1 << 24),
            syscr: rng.below(10_000),
            syscw: rng.below(5_000),
            net_rx_bytes: rng.below(1 << 20),
            net_tx_bytes: rng.below(1 << 20),
            nvcsw: rng.below(2_000),
            nivcsw: rng.below(200),
            minflt: rng.below(50_000),
            majflt: rng.below(10),
            threads: 8,
            nice: 0,
            policy: 0,
            age_ms: 3_600_000,
        });
    }
    h
}
