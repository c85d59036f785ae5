// SPDX-License-Identifier: GPL-2.0
//! Probes on three of the kernel's tracepoints, reported to a [`Sink`]: `sock_send_length` and
//! `sock_recv_length` (every `sock_sendmsg` / `sock_recvmsg` that returns: write/read/send/recv on
//! sockets, sendmsg/recvmsg, splice to sockets; not sendfile's zero-copy path inside TCP, nor
//! io_uring's zero-copy sends) and `sched_process_exit` (an exiting thread's I/O counters).
//!
//! Tracepoints are found by name (`for_each_kernel_tracepoint`) because modules cannot link to
//! their `__tracepoint_*` symbols. Probes run in atomic context, in whatever task triggered them;
//! the [`Sink`] must not sleep.

use super::{
    shim::procperf_tracepoint_synchronize_unregister,
    task::{current_process, exiting_io, Io, ProcessId},
};
use core::ffi::CStr as CoreCStr;
use kernel::{
    bindings,
    ffi::{c_char, c_int, c_void},
    prelude::*,
};

/// Receives what the probes see. Atomic context: implementations must not sleep or allocate.
pub(crate) trait Sink: Send + Sync + 'static {
    /// `process` sent (`sent`) or received `bytes` on a socket.
    fn socket(&self, process: ProcessId, sent: bool, bytes: u64);
    /// A thread of `process` is exiting with these I/O counters.
    fn thread_exited(&self, process: ProcessId, io: &Io);
}

const N_PROBES: usize = 3;

/// The probes, registered while this value lives; unregistered (and waited for) on drop.
///
/// # Invariants
/// Each non-null `tps[i]` has `probes::<S>()[i].1` registered with `data` = `&*sink`.
pub(crate) struct Probes<S: Sink> {
    sink: Pin<KBox<S>>,
    tps: [*mut c_void; N_PROBES],
}

// SAFETY: the tracepoint pointers are only used to unregister, from any thread; `S` is Send.
unsafe impl<S: Sink> Send for Probes<S> {}
// SAFETY: `&Probes` only gives `&S`, which is Sync.
unsafe impl<S: Sink> Sync for Probes<S> {}

