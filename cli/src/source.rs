//! Where passes come from: the module's debugfs directory, read afresh every refresh, or a
//! recorded `predictions.csv` played back one pass per refresh.
//!
//! This file owns the errors a user meets first (module not loaded, debugfs not mounted, not
//! root) and turns them into sentences that say what to do. It never writes to debugfs.

use crate::pass::{self, Pass};
use anyhow::{anyhow, bail, Context, Result};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where the module publishes its files.
pub const DEFAULT_DIR: &str = "/sys/kernel/debug/procperf";

/// What the header line says about the module; `None` where a file is missing or unreadable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// First line of `version` (`procperf 0.1.0`).
    pub version: Option<String>,
    /// Summary of `model_info` (`default model, 96 trees, depth 8`), or its first line.
    pub model: Option<String>,
    /// Content of `interval_ms`.
    pub interval_ms: Option<u64>,
}

/// One refresh's worth of data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Update {
    /// The latest pass (empty when no process has a forecast yet).
    pub pass: Pass,
    /// Version, model and interval as the module reports them now.
    pub meta: Meta,
    /// Where this pass came from, for the header (`replay rec.csv 3/60`), empty when live.
    pub label: String,
}

/// A source of passes.
pub enum Source {
    /// The module's debugfs directory.
    Live(PathBuf),
    /// A recorded file, played back in a loop.
    Replay(Replay),
}

/// Passes of a recorded file and the position of the next one.
pub struct Replay {
    name: String,
    passes: Vec<Pass>,
    next: usize,
}

impl Source {
    /// Opens the debugfs directory and reads it once, so that a missing module or a missing
    /// permission is reported before the screen is taken over.
    pub fn live(dir: &Path) -> Result<(Self, Update)> {
        check_dir(dir)?;
        let mut source = Source::Live(dir.to_owned());
        let first = source.read()?;
        Ok((source, first))
    }

    /// Reads a whole recorded file; it must hold at least one pass.
    pub fn replay(path: &Path) -> Result<(Self, Update)> {
        let file = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let name = path.display().to_string();
        let passes = pass::parse(io::BufReader::new(file), &name)?;
        if passes.is_empty() {
            bail!("{name} has a header but no rows: nothing to replay");
        }
        let name = path
            .file_name()
            .map_or(name, |n| n.to_string_lossy().into_owned());
        let mut source = Source::Replay(Replay {
            name,
            passes,
            next: 0,
        });
        let first = source.read()?;
        Ok((source, first))
    }

    /// The next pass: the module's latest, or the recording's next (after the last, the first).
    pub fn read(&mut self) -> Result<Update> {
        match self {
            Source::Live(dir) => read_live(dir),
            Source::Replay(r) => {
                let i = r.next % r.passes.len();
                r.next = i + 1;
                Ok(Update {
                    pass: r.passes[i].clone(),
                    meta: Meta::default(),
                    label: format!("replay {} pass {}/{}", r.name, i + 1, r.passes.len()),
                })
            }
        }
    }
}

fn read_live(dir: &Path) -> Result<Update> {
    let path = dir.join("predictions.csv");
    let text = fs::read(&path).map_err(|e| explain(&path, dir, e))?;
    let passes = pass::parse(text.as_slice(), &path.display().to_string())?;
    // One pass per read; should an older row ever appear, the newest pass is the current one.
    let pass = passes.into_iter().next_back().unwrap_or_default();
    Ok(Update {
        pass,
        meta: read_meta(dir),
        label: String::new(),
    })
}

/// Reads `version`, `model_info` and `interval_ms`; a missing or odd file leaves its field empty.
pub fn read_meta(dir: &Path) -> Meta {
    let read = |name: &str| fs::read_to_string(dir.join(name)).ok();
    Meta {
        version: read("version").and_then(|v| v.lines().next().map(str::to_owned)),
        model: read("model_info").and_then(|m| model_summary(&m)),
        interval_ms: read("interval_ms").and_then(|v| v.trim().parse().ok()),
    }
}

/// `source default` + `trees 96` + `max_depth 8` -> `default model, 96 trees, depth 8`; the first
/// line when those keys are missing.
pub fn model_summary(model_info: &str) -> Option<String> {
    let key = |k: &str| {
        model_info.lines().find_map(|l| {
            l.strip_prefix(k)
                .and_then(|v| v.strip_prefix(' '))
                .map(str::trim)
        })
    };
    match (key("source"), key("trees"), key("max_depth")) {
        (Some(s), Some(t), Some(d)) => Some(format!("{s} model, {t} trees, depth {d}")),
        _ => model_info
            .lines()
            .next()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty()),
    }
}

fn check_dir(dir: &Path) -> Result<()> {
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => bail!("{} is not a directory", dir.display()),
        Err(e) => Err(explain(dir, dir, e)),
    }
}

