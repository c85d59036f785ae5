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
//!   model can span many orders of magnitude.)
//!
//! Error bound (real-number evaluation of the unquantised weights vs this function):
//! `0.5 + N_FEATURES * 2^24 * 2^-33 + 2^-17` = 0.5 + 58/512 + 2^-17 ≈ 0.614 target units. The
//! host-side constant the trainer checks against lives in `quantize.rs`.
//!
//! Cost: one 64×64→128 multiply and a 128-bit add per non-zero weight; no branch depends on
//! the features. The kernel evaluates all targets in one sweep over features clamped once
//! ([`LinearRef::predict_many`] on [`Lanes`]): each feature is loaded once for every model
//! instead of each model clamping its own copy, so what is left is close to the floor of any
//! exact scheme, one widening multiply per term.
//! No floats, no allocation, no panics.

use super::compat::as_chunks;
use super::forest::Lanes;
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
    /// Bit `j` set when weight `j` is not zero.
    nonzero: u64,
}

/// [`LinearRef::nonzero`] of a model without zero weights.
const ALL_FEATURES: u64 = (1 << N_FEATURES) - 1;
const _: () = assert!(N_FEATURES < 64);

impl<'a> LinearRef<'a> {
    /// Checks the invariants; `None` if they do not hold (`weights` must be `8 * N_FEATURES`
    /// bytes).
    pub(super) fn new(frac_bits: u32, intercept_q16: i64, weights: &'a [u8]) -> Option<Self> {
        let (chunks, rest) = as_chunks::<8>(weights);
        let weights = <&[[u8; 8]; N_FEATURES]>::try_from(chunks).ok()?;
        let ok =
            (LINEAR_MIN_FRAC_BITS..=LINEAR_MAX_FRAC_BITS).contains(&frac_bits) && rest.is_empty();
        let nonzero = weights
            .iter()
            .enumerate()
            .filter(|(_, w)| **w != [0; 8])
            .fold(0u64, |m, (j, _)| m | 1u64.wrapping_shl(j as u32));
        // INVARIANT: frac_bits checked just above.
        ok.then_some(Self {
            frac_bits,
            intercept_q16,
            weights,
            nonzero,
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
        if self.nonzero != ALL_FEATURES {
            return self.predict_lanes(&Lanes::new(x));
        }
        // One dense model: clamping inside the sweep is cheaper than preparing `Lanes`.
        let mut acc: i128 = 0;
        for (w, &x) in self.weights.iter().zip(x) {
            acc = acc.wrapping_add(term(w, x.clamp(-FEATURE_MAX, FEATURE_MAX)));
        }
        self.finish(acc)
    }

    /// [`Self::predict_delta`] on features already clamped (build [`Lanes`] once per process
    /// and share it between targets and with the forests).
    pub fn predict_lanes(&self, lanes: &Lanes) -> i64 {
        let [delta] = Self::predict_many(&[*self], lanes);
        delta
    }

    /// The features it reads: bit `j` for a non-zero weight `j`. Its output changes only when
    /// one of them does.
    pub fn reads(&self) -> u64 {
        self.nonzero
    }

    /// Whether every weight is zero (the model predicts its intercept).
    pub fn is_constant(&self) -> bool {
        self.nonzero == 0
    }

    /// [`Self::predict_lanes`] of several models in one sweep over the features (same results):
    /// each feature is loaded once and the loop is shared, so four models cost far fewer
    /// instructions than four sweeps that clamp on their own. `N_TARGETS` models keep their
    /// accumulators in x86-64 registers.
    ///
    /// Features whose weight is zero in every model are skipped (a zero term changes nothing):
    /// a trained model's collinearity filter zeroes some of the weights, and a target whose
    /// changes were shrunk to nothing has no weights at all.
    pub fn predict_many<const K: usize>(models: &[Self; K], lanes: &Lanes) -> [i64; K] {
        let x = lanes.features();
        let mut acc = [0i128; K];
        let used = models.iter().fold(0, |m, l| m | l.nonzero);
        if used == ALL_FEATURES {
            for (j, &x) in x.iter().enumerate() {
                add_terms(&mut acc, models, j, x);
            }
        } else {
            let mut rest = used;
            while rest != 0 {
                let j = rest.trailing_zeros() as usize;
                rest &= rest.wrapping_sub(1);
                if let Some(&x) = x.get(j) {
                    add_terms(&mut acc, models, j, x);
                }
            }
        }
        let mut out = [0i64; K];
        for ((o, m), &a) in out.iter_mut().zip(models).zip(&acc) {
            *o = m.finish(a);
        }
        out
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

/// Adds feature `j`'s term `w_j x` of every model to its accumulator.
#[inline(always)]
fn add_terms<const K: usize>(acc: &mut [i128; K], models: &[LinearRef<'_>; K], j: usize, x: i32) {
    for (a, m) in acc.iter_mut().zip(models) {
        if let Some(w) = m.weights.get(j) {
            *a = a.wrapping_add(term(w, x));
        }
    }
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

    /// `intercept + Σ w x` on clamped features, exactly, rounded half up (the definition).
    fn reference(frac: u32, intercept: i64, w: &[i64; N_FEATURES], x: &[i32; N_FEATURES]) -> i64 {
        let dot: i128 = w
            .iter()
            .zip(x)
            .map(|(&w, &x)| i128::from(w) * i128::from(x.clamp(-FEATURE_MAX, FEATURE_MAX)))
            .sum();
        let acc = (i128::from(intercept) << (frac - INTERCEPT_FRAC_BITS)) + dot;
        ((acc + (1 << (frac - 1))) >> frac) as i64
    }

    #[test]
    fn zero_weights_are_skipped_without_changing_results() {
        // Dense, sparse, sparse with other zeros, constant: fused and alone, any mix.
        let patterns: [fn(usize) -> bool; 4] =
            [|_| true, |j| j % 3 == 0, |j| j % 5 != 1, |_| false];
        let mut w = [[0i64; N_FEATURES]; 4];
        for (m, keep) in w.iter_mut().zip(patterns) {
            for (j, v) in m.iter_mut().enumerate() {
                let magnitude = (j as i64 + 1) * 0x0123_4567_89ab;
                *v = if keep(j) {
                    magnitude * if j % 2 == 0 { 1 } else { -1 }
                } else {
                    0
                };
            }
        }
        let bytes = w.map(|w| weights(&w));
        let models: Vec<LinearRef<'_>> = bytes
            .iter()
            .enumerate()
            .map(|(i, b)| LinearRef::new(40 + i as u32, 3 << 15, b).unwrap())
            .collect();
        assert!(models[3].is_constant() && !models[1].is_constant());
        let mut x = [0i32; N_FEATURES];
        for (j, v) in x.iter_mut().enumerate() {
            *v = (j as i32 * 7919 - 200_000) * if j % 4 == 0 { 100 } else { 1 };
        }
        x[5] = i32::MAX;
        x[6] = i32::MIN;
        let lanes = Lanes::new(&x);
        let expect: Vec<i64> = (0..4)
            .map(|i| reference(40 + i as u32, 3 << 15, &w[i], &x))
            .collect();
        let all = [models[0], models[1], models[2], models[3]];
        assert_eq!(LinearRef::predict_many(&all, &lanes).to_vec(), expect);
        let sparse = [models[1], models[2], models[3]];
        assert_eq!(
            LinearRef::predict_many(&sparse, &lanes).to_vec(),
            expect[1..]
        );
        for (m, e) in models.iter().zip(&expect) {
            assert_eq!(m.predict_delta(&x), *e);
            assert_eq!(m.predict_lanes(&lanes), *e);
        }
    }

    #[test]
    fn invalid_shapes_are_refused() {
        let bytes = weights(&[0; N_FEATURES]);
        assert!(LinearRef::new(31, 0, &bytes).is_none());
        assert!(LinearRef::new(63, 0, &bytes).is_none());
        assert!(LinearRef::new(32, 0, &bytes[1..]).is_none());
    }
}
