//! `predictions.csv` parsed into sampling passes.
//!
//! The module's `predictions.csv` is the machine-readable twin of `predictions`: one row per
//! process with a forecast, all from the latest sampling pass, header
//! `t_ms,pid,comm,{cpu,rss,disk,net}_{current,{linear,forest,lo,hi}_{H}}`, values in the models' level
//! units ([`Target::unit`]: CPU permille, RSS KiB, I/O `256·log2(1+B/s)`); the forecast columns
//! carry their horizon in intervals (`cpu_forest_5`, `cpu_forest_60`, see
//! `procperf_model::schema::CsvColumn`). `trainer predict`
//! writes the same format for a recorded capture, with every pass of every process in one file.
//!
//! Columns are found by header name, so a file with fewer targets (a model without one) or
//! reordered columns still parses; a target with only some of its five columns is an error. The
//! `cgroup` column (after `comm` in newer modules) and `anomaly` are optional: an older file
//! parses with cgroup 0 ("unknown") and no anomaly flags, and columns nobody reads are ignored. Rows
//! are grouped into passes by `t_ms`, wherever they are in the file, so concatenated snapshots and
//! the trainer's per-process order both work. Nothing here knows how to display a value.

use anyhow::{bail, Result};
use procperf_model::schema::{CsvColumn, CsvValue, Target, N_HORIZONS, N_TARGETS};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;

/// The five values of one target for one process, in the target's level unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Forecast {
    /// Level now (the newest interval), also the persistence forecast.
    pub current: i64,
    /// Linear model's forecast at the shortest horizon (`HORIZON` intervals).
    pub linear: i64,
    /// Forest's forecast of the same (as published).
    pub forest: i64,
    /// Lower end of the forest's calibrated interval.
    pub lo: i64,
    /// Upper end of the forest's calibrated interval.
    pub hi: i64,
    /// The forest's forecast and band at the longest horizon (`MAX_HORIZON` intervals), when the
    /// file has them.
    pub long: Option<Band>,
}

/// A forecast and its calibrated band, in the target's level unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Band {
    /// The forecast.
    pub forest: i64,
    /// Lower end.
    pub lo: i64,
    /// Upper end.
    pub hi: i64,
}

/// A target's columns read, in this order: current, the shortest horizon's linear, forest, lo,
/// hi, then the longest horizon's forest, lo, hi (those three optional).
pub const FORECAST_COLUMNS: [CsvValue; 8] = [
    CsvValue::Current,
    CsvValue::Linear(0),
    CsvValue::Forest(0),
    CsvValue::Lo(0),
    CsvValue::Hi(0),
    CsvValue::Forest(N_HORIZONS - 1),
    CsvValue::Lo(N_HORIZONS - 1),
    CsvValue::Hi(N_HORIZONS - 1),
];

/// How many of [`FORECAST_COLUMNS`] a target must have.
const REQUIRED_COLUMNS: usize = 5;

impl Forecast {
    fn from_values(v: [i64; 8], long: bool) -> Self {
        let [current, linear, forest, lo, hi, long_forest, long_lo, long_hi] = v;
        Self {
            current,
            linear,
            forest,
            lo,
            hi,
            long: long.then_some(Band {
                forest: long_forest,
                lo: long_lo,
                hi: long_hi,
            }),
        }
    }
}

/// One process in one pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Thread-group id.
    pub pid: i32,
    /// Command name as the module wrote it (commas and quotes already replaced).
    pub comm: String,
    /// The process's cgroup v2 id (the inode number of its cgroup directory); 0 when unknown or
    /// when the file has no `cgroup` column (modules before it).
    pub cgroup: u64,
    /// The module's anomaly flags for the process, when the file has an `anomaly` column: a bit
    /// mask, bit [`Target::index`] set while that target is flagged (cpu 1, rss 2, disk 4, net 8;
    /// 0: none).
    pub anomaly: Option<u64>,
    /// Per target, in [`Target::ALL`] order; `None` when the file has no columns for it.
    pub targets: [Option<Forecast>; N_TARGETS],
}

impl Row {
    /// This row's values for `target`, if the file has them.
    pub fn get(&self, target: Target) -> Option<&Forecast> {
        self.targets.get(target.index()).and_then(Option::as_ref)
    }
}

/// All rows of one sampling pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Time stamp of the pass, ms since boot.
    pub t_ms: u64,
    /// One row per process, in file order (pid unique).
    pub rows: Vec<Row>,
}

/// Column positions of the fields we read.
struct Columns {
    t_ms: usize,
    pid: usize,
    comm: usize,
    cgroup: Option<usize>,
    anomaly: Option<usize>,
    /// Per target, the positions of [`FORECAST_COLUMNS`] (the long ones `None` if absent).
    targets: [Option<[Option<usize>; 8]>; N_TARGETS],
}

