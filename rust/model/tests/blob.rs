//! The blob format: what the kernel accepts and, above all, what it refuses.

use procperf_model::blob::{parse, ParseError, HEADER_LEN, MAX_BLOB_LEN};
use procperf_model::crc32::crc32;
use procperf_model::forest::ForestError;
use procperf_model::owned::QuantModel;
use procperf_model::quantize::measure_error;
use procperf_model::schema::{Target, N_FEATURES, SCHEMA_ID};
use procperf_model::synth::{random_features, random_model, Rng};

fn small_blob() -> (QuantModel, Vec<u8>) {
    let q = random_model(7, 3, 3).quantize().unwrap();
    let bytes = q.to_checked_bytes().unwrap();
    (q, bytes)
}

/// Recomputes length and CRC after a deliberate edit, so the structural check is what fails.
fn reseal(bytes: &mut [u8]) {
    let n = bytes.len();
    bytes[12..16].copy_from_slice(&(n as u32).to_le_bytes());
    let crc = crc32(&bytes[..n - 4]);
    bytes[n - 4..].copy_from_slice(&crc.to_le_bytes());
}

/// Offsets in the first target's forest: (roots, then node 0's feature, threshold, right).
fn first_forest_arrays(q: &QuantModel) -> (usize, usize, usize, usize) {
    let f = &q.heads[0].as_ref().unwrap().forest;
    let roots = HEADER_LEN + 20 + 8 * N_FEATURES + 16;
    let nodes = roots + 2 * f.roots.len();
    // Node record: threshold i32, right u16, feature u8, reserved u8.
    (roots, nodes + 6, nodes, nodes + 4)
}

#[test]
fn valid_blob_round_trips_through_parse() {
    let (q, bytes) = small_blob();
    let m = parse(&bytes).unwrap();
    assert_eq!(QuantModel::from_ref(&m), q);
    assert_eq!(m.interval_ms(), 1000);
    assert_eq!(m.coverage_permille(), 800);
    assert!(m.metadata().starts_with("synthetic model"));
}

#[test]
fn parsed_model_predicts_within_the_documented_bound() {
    let float = random_model(11, 32, 8);
    let bytes = float.quantize().unwrap().to_checked_bytes().unwrap();
    let fixed = parse(&bytes).unwrap();
    let mut rng = Rng(5);
    let rows: Vec<_> = (0..2000).map(|_| random_features(&mut rng)).collect();
    let report = measure_error(&float, &fixed, rows.iter());
    assert!(report.within_bounds(), "{report:?}");
    assert_eq!(report.rows, 2000);
}

#[test]
fn prediction_levels_follow_intervals_and_clamp_at_zero() {
    let (_, bytes) = small_blob();
    let m = parse(&bytes).unwrap();
    let x = [100; N_FEATURES];
    for (h, t) in [0, 1].into_iter().flat_map(|h| Target::ALL.map(|t| (h, t))) {
        let p = m.predict(h, t, &x, 1_000_000).unwrap();
        assert!(p.linear_lo <= p.linear && p.linear <= p.linear_hi, "{p:?}");
        assert!(p.forest_lo <= p.forest && p.forest <= p.forest_hi, "{p:?}");
        let p0 = m.predict(h, t, &x, 0).unwrap();
        assert!(p0.linear_lo >= 0 && p0.forest_lo >= 0);
    }
}

#[test]
fn every_truncation_is_rejected() {
    let (_, bytes) = small_blob();
    for len in 0..bytes.len() {
        assert!(
            parse(&bytes[..len]).is_err(),
            "accepted a blob cut to {len} bytes"
        );
    }
}

#[test]
fn every_single_byte_corruption_is_rejected() {
    let (_, bytes) = small_blob();
    let mut copy = bytes.clone();
    for at in 0..bytes.len() {
        for flip in [0x01u8, 0x80, 0xFF, 0x5A] {
            copy[at] ^= flip;
            assert!(parse(&copy).is_err(), "accepted byte {at} xor {flip:#x}");
            copy[at] ^= flip;
        }
    }
    assert!(parse(&copy).is_ok());
}

#[test]
fn appended_bytes_are_rejected() {
    let (_, mut bytes) = small_blob();
    bytes.push(0);
    assert!(matches!(
        parse(&bytes),
        Err(ParseError::Length { .. }) | Err(ParseError::Checksum)
    ));
    bytes.pop();
    bytes.insert(bytes.len() - 4, 0); // an extra byte before the CRC, resealed
    reseal(&mut bytes);
    assert_eq!(parse(&bytes), Err(ParseError::Metadata));
}

