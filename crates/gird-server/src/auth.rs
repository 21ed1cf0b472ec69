//! HTTP Basic authentication of the ops user (SPEC.md §4).
//!
//! The password may be configured in clear or as an argon2/bcrypt hash. Clear passwords
//! are compared as SHA-256 digests in constant time (so neither content nor length
//! leaks). A hash is verified with its algorithm once; the digest of the password that
//! passed is then cached, since argon2 per request would cost tens of milliseconds.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::audit::Actor;
use crate::error::ApiError;
use crate::settings::Secret;

/// Passwords a server must never run with.
const WELL_KNOWN_PASSWORDS: &[&str] = &[
    "",
    "change-me",
    "changeme",
    "change_me",
    "password",
    "passw0rd",
    "ops",
    "admin",
    "secret",
    "changeit",
    "default",
    "123456",
    "12345678",
    "root",
    "genesys",
    "letmein",
];

#[derive(Debug)]
enum Stored {
    Plain([u8; 32]),
    Argon2(String),
    Bcrypt(String),
}

#[derive(Debug)]
pub struct OpsCredentials {
    user: [u8; 32],
    password: Stored,
    verified_hash_password: OnceLock<[u8; 32]>,
    /// Hash verifications (argon2: tens of ms and ~19 MiB each) run off the async
    /// workers, two at a time, so wrong passwords cannot stall or exhaust the server.
    slow_checks: tokio::sync::Semaphore,
    throttle: Throttle,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("the ops password is a well-known default; set serverSettings.opsUserPassword (or GIRD_OPS_PASSWORD) to a strong one, or remove it to have gird generate one")]
    WellKnownPassword,
    #[error("the ops password hash is not a valid {0} hash")]
    BadHash(&'static str),
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl OpsCredentials {
    pub fn new(user: &str, password: &Secret) -> Result<OpsCredentials, CredentialsError> {
        let text = password.expose();
        let stored = if let Some(hash) = text.strip_prefix("{argon2}") {
            PasswordHash::new(hash).map_err(|_| CredentialsError::BadHash("argon2"))?;
            Stored::Argon2(hash.to_owned())
        } else if let Some(hash) = text.strip_prefix("{bcrypt}") {
            hash.parse::<bcrypt::HashParts>()
                .map_err(|_| CredentialsError::BadHash("bcrypt"))?;
            Stored::Bcrypt(hash.to_owned())
        } else {
            if is_well_known(text) {
                return Err(CredentialsError::WellKnownPassword);
            }
            Stored::Plain(digest(text.as_bytes()))
        };
        Ok(OpsCredentials {
            user: digest(user.as_bytes()),
            password: stored,
            verified_hash_password: OnceLock::new(),
            slow_checks: tokio::sync::Semaphore::new(2),
            throttle: Throttle::default(),
        })
    }

    pub fn verify(&self, user: &str, password: &str) -> bool {
        let user_ok = self.user.ct_eq(&digest(user.as_bytes()));
        let presented = digest(password.as_bytes());
        let password_ok = match &self.password {
            Stored::Plain(expected) => bool::from(expected.ct_eq(&presented)),
            Stored::Argon2(_) | Stored::Bcrypt(_) => self.verify_hashed(password, &presented),
        };
        bool::from(user_ok) & password_ok
    }

    /// Whether [`OpsCredentials::verify`] may run a password hash function.
    fn is_slow(&self) -> bool {
        !matches!(self.password, Stored::Plain(_)) && self.verified_hash_password.get().is_none()
    }

    fn verify_hashed(&self, password: &str, presented: &[u8; 32]) -> bool {
        if let Some(cached) = self.verified_hash_password.get() {
            return cached.ct_eq(presented).into();
        }
        let valid = match &self.password {
            Stored::Argon2(hash) => PasswordHash::new(hash).is_ok_and(|hash| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            }),
            Stored::Bcrypt(hash) => bcrypt::verify(password, hash).unwrap_or(false),
            Stored::Plain(_) => false,
        };
        if valid {
            let _ = self.verified_hash_password.set(*presented);
        }
        valid
    }
}

