//! Who is signed in, and what they may do (docs/API.md "Users and access"). The rules are
//! [`gird_model::access`]'s; this is where the HTTP layer applies them, once:
//!
//! - [`open_to_users`]: the paths a user (not the ops user) may call at all;
//! - [`Principal::may`]: the role and permission check of an operation (403/5, 403/3);
//! - [`visible`]: a recording the principal may not see is answered as one that does not
//!   exist (404/6), so its existence is never revealed;
//! - searches carry the principal's [`Visibility`] into the store, which filters in SQL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use gird_model::access::{check, Denied, Operation, Visibility};
use gird_model::{ContactCenterId, Recording};
use gird_store::{FoundRecording, Store, User};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::unknown_recording;
use crate::error::ApiError;

/// Who a request is made by.
#[derive(Debug, Clone)]
pub enum Principal {
    /// The configured ops user: every contact center, every operation.
    Ops,
    /// A user of one contact center.
    User(Arc<SignedIn>),
}

#[derive(Debug)]
pub struct SignedIn {
    pub user: User,
    pub visibility: Visibility,
    /// [`LOCAL`] (a password gird keeps) or [`DIRECTORY`] (LDAP).
    pub source: &'static str,
}

/// A user gird keeps, with their password hash.
pub const LOCAL: &str = "local";
/// A user of the directory (LDAP), signed in by a bind.
pub const DIRECTORY: &str = "directory";

/// What the stored users say of a name and password.
#[derive(Debug)]
pub enum LocalCheck {
    Verified(User),
    WrongPassword,
    /// No stored user has that name.
    Unknown,
}

impl SignedIn {
    pub fn new(user: User, source: &'static str) -> SignedIn {
        let visibility = Visibility::new(&user.name, &user.access_groups, &user.partitions);
        SignedIn {
            user,
            visibility,
            source,
        }
    }
}

impl Principal {
    /// The contact center a user belongs to (`None`: the ops user, who has them all).
    pub fn contact_center(&self) -> Option<&str> {
        match self {
            Principal::Ops => None,
            Principal::User(signed_in) => Some(&signed_in.user.contact_center),
        }
    }

    /// What a search shows: `None` is everything.
    pub fn visibility(&self) -> Option<Visibility> {
        match self {
            Principal::Ops => None,
            Principal::User(signed_in) => Some(signed_in.visibility.clone()),
        }
    }

    pub fn can_see(&self, recording: &Recording) -> bool {
        match self {
            Principal::Ops => true,
            Principal::User(signed_in) => signed_in.visibility.can_see(recording),
        }
    }

