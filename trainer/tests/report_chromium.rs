//! `trainer report` as a person sees it: the page opened in headless Chromium renders its charts
//! (a screenshot with the models' colours, not a blank page), logs nothing to the console, and the
//! browser's DOM holds every chart of the file.
//!
//! Chromium is a test dependency (Debian package `chromium`, installed by scripts/setup); without
//! it this test fails rather than skips, so a missing browser cannot pass for a working report.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const WIDTH: u32 = 1400;
const HEIGHT: u32 = 3000;

fn chromium() -> PathBuf {
    let candidates = [
        std::env::var_os("CHROMIUM").map(PathBuf::from),
        Some(PathBuf::from("/usr/bin/chromium")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no /usr/bin/chromium: install chromium (scripts/setup does)"))
}

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-chromium");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// What a Chromium run printed.
struct Run {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs headless Chromium on `page` with `args`, killing it after two minutes. Output goes to
/// files: a DOM dump is larger than a pipe's buffer.
fn run_chromium(page: &Path, args: &[String]) -> Run {
    let work = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (work.path().join("stdout"), work.path().join("stderr"));
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--disable-dev-shm-usage",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!(
            "--user-data-dir={}",
            work.path().join("profile").display()
        ))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("chromium starts");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let run = Run {
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    };
    assert!(
        status.success(),
        "chromium failed on {}: {}",
        page.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    run
}

/// Console messages (errors, uncaught exceptions, failed loads) Chromium logged.
fn console_lines(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .map(String::from)
        .collect()
}

fn trainer_report(out: &Path) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mix-a-90s.csv.gz");
    let model = tmp("model");
    let _ = std::fs::remove_dir_all(&model);
    assert_cmd::Command::cargo_bin("trainer")
        .unwrap()
        .arg("fit")
        .arg(&fixture)
        .args(["--n-estimators", "4", "--out"])
        .arg(&model)
        .assert()
        .success();
    assert_cmd::Command::cargo_bin("trainer")
        .unwrap()
        .arg("report")
        .arg(&model)
        .arg(&fixture)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

/// An RGB image.
struct Image {
    width: u32,
    height: u32,
    rgb: Vec<[u8; 3]>,
}

fn decode_png(path: &Path) -> Image {
    let file = std::fs::File::open(path)
        .unwrap_or_else(|e| panic!("no screenshot at {}: {e}", path.display()));
    let mut reader = png::Decoder::new(file).read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected screenshot colour type {other:?}"),
    };
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let rgb = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    Image {
        width: info.width,
        height: info.height,
        rgb,
    }
}

impl Image {
    fn rows(&self, y0: u32, y1: u32) -> &[[u8; 3]] {
        &self.rgb[(y0 * self.width) as usize..(y1 * self.width) as usize]
    }
}

/// A bar of `colour` drawn at 85 % opacity on white, as the report's bar charts do.
fn on_white(colour: [u8; 3], alpha: f64) -> [u8; 3] {
    colour.map(|c| (alpha * c as f64 + (1.0 - alpha) * 255.0).round() as u8)
}

fn has_colour(pixels: &[[u8; 3]], want: [u8; 3]) -> usize {
    pixels
        .iter()
        .filter(|p| p.iter().zip(want).all(|(a, b)| a.abs_diff(b) <= 10))
        .count()
}

#[test]
fn console_error_detection_works() {
    // The check below is only as good as its detector: a page that does log must be caught.
    let page = tmp("console-error.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><p>x</p><script>console.error('report-test-marker'); \
         undefinedFunction();</script></body></html>",
    )
    .unwrap();
    let out = run_chromium(&page, &["--dump-dom".into()]);
    let lines = console_lines(&out.stderr);
    assert!(
        lines.iter().any(|l| l.contains("report-test-marker")),
        "console.error not detected: {lines:?}"
    );
    assert!(lines.iter().any(|l| l.contains("Uncaught")), "{lines:?}");
}

#[test]
fn report_renders_in_chromium_without_console_errors() {
    let page = tmp("report.html");
    trainer_report(&page);
    let html = std::fs::read_to_string(&page).unwrap();
    let charts = html.matches("<svg id=").count();
    assert!(charts >= 4 * 7, "{charts} charts in the file");

    // The DOM Chromium built holds every chart, and loading it logged nothing.
    let dom = run_chromium(&page, &["--dump-dom".into()]);
    let dom_html = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(
        dom_html.matches("<svg id=").count(),
        charts,
        "charts in the DOM"
    );
    assert!(dom_html.contains("procperf model report"));
    let console = console_lines(&dom.stderr);
    assert!(console.is_empty(), "console messages: {console:#?}");

    // The screenshot: right size, and charts drawn in the models' colours, not a blank page.
    let png = tmp("report.png");
    let _ = std::fs::remove_file(&png);
    let shot = run_chromium(
        &page,
        &[
            format!("--screenshot={}", png.display()),
            format!("--window-size={WIDTH},{HEIGHT}"),
        ],
    );
    let console = console_lines(&shot.stderr);
    assert!(console.is_empty(), "console messages: {console:#?}");
    let img = decode_png(&png);
    assert_eq!((img.width, img.height), (WIDTH, HEIGHT));

    // The header band is dark.
    let header = img.rows(5, 40);
    let dark = header.iter().filter(|p| p.iter().all(|&c| c < 90)).count();
    assert!(
        dark > header.len() / 2,
        "header not drawn ({dark} dark pixels)"
    );

    // Below the overview: many colours, a good share of ink, and the linear and forest bars.
    let charts_area = img.rows(HEIGHT / 3, HEIGHT);
    let mut colours: Vec<[u8; 3]> = charts_area.to_vec();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 200,
        "only {} distinct colours",
        colours.len()
    );
    let ink = charts_area
        .iter()
        .filter(|p| p.iter().any(|&c| c < 200))
        .count();
    assert!(
        ink * 50 > charts_area.len(),
        "{ink} of {} pixels inked: blank page?",
        charts_area.len()
    );
    for (name, colour) in [("linear", [52, 101, 164]), ("forest", [46, 139, 87])] {
        let n = has_colour(charts_area, on_white(colour, 0.85));
        assert!(n > 500, "{name} bars: {n} pixels of their colour");
    }
}