/// An argon2id hash of `password` in the form the settings accept: `{argon2}$argon2id$...`.
pub fn hash_password(password: &str) -> Result<String, CredentialsError> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    if is_well_known(password) {
        return Err(CredentialsError::WellKnownPassword);
    }
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|_| CredentialsError::BadHash("argon2"))?;
    Ok(format!("{{argon2}}{hash}"))
}

pub fn is_well_known(password: &str) -> bool {
    WELL_KNOWN_PASSWORDS
        .iter()
        .any(|known| known.eq_ignore_ascii_case(password.trim()))
}

/// Splits `Authorization: Basic base64(user:password)`.
fn basic_credentials(request: &Request) -> Option<(String, String)> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Failed sign-ins per client address: after a few, each further failure is answered
/// later and later, so guessing the password from one address is slow.
#[derive(Debug, Default)]
struct Throttle {
    /// Addresses with failures; checked without the lock when empty.
    tracked: std::sync::atomic::AtomicUsize,
    failures: std::sync::Mutex<std::collections::HashMap<IpAddr, (u32, std::time::Instant)>>,
}

/// Failures answered at once; after them the wait doubles from 250 ms up to 10 s.
const FREE_FAILURES: u32 = 5;
/// A failure is forgotten after this long without another.
const FAILURE_MEMORY: std::time::Duration = std::time::Duration::from_secs(600);
/// Addresses remembered at most (the oldest are forgotten first).
const MAX_TRACKED: usize = 10_000;

impl Throttle {
    /// Counts a failure from `ip`; answers how long to wait before saying so.
    fn failed(&self, ip: IpAddr) -> std::time::Duration {
        let Ok(mut failures) = self.failures.lock() else {
            return std::time::Duration::ZERO;
        };
        let now = std::time::Instant::now();
        if failures.len() >= MAX_TRACKED {
            failures.retain(|_, (_, last)| now.duration_since(*last) < FAILURE_MEMORY);
            if failures.len() >= MAX_TRACKED {
                failures.clear();
            }
        }
        let entry = failures.entry(ip).or_insert((0, now));
        if now.duration_since(entry.1) >= FAILURE_MEMORY {
            entry.0 = 0;
        }
        entry.0 += 1;
        entry.1 = now;
        let count = entry.0;
        self.tracked
            .store(failures.len(), std::sync::atomic::Ordering::Relaxed);
        delay_after(count)
    }

    fn succeeded(&self, ip: IpAddr) {
        if self.tracked.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            return;
        }
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&ip);
            self.tracked
                .store(failures.len(), std::sync::atomic::Ordering::Relaxed);
        }
    }
}

fn delay_after(failures: u32) -> std::time::Duration {
    if failures <= FREE_FAILURES {
        return std::time::Duration::ZERO;
    }
    let doublings = (failures - FREE_FAILURES - 1).min(6);
    std::time::Duration::from_millis(250 << doublings).min(std::time::Duration::from_secs(10))
}

impl OpsCredentials {
    /// Checks a user and password from a client; repeated failures from one address are
    /// answered more and more slowly.
    pub async fn check_from(
        self: &Arc<Self>,
        peer: Option<IpAddr>,
        user: &str,
        password: &str,
    ) -> Result<bool, ApiError> {
        let valid = self.check(user, password).await?;
        if let Some(ip) = peer {
            if valid {
                self.throttle.succeeded(ip);
            } else {
                let wait = self.throttle.failed(ip);
                if !wait.is_zero() {
                    tracing::info!(%ip, millis = wait.as_millis() as u64, "repeated failed sign-ins: answering later");
                    tokio::time::sleep(wait).await;
                }
            }
        }
        Ok(valid)
    }

    /// Checks a user and password, hashes off the async workers.
    pub async fn check(self: &Arc<Self>, user: &str, password: &str) -> Result<bool, ApiError> {
        if !self.is_slow() {
            return Ok(self.verify(user, password));
        }
        let _permit = self
            .slow_checks
            .acquire()
            .await
            .map_err(|_| ApiError::Internal)?;
        let checker = Arc::clone(self);
        let (user, password) = (user.to_owned(), password.to_owned());
        Ok(
            tokio::task::spawn_blocking(move || checker.verify(&user, &password))
                .await
                .unwrap_or(false),
        )
    }
}

