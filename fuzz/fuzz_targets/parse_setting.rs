//! Any bytes written to the kernel's `interval_ms` or `capacity` file: the module's parser must
//! return exactly what a plainly written reference returns (a `u32` from an optional `+` and up
//! to 10 decimal digits, whitespace around them allowed), and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use procperf_model::setting::parse_decimal_u32;

fn reference(data: &[u8]) -> Option<u32> {
    let s = std::str::from_utf8(data).ok()?.trim();
    let digits = s.strip_prefix('+').unwrap_or(s);
    if !(1..=10).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v = digits
        .bytes()
        .fold(0u64, |v, b| v * 10 + u64::from(b - b'0'));
    u32::try_from(v).ok()
}

fuzz_target!(|data: &[u8]| {
    assert_eq!(parse_decimal_u32(data), reference(data), "{data:?}");
});
