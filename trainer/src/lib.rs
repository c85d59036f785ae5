//! procperf's offline trainer: collects per-process samples from /proc, turns them into supervised
//! rows with the model crate's window API, fits a linear and a random-forest model, evaluates them
//! against naive baselines, calibrates intervals and exports the fixed-point blob the kernel runs.
//!
//! The data path, one module each:
//!
//! ```text
//!     samples CSV ──> data ──> dataset (group, runs, windows, split) ──> preprocess ──> linear / forest
//!                      ▲                                                       │
//!                   collect                             metrics, conformal <───┴──> export (blob) ──> report
//!                                                                                 └──> html_report (one page: charts, tables)
//! ```
//!
//! Features and targets are never computed here: `procperf_model` owns them, so what is trained is
//! exactly what the kernel evaluates.

// In data-path order.
pub mod baseline;
pub mod collect;
pub mod commands;
pub mod conformal;
pub mod data;
pub mod dataset;
pub mod evaluate;
pub mod export;
pub mod forest;
pub mod html_report;
pub mod linear;
pub mod metrics;
pub mod preprocess;
pub mod progress;
pub mod report;
pub mod train;
