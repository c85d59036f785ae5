//! The state of `top` between frames and what the keys do to it. No terminal here: `ui.rs` draws
//! an [`App`], `top.rs` feeds it passes and key presses, tests drive it directly.
//!
//! The selection follows a process, not a line: when a refresh re-sorts the rows the highlighted
//! process keeps its highlight, as in top and htop. When it exits, the highlight stays on the same
//! line.

use crate::history::{History, DEFAULT_CAPACITY};
use crate::pass::{Pass, Row};
use crate::source::{Meta, Update};
use crate::view::{self, Sort, SortKey};
use procperf_model::schema::Target;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::Duration;

/// Refresh interval when neither `--interval` nor the module's `interval_ms` says otherwise.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);

/// Lines moved by PageUp / PageDown.
const PAGE: usize = 10;

/// The key that sorts by `t` and charts it: c(pu), m(emory), d(isk), n(et).
pub fn target_key(t: Target) -> char {
    match t {
        Target::Cpu => 'c',
        Target::Rss => 'm',
        Target::Disk => 'd',
        Target::Net => 'n',
    }
}

/// Everything one frame shows.
pub struct App {
    /// The pass on screen.
    pub pass: Pass,
    /// Indices into `pass.rows`, in display order.
    pub order: Vec<usize>,
    /// Current sort.
    pub sort: Sort,
    /// Target charted beside CPU: the last one sorted by.
    pub chart_target: Target,
    /// Selected line (index into `order`).
    pub selected: usize,
    selected_pid: Option<i32>,
    /// What `top` remembers of every process still present.
    pub history: History,
    /// Version, model and interval from the module (empty in a replay).
    pub meta: Meta,
    /// Where the pass came from, for the header (empty when live).
    pub label: String,
    /// Time between refreshes.
    pub interval: Duration,
    interval_fixed: bool,
    /// The last refresh's error, shown until a refresh succeeds.
    pub error: Option<String>,
    /// Set by `q`.
    pub quit: bool,
}

impl App {
    /// A new view sorted by `key`, refreshing every `interval` (else as the module samples).
    pub fn new(key: SortKey, interval: Option<Duration>) -> Self {
        Self {
            pass: Pass::default(),
            order: Vec::new(),
            sort: Sort::new(key),
            chart_target: match key {
                SortKey::Target(t) => t,
                SortKey::Pid | SortKey::Comm => Target::Cpu,
            },
            selected: 0,
            selected_pid: None,
            history: History::new(DEFAULT_CAPACITY),
            meta: Meta::default(),
            label: String::new(),
            interval: interval.unwrap_or(DEFAULT_INTERVAL),
            interval_fixed: interval.is_some(),
            error: None,
            quit: false,
        }
    }

    /// Shows a new pass.
    pub fn update(&mut self, u: Update) {
        self.history.record(&u.pass);
        if let (false, Some(ms)) = (self.interval_fixed, u.meta.interval_ms) {
            self.interval = Duration::from_millis(ms.max(1));
        }
        self.pass = u.pass;
        self.meta = u.meta;
        self.label = u.label;
        self.error = None;
        self.reorder();
    }

    /// Keeps the last pass on screen and shows why the refresh failed.
    pub fn fail(&mut self, error: &anyhow::Error) {
        self.error = Some(format!("{error:#}"));
    }

    /// The selected process.
    pub fn selected_row(&self) -> Option<&Row> {
        self.order
            .get(self.selected)
            .and_then(|&i| self.pass.rows.get(i))
    }

