"""Builds procperf's Grafana dashboard (procperf.json) with Grafana's foundation SDK.

The JSON is generated, never edited by hand: change this file, then

    "$(monitoring/setup-tools)/bin/python" monitoring/grafana/build_dashboard.py > monitoring/grafana/procperf.json

tests/host/monitoring.sh rebuilds it and fails when the committed file differs. Metric names are
the exporter's (listed in monitoring/metrics.txt); the forecast horizons are
the exporter's `horizon_seconds` labels at the default 1 s interval: "5" and "60".

Forecast-vs-actual panels draw each forecast `offset` by its horizon, so a forecast lines up with the
time it was about: the 60 s forecast made at t-60s is the mean (CPU, disk, network) or the peak (RSS)
it expected over [t-60s, t], which the panels show next to the actual mean or peak over that minute.
"""

import json
import sys

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus as pb
from grafana_foundation_sdk.builders import stat as sb
from grafana_foundation_sdk.builders import table as tb
from grafana_foundation_sdk.builders import timeseries as tsb
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import prometheus as pm

UID = "procperf-fleet"
DATASOURCE = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
# Every query's host selection; cgroup panels add the cgroup's.
INST = 'instance=~"$instance"'
CG = 'instance=~"$instance", cgroup=~"$cgroup"'
HORIZONS = ("5", "60")
# Coverage and error ratios over this window: a shorter one holds too few checks to mean anything.
ACCURACY_WINDOW = "10m"


def query(expr: str, legend: str = "", ref: str = "A", instant: bool = False, table: bool = False) -> pb.Dataquery:
    q = pb.Dataquery().expr(expr).ref_id(ref).datasource(DATASOURCE).editor_mode(pm.QueryEditorMode.CODE)
    if legend:
        q = q.legend_format(legend)
    if instant:
        q = q.instant()
    else:
        q = q.range()
    if table:
        q = q.format(pm.PromQueryFormat.TABLE)
    return q


def thresholds(*steps: tuple) -> db.ThresholdsConfig:
    """steps: (value or None for the base, color)."""
    return (db.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE)
            .steps([dm.Threshold(value=v, color=c) for v, c in steps]))


def legend() -> cb.VizLegendOptions:
    return (cb.VizLegendOptions().display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM).show_legend(True))


def tooltip() -> cb.VizTooltipOptions:
    return cb.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI).sort(common.SortOrder.DESCENDING)


def timeseries(title: str, unit: str, description: str, queries: list, w: int = 12, h: int = 8) -> tsb.Panel:
    p = (tsb.Panel().title(title).description(description).unit(unit).datasource(DATASOURCE)
         .span(w).height(h).legend(legend()).tooltip(tooltip()).line_width(1).fill_opacity(0)
         .show_points(common.VisibilityMode.NEVER))
    for q in queries:
        p = p.with_target(q)
    return p


def dashed(p: tsb.Panel, ref: str) -> tsb.Panel:
    """Draws query `ref`'s series dashed: forecasts and bounds, against solid actuals."""
    return p.override_by_query(ref, [dm.DynamicConfigValue(id_val="custom.lineStyle",
                                                           value={"fill": "dash", "dash": [10, 10]})])


def stat(title: str, unit: str, description: str, queries: list, steps=None, w: int = 4) -> sb.Panel:
    p = (sb.Panel().title(title).description(description).unit(unit).datasource(DATASOURCE).span(w).height(4)
         .graph_mode(common.BigValueGraphMode.AREA).color_mode(common.BigValueColorMode.VALUE)
         .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False)))
    if steps:
        p = p.thresholds(thresholds(*steps))
    for q in queries:
        p = p.with_target(q)
    return p


