//! The report's charts: plotters drawing into SVG strings, one function per kind of chart.
//!
//! Everything here is drawing only: values arrive already in display coordinates (CPU %, MiB,
//! log2 of a rate) with a tick formatter for the axis; no model or feature code. Each chart is a
//! standalone `<svg>` with an `id` and a `<title>`, so the page can be searched and tested per
//! chart. Scatter plots draw each screen pixel once and at most [`MAX_SCATTER_POINTS`] points,
//! which keeps a report of tens of thousands of rows to a few hundred KiB.

use std::collections::HashSet;

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Colour of the truth ("actual") in every chart.
pub const ACTUAL: RGBColor = RGBColor(33, 37, 41);
/// Colours of the models and baselines, the same in every chart and table.
pub const LINEAR: RGBColor = RGBColor(52, 101, 164);
pub const FOREST: RGBColor = RGBColor(46, 139, 87);
pub const PERSISTENCE: RGBColor = RGBColor(128, 128, 128);
pub const EWMA: RGBColor = RGBColor(230, 145, 56);
pub const MEAN: RGBColor = RGBColor(155, 89, 182);

/// Most points drawn in one scatter plot (after dropping points on an already drawn pixel).
pub const MAX_SCATTER_POINTS: usize = 2500;

const FONT: &str = "sans-serif";
// plotters' SVG backend writes font-size = size / 1.24.
const CAPTION_PX: u32 = 22;
const LABEL_PX: u32 = 16;
const GRID: RGBColor = RGBColor(235, 235, 235);
const GRID_BOLD: RGBColor = RGBColor(215, 215, 215);
const AXIS_TEXT: RGBColor = RGBColor(60, 60, 60);

/// The colour of a model or baseline by its name in the scores.
pub fn model_colour(model: &str) -> RGBColor {
    match model {
        "linear" => LINEAR,
        "forest" => FOREST,
        "persistence" => PERSISTENCE,
        "ewma" => EWMA,
        "mean" => MEAN,
        _ => ACTUAL,
    }
}

/// `#rrggbb` of a colour, for the page's CSS.
pub fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// An axis: its title, its range and how a coordinate is written at a tick.
pub struct Axis<'a> {
    pub desc: &'a str,
    pub range: (f64, f64),
    /// Ticks asked of plotters (more than the labels wanted when `tick` leaves some blank).
    pub ticks: usize,
    pub tick: &'a dyn Fn(f64) -> String,
}

/// The label of a log10 axis coordinate: the power of ten at whole decades, nothing between.
pub fn decade_label(c: f64) -> String {
    let k = c.round();
    if (c - k).abs() > 1e-6 {
        return String::new();
    }
    let k = k as i32;
    match k {
        ..=-1 => format!("{:.*}", (-k) as usize, 10f64.powi(k)),
        0..=5 => format!("{}", 10i64.pow(k as u32)),
        _ => format!("1e{k}"),
    }
}

/// A number with about three significant digits and no trailing zeros, no exponent for everyday
/// magnitudes.
pub fn fmt_num(v: f64) -> String {
    let a = v.abs();
    // Plotters' ticks can land a rounding error away from zero.
    if a < 1e-12 || !v.is_finite() {
        return "0".into();
    }
    if a < 0.01 {
        return format!("{v:.1e}");
    }
    let decimals = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Like [`fmt_num`] but keeping trailing zeros, so values side by side line up (`7.20`, `7.06`).
pub fn fmt_value(v: f64) -> String {
    let a = v.abs();
    if a < 1e-12 || !v.is_finite() {
        "0".into()
    } else if a < 0.01 {
        format!("{v:.1e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// Draws into a fresh SVG of `size` pixels and labels it with `id` and `title`.
fn svg(
    id: &str,
    title: &str,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<()>,
) -> Result<String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    Ok(label(buf, id, title))
}

fn plot_err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing a chart: {e}")
}

/// Adds `id`, a class and an accessible `<title>` to plotters' `<svg>` element.
fn label(svg: String, id: &str, title: &str) -> String {
    let Some(end) = svg.find('>') else {
        return svg;
    };
    let (open, rest) = svg.split_at(end + 1);
    let open = open.replacen(
        "<svg ",
        &format!(
            "<svg id=\"{}\" class=\"chart\" role=\"img\" aria-labelledby=\"{0}-title\" ",
            super::esc(id)
        ),
        1,
    );
    format!(
        "{open}\n<title id=\"{}-title\">{}</title>{rest}",
        super::esc(id),
        super::esc(title)
    )
}

fn caption_style() -> TextStyle<'static> {
    (FONT, CAPTION_PX).into_font().color(&ACTUAL)
}

fn label_style() -> TextStyle<'static> {
    (FONT, LABEL_PX).into_font().color(&AXIS_TEXT)
}

