//! What `top` remembers across refreshes: the last few passes of every process still present, for
//! the chart of actual against forecast.
//!
//! Bounded twice: at most `capacity` points per process, and a process that is absent from the
//! newest pass is forgotten (the module lists only processes it tracks with a forecast, so absent
//! means exited). A pid whose command changed is a new process (pid reuse) and starts
//! afresh. Time going backwards (a replay starting over, a reloaded module) forgets everything.

use crate::pass::{Forecast, Pass};
use procperf_model::schema::{Target, N_TARGETS};
use std::collections::{HashMap, VecDeque};

/// Points kept per process: two minutes at the default 1 s interval.
pub const DEFAULT_CAPACITY: usize = 120;

/// One process's values in one pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    /// Time stamp of the pass, ms since boot.
    pub t_ms: u64,
    /// Per target, in [`Target::ALL`] order.
    pub targets: [Option<Forecast>; N_TARGETS],
}

impl Point {
    /// The values of `target` at this point, if recorded.
    pub fn get(&self, target: Target) -> Option<&Forecast> {
        self.targets.get(target.index()).and_then(Option::as_ref)
    }
}

struct Track {
    comm: String,
    points: VecDeque<Point>,
}

/// Bounded per-process history.
pub struct History {
    capacity: usize,
    last_t_ms: Option<u64>,
    tracks: HashMap<i32, Track>,
}

impl History {
    /// An empty history keeping at most `capacity` (at least 1) points per process.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            last_t_ms: None,
            tracks: HashMap::new(),
        }
    }

    /// Adds a pass. The same pass read twice (refreshing faster than the module samples) adds
    /// nothing; an older pass than the last one restarts the history.
    pub fn record(&mut self, pass: &Pass) {
        match self.last_t_ms {
            Some(last) if pass.t_ms == last => return,
            Some(last) if pass.t_ms < last => self.tracks.clear(),
            _ => {}
        }
        self.last_t_ms = Some(pass.t_ms);
        self.tracks
            .retain(|pid, t| pass.rows.iter().any(|r| r.pid == *pid && r.comm == t.comm));
        for row in &pass.rows {
            let track = self.tracks.entry(row.pid).or_insert_with(|| Track {
                comm: row.comm.clone(),
                points: VecDeque::with_capacity(self.capacity),
            });
            if track.points.len() == self.capacity {
                track.points.pop_front();
            }
            track.points.push_back(Point {
                t_ms: pass.t_ms,
                targets: row.targets,
            });
        }
    }

    /// The points of `pid`, oldest first (empty for an unknown pid).
    pub fn points(&self, pid: i32) -> impl ExactSizeIterator<Item = &Point> + DoubleEndedIterator {
        self.tracks
            .get(&pid)
            .map(|t| t.points.iter())
            .unwrap_or_default()
    }

    /// Number of processes remembered.
    pub fn processes(&self) -> usize {
        self.tracks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pass::Row;

    fn pass(t_ms: u64, procs: &[(i32, &str)]) -> Pass {
        let f = Forecast {
            current: t_ms as i64,
            ..Default::default()
        };
        Pass {
            t_ms,
            rows: procs
                .iter()
                .map(|&(pid, comm)| Row {
                    pid,
                    comm: comm.into(),
                    cgroup: 0,
                    anomaly: None,
                    targets: [Some(f); N_TARGETS],
                })
                .collect(),
        }
    }

    fn times(h: &History, pid: i32) -> Vec<u64> {
        h.points(pid).map(|p| p.t_ms).collect()
    }

    #[test]
    fn history_keeps_only_the_newest_points() {
        let mut h = History::new(3);
        for t in 1..=5 {
            h.record(&pass(t * 1000, &[(1, "a")]));
        }
        assert_eq!(times(&h, 1), vec![3000, 4000, 5000]);
        assert_eq!(
            h.points(1)
                .next_back()
                .and_then(|p| p.get(Target::Cpu))
                .map(|f| f.current),
            Some(5000)
        );
    }

    #[test]
    fn vanished_processes_are_forgotten() {
        let mut h = History::new(10);
        h.record(&pass(1000, &[(1, "a"), (2, "b")]));
        h.record(&pass(2000, &[(1, "a")]));
        assert_eq!(h.processes(), 1);
        assert_eq!(times(&h, 2), Vec::<u64>::new());
        h.record(&pass(3000, &[(1, "a"), (2, "b")]));
        assert_eq!(times(&h, 2), vec![3000], "a returning pid starts afresh");
    }

    #[test]
    fn a_reused_pid_with_another_command_starts_afresh() {
        let mut h = History::new(10);
        h.record(&pass(1000, &[(1, "a")]));
        h.record(&pass(2000, &[(1, "z")]));
        assert_eq!(times(&h, 1), vec![2000]);
    }

    #[test]
    fn the_same_pass_twice_adds_one_point_and_time_going_back_restarts() {
        let mut h = History::new(10);
        h.record(&pass(1000, &[(1, "a")]));
        h.record(&pass(1000, &[(1, "a")]));
        h.record(&pass(2000, &[(1, "a")]));
        assert_eq!(times(&h, 1), vec![1000, 2000]);
        h.record(&pass(500, &[(1, "a")]));
        assert_eq!(times(&h, 1), vec![500]);
    }
}
