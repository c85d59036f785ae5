// SPDX-License-Identifier: GPL-2.0
//! The glue: the only code that touches raw kernel bindings, and so the only code that changes
//! when the kernel's C or Rust API does.
//!
//! Each file wraps one kernel facility in a small safe type whose `Drop` undoes what it set up:
//! [`debugfs`] (a directory of files, each with per-type `file_operations`), [`kthread`] (a
//! periodic kernel thread), [`rcu`] (a read-side guard), [`tracepoint`] (probes on the kernel's
//! tracepoints), [`task`] (reading processes out of `task_struct`), [`clock`] and [`kvec`] (what
//! the kernel crate's `Vec` lacks). `shim.c` exports the few inline-only or macro C APIs these
//! need, and [`shim`] declares them, once. Everything above this folder is safe Rust.

pub(crate) mod clock;
pub(crate) mod debugfs;
pub(crate) mod kthread;
pub(crate) mod kvec;
pub(crate) mod rcu;
pub(crate) mod task;
pub(crate) mod tracepoint;

use kernel::prelude::*;

// `ARef`, a counted reference to a kernel object: `kernel::types` in 6.12, `kernel::sync::aref` in
// 7.x (the Kbuild cfgs are listed in docs/design.md).
#[cfg(pp_aref_sync)]
pub(crate) use kernel::sync::aref::ARef;
#[cfg(not(pp_aref_sync))]
pub(crate) use kernel::types::ARef;

/// What `shim.c` provides: out-of-line wrappers of inline functions and C macros, each a plain
/// call of the kernel API it is named after.
mod shim {
    use kernel::{
        bindings,
        ffi::{c_char, c_void},
    };

    // Opaque kernel structs behind pointers trip `improper_ctypes`; only pointers cross here.
    #[allow(improper_ctypes)]
    extern "C" {
        pub(super) fn procperf_rcu_read_lock();
        pub(super) fn procperf_rcu_read_unlock();
        pub(super) fn procperf_kernel_release() -> *const c_char;
        pub(super) fn procperf_set_current_interruptible();
        pub(super) fn procperf_set_current_running();
        pub(super) fn procperf_cond_resched();
        pub(super) fn procperf_tracepoint_synchronize_unregister();
        pub(super) fn procperf_file_count(file: *mut bindings::file) -> core::ffi::c_long;
        pub(super) fn procperf_task_dfl_cgroup_id(task: *mut bindings::task_struct) -> u64;
        pub(super) fn procperf_debugfs_create_file(
            name: *const c_char,
            mode: u16,
            parent: *mut bindings::dentry,
            data: *mut c_void,
            fops: *const bindings::file_operations,
            proxied: bool,
        ) -> *mut bindings::dentry;
    }
}

/// The running kernel's release (`uname -r`), as it was booted.
pub(crate) fn kernel_release() -> &'static str {
    // SAFETY: `procperf_kernel_release` returns `init_uts_ns`'s release, a static NUL-terminated
    // string that is never written after boot.
    let release = unsafe { CStr::from_char_ptr(shim::procperf_kernel_release()) };
    release.to_str().unwrap_or("?")
}
