//! Textfile mode: the metrics written to `DIR/procperf.prom` for node_exporter's textfile
//! collector, in the Prometheus text format 0.0.4 it reads.
//!
//! A reader must never see half a file: each write goes to a temporary file in the same
//! directory (`.procperf.prom.<pid>.tmp`, which the collector ignores: it reads `*.prom` only),
//! is flushed to disk, then renamed over the old file, which replaces it atomically.

use super::families::Format;
use super::Exporter;
use anyhow::{bail, Context, Result};
use std::fs;
use std::io::Write;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

/// The file written in the textfile directory.
pub const FILE_NAME: &str = "procperf.prom";

/// Replaces `dir/name` with `contents` atomically (temporary file, fsync, rename).
pub fn write_atomic(dir: &Path, name: &str, contents: &str) -> Result<()> {
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let target = dir.join(name);
    let written = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(contents.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, &target)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", target.display()));
    }
    Ok(())
}

/// Writes the metrics into `dir` now, then every `every` until stopped; once if `once`.
pub fn run(mut exporter: Exporter, dir: &Path, every: Duration, once: bool) -> Result<()> {
    if !dir.is_dir() {
        bail!(
            "the textfile directory {} does not exist (node_exporter's --collector.textfile.directory)",
            dir.display()
        );
    }
    if !once {
        eprintln!(
            "procperf exporter: writing {} every {} s from {}",
            dir.join(FILE_NAME).display(),
            every.as_secs_f64(),
            exporter.settings().dir.display()
        );
    }
    loop {
        let started = Instant::now();
        let text = exporter
            .render(Format::Prometheus, started)
            .context("encoding the metrics")?;
        write_atomic(dir, FILE_NAME, &text)?;
        if once {
            return Ok(());
        }
        thread::sleep(every.saturating_sub(started.elapsed()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exporter::{read, Settings};
    use std::path::PathBuf;

    #[test]
    fn a_write_replaces_the_file_whole_and_leaves_no_temporary() {
        let tmp = tempfile::tempdir().unwrap();
        write_atomic(tmp.path(), FILE_NAME, "a 1\n").unwrap();
        let old = fs::File::open(tmp.path().join(FILE_NAME)).unwrap();
        write_atomic(tmp.path(), FILE_NAME, "a 2\n").unwrap();
        assert_eq!(
            fs::read_to_string(tmp.path().join(FILE_NAME)).unwrap(),
            "a 2\n"
        );
        // A reader holding the old file still reads it whole: the new one was renamed over it.
        assert_eq!(std::io::read_to_string(old).unwrap(), "a 1\n");
        let names: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec![FILE_NAME.to_owned()]);
    }

    #[test]
    fn a_failed_write_names_the_file_and_cleans_up() {
        let tmp = tempfile::tempdir().unwrap();
        // The target is a non-empty directory: the rename fails.
        fs::create_dir(tmp.path().join(FILE_NAME)).unwrap();
        fs::write(tmp.path().join(FILE_NAME).join("x"), "").unwrap();
        let err = format!(
            "{:#}",
            write_atomic(tmp.path(), FILE_NAME, "a 1\n").unwrap_err()
        );
        assert!(
            err.starts_with(&format!("writing {}", tmp.path().join(FILE_NAME).display())),
            "{err}"
        );
        assert_eq!(
            fs::read_dir(tmp.path()).unwrap().count(),
            1,
            "the temporary file is removed"
        );
    }

    #[test]
    fn once_writes_the_text_format() {
        let module = tempfile::tempdir().unwrap();
        read::tests::minimal_dir(module.path());
        let e = Exporter::start(Settings {
            dir: module.path().to_owned(),
            top: 5,
            max_groups: 5,
            cgroup_root: Some(PathBuf::from("/nonexistent/procperf-test")),
        })
        .unwrap();
        let out = tempfile::tempdir().unwrap();
        run(e, out.path(), Duration::from_secs(1), true).unwrap();
        let text = fs::read_to_string(out.path().join(FILE_NAME)).unwrap();
        assert!(
            text.contains("# TYPE procperf_passes_total counter\n"),
            "{text}"
        );
        assert!(!text.contains("# EOF"), "{text}");
        let e = Exporter::new(Settings {
            dir: module.path().to_owned(),
            top: 5,
            max_groups: 5,
            cgroup_root: None,
        });
        let err = run(e, &out.path().join("nope"), Duration::from_secs(1), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope does not exist"), "{err}");
    }
}
