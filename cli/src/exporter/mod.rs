//! `procperf exporter`: the module's files as Prometheus metrics, served over HTTP or written for
//! node_exporter's textfile collector.
//!
//! Data path: [`read`] (the files, once per scrape, into a typed [`read::Snapshot`]) → [`top`]
//! (which processes and groups get series of their own, with hysteresis) → [`cgroups`] (ids to
//! paths) → [`families`] (the metric families of cli/README.md in base units, [`units`]) → [`serve`]
//! (HTTP, content negotiation) or [`textfile`] (atomic file writes). [`Exporter`] holds what
//! lasts between scrapes: the last read, the top-N sets and the cgroup paths.
//!
//! The files are read at most once per module interval (`interval_ms`): the module publishes a
//! new pass no more often, so scrapes in between are served from the last read. A read that
//! fails (module unloaded while serving) is logged once and exported as `procperf_up 0`; the
//! exporter keeps running and reads again at the next scrape. It never writes to the module.

pub mod cgroups;
pub mod families;
pub mod read;
pub mod serve;
pub mod textfile;
pub mod top;
pub mod units;

use anyhow::{Context, Result};
use cgroups::CgroupPaths;
use families::{Families, Format, Own, Selected};
use read::Snapshot;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use top::Top;

/// Where `procperf exporter` listens by default: loopback only, since command names and cgroup
/// paths tell about the host; `--listen 0.0.0.0:9877` for a remote Prometheus.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9877";
/// Processes with series of their own by default (`--top`).
pub const DEFAULT_TOP: usize = 20;
/// Cgroups and commands with series of their own by default (`--max-groups`).
pub const DEFAULT_MAX_GROUPS: usize = 30;
/// Seconds between writes in textfile mode by default (`--every`).
pub const DEFAULT_EVERY_SECS: u64 = 15;

/// What the exporter reads and how much of it it exports.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The module's debugfs directory.
    pub dir: PathBuf,
    /// Processes with series of their own ([`top`]: between this and twice this).
    pub top: usize,
    /// Cgroups, and commands, with series of their own (the same hysteresis); the rest are
    /// summed into one `other` group.
    pub max_groups: usize,
    /// The cgroup2 mount to resolve ids in; `None`: found in `/proc/self/mountinfo`.
    pub cgroup_root: Option<PathBuf>,
}

/// What to do with the metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Serve HTTP on this address.
    Serve(String),
    /// Write `procperf.prom` into a directory every interval, or once.
    Textfile {
        /// The textfile collector's directory.
        dir: PathBuf,
        /// Time between writes.
        every: Duration,
        /// Write once and exit.
        once: bool,
    },
    /// Print the metrics once to standard output (text format 0.0.4).
    Stdout,
}

impl Mode {
    /// The mode the command line asks for: `--textfile` wins over `--listen`, `--once` alone
    /// prints.
    pub fn from_options(
        listen: &str,
        textfile: Option<PathBuf>,
        every: Option<Duration>,
        once: bool,
    ) -> Self {
        match textfile {
            Some(dir) => Mode::Textfile {
                dir,
                every: every.unwrap_or(Duration::from_secs(DEFAULT_EVERY_SECS)),
                once,
            },
            None if once => Mode::Stdout,
            None => Mode::Serve(listen.to_owned()),
        }
    }
}

/// Runs `procperf exporter`: checks that the module's files can be read (and, to serve, that the
/// address is free) before it starts, so a wrong setup fails at once with one line saying why.
pub fn run(settings: Settings, mode: &Mode) -> Result<()> {
    let mut exporter = Exporter::start(settings)?;
    match mode {
        Mode::Serve(listen) => {
            let server = serve::bind(listen)?;
            serve::serve(exporter, server)
        }
        Mode::Textfile { dir, every, once } => textfile::run(exporter, dir, *every, *once),
        Mode::Stdout => {
            let text = exporter
                .render(Format::Prometheus, Instant::now())
                .context("encoding the metrics")?;
            print!("{text}");
            Ok(())
        }
    }
}

/// The last successful read, and how long it stays current.
struct Cached {
    at: Instant,
    fresh_for: Duration,
    families: Arc<Families>,
}

/// The exporter's state between scrapes.
pub struct Exporter {
    settings: Settings,
    cgroups: CgroupPaths,
    processes: Top<i32>,
    cgroup_top: Top<u64>,
    comm_top: Top<String>,
    cache: Option<Cached>,
    read_errors: u64,
    /// The error of the last read, when it failed: logged once, not at every scrape.
    failing: Option<String>,
}

impl Exporter {
    /// An exporter that has read nothing yet.
    pub fn new(settings: Settings) -> Self {
        Self {
            cgroups: CgroupPaths::new(settings.cgroup_root.clone()),
            processes: Top::new(settings.top),
            cgroup_top: Top::new(settings.max_groups),
            comm_top: Top::new(settings.max_groups),
            settings,
            cache: None,
            read_errors: 0,
            failing: None,
        }
    }

