//! Decrypting a media file as it streams from storage: whole blocks are decrypted as they
//! arrive (at most one partial block is held back), the window's leading bytes dropped and
//! its wanted bytes passed on; nothing of the file is buffered beyond that.

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecryptMut, KeyIvInit};
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};

use super::blocks::{Window, BLOCK};
use super::content_keys::ContentKey;
use super::DecryptError;

type Decryptor = cbc::Decryptor<aes::Aes256>;

/// The state of one window's decryption.
pub struct Decrypting {
    key: ContentKey,
    cipher: Option<Decryptor>,
    /// Ciphertext bytes still to drop before the window (a storage that answered the whole
    /// file to a range request).
    drop: u64,
    pending: BytesMut,
    skip: u64,
    remaining: u64,
}

impl Decrypting {
    /// `upstream_start`: the offset in the file of the first byte the storage sends.
    pub fn new(key: ContentKey, iv: &[u8; 16], window: &Window, upstream_start: u64) -> Decrypting {
        let cipher = (!window.iv_fetched).then(|| Decryptor::new(key.bytes().into(), iv.into()));
        Decrypting {
            key,
            cipher,
            drop: window.start.saturating_sub(upstream_start),
            pending: BytesMut::new(),
            skip: window.skip,
            remaining: window.take,
        }
    }

    /// Everything wanted has been produced.
    pub fn done(&self) -> bool {
        self.remaining == 0
    }

    /// Takes a chunk of ciphertext and answers the plaintext it completes.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Bytes {
        let dropped = self.drop.min(chunk.len() as u64) as usize;
        self.drop -= dropped as u64;
        chunk = &chunk[dropped..];
        self.pending.extend_from_slice(chunk);
        if self.cipher.is_none() {
            if self.pending.len() < BLOCK as usize {
                return Bytes::new();
            }
            let iv = self.pending.split_to(BLOCK as usize);
            self.cipher = Some(Decryptor::new(self.key.bytes().into(), iv[..].into()));
        }
        let whole = self.pending.len() - self.pending.len() % BLOCK as usize;
        let mut blocks = self.pending.split_to(whole);
        let cipher = self.cipher.as_mut().expect("set above");
        for block in blocks.chunks_exact_mut(BLOCK as usize) {
            cipher.decrypt_block_mut(GenericArray::from_mut_slice(block));
        }
        let skipped = self.skip.min(blocks.len() as u64) as usize;
        self.skip -= skipped as u64;
        let _ = blocks.split_to(skipped);
        let kept = self.remaining.min(blocks.len() as u64) as usize;
        self.remaining -= kept as u64;
        blocks.truncate(kept);
        blocks.freeze()
    }

    /// The upstream ended: fine only if everything wanted was produced.
    pub fn finish(&self) -> Result<(), DecryptError> {
        if self.done() {
            Ok(())
        } else {
            Err(DecryptError::Truncated)
        }
    }
}

/// The decrypted bytes of `upstream`; stops reading it once the window is answered.
pub fn decrypt<S, E>(
    upstream: S,
    state: Decrypting,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    futures_util::stream::unfold(
        (upstream, state, false),
        |(mut upstream, mut state, ended)| async move {
            loop {
                if ended || state.done() {
                    return None;
                }
                match upstream.next().await {
                    Some(Ok(chunk)) => {
                        let plain = state.feed(&chunk);
                        if !plain.is_empty() {
                            return Some((Ok(plain), (upstream, state, false)));
                        }
                    }
                    Some(Err(error)) => {
                        tracing::warn!(%error, "the encrypted media file's download failed");
                        let error = std::io::Error::other("the media file's download failed");
                        return Some((Err(error), (upstream, state, true)));
                    }
                    None => {
                        return match state.finish() {
                            Ok(()) => None,
                            Err(error) => {
                                tracing::warn!(%error, "an encrypted media file ended early");
                                Some((Err(std::io::Error::other(error)), (upstream, state, true)))
                            }
                        };
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::block_padding::Pkcs7;
    use aes::cipher::BlockEncryptMut;

    const KEY: [u8; 32] = [7; 32];
    const IV: [u8; 16] = [9; 16];

    fn encrypt(plain: &[u8]) -> Vec<u8> {
        cbc::Encryptor::<aes::Aes256>::new(&KEY.into(), &IV.into())
            .encrypt_padded_vec_mut::<Pkcs7>(plain)
    }

    fn run(cipher: &[u8], first: u64, last: u64, chunk: usize, whole_file: bool) -> Vec<u8> {
        let window = Window::of(first, last);
        let upstream_start = if whole_file { 0 } else { window.start };
        let sent = &cipher[upstream_start as usize..=window.end as usize];
        let mut state = Decrypting::new(ContentKey::new(KEY), &IV, &window, upstream_start);
        let mut out = Vec::new();
        for piece in sent.chunks(chunk) {
            out.extend_from_slice(&state.feed(piece));
        }
        state.finish().unwrap();
        out
    }

    #[test]
    fn any_range_in_any_chunking_is_the_plaintext() {
        let plain: Vec<u8> = (0..1000u32).map(|i| (i * 31 % 251) as u8).collect();
        let cipher = encrypt(&plain);
        for (first, last) in [(0, 999), (0, 0), (999, 999), (15, 16), (17, 40), (500, 733)] {
            for chunk in [1, 7, 16, 100, 4096] {
                for whole_file in [false, true] {
                    assert_eq!(
                        run(&cipher, first, last, chunk, whole_file),
                        plain[first as usize..=last as usize],
                        "{first}-{last} in chunks of {chunk}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_early_end_is_an_error() {
        let plain = [1u8; 100];
        let cipher = encrypt(&plain);
        let window = Window::of(0, 99);
        let mut state = Decrypting::new(ContentKey::new(KEY), &IV, &window, 0);
        let _ = state.feed(&cipher[..64]);
        assert_eq!(state.finish(), Err(DecryptError::Truncated));
    }

    #[tokio::test]
    async fn the_stream_stops_reading_once_answered() {
        let plain: Vec<u8> = (0..200u8).collect();
        let cipher = encrypt(&plain);
        let window = Window::of(10, 20);
        let chunks: Vec<Result<Bytes, String>> = cipher
            .chunks(16)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .chain(std::iter::once(Err("never read".to_owned())))
            .collect();
        let state = Decrypting::new(ContentKey::new(KEY), &IV, &window, 0);
        let out: Vec<_> = decrypt(futures_util::stream::iter(chunks), state)
            .collect()
            .await;
        let bytes: Vec<u8> = out.into_iter().flat_map(|r| r.unwrap().to_vec()).collect();
        assert_eq!(bytes, plain[10..=20]);
    }
}
