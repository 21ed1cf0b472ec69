//! HTTP Basic authentication of the ops user and of users (docs/API.md).
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

use crate::access::{LocalCheck, Principal, SignedIn, DIRECTORY, LOCAL};
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

/// Failed sign-ins per client address (IPv6: per /64), checked **before** a password is
/// verified: after [`FREE_FAILURES`] failures the address is locked for a while that
/// doubles with each further failure, and every attempt from it meanwhile — the right
/// password too — is answered 429 without being verified. Attempts under way count
/// against the free ones, so parallel guesses gain nothing. A global budget bounds the
/// failures of all addresses together; when it is spent, only addresses that signed in
/// successfully before are verified.
#[derive(Debug, Default)]
struct Throttle {
    state: std::sync::Mutex<ThrottleState>,
}

#[derive(Debug, Default)]
struct ThrottleState {
    addresses: std::collections::HashMap<IpAddr, Attempts>,
    /// Failures the global budget still allows, refilled over time.
    budget: Option<(f64, std::time::Instant)>,
    /// Addresses that signed in successfully lately (the budget does not apply to them).
    trusted: std::collections::HashMap<IpAddr, std::time::Instant>,
}

#[derive(Debug, Clone, Copy)]
struct Attempts {
    failures: u32,
    in_flight: u32,
    last: std::time::Instant,
    locked_until: Option<std::time::Instant>,
}

/// Failures allowed before an address is locked; the lock then lasts 1 s, doubling with
/// each further failure up to [`LONGEST_LOCK`].
const FREE_FAILURES: u32 = 5;
const LONGEST_LOCK: std::time::Duration = std::time::Duration::from_secs(300);
/// A failure is forgotten after this long without another.
const FAILURE_MEMORY: std::time::Duration = std::time::Duration::from_secs(600);
/// Addresses remembered at most; the one failing longest ago is forgotten first.
const MAX_TRACKED: usize = 10_000;
/// Failed sign-ins of all addresses together: a burst of this many, then this many a
/// second.
const GLOBAL_BURST: f64 = 100.0;
const GLOBAL_PER_SECOND: f64 = 10.0;
/// How long a successful sign-in exempts its address from the global budget.
const TRUST_FOR: std::time::Duration = std::time::Duration::from_secs(3600);

/// What the throttle says of an attempt about to be verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    Verify,
    /// Answer 429; retry after this long.
    Locked(std::time::Duration),
}

fn lock_after(failures: u32) -> Option<std::time::Duration> {
    if failures < FREE_FAILURES {
        return None;
    }
    let doublings = (failures - FREE_FAILURES).min(16);
    Some(std::time::Duration::from_secs(1 << doublings).min(LONGEST_LOCK))
}

impl Throttle {
    /// Admits an attempt from `ip` (counted as in flight until [`Throttle::finish`]).
    fn admit(&self, ip: IpAddr, now: std::time::Instant) -> Admission {
        let key = crate::listen::client_key(ip);
        let Ok(mut state) = self.state.lock() else {
            return Admission::Verify;
        };
        let trusted = state
            .trusted
            .get(&key)
            .is_some_and(|since| now.duration_since(*since) < TRUST_FOR);
        if let Some(attempts) = state.addresses.get_mut(&key) {
            if now.duration_since(attempts.last) >= FAILURE_MEMORY && attempts.in_flight == 0 {
                attempts.failures = 0;
                attempts.locked_until = None;
            }
            if let Some(until) = attempts.locked_until.filter(|until| *until > now) {
                return Admission::Locked(until - now);
            }
            if attempts.in_flight > 0 && attempts.failures + attempts.in_flight >= FREE_FAILURES {
                // Earlier attempts are still being verified: wait for their outcome.
                return Admission::Locked(std::time::Duration::from_secs(1));
            }
        }
        if !trusted && state.budget_left(now) < 1.0 {
            return Admission::Locked(std::time::Duration::from_secs(1));
        }
        state.make_room(key, now);
        let attempts = state.addresses.entry(key).or_insert(Attempts {
            failures: 0,
            in_flight: 0,
            last: now,
            locked_until: None,
        });
        attempts.in_flight += 1;
        Admission::Verify
    }

