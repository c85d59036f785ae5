//! Linear model evaluation in integer arithmetic: `delta = intercept + Σ w_j x_j` on the raw
//! `i32` feature vector (the trainer folds standardisation into the weights before export).
//!
//! Representation, chosen so the kernel result is within a fixed, input-independent distance of
//! the exact real-number evaluation:
//!
//! - weights are `i64` in a per-model `Q(frac_bits)`, `frac_bits` in
//!   [`LINEAR_MIN_FRAC_BITS`]`..=`[`LINEAR_MAX_FRAC_BITS`]; the quantiser picks the largest that
//!   fits the biggest weight, so weights up to 2^30 target units per feature unit are
//!   representable, each with an absolute error of at most 2^-(frac_bits+1) <= 2^-33;
//! - the intercept is an `i64` in `Q16` ([`INTERCEPT_FRAC_BITS`]);
//! - features are clamped to ±[`FEATURE_MAX`] (2^24 - 1) and the dot product is accumulated
//!   exactly in `i128` (|w x| < 2^87, 64 terms < 2^93: no overflow is possible), then rounded
//!   half up to an integer once. (`i64` accumulation would need weights below 2^32 in a single
//!   per-model format, which loses small weights next to large ones: the folded weights of one
//!   model span 10^-4..10^4.)
//!
//! Error bound (real-number evaluation of the unquantised weights vs this function):
//! `0.5 + N_FEATURES * 2^24 * 2^-33 + 2^-17` = 0.5 + 58/512 + 2^-17 ≈ 0.614 target units. The
//! host-side constant the trainer checks against lives in `quantize.rs`.
//!
//! Cost: one 64×64→128 multiply and a 128-bit add per feature; no branch depends on the data.
//! (Evaluating all targets in one sweep over the features was tried: no faster, the multiplier
//! is the bottleneck either way.)
//! No floats, no allocation, no panics.

use super::schema::{FEATURE_MAX, N_FEATURES};

/// Smallest accepted fraction-bit count of linear weights.
pub const LINEAR_MIN_FRAC_BITS: u32 = 32;
/// Largest accepted fraction-bit count of linear weights.
pub const LINEAR_MAX_FRAC_BITS: u32 = 62;
/// Fraction bits of the intercept.
pub const INTERCEPT_FRAC_BITS: u32 = 16;

/// A validated view of one linear model inside a blob. Only the blob parser creates one.
///
/// # Invariants
/// `frac_bits` is within `LINEAR_MIN_FRAC_BITS..=LINEAR_MAX_FRAC_BITS` (the weights' length is
/// in the type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinearRef<'a> {
    frac_bits: u32,
    intercept_q16: i64,
    weights: &'a [[u8; 8]; N_FEATURES],
}

impl<'a> LinearRef<'a> {
    /// Checks the invariants; `None` if they do not hold (`weights` must be `8 * N_FEATURES`
    /// bytes).
    pub(super) fn new(frac_bits: u32, intercept_q16: i64, weights: &'a [u8]) -> Option<Self> {
        let (chunks, rest) = weights.as_chunks::<8>();
        let weights = <&[[u8; 8]; N_FEATURES]>::try_from(chunks).ok()?;
        let ok =
            (LINEAR_MIN_FRAC_BITS..=LINEAR_MAX_FRAC_BITS).contains(&frac_bits) && rest.is_empty();
        // INVARIANT: frac_bits checked just above.
        ok.then_some(Self {
            frac_bits,
            intercept_q16,
            weights,
        })
    }

    /// Fraction bits of the weights.
    pub fn frac_bits(&self) -> u32 {
        self.frac_bits
    }

    /// The intercept in `Q16` target units.
    pub fn intercept_q16(&self) -> i64 {
        self.intercept_q16
    }