def fleet_overview(d: db.Dashboard) -> db.Dashboard:
    d = d.with_row(db.Row("Fleet overview"))
    d = d.with_panel(stat(
        "Hosts up", "none",
        "Exporters Prometheus scrapes (up, job procperf) and exporters that read the module's files "
        "(procperf_up).",
        [query(f'sum(up{{job="procperf", {INST}}})', "exporters up", "A"),
         query(f"sum(procperf_up{{{INST}}})", "module read", "B")]))
    d = d.with_panel(stat(
        "Tracked processes", "none", "Processes procperf tracks, summed over the selected hosts.",
        [query(f"sum(procperf_tracked_processes{{{INST}}})", "tracked")]))
    d = d.with_panel(stat(
        "Pass time / interval", "percentunit",
        "The slowest host's last sampling pass as a share of its interval (alert above 10 %).",
        [query(f"max(procperf_pass_last_duration_seconds{{{INST}}} / procperf_interval_seconds{{{INST}}})", "worst host")],
        steps=[(None, "green"), (0.05, "yellow"), (0.1, "red")]))
    d = d.with_panel(stat(
        "Samples dropped", "none",
        "Rows of the samples stream lost by readers that fell behind, over the dashboard's time range.",
        [query(f"sum(increase(procperf_samples_dropped_total{{{INST}}}[$__range]))", "dropped", instant=True)],
        steps=[(None, "green"), (1, "red")]))
    d = d.with_panel(stat(
        "Exporter series", "none", "Series in the exporters' last scrapes, summed.",
        [query(f"sum(procperf_exporter_series{{{INST}}})", "series")]))
    d = d.with_panel(stat(
        "Exporter read errors", "none", "Failed reads of the module's files over the time range.",
        [query(f"sum(increase(procperf_exporter_read_errors_total{{{INST}}}[$__range]))", "errors", instant=True)],
        steps=[(None, "green"), (1, "red")]))

    d = d.with_panel(timeseries(
        "Pass duration", "s", "Each host's last pass and its mean pass over the rate window.",
        [query(f"procperf_pass_last_duration_seconds{{{INST}}}", "{{instance}} last", "A"),
         query(f"rate(procperf_pass_duration_seconds_total{{{INST}}}[$__rate_interval])"
               f" / rate(procperf_passes_total{{{INST}}}[$__rate_interval])", "{{instance}} mean", "B"),
         query(f"procperf_pass_max_duration_seconds{{{INST}}}", "{{instance}} max since load", "C")]))
    d = d.with_panel(timeseries(
        "Pass time / interval", "percentunit",
        "The last pass as a share of the sampling interval; the line marks the alert's 10 %.",
        [query(f"procperf_pass_last_duration_seconds{{{INST}}} / procperf_interval_seconds{{{INST}}}",
               "{{instance}}")])
        .thresholds(thresholds((None, "green"), (0.1, "red")))
        .thresholds_style(cb.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED)))
    d = d.with_panel(timeseries(
        "Processes", "none", "Seen in the last pass, tracked (at most the capacity) and with a forecast.",
        [query(f"procperf_processes_seen{{{INST}}}", "{{instance}} seen", "A"),
         query(f"procperf_tracked_processes{{{INST}}}", "{{instance}} tracked", "B"),
         query(f"procperf_predicted_processes{{{INST}}}", "{{instance}} predicted", "C")], w=8))
    d = d.with_panel(timeseries(
        "Dropped, untracked", "cps",
        "Per second: samples rows dropped, new processes left untracked because the table was full.",
        [query(f"rate(procperf_samples_dropped_total{{{INST}}}[$__rate_interval])", "{{instance}} dropped", "A"),
         query(f"rate(procperf_untracked_total{{{INST}}}[$__rate_interval])", "{{instance}} untracked", "B")],
        w=8))
    d = d.with_panel(timeseries(
        "Module memory", "bytes", "Memory the module holds for its histories and models.",
        [query(f"procperf_memory_bytes{{{INST}}}", "{{instance}}")], w=8))
    d = d.with_panel(timeseries(
        "Exporter series", "none", "Series in each exporter's last scrape.",
        [query(f"procperf_exporter_series{{{INST}}}", "{{instance}}")]))
    d = d.with_panel(timeseries(
        "Exporter scrape duration", "s", "How long each exporter took to read the module and answer.",
        [query(f"procperf_exporter_scrape_duration_seconds{{{INST}}}", "{{instance}}")]))
    return d