    /// Records the outcome of an attempt [`Throttle::admit`] let through.
    fn finish(&self, ip: IpAddr, valid: bool, now: std::time::Instant) {
        let key = crate::listen::client_key(ip);
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if valid {
            state.addresses.remove(&key);
            state.trusted.insert(key, now);
            if state.trusted.len() > MAX_TRACKED {
                state
                    .trusted
                    .retain(|_, since| now.duration_since(*since) < TRUST_FOR);
            }
            return;
        }
        state.spend_budget(now);
        if let Some(attempts) = state.addresses.get_mut(&key) {
            attempts.in_flight = attempts.in_flight.saturating_sub(1);
            attempts.failures += 1;
            attempts.last = now;
            attempts.locked_until = lock_after(attempts.failures).map(|lock| now + lock);
        }
    }
}

impl ThrottleState {
    fn budget_left(&mut self, now: std::time::Instant) -> f64 {
        let (left, since) = self.budget.get_or_insert((GLOBAL_BURST, now));
        let refill = now.duration_since(*since).as_secs_f64() * GLOBAL_PER_SECOND;
        *left = (*left + refill).min(GLOBAL_BURST);
        *since = now;
        *left
    }

    fn spend_budget(&mut self, now: std::time::Instant) {
        self.budget_left(now);
        if let Some((left, _)) = &mut self.budget {
            *left = (*left - 1.0).max(-GLOBAL_BURST);
        }
    }

    /// Before a new address is tracked, when the table is full: forget the address that
    /// failed longest ago, preferring one that is not locked (never one being verified).
    fn make_room(&mut self, key: IpAddr, now: std::time::Instant) {
        if self.addresses.len() < MAX_TRACKED || self.addresses.contains_key(&key) {
            return;
        }
        self.addresses.retain(|_, attempts| {
            now.duration_since(attempts.last) < FAILURE_MEMORY || attempts.in_flight > 0
        });
        if self.addresses.len() < MAX_TRACKED {
            return;
        }
        let oldest = self
            .addresses
            .iter()
            .filter(|(_, attempts)| attempts.in_flight == 0)
            .min_by_key(|(_, attempts)| {
                let locked = attempts.locked_until.is_some_and(|until| until > now);
                (locked, attempts.last)
            })
            .map(|(ip, _)| *ip);
        if let Some(oldest) = oldest {
            self.addresses.remove(&oldest);
        }
    }
}

/// What a sign-in check found, for the throttle.
pub trait SignInOutcome {
    fn succeeded(&self) -> bool;
}

impl SignInOutcome for bool {
    fn succeeded(&self) -> bool {
        *self
    }
}

impl<T> SignInOutcome for Option<T> {
    fn succeeded(&self) -> bool {
        self.is_some()
    }
}

impl OpsCredentials {
    /// Whether `user` is the ops user's name (compared in constant time).
    pub fn is_ops_user(&self, user: &str) -> bool {
        self.user.ct_eq(&digest(user.as_bytes())).into()
    }

    /// Runs a sign-in check for a client unless its address is locked by the throttle
    /// (then [`ApiError::TooManyAttempts`], without running it); its outcome counts.
    pub async fn throttled<T: SignInOutcome>(
        &self,
        peer: Option<IpAddr>,
        check: impl std::future::Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        let Some(ip) = peer else {
            return check.await;
        };
        if let Admission::Locked(wait) = self.throttle.admit(ip, std::time::Instant::now()) {
            tracing::info!(%ip, seconds = wait.as_secs_f64().ceil() as u64, "repeated failed sign-ins: locked");
            return Err(ApiError::TooManyAttempts(wait));
        }
        let checked = check.await;
        // An error (the directory unavailable, say) is a failure too: remembered directory
        // sign-ins still succeed then, so free 503s would test passwords against them.
        let valid = checked.as_ref().is_ok_and(SignInOutcome::succeeded);
        self.throttle.finish(ip, valid, std::time::Instant::now());
        checked
    }

