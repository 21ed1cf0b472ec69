//! Sealing the WebDAV passwords kept in the database, with ChaCha20-Poly1305 under a key
//! derived from the configured storage key. A database copied without the key does not
//! reveal them.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};

use crate::settings::Secret;

const NONCE_BYTES: usize = 12;

pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl Sealer {
    pub fn new(key: &Secret) -> Sealer {
        let key: [u8; 32] = Sha256::digest(key.expose().as_bytes()).into();
        Sealer {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// base64 of nonce and ciphertext.
    pub fn seal(&self, plain: &str) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, plain.as_bytes())
            .expect("ChaCha20-Poly1305 encrypts any message that fits in memory");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        STANDARD.encode(bytes)
    }

    /// `None` when the text was sealed with another key or is damaged.
    pub fn open(&self, sealed: &str) -> Option<String> {
        let bytes = STANDARD.decode(sealed).ok()?;
        if bytes.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_with_the_same_key_only() {
        let sealer = Sealer::new(&Secret::new("key one"));
        let sealed = sealer.seal("dav password");
        assert!(!sealed.contains("dav password"));
        assert_ne!(
            sealed,
            sealer.seal("dav password"),
            "a fresh nonce each time"
        );
        assert_eq!(sealer.open(&sealed).as_deref(), Some("dav password"));
        assert_eq!(Sealer::new(&Secret::new("key two")).open(&sealed), None);
        assert_eq!(sealer.open("garbage"), None);
    }
}
