// SPDX-License-Identifier: GPL-2.0
//! What procperf needs of the kernel crate's `Vec` beyond 6.12's API (which has no `truncate`,
//! `clear` or `swap_remove`; 7.x has `truncate`).

use kernel::alloc::{Allocator, Vec};

/// Drops the elements past `len` and shortens the vector; no-op if it is not longer.
#[cfg(pp_vec_truncate)]
pub(crate) fn truncate<T, A: Allocator>(v: &mut Vec<T, A>, len: usize) {
    v.truncate(len);
}

/// Drops the elements past `len` and shortens the vector; no-op if it is not longer.
#[cfg(not(pp_vec_truncate))]
pub(crate) fn truncate<T, A: Allocator>(v: &mut Vec<T, A>, len: usize) {
    let old = v.len();
    if len >= old {
        return;
    }
    // SAFETY: `len < old`, so the new length covers only initialised elements. Lowering it first
    // means the vector never exposes an element dropped below.
    unsafe { v.set_len(len) };
    // SAFETY: elements `len..old` are initialised, no longer part of the vector, and dropped here
    // exactly once.
    unsafe {
        core::ptr::drop_in_place(core::ptr::slice_from_raw_parts_mut(
            v.as_mut_ptr().add(len),
            old - len,
        ))
    };
}

/// Removes the element at `i` by moving the last one into its place; `None` if out of bounds.
pub(crate) fn swap_remove<T, A: Allocator>(v: &mut Vec<T, A>, i: usize) -> Option<()> {
    let last = v.len().checked_sub(1)?;
    if i > last {
        return None;
    }
    v.as_mut_slice().swap(i, last);
    truncate(v, last);
    Some(())
}
