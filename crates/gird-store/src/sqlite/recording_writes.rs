//! Writes of recordings: insert or merge with their search index, delete, legal hold.

use gird_model::datetime::{now_millis, now_text};
use gird_model::search::search_terms;

use crate::deletion::{self, Begin, DeletionLease, Hold};
use crate::row::{hold_column, legal_hold, Columns, MergePlan, PreparedInsert, DELETING, NOT_HELD};
use gird_model::{Recording, StoredRecording};
use rusqlite::{params, Connection, OptionalExtension};

use super::outbox;
use crate::sql;
use crate::{DeletionStart, HoldChange, InsertOutcome, StoreError};

/// What an insert did, whether it queued a SpeechMiner delivery, and the record itself,
/// so that the caller's thread, not the single writer, spends the time freeing it.
pub(super) struct Written {
    pub(super) outcome: InsertOutcome,
    pub(super) queued: bool,
    pub(super) _record: Option<Recording>,
}

fn unwritten(outcome: InsertOutcome, record: Option<Recording>) -> Written {
    Written {
        outcome,
        queued: false,
        _record: record,
    }
}

pub(super) fn insert_or_merge(
    db: &Connection,
    contact_center: &str,
    prepared: PreparedInsert,
) -> Result<Written, StoreError> {
    let now = now_text();
    // The common case, a new recording, costs one insert and no look-up first.
    let inserted = match insert_new(db, contact_center, &prepared, &now) {
        Err(error) if is_foreign_key_violation(&error) => {
            return Ok(unwritten(
                InsertOutcome::ContactCenterMissing,
                Some(prepared.recording),
            ))
        }
        other => other?,
    };
    let (recording, outcome) = if inserted {
        (prepared.recording, InsertOutcome::Created)
    } else if hold_state(db, contact_center, &prepared.recording.id)? == Some(DELETING) {
        // Merging now would be lost with the row the deletion is about to remove.
        return Ok(unwritten(
            InsertOutcome::BeingDeleted,
            Some(prepared.recording),
        ));
    } else if digest_seen(db, contact_center, &prepared)? {
        return Ok(unwritten(
            InsertOutcome::Unchanged,
            Some(prepared.recording),
        ));
    } else {
        let digest = (prepared.recording.id.clone(), prepared.digest.clone());
        let merged = merge_into_existing(db, contact_center, prepared.recording, &now)?;
        if matches!(merged, Ok(_) | Err(InsertOutcome::Unchanged)) {
            db.prepare_cached(shared!(crate::digests::KEEP))?
                .execute(params![contact_center, digest.0, digest.1])?;
        }
        match merged {
            Ok(merged) => (merged, InsertOutcome::Merged),
            Err(outcome) => return Ok(unwritten(outcome, None)),
        }
    };
    if let Some(taken) = claim_media_ids(db, contact_center, &recording)? {
        super::writer::undo_job(db)?;
        return Ok(unwritten(taken, Some(recording)));
    }
    if outcome == InsertOutcome::Created {
        db.prepare_cached(shared!(crate::counts::ADD))?
            .execute(params![contact_center, 1])?;
    }
    let queued = outbox::queue(db, contact_center, &recording.id, now_millis())?;
    Ok(Written {
        outcome,
        queued,
        _record: Some(recording),
    })
}

fn digest_seen(
    db: &Connection,
    contact_center: &str,
    prepared: &PreparedInsert,
) -> rusqlite::Result<bool> {
    db.prepare_cached(shared!(crate::digests::SEEN))?
        .exists(params![
            contact_center,
            prepared.recording.id,
            prepared.digest
        ])
}

fn is_foreign_key_violation(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(failure, _)
        if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}

