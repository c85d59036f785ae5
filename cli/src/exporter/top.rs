//! Which processes (and groups) get series of their own: the top N, with hysteresis.
//!
//! **Ranking.** Every candidate has one score per target (CPU, RSS, disk, network): for a
//! process, the upper end of its forecast band, the highest over the horizons; for a group, its
//! summed forecast (RSS: summed band upper ends), the highest over the horizons and now. Each
//! target ranks the candidates with a score above 0, highest first; a candidate's best rank over
//! the targets orders them all (ties by key). The top N are so about N/4 of the heaviest by each
//! target, the union of four short lists read in turn, and an idle candidate never enters.
//!
//! **Hysteresis.** A candidate enters when its position in that order is within N and stays
//! while it is within 2N, so two processes trading places around the N-th do not make series
//! appear and vanish at every pass. The set thus holds between N (when that many candidates have
//! any load) and 2N members: the series bound counts 2N.

use super::read::Group;
use super::units;
use crate::pass::Row;
use procperf_model::schema::Target;
use std::collections::HashSet;
use std::hash::Hash;

/// Number of scores per candidate: one per target.
pub const N_SCORES: usize = 4;

/// A top-N set that changes only when a member falls beyond 2N.
#[derive(Clone, Debug)]
pub struct Top<K> {
    n: usize,
    members: HashSet<K>,
}

impl<K: Clone + Eq + Hash + Ord> Top<K> {
    /// An empty set for the top `n`.
    pub fn new(n: usize) -> Self {
        Self {
            n,
            members: HashSet::new(),
        }
    }

    /// The `n` it was made for.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Updates the set from this pass's candidates (key and scores) and returns it. Members not
    /// among the candidates (exited) leave.
    pub fn update(&mut self, candidates: &[(K, [f64; N_SCORES])]) -> &HashSet<K> {
        let order = order(candidates);
        let mut next = HashSet::with_capacity(self.n.saturating_mul(2));
        for (position, &i) in order.iter().enumerate() {
            let key = &candidates[i].0;
            if position < self.n
                || (position < self.n.saturating_mul(2) && self.members.contains(key))
            {
                next.insert(key.clone());
            }
        }
        self.members = next;
        &self.members
    }

    /// The current members.
    pub fn members(&self) -> &HashSet<K> {
        &self.members
    }
}

/// A process's scores: per target, the highest upper end of its forecast bands, in base units.
pub fn process_scores(row: &Row) -> [f64; N_SCORES] {
    Target::ALL.map(|t| {
        row.get(t).map_or(0.0, |f| {
            let hi = f.long.map_or(f.hi, |l| l.hi.max(f.hi));
            units::base(t, hi)
        })
    })
}

/// A group's scores: per target, the highest of its summed level now and its summed forecasts
/// (RSS: the summed band upper ends), in its file's units.
pub fn group_scores<K>(g: &Group<K>) -> [f64; N_SCORES] {
    let mut s = [
        g.now.cpu_permille,
        g.now.rss_kib,
        g.now.disk_bytes_per_s,
        g.now.net_bytes_per_s,
    ];
    for a in &g.ahead {
        let l = &a.levels;
        for (s, v) in s.iter_mut().zip([
            l.cpu_permille,
            a.rss_kib_hi.max(l.rss_kib),
            l.disk_bytes_per_s,
            l.net_bytes_per_s,
        ]) {
            *s = (*s).max(v);
        }
    }
    s.map(|v| v as f64)
}