fn desc_style() -> TextStyle<'static> {
    (FONT, LABEL_PX + 1).into_font().color(&AXIS_TEXT)
}

/// Predicted against true values, both in the same axis coordinates, with the diagonal `y = x`.
/// Returns the SVG and how many points were drawn.
pub fn scatter(
    id: &str,
    title: &str,
    axis: &Axis<'_>,
    points: &[(f64, f64)],
    colour: RGBColor,
) -> Result<(String, usize)> {
    let (lo, hi) = axis.range;
    let hi = if hi > lo { hi } else { lo + 1.0 };
    let mut shown = 0;
    let markup = svg(id, title, (560, 500), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, caption_style())
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(lo..hi, lo..hi)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .bold_line_style(GRID_BOLD)
            .x_desc(format!("actual, {}", axis.desc))
            .y_desc(format!("predicted, {}", axis.desc))
            .x_label_formatter(&|v| (axis.tick)(*v))
            .y_label_formatter(&|v| (axis.tick)(*v))
            .x_labels(axis.ticks)
            .y_labels(axis.ticks)
            .label_style(label_style())
            .axis_desc_style(desc_style())
            .draw()
            .map_err(plot_err)?;
        let mut seen = HashSet::new();
        let distinct: Vec<(f64, f64)> = points
            .iter()
            .copied()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .filter(|p| seen.insert(chart.backend_coord(p)))
            .collect();
        let step = distinct.len().div_ceil(MAX_SCATTER_POINTS).max(1);
        let drawn: Vec<(f64, f64)> = distinct.into_iter().step_by(step).collect();
        shown = drawn.len();
        chart
            .draw_series(
                drawn
                    .into_iter()
                    .map(|p| Circle::new(p, 2, colour.mix(0.45).filled())),
            )
            .map_err(plot_err)?;
        chart
            .draw_series(DashedLineSeries::new(
                [(lo, lo), (hi, hi)],
                6,
                4,
                ACTUAL.mix(0.6).stroke_width(1),
            ))
            .map_err(plot_err)?;
        Ok(())
    })?;
    Ok((markup, shown))
}

/// One uninterrupted stretch of a process's rows (a run): times and levels in display units.
#[derive(Clone, Debug, Default)]
pub struct Segment {
    pub t_s: Vec<f64>,
    pub actual: Vec<f64>,
    pub linear: Vec<f64>,
    pub forest: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

/// Actual, linear and forest levels over time with the forest's interval as a band; the runs of a
/// process are drawn as separate stretches (no line across a gap). The page carries the legend:
/// inside the plot it would hide data.
pub fn time_series(id: &str, title: &str, y_desc: &str, segments: &[Segment]) -> Result<String> {
    let all_t = || segments.iter().flat_map(|s| s.t_s.iter().copied());
    let t0 = all_t().fold(f64::INFINITY, f64::min);
    let t1 = all_t().fold(f64::NEG_INFINITY, f64::max);
    let (t0, t1) = if t0 < t1 {
        (t0, t1)
    } else {
        (t0.min(0.0), t0.max(0.0) + 1.0)
    };
    let top = segments
        .iter()
        .flat_map(|s| {
            s.actual
                .iter()
                .chain(&s.linear)
                .chain(&s.forest)
                .chain(&s.hi)
        })
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let hi = if top > 0.0 { top * 1.08 } else { 1.0 };
    svg(id, title, (1200, 300), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, caption_style())
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(t0..t1, 0.0..hi)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .bold_line_style(GRID_BOLD)
            .x_desc("time since the start of the capture, s")
            .y_desc(y_desc)
            .y_label_formatter(&|v| fmt_num(*v))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .label_style(label_style())
            .axis_desc_style(desc_style())
            .draw()
            .map_err(plot_err)?;
        for s in segments {
            let mut band: Vec<(f64, f64)> =
                s.t_s.iter().copied().zip(s.hi.iter().copied()).collect();
            band.extend(s.t_s.iter().copied().zip(s.lo.iter().copied()).rev());
            chart
                .draw_series(std::iter::once(Polygon::new(
                    band,
                    FOREST.mix(0.2).filled(),
                )))
                .map_err(plot_err)?;
            for (values, colour, width) in [
                (&s.linear, LINEAR, 1),
                (&s.forest, FOREST, 1),
                (&s.actual, ACTUAL, 2),
            ] {
                let pts: Vec<(f64, f64)> =
                    s.t_s.iter().copied().zip(values.iter().copied()).collect();
                chart
                    .draw_series(LineSeries::new(pts, colour.stroke_width(width)))
                    .map_err(plot_err)?;
            }
        }
        Ok(())
    })
}

