//! gird's storage: one trait named by what the server needs, and its backends.
//!
//! A backend failure is always a [`StoreError`], never "not found": the server turns it
//! into statusCode 4 so clients retry instead of believing a record is absent.

use std::sync::Arc;

use async_trait::async_trait;
use gird_model::search::PhoneMatch;
use gird_model::{Recording, StoredRecording};
pub use outbox::{
    AttemptResult, Delivery, DeliveryRecord, DeliveryState, OutboxStatus, ReceiverSettings, Repost,
};

pub mod counts;
pub mod deletion;
mod digests;
pub mod outbound;
pub mod outbox;
#[cfg(test)]
mod outbox_conformance;
mod plan;
pub mod postgres;
pub mod private_files;
mod row;
#[cfg(test)]
mod s3_conformance;
pub mod sessions;
pub mod sqlite;

/// The feature that lets a contact center use the Insertion API.
pub const INSERTION_FEATURE: &str = "api-supervisor-recording";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactCenter {
    pub id: String,
    pub domains: Vec<String>,
    pub features: Vec<String>,
}

impl ContactCenter {
    pub fn has_feature(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or written right now; a retry may succeed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// What is stored cannot be read back (a bug or a damaged database).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// What an insert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// A new recording was stored.
    Created,
    /// An existing recording was merged with the POST.
    Merged,
    /// The POST brought nothing new (a retry or a duplicate).
    Unchanged,
    /// The contact center disappeared before the write.
    ContactCenterMissing,
    /// A `mediaId` already belongs to another recording of the contact center.
    MediaIdTaken { media_id: String, owner: String },
    /// The recording is being deleted with its media files; a POST after the deletion
    /// starts a new record.
    BeingDeleted,
    /// The merge would make the recording larger than gird keeps; nothing was stored.
    TooLarge(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed,
    NotFound,
    /// A contact center that still holds recordings.
    NotEmpty,
}

/// Where a contact center's media files are, and the credentials for it (the password
/// sealed by the server; the store never sees it in clear).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageSettings {
    pub base_url: String,
    pub username: Option<String>,
    pub sealed_password: Option<String>,
}

/// A contact center's S3 storage: where requests go, how they are signed (the secret
/// sealed by the server), and the buckets its records may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// `None`: AWS's endpoint for the region.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub sealed_secret: String,
    /// Path-style URLs (`endpoint/bucket/key`) instead of virtual-hosted ones
    /// (`bucket.endpoint/key`).
    pub path_style: bool,
    pub buckets: Vec<String>,
}

/// A stored recording with the state kept beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundRecording {
    pub id: String,
    pub start_ms: i64,
    pub stored: StoredRecording,
    pub legal_hold: LegalHold,
    /// The length of its stored JSON, in bytes: what a page of a search costs.
    pub stored_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegalHold {
    None,
    /// `applyNonDelete`: nothing may delete the recording.
    Held,
    /// A deletion (with its media files) has begun and not finished.
    Deleting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Towards older recordings (`next`).
    Older,
    /// Towards newer recordings (`previous`).
    Newer,
}

/// A position in the newest-first order: the start instant and id of a recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub direction: Direction,
    pub start_ms: i64,
    pub id: String,
}

/// The most stored bytes one page of a search holds by default.
pub const DEFAULT_PAGE_BYTES: usize = 8 * 1024 * 1024;

/// Every filter is optional; all given ones must match.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub contact_center: String,
    /// Recordings overlapping `[from, to)`.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub caller: Option<PhoneMatch>,
    pub dialed: Option<PhoneMatch>,
    /// `(kind, value)` of [`gird_model::search`] terms; agents in lower case.
    pub terms: Vec<(&'static str, String)>,
    pub media_id: Option<String>,
    pub region: Option<String>,
    pub call_type: Option<String>,
    pub limit: usize,
    /// A page holds recordings of at most this many stored bytes together (but always at
    /// least one): the rest comes with `next`.
    pub max_bytes: usize,
    pub cursor: Option<Cursor>,
    /// Also count the matches (up to [`counts::SEARCH_COUNT_CAP`]).
    pub count: bool,
}

