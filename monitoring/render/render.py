#!/usr/bin/env python3
"""Draws procperf's Grafana dashboard as one self-contained HTML page from a real Prometheus's
answers (capture.py's dashboard-data.json), and screenshots it with headless Chromium.

    render.py DATA [--html OUT.html] [--png OUT.png] [--all] [--fixture OUT.json]

The page follows the dashboard (monitoring/grafana/procperf.json): its rows, each panel's title,
type, unit, grid size, thresholds, min/max, dashed forecast series and legend formats, and the top
processes table's merge and organize transformations. It shows a selection (SHOW below: the fleet
overview's stats, the cgroup row for db.service and for leak.service, live accuracy, top
processes); --all draws every row and panel of DATA. Charts are inline SVG drawn here: no
JavaScript, nothing fetched. Times are UTC.

--png runs `chromium --headless --screenshot` on the page, at 1600 px wide and the page's height.
--fixture writes a small copy of DATA (the shown panels, every 15th point, six processes) for the
check in tests/host/monitoring.sh. Standard library only.
"""
import argparse
import html
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

# What the page shows: row title (the repeated cgroup row by its cgroup) -> panel titles, or
# ("type", T) for every panel of type T, or None for the whole row.
SHOW = [
    ("Fleet overview", ("type", "stat")),
    ("/demo.slice/db.service", ["CPU: actual vs forecast", "Memory (RSS): actual vs forecast peak",
                                "Disk: actual vs forecast", "Network: actual vs forecast"]),
    ("/demo.slice/leak.service", ["Memory (RSS): actual vs forecast peak",
                                  "Memory (RSS): forecast upper sum vs memory.max",
                                  "CPU: actual vs forecast", "Anomalous processes in the cgroup"]),
    ("Live accuracy", ["Interval coverage, 5 s horizon", "Interval coverage, 60 s horizon",
                       "Error ratio: published / persistence", "Error ratio: published / ewma"]),
    ("Top processes", None),
]

# Grafana's dark theme and its classic palette (series colours in query and series order).
BG, PANEL, BORDER, TEXT, MUTED, GRID = "#111217", "#181b1f", "#2c3235", "#ccccdc", "#9fa7b3", "#2a2e33"
PALETTE = ["#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1", "#BA43A9", "#705DA0",
           "#508642", "#CCA300", "#447EBC", "#C15C17", "#890F02", "#0A437C", "#6D1F62", "#584477"]
NAMED = {"green": "#73BF69", "yellow": "#FADE2A", "orange": "#FF9830", "red": "#F2495C", "blue": "#5794F2",
         "purple": "#B877D9", "text": TEXT}
# Grafana's default thresholds for a panel that sets none.
DEFAULT_STEPS = [{"value": None, "color": "green"}, {"value": 80, "color": "red"}]

PAGE_W, PAD, GAP, CELL_H = 1600, 16, 8, 30
COLS = 24
COL_W = (PAGE_W - 2 * PAD - (COLS - 1) * GAP) / COLS
FONT = "'Inter', 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif"
CHAR_W = 6.7          # a 12 px DejaVu Sans character, on average: legend and axis layout
TOP_H, VARS_H, ROW_H, FOOT_H = 52, 44, 32, 78
PANEL_HEAD = 32
# Grafana's "i" next to a title that has a description (drawn: the fonts here lack U+24D8).
INFO_ICON = ('<svg class="info" width="13" height="13" viewBox="0 0 16 16"><circle cx="8" cy="8" r="6.8" '
             f'fill="none" stroke="{MUTED}" stroke-width="1.3"/><rect x="7.3" y="7" width="1.4" height="4.6" '
             f'fill="{MUTED}"/><circle cx="8" cy="4.9" r="0.95" fill="{MUTED}"/></svg>')


def esc(s):
    return html.escape(str(s), quote=True)


def color(name):
    return NAMED.get(name, name)


def finite(v):
    return isinstance(v, (int, float)) and math.isfinite(v)


# ---- units, as Grafana formats them --------------------------------------------------------------