/// Indices into `candidates` of those with any score above 0, ordered by their best rank over the
/// scores, then by key.
pub fn order<K: Ord>(candidates: &[(K, [f64; N_SCORES])]) -> Vec<usize> {
    let mut best = vec![usize::MAX; candidates.len()];
    let mut by_score: Vec<usize> = Vec::with_capacity(candidates.len());
    for s in 0..N_SCORES {
        by_score.clear();
        by_score.extend((0..candidates.len()).filter(|&i| candidates[i].1[s] > 0.0));
        by_score.sort_by(|&a, &b| {
            candidates[b].1[s]
                .total_cmp(&candidates[a].1[s])
                .then_with(|| candidates[a].0.cmp(&candidates[b].0))
        });
        for (rank, &i) in by_score.iter().enumerate() {
            best[i] = best[i].min(rank);
        }
    }
    let mut ranked: Vec<usize> = (0..candidates.len())
        .filter(|&i| best[i] != usize::MAX)
        .collect();
    ranked.sort_by(|&a, &b| {
        best[a]
            .cmp(&best[b])
            .then_with(|| candidates[a].0.cmp(&candidates[b].0))
    });
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Candidates with only a CPU score: key i has score `scores[i]`.
    fn cpu_only(scores: &[f64]) -> Vec<(u32, [f64; N_SCORES])> {
        scores
            .iter()
            .enumerate()
            .map(|(i, &s)| (i as u32, [s, 0.0, 0.0, 0.0]))
            .collect()
    }

    fn sorted(set: &HashSet<u32>) -> Vec<u32> {
        let mut v: Vec<u32> = set.iter().copied().collect();
        v.sort();
        v
    }

    #[test]
    fn each_target_contributes_its_heaviest_in_turn() {
        // 0, 1 busy on CPU; 2 big in memory; 3 heavy on the network; 4 idle.
        let c = vec![
            (0u32, [0.9, 1e6, 0.0, 0.0]),
            (1, [0.8, 1e6, 0.0, 0.0]),
            (2, [0.0, 9e9, 0.0, 0.0]),
            (3, [0.01, 1e6, 0.0, 5e6]),
            (4, [0.0, 0.0, 0.0, 0.0]),
        ];
        let order: Vec<u32> = order(&c).into_iter().map(|i| c[i].0).collect();
        // Best ranks: 0 -> 0 (cpu), 2 -> 0 (rss), 3 -> 0 (net), 1 -> 1, then ties by key.
        assert_eq!(order, vec![0, 2, 3, 1]);
        let mut top = Top::new(3);
        assert_eq!(sorted(top.update(&c)), vec![0, 2, 3]);
    }

    #[test]
    fn a_member_stays_while_within_twice_n() {
        let mut top = Top::new(2);
        // 0 and 1 enter.
        assert_eq!(
            sorted(top.update(&cpu_only(&[5.0, 4.0, 3.0, 2.0, 1.0]))),
            vec![0, 1]
        );
        // 2 overtakes 1: 2 enters, 1 (now third, within 4) stays.
        assert_eq!(
            sorted(top.update(&cpu_only(&[5.0, 3.5, 4.0, 2.0, 1.0]))),
            vec![0, 1, 2]
        );
        // They trade places again: nothing changes.
        assert_eq!(
            sorted(top.update(&cpu_only(&[5.0, 4.0, 3.5, 2.0, 1.0]))),
            vec![0, 1, 2]
        );
        // 1 falls to fifth (beyond 2N = 4): it leaves; 3 and 4 rose to 2nd and 3rd but only 3 is
        // within N.
        assert_eq!(
            sorted(top.update(&cpu_only(&[5.0, 0.5, 3.0, 4.0, 3.2]))),
            vec![0, 2, 3]
        );
    }

    #[test]
    fn the_set_never_exceeds_twice_n_and_exited_members_leave() {
        let mut top = Top::new(5);
        for pass in 0..50u32 {
            // A shuffled load: every pass a different order.
            let scores: Vec<f64> = (0..40u32)
                .map(|i| f64::from((i * 7 + pass * 13) % 40) + 1.0)
                .collect();
            let n = top.update(&cpu_only(&scores)).len();
            assert!((5..=10).contains(&n), "pass {pass}: {n} members");
        }
        assert!(top.update(&cpu_only(&[1.0])).len() <= 1);
        assert!(top.update(&[]).is_empty());
    }

    #[test]
    fn idle_candidates_never_enter() {
        let mut top = Top::new(10);
        assert_eq!(sorted(top.update(&cpu_only(&[0.0, 2.0, 0.0]))), vec![1]);
    }
}
