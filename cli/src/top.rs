//! `procperf top`: the refresh loop. Reads a pass, draws, waits for a key or the next refresh.
//!
//! The terminal is restored however the loop ends: on return or error by [`Screen`]'s `Drop`, on
//! a panic by the hook that `ratatui::try_init` installs. Errors that stop `top` before it starts
//! (no module, no permission, a bad file) are returned before the screen is taken over, so they
//! print as plain messages.

use crate::app::App;
use crate::source::Source;
use crate::ui;
use crate::view::{self, SortKey};
use anyhow::{bail, Context, Result};
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use ratatui::DefaultTerminal;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What `procperf top` was asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    /// The module's debugfs directory.
    pub dir: PathBuf,
    /// Refresh interval; `None` follows the module's `interval_ms` (replay: 1 s).
    pub interval: Option<Duration>,
    /// Initial sort.
    pub sort: SortKey,
    /// Play back this recorded `predictions.csv` instead of reading the module.
    pub replay: Option<PathBuf>,
    /// Print one plain-text frame and exit.
    pub once: bool,
}

/// Runs `procperf top`.
pub fn run(opts: &Options) -> Result<()> {
    let (mut source, first) = match &opts.replay {
        Some(path) => Source::replay(path)?,
        None => Source::live(&opts.dir)?,
    };
    let mut app = App::new(opts.sort, opts.interval);
    app.update(first);
    if opts.once {
        let mut out = std::io::stdout().lock();
        out.write_all(frame_text(&app, &clock()).as_bytes())?;
        return out.flush().context("writing to stdout");
    }
    if !std::io::stdout().is_terminal() {
        bail!("procperf top needs a terminal; --once prints one plain-text frame instead");
    }
    let mut screen = Screen(ratatui::try_init().context("setting up the terminal")?);
    refresh_loop(&mut screen.0, &mut app, &mut source)
}

/// The `--once` frame: the header line, then the table as plain text.
pub fn frame_text(app: &App, clock: &str) -> String {
    format!(
        "{}\n{}",
        ui::header_line(app, clock),
        view::text_table(&app.pass.rows, &app.order, app.sort)
    )
}

/// Restores the terminal when dropped.
struct Screen(DefaultTerminal);

impl Drop for Screen {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

fn refresh_loop(term: &mut DefaultTerminal, app: &mut App, source: &mut Source) -> Result<()> {
    let mut next_refresh = Instant::now() + app.interval;
    let mut dirty = true;
    while !app.quit {
        if Instant::now() >= next_refresh {
            match source.read() {
                Ok(u) => app.update(u),
                Err(e) => app.fail(&e),
            }
            next_refresh = Instant::now() + app.interval;
            dirty = true;
        }
        if dirty {
            let clock = clock();
            term.draw(|f| ui::draw(f, app, &clock)).context("drawing")?;
            dirty = false;
        }
        if event::poll(next_refresh.saturating_duration_since(Instant::now()))? {
            match event::read()? {
                Event::Key(k) if k.kind != KeyEventKind::Release => {
                    app.key(k);
                    dirty = true;
                }
                Event::Resize(..) => dirty = true,
                _ => {}
            }
        }
    }
    Ok(())
}

/// Local wall-clock time, `HH:MM:SS`.
fn clock() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let t = libc::time_t::try_from(secs).unwrap_or(0);
    // SAFETY: `libc::tm` is integers and one pointer (`tm_zone`); all-zero is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: `localtime_r` reads `t` and writes only `tm`, both valid for the call; it is the
    // thread-safe variant.
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return format!(
            "{:02}:{:02}:{:02} UTC",
            secs / 3600 % 24,
            secs / 60 % 60,
            secs % 60
        );
    }
    format!("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec)
}

/// Parses `--interval` seconds: 0.05 to 3600.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(0.05..=3600.0).contains(&secs) {
        return Err(format!("{secs} s is outside 0.05..=3600"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tests::pass;
    use crate::source::Update;
    use procperf_model::schema::Target;

    #[test]
    fn once_prints_header_and_sorted_rows() {
        let mut app = App::new(SortKey::Target(Target::Rss), None);
        app.update(Update {
            pass: pass(2500, &[(1, "a", 900, 10), (2, "b", 100, 2048)]),
            ..Default::default()
        });
        let text = frame_text(&app, "01:02:03");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "procperf (version unknown) │ model unknown │ every 1 s │ 2 processes │ t=2.5 s │ 01:02:03");
        assert!(lines[1].contains(" RSS MiB ▼ "), "{text}");
        assert!(lines[3].starts_with("      2 b "), "{text}");
        assert!(lines[4].starts_with("      1 a "), "{text}");
        assert_eq!(lines.len(), 5);
    }

    #[test]
    fn interval_bounds() {
        assert_eq!(parse_interval("0.2"), Ok(Duration::from_millis(200)));
        assert!(parse_interval("0").is_err());
        assert!(parse_interval("fast").unwrap_err().contains("not a number"));
    }

    #[test]
    fn clock_is_hh_mm_ss() {
        let c = clock();
        assert_eq!(&c[2..3], ":", "{c}");
        assert_eq!(&c[5..6], ":", "{c}");
    }
}
