//! `trainer collect --procfs`: a userspace sampler that reads `/proc/PID/{stat,status,io}` for every
//! process (thread group) each interval and writes the same samples CSV as the kernel's debugfs stream.
//!
//! What it owns: turning cumulative /proc counters into the interval deltas and levels that
//! [`RawSample`] documents. A process's first observation only sets its baseline; rows start from its
//! second. A pid whose start time changed is a new process (pid reuse) and starts a new baseline.
//!
//! What it cannot do, and documents instead of faking:
//! - /proc folds a reaped child's CPU (`cutime`, not used here) and I/O (`/proc/PID/io`, used) into
//!   its parent; a shell that ran `dd` shows I/O it never did. The kernel sampler reports a process's
//!   own I/O; this collector cannot separate them.
//! - Network columns are always 0: /proc has no per-process socket byte counters.
//! - `/proc/PID/io` is unreadable for other users' processes without privilege (and in some sandboxes
//!   even for root); such processes get 0 in every I/O column.

use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use procperf_model::sample::RawSample;

use crate::data::SampleWriter;
use crate::progress;

/// Options of `trainer collect`.
#[derive(Clone, Debug)]
pub struct CollectOptions {
    pub seconds: f64,
    pub interval_ms: u64,
    pub out: PathBuf,
    pub quiet: bool,
}

/// What a collection run did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct CollectSummary {
    pub passes: u64,
    pub rows: u64,
    pub processes_seen: u64,
    /// Processes whose `/proc/PID/io` could not be read (I/O columns written as 0).
    pub processes_without_io: u64,
}

/// Cumulative counters of one process at one read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcSnapshot {
    pub t_ns: u64,
    pub starttime_ticks: u64,
    pub utime_ticks: u64,
    pub stime_ticks: u64,
    pub minflt: u64,
    pub majflt: u64,
    pub nice: i64,
    pub policy: u64,
    pub threads: u64,
    pub vm_kib: u64,
    pub rss_anon_kib: u64,
    pub rss_file_kib: u64,
    pub rss_shmem_kib: u64,
    pub nvcsw: u64,
    pub nivcsw: u64,
    /// `None` when `/proc/PID/io` is unreadable.
    pub io: Option<IoCounters>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IoCounters {
    pub rchar: u64,
    pub wchar: u64,
    pub syscr: u64,
    pub syscw: u64,
    pub read_bytes: u64,
    pub write_bytes: u64,
    pub cancelled_write_bytes: u64,
}

/// Clock constants needed to convert /proc units.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub ticks_per_s: u64,
}

impl Clock {
    pub fn system() -> Self {
        // SAFETY: sysconf has no preconditions.
        let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        Self {
            ticks_per_s: if t > 0 { t as u64 } else { 100 },
        }
    }

    fn ticks_to_ns(&self, ticks: u64) -> u64 {
        (ticks as u128 * 1_000_000_000 / self.ticks_per_s as u128) as u64
    }
}

/// Nanoseconds since boot (CLOCK_BOOTTIME, the clock /proc's `starttime` counts on).
pub fn boottime_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The command name and the fields after it from `/proc/PID/stat`. The name is between the first `(`
/// and the LAST `)`: it may itself contain spaces and parentheses.
pub fn parse_stat(text: &str) -> Option<(String, Vec<&str>)> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    if close < open {
        return None;
    }
    let comm = text[open + 1..close].to_owned();
    let rest: Vec<&str> = text[close + 1..].split_whitespace().collect();
    Some((comm, rest))
}

/// Fills the stat fields of `snap`; `rest[0]` is field 3 (state) of proc(5).
fn apply_stat(rest: &[&str], snap: &mut ProcSnapshot) -> Option<()> {
    // proc(5) field numbers are 1-based and count pid and comm; rest[i] is field i + 3.
    let f = |n: usize| -> Option<&str> { rest.get(n - 3).copied() };
    let u = |n: usize| -> Option<u64> { f(n)?.parse().ok() };
    snap.minflt = u(10)?;
    snap.majflt = u(12)?;
    snap.utime_ticks = u(14)?;
    snap.stime_ticks = u(15)?;
    snap.nice = f(19)?.parse().ok()?;
    snap.threads = u(20)?;
    snap.starttime_ticks = u(22)?;
    snap.policy = u(41).unwrap_or(0);
    Some(())
}

