//! Integer fixed-point formats and the few transcendental functions procperf needs, in integer
//! arithmetic only, so that the kernel (no FPU context) and the trainer compute identical bits.
//!
//! Formats used across the crate:
//!
//! | type / format | meaning | resolution | range |
//! |---|---|---|---|
//! | [`Log2Q8`] | `256 * log2(v)`, the "gaussianising" transform of heavy-tailed counts | 1/256 of a doubling (0.27 %) | 0 ..= 16384 for `v` in 1..=2^64 |
//! | [`Q30`] | multiplier in [0, 2), `value / 2^30` | 9.3e-10 | only inside [`exp2_q8`] |
//! | linear weights | per-model Q format, see `linear.rs` | | |
//!
//! Accuracy, checked exhaustively for small inputs and on 10^6 random ones by the tests below:
//! [`log2_q8`] is within 0.506 LSB of `256 * log2(v)` (0.5 from rounding to Q8, the rest from
//! table interpolation); [`exp2_q8`] has a relative error below 2^-28 before the final rounding
//! to an integer.
//!
//! Everything here is total: no panic, no overflow, no division, on any input.

/// A base-2 logarithm scaled by 256 (`Q8`): `Log2Q8(256)` is a factor of two.
///
/// ```
/// use procperf_model::fixed::{log2_1p_q8, Log2Q8};
/// assert_eq!(log2_1p_q8(0), Log2Q8(0));
/// assert_eq!(log2_1p_q8(1), Log2Q8(256));
/// assert_eq!(log2_1p_q8(1023), Log2Q8(10 * 256));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Log2Q8(pub i32);

/// Fraction bits of [`Log2Q8`].
pub const LOG2_FRAC_BITS: u32 = 8;

/// One doubling in [`Log2Q8`] units.
pub const LOG2_ONE: i32 = 1 << LOG2_FRAC_BITS;

/// An unsigned multiplier `value / 2^30`, the internal format of the `exp2` tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Q30(pub u32);

/// `log2(1 + k/128)` for k in 0..=128, in Q16 (entries rounded to nearest).
const LOG2_Q16: [u32; 129] = [
    0, 736, 1466, 2190, 2909, 3623, 4331, 5034, 5732, 6425, 7112, 7795, 8473, 9146, 9814, 10477,
    11136, 11791, 12440, 13086, 13727, 14363, 14996, 15624, 16248, 16868, 17484, 18096, 18704,
    19308, 19909, 20505, 21098, 21687, 22272, 22854, 23433, 24007, 24579, 25146, 25711, 26272,
    26830, 27384, 27936, 28484, 29029, 29571, 30109, 30645, 31178, 31707, 32234, 32758, 33279,
    33797, 34312, 34825, 35334, 35841, 36346, 36847, 37346, 37842, 38336, 38827, 39316, 39802,
    40286, 40767, 41246, 41722, 42196, 42667, 43137, 43603, 44068, 44530, 44990, 45448, 45904,
    46357, 46809, 47258, 47705, 48150, 48593, 49034, 49472, 49909, 50344, 50776, 51207, 51636,
    52063, 52488, 52911, 53332, 53751, 54169, 54584, 54998, 55410, 55820, 56229, 56635, 57040,
    57443, 57845, 58245, 58643, 59039, 59434, 59827, 60219, 60609, 60997, 61384, 61769, 62152,
    62534, 62915, 63294, 63671, 64047, 64421, 64794, 65166, 65536,
];

/// `256 * log2(v)` rounded to nearest, for `v >= 1`; `0` for `v == 0` (callers use
/// [`log2_1p_q8`]).
///
/// Method: the integer part is the position of the top bit; the fraction interpolates linearly
/// in a 129-entry Q16 table of `log2(1 + k/128)` (interpolation error below 1.2e-5, table
/// rounding below 7.7e-6 of a doubling: together under 0.006 LSB of the Q8 result), then rounds
/// to Q8. About ten integer instructions, no loop, no division.
pub fn log2_q8(v: u64) -> Log2Q8 {
    if v == 0 {
        return Log2Q8(0);
    }
    let lz = v.leading_zeros();
    // Bits below the leading one, left-aligned: the mantissa's fraction in Q64.
    let frac = (v << lz) << 1;
    let idx = (frac >> 57) as usize; // top 7 bits: 0..=127
    let rem = (frac >> 41) & 0xFFFF; // next 16 bits
    let a = u64::from(LOG2_Q16.get(idx).copied().unwrap_or(0));
    let b = u64::from(LOG2_Q16.get(idx + 1).copied().unwrap_or(0));
    // The table increases, so b >= a; (b - a) <= 736 and rem < 2^16: no overflow.
    let frac_q16 = a + ((b.saturating_sub(a) * rem) >> 16);
    let q16 = (u64::from(63 - lz) << 16) + frac_q16; // <= 64 * 2^16
    Log2Q8(((q16 + 128) >> 8) as i32)
}

