//! Each contact center's allow-list of outbound origins: the places, beside its storage
//! and its SpeechMiner receiver, that gird may fetch media from, delete media at, or post
//! records to for it. The server checks and normalizes the origins; the store keeps them
//! as a JSON array. The SQL is the same for both backends (`$n` placeholders, first used
//! in order, which SQLite reads as well).

use async_trait::async_trait;

use crate::{Removal, StoreError};

#[async_trait]
pub trait OutboundStore: Send + Sync {
    /// Replaces the contact center's allow-list; answers false when the contact center
    /// does not exist.
    async fn put_outbound_origins(
        &self,
        contact_center: &str,
        origins: &[String],
    ) -> Result<bool, StoreError>;
    /// `None` when none was set.
    async fn outbound_origins(
        &self,
        contact_center: &str,
    ) -> Result<Option<Vec<String>>, StoreError>;
    async fn delete_outbound_origins(&self, contact_center: &str) -> Result<Removal, StoreError>;
}

pub(crate) const MIGRATION: &str = "
    CREATE TABLE contact_center_outbound (
        contact_center_id TEXT PRIMARY KEY REFERENCES contact_centers (id),
        origins TEXT NOT NULL
    );
";

/// Inserts or replaces; nothing when the contact center does not exist (0 rows).
pub(crate) const PUT: &str = "
    INSERT INTO contact_center_outbound (contact_center_id, origins)
    SELECT CAST($1 AS TEXT), CAST($2 AS TEXT)
    WHERE EXISTS (SELECT 1 FROM contact_centers WHERE id = $1)
    ON CONFLICT (contact_center_id) DO UPDATE SET origins = excluded.origins";
pub(crate) const SELECT: &str =
    "SELECT origins FROM contact_center_outbound WHERE contact_center_id = $1";
/// Also run when the contact center is deleted.
pub(crate) const DELETE: &str = "DELETE FROM contact_center_outbound WHERE contact_center_id = $1";

pub(crate) fn origins_text(origins: &[String]) -> String {
    serde_json::to_string(origins).expect("a list of strings serializes")
}

pub(crate) fn origins(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text)
        .map_err(|error| StoreError::Corrupt(format!("contact_center_outbound.origins: {error}")))
}
