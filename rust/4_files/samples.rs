// SPDX-License-Identifier: GPL-2.0
//! The `samples` stream: one CSV row per process per pass, for data collection.
//!
//! Rows live in a ring of fixed-size slots ([`RING_ROWS`] × [`ROW_MAX`] bytes), so a row is written
//! and read whole — never torn — and memory is fixed. The ring is allocated when the stream is first
//! opened (most users never collect data) and kept until unload. Each open file is a reader
//! with its own position; it first receives the header (`model::sample::ROW_PREFIX` then
//! `model::sample::COLUMNS`), then every row written after it opened. A reader that falls more than
//! [`RING_ROWS`] rows behind skips to the oldest row still held, and the skipped rows are counted in
//! `dropped` (shown by `stats`). Rows are formatted only while at least one reader is open.

use crate::{
    model::sample::{RawSample, COLUMNS, ROW_PREFIX},
    sys::debugfs::Stream,
    track::pass::Sampler,
};
use core::{
    fmt::{self, Write},
    sync::atomic::{AtomicU64, Ordering::Relaxed},
};
use kernel::{
    alloc::KVVec, new_condvar, new_mutex, prelude::*, sync::Arc, sync::CondVar, sync::Mutex,
    uaccess::UserSliceWriter,
};

/// Longest row: t_ms, pid, a 15-byte comm, a cgroup id and 23 counters of at most 20 digits, with
/// separators.
pub(crate) const ROW_MAX: usize = 576;
/// Rows held for slow readers (about 8 s of 1000 processes at 1 Hz; 4.6 MiB).
pub(crate) const RING_ROWS: usize = 8192;

struct Ring {
    slots: KVVec<[u8; ROW_MAX]>,
    lens: KVVec<u16>,
    /// Sequence number of the next row to write; row `s` lives in slot `s % RING_ROWS`.
    next: u64,
    readers: u32,
}

impl Ring {
    fn oldest(&self) -> u64 {
        self.next.saturating_sub(RING_ROWS as u64)
    }
}

/// The stream's shared state.
#[pin_data]
pub(crate) struct Samples {
    #[pin]
    ring: Mutex<Ring>,
    #[pin]
    more: CondVar,
    emitted: AtomicU64,
    dropped: AtomicU64,
}

/// One open `samples` file.
pub(crate) struct Reader {
    next: u64,
    pending: [u8; ROW_MAX],
    pending_len: usize,
    pending_off: usize,
}

impl Samples {
    pub(crate) fn new() -> Result<impl PinInit<Self, Error>> {
        let empty = Ring {
            slots: KVVec::new(),
            lens: KVVec::new(),
            next: 0,
            readers: 0,
        };
        Ok(try_pin_init!(Self {
            ring <- new_mutex!(empty, "procperf_samples"),
            more <- new_condvar!("procperf_samples_more"),
            emitted: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }))
    }

    /// Rows written and rows readers missed.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.emitted.load(Relaxed), self.dropped.load(Relaxed))
    }

    /// Bytes of memory the ring holds.
    pub(crate) const fn memory_bytes() -> usize {
        RING_ROWS * (ROW_MAX + 2)
    }

    /// Starts a batch of rows (one pass); `None` when nobody reads. Readers are woken when the
    /// batch is dropped.
    pub(crate) fn batch(&self) -> Option<Batch<'_>> {
        let ring = self.ring.lock();
        if ring.readers == 0 {
            return None;
        }
        Some(Batch {
            samples: self,
            ring,
            rows: 0,
        })
    }
}

/// Rows being added by one pass.
pub(crate) struct Batch<'a> {
    samples: &'a Samples,
    ring: kernel::sync::lock::Guard<'a, Ring, kernel::sync::lock::mutex::MutexBackend>,
    rows: u64,
}

impl Batch<'_> {
    /// Appends the row for one process.
    pub(crate) fn push(
        &mut self,
        t_ms: u64,
        pid: i32,
        comm: &[u8; 16],
        cgroup: u64,
        s: &RawSample,
    ) {
        let mut row = [0u8; ROW_MAX];
        let mut w = SliceWriter {
            buf: &mut row,
            len: 0,
        };
        if format_row(&mut w, (t_ms, pid, comm, cgroup), s).is_err() {
            // Cannot happen with ROW_MAX sized for the longest row; count it rather than tear it.
            self.samples.dropped.fetch_add(1, Relaxed);
            return;
        }
        let len = w.len;
        let ring = &mut *self.ring;
        let i = (ring.next % RING_ROWS as u64) as usize;
        if let (Some(slot), Some(l)) = (ring.slots.get_mut(i), ring.lens.get_mut(i)) {
            *slot = row;
            *l = len as u16;
            ring.next = ring.next.wrapping_add(1);
            self.rows += 1;
        }
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        if self.rows > 0 {
            self.samples.emitted.fetch_add(self.rows, Relaxed);
            self.samples.more.notify_all();
        }
    }
}

/// Writes the CSV header line.
fn format_header(w: &mut impl Write) -> fmt::Result {
    let mut first = true;
    for name in Iterator::chain(ROW_PREFIX.iter(), COLUMNS.iter()) {
        if !first {
            w.write_char(',')?;
        }
        first = false;
        w.write_str(name)?;
    }
    w.write_char('\n')
}

