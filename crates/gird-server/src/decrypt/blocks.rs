//! The arithmetic of random access into AES-CBC ciphertext, and of HTTP ranges over the
//! plaintext. CBC decrypts block `n` from ciphertext blocks `n - 1` (its IV) and `n`, so a
//! plaintext range needs the ciphertext from the block before its first block to the end of
//! its last block; the plaintext's length needs the last two blocks (the padding).

use super::DecryptError;

/// The AES block size.
pub const BLOCK: u64 = 16;

/// Ciphertext lengths CBC with PKCS#7 padding can produce: whole blocks, at least one.
pub fn check_ciphertext_length(length: u64) -> Result<(), DecryptError> {
    if length == 0 || !length.is_multiple_of(BLOCK) {
        return Err(DecryptError::NotBlockMultiple(length));
    }
    Ok(())
}

/// The ciphertext to fetch (`start..=end`, both inclusive) and what to keep of its
/// decryption to answer plaintext bytes `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: u64,
    pub end: u64,
    /// The first fetched block is the IV of the next (else the envelope's IV is).
    pub iv_fetched: bool,
    /// Decrypted bytes to drop before the first wanted byte.
    pub skip: u64,
    /// Plaintext bytes to answer.
    pub take: u64,
}

impl Window {
    /// For plaintext bytes `first..=last` (`first <= last`).
    pub fn of(first: u64, last: u64) -> Window {
        let first_block = first / BLOCK;
        let last_block = last / BLOCK;
        Window {
            start: first_block.saturating_sub(1) * BLOCK,
            end: last_block * BLOCK + BLOCK - 1,
            iv_fetched: first_block > 0,
            skip: first % BLOCK,
            take: last - first + 1,
        }
    }

    /// The last two blocks (or the only one), whose decryption ends with the padding.
    pub fn tail(ciphertext_length: u64) -> Window {
        let iv_fetched = ciphertext_length >= 2 * BLOCK;
        Window {
            start: ciphertext_length - if iv_fetched { 2 * BLOCK } else { BLOCK },
            end: ciphertext_length - 1,
            iv_fetched,
            skip: 0,
            take: BLOCK,
        }
    }

    /// The `Range` header asking the storage for this window.
    pub fn range_header(&self) -> String {
        format!("bytes={}-{}", self.start, self.end)
    }
}

/// The plaintext's length from the ciphertext's and its decrypted last block, whose PKCS#7
/// padding (1 to 16 bytes, each the pad length) must be intact.
pub fn plaintext_length(ciphertext_length: u64, last_block: &[u8]) -> Result<u64, DecryptError> {
    let Some(&pad) = last_block.last() else {
        return Err(DecryptError::BadPadding);
    };
    let pad_len = usize::from(pad);
    if last_block.len() != BLOCK as usize || pad == 0 || pad_len > last_block.len() {
        return Err(DecryptError::BadPadding);
    }
    if last_block[last_block.len() - pad_len..]
        .iter()
        .any(|&b| b != pad)
    {
        return Err(DecryptError::BadPadding);
    }
    Ok(ciphertext_length - u64::from(pad))
}

/// What a request's `Range` header asks of a plaintext of `length` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// No range (or one gird does not serve, such as several ranges): the whole file.
    Whole,
    /// Bytes `first..=last`.
    Range { first: u64, last: u64 },
    /// A range wholly past the end.
    Unsatisfiable,
}

