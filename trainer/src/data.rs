//! The samples CSV, in and out: the format the kernel's `samples` debugfs stream and `trainer collect`
//! write, one row per process per interval.
//!
//! The header is [`ROW_PREFIX`] followed by [`COLUMNS`], both from the model crate; this module builds
//! and checks headers from those arrays and never spells a column name itself. Recordings made
//! before the cgroup column ([`ROW_PREFIX_V1`]) still read, with cgroup 0. Reading is streaming
//! (one reusable [`csv::ByteRecord`]) and every error names the file, the line and the column, because
//! a 200 MB capture with one bad cell must say where the cell is.
//!
//! Fields are parsed by hand rather than through a serde-derived struct: the column list lives in the
//! model crate as data, and a derived struct would be a second copy of it.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use procperf_model::sample::{
    RawSample, SampleError, COLUMNS, N_COLUMNS, ROW_PREFIX, ROW_PREFIX_V1,
};

use crate::progress;

/// One CSV row: a process's identity and time stamp plus its [`RawSample`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// End of the interval, ms since boot.
    pub t_ms: u64,
    /// Thread-group id.
    pub pid: u32,
    /// Index into [`Samples::comms`].
    pub comm: u32,
    /// cgroup v2 id (0: unknown, or a recording made before the column).
    pub cgroup: u64,
    pub sample: RawSample,
}

impl Row {
    /// When the process started, ms since boot; with `pid` it identifies a process across pid reuse.
    pub fn start_ms(&self) -> i64 {
        self.t_ms as i64 - self.sample.age_ms as i64
    }
}

/// All rows of one capture, in file order, with command names interned.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    pub rows: Vec<Row>,
    pub comms: Vec<String>,
}

impl Samples {
    pub fn comm(&self, row: &Row) -> &str {
        &self.comms[row.comm as usize]
    }

    /// Interns `comm`, returning its index.
    pub fn intern(
        &mut self,
        comm: &str,
        index: &mut std::collections::HashMap<String, u32>,
    ) -> u32 {
        if let Some(&i) = index.get(comm) {
            return i;
        }
        let i = self.comms.len() as u32;
        self.comms.push(comm.to_owned());
        index.insert(comm.to_owned(), i);
        i
    }
}

/// The header line fields, built from the model crate's arrays.
pub fn header() -> Vec<&'static str> {
    ROW_PREFIX.iter().chain(COLUMNS.iter()).copied().collect()
}

/// The header of recordings made before the cgroup column.
fn header_v1() -> Vec<&'static str> {
    ROW_PREFIX_V1
        .iter()
        .chain(COLUMNS.iter())
        .copied()
        .collect()
}

