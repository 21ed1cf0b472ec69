//! The columns of a recording row that searches use, for both backends.

use gird_model::search::{phone_key, reversed};
use gird_model::{Merged, Recording, StoredRecording};

use crate::{LegalHold, S3Settings, StoreError};

/// The indexed columns of a recording row.
pub(crate) struct Columns<'a> {
    pub(crate) start: i64,
    pub(crate) stop: i64,
    pub(crate) caller: Option<&'a str>,
    pub(crate) dialed: Option<&'a str>,
    pub(crate) caller_key: String,
    pub(crate) caller_rkey: String,
    pub(crate) dialed_key: String,
    pub(crate) dialed_rkey: String,
    pub(crate) region: Option<&'a str>,
    pub(crate) call_type: Option<&'a str>,
}

impl<'a> Columns<'a> {
    pub(crate) fn of(recording: &'a Recording) -> Columns<'a> {
        let (start, stop) = recording.time_span();
        let caller = recording.text_field("callerPhoneNumber");
        let dialed = recording.text_field("dialedPhoneNumber");
        Columns {
            start,
            stop,
            caller,
            dialed,
            caller_key: phone_key(caller.unwrap_or_default()),
            caller_rkey: reversed(&phone_key(caller.unwrap_or_default())),
            dialed_key: phone_key(dialed.unwrap_or_default()),
            dialed_rkey: reversed(&phone_key(dialed.unwrap_or_default())),
            region: recording.text_field("region"),
            call_type: recording.text_field("callType"),
        }
    }
}

/// A POST made ready for the writer outside of it: sorted and serialized as if it were a
/// new record, which it usually is, so the single writer thread does as little as it can.
#[derive(Clone)]
pub(crate) struct PreparedInsert {
    pub(crate) recording: Recording,
    pub(crate) body: String,
    /// See [`crate::digests`].
    pub(crate) digest: String,
}

impl PreparedInsert {
    pub(crate) fn new(recording: Recording) -> Result<PreparedInsert, StoreError> {
        let fresh = StoredRecording::merge(None, recording, "")
            .map_err(|violations| StoreError::Corrupt(violations.to_string()))?;
        let body = serialize(&fresh)?;
        Ok(PreparedInsert {
            digest: crate::digests::of(&body),
            body,
            recording: fresh.recording,
        })
    }
}

/// What a POST of a known recording writes, decided once for both backends: nothing (a
/// retry that brings nothing new, or a record that would grow past its limits), or the
/// merged record with the stored text it replaces the old one with.
pub(crate) enum MergePlan {
    Unchanged,
    TooLarge(String),
    Write(Box<MergeWrite>),
}

pub(crate) struct MergeWrite {
    /// The stored record as it was, whose search terms go.
    pub(crate) before: Recording,
    pub(crate) merged: Recording,
    pub(crate) body: String,
}

impl MergePlan {
    pub(crate) fn new(
        existing: &StoredRecording,
        incoming: Recording,
        now: &str,
    ) -> Result<MergePlan, StoreError> {
        let corrupt = |error: String| StoreError::Corrupt(error);
        let merged = StoredRecording::merge(Some(existing), incoming, now).map_err(corrupt)?;
        if !merged.changed {
            return Ok(MergePlan::Unchanged);
        }
        if let Some(limit) = merged.exceeded_limit() {
            return Ok(MergePlan::TooLarge(limit));
        }
        let body = serialize(&merged)?;
        if let Some(limit) = gird_model::stored::exceeded_size(body.len()) {
            return Ok(MergePlan::TooLarge(limit));
        }
        Ok(MergePlan::Write(Box::new(MergeWrite {
            before: existing.to_recording().map_err(corrupt)?,
            merged: merged.recording,
            body,
        })))
    }
}

pub(crate) fn serialize(merged: &Merged) -> Result<String, StoreError> {
    merged
        .to_stored_json()
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// How both backends keep the legal-hold state, in the `non_delete` column.
pub(crate) const NOT_HELD: i16 = 0;
pub(crate) const HELD: i16 = 1;
/// A deletion with media files has begun and not finished.
pub(crate) const DELETING: i16 = 2;

pub(crate) fn hold_column(state: LegalHold) -> i16 {
    match state {
        LegalHold::None => NOT_HELD,
        LegalHold::Held => HELD,
        LegalHold::Deleting => DELETING,
    }
}

pub(crate) fn legal_hold(state: i16) -> LegalHold {
    match state {
        HELD => LegalHold::Held,
        DELETING => LegalHold::Deleting,
        _ => LegalHold::None,
    }
}

/// The columns of a `contact_center_s3` row, in the order of [`S3_COLUMNS`].
pub(crate) type S3Row = (Option<String>, String, String, String, bool, String);

pub(crate) const S3_COLUMNS: &str =
    "endpoint, region, access_key_id, sealed_secret, path_style, buckets";

/// How the bucket list is kept: a JSON array of strings.
pub(crate) fn buckets_text(buckets: &[String]) -> String {
    serde_json::to_string(buckets).expect("a list of strings serializes")
}

pub(crate) fn s3_settings(row: S3Row) -> Result<S3Settings, StoreError> {
    let (endpoint, region, access_key_id, sealed_secret, path_style, buckets) = row;
    let buckets = serde_json::from_str(&buckets)
        .map_err(|error| StoreError::Corrupt(format!("contact_center_s3.buckets: {error}")))?;
    Ok(S3Settings {
        endpoint,
        region,
        access_key_id,
        sealed_secret,
        path_style,
        buckets,
    })
}