    /// Checks the ops user and password from a client, behind the throttle.
    pub async fn check_from(
        self: &Arc<Self>,
        peer: Option<IpAddr>,
        user: &str,
        password: &str,
    ) -> Result<bool, ApiError> {
        self.throttled(peer, self.check(user, password)).await
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

/// Who may pass: the ops user or a user, by HTTP Basic or a web UI session cookie.
pub struct Gate {
    pub credentials: Arc<OpsCredentials>,
    pub users: Arc<crate::access::Users>,
    /// Directory users (LDAP), when configured.
    pub directory: Option<Arc<crate::directory::Directory>>,
    pub sessions: Arc<crate::ui::Sessions>,
}

impl Gate {
    /// Checks a user name and password from a client — the ops user's, a stored user's
    /// or, for a name no stored user has, a directory user's — behind the throttle of
    /// failed sign-ins (the same for all).
    pub async fn sign_in(
        &self,
        peer: Option<IpAddr>,
        user: &str,
        password: &str,
    ) -> Result<Option<Principal>, ApiError> {
        if self.credentials.is_ops_user(user) {
            let valid = self.credentials.check_from(peer, user, password).await?;
            return Ok(valid.then_some(Principal::Ops));
        }
        let users = Arc::clone(&self.users);
        let directory = self.directory.clone();
        let (name, password) = (user.to_owned(), password.to_owned());
        let verified = self
            .credentials
            .throttled(peer, async move {
                match users.check(&name, &password).await? {
                    LocalCheck::Verified(user) => Ok(Some(SignedIn::new(user, LOCAL))),
                    LocalCheck::WrongPassword => Ok(None),
                    LocalCheck::Unknown => match directory {
                        Some(directory) => Ok(directory
                            .verify(&name, &password)
                            .await?
                            .map(|user| SignedIn::new(user, DIRECTORY))),
                        None => Ok(None),
                    },
                }
            })
            .await?;
        Ok(verified.map(|signed_in| Principal::User(Arc::new(signed_in))))
    }
}

/// Middleware: the ops user or a user gets through, by Basic auth or by a UI session;
/// users only to the paths open to them ([`crate::access::open_to_users`], else 403/5).
/// A request that changes something on a session's cookie alone must also carry the
/// `X-Gird-UI` header, which no other site can make a browser send.
pub async fn authenticate(
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
    let (principal, via) = match basic_credentials(&request) {
        Some((user, password)) => {
            let ip = peer.map(|peer| peer.ip());
            let Some(principal) = gate.sign_in(ip, &user, &password).await? else {
                // Not the user name: clients that swap the fields would log the password.
                tracing::info!(peer = ?peer.map(|peer| peer.ip()), "rejected credentials");
                return Ok(unauthenticated(from_ui));
            };
            (principal, "basic")
        }
        None => {
            let Some(principal) = gate.sessions.admits(request.headers()).await? else {
                return Ok(unauthenticated(from_ui));
            };
            let reading = matches!(*request.method(), Method::GET | Method::HEAD);
            if !reading && !from_ui {
                return Err(ApiError::Forbidden(format!(
                    "a request made with the web UI's session must carry the {} header",
                    crate::ui::UI_HEADER
                )));
            }
            (principal, "ui-session")
        }
    };
    if !matches!(principal, Principal::Ops) && !crate::access::open_to_users(request.uri().path()) {
        return Err(ApiError::InsufficientRoles);
    }
    let user = match &principal {
        Principal::Ops => gate.sessions.user().to_owned(),
        Principal::User(signed_in) => signed_in.user.name.clone(),
    };
    request.extensions_mut().insert(Actor { user, via, peer });
    request.extensions_mut().insert(principal);
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::{Duration, Instant};

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_address_is_locked_before_its_password_is_verified() {
        let throttle = Throttle::default();
        let now = Instant::now();
        let one = ip("10.0.0.1");
        for _ in 0..FREE_FAILURES {
            assert_eq!(throttle.admit(one, now), Admission::Verify);
            throttle.finish(one, false, now);
        }
        assert_eq!(
            throttle.admit(one, now),
            Admission::Locked(Duration::from_secs(1))
        );
        assert_eq!(
            throttle.admit(ip("10.0.0.2"), now),
            Admission::Verify,
            "per address"
        );
        // After the lock, one more try; a failure doubles the lock.
        let later = now + Duration::from_secs(1);
        assert_eq!(throttle.admit(one, later), Admission::Verify);
        throttle.finish(one, false, later);
        assert_eq!(
            throttle.admit(one, later),
            Admission::Locked(Duration::from_secs(2))
        );
        let much_later = later + Duration::from_secs(2);
        assert_eq!(throttle.admit(one, much_later), Admission::Verify);
        throttle.finish(one, true, much_later);
        assert_eq!(
            throttle.admit(one, much_later),
            Admission::Verify,
            "a success forgets"
        );
    }

    #[test]
    fn parallel_attempts_count_before_their_outcome() {
        let throttle = Throttle::default();
        let now = Instant::now();
        let one = ip("10.0.0.1");
        let admitted = (0..400)
            .filter(|_| throttle.admit(one, now) == Admission::Verify)
            .count();
        assert_eq!(admitted, FREE_FAILURES as usize);
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for host in 0..FREE_FAILURES {
            let address = ip(&format!("2001:db8:1:2::{host:x}"));
            assert_eq!(throttle.admit(address, now), Admission::Verify);
            throttle.finish(address, false, now);
        }
        assert!(matches!(
            throttle.admit(ip("2001:db8:1:2:ffff::1"), now),
            Admission::Locked(_)
        ));
        assert_eq!(
            throttle.admit(ip("2001:db8:1:3::1"), now),
            Admission::Verify
        );
    }

    #[test]
    fn a_full_table_forgets_the_oldest_not_everything() {
        let throttle = Throttle::default();
        let start = Instant::now();
        let locked = ip("10.255.255.255");
        for _ in 0..FREE_FAILURES {
            throttle.admit(locked, start);
            throttle.finish(locked, false, start);
        }
        {
            // Fill the table directly (the global budget would stop so many failures).
            let mut state = throttle.state.lock().unwrap();
            for n in 0..MAX_TRACKED as u32 - 1 {
                let address = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
                state.addresses.insert(
                    address,
                    Attempts {
                        failures: 1,
                        in_flight: 0,
                        last: start + Duration::from_micros(1 + u64::from(n)),
                        locked_until: None,
                    },
                );
            }
        }
        let now = start + Duration::from_millis(500);
        for newcomer in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
            assert_eq!(throttle.admit(ip(newcomer), now), Admission::Verify);
        }
        let state = throttle.state.lock().unwrap();
        assert_eq!(state.addresses.len(), MAX_TRACKED);
        assert!(state.addresses.contains_key(&ip("192.0.2.3")));
        assert!(
            !state.addresses.contains_key(&ip("10.0.0.0")),
            "the oldest went first"
        );
        assert!(
            state.addresses.contains_key(&ip("10.0.0.3")),
            "the rest stay"
        );
        drop(state);
        assert!(
            matches!(throttle.admit(locked, now), Admission::Locked(_)),
            "a locked address is kept although it failed longest ago"
        );
    }

    #[test]
    fn the_global_budget_bounds_failures_from_many_addresses() {
        let throttle = Throttle::default();
        let now = Instant::now();
        let trusted = ip("192.0.2.200");
        throttle.admit(trusted, now);
        throttle.finish(trusted, true, now);
        let mut verified = 0;
        for n in 0..2_000u32 {
            let address = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
            if throttle.admit(address, now) == Admission::Verify {
                verified += 1;
                throttle.finish(address, false, now);
            }
        }
        assert_eq!(verified, GLOBAL_BURST as usize);
        assert_eq!(
            throttle.admit(trusted, now),
            Admission::Verify,
            "an address that signed in before is still verified"
        );
        let refilled = now + Duration::from_secs(1);
        assert_eq!(
            throttle.admit(ip("10.200.0.1"), refilled),
            Admission::Verify
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
