//! Draws an [`App`] with ratatui: a header line, a key/status line, the process table and, at the
//! bottom, charts of the selected process's actual values against the forest's forecasts.
//!
//! Drawing only reads the app; everything it shows comes from `view.rs`, so the live view and the
//! plain-text frame of `--once` cannot disagree on a number.

use crate::app::{target_key, App};
use crate::pass::Forecast;
use crate::view::{self, Column, Kind, SortKey};
use procperf_model::history::HISTORY_LEN;
use procperf_model::schema::{Target, HORIZON, MAX_HORIZON};
use procperf_model::target::display_milli;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Cell, Chart, Dataset, GraphType, HighlightSpacing, Paragraph, Row, Table,
    TableState,
};
use ratatui::Frame;

/// Marks the selected line; the tmux test looks for it.
pub const SELECTED: &str = "▶ ";

/// The first line: version (or the replayed file), model, interval, processes, pass time, clock.
pub fn header_line(app: &App, clock: &str) -> String {
    let source = if app.label.is_empty() {
        app.meta
            .version
            .clone()
            .unwrap_or_else(|| "procperf (version unknown)".into())
    } else {
        app.label.clone()
    };
    let model = match (&app.meta.model, app.label.is_empty()) {
        (Some(m), _) => m.clone(),
        (None, true) => "model unknown".into(),
        (None, false) => "model as recorded".into(),
    };
    format!(
        "{source} │ {model} │ every {} s │ {} processes │ t={:.1} s │ {clock}",
        app.interval.as_secs_f64(),
        app.pass.rows.len(),
        app.pass.t_ms as f64 / 1000.0,
    )
}

/// The second line: the keys, and what the table is sorted by.
pub fn keys_line(app: &App) -> String {
    let keys: String = Target::ALL
        .iter()
        .map(|t| target_key(*t).to_string())
        .collect::<Vec<_>>()
        .join("/");
    let names: String = Target::ALL
        .iter()
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join("/");
    let sorted = match app.sort.key {
        SortKey::Target(t) => format!("{} forecast", t.name()),
        k => k.name().to_owned(),
    };
    format!(
        "q quit  ↑/↓ select  {keys} sort by {names}  p pid  r reverse │ sorted by {sorted} {} │ +{HORIZON}, +{MAX_HORIZON}: forecasts over the next {HORIZON} and {MAX_HORIZON} intervals (RSS: peak)",
        view::arrow(app.sort)
    )
}

/// Draws one frame; `clock` is the wall-clock time to show.
pub fn draw(frame: &mut Frame<'_>, app: &App, clock: &str) {
    let area = frame.area();
    let chart_height = if area.height < 20 {
        0
    } else {
        (area.height / 3).clamp(8, 16)
    };
    let [header, status, table, charts] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(chart_height),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(header_line(app, clock)).bold(), header);
    let status_line = match &app.error {
        Some(e) => Line::from(format!("⚠ {e}")).style(Style::new().fg(Color::Red).bold()),
        None => Line::from(keys_line(app)).style(Style::new().fg(Color::DarkGray)),
    };
    frame.render_widget(Paragraph::new(status_line), status);
    draw_table(frame, app, table);
    if chart_height > 0 {
        draw_charts(frame, app, charts);
    }
}

fn cell_style(kind: Kind) -> Style {
    match kind {
        Kind::Forest(_) | Kind::Long(_) => Style::new().fg(Color::Cyan),
        Kind::Band(_) => Style::new().fg(Color::DarkGray),
        Kind::Pid | Kind::Comm | Kind::Now(_) => Style::new(),
    }
}

fn aligned(text: String, c: &Column) -> Line<'static> {
    let line = Line::from(text);
    if c.right {
        line.right_aligned()
    } else {
        line
    }
}

