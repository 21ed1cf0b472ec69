//! Who accessed which recording: every read, playback, hold change and deletion by a
//! person, kept for compliance ("who listened to what"). Entries outlive the recording's
//! deletion; they go with the contact center. The SQL is the same for both backends.

use async_trait::async_trait;

use crate::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    pub contact_center: String,
    pub recording_id: String,
    pub at_ms: i64,
    pub user: String,
    /// The client's address, when known.
    pub address: Option<String>,
    /// `read`, `play`, `legal-hold`, `delete`.
    pub action: String,
    /// What was done: the media file and range played, the hold operation, ...
    pub detail: String,
}

#[async_trait]
pub trait AccessLogStore: Send + Sync {
    async fn record_access(&self, entry: AccessEntry) -> Result<(), StoreError>;
    /// The recording's history, newest first, at most `limit` entries.
    async fn access_history(
        &self,
        contact_center: &str,
        recording_id: &str,
        limit: usize,
    ) -> Result<Vec<AccessEntry>, StoreError>;
}

pub(crate) const MIGRATION: &str = "
    CREATE TABLE recording_access (
        contact_center_id TEXT NOT NULL,
        recording_id TEXT NOT NULL,
        at_ms BIGINT NOT NULL,
        user_name TEXT NOT NULL,
        address TEXT,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX recording_access_by_recording
        ON recording_access (contact_center_id, recording_id, at_ms);
";

pub(crate) const INSERT: &str = "
    INSERT INTO recording_access (contact_center_id, recording_id, at_ms, user_name, address,
        action, detail)
    VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(crate) const HISTORY: &str = "
    SELECT at_ms, user_name, address, action, detail FROM recording_access
    WHERE contact_center_id = $1 AND recording_id = $2 ORDER BY at_ms DESC LIMIT $3";
/// An entry of [`HISTORY`]'s columns, in order.
pub(crate) fn entry(
    contact_center: &str,
    recording_id: &str,
    (at_ms, user, address, action, detail): (i64, String, Option<String>, String, String),
) -> AccessEntry {
    AccessEntry {
        contact_center: contact_center.to_owned(),
        recording_id: recording_id.to_owned(),
        at_ms,
        user,
        address,
        action,
        detail,
    }
}

pub(crate) const FORGET_CONTACT_CENTER: &str =
    "DELETE FROM recording_access WHERE contact_center_id = $1";
