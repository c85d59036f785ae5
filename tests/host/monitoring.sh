#!/usr/bin/env bash
# Host test: monitoring/ (Grafana dashboard, Prometheus rules and config) is valid and consistent.
# The dashboard is rebuilt with Grafana's foundation SDK and must equal the committed JSON, which
# must pass the SDK's schema strictly; every PromQL expression must parse (promtool) and use only
# the exporter's metric names (monitoring/metrics.txt, which the exporter's tests check it serves);
# the rules pass promtool's check and their unit tests; the example config passes promtool's check;
# monitoring/render/render.py draws its page from a cut of a real capture (render/test-data.json).
# Tools: monitoring/setup-tools (promtool from scripts/setup's cache, the SDK in a venv); promtool
# is $PP_PROMTOOL, by default the one in the cache.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
TAP_HOST=1 . "$repo/tests/lib/tap.sh"

mon=$repo/monitoring
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
promtool=${PP_PROMTOOL:-${PROCPERF_CACHE:-/var/cache/procperf}/tools/prometheus/usr/bin/promtool}

# (Not through `check`: its command runs in a subshell, and the venv's path is needed below.)
if venv=$("$mon/setup-tools" 2> "$t/setup.log"); then
  ok "monitoring/setup-tools installs the SDK venv and promtool"
else
  not_ok "monitoring/setup-tools installs the SDK venv and promtool"; diag < "$t/setup.log"; venv=
fi
py=$venv/bin/python

# Every later point needs one of the two tools: without it, it fails saying so.
need_py() {
  if [ -z "$venv" ] || [ ! -x "$py" ]; then echo "no SDK venv: monitoring/setup-tools failed (first point)"; return 1; fi
}
need_promtool() {
  [ -x "$promtool" ] || { echo "promtool missing at $promtool: run scripts/setup or monitoring/setup-tools, or set PP_PROMTOOL"; return 1; }
}

regenerates() {
  need_py || return 1
  "$py" "$mon/grafana/build_dashboard.py" > "$t/procperf.json" || return 1
  diff -u --label "monitoring/grafana/procperf.json (committed)" --label "build_dashboard.py's output" \
    "$mon/grafana/procperf.json" "$t/procperf.json" ||
    { echo "rebuild it: \"\$(monitoring/setup-tools)/bin/python\" monitoring/grafana/build_dashboard.py > monitoring/grafana/procperf.json"; return 1; }
}
check "the dashboard is what build_dashboard.py generates" regenerates

validates() { need_py && "$py" "$mon/grafana/validate_dashboard.py" "$mon/grafana/procperf.json"; }
check "the dashboard passes Grafana's schema through the SDK (unknown fields, types, panel and query kinds)" validates

# The validator must be able to fail: a copy with a wrongly typed field and an unknown one.
rejects_broken() {
  need_py || return 1
  "$py" - "$mon/grafana/procperf.json" "$t/broken-type.json" "$t/broken-field.json" <<'EOF' || return 1
import json, sys
d = json.load(open(sys.argv[1]))
d["panels"][1]["gridPos"]["h"] = "4"
json.dump(d, open(sys.argv[2], "w"))
d = json.load(open(sys.argv[1]))
d["panels"][1]["options"]["colour"] = "red"
json.dump(d, open(sys.argv[3], "w"))
EOF
  local f
  for f in broken-type broken-field; do
    if "$py" "$mon/grafana/validate_dashboard.py" "$t/$f.json" > "$t/$f.out" 2>&1; then
      echo "validate_dashboard.py accepted $f.json:"; cat "$t/$f.out"; return 1
    fi
  done
  grep -q "grid_pos.h: expected an integer" "$t/broken-type.out" || { cat "$t/broken-type.out"; return 1; }
  grep -q "options.colour: not in the schema" "$t/broken-field.out" || { cat "$t/broken-field.out"; return 1; }
}
check "the schema check rejects a wrongly typed field and an unknown one" rejects_broken

parses() {
  need_py && need_promtool || return 1
  "$py" "$mon/queries.py" promql-rules "$t/exprs.yml" > "$t/exprs.index" || return 1
  "$promtool" check rules "$t/exprs.yml" || { cat "$t/exprs.index"; return 1; }
}
check "every PromQL expression of the dashboard and the rules parses (promtool check rules, one recording rule each)" parses

names_listed() { need_py && "$py" "$mon/queries.py" names "$mon/metrics.txt"; }
check "every metric name the dashboard and the rules use is in monitoring/metrics.txt" names_listed

rules_check() { need_promtool && "$promtool" check rules "$mon/prometheus/procperf-rules.yml"; }
check "promtool check rules monitoring/prometheus/procperf-rules.yml" rules_check
# promtool test rules reads rule_files relative to the test file's directory.
rules_test() { need_promtool && (cd "$mon/prometheus" && "$promtool" test rules procperf-rules.test.yml); }
check "promtool test rules: every alert fires, and stays silent where it must" rules_test
config_check() { need_promtool && "$promtool" check config "$mon/prometheus/prometheus.yml"; }
check "promtool check config monitoring/prometheus/prometheus.yml (with its rules)" config_check

# The screenshot's page (docs/dashboard.png) from a cut of a real capture: every panel of the cut
# is on the page with its title, the footer says what rendered it, no value printed as NaN.
renders() {
  python3 "$mon/render/render.py" "$mon/render/test-data.json" --html "$t/dashboard.html" || return 1
  python3 - "$mon/render/test-data.json" "$t/dashboard.html" <<'EOF'
import html, json, re, sys
data, page = json.load(open(sys.argv[1])), open(sys.argv[2]).read()
panels = [p for r in data["rows"] for p in r["panels"]]
bad = [f"panel title missing: {p['title']}" for p in panels if html.escape(p["title"]) not in page]
bad += [f"row title missing: {r['title']}" for r in data["rows"] if html.escape(r["title"]) not in page]
drawn = len(re.findall(r'<div class="panel"', page))
if drawn != len(panels):
    bad.append(f"{drawn} panels drawn, {len(panels)} in the data")
if page.count('<svg class="chart"') != sum(p["type"] == "timeseries" for p in panels):
    bad.append("not one chart per timeseries panel")
if page.count("<path ") < sum(p["type"] == "timeseries" for p in panels):
    bad.append("charts without lines")
text = re.sub(r"<[^>]*>", " ", page)
for word in ("NaN", "nan", "None", "inf", "Infinity", "undefined"):
    if re.search(rf"\b{word}\b", text) or re.search(rf'"[^"]*\b{word}\b', page):
        bad.append(f"{word} on the page")
if "not a Grafana screenshot: Grafana is not installable on the machine this was made on" not in page:
    bad.append("the footer does not say what rendered the page")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}
check "monitoring/render/render.py draws every panel of a real capture's cut (test-data.json), without NaN" renders

done_testing