/// Turns an I/O error on `path` (inside the debugfs directory `dir`) into advice.
pub fn explain(path: &Path, dir: &Path, e: io::Error) -> anyhow::Error {
    match e.kind() {
        io::ErrorKind::NotFound if !dir.is_dir() => {
            let mut msg = format!(
                "procperf module not loaded (no {}): load it with modprobe procperf (installed by make install) or insmod procperf.ko, see README.md",
                dir.display()
            );
            if let Some(parent) = dir.parent().filter(|p| is_empty_dir(p)) {
                msg.push_str(&format!(
                    "; {} is empty, so debugfs is not mounted either: mount -t debugfs none {}",
                    parent.display(),
                    parent.display()
                ));
            }
            anyhow!(msg)
        }
        io::ErrorKind::PermissionDenied => {
            anyhow!(
                "reading {} needs root (debugfs is root-only)",
                path.display()
            )
        }
        _ => anyhow!("reading {}: {e}", path.display()),
    }
}

fn is_empty_dir(p: &Path) -> bool {
    fs::read_dir(p).is_ok_and(|mut d| d.next().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("procperf-cli-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_missing_directory_says_the_module_is_not_loaded() {
        let root = temp_dir("missing");
        let dir = root.join("procperf");
        let err = Source::live(&dir).err().unwrap().to_string();
        assert!(
            err.starts_with(&format!(
                "procperf module not loaded (no {})",
                dir.display()
            )),
            "{err}"
        );
        assert!(err.contains("insmod procperf.ko"), "{err}");
        assert!(
            err.contains("debugfs is not mounted"),
            "an empty parent means no debugfs: {err}"
        );
        fs::write(root.join("other"), "").unwrap();
        let err = Source::live(&dir).err().unwrap().to_string();
        assert!(!err.contains("debugfs is not mounted"), "{err}");
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn permission_denied_says_root_is_needed() {
        let p = Path::new("/sys/kernel/debug/procperf/predictions.csv");
        let e = explain(
            p,
            p.parent().unwrap(),
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert_eq!(
            e.to_string(),
            "reading /sys/kernel/debug/procperf/predictions.csv needs root (debugfs is root-only)"
        );
    }

    /// The module's predictions.csv header, and a row for it: `t_ms`, `pid` and `comm` given,
    /// every `cpu_` column `cpu`, any other column 0.
    fn golden_row(t_ms: u64, pid: i32, comm: &str, cpu: i64) -> (&'static str, String) {
        let header = include_str!("../../tests/golden/predictions.csv.header").trim_end();
        let row: Vec<String> = header
            .split(',')
            .map(|c| match c {
                "t_ms" => t_ms.to_string(),
                "pid" => pid.to_string(),
                "comm" => comm.to_owned(),
                c if c.starts_with("cpu_") => cpu.to_string(),
                _ => "0".to_owned(),
            })
            .collect();
        (header, row.join(","))
    }

    #[test]
    fn live_reads_the_latest_pass_and_the_module_files() {
        let dir = temp_dir("live");
        let (header, row) = golden_row(7000, 3, "sh", 5);
        fs::write(dir.join("predictions.csv"), format!("{header}\n{row}\n")).unwrap();
        fs::write(dir.join("version"), "procperf 0.1.0\nkernel 6.12.0\n").unwrap();
        fs::write(
            dir.join("model_info"),
            "source default\nformat_version 1\ntrees 96\nmax_depth 8\n",
        )
        .unwrap();
        fs::write(dir.join("interval_ms"), "500\n").unwrap();
        let (_, u) = Source::live(&dir).unwrap();
        assert_eq!(u.pass.t_ms, 7000);
        assert_eq!(u.pass.rows[0].comm, "sh");
        assert_eq!(
            u.meta,
            Meta {
                version: Some("procperf 0.1.0".into()),
                model: Some("default model, 96 trees, depth 8".into()),
                interval_ms: Some(500),
            }
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn replay_plays_passes_in_order_and_loops() {
        let dir = temp_dir("replay");
        let (header, later) = golden_row(2000, 1, "a", 0);
        let (_, earlier) = golden_row(1000, 1, "a", 0);
        let path = dir.join("rec.csv");
        fs::write(&path, format!("{header}\n{later}\n{earlier}\n")).unwrap();
        let (mut src, first) = Source::replay(&path).unwrap();
        assert_eq!(
            (first.pass.t_ms, first.label.as_str()),
            (1000, "replay rec.csv pass 1/2")
        );
        assert_eq!(src.read().unwrap().pass.t_ms, 2000);
        assert_eq!(src.read().unwrap().pass.t_ms, 1000);
        fs::write(&path, format!("{header}\n")).unwrap();
        assert!(Source::replay(&path)
            .err()
            .unwrap()
            .to_string()
            .contains("no rows"));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn model_summary_falls_back_to_the_first_line() {
        assert_eq!(
            model_summary("source uploaded\n"),
            Some("source uploaded".into())
        );
        assert_eq!(model_summary(""), None);
    }
}
