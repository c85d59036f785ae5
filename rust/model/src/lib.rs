//! procperf's shared core, compiled both into the kernel module (by Kbuild, through `#[path]`
//! modules, with no cargo and no external crates) and into the trainer (by cargo, with feature
//! `std`). What the kernel predicts is what the trainer validated because both run this code.
//!
//! # API for users
//!
//! Data path: [`sample::RawSample`] → [`history::History`] → [`features`] → [`blob::ModelRef`]
//! → [`blend`], per process in [`forecast::Forecast`].
//!
//! - Schema: [`schema::FEATURE_NAMES`], [`schema::N_FEATURES`], [`schema::Feature`],
//!   [`schema::Target`], [`schema::N_TARGETS`], [`schema::HORIZON`], [`history::HISTORY_LEN`],
//!   [`schema::SCHEMA_ID`].
//! - Kernel, per process per pass: `history.push(&raw)`, then
//!   [`blob::ModelRef::predict_history`]`(&history)`, or the parts:
//!   [`features::compute`]`(&history) -> Option<[i32; N_FEATURES]>`,
//!   [`target::current_levels_of`] (the persistence forecast), [`blob::ModelRef::predict_all`].
//!   A model comes only from [`blob::parse`]`(&bytes) -> Result<ModelRef, ParseError>`, which
//!   validates everything; levels print with [`target::display_milli`]. The `interval_ms` and
//!   `capacity` files take their number from [`setting::parse_decimal_u32`].
//! - Kernel and trainer, per process: one [`forecast::Forecast`], the owner of its forecast
//!   state. The kernel calls [`forecast::Forecast::update`]`(&history, &model)` after each push
//!   (input reuse, still refresh, blending with persistence and the base,
//!   [`forecast::Forecast::model_changed`] on a new model); `trainer predict` replays the same
//!   steps over a recording's rows with [`forecast::Forecast::step`], `trainer fit` over its float
//!   forests' forecasts with [`forecast::Forecast::publish`].
//! - Trainer, per process: [`window::for_each_training_row`]`(&samples, |row| ..)` gives
//!   features, current levels and learned target values; [`window::for_each_feature_row`] the
//!   same without targets. Never compute a feature elsewhere.
//! - Trainer, export (feature `std`): fit `float::ModelF64`, then `model.quantize()?`,
//!   `QuantModel::to_checked_bytes()`, and `quantize::measure_error(..).within_bounds()` before
//!   writing the blob.
//!
//! Every module here is kernel-safe: `core` only, no floats, no allocation, no panics, no
//! overflow; sibling modules are reached through `super::` because in the kernel build this crate
//! is a module of the kernel crate. Code that runs for every process in every pass iterates arrays
//! by reference (`.iter()`, `.zip(a.iter())`), never by value (`for x in ARRAY`, `.zip(array)`,
//! `array.map(..)`): the kernel's `core` does not inline the by-value iterator's length, which then
//! costs an out-of-line call per loop.
#![no_std]
// What the kernel compiles must not panic (check-kernel-build.sh also finds implicit panic paths);
// the std feature and tests may unwrap.
#![cfg_attr(
    not(any(test, feature = "std")),
    warn(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable
    )
)]

#[cfg(feature = "std")]
extern crate std;

pub mod adapt;
pub mod anomaly;
pub mod blend;
pub mod blob;
mod compat;
pub mod crc32;
pub mod features;
pub mod fixed;
pub mod forecast;
pub mod forest;
pub mod group;
pub mod history;
pub mod linear;
pub mod sample;
pub mod schema;
pub mod setting;
pub mod target;
pub mod window;

#[cfg(feature = "std")]
pub mod float;
#[cfg(feature = "std")]
pub mod owned;
#[cfg(feature = "std")]
pub mod quantize;
#[cfg(feature = "std")]
pub mod synth;
