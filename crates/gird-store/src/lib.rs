//! gird's storage: one trait named by what the server needs, and its backends.
//!
//! A backend failure is always a [`StoreError`], never "not found": the server turns it
//! into statusCode 4 so clients retry instead of believing a record is absent.

use async_trait::async_trait;
use gird_model::{Recording, StoredRecording};

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed,
    NotFound,
    /// A contact center that still holds recordings.
    NotEmpty,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
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
    ) -> Result<Option<StoredRecording>, StoreError>;
    /// Commits what is pending and stops accepting writes.
    async fn close(&self);
}