/// Writes a command name for CSV: commas, quotes, blanks, control and non-ASCII bytes become '_',
/// and an empty name is "_", so the field never needs quoting.
pub(crate) fn write_comm(w: &mut impl Write, comm: &[u8; 16]) -> fmt::Result {
    if comm.first().is_none_or(|&c| c == 0) {
        return w.write_char('_');
    }
    for &c in comm.iter().take_while(|&&c| c != 0) {
        let c = if c.is_ascii_graphic() && c != b',' && c != b'"' {
            c as char
        } else {
            '_'
        };
        w.write_char(c)?;
    }
    Ok(())
}

/// Writes one CSV row.
fn format_row(
    w: &mut impl Write,
    (t_ms, pid, comm, cgroup): (u64, i32, &[u8; 16], u64),
    s: &RawSample,
) -> fmt::Result {
    write!(w, "{t_ms},{pid},")?;
    write_comm(w, comm)?;
    write!(w, ",{cgroup}")?;
    for v in s.values() {
        write!(w, ",{v}")?;
    }
    w.write_char('\n')
}

/// `fmt::Write` into a fixed buffer; fails instead of truncating.
pub(crate) struct SliceWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> SliceWriter<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// What was written (only whole `&str`s are ever written, so it is valid UTF-8).
    pub(crate) fn as_str(&self) -> &str {
        self.buf
            .get(..self.len)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

impl Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The `samples` file: the sampler's stream.
pub(crate) struct SamplesFile(pub(crate) Arc<Sampler>);

impl Stream for SamplesFile {
    type Reader = Reader;

    fn open(&self) -> Result<Reader> {
        self.0.samples.open()
    }

    fn read(&self, r: &mut Reader, out: &mut UserSliceWriter, nonblock: bool) -> Result<usize> {
        self.0.samples.read(r, out, nonblock)
    }

    fn close(&self, r: Reader) {
        self.0.samples.close(r)
    }
}

impl Samples {
    /// A new reader: it first receives the header, then every row written from now on.
    fn open(&self) -> Result<Reader> {
        let mut r = Reader {
            next: 0,
            pending: [0; ROW_MAX],
            pending_len: 0,
            pending_off: 0,
        };
        let mut w = SliceWriter {
            buf: &mut r.pending,
            len: 0,
        };
        format_header(&mut w).map_err(|_| EINVAL)?;
        r.pending_len = w.len;
        if self.ring.lock().slots.is_empty() {
            // First reader: allocate outside the lock (a pass may be writing), then install.
            let slots = KVVec::from_elem([0u8; ROW_MAX], RING_ROWS, GFP_KERNEL)?;
            let lens = KVVec::from_elem(0u16, RING_ROWS, GFP_KERNEL)?;
            let mut ring = self.ring.lock();
            if ring.slots.is_empty() {
                ring.slots = slots;
                ring.lens = lens;
            }
        }
        let mut ring = self.ring.lock();
        ring.readers = ring.readers.saturating_add(1);
        r.next = ring.next;
        Ok(r)
    }

    /// Copies whole rows (where they fit) into `out`, waiting for rows unless `nonblock`.
    fn read(&self, r: &mut Reader, out: &mut UserSliceWriter, nonblock: bool) -> Result<usize> {
        let mut ring = self.ring.lock();
        loop {
            let mut copied = 0usize;
            loop {
                if r.pending_off < r.pending_len {
                    let room = out.len();
                    // Whole rows per read where possible: a reader killed between reads never
                    // leaves half a row behind (a row is split only if it exceeds the buffer).
                    if room == 0 || (copied > 0 && r.pending_off == 0 && r.pending_len > room) {
                        break;
                    }
                    let end = r.pending_len.min(r.pending_off.saturating_add(room));
                    let chunk = r.pending.get(r.pending_off..end).ok_or(EINVAL)?;
                    out.write_slice(chunk)?;
                    copied += chunk.len();
                    r.pending_off = end;
                    continue;
                }
                // Next row into `pending`, skipping (and counting) rows the ring no longer holds.
                let oldest = ring.oldest();
                if r.next < oldest {
                    self.dropped.fetch_add(oldest - r.next, Relaxed);
                    r.next = oldest;
                }
                if r.next >= ring.next {
                    break;
                }
                let i = (r.next % RING_ROWS as u64) as usize;
                let (Some(slot), Some(&len)) = (ring.slots.get(i), ring.lens.get(i)) else {
                    return Err(EINVAL);
                };
                r.pending = *slot;
                r.pending_len = usize::from(len).min(ROW_MAX);
                r.pending_off = 0;
                r.next += 1;
            }
            if copied > 0 {
                return Ok(copied);
            }
            if nonblock {
                return Err(EAGAIN);
            }
            if self.more.wait_interruptible(&mut ring) {
                return Err(ERESTARTSYS);
            }
        }
    }

    /// Forgets a reader.
    fn close(&self, _r: Reader) {
        let mut ring = self.ring.lock();
        ring.readers = ring.readers.saturating_sub(1);
    }
}
