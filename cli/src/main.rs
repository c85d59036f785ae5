//! `procperf`: parses the command line and calls the library.

use clap::builder::TypedValueParser;
use clap::{Parser, Subcommand};
use procperf_cli::exporter::{self, Settings};
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
    /// Prometheus exporter of the module's files: serves /metrics over HTTP (OpenMetrics or
    /// the text format 0.0.4, as the scraper asks), or writes DIR/procperf.prom for
    /// node_exporter's textfile collector (--textfile).
    ///
    /// Reads version, stats, interval_ms, model_info, accuracy, predictions.csv, cgroups.csv
    /// and comms.csv at most once per module interval. Per-process series only for the top N
    /// processes by forecast upper bound, cgroups and commands beyond --max-groups summed into
    /// one "other" group: at most 4 308 series with the defaults (cli/README.md). debugfs is
    /// root-only: run as root.
    Exporter {
        /// The module's debugfs directory.
        #[arg(long, default_value = DEFAULT_DIR)]
        dir: PathBuf,
        /// Address to serve on (loopback by default: the metrics name commands and cgroups).
        #[arg(long, value_name = "ADDR", default_value = exporter::DEFAULT_LISTEN)]
        listen: String,
        /// Processes with series of their own: those within the top N by forecast upper bound
        /// stay until they fall beyond 2N.
        #[arg(long, value_name = "N", default_value_t = exporter::DEFAULT_TOP,
              value_parser = clap::value_parser!(u16).range(1..=1000).map(usize::from))]
        top: usize,
        /// Cgroups, and commands, with series of their own (same rule); the rest are summed
        /// into one group "other" ("(other commands)" for commands).
        #[arg(long, value_name = "N", default_value_t = exporter::DEFAULT_MAX_GROUPS,
              value_parser = clap::value_parser!(u16).range(1..=1024).map(usize::from))]
        max_groups: usize,
        /// The cgroup2 mount to resolve cgroup ids in [default: from /proc/self/mountinfo].
        #[arg(long, value_name = "PATH")]
        cgroup_root: Option<PathBuf>,
        /// Write DIR/procperf.prom (text format 0.0.4, atomically) instead of serving HTTP.
        #[arg(long, value_name = "DIR")]
        textfile: Option<PathBuf>,
        /// Seconds between writes in textfile mode.
        #[arg(long, value_name = "SECS", value_parser = parse_interval, requires = "textfile")]
        every: Option<Duration>,
        /// Write once and exit; without --textfile, print the metrics (text format 0.0.4) to
        /// standard output.
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
        Cmd::Exporter {
            dir,
            listen,
            top,
            max_groups,
            cgroup_root,
            textfile,
            every,
            once,
        } => exporter::run(
            Settings {
                dir,
                top,
                max_groups,
                cgroup_root,
            },
            &exporter::Mode::from_options(&listen, textfile, every, once),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("procperf: {e:#}");
            ExitCode::FAILURE
        }
    }
}
