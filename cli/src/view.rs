//! What the table shows, independent of the terminal: sort keys and order, values in the units of
//! the module's `predictions` text file, and the columns with their cell texts.
//!
//! Units come from the model crate ([`Target::display_unit`], [`display_milli`]): CPU in % of one
//! CPU, RSS in MiB, disk and network in KiB/s, one decimal below 1000, so a number here reads the
//! same as in `/sys/kernel/debug/procperf/predictions`. The live view (`ui.rs`) and the plain-text
//! frame of `--once` are both built from these columns.

use crate::pass::{Forecast, Row};
use procperf_model::schema::{Target, N_TARGETS};
use procperf_model::target::display_milli;
use std::cmp::Ordering;

/// What the rows are sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    /// A target's forest forecast (then its current value), highest first.
    Target(Target),
    /// Process id, lowest first.
    Pid,
    /// Command name, A to Z (then pid).
    Comm,
}

impl SortKey {
    /// Every key: the targets in [`Target::ALL`] order, then pid and comm.
    pub const ALL: [SortKey; N_TARGETS + 2] = {
        let mut all = [SortKey::Pid; N_TARGETS + 2];
        let mut i = 0;
        while i < N_TARGETS {
            all[i] = SortKey::Target(Target::ALL[i]);
            i += 1;
        }
        all[N_TARGETS + 1] = SortKey::Comm;
        all
    };

    /// The name used by `--sort` (`cpu`, `rss`, `disk`, `net`, `pid`, `comm`).
    pub fn name(self) -> &'static str {
        match self {
            SortKey::Target(t) => t.name(),
            SortKey::Pid => "pid",
            SortKey::Comm => "comm",
        }
    }
}

impl clap::ValueEnum for SortKey {
    fn value_variants<'a>() -> &'a [Self] {
        &Self::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

/// A sort key and its direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    /// What to sort by.
    pub key: SortKey,
    /// Opposite of the key's natural direction (targets highest first, pid and comm ascending).
    pub reversed: bool,
}

impl Sort {
    /// `key` in its natural direction.
    pub fn new(key: SortKey) -> Self {
        Self {
            key,
            reversed: false,
        }
    }

    /// True when the rows are shown in ascending order of the key.
    pub fn ascending(self) -> bool {
        matches!(self.key, SortKey::Pid | SortKey::Comm) != self.reversed
    }
}

/// Indices of `rows` in display order. Ties fall back to pid, so the order is total and stable
/// across refreshes.
pub fn order(rows: &[Row], sort: Sort) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..rows.len()).collect();
    let by_pid = |a: &Row, b: &Row| a.pid.cmp(&b.pid);
    let natural = |a: &Row, b: &Row| -> Ordering {
        match sort.key {
            SortKey::Target(t) => {
                let key = |r: &Row| r.get(t).map(|f| (f.forest, f.current));
                key(b).cmp(&key(a)).then_with(|| by_pid(a, b))
            }
            SortKey::Pid => by_pid(a, b),
            SortKey::Comm => a.comm.cmp(&b.comm).then_with(|| by_pid(a, b)),
        }
    };
    idx.sort_by(|&i, &j| {
        let o = natural(&rows[i], &rows[j]);
        if sort.reversed {
            o.reverse()
        } else {
            o
        }
    });
    idx
}

/// Column header of a target's group: `CPU %`, `RSS MiB`, `DISK KiB/s`, `NET KiB/s`, exactly as
/// the module's `predictions` file names them.
pub fn target_label(t: Target) -> String {
    format!("{} {}", t.name().to_uppercase(), t.display_unit())
}

/// A level in the target's display unit, at most 5 characters: `65.8`, `1234`, `56789`, `123k`
/// (thousands), `45M` (millions).
pub fn format_level(t: Target, level: i64) -> String {
    format_milli(display_milli(t, level))
}