#[test]
fn header_errors_are_reported_precisely() {
    let (_, good) = small_blob();
    let mut b = good.clone();
    b[0] = b'X';
    assert_eq!(parse(&b), Err(ParseError::Magic));
    let mut b = good.clone();
    b[8] = 1; // the layout before base levels
    assert_eq!(parse(&b), Err(ParseError::Version { found: 1 }));
    let mut b = good.clone();
    b[16..20].copy_from_slice(&(SCHEMA_ID ^ 1).to_le_bytes());
    reseal(&mut b);
    assert_eq!(
        parse(&b),
        Err(ParseError::Schema {
            found: SCHEMA_ID ^ 1
        })
    );
    for (at, value) in [
        (20usize, 3u8),
        (22, 0),
        (22, 0x1F),
        (24, 0),
        (28, 0),
        (32, 1),
    ] {
        let mut b = good.clone();
        if at == 24 {
            b[24..28].copy_from_slice(&[0; 4]);
        } else if at == 28 {
            b[28..30].copy_from_slice(&1000u16.to_le_bytes());
        } else {
            b[at] = value;
        }
        reseal(&mut b);
        assert!(parse(&b).is_err(), "header byte {at} = {value} accepted");
    }
    assert_eq!(parse(&vec![0; MAX_BLOB_LEN + 1]), Err(ParseError::Size));
}

#[test]
fn forest_with_feature_index_out_of_range_is_rejected() {
    let (q, good) = small_blob();
    let (_, feature, _, _) = first_forest_arrays(&q);
    let mut b = good.clone();
    b[feature] = N_FEATURES as u8;
    reseal(&mut b);
    assert_eq!(
        parse(&b),
        Err(ParseError::Forest {
            head: 0,
            error: ForestError::FeatureIndex { node: 0 }
        })
    );
}

#[test]
fn forest_with_reserved_node_byte_set_is_rejected() {
    let (q, good) = small_blob();
    let (_, feature, _, _) = first_forest_arrays(&q);
    let mut b = good.clone();
    b[feature + 1] = 1;
    reseal(&mut b);
    assert_eq!(
        parse(&b),
        Err(ParseError::Forest {
            head: 0,
            error: ForestError::Reserved { node: 0 }
        })
    );
}

#[test]
fn forest_with_child_pointing_backwards_or_out_of_bounds_is_rejected() {
    let (q, good) = small_blob();
    let (_, _, _, right) = first_forest_arrays(&q);
    for bad in [0u16, 1, 0xFFFF] {
        let mut b = good.clone();
        b[right..right + 2].copy_from_slice(&bad.to_le_bytes());
        reseal(&mut b);
        assert!(
            matches!(parse(&b), Err(ParseError::Forest { head: 0, .. })),
            "right offset {bad} accepted"
        );
    }
}

#[test]
fn forest_with_inconsistent_roots_is_rejected() {
    let (q, good) = small_blob();
    let (roots, _, _, _) = first_forest_arrays(&q);
    let mut b = good.clone();
    b[roots + 2..roots + 4].copy_from_slice(&3u16.to_le_bytes());
    reseal(&mut b);
    assert!(matches!(parse(&b), Err(ParseError::Forest { head: 0, .. })));
}

#[test]
fn interval_with_lo_above_hi_is_rejected() {
    let (_, good) = small_blob();
    let mut b = good.clone();
    // Linear interval of the first target: lo at +12, hi at +16 of the section.
    let lo = HEADER_LEN + 12;
    b[lo..lo + 4].copy_from_slice(&i32::MAX.to_le_bytes());
    reseal(&mut b);
    assert_eq!(parse(&b), Err(ParseError::Interval { head: 0 }));
}

#[test]
fn metadata_must_be_utf8() {
    let mut q = random_model(3, 1, 1).quantize().unwrap();
    q.metadata = "ok".into();
    let mut b = q.to_checked_bytes().unwrap();
    let at = b.len() - 5;
    b[at] = 0xFF;
    reseal(&mut b);
    assert_eq!(parse(&b), Err(ParseError::Metadata));
}