def scale(unit, mag):
    """(divisor, suffix) for values around `mag` in `unit`."""
    if unit == "percentunit":
        return 0.01, "%"
    if unit in ("bytes", "Bps"):
        names = ["B", "KiB", "MiB", "GiB", "TiB"]
        k = 0
        while mag >= 1024 and k < len(names) - 1:
            mag /= 1024
            k += 1
        return 1024 ** k, " " + names[k] + ("/s" if unit == "Bps" else "")
    if unit == "s":
        if mag == 0 or mag >= 1:
            return 1, " s"
        return (1e-3, " ms") if mag >= 1e-3 else (1e-6, " µs")
    if unit == "cps":
        k = 0
        while mag >= 1000 and k < 3:
            mag /= 1000
            k += 1
        return 1000 ** k, ["", " K", " M", " G"][k] + (" c/s" if k == 0 else "c/s")
    return 1, ""


def trim(s):
    return s.rstrip("0").rstrip(".") if "." in s else s


def fmt(v, unit, decimals=None):
    """One value with its unit: three significant digits unless `decimals` is given."""
    if not finite(v):
        return "–"
    div, suffix = scale(unit, abs(v))
    x = v / div
    if decimals is None:
        decimals = 0 if x == 0 else max(0, min(3, 2 - math.floor(math.log10(abs(x)))))
        return trim(f"{x:.{decimals}f}") + suffix
    return f"{x:.{decimals}f}" + suffix


def nice_step(span, count):
    raw = span / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def y_ticks(lo, hi, unit, count, fixed_hi):
    """Tick values and labels: nice steps in the unit's scaled numbers (50 MiB, not 52428800)."""
    div, _ = scale(unit, max(abs(lo), abs(hi)))
    step = nice_step((hi - lo) / div, count) * div
    if not fixed_hi:
        hi = math.ceil(hi / step - 1e-9) * step
    first = math.ceil(lo / step - 1e-9)
    ticks = [i * step for i in range(first, int(math.floor(hi / step + 1e-6)) + 1)]
    if unit in ("percentunit", "bytes", "Bps", "s", "cps"):
        return hi, [(t, fmt(t, unit)) for t in ticks]
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) + (1 if round(step / 10 ** math.floor(math.log10(step)), 1) == 2.5 else 0)
    return hi, [(t, trim(f"{t:.{decimals}f}")) for t in ticks]


def x_ticks(start, end, width):
    for every in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if (end - start) / every <= width / 100:
            break
    label = "%H:%M" if every >= 60 else "%H:%M:%S"
    t = math.ceil(start / every) * every
    out = []
    while t <= end:
        out.append((t, time.strftime(label, time.gmtime(t))))
        t += every
    return out


# ---- series ---------------------------------------------------------------------------------------

def legend_name(fmt_str, metric):
    if fmt_str:
        out = fmt_str
        while "{{" in out:
            a = out.index("{{")
            b = out.index("}}", a)
            out = out[:a] + metric.get(out[a + 2:b].strip(), "") + out[b + 2:]
        return out
    name = metric.get("__name__", "")
    labels = ",".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    return f"{name}{{{labels}}}" if labels or not name else name


def dashed_refs(panel):
    refs = set()
    for o in panel.get("fieldConfig", {}).get("overrides", []):
        m = o.get("matcher", {})
        if m.get("id") == "byFrameRefID" and any(p.get("id") == "custom.lineStyle" and p.get("value", {}).get("fill") == "dash"
                                                  for p in o.get("properties", [])):
            refs.add(m.get("options"))
    return refs


def series_of(panel):
    """[(name, refId, [(t, v or None)])] in Grafana's order: by query, then as Prometheus answered."""
    out = []
    for t in panel.get("targets", []):
        for s in t.get("result", []):
            pts = s["values"] if "values" in s else [s["value"]]
            out.append((legend_name(t.get("legendFormat", ""), s.get("metric", {})), t.get("refId"),
                        [(float(p[0]), p[1] if finite(p[1]) else None) for p in pts]))
    return out


def steps_of(panel):
    th = panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds")
    return th["steps"] if th and th.get("steps") else DEFAULT_STEPS


