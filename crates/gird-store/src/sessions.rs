//! Web UI sessions, kept in the database so that signing out, a password change or a
//! user's removal ends them at once on every instance. The SQL is the same for both
//! backends (`$n` placeholders, numbered in order, which SQLite reads as well).

use async_trait::async_trait;

use crate::StoreError;

/// One signed-in browser. The token itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub user: String,
    /// A fingerprint of the credentials the user signed in with: when they change, the
    /// session no longer matches and ends.
    pub stamp: String,
    pub expires_ms: i64,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Keeps a new session, and forgets the ones that expired before `now_ms`.
    async fn put_session(&self, session: Session, now_ms: i64) -> Result<(), StoreError>;
    async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError>;
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;
    /// Ends every session of `user`; answers how many there were.
    async fn delete_sessions_of(&self, user: &str) -> Result<u64, StoreError>;
}

pub(crate) const MIGRATION: &str = "
    CREATE TABLE ui_sessions (
        token_hash TEXT PRIMARY KEY,
        user_name TEXT NOT NULL,
        stamp TEXT NOT NULL,
        expires_ms BIGINT NOT NULL
    );
    CREATE INDEX ui_sessions_by_user ON ui_sessions (user_name);
    CREATE INDEX ui_sessions_by_expiry ON ui_sessions (expires_ms);
";

pub(crate) const INSERT: &str =
    "INSERT INTO ui_sessions (token_hash, user_name, stamp, expires_ms) VALUES ($1, $2, $3, $4)";
pub(crate) const PURGE: &str = "DELETE FROM ui_sessions WHERE expires_ms < $1";
pub(crate) const SELECT: &str =
    "SELECT token_hash, user_name, stamp, expires_ms FROM ui_sessions WHERE token_hash = $1";
pub(crate) const DELETE: &str = "DELETE FROM ui_sessions WHERE token_hash = $1";
pub(crate) const DELETE_OF_USER: &str = "DELETE FROM ui_sessions WHERE user_name = $1";
