//! The settings a user writes to the kernel's `interval_ms` and `capacity` files: one decimal
//! number, with whitespace around it allowed (`echo 500 > interval_ms` writes "500\n"). The parser
//! lives here rather than in the module's files so that the host's fuzzer and tests run exactly
//! the code the kernel runs.

/// Longest number a setting may be: `u32::MAX` has 10 digits.
const MAX_DIGITS: usize = 10;

/// The number written in `input`, or `None` unless it is UTF-8 holding one decimal `u32` (an
/// optional `+`, then 1 to 10 digits) with only whitespace around it.
pub fn parse_decimal_u32(input: &[u8]) -> Option<u32> {
    let s = core::str::from_utf8(input).ok()?.trim();
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || digits.len() > MAX_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    digits.parse::<u32>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_with_whitespace_around_it() {
        assert_eq!(parse_decimal_u32(b"500\n"), Some(500));
        assert_eq!(parse_decimal_u32(b" \t4096 \n"), Some(4096));
        assert_eq!(parse_decimal_u32(b"+7"), Some(7));
        assert_eq!(parse_decimal_u32(b"4294967295"), Some(u32::MAX));
        assert_eq!(parse_decimal_u32(b"0000000001"), Some(1));
        assert_eq!(parse_decimal_u32(b"+4294967295\n"), Some(u32::MAX));
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            &b""[..],
            b"\n",
            b"-1",
            b"4294967296",
            b"00000000001",
            b"1 2",
            b"0x10",
            b"12abc",
            b"\xff\xfe",
            b"1_000",
            b"++1",
            b"+",
            b"+-1",
        ] {
            assert_eq!(parse_decimal_u32(bad), None, "{bad:?}");
        }
    }
}
