//! `procperf exporter` against the real Prometheus and promtool.
//!
//! A replay directory stands in for the module: the passes of `tests/data/exporter/` (module
//! files) with pass *k* of `tests/data/predictions-recorded.csv` (a real recording) given the
//! `cgroup` and `anomaly` columns the module writes (the golden header), and a fake cgroup2 tree
//! whose directories' inode numbers are the cgroup ids. The test runs the exporter on it, checks
//! its output with `promtool check metrics`, has a real Prometheus scrape it every second,
//! advances the replay pass by pass, and queries Prometheus's HTTP API: the series exist with the
//! fixture's values in base units, the metric names are exactly those of
//! `monitoring/metrics.txt` (what the dashboard and the alert rules use), and with a synthesized
//! host of 10 000 processes and 1 024 cgroups and commands the series stay under the documented
//! bound.
//!
//! Needs Prometheus and promtool: `PP_PROMETHEUS` and `PP_PROMTOOL` (scripts/test sets them), else
//! the paths where scripts/setup unpacks them. Without them the test fails, it does not skip.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use procperf_model::fixed::{exp2m1_q8, Log2Q8};

const BIN: &str = env!("CARGO_BIN_EXE_procperf");
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/exporter");
const RECORDED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/predictions-recorded.csv"
);
/// Where scripts/setup unpacks Debian's prometheus package.
const TOOLS: &str = "/var/cache/procperf/tools/prometheus/usr/bin";
/// The module's `predictions.csv` header.
const GOLDEN_HEADER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/golden/predictions.csv.header"
);
/// The metric names the dashboard and the alert rules use: the exporter serves exactly these.
const METRICS_TXT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../monitoring/metrics.txt");
/// Names the exporter serves beyond `monitoring/metrics.txt` (cli/README.md would document
/// them): none.
const EXTRA_NAMES: [&str; 0] = [];
/// The exporter's series bound at its defaults (--top 20 --max-groups 30, two horizons), as
/// `exporter::families::series_bound` computes it and cli/README.md documents it.
const BOUND: usize = 4549;
const PATIENCE: Duration = Duration::from_secs(20);

/// Processes and groups of the big host that surge in its second pass: as many as the defaults'
/// --top and --max-groups.
const NEW_PROCESSES: usize = 20;
const NEW_GROUPS: usize = 30;

/// The cgroups of the fake tree, and the `memory.max` each has (none for the root).
const CGROUPS: [(&str, Option<&str>); 5] = [
    ("/", None),
    ("/system.slice", Some("max")),
    ("/system.slice/db.service", Some("2147483648")),
    ("/system.slice/web.service", Some("max")),
    (
        "/user.slice/user-1000.slice/session-2.scope",
        Some("8589934592"),
    ),
];

/// The cgroup the test puts a recorded process in.
fn process_cgroup(pid: i64) -> &'static str {
    [1, 2, 3, 4].map(|i| CGROUPS[i].0)[pid.rem_euclid(4) as usize]
}

/// The anomaly bit mask the test gives a recorded process (bit t: target t flagged; cpu 1, rss
/// 2, disk 4, net 8): 0 to 12, so some have none, one or several flags up.
fn process_anomaly(pid: i64) -> i64 {
    pid.rem_euclid(13)
}

/// The path of Prometheus's binary or promtool: the environment's, else scripts/setup's.
fn tool(var: &str, name: &str) -> PathBuf {
    let path = std::env::var_os(var).map_or_else(|| Path::new(TOOLS).join(name), PathBuf::from);
    assert!(
        path.is_file(),
        "{name} not found at {} ({var} unset or wrong): run scripts/setup, which unpacks Debian's prometheus package there",
        path.display()
    );
    path
}

/// A child process killed (and reaped) on drop, also when the test fails.
struct Running {
    child: Child,
    name: &'static str,
    log: PathBuf,
}