impl Columns<'_> {
    /// Runs the row's INSERT or UPDATE, whose parameters ?1 to ?14 are the same.
    fn execute(
        &self,
        statement: &mut rusqlite::CachedStatement<'_>,
        contact_center: &str,
        id: &str,
        body: &str,
        now: &str,
    ) -> rusqlite::Result<usize> {
        statement.execute(params![
            contact_center,
            id,
            body,
            self.start,
            self.stop,
            self.caller,
            self.dialed,
            self.caller_key,
            self.caller_rkey,
            self.dialed_key,
            self.dialed_rkey,
            self.region,
            self.call_type,
            now,
        ])
    }
}

/// Inserts the recording unless its id exists; answers whether it was inserted.
fn insert_new(
    db: &Connection,
    contact_center: &str,
    prepared: &PreparedInsert,
    now: &str,
) -> rusqlite::Result<bool> {
    let recording = &prepared.recording;
    let c = Columns::of(recording);
    let mut insert = db.prepare_cached(
        "INSERT INTO recordings (contact_center_id, id, body, start_ms, stop_ms,
             caller_phone_number, dialed_phone_number, caller_key, caller_rkey,
             dialed_key, dialed_rkey, region, call_type, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)
         ON CONFLICT (contact_center_id, id) DO NOTHING",
    )?;
    let inserted = c.execute(
        &mut insert,
        contact_center,
        &recording.id,
        &prepared.body,
        now,
    )?;
    if inserted == 1 {
        index_terms(db, contact_center, recording)?;
    }
    Ok(inserted == 1)
}

/// Merges into the stored recording; `Err` carries the outcome when nothing is written
/// (the POST brought nothing new, or would make the recording too large).
fn merge_into_existing(
    db: &Connection,
    contact_center: &str,
    incoming: Recording,
    now: &str,
) -> Result<Result<Recording, InsertOutcome>, StoreError> {
    let existing = stored_recording(db, contact_center, &incoming.id)?
        .ok_or_else(|| StoreError::Corrupt(format!("recording {:?} vanished", incoming.id)))?;
    let (before, recording, body) = match MergePlan::new(&existing, incoming, now)? {
        MergePlan::Unchanged => return Ok(Err(InsertOutcome::Unchanged)),
        MergePlan::TooLarge(limit) => return Ok(Err(InsertOutcome::TooLarge(limit))),
        MergePlan::Write(write) => (write.before, write.merged, write.body),
    };
    drop(existing);
    unindex_terms(db, contact_center, &before)?;
    let mut update = db.prepare_cached(shared!(sql::UPDATE_RECORDING))?;
    Columns::of(&recording).execute(&mut update, contact_center, &recording.id, &body, now)?;
    index_terms(db, contact_center, &recording)?;
    Ok(Ok(recording))
}

pub(super) fn stored_recording(
    db: &Connection,
    contact_center: &str,
    id: &str,
) -> Result<Option<StoredRecording>, StoreError> {
    let text: Option<String> = db
        .prepare_cached("SELECT body FROM recordings WHERE contact_center_id = ?1 AND id = ?2")?
        .query_row(params![contact_center, id], |row| row.get(0))
        .optional()?;
    text.map(|text| {
        serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("recording {id:?}: {e}")))
    })
    .transpose()
}

/// Adds the recording's search terms and widens the contact center's longest duration.
fn index_terms(
    db: &Connection,
    contact_center: &str,
    recording: &Recording,
) -> rusqlite::Result<()> {
    let (start, stop) = recording.time_span();
    let mut insert = db.prepare_cached(shared!(sql::INDEX_TERM))?;
    for (kind, value) in search_terms(recording) {
        insert.execute(params![contact_center, kind, value, start, recording.id])?;
    }
    db.prepare_cached(
        "INSERT INTO contact_center_stats (contact_center_id, max_duration_ms) VALUES (?1, ?2)
         ON CONFLICT (contact_center_id) DO UPDATE
         SET max_duration_ms = max(max_duration_ms, excluded.max_duration_ms)
         WHERE excluded.max_duration_ms > max_duration_ms",
    )?
    .execute(params![contact_center, stop - start])?;
    Ok(())
}

