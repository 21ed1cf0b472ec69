//! The SQL both backends run, written once with PostgreSQL's `$1`, `$2`, ... (SQLite gets
//! them as `?1`, `?2`: see [`crate::plan::sqlite_placeholders`]). A backend keeps only how
//! it executes a statement and reads its rows; what is run, and what an answer means, is
//! here or in the modules beside it (`deletion`, `sessions`, `digests`, `counts`, ...).

use crate::Removal;

// ---- contact centers, features, storage settings --------------------------------------

pub(crate) const CREATE_CONTACT_CENTER: &str =
    "INSERT INTO contact_centers (id, domains, created_at) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO NOTHING";
pub(crate) const CONTACT_CENTER_EXISTS: &str =
    "SELECT EXISTS (SELECT 1 FROM contact_centers WHERE id = $1)";
pub(crate) const HAS_RECORDINGS: &str =
    "SELECT EXISTS (SELECT 1 FROM recordings WHERE contact_center_id = $1)";
/// What a contact center's deletion removes before its own row (it holds no recordings
/// by then), each `$1` the contact center.
pub(crate) const FORGET_CONTACT_CENTER: [&str; 11] = [
    crate::access_log::FORGET_CONTACT_CENTER,
    crate::decryption_keys::FORGET_CONTACT_CENTER,
    "DELETE FROM users WHERE contact_center_id = $1",
    "DELETE FROM contact_center_features WHERE contact_center_id = $1",
    "DELETE FROM contact_center_storage WHERE contact_center_id = $1",
    "DELETE FROM contact_center_s3 WHERE contact_center_id = $1",
    "DELETE FROM contact_center_stats WHERE contact_center_id = $1",
    "DELETE FROM contact_center_outbound WHERE contact_center_id = $1",
    "DELETE FROM outbox WHERE contact_center_id = $1",
    "DELETE FROM speechminer_receivers WHERE contact_center_id = $1",
    "DELETE FROM contact_centers WHERE id = $1",
];
pub(crate) const ENABLE_FEATURE: &str =
    "INSERT INTO contact_center_features (contact_center_id, feature) VALUES ($1, $2)
     ON CONFLICT DO NOTHING";
pub(crate) const DISABLE_FEATURE: &str =
    "DELETE FROM contact_center_features WHERE contact_center_id = $1 AND feature = $2";
pub(crate) const PUT_STORAGE: &str =
    "INSERT INTO contact_center_storage (contact_center_id, base_url, username, sealed_password)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (contact_center_id) DO UPDATE SET base_url = excluded.base_url,
         username = excluded.username, sealed_password = excluded.sealed_password";
pub(crate) const DELETE_STORAGE: &str =
    "DELETE FROM contact_center_storage WHERE contact_center_id = $1";
pub(crate) const PUT_S3_STORAGE: &str = "INSERT INTO contact_center_s3
         (contact_center_id, endpoint, region, access_key_id, sealed_secret, path_style, buckets)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (contact_center_id) DO UPDATE SET endpoint = excluded.endpoint,
         region = excluded.region, access_key_id = excluded.access_key_id,
         sealed_secret = excluded.sealed_secret, path_style = excluded.path_style,
         buckets = excluded.buckets";
pub(crate) const DELETE_S3_STORAGE: &str =
    "DELETE FROM contact_center_s3 WHERE contact_center_id = $1";

// ---- SpeechMiner receivers -------------------------------------------------------------

pub(crate) const PUT_RECEIVER: &str =
    "INSERT INTO speechminer_receivers (contact_center_id, url, username, sealed_password, enabled)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (contact_center_id) DO UPDATE SET url = excluded.url,
         username = excluded.username, sealed_password = excluded.sealed_password,
         enabled = excluded.enabled";
pub(crate) const RECEIVER: &str =
    "SELECT url, username, sealed_password, enabled FROM speechminer_receivers
     WHERE contact_center_id = $1";
pub(crate) const DELETE_RECEIVER: &str =
    "DELETE FROM speechminer_receivers WHERE contact_center_id = $1";

// ---- recordings and their search terms -------------------------------------------------

/// `$1` contact center, `$2` id, `$3` body, `$4` to `$13` the [`crate::row::Columns`],
/// `$14` now.
pub(crate) const UPDATE_RECORDING: &str =
    "UPDATE recordings SET body = $3, start_ms = $4, stop_ms = $5,
         caller_phone_number = $6, dialed_phone_number = $7, caller_key = $8,
         caller_rkey = $9, dialed_key = $10, dialed_rkey = $11, region = $12,
         call_type = $13, updated_at = $14
     WHERE contact_center_id = $1 AND id = $2";
/// `$1` contact center, `$2` kind, `$3` value, `$4` start, `$5` recording.
pub(crate) const INDEX_TERM: &str =
    "INSERT INTO search_terms (contact_center_id, kind, value, start_ms, recording_id)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
pub(crate) const UNINDEX_TERM: &str =
    "DELETE FROM search_terms WHERE contact_center_id = $1 AND kind = $2 AND value = $3
     AND start_ms = $4 AND recording_id = $5";

// ---- media ids -------------------------------------------------------------------------

/// `$1` contact center, `$2` media id, `$3` recording: 1 row when the claim is new.
pub(crate) const CLAIM_MEDIA_ID: &str =
    "INSERT INTO media_files (contact_center_id, media_id, recording_id) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING";
pub(crate) const MEDIA_ID_OWNER: &str =
    "SELECT recording_id FROM media_files WHERE contact_center_id = $1 AND media_id = $2";
pub(crate) const RELEASE_MEDIA_ID: &str =
    "DELETE FROM media_files WHERE contact_center_id = $1 AND media_id = $2 AND recording_id = $3";

/// A deletion's answer: one row gone is `Removed`.
pub(crate) fn removal(rows: u64) -> Removal {
    if rows == 1 {
        Removal::Removed
    } else {
        Removal::NotFound
    }
}

/// What a claim that found the media id taken means: taken by another recording, or
/// already this recording's (a merge bringing a file it has).
pub(crate) fn taken_by(
    media_id: &str,
    owner: String,
    recording_id: &str,
) -> Option<crate::InsertOutcome> {
    (owner != recording_id).then(|| crate::InsertOutcome::MediaIdTaken {
        media_id: media_id.to_owned(),
        owner,
    })
}