fn draw_table(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let [groups, table] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let cols = fitting(
        view::columns(),
        area.width.saturating_sub(SELECTED.chars().count() as u16),
    );
    let sorted_target = match app.sort.key {
        SortKey::Target(t) => Some(t),
        SortKey::Pid | SortKey::Comm => None,
    };
    let mut spans = vec![Span::raw(" ".repeat(SELECTED.chars().count()))];
    for (i, (text, t)) in view::group_line(&cols, app.sort).into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" ".repeat(usize::from(view::COLUMN_SPACING))));
        }
        let style = match t {
            Some(t) if Some(t) == sorted_target => Style::new().fg(Color::Yellow).bold(),
            Some(_) => Style::new().fg(Color::Blue),
            None => Style::new(),
        };
        spans.push(Span::styled(text, style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), groups);

    if app.order.is_empty() {
        let msg = format!(
            "no process has a forecast yet: a process needs {HISTORY_LEN} intervals of history"
        );
        frame.render_widget(Paragraph::new(msg).italic(), table);
        return;
    }
    let header = Row::new(cols.iter().map(|c| {
        let mut style = Style::new().bold();
        if view::target_of(c.kind).is_some_and(|t| Some(t) == sorted_target)
            || matches!(
                (c.kind, app.sort.key),
                (Kind::Pid, SortKey::Pid) | (Kind::Comm, SortKey::Comm)
            )
        {
            style = style.fg(Color::Yellow);
        }
        Cell::from(aligned(view::title(c, app.sort), c)).style(style)
    }));
    let rows = app.rows().map(|r| {
        Row::new(
            cols.iter()
                .map(|c| Cell::from(aligned(view::cell(r, c.kind), c)).style(cell_style(c.kind))),
        )
    });
    let widths = cols.iter().map(|c| Constraint::Length(c.width));
    let t = Table::new(rows, widths)
        .header(header)
        .column_spacing(view::COLUMN_SPACING)
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED))
        .highlight_symbol(SELECTED)
        .highlight_spacing(HighlightSpacing::Always);
    let mut state = TableState::default().with_selected(Some(app.selected));
    frame.render_stateful_widget(t, table, &mut state);
}

/// The leading columns that fit `width` whole: a narrow terminal loses columns on the right
/// rather than digits of every number.
fn fitting(mut cols: Vec<Column>, width: u16) -> Vec<Column> {
    let mut used = 0u16;
    let n = cols
        .iter()
        .take_while(|c| {
            used = used.saturating_add(c.width);
            let fits = used <= width;
            used = used.saturating_add(view::COLUMN_SPACING);
            fits
        })
        .count();
    cols.truncate(n.max(1));
    cols
}

fn draw_charts(frame: &mut Frame<'_>, app: &App, area: Rect) {
    if app.chart_target == Target::Cpu {
        draw_chart(frame, app, Target::Cpu, area);
    } else {
        let [left, right] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(area);
        draw_chart(frame, app, Target::Cpu, left);
        draw_chart(frame, app, app.chart_target, right);
    }
}

/// The chart's title for the selected process: `CPU % · 1234 sqlite · actual vs forest forecast`.
pub fn chart_title(app: &App, t: Target) -> String {
    match app.selected_row() {
        Some(r) => format!(
            " {} · {} {} · actual vs forest forecast ",
            view::target_label(t),
            r.pid,
            r.comm
        ),
        None => format!(" {} · no process selected ", view::target_label(t)),
    }
}

const ACTUAL: Color = Color::Green;
const FOREST: Color = Color::Cyan;
const BAND: Color = Color::DarkGray;

/// [`chart_title`] with its words in the colours of their lines: it is the legend.
fn chart_title_line(app: &App, t: Target) -> Line<'static> {
    let title = chart_title(app, t);
    let Some(head) = title.strip_suffix(" actual vs forest forecast ") else {
        return Line::from(title);
    };
    Line::from(vec![
        Span::raw(head.to_owned()).bold(),
        Span::raw(" "),
        Span::styled("actual", Style::new().fg(ACTUAL).bold()),
        Span::raw(" vs "),
        Span::styled("forest forecast", Style::new().fg(FOREST).bold()),
        Span::raw(" "),
        Span::styled(
            format!("[lo..hi] (next {HORIZON} intervals) "),
            Style::new().fg(BAND),
        ),
    ])
}