/// Fills the `/proc/PID/status` fields of `snap`; missing keys (kernel threads have no Vm lines)
/// stay 0.
pub fn apply_status(text: &str, snap: &mut ProcSnapshot) {
    for line in text.lines() {
        let Some((key, val)) = line.split_once(':') else {
            continue;
        };
        let num = || -> u64 {
            val.split_whitespace()
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        match key {
            "VmSize" => snap.vm_kib = num(),
            "RssAnon" => snap.rss_anon_kib = num(),
            "RssFile" => snap.rss_file_kib = num(),
            "RssShmem" => snap.rss_shmem_kib = num(),
            "Threads" => snap.threads = num(),
            "voluntary_ctxt_switches" => snap.nvcsw = num(),
            "nonvoluntary_ctxt_switches" => snap.nivcsw = num(),
            _ => {}
        }
    }
}

pub fn parse_io(text: &str) -> IoCounters {
    let mut io = IoCounters::default();
    for line in text.lines() {
        let Some((key, val)) = line.split_once(':') else {
            continue;
        };
        let v: u64 = val.trim().parse().unwrap_or(0);
        match key {
            "rchar" => io.rchar = v,
            "wchar" => io.wchar = v,
            "syscr" => io.syscr = v,
            "syscw" => io.syscw = v,
            "read_bytes" => io.read_bytes = v,
            "write_bytes" => io.write_bytes = v,
            "cancelled_write_bytes" => io.cancelled_write_bytes = v,
            _ => {}
        }
    }
    io
}

/// Reads one process; `None` if it vanished or its stat is unreadable.
fn read_process(pid: u32) -> Option<(String, ProcSnapshot)> {
    let t_ns = boottime_ns();
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (comm, rest) = parse_stat(&stat)?;
    let mut snap = ProcSnapshot {
        t_ns,
        ..Default::default()
    };
    apply_stat(&rest, &mut snap)?;
    if let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) {
        apply_status(&status, &mut snap);
    }
    snap.io = fs::read_to_string(format!("/proc/{pid}/io"))
        .ok()
        .map(|t| parse_io(&t));
    Some((comm, snap))
}

/// The process's cgroup v2 id, as the module reports it: the inode number of its cgroup's directory
/// (`0::PATH` of /proc/PID/cgroup, under the usual cgroup2 mount /sys/fs/cgroup); 0 if unknown.
fn cgroup_id(pid: u32) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(text) = fs::read_to_string(format!("/proc/{pid}/cgroup")) else {
        return 0;
    };
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .and_then(|path| fs::metadata(format!("/sys/fs/cgroup{path}")).ok())
        .map_or(0, |m| m.ino())
}

/// The sample for the interval between two reads of the same process. Cumulative counters that went
/// backwards (never expected, but /proc does not promise) give 0, not a wrapped delta.
pub fn delta(prev: &ProcSnapshot, cur: &ProcSnapshot, clock: Clock) -> RawSample {
    let d = |a: u64, b: u64| b.saturating_sub(a);
    let (pi, ci) = (prev.io.unwrap_or_default(), cur.io.unwrap_or_default());
    let io_ok = prev.io.is_some() && cur.io.is_some();
    let io = |a: u64, b: u64| if io_ok { d(a, b) } else { 0 };
    let write = io(pi.write_bytes, ci.write_bytes)
        .saturating_sub(io(pi.cancelled_write_bytes, ci.cancelled_write_bytes));
    let boot_ns = cur.t_ns;
    let start_ns = clock.ticks_to_ns(cur.starttime_ticks);
    RawSample {
        interval_ns: d(prev.t_ns, cur.t_ns).max(1),
        cpu_user_ns: clock.ticks_to_ns(d(prev.utime_ticks, cur.utime_ticks)),
        cpu_sys_ns: clock.ticks_to_ns(d(prev.stime_ticks, cur.stime_ticks)),
        rss_anon_kib: cur.rss_anon_kib,
        rss_file_kib: cur.rss_file_kib,
        rss_shmem_kib: cur.rss_shmem_kib,
        vm_kib: cur.vm_kib,
        disk_read_bytes: io(pi.read_bytes, ci.read_bytes),
        disk_write_bytes: write,
        rchar_bytes: io(pi.rchar, ci.rchar),
        wchar_bytes: io(pi.wchar, ci.wchar),
        syscr: io(pi.syscr, ci.syscr),
        syscw: io(pi.syscw, ci.syscw),
        net_rx_bytes: 0,
        net_tx_bytes: 0,
        nvcsw: d(prev.nvcsw, cur.nvcsw),
        nivcsw: d(prev.nivcsw, cur.nivcsw),
        minflt: d(prev.minflt, cur.minflt),
        majflt: d(prev.majflt, cur.majflt),
        threads: cur.threads,
        nice: cur.nice.clamp(-20, 19),
        policy: cur.policy,
        age_ms: boot_ns.saturating_sub(start_ns) / 1_000_000,
    }
}

fn list_pids() -> Result<Vec<u32>> {
    let mut pids = Vec::new();
    for entry in fs::read_dir("/proc").context("listing /proc")? {
        let Ok(entry) = entry else { continue };
        if let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        {
            pids.push(pid);
        }
    }
    Ok(pids)
}