/// Thousandths of a display unit, rounded like the module's text file (one decimal) while that
/// fits 5 characters, then to whole units and SI multiples.
pub fn format_milli(milli: i64) -> String {
    let milli = milli.max(0);
    let tenths = milli.saturating_add(50) / 100;
    if tenths < 10_000 {
        return format!("{}.{}", tenths / 10, tenths % 10);
    }
    let units = milli.saturating_add(500) / 1000;
    let scaled = |div: i64| units.saturating_add(div / 2) / div;
    match units {
        ..=99_999 => units.to_string(),
        100_000..=999_499 => format!("{}k", scaled(1_000)),
        999_500..=999_499_999 => format!("{}M", scaled(1_000_000)),
        _ => format!("{}G", scaled(1_000_000_000)),
    }
}

/// The forest's interval as `[lo..hi]`.
pub fn format_band(t: Target, f: &Forecast) -> String {
    format!("[{}..{}]", format_level(t, f.lo), format_level(t, f.hi))
}

/// Title of the shortest horizon's forecast column: `+5` (intervals ahead).
pub const SHORT_TITLE: &str = "+5";
/// Title of the longest horizon's forecast column.
pub const LONG_TITLE: &str = "+60";
const _: () = assert!(
    procperf_model::schema::HORIZON == 5 && procperf_model::schema::MAX_HORIZON == 60,
    "update the column titles"
);

/// What a column holds, for styling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Process id.
    Pid,
    /// Command name.
    Comm,
    /// A target's current value.
    Now(Target),
    /// A target's forest forecast at the shortest horizon.
    Forest(Target),
    /// Its interval.
    Band(Target),
    /// A target's forest forecast at the longest horizon.
    Long(Target),
}

/// One table column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// What it holds.
    pub kind: Kind,
    /// Title, in the column header line.
    pub title: &'static str,
    /// Width in characters.
    pub width: u16,
    /// Right-aligned (numbers) or left-aligned (names, bands).
    pub right: bool,
}

/// Characters between columns.
pub const COLUMN_SPACING: u16 = 1;

/// PID, COMM, then for every target now, the forecast and its band at the shortest horizon, and
/// the forecast at the longest (`+5 [lo..hi] +60`, in intervals ahead; its band is in
/// `predictions`, left out here to keep the table within a terminal's width).
pub fn columns() -> Vec<Column> {
    let mut cols = vec![
        Column {
            kind: Kind::Pid,
            title: "PID",
            width: 7,
            right: true,
        },
        Column {
            kind: Kind::Comm,
            title: "COMM",
            width: 15,
            right: false,
        },
    ];
    for t in Target::ALL {
        cols.extend([
            Column {
                kind: Kind::Now(t),
                title: "now",
                width: 5,
                right: true,
            },
            Column {
                kind: Kind::Forest(t),
                title: SHORT_TITLE,
                width: 5,
                right: true,
            },
            Column {
                kind: Kind::Band(t),
                title: "[lo..hi]",
                width: 14,
                right: false,
            },
            Column {
                kind: Kind::Long(t),
                title: LONG_TITLE,
                width: 5,
                right: true,
            },
        ]);
    }
    cols
}

/// The text of one cell; `-` where the file has no value for the target.
pub fn cell(row: &Row, kind: Kind) -> String {
    let value = |t: Target, f: fn(&Forecast) -> i64| {
        row.get(t)
            .map_or_else(|| "-".into(), |v| format_level(t, f(v)))
    };
    match kind {
        Kind::Pid => row.pid.to_string(),
        Kind::Comm => row.comm.clone(),
        Kind::Now(t) => value(t, |f| f.current),
        Kind::Forest(t) => value(t, |f| f.forest),
        Kind::Band(t) => row
            .get(t)
            .map_or_else(|| "[-]".into(), |f| format_band(t, f)),
        Kind::Long(t) => match row.get(t).and_then(|f| f.long) {
            Some(b) => format_level(t, b.forest),
            None => "-".into(),
        },
    }
}

/// A sort direction mark: `▼` highest first, `▲` lowest first.
pub fn arrow(sort: Sort) -> &'static str {
    if sort.ascending() {
        "▲"
    } else {
        "▼"
    }
}

