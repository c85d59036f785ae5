// SPDX-License-Identifier: GPL-2.0
//! debugfs files backed by `seq_file`: the only place procperf touches the debugfs and seq_file
//! bindings (6.12's kernel crate has abstractions for neither).
//!
//! A [`Dir`] owns its directory and a reference to the object behind every file in it. Dropping it
//! first removes the directory recursively — `debugfs_remove` waits until no reader or writer is
//! inside our callbacks, and later calls on still-open files fail with -EIO without reaching us —
//! and only then drops those references. Every file's `file_operations.owner` is this module, so an
//! open file pins the module: `rmmod` fails with EBUSY instead of unloading code it still needs.
//!
//! Like the kernel crate's own debugfs abstraction (7.x), each kind of file is a trait and each type
//! implementing it gets its own `file_operations` table ([`FileOps`]), whose callbacks are
//! instantiated for that type: a file's `i_private` points to its object, and nothing is erased.
//!
//! Files are root-only (0400, 0600 when writable, 0200 for uploads). Writes are copied with a
//! bounded length and handed over whole; a write that fails must leave its state unchanged.

use super::shim::procperf_debugfs_create_file;
use core::{fmt, marker::PhantomData, ptr};
use kernel::{
    alloc::KVVec,
    bindings,
    error::from_err_ptr,
    ffi::{c_char, c_int, c_void},
    new_mutex,
    prelude::*,
    str::CStr,
    sync::{Arc, Mutex},
    types::Opaque,
    uaccess::{UserSlice, UserSliceWriter},
};

/// Contents of a debugfs file, produced afresh for every `open` (seq_file pages it out).
pub(crate) trait Show: Send + Sync + 'static {
    /// Writes the whole file. Process context: may sleep, but must not hold a spinlock while
    /// writing to `out` (the seq_file buffer may be reallocated).
    fn show(&self, out: &mut SeqFile<'_>) -> Result;
}

/// A debugfs file that also accepts writes.
pub(crate) trait Store: Show {
    /// Largest accepted write in bytes; a longer write fails with -E2BIG before anything is copied.
    const MAX_LEN: usize;

    /// Applies one write, given whole. Validates everything first: on error nothing changes.
    fn store(&self, input: &[u8]) -> Result;
}

/// A debugfs file read as an endless stream: each open file has its own reader state, reads block
/// until data arrives (or fail with -EAGAIN under O_NONBLOCK), and writes are refused.
pub(crate) trait Stream: Send + Sync + 'static {
    /// Per-open-file state.
    type Reader: Send;

    /// Called on open.
    fn open(&self) -> Result<Self::Reader>;

    /// Copies at most `out.len()` bytes into `out`; returns how many. Process context.
    fn read(
        &self,
        reader: &mut Self::Reader,
        out: &mut UserSliceWriter,
        nonblock: bool,
    ) -> Result<usize>;

    /// Called when the file is closed, with its state.
    fn close(&self, reader: Self::Reader);
}

/// A write-only debugfs file that receives an upload (e.g. a model blob) over one or more writes.
///
/// Each open file collects its writes in its own buffer (at most `MAX_LEN` bytes; more fails with
/// -E2BIG). After every write, [`Upload::check`] sees everything received so far and says whether the
/// upload is complete; a complete upload is applied at once and its error, if any, is what that
/// `write` returns. Closing the last reference to a file whose upload is incomplete fails with
/// -EINVAL (from `flush`, so `close()` reports it) and changes nothing; closing a copy of the
/// descriptor (a forked child's, a `dup`) leaves the upload going.
pub(crate) trait Upload: Send + Sync + 'static {
    /// Largest upload, bytes.
    const MAX_LEN: usize;

    /// Whether `data` (all bytes received so far) is a whole upload; may reject it early.
    fn check(&self, data: &[u8]) -> Result<Completeness>;

    /// Applies a complete upload. On error nothing changes.
    fn apply(&self, data: &[u8]) -> Result;
}

/// What [`Upload::check`] found.
pub(crate) enum Completeness {
    /// More bytes are needed.
    Partial,
    /// `data` is the whole upload.
    Complete,
}

