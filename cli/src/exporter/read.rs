//! The module's files, read once and parsed into typed values: everything one scrape sees.
//!
//! This file owns the formats of the files the exporter reads (`rust/4_files/*.rs` and the fleet
//! spec for `cgroups.csv` and `comms.csv`) and their errors, which name the file and the line
//! (`cgroups.csv line 4 column 3 (processes): "x" is not an unsigned integer`). It converts no
//! unit and knows no metric name: values stay in the module's units, [`super::families`] turns
//! them into metrics.
//!
//! Tables are read by header name, so a column added by a newer module never breaks parsing.
//! `version`, `stats`, `interval_ms` and `predictions.csv` are required (every procperf module
//! has them); `model_info` and `accuracy` may be missing, and `cgroups.csv` and `comms.csv` are
//! missing on modules older than them: their metric families are then simply absent. So is the
//! `anomalous` column of those two tables (modules before the anomaly flag): its families are
//! then absent too, rather than exported as 0, which would say no process is flagged.

use crate::pass::{self, Row};
use crate::source::explain;
use anyhow::{anyhow, bail, Result};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::hash::Hash;
use std::io;
use std::path::Path;

/// Everything read from the module's directory at one time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// `version`.
    pub version: Version,
    /// `stats`, every `name value` line.
    pub stats: Stats,
    /// `interval_ms`: the sampling interval.
    pub interval_ms: u64,
    /// `model_info`, when the module has it.
    pub model: Option<ModelInfo>,
    /// `accuracy`, one row per target and horizon; empty when the module has no such file.
    pub accuracy: Vec<Accuracy>,
    /// `predictions.csv`: the newest pass, one row per process with a forecast.
    pub processes: Vec<Row>,
    /// `cgroups.csv`, keyed by cgroup id; `None` when the module has no such file.
    pub cgroups: Option<Vec<Group<u64>>>,
    /// `comms.csv`, keyed by command name; `None` when the module has no such file.
    pub comms: Option<Vec<Group<String>>>,
}

/// `version`: `procperf 0.1.0`, `kernel 6.12.0`, ...
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Version {
    /// The module's version (`0.1.0`).
    pub procperf: String,
    /// The running kernel's release; empty when the file does not say.
    pub kernel: String,
}

/// `stats`: the sampler's counters and gauges by name, in the module's units (ns, bytes, counts).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats(pub BTreeMap<String, u64>);

impl Stats {
    /// The value of `name`, if the module printed it.
    pub fn get(&self, name: &str) -> Option<u64> {
        self.0.get(name).copied()
    }
}

/// `model_info`: its `key value` lines before `metadata:`, values as printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelInfo(pub BTreeMap<String, String>);

impl ModelInfo {
    /// The value of `key`, if the file has it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

/// One line of `accuracy`: a target's live scores at one horizon, in the target's model unit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accuracy {
    /// `cpu`, `rss`, `disk` or `net`.
    pub target: String,
    /// Horizon in intervals.
    pub horizon: u64,
    /// Forecasts checked.
    pub scored: u64,
    /// Outcomes inside the published band.
    pub covered: u64,
    /// Summed absolute errors of the published forecast.
    pub err_published: u64,
    /// ... of persistence.
    pub err_persistence: u64,
    /// ... of the EWMA base.
    pub err_ewma: u64,
}

/// One row of `cgroups.csv` or `comms.csv`: a group of processes, keyed by cgroup id or command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group<K> {
    /// The cgroup id or the command name.
    pub key: K,
    /// The pass that last updated the row.
    pub t_ms: u64,
    /// Tracked processes in the group at that pass.
    pub processes: u64,
    /// Of those, the ones with an anomaly flag up (any target); `None` when the table has no
    /// `anomalous` column (modules before the anomaly flag).
    pub anomalous: Option<u64>,
    /// Cumulative counters since the row was created.
    pub counters: Counters,
    /// Sums of the processes' current levels.
    pub now: Levels,
    /// Sums of the processes' forecasts, one entry per horizon in the header, shortest first.
    pub ahead: Vec<Ahead>,
}

