//! Any bytes written to the kernel's `model` file: parse must refuse or accept without panicking,
//! and an accepted model must predict without panicking for any features, levels and window levels.
//!
//! The first input byte picks a mode. Even: the rest is parsed as is (exercises the size, magic,
//! version, length and CRC checks). Odd: the length field and CRC are fixed up first, so the
//! fuzzer gets past the checksum and explores the structural checks (counts, offsets, trees).
#![no_main]

use libfuzzer_sys::fuzz_target;
use procperf_model::blob::parse;
use procperf_model::crc32::crc32;
use procperf_model::history::HISTORY_LEN;
use procperf_model::schema::{N_FEATURES, N_HORIZONS, N_TARGETS};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut blob = rest.to_vec();
    let n = blob.len();
    if mode & 1 == 1 && n >= 20 {
        blob[12..16].copy_from_slice(&(n as u32).to_le_bytes());
        let crc = crc32(&blob[..n - 4]);
        blob[n - 4..].copy_from_slice(&crc.to_le_bytes());
    }
    let Ok(model) = parse(&blob) else { return };
    // Feature vectors: extremes, zeros, and one derived from the input so paths vary.
    let derived: [i32; N_FEATURES] = core::array::from_fn(|i| {
        let b = |k: usize| u32::from(*rest.get((i * 4 + k) % rest.len().max(1)).unwrap_or(&0));
        (b(0) | b(1) << 8 | b(2) << 16 | b(3) << 24) as i32
    });
    for x in [
        [0; N_FEATURES],
        [i32::MAX; N_FEATURES],
        [i32::MIN; N_FEATURES],
        derived,
    ] {
        for levels in [
            [0i64; N_TARGETS],
            [i64::MAX; N_TARGETS],
            [i64::MIN; N_TARGETS],
        ] {
            let _ = model.predict_horizons(&x, &[levels; N_HORIZONS]);
        }
    }
    // Base levels: any window levels, including alternating extremes.
    let zigzag: [i64; HISTORY_LEN] =
        core::array::from_fn(|i| if i % 2 == 0 { i64::MIN } else { i64::MAX });
    for past in [
        [0i64; HISTORY_LEN],
        [i64::MAX; HISTORY_LEN],
        [i64::MIN; HISTORY_LEN],
        zigzag,
    ] {
        for h in 0..=N_HORIZONS {
            let _ = model.base_levels(h, &[past; N_TARGETS]);
            let _ = model.predict_all(h, &[0; N_FEATURES], &[0; N_TARGETS]);
        }
    }
});
