// SPDX-License-Identifier: GPL-2.0
//! debugfs files backed by `seq_file`: the only place procperf touches the debugfs and seq_file
//! bindings (6.12's kernel crate has abstractions for neither).
//!
//! A [`Dir`] owns its directory and every file in it. Dropping it first removes the directory
//! recursively — `debugfs_remove` waits until no reader or writer is inside our callbacks, and later
//! calls on still-open files fail with -EIO without reaching us — and only then frees the objects the
//! files point to. Every file's `file_operations.owner` is this module, so an open file pins the
//! module: `rmmod` fails with EBUSY instead of unloading code an open file still needs.
//!
//! Files are root-only (0400, or 0600 when writable). Writes are copied with a bounded length and
//! handed to [`Store::store`] whole; a store that fails must leave its state unchanged.

use core::{fmt, marker::PhantomData, ptr};
use kernel::{
    bindings,
    error::from_err_ptr,
    ffi::{c_char, c_int, c_void},
    prelude::*,
    str::CStr,
    sync::Arc,
    types::Opaque,
    uaccess::{UserSlice, UserSliceWriter},
    alloc::KVVec,
};

/// Contents of a debugfs file, produced afresh for every `open` (seq_file pages it out).
pub(crate) trait Show: Send + Sync {
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
pub(crate) trait Stream: Send + Sync {
    /// Per-open-file state.
    type Reader: Send;

    /// Called on open.
    fn open(&self) -> Result<Self::Reader>;

    /// Copies at most `out.len()` bytes into `out`; returns how many. Process context.
    fn read(&self, reader: &mut Self::Reader, out: &mut UserSliceWriter, nonblock: bool) -> Result<usize>;

    /// Called when the file is closed, with its state.
    fn close(&self, reader: Self::Reader);
}

/// A debugfs file that receives an upload (e.g. a model blob) over one or more writes.
///
/// Each open file collects its writes in its own buffer (at most `MAX_LEN` bytes; more fails with
/// -E2BIG). After every write, [`Upload::check`] sees everything received so far and says whether the
/// upload is complete; a complete upload is applied at once and its error, if any, is what that
/// `write` returns. Closing a file whose upload is incomplete fails with -EINVAL (from `flush`, so
/// `close()` reports it) and changes nothing.
pub(crate) trait Upload: Show {
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
pub(crate) struct SeqFile<'a> {
    m: *mut bindings::seq_file,
    _p: PhantomData<&'a mut bindings::seq_file>,
}

impl SeqFile<'_> {
    /// Appends raw bytes.
    pub(crate) fn write_bytes(&mut self, bytes: &[u8]) {
        // SAFETY: `self.m` is the live seq_file of the current `show` call (type invariant of the
        // lifetime); `bytes` is valid for its length. On overflow seq_write marks the buffer full and
        // seq_file retries `show` with a larger one, so the return value needs no handling here.
        unsafe { bindings::seq_write(self.m, bytes.as_ptr().cast(), bytes.len()) };
    }
}

impl fmt::Write for SeqFile<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

