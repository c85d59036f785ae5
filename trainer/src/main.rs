//! `trainer`: command-line front end. Parses arguments and calls the library; nothing else.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "trainer", version, about = "Collect samples, fit, evaluate and export procperf's models")]
struct Cli {
    /// Print machine-readable JSON on stdout and no progress bars.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Sample every process from /proc and write the samples CSV.
    Collect {
        /// Read /proc (the only source for now; the kernel module's debugfs stream needs no collector).
        #[arg(long, required = true)]
        procfs: bool,
        /// How long to collect.
        #[arg(long, default_value_t = 60.0)]
        seconds: f64,
        /// Sampling interval.
        #[arg(long, default_value_t = 1000)]
        interval_ms: u64,
        /// Output CSV.
        #[arg(long, short)]
        out: PathBuf,
    },
}

fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Collect { procfs: _, seconds, interval_ms, out } => {
            let opts = trainer::collect::CollectOptions { seconds, interval_ms, out: out.clone(), quiet: cli.json };
            let s = trainer::collect::run(&opts)?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                eprintln!(
                    "wrote {} rows from {} processes in {} passes to {} ({} processes without readable /proc/PID/io: I/O columns 0)",
                    s.rows, s.processes_seen, s.passes, out.display(), s.processes_without_io
                );
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trainer: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