/// Makes a command name safe for one CSV field: no separators, quotes or line breaks.
pub fn clean_comm(comm: &str) -> String {
    let s: String = comm
        .chars()
        .map(|c| {
            if c == ',' || c == '"' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if s.is_empty() {
        "_".to_owned()
    } else {
        s
    }
}

/// Writes rows in the samples CSV format.
pub struct SampleWriter<W: Write> {
    out: W,
}

impl SampleWriter<BufWriter<File>> {
    pub fn create(path: &Path) -> Result<Self> {
        let f = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        Self::new(BufWriter::new(f))
    }
}

impl<W: Write> SampleWriter<W> {
    pub fn new(mut out: W) -> Result<Self> {
        writeln!(out, "{}", header().join(","))?;
        Ok(Self { out })
    }

    pub fn write(
        &mut self,
        (t_ms, pid, comm, cgroup): (u64, u32, &str, u64),
        sample: &RawSample,
    ) -> io::Result<()> {
        write!(self.out, "{},{},{},{}", t_ms, pid, clean_comm(comm), cgroup)?;
        for v in sample.values() {
            write!(self.out, ",{v}")?;
        }
        writeln!(self.out)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Reads a samples CSV file (plain, or gzip/xz-compressed when the name ends in `.gz`/`.xz` and the
/// tool is on PATH). Errors name the file, line and column.
pub fn read_samples(path: &Path, show_progress: bool) -> Result<Samples> {
    let name = path.display().to_string();
    let file = File::open(path).with_context(|| format!("opening {name}"))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let reader: Box<dyn Read> = match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => Box::new(decompress("gzip", file, &name)?),
        Some("xz") => Box::new(decompress("xz", file, &name)?),
        _ => Box::new(file),
    };
    let bar = progress::bytes(len, show_progress, &format!("reading {name}"));
    let reader = bar.wrap_read(reader);
    let samples = parse_samples(reader, &name)?;
    bar.finish_and_clear();
    Ok(samples)
}

fn decompress(tool: &'static str, file: File, name: &str) -> Result<impl Read> {
    let mut child = std::process::Command::new(tool)
        .arg("-dc")
        .stdin(file)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("reading {name}: running {tool} -dc"))?;
    let out = child.stdout.take().expect("stdout was piped");
    Ok(ChildReader { child, out, tool })
}

/// A decompressor's stdout that reports the decompressor's failure at end of stream, so a corrupt
/// archive is an error rather than a silently short file.
struct ChildReader {
    child: std::process::Child,
    out: std::process::ChildStdout,
    tool: &'static str,
}

impl Read for ChildReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.out.read(buf)?;
        if n == 0 && !buf.is_empty() {
            let status = self.child.wait()?;
            if !status.success() {
                return Err(io::Error::other(format!(
                    "{} -dc failed ({status})",
                    self.tool
                )));
            }
        }
        Ok(n)
    }
}

/// Parses the samples CSV from any reader; `name` is used in error messages.
pub fn parse_samples<R: Read>(reader: R, name: &str) -> Result<Samples> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(reader);
    let mut rec = csv::ByteRecord::new();
    let current = header();

    if !rdr
        .read_byte_record(&mut rec)
        .with_context(|| format!("reading {name}"))?
    {
        bail!(
            "reading {name}: the file is empty (expected a header line: {})",
            current.join(",")
        );
    }
    // A recording made before the cgroup column, or the current format (whose error is shown).
    let v1 = header_v1();
    let expected = if check_header(&rec, &v1, name).is_ok() {
        v1
    } else {
        check_header(&rec, &current, name)?;
        current
    };
    let prefix = expected.len() - N_COLUMNS;

    let mut samples = Samples::default();
    let mut index = std::collections::HashMap::new();
    let mut values = [0i64; N_COLUMNS];
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                bail!("reading {name} line {line}: {e}");
            }
        }
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.len() == 1 && rec.get(0).is_some_and(|f| f.is_empty()) {
            continue; // blank line
        }
        if rec.len() != expected.len() {
            bail!(
                "reading {name} line {line}: {} fields, expected {} ({})",
                rec.len(),
                expected.len(),
                if rec.len() > expected.len() {
                    "extra columns"
                } else {
                    "missing columns"
                }
            );
        }
        let field = |i| Field {
            rec: &rec,
            i,
            col: expected[i],
            name,
            line,
        };
        let t_ms = field(0).parse::<u64>()?;
        let pid = field(1).parse::<u32>()?;
        let comm = std::str::from_utf8(&rec[2])
            .with_context(|| format!("reading {name} line {line} column comm: not UTF-8"))?;
        let cgroup = if prefix > 3 {
            field(3).parse::<u64>()?
        } else {
            0
        };
        for (i, v) in values.iter_mut().enumerate() {
            *v = field(prefix + i).parse::<i64>()?;
        }
        let sample = RawSample::from_values(&values).map_err(|e| {
            let (col, what) = match e {
                SampleError::Negative { column } => (column, "negative value for a counter"),
                SampleError::OutOfRange { column } => (column, "value out of range"),
            };
            anyhow::anyhow!(
                "reading {name} line {line} column {}: {what} ({})",
                COLUMNS[col],
                values[col]
            )
        })?;
        let comm = samples.intern(comm, &mut index);
        samples.rows.push(Row {
            t_ms,
            pid,
            comm,
            cgroup,
            sample,
        });
    }
    Ok(samples)
}