/// Type-erased handle from a debugfs inode to the object behind a file.
///
/// # Invariants
/// `data` came from `Arc::<T>::into_raw` for the `T` that `show`, `store` and `release` were
/// instantiated with, and that reference is owned by this entry until it is dropped.
struct Entry {
    data: *const c_void,
    show: unsafe fn(*const c_void, &mut SeqFile<'_>) -> Result,
    store: Option<(usize, unsafe fn(*const c_void, &[u8]) -> Result)>,
    stream: Option<StreamFns>,
    upload: Option<UploadFns>,
    release: unsafe fn(*const c_void),
}

/// An [`Upload`]'s functions, instantiated for its type.
#[derive(Clone, Copy)]
struct UploadFns {
    max_len: usize,
    check: unsafe fn(*const c_void, &[u8]) -> Result<Completeness>,
    apply: unsafe fn(*const c_void, &[u8]) -> Result,
}

/// # Safety
/// `data` must come from `Arc::<T>::into_raw` and still be owned.
unsafe fn upload_check<T: Upload>(data: *const c_void, bytes: &[u8]) -> Result<Completeness> {
    // SAFETY: by the caller's guarantee `data` points to a live `T`.
    unsafe { &*data.cast::<T>() }.check(bytes)
}

/// # Safety
/// `data` must come from `Arc::<T>::into_raw` and still be owned.
unsafe fn upload_apply<T: Upload>(data: *const c_void, bytes: &[u8]) -> Result {
    // SAFETY: by the caller's guarantee `data` points to a live `T`.
    unsafe { &*data.cast::<T>() }.apply(bytes)
}

/// What an upload file's `private_data` points to.
struct OpenUpload {
    entry: *const Entry,
    buf: KVVec<u8>,
    /// The buffer was applied (or rejected): nothing more to check at close.
    settled: bool,
}

/// A [`Stream`]'s functions, instantiated for its type; readers are `KBox<T::Reader>` as raw pointers.
#[derive(Clone, Copy)]
struct StreamFns {
    open: unsafe fn(*const c_void) -> Result<*mut c_void>,
    read: unsafe fn(*const c_void, *mut c_void, &mut UserSliceWriter, bool) -> Result<usize>,
    close: unsafe fn(*const c_void, *mut c_void),
}

/// # Safety
/// `data` must come from `Arc::<T>::into_raw` and still be owned.
unsafe fn stream_open<T: Stream>(data: *const c_void) -> Result<*mut c_void> {
    // SAFETY: by the caller's guarantee `data` points to a live `T`.
    let reader = unsafe { &*data.cast::<T>() }.open()?;
    Ok(KBox::into_raw(KBox::new(reader, GFP_KERNEL)?).cast())
}

/// # Safety
/// As [`stream_open`]; `reader` must come from `stream_open::<T>` and not be closed.
unsafe fn stream_read<T: Stream>(
    data: *const c_void,
    reader: *mut c_void,
    out: &mut UserSliceWriter,
    nonblock: bool,
) -> Result<usize> {
    // SAFETY: by the caller's guarantee; the VFS serialises nothing, but each open file's reader is
    // only used by that file's reads, which `read_stream` runs under the file's position lock.
    unsafe { (&*data.cast::<T>()).read(&mut *reader.cast::<T::Reader>(), out, nonblock) }
}

/// # Safety
/// As [`stream_read`]; `reader` is consumed.
unsafe fn stream_close<T: Stream>(data: *const c_void, reader: *mut c_void) {
    // SAFETY: by the caller's guarantee.
    let reader = unsafe { KBox::from_raw(reader.cast::<T::Reader>()) };
    // SAFETY: by the caller's guarantee.
    unsafe { &*data.cast::<T>() }.close(KBox::into_inner(reader));
}

/// What a stream file's `private_data` points to.
struct OpenStream {
    entry: *const Entry,
    reader: *mut c_void,
}

/// `show` for stream entries: never called (stream files have their own `file_operations`).
unsafe fn no_show(_data: *const c_void, _out: &mut SeqFile<'_>) -> Result {
    Err(EINVAL)
}

/// # Safety
/// `data` must come from `Arc::<T>::into_raw` and still be owned.
unsafe fn show_raw<T: Show>(data: *const c_void, out: &mut SeqFile<'_>) -> Result {
    // SAFETY: by the caller's guarantee `data` points to a live `T`.
    unsafe { &*data.cast::<T>() }.show(out)
}

/// # Safety
/// `data` must come from `Arc::<T>::into_raw` and still be owned.
unsafe fn store_raw<T: Store>(data: *const c_void, input: &[u8]) -> Result {
    // SAFETY: by the caller's guarantee `data` points to a live `T`.
    unsafe { &*data.cast::<T>() }.store(input)
}

/// # Safety
/// `data` must come from `Arc::<T>::into_raw`; the reference is consumed.
unsafe fn release_raw<T>(data: *const c_void) {
    // SAFETY: by the caller's guarantee this gives back the reference `into_raw` took.
    drop(unsafe { Arc::<T>::from_raw(data.cast::<T>()) });
}

impl Drop for Entry {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `data` and `release` belong together and the reference is
        // still owned; this is the only place it is released.
        unsafe { (self.release)(self.data) };
    }
}

