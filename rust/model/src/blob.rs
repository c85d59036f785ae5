//! The model blob: the byte format the trainer writes and the kernel's `model` file accepts, its
//! complete validation ([`parse`]) and the validated view that predicts ([`ModelRef`]).
//!
//! All integers are little-endian and read with `from_le_bytes`, so the buffer may have any
//! alignment. The kernel copies a user write into its own buffer, calls [`parse`] on it, and keeps
//! the [`ModelRef`] (which borrows that buffer) only if parsing succeeded: a `ModelRef` exists only
//! for a blob whose every length, count, index, offset, depth and checksum has been checked, so
//! prediction needs no checks and cannot fail.
//!
//! Layout (offsets in bytes; `N` = `N_FEATURES`):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | [`MAGIC`] `"PPMODEL\0"` |
//! | 8 | 4 | [`FORMAT_VERSION`] |
//! | 12 | 4 | total length of the blob, CRC included |
//! | 16 | 4 | [`SCHEMA_ID`] the model was trained for |
//! | 20 | 2 | `N_FEATURES` |
//! | 22 | 2 | head mask: bit `h·N_TARGETS + t` set when `Target::ALL[t]` has models at horizon `HORIZONS[h]`; non-zero |
//! | 24 | 4 | training sampling interval, ms, > 0 |
//! | 28 | 2 | nominal coverage of the intervals, permille, 1..=999 (800 = 80 %) |
//! | 30 | 2 | metadata length, <= [`MAX_METADATA_LEN`] |
//! | 32 | 2 | number of horizons, `N_HORIZONS` |
//! | 34 | 2 | reserved, 0 |
//! | 36 | 2 per horizon | the horizons in intervals, shortest first, equal to [`HORIZONS`] |
//! | [`HEADER_LEN`] | | one target section per set bit of the head mask, in bit order (below) |
//! | | meta | metadata: UTF-8 text (training summary for `model_info`) |
//! | end-4 | 4 | CRC-32 of every byte before it |
//!
//! Target section: linear part, then forest part.
//!
//! | size | field |
//! |---|---|
//! | 1 | linear weight fraction bits, 32..=62 |
//! | 1 | reserved, 0 |
//! | 2 | base EWMA factor, permille, 1..=1000 ([`BaseAlpha`]; 1000 = newest level) |
//! | 8 | intercept, `i64` Q16 target units |
//! | 4 + 4 | linear interval offsets lo, hi (`i32` target units, lo <= hi) |
//! | 8 N | weights, `i64` in Q(fraction bits) |
//! | 2 | number of trees, 1..=[`MAX_TREES`] |
//! | 1 | leaf fraction bits, 0..=16 |
//! | 1 | reserved, 0 |
//! | 4 | number of nodes, trees..=[`MAX_FOREST_NODES`] |
//! | 4 + 4 | forest interval offsets lo, hi |
//! | 2 per tree | roots, `u16` |
//! | 8 per node | node record ([`NODE_LEN`]): threshold or leaf value `i32`, right-child offset `u16`, feature index or [`LEAF`](super::forest::LEAF) `u8`, reserved `u8` = 0 |
//!
//! A blob of format 2 (models of a 5-interval horizon only, without the long-memory features) is
//! refused with [`ParseError::Version`]: its models were trained on another feature schema, so
//! reading it as a 5 s model would predict from features it never saw. Refit it.
//!
//! Both models predict a change from the target's base level (an EWMA of the window's levels
//! with the section's factor, see [`BaseAlpha`]); a prediction's level is `base + delta`.
//!
//! The interval offsets are the trainer's split-conformal residual quantiles (measured on a
//! calibration set, at the nominal coverage): a prediction's band is `[delta + lo, delta + hi]`.
//! They are NOT derived from the spread of tree outputs, which does not cover.
//!
//! No floats, no allocation, no panics on any input.

use super::crc32::crc32;
use super::features::compute_window;
use super::forest::{self, ForestError, ForestRef, Lanes, MAX_FOREST_NODES, MAX_TREES, NODE_LEN};
use super::history::{History, LongMemory, Slot, HISTORY_LEN};
use super::linear::LinearRef;
use super::schema::{Target, HORIZONS, N_FEATURES, N_HORIZONS, N_TARGETS, SCHEMA_ID};
use super::target::{level_from_delta, window_levels, BaseAlpha};

