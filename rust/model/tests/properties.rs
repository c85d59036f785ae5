//! Invariants that must hold for every input: quantised ≈ float within the documented bounds,
//! parse ∘ serialize = identity, every damaged blob refused, no panic anywhere.

use procperf_model::blend::Blend;
use procperf_model::blob::parse;
use procperf_model::crc32::crc32;
use procperf_model::features::{compute, compute_window, refresh_still};
use procperf_model::float::{features_f64, ForestF64, IntervalF64, LinearF64, NodeF64, TreeF64};
use procperf_model::history::{History, Slot, HISTORY_LEN};
use procperf_model::owned::QuantModel;
use procperf_model::quantize::{
    forest_error_bound, quantize_forest, quantize_linear, FOREST_MAX_ABS_ERROR,
    LINEAR_MAX_ABS_ERROR,
};
use procperf_model::sample::{RawSample, N_COLUMNS};
use procperf_model::schema::{Target, FEATURE_MAX, N_FEATURES, N_HORIZONS};
use procperf_model::synth::{random_model, Rng};
use procperf_model::target::window_levels;
use proptest::prelude::*;

fn weight() -> impl Strategy<Value = f64> {
    // Sign × mantissa × 10^e: weights from 1e-8 to ~1e9 (just under the 2^30 limit).
    (-1.0f64..1.0, -8i32..9).prop_map(|(m, e)| m * 10f64.powi(e))
}

fn linear(max_exp: i32) -> impl Strategy<Value = LinearF64> {
    (
        proptest::collection::vec(
            weight().prop_filter("range", move |w| w.abs() < 10f64.powi(max_exp)),
            N_FEATURES,
        ),
        -1e9f64..1e9,
    )
        .prop_map(|(weights, intercept)| LinearF64 {
            intercept,
            weights,
            interval: IntervalF64::default(),
        })
}

fn features(max_abs: i32) -> impl Strategy<Value = [i32; N_FEATURES]> {
    proptest::collection::vec(-max_abs..=max_abs, N_FEATURES).prop_map(|v| v.try_into().unwrap())
}