def cgroup_row(d: db.Dashboard) -> db.Dashboard:
    """One row per selected cgroup: each target's actual against its forecasts."""
    d = d.with_row(db.Row("Cgroup $cgroup: forecast vs actual").repeat("cgroup"))

    def forecast_vs_actual(title, unit, desc, actual, counter, forecast, over_time):
        """actual: the gauge; counter: the same as rate() of the _total counter (or None);
        forecast: the forecast family; over_time: avg or max, how the forecast summarises a horizon."""
        qs = [query(f"{actual}{{{CG}}}", "{{instance}} actual", "A"),
              query(f"{over_time}_over_time({actual}{{{CG}}}[1m])", "{{instance}} actual, " +
                    ("mean" if over_time == "avg" else "peak") + " over the last 60 s", "B")]
        refs = ["C", "D"]
        for ref, h in zip(refs, HORIZONS):
            qs.append(query(f'{forecast}{{{CG}, horizon_seconds="{h}"}} offset {h}s',
                            f"{{{{instance}}}} forecast {h} s, made {h} s earlier", ref))
        if counter:
            qs.append(query(counter, "{{instance}} rate of the counter", "E"))
        p = timeseries(title, unit, desc, qs)
        for ref in refs:
            p = dashed(p, ref)
        return p

    d = d.with_panel(forecast_vs_actual(
        "CPU: actual vs forecast", "percentunit",
        "CPU in CPUs (100 % = one CPU). Forecasts are means over their horizon, drawn at the end of it.",
        "procperf_cgroup_cpu_usage_ratio",
        f"sum without (mode) (rate(procperf_cgroup_cpu_seconds_total{{{CG}}}[$__rate_interval]))",
        "procperf_cgroup_cpu_usage_forecast_ratio", "avg"))
    d = d.with_panel(forecast_vs_actual(
        "Memory (RSS): actual vs forecast peak", "bytes",
        "Resident memory; forecasts are the peak expected over their horizon, drawn at the end of it.",
        "procperf_cgroup_resident_memory_bytes", None,
        "procperf_cgroup_resident_memory_forecast_bytes", "max"))
    d = d.with_panel(dashed(dashed(timeseries(
        "Memory (RSS): forecast upper sum vs memory.max", "bytes",
        "Looking ahead: the sum of the processes' RSS interval upper ends over the next 5 s and 60 s "
        "against the cgroup's memory.max (absent when unlimited). Alert at 90 % of the limit.",
        [query(f"procperf_cgroup_resident_memory_bytes{{{CG}}}", "{{instance}} actual", "A"),
         query(f'procperf_cgroup_resident_memory_forecast_upper_bytes{{{CG}, horizon_seconds="5"}}',
               "{{instance}} upper, next 5 s", "B"),
         query(f'procperf_cgroup_resident_memory_forecast_upper_bytes{{{CG}, horizon_seconds="60"}}',
               "{{instance}} upper, next 60 s", "C"),
         query(f"procperf_cgroup_memory_max_bytes{{{CG}}}", "{{instance}} memory.max", "D")]), "B"), "C"))
    d = d.with_panel(forecast_vs_actual(
        "Disk: actual vs forecast", "Bps", "Disk read + write bytes/s; forecasts are means over their horizon.",
        "procperf_cgroup_disk_bytes_per_second",
        f"sum without (direction) (rate(procperf_cgroup_disk_bytes_total{{{CG}}}[$__rate_interval]))",
        "procperf_cgroup_disk_forecast_bytes_per_second", "avg"))
    d = d.with_panel(forecast_vs_actual(
        "Network: actual vs forecast", "Bps", "Network receive + transmit bytes/s; forecasts are means.",
        "procperf_cgroup_network_bytes_per_second",
        f"sum without (direction) (rate(procperf_cgroup_network_bytes_total{{{CG}}}[$__rate_interval]))",
        "procperf_cgroup_network_forecast_bytes_per_second", "avg"))
    d = d.with_panel(timeseries(
        "CPU by mode", "percentunit", "rate() of procperf_cgroup_cpu_seconds_total per mode.",
        [query(f"rate(procperf_cgroup_cpu_seconds_total{{{CG}}}[$__rate_interval])", "{{instance}} {{mode}}")]))
    d = d.with_panel(timeseries(
        "Disk and network by direction", "Bps", "rate() of the byte counters per direction.",
        [query(f"rate(procperf_cgroup_disk_bytes_total{{{CG}}}[$__rate_interval])",
               "{{instance}} disk {{direction}}", "A"),
         query(f"rate(procperf_cgroup_network_bytes_total{{{CG}}}[$__rate_interval])",
               "{{instance}} network {{direction}}", "B")]))
    d = d.with_panel(timeseries(
        "Context switches and page faults", "cps", "rate() per second of the kind counters.",
        [query(f"rate(procperf_cgroup_context_switches_total{{{CG}}}[$__rate_interval])",
               "{{instance}} {{kind}} switches", "A"),
         query(f"rate(procperf_cgroup_page_faults_total{{{CG}}}[$__rate_interval])",
               "{{instance}} {{kind}} faults", "B")]))
    d = d.with_panel(timeseries(
        "Processes in the cgroup", "none", "Tracked processes in the cgroup at the last pass.",
        [query(f"procperf_cgroup_processes{{{CG}}}", "{{instance}}")]))
    d = d.with_panel(timeseries(
        "Anomalous processes in the cgroup", "none",
        "Processes of the cgroup with an anomaly flag up: a CPU, memory, disk or network level that has "
        "stayed well above its forecast band. The alert ProcperfProcessAnomaly fires after a minute above 0; "
        "procperf_process_anomaly{target} names the process and the target (top processes only).",
        [query(f"procperf_cgroup_anomalous_processes{{{CG}}}", "{{instance}}")]))
    return d