/// A debugfs directory and the files in it; removed, with all files, on drop.
///
/// # Invariants
/// `dentry` is a live debugfs directory created by `new`; every file in it has an `i_private` that
/// points to one of `entries`, which are freed only after the directory is removed.
pub(crate) struct Dir {
    dentry: *mut bindings::dentry,
    entries: KVec<KBox<Entry>>,
}

// SAFETY: `dentry` is only passed to debugfs functions, which may be called from any thread; the
// objects behind `entries` are `Send + Sync` (required by `Show`).
unsafe impl Send for Dir {}
// SAFETY: `&Dir` gives no access to anything (all methods that act take `&mut self`).
unsafe impl Sync for Dir {}

impl Dir {
    /// Creates `/sys/kernel/debug/<name>/`.
    pub(crate) fn new(name: &CStr) -> Result<Self> {
        // SAFETY: `name` is a valid NUL-terminated string; a NULL parent means the debugfs root.
        let dentry = from_err_ptr(unsafe { debugfs_create_dir(name.as_char_ptr(), ptr::null_mut()) })?;
        // INVARIANT: a live directory we own, with no files yet.
        Ok(Self { dentry, entries: KVec::new() })
    }

    /// Adds a read-only (0400) file showing `obj`.
    pub(crate) fn read_only<T: Show + 'static>(&mut self, name: &CStr, obj: Arc<T>) -> Result {
        let entry = Entry {
            data: Arc::into_raw(obj).cast(),
            show: show_raw::<T>,
            store: None,
            stream: None,
            upload: None,
            release: release_raw::<T>,
        };
        self.add(name, 0o400, entry, &FOPS)
    }

    /// Adds a read-write (0600) file showing and storing into `obj`.
    pub(crate) fn read_write<T: Store + 'static>(&mut self, name: &CStr, obj: Arc<T>) -> Result {
        let entry = Entry {
            data: Arc::into_raw(obj).cast(),
            show: show_raw::<T>,
            store: Some((T::MAX_LEN, store_raw::<T>)),
            stream: None,
            upload: None,
            release: release_raw::<T>,
        };
        self.add(name, 0o600, entry, &FOPS)
    }

    /// Adds a read-only (0400) stream file backed by `obj`.
    pub(crate) fn stream<T: Stream + 'static>(&mut self, name: &CStr, obj: Arc<T>) -> Result {
        let entry = Entry {
            data: Arc::into_raw(obj).cast(),
            show: no_show,
            store: None,
            stream: Some(StreamFns {
                open: stream_open::<T>,
                read: stream_read::<T>,
                close: stream_close::<T>,
            }),
            upload: None,
            release: release_raw::<T>,
        };
        self.add(name, 0o400, entry, &STREAM_FOPS)
    }

    /// Adds a write-only (0200) upload file backed by `obj`.
    pub(crate) fn upload<T: Upload + 'static>(&mut self, name: &CStr, obj: Arc<T>) -> Result {
        let entry = Entry {
            data: Arc::into_raw(obj).cast(),
            show: show_raw::<T>,
            store: None,
            stream: None,
            upload: Some(UploadFns {
                max_len: T::MAX_LEN,
                check: upload_check::<T>,
                apply: upload_apply::<T>,
            }),
            release: release_raw::<T>,
        };
        self.add(name, 0o200, entry, &UPLOAD_FOPS)
    }

    fn add(&mut self, name: &CStr, mode: u16, entry: Entry, fops: &'static Fops) -> Result {
        // Upload files need `flush` (to report an incomplete upload at close), which debugfs's
        // protective proxy does not forward; they are created without it. Their open files pin the
        // module (`owner`), and the directory is removed only when the module goes, so no call can
        // reach a removed file.
        let create = if entry.upload.is_some() { debugfs_create_file_unsafe } else { debugfs_create_file };
        // Keep the entry before the file exists, so no file ever points to freed memory.
        let entry = KBox::new(entry, GFP_KERNEL)?;
        let private: *const Entry = &*entry;
        self.entries.push(entry, GFP_KERNEL)?;
        // SAFETY: `self.dentry` is live (invariant); `private` stays valid until after the directory
        // is removed in `drop`; `fops` is a static that names this module as owner.
        let file = unsafe { create(name.as_char_ptr(), mode, self.dentry, private.cast_mut().cast(), &fops.0) };
        if let Err(e) = from_err_ptr(file) {
            // No file points to it: the entry can go.
            let n = self.entries.len().saturating_sub(1);
            super::kvec::truncate(&mut self.entries, n);
            return Err(e);
        }
        // INVARIANT: the new file's `i_private` points to an entry in `self.entries`.
        Ok(())
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        // SAFETY: `self.dentry` is live (invariant). `debugfs_remove` returns only when no callback
        // of ours runs any more and none can start; `entries` are dropped after this body.
        unsafe { debugfs_remove(self.dentry) };
    }
}

