//! Unwrapping a media file's content key with the contact center's RSA key, under the
//! mitigation chosen for the `rsa` crate's timing advisory (RUSTSEC-2023-0071, "Marvin"):
//! RSA PKCS#1 v1.5 decryption there is not constant-time, so an attacker who can make gird
//! decrypt many chosen envelopes and time the answers could learn to decrypt (or sign)
//! with the key. gird therefore
//!
//! - unwraps each envelope once: the outcome, success or failure, is cached for
//!   [`CACHE_TIME`] per contact center, envelope (its SHA-256) and set of candidate keys,
//!   so a player's many range requests, and repeated probes of one envelope, cost no RSA
//!   operation;
//! - runs one RSA decryption at a time in the whole process, on a blocking thread, with
//!   the crate's random blinding, and at most [`UNWRAPS_PER_MINUTE`] of them a minute
//!   (more are refused, 503 with Retry-After), so the rate of timing samples is bounded;
//! - answers every failure with the same words whatever went wrong inside RSA.
//!
//! Each new envelope must also be inserted into a recording first (Insertion API
//! credentials) and then played (a playback right), which is logged in the audit log.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rsa::Pkcs1v15Encrypt;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use super::envelope::Envelope;
use super::DecryptError;

/// How long an unwrapped content key (or a failure to unwrap) is kept.
pub const CACHE_TIME: Duration = Duration::from_secs(600);
/// At most this many envelopes kept at once; the oldest go first.
const CACHE_ENTRIES: usize = 4096;
/// RSA decryptions allowed per minute, process-wide.
pub const UNWRAPS_PER_MINUTE: usize = 600;

/// A 32-byte AES-256 key, wiped when dropped.
#[derive(Clone)]
pub struct ContentKey([u8; 32]);

impl ContentKey {
    pub fn new(bytes: [u8; 32]) -> ContentKey {
        ContentKey(bytes)
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Drop for ContentKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContentKey(..)")
    }
}

/// A key that may open the envelope: its alias and its private key (PKCS#8 PEM, opened).
pub struct Candidate {
    pub alias: String,
    pub recipient_index: usize,
    pub private_key_pem: String,
}

/// What unwrapping gave: the key and the alias of the key pair that opened it.
pub type Unwrapped = Result<(ContentKey, String), DecryptError>;

struct Cached {
    outcome: Unwrapped,
    until: Instant,
}

pub struct ContentKeys {
    cache: Mutex<HashMap<[u8; 32], Cached>>,
    /// One RSA decryption at a time; when the recent ones were.
    unwrapping: tokio::sync::Mutex<Vec<Instant>>,
    per_minute: usize,
}

impl Default for ContentKeys {
    fn default() -> Self {
        ContentKeys::new()
    }
}

impl ContentKeys {
    pub fn new() -> ContentKeys {
        ContentKeys::with_limit(UNWRAPS_PER_MINUTE)
    }

    /// At most `per_minute` RSA decryptions a minute.
    pub fn with_limit(per_minute: usize) -> ContentKeys {
        ContentKeys {
            cache: Mutex::new(HashMap::new()),
            unwrapping: tokio::sync::Mutex::new(Vec::new()),
            per_minute,
        }
    }

    fn cache_id(contact_center: &str, envelope: &Envelope, candidates: &[Candidate]) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(contact_center.as_bytes());
        hash.update([0]);
        hash.update(envelope.digest);
        for candidate in candidates {
            hash.update(candidate.alias.as_bytes());
            hash.update([0]);
        }
        hash.finalize().into()
    }

    fn cached(&self, id: &[u8; 32]) -> Option<Unwrapped> {
        let cache = self
            .cache
            .lock()
            .expect("the content key cache is never poisoned");
        cache
            .get(id)
            .filter(|cached| cached.until > Instant::now())
            .map(|cached| cached.outcome.clone())
    }

    fn keep(&self, id: [u8; 32], outcome: &Unwrapped) {
        let mut cache = self
            .cache
            .lock()
            .expect("the content key cache is never poisoned");
        let now = Instant::now();
        cache.retain(|_, cached| cached.until > now);
        if cache.len() >= CACHE_ENTRIES {
            if let Some(oldest) = cache
                .iter()
                .min_by_key(|(_, cached)| cached.until)
                .map(|(id, _)| *id)
            {
                cache.remove(&oldest);
            }
        }
        cache.insert(
            id,
            Cached {
                outcome: outcome.clone(),
                until: now + CACHE_TIME,
            },
        );
    }

    /// The envelope's content key, from the cache or unwrapped by the first candidate
    /// that opens it. `Err(RateLimited)` when the rate limit refuses a new unwrapping.
    pub async fn unwrap(
        &self,
        contact_center: &str,
        envelope: &Envelope,
        candidates: Vec<Candidate>,
    ) -> Result<Unwrapped, RateLimited> {
        let id = ContentKeys::cache_id(contact_center, envelope, &candidates);
        if let Some(outcome) = self.cached(&id) {
            return Ok(outcome);
        }
        let mut recent = self.unwrapping.lock().await;
        // Another request may have unwrapped it while this one waited.
        if let Some(outcome) = self.cached(&id) {
            return Ok(outcome);
        }
        let now = Instant::now();
        recent.retain(|at| now.duration_since(*at) < Duration::from_secs(60));
        if recent.len() >= self.per_minute {
            return Err(RateLimited);
        }
        recent.push(now);
        let encrypted: Vec<Vec<u8>> = envelope
            .recipients
            .iter()
            .map(|recipient| recipient.encrypted_key.clone())
            .collect();
        let outcome = tokio::task::spawn_blocking(move || unwrap_with(&candidates, &encrypted))
            .await
            .unwrap_or_else(|_| Err(DecryptError::KeyDoesNotOpen("-".into())));
        drop(recent);
        self.keep(id, &outcome);
        Ok(outcome)
    }
}