def step_color(steps, v):
    c = steps[0]["color"]
    for s in steps[1:]:
        if s.get("value") is not None and finite(v) and v >= s["value"]:
            c = s["color"]
    return color(c)


# ---- layout ---------------------------------------------------------------------------------------

def panel_px(w, h):
    return w * COL_W + (w - 1) * GAP, h * CELL_H + (h - 1) * GAP


def legend_lines(names, width):
    lines, x = 1, 0
    for n in names:
        item = 22 + len(n) * CHAR_W + 16
        if x and x + item > width:
            lines += 1
            x = 0
        x += item
    return lines


def polyline_paths(points, step, tx, ty):
    """SVG path data for one series, broken where a value is missing or a scrape gap opens."""
    parts, cur, last_t = [], [], None
    for t, v in points:
        if v is None or (last_t is not None and t - last_t > 1.5 * step):
            if len(cur) > 1:
                parts.append(cur)
            cur = []
        if v is not None:
            cur.append((tx(t), ty(v)))
        last_t = t
    if len(cur) > 1:
        parts.append(cur)
    return " ".join("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in p) for p in parts)


def timeseries_svg(panel, w, h, rng):
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "none")
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    series = series_of(panel)
    dashed = dashed_refs(panel)
    names = [s[0] for s in series]
    inner_w = w - 16
    leg_lines = legend_lines(names, inner_w) if names else 0
    leg_h = leg_lines * 19 + (6 if names else 0)
    chart_h = h - PANEL_HEAD - leg_h - 8
    vals = [v for _, _, pts in series for _, v in pts if v is not None]
    steps = defaults.get("thresholds", {}).get("steps", [])
    show_thresholds = defaults.get("custom", {}).get("thresholdsStyle", {}).get("mode") in ("dashed", "line")
    lo = defaults.get("min", min(0.0, min(vals)) if vals else 0.0)
    hi = defaults.get("max", max(vals) if vals else 1.0)
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    plot_h = chart_h - 22
    hi, yt = y_ticks(lo, hi, unit, max(2, int(plot_h // 42)), "max" in defaults)
    label_w = max(len(l) for _, l in yt) * CHAR_W + 10
    x0, x1 = label_w, inner_w - 6
    y0, y1 = 6, chart_h - 20
    start, end, step = rng
    tx = lambda t: x0 + (t - start) / (end - start) * (x1 - x0)
    ty = lambda v: y1 - (v - lo) / (hi - lo) * (y1 - y0)
    svg = [f'<svg class="chart" width="{inner_w:.0f}" height="{chart_h:.0f}" viewBox="0 0 {inner_w:.0f} {chart_h:.0f}">']
    for v, label in yt:
        y = ty(v)
        svg.append(f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
                   f'<text x="{x0 - 6:.1f}" y="{y + 4:.1f}" text-anchor="end">{esc(label)}</text>')
    for t, label in x_ticks(start, end, x1 - x0):
        x = tx(t)
        svg.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y0}" y2="{y1}" stroke="{GRID}"/>'
                   f'<text x="{x:.1f}" y="{y1 + 16:.1f}" text-anchor="middle">{esc(label)}</text>')
    if show_thresholds:
        for s in steps:
            if s.get("value") is not None and lo <= s["value"] <= hi:
                y = ty(s["value"])
                svg.append(f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{color(s["color"])}" '
                           f'stroke-width="1" stroke-dasharray="10 10" opacity="0.9"/>')
    svg.append(f'<clipPath id="c{id(panel)}"><rect x="{x0}" y="{y0 - 1}" width="{x1 - x0:.1f}" height="{y1 - y0 + 2}"/></clipPath>')
    legend = []
    for i, (name, ref, pts) in enumerate(series):
        c = PALETTE[i % len(PALETTE)]
        dash = ' stroke-dasharray="10 10"' if ref in dashed else ""
        d = polyline_paths(pts, step, tx, ty)
        if d:
            svg.append(f'<path d="{d}" fill="none" stroke="{c}" stroke-width="1.4"{dash} clip-path="url(#c{id(panel)})"/>')
        elif any(v is not None for _, v in pts):   # single points
            for t, v in pts:
                if v is not None:
                    svg.append(f'<circle cx="{tx(t):.1f}" cy="{ty(v):.1f}" r="2" fill="{c}"/>')
        sw_dash = ' stroke-dasharray="5 3"' if ref in dashed else ""
        sw = f'<svg width="16" height="4"><line x1="0" x2="16" y1="2" y2="2" stroke="{c}" stroke-width="3"{sw_dash}/></svg>'
        legend.append(f'<span class="li">{sw}{esc(name)}</span>')
    if not series:
        svg.append(f'<text x="{inner_w / 2:.0f}" y="{chart_h / 2:.0f}" text-anchor="middle" class="nodata">No data</text>')
    svg.append("</svg>")
    return "".join(svg) + (f'<div class="legend">{"".join(legend)}</div>' if legend else "")


def stat_html(panel, w, h):
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "none")
    steps = steps_of(panel)
    series = series_of(panel)
    items = []
    for name, _, pts in series:
        last = next((v for _, v in reversed(pts) if v is not None), None)
        items.append((name, last, pts))
    if not items:
        return '<div class="nodata stat-empty">No data</div>'
    cell_w = (w - 16) / len(items)
    body_h = h - PANEL_HEAD - 8
    big = 34 if len(items) == 1 else 28
    out = ['<div class="stat">']
    for name, last, pts in items:
        c = step_color(steps, last)
        spark = ""
        vals = [v for _, v in pts if v is not None]
        if len(vals) > 1:
            t0, t1 = pts[0][0], pts[-1][0]
            lo, hi = min(vals), max(vals)
            if hi == lo:
                lo, hi = lo - 1, hi + 1
            sh = body_h * 0.45
            tx = lambda t: (t - t0) / ((t1 - t0) or 1) * cell_w
            ty = lambda v: body_h - (v - lo) / (hi - lo) * sh
            line = [(tx(t), ty(v)) for t, v in pts if v is not None]
            d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in line)
            area = d + f" L{line[-1][0]:.1f},{body_h:.1f} L{line[0][0]:.1f},{body_h:.1f} Z"
            spark = (f'<svg class="spark" width="{cell_w:.0f}" height="{body_h:.0f}">'
                     f'<path d="{area}" fill="{c}" fill-opacity="0.18" stroke="none"/>'
                     f'<path d="{d}" fill="none" stroke="{c}" stroke-width="1.5"/></svg>')
        label = f'<div class="sname">{esc(name)}</div>' if len(items) > 1 else ""
        out.append(f'<div class="scell" style="width:{cell_w:.0f}px;height:{body_h:.0f}px">{spark}{label}'
                   f'<div class="sval" style="color:{c};font-size:{big}px">{esc(fmt(last, unit))}</div></div>')
    out.append("</div>")
    return "".join(out)


