//! `procperf`: parses the command line and calls the library.

use clap::{Parser, Subcommand};
use procperf_cli::source::DEFAULT_DIR;
use procperf_cli::top::{self, parse_interval, Options};
use procperf_cli::view::SortKey;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// procperf: per-process CPU, memory, disk and network forecasts from the procperf kernel module.
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Live, sortable view of the module's predictions, refreshed every interval.
    ///
    /// Reads predictions.csv from the module's debugfs directory: the machine-readable twin of
    /// the `predictions` text file (same rows, the models' own units), shown here in the text
    /// file's units: CPU % of one CPU, RSS MiB, disk and network KiB/s. Per process and target:
    /// the current value (now), the published forecast over the next 5 intervals (+5) with its
    /// calibrated interval [lo..hi], and the forecast over the next 60 (+60): the mean for CPU,
    /// disk and network, the peak for RSS. The bottom panel charts the selected process's actual
    /// values against the 5-interval forecast.
    ///
    /// Keys: q quit, ↑/↓ select, c/m/d/n sort by cpu/rss(memory)/disk/net, p by pid, r reverse.
    /// debugfs is root-only: run as root.
    Top {
        /// The module's debugfs directory.
        #[arg(long, default_value = DEFAULT_DIR)]
        dir: PathBuf,
        /// Seconds between refreshes [default: the module's interval_ms, else 1].
        #[arg(long, value_name = "SECS", value_parser = parse_interval)]
        interval: Option<Duration>,
        /// Sort rows by a target's forest forecast (highest first), by pid or by comm.
        #[arg(long, value_enum, default_value = "cpu")]
        sort: SortKey,
        /// Play back a recorded predictions.csv (snapshots concatenated, or `trainer predict`
        /// output), one pass (rows of one t_ms) per interval; no module or root needed.
        #[arg(long, value_name = "FILE.csv")]
        replay: Option<PathBuf>,
        /// Print one plain-text frame (header and table) and exit; needs no terminal.
        #[arg(long)]
        once: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Top {
            dir,
            interval,
            sort,
            replay,
            once,
        } => top::run(&Options {
            dir,
            interval,
            sort,
            replay,
            once,
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("procperf: {e:#}");
            ExitCode::FAILURE
        }
    }
}
