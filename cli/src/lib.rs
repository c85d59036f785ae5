//! procperf's command line. `procperf top` is a live, sortable view of what the kernel module
//! predicts, read from `/sys/kernel/debug/procperf/predictions.csv` (the machine-readable twin of
//! the `predictions` text file) or played back from a recorded copy.
//!
//! Data path: [`source`] (debugfs or a recording) → [`pass`] (CSV to passes) → [`history`]
//! (bounded per-process memory) → [`app`] (sort, selection, keys) → [`view`] (units, columns) →
//! [`ui`] (ratatui) / plain text; [`top`] runs the loop. Units and target names come from the
//! shared model crate, so they cannot drift from what the module prints.
//!
//! `procperf exporter` ([`exporter`]) publishes the same files as Prometheus metrics.

pub mod app;
pub mod exporter;
pub mod history;
pub mod pass;
pub mod source;
pub mod top;
pub mod ui;
pub mod view;