/// First 8 bytes of every blob.
pub const MAGIC: [u8; 8] = *b"PPMODEL\0";
/// Version of this layout; a blob of another version is refused.
pub const FORMAT_VERSION: u32 = 3;
/// Bytes before the first target section.
pub const HEADER_LEN: usize = 36 + 2 * N_HORIZONS;
/// Largest accepted blob (8 heads of 65535-node forests, 8 bytes a node, take 4.2 MB).
pub const MAX_BLOB_LEN: usize = 5 << 20;
/// Number of heads: one target at one horizon. Head `h·N_TARGETS + t` is target `t` at
/// `HORIZONS[h]`.
pub const N_HEADS: usize = N_HORIZONS * N_TARGETS;
const _: () = assert!(N_HEADS <= 16);
/// Largest metadata text, bytes.
pub const MAX_METADATA_LEN: usize = 1024;
/// Bytes of the fixed part of a linear section (before the weights).
pub const LINEAR_HEADER_LEN: usize = 20;
/// Bytes of the fixed part of a forest section (before the roots).
pub const FOREST_HEADER_LEN: usize = 16;

/// Why a blob was refused. Offsets and indices point at the first problem found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Shorter than a header plus checksum, or longer than [`MAX_BLOB_LEN`].
    Size,
    /// Does not start with [`MAGIC`].
    Magic,
    /// Written in another [`FORMAT_VERSION`].
    Version {
        /// The blob's version.
        found: u32,
    },
    /// The length field disagrees with the number of bytes given (truncated or padded).
    Length {
        /// The blob's length field.
        declared: u32,
    },
    /// The checksum does not match: the blob was corrupted.
    Checksum,
    /// Trained for another feature schema.
    Schema {
        /// The blob's schema id.
        found: u32,
    },
    /// A header field out of range (feature count, head mask, interval, coverage, metadata
    /// length, reserved bytes, horizons).
    Header,
    /// A target section is cut short by the end of the blob.
    Truncated {
        /// Index of the head (`h·N_TARGETS + Target::index`).
        head: usize,
    },
    /// A linear model's fraction bits or reserved bytes are invalid.
    Linear {
        /// Index of the head.
        head: usize,
    },
    /// A base EWMA factor outside 1..=1000 permille.
    Base {
        /// Index of the head.
        head: usize,
    },
    /// An interval has lo > hi.
    Interval {
        /// Index of the head.
        head: usize,
    },
    /// A forest failed validation.
    Forest {
        /// Index of the head.
        head: usize,
        /// What is wrong with it.
        error: ForestError,
    },
    /// Metadata is not UTF-8, or bytes are left over between the sections and the checksum.
    Metadata,
}

impl ParseError {
    /// A short description for logs.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Size => "blob too short or too long",
            Self::Magic => "not a procperf model (bad magic)",
            Self::Version { .. } => {
                "unsupported blob format version: a model of another procperf, for other features \
                 and horizons; refit it with this version's trainer"
            }
            Self::Length { .. } => "length field does not match the data (truncated?)",
            Self::Checksum => "checksum mismatch (corrupted)",
            Self::Schema { .. } => "model trained for another feature schema",
            Self::Header => "invalid header field",
            Self::Truncated { .. } => "target section cut short",
            Self::Linear { .. } => "invalid linear model",
            Self::Base { .. } => "base EWMA factor outside 1..=1000 permille",
            Self::Interval { .. } => "interval lower offset above upper offset",
            Self::Forest { .. } => "invalid forest",
            Self::Metadata => "invalid metadata section",
        }
    }
}

impl core::fmt::Display for ParseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.reason())?;
        match *self {
            Self::Version { found } => write!(f, " (found {found}, expected {FORMAT_VERSION})"),
            Self::Schema { found } => write!(f, " ({found:#010x}, expected {SCHEMA_ID:#010x})"),
            Self::Forest { head, error } => write!(f, " ({}: {error:?})", HeadName(head)),
            Self::Truncated { head }
            | Self::Linear { head }
            | Self::Base { head }
            | Self::Interval { head } => {
                write!(f, " ({})", HeadName(head))
            }
            _ => Ok(()),
        }
    }
}

/// `cpu at 60 intervals` for a head index.
struct HeadName(usize);