def live_accuracy(d: db.Dashboard) -> db.Dashboard:
    d = d.with_row(db.Row("Live accuracy"))
    by = "sum by (instance, target, horizon_seconds)"
    w = ACCURACY_WINDOW
    for h in HORIZONS:
        d = d.with_panel(timeseries(
            f"Interval coverage, {h} s horizon", "percentunit",
            f"Share of outcomes inside the published 80 % interval over {w} (per host and target). "
            "Nominal 80 %; the alert fires below 70 %. Restarts with each new model.",
            [query(f'{by} (rate(procperf_forecast_covered_total{{{INST}, horizon_seconds="{h}"}}[{w}]))'
                   f' / {by} (rate(procperf_forecast_checks_total{{{INST}, horizon_seconds="{h}"}}[{w}]))',
                   "{{instance}} {{target}}")])
            .min(0).max(1)
            .thresholds(thresholds((None, "red"), (0.7, "orange"), (0.8, "green")))
            .thresholds_style(cb.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED)))
    for other in ("persistence", "ewma"):
        d = d.with_panel(timeseries(
            f"Error ratio: published / {other}", "percentunit",
            f"Mean absolute error of the published forecast over {other}'s, over {w}: below 100 % the "
            "model beats it. The alert fires above 110 % against persistence over an hour.",
            [query(f'{by} (rate(procperf_forecast_absolute_error_total{{{INST}, forecaster="published"}}[{w}]))'
                   f' / {by} (rate(procperf_forecast_absolute_error_total{{{INST}, forecaster="{other}"}}[{w}]))',
                   "{{instance}} {{target}} {{horizon_seconds}} s")])
            .thresholds(thresholds((None, "green"), (1, "orange"), (1.1, "red")))
            .thresholds_style(cb.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED)))
    d = d.with_panel(timeseries(
        "Checks scored", "cps", "Forecasts scored per second (one per process at a time, CPU >= 1 %).",
        [query(f"{by} (rate(procperf_forecast_checks_total{{{INST}}}[$__rate_interval]))",
               "{{instance}} {{target}} {{horizon_seconds}} s")], w=24))
    return d


# The top-processes table: (column, family, unit, selector added to the query's instance/cgroup).
TOP_COLUMNS = [
    ("CPU now", "procperf_process_cpu_usage_ratio", "percentunit", ""),
    ("CPU 5 s", "procperf_process_cpu_usage_forecast_ratio", "percentunit", 'horizon_seconds="5"'),
    ("CPU 5 s low", "procperf_process_cpu_usage_forecast_bound_ratio", "percentunit", 'horizon_seconds="5", bound="lower"'),
    ("CPU 5 s high", "procperf_process_cpu_usage_forecast_bound_ratio", "percentunit", 'horizon_seconds="5", bound="upper"'),
    ("CPU 60 s", "procperf_process_cpu_usage_forecast_ratio", "percentunit", 'horizon_seconds="60"'),
    ("RSS now", "procperf_process_resident_memory_bytes", "bytes", ""),
    ("RSS 60 s peak", "procperf_process_resident_memory_forecast_bytes", "bytes", 'horizon_seconds="60"'),
    ("RSS 60 s high", "procperf_process_resident_memory_forecast_bound_bytes", "bytes", 'horizon_seconds="60", bound="upper"'),
    ("Disk now", "procperf_process_disk_bytes_per_second", "Bps", ""),
    ("Disk 5 s", "procperf_process_disk_forecast_bytes_per_second", "Bps", 'horizon_seconds="5"'),
    ("Disk 5 s high", "procperf_process_disk_forecast_bound_bytes_per_second", "Bps", 'horizon_seconds="5", bound="upper"'),
    ("Net now", "procperf_process_network_bytes_per_second", "Bps", ""),
    ("Net 5 s", "procperf_process_network_forecast_bytes_per_second", "Bps", 'horizon_seconds="5"'),
    ("Net 5 s high", "procperf_process_network_forecast_bound_bytes_per_second", "Bps", 'horizon_seconds="5", bound="upper"'),
]