def table_frames(panel):
    """Grafana's merge then organize transformations over the instant queries' results."""
    rows, order = {}, []
    for t in panel.get("targets", []):
        col = f"Value #{t.get('refId')}"
        for s in t.get("result", []):
            labels = {k: v for k, v in s.get("metric", {}).items() if k != "__name__"}
            key = tuple(sorted(labels.items()))
            if key not in rows:
                rows[key] = dict(labels)
                order.append(key)
            rows[key][col] = s["value"][1] if "value" in s else None
    org = next((x.get("options", {}) for x in panel.get("transformations", []) if x.get("id") == "organize"), {})
    exclude = {k for k, v in org.get("excludeByName", {}).items() if v}
    rename = org.get("renameByName", {})
    index = org.get("indexByName", {})
    fields = sorted({k for r in rows.values() for k in r} - exclude,
                    key=lambda f: (index.get(rename.get(f, f), 1000), f))
    units = {}
    for o in panel.get("fieldConfig", {}).get("overrides", []):
        if o.get("matcher", {}).get("id") == "byName":
            for p in o.get("properties", []):
                if p.get("id") == "unit":
                    units[o["matcher"]["options"]] = p["value"]
    names = [rename.get(f, f) for f in fields]
    table = [[rows[k].get(f) for f in fields] for k in order]
    for sort in reversed(panel.get("options", {}).get("sortBy", [])):
        if sort.get("displayName") in names:
            i = names.index(sort["displayName"])
            table.sort(key=lambda r: (not finite(r[i]), -(r[i] if finite(r[i]) else 0) if sort.get("desc") else (r[i] if finite(r[i]) else 0)))
    return names, [units.get(n) for n in names], table