/// Samples every process for `opts.seconds`, writing rows to `opts.out`.
pub fn run(opts: &CollectOptions) -> Result<CollectSummary> {
    if opts.interval_ms == 0 {
        bail!("--interval-ms must be at least 1");
    }
    if opts.seconds.is_nan() || opts.seconds <= 0.0 || !opts.seconds.is_finite() {
        bail!("--seconds must be a positive number");
    }
    let clock = Clock::system();
    let mut writer = SampleWriter::create(&opts.out)?;
    let interval = Duration::from_millis(opts.interval_ms);
    let passes_total = ((opts.seconds * 1000.0) / opts.interval_ms as f64).ceil() as u64 + 1;
    let bar = progress::steps(passes_total, !opts.quiet, "collecting");
    let mut last: HashMap<u32, ProcSnapshot> = HashMap::new();
    let mut summary = CollectSummary::default();
    let mut no_io: std::collections::HashSet<(u32, u64)> = Default::default();
    let mut seen: std::collections::HashSet<(u32, u64)> = Default::default();
    let start = Instant::now();
    for pass in 0..passes_total {
        let deadline = start + interval * pass as u32;
        if let Some(wait) = deadline.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let mut current = HashMap::with_capacity(last.len());
        for pid in list_pids()? {
            let Some((comm, snap)) = read_process(pid) else {
                continue;
            };
            if seen.insert((pid, snap.starttime_ticks)) {
                summary.processes_seen += 1;
            }
            if snap.io.is_none() && no_io.insert((pid, snap.starttime_ticks)) {
                summary.processes_without_io += 1;
            }
            if let Some(prev) = last.get(&pid) {
                // Same pid, different start time: the old process exited and the pid was reused.
                if prev.starttime_ticks == snap.starttime_ticks && snap.t_ns > prev.t_ns {
                    let s = delta(prev, &snap, clock);
                    writer
                        .write((snap.t_ns / 1_000_000, pid, &comm, cgroup_id(pid)), &s)
                        .with_context(|| format!("writing {}", opts.out.display()))?;
                    summary.rows += 1;
                }
            }
            current.insert(pid, snap);
        }
        last = current;
        summary.passes += 1;
        bar.inc(1);
        bar.set_message(format!(
            "collecting: {} rows, {} processes",
            summary.rows,
            last.len()
        ));
    }
    writer
        .flush()
        .with_context(|| format!("writing {}", opts.out.display()))?;
    bar.finish_and_clear();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_comm_may_contain_spaces_and_parentheses() {
        let (comm, rest) = parse_stat("12 (a) b)) S 1 2 3").unwrap();
        assert_eq!(comm, "a) b)");
        assert_eq!(rest[0], "S");
    }

    #[test]
    fn delta_converts_ticks_and_clamps_cancelled_writes() {
        let clock = Clock { ticks_per_s: 100 };
        let io0 = IoCounters {
            write_bytes: 100,
            cancelled_write_bytes: 0,
            ..Default::default()
        };
        let io1 = IoCounters {
            write_bytes: 150,
            cancelled_write_bytes: 80,
            ..Default::default()
        };
        let a = ProcSnapshot {
            t_ns: 1_000_000_000,
            utime_ticks: 10,
            io: Some(io0),
            ..Default::default()
        };
        let b = ProcSnapshot {
            t_ns: 1_250_000_000,
            utime_ticks: 12,
            io: Some(io1),
            ..Default::default()
        };
        let s = delta(&a, &b, clock);
        assert_eq!(s.interval_ns, 250_000_000);
        assert_eq!(s.cpu_user_ns, 20_000_000);
        assert_eq!(s.disk_write_bytes, 0);
    }

    #[test]
    fn unreadable_io_gives_zero_io_columns() {
        let clock = Clock { ticks_per_s: 100 };
        let a = ProcSnapshot {
            t_ns: 1,
            io: None,
            ..Default::default()
        };
        let b = ProcSnapshot {
            t_ns: 2,
            io: Some(IoCounters {
                rchar: 1 << 30,
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(delta(&a, &b, clock).rchar_bytes, 0);
    }

    #[test]
    fn samples_match_proc_for_own_process() {
        let me = std::process::id();
        let (_, snap) = read_process(me).expect("own /proc entry is readable");
        assert!(snap.threads >= 1);
        assert!(snap.vm_kib > 0);
    }

    #[test]
    fn samples_match_proc_for_cpu_burner() {
        let mut burner = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .expect("sh runs");
        let dir = std::env::temp_dir().join(format!("procperf-collect-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let out = dir.join("c.csv");
        let opts = CollectOptions {
            seconds: 0.8,
            interval_ms: 200,
            out: out.clone(),
            quiet: true,
        };
        let summary = run(&opts);
        burner.kill().ok();
        burner.wait().ok();
        let summary = summary.expect("collect runs");
        assert!(summary.rows > 0 && summary.passes >= 4);
        let samples = crate::data::read_samples(&out, false).unwrap();
        let rows: Vec<_> = samples
            .rows
            .iter()
            .filter(|r| r.pid == burner.id())
            .collect();
        fs::remove_dir_all(&dir).ok();
        assert!(rows.len() >= 2, "the burner was sampled after its baseline");
        let cpu_ns: u64 = rows
            .iter()
            .map(|r| r.sample.cpu_user_ns + r.sample.cpu_sys_ns)
            .sum();
        assert!(cpu_ns > 0, "a busy loop used CPU");
        assert!(rows
            .iter()
            .all(|r| r.sample.interval_ns > 0 && r.sample.threads == 1));
    }
}
