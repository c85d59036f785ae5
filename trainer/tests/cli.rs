//! End-to-end checks of the `trainer` binary: what a user running it sees.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use procperf_model::sample::{COLUMNS, ROW_PREFIX};
use procperf_model::schema::FEATURE_NAMES;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mix-a-90s.csv.gz")
}

fn trainer() -> Command {
    Command::cargo_bin("trainer").expect("binary built")
}

fn header() -> String {
    ROW_PREFIX
        .iter()
        .chain(COLUMNS.iter())
        .copied()
        .collect::<Vec<_>>()
        .join(",")
}

/// A valid row: pid 7, comm "x", one-second interval.
fn row(t_ms: u64) -> String {
    let mut v = vec![t_ms.to_string(), "7".into(), "x".into(), "0".into()];
    for c in COLUMNS {
        v.push(match c {
            "interval_ns" => "1000000000".into(),
            "age_ms" => (t_ms + 100).to_string(),
            "threads" => "1".into(),
            _ => "0".into(),
        });
    }
    v.join(",")
}

fn write_csv(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

/// Runs `trainer fit` on `body` and returns stderr, asserting a clean failure (exit 1, no panic).
fn fit_fails(body: &str, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let data = write_csv(dir.path(), "data.csv", body);
    let out = trainer()
        .arg("fit")
        .arg(&data)
        .arg("--out")
        .arg(dir.path().join("m"))
        .args(extra)
        .assert()
        .failure()
        .code(1)
        .stderr(predicate::str::contains("panicked").not())
        .get_output()
        .clone();
    String::from_utf8(out.stderr).unwrap()
}

fn with_cell(column: &str, value: &str) -> String {
    let i = ROW_PREFIX.len() + COLUMNS.iter().position(|c| *c == column).unwrap();
    let mut good: Vec<String> = row(1000).split(',').map(String::from).collect();
    good[i] = value.into();
    format!("{}\n{}\n{}\n", header(), row(0), good.join(","))
}

#[test]
fn fit_writes_blob_manifest_and_metrics_and_the_blob_parses() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    trainer()
        .args([
            "fit",
            fixture().to_str().unwrap(),
            "--n-estimators",
            "4",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("forest MAE / persistence"))
        .stdout(predicate::str::contains("target cpu (permille)"));
    let bytes = std::fs::read(out.join("model.bin")).unwrap();
    let model = procperf_model::blob::parse(&bytes).expect("blob parses like the kernel would");
    assert!(model.metadata().contains("test MAE"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("model.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["blob_bytes"].as_u64().unwrap() as usize,
        bytes.len()
    );
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    // Every target at both horizons.
    let scores = metrics["scores"].as_array().unwrap();
    assert_eq!(scores.len(), 8);
    assert_eq!(scores[4]["horizon"], 60);
    assert_eq!(manifest["horizons"], serde_json::json!([5, 60]));
}

#[test]
fn fit_json_output_is_one_json_document() {
    let dir = tempfile::tempdir().unwrap();
    let out = trainer()
        .args([
            "--json",
            "fit",
            fixture().to_str().unwrap(),
            "--target",
            "cpu",
            "--n-estimators",
            "2",
        ])
        .arg("--out")
        .arg(dir.path().join("m"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("stdout is JSON");
    assert_eq!(v["scores"][0]["target"], "cpu");
}

#[test]
fn save_matrix_writes_schema_named_columns_and_disjoint_comms() {
    let dir = tempfile::tempdir().unwrap();
    let mx = dir.path().join("mx");
    trainer()
        .args([
            "--json",
            "fit",
            fixture().to_str().unwrap(),
            "--target",
            "cpu",
            "--n-estimators",
            "2",
        ])
        .arg("--out")
        .arg(dir.path().join("m"))
        .arg("--save-matrix")
        .arg(&mx)
        .assert()
        .success();
    let read = |name: &str| -> (Vec<String>, Vec<Vec<String>>) {
        let text = std::fs::read_to_string(mx.join(name)).unwrap();
        let mut lines = text.lines();
        let h: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
        (
            h,
            lines
                .map(|l| l.split(',').map(String::from).collect())
                .collect(),
        )
    };
    let (h, train) = read("train.csv");
    let (_, test) = read("test.csv");
    assert_eq!(&h[..3], ["t_ms", "pid", "comm"]);
    for name in FEATURE_NAMES {
        assert!(h.iter().any(|c| c == name), "missing feature column {name}");
    }
    assert!(h.iter().any(|c| c == "target_cpu"));
    let comms = |rows: &[Vec<String>]| {
        rows.iter()
            .map(|r| r[2].clone())
            .collect::<std::collections::HashSet<_>>()
    };
    assert!(!train.is_empty() && !test.is_empty());
    assert!(comms(&train).is_disjoint(&comms(&test)));
}

#[test]
fn predict_and_eval_run_the_blob_on_a_capture() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m");
    trainer()
        .args([
            "--json",
            "fit",
            fixture().to_str().unwrap(),
            "--n-estimators",
            "2",
            "--out",
            m.to_str().unwrap(),
        ])
        .assert()
        .success();
    let blob = m.join("model.bin");
    let out = trainer()
        .arg("predict")
        .arg(&blob)
        .arg(fixture())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("t_ms,pid,comm,cgroup,cpu_current,cpu_linear_5,cpu_forest_5,cpu_lo_5,cpu_hi_5,cpu_linear_60,cpu_forest_60,cpu_lo_60,cpu_hi_60,rss_current"));
    assert!(lines.count() > 1000);
    trainer()
        .arg("eval")
        .arg(&blob)
        .arg(fixture())
        .assert()
        .success()
        .stdout(predicate::str::contains("ewma"))
        .stdout(predicate::str::contains("predict_linear"))
        .stdout(predicate::str::contains("holt"))
        .stdout(predicate::str::contains("at 60 intervals ahead"))
        .stdout(predicate::str::contains("forest MAE / persistence"));
    // Against another blob (here itself): every ratio to it is 1.
    trainer()
        .arg("eval")
        .arg(&blob)
        .arg(fixture())
        .arg("--versus")
        .arg(&blob)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "forest MAE / versus (the other blob's published forecast): 1.000 all",
        ));
}

#[test]
fn collect_writes_the_samples_schema_and_fit_can_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.csv");
    trainer()
        .args([
            "collect",
            "--procfs",
            "--seconds",
            "0.6",
            "--interval-ms",
            "200",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().next().unwrap(), header());
    assert!(text.lines().count() > 2, "some process was seen twice");
    let samples = trainer::data::read_samples(&out, false).expect("collector output parses");
    assert!(samples
        .rows
        .iter()
        .all(|r| r.sample.net_rx_bytes == 0 && r.sample.interval_ns > 0));
}

#[test]
fn empty_file_is_reported_not_panicked() {
    let e = fit_fails("", &[]);
    assert!(e.contains("data.csv") && e.contains("empty"), "{e}");
}

#[test]
fn header_only_file_says_there_are_no_rows() {
    let e = fit_fails(&format!("{}\n", header()), &[]);
    assert!(e.contains("no sample rows"), "{e}");
}

#[test]
fn missing_column_in_header_is_named() {
    let h = header().replace(",rss_file_kib", "");
    let e = fit_fails(&format!("{h}\n"), &[]);
    assert!(
        e.contains("line 1") && e.contains("missing column rss_file_kib"),
        "{e}"
    );
}

#[test]
fn extra_column_in_a_row_names_the_line() {
    let e = fit_fails(&format!("{}\n{}\n{},5\n", header(), row(0), row(1000)), &[]);
    assert!(
        e.contains("data.csv line 3") && e.contains("extra columns"),
        "{e}"
    );
}

#[test]
fn missing_value_in_a_row_names_the_line() {
    let short = row(1000).rsplit_once(',').unwrap().0.to_string();
    let e = fit_fails(&format!("{}\n{}\n{short}\n", header(), row(0)), &[]);
    assert!(
        e.contains("data.csv line 3") && e.contains("missing columns"),
        "{e}"
    );
}

#[test]
fn non_numeric_value_names_line_and_column() {
    let e = fit_fails(&with_cell("rss_anon_kib", "12k"), &[]);
    assert!(
        e.contains("data.csv line 3 column rss_anon_kib") && e.contains("invalid digit"),
        "{e}"
    );
}

#[test]
fn nan_and_inf_are_rejected_with_their_column() {
    for bad in ["NaN", "inf", "-inf", "1.5"] {
        let e = fit_fails(&with_cell("cpu_user_ns", bad), &[]);
        assert!(
            e.contains("line 3 column cpu_user_ns") && e.contains("not an integer"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn negative_counter_is_rejected_with_its_column() {
    let e = fit_fails(&with_cell("disk_read_bytes", "-5"), &[]);
    assert!(
        e.contains("line 3 column disk_read_bytes") && e.contains("negative"),
        "{e}"
    );
}

#[test]
fn unknown_target_lists_the_known_ones() {
    let e = fit_fails(&format!("{}\n{}\n", header(), row(0)), &["--target", "gpu"]);
    assert!(
        e.contains("unknown target \"gpu\"") && e.contains("cpu, rss, disk, net"),
        "{e}"
    );
}

#[test]
fn unknown_feature_to_ignore_lists_the_known_ones() {
    let e = fit_fails(
        &format!("{}\n{}\n", header(), row(0)),
        &["--forest-ignore", "rss_log,rss_lgo"],
    );
    assert!(
        e.contains("--forest-ignore: unknown feature \"rss_lgo\"") && e.contains("cpu_permille, "),
        "{e}"
    );
}

#[test]
fn too_few_rows_for_the_split_says_why() {
    let body: String = std::iter::once(header())
        .chain((0..40).map(|i| row(i * 1000)))
        .collect::<Vec<_>>()
        .join("\n");
    let e = fit_fails(&body, &[]);
    assert!(e.contains("too few rows for the split"), "{e}");
}

#[test]
fn too_short_capture_says_how_many_samples_a_row_needs() {
    let body: String = std::iter::once(header())
        .chain((0..5).map(|i| row(i * 1000)))
        .collect::<Vec<_>>()
        .join("\n");
    let e = fit_fails(&body, &[]);
    assert!(
        e.contains("no supervised rows") && e.contains("consecutive samples"),
        "{e}"
    );
}

#[test]
fn horizon_other_than_the_schema_is_refused() {
    let e = fit_fails(&format!("{}\n{}\n", header(), row(0)), &["--horizon", "3"]);
    assert!(e.contains("--horizon 3") && e.contains("HORIZON"), "{e}");
}

#[test]
fn missing_file_is_named() {
    trainer()
        .args(["fit", "/nonexistent/data.csv"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("opening /nonexistent/data.csv"));
}

#[test]
fn a_file_that_is_not_a_blob_is_refused_by_predict() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write_csv(dir.path(), "model.bin", "not a model");
    trainer()
        .arg("predict")
        .arg(&bad)
        .arg(fixture())
        .assert()
        .failure()
        .stderr(predicate::str::contains("not a valid model blob"));
}

#[test]
fn corrupt_compressed_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("data.csv.gz");
    std::fs::write(&bad, b"\x1f\x8b\x08\x00garbage").unwrap();
    trainer()
        .arg("fit")
        .arg(&bad)
        .assert()
        .failure()
        .stderr(predicate::str::contains("data.csv.gz"))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn folds_print_cross_validation_and_one_fold_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m");
    trainer()
        .args([
            "fit",
            fixture().to_str().unwrap(),
            "--target",
            "cpu",
            "--n-estimators",
            "2",
            "--folds",
            "2",
        ])
        .arg("--out")
        .arg(&m)
        .assert()
        .success()
        .stdout(predicate::str::contains("2-fold cross-validation"));
    trainer()
        .args([
            "fit",
            fixture().to_str().unwrap(),
            "--target",
            "cpu",
            "--folds",
            "1",
        ])
        .arg("--out")
        .arg(&m)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--folds must be at least 2"));
}
