//! `predictions.csv` parsed into sampling passes.
//!
//! The module's `predictions.csv` is the machine-readable twin of `predictions`: one row per
//! process with a forecast, all from the latest sampling pass, header
//! `t_ms,pid,comm,{cpu,rss,disk,net}_{current,linear,forest,lo,hi}`, values in the models' level
//! units ([`Target::unit`]: CPU permille, RSS KiB, I/O `256·log2(1+B/s)`). `trainer predict`
//! writes the same format for a recorded capture, with every pass of every process in one file.
//!
//! Columns are found by header name, so a file with fewer targets (a model without one) or
//! reordered columns still parses; a target with only some of its five columns is an error. Rows
//! are grouped into passes by `t_ms`, wherever they are in the file, so concatenated snapshots and
//! the trainer's per-process order both work. Nothing here knows how to display a value.

use anyhow::{bail, Result};
use procperf_model::schema::{Target, N_TARGETS};
use std::collections::BTreeMap;
use std::io::Read;

/// The five values of one target for one process, in the target's level unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Forecast {
    /// Level now (the newest interval), also the persistence forecast.
    pub current: i64,
    /// Linear model's forecast of the mean over the next `HORIZON` intervals.
    pub linear: i64,
    /// Forest's forecast of the same.
    pub forest: i64,
    /// Lower end of the forest's calibrated interval.
    pub lo: i64,
    /// Upper end of the forest's calibrated interval.
    pub hi: i64,
}

/// Suffixes of a target's columns, in file order (`cpu_current`, `cpu_linear`, ...).
pub const FORECAST_COLUMNS: [&str; 5] = ["current", "linear", "forest", "lo", "hi"];

impl Forecast {
    fn from_array([current, linear, forest, lo, hi]: [i64; 5]) -> Self {
        Self {
            current,
            linear,
            forest,
            lo,
            hi,
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
    targets: [Option<[usize; 5]>; N_TARGETS],
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
            let found = FORECAST_COLUMNS.map(|c| pos(&format!("{}_{c}", t.name())));
            if found.iter().all(Option::is_none) {
                continue;
            }
            if let Some(missing) = FORECAST_COLUMNS
                .iter()
                .zip(found)
                .find(|(_, f)| f.is_none())
            {
                bail!("{name} line 1: column {}_{} is missing (a target needs all of {FORECAST_COLUMNS:?})", t.name(), missing.0);
            }
            *slot = Some(found.map(|f| f.unwrap_or_default()));
        }
        if targets.iter().all(Option::is_none) {
            bail!("{name} line 1: no target columns (cpu_current, rss_current, ...) in the header");
        }
        Ok(Self {
            t_ms: required("t_ms")?,
            pid: required("pid")?,
            comm: required("comm")?,
            targets,
        })
    }
}

/// Reads a whole `predictions.csv` (one pass, or many concatenated) into passes sorted by `t_ms`.
///
/// `name` names the file in errors, which give the line and the column:
/// `predictions.csv line 7 column 4 (cpu_current): "12x" is not an integer`.
/// A repeated header line (concatenated snapshots) is skipped; a repeated pid within a pass keeps
/// the last row.
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
    let mut passes: BTreeMap<u64, Vec<Row>> = BTreeMap::new();
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
                let mut v = [0i64; 5];
                for (v, &i) in v.iter_mut().zip(idx) {
                    *v = int(i)?;
                }
                *slot = Some(Forecast::from_array(v));
            }
        }
        let row = Row {
            pid,
            comm: field(cols.comm)?.to_owned(),
            targets,
        };
        let rows = passes.entry(t_ms).or_default();
        match rows.iter_mut().find(|r| r.pid == pid) {
            Some(old) => *old = row,
            None => rows.push(row),
        }
    }
    Ok(passes
        .into_iter()
        .map(|(t_ms, rows)| Pass { t_ms, rows })
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

    const HEADER: &str = "t_ms,pid,comm,cpu_current,cpu_linear,cpu_forest,cpu_lo,cpu_hi,rss_current,rss_linear,rss_forest,rss_lo,rss_hi,disk_current,disk_linear,disk_forest,disk_lo,disk_hi,net_current,net_linear,net_forest,net_lo,net_hi";

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
        let golden = include_str!("../../tests/golden/predictions.csv.header");
        assert_eq!(golden.trim_end(), HEADER);
    }

    #[test]
    fn rows_parse_into_forecasts_per_target() {
        let text = csv(&["5000,42,gzip,658,309,611,572,627,1126,1126,1127,1100,1150,0,0,0,0,0,2560,2304,2400,2000,2800"]);
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
                hi: 627
            })
        );
        assert_eq!(row.get(Target::Net).map(|f| f.hi), Some(2800));
    }

    #[test]
    fn rows_group_into_passes_by_time_wherever_they_are() {
        // The trainer writes per process, then time; snapshots concatenate with their headers.
        let z = ",0,0,0,0,0".repeat(4);
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
        let text = csv(&[
            "1,7,old,1,1,1,1,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0",
            "1,7,new,2,2,2,2,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0",
        ]);
        let passes = parse(text.as_bytes(), "p.csv").unwrap();
        assert_eq!(passes[0].rows.len(), 1);
        assert_eq!(passes[0].rows[0].comm, "new");
    }

    #[test]
    fn a_file_with_only_some_targets_parses() {
        let text = "t_ms,pid,comm,rss_current,rss_linear,rss_forest,rss_lo,rss_hi\n9,1,init,1536,1536,1538,1535,1537\n";
        let passes = parse(text.as_bytes(), "p.csv").unwrap();
        let row = &passes[0].rows[0];
        assert_eq!(row.get(Target::Cpu), None);
        assert_eq!(row.get(Target::Rss).map(|f| f.forest), Some(1538));
    }

    #[test]
    fn a_bad_value_names_file_line_and_column() {
        let text = csv(&[
            "1,7,ok,1,1,1,1,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0",
            "2,7,ok,1,1,1,1,1,0,0,x12,0,0,0,0,0,0,0,0,0,0,0,0",
        ]);
        let err = format!("{:#}", parse(text.as_bytes(), "rec.csv").unwrap_err());
        assert!(
            err.contains("rec.csv line 3 column 11 (rss_forest)"),
            "{err}"
        );
        assert!(err.contains("\"x12\" is not an integer"), "{err}");
    }

    #[test]
    fn a_short_row_names_file_and_line() {
        let text = csv(&[
            "1,7,ok,1,1,1,1,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0",
            "2,7,ok,1,1,1",
        ]);
        let err = format!("{:#}", parse(text.as_bytes(), "rec.csv").unwrap_err());
        assert!(
            err.contains("rec.csv line 3: 6 fields where the header has 23"),
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
        assert!(
            err.contains("cpu_current is missing") || err.contains("cpu_linear is missing"),
            "{err}"
        );
        let err = format!("{:#}", parse("".as_bytes(), "x.csv").unwrap_err());
        assert!(err.contains("x.csv is empty"), "{err}");
    }

    #[test]
    fn a_header_only_file_has_no_passes() {
        assert_eq!(parse(csv(&[]).as_bytes(), "p.csv").unwrap(), vec![]);
    }
}