def table_html(panel, w, h):
    names, units, table = table_frames(panel)
    fit = int((h - PANEL_HEAD - 30 - 8) // 27)
    head = "".join(f'<th class="{"num" if u else ""}">{esc(n)}</th>' for n, u in zip(names, units))
    body = []
    for r in table[:fit]:
        cells = []
        for v, u in zip(r, units):
            if u:
                cells.append(f'<td class="num">{esc(fmt(v, u))}</td>')
            else:
                cells.append(f"<td>{esc(v if v is not None else '')}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="tbl"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


# ---- the page -------------------------------------------------------------------------------------

def selected(data, show_all):
    """[(row title, [panels])] in the dashboard's order, as SHOW (or --all) selects."""
    out = []
    for row in data["rows"]:
        if show_all:
            out.append((row["title"], row["panels"]))
            continue
        for key, which in SHOW:
            if key != (row.get("cgroup") or row["title"]):
                continue
            if which is None:
                panels = row["panels"]
            elif isinstance(which, tuple):
                panels = [p for p in row["panels"] if p.get("type") == which[1]]
            else:
                by_title = {p["title"]: p for p in row["panels"]}
                panels = [by_title[t] for t in which if t in by_title]
            out.append((row["title"], panels))
    return out


def render(data, show_all=False):
    cap = data["capture"]
    rng = (cap["start"], cap["end"], cap.get("step", 2))
    rows = selected(data, show_all)
    body, y = [], TOP_H + VARS_H + 8
    for title, panels in rows:
        body.append(f'<div class="row" style="top:{y}px"><span class="chev">⌄</span>{esc(title)}</div>')
        y += ROW_H
        x_cells, line_h = 0, 0
        for p in panels:
            gw, gh = p["gridPos"]["w"], p["gridPos"]["h"]
            if x_cells + gw > COLS:
                y += line_h * CELL_H + line_h * GAP
                x_cells, line_h = 0, 0
            pw, ph = panel_px(gw, gh)
            left = PAD + x_cells * (COL_W + GAP)
            kind = p.get("type")
            if kind == "timeseries":
                inner = timeseries_svg(p, pw, ph, rng)
            elif kind == "stat":
                inner = stat_html(p, pw, ph)
            elif kind == "table":
                inner = table_html(p, pw, ph)
            else:
                inner = f'<div class="nodata">{esc(kind)} panel</div>'
            info = INFO_ICON if p.get("description") else ""
            body.append(f'<div class="panel" data-type="{esc(kind)}" style="left:{left:.1f}px;top:{y}px;width:{pw:.1f}px;height:{ph:.0f}px">'
                        f'<div class="ptitle">{esc(p["title"])}{info}</div>{inner}</div>')
            x_cells += gw
            line_h = max(line_h, gh)
        y += line_h * CELL_H + line_h * GAP
    height = y + FOOT_H
    cgroups = data.get("variables", {}).get("cgroup", [])
    shown_cg = [r.get("cgroup") for r in data["rows"] if r.get("cgroup") and (show_all or any(r.get("cgroup") == k for k, _ in SHOW))]
    t_from = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(cap["start"]))
    t_to = time.strftime("%H:%M:%S", time.gmtime(cap["end"]))
    guest = ", ".join(x for x in [f"Linux {cap.get('kernel', '')}", (cap.get("accel") or "").upper(),
                                  f"{cap.get('cpus')} CPUs" if cap.get("cpus") else ""] if x)
    footer = (f"Rendered by monitoring/render/render.py from a real Prometheus's query results (procperf exporter, "
              f"module in a QEMU guest, {cap['date']}, {cap['seconds']} s capture); not a Grafana screenshot: "
              f"Grafana is not installable on the machine this was made on.")
    detail = (f"Panels, queries, units and thresholds: {data['dashboard'].get('file', 'the dashboard')}, evaluated by "
              f"{cap.get('prometheus', 'Prometheus')} scraping the exporter every {cap.get('scrape_interval', 1)} s "
              f"({cap.get('step', 2)} s steps). Guest: {guest}; module {cap.get('module', '').splitlines()[0] if cap.get('module') else ''}"
              f", model {cap.get('model', {}).get('source', '?')}. Services: "
              + "; ".join(f"{k}: {v}" for k, v in cap.get("services", {}).items()) + ".")
    var = lambda k, v: f'<span class="var"><span class="vk">{esc(k)}</span><span class="vv">{esc(v)}</span></span>'
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(data['dashboard'].get('title', 'procperf'))}</title>
<style>
html, body {{ margin: 0; background: {BG}; color: {TEXT}; font-family: {FONT}; font-size: 12px; }}
body {{ position: relative; width: {PAGE_W}px; height: {height}px; overflow: hidden; }}
.top {{ position: absolute; left: 0; top: 0; width: {PAGE_W}px; height: {TOP_H}px; border-bottom: 1px solid {BORDER};
        display: flex; align-items: center; box-sizing: border-box; padding: 0 {PAD}px; background: {PANEL}; }}
