// SPDX-License-Identifier: GPL-2.0
//! `cgroups.csv` and `comms.csv`: the sampled processes added up by cgroup and by command name
//! (`track::groups`, `model::group`), one row per group, sorted by its key:
//!
//! ```text
//! t_ms,cgroup,processes,cpu_user_ns,...,majflt,cpu_permille,rss_kib,disk_bytes_per_s,net_bytes_per_s,cpu_permille_5,...,rss_kib_hi_60
//! ```
//!
//! `cgroup` is the cgroup v2 id (the inode number of the cgroup's directory), `comm` the command
//! name as in `samples`. `t_ms` is the pass that last saw a process in the group; `processes` and
//! the levels and forecasts are of the latest pass (0 for a group none of whose processes is left),
//! while the counters (`cpu_user_ns` .. `majflt`) add up every interval since the group appeared.

use super::{emit, predictions::heap_sort_by_key, samples::write_comm};
use crate::{
    model::group::column_names,
    sys::debugfs::{SeqFile, Show},
    track::{
        groups::{Group, Groups},
        pass::{Sampler, State},
        table::Key,
    },
};
use core::fmt::Write;
use kernel::{prelude::*, sync::Arc};

/// Writes one kind of group: header, then every group sorted by key.
fn show_groups<K: Key + Ord>(
    out: &mut SeqFile<'_>,
    key_name: &str,
    groups: &Groups<K>,
    pass: u64,
    write_key: impl Fn(&mut SeqFile<'_>, &K) -> core::fmt::Result,
) -> Result {
    emit(write!(out, "t_ms,{key_name}"))?;
    for c in column_names() {
        emit(write!(out, ",{c}"))?;
    }
    emit(writeln!(out))?;
    let mut rows: KVec<(K, &Group)> = KVec::with_capacity(groups.len(), GFP_KERNEL)?;
    for row in groups.iter() {
        rows.push(row, GFP_KERNEL)?;
    }
    heap_sort_by_key(rows.as_mut_slice(), |(k, _)| *k);
    for (key, group) in rows.iter() {
        emit(write!(out, "{},", group.t_ms()))?;
        emit(write_key(out, key))?;
        for v in group.totals_at(pass).values() {
            emit(write!(out, ",{v}"))?;
        }
        emit(writeln!(out))?;
    }
    Ok(())
}

/// `cgroups.csv`: totals by cgroup.
pub(crate) struct CgroupsCsv(pub(crate) Arc<Sampler>);

impl Show for CgroupsCsv {
    fn show(&self, out: &mut SeqFile<'_>) -> Result {
        self.0.with_state(|st: &State| {
            show_groups(out, "cgroup", &st.cgroups, st.pass(), |out, id| {
                write!(out, "{id}")
            })
        })
    }
}

/// `comms.csv`: totals by command name.
pub(crate) struct CommsCsv(pub(crate) Arc<Sampler>);

impl Show for CommsCsv {
    fn show(&self, out: &mut SeqFile<'_>) -> Result {
        self.0.with_state(|st: &State| {
            show_groups(out, "comm", &st.comms, st.pass(), |out, comm| {
                write_comm(out, comm)
            })
        })
    }
}