impl core::fmt::Display for HeadName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let t = Target::from_index(self.0 % N_TARGETS).map_or("?", Target::name);
        match HORIZONS.get(self.0 / N_TARGETS) {
            Some(h) => write!(f, "{t} at {h} intervals"),
            None => write!(f, "head {}", self.0),
        }
    }
}

impl core::error::Error for ParseError {}

/// A calibrated interval around a predicted change, target units: `[delta + lo, delta + hi]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IntervalOffsets {
    /// Lower offset (usually negative).
    pub lo: i32,
    /// Upper offset, `>= lo`.
    pub hi: i32,
}

/// The two models of one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetModelRef<'a> {
    /// The EWMA factor of the base level the predicted changes are added to.
    pub base: BaseAlpha,
    /// The linear model.
    pub linear: LinearRef<'a>,
    /// Its interval offsets.
    pub linear_interval: IntervalOffsets,
    /// The forest.
    pub forest: ForestRef<'a>,
    /// Its interval offsets.
    pub forest_interval: IntervalOffsets,
}

impl TargetModelRef<'_> {
    /// Levels from the base level and the two predicted changes, with their intervals.
    fn prediction(&self, level: i64, linear: i64, forest: i64) -> Prediction {
        let mut p = Prediction::default();
        self.set_linear(&mut p, level, linear);
        self.set_forest(&mut p, level, forest);
        p
    }

    /// The linear model's fields of `p` from the base level and its predicted change.
    fn set_linear(&self, p: &mut Prediction, level: i64, delta: i64) {
        let at = |offset: i32| level_from_delta(level, delta.saturating_add(i64::from(offset)));
        p.linear = at(0);
        p.linear_lo = at(self.linear_interval.lo);
        p.linear_hi = at(self.linear_interval.hi);
    }

    /// The forest's fields of `p` from the base level and its predicted change.
    fn set_forest(&self, p: &mut Prediction, level: i64, delta: i64) {
        let at = |offset: i32| level_from_delta(level, delta.saturating_add(i64::from(offset)));
        p.forest = at(0);
        p.forest_lo = at(self.forest_interval.lo);
        p.forest_hi = at(self.forest_interval.hi);
    }
}

/// One target's predictions, all as levels in target units (clamped at 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prediction {
    /// Linear model point forecast.
    pub linear: i64,
    /// Lower end of the linear model's calibrated interval.
    pub linear_lo: i64,
    /// Upper end of the linear model's calibrated interval.
    pub linear_hi: i64,
    /// Forest point forecast.
    pub forest: i64,
    /// Lower end of the forest's calibrated interval.
    pub forest_lo: i64,
    /// Upper end of the forest's calibrated interval.
    pub forest_hi: i64,
}

/// A validated model blob. Only [`parse`] creates one; it borrows the parsed bytes.
///
/// ```
/// # #[cfg(feature = "std")] {
/// use procperf_model::blob::parse;
/// use procperf_model::features::compute;
/// use procperf_model::schema::Target;
/// use procperf_model::synth::{busy_history, random_model};
/// use procperf_model::target::{display_milli, window_levels};
///
/// // What the trainer exports (here an untrained synthetic model) and the kernel loads:
/// let bytes = random_model(1, 8, 4).quantize().unwrap().to_checked_bytes().unwrap();
/// let model = parse(&bytes).unwrap();
///
/// // Per process per pass: the window of its history, then every target's prediction at the
/// // first horizon (index 0 of `HORIZONS`: 5 intervals).
/// let history = busy_history(7);
/// let window = history.window().unwrap();
/// let cpu = model.predict_window(0, &window, history.long())[Target::Cpu.index()].unwrap();
/// assert!(cpu.forest_lo <= cpu.forest && cpu.forest <= cpu.forest_hi);
/// let _percent_milli = display_milli(Target::Cpu, cpu.forest);
///
/// // The same, one step at a time: features, base level, prediction.
/// let features = compute(&history).unwrap();
/// let base = model.base_levels(0, &window_levels(&window));
/// assert_eq!(model.predict(0, Target::Cpu, &features, base[Target::Cpu.index()]), Some(cpu));
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelRef<'a> {
    interval_ms: u32,
    coverage_permille: u16,
    metadata: &'a str,
    heads: [Option<TargetModelRef<'a>>; N_HEADS],
}