/// Tracepoint names and our probes for them.
fn probes<S: Sink>() -> [(&'static CoreCStr, *mut c_void); N_PROBES] {
    [
        (c"sock_send_length", sock_bytes::<S, true> as *mut c_void),
        (c"sock_recv_length", sock_bytes::<S, false> as *mut c_void),
        (c"sched_process_exit", process_exit::<S> as *mut c_void),
    ]
}

impl<S: Sink> Probes<S> {
    /// Registers the probes for `sink`; fails with ENOENT if a tracepoint does not exist.
    pub(crate) fn new(sink: Pin<KBox<S>>) -> Result<Self> {
        let mut found: [*mut c_void; N_PROBES] = [core::ptr::null_mut(); N_PROBES];
        // SAFETY: `find_tracepoint::<S>` only reads the name of each tracepoint it is given and
        // writes into `found`, which outlives the call.
        unsafe { for_each_kernel_tracepoint(find_tracepoint::<S>, (&raw mut found).cast()) };
        // INVARIANT: nothing registered yet; entries become non-null only once registered.
        let mut this = Self {
            sink,
            tps: [core::ptr::null_mut(); N_PROBES],
        };
        let data = this.data();
        for (i, (name, probe)) in probes::<S>().iter().enumerate() {
            let tp = found.get(i).copied().unwrap_or(core::ptr::null_mut());
            if tp.is_null() {
                pr_warn!(
                    "tracepoint {:?} not found; network and exit accounting are off\n",
                    name
                );
                return Err(ENOENT); // dropping `this` unregisters what was registered
            }
            // SAFETY: `tp` is a kernel tracepoint; `probe` has the signature of its prototype;
            // `data` stays valid until `drop` has unregistered and synchronised.
            let r = unsafe { tracepoint_probe_register(tp, *probe, data) };
            if r != 0 {
                return Err(Error::from_errno(r));
            }
            if let Some(slot) = this.tps.get_mut(i) {
                *slot = tp;
            }
        }
        Ok(this)
    }

    /// The sink the probes report to.
    pub(crate) fn sink(&self) -> &S {
        &self.sink
    }

    fn data(&self) -> *mut c_void {
        core::ptr::from_ref::<S>(&self.sink).cast_mut().cast()
    }
}

impl<S: Sink> Drop for Probes<S> {
    fn drop(&mut self) {
        let data = self.data();
        for (tp, (_, probe)) in self.tps.iter().zip(probes::<S>().iter()) {
            if !tp.is_null() {
                // SAFETY: registered with exactly these arguments (invariant).
                unsafe { tracepoint_probe_unregister(*tp, *probe, data) };
            }
        }
        // SAFETY: waits until no probe can still be running, before `sink` is freed.
        unsafe { procperf_tracepoint_synchronize_unregister() };
    }
}

/// `for_each_kernel_tracepoint` callback: records the tracepoints whose names we want.
///
/// # Safety
/// `tp` is a kernel tracepoint; `found` is the array `Probes::new` passed.
unsafe extern "C" fn find_tracepoint<S: Sink>(tp: *mut c_void, found: *mut c_void) {
    // SAFETY: `struct tracepoint` starts with `const char *name` (include/linux/tracepoint-defs.h).
    let name = unsafe { core::ptr::read_volatile(tp.cast::<*const c_char>()) };
    if name.is_null() {
        return;
    }
    // Compared with `c"..."` literals only, so the signedness of `c_char` (which the kernel's
    // clippy configuration guards `from_ptr` for) does not matter.
    // SAFETY: a tracepoint's name is a static NUL-terminated string.
    #[allow(clippy::disallowed_methods)]
    let name = unsafe { CoreCStr::from_ptr(name.cast()) };
    // SAFETY: `found` is the array `Probes::new` passed, alive and not otherwise used meanwhile.
    let found = unsafe { &mut *found.cast::<[*mut c_void; N_PROBES]>() };
    for (slot, (want, _)) in found.iter_mut().zip(probes::<S>().iter()) {
        if name == *want {
            *slot = tp;
        }
    }
}

/// # Safety
/// `data` must be the `S` the probe was registered with (alive while registered).
unsafe fn sink<'a, S: Sink>(data: *mut c_void) -> &'a S {
    // SAFETY: by the caller's guarantee.
    unsafe { &*data.cast::<S>() }
}

/// `sock_send_length` (`SENT`) and `sock_recv_length` probes: `ret` is the call's result.
///
/// # Safety
/// Called by the tracepoint only, with the `data` it was registered with.
unsafe extern "C" fn sock_bytes<S: Sink, const SENT: bool>(
    data: *mut c_void,
    _sk: *mut c_void,
    ret: c_int,
    _flags: c_int,
) {
    if let Ok(bytes @ 1..) = u64::try_from(ret) {
        // SAFETY: registered with `data` = the sink.
        unsafe { sink::<S>(data) }.socket(current_process(), SENT, bytes);
    }
}

/// # Safety
/// Called by the tracepoint only, with the `data` it was registered with.
unsafe extern "C" fn process_exit<S: Sink>(
    data: *mut c_void,
    p: *mut bindings::task_struct,
    // 7.x's `sched_process_exit(p, group_dead)`: the probe's signature must match the
    // tracepoint's exactly (kCFI checks the indirect call).
    #[cfg(pp_exit_group_dead)] _group_dead: bool,
) {
    // SAFETY: `p` is the exiting task (current), valid during the probe.
    let io = unsafe { exiting_io(p) };
    // SAFETY: registered with `data` = the sink.
    unsafe { sink::<S>(data) }.thread_exited(current_process(), &io);
}

// Opaque kernel structs behind pointers trip `improper_ctypes`; only pointers cross here.
#[allow(improper_ctypes)]
extern "C" {
    fn for_each_kernel_tracepoint(
        f: unsafe extern "C" fn(*mut c_void, *mut c_void),
        priv_: *mut c_void,
    );
    fn tracepoint_probe_register(tp: *mut c_void, probe: *mut c_void, data: *mut c_void) -> c_int;
    fn tracepoint_probe_unregister(tp: *mut c_void, probe: *mut c_void, data: *mut c_void)
        -> c_int;
}