/// The output side of a `seq_file`, valid during one [`Show::show`] call.
///
/// # Invariants
/// `m` is the live seq_file of the current `show` call, for `'a`.
pub(crate) struct SeqFile<'a> {
    m: *mut bindings::seq_file,
    _p: PhantomData<&'a mut bindings::seq_file>,
}

impl SeqFile<'_> {
    /// Appends raw bytes.
    pub(crate) fn write_bytes(&mut self, bytes: &[u8]) {
        // SAFETY: `self.m` is live (invariant); `bytes` is valid for its length. On overflow
        // seq_write marks the buffer full and seq_file retries `show` with a larger one, so the
        // return value needs no handling here.
        unsafe { bindings::seq_write(self.m, bytes.as_ptr().cast(), bytes.len()) };
    }
}

impl fmt::Write for SeqFile<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

/// Anything a [`Dir`] keeps alive for its files.
trait Held: Send + Sync {}
impl<T: Send + Sync + ?Sized> Held for T {}

/// A debugfs directory and the files in it; removed, with all files, on drop.
///
/// # Invariants
/// `dentry` is a live debugfs directory created by `new`; every file in it has an `i_private` that
/// points to the object of one of `objects`, which are dropped only after the directory is removed.
pub(crate) struct Dir {
    dentry: *mut bindings::dentry,
    objects: KVec<Arc<dyn Held>>,
}

// SAFETY: `dentry` is only passed to debugfs functions, which may be called from any thread; the
// objects are `Send + Sync`.
unsafe impl Send for Dir {}
// SAFETY: `&Dir` gives no access to anything (all methods that act take `&mut self`).
unsafe impl Sync for Dir {}

impl Dir {
    /// Creates `/sys/kernel/debug/<name>/`.
    pub(crate) fn new(name: &CStr) -> Result<Self> {
        // SAFETY: `name` is a valid NUL-terminated string; a NULL parent means the debugfs root.
        let dentry =
            from_err_ptr(unsafe { debugfs_create_dir(name.as_char_ptr(), ptr::null_mut()) })?;
        // INVARIANT: a live directory we own, with no files yet.
        Ok(Self {
            dentry,
            objects: KVec::new(),
        })
    }

    /// Adds a read-only (0400) file showing `obj`.
    pub(crate) fn read_only<T: Show>(&mut self, name: &CStr, obj: Arc<T>) -> Result {
        self.add(name, 0o400, obj, &<T as ShowOps>::OPS, false)
    }

    /// Adds a read-write (0600) file showing and storing into `obj`.
    pub(crate) fn read_write<T: Store>(&mut self, name: &CStr, obj: Arc<T>) -> Result {
        self.add(name, 0o600, obj, &<T as StoreOps>::OPS, false)
    }

    /// Adds a read-only (0400) stream file backed by `obj`.
    pub(crate) fn stream<T: Stream>(&mut self, name: &CStr, obj: Arc<T>) -> Result {
        self.add(name, 0o400, obj, &<T as StreamOps>::OPS, false)
    }

    /// Adds a write-only (0200) upload file backed by `obj`.
    ///
    /// Upload files need `flush` (to report an incomplete upload at close), which debugfs's
    /// protective proxy does not forward; they are created without it. Their open files pin the
    /// module (`owner`), and the directory is removed only when the module goes, so no call can
    /// reach a removed file.
    pub(crate) fn upload<T: Upload>(&mut self, name: &CStr, obj: Arc<T>) -> Result {
        self.add(name, 0o200, obj, &<T as UploadOps>::OPS, true)
    }