/// The line above the column titles: each target's label centred over its four columns, the
/// sorted one with its direction mark (`──── CPU % ▼ ────`).
pub fn group_line(cols: &[Column], sort: Sort) -> Vec<(String, Option<Target>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = cols.get(i) {
        let Kind::Now(t) = c.kind else {
            out.push((pad(" ", c.width, false), None));
            i += 1;
            continue;
        };
        let n = cols[i..]
            .iter()
            .take_while(|c| target_of(c.kind) == Some(t))
            .count();
        let width =
            cols[i..i + n].iter().map(|c| c.width).sum::<u16>() + COLUMN_SPACING * (n as u16 - 1);
        let mut label = format!(" {} ", target_label(t));
        if sort.key == SortKey::Target(t) {
            label = format!(" {} {} ", target_label(t), arrow(sort));
        }
        let fill = usize::from(width).saturating_sub(label.chars().count());
        out.push((
            format!(
                "{}{label}{}",
                "─".repeat(fill / 2),
                "─".repeat(fill - fill / 2)
            ),
            Some(t),
        ));
        i += n;
    }
    out
}

/// The target a column belongs to.
pub fn target_of(kind: Kind) -> Option<Target> {
    match kind {
        Kind::Now(t) | Kind::Forest(t) | Kind::Band(t) | Kind::Long(t) => Some(t),
        Kind::Pid | Kind::Comm => None,
    }
}

/// A column title, with the direction mark on PID or COMM when they are the sort key.
pub fn title(c: &Column, sort: Sort) -> String {
    match (c.kind, sort.key) {
        (Kind::Pid, SortKey::Pid) | (Kind::Comm, SortKey::Comm) => {
            format!("{}{}", c.title, arrow(sort))
        }
        _ => c.title.to_owned(),
    }
}

/// `s` cut or padded to `width` characters.
pub fn pad(s: &str, width: u16, right: bool) -> String {
    let w = usize::from(width);
    let s: String = s.chars().take(w).collect();
    if right {
        format!("{s:>w$}")
    } else {
        format!("{s:<w$}")
    }
}

