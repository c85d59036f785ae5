// SPDX-License-Identifier: GPL-2.0
//! Stage 2, sample → history → forecast: the tracked processes ([`table`], [`process`]) and the
//! sampling pass that updates them every interval ([`pass`]), which also adds them up by cgroup and
//! by command name ([`groups`]).

pub(crate) mod groups;
pub(crate) mod pass;
pub(crate) mod process;
pub(crate) mod table;