    /// The quantised weights in `Q(frac_bits)`, in feature order.
    pub fn weights(&self) -> impl ExactSizeIterator<Item = i64> + 'a {
        self.weights.iter().map(|w| i64::from_le_bytes(*w))
    }

    /// The predicted change of the target, in target units, rounded half up.
    pub fn predict_delta(&self, x: &[i32; N_FEATURES]) -> i64 {
        let mut acc: i128 = 0;
        for (w, &x) in self.weights.iter().zip(x) {
            acc = acc.wrapping_add(term(w, clamp(x)));
        }
        self.finish(acc)
    }

    /// Adds the intercept to an exact dot product in `Q(frac_bits)` and rounds to target units.
    fn finish(&self, dot: i128) -> i64 {
        // frac_bits >= 32 by the invariant; `min` keeps the shifts in range regardless.
        // |dot| < 2^93 and |intercept << up| < 2^109: nothing here can wrap; the wrapping
        // operations only avoid emitting overflow checks.
        let frac = self.frac_bits.min(LINEAR_MAX_FRAC_BITS);
        let up = frac.saturating_sub(INTERCEPT_FRAC_BITS);
        let acc = i128::from(self.intercept_q16)
            .wrapping_shl(up)
            .wrapping_add(dot);
        let rounded = acc.wrapping_add(1i128.wrapping_shl(frac.saturating_sub(1))) >> frac;
        i64::try_from(rounded).unwrap_or(if rounded < 0 { i64::MIN } else { i64::MAX })
    }
}

fn clamp(x: i32) -> i32 {
    x.clamp(-FEATURE_MAX, FEATURE_MAX)
}

/// One exact product `w * x` (|w| < 2^63, |x| < 2^24: |w x| < 2^87; 64 of them < 2^93).
fn term(w: &[u8; 8], x: i32) -> i128 {
    i128::from(i64::from_le_bytes(*w)).wrapping_mul(i128::from(x))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn weights(w: &[i64; N_FEATURES]) -> Vec<u8> {
        w.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn intercept_only_model_returns_rounded_intercept() {
        let bytes = weights(&[0; N_FEATURES]);
        let m = LinearRef::new(32, (5 << 16) + (1 << 15), &bytes).unwrap();
        assert_eq!(m.predict_delta(&[123; N_FEATURES]), 6); // 5.5 rounds up
        let m = LinearRef::new(40, -(5 << 16) - (1 << 15), &bytes).unwrap();
        assert_eq!(m.predict_delta(&[0; N_FEATURES]), -5); // -5.5 rounds up to -5
    }

    #[test]
    fn weights_scale_features() {
        let mut w = [0i64; N_FEATURES];
        w[0] = 3 << 32; // 3.0
        w[1] = -(1 << 31); // -0.5
        let bytes = weights(&w);
        let m = LinearRef::new(32, 1 << 16, &bytes).unwrap();
        let mut x = [0i32; N_FEATURES];
        x[0] = 10;
        x[1] = 7;
        assert_eq!(m.predict_delta(&x), 1 + 30 - 3); // 27.5 → 28
        assert_eq!(m.weights().nth(1), Some(-(1 << 31)));
    }

    #[test]
    fn extreme_weights_and_features_do_not_overflow() {
        let bytes = weights(&[i64::MAX; N_FEATURES]);
        let m = LinearRef::new(62, i64::MAX, &bytes).unwrap();
        let big = m.predict_delta(&[i32::MAX; N_FEATURES]);
        assert!(big > 0);
        let m = LinearRef::new(32, i64::MIN, &bytes).unwrap();
        assert!(m.predict_delta(&[i32::MIN; N_FEATURES]) < 0);
    }

    #[test]
    fn invalid_shapes_are_refused() {
        let bytes = weights(&[0; N_FEATURES]);
        assert!(LinearRef::new(31, 0, &bytes).is_none());
        assert!(LinearRef::new(63, 0, &bytes).is_none());
        assert!(LinearRef::new(32, 0, &bytes[1..]).is_none());
    }
}
