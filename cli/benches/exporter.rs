//! What one scrape of `procperf exporter` costs: read every file, rank, build the families and
//! encode them (OpenMetrics), on synthetic module directories of 1 000 and 10 000 processes with
//! 1 024 cgroups and commands (the most the module writes).
//!
//! The directories are kept in `$CARGO_TARGET_TMPDIR/exporter-bench/<n>/`, so the binary can be
//! measured on them too (`/usr/bin/time -v procperf exporter --once --dir ...`, for its peak
//! RSS): cli/README.md has both results.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use procperf_cli::exporter::families::Format;
use procperf_cli::exporter::{Exporter, Settings};
use std::fmt::Write;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A module directory with `n` processes and 1024 cgroups and commands.
fn synthetic(n: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("exporter-bench")
        .join(n.to_string());
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("version"), "procperf 0.1.0\nkernel 6.12.118\n").unwrap();
    fs::write(dir.join("interval_ms"), "1000\n").unwrap();
    fs::write(
        dir.join("stats"),
        "interval_ms 1000\npasses 100\nprocesses_seen 10000\nprocesses_tracked 4096\npass_ns_last 1000\npass_ns_avg 1000\npass_ns_max 1000\nrows_dropped 0\nuntracked 0\nmemory_bytes 1\npredicted 4000\n",
    )
    .unwrap();
    fs::write(
        dir.join("model_info"),
        "source default\nschema_id 0x1\ntrees 96\nmax_depth 8\ninterval_coverage_permille 800\nmetadata:\n",
    )
    .unwrap();
    let mut acc =
        String::from("target horizon scored covered err_published err_persistence err_ewma\n");
    for t in ["cpu", "rss", "disk", "net"] {
        for h in [5, 60] {
            writeln!(acc, "{t} {h} 100 80 10 12 11").unwrap();
        }
    }
    fs::write(dir.join("accuracy"), acc).unwrap();

    let mut p = String::from("t_ms,pid,comm,cgroup");
    for t in ["cpu", "rss", "disk", "net"] {
        write!(p, ",{t}_current").unwrap();
        for h in [5, 60] {
            write!(p, ",{t}_linear_{h},{t}_forest_{h},{t}_lo_{h},{t}_hi_{h}").unwrap();
        }
    }
    p.push_str(",anomaly\n");
    for i in 0..n {
        write!(p, "1000,{},proc{},{}", 1000 + i, i % 1500, 1 + i % 1024).unwrap();
        for c in 0..36 {
            write!(p, ",{}", (i * 13 + c * 7) % 4000).unwrap();
        }
        writeln!(p, ",{}", i % 16).unwrap();
    }
    fs::write(dir.join("predictions.csv"), p).unwrap();
    let groups = |key: &str, name: &dyn Fn(usize) -> String| {
        let mut s = format!("t_ms,{key},processes,anomalous,cpu_user_ns,cpu_sys_ns,disk_read_bytes,disk_write_bytes,net_rx_bytes,net_tx_bytes,nvcsw,nivcsw,minflt,majflt,cpu_permille,rss_kib,disk_bytes_per_s,net_bytes_per_s,cpu_permille_5,rss_kib_5,disk_bytes_per_s_5,net_bytes_per_s_5,rss_kib_hi_5,cpu_permille_60,rss_kib_60,disk_bytes_per_s_60,net_bytes_per_s_60,rss_kib_hi_60\n");
        for i in 0..1024 {
            write!(s, "1000,{},4,{}", name(i), i % 3).unwrap();
            for c in 0..24 {
                write!(s, ",{}", (i * 31 + c * 7) % 997 * 1000).unwrap();
            }
            s.push('\n');
        }
        s
    };
    fs::write(
        dir.join("cgroups.csv"),
        groups("cgroup", &|i| (1 + i).to_string()),
    )
    .unwrap();
    fs::write(
        dir.join("comms.csv"),
        groups("comm", &|i| format!("proc{i}")),
    )
    .unwrap();
    dir
}

fn scrape(c: &mut Criterion) {
    let mut group = c.benchmark_group("exporter_scrape");
    group.measurement_time(Duration::from_secs(10));
    for n in [1000, 10_000] {
        let dir = synthetic(n);
        let mut exporter = Exporter::new(Settings {
            dir,
            top: 20,
            max_groups: 30,
            cgroup_root: Some(PathBuf::from("/nonexistent/procperf-bench")),
        });
        let start = Instant::now();
        let mut k = 0u32;
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                // A time past the last read's interval: every scrape reads the files again.
                k += 1;
                let now = start + Duration::from_secs(2) * k;
                exporter.render(Format::OpenMetrics, now).unwrap().len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, scrape);
criterion_main!(benches);