/// The rate limit on RSA decryptions refused one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited;

fn unwrap_with(candidates: &[Candidate], encrypted: &[Vec<u8>]) -> Unwrapped {
    let mut rng = rand::rngs::OsRng;
    let mut last_alias = String::from("-");
    for candidate in candidates {
        last_alias.clone_from(&candidate.alias);
        let Some(key) = super::keypair::private_key(&candidate.private_key_pem) else {
            tracing::error!(
                alias = candidate.alias,
                "a stored decryption key does not parse"
            );
            continue;
        };
        let Some(wrapped) = encrypted.get(candidate.recipient_index) else {
            continue;
        };
        let Ok(mut plain) = key.decrypt_blinded(&mut rng, Pkcs1v15Encrypt, wrapped) else {
            continue;
        };
        let opened = <[u8; 32]>::try_from(plain.as_slice()).ok();
        plain.zeroize();
        if let Some(bytes) = opened {
            return Ok((ContentKey::new(bytes), candidate.alias.clone()));
        }
    }
    Err(DecryptError::KeyDoesNotOpen(last_alias))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decrypt::envelope::Recipient;
    use crate::decrypt::RecipientId;
    use rsa::pkcs8::EncodePrivateKey;
    use rsa::RsaPrivateKey;

    fn envelope(wrapped: Vec<u8>, digest: u8) -> Envelope {
        Envelope {
            iv: [0; 16],
            recipients: vec![Recipient {
                id: RecipientId {
                    key: "k".into(),
                    issuer: "CN=ca".into(),
                    serial: "01".into(),
                },
                encrypted_key: wrapped,
            }],
            digest: [digest; 32],
        }
    }

    #[tokio::test]
    async fn unwraps_once_and_caches_success_and_failure() {
        let mut rng = rand::rngs::OsRng;
        let key = RsaPrivateKey::new(&mut rng, 1024).unwrap();
        let pem = key.to_pkcs8_pem(Default::default()).unwrap().to_string();
        let wrapped = key
            .to_public_key()
            .encrypt(&mut rng, Pkcs1v15Encrypt, &[5u8; 32])
            .unwrap();
        let candidate = |pem: &str| {
            vec![Candidate {
                alias: "k1".into(),
                recipient_index: 0,
                private_key_pem: pem.to_owned(),
            }]
        };
        let keys = ContentKeys::new();
        let good = envelope(wrapped.clone(), 1);
        let (opened, alias) = keys
            .unwrap("cc", &good, candidate(&pem))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((opened.bytes(), alias.as_str()), (&[5u8; 32], "k1"));
        // Cached: even a broken key is not asked again for the same envelope and aliases.
        let again = keys.unwrap("cc", &good, candidate("broken")).await.unwrap();
        assert_eq!(again.unwrap().0.bytes(), &[5u8; 32]);
        let mut damaged = wrapped;
        damaged[10] ^= 1;
        let bad = envelope(damaged, 2);
        let failed = keys.unwrap("cc", &bad, candidate(&pem)).await.unwrap();
        assert_eq!(
            failed.unwrap_err(),
            DecryptError::KeyDoesNotOpen("k1".into())
        );
        let short = key
            .to_public_key()
            .encrypt(&mut rng, Pkcs1v15Encrypt, &[5u8; 16])
            .unwrap();
        let short = keys
            .unwrap("cc", &envelope(short, 3), candidate(&pem))
            .await
            .unwrap();
        assert_eq!(
            short.unwrap_err(),
            DecryptError::KeyDoesNotOpen("k1".into())
        );
    }

    #[tokio::test]
    async fn new_envelopes_past_the_limit_are_refused_and_cached_ones_still_answer() {
        let keys = ContentKeys::with_limit(2);
        let candidate = || {
            vec![Candidate {
                alias: "k".into(),
                recipient_index: 0,
                private_key_pem: "not a key".into(),
            }]
        };
        for digest in [1, 2] {
            let outcome = keys
                .unwrap("cc", &envelope(vec![1], digest), candidate())
                .await;
            assert!(matches!(outcome, Ok(Err(DecryptError::KeyDoesNotOpen(_)))));
        }
        let refused = keys.unwrap("cc", &envelope(vec![1], 3), candidate()).await;
        assert_eq!(refused.err(), Some(RateLimited));
        let cached = keys.unwrap("cc", &envelope(vec![1], 1), candidate()).await;
        assert!(cached.is_ok(), "a cached envelope needs no RSA operation");
    }
}