/// A group's counters: monotonic while its row exists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub cpu_user_ns: u64,
    pub cpu_sys_ns: u64,
    pub disk_read_bytes: u64,
    pub disk_write_bytes: u64,
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
    pub nvcsw: u64,
    pub nivcsw: u64,
    pub minflt: u64,
    pub majflt: u64,
}

/// Summed levels of a group: CPU permille of one CPU, RSS KiB, disk and network bytes/s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Levels {
    pub cpu_permille: u64,
    pub rss_kib: u64,
    pub disk_bytes_per_s: u64,
    pub net_bytes_per_s: u64,
}

/// A group's summed forecasts at one horizon.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ahead {
    /// Horizon in intervals (the `_5` of `cpu_permille_5`).
    pub horizon: u64,
    /// Summed forecasts (means for CPU, disk and net, peak for RSS).
    pub levels: Levels,
    /// Summed upper ends of the RSS bands.
    pub rss_kib_hi: u64,
}

/// Reads every file of the module's directory `dir` once.
///
/// A missing directory, a missing required file or a refused read (debugfs is root-only) is an
/// error that says what to do; so is any malformed line, naming the file and the line.
pub fn read(dir: &Path) -> Result<Snapshot> {
    let required = |name: &str| -> Result<String> {
        read_optional(dir, name)?.ok_or_else(|| {
            anyhow!(
                "{} is missing: is {} the procperf module's directory?",
                dir.join(name).display(),
                dir.display()
            )
        })
    };
    let version = parse_version(&required("version")?)?;
    let stats = parse_stats(&required("stats")?, "stats")?;
    let interval_ms = parse_interval(&required("interval_ms")?)?;
    let predictions = required("predictions.csv")?;
    let processes = pass::parse(predictions.as_bytes(), "predictions.csv")?
        .pop()
        .map(|p| p.rows)
        .unwrap_or_default();
    let model = read_optional(dir, "model_info")?.map(|t| parse_model_info(&t));
    let accuracy = match read_optional(dir, "accuracy")? {
        Some(t) => parse_accuracy(&t, "accuracy")?,
        None => Vec::new(),
    };
    let cgroups = read_optional(dir, "cgroups.csv")?
        .map(|t| parse_groups(&t, "cgroups.csv", "cgroup", parse_cgroup_id))
        .transpose()?;
    let comms = read_optional(dir, "comms.csv")?
        .map(|t| parse_groups(&t, "comms.csv", "comm", |s| Ok(s.to_owned())))
        .transpose()?;
    Ok(Snapshot {
        version,
        stats,
        interval_ms,
        model,
        accuracy,
        processes,
        cgroups,
        comms,
    })
}

/// A file's text, `None` when it does not exist (an older module) while the directory does.
fn read_optional(dir: &Path, name: &str) -> Result<Option<String>> {
    let path = dir.join(name);
    match fs::read_to_string(&path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == io::ErrorKind::NotFound && dir.is_dir() => Ok(None),
        Err(e) => Err(explain(&path, dir, e)),
    }
}

/// `version`: `procperf VERSION` and `kernel RELEASE` lines (others ignored).
pub fn parse_version(text: &str) -> Result<Version> {
    let value = |key: &str| {
        text.lines().find_map(|l| {
            l.strip_prefix(key)
                .and_then(|v| v.strip_prefix(' '))
                .map(|v| v.trim().to_owned())
        })
    };
    let Some(procperf) = value("procperf") else {
        bail!(
            "version line 1: expected \"procperf VERSION\", found {:?}",
            first_line(text)
        );
    };
    Ok(Version {
        procperf,
        kernel: value("kernel").unwrap_or_default(),
    })
}

/// `stats` (or any `name value` file): one pair per line, the value an unsigned integer.
pub fn parse_stats(text: &str, file: &str) -> Result<Stats> {
    let mut stats = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(name), Some(value), None) = (words.next(), words.next(), words.next()) else {
            bail!("{file} line {}: {line:?} is not \"name value\"", i + 1);
        };
        let value = value.parse::<u64>().map_err(|e| {
            anyhow!(
                "{file} line {}: {name}: {value:?} is not an unsigned integer ({e})",
                i + 1
            )
        })?;
        stats.insert(name.to_owned(), value);
    }
    Ok(Stats(stats))
}

