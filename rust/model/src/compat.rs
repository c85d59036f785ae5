//! Standard-library APIs newer than the oldest kernel compiler procperf supports (rustc 1.85, which
//! built Debian's 7.x kernels; a module must be built by its kernel's compiler). From Rust 1.88 on
//! these are `core`'s own; on older compilers (Kbuild sets `pp_rustc_pre_1_88`) equivalents with
//! the same results: the forest walk is then slower, as the select may become a branch.

/// `core::hint::select_unpredictable`: `a` if `condition`, else `b`, asking for a conditional move.
#[cfg(not(pp_rustc_pre_1_88))]
#[allow(clippy::incompatible_msrv)] // compiled only by compilers that have it
#[inline(always)]
pub(crate) fn select_unpredictable<T>(condition: bool, a: T, b: T) -> T {
    core::hint::select_unpredictable(condition, a, b)
}

/// `core::hint::select_unpredictable` for compilers before 1.88: `a` if `condition`, else `b`.
#[cfg(pp_rustc_pre_1_88)]
#[inline(always)]
pub(crate) fn select_unpredictable<T>(condition: bool, a: T, b: T) -> T {
    if condition {
        a
    } else {
        b
    }
}

/// `bytes.as_chunks::<N>()`: the whole `N`-byte records of `bytes`, and the bytes left over.
#[cfg_attr(not(pp_rustc_pre_1_88), allow(clippy::incompatible_msrv))] // see the cfg below
#[inline(always)]
pub(crate) fn as_chunks<const N: usize>(bytes: &[u8]) -> (&[[u8; N]], &[u8]) {
    #[cfg(not(pp_rustc_pre_1_88))]
    let chunks = bytes.as_chunks::<N>();
    #[cfg(pp_rustc_pre_1_88)]
    let chunks = {
        let n = bytes.len().checked_div(N).unwrap_or(0);
        let (whole, rest) = bytes
            .split_at_checked(n.wrapping_mul(N))
            .unwrap_or((&[], bytes));
        // SAFETY: `[u8; N]` is `N` bytes with alignment 1, so the `n * N` bytes of `whole`
        // are exactly `n` such arrays, borrowed for as long as `bytes` is.
        let arrays = unsafe { core::slice::from_raw_parts(whole.as_ptr().cast::<[u8; N]>(), n) };
        (arrays, rest)
    };
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_chunks_splits_whole_records_and_the_rest() {
        let bytes = [1u8, 2, 3, 4, 5];
        let (chunks, rest) = as_chunks::<2>(&bytes);
        assert_eq!(chunks, &[[1, 2], [3, 4]]);
        assert_eq!(rest, &[5]);
        let (chunks, rest) = as_chunks::<8>(&bytes);
        assert!(chunks.is_empty());
        assert_eq!(rest, &bytes);
        assert_eq!(select_unpredictable(true, 1, 2), 1);
        assert_eq!(select_unpredictable(false, 1, 2), 2);
    }
}