/// Plain-text table: group line, column titles, then one line per row in `order`.
pub fn text_table(rows: &[Row], order: &[usize], sort: Sort) -> String {
    let cols = columns();
    let join = |cells: Vec<String>| {
        cells
            .join(&" ".repeat(usize::from(COLUMN_SPACING)))
            .trim_end()
            .to_owned()
    };
    let mut out = String::new();
    for line in [
        join(
            group_line(&cols, sort)
                .into_iter()
                .map(|(s, _)| s)
                .collect(),
        ),
        join(
            cols.iter()
                .map(|c| pad(&title(c, sort), c.width, c.right))
                .collect(),
        ),
    ] {
        out.push_str(&line);
        out.push('\n');
    }
    for &i in order {
        let row = &rows[i];
        out.push_str(&join(
            cols.iter()
                .map(|c| pad(&cell(row, c.kind), c.width, c.right))
                .collect(),
        ));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pid: i32, comm: &str, cpu_forest: i64, rss_forest: i64) -> Row {
        let mut targets = [Some(Forecast::default()); N_TARGETS];
        targets[Target::Cpu.index()] = Some(Forecast {
            forest: cpu_forest,
            ..Default::default()
        });
        targets[Target::Rss.index()] = Some(Forecast {
            forest: rss_forest,
            ..Default::default()
        });
        Row {
            pid,
            comm: comm.into(),
            cgroup: 0,
            anomaly: None,
            targets,
        }
    }

    fn pids(rows: &[Row], sort: Sort) -> Vec<i32> {
        order(rows, sort).into_iter().map(|i| rows[i].pid).collect()
    }

    #[test]
    fn sorting_by_a_target_puts_the_highest_forecast_first_then_pid() {
        let rows = [
            row(3, "c", 10, 900),
            row(1, "b", 500, 100),
            row(2, "a", 10, 50),
        ];
        assert_eq!(
            pids(&rows, Sort::new(SortKey::Target(Target::Cpu))),
            [1, 2, 3]
        );
        assert_eq!(
            pids(&rows, Sort::new(SortKey::Target(Target::Rss))),
            [3, 1, 2]
        );
        assert_eq!(
            pids(
                &rows,
                Sort {
                    key: SortKey::Target(Target::Rss),
                    reversed: true
                }
            ),
            [2, 1, 3]
        );
        assert_eq!(pids(&rows, Sort::new(SortKey::Pid)), [1, 2, 3]);
        assert_eq!(pids(&rows, Sort::new(SortKey::Comm)), [2, 1, 3]);
        assert_eq!(
            pids(
                &rows,
                Sort {
                    key: SortKey::Comm,
                    reversed: true
                }
            ),
            [3, 1, 2]
        );
    }

    #[test]
    fn sort_keys_are_the_model_targets_then_pid_and_comm() {
        let names: Vec<&str> = SortKey::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names, ["cpu", "rss", "disk", "net", "pid", "comm"]);
    }

    #[test]
    fn values_use_the_units_of_the_predictions_text_file() {
        assert_eq!(target_label(Target::Cpu), "CPU %");
        assert_eq!(target_label(Target::Rss), "RSS MiB");
        assert_eq!(target_label(Target::Disk), "DISK KiB/s");
        assert_eq!(target_label(Target::Net), "NET KiB/s");
        assert_eq!(format_level(Target::Cpu, 658), "65.8"); // permille -> %
        assert_eq!(format_level(Target::Cpu, 2000), "200.0");
        assert_eq!(format_level(Target::Rss, 1126), "1.1"); // KiB -> MiB
        assert_eq!(format_level(Target::Rss, 49152), "48.0");
        assert_eq!(format_level(Target::Disk, 11 * 256), "2.0"); // 2^11 - 1 B/s
        assert_eq!(format_level(Target::Net, 0), "0.0");
        assert_eq!(format_level(Target::Cpu, -3), "0.0");
    }

    #[test]
    fn the_header_labels_match_the_golden_predictions_header() {
        let golden = include_str!("../../tests/golden/predictions.header");
        for t in Target::ALL {
            assert!(
                golden.contains(&format!(
                    "{}: now {SHORT_TITLE} [lo..hi] {LONG_TITLE}",
                    target_label(t)
                )),
                "{t:?}"
            );
        }
    }

    #[test]
    fn large_values_stay_within_five_characters() {
        let cases = [
            (999_949, "999.9"),
            (999_950, "1000"),
            (12_345_600, "12346"),
            (99_999_499, "99999"),
            (123_456_000, "123k"),
            (999_499_000, "999k"),
            (999_500_000, "1M"),
            (45_000_000_000, "45M"),
            (i64::MAX, "9223372G"),
        ];
        for (milli, text) in cases {
            assert_eq!(format_milli(milli), text, "{milli}");
        }
        for level in (0..48 * 256).step_by(97) {
            // Up to 2^48 B/s; beyond, more digits are still correct, only wider.
            assert!(
                format_level(Target::Net, level).chars().count() <= 5,
                "{level}"
            );
        }
    }

    #[test]
    fn text_table_aligns_cells_under_titles() {
        let rows = [row(42, "gzip", 658, 2048)];
        let text = text_table(&rows, &[0], Sort::new(SortKey::Target(Target::Cpu)));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains("CPU % ▼"), "{text}");
        assert!(lines[0].contains(" RSS MiB "), "{text}");
        assert!(
            lines[1].starts_with("    PID COMM              now    +5 [lo..hi]         +60   now"),
            "{text}"
        );
        assert!(
            lines[2].starts_with("     42 gzip              0.0  65.8 [0.0..0.0]         -   0.0"),
            "{text}"
        );
        let rf = lines[1].find(" +5 ").unwrap();
        assert_eq!(&lines[2][rf - 3..rf + 3], "  65.8");
    }
}