/// `interval_ms`: one positive integer.
pub fn parse_interval(text: &str) -> Result<u64> {
    match text.trim().parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(ms),
        _ => bail!(
            "interval_ms line 1: {:?} is not a positive number of milliseconds",
            first_line(text)
        ),
    }
}

/// `model_info`: `key value...` lines up to `metadata:` (the trainer's free text after it is not
/// read). A line with a key alone has an empty value.
pub fn parse_model_info(text: &str) -> ModelInfo {
    let mut info = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with("metadata:") {
            break;
        }
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        info.insert(key.to_owned(), value.trim().to_owned());
    }
    ModelInfo(info)
}

/// `accuracy`: a whitespace-separated table with a header line, columns found by name.
pub fn parse_accuracy(text: &str, file: &str) -> Result<Vec<Accuracy>> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Ok(Vec::new());
    };
    let header: Vec<&str> = header.split_whitespace().collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| anyhow!("{file} line 1: no column {name:?} in the header"))
    };
    let target = col("target")?;
    let nums = [
        "horizon",
        "scored",
        "covered",
        "err_published",
        "err_persistence",
        "err_ewma",
    ]
    .map(col);
    let mut idx = [0usize; 6];
    for (slot, found) in idx.iter_mut().zip(nums) {
        *slot = found?;
    }
    let mut rows = Vec::new();
    for (i, line) in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != header.len() {
            bail!(
                "{file} line {}: {} fields where the header has {}",
                i + 1,
                fields.len(),
                header.len()
            );
        }
        let mut v = [0u64; 6];
        for (slot, &c) in v.iter_mut().zip(&idx) {
            *slot = fields[c].parse().map_err(|e| {
                anyhow!(
                    "{file} line {} column {} ({}): {:?} is not an unsigned integer ({e})",
                    i + 1,
                    c + 1,
                    header[c],
                    fields[c]
                )
            })?;
        }
        let [horizon, scored, covered, err_published, err_persistence, err_ewma] = v;
        rows.push(Accuracy {
            target: fields[target].to_owned(),
            horizon,
            scored,
            covered,
            err_published,
            err_persistence,
            err_ewma,
        });
    }
    Ok(rows)
}

fn parse_cgroup_id(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<u64>()
        .map_err(|e| format!("{s:?} is not a cgroup id ({e})"))
}

// The columns of a group table other than its key and the per-horizon ones: the model crate's,
// which the module writes.
use procperf_model::group::{COUNTERS as COUNTER_COLUMNS, LEVELS as LEVEL_COLUMNS};