/// A random tree of at most `depth` levels, thresholds near small integers (ties included).
fn tree(depth: u32) -> impl Strategy<Value = TreeF64> {
    let leaf = (-40_000.0f64..40_000.0).prop_map(|v| vec![NodeF64::Leaf { value: v }]);
    leaf.prop_recursive(depth, 256, 2, |inner| {
        (
            0..N_FEATURES,
            -20i32..20,
            prop_oneof![Just(0.0), Just(0.5), 0.0f64..1.0],
            inner.clone(),
            inner,
        )
            .prop_map(|(feature, t, frac, left, right)| {
                // Layout: split, left subtree, right subtree; shift child indices.
                let mut nodes = vec![NodeF64::Split {
                    feature,
                    threshold: f64::from(t) + frac,
                    left: 1,
                    right: 1 + left.len(),
                }];
                for (sub, base) in [(&left, 1), (&right, 1 + left.len())] {
                    nodes.extend(sub.iter().map(|n| match *n {
                        NodeF64::Split {
                            feature,
                            threshold,
                            left,
                            right,
                        } => NodeF64::Split {
                            feature,
                            threshold,
                            left: left + base,
                            right: right + base,
                        },
                        leaf => leaf,
                    }));
                }
                nodes
            })
    })
    .prop_map(|nodes| TreeF64 { nodes })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn linear_fixed_matches_float_within_bound(m in linear(10), x in features(FEATURE_MAX)) {
        // Weights up to the 2^30 limit and features up to 2^24: Σ|w x| reaches 1e18, beyond the
        // 1e12 the constant covers for the f64 reference's own rounding, so allow for that.
        let q = quantize_linear(Target::Cpu, &m).unwrap();
        let xf = features_f64(&x);
        let float = m.predict_delta(&xf);
        let fixed = eval_linear(&q, &x) as f64;
        let sum_abs: f64 = m.weights.iter().zip(&xf).map(|(w, x)| (w * x).abs()).sum::<f64>() + m.intercept.abs();
        let allowance = 64.0 * f64::EPSILON * sum_abs;
        prop_assert!((fixed - float).abs() <= LINEAR_MAX_ABS_ERROR + allowance,
            "fixed {fixed} float {float} frac {}", q.frac_bits);
    }

    #[test]
    fn linear_fixed_matches_float_within_constant_on_typical_rows(m in linear(3), x in features(65_536)) {
        // Σ|w x| < 58 · 1e3 · 2^16 < 1e12: the constant alone must hold.
        let q = quantize_linear(Target::Rss, &m).unwrap();
        let float = m.predict_delta(&features_f64(&x));
        let fixed = eval_linear(&q, &x) as f64;
        prop_assert!((fixed - float).abs() <= LINEAR_MAX_ABS_ERROR, "fixed {fixed} float {float}");
    }

    #[test]
    fn forest_fixed_matches_float_within_bound(
        trees in proptest::collection::vec(tree(6), 1..12),
        x in features(24),
    ) {
        let f = ForestF64 { trees, interval: IntervalF64::default() };
        let q = quantize_forest(Target::Disk, &f).unwrap();
        let fixed = eval_forest(&q, &x) as f64;
        let float = f.predict_delta(&features_f64(&x));
        let bound = forest_error_bound(q.leaf_frac_bits);
        prop_assert!(bound <= FOREST_MAX_ABS_ERROR);
        prop_assert!((fixed - float).abs() <= bound, "fixed {fixed} float {float} bound {bound}");
    }

    #[test]
    fn parse_of_serialize_is_identity(seed in any::<u64>(), n_trees in 1usize..6, depth in 0usize..6, mask in 1u8..16) {
        let mut f = random_model(seed, n_trees, depth);
        for (i, t) in f.heads.iter_mut().enumerate() {
            if mask & (1 << (i % 4)) == 0 || (i >= 4 && mask & 1 == 0) {
                *t = None;
            }
        }
        let q = f.quantize().unwrap();
        let bytes = q.to_bytes();
        let parsed = parse(&bytes).unwrap();
        prop_assert_eq!(QuantModel::from_ref(&parsed), q);
    }

    #[test]
    fn repredict_equals_predicting_afresh(
        seed in any::<u64>(), n_trees in 1usize..5, depth in 0usize..5, zero in any::<u64>(),
        x in features(FEATURE_MAX), y in features(FEATURE_MAX), changed in any::<u64>(),
        bases in proptest::array::uniform4(0i64..1 << 40),
    ) {
        // Linear models with some weights zero, small forests that read few features: models
        // that skip some changes, and some that skip none.
        let mut f = random_model(seed, n_trees, depth);
        for (i, t) in f.heads.iter_mut().flatten().enumerate() {
            for (j, w) in t.linear.weights.iter_mut().enumerate() {
                if (zero.rotate_left(i as u32) >> (j % 64)) & 1 == 1 {
                    *w = 0.0;
                }
            }
        }
        let bytes = f.quantize().unwrap().to_bytes();
        let m = parse(&bytes).unwrap();
        let changed = changed & ((1 << N_FEATURES) - 1);
        let mut now = x;
        for (j, (n, &v)) in now.iter_mut().zip(&y).enumerate() {
            if changed >> j & 1 == 1 {
                *n = v;
            }
        }
        let bases = [bases; N_HORIZONS];
        let mut p = m.predict_horizons(&x, &bases);
        let before = p;
        let ran = m.repredict(changed, &now, &bases, &mut p);
        prop_assert_eq!(p, m.predict_horizons(&now, &bases));
        if !ran {
            prop_assert_eq!(p, before);
        }
    }

    #[test]
    fn any_truncation_or_single_byte_corruption_is_rejected(
        seed in any::<u64>(), cut in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), flip in 1u8..=255,
    ) {
        let bytes = random_model(seed, 2, 3).quantize().unwrap().to_bytes();
        prop_assert!(parse(&bytes[..cut.index(bytes.len())]).is_err());
        let mut bad = bytes.clone();
        bad[at.index(bytes.len())] ^= flip;
        prop_assert!(parse(&bad).is_err());
    }

    #[test]
    fn resealed_corruption_never_panics_and_valid_results_predict(
        seed in any::<u64>(), edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        x in features(i32::MAX),
    ) {
        // Corrupt, then fix length and CRC so the structural checks are what gets tested.
        let mut bytes = random_model(seed, 2, 4).quantize().unwrap().to_bytes();
        let n = bytes.len();
        for (at, v) in edits {
            bytes[at.index(n - 4)] = v;
        }
        bytes[12..16].copy_from_slice(&(n as u32).to_le_bytes());
        let crc = crc32(&bytes[..n - 4]);
        bytes[n - 4..].copy_from_slice(&crc.to_le_bytes());
        if let Ok(m) = parse(&bytes) {
            let _ = m.predict_all(0, &x, &[i64::MAX, i64::MIN, 0, -1]);
            let _ = m.predict_horizons(&x, &[[i64::MAX, i64::MIN, 0, -1]; 2]);
        }
    }

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn features_stay_in_range_for_any_samples(values in proptest::collection::vec(any::<i64>(), 8 * N_COLUMNS)) {
        let mut h = History::new();
        for row in values.chunks_exact(N_COLUMNS) {
            let v: [i64; N_COLUMNS] = row.try_into().unwrap();
            // Invalid rows are pushed too: the kernel must cope with any counters.
            let s = RawSample::from_values(&v).unwrap_or_else(|_| RawSample {
                interval_ns: row[0] as u64,
                cpu_user_ns: row[1] as u64,
                rss_anon_kib: row[3] as u64,
                disk_read_bytes: row[7] as u64,
                nice: row[20],
                ..Default::default()
            });
            h.push(&s);
        }
        let f = compute(&h).unwrap();
        prop_assert!(f.iter().all(|v| v.abs() <= FEATURE_MAX));
    }
}