    /// Rows in display order.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.order.iter().filter_map(|&i| self.pass.rows.get(i))
    }

    fn reorder(&mut self) {
        self.order = view::order(&self.pass.rows, self.sort);
        let found = self
            .selected_pid
            .and_then(|pid| self.rows().position(|r| r.pid == pid));
        self.select(found.unwrap_or(self.selected));
    }

    fn select(&mut self, line: usize) {
        self.selected = line.min(self.order.len().saturating_sub(1));
        self.selected_pid = self.selected_row().map(|r| r.pid);
    }

    fn sort_by(&mut self, key: SortKey) {
        self.sort = Sort::new(key);
        if let SortKey::Target(t) = key {
            self.chart_target = t;
        }
        self.reorder();
    }

    /// Applies a key press.
    pub fn key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let last = self.order.len().saturating_sub(1);
        match key.code {
            KeyCode::Char('c') if ctrl => self.quit = true,
            KeyCode::Char('q') | KeyCode::Esc => self.quit = true,
            KeyCode::Up | KeyCode::Char('k') => self.select(self.selected.saturating_sub(1)),
            KeyCode::Down | KeyCode::Char('j') => self.select(self.selected.saturating_add(1)),
            KeyCode::PageUp => self.select(self.selected.saturating_sub(PAGE)),
            KeyCode::PageDown => self.select(self.selected.saturating_add(PAGE)),
            KeyCode::Home | KeyCode::Char('g') => self.select(0),
            KeyCode::End | KeyCode::Char('G') => self.select(last),
            KeyCode::Char('p') => self.sort_by(SortKey::Pid),
            KeyCode::Char('r') => {
                self.sort.reversed = !self.sort.reversed;
                self.reorder();
            }
            KeyCode::Char(c) => {
                if let Some(t) = Target::ALL.into_iter().find(|t| target_key(*t) == c) {
                    self.sort_by(SortKey::Target(t));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pass::Forecast;
    use procperf_model::schema::N_TARGETS;

    pub(crate) fn pass(t_ms: u64, procs: &[(i32, &str, i64, i64)]) -> Pass {
        Pass {
            t_ms,
            rows: procs
                .iter()
                .map(|&(pid, comm, cpu, rss)| {
                    let mut targets = [Some(Forecast::default()); N_TARGETS];
                    let f = |v: i64| {
                        Some(Forecast {
                            current: v,
                            linear: v,
                            forest: v,
                            lo: v / 2,
                            hi: v * 2,
                            long: None,
                        })
                    };
                    targets[Target::Cpu.index()] = f(cpu);
                    targets[Target::Rss.index()] = f(rss);
                    Row {
                        pid,
                        comm: comm.into(),
                        cgroup: 0,
                        anomaly: None,
                        targets,
                    }
                })
                .collect(),
        }
    }

    fn press(app: &mut App, code: KeyCode) {
        app.key(KeyEvent::new(code, KeyModifiers::NONE));
    }

    fn update(app: &mut App, p: Pass) {
        app.update(Update {
            pass: p,
            ..Default::default()
        });
    }

    fn pids(app: &App) -> Vec<i32> {
        app.rows().map(|r| r.pid).collect()
    }

    #[test]
    fn keys_sort_reverse_and_select() {
        let mut app = App::new(SortKey::Target(Target::Cpu), None);
        update(
            &mut app,
            pass(
                1000,
                &[(1, "a", 100, 30), (2, "b", 300, 10), (3, "c", 200, 20)],
            ),
        );
        assert_eq!(pids(&app), [2, 3, 1]);
        assert_eq!(app.selected_row().map(|r| r.pid), Some(2));
        press(&mut app, KeyCode::Char('m'));
        assert_eq!(pids(&app), [1, 3, 2]);
        assert_eq!(app.chart_target, Target::Rss);
        press(&mut app, KeyCode::Char('r'));
        assert_eq!(pids(&app), [2, 3, 1]);
        press(&mut app, KeyCode::Char('p'));
        assert_eq!(pids(&app), [1, 2, 3]);
        assert_eq!(
            app.chart_target,
            Target::Rss,
            "pid sorting keeps the charted target"
        );
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Down);
        assert_eq!(app.selected, 2, "selection stops at the last line");
        press(&mut app, KeyCode::Up);
        assert_eq!(app.selected_row().map(|r| r.pid), Some(2));
        assert!(!app.quit);
        press(&mut app, KeyCode::Char('q'));
        assert!(app.quit);
    }

    #[test]
    fn selection_follows_the_process_across_refreshes() {
        let mut app = App::new(SortKey::Target(Target::Cpu), None);
        update(
            &mut app,
            pass(
                1000,
                &[(1, "a", 100, 0), (2, "b", 300, 0), (3, "c", 200, 0)],
            ),
        );
        press(&mut app, KeyCode::Down); // 3
        update(
            &mut app,
            pass(
                2000,
                &[(1, "a", 100, 0), (2, "b", 300, 0), (3, "c", 900, 0)],
            ),
        );
        assert_eq!(
            (app.selected, app.selected_row().map(|r| r.pid)),
            (0, Some(3))
        );
        update(&mut app, pass(3000, &[(1, "a", 100, 0), (2, "b", 300, 0)]));
        assert_eq!(
            (app.selected, app.selected_row().map(|r| r.pid)),
            (0, Some(2)),
            "gone: same line"
        );
        update(&mut app, pass(4000, &[]));
        assert_eq!(app.selected_row(), None);
    }

    #[test]
    fn the_module_interval_applies_unless_one_was_given() {
        let meta = Meta {
            interval_ms: Some(250),
            ..Default::default()
        };
        let mut app = App::new(SortKey::Pid, None);
        app.update(Update {
            meta: meta.clone(),
            ..Default::default()
        });
        assert_eq!(app.interval, Duration::from_millis(250));
        let mut app = App::new(SortKey::Pid, Some(Duration::from_secs(3)));
        app.update(Update {
            meta,
            ..Default::default()
        });
        assert_eq!(app.interval, Duration::from_secs(3));
    }
}
