// SPDX-License-Identifier: GPL-2.0
//! A kernel thread that runs a job periodically until it is dropped (6.12's kernel crate has no
//! kthread abstraction and its workqueue has no delayed work).
//!
//! The job runs in process context: it may sleep and take mutexes. The period is read from the job
//! before every sleep, so a changed period takes effect at once when a [`Waker`] wakes the thread.

use super::shim::{
    procperf_cond_resched, procperf_set_current_interruptible, procperf_set_current_running,
};
use core::{
    ptr::{self, NonNull},
    sync::atomic::{
        AtomicPtr,
        Ordering::{AcqRel, Acquire},
    },
};
use kernel::{
    bindings,
    error::from_err_ptr,
    ffi::{c_long, c_ulong, c_void},
    prelude::*,
    str::CStr,
    sync::Arc,
};

/// Lets the scheduler run another task here if one is due (`cond_resched`). Process context only:
/// for a long job between two units of work, never under a spinlock or RCU.
pub(crate) fn cond_resched() {
    // SAFETY: no precondition beyond process context, which the callers are (the job's thread).
    unsafe { procperf_cond_resched() };
}

/// Work done once per period by a [`Periodic`] thread.
pub(crate) trait Job: Send + Sync + 'static {
    /// One run of the job.
    fn run(&self);
    /// How long to sleep after a run, in milliseconds.
    fn period_ms(&self) -> u32;
    /// A waker the thread arms when it starts, so others can cut a sleep short.
    fn waker(&self) -> Option<&Waker> {
        None
    }
}

/// Wakes a [`Periodic`] thread early (e.g. after its period changed); does nothing until armed.
///
/// # Invariants
/// `task` is null or a task on which `arm` took a reference that `drop` releases.
pub(crate) struct Waker {
    task: AtomicPtr<bindings::task_struct>,
}

impl Waker {
    pub(crate) const fn new() -> Self {
        Self {
            task: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Remembers `task` (once; later calls are ignored).
    fn arm(&self, task: *mut bindings::task_struct) {
        // SAFETY: `task` is a live kthread; the reference taken here keeps it valid until `drop`.
        unsafe { bindings::get_task_struct(task) };
        if self
            .task
            .compare_exchange(ptr::null_mut(), task, AcqRel, Acquire)
            .is_err()
        {
            // SAFETY: the reference just taken is not stored: give it back.
            unsafe { bindings::put_task_struct(task) };
        }
        // INVARIANT: stored only with a reference.
    }

    /// Wakes the thread if it sleeps.
    pub(crate) fn wake(&self) {
        let t = self.task.load(Acquire);
        if !t.is_null() {
            // SAFETY: non-null means referenced until `drop` (invariant); waking an exited but
            // referenced task is harmless.
            unsafe { bindings::wake_up_process(t) };
        }
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        let t = *self.task.get_mut();
        if !t.is_null() {
            // SAFETY: the reference taken by `arm` (invariant).
            unsafe { bindings::put_task_struct(t) };
        }
    }
}

/// A running kernel thread calling `J::run` every `J::period_ms()`; stopped and joined on drop.
///
/// # Invariants
/// `task` is a started kthread created by `new`, holding a task reference taken by `new`; its
/// argument is `data`, an `Arc<J>` reference leaked by `new` and reclaimed in `drop` after the
/// thread stopped.
pub(crate) struct Periodic<J: Job> {
    task: NonNull<bindings::task_struct>,
    data: *const J,
}

// SAFETY: the task pointer is only used for wake-up and stop, which any thread may do.
unsafe impl<J: Job> Send for Periodic<J> {}
// SAFETY: `&Periodic` gives access to nothing.
unsafe impl<J: Job> Sync for Periodic<J> {}

impl<J: Job> Periodic<J> {
    /// Starts a kernel thread named `name` that runs `job` now and then every period.
    pub(crate) fn new(name: &CStr, job: Arc<J>) -> Result<Self> {
        let data = Arc::into_raw(job);
        // SAFETY: `thread_fn::<J>` matches the kthread signature; `data` stays valid until `drop`
        // reclaims it after `kthread_stop` has returned; the format is "%s" with one string.
        let task = unsafe {
            bindings::kthread_create_on_node(
                Some(thread_fn::<J>),
                data.cast_mut().cast::<c_void>(),
                bindings::NUMA_NO_NODE,
                kernel::c_str!("%s").as_char_ptr(),
                name.as_char_ptr(),
            )
        };
        let task = match from_err_ptr(task) {
            Ok(t) => t,
            Err(e) => {
                // SAFETY: the thread was not created, so `data` is still ours to reclaim.
                drop(unsafe { Arc::from_raw(data) });
                return Err(e);
            }
        };
        // SAFETY: `task` is a valid, just created kthread; the reference keeps it valid for
        // `kthread_stop` even if the thread function returned early.
        unsafe { bindings::get_task_struct(task) };
        // SAFETY: as above; waking it starts the thread function.
        unsafe { bindings::wake_up_process(task) };
        // SAFETY: `data` is a live `Arc<J>` reference until `drop`.
        if let Some(w) = unsafe { &*data }.waker() {
            w.arm(task);
        }
        // INVARIANT: started, referenced, `data` leaked for it.
        Ok(Self {
            task: NonNull::new(task).ok_or(EINVAL)?,
            data,
        })
    }
}

impl<J: Job> Drop for Periodic<J> {
    fn drop(&mut self) {
        // SAFETY: `task` is our referenced kthread (invariant); `kthread_stop` wakes it and waits
        // until `thread_fn` returned, after which nobody uses `data`.
        unsafe { bindings::kthread_stop(self.task.as_ptr()) };
        // SAFETY: the reference `new` took (invariant), no longer needed.
        unsafe { bindings::put_task_struct(self.task.as_ptr()) };
        // SAFETY: the thread has exited, so the reference leaked in `new` is ours again.
        drop(unsafe { Arc::from_raw(self.data) });
    }
}

/// The kthread body: run, sleep for the period (interruptibly, so a `Waker` and `kthread_stop` cut it short), repeat.
///
/// # Safety
/// Called by the kthread machinery only, with the `data` that [`Periodic::new`] passed.
unsafe extern "C" fn thread_fn<J: Job>(data: *mut c_void) -> kernel::ffi::c_int {
    // SAFETY: `data` is the `Arc<J>` reference leaked by `Periodic::new`, valid until the thread
    // has been stopped and joined.
    let job = unsafe { &*data.cast::<J>() };
    // SAFETY: called from the kthread itself.
    while !unsafe { bindings::kthread_should_stop() } {
        job.run();
        // SAFETY: a pure conversion.
        let jiffies = unsafe { bindings::__msecs_to_jiffies(job.period_ms()) };
        // Setting TASK_INTERRUPTIBLE before the last check means a stop or wake-up that arrives
        // after the check makes `schedule_timeout` return at once.
        // SAFETY: we are the kthread itself, changing our own state.
        unsafe { procperf_set_current_interruptible() };
        // SAFETY: called from the kthread itself.
        if !unsafe { bindings::kthread_should_stop() } {
            // SAFETY: process context, no locks held; the state was set just above.
            unsafe { bindings::schedule_timeout(jiffies.min(i32::MAX as c_ulong) as c_long) };
        }
        // SAFETY: we are the kthread itself, changing our own state.
        unsafe { procperf_set_current_running() };
    }
    0
}