    /// An exporter that has read the module's files once: a module that is not loaded, files
    /// that cannot be read (not root) or are malformed are reported here, before serving.
    pub fn start(settings: Settings) -> Result<Self> {
        let snapshot = read::read(&settings.dir)?;
        let mut e = Self::new(settings);
        e.remember(&snapshot, Instant::now());
        Ok(e)
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// This scrape's families: the module's (the last read while it is current, else a new
    /// read; none when the read fails) and the exporter's own.
    pub fn scrape(&mut self, now: Instant) -> Vec<Arc<Families>> {
        let started = Instant::now();
        let current = self
            .cache
            .as_ref()
            .filter(|c| now.saturating_duration_since(c.at) < c.fresh_for)
            .map(|c| Arc::clone(&c.families));
        let (module, seconds) = match current {
            Some(f) => (Some(f), 0.0),
            None => {
                let module = match read::read(&self.settings.dir) {
                    Ok(s) => {
                        if self.failing.take().is_some() {
                            eprintln!(
                                "procperf exporter: reading {} again",
                                self.settings.dir.display()
                            );
                        }
                        Some(self.remember(&s, now))
                    }
                    Err(e) => {
                        self.read_errors += 1;
                        self.cache = None;
                        let msg = format!("{e:#}");
                        if self.failing.as_ref() != Some(&msg) {
                            eprintln!("procperf exporter: {msg} (procperf_up is 0)");
                        }
                        self.failing = Some(msg);
                        None
                    }
                };
                (module, started.elapsed().as_secs_f64())
            }
        };
        let own = families::own(&Own {
            scrape_seconds: seconds,
            series: module.as_ref().map_or(0, |m| m.series()) + families::OWN_SERIES,
            read_errors: self.read_errors,
            up: module.is_some(),
        });
        module.into_iter().chain([Arc::new(own)]).collect()
    }

    /// This scrape, encoded.
    pub fn render(&mut self, format: Format, now: Instant) -> Result<String, std::fmt::Error> {
        families::encode(&self.scrape(now), format)
    }

    /// Advances the top-N sets with a new read, builds its families and caches them.
    fn remember(&mut self, s: &Snapshot, now: Instant) -> Arc<Families> {
        let families = Arc::new(self.build(s, now));
        self.cache = Some(Cached {
            at: now,
            fresh_for: Duration::from_millis(s.interval_ms),
            families: Arc::clone(&families),
        });
        families
    }

    fn build(&mut self, s: &Snapshot, now: Instant) -> Families {
        let scores: Vec<_> = s
            .processes
            .iter()
            .map(|r| (r.pid, top::process_scores(r)))
            .collect();
        self.processes.update(&scores);
        if let Some(rows) = &s.cgroups {
            let scores: Vec<_> = rows.iter().map(|g| (g.key, top::group_scores(g))).collect();
            self.cgroup_top.update(&scores);
        }
        if let Some(rows) = &s.comms {
            let scores: Vec<_> = rows
                .iter()
                .map(|g| (g.key.clone(), top::group_scores(g)))
                .collect();
            self.comm_top.update(&scores);
        }
        // Only the ids that get a label need a path.
        let selected = self.processes.members();
        let ids = s
            .processes
            .iter()
            .filter(|r| selected.contains(&r.pid))
            .map(|r| r.cgroup)
            .chain(self.cgroup_top.members().iter().copied());
        self.cgroups.refresh(ids, now);
        families::build(
            s,
            &Selected {
                processes: Some(self.processes.members()),
                cgroups: Some(self.cgroup_top.members()),
                comms: Some(self.comm_top.members()),
            },
            &self.cgroups,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn settings(dir: PathBuf) -> Settings {
        Settings {
            dir,
            top: 2,
            max_groups: 2,
            cgroup_root: Some(PathBuf::from("/nonexistent/procperf-test")),
        }
    }

    fn value(parts: &[Arc<Families>], name: &str) -> Option<f64> {
        parts
            .iter()
            .find_map(|p| p.get(name))
            .and_then(|f| f.series.first())
            .map(|s| s.value)
    }

    #[test]
    fn reads_once_per_interval_and_survives_the_module_vanishing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("procperf");
        fs::create_dir(&dir).unwrap();
        read::tests::minimal_dir(&dir);
        let mut e = Exporter::start(settings(dir.clone())).unwrap();
        let t0 = Instant::now();
        let parts = e.scrape(t0);
        assert_eq!(value(&parts, "procperf_up"), Some(1.0));
        assert_eq!(value(&parts, "procperf_passes_total"), Some(3.0));
        // Within the interval the files are not read again.
        fs::write(dir.join("stats"), "passes 4\n").unwrap();
        let parts = e.scrape(t0 + Duration::from_millis(500));
        assert_eq!(value(&parts, "procperf_passes_total"), Some(3.0));
        assert_eq!(
            value(&parts, "procperf_exporter_scrape_duration_seconds"),
            Some(0.0)
        );
        let parts = e.scrape(t0 + Duration::from_millis(1000));
        assert_eq!(value(&parts, "procperf_passes_total"), Some(4.0));
        // The module goes away: up 0, an error counted, no module families.
        fs::remove_dir_all(&dir).unwrap();
        let parts = e.scrape(t0 + Duration::from_millis(2000));
        assert_eq!(value(&parts, "procperf_up"), Some(0.0));
        assert_eq!(
            value(&parts, "procperf_exporter_read_errors_total"),
            Some(1.0)
        );
        assert_eq!(value(&parts, "procperf_passes_total"), None);
        assert_eq!(value(&parts, "procperf_exporter_series"), Some(4.0));
        // And comes back.
        fs::create_dir(&dir).unwrap();
        read::tests::minimal_dir(&dir);
        let parts = e.scrape(t0 + Duration::from_millis(2100));
        assert_eq!(value(&parts, "procperf_up"), Some(1.0));
        assert_eq!(
            value(&parts, "procperf_exporter_read_errors_total"),
            Some(1.0)
        );
    }

    #[test]
    fn starting_without_the_module_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let err = Exporter::start(settings(tmp.path().join("procperf")))
            .err()
            .unwrap()
            .to_string();
        assert!(err.starts_with("procperf module not loaded"), "{err}");
    }
}