fn unindex_terms(
    db: &Connection,
    contact_center: &str,
    recording: &Recording,
) -> rusqlite::Result<()> {
    let (start, _) = recording.time_span();
    let mut delete = db.prepare_cached(shared!(sql::UNINDEX_TERM))?;
    for (kind, value) in search_terms(recording) {
        delete.execute(params![contact_center, kind, value, start, recording.id])?;
    }
    Ok(())
}

fn hold_state(db: &Connection, contact_center: &str, id: &str) -> rusqlite::Result<Option<i16>> {
    db.prepare_cached("SELECT non_delete FROM recordings WHERE contact_center_id = ?1 AND id = ?2")?
        .query_row(params![contact_center, id], |row| row.get(0))
        .optional()
}

fn set_hold_state(
    db: &Connection,
    contact_center: &str,
    id: &str,
    state: i16,
) -> rusqlite::Result<()> {
    db.prepare_cached(
        "UPDATE recordings SET non_delete = ?3 WHERE contact_center_id = ?1 AND id = ?2",
    )?
    .execute(params![contact_center, id, state])?;
    Ok(())
}

fn typed(stored: StoredRecording) -> Result<Recording, StoreError> {
    stored
        .to_recording()
        .map_err(|violations| StoreError::Corrupt(violations.to_string()))
}

