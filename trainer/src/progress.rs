//! Progress bars on stderr for work longer than a second; hidden when quiet (`--json`) or when stderr
//! is not a terminal, so scripted runs print only their results.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

fn target(show: bool) -> ProgressDrawTarget {
    if show && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// A bar counting bytes of an input file.
pub fn bytes(len: u64, show: bool, msg: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), target(show));
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_message(msg.to_owned());
    bar
}

/// A bar counting steps (trees, folds, seconds).
pub fn steps(len: u64, show: bool, msg: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), target(show));
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed})")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_message(msg.to_owned());
    bar
}
