//! gird's storage: traits named by what the server needs, one per concern (contact
//! centers, their storage settings, recordings, the SpeechMiner outbox, web UI sessions,
//! outbound allow-lists, decryption keys), gathered in [`Store`]; and its two backends, [`sqlite`] and
//! [`postgres`], which keep only SQL and its execution: the decisions (merges, holds and
//! deletions, which delivery replaces which) are made once, here, and proved on both by
//! one conformance suite.
//!
//! A backend failure is always a [`StoreError`], never "not found": the server turns it
//! into statusCode 4 so clients retry instead of believing a record is absent.

pub use access_log::{AccessEntry, AccessLogStore};
use async_trait::async_trait;
pub use contact_centers::{
    ContactCenterStore, Removal, S3Settings, StorageSettings, StorageSettingsStore,
};
pub use decryption_keys::{DecryptionKey, DecryptionKeyStore, KeyAdded};
pub use outbox::{
    AttemptResult, Delivery, DeliveryRecord, DeliveryState, OutboxStatus, OutboxStore,
    ReceiverSettings, Repost,
};
pub use recordings::{
    Cursor, DeletionStart, Direction, FoundRecording, HoldChange, InsertOutcome, LegalHold,
    RecordingStore, SearchPage, SearchQuery, DEFAULT_PAGE_BYTES,
};
pub use users::{User, UserStore, UserWrite};

mod access;
pub mod access_log;
#[cfg(test)]
mod conformance;
pub mod contact_centers;
pub mod counts;
pub mod decryption_keys;
pub mod deletion;
mod digests;
pub mod outbound;
pub mod outbox;
mod plan;
pub mod postgres;
pub mod private_files;
pub mod recordings;
mod row;
pub mod sessions;
mod sql;
pub mod sqlite;
pub mod users;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or written right now; a retry may succeed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// What is stored cannot be read back (a bug or a damaged database).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub use deletion::DeletionLease;
pub use outbound::OutboundStore;
pub use sessions::{Session, SessionStore};

/// Everything gird keeps, by concern; each backend implements every part.
#[async_trait]
pub trait Store:
    ContactCenterStore
    + StorageSettingsStore
    + RecordingStore
    + OutboxStore
    + SessionStore
    + OutboundStore
    + UserStore
    + AccessLogStore
    + DecryptionKeyStore
    + Send
    + Sync
    + 'static
{
    /// Commits what is pending and stops accepting writes.
    async fn close(&self);
}

/// The store's traits, to call their methods on an `Arc<dyn Store>`.
pub mod prelude {
    pub use crate::{
        AccessLogStore, ContactCenterStore, DecryptionKeyStore, OutboundStore, OutboxStore,
        RecordingStore, SessionStore, StorageSettingsStore, Store, UserStore,
    };
}