impl Default for SearchQuery {
    fn default() -> SearchQuery {
        SearchQuery {
            contact_center: String::new(),
            from: None,
            to: None,
            caller: None,
            dialed: None,
            terms: Vec::new(),
            media_id: None,
            region: None,
            call_type: None,
            limit: 0,
            max_bytes: DEFAULT_PAGE_BYTES,
            cursor: None,
            count: false,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SearchPage {
    /// Newest first.
    pub recordings: Vec<FoundRecording>,
    pub more_older: bool,
    pub more_newer: bool,
    /// With [`SearchQuery::count`]: every match's count, at most
    /// [`counts::SEARCH_COUNT_CAP`] (then there may be more).
    pub total: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DeletionStart {
    /// The recording is marked as being deleted; here it is, to delete its media files.
    Ready(Recording),
    NotFound,
    OnHold,
    /// Another request is deleting it (its lease is live).
    InProgress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldChange {
    Done,
    NotFound,
    /// A deletion has begun: finish it (DELETE again) or cancel it with `removeNonDelete`.
    DeletionInProgress,
}

pub use deletion::DeletionLease;
pub use outbound::OutboundStore;
pub use sessions::{Session, SessionStore};

#[async_trait]
pub trait Store: SessionStore + OutboundStore + Send + Sync + 'static {
    /// Answers false when the id is taken.
    async fn create_contact_center(&self, id: &str, domains: &[String])
        -> Result<bool, StoreError>;
    async fn contact_center(&self, id: &str) -> Result<Option<ContactCenter>, StoreError>;
    async fn contact_center_ids(&self) -> Result<Vec<String>, StoreError>;
    async fn delete_contact_center(&self, id: &str) -> Result<Removal, StoreError>;
    /// Answers false when the contact center does not exist.
    async fn enable_features(&self, id: &str, features: &[String]) -> Result<bool, StoreError>;
    async fn disable_feature(&self, id: &str, feature: &str) -> Result<Removal, StoreError>;
    /// Stores a new recording or merges it into the one with the same id; answers once
    /// the change is durable.
    async fn insert_or_merge(
        &self,
        contact_center: &str,
        recording: Recording,
    ) -> Result<InsertOutcome, StoreError>;
    async fn recording(
        &self,
        contact_center: &str,
        id: &str,
    ) -> Result<Option<FoundRecording>, StoreError>;
    /// How many recordings the contact center holds (kept up to date by the writes).
    async fn recording_count(&self, contact_center: &str) -> Result<u64, StoreError>;
    /// The contact centers that have a recording with this id.
    async fn contact_centers_with_recording(&self, id: &str) -> Result<Vec<String>, StoreError>;
    async fn search(&self, query: SearchQuery) -> Result<SearchPage, StoreError>;
    /// Deletes the recording in one transaction unless it is on legal hold (`Ready` carries
    /// what was deleted).
    async fn delete_recording(
        &self,
        contact_center: &str,
        id: &str,
    ) -> Result<DeletionStart, StoreError>;
    /// Marks the recording as being deleted and takes `lease`, unless it is on legal hold
    /// or another deletion's lease is live, for a deletion that must first remove its media
    /// files (see [`deletion`]).
    async fn begin_deletion(
        &self,
        contact_center: &str,
        id: &str,
        lease: &DeletionLease,
        now_ms: i64,
    ) -> Result<DeletionStart, StoreError>;
    /// Extends the lease to `lease.until_ms`; false when it is no longer this deletion's.
    async fn renew_deletion(
        &self,
        contact_center: &str,
        id: &str,
        lease: &DeletionLease,
    ) -> Result<bool, StoreError>;
    /// Deletes a recording marked by [`Store::begin_deletion`] under `token`; false when
    /// another deletion took it over.
    async fn finish_deletion(
        &self,
        contact_center: &str,
        id: &str,
        token: &str,
    ) -> Result<bool, StoreError>;
    /// Gives up the lease after a media file could not be deleted. With `unmark` (no file
    /// was deleted yet) the recording is as before the deletion; otherwise the mark stays,
    /// so that the next deletion finishes the work.
    async fn release_deletion(
        &self,
        contact_center: &str,
        id: &str,
        token: &str,
        unmark: bool,
    ) -> Result<(), StoreError>;
    async fn set_legal_hold(
        &self,
        contact_center: &str,
        id: &str,
        hold: bool,
    ) -> Result<HoldChange, StoreError>;
    /// Answers false when the contact center does not exist.
    async fn put_storage(
        &self,
        contact_center: &str,
        settings: StorageSettings,
    ) -> Result<bool, StoreError>;
    async fn storage(&self, contact_center: &str) -> Result<Option<StorageSettings>, StoreError>;
    async fn delete_storage(&self, contact_center: &str) -> Result<Removal, StoreError>;
    /// Answers false when the contact center does not exist.
    async fn put_s3_storage(
        &self,
        contact_center: &str,
        settings: S3Settings,
    ) -> Result<bool, StoreError>;
    async fn s3_storage(&self, contact_center: &str) -> Result<Option<S3Settings>, StoreError>;
    async fn delete_s3_storage(&self, contact_center: &str) -> Result<Removal, StoreError>;

    // SpeechMiner forwarding: see [`outbox`].
    /// Answers false when the contact center does not exist.
    async fn put_receiver(
        &self,
        contact_center: &str,
        settings: ReceiverSettings,
    ) -> Result<bool, StoreError>;
    async fn receiver(&self, contact_center: &str) -> Result<Option<ReceiverSettings>, StoreError>;
    async fn delete_receiver(&self, contact_center: &str) -> Result<Removal, StoreError>;
    /// Whether a delivery can be claimed now: a read, to spare a write when none can.
    async fn deliveries_due(&self, now_ms: i64) -> Result<bool, StoreError>;
    /// Claims up to `limit` due deliveries, each leased until `lease_until_ms`: if it is
    /// not finished by then, it is claimed again (by this or another instance).
    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError>;
    async fn finish_delivery(
        &self,
        id: i64,
        result: AttemptResult,
        now_ms: i64,
    ) -> Result<(), StoreError>;
    /// Makes deliveries that a process which died left in flight due at once, where one
    /// process owns the database (SQLite); elsewhere their leases run out by themselves.
    async fn release_deliveries(&self, now_ms: i64) -> Result<(), StoreError>;
    /// Queues deliveries again; answers how many.
    async fn repost(
        &self,
        contact_center: &str,
        what: Repost,
        now_ms: i64,
    ) -> Result<u64, StoreError>;
    /// Counts for one contact center, or all of them.
    async fn outbox_status(&self, contact_center: Option<&str>)
        -> Result<OutboxStatus, StoreError>;
    /// The latest delivery of a recording.
    async fn latest_delivery(
        &self,
        contact_center: &str,
        id: &str,
    ) -> Result<Option<DeliveryRecord>, StoreError>;
    /// The oldest dead letters of a contact center.
    async fn dead_letters(
        &self,
        contact_center: &str,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError>;
    /// Notified after a change of this process queued a delivery.
    fn deliveries_queued(&self) -> Arc<tokio::sync::Notify>;

    /// Commits what is pending and stops accepting writes.
    async fn close(&self);
}