    fn add<T: Send + Sync + 'static>(
        &mut self,
        name: &CStr,
        mode: u16,
        obj: Arc<T>,
        fops: &'static FileOps<T>,
        unproxied: bool,
    ) -> Result {
        let data: *const T = &*obj;
        // Keep the object before the file exists, so no file ever points to freed memory.
        self.objects.push(obj, GFP_KERNEL)?;
        // SAFETY: `self.dentry` is live (invariant); `data` stays valid until after the directory
        // is removed in `drop` (it is in `objects`); `fops` is a static table of callbacks
        // instantiated for `T` that names this module as owner.
        let file = unsafe {
            procperf_debugfs_create_file(
                name.as_char_ptr(),
                mode,
                self.dentry,
                data.cast_mut().cast(),
                &fops.0,
                !unproxied,
            )
        };
        if let Err(e) = from_err_ptr(file) {
            // No file points to it: the reference can go.
            let n = self.objects.len().saturating_sub(1);
            super::kvec::truncate(&mut self.objects, n);
            return Err(e);
        }
        // INVARIANT: the new file's `i_private` points to an object in `self.objects`.
        Ok(())
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        // SAFETY: `self.dentry` is live (invariant). `debugfs_remove` returns only when no callback
        // of ours runs any more and none can start; `objects` are dropped after this body.
        unsafe { debugfs_remove(self.dentry) };
    }
}

/// A `file_operations` table for files backed by a `T`, in a constant of a trait implemented for
/// `T` (promoted to a static by the compiler).
#[repr(transparent)]
struct FileOps<T>(bindings::file_operations, PhantomData<T>);

// SAFETY: the table is immutable; the pointers in it are to functions and to this module's `struct
// module`, both valid for the module's lifetime.
unsafe impl<T> Sync for FileOps<T> {}

type Open = unsafe extern "C" fn(*mut bindings::inode, *mut bindings::file) -> c_int;
type Read =
    unsafe extern "C" fn(*mut bindings::file, *mut c_char, usize, *mut bindings::loff_t) -> isize;
type Write =
    unsafe extern "C" fn(*mut bindings::file, *const c_char, usize, *mut bindings::loff_t) -> isize;
type Flush = unsafe extern "C" fn(*mut bindings::file, bindings::fl_owner_t) -> c_int;
type Seek = unsafe extern "C" fn(*mut bindings::file, bindings::loff_t, c_int) -> bindings::loff_t;

/// The callbacks of one kind of file.
struct Callbacks {
    open: Open,
    read: Option<Read>,
    write: Option<Write>,
    flush: Option<Flush>,
    llseek: Option<Seek>,
    release: Open,
}

impl<T> FileOps<T> {
    const fn new(c: Callbacks) -> Self {
        Self(
            bindings::file_operations {
                // `__this_module` is this module's own `struct module`; only its address is taken.
                owner: ptr::addr_of!(__this_module).cast_mut().cast(),
                open: Some(c.open),
                read: c.read,
                write: c.write,
                flush: c.flush,
                llseek: c.llseek,
                release: Some(c.release),
                // SAFETY: all-zero is a valid `file_operations` (every other callback absent).
                ..unsafe { core::mem::zeroed() }
            },
            PhantomData,
        )
    }
}

/// [`Show`] files: seq_file, `i_private` = the `T`, which becomes the seq_file's `private`.
trait ShowOps: Show + Sized {
    const OPS: FileOps<Self> = FileOps::new(Callbacks {
        open: open_show::<Self>,
        read: Some(bindings::seq_read),
        write: None,
        flush: None,
        llseek: Some(bindings::seq_lseek),
        release: bindings::single_release,
    });
}
impl<T: Show> ShowOps for T {}

/// [`Store`] files: as [`ShowOps`], plus `write`.
trait StoreOps: Store + Sized {
    const OPS: FileOps<Self> = FileOps::new(Callbacks {
        open: open_show::<Self>,
        read: Some(bindings::seq_read),
        write: Some(write_store::<Self>),
        flush: None,
        llseek: Some(bindings::seq_lseek),
        release: bindings::single_release,
    });
}
impl<T: Store> StoreOps for T {}

/// # Safety
/// `inode` and `file` are the VFS's, for a file whose `i_private` is a live `T` (Dir invariant).
unsafe extern "C" fn open_show<T: Show>(
    inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: the VFS passes a live inode.
    let data = unsafe { (*inode).i_private };
    // SAFETY: `file` is live; `show::<T>` matches single_open's callback type and reads `data`
    // as a `T`, which it is.
    unsafe { bindings::single_open(file, Some(show::<T>), data) }
}