/// Predictions of every target a model has at one horizon, in target units.
pub type Predictions = [Option<Prediction>; N_TARGETS];

impl<'a> ModelRef<'a> {
    /// Sampling interval of the training data, ms.
    pub fn interval_ms(&self) -> u32 {
        self.interval_ms
    }

    /// Nominal coverage of the intervals, permille.
    pub fn coverage_permille(&self) -> u16 {
        self.coverage_permille
    }

    /// The metadata text.
    pub fn metadata(&self) -> &'a str {
        self.metadata
    }

    /// The models of `target` at horizon index `h` (into [`HORIZONS`]), if the blob has them.
    pub fn target(&self, h: usize, target: Target) -> Option<&TargetModelRef<'a>> {
        self.heads
            .get(h.checked_mul(N_TARGETS)?.checked_add(target.index())?)
            .and_then(Option::as_ref)
    }

    /// Whether the blob has any model at horizon index `h`.
    pub fn has_horizon(&self, h: usize) -> bool {
        Target::ALL.iter().any(|&t| self.target(h, t).is_some())
    }

    /// Every target's base level at horizon index `h` from the window's levels (`past` as from
    /// [`window_levels`]); the newest level for a target without models.
    pub fn base_levels(
        &self,
        h: usize,
        past: &[[i64; HISTORY_LEN]; N_TARGETS],
    ) -> [i64; N_TARGETS] {
        let mut out = [0i64; N_TARGETS];
        for ((o, &t), p) in out.iter_mut().zip(Target::ALL.iter()).zip(past) {
            *o = self
                .target(h, t)
                .map_or(BaseAlpha::PERSISTENCE, |t| t.base)
                .level(p);
        }
        out
    }

    /// Predicts one target at horizon index `h` from a feature vector and the target's base level.
    pub fn predict(
        &self,
        h: usize,
        target: Target,
        features: &[i32; N_FEATURES],
        base: i64,
    ) -> Option<Prediction> {
        let m = self.target(h, target)?;
        let linear = m.linear.predict_delta(features);
        let forest = m.forest.predict_delta(features);
        Some(m.prediction(base, linear, forest))
    }

    /// Predicts every target present at horizon index `h`; `bases` as from
    /// [`Self::base_levels`]. Same results as [`Self::predict`] per target; all models share one
    /// prepared feature vector.
    pub fn predict_all(
        &self,
        h: usize,
        features: &[i32; N_FEATURES],
        bases: &[i64; N_TARGETS],
    ) -> Predictions {
        let lanes = Lanes::new(features);
        self.predict_lanes(h, &lanes, bases)
    }

    /// [`Self::predict_all`] of every horizon, from one prepared feature vector.
    pub fn predict_horizons(
        &self,
        features: &[i32; N_FEATURES],
        bases: &[[i64; N_TARGETS]; N_HORIZONS],
    ) -> [Predictions; N_HORIZONS] {
        let lanes = Lanes::new(features);
        let mut out = [[None; N_TARGETS]; N_HORIZONS];
        for ((h, o), b) in (0..N_HORIZONS).zip(out.iter_mut()).zip(bases) {
            *o = self.predict_lanes(h, &lanes, b);
        }
        out
    }

    /// Brings `predictions`, [`Self::predict_horizons`] of an earlier feature vector and the
    /// same `bases`, up to date with `features`, which differ from that vector only in the
    /// features of the mask `changed` (bit `j` for feature `j`): only the models that read a
    /// changed feature are evaluated again, the others' outputs cannot have moved. The result
    /// equals `predict_horizons(features, bases)`. Returns whether any model was evaluated.
    pub fn repredict(
        &self,
        changed: u64,
        features: &[i32; N_FEATURES],
        bases: &[[i64; N_TARGETS]; N_HORIZONS],
        predictions: &mut [Predictions; N_HORIZONS],
    ) -> bool {
        let mut lanes = None;
        let mut evaluated = false;
        for (h, (per_target, bases)) in (0..N_HORIZONS).zip(predictions.iter_mut().zip(bases)) {
            for ((p, &t), &base) in per_target.iter_mut().zip(Target::ALL.iter()).zip(bases) {
                let (Some(m), Some(p)) = (self.target(h, t), p.as_mut()) else {
                    continue;
                };
                let (linear, forest) = (m.linear.reads() & changed, m.forest.reads() & changed);
                if linear == 0 && forest == 0 {
                    continue;
                }
                evaluated = true;
                let lanes = lanes.get_or_insert_with(|| Lanes::new(features));
                if linear != 0 {
                    m.set_linear(p, base, m.linear.predict_lanes(lanes));
                }
                if forest != 0 {
                    m.set_forest(p, base, m.forest.predict_lanes(lanes));
                }
            }
        }
        evaluated
    }

    fn predict_lanes(&self, h: usize, lanes: &Lanes, bases: &[i64; N_TARGETS]) -> Predictions {
        let heads = |t: Target| self.target(h, t);
        // The usual model has every target: one sweep over the features for all linear models,
        // unless some are constant (then each of the others sweeps only its non-zero weights).
        let mut linear = [None; N_TARGETS];
        if let [Some(a), Some(b), Some(c), Some(d)] = Target::ALL.map(heads) {
            if [a, b, c, d].iter().all(|t| !t.linear.is_constant()) {
                let models = [a.linear, b.linear, c.linear, d.linear];
                let deltas = LinearRef::predict_many(&models, lanes);
                for (l, &d) in linear.iter_mut().zip(&deltas) {
                    *l = Some(d);
                }
            }
        }
        let mut out = [None; N_TARGETS];
        let per_target = out
            .iter_mut()
            .zip(Target::ALL.iter())
            .zip(bases)
            .zip(&linear);
        for (((o, &t), &base), &linear) in per_target {
            if let Some(t) = heads(t) {
                let linear = linear.unwrap_or_else(|| t.linear.predict_lanes(lanes));
                *o = Some(t.prediction(base, linear, t.forest.predict_lanes(lanes)));
            }
        }
        out
    }

    /// Features, base levels and predictions at horizon index `h` of a full window and the long
    /// memory of its history.
    pub fn predict_window(
        &self,
        h: usize,
        window: &[Slot; HISTORY_LEN],
        long: &LongMemory,
    ) -> Predictions {
        self.predict_all(
            h,
            &compute_window(window, long),
            &self.base_levels(h, &window_levels(window)),
        )
    }

    /// [`Self::predict_window`] of a history; `None` until it is full.
    pub fn predict_history(&self, h: usize, history: &History) -> Option<Predictions> {
        Some(self.predict_window(h, &history.window()?, history.long()))
    }
}