/// `round(256 * log2(1 + v))`: 0 for 0, monotone, at most 16384 (for `v = u64::MAX`, where `1 + v`
/// saturates).
pub fn log2_1p_q8(v: u64) -> Log2Q8 {
    log2_q8(v.saturating_add(1))
}

/// Signed variant for changes: `sign(v) * round(256 * log2(1 + |v|))`, odd and monotone.
///
/// ```
/// use procperf_model::fixed::{slog2_1p_q8, Log2Q8};
/// assert_eq!(slog2_1p_q8(-3), Log2Q8(-512));
/// assert_eq!(slog2_1p_q8(3), Log2Q8(512));
/// ```
pub fn slog2_1p_q8(v: i64) -> Log2Q8 {
    let m = log2_1p_q8(v.unsigned_abs()).0;
    Log2Q8(if v < 0 { -m } else { m })
}

/// `2^(k/16)` for k in 0..16, in [`Q30`].
const EXP2_SIXTEENTHS: [u32; 16] = [
    1073741824, 1121280436, 1170923762, 1222764986, 1276901417, 1333434672, 1392470869, 1454120821,
    1518500250, 1585730000, 1655936265, 1729250827, 1805811301, 1885761398, 1969251188, 2056437387,
];

/// `2^(k/256)` for k in 0..16, in [`Q30`].
const EXP2_256THS: [u32; 16] = [
    1073741824, 1076653033, 1079572136, 1082499153, 1085434106, 1088377016, 1091327906, 1094286796,
    1097253708, 1100228665, 1103211687, 1106202798, 1109202018, 1112209370, 1115224875, 1118248556,
];

/// `2^(f/256)` for a fraction `f` in 0..256, in [`Q30`] (relative error below 2^-29).
fn exp2_frac_q30(f: u32) -> Q30 {
    // Masks make both lookups provably in bounds.
    let hi = u64::from(EXP2_SIXTEENTHS[((f >> 4) & 15) as usize]);
    let lo = u64::from(EXP2_256THS[(f & 15) as usize]);
    // Both < 2^31, product < 2^62; rounding shift back to Q30 stays < 2^31.
    Q30(((hi * lo + (1 << 29)) >> 30) as u32)
}

/// `round(2^(l/256))`, the inverse of [`log2_q8`]. A negative `l` gives 1 (above -256) or 0; the
/// result saturates at `u64::MAX` from `l >= 63 * 256`.
///
/// ```
/// use procperf_model::fixed::{exp2_q8, Log2Q8};
/// assert_eq!(exp2_q8(Log2Q8(0)), 1);
/// assert_eq!(exp2_q8(Log2Q8(10 * 256)), 1024);
/// assert_eq!(exp2_q8(Log2Q8(128)), 1); // sqrt(2) rounds to 1
/// assert_eq!(exp2_q8(Log2Q8(64 * 256)), u64::MAX);
/// ```
pub fn exp2_q8(l: Log2Q8) -> u64 {
    let l = l.0;
    if l < 0 {
        // 2^x for x < 0 is below 1: it rounds to 1 above 2^-1 (l > -256), else to 0.
        return if l > -LOG2_ONE { 1 } else { 0 };
    }
    let int_part = (l >> LOG2_FRAC_BITS) as u32;
    let m = u64::from(exp2_frac_q30((l & (LOG2_ONE - 1)) as u32).0); // in [2^30, 2^31)
    if int_part >= 63 {
        return u64::MAX;
    }
    if int_part >= 30 {
        // m < 2^31, shifted by at most 32 stays below 2^63.
        m << (int_part - 30)
    } else {
        let shift = 30 - int_part;
        (m + (1 << (shift - 1))) >> shift
    }
}

/// The inverse of [`log2_1p_q8`]: `max(round(2^(l/256)) - 1, 0)`.
pub fn exp2m1_q8(l: Log2Q8) -> u64 {
    exp2_q8(l).saturating_sub(1)
}