impl Running {
    fn start(name: &'static str, cmd: &mut Command, log: PathBuf) -> Self {
        let out = fs::File::create(&log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        Self { child, name, log }
    }

    /// Fails the test, with the child's log, if it has exited.
    fn check_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited ({status}):\n{}",
                self.name,
                fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A GET over HTTP/1.0: status, headers (lower-case names) and body.
fn get(
    addr: &str,
    path: &str,
    accept: Option<&str>,
) -> std::io::Result<(u16, HashMap<String, String>, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let accept = accept.map_or(String::new(), |a| format!("Accept: {a}\r\n"));
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n{accept}\r\n")?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok((status, headers, body.to_owned()))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One sample of an instant query: labels and value.
type Sample = (BTreeMap<String, String>, f64);

/// An instant query through Prometheus's HTTP API.
fn query(prom: &str, q: &str) -> Vec<Sample> {
    let (status, _, body) = get(
        prom,
        &format!("/api/v1/query?query={}", url_encode(q)),
        None,
    )
    .unwrap_or_else(|e| panic!("query {q}: {e}"));
    assert_eq!(status, 200, "query {q}: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["data"]["result"]
        .as_array()
        .unwrap_or_else(|| panic!("query {q}: {body}"))
        .iter()
        .map(|r| {
            let labels = r["metric"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            let value = r["value"][1].as_str().unwrap().parse::<f64>().unwrap();
            (labels, value)
        })
        .collect()
}

/// The single value of a query, when it has exactly one sample.
fn scalar(prom: &str, q: &str) -> Option<f64> {
    match query(prom, q).as_slice() {
        [(_, v)] => Some(*v),
        _ => None,
    }
}

/// Polls `f` until it returns `Some`, for at most [`PATIENCE`].
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Replaces `path` with `text` atomically, as the module's files change whole between reads.
fn put(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp-write");
    fs::write(&tmp, text).unwrap();
    fs::rename(&tmp, path).unwrap();
}

/// The module stand-in: a directory of module files and a fake cgroup2 tree.
struct Replay {
    module: PathBuf,
    cgroup_root: PathBuf,
    /// Cgroup path to id (inode number), and back.
    ids: HashMap<String, u64>,
    /// The recording's header and its passes' rows, in time order.
    header: String,
    passes: Vec<Vec<String>>,
}

impl Replay {
    fn new(root: &Path) -> Self {
        let module = root.join("procperf");
        let cgroup_root = root.join("cgroup");
        fs::create_dir_all(&module).unwrap();
        let mut ids = HashMap::new();
        for (path, max) in CGROUPS {
            let dir = cgroup_root.join(path.trim_start_matches('/'));
            fs::create_dir_all(&dir).unwrap();
            if let Some(max) = max {
                fs::write(dir.join("memory.max"), format!("{max}\n")).unwrap();
            }
            ids.insert(path.to_owned(), fs::metadata(&dir).unwrap().ino());
        }
        let text = fs::read_to_string(RECORDED).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap().to_owned();
        let mut passes: Vec<(String, Vec<String>)> = Vec::new();
        for l in lines {
            let t = l.split(',').next().unwrap().to_owned();
            match passes.last_mut() {
                Some((last, rows)) if *last == t => rows.push(l.to_owned()),
                _ => passes.push((t, vec![l.to_owned()])),
            }
        }
        Self {
            module,
            cgroup_root,
            ids,
            header,
            passes: passes.into_iter().map(|(_, r)| r).collect(),
        }
    }

    /// The module's header: the recording's with the cgroup and anomaly columns.
    fn module_header(&self) -> String {
        let header = self
            .header
            .replacen("t_ms,pid,comm,", "t_ms,pid,comm,cgroup,", 1)
            + ",anomaly";
        let golden = fs::read_to_string(GOLDEN_HEADER).unwrap();
        assert_eq!(
            header,
            golden.trim_end(),
            "the replay's predictions.csv header is not the module's ({GOLDEN_HEADER})"
        );
        header
    }

    /// The recorded rows of pass `k` (0-based) with the cgroup and anomaly columns the module
    /// now writes.
    fn predictions(&self, k: usize) -> String {
        let mut out = format!("{}\n", self.module_header());
        for row in &self.passes[k] {
            let mut f: Vec<String> = row.split(',').map(str::to_owned).collect();
            let pid = f[1].parse().unwrap();
            f.insert(3, self.ids[process_cgroup(pid)].to_string());
            f.push(process_anomaly(pid).to_string());
            out.push_str(&f.join(","));
            out.push('\n');
        }
        out
    }

    /// A fixture table with cgroup paths replaced by their ids.
    fn with_ids(&self, text: &str) -> String {
        text.lines()
            .map(|l| {
                let mut f: Vec<String> = l.split(',').map(str::to_owned).collect();
                if let Some(id) = self.ids.get(&f[1]) {
                    f[1] = id.to_string();
                }
                f.join(",") + "\n"
            })
            .collect()
    }

    /// Publishes pass `k` (0-based) of the fixture.
    fn publish(&self, k: usize) {
        let dir = Path::new(FIXTURE).join(format!("pass{}", k + 1));
        for name in [
            "version",
            "interval_ms",
            "model_info",
            "accuracy",
            "comms.csv",
        ] {
            put(
                &self.module.join(name),
                &fs::read_to_string(dir.join(name)).unwrap(),
            );
        }
        let cgroups = fs::read_to_string(dir.join("cgroups.csv")).unwrap();
        put(&self.module.join("cgroups.csv"), &self.with_ids(&cgroups));
        put(&self.module.join("predictions.csv"), &self.predictions(k));
        // stats last: the test waits for its `passes` to know the exporter has the new pass.
        put(
            &self.module.join("stats"),
            &fs::read_to_string(dir.join("stats")).unwrap(),
        );
    }

    /// A synthesized big host: `n` processes, 1024 cgroups (ids no directory has) and commands.
    /// The last [`NEW_PROCESSES`] processes and [`NEW_GROUPS`] groups are idle, or, when
    /// `surge`, the heaviest on every target: they then take the top positions and push the
    /// previous top ones down by as many places, which keeps them (hysteresis).
    fn publish_big(&self, n: usize, passes: u64, surge: bool) {
        let recorded = &self.passes[0][0];
        let mut p = format!("{}\n", self.module_header());
        for i in 0..n {
            let mut f: Vec<String> = recorded.split(',').map(str::to_owned).collect();
            f[1] = (100_000 + i).to_string();
            f[2] = format!("w{}", i % 1500);
            let new = i >= n - NEW_PROCESSES;
            for v in f.iter_mut().skip(3) {
                *v = match (new, surge) {
                    (false, _) => ((v.parse::<i64>().unwrap() + i as i64 * 7) % 5000).to_string(),
                    (true, false) => "0".to_owned(),
                    (true, true) => "9000".to_owned(),
                };
            }
            f.insert(3, (5_000_000_000u64 + (i % 1024) as u64).to_string());
            f.push((i % 16).to_string());
            p.push_str(&f.join(","));
            p.push('\n');
        }
        let group_table = |key: &str, name: &dyn Fn(usize) -> String| {
            let fixture = fs::read_to_string(Path::new(FIXTURE).join("pass1/cgroups.csv")).unwrap();
            let header = fixture.lines().next().unwrap();
            let mut out = header.replacen(",cgroup,", &format!(",{key},"), 1) + "\n";
            for i in 0..1024 {
                let v: Vec<String> = (0..24)
                    .map(|c| match (i >= 1024 - NEW_GROUPS, surge) {
                        (false, _) => ((i * 31 + c * 7) % 997).to_string(),
                        (true, false) => "0".to_owned(),
                        (true, true) => "99999".to_owned(),
                    })
                    .collect();
                out.push_str(&format!("1000,{},3,{},{}\n", name(i), i % 4, v.join(",")));
            }
            out
        };
        put(&self.module.join("predictions.csv"), &p);
        put(
            &self.module.join("cgroups.csv"),
            &group_table("cgroup", &|i| (5_000_000_000u64 + i as u64).to_string()),
        );
        put(
            &self.module.join("comms.csv"),
            &group_table("comm", &|i| format!("w{i}")),
        );
        let stats = fs::read_to_string(Path::new(FIXTURE).join("pass3/stats")).unwrap();
        let stats: String = stats
            .lines()
            .map(|l| {
                if l.starts_with("passes ") {
                    format!("passes {passes}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        put(&self.module.join("stats"), &stats);
    }
}

/// CSV rows under `header` by their second field (a group's key, a pid): column -> value, cells
/// that do not parse as `T` left out.
fn by_second_field<'a, T: std::str::FromStr>(
    header: &str,
    rows: impl Iterator<Item = &'a str>,
) -> HashMap<String, HashMap<String, T>> {
    let header: Vec<&str> = header.split(',').collect();
    rows.map(|l| {
        let f: Vec<&str> = l.split(',').collect();
        let values = header
            .iter()
            .zip(&f)
            .filter_map(|(h, v)| Some((h.to_string(), v.parse().ok()?)))
            .collect();
        (f[1].to_owned(), values)
    })
    .collect()
}

/// A fixture group table as `key -> column -> value`.
fn fixture_table(k: usize, file: &str) -> HashMap<String, HashMap<String, f64>> {
    let text =
        fs::read_to_string(Path::new(FIXTURE).join(format!("pass{}", k + 1)).join(file)).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    by_second_field(header, lines)
}

/// The recorded rows of pass `k` by pid: column -> value.
fn recorded_rows(replay: &Replay, k: usize) -> HashMap<String, HashMap<String, i64>> {
    by_second_field(&replay.header, replay.passes[k].iter().map(String::as_str))
}

#[test]
fn prometheus_scrapes_the_spec_metrics_in_base_units_within_the_series_bound() {
    let prometheus_bin = tool("PP_PROMETHEUS", "prometheus");
    let promtool = tool("PP_PROMTOOL", "promtool");
    let tmp = tempfile::tempdir().unwrap();
    let replay = Replay::new(tmp.path());
    replay.publish(0);

    // The exporter, at its defaults but for the address and the fake cgroup tree.
    let exporter_addr = format!("127.0.0.1:{}", free_port());
    let mut exporter = Running::start(
        "procperf exporter",
        Command::new(BIN)
            .args(["exporter", "--listen", &exporter_addr, "--dir"])
            .arg(&replay.module)
            .arg("--cgroup-root")
            .arg(&replay.cgroup_root),
        tmp.path().join("exporter.log"),
    );
    wait_for("the exporter to answer", || {
        exporter.check_alive();
        get(&exporter_addr, "/", None)
            .ok()
            .filter(|(s, ..)| *s == 200)
    });

    // promtool reads the text format 0.0.4 the exporter serves to a client without Accept.
    let (status, headers, text) = get(&exporter_addr, "/metrics", None).unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert!(
        !text.contains("# EOF") && !text.contains("# UNIT"),
        "{text}"
    );
    let mut check = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = check.wait_with_output().unwrap();
    let complaints =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && complaints.trim().is_empty(),
        "promtool check metrics: {}\n{complaints}",
        out.status
    );
    let (_, headers, om) = get(
        &exporter_addr,
        "/metrics",
        Some("application/openmetrics-text; version=1.0.0"),
    )
    .unwrap();
    assert_eq!(
        headers["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(om.ends_with("# EOF\n"), "{om}");

    // Wrong setups stop the exporter at once, with status 1 and one line saying why.
    let fail = |args: &[&std::ffi::OsStr]| {
        let out = Command::new(BIN)
            .arg("exporter")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        err
    };
    let gone = tmp.path().join("nowhere/procperf");
    let err = fail(&["--dir".as_ref(), gone.as_os_str()]);
    assert!(
        err.starts_with(&format!(
            "procperf: procperf module not loaded (no {})",
            gone.display()
        )) && err.contains("modprobe procperf"),
        "{err}"
    );
    let err = fail(&[
        "--listen".as_ref(),
        exporter_addr.as_ref(),
        "--dir".as_ref(),
        replay.module.as_os_str(),
    ]);
    assert_eq!(
        err,
        format!("procperf: cannot listen on {exporter_addr}: the address is already in use (another procperf exporter? choose another with --listen)\n")
    );

    // A real Prometheus scrapes it every second (OpenMetrics, as Prometheus asks for it first).
    let prom = format!("127.0.0.1:{}", free_port());
    let config = tmp.path().join("prometheus.yml");
    fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: procperf\n    static_configs:\n      - targets: ['{exporter_addr}']\n"
        ),
    )
    .unwrap();
    let mut prometheus = Running::start(
        "prometheus",
        Command::new(&prometheus_bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                tmp.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={prom}")),
        tmp.path().join("prometheus.log"),
    );
    let passes_total = |prom: &str| scalar(prom, "procperf_passes_total");
    wait_for("Prometheus to scrape pass 1", || {
        prometheus.check_alive();
        exporter.check_alive();
        get(&prom, "/-/ready", None)
            .ok()
            .filter(|(s, ..)| *s == 200)?;
        (passes_total(&prom)? == 160.0).then_some(())
    });

    // Pass by pass: Prometheus sees each.
    for k in 1..3 {
        replay.publish(k);
        wait_for(&format!("pass {}", k + 1), || {
            (passes_total(&prom)? == 160.0 + k as f64).then_some(())
        });
    }
    assert_eq!(scalar(&prom, "procperf_up"), Some(1.0));
    assert_eq!(scalar(&prom, "up{job=\"procperf\"}"), Some(1.0));

    // Cgroups: every exported one has the fixture's values, in base units; labels are paths.
    let cgroups = fixture_table(2, "cgroups.csv");
    let id_label = |key: &str| {
        if key.starts_with('/') {
            key.to_owned()
        } else {
            format!("id:{key}")
        }
    };
    let by_label: HashMap<String, &HashMap<String, f64>> =
        cgroups.iter().map(|(k, v)| (id_label(k), v)).collect();
    let cpu = query(&prom, "procperf_cgroup_cpu_seconds_total");
    assert_eq!(cpu.len(), 2 * cgroups.len(), "{cpu:?}");
    for (labels, v) in &cpu {
        let row = by_label[&labels["cgroup"]];
        let column = if labels["mode"] == "user" {
            "cpu_user_ns"
        } else {
            "cpu_sys_ns"
        };
        assert!(
            close(*v, row[column] / 1e9),
            "{labels:?}: {v} vs {}",
            row[column] / 1e9
        );
    }
    for (q, column, scale) in [
        ("procperf_cgroup_cpu_usage_ratio", "cpu_permille", 1e-3),
        ("procperf_cgroup_resident_memory_bytes", "rss_kib", 1024.0),
        (
            "procperf_cgroup_network_bytes_per_second",
            "net_bytes_per_s",
            1.0,
        ),
        ("procperf_cgroup_processes", "processes", 1.0),
        ("procperf_cgroup_anomalous_processes", "anomalous", 1.0),
        ("procperf_comm_anomalous_processes", "anomalous", 1.0),
        (
            "procperf_cgroup_disk_bytes_total{direction=\"write\"}",
            "disk_write_bytes",
            1.0,
        ),
        (
            "procperf_cgroup_page_faults_total{kind=\"major\"}",
            "majflt",
            1.0,
        ),
        (
            "procperf_cgroup_cpu_usage_forecast_ratio{horizon_seconds=\"60\"}",
            "cpu_permille_60",
            1e-3,
        ),
        (
            "procperf_cgroup_resident_memory_forecast_upper_bytes{horizon_seconds=\"5\"}",
            "rss_kib_hi_5",
            1024.0,
        ),
        (
            "procperf_comm_context_switches_total{kind=\"involuntary\"}",
            "nivcsw",
            1.0,
        ),
    ] {
        let table = if q.starts_with("procperf_comm") {
            fixture_table(2, "comms.csv")
        } else {
            cgroups.clone()
        };
        let samples = query(&prom, q);
        assert_eq!(samples.len(), table.len(), "{q}: {samples:?}");
        for (labels, v) in samples {
            let key = labels.get("cgroup").map_or_else(
                || labels["comm"].clone(),
                |c| c.trim_start_matches("id:").to_owned(),
            );
            let want = table[&key][column] * scale;
            assert!(close(v, want), "{q} {labels:?}: {v}, fixture {want}");
        }
    }
    assert_eq!(
        scalar(
            &prom,
            "procperf_cgroup_memory_max_bytes{cgroup=\"/system.slice/db.service\"}"
        ),
        Some(2147483648.0)
    );
    let limited: Vec<String> = query(&prom, "procperf_cgroup_memory_max_bytes")
        .into_iter()
        .map(|(l, _)| l["cgroup"].clone())
        .collect();
    assert_eq!(
        limited.len(),
        2,
        "memory.max \"max\" and no file export nothing: {limited:?}"
    );

    // Processes: at most 2N = 40 with series; each with the recording's values and its cgroup.
    let rows = recorded_rows(&replay, 2);
    let now = query(&prom, "procperf_process_cpu_usage_ratio");
    assert!(!now.is_empty() && now.len() <= 40, "{now:?}");
    for (labels, v) in &now {
        let row = &rows[&labels["pid"]];
        assert!(
            close(*v, row["cpu_current"] as f64 / 1000.0),
            "{labels:?}: {v}"
        );
        assert_eq!(
            labels["cgroup"],
            process_cgroup(labels["pid"].parse().unwrap()),
            "{labels:?}"
        );
    }
    for (labels, v) in query(&prom, "procperf_process_resident_memory_forecast_bound_bytes{bound=\"upper\",horizon_seconds=\"60\"}") {
        let want = rows[&labels["pid"]]["rss_hi_60"] as f64 * 1024.0;
        assert!(close(v, want), "{labels:?}: {v} vs {want}");
    }
    for (labels, v) in query(
        &prom,
        "procperf_process_disk_forecast_bytes_per_second{horizon_seconds=\"5\"}",
    ) {
        let level = rows[&labels["pid"]]["disk_forest_5"];
        let want = exp2m1_q8(Log2Q8(level as i32)) as f64;
        assert!(close(v, want), "{labels:?}: {v} vs {want} (level {level})");
    }

    // Anomaly flags: one 0/1 series per target of each exported process, from its bit mask.
    let flags = query(&prom, "procperf_process_anomaly");
    assert_eq!(flags.len(), 4 * now.len(), "{flags:?}");
    for (labels, v) in &flags {
        let bit = ["cpu", "rss", "disk", "net"]
            .iter()
            .position(|t| *t == labels["target"])
            .unwrap_or_else(|| panic!("{labels:?}"));
        let mask = process_anomaly(labels["pid"].parse().unwrap());
        assert_eq!(*v, ((mask >> bit) & 1) as f64, "{labels:?} (mask {mask})");
    }
    assert!(
        flags.iter().any(|(_, v)| *v == 1.0),
        "some target of some process is flagged"
    );

    // Accuracy, module and model.
    assert_eq!(
        scalar(
            &prom,
            "procperf_forecast_checks_total{target=\"cpu\",horizon_seconds=\"60\"}"
        ),
        Some(120.0)
    );
    assert_eq!(
        scalar(&prom, "procperf_forecast_absolute_error_total{target=\"disk\",horizon_seconds=\"5\",forecaster=\"persistence\"}"),
        Some(23.0 * (300.0 + 14.0))
    );
    assert_eq!(
        scalar(
            &prom,
            "procperf_module_info{version=\"0.1.0\",kernel=\"6.12.118\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        scalar(
            &prom,
            "procperf_model_info{source=\"default\",trees=\"96\",coverage=\"0.8\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        scalar(&prom, "procperf_pass_duration_seconds_total"),
        Some((790_000.0 * 162.0 + 10_000.0) / 1e9)
    );
    assert_eq!(scalar(&prom, "procperf_interval_seconds"), Some(1.0));

    // The names Prometheus stores are exactly monitoring/metrics.txt's, which the dashboard and
    // the alert rules are checked against (tests/host/monitoring.sh): neither side can drift.
    let served: BTreeSet<String> =
        query(&prom, "count by (__name__) ({__name__=~\"procperf_.*\"})")
            .into_iter()
            .map(|(l, _)| l["__name__"].clone())
            .collect();
    let listed: BTreeSet<String> = fs::read_to_string(METRICS_TXT)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .chain(EXTRA_NAMES)
        .map(str::to_owned)
        .collect();
    assert_eq!(
        served.difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "served but not in monitoring/metrics.txt"
    );
    assert_eq!(
        listed.difference(&served).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "in monitoring/metrics.txt but not served"
    );

    // The module goes away while the exporter serves: procperf_up 0 and an error counted, the
    // module's series gone; when it is back, so are they.
    let away = tmp.path().join("away");
    fs::rename(&replay.module, &away).unwrap();
    wait_for("procperf_up 0", || {
        (scalar(&prom, "procperf_up")? == 0.0).then_some(())
    });
    assert!(scalar(&prom, "procperf_exporter_read_errors_total").unwrap() >= 1.0);
    assert_eq!(scalar(&prom, "procperf_passes_total"), None);
    exporter.check_alive();
    fs::rename(&away, &replay.module).unwrap();
    wait_for("procperf_up 1", || {
        (scalar(&prom, "procperf_up")? == 1.0).then_some(())
    });
    assert_eq!(passes_total(&prom), Some(162.0));

    // A big host: 10 000 processes, 1 024 cgroups and commands. In its second pass 20 processes
    // and 30 groups surge to the top, so the previous top ones stay (hysteresis) beside them: the
    // count reaches its most, and stays under the bound.
    let mut counts = Vec::new();
    for (pass, surge) in [(998u64, false), (999, true)] {
        replay.publish_big(10_000, pass, surge);
        wait_for("the big pass", || {
            (passes_total(&prom)? == pass as f64).then_some(())
        });
        // The series of the previous pass go stale at the first scrape without them.
        let (count, own) = wait_for("the series count to settle", || {
            let count = scalar(&prom, "count({__name__=~\"procperf_.*\"})")?;
            let own = scalar(&prom, "procperf_exporter_series")?;
            (count == own).then_some((count, own))
        });
        assert!(count <= BOUND as f64, "{count} series, bound {BOUND}");
        assert_eq!(count, own);
        counts.push(count);
    }
    // First 20 processes, 30 cgroups and 30 commands (2 289 series), then twice as many (4 489):
    // the bound less the 60 cgroups' memory.max (their ids resolve to no directory).
    assert_eq!(counts, [2289.0, 4489.0]);
    let other = scalar(&prom, "procperf_cgroup_processes{cgroup=\"other\"}").unwrap();
    let total: f64 = query(&prom, "procperf_cgroup_processes")
        .iter()
        .map(|(_, v)| v)
        .sum();
    assert_eq!(
        total,
        3.0 * 1024.0,
        "other ({other}) and the exported cgroups add up"
    );
    prometheus.check_alive();
    exporter.check_alive();
}
