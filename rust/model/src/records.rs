//! A byte slice read as consecutive fixed-size records: what `<[u8]>::as_chunks` gives from Rust
//! 1.88, for the older compilers distribution kernels are built with (the module must be compiled
//! by the kernel's own rustc). Safe, panic-free, and as cheap as an indexed slice: a record is
//! found by one multiplication and one bounds check.

/// `bytes` as whole `N`-byte records.
///
/// # Invariants
/// The length of the slice is a multiple of `N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Records<'a, const N: usize>(&'a [u8]);

impl<'a, const N: usize> Records<'a, N> {
    /// The records of `bytes`, or `None` if a partial record would be left over.
    pub fn new(bytes: &'a [u8]) -> Option<Self> {
        // INVARIANT: checked here.
        bytes
            .len()
            .checked_rem(N)
            .is_some_and(|r| r == 0)
            .then_some(Self(bytes))
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.0.len().checked_div(N).unwrap_or(0)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Record `i`, or `None` past the end.
    #[inline(always)]
    pub fn get(&self, i: usize) -> Option<&'a [u8; N]> {
        // A wrapped product is a position the bounds check below refuses, or, for a slice that
        // large, another record: never a read outside the slice.
        self.0.get(i.wrapping_mul(N)..)?.first_chunk::<N>()
    }

    /// The records in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a [u8; N]> + 'a {
        RecordIter(self.0.chunks_exact(N.max(1)))
    }
}

/// The iterator of [`Records::iter`].
struct RecordIter<'a, const N: usize>(core::slice::ChunksExact<'a, u8>);

impl<'a, const N: usize> Iterator for RecordIter<'a, N> {
    type Item = &'a [u8; N];

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        // `chunks_exact(N)` yields exactly `N` bytes per chunk: `first_chunk` never fails.
        self.0.next()?.first_chunk::<N>()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<const N: usize> ExactSizeIterator for RecordIter<'_, N> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_split_whole_and_refuse_partial() {
        let bytes = [1u8, 2, 3, 4, 5, 6];
        let r = Records::<2>::new(&bytes).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r.get(0), Some(&[1, 2]));
        assert_eq!(r.get(2), Some(&[5, 6]));
        assert_eq!(r.get(3), None);
        assert_eq!(r.get(usize::MAX), None);
        assert_eq!(r.iter().len(), 3);
        assert!(r.iter().eq([[1, 2], [3, 4], [5, 6]].iter()));
        assert_eq!(Records::<4>::new(&bytes), None);
        assert!(Records::<8>::new(&[]).unwrap().is_empty());
    }
}