/// A bounds-checked little-endian reader.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.bytes.split_at_checked(n)?;
        self.bytes = rest;
        Some(head)
    }

    fn array<const L: usize>(&mut self) -> Option<[u8; L]> {
        self.take(L)?.try_into().ok()
    }

    fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }

    fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    fn i32(&mut self) -> Option<i32> {
        self.array().map(i32::from_le_bytes)
    }

    fn i64(&mut self) -> Option<i64> {
        self.array().map(i64::from_le_bytes)
    }
}

/// Validates a blob completely and returns a view that predicts from it.
///
/// Checks, in order: size bounds, magic, format version, length field, CRC, schema id, header
/// ranges, then every section (see [`forest::validate`] for trees) and that exactly the metadata
/// and checksum remain. Never panics and never allocates, on any input.
///
/// ```
/// use procperf_model::blob::{parse, ParseError};
/// assert_eq!(parse(b"not a model"), Err(ParseError::Size));
/// ```
pub fn parse(bytes: &[u8]) -> Result<ModelRef<'_>, ParseError> {
    if bytes.len() < HEADER_LEN + 4 || bytes.len() > MAX_BLOB_LEN {
        return Err(ParseError::Size);
    }
    let (body, crc) = bytes.split_last_chunk::<4>().ok_or(ParseError::Size)?;
    let mut r = Reader { bytes: body };
    let h = |v: Option<u32>| v.ok_or(ParseError::Size);
    if r.array::<8>() != Some(MAGIC) {
        return Err(ParseError::Magic);
    }
    let version = h(r.u32())?;
    if version != FORMAT_VERSION {
        return Err(ParseError::Version { found: version });
    }
    let declared = h(r.u32())?;
    if usize::try_from(declared).ok() != Some(bytes.len()) {
        return Err(ParseError::Length { declared });
    }
    if u32::from_le_bytes(*crc) != crc32(body) {
        return Err(ParseError::Checksum);
    }
    let schema = h(r.u32())?;
    if schema != SCHEMA_ID {
        return Err(ParseError::Schema { found: schema });
    }
    let n_features = r.u16().ok_or(ParseError::Header)?;
    let mask = r.u16().ok_or(ParseError::Header)?;
    let interval_ms = r.u32().ok_or(ParseError::Header)?;
    let coverage_permille = r.u16().ok_or(ParseError::Header)?;
    let meta_len = r.u16().ok_or(ParseError::Header)?;
    let n_horizons = r.u16().ok_or(ParseError::Header)?;
    let reserved = r.u16().ok_or(ParseError::Header)?;
    if usize::from(n_features) != N_FEATURES
        || mask == 0
        || u32::from(mask) >> N_HEADS != 0
        || interval_ms == 0
        || !(1..=999).contains(&coverage_permille)
        || usize::from(meta_len) > MAX_METADATA_LEN
        || usize::from(n_horizons) != N_HORIZONS
        || reserved != 0
    {
        return Err(ParseError::Header);
    }
    for &h in &HORIZONS {
        if r.u16().map(usize::from) != Some(h) {
            return Err(ParseError::Header);
        }
    }
    let mut heads = [None; N_HEADS];
    for (i, slot) in heads.iter_mut().enumerate() {
        if mask & (1 << i) != 0 {
            *slot = Some(parse_target(&mut r, i)?);
        }
    }
    let meta = r.take(usize::from(meta_len)).ok_or(ParseError::Metadata)?;
    if !r.bytes.is_empty() {
        return Err(ParseError::Metadata);
    }
    let metadata = core::str::from_utf8(meta).map_err(|_| ParseError::Metadata)?;
    Ok(ModelRef {
        interval_ms,
        coverage_permille,
        metadata,
        heads,
    })
}

