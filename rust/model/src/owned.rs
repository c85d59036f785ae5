//! Host only: the quantised model as owned values, and the serializer that writes the blob
//! `blob.rs` parses.
//!
//! [`QuantModel::to_bytes`] writes exactly the layout documented in `blob.rs`;
//! [`QuantModel::from_ref`] reads a parsed blob back, so `from_ref(parse(to_bytes(m))) == m` for
//! every valid model (a property test checks it). [`QuantModel::to_checked_bytes`] is what an
//! exporter should call: it serializes and then runs the kernel's own [`parse`] on the result.

use std::string::String;
use std::vec::Vec;

use super::blob::{
    parse, IntervalOffsets, ModelRef, ParseError, FORMAT_VERSION, HEADER_LEN, MAGIC, N_HEADS,
};
use super::crc32::crc32;
use super::schema::{Target, HORIZONS, N_FEATURES, N_HORIZONS, N_TARGETS, SCHEMA_ID};
use super::target::BaseAlpha;

/// A quantised linear model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuantLinear {
    /// Fraction bits of `weights`.
    pub frac_bits: u32,
    /// Intercept, Q16 target units.
    pub intercept_q16: i64,
    /// `N_FEATURES` weights in `Q(frac_bits)`.
    pub weights: Vec<i64>,
    /// Interval offsets, target units.
    pub interval: IntervalOffsets,
}

/// A quantised forest, node fields as parallel arrays of equal length (the serializer packs
/// them into the blob's node records, see `forest.rs`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuantForest {
    /// Fraction bits of leaf values.
    pub leaf_frac_bits: u32,
    /// Root node of each tree.
    pub roots: Vec<u16>,
    /// Per node: feature index or `LEAF`.
    pub feature: Vec<u8>,
    /// Per node: threshold or leaf value.
    pub threshold: Vec<i32>,
    /// Per node: right-child offset (0 for leaves).
    pub right: Vec<u16>,
    /// Interval offsets, target units.
    pub interval: IntervalOffsets,
}

/// Both quantised models of one target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuantTarget {
    /// The EWMA factor of the base level the predicted changes are added to.
    pub base: BaseAlpha,
    /// The linear model.
    pub linear: QuantLinear,
    /// The forest.
    pub forest: QuantForest,
}

/// A whole quantised model, ready to serialize.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuantModel {
    /// Sampling interval of the training data, ms.
    pub interval_ms: u32,
    /// Nominal interval coverage, permille.
    pub coverage_permille: u16,
    /// Per target, in [`Target::ALL`] order.
    pub heads: [Option<QuantTarget>; N_HEADS],
    /// UTF-8 training summary.
    pub metadata: String,
}

fn put_interval(out: &mut Vec<u8>, i: IntervalOffsets) {
    out.extend_from_slice(&i.lo.to_le_bytes());
    out.extend_from_slice(&i.hi.to_le_bytes());
}

impl QuantModel {
    /// Writes the blob. Does not validate: see [`Self::to_checked_bytes`]. Lengths that do not
    /// fit their fields are truncated by `as` casts, which the parser then rejects.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + 4096);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // total length, patched below
        out.extend_from_slice(&SCHEMA_ID.to_le_bytes());
        out.extend_from_slice(&(N_FEATURES as u16).to_le_bytes());
        let mask = self
            .heads
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_some())
            .fold(0u16, |m, (i, _)| m | 1 << i);
        out.extend_from_slice(&mask.to_le_bytes());
        out.extend_from_slice(&self.interval_ms.to_le_bytes());
        out.extend_from_slice(&self.coverage_permille.to_le_bytes());
        out.extend_from_slice(&(self.metadata.len() as u16).to_le_bytes());
        out.extend_from_slice(&(N_HORIZONS as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        for h in HORIZONS {
            out.extend_from_slice(&(h as u16).to_le_bytes());
        }
        debug_assert_eq!(out.len(), HEADER_LEN);
        for t in self.heads.iter().flatten() {
            let l = &t.linear;
            out.push(l.frac_bits as u8);
            out.push(0);
            out.extend_from_slice(&t.base.permille().to_le_bytes());
            out.extend_from_slice(&l.intercept_q16.to_le_bytes());
            put_interval(&mut out, l.interval);
            l.weights
                .iter()
                .for_each(|w| out.extend_from_slice(&w.to_le_bytes()));
            let f = &t.forest;
            out.extend_from_slice(&(f.roots.len() as u16).to_le_bytes());
            out.push(f.leaf_frac_bits as u8);
            out.push(0);
            out.extend_from_slice(&(f.feature.len() as u32).to_le_bytes());
            put_interval(&mut out, f.interval);
            f.roots
                .iter()
                .for_each(|r| out.extend_from_slice(&r.to_le_bytes()));
            // One NODE_LEN record per node: threshold, right offset, feature, reserved 0.
            for (i, &feature) in f.feature.iter().enumerate() {
                let threshold = f.threshold.get(i).copied().unwrap_or(0);
                let right = f.right.get(i).copied().unwrap_or(0);
                out.extend_from_slice(&threshold.to_le_bytes());
                out.extend_from_slice(&right.to_le_bytes());
                out.extend_from_slice(&[feature, 0]);
            }
        }
        out.extend_from_slice(self.metadata.as_bytes());
        let total = (out.len() + 4) as u32;
        out[12..16].copy_from_slice(&total.to_le_bytes());
        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Serializes and checks the result with the kernel's parser.
    ///
    /// ```
    /// use procperf_model::owned::QuantModel;
    /// use procperf_model::blob::ParseError;
    /// // A model without any target is refused, exactly as the kernel would.
    /// assert_eq!(QuantModel::default().to_checked_bytes(), Err(ParseError::Header));
    /// ```
    pub fn to_checked_bytes(&self) -> Result<Vec<u8>, ParseError> {
        let bytes = self.to_bytes();
        parse(&bytes)?;
        Ok(bytes)
    }

    /// Reads a parsed blob back into owned values.
    pub fn from_ref(m: &ModelRef<'_>) -> Self {
        let mut heads: [Option<QuantTarget>; N_HEADS] = Default::default();
        for (i, slot) in heads.iter_mut().enumerate() {
            *slot = m
                .target(i / N_TARGETS, Target::ALL[i % N_TARGETS])
                .map(|tm| {
                    let f = &tm.forest;
                    let nodes: Vec<(u8, i32, u16)> = (0..f.n_nodes()).map(|i| f.node(i)).collect();
                    QuantTarget {
                        base: tm.base,
                        linear: QuantLinear {
                            frac_bits: tm.linear.frac_bits(),
                            intercept_q16: tm.linear.intercept_q16(),
                            weights: tm.linear.weights().collect(),
                            interval: tm.linear_interval,
                        },
                        forest: QuantForest {
                            leaf_frac_bits: f.leaf_frac_bits(),
                            roots: (0..f.n_trees()).map(|i| f.root(i) as u16).collect(),
                            feature: nodes.iter().map(|n| n.0).collect(),
                            threshold: nodes.iter().map(|n| n.1).collect(),
                            right: nodes.iter().map(|n| n.2).collect(),
                            interval: tm.forest_interval,
                        },
                    }
                });
        }
        Self {
            interval_ms: m.interval_ms(),
            coverage_permille: m.coverage_permille(),
            heads,
            metadata: m.metadata().into(),
        }
    }
}
