//! What was merged into a recording already, by the SHA-256 of each POST's canonical
//! form: a POST seen before cannot change the record again (merging is idempotent), so a
//! retry into a recording of thousands of media files is answered from this table
//! without reading, parsing and merging the stored record. Kept for merges only (a
//! recording's first POST costs nothing extra); forgotten with the recording. The SQL is
//! the same for both backends.

pub(crate) const MIGRATION: &str = "
    CREATE TABLE recording_digests (
        contact_center_id TEXT NOT NULL,
        recording_id TEXT NOT NULL,
        digest TEXT NOT NULL,
        PRIMARY KEY (contact_center_id, recording_id, digest)
    );
";

pub(crate) const SEEN: &str = "SELECT 1 FROM recording_digests
     WHERE contact_center_id = $1 AND recording_id = $2 AND digest = $3";
pub(crate) const KEEP: &str =
    "INSERT INTO recording_digests (contact_center_id, recording_id, digest) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING";
pub(crate) const FORGET: &str =
    "DELETE FROM recording_digests WHERE contact_center_id = $1 AND recording_id = $2";

/// The digest of a POST's canonical form (its stored JSON as a new record).
pub(crate) fn of(body: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(body.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