/// 401/20; to the web UI without `WWW-Authenticate`, which would make the browser ask
/// for a password itself instead of letting the page show its sign-in form.
pub fn unauthenticated(from_ui: bool) -> Response {
    let mut response = ApiError::Unauthenticated.into_response();
    if from_ui {
        response.headers_mut().remove(header::WWW_AUTHENTICATE);
    }
    response
}

/// Who may pass: the ops user by HTTP Basic, or a web UI session cookie.
pub struct Gate {
    pub credentials: Arc<OpsCredentials>,
    pub sessions: Arc<crate::ui::Sessions>,
}

/// Middleware: only the ops user gets through, by Basic auth or by a UI session. A
/// request that changes something on a session's cookie alone must also carry the
/// `X-Gird-UI` header, which no other site can make a browser send.
pub async fn require_ops(
    State(gate): State<Arc<Gate>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let mut request = request;
    let from_ui = request.headers().contains_key(crate::ui::UI_HEADER);
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0);
    let actor = match basic_credentials(&request) {
        Some((user, password)) => {
            let ip = peer.map(|peer| peer.ip());
            if !gate.credentials.check_from(ip, &user, &password).await? {
                tracing::info!(user, "rejected ops credentials");
                return Ok(unauthenticated(from_ui));
            }
            Actor {
                user,
                via: "basic",
                peer,
            }
        }
        None => {
            if !gate.sessions.admits(&request) {
                return Ok(unauthenticated(from_ui));
            }
            let reading = matches!(*request.method(), Method::GET | Method::HEAD);
            if !reading && !from_ui {
                return Err(ApiError::Forbidden(format!(
                    "a request made with the web UI's session must carry the {} header",
                    crate::ui::UI_HEADER
                )));
            }
            Actor {
                user: gate.sessions.user().to_owned(),
                via: "ui-session",
                peer,
            }
        }
    };
    request.extensions_mut().insert(actor);
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_failures_from_one_address_are_answered_later_and_later() {
        let waits: Vec<u64> = (1..=13)
            .map(|n| delay_after(n).as_millis() as u64)
            .collect();
        assert_eq!(
            waits,
            [0, 0, 0, 0, 0, 250, 500, 1000, 2000, 4000, 8000, 10000, 10000]
        );
        let throttle = Throttle::default();
        let (one, other): (IpAddr, IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..5 {
            assert!(throttle.failed(one).is_zero());
        }
        assert!(!throttle.failed(one).is_zero());
        assert!(throttle.failed(other).is_zero(), "per address");
        throttle.succeeded(one);
        assert!(
            throttle.failed(one).is_zero(),
            "a success forgets the failures"
        );
    }

    #[test]
    fn plain_passwords_must_match_exactly() {
        let credentials = OpsCredentials::new("ops", &Secret::new("Zq9-strong")).unwrap();
        assert!(credentials.verify("ops", "Zq9-strong"));
        assert!(!credentials.verify("ops", "Zq9-stron"));
        assert!(!credentials.verify("opsx", "Zq9-strong"));
    }

    #[test]
    fn argon2_hashes_are_verified_and_then_cached() {
        let hash = hash_password("Zq9-strong").unwrap();
        let credentials = OpsCredentials::new("ops", &Secret::new(hash)).unwrap();
        assert!(!credentials.verify("ops", "wrong"));
        assert!(credentials.verify("ops", "Zq9-strong"));
        assert!(credentials.verify("ops", "Zq9-strong"));
        assert!(!credentials.verify("ops", "wrong"));
    }

    #[test]
    fn bcrypt_hashes_are_verified() {
        let hash = bcrypt::hash("Zq9-strong", 4).unwrap();
        let credentials =
            OpsCredentials::new("ops", &Secret::new(format!("{{bcrypt}}{hash}"))).unwrap();
        assert!(credentials.verify("ops", "Zq9-strong"));
        assert!(!credentials.verify("ops", "nope"));
    }

    #[test]
    fn well_known_and_broken_passwords_are_refused() {
        for weak in ["change-me", "PASSWORD", "", "ops"] {
            assert!(matches!(
                OpsCredentials::new("ops", &Secret::new(weak)),
                Err(CredentialsError::WellKnownPassword)
            ));
        }
        assert!(matches!(
            OpsCredentials::new("ops", &Secret::new("{argon2}nope")),
            Err(CredentialsError::BadHash(_))
        ));
    }
}