/// Y bounds that show the data's variation: from a little below its lowest value (not below 0) to
/// a little above its highest. RSS at 500 MiB changing by 2 MiB would be a flat line from 0.
fn y_bounds(series: &[&[(f64, f64)]]) -> [f64; 2] {
    let ys = || series.iter().flat_map(|s| s.iter().map(|p| p.1));
    let (lo, hi) = (ys().fold(f64::INFINITY, f64::min), ys().fold(0.0, f64::max));
    if !lo.is_finite() {
        return [0.0, 1.0];
    }
    let span = (hi - lo).max(hi * 0.05).max(0.1);
    [(lo - span * 0.1).max(0.0), hi + span * 0.1]
}

fn draw_chart(frame: &mut Frame<'_>, app: &App, t: Target, area: Rect) {
    let block = Block::bordered().title(chart_title_line(app, t));
    let Some(row) = app.selected_row() else {
        frame.render_widget(block, area);
        return;
    };
    let points: Vec<_> = app
        .history
        .points(row.pid)
        .filter_map(|p| p.get(t).map(|f| (p.t_ms, *f)))
        .collect();
    let Some(&(newest, _)) = points.last() else {
        frame.render_widget(block, area);
        return;
    };
    let x = |t_ms: u64| -(newest.saturating_sub(t_ms) as f64) / 1000.0;
    let y = |level: i64| display_milli(t, level) as f64 / 1000.0;
    let series = |f: fn(&Forecast) -> i64| -> Vec<(f64, f64)> {
        points.iter().map(|(t_ms, v)| (x(*t_ms), y(f(v)))).collect()
    };
    let (actual, forest, lo, hi) = (
        series(|f| f.current),
        series(|f| f.forest),
        series(|f| f.lo),
        series(|f| f.hi),
    );
    let x_min = x(points[0].0).min(-1.0);
    let [y_min, y_max] = y_bounds(&[&actual, &forest, &lo, &hi]);
    let line = |data, color| {
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::new().fg(color))
            .data(data)
    };
    // Drawn in this order: the band behind, the actual values in front.
    let datasets = vec![
        line(&lo, BAND),
        line(&hi, BAND),
        line(&forest, FOREST),
        line(&actual, ACTUAL),
    ];
    let label = |v: f64| Span::raw(view::format_milli((v * 1000.0).round() as i64));
    let chart = Chart::new(datasets)
        .block(block)
        .x_axis(
            Axis::default()
                .bounds([x_min, 0.0])
                .labels([Span::raw(format!("{x_min:.0} s")), Span::raw("now")])
                .style(Style::new().fg(Color::DarkGray)),
        )
        .y_axis(
            Axis::default()
                .bounds([y_min, y_max])
                .labels([label(y_min), label((y_min + y_max) / 2.0), label(y_max)])
                .style(Style::new().fg(Color::DarkGray)),
        )
        .legend_position(None);
    frame.render_widget(chart, area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tests::pass;
    use crate::source::{Meta, Update};
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn screen(app: &App, w: u16, h: u16) -> Vec<String> {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| draw(f, app, "12:34:56")).unwrap();
        let buf = term.backend().buffer().clone();
        (0..h)
            .map(|y| {
                (0..w)
                    .map(|x| buf[(x, y)].symbol().to_owned())
                    .collect::<String>()
            })
            .collect()
    }

    fn app() -> App {
        let mut app = App::new(SortKey::Target(Target::Cpu), None);
        let meta = Meta {
            version: Some("procperf 0.1.0".into()),
            model: Some("default model, 96 trees, depth 8".into()),
            interval_ms: Some(1000),
        };
        for t in 1..=3 {
            let p = pass(
                t * 1000,
                &[
                    (69, "gzip", 658, 1126),
                    (65, "python3", 423 + t as i64, 49152),
                ],
            );
            app.update(Update {
                pass: p,
                meta: meta.clone(),
                label: String::new(),
            });
        }
        app
    }

    #[test]
    fn one_frame_shows_header_titles_rows_and_chart() {
        let lines = screen(&app(), 160, 45);
        assert_eq!(
            lines[0].trim_end(),
            "procperf 0.1.0 │ default model, 96 trees, depth 8 │ every 1 s │ 2 processes │ t=3.0 s │ 12:34:56"
        );
        assert!(
            lines[1].starts_with("q quit  ↑/↓ select  c/m/d/n sort by cpu/rss/disk/net"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].contains(" CPU % ▼ ") && lines[2].contains(" NET KiB/s "),
            "{}",
            lines[2]
        );
        assert!(
            lines[3].starts_with("      PID COMM              now    +5 [lo..hi]         +60"),
            "{}",
            lines[3]
        );
        assert!(
            lines[4]
                .starts_with("▶      69 gzip             65.8  65.8 [32.9..131.6]      -   1.1"),
            "{}",
            lines[4]
        );
        assert!(
            lines[5]
                .starts_with("       65 python3          42.6  42.6 [21.3..85.2]       -  48.0"),
            "{}",
            lines[5]
        );
        let chart_top = lines
            .iter()
            .position(|l| l.contains("CPU % · 69 gzip · actual vs forest forecast"))
            .unwrap();
        assert!(chart_top > 5 && chart_top < 45, "{lines:#?}");
        assert!(
            lines[chart_top].contains("[lo..hi] (next 5 intervals)"),
            "the title is the legend"
        );
    }

    #[test]
    fn group_labels_sit_over_their_columns() {
        let lines = screen(&app(), 160, 45);
        let titles = &lines[3];
        for t in Target::ALL {
            let label = view::target_label(t);
            let g = lines[2]
                .find(&format!(" {label} "))
                .unwrap_or_else(|| panic!("{label}: {}", lines[2]));
            // The label is centred over now..[lo..hi], between its group's first and last title.
            let g = lines[2][..g].chars().count();
            let titles: Vec<char> = titles.chars().collect();
            let now = (0..titles.len())
                .filter(|&i| titles[i..].starts_with(&['n', 'o', 'w']))
                .nth(t.index())
                .unwrap();
            assert!(
                g > now.saturating_sub(3) && g < now + 20,
                "{label} at {g}, now at {now}"
            );
        }
    }

    #[test]
    fn sorting_by_rss_charts_rss_beside_cpu_and_marks_the_sort() {
        let mut app = app();
        app.key(ratatui::crossterm::event::KeyEvent::from(
            ratatui::crossterm::event::KeyCode::Char('m'),
        ));
        let lines = screen(&app, 160, 45);
        assert!(
            lines[2].contains(" RSS MiB ▼ ") && !lines[2].contains("CPU % ▼"),
            "{}",
            lines[2]
        );
        assert!(
            lines[4].contains("python3"),
            "highest RSS first: {}",
            lines[4]
        );
        let chart = lines
            .iter()
            .find(|l| l.contains("CPU % · 69 gzip"))
            .unwrap();
        assert!(chart.contains("RSS MiB · 69 gzip"), "{chart}");
    }

    #[test]
    fn an_empty_pass_says_why_and_errors_show_in_red_line() {
        let mut app = App::new(SortKey::Target(Target::Cpu), None);
        app.update(Update::default());
        app.fail(&anyhow::anyhow!(
            "reading x needs root (debugfs is root-only)"
        ));
        let lines = screen(&app, 120, 30);
        assert!(
            lines[1].starts_with("⚠ reading x needs root"),
            "{}",
            lines[1]
        );
        assert!(
            lines[3].starts_with("no process has a forecast yet"),
            "{}",
            lines[3]
        );
    }

    #[test]
    fn chart_y_bounds_show_variation_above_zero() {
        assert_eq!(y_bounds(&[]), [0.0, 1.0]);
        let [lo, hi] = y_bounds(&[&[(0.0, 500.0), (1.0, 502.0)]]);
        assert!(
            lo > 450.0 && lo < 500.0 && hi > 502.0 && hi < 560.0,
            "{lo} {hi}"
        );
        let [lo, _] = y_bounds(&[&[(0.0, 0.0), (1.0, 40.0)]]);
        assert_eq!(lo, 0.0);
    }

    #[test]
    fn a_small_terminal_drops_the_chart_but_keeps_the_table() {
        let lines = screen(&app(), 80, 12);
        assert_eq!(
            lines[4].trim_end(),
            "▶      69 gzip             65.8  65.8 [32.9..131.6]      -   1.1   1.1",
            "{lines:#?}"
        );
        assert!(!lines.iter().any(|l| l.contains("actual vs forest")));
    }
}