/// seq_file `show` callback: runs `T::show`.
/// # Safety
/// Called by the VFS only, through [`ShowOps`]: with live arguments for a file of `T` created by
/// [`Dir`].
unsafe extern "C" fn show<T: Show>(m: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
    // SAFETY: `m` is live for this call; its `private` is the `T` given to single_open, alive while
    // the file exists.
    let obj = unsafe { &*(*m).private.cast::<T>() };
    // INVARIANT: `m` is live during this call.
    let mut out = SeqFile { m, _p: PhantomData };
    match obj.show(&mut out) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `file_operations.write` of [`Store`] files: copies at most `T::MAX_LEN` bytes and stores them.
/// # Safety
/// Called by the VFS only, through [`StoreOps`]: with live arguments for a file of `T` created by
/// [`Dir`].
unsafe extern "C" fn write_store<T: Store>(
    file: *mut bindings::file,
    buf: *const c_char,
    len: usize,
    _pos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: `file` is live and was opened by `open_show::<T>`, so `private_data` is our seq_file.
    let m = unsafe { (*file).private_data }.cast::<bindings::seq_file>();
    // SAFETY: the seq_file's `private` is the file's `T`, alive while the file exists.
    let obj = unsafe { &*(*m).private.cast::<T>() };
    let result = (|| -> Result {
        if len > T::MAX_LEN {
            return Err(E2BIG);
        }
        let mut input = KVec::with_capacity(len, GFP_KERNEL)?;
        user_slice(buf, len)
            .reader()
            .read_all(&mut input, GFP_KERNEL)?;
        obj.store(&input)
    })();
    match result {
        // `len` <= MAX_LEN, far below isize::MAX.
        Ok(()) => len as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// What a stream file's `private_data` points to; `reader` is `None` only while being opened.
struct OpenStream<T: Stream> {
    obj: *const T,
    reader: Option<T::Reader>,
}

/// [`Stream`] files: no positions (`nonseekable_open`; `read` ignores `*pos`).
trait StreamOps: Stream + Sized {
    const OPS: FileOps<Self> = FileOps::new(Callbacks {
        open: open_stream::<Self>,
        read: Some(read_stream::<Self>),
        write: None,
        flush: None,
        llseek: None,
        release: release_stream::<Self>,
    });
}
impl<T: Stream> StreamOps for T {}

/// `file_operations.open` of stream files: creates the reader state.
/// # Safety
/// Called by the VFS only, through [`StreamOps`]: with live arguments for a file of `T` created by
/// [`Dir`].
unsafe extern "C" fn open_stream<T: Stream>(
    inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: the VFS passes a live inode; `i_private` is the `T` set in `Dir::add`, alive while
    // the file exists.
    let obj = unsafe { (*inode).i_private }.cast_const().cast::<T>();
    // The state is allocated before the reader is opened, so a failed allocation has nothing to
    // close.
    let mut state = match KBox::new(OpenStream { obj, reader: None }, GFP_KERNEL) {
        Ok(b) => b,
        Err(_) => return ENOMEM.to_errno(),
    };
    // SAFETY: as above.
    match unsafe { &*obj }.open() {
        Ok(r) => state.reader = Some(r),
        Err(e) => return e.to_errno(),
    }
    // SAFETY: `file` is live and its `private_data` ours to set; freed in `release_stream`.
    unsafe { (*file).private_data = KBox::into_raw(state).cast() };
    // SAFETY: the VFS's inode and file, being opened.
    unsafe { bindings::nonseekable_open(inode, file) }
}

/// `file_operations.read` of stream files.
/// # Safety
/// Called by the VFS only, through [`StreamOps`]: with live arguments for a file of `T` created by
/// [`Dir`].
unsafe extern "C" fn read_stream<T: Stream>(
    file: *mut bindings::file,
    buf: *mut c_char,
    len: usize,
    _pos: *mut bindings::loff_t,
) -> isize {
    // Reads of one open file never overlap: debugfs files are regular files, which get
    // FMODE_ATOMIC_POS (kept by `nonseekable_open`), so the VFS serialises them with `f_pos_lock`
    // whenever the file is shared; hence the `&mut` to the reader state is exclusive.
    // SAFETY: `private_data` was set by `open_stream::<T>` and lives until `release_stream`.
    let state = unsafe { &mut *(*file).private_data.cast::<OpenStream<T>>() };
    // SAFETY: `file` is live.
    let nonblock = unsafe { (*file).f_flags } & bindings::O_NONBLOCK != 0;
    let mut out = user_slice(buf, len).writer();
    // SAFETY: the `T` outlives every open file (Dir invariant).
    let obj = unsafe { &*state.obj };
    let Some(reader) = state.reader.as_mut() else {
        return EINVAL.to_errno() as isize;
    };
    match obj.read(reader, &mut out, nonblock) {
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `file_operations.release` of stream files: drops the reader state.
/// # Safety
/// Called by the VFS only, through [`StreamOps`]: with live arguments for a file of `T` created by
/// [`Dir`].
unsafe extern "C" fn release_stream<T: Stream>(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: `private_data` was set by `open_stream::<T>`; release runs once, after the last read.
    let state = unsafe { KBox::from_raw((*file).private_data.cast::<OpenStream<T>>()) };
    let OpenStream { obj, reader } = KBox::into_inner(state);
    if let Some(reader) = reader {
        // SAFETY: the `T` outlives every open file (Dir invariant).
        unsafe { &*obj }.close(reader);
    }
    0
}

/// An upload in progress: the bytes received so far.
struct UploadBuf {
    bytes: KVVec<u8>,
    /// The upload was applied or refused: nothing more to accept or to check at close.
    settled: bool,
}

/// What an upload file's `private_data` points to. Writes to one open file are serialised by the
/// VFS (`f_pos_lock`), but `flush` runs at every `close()`, from any thread sharing the file and
/// without that lock: the buffer is behind a mutex of its own.
#[pin_data]
struct OpenUpload<T: Upload> {
    obj: *const T,
    #[pin]
    buf: Mutex<UploadBuf>,
}

/// [`Upload`] files: writes accumulate; `flush` reports an incomplete upload at close.
trait UploadOps: Upload + Sized {
    const OPS: FileOps<Self> = FileOps::new(Callbacks {
        open: open_upload::<Self>,
        read: None,
        write: Some(write_upload::<Self>),
        flush: Some(flush_upload::<Self>),
        llseek: None,
        release: release_upload::<Self>,
    });
}
impl<T: Upload> UploadOps for T {}

/// `file_operations.open` of upload files: an empty buffer per open file.
/// # Safety
/// Called by the VFS only, through [`UploadOps`]: with live arguments for a file of `T` created by
/// [`Dir`].
unsafe extern "C" fn open_upload<T: Upload>(
    inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: the VFS passes a live inode; `i_private` is the `T` set in `Dir::add`.
    let obj = unsafe { (*inode).i_private }.cast_const().cast::<T>();
    let init = pin_init!(OpenUpload {
        obj,
        buf <- new_mutex!(UploadBuf { bytes: KVVec::new(), settled: false }, "procperf_upload"),
    });
    let state = match KBox::pin_init(init, GFP_KERNEL) {
        Ok(b) => b,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: the state is never moved out of its box: `release_upload` rebuilds the pinned box.
    let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(state) });
    // SAFETY: `file` is live and its `private_data` ours to set; freed in `release_upload`.
    unsafe { (*file).private_data = raw.cast() };
    // SAFETY: the VFS's inode and file, being opened.
    unsafe { bindings::nonseekable_open(inode, file) }
}

/// # Safety
/// `file` must be an open upload file of `T` (opened by `open_upload::<T>`, not yet released).
unsafe fn upload_state<'a, T: Upload>(file: *mut bindings::file) -> &'a OpenUpload<T> {
    // SAFETY: `private_data` was set by `open_upload::<T>` and lives until `release_upload`, which
    // runs only after every other callback of this file has returned.
    unsafe { &*(*file).private_data.cast::<OpenUpload<T>>() }
}

/// `file_operations.write` of upload files: append, then check (and maybe apply) the whole.
/// # Safety
/// Called by the VFS only, through [`UploadOps`]: with live arguments for a file of `T` created by
/// [`Dir`].
unsafe extern "C" fn write_upload<T: Upload>(
    file: *mut bindings::file,
    buf: *const c_char,
    len: usize,
    _pos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: an open upload file of `T`.
    let state = unsafe { upload_state::<T>(file) };
    // SAFETY: the `T` outlives every open file (Dir invariant).
    let obj = unsafe { &*state.obj };
    let mut up = state.buf.lock();
    let result = (|| -> Result {
        if up.settled {
            return Err(EINVAL); // one upload per open
        }
        if up
            .bytes
            .len()
            .checked_add(len)
            .is_none_or(|n| n > T::MAX_LEN)
        {
            up.settled = true;
            return Err(E2BIG);
        }
        // Grow by `len` zeros and copy into them; a fault in the user buffer takes them back, so
        // the bytes received so far stay as they were.
        let old = up.bytes.len();
        up.bytes.extend_with(len, 0, GFP_KERNEL)?;
        let tail = up.bytes.as_mut_slice().get_mut(old..).ok_or(EINVAL)?;
        if let Err(e) = user_slice(buf, len).reader().read_slice(tail) {
            super::kvec::truncate(&mut up.bytes, old);
            return Err(e);
        }
        let done = obj.check(&up.bytes).inspect_err(|_| up.settled = true)?;
        if let Completeness::Complete = done {
            up.settled = true;
            obj.apply(&up.bytes)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => len as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `file_operations.flush` (every `close()`): an upload left incomplete is an error.
/// # Safety
/// Called by the VFS only, through [`UploadOps`]: with live arguments for a file of `T` created by
/// [`Dir`].
unsafe extern "C" fn flush_upload<T: Upload>(
    file: *mut bindings::file,
    _id: bindings::fl_owner_t,
) -> c_int {
    // `flush` runs at every close of a descriptor, also of one a forked child inherited (and
    // closes before it execs) or a `dup`: only the close of the last reference ends the upload.
    // SAFETY: the VFS passes a live file.
    if unsafe { super::shim::procperf_file_count(file) } > 1 {
        return 0;
    }
    // SAFETY: an open upload file of `T`.
    let state = unsafe { upload_state::<T>(file) };
    let mut up = state.buf.lock();
    if !up.settled && !up.bytes.is_empty() {
        up.settled = true;
        pr_warn!(
            "upload incomplete after {} bytes; nothing changed\n",
            up.bytes.len()
        );
        return EINVAL.to_errno();
    }
    0
}

/// `file_operations.release` of upload files: frees the buffer.
/// # Safety
/// Called by the VFS only, through [`UploadOps`]: with live arguments for a file of `T` created by
/// [`Dir`].
unsafe extern "C" fn release_upload<T: Upload>(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: `private_data` was set by `open_upload::<T>` from a pinned box; release runs once,
    // last, and the state is dropped in place.
    drop(unsafe { KBox::from_raw((*file).private_data.cast::<OpenUpload<T>>()) });
    0
}

// Opaque kernel structs behind pointers trip `improper_ctypes`; only pointers cross here.
#[allow(improper_ctypes)]
extern "C" {
    static __this_module: Opaque<bindings::module>;
    fn debugfs_create_dir(
        name: *const c_char,
        parent: *mut bindings::dentry,
    ) -> *mut bindings::dentry;
    fn debugfs_remove(dentry: *mut bindings::dentry);
}

/// The `len` bytes of user memory at `buf`: 6.12's `UserSlice::new` takes the address, 7.x's a
/// `UserPtr`. Creating the slice reads nothing; every access through it is checked.
fn user_slice<T>(buf: *const T, len: usize) -> UserSlice {
    let addr = buf as usize;
    #[cfg(pp_user_ptr)]
    let addr = kernel::uaccess::UserPtr::from_addr(addr);
    UserSlice::new(addr, len)
}