fn parse_target<'a>(r: &mut Reader<'a>, head: usize) -> Result<TargetModelRef<'a>, ParseError> {
    let cut = ParseError::Truncated { head };
    let frac_bits = r.u8().ok_or(cut)?;
    let reserved = r.u8().ok_or(cut)?;
    let base = r.u16().ok_or(cut)?;
    let intercept = r.i64().ok_or(cut)?;
    let linear_interval = interval(r, head)?;
    let weights = r.take(8 * N_FEATURES).ok_or(cut)?;
    if reserved != 0 {
        return Err(ParseError::Linear { head });
    }
    let base = BaseAlpha::new(base).ok_or(ParseError::Base { head })?;
    let linear = LinearRef::new(u32::from(frac_bits), intercept, weights)
        .ok_or(ParseError::Linear { head })?;

    let n_trees = usize::from(r.u16().ok_or(cut)?);
    let leaf_frac_bits = r.u8().ok_or(cut)?;
    let reserved = r.u8().ok_or(cut)?;
    let n_nodes = r.u32().ok_or(cut)?;
    let forest_interval = interval(r, head)?;
    let bad_forest = ParseError::Forest {
        head,
        error: ForestError::Shape,
    };
    let n_nodes = usize::try_from(n_nodes).map_err(|_| bad_forest)?;
    if reserved != 0 || n_trees > MAX_TREES || n_nodes > MAX_FOREST_NODES {
        return Err(bad_forest);
    }
    // Bounded by the limits just checked: no overflow.
    let roots = r.take(2 * n_trees).ok_or(cut)?;
    let nodes = r.take(NODE_LEN * n_nodes).ok_or(cut)?;
    let forest = forest::validate(u32::from(leaf_frac_bits), roots, nodes)
        .map_err(|error| ParseError::Forest { head, error })?;
    Ok(TargetModelRef {
        base,
        linear,
        linear_interval,
        forest,
        forest_interval,
    })
}

fn interval(r: &mut Reader<'_>, head: usize) -> Result<IntervalOffsets, ParseError> {
    let cut = ParseError::Truncated { head };
    let lo = r.i32().ok_or(cut)?;
    let hi = r.i32().ok_or(cut)?;
    if lo > hi {
        return Err(ParseError::Interval { head });
    }
    Ok(IntervalOffsets { lo, hi })
}