fn lease_until(
    db: &Connection,
    contact_center: &str,
    id: &str,
) -> rusqlite::Result<Option<(String, i64)>> {
    db.prepare_cached(shared!(deletion::LEASE_OF))?
        .query_row(params![contact_center, id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()
}

/// Marks the recording as being deleted and takes the lease (see [`crate::deletion`]).
/// The hold is checked in the same transaction that sets the mark, and a marked
/// recording cannot be put on hold, so no deletion path can bypass a hold.
pub(super) fn begin_deletion(
    db: &Connection,
    contact_center: &str,
    id: &str,
    lease: &DeletionLease,
    now_ms: i64,
) -> Result<DeletionStart, StoreError> {
    let state = hold_state(db, contact_center, id)?.map(legal_hold);
    let current = lease_until(db, contact_center, id)?.map(|(_, until)| until);
    match deletion::begin(state, current, now_ms) {
        Begin::NotFound => return Ok(DeletionStart::NotFound),
        Begin::OnHold => return Ok(DeletionStart::OnHold),
        Begin::InProgress => return Ok(DeletionStart::InProgress),
        Begin::Start => {}
    }
    set_hold_state(db, contact_center, id, DELETING)?;
    db.prepare_cached(shared!(deletion::TAKE))?
        .execute(params![contact_center, id, lease.token, lease.until_ms])?;
    let stored = stored_recording(db, contact_center, id)?
        .ok_or_else(|| StoreError::Corrupt(format!("recording {id:?} vanished")))?;
    Ok(DeletionStart::Ready(typed(stored)?))
}

pub(super) fn renew_deletion(
    db: &Connection,
    contact_center: &str,
    id: &str,
    lease: &DeletionLease,
) -> Result<bool, StoreError> {
    let renewed = db
        .prepare_cached(shared!(deletion::RENEW))?
        .execute(params![contact_center, id, lease.token, lease.until_ms])?;
    Ok(renewed == 1 && hold_state(db, contact_center, id)? == Some(DELETING))
}

pub(super) fn release_deletion(
    db: &Connection,
    contact_center: &str,
    id: &str,
    token: &str,
    unmark: bool,
) -> Result<(), StoreError> {
    let owned = lease_until(db, contact_center, id)?.is_some_and(|(owner, _)| owner == token);
    if unmark && owned && hold_state(db, contact_center, id)? == Some(DELETING) {
        set_hold_state(db, contact_center, id, NOT_HELD)?;
        db.prepare_cached(shared!(deletion::FORGET))?
            .execute(params![contact_center, id])?;
        return Ok(());
    }
    db.prepare_cached(shared!(deletion::RELEASE))?
        .execute(params![contact_center, id, token])?;
    Ok(())
}

/// Deletes a marked recording with its search terms and media id claims.
pub(super) fn finish_deletion(
    db: &Connection,
    contact_center: &str,
    id: &str,
    token: &str,
) -> Result<bool, StoreError> {
    let owned = lease_until(db, contact_center, id)?.is_some_and(|(owner, _)| owner == token);
    if !owned || hold_state(db, contact_center, id)? != Some(DELETING) {
        return Ok(false);
    }
    let stored = stored_recording(db, contact_center, id)?
        .ok_or_else(|| StoreError::Corrupt(format!("recording {id:?} vanished")))?;
    let recording = typed(stored)?;
    unindex_terms(db, contact_center, &recording)?;
    let mut release = db.prepare_cached(shared!(sql::RELEASE_MEDIA_ID))?;
    for media_id in recording
        .media_files
        .iter()
        .filter_map(|m| m.key.media_id())
    {
        release.execute(params![contact_center, media_id, id])?;
    }
    let deleted = db
        .prepare_cached(
            "DELETE FROM recordings WHERE contact_center_id = ?1 AND id = ?2 AND non_delete = ?3",
        )?
        .execute(params![contact_center, id, DELETING])?;
    if deleted == 1 {
        db.prepare_cached(shared!(crate::counts::ADD))?
            .execute(params![contact_center, -1])?;
    }
    outbox::forget_recording(db, contact_center, id)?;
    db.prepare_cached(shared!(crate::digests::FORGET))?
        .execute(params![contact_center, id])?;
    db.prepare_cached(shared!(deletion::FORGET))?
        .execute(params![contact_center, id])?;
    Ok(true)
}

pub(super) fn delete_recording(
    db: &Connection,
    contact_center: &str,
    id: &str,
) -> Result<DeletionStart, StoreError> {
    let now_ms = now_millis();
    let lease = deletion::immediate(now_ms);
    let start = begin_deletion(db, contact_center, id, &lease, now_ms)?;
    if let DeletionStart::Ready(_) = &start {
        finish_deletion(db, contact_center, id, &lease.token)?;
    }
    Ok(start)
}

/// `applyNonDelete` / `removeNonDelete` (see [`crate::deletion::hold`]).
pub(super) fn set_legal_hold(
    db: &Connection,
    contact_center: &str,
    id: &str,
    hold: bool,
) -> Result<HoldChange, StoreError> {
    let state = hold_state(db, contact_center, id)?.map(legal_hold);
    Ok(match deletion::hold(state, hold) {
        Hold::NotFound => HoldChange::NotFound,
        Hold::DeletionInProgress => HoldChange::DeletionInProgress,
        Hold::Set(state) => {
            set_hold_state(db, contact_center, id, hold_column(state))?;
            HoldChange::Done
        }
    })
}

/// Claims the recording's media ids; answers the first one another recording owns.
fn claim_media_ids(
    db: &Connection,
    contact_center: &str,
    recording: &Recording,
) -> Result<Option<InsertOutcome>, StoreError> {
    let mut claim = db.prepare_cached(shared!(sql::CLAIM_MEDIA_ID))?;
    let mut owner_of = db.prepare_cached(shared!(sql::MEDIA_ID_OWNER))?;
    for media_id in recording
        .media_files
        .iter()
        .filter_map(|m| m.key.media_id())
    {
        if claim.execute(params![contact_center, media_id, recording.id])? == 1 {
            continue;
        }
        let owner: String =
            owner_of.query_row(params![contact_center, media_id], |row| row.get(0))?;
        if let Some(taken) = sql::taken_by(media_id, owner, &recording.id) {
            return Ok(Some(taken));
        }
    }
    Ok(None)
}