#[test]
fn model_with_a_subset_of_targets_predicts_only_those() {
    let mut f = random_model(9, 2, 2);
    f.heads[1] = None;
    f.heads[3] = None;
    for head in &mut f.heads[4..] {
        *head = None;
    }
    let bytes = f.quantize().unwrap().to_checked_bytes().unwrap();
    let m = parse(&bytes).unwrap();
    let p = m.predict_all(0, &[0; N_FEATURES], &[0; 4]);
    assert!(p[0].is_some() && p[1].is_none() && p[2].is_some() && p[3].is_none());
    assert!(m.has_horizon(0) && !m.has_horizon(1));
    assert_eq!(m.predict_all(1, &[0; N_FEATURES], &[0; 4]), [None; 4]);
}

#[test]
fn parse_error_messages_name_the_problem() {
    let e = ParseError::Schema { found: 1 };
    assert!(e
        .to_string()
        .starts_with("model trained for another feature schema"));
    let e = ParseError::Forest {
        head: 5,
        error: ForestError::Shape,
    };
    assert!(e.to_string().contains("rss at 60 intervals"), "{e}");
    let old = ParseError::Version { found: 2 }.to_string();
    assert!(old.contains("refit it"), "{old}");
}

#[test]
fn predict_all_matches_predict_per_target() {
    let bytes = random_model(21, 6, 5)
        .quantize()
        .unwrap()
        .to_checked_bytes()
        .unwrap();
    let m = parse(&bytes).unwrap();
    let mut rng = Rng(8);
    for _ in 0..500 {
        let x = random_features(&mut rng);
        let levels = [rng.below(3000) as i64, rng.below(1 << 30) as i64, 2000, 0];
        let horizons = m.predict_horizons(&x, &[levels; 2]);
        for (h, at_h) in horizons.iter().enumerate() {
            let all = m.predict_all(h, &x, &levels);
            assert_eq!(&all, at_h);
            for (i, t) in Target::ALL.iter().enumerate() {
                assert_eq!(all[i], m.predict(h, *t, &x, levels[i]));
            }
        }
    }
}

#[test]
fn committed_fuzz_seeds_are_valid_blobs() {
    // The seeds only help the fuzzer while they parse; regenerate them with examples/write_blob
    // (prefixing the mode byte) when the format or schema changes.
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/parse_predict");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(parse(&bytes[1..]).is_ok());
        seen += 1;
    }
    assert_eq!(seen, 6);
}

#[test]
fn base_factor_outside_its_range_is_rejected() {
    let (_, good) = small_blob();
    // The first target section starts right after the header: frac bits, reserved, base factor.
    let at = HEADER_LEN + 2;
    for bad in [0u16, 1001, u16::MAX] {
        let mut b = good.clone();
        b[at..at + 2].copy_from_slice(&bad.to_le_bytes());
        reseal(&mut b);
        assert_eq!(parse(&b), Err(ParseError::Base { head: 0 }), "factor {bad}");
    }
    let mut b = good.clone();
    b[at..at + 2].copy_from_slice(&1000u16.to_le_bytes());
    reseal(&mut b);
    let m = parse(&b).unwrap();
    assert_eq!(
        m.target(0, Target::ALL[0]).unwrap().base,
        procperf_model::target::BaseAlpha::PERSISTENCE
    );
}

#[test]
fn predictions_add_the_change_to_the_base_level() {
    use procperf_model::features::compute_window;
    use procperf_model::synth::busy_history;
    use procperf_model::target::{current_levels, window_levels, BaseAlpha};
    let (_, bytes) = small_blob();
    let m = parse(&bytes).unwrap();
    for seed in 0..20 {
        let history = busy_history(seed);
        let window = history.window().unwrap();
        let x = compute_window(&window, history.long());
        let past = window_levels(&window);
        for h in 0..2 {
            let bases = m.base_levels(h, &past);
            assert_eq!(
                m.predict_window(h, &window, history.long()),
                m.predict_all(h, &x, &bases)
            );
            assert_eq!(
                m.predict_history(h, &history),
                Some(m.predict_all(h, &x, &bases))
            );
            for t in Target::ALL {
                let Some(tm) = m.target(h, t) else { continue };
                assert_eq!(bases[t.index()], tm.base.level(&past[t.index()]));
                // A base of the newest level is the change-from-current model.
                let cur = current_levels(&window)[t.index()];
                assert_eq!(BaseAlpha::PERSISTENCE.level(&past[t.index()]), cur);
            }
        }
    }
}