fn check_header(rec: &csv::ByteRecord, expected: &[&str], name: &str) -> Result<()> {
    let got: Vec<String> = rec
        .iter()
        .map(|f| String::from_utf8_lossy(f).trim().to_owned())
        .collect();
    for want in expected {
        if !got.iter().any(|g| g == want) {
            bail!(
                "reading {name} line 1: missing column {want} (expected header: {})",
                expected.join(",")
            );
        }
    }
    for g in &got {
        if !expected.contains(&g.as_str()) {
            bail!(
                "reading {name} line 1: unknown column {g:?} (expected header: {})",
                expected.join(",")
            );
        }
    }
    if got.len() != expected.len() || got.iter().zip(expected).any(|(g, w)| g != w) {
        bail!(
            "reading {name} line 1: columns out of order (expected header: {})",
            expected.join(",")
        );
    }
    Ok(())
}

/// One field of a record, with what an error message needs to say where it is.
struct Field<'a> {
    rec: &'a csv::ByteRecord,
    i: usize,
    col: &'a str,
    name: &'a str,
    line: u64,
}

impl Field<'_> {
    fn parse<T>(&self) -> Result<T>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        let Self {
            rec,
            i,
            col,
            name,
            line,
        } = self;
        let s = std::str::from_utf8(&rec[*i])
            .map_err(|_| anyhow::anyhow!("reading {name} line {line} column {col}: not UTF-8"))?
            .trim();
        s.parse::<T>().map_err(|e| {
            anyhow::anyhow!(
                "reading {name} line {line} column {col}: {e} ({s:?} is not an integer)"
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_with(row: &str) -> String {
        format!("{}\n{row}\n", header().join(","))
    }

    fn good_row() -> String {
        let s = RawSample {
            interval_ns: 1_000_000_000,
            threads: 1,
            ..Default::default()
        };
        let vals: Vec<String> = s.values().iter().map(|v| v.to_string()).collect();
        format!("1000,42,bash,7,{}", vals.join(","))
    }

    #[test]
    fn written_rows_read_back_identically() {
        let s = RawSample {
            interval_ns: 250_000_000,
            cpu_user_ns: 7,
            nice: -3,
            rss_anon_kib: 99,
            ..Default::default()
        };
        let mut buf = Vec::new();
        let mut w = SampleWriter::new(&mut buf).unwrap();
        w.write((5, 7, "a,b\"c", 99), &s).unwrap();
        w.flush().unwrap();
        let got = parse_samples(&buf[..], "mem").unwrap();
        assert_eq!(got.rows.len(), 1);
        assert_eq!(got.rows[0].sample, s);
        assert_eq!(got.rows[0].cgroup, 99);
        assert_eq!(got.comm(&got.rows[0]), "a_b_c");
    }

    #[test]
    fn recordings_without_the_cgroup_column_still_read() {
        let row = good_row().replacen(",bash,7,", ",bash,", 1);
        let old = format!("{}\n{row}\n", header_v1().join(","));
        let got = parse_samples(old.as_bytes(), "old.csv").unwrap();
        assert_eq!(got.rows.len(), 1);
        assert_eq!(got.rows[0].cgroup, 0);
        assert_eq!(got.rows[0].sample.interval_ns, 1_000_000_000);
        let err = parse_samples(
            format!("{}\n{row}\n", header().join(",")).as_bytes(),
            "x.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("x.csv line 2"), "{err}");
    }

    #[test]
    fn error_names_line_and_column_for_non_numeric_cell() {
        let row = good_row().replacen(",0,", ",abc,", 1);
        let err = parse_samples(csv_with(&row).as_bytes(), "x.csv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.csv line 2 column cpu_user_ns"), "{err}");
    }

    #[test]
    fn empty_input_is_an_error_not_a_panic() {
        let err = parse_samples(&b""[..], "e.csv").unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }
}