    /// The role and permission check of `operation`.
    pub fn may(&self, operation: Operation) -> Result<(), ApiError> {
        let Principal::User(signed_in) = self else {
            return Ok(());
        };
        let user = &signed_in.user;
        check(&user.roles, &user.permissions, operation).map_err(|denied| match denied {
            Denied::Role => ApiError::InsufficientRoles,
            Denied::Permission(_) => ApiError::InsufficientPermissions,
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Principal, ApiError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or(ApiError::Unauthenticated)
    }
}

/// The paths a user may call: the RWS recording API and `/api/v2/me`. Everything else
/// (the ops API, the Insertion API, metrics) is the ops user's alone: 403/5.
pub fn open_to_users(path: &str) -> bool {
    path == "/api/v2/me" || path == "/api/v2/recordings" || path.starts_with("/api/v2/recordings/")
}

/// The recording, when the principal may see it and do `operation` with it: a recording
/// they may not see is answered as unknown (404/6) before the role is checked.
pub fn visible(
    principal: &Principal,
    found: Option<FoundRecording>,
    contact_center: &ContactCenterId,
    id: &str,
    operation: Operation,
) -> Result<FoundRecording, ApiError> {
    let unknown = || unknown_recording(id, contact_center);
    let found = found.ok_or_else(unknown)?;
    if let Principal::User(_) = principal {
        let recording = found.stored.to_recording().map_err(|violations| {
            tracing::error!(%violations, id, "a stored recording cannot be read");
            ApiError::Internal
        })?;
        if !principal.can_see(&recording) {
            return Err(unknown());
        }
    }
    principal.may(operation)?;
    Ok(found)
}

/// Checks that the principal may do `operation` with the recording, loading it only
/// for a user (whose visibility depends on it).
pub async fn admit(
    store: &dyn Store,
    principal: &Principal,
    contact_center: &ContactCenterId,
    id: &str,
    operation: Operation,
) -> Result<(), ApiError> {
    if let Principal::Ops = principal {
        return Ok(());
    }
    let found = store.recording(contact_center.as_str(), id).await?;
    visible(principal, found, contact_center, id, operation).map(drop)
}

/// Verified users' passwords, so that argon2 (tens of milliseconds) runs once per user
/// and password, not per request. An entry is valid for the user's stamp it was made
/// with: a password change makes it stale.
#[derive(Default)]
struct Verified {
    entries: HashMap<String, ([u8; 32], String)>,
}

const MAX_VERIFIED: usize = 10_000;

/// Signs users in with the passwords gird keeps.
pub struct Users {
    store: Arc<dyn Store>,
    verified: Mutex<Verified>,
    /// argon2 verifications run off the async workers, two at a time.
    slow_checks: tokio::sync::Semaphore,
    /// Verified for unknown names, so that an unknown name costs what a wrong password
    /// does (no timing tells which names exist).
    decoy: String,
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// An argon2id hash (PHC string) of a user's password.
pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password with default parameters")
        .to_string()
}

/// A new random stamp: sessions made before it no longer count.
pub fn new_stamp() -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

impl Users {
    pub fn new(store: Arc<dyn Store>) -> Users {
        Users {
            store,
            verified: Mutex::new(Verified::default()),
            slow_checks: tokio::sync::Semaphore::new(2),
            decoy: hash_password("a password no user has"),
        }
    }

    /// Whether `password` is that of the stored user `name`, or no such user exists (an
    /// unknown name costs what a wrong password does all the same).
    pub async fn check(&self, name: &str, password: &str) -> Result<LocalCheck, ApiError> {
        let user = self.store.user(name).await?;
        let presented = digest(password.as_bytes());
        if let Some(user) = &user {
            let cached = self.verified.lock().ok().and_then(|verified| {
                verified
                    .entries
                    .get(&user.name.to_lowercase())
                    .filter(|(_, stamp)| *stamp == user.stamp)
                    .map(|(known, _)| bool::from(known.ct_eq(&presented)))
            });
            if cached == Some(true) {
                return Ok(LocalCheck::Verified(user.clone()));
            }
        }
        let hash = user
            .as_ref()
            .map_or_else(|| self.decoy.clone(), |u| u.password_hash.clone());
        let _permit = self
            .slow_checks
            .acquire()
            .await
            .map_err(|_| ApiError::Internal)?;
        let password = password.to_owned();
        let valid = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|hash| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            })
        })
        .await
        .unwrap_or(false);
        let user = match (user, valid) {
            (Some(user), true) => user,
            (Some(_), false) => return Ok(LocalCheck::WrongPassword),
            (None, _) => return Ok(LocalCheck::Unknown),
        };
        if let Ok(mut verified) = self.verified.lock() {
            if verified.entries.len() >= MAX_VERIFIED {
                verified.entries.clear();
            }
            verified
                .entries
                .insert(user.name.to_lowercase(), (presented, user.stamp.clone()));
        }
        Ok(LocalCheck::Verified(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_reach_only_the_recording_api_and_themselves() {
        for open in [
            "/api/v2/me",
            "/api/v2/recordings",
            "/api/v2/recordings/r1",
            "/api/v2/recordings/r1/play/x.mp3",
        ] {
            assert!(open_to_users(open), "{open}");
        }
        for closed in [
            "/api/v2/ops/contact-centers",
            "/api/v2/ops/contact-centers/acme/recordings",
            "/internal-api/contact-centers/acme/recordings",
            "/metrics",
            "/api/v2/recordingsX",
            "/api/v2/me/x",
        ] {
            assert!(!open_to_users(closed), "{closed}");
        }
    }
}