/// `file_operations` in a static: it holds raw pointers, which are not `Sync` by themselves.
#[repr(transparent)]
struct Fops(bindings::file_operations);

// SAFETY: the table is immutable; the pointers in it are to functions and to this module's `struct
// module`, both valid for the module's lifetime.
unsafe impl Sync for Fops {}

/// Callbacks of one kind of file.
type Open = unsafe extern "C" fn(*mut bindings::inode, *mut bindings::file) -> c_int;
type Read = unsafe extern "C" fn(*mut bindings::file, *mut c_char, usize, *mut bindings::loff_t) -> isize;
type Write = unsafe extern "C" fn(*mut bindings::file, *const c_char, usize, *mut bindings::loff_t) -> isize;
type Flush = unsafe extern "C" fn(*mut bindings::file, bindings::fl_owner_t) -> c_int;
type Seek = unsafe extern "C" fn(*mut bindings::file, bindings::loff_t, c_int) -> bindings::loff_t;

/// A `file_operations` table owned by this module (so an open file pins the module).
const fn fops(open: Open, read: Option<Read>, write: Option<Write>, flush: Option<Flush>, llseek: Option<Seek>, release: Open) -> Fops {
    Fops(bindings::file_operations {
        // `__this_module` is this module's own `struct module`; only its address is taken.
        owner: ptr::addr_of!(__this_module) as *mut bindings::module,
        open: Some(open),
        read,
        write,
        flush,
        llseek,
        release: Some(release),
        // SAFETY: all-zero is a valid `file_operations` (every other callback absent, no flags).
        ..unsafe { core::mem::zeroed() }
    })
}

/// Show and Store files: seq_file for reading, `write` for storing.
static FOPS: Fops =
    fops(open, Some(bindings::seq_read), Some(write), None, Some(bindings::seq_lseek), bindings::single_release);

/// `file_operations.open`: attaches a seq_file whose `private` is the file's [`Entry`].
unsafe extern "C" fn open(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: the VFS passes a live inode and file; `i_private` is the entry set in `Dir::add`, alive
    // while the file exists (Dir invariant); `show` matches single_open's callback type.
    unsafe { bindings::single_open(file, Some(show), (*inode).i_private) }
}

