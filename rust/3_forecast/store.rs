// SPDX-License-Identifier: GPL-2.0
//! The model store: the active model, validated once, shared by sampling passes and readers,
//! replaced atomically.
//!
//! The default model is the blob `make model` trained (`rust/model/default/model.bin`), embedded in
//! the module and parsed at load by the same `parse` as user uploads. An upload is copied into a
//! kernel buffer, validated completely, and only then swapped in; a pass holds its own reference to
//! the model it started with, so the old model is freed only when no pass or reader uses it.

use crate::model::{
    blob::{self, ModelRef, ParseError},
    schema::{Target, N_HORIZONS},
};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::{alloc::KVVec, new_mutex, prelude::*, sync::Arc, sync::Mutex};

/// The blob `make model` produced, embedded at build time.
static DEFAULT_BLOB: &[u8] = include_bytes!("../model/default/model.bin");

/// Where the active model came from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Default,
    Uploaded,
}

impl Source {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Source::Default => "default",
            Source::Uploaded => "uploaded",
        }
    }
}

/// A validated model and the bytes it borrows.
///
/// # Invariants
/// `view` was produced by `blob::parse` from the bytes of `DEFAULT_BLOB` or of `_owned`, which are
/// never mutated, moved or freed while `self` lives (a `KVVec`'s heap buffer stays put when the
/// vector value moves). `view` is private and handed out only by [`Model::view`], with a lifetime
/// no longer than a borrow of `self`, so no copy of it outlives the bytes.
pub(crate) struct Model {
    view: ModelRef<'static>,
    /// Holds the uploaded bytes `view` borrows (never read directly).
    _owned: Option<KVVec<u8>>,
    pub(crate) source: Source,
    pub(crate) len: usize,
    /// Monotonic ms at which it became active.
    pub(crate) since_ms: u64,
}

impl Model {
    fn default_model(now_ms: u64) -> Result<Self, ParseError> {
        let view = blob::parse(DEFAULT_BLOB)?;
        // INVARIANT: a static blob lives forever.
        Ok(Self {
            view,
            _owned: None,
            source: Source::Default,
            len: DEFAULT_BLOB.len(),
            since_ms: now_ms,
        })
    }

    fn from_upload(bytes: KVVec<u8>, now_ms: u64) -> Result<Self, ParseError> {
        let view = blob::parse(&bytes)?;
        // SAFETY: `view` borrows the vector's heap buffer, which moves into the same `Model` and is
        // never touched again; only the type invariant's shortened views of it are handed out.
        let view = unsafe { core::mem::transmute::<ModelRef<'_>, ModelRef<'static>>(view) };
        let len = bytes.len();
        // INVARIANT: see above.
        Ok(Self {
            view,
            _owned: Some(bytes),
            source: Source::Uploaded,
            len,
            since_ms: now_ms,
        })
    }

    /// The validated view, for as long as `self` is borrowed.
    pub(crate) fn view(&self) -> ModelRef<'_> {
        self.view
    }

    /// Totals over the model's targets, for `model_info`.
    pub(crate) fn summary(&self) -> Summary {
        let mut s = Summary {
            targets: 0,
            trees: 0,
            max_depth: 0,
            nodes: 0,
        };
        for (h, t) in (0..N_HORIZONS).flat_map(|h| Target::ALL.map(|t| (h, t))) {
            if let Some(m) = self.view.target(h, t) {
                s.targets += 1;
                s.trees += m.forest.n_trees();
                s.nodes += m.forest.n_nodes();
                s.max_depth = s.max_depth.max(m.forest.depth());
            }
        }
        s
    }
}

/// Summary of a model for `model_info`.
pub(crate) struct Summary {
    pub(crate) targets: usize,
    pub(crate) trees: usize,
    pub(crate) max_depth: usize,
    pub(crate) nodes: usize,
}

/// The active model and the upload counters.
#[pin_data]
pub(crate) struct ModelStore {
    #[pin]
    active: Mutex<Arc<Model>>,
    pub(crate) swaps: AtomicU64,
    pub(crate) rejected: AtomicU64,
}

impl ModelStore {
    pub(crate) fn new(now_ms: u64) -> Result<impl PinInit<Self, Error>> {
        let model = Model::default_model(now_ms).map_err(|e| {
            pr_err!("embedded default model is invalid: {}\n", e.reason());
            EINVAL
        })?;
        let active = Arc::new(model, GFP_KERNEL)?;
        Ok(try_pin_init!(Self {
            active <- new_mutex!(active, "procperf_model"),
            swaps: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
        }))
    }

    /// A reference to the active model, kept by the caller for as long as it needs it.
    pub(crate) fn active(&self) -> Arc<Model> {
        self.active.lock().clone()
    }

    /// Validates `bytes` completely and makes them the active model; on error nothing changes.
    pub(crate) fn swap(&self, bytes: &[u8], now_ms: u64) -> Result {
        let mut owned = KVVec::with_capacity(bytes.len(), GFP_KERNEL)?;
        owned.extend_from_slice(bytes, GFP_KERNEL)?;
        let model = match Model::from_upload(owned, now_ms) {
            Ok(m) => m,
            Err(e) => {
                self.rejected.fetch_add(1, Relaxed);
                pr_warn!(
                    "model rejected: {}; the active model is unchanged\n",
                    e.reason()
                );
                return Err(EINVAL);
            }
        };
        let new = Arc::new(model, GFP_KERNEL)?;
        // The old model is dropped here only if no pass or reader holds it; otherwise by the last.
        let old = core::mem::replace(&mut *self.active.lock(), new);
        drop(old);
        self.swaps.fetch_add(1, Relaxed);
        Ok(())
    }
}