fn eval_linear(q: &procperf_model::owned::QuantLinear, x: &[i32; N_FEATURES]) -> i64 {
    model_with(Some(q.clone()), None, |m| m.linear.predict_delta(x))
}

fn eval_forest(q: &procperf_model::owned::QuantForest, x: &[i32; N_FEATURES]) -> i64 {
    model_with(None, Some(q.clone()), |m| m.forest.predict_delta(x))
}

/// Wraps one quantised part in a full blob (the other part trivial) and evaluates it through
/// the kernel's parser, the only way to obtain evaluators.
fn model_with<R>(
    linear: Option<procperf_model::owned::QuantLinear>,
    forest: Option<procperf_model::owned::QuantForest>,
    f: impl Fn(&procperf_model::blob::TargetModelRef<'_>) -> R,
) -> R {
    let base = random_model(1, 1, 0).quantize().unwrap();
    let mut t = base.heads[0].clone().unwrap();
    if let Some(l) = linear {
        t.linear = l;
    }
    if let Some(fo) = forest {
        t.forest = fo;
    }
    let mut heads: [Option<procperf_model::owned::QuantTarget>; procperf_model::blob::N_HEADS] =
        Default::default();
    heads[0] = Some(t);
    let q = QuantModel { heads, ..base };
    let bytes = q.to_checked_bytes().unwrap();
    let m = parse(&bytes).unwrap();
    f(m.target(0, Target::Cpu).unwrap())
}

/// Seeded fixtures (`random_model(seed, ..)`, `random_features`) are the same on every host and
/// build only if `Rng` is exactly SplitMix64: its stream for seed 0 is the reference one, and
/// nearby seeds start distinct streams.
#[test]
fn rng_is_splitmix64_and_seeds_start_distinct_streams() {
    let mut r = Rng(0);
    let first: [u64; 3] = core::array::from_fn(|_| r.next_u64());
    assert_eq!(
        first,
        [
            0xE220_A839_7B1D_CDAF,
            0x6E78_9E6A_A1B9_65F4,
            0x06C4_5D18_8009_454F
        ]
    );
    let starts: std::collections::HashSet<[u64; 2]> = (0..1000)
        .map(|seed| {
            let mut r = Rng(seed);
            [r.next_u64(), r.next_u64()]
        })
        .collect();
    assert_eq!(
        starts.len(),
        1000,
        "two of seeds 0..1000 start the same stream"
    );
}

/// A slot with every field random, as a busy process's.
fn busy_slot() -> impl Strategy<Value = Slot> {
    (any::<[u32; 14]>(), any::<[u64; 4]>(), any::<(i8, u8)>()).prop_map(|(a, b, (nice, policy))| {
        Slot {
            interval_us: a[0].max(1),
            cpu_user_us: a[1],
            cpu_sys_us: a[2],
            nvcsw: a[3],
            nivcsw: a[4],
            minflt: a[5],
            majflt: a[6],
            syscr: a[7],
            syscw: a[8],
            rss_anon_kib: a[9],
            rss_file_shmem_kib: a[10],
            vm_kib: a[11],
            threads: a[12],
            age_s: a[13],
            disk_bytes: b[0],
            rchar_bytes: b[1],
            wchar_bytes: b[2],
            net_bytes: b[3],
            nice,
            policy,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The sampler's shortcut for sleeping processes: for a still history, refreshing the
    /// previous window's features gives exactly what computing them again gives, and the target
    /// levels (current and base) are unchanged.
    #[test]
    fn still_windows_differ_only_in_age(
        before in proptest::collection::vec(busy_slot(), 0..12),
        last_busy in busy_slot(),
        timing in proptest::collection::vec((1u32..5_000_000, 0u32..3), HISTORY_LEN + 1..HISTORY_LEN + 6),
    ) {
        let mut h = History::new();
        for s in before.iter().chain([&last_busy]) {
            h.push_slot(*s);
        }
        let mut age = last_busy.age_s;
        let mut prev_window = h.window();
        let mut prev_long = *h.long();
        for (i, &(interval_us, dage)) in timing.iter().enumerate() {
            age = age.saturating_add(dage);
            let still = Slot {
                interval_us,
                age_s: age,
                rss_anon_kib: last_busy.rss_anon_kib,
                rss_file_shmem_kib: last_busy.rss_file_shmem_kib,
                vm_kib: last_busy.vm_kib,
                threads: last_busy.threads,
                nice: last_busy.nice,
                policy: last_busy.policy,
                ..Slot::default()
            };
            prop_assert!(still.is_still_after(h.newest().unwrap()));
            h.push_slot(still);
            prop_assert_eq!(h.is_still(), i >= HISTORY_LEN, "after {} still pushes", i + 1);
            let window = h.window();
            if h.is_still() {
                let (prev, window) = (prev_window.unwrap(), window.unwrap());
                let before = compute_window(&prev, &prev_long);
                let now = compute_window(&window, h.long());
                let mut refreshed = before;
                let changed = refresh_still(&mut refreshed, &still, h.long());
                prop_assert_eq!(refreshed, now);
                for (j, (b, n)) in before.iter().zip(&now).enumerate() {
                    prop_assert_eq!(changed >> j & 1 == 1, b != n, "feature {}", j);
                }
                prop_assert_eq!(window_levels(&prev), window_levels(&window));
            }
            prev_window = window;
            prev_long = *h.long();
        }
        // Any activity ends it.
        h.push_slot(Slot { cpu_user_us: 1, ..*h.newest().unwrap() });
        prop_assert!(!h.is_still());
    }

    #[test]
    fn blended_forecast_lies_between_the_forecasters(
        steps in proptest::collection::vec((-(1i64 << 50)..(1i64 << 50), proptest::array::uniform3(-(1i64 << 50)..(1i64 << 50))), 1..60)
    ) {
        // Whatever the record, the published forecast is a weighted mean of this pass's three
        // forecasts (within ±2^44, clamped at 0), rounded.
        let mut b = Blend::new();
        for (outcome, f) in steps {
            let out = b.step(outcome, f);
            let c = f.map(|v| v.clamp(-(1 << 44), 1 << 44));
            let lo = c.iter().copied().min().unwrap().max(0);
            let hi = c.iter().copied().max().unwrap().max(0);
            prop_assert!(lo <= out && out <= hi, "{out} not in {lo}..={hi}");
            prop_assert!(b.weights().contains(&(1 << 16)));
        }
    }
}
