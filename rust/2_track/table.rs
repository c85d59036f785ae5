// SPDX-License-Identifier: GPL-2.0
//! [`Table`]: a fixed-capacity map from a key to a value, the one table type of the module: the
//! sampler's tracked processes and the tracepoints' per-process accounting live in a
//! [`TgidTable`] (keyed by [`ProcessId`]), the per-cgroup and per-command totals in tables keyed
//! by cgroup id and by command name.
//!
//! Values are kept dense (a vector of at most `capacity` entries, so iteration visits only live
//! ones) and found through an open-addressing index of at least twice as many slots, probed
//! linearly from a Fibonacci hash of the key's [`Key::hash32`]. Removal moves the last entry into the hole and
//! repairs the index by backward shifting, so there are no tombstones and every probe sequence
//! ends at an empty slot. All memory is allocated by [`TgidTable::new`]: nothing here allocates
//! afterwards, so every method may run in atomic context.

use crate::{
    model::schema::fnv1a32,
    sys::{kvec, task::ProcessId},
};
use kernel::{alloc::KVVec, prelude::*};

/// What a [`Table`] is keyed by.
pub(crate) trait Key: Copy + Eq {
    /// A 32-bit digest of the key; equal keys have equal digests.
    fn hash32(&self) -> u32;
}

impl Key for ProcessId {
    fn hash32(&self) -> u32 {
        self.tgid as u32
    }
}

/// A cgroup id.
impl Key for u64 {
    fn hash32(&self) -> u32 {
        (*self ^ (*self >> 32)) as u32
    }
}

/// A command name.
impl Key for [u8; 16] {
    fn hash32(&self) -> u32 {
        fnv1a32(0x811c_9dc5, self)
    }
}

/// The table of processes.
pub(crate) type TgidTable<V> = Table<ProcessId, V>;

/// Index slot value of an empty slot; others hold an entry's position plus one.
const EMPTY: u32 = 0;

/// See the module documentation.
///
/// # Invariants
/// - `entries.len() <= capacity <= entries.capacity()`, and `index.len()` is a power of two of at
///   least `2 * capacity` (and at least 2).
/// - Every entry's position plus one is in exactly one index slot, reachable from its key's home
///   slot ([`home`]) without crossing an empty slot; every other slot is [`EMPTY`].
pub(crate) struct Table<K, V> {
    entries: KVVec<(K, V)>,
    index: KVVec<u32>,
    capacity: usize,
}

/// The index slot where a key's probe sequence starts, from its [`Key::hash32`], for an index of
/// `slots` (a power of two).
pub(crate) fn home(hash: u32, slots: usize) -> usize {
    hash.wrapping_mul(0x9e37_79b9) as usize & slots.wrapping_sub(1)
}

impl<K: Key, V> Table<K, V> {
    /// An empty table for at most `capacity` entries.
    pub(crate) fn new(capacity: usize) -> Result<Self> {
        let slots = capacity
            .saturating_mul(2)
            .max(2)
            .checked_next_power_of_two()
            .ok_or(EINVAL)?;
        if u32::try_from(slots).is_err() {
            return Err(EINVAL);
        }
        // INVARIANT: empty, with the capacities above.
        Ok(Self {
            entries: KVVec::with_capacity(capacity, GFP_KERNEL)?,
            index: KVVec::from_elem(EMPTY, slots, GFP_KERNEL)?,
            capacity,
        })
    }

    /// Number of entries held.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Most entries it can hold.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes of memory it holds, independent of how full it is.
    pub(crate) fn memory_bytes(&self) -> usize {
        Self::memory_bytes_for(self.capacity)
    }

    /// Bytes of memory a table of `capacity` holds.
    pub(crate) fn memory_bytes_for(capacity: usize) -> usize {
        let slots = capacity
            .saturating_mul(2)
            .max(2)
            .checked_next_power_of_two()
            .unwrap_or(usize::MAX);
        capacity
            .saturating_mul(core::mem::size_of::<(K, V)>())
            .saturating_add(slots.saturating_mul(4))
    }

    /// The index slot of the next step of a probe sequence.
    fn next_slot(&self, i: usize) -> usize {
        i.wrapping_add(1) & self.index.len().wrapping_sub(1)
    }

    /// The index slot that holds `id`'s entry, if it has one.
    fn slot_of(&self, id: K) -> Option<usize> {
        let mut i = home(id.hash32(), self.index.len());
        for _ in 0..self.index.len() {
            let pos = self.index.get(i)?.checked_sub(1)? as usize;
            if self.entries.get(pos).is_some_and(|(k, _)| *k == id) {
                return Some(i);
            }
            i = self.next_slot(i);
        }
        None
    }

