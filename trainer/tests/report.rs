//! `trainer report`: the page a user opens — one self-contained HTML file with every chart and
//! table — and clear errors on bad input.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use predicates::prelude::*;
use procperf_model::sample::{COLUMNS, ROW_PREFIX};

const TARGETS: [&str; 4] = ["cpu", "rss", "disk", "net"];
const MODELS: [&str; 8] = [
    "persistence",
    "mean",
    "ewma",
    "predict_linear",
    "holt",
    "linear",
    "forest",
    "forest_alone",
];
/// Charts every target section has exactly once.
const PER_TARGET_CHARTS: [&str; 7] = [
    "errors-chart",
    "scatter-forest",
    "scatter-linear",
    "residuals-chart",
    "coverage-chart",
    "importance-chart",
    "coefficients-chart",
];

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mix-a-90s.csv.gz")
}

fn trainer() -> Command {
    Command::cargo_bin("trainer").expect("binary built")
}

/// A small model fitted once on the fixture (4 trees), shared by the tests of this file.
fn model_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-model");
        let _ = std::fs::remove_dir_all(&dir);
        trainer()
            .arg("fit")
            .arg(fixture())
            .args(["--n-estimators", "4", "--out"])
            .arg(&dir)
            .assert()
            .success();
        dir
    })
}

/// Runs `trainer report` on the fixture and returns the page.
fn report(name: &str) -> String {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    trainer()
        .arg("report")
        .arg(model_dir())
        .arg(fixture())
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("wrote"));
    std::fs::read_to_string(&out).expect("report written")
}