impl Columns {
    fn find(header: &csv::StringRecord, name: &str) -> Result<Self> {
        let pos = |col: &str| header.iter().position(|h| h.trim() == col);
        let required = |col: &str| {
            match pos(col) {
            Some(i) => Ok(i),
            None => bail!(
                "{name} line 1: no column {col:?} in the header (expected the header of predictions.csv: t_ms,pid,comm,cpu_current,...)"
            ),
        }
        };
        let mut targets = [None; N_TARGETS];
        for (slot, t) in targets.iter_mut().zip(Target::ALL) {
            let column = |value| CsvColumn { target: t, value }.to_string();
            let found = FORECAST_COLUMNS.map(|c| pos(&column(c)));
            if found.iter().all(Option::is_none) {
                continue;
            }
            let (required, long) = found.split_at(REQUIRED_COLUMNS);
            let all_or_none = long.iter().all(Option::is_some) || long.iter().all(Option::is_none);
            if let Some(missing) = FORECAST_COLUMNS
                .iter()
                .zip(
                    required
                        .iter()
                        .chain(if all_or_none { &[][..] } else { long }),
                )
                .find(|(_, f)| f.is_none())
            {
                let needed: Vec<String> = FORECAST_COLUMNS.iter().map(|&c| column(c)).collect();
                bail!(
                    "{name} line 1: column {} is missing (a target needs {}, and {} together or not at all)",
                    column(*missing.0),
                    needed[..REQUIRED_COLUMNS].join(", "),
                    needed[REQUIRED_COLUMNS..].join(", ")
                );
            }
            *slot = Some(found);
        }
        if targets.iter().all(Option::is_none) {
            bail!("{name} line 1: no target columns (cpu_current, rss_current, ...) in the header");
        }
        Ok(Self {
            t_ms: required("t_ms")?,
            pid: required("pid")?,
            comm: required("comm")?,
            cgroup: pos("cgroup"),
            anomaly: pos("anomaly"),
            targets,
        })
    }
}

/// Reads a whole `predictions.csv` (one pass, or many concatenated) into passes sorted by `t_ms`.
///
/// `name` names the file in errors, which give the line and the column:
/// `predictions.csv line 7 column 4 (cpu_current): "12x" is not an integer`.
/// A repeated header line (concatenated snapshots) is skipped; a repeated pid within a pass keeps
/// the last row (found through an index, so a pass of 10 000 processes parses in linear time).
pub fn parse(input: impl Read, name: &str) -> Result<Vec<Pass>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(input);
    let mut records = reader.records();
    let header = match records.next() {
        Some(r) => r.map_err(|e| csv_error(e, name))?,
        None => bail!("{name} is empty: expected the header t_ms,pid,comm,cpu_current,..."),
    };
    let cols = Columns::find(&header, name)?;
    // Per pass, its rows and where each pid is among them.
    let mut passes: BTreeMap<u64, (Vec<Row>, HashMap<i32, usize>)> = BTreeMap::new();
    for record in records {
        let record = record.map_err(|e| csv_error(e, name))?;
        if record == header {
            continue;
        }
        let line = record.position().map_or(0, csv::Position::line);
        let field = |i: usize| -> Result<&str> {
            match record.get(i) {
                Some(v) => Ok(v),
                None => bail!(
                    "{name} line {line} column {} ({}): missing",
                    i + 1,
                    header.get(i).unwrap_or("?")
                ),
            }
        };
        let int = |i: usize| -> Result<i64> {
            let v = field(i)?;
            v.trim().parse::<i64>().or_else(|e| {
                bail!(
                    "{name} line {line} column {} ({}): {v:?} is not an integer ({e})",
                    i + 1,
                    header.get(i).unwrap_or("?")
                )
            })
        };
        let t_ms = int(cols.t_ms)?;
        let pid = int(cols.pid)?;
        let (Ok(t_ms), Ok(pid)) = (u64::try_from(t_ms), i32::try_from(pid)) else {
            bail!("{name} line {line}: t_ms {t_ms} or pid {pid} out of range");
        };
        let mut targets = [None; N_TARGETS];
        for (slot, idx) in targets.iter_mut().zip(&cols.targets) {
            if let Some(idx) = idx {
                let mut v = [0i64; 8];
                for (v, i) in v.iter_mut().zip(idx) {
                    if let Some(i) = i {
                        *v = int(*i)?;
                    }
                }
                *slot = Some(Forecast::from_values(v, idx[REQUIRED_COLUMNS].is_some()));
            }
        }
        let unsigned = |i: usize| -> Result<u64> {
            let v = field(i)?;
            v.trim().parse::<u64>().or_else(|e| {
                bail!(
                    "{name} line {line} column {} ({}): {v:?} is not an unsigned integer ({e})",
                    i + 1,
                    header.get(i).unwrap_or("?")
                )
            })
        };
        let row = Row {
            pid,
            comm: field(cols.comm)?.to_owned(),
            cgroup: cols.cgroup.map(unsigned).transpose()?.unwrap_or(0),
            anomaly: cols.anomaly.map(unsigned).transpose()?,
            targets,
        };
        let (rows, index) = passes.entry(t_ms).or_default();
        match index.get(&pid) {
            Some(&i) => rows[i] = row,
            None => {
                index.insert(pid, rows.len());
                rows.push(row);
            }
        }
    }
    Ok(passes
        .into_iter()
        .map(|(t_ms, (rows, _))| Pass { t_ms, rows })
        .collect())
}