/// seq_file `show` callback: runs the file's [`Show`].
unsafe extern "C" fn show(m: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
    // SAFETY: `m` is live for this call; `private` is the `Entry` passed to single_open in `open`.
    let entry = unsafe { &*((*m).private as *const Entry) };
    let mut out = SeqFile { m, _p: PhantomData };
    // SAFETY: the entry's invariant pairs `data` with `show`.
    match unsafe { (entry.show)(entry.data, &mut out) } {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `file_operations.write`: copies at most the file's `MAX_LEN` bytes and stores them.
unsafe extern "C" fn write(
    file: *mut bindings::file,
    buf: *const c_char,
    len: usize,
    _pos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: `file` is live and was opened by `open`, so `private_data` is our seq_file, whose
    // `private` is the file's `Entry`.
    let entry = unsafe { &*((*(*file).private_data.cast::<bindings::seq_file>()).private as *const Entry) };
    let result = (|| -> Result {
        let (max, store) = entry.store.ok_or(EPERM)?;
        if len > max {
            return Err(E2BIG);
        }
        let mut input = KVec::with_capacity(len, GFP_KERNEL)?;
        UserSlice::new(buf as usize, len).reader().read_all(&mut input, GFP_KERNEL)?;
        // SAFETY: the entry's invariant pairs `data` with `store`.
        unsafe { store(entry.data, &input) }
    })();
    match result {
        // `len` <= MAX_LEN, far below isize::MAX.
        Ok(()) => len as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// Stream files: no positions (`open_stream` uses `nonseekable_open`; `read` ignores `*pos`).
static STREAM_FOPS: Fops = fops(open_stream, Some(read_stream), None, None, None, release_stream);

/// `file_operations.open` of stream files: creates the reader state.
unsafe extern "C" fn open_stream(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: `i_private` is the entry set in `Dir::add` (alive while the file exists);
    // `private_data` is ours to set on open.
    unsafe {
        let entry = (*inode).i_private as *const Entry;
        let Some(fns) = (*entry).stream else { return EINVAL.to_errno() };
        let reader = match (fns.open)((*entry).data) {
            Ok(r) => r,
            Err(e) => return e.to_errno(),
        };
        match KBox::new(OpenStream { entry, reader }, GFP_KERNEL) {
            Ok(b) => {
                (*file).private_data = KBox::into_raw(b).cast();
                bindings::nonseekable_open(inode, file)
            }
            Err(_) => {
                (fns.close)((*entry).data, reader);
                ENOMEM.to_errno()
            }
        }
    }
}

/// `file_operations.read` of stream files.
unsafe extern "C" fn read_stream(
    file: *mut bindings::file,
    buf: *mut c_char,
    len: usize,
    _pos: *mut bindings::loff_t,
) -> isize {
    // Reads of one open file never overlap: debugfs files are regular files, which get
    // FMODE_ATOMIC_POS (kept by `nonseekable_open`), so the VFS serialises them with `f_pos_lock`
    // whenever the file is shared; hence the `&mut` to the reader state is exclusive.
    // SAFETY: `private_data` was set by `open_stream` and lives until `release_stream`.
    unsafe {
        let os = &*(*file).private_data.cast::<OpenStream>();
        let Some(fns) = (*os.entry).stream else { return EINVAL.to_errno() as isize };
        let nonblock = (*file).f_flags & bindings::O_NONBLOCK != 0;
        let mut out = UserSlice::new(buf as usize, len).writer();
        match (fns.read)((*os.entry).data, os.reader, &mut out, nonblock) {
            Ok(n) => n as isize,
            Err(e) => e.to_errno() as isize,
        }
    }
}

/// `file_operations.release` of stream files: drops the reader state.
unsafe extern "C" fn release_stream(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: `private_data` was set by `open_stream`; release runs once, after the last read.
    unsafe {
        let os = KBox::from_raw((*file).private_data.cast::<OpenStream>());
        if let Some(fns) = (*os.entry).stream {
            (fns.close)((*os.entry).data, os.reader);
        }
    }
    0
}

/// Upload files: writes accumulate; `flush` reports an incomplete upload at close.
static UPLOAD_FOPS: Fops = fops(open_upload, None, Some(write_upload), Some(flush_upload), None, release_upload);

/// `file_operations.open` of upload files: an empty buffer per open file.
unsafe extern "C" fn open_upload(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: `i_private` is the entry set in `Dir::add`; `private_data` is ours to set.
    unsafe {
        let entry = (*inode).i_private as *const Entry;
        match KBox::new(OpenUpload { entry, buf: KVVec::new(), settled: false }, GFP_KERNEL) {
            Ok(b) => {
                (*file).private_data = KBox::into_raw(b).cast();
                bindings::nonseekable_open(inode, file)
            }
            Err(_) => ENOMEM.to_errno(),
        }
    }
}

/// `file_operations.write` of upload files: append, then check (and maybe apply) the whole.
unsafe extern "C" fn write_upload(
    file: *mut bindings::file,
    buf: *const c_char,
    len: usize,
    _pos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: `private_data` was set by `open_upload`. Writes to one open file are serialised by
    // `f_pos_lock` (FMODE_ATOMIC_POS, as in `read_stream`), so this `&mut` is exclusive.
    let up = unsafe { &mut *(*file).private_data.cast::<OpenUpload>() };
    // SAFETY: the entry lives while the file exists (Dir invariant).
    let entry = unsafe { &*up.entry };
    let result = (|| -> Result {
        let fns = entry.upload.ok_or(EINVAL)?;
        if up.settled {
            return Err(EINVAL); // one upload per open
        }
        if up.buf.len().checked_add(len).is_none_or(|n| n > fns.max_len) {
            up.settled = true;
            return Err(E2BIG);
        }
        up.buf.reserve(len, GFP_KERNEL)?;
        let spare = up.buf.spare_capacity_mut().get_mut(..len).ok_or(EINVAL)?;
        UserSlice::new(buf as usize, len).reader().read_raw(spare)?;
        // SAFETY: `read_raw` initialised the `len` bytes after the old length.
        unsafe { up.buf.set_len(up.buf.len() + len) };
        // SAFETY: the entry's invariant pairs `data` with the upload functions.
        let done = unsafe { (fns.check)(entry.data, &up.buf) }.inspect_err(|_| up.settled = true)?;
        if let Completeness::Complete = done {
            up.settled = true;
            // SAFETY: as above.
            unsafe { (fns.apply)(entry.data, &up.buf) }?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => len as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `file_operations.flush` (every `close()`): an upload left incomplete is an error.
unsafe extern "C" fn flush_upload(file: *mut bindings::file, _id: bindings::fl_owner_t) -> c_int {
    // SAFETY: as in `write_upload`; flush does not run concurrently with writes on this file.
    let up = unsafe { &mut *(*file).private_data.cast::<OpenUpload>() };
    if !up.settled && !up.buf.is_empty() {
        up.settled = true;
        pr_warn!("upload incomplete after {} bytes; nothing changed\n", up.buf.len());
        return EINVAL.to_errno();
    }
    0
}

/// `file_operations.release` of upload files: frees the buffer.
unsafe extern "C" fn release_upload(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: `private_data` was set by `open_upload`; release runs once, last.
    drop(unsafe { KBox::from_raw((*file).private_data.cast::<OpenUpload>()) });
    0
}

// Opaque kernel structs behind pointers trip `improper_ctypes`; only pointers cross here.
#[allow(improper_ctypes)]
extern "C" {
    static __this_module: Opaque<bindings::module>;
    fn debugfs_create_dir(name: *const c_char, parent: *mut bindings::dentry) -> *mut bindings::dentry;
    fn debugfs_create_file(
        name: *const c_char,
        mode: u16,
        parent: *mut bindings::dentry,
        data: *mut c_void,
        fops: *const bindings::file_operations,
    ) -> *mut bindings::dentry;
    fn debugfs_create_file_unsafe(
        name: *const c_char,
        mode: u16,
        parent: *mut bindings::dentry,
        data: *mut c_void,
        fops: *const bindings::file_operations,
    ) -> *mut bindings::dentry;
    fn debugfs_remove(dentry: *mut bindings::dentry);
}
