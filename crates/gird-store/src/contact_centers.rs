//! Contact centers, their features and their media storage settings: what the ops API
//! manages for each contact center.

use async_trait::async_trait;
use gird_model::ContactCenter;

use crate::StoreError;

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

/// Contact centers and their features.
#[async_trait]
pub trait ContactCenterStore: Send + Sync {
    /// Answers false when the id is taken.
    async fn create_contact_center(&self, id: &str, domains: &[String])
        -> Result<bool, StoreError>;

    async fn contact_center(&self, id: &str) -> Result<Option<ContactCenter>, StoreError>;

    async fn contact_center_ids(&self) -> Result<Vec<String>, StoreError>;

    async fn delete_contact_center(&self, id: &str) -> Result<Removal, StoreError>;

    /// Answers false when the contact center does not exist.
    async fn enable_features(&self, id: &str, features: &[String]) -> Result<bool, StoreError>;

    async fn disable_feature(&self, id: &str, feature: &str) -> Result<Removal, StoreError>;

    /// How many recordings the contact center holds (kept up to date by the writes).
    async fn recording_count(&self, contact_center: &str) -> Result<u64, StoreError>;
}

/// Where a contact center's media files are: WebDAV and S3 settings (secrets sealed by
/// the server).
#[async_trait]
pub trait StorageSettingsStore: Send + Sync {
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
}