impl Wanted {
    /// `bytes=a-b`, `bytes=a-` or `bytes=-n`; anything else is the whole file, as RFC 9110
    /// lets a server ignore a Range it does not support.
    pub fn of(range: Option<&str>, length: u64) -> Wanted {
        let Some(spec) = range.and_then(|range| range.trim().strip_prefix("bytes=")) else {
            return Wanted::Whole;
        };
        let Some((from, to)) = spec.trim().split_once('-') else {
            return Wanted::Whole;
        };
        let number = |text: &str| -> Option<u64> {
            let text = text.trim();
            (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
                .then(|| text.parse().ok())
                .flatten()
        };
        if spec.contains(',') {
            return Wanted::Whole;
        }
        match (from.trim().is_empty(), number(from), number(to)) {
            (true, _, Some(suffix)) => {
                if suffix == 0 || length == 0 {
                    Wanted::Unsatisfiable
                } else {
                    Wanted::Range {
                        first: length.saturating_sub(suffix),
                        last: length - 1,
                    }
                }
            }
            (false, Some(first), end) if to.trim().is_empty() || end.is_some() => {
                if let Some(last) = end {
                    if last < first {
                        return Wanted::Whole;
                    }
                }
                if first >= length {
                    return Wanted::Unsatisfiable;
                }
                let last = end.map_or(length - 1, |last| last.min(length - 1));
                Wanted::Range { first, last }
            }
            _ => Wanted::Whole,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_inside_one_block_fetches_that_block_and_the_one_before() {
        let window = Window::of(37, 40);
        assert_eq!(
            window,
            Window {
                start: 16,
                end: 47,
                iv_fetched: true,
                skip: 5,
                take: 4
            }
        );
    }

    #[test]
    fn a_range_in_the_first_block_uses_the_envelope_iv() {
        let window = Window::of(3, 20);
        assert_eq!(
            window,
            Window {
                start: 0,
                end: 31,
                iv_fetched: false,
                skip: 3,
                take: 18
            }
        );
    }

    #[test]
    fn ranges_on_block_edges() {
        assert_eq!(Window::of(16, 31).start, 0);
        assert_eq!(Window::of(16, 31).end, 31);
        assert!(Window::of(16, 31).iv_fetched);
        assert_eq!(Window::of(15, 16).start, 0);
        assert_eq!(Window::of(15, 16).end, 31);
        assert!(!Window::of(15, 16).iv_fetched);
        assert_eq!(Window::of(32, 32).start, 16);
        assert_eq!(Window::of(32, 32).end, 47);
    }

    #[test]
    fn every_window_covers_its_range_whole_blocks_and_the_iv() {
        for first in 0..80u64 {
            for last in first..100 {
                let window = Window::of(first, last);
                assert_eq!(window.start % BLOCK, 0);
                assert_eq!((window.end + 1) % BLOCK, 0);
                let data_start = window.start + if window.iv_fetched { BLOCK } else { 0 };
                assert_eq!(data_start + window.skip, first, "{first}-{last}");
                assert!(data_start + window.skip + window.take <= window.end + 1);
                assert!(window.end - last < BLOCK, "no block more than needed");
            }
        }
    }

    #[test]
    fn the_tail_is_the_last_two_blocks_or_the_only_one() {
        let two = Window::tail(64);
        assert_eq!((two.start, two.end, two.iv_fetched), (32, 63, true));
        let one = Window::tail(16);
        assert_eq!((one.start, one.end, one.iv_fetched), (0, 15, false));
        assert_eq!(two.range_header(), "bytes=32-63");
    }

    #[test]
    fn ciphertext_lengths() {
        assert!(check_ciphertext_length(16).is_ok());
        assert!(check_ciphertext_length(4096).is_ok());
        for bad in [0, 1, 15, 17, 4095] {
            assert_eq!(
                check_ciphertext_length(bad),
                Err(DecryptError::NotBlockMultiple(bad))
            );
        }
    }

    #[test]
    fn padding_gives_the_length_and_is_checked() {
        let mut block = [7u8; 16];
        block[..9].copy_from_slice(b"123456789");
        assert_eq!(plaintext_length(64, &block), Ok(57));
        assert_eq!(plaintext_length(16, &[16; 16]), Ok(0));
        assert_eq!(plaintext_length(32, &[1; 16]), Ok(31));
        block[10] = 6;
        assert_eq!(plaintext_length(64, &block), Err(DecryptError::BadPadding));
        assert_eq!(
            plaintext_length(64, &[0; 16]),
            Err(DecryptError::BadPadding)
        );
        assert_eq!(
            plaintext_length(64, &[17; 16]),
            Err(DecryptError::BadPadding)
        );
        assert_eq!(plaintext_length(64, &[1; 8]), Err(DecryptError::BadPadding));
        assert_eq!(plaintext_length(64, &[]), Err(DecryptError::BadPadding));
    }

    #[test]
    fn range_headers() {
        let of = |range: &str| Wanted::of(Some(range), 1000);
        assert_eq!(Wanted::of(None, 1000), Wanted::Whole);
        assert_eq!(of("bytes=0-99"), Wanted::Range { first: 0, last: 99 });
        assert_eq!(
            of("bytes=990-"),
            Wanted::Range {
                first: 990,
                last: 999
            }
        );
        assert_eq!(
            of("bytes=990-5000"),
            Wanted::Range {
                first: 990,
                last: 999
            }
        );
        assert_eq!(
            of("bytes=-10"),
            Wanted::Range {
                first: 990,
                last: 999
            }
        );
        assert_eq!(
            of("bytes=-5000"),
            Wanted::Range {
                first: 0,
                last: 999
            }
        );
        assert_eq!(of("bytes=1000-"), Wanted::Unsatisfiable);
        assert_eq!(of("bytes=-0"), Wanted::Unsatisfiable);
        assert_eq!(Wanted::of(Some("bytes=0-"), 0), Wanted::Unsatisfiable);
        for ignored in [
            "bytes=5-1",
            "bytes=0-1,5-9",
            "items=0-9",
            "bytes=x-9",
            "bytes=-",
            "bytes",
            "bytes=1-2-3",
        ] {
            assert_eq!(of(ignored), Wanted::Whole, "{ignored}");
        }
    }
}
