//! `procperf top` in a real terminal: tmux runs it on the recorded fixture, the test types keys
//! and reads the screen back, as a person would. Every check polls the screen (up to 20 s), so a
//! slow machine only makes the test slower.
//!
//! Needs tmux; without it the test fails (it does not skip): scripts/setup installs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_procperf");
const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/predictions-recorded.csv"
);
const PATIENCE: Duration = Duration::from_secs(20);
/// The selection mark in front of the selected row (`ui::SELECTED`).
const SELECTED: &str = "▶ ";

/// A tmux server of our own (its socket in our scratch directory), killed on drop.
struct Tmux {
    socket: String,
    dir: PathBuf,
}

impl Tmux {
    /// A server name and a scratch directory; nothing runs yet.
    fn new() -> Self {
        if Command::new("tmux").arg("-V").output().is_err() {
            panic!("install tmux (scripts/setup does)");
        }
        let dir = std::env::temp_dir().join(format!("procperf-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("tmux.sock").display().to_string();
        Self { socket, dir }
    }

    /// Runs `command` in a detached session `top` of `width` x `height`.
    fn start(&self, width: u16, height: u16, command: &str) {
        let (w, h) = (width.to_string(), height.to_string());
        let out = self.run(&[
            "new-session",
            "-d",
            "-s",
            "top",
            "-x",
            &w,
            "-y",
            &h,
            command,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-u", "-f", "/dev/null", "-S", &self.socket])
            .args(args)
            .env("LANG", "C.UTF-8")
            .env("TERM", "xterm-256color")
            .output()
            .expect("running tmux")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "top"]).stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "top"];
        args.extend(keys);
        assert!(self.run(&args).status.success(), "send-keys {keys:?}");
    }

    fn alive(&self) -> bool {
        self.run(&["has-session", "-t", "top"]).status.success()
    }

    /// Polls the screen until `check` returns `Ok`; fails with the last screen after [`PATIENCE`].
    fn wait_for<T>(&self, what: &str, check: impl Fn(&str) -> Result<T, String>) -> T {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            match check(&screen) {
                Ok(v) => return v,
                Err(why) if start.elapsed() > PATIENCE => {
                    panic!("waited {PATIENCE:?} for {what}: {why}\n--- screen ---\n{screen}")
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    fn status_file(&self) -> PathBuf {
        self.dir.join("status")
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

/// The table as seen on screen: the column-title line and the rows below it.
struct Table {
    titles: Vec<char>,
    rows: Vec<Vec<char>>,
}

impl Table {
    fn parse(screen: &str) -> Result<Self, String> {
        let lines: Vec<&str> = screen.lines().collect();
        let t = lines
            .iter()
            .position(|l| l.contains("PID COMM"))
            .ok_or("no column titles")?;
        let rows: Vec<Vec<char>> = lines[t + 1..]
            .iter()
            .take_while(|l| !l.trim().is_empty() && !l.starts_with('┌'))
            .map(|l| l.chars().collect())
            .collect();
        if rows.is_empty() {
            return Err("no rows".into());
        }
        Ok(Self {
            titles: lines[t].chars().collect(),
            rows,
        })
    }

    /// Text of the `nth` column whose title is `title`, right-aligned and `width` wide, in `row`.
    fn cell(&self, row: usize, title: &str, nth: usize, width: usize) -> String {
        let t: Vec<char> = title.chars().collect();
        let at = (0..self.titles.len())
            .filter(|&i| {
                self.titles[i..].starts_with(&t) && self.titles.get(i + t.len()) == Some(&' ')
            })
            .nth(nth)
            .unwrap_or_else(|| panic!("no column {title} #{nth}"));
        let end = at + t.len();
        self.rows[row][end.saturating_sub(width)..end.min(self.rows[row].len())]
            .iter()
            .collect::<String>()
            .trim()
            .to_owned()
    }

    fn pid(&self, row: usize) -> String {
        self.cell(row, "PID", 0, 7)
    }

    fn comm(&self, row: usize) -> String {
        self.rows[row]
            .iter()
            .skip(SELECTED.chars().count() + 8)
            .take(15)
            .collect::<String>()
            .trim()
            .to_owned()
    }

    fn selected(&self) -> Option<usize> {
        self.rows
            .iter()
            .position(|r| r.starts_with(&SELECTED.chars().collect::<Vec<_>>()))
    }
}

/// A displayed value back to a number: `48.0`, `1234`, `123k`, `4M`.
fn number(s: &str) -> Result<f64, String> {
    let (digits, scale) = match s.chars().last() {
        Some('k') => (&s[..s.len() - 1], 1e3),
        Some('M') => (&s[..s.len() - 1], 1e6),
        Some('G') => (&s[..s.len() - 1], 1e9),
        _ => (s, 1.0),
    };
    digits
        .parse::<f64>()
        .map(|v| v * scale)
        .map_err(|e| format!("{s:?}: {e}"))
}

#[test]
fn top_replays_sorts_selects_and_quits_in_tmux() {
    let fixture = Path::new(FIXTURE);
    assert!(fixture.is_file(), "missing fixture {FIXTURE}");
    let tmux = Tmux::new();
    let command = format!(
        "{} top --replay {} --interval 0.2; echo $? > {}",
        quote(Path::new(BIN)),
        quote(fixture),
        quote(&tmux.status_file())
    );
    tmux.start(160, 45, &command);

    // Header, titles, rows.
    tmux.wait_for("the header and the table", |s| {
        let header = s.lines().next().unwrap_or("");
        for want in [
            "replay predictions-recorded.csv pass ",
            "model as recorded",
            "every 0.2 s",
            " processes │ t=",
        ] {
            if !header.contains(want) {
                return Err(format!("header lacks {want:?}"));
            }
        }
        for want in [
            "CPU %",
            "RSS MiB",
            "DISK KiB/s",
            "NET KiB/s",
            "PID COMM              now    +5 [lo..hi]         +60",
        ] {
            if !s.contains(want) {
                return Err(format!("no {want:?}"));
            }
        }
        let t = Table::parse(s)?;
        (t.rows.len() >= 10)
            .then_some(())
            .ok_or(format!("{} rows", t.rows.len()))
    });

    // Sort by RSS: the RSS forest column (the second "+5") is non-increasing.
    tmux.keys(&["m"]);
    tmux.wait_for("rows sorted by RSS forecast", |s| {
        if !s.contains("sorted by rss forecast ▼") || !s.contains(" RSS MiB ▼ ") {
            return Err("no rss sort mark".into());
        }
        let t = Table::parse(s)?;
        let rss: Vec<f64> = (0..t.rows.len())
            .map(|r| number(&t.cell(r, "+5", 1, 5)))
            .collect::<Result<_, _>>()?;
        match rss.windows(2).position(|w| w[0] < w[1]) {
            Some(i) => Err(format!("row {i} {} < row {} {}", rss[i], i + 1, rss[i + 1])),
            None => Ok(()),
        }
    });

    // First line, then two down: the third process is selected and charted.
    tmux.keys(&["Home"]);
    let before = tmux.wait_for("the selection on the first row", |s| {
        let t = Table::parse(s)?;
        (t.selected() == Some(0))
            .then(|| t.pid(2))
            .ok_or(format!("selected {:?}", t.selected()))
    });
    tmux.keys(&["Down", "Down"]);
    tmux.wait_for("the third row selected and named in the chart title", |s| {
        let t = Table::parse(s)?;
        let row = t.selected().ok_or("nothing selected")?;
        let (pid, comm) = (t.pid(row), t.comm(row));
        // A refresh may re-sort between reading the screen and the keys arriving: the selection
        // follows the process, so accept the third row of either screen.
        if pid != before && pid != t.pid(2) {
            return Err(format!(
                "selected pid {pid} on row {row}, the third row was {before}"
            ));
        }
        let title = format!("CPU % · {pid} {comm} · actual vs forest forecast");
        if !s.contains(&title) {
            return Err(format!("no chart titled {title:?}"));
        }
        if !s.contains(&format!("RSS MiB · {pid} {comm}")) {
            return Err("no RSS chart beside the CPU chart".into());
        }
        Ok(())
    });

    // q quits with status 0 and the session ends.
    tmux.keys(&["q"]);
    let start = Instant::now();
    while tmux.alive() {
        assert!(
            start.elapsed() < PATIENCE,
            "still running {PATIENCE:?} after q:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = std::fs::read_to_string(tmux.status_file()).expect("exit status written");
    assert_eq!(status.trim(), "0", "procperf top exit status");
}

#[test]
fn top_without_the_module_fails_with_advice() {
    let dir = std::env::temp_dir().join(format!("procperf-nomodule-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(BIN)
        .args(["top", "--once", "--dir"])
        .arg(dir.join("procperf"))
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("procperf module not loaded") && err.contains("insmod procperf.ko"),
        "{err}"
    );
}

#[test]
fn once_prints_a_plain_frame_of_the_first_recorded_pass() {
    let out = Command::new(BIN)
        .args(["top", "--once", "--sort", "pid", "--replay", FIXTURE])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with(
            "replay predictions-recorded.csv pass 1/60 │ model as recorded │ every 1 s │ "
        ),
        "{text}"
    );
    assert!(lines[2].starts_with("   PID▲ COMM"), "{text}");
    let pids: Vec<i32> = lines[3..]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert!(
        pids.len() > 10 && pids.windows(2).all(|w| w[0] < w[1]),
        "{pids:?}"
    );
    assert!(!text.contains('\x1b'), "plain text, no escape sequences");
}

#[test]
fn a_bad_recording_names_file_line_and_column() {
    let path = std::env::temp_dir().join(format!("procperf-bad-{}.csv", std::process::id()));
    let good = std::fs::read_to_string(FIXTURE).unwrap();
    let mut lines: Vec<String> = good.lines().take(5).map(str::to_owned).collect();
    lines[3] = lines[3].replacen(',', ",x", 1); // line 4, column 2: pid "x97"
    std::fs::write(&path, lines.join("\n")).unwrap();
    let out = Command::new(BIN)
        .args(["top", "--once", "--replay"])
        .arg(&path)
        .output()
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 4 column 2 (pid)"), "{err}");
}