    /// Position of `id`'s entry (for [`Self::at_mut`], [`Self::replace_at`]).
    pub(crate) fn position(&self, id: K) -> Option<usize> {
        let slot = self.slot_of(id)?;
        self.index.get(slot).map(|&p| p as usize - 1)
    }

    /// `id`'s value.
    pub(crate) fn get(&self, id: K) -> Option<&V> {
        self.entries.get(self.position(id)?).map(|(_, v)| v)
    }

    /// `id`'s value, mutable.
    pub(crate) fn get_mut(&mut self, id: K) -> Option<&mut V> {
        let pos = self.position(id)?;
        self.at_mut(pos)
    }

    /// The value at a position.
    pub(crate) fn at_mut(&mut self, pos: usize) -> Option<&mut V> {
        self.entries.get_mut(pos).map(|(_, v)| v)
    }

    /// Adds `id` (which must not be present) with `value` and returns its position; `None` (and
    /// the value dropped) when the table is full.
    pub(crate) fn insert(&mut self, id: K, value: V) -> Option<usize> {
        let pos = self.entries.len();
        if pos >= self.capacity {
            return None;
        }
        let slot = self.free_slot(id.hash32())?;
        // Capacity is reserved (invariant): no allocation, so GFP_ATOMIC is only a formality.
        self.entries.push((id, value), GFP_ATOMIC).ok()?;
        let s = self.index.get_mut(slot)?;
        // INVARIANT: the new entry is reachable from its home; `pos < capacity <= u32::MAX`.
        *s = pos as u32 + 1;
        Some(pos)
    }

    /// Puts `id` with `value` in place of the entry at `pos` (an eviction); returns its position.
    pub(crate) fn replace_at(&mut self, pos: usize, id: K, value: V) -> Option<usize> {
        if pos >= self.entries.len() {
            return None;
        }
        self.remove_at(pos);
        self.insert(id, value)
    }

    /// Keeps only the entries for which `keep` is true.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(K, &mut V) -> bool) {
        let mut pos = 0;
        while let Some((id, v)) = self.entries.get_mut(pos) {
            if keep(*id, v) {
                pos += 1;
            } else {
                // The last entry moves into `pos`: look at it next.
                self.remove_at(pos);
            }
        }
    }

    /// The held keys and their values, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (K, &V)> + '_ {
        self.entries.iter().map(|(k, v)| (*k, v))
    }

    /// The first empty index slot on the probe sequence of a key with digest `hash`.
    fn free_slot(&self, hash: u32) -> Option<usize> {
        let mut i = home(hash, self.index.len());
        for _ in 0..self.index.len() {
            if *self.index.get(i)? == EMPTY {
                return Some(i);
            }
            i = self.next_slot(i);
        }
        None
    }

    /// Removes the entry at `pos`: the last entry moves into its place.
    fn remove_at(&mut self, pos: usize) {
        let Some(id) = self.entries.get(pos).map(|e| e.0) else {
            return;
        };
        let Some(slot) = self.slot_of(id) else { return };
        self.clear_slot(slot);
        let last = self.entries.len().saturating_sub(1);
        if pos != last {
            // The last entry's index slot must name its new position.
            if let Some(moved) = self.entries.get(last).map(|e| e.0) {
                if let Some(s) = self.slot_of(moved).and_then(|s| self.index.get_mut(s)) {
                    *s = pos as u32 + 1;
                }
            }
        }
        let _ = kvec::swap_remove(&mut self.entries, pos);
    }

    /// Empties index slot `hole` and shifts later members of its probe run back, so that every
    /// entry stays reachable from its home without crossing an empty slot.
    fn clear_slot(&mut self, mut hole: usize) {
        let mask = self.index.len().wrapping_sub(1);
        if let Some(s) = self.index.get_mut(hole) {
            *s = EMPTY;
        }
        let mut j = self.next_slot(hole);
        for _ in 0..self.index.len() {
            let Some(&v) = self.index.get(j) else { return };
            let Some(hash) = v
                .checked_sub(1)
                .and_then(|p| self.entries.get(p as usize))
                .map(|e| e.0.hash32())
            else {
                return; // an empty slot ends the run
            };
            // Move the entry into the hole unless its home lies cyclically in (hole, j].
            let dist_home = j.wrapping_sub(home(hash, self.index.len())) & mask;
            let dist_hole = j.wrapping_sub(hole) & mask;
            if dist_home >= dist_hole {
                if let Some(s) = self.index.get_mut(hole) {
                    *s = v;
                }
                if let Some(s) = self.index.get_mut(j) {
                    *s = EMPTY;
                }
                hole = j;
            }
            j = self.next_slot(j);
        }
    }
}