/// Histogram of residuals (`truth − prediction`) of the linear model and the forest, as shares of
/// rows, with the forest's interval offsets as dashed lines. Values outside `range` are left out;
/// the caller says how many.
pub fn residual_histogram(
    id: &str,
    title: &str,
    x_desc: &str,
    linear: &[f64],
    forest: &[f64],
    range: (f64, f64),
    forest_band: (f64, f64),
) -> Result<String> {
    const BINS: usize = 41;
    let (lo, hi) = if range.0 < range.1 {
        range
    } else {
        (range.0 - 1.0, range.0 + 1.0)
    };
    let width = (hi - lo) / BINS as f64;
    let shares = |v: &[f64]| -> Vec<f64> {
        let mut c = vec![0usize; BINS];
        for &x in v {
            if x >= lo && x <= hi {
                c[(((x - lo) / width) as usize).min(BINS - 1)] += 1;
            }
        }
        c.iter()
            .map(|&n| 100.0 * n as f64 / v.len().max(1) as f64)
            .collect()
    };
    let (lin, rf) = (shares(linear), shares(forest));
    let top = lin
        .iter()
        .chain(&rf)
        .copied()
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.1;
    svg(id, title, (560, 400), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, caption_style())
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(60)
            .build_cartesian_2d(lo..hi, 0.0..top)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .bold_line_style(GRID_BOLD)
            .x_desc(x_desc)
            .y_desc("rows, %")
            .x_label_formatter(&|v| fmt_num(*v))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style(label_style())
            .axis_desc_style(desc_style())
            .draw()
            .map_err(plot_err)?;
        for (shares, colour, name) in [(&lin, LINEAR, "linear"), (&rf, FOREST, "forest")] {
            chart
                .draw_series(
                    shares
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| **s > 0.0)
                        .map(|(i, &s)| {
                            let x0 = lo + i as f64 * width;
                            Rectangle::new([(x0, 0.0), (x0 + width, s)], colour.mix(0.45).filled())
                        }),
                )
                .map_err(plot_err)?
                .label(name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 18, y + 5)], colour.mix(0.6).filled())
                });
        }
        let (blo, bhi) = forest_band;
        let mut labelled = false;
        for x in [blo, bhi] {
            if x < lo || x > hi {
                continue;
            }
            let s = chart
                .draw_series(DashedLineSeries::new(
                    [(x, 0.0), (x, top)],
                    5,
                    4,
                    FOREST.stroke_width(2),
                ))
                .map_err(plot_err)?;
            if !labelled {
                s.label("forest interval offsets").legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], FOREST.stroke_width(2))
                });
                labelled = true;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(GRID_BOLD)
            .label_font(label_style())
            .draw()
            .map_err(plot_err)?;
        Ok(())
    })
}

/// One bar of a horizontal bar chart.
#[derive(Clone, Debug)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub colour: RGBColor,
    /// Drawn lighter (e.g. "all rows" beside "active rows").
    pub light: bool,
}

/// One panel of horizontal bars, first bar on top.
pub struct Panel<'a> {
    pub caption: &'a str,
    pub x_desc: &'a str,
    pub bars: &'a [Bar],
    /// A dashed vertical line, e.g. the nominal coverage.
    pub reference: Option<f64>,
    pub value: &'a dyn Fn(f64) -> String,
}