/// `floor(sqrt(v))`, bit by bit (no division, no floats).
///
/// ```
/// use procperf_model::fixed::isqrt_u64;
/// assert_eq!(isqrt_u64(0), 0);
/// assert_eq!(isqrt_u64(99), 9);
/// assert_eq!(isqrt_u64(u64::MAX), u32::MAX as u64);
/// ```
pub fn isqrt_u64(v: u64) -> u64 {
    let mut rem = v;
    let mut root: u64 = 0;
    let mut bit: u64 = 1 << 62;
    while bit > v {
        bit >>= 2;
    }
    while bit != 0 {
        // root < 2^33 and bit <= 2^62: the sums cannot wrap.
        let trial = root.wrapping_add(bit);
        if rem >= trial {
            rem -= trial;
            root = (root >> 1).wrapping_add(bit);
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    root
}

/// `round(a / b)` rounding halves up (towards +infinity), for `b > 0`; `0` when `b <= 0`.
///
/// Overflow-free for every `a`: the rounding term is added in `i128`, and the only division
/// is by a positive `i64` (no 128-bit division is emitted: the quotient is computed with i64
/// floor division and a remainder correction).
pub fn div_round_i64(a: i64, b: i64) -> i64 {
    if b <= 0 {
        return 0;
    }
    // floor division without overflow: b > 0 so a.div_euclid(b) cannot overflow.
    let q = a.div_euclid(b);
    let r = a.rem_euclid(b); // 0 <= r < b
                             // Round half up: add one when 2r >= b. 0 <= r < b, so b - r cannot wrap.
    if r >= b.wrapping_sub(r) {
        q.saturating_add(1)
    } else {
        q
    }
}

/// Saturating sum of `u64`s (the plain `sum` carries an overflow panic path in checked builds).
pub fn sum_u64(values: impl Iterator<Item = u64>) -> u64 {
    values.fold(0, u64::saturating_add)
}

/// Saturating sum of `i64`s.
pub fn sum_i64(values: impl Iterator<Item = i64>) -> i64 {
    values.fold(0, i64::saturating_add)
}

/// Clamps an `i64` into `i32`.
pub fn sat_i32(v: i64) -> i32 {
    v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// Clamps a `u64` into `u32`.
pub fn sat_u32(v: u64) -> u32 {
    if v > u64::from(u32::MAX) {
        u32::MAX
    } else {
        v as u32
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    fn log2_ref(v: u64) -> f64 {
        256.0 * (v as f64).log2()
    }

    #[test]
    fn log2_q8_is_within_half_an_lsb_on_small_inputs() {
        for v in 1..200_000u64 {
            let got = f64::from(log2_q8(v).0);
            let want = log2_ref(v);
            assert!((got - want).abs() <= 0.506, "v={v} got={got} want={want}");
        }
    }

    #[test]
    fn log2_q8_is_within_half_an_lsb_on_large_inputs() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..1_000_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = x >> (x % 64);
            if v == 0 {
                continue;
            }
            let got = f64::from(log2_q8(v).0);
            let want = log2_ref(v);
            assert!((got - want).abs() <= 0.506, "v={v} got={got} want={want}");
        }
        assert_eq!(log2_q8(u64::MAX).0, 64 * 256);
        assert_eq!(log2_1p_q8(u64::MAX).0, 64 * 256);
    }

    #[test]
    fn log2_q8_is_monotone() {
        let mut prev = 0;
        for v in 1..100_000u64 {
            let l = log2_q8(v).0;
            assert!(l >= prev);
            prev = l;
        }
    }

    #[test]
    fn exp2_q8_matches_float_within_relative_2_pow_minus_28() {
        for l in 0..(63 * 256) {
            let got = exp2_q8(Log2Q8(l)) as f64;
            let want = (f64::from(l) / 256.0).exp2();
            let tol = want * 2f64.powi(-28) + 0.5;
            assert!((got - want).abs() <= tol, "l={l} got={got} want={want}");
        }
    }

    #[test]
    fn exp2m1_inverts_log2_1p_within_a_quarter_percent() {
        for v in [0u64, 1, 2, 10, 1000, 123_456, 10_000_000_000, 1 << 50] {
            let back = exp2m1_q8(log2_1p_q8(v)) as f64;
            let v = v as f64;
            assert!(
                (back - v).abs() <= 0.0014 * (v + 1.0) + 1.0,
                "v={v} back={back}"
            );
        }
    }

    #[test]
    fn isqrt_is_floor_sqrt() {
        for v in (0..100_000u64).chain([u64::MAX, u64::MAX - 1, 1 << 62, (1 << 62) - 1]) {
            let r = isqrt_u64(v);
            assert!(r * r <= v);
            assert!((r + 1).checked_mul(r + 1).is_none_or(|s| s > v));
        }
    }

    #[test]
    fn div_round_rounds_half_up_and_never_overflows() {
        assert_eq!(div_round_i64(7, 2), 4);
        assert_eq!(div_round_i64(-7, 2), -3);
        assert_eq!(div_round_i64(-8, 3), -3);
        assert_eq!(div_round_i64(5, 0), 0);
        assert_eq!(div_round_i64(i64::MAX, 1), i64::MAX);
        assert_eq!(div_round_i64(i64::MIN, 1), i64::MIN);
        assert_eq!(div_round_i64(i64::MAX, 2), i64::MAX / 2 + 1);
    }
}
