//! Recordings: insert or merge, read, search, delete (with the lease of a deletion of
//! media files) and legal hold.

use async_trait::async_trait;
use gird_model::search::PhoneMatch;
use gird_model::{Recording, StoredRecording};

use crate::{DeletionLease, StoreError};

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
    /// Only what this user may see ([`gird_model::access`]); `None` sees everything (the
    /// ops user).
    pub visibility: Option<gird_model::access::Visibility>,
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
            visibility: None,
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

/// The recordings of every contact center.
#[async_trait]
pub trait RecordingStore: Send + Sync {
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
}
