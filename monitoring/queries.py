"""The PromQL of procperf's dashboard and alert rules, for tests/host/monitoring.sh to check.

    queries.py promql-rules OUT    writes a Prometheus rules file with one recording rule per
                                   expression (dashboard queries with Grafana's variables filled in,
                                   variable queries, alert rules), for `promtool check rules OUT` to
                                   parse: promtool 2.42 has no command that parses a bare expression
    queries.py names METRICS_TXT   fails when an expression uses a metric name that is neither in
                                   METRICS_TXT, Prometheus's own `up`, nor a recording rule of the
                                   rules file

Options (before the command): --dashboard FILE, --rules FILE (default: the ones in monitoring/).
Reads YAML with PyYAML: run it with the venv monitoring/setup-tools prints.
"""

import argparse
import json
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
# Grafana's own interval variables, and what stands in for them when promtool parses a query.
GRAFANA_DURATIONS = {"__rate_interval", "__interval", "__range"}
STAND_IN_DURATION = "5m"
# Names that are not metrics where they appear outside braces and brackets.
KEYWORDS = {"and", "or", "unless", "bool", "inf", "nan", "by", "without", "on", "ignoring",
            "group_left", "group_right", "offset"}
# The series Prometheus itself writes for every scrape target.
PROMETHEUS_SERIES = {"up"}


class Query:
    def __init__(self, where: str, expr: str):
        self.where = where
        self.expr = expr


def dashboard_queries(path: str) -> list:
    with open(path, encoding="utf-8") as f:
        dash = json.load(f)
    variables = {v["name"] for v in dash.get("templating", {}).get("list", [])}
    out = []

    def fill(expr: str, where: str) -> str:
        """Grafana's variables replaced by what promtool can parse; unknown ones are errors."""
        def sub(m):
            name = m.group(1) or m.group(2)
            if name in GRAFANA_DURATIONS:
                return STAND_IN_DURATION
            if name in variables:
                return ".*"       # every use is inside a regex matcher's string
            raise SystemExit(f"{where}: unknown Grafana variable ${name} in {expr}")
        return re.sub(r"\$\{(\w+)\}|\$(\w+)", sub, expr)

    def panels(ps):
        for p in ps:
            yield p
            yield from panels(p.get("panels", []))

    for p in panels(dash.get("panels", [])):
        for t in p.get("targets", []):
            where = f"dashboard panel {p.get('id')} {p.get('title')!r} query {t.get('refId')}"
            out.append(Query(where, fill(t["expr"], where)))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        where = f"dashboard variable {v['name']}"
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else q
        # Grafana's label_values(selector, label) is not PromQL; its selector is.
        m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", q)
        if m:
            out.append(Query(where, fill(m.group(1), where)))
        elif not re.fullmatch(r"\s*label_values\(\s*\w+\s*\)\s*", q):
            out.append(Query(where, fill(q, where)))
    return out


def rules(path: str):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    queries, recorded = [], set()
    for g in doc.get("groups", []):
        for r in g.get("rules", []):
            name = r.get("alert") or r.get("record")
            if "record" in r:
                recorded.add(r["record"])
            queries.append(Query(f"rule {name}", r["expr"]))
    return queries, recorded


def metric_names(expr: str) -> set:
    """The metric names an expression selects (a lexical scan, enough for these queries)."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)   # strings
    s = re.sub(r"\{[^}]*\}", " ", s)                                              # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)                                             # ranges, subqueries
    s = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    s = re.sub(r"\boffset\s+-?[\w.]+", " ", s)
    names = set()
    for m in re.finditer(r"(?<![\w.:])([A-Za-z_:][\w:]*)(?![\w:])(\s*\()?", s):
        token, call = m.group(1), m.group(2)
        if not call and token.lower() not in KEYWORDS:
            names.add(token)
    return names


def read_list(path: str) -> list:
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dashboard", default=os.path.join(HERE, "grafana", "procperf.json"))
    ap.add_argument("--rules", default=os.path.join(HERE, "prometheus", "procperf-rules.yml"))
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("promql-rules").add_argument("out")
    sub.add_parser("names").add_argument("metrics_txt")
    a = ap.parse_args()

    rule_queries, recorded = rules(a.rules)
    queries = dashboard_queries(a.dashboard) + rule_queries
    if a.cmd == "promql-rules":
        doc = {"groups": [{"name": "parse-only", "rules": [
            {"record": f"check:expr_{i}:parse", "expr": q.expr} for i, q in enumerate(queries)]}]}
        with open(a.out, "w", encoding="utf-8") as f:
            yaml.safe_dump(doc, f, sort_keys=False, width=1 << 16)
        # Which rule is which, for reading promtool's errors (they name the rule's position).
        for i, q in enumerate(queries):
            print(f"check:expr_{i}:parse  {q.where}")
        return 0

    known = set(read_list(a.metrics_txt)) | PROMETHEUS_SERIES | recorded
    unknown = 0
    for q in queries:
        for n in sorted(metric_names(q.expr) - known):
            print(f"{q.where}: metric {n} is not in {a.metrics_txt}: {q.expr}", file=sys.stderr)
            unknown += 1
    used = set().union(*(metric_names(q.expr) for q in queries))
    print(f"{len(queries)} expressions use {len(used)} metric names, all listed" if not unknown else
          f"{unknown} unlisted metric name use(s)")
    return 1 if unknown else 0


if __name__ == "__main__":
    sys.exit(main())