def top_processes(d: db.Dashboard) -> db.Dashboard:
    d = d.with_row(db.Row("Top processes"))
    p = (tb.Panel().title("Top processes: now, forecast and 80 % interval").datasource(DATASOURCE).span(24).height(12)
         .description("The processes each selected host's exporter publishes (its top N by forecast upper "
                      "bound), in every cgroup, sorted by the 5 s CPU forecast. Low/high: the 80 % interval.")
         .sort_by([cb.TableSortByFieldState().display_name("CPU 5 s").desc(True)])
         .align(common.FieldTextAlignment.AUTO).inspect(False))
    renames, order = {}, {"instance": 0, "cgroup": 1, "comm": 2, "pid": 3}
    for i, (column, family, unit, extra) in enumerate(TOP_COLUMNS):
        ref = chr(ord("A") + i)
        sel = INST + (", " + extra if extra else "")
        # Without the horizon and bound labels every query has the same labels, so `merge` joins
        # them into one row per process.
        p = p.with_target(query(f"max without (horizon_seconds, bound) ({family}{{{sel}}})", ref=ref,
                                instant=True, table=True))
        renames[f"Value #{ref}"] = column
        order[column] = 4 + i
        p = p.override_by_name(column, [dm.DynamicConfigValue(id_val="unit", value=unit)])
    p = p.with_transformation(dm.DataTransformerConfig(id_val="merge", options={}))
    p = p.with_transformation(dm.DataTransformerConfig(id_val="organize", options={
        "excludeByName": {"Time": True, "job": True},
        "indexByName": order,
        "renameByName": renames,
    }))
    return d.with_panel(p)


def variables(d: db.Dashboard) -> db.Dashboard:
    d = d.with_variable(db.DatasourceVariable("datasource").label("Data source").type("prometheus"))
    d = d.with_variable(
        db.QueryVariable("instance").label("Host").datasource(DATASOURCE)
        .query("label_values(procperf_up, instance)")
        .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(dm.VariableSort.ALPHABETICAL_ASC)
        .multi(True).include_all(True).all_value(".*"))
    d = d.with_variable(
        db.QueryVariable("cgroup").label("Cgroup").datasource(DATASOURCE)
        .query('label_values(procperf_cgroup_processes{instance=~"$instance"}, cgroup)')
        .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(dm.VariableSort.ALPHABETICAL_ASC)
        # No "All": the cgroup row repeats per selected cgroup, and a host has hundreds.
        .multi(True).include_all(False))
    return d


def build() -> dm.Dashboard:
    d = (db.Dashboard("procperf: forecasts and accuracy").uid(UID).tags(["procperf"])
         .description("Per-cgroup CPU, memory, disk and network forecasts of the procperf kernel module "
                      "against what happened, their live accuracy, and the fleet's health.")
         .refresh("30s").time("now-1h", "now").timezone("browser").tooltip(dm.DashboardCursorSync.CROSSHAIR))
    d = variables(d)
    d = fleet_overview(d)
    d = cgroup_row(d)
    d = live_accuracy(d)
    d = top_processes(d)
    dash = d.build()
    # Stable panel ids, in layout order (Grafana assigns missing ones on import, differently each time).
    for i, p in enumerate(dash.panels or [], start=1):
        p.id_val = i
    return dash


def main() -> int:
    json.dump(build(), sys.stdout, cls=JSONEncoder, indent=2, sort_keys=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
