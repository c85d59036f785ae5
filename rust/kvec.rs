// SPDX-License-Identifier: GPL-2.0
//! What procperf needs of `KVec` beyond 6.12's API (which has no `truncate`, `clear` or `pop`).

use kernel::alloc::{Allocator, Vec};

/// Drops the elements past `len` and shortens the vector; no-op if it is not longer.
pub(crate) fn truncate<T, A: Allocator>(v: &mut Vec<T, A>, len: usize) {
    let old = v.len();
    if len >= old {
        return;
    }
    // SAFETY: elements `len..old` are initialised; the length is lowered first, so each is dropped
    // exactly once and the vector never exposes a dropped element.
    unsafe {
        v.set_len(len);
        let tail = core::ptr::slice_from_raw_parts_mut(v.as_mut_ptr().add(len), old - len);
        core::ptr::drop_in_place(tail);
    }
}