/// `cgroups.csv` or `comms.csv`: a header, then one row per group; `key_column` is `cgroup` or
/// `comm`. `anomalous` is optional (`None` in every row when the header lacks it). Horizons are
/// the `H` of every `cpu_permille_H` column, each needing its four companions (`rss_kib_H`,
/// `disk_bytes_per_s_H`, `net_bytes_per_s_H`, `rss_kib_hi_H`).
///
/// Rows with the same key are merged into one, every number summed (the latest `t_ms` kept): the
/// module prints command names as `samples` does, so two commands that differ only in bytes it
/// replaces (commas, blanks, non-ASCII) print the same, and one series each is all Prometheus
/// can tell apart.
pub fn parse_groups<K: Clone + Eq + Hash>(
    text: &str,
    file: &str,
    key_column: &str,
    key: impl Fn(&str) -> Result<K, String>,
) -> Result<Vec<Group<K>>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let Some(header) = records.next() else {
        bail!("{file} is empty: expected the header t_ms,{key_column},processes,...");
    };
    let header = header.map_err(|e| anyhow!("{file}: {e}"))?;
    let find = |name: &str| header.iter().position(|h| h.trim() == name);
    let col = |name: &str| {
        find(name).ok_or_else(|| anyhow!("{file} line 1: no column {name:?} in the header"))
    };
    let key_at = col(key_column)?;
    let t_ms_at = col("t_ms")?;
    let processes_at = col("processes")?;
    let anomalous_at = find("anomalous");
    let counters_at = COUNTER_COLUMNS.map(col);
    let levels_at = LEVEL_COLUMNS.map(col);
    let mut counters_idx = [0usize; 10];
    for (slot, c) in counters_idx.iter_mut().zip(counters_at) {
        *slot = c?;
    }
    let mut levels_idx = [0usize; 4];
    for (slot, c) in levels_idx.iter_mut().zip(levels_at) {
        *slot = c?;
    }
    // Horizons, found from the header: every cpu_permille_H.
    let mut horizons: Vec<(u64, [usize; 5])> = Vec::new();
    for h in header.iter() {
        let Some(horizon) = h
            .trim()
            .strip_prefix("cpu_permille_")
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        let mut idx = [0usize; 5];
        for (slot, stem) in idx
            .iter_mut()
            .zip(LEVEL_COLUMNS.iter().chain(&["rss_kib_hi"]))
        {
            *slot = col(&format!("{stem}_{horizon}"))?;
        }
        horizons.push((horizon, idx));
    }
    horizons.sort_by_key(|(h, _)| *h);

    let mut rows: Vec<Group<K>> = Vec::new();
    let mut index: HashMap<K, usize> = HashMap::new();
    for record in records {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => {
                    anyhow!("{file} line {line}: {len} fields where the header has {expected_len}")
                }
                _ => anyhow!("{file} line {line}: {e}"),
            }
        })?;
        if record == header {
            continue;
        }
        let line = record.position().map_or(0, csv::Position::line);
        let field = |i: usize| record.get(i).unwrap_or("");
        let num = |i: usize| -> Result<u64> {
            let v = field(i);
            v.trim().parse::<u64>().map_err(|e| {
                anyhow!(
                    "{file} line {line} column {} ({}): {v:?} is not an unsigned integer ({e})",
                    i + 1,
                    header.get(i).unwrap_or("?")
                )
            })
        };
        let levels = |idx: &[usize]| -> Result<Levels> {
            Ok(Levels {
                cpu_permille: num(idx[0])?,
                rss_kib: num(idx[1])?,
                disk_bytes_per_s: num(idx[2])?,
                net_bytes_per_s: num(idx[3])?,
            })
        };
        let c = counters_idx;
        let counters = Counters {
            cpu_user_ns: num(c[0])?,
            cpu_sys_ns: num(c[1])?,
            disk_read_bytes: num(c[2])?,
            disk_write_bytes: num(c[3])?,
            net_rx_bytes: num(c[4])?,
            net_tx_bytes: num(c[5])?,
            nvcsw: num(c[6])?,
            nivcsw: num(c[7])?,
            minflt: num(c[8])?,
            majflt: num(c[9])?,
        };
        let mut ahead = Vec::with_capacity(horizons.len());
        for (horizon, idx) in &horizons {
            ahead.push(Ahead {
                horizon: *horizon,
                levels: levels(&idx[..4])?,
                rss_kib_hi: num(idx[4])?,
            });
        }
        let key = key(field(key_at)).map_err(|e| {
            anyhow!(
                "{file} line {line} column {} ({key_column}): {e}",
                key_at + 1
            )
        })?;
        let row = Group {
            key,
            t_ms: num(t_ms_at)?,
            processes: num(processes_at)?,
            anomalous: anomalous_at.map(num).transpose()?,
            counters,
            now: levels(&levels_idx)?,
            ahead,
        };
        match index.get(&row.key) {
            Some(&i) => rows[i].merge(&row),
            None => {
                index.insert(row.key.clone(), rows.len());
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

impl<K> Group<K> {
    /// Adds `other`'s numbers to this row's (rows of one table have the same horizons).
    fn merge(&mut self, other: &Group<K>) {
        self.t_ms = self.t_ms.max(other.t_ms);
        self.processes = self.processes.saturating_add(other.processes);
        self.anomalous = match (self.anomalous, other.anomalous) {
            (Some(a), Some(b)) => Some(a.saturating_add(b)),
            (a, b) => a.or(b),
        };
        self.counters.add(&other.counters);
        self.now.add(&other.now);
        for (a, b) in self.ahead.iter_mut().zip(&other.ahead) {
            a.levels.add(&b.levels);
            a.rss_kib_hi = a.rss_kib_hi.saturating_add(b.rss_kib_hi);
        }
    }
}

impl Counters {
    fn add(&mut self, o: &Counters) {
        let pairs = [
            (&mut self.cpu_user_ns, o.cpu_user_ns),
            (&mut self.cpu_sys_ns, o.cpu_sys_ns),
            (&mut self.disk_read_bytes, o.disk_read_bytes),
            (&mut self.disk_write_bytes, o.disk_write_bytes),
            (&mut self.net_rx_bytes, o.net_rx_bytes),
            (&mut self.net_tx_bytes, o.net_tx_bytes),
            (&mut self.nvcsw, o.nvcsw),
            (&mut self.nivcsw, o.nivcsw),
            (&mut self.minflt, o.minflt),
            (&mut self.majflt, o.majflt),
        ];
        for (a, b) in pairs {
            *a = a.saturating_add(b);
        }
    }
}

impl Levels {
    fn add(&mut self, o: &Levels) {
        self.cpu_permille = self.cpu_permille.saturating_add(o.cpu_permille);
        self.rss_kib = self.rss_kib.saturating_add(o.rss_kib);
        self.disk_bytes_per_s = self.disk_bytes_per_s.saturating_add(o.disk_bytes_per_s);
        self.net_bytes_per_s = self.net_bytes_per_s.saturating_add(o.net_bytes_per_s);
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The header of the module's `cgroups.csv` (as the model crate's `column_names` orders
    /// it: checked below).
    pub(crate) const CGROUPS_HEADER: &str = "t_ms,cgroup,processes,anomalous,cpu_user_ns,cpu_sys_ns,disk_read_bytes,disk_write_bytes,net_rx_bytes,net_tx_bytes,nvcsw,nivcsw,minflt,majflt,cpu_permille,rss_kib,disk_bytes_per_s,net_bytes_per_s,cpu_permille_5,rss_kib_5,disk_bytes_per_s_5,net_bytes_per_s_5,rss_kib_hi_5,cpu_permille_60,rss_kib_60,disk_bytes_per_s_60,net_bytes_per_s_60,rss_kib_hi_60";

    #[test]
    fn stats_parse_every_pair_and_name_a_bad_line() {
        let s = parse_stats("interval_ms 1000\npasses 12\n\n", "stats").unwrap();
        assert_eq!((s.get("passes"), s.get("nope")), (Some(12), None));
        let err = parse_stats("passes 12\npass_ns_last -3\n", "stats").unwrap_err();
        assert_eq!(
            err.to_string(),
            "stats line 2: pass_ns_last: \"-3\" is not an unsigned integer (invalid digit found in string)"
        );
        let err = parse_stats("passes\n", "stats").unwrap_err();
        assert_eq!(
            err.to_string(),
            "stats line 1: \"passes\" is not \"name value\""
        );
    }

    #[test]
    fn version_and_interval_and_model_info_parse() {
        let v = parse_version("procperf 0.1.0\nkernel 6.12.0\nmodel_format 3\n").unwrap();
        assert_eq!(
            (v.procperf.as_str(), v.kernel.as_str()),
            ("0.1.0", "6.12.0")
        );
        let err = parse_version("hello\n").unwrap_err().to_string();
        assert!(err.starts_with("version line 1: expected"), "{err}");
        assert_eq!(parse_interval("500\n").unwrap(), 500);
        let err = parse_interval("0\n").unwrap_err().to_string();
        assert!(err.starts_with("interval_ms line 1: \"0\""), "{err}");
        let m =
            parse_model_info("source default\ntargets cpu rss\ntrees 96\nmetadata:\n  trees 3\n");
        assert_eq!(m.get("targets"), Some("cpu rss"));
        assert_eq!(m.get("trees"), Some("96"), "metadata lines are not read");
    }

    #[test]
    fn accuracy_reads_columns_by_name() {
        let text = "target horizon scored covered err_published err_persistence err_ewma coverage_permille extra\n\
                    cpu 5 10 8 100 120 110 800 1\nrss 60 0 0 0 0 0 0 2\n";
        let rows = parse_accuracy(text, "accuracy").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            Accuracy {
                target: "cpu".into(),
                horizon: 5,
                scored: 10,
                covered: 8,
                err_published: 100,
                err_persistence: 120,
                err_ewma: 110,
            }
        );
        let err = parse_accuracy(
            "target horizon scored covered err_published err_persistence err_ewma\ncpu 5 x 1 1 1 1\n",
            "accuracy",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("accuracy line 2 column 3 (scored): \"x\" is not an unsigned integer"),
            "{err}"
        );
        let err = parse_accuracy("target horizon\n", "accuracy")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "accuracy line 1: no column \"scored\" in the header");
    }

    fn cgroup_row(id: u64) -> String {
        let mut s = format!("1000,{id},2,1");
        for i in 0..24 {
            s.push_str(&format!(",{}", i + 1));
        }
        s
    }

    #[test]
    fn groups_parse_counters_levels_and_every_horizon() {
        let text = format!("{CGROUPS_HEADER}\n{}\n", cgroup_row(77));
        let rows = parse_groups(&text, "cgroups.csv", "cgroup", parse_cgroup_id).unwrap();
        let g = &rows[0];
        assert_eq!(
            (g.key, g.t_ms, g.processes, g.anomalous),
            (77, 1000, 2, Some(1))
        );
        assert_eq!((g.counters.cpu_user_ns, g.counters.majflt), (1, 10));
        assert_eq!(g.now.net_bytes_per_s, 14);
        assert_eq!(
            g.ahead,
            vec![
                Ahead {
                    horizon: 5,
                    levels: Levels {
                        cpu_permille: 15,
                        rss_kib: 16,
                        disk_bytes_per_s: 17,
                        net_bytes_per_s: 18
                    },
                    rss_kib_hi: 19
                },
                Ahead {
                    horizon: 60,
                    levels: Levels {
                        cpu_permille: 20,
                        rss_kib: 21,
                        disk_bytes_per_s: 22,
                        net_bytes_per_s: 23
                    },
                    rss_kib_hi: 24
                },
            ]
        );
    }

    #[test]
    fn the_header_is_the_model_crates() {
        // The kernel prints the group tables' columns from procperf_model::group::column_names.
        let columns: Vec<String> = procperf_model::group::column_names()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(CGROUPS_HEADER, format!("t_ms,cgroup,{}", columns.join(",")));
    }

    #[test]
    fn a_table_without_anomalous_parses_without_it() {
        // Modules before the anomaly flag: no `anomalous` column, so no count (not 0).
        let header = CGROUPS_HEADER.replacen(",anomalous,", ",", 1);
        let row = cgroup_row(7).replacen(",2,1,", ",2,", 1);
        let text = format!("{header}\n{row}\n{row}\n");
        let rows = parse_groups(&text, "cgroups.csv", "cgroup", parse_cgroup_id).unwrap();
        let g = &rows[0];
        assert_eq!((g.key, g.processes, g.anomalous), (7, 4, None));
        assert_eq!((g.counters.cpu_user_ns, g.now.net_bytes_per_s), (2, 28));
    }

    #[test]
    fn groups_ignore_added_columns_and_reordering() {
        // A column added at the end and the key moved to the front still parse.
        let header = format!(
            "{},later",
            CGROUPS_HEADER.replacen("t_ms,comm", "t_ms,cgroup", 1)
        )
        .replacen("t_ms,cgroup,", "cgroup,t_ms,", 1);
        let row = cgroup_row(9);
        let (t, rest) = row.split_once(',').unwrap();
        let (id, rest) = rest.split_once(',').unwrap();
        let text = format!("{header}\n{id},{t},{rest},42\n");
        let g = &parse_groups(&text, "cgroups.csv", "cgroup", parse_cgroup_id).unwrap()[0];
        assert_eq!((g.key, g.t_ms, g.processes), (9, 1000, 2));
    }

    #[test]
    fn groups_name_file_line_and_column_of_a_bad_value() {
        let bad = cgroup_row(5).replacen(",2,", ",two,", 1);
        let text = format!("{CGROUPS_HEADER}\n{}\n{bad}\n", cgroup_row(4));
        let err = parse_groups(&text, "cgroups.csv", "cgroup", parse_cgroup_id)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "cgroups.csv line 3 column 3 (processes): \"two\" is not an unsigned integer"
            ),
            "{err}"
        );
        let text = format!("{CGROUPS_HEADER}\n1000,x{}\n", &cgroup_row(5)[6..]);
        let err = parse_groups(&text, "cgroups.csv", "cgroup", parse_cgroup_id)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cgroups.csv line 2 column 2 (cgroup): \"x\" is not a cgroup id"),
            "{err}"
        );
        let text = format!("{CGROUPS_HEADER}\n1000,5,2\n");
        let err = parse_groups(&text, "cgroups.csv", "cgroup", parse_cgroup_id)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "cgroups.csv line 2: 3 fields where the header has 28");
        let header = CGROUPS_HEADER.replace(",rss_kib_hi_60", "");
        let err = parse_groups(&header, "cgroups.csv", "cgroup", parse_cgroup_id)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "cgroups.csv line 1: no column \"rss_kib_hi_60\" in the header"
        );
    }

    #[test]
    fn rows_printed_with_the_same_key_are_summed() {
        let header = CGROUPS_HEADER.replacen(",cgroup,", ",comm,", 1);
        let a = cgroup_row(0).replacen(",0,", ",my_app,", 1);
        let b = a.replacen("1000,", "2000,", 1);
        let text = format!(
            "{header}\n{a}\n{}\n{b}\n",
            cgroup_row(0).replacen(",0,", ",other,", 1)
        );
        let rows = parse_groups(&text, "comms.csv", "comm", |s| Ok(s.to_owned())).unwrap();
        assert_eq!(rows.len(), 2);
        let g = &rows[0];
        assert_eq!((g.key.as_str(), g.t_ms, g.processes), ("my_app", 2000, 4));
        assert_eq!(g.anomalous, Some(2));
        assert_eq!((g.counters.cpu_user_ns, g.counters.majflt), (2, 20));
        assert_eq!((g.now.cpu_permille, g.ahead[1].rss_kib_hi), (22, 48));
    }

    #[test]
    fn comms_are_keyed_by_name() {
        let header = CGROUPS_HEADER.replacen(",cgroup,", ",comm,", 1);
        let text = format!(
            "{header}\n{}\n",
            cgroup_row(0).replacen(",0,", ",kworker/u8:1,", 1)
        );
        let rows = parse_groups(&text, "comms.csv", "comm", |s| Ok(s.to_owned())).unwrap();
        assert_eq!(rows[0].key, "kworker/u8:1");
    }

    /// A module directory with the four required files (and an empty predictions.csv).
    pub(crate) fn minimal_dir(dir: &Path) {
        let header = include_str!("../../../tests/golden/predictions.csv.header");
        fs::write(dir.join("version"), "procperf 0.1.0\nkernel 6.12.0\n").unwrap();
        fs::write(dir.join("stats"), "interval_ms 1000\npasses 3\n").unwrap();
        fs::write(dir.join("interval_ms"), "1000\n").unwrap();
        fs::write(dir.join("predictions.csv"), header).unwrap();
    }

    #[test]
    fn optional_files_may_be_missing_required_ones_may_not() {
        let tmp = tempfile::tempdir().unwrap();
        minimal_dir(tmp.path());
        let s = read(tmp.path()).unwrap();
        assert_eq!((s.cgroups, s.comms, s.model), (None, None, None));
        assert!(s.accuracy.is_empty() && s.processes.is_empty());
        fs::remove_file(tmp.path().join("stats")).unwrap();
        let err = read(tmp.path()).unwrap_err().to_string();
        let d = tmp.path().display();
        assert_eq!(
            err,
            format!("{d}/stats is missing: is {d} the procperf module's directory?")
        );
        let gone = tmp.path().join("procperf");
        let err = read(&gone).unwrap_err().to_string();
        assert!(err.starts_with("procperf module not loaded"), "{err}");
        assert!(err.contains("modprobe procperf"), "{err}");
    }
}