/// Panels of horizontal bars side by side (one panel: a plain bar chart).
pub fn bar_panels(
    id: &str,
    title: &str,
    width: u32,
    label_width: u32,
    panels: &[Panel<'_>],
) -> Result<String> {
    let rows = panels
        .iter()
        .map(|p| p.bars.len())
        .max()
        .unwrap_or(0)
        .max(1);
    let height = 100 + 32 * rows as u32;
    svg(id, title, (width, height), |root| {
        let root = root.titled(title, caption_style()).map_err(plot_err)?;
        let areas = root.split_evenly((1, panels.len().max(1)));
        for (area, p) in areas.iter().zip(panels) {
            draw_bars(area, p, label_width)?;
        }
        Ok(())
    })
}

fn draw_bars(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    p: &Panel<'_>,
    label_width: u32,
) -> Result<()> {
    let n = p.bars.len().max(1) as i32;
    let vals = p.bars.iter().map(|b| b.value).chain(p.reference);
    let (mut x0, mut x1) = vals
        .filter(|v| v.is_finite())
        .fold((0.0f64, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    let empty = p
        .bars
        .iter()
        .all(|b| !b.value.is_finite() || b.value == 0.0);
    if empty {
        x1 = 1.0;
    }
    let span = (x1 - x0).max(1e-9);
    // Room for the value written at the end of each bar.
    x1 += span * 0.22;
    if x0 < 0.0 {
        x0 -= span * 0.22;
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let mut chart = ChartBuilder::on(area)
        .caption(p.caption, (FONT, LABEL_PX + 1).into_font().color(&ACTUAL))
        .margin(10)
        .x_label_area_size(42)
        .y_label_area_size(label_width)
        .build_cartesian_2d(x0..x1, (0..n).into_segmented())
        .map_err(plot_err)?;
    let label_of = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => p
            .bars
            .get((n - 1 - *i) as usize)
            .map(|b| b.label.clone())
            .unwrap_or_default(),
        SegmentValue::Last => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(GRID)
        .bold_line_style(GRID_BOLD)
        .x_desc(p.x_desc)
        .x_labels(5)
        .y_labels(n as usize)
        .x_label_formatter(&|v| fmt_num(*v))
        .y_label_formatter(&label_of)
        .label_style(label_style())
        .axis_desc_style(desc_style())
        .draw()
        .map_err(plot_err)?;
    for (k, b) in p.bars.iter().enumerate() {
        let i = n - 1 - k as i32;
        if !b.value.is_finite() {
            continue;
        }
        let alpha = if b.light { 0.4 } else { 0.85 };
        let mut r = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(i)),
                (b.value, SegmentValue::Exact(i + 1)),
            ],
            b.colour.mix(alpha).filled(),
        );
        r.set_margin(4, 4, 0, 0);
        chart.draw_series(std::iter::once(r)).map_err(plot_err)?;
        // SVG collapses spaces: the gap between bar and value is in data units.
        let (pos, anchor) = if b.value >= 0.0 {
            (b.value + span * 0.012, HPos::Left)
        } else {
            (b.value - span * 0.012, HPos::Right)
        };
        chart
            .draw_series(std::iter::once(Text::new(
                (p.value)(b.value),
                (pos, SegmentValue::CenterOf(i)),
                (FONT, LABEL_PX - 1)
                    .into_font()
                    .color(&AXIS_TEXT)
                    .pos(Pos::new(anchor, VPos::Center)),
            )))
            .map_err(plot_err)?;
    }
    if empty {
        chart
            .draw_series(std::iter::once(Text::new(
                "all zero",
                ((x0 + x1) / 2.0, SegmentValue::CenterOf(n / 2)),
                (FONT, LABEL_PX)
                    .into_font()
                    .color(&AXIS_TEXT)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            )))
            .map_err(plot_err)?;
    }
    if let Some(r) = p.reference {
        chart
            .draw_series(DashedLineSeries::new(
                [(r, SegmentValue::Exact(0)), (r, SegmentValue::Exact(n))],
                5,
                4,
                ACTUAL.mix(0.7).stroke_width(1),
            ))
            .map_err(plot_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scatter_draws_each_pixel_once() {
        let points = vec![(1.0, 1.0); 10_000];
        let (svg, shown) = scatter(
            "s",
            "t",
            &Axis {
                desc: "%",
                range: (0.0, 1000.0),
                ticks: 7,
                tick: &fmt_num,
            },
            &points,
            LINEAR,
        )
        .unwrap();
        assert_eq!(shown, 1);
        assert_eq!(svg.matches("<circle").count(), 1);
        assert!(svg.starts_with("<svg id=\"s\""));
        assert!(svg.contains("<title id=\"s-title\">t</title>"));
    }

    #[test]
    fn scatter_caps_the_points_drawn() {
        let points: Vec<(f64, f64)> = (0..200_000)
            .map(|i| ((i % 1000) as f64, (i / 1000) as f64))
            .collect();
        let (svg, shown) = scatter(
            "s",
            "t",
            &Axis {
                desc: "%",
                range: (0.0, 1000.0),
                ticks: 7,
                tick: &fmt_num,
            },
            &points,
            LINEAR,
        )
        .unwrap();
        assert!(
            shown <= MAX_SCATTER_POINTS && shown > MAX_SCATTER_POINTS / 2,
            "{shown}"
        );
        assert_eq!(svg.matches("<circle").count(), shown);
    }

    #[test]
    fn decades_are_labelled_and_nothing_between() {
        assert_eq!(decade_label(-3.0), "0.001");
        assert_eq!(decade_label(0.0), "1");
        assert_eq!(decade_label(2.0), "100");
        assert_eq!(decade_label(7.0), "1e7");
        assert_eq!(decade_label(0.5), "");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(1234.4), "1234");
        assert_eq!(fmt_num(12.34), "12.3");
        assert_eq!(fmt_num(10.0), "10");
        assert_eq!(fmt_num(0.5), "0.5");
        assert_eq!(fmt_num(-1.4e-17), "0");
    }
}