.logo {{ width: 22px; height: 22px; border-radius: 5px; background: linear-gradient(135deg, #f05a28, #fbca0a); margin-right: 12px; }}
.crumb {{ color: {MUTED}; font-size: 14px; }} .crumb b {{ color: {TEXT}; font-weight: 500; }}
.range {{ margin-left: auto; border: 1px solid {BORDER}; border-radius: 2px; padding: 5px 10px; font-size: 13px; }}
.vars {{ position: absolute; left: {PAD}px; top: {TOP_H + 8}px; height: 32px; display: flex; gap: 8px; align-items: center; }}
.var {{ display: inline-flex; border: 1px solid {BORDER}; border-radius: 2px; font-size: 13px; }}
.vk {{ background: #22252b; padding: 6px 9px; color: {TEXT}; border-right: 1px solid {BORDER}; }}
.vv {{ padding: 6px 9px; }}
.row {{ position: absolute; left: {PAD}px; height: {ROW_H}px; line-height: {ROW_H}px; font-size: 15px; font-weight: 500; }}
.chev {{ color: {MUTED}; margin-right: 8px; }}
.panel {{ position: absolute; background: {PANEL}; border: 1px solid {BORDER}; border-radius: 2px; box-sizing: border-box; overflow: hidden; }}
.ptitle {{ height: {PANEL_HEAD}px; line-height: {PANEL_HEAD}px; padding: 0 8px; font-size: 14px; font-weight: 500; white-space: nowrap; overflow: hidden; }}
.info {{ margin-left: 6px; vertical-align: -1px; }}
svg.chart {{ display: block; margin: 0 8px; }}
svg text {{ fill: {MUTED}; font-size: 11px; font-family: {FONT}; }}
svg text.nodata, .nodata {{ fill: {MUTED}; color: {MUTED}; font-size: 13px; }}
.legend {{ margin: 6px 8px 0 8px; line-height: 19px; }}
.li {{ display: inline-block; margin-right: 16px; white-space: nowrap; color: {TEXT}; }}
.li svg {{ margin-right: 6px; vertical-align: middle; }}
.stat {{ display: flex; padding: 0 8px; }}
.scell {{ position: relative; }}
.spark {{ position: absolute; left: 0; top: 0; }}
.sname {{ position: relative; text-align: center; color: {TEXT}; font-size: 12px; }}
.sval {{ position: relative; text-align: center; font-weight: 500; margin-top: 8px; }}
.stat-empty {{ padding: 20px; }}
.tbl {{ border-collapse: collapse; width: calc(100% - 16px); margin: 0 8px; font-size: 12px; }}
.tbl th {{ text-align: left; font-weight: 500; color: #6e9fff; padding: 0 6px; height: 30px; border-bottom: 1px solid {BORDER}; white-space: nowrap; }}
.tbl td {{ padding: 0 6px; height: 26px; border-bottom: 1px solid #202226; white-space: nowrap; }}
.tbl .num {{ text-align: right; }}
.foot {{ position: absolute; left: {PAD}px; right: {PAD}px; top: {y + 6}px; color: {MUTED}; font-size: 12px; line-height: 17px; }}
.foot b {{ color: {TEXT}; font-weight: 500; }}
</style></head>
<body>
<div class="top"><div class="logo"></div><span class="crumb">Home › Dashboards › <b>{esc(data['dashboard'].get('title', ''))}</b></span>
<span class="range">{esc(t_from)} to {esc(t_to)} UTC</span></div>
<div class="vars">{var("Data source", data.get("variables", {}).get("datasource", "Prometheus"))}{var("Host", data.get("variables", {}).get("instance", "All"))}{var("Cgroup", " + ".join(shown_cg or cgroups))}</div>
{"".join(body)}
<div class="foot"><b>{esc(footer)}</b><br>{esc(detail)}</div>
</body></html>
"""
    return page, height


def screenshot(page_path, png, height):
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("render.py: no chromium (Debian package chromium; scripts/setup installs it)")
    with tempfile.TemporaryDirectory() as tmp:
        shot = os.path.join(tmp, "shot.png")
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                        "--force-device-scale-factor=1", f"--user-data-dir={tmp}/profile",
                        f"--window-size={PAGE_W},{height}", f"--screenshot={shot}", "file://" + os.path.abspath(page_path)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False)
        if not os.path.exists(shot):
            raise SystemExit("render.py: chromium wrote no screenshot")
        os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
        shutil.copyfile(shot, png)


def fixture(data, every=15, processes=6):
    """A small copy of DATA: the shown rows and panels, every `every`-th point, the table's top
    `processes` processes by the 5 s CPU forecast."""
    small = {k: v for k, v in data.items() if k != "rows"}
    # Points `every` steps apart: the renderer's gap rule must not break the thinned lines.
    small["capture"] = dict(data["capture"], events=data["capture"].get("events", [])[:10],
                            step=data["capture"].get("step", 2) * every)
    keep = {title: {id(p) for p in panels} for title, panels in selected(data, False)}
    rows = []
    for row in data["rows"]:
        if row["title"] not in keep:
            continue
        panels = []
        for p in row["panels"]:
            if id(p) not in keep[row["title"]]:
                continue
            p = json.loads(json.dumps(p))
            if p.get("type") == "table":
                names, _, table = table_frames(p)
                pids = {r[names.index("pid")] for r in table[:processes]}
                for t in p["targets"]:
                    t["result"] = [s for s in t["result"] if s["metric"].get("pid") in pids]
            for t in p["targets"]:
                for s in t["result"]:
                    if "values" in s:
                        s["values"] = s["values"][::every] + ([s["values"][-1]] if (len(s["values"]) - 1) % every else [])
            panels.append(p)
        rows.append(dict(row, panels=panels))
    small["rows"] = rows
    return small


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--html", help="the page to write (default: next to DATA, .html)")
    ap.add_argument("--png", help="screenshot the page with headless chromium into this file")
    ap.add_argument("--all", action="store_true", help="every row and panel of DATA, not SHOW's selection")
    ap.add_argument("--fixture", help="write a small copy of DATA for the host test, and nothing else")
    a = ap.parse_args()
    with open(a.data, encoding="utf-8") as f:
        data = json.load(f)
    if a.fixture:
        with open(a.fixture, "w", encoding="utf-8") as f:
            json.dump(fixture(data), f, separators=(",", ":"))
            f.write("\n")
        print(f"wrote {a.fixture} ({os.path.getsize(a.fixture) >> 10} KiB)")
        return 0
    page, height = render(data, a.all)
    out = a.html or os.path.splitext(a.data)[0] + ".html"
    with open(out, "w", encoding="utf-8") as f:
        f.write(page)
    print(f"wrote {out} ({PAGE_W}x{height})")
    if a.png:
        screenshot(out, a.png, height)
        print(f"wrote {a.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