/// Values of `attr="..."` in the page.
fn attr_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let key = format!("{attr}=\"");
    html.match_indices(&key)
        .filter_map(|(i, _)| {
            let rest = &html[i + key.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

#[test]
fn report_is_one_self_contained_page() {
    let html = report("self-contained.html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    let lower = html.to_lowercase();
    // No scripts at all, no stylesheet or image fetched from anywhere.
    assert!(!lower.contains("<script"), "the page needs no JavaScript");
    assert!(!lower.contains("<link"), "styles are inline");
    assert!(!lower.contains("<img"), "charts are inline SVG");
    assert!(!lower.contains("@import") && !lower.contains("url("));
    for attr in ["src", "href", "xlink:href"] {
        for v in attr_values(&lower, attr) {
            assert!(v.starts_with('#'), "{attr}=\"{v}\" refers outside the page");
        }
    }
    // Every in-page link has its target.
    let ids = attr_values(&html, "id");
    for href in attr_values(&html, "href") {
        assert!(ids.contains(&&href[1..]), "link {href} has no target");
    }
}

#[test]
fn report_has_every_chart_and_error_table_per_target() {
    let html = report("charts.html");
    let svg_ids: Vec<&str> = html
        .match_indices("<svg id=\"")
        .map(|(i, _)| {
            let rest = &html[i + 9..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    for t in TARGETS {
        for chart in PER_TARGET_CHARTS {
            let id = format!("{t}-{chart}");
            assert_eq!(
                svg_ids.iter().filter(|s| **s == id).count(),
                1,
                "chart {id} once"
            );
        }
        let series = svg_ids
            .iter()
            .filter(|s| s.starts_with(&format!("{t}-series-")))
            .count();
        // /proc captures have no network bytes: no process to show for net.
        let want = if t == "net" { 0..=3 } else { 1..=3 };
        assert!(want.contains(&series), "{t}: {series} time series");

        let table_start = html
            .find(&format!("id=\"{t}-error-table\""))
            .unwrap_or_else(|| panic!("{t} has an error table"));
        let table = &html[table_start..table_start + html[table_start..].find("</table>").unwrap()];
        for m in MODELS {
            assert!(
                table.contains(&format!("<tr data-model=\"{m}\">")),
                "{t} error table has a {m} row"
            );
        }
        assert_eq!(table.matches("<tr data-model=").count(), MODELS.len());
    }
    // Each chart is titled, for readers and for search.
    assert_eq!(
        html.matches("<svg id=").count(),
        html.matches("<title id=").count()
    );
    for section in [
        "overview",
        "features",
        "preprocessing",
        "quantisation-table",
    ] {
        assert!(html.contains(&format!("id=\"{section}\"")), "{section}");
    }
    // Preprocessing and quantisation come from metrics.json and model.json.
    assert!(html.contains("collinearity"));
    assert!(html.contains("forest bound"));
}

#[test]
fn report_json_summary_counts_the_charts() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("summary.html");
    let stdout = trainer()
        .args(["--json", "report"])
        .arg(model_dir())
        .arg(fixture())
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let s: serde_json::Value = serde_json::from_slice(&stdout).expect("one JSON document");
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(s["bytes"].as_u64().unwrap() as usize, html.len());
    assert_eq!(
        s["charts"].as_u64().unwrap() as usize,
        html.matches("<svg id=").count()
    );
    assert_eq!(s["targets"].as_array().unwrap().len(), 4);
}

#[test]
fn report_is_deterministic() {
    let a = trainer::html_report::render(model_dir(), &fixture(), true).unwrap();
    let b = trainer::html_report::render(model_dir(), &fixture(), true).unwrap();
    assert!(a.html == b.html, "same inputs, same page");
}

#[test]
fn report_of_the_reference_heldout_capture_stays_small() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let page = trainer::html_report::render(
        &root.join("rust/model/default"),
        &root.join("data/reference/heldout.csv.xz"),
        true,
    )
    .unwrap();
    // A page per horizon's worth of sections, each bounded by the scatter downsampling.
    let horizons = procperf_model::schema::N_HORIZONS;
    assert!(
        page.html.len() < horizons * (3 << 20),
        "{} bytes: scatter downsampling broken?",
        page.html.len()
    );
    assert!(page.html.matches("<circle").count() <= horizons * 8 * 2500);
    // Every horizon has its sections.
    assert!(page.html.contains("id=\"cpu-60-scatter-forest\""));
    assert!(page
        .html
        .contains("<a href=\"#rss-60\">rss</a></td><td>60</td>"));
}

#[test]
fn bad_csv_value_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let header: Vec<&str> = ROW_PREFIX.iter().chain(COLUMNS.iter()).copied().collect();
    let mut row: Vec<String> = vec!["1000".into(), "7".into(), "x".into(), "0".into()];
    row.extend(COLUMNS.iter().map(|c| match *c {
        "interval_ns" => "1000000000".to_string(),
        "rss_anon_kib" => "12k".to_string(),
        _ => "0".to_string(),
    }));
    let data = dir.path().join("bad.csv");
    std::fs::write(&data, format!("{}\n{}\n", header.join(","), row.join(","))).unwrap();
    trainer()
        .arg("report")
        .arg(model_dir())
        .arg(&data)
        .arg("--out")
        .arg(dir.path().join("r.html"))
        .assert()
        .failure()
        .code(1)
        .stderr(predicate::str::contains(
            "bad.csv line 2 column rss_anon_kib",
        ))
        .stderr(predicate::str::contains("panicked").not());
    assert!(!dir.path().join("r.html").exists(), "no page on error");
}

#[test]
fn directory_without_a_model_is_named() {
    let dir = tempfile::tempdir().unwrap();
    trainer()
        .arg("report")
        .arg(dir.path())
        .arg(fixture())
        .assert()
        .failure()
        .code(1)
        .stderr(predicate::str::contains(dir.path().to_str().unwrap()))
        .stderr(predicate::str::contains("no model.bin"));
}

#[test]
fn broken_metrics_json_is_named() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["model.bin", "model.json"] {
        std::fs::copy(model_dir().join(f), dir.path().join(f)).unwrap();
    }
    std::fs::write(dir.path().join("metrics.json"), "{ \"data\": ").unwrap();
    trainer()
        .arg("report")
        .arg(dir.path())
        .arg(fixture())
        .arg("--out")
        .arg(dir.path().join("r.html"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("metrics.json"))
        .stderr(predicate::str::contains("line 1 column"));
}

#[test]
fn model_dir_without_the_json_files_still_reports_the_blob() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(model_dir().join("model.bin"), dir.path().join("model.bin")).unwrap();
    let out = dir.path().join("r.html");
    trainer()
        .arg("report")
        .arg(dir.path().join("model.bin"))
        .arg(fixture())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let html = std::fs::read_to_string(out).unwrap();
    assert!(html.contains("model.json</dt><dd>not found"));
    assert!(html.contains("id=\"cpu-scatter-forest\""));
    // Without the manifest, eval has no EWMA or mean baseline to score.
    assert!(!html.contains("<tr data-model=\"ewma\">"));
}