fn csv_error(e: csv::Error, name: &str) -> anyhow::Error {
    let line = e.position().map_or(0, csv::Position::line);
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            anyhow::anyhow!("{name} line {line}: {len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { err, .. } => {
            anyhow::anyhow!("{name} line {line} column {}: not UTF-8", err.field() + 1)
        }
        _ => anyhow::anyhow!("{name}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "t_ms,pid,comm,cpu_current,cpu_linear_5,cpu_forest_5,cpu_lo_5,cpu_hi_5,cpu_linear_60,cpu_forest_60,cpu_lo_60,cpu_hi_60,rss_current,rss_linear_5,rss_forest_5,rss_lo_5,rss_hi_5,rss_linear_60,rss_forest_60,rss_lo_60,rss_hi_60,disk_current,disk_linear_5,disk_forest_5,disk_lo_5,disk_hi_5,disk_linear_60,disk_forest_60,disk_lo_60,disk_hi_60,net_current,net_linear_5,net_forest_5,net_lo_5,net_hi_5,net_linear_60,net_forest_60,net_lo_60,net_hi_60";

    /// A row of `pid` and `comm` whose targets' 9 values are given, the rest 0.
    fn row(t_ms: u64, pid: i32, comm: &str, values: &[&[i64]]) -> String {
        let mut s = format!("{t_ms},{pid},{comm}");
        for t in 0..4 {
            let v = values.get(t).copied().unwrap_or(&[]);
            for i in 0..9 {
                s.push_str(&format!(",{}", v.get(i).copied().unwrap_or(0)));
            }
        }
        s
    }

    fn csv(rows: &[&str]) -> String {
        let mut s = format!("{HEADER}\n");
        for r in rows {
            s.push_str(r);
            s.push('\n');
        }
        s
    }

    #[test]
    fn header_matches_the_golden_file() {
        // The module's header is this test's, plus the optional columns where the module has
        // them (cgroup, anomaly): files with and without them parse.
        let golden = include_str!("../../tests/golden/predictions.csv.header").trim_end();
        let core: Vec<&str> = golden
            .split(',')
            .filter(|c| !["cgroup", "anomaly"].contains(c))
            .collect();
        assert_eq!(core.join(","), HEADER);
    }

    #[test]
    fn rows_parse_into_forecasts_per_target() {
        let text = csv(&[&row(
            5000,
            42,
            "gzip",
            &[
                &[658, 309, 611, 572, 627, 1, 300, 200, 500],
                &[1126, 1126, 1127, 1100, 1150],
                &[],
                &[2560, 2304, 2400, 2000, 2800],
            ],
        )]);
        let passes = parse(text.as_bytes(), "p.csv").unwrap();
        assert_eq!(passes.len(), 1);
        let row = &passes[0].rows[0];
        assert_eq!(
            (passes[0].t_ms, row.pid, row.comm.as_str()),
            (5000, 42, "gzip")
        );
        assert_eq!(
            row.get(Target::Cpu),
            Some(&Forecast {
                current: 658,
                linear: 309,
                forest: 611,
                lo: 572,
                hi: 627,
                long: Some(Band {
                    forest: 300,
                    lo: 200,
                    hi: 500
                }),
            })
        );
        assert_eq!(row.get(Target::Net).map(|f| f.hi), Some(2800));
    }

    #[test]
    fn rows_group_into_passes_by_time_wherever_they_are() {
        // The trainer writes per process, then time; snapshots concatenate with their headers.
        let z = ",0,0,0,0,0,0,0,0,0".repeat(4);
        let text = format!(
            "{}{HEADER}\n2000,2,b{z}\n",
            csv(&[
                &format!("1000,1,a{z}"),
                &format!("2000,1,a{z}"),
                &format!("1000,2,b{z}")
            ])
        );
        let passes = parse(text.as_bytes(), "p.csv").unwrap();
        let shape: Vec<(u64, Vec<i32>)> = passes
            .iter()
            .map(|p| (p.t_ms, p.rows.iter().map(|r| r.pid).collect()))
            .collect();
        assert_eq!(shape, vec![(1000, vec![1, 2]), (2000, vec![1, 2])]);
    }

    #[test]
    fn a_repeated_pid_in_one_pass_keeps_the_last_row() {
        let text = csv(&[&row(1, 7, "old", &[&[1; 9]]), &row(1, 7, "new", &[&[2; 9]])]);
        let passes = parse(text.as_bytes(), "p.csv").unwrap();
        assert_eq!(passes[0].rows.len(), 1);
        assert_eq!(passes[0].rows[0].comm, "new");
    }

    #[test]
    fn a_file_with_only_some_targets_parses() {
        // Only RSS, and only at the shortest horizon.
        let text = "t_ms,pid,comm,rss_current,rss_linear_5,rss_forest_5,rss_lo_5,rss_hi_5\n9,1,init,1536,1536,1538,1535,1537\n";
        let passes = parse(text.as_bytes(), "p.csv").unwrap();
        let row = &passes[0].rows[0];
        assert_eq!(row.get(Target::Cpu), None);
        assert_eq!(row.get(Target::Rss).map(|f| f.forest), Some(1538));
        assert_eq!(row.get(Target::Rss).unwrap().long, None);
        // The long horizon's columns come together or not at all.
        let text =
            "t_ms,pid,comm,rss_current,rss_linear_5,rss_forest_5,rss_lo_5,rss_hi_5,rss_forest_60\n";
        let err = format!("{:#}", parse(text.as_bytes(), "p.csv").unwrap_err());
        assert!(err.contains("column rss_lo_60 is missing"), "{err}");
    }

    #[test]
    fn a_bad_value_names_file_line_and_column() {
        let text = csv(&[
            &row(1, 7, "ok", &[&[1; 9]]),
            &row(2, 7, "ok", &[&[1; 9]])
                .replacen(",0", ",x12", 3)
                .replacen(",x12", ",0", 2),
        ]);
        let err = format!("{:#}", parse(text.as_bytes(), "rec.csv").unwrap_err());
        assert!(
            err.contains("rec.csv line 3 column 15 (rss_forest_5)"),
            "{err}"
        );
        assert!(err.contains("\"x12\" is not an integer"), "{err}");
    }

    #[test]
    fn a_short_row_names_file_and_line() {
        let text = csv(&[&row(1, 7, "ok", &[&[1; 9]]), "2,7,ok,1,1,1"]);
        let err = format!("{:#}", parse(text.as_bytes(), "rec.csv").unwrap_err());
        assert!(
            err.contains("rec.csv line 3: 6 fields where the header has 39"),
            "{err}"
        );
    }

    #[test]
    fn a_header_without_the_needed_columns_is_refused() {
        let err = format!(
            "{:#}",
            parse("t_ms,pid,comm\n".as_bytes(), "x.csv").unwrap_err()
        );
        assert!(err.contains("x.csv line 1: no target columns"), "{err}");
        let err = format!(
            "{:#}",
            parse("pid,cpu_current\n".as_bytes(), "x.csv").unwrap_err()
        );
        assert!(err.contains("column cpu_linear_5 is missing"), "{err}");
        let err = format!("{:#}", parse("".as_bytes(), "x.csv").unwrap_err());
        assert!(err.contains("x.csv is empty"), "{err}");
    }

    #[test]
    fn cgroup_and_anomaly_columns_are_read_when_present() {
        let with = HEADER.replacen("comm,", "comm,cgroup,", 1) + ",anomaly";
        let z = ",0,0,0,0,0,0,0,0,0".repeat(4);
        let text = format!("{with}\n1000,7,sh,4026531835{z},3\n");
        let passes = parse(text.as_bytes(), "p.csv").unwrap();
        let row = &passes[0].rows[0];
        assert_eq!((row.cgroup, row.anomaly), (4026531835, Some(3)));
        // Older files: no cgroup column means cgroup 0, no anomaly column means none.
        let text = csv(&[&row_of_zeros(1000, 7)]);
        let row = &parse(text.as_bytes(), "p.csv").unwrap()[0].rows[0];
        assert_eq!((row.cgroup, row.anomaly), (0, None));
        let text = format!("{with}\n1000,7,sh,-1{z},0\n");
        let err = format!("{:#}", parse(text.as_bytes(), "p.csv").unwrap_err());
        assert!(
            err.contains("p.csv line 2 column 4 (cgroup): \"-1\" is not an unsigned integer"),
            "{err}"
        );
    }

    fn row_of_zeros(t_ms: u64, pid: i32) -> String {
        row(t_ms, pid, "sh", &[])
    }

    #[test]
    fn a_header_only_file_has_no_passes() {
        assert_eq!(parse(csv(&[]).as_bytes(), "p.csv").unwrap(), vec![]);
    }
}
