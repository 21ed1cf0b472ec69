//! Each contact center's decryption keys for encrypted recordings: key pairs added by the
//! ops API, the private key sealed by the server before it reaches the store, several per
//! contact center (a rotation adds one and keeps the old). The recipient (the
//! certificate's issuer and serial, as the server encodes it) is unique per contact
//! center, as is the alias. The SQL is the same for both backends.

use async_trait::async_trait;

use crate::{Removal, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptionKey {
    pub contact_center: String,
    pub alias: String,
    /// The certificate's issuer and serial as the server matches envelopes on them.
    pub recipient: String,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_after: String,
    /// PEM; public.
    pub certificate: String,
    /// The private key, sealed with the storage key.
    pub sealed_private_key: String,
    pub added_ms: i64,
}

/// What adding a key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAdded {
    Added,
    /// The contact center has a key of that alias already.
    AliasTaken,
    /// The contact center has a key for that recipient already.
    RecipientTaken,
    ContactCenterMissing,
}

#[async_trait]
pub trait DecryptionKeyStore: Send + Sync {
    async fn add_decryption_key(&self, key: DecryptionKey) -> Result<KeyAdded, StoreError>;
    /// The contact center's keys, oldest first.
    async fn decryption_keys(&self, contact_center: &str)
        -> Result<Vec<DecryptionKey>, StoreError>;
    async fn delete_decryption_key(
        &self,
        contact_center: &str,
        alias: &str,
    ) -> Result<Removal, StoreError>;
}

pub(crate) const MIGRATION: &str = "
    CREATE TABLE decryption_keys (
        contact_center_id TEXT NOT NULL REFERENCES contact_centers (id),
        alias TEXT NOT NULL,
        recipient TEXT NOT NULL,
        subject TEXT NOT NULL,
        issuer TEXT NOT NULL,
        serial TEXT NOT NULL,
        not_after TEXT NOT NULL,
        certificate TEXT NOT NULL,
        sealed_private_key TEXT NOT NULL,
        added_ms BIGINT NOT NULL,
        PRIMARY KEY (contact_center_id, alias),
        UNIQUE (contact_center_id, recipient)
    );
";

/// Nothing when the contact center does not exist, or when the alias or the recipient is
/// taken (0 rows; [`TAKEN`] tells which).
pub(crate) const INSERT: &str = "
    INSERT INTO decryption_keys (contact_center_id, alias, recipient, subject, issuer, serial,
        not_after, certificate, sealed_private_key, added_ms)
    SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS TEXT),
        CAST($5 AS TEXT), CAST($6 AS TEXT), CAST($7 AS TEXT), CAST($8 AS TEXT),
        CAST($9 AS TEXT), CAST($10 AS BIGINT)
    WHERE EXISTS (SELECT 1 FROM contact_centers WHERE id = $1)
    ON CONFLICT DO NOTHING";
/// After an insert of 0 rows: does the contact center exist, is the alias taken.
pub(crate) const TAKEN: &str = "
    SELECT EXISTS (SELECT 1 FROM contact_centers WHERE id = $1),
        EXISTS (SELECT 1 FROM decryption_keys WHERE contact_center_id = $1 AND alias = $2)";
pub(crate) const SELECT: &str = "
    SELECT alias, recipient, subject, issuer, serial, not_after, certificate,
        sealed_private_key, added_ms
    FROM decryption_keys WHERE contact_center_id = $1 ORDER BY added_ms, alias";
pub(crate) const DELETE: &str =
    "DELETE FROM decryption_keys WHERE contact_center_id = $1 AND alias = $2";
/// Also run when the contact center is deleted.
pub(crate) const FORGET_CONTACT_CENTER: &str =
    "DELETE FROM decryption_keys WHERE contact_center_id = $1";

pub(crate) fn columns(key: &DecryptionKey) -> [&str; 9] {
    [
        &key.contact_center,
        &key.alias,
        &key.recipient,
        &key.subject,
        &key.issuer,
        &key.serial,
        &key.not_after,
        &key.certificate,
        &key.sealed_private_key,
    ]
}

/// The outcome of an insert of 0 rows from [`TAKEN`]'s answer.
pub(crate) fn refusal(taken: (bool, bool)) -> KeyAdded {
    match taken {
        (false, _) => KeyAdded::ContactCenterMissing,
        (true, true) => KeyAdded::AliasTaken,
        (true, false) => KeyAdded::RecipientTaken,
    }
}

/// A key from [`SELECT`]'s columns, in order.
pub(crate) fn key(contact_center: &str, text: [String; 8], added_ms: i64) -> DecryptionKey {
    let [alias, recipient, subject, issuer, serial, not_after, certificate, sealed_private_key] =
        text;
    DecryptionKey {
        contact_center: contact_center.to_owned(),
        alias,
        recipient,
        subject,
        issuer,
        serial,
        not_after,
        certificate,
        sealed_private_key,
        added_ms,
    }
}
