//! The single writer thread and the write operations it runs.

use std::thread::JoinHandle;

use gird_model::datetime::now_text;
use gird_model::{Merged, Recording, StoredRecording};
use rusqlite::{params, Connection};
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::{InsertOutcome, Removal, StoreError};

/// How many waiting writes one transaction takes at most.
const MAX_BATCH: usize = 512;
/// How many writes may wait before callers are held back.
const QUEUE_DEPTH: usize = 4096;

/// Runs inside the batch transaction, in its own savepoint; answers the closure to call
/// once the batch's commit is known.
type Job = Box<dyn FnOnce(&Connection) -> Completion + Send>;
type Completion = Box<dyn FnOnce(Option<&StoreError>) + Send>;

enum Message {
    Write(Job),
    Stop,
}

pub(super) struct Writer {
    sender: mpsc::Sender<Message>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    pub(super) fn start(connection: Connection) -> Result<Writer, StoreError> {
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        let thread = std::thread::Builder::new()
            .name("gird-sqlite-writer".into())
            .spawn(move || write_loop(connection, receiver))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer: {e}")))?;
        Ok(Writer {
            sender,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Runs `work` in the next batch; answers after that batch is committed.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |connection| {
            let result = in_savepoint(connection, work);
            Box::new(move |commit_error: Option<&StoreError>| {
                let outcome = match commit_error {
                    Some(error) => Err(StoreError::Unavailable(error.to_string())),
                    None => result,
                };
                let _ = reply.send(outcome);
            })
        });
        self.sender
            .send(Message::Write(job))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    pub(super) async fn stop(&self) {
        let _ = self.sender.send(Message::Stop).await;
        if let Some(thread) = self.thread.lock().await.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the database writer has stopped".into())
}

fn in_savepoint<T>(
    connection: &Connection,
    work: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    connection.prepare_cached("SAVEPOINT job")?.execute([])?;
    let result = work(connection);
    if result.is_err() {
        connection.prepare_cached("ROLLBACK TO job")?.execute([])?;
    }
    connection.prepare_cached("RELEASE job")?.execute([])?;
    result
}

fn write_loop(connection: Connection, mut receiver: mpsc::Receiver<Message>) {
    let mut stopping = false;
    while !stopping {
        let Some(first) = receiver.blocking_recv() else {
            break;
        };
        let mut jobs = Vec::new();
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Write(job) => jobs.push(job),
                Message::Stop => stopping = true,
            }
            if !stopping && jobs.len() < MAX_BATCH {
                next = receiver.try_recv().ok();
            }
        }
        if !jobs.is_empty() {
            commit_batch(&connection, jobs);
        }
    }
    // Whatever arrived after the stop is refused, not left hanging.
    receiver.close();
    while let Ok(Message::Write(job)) = receiver.try_recv() {
        drop(job);
    }
    if let Err(error) = connection.close() {
        tracing::warn!(error = %error.1, "closing the database failed");
    }
}

fn commit_batch(connection: &Connection, jobs: Vec<Job>) {
    if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
        // Dropping the jobs answers their callers with "unavailable".
        tracing::error!(%error, batch = jobs.len(), "cannot begin a write transaction");
        return;
    }
    let completions: Vec<Completion> = jobs.into_iter().map(|job| job(connection)).collect();
    let commit_error = connection
        .execute_batch("COMMIT")
        .err()
        .map(StoreError::from);
    if let Some(error) = &commit_error {
        tracing::error!(%error, batch = completions.len(), "commit failed");
        let _ = connection.execute_batch("ROLLBACK");
    }
    for completion in completions {
        completion(commit_error.as_ref());
    }
}

pub(super) fn create_contact_center(
    db: &Connection,
    id: &str,
    domains: &[String],
) -> Result<bool, StoreError> {
    let domains = serde_json::to_string(domains).unwrap_or_else(|_| "[]".into());
    let inserted = db.execute(
        "INSERT INTO contact_centers (id, domains, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO NOTHING",
        params![id, domains, now_text()],
    )?;
    Ok(inserted == 1)
}

pub(super) fn delete_contact_center(db: &Connection, id: &str) -> Result<Removal, StoreError> {
    if !contact_center_exists(db, id)? {
        return Ok(Removal::NotFound);
    }
    let has_recordings: bool = db.query_row(
        "SELECT EXISTS (SELECT 1 FROM recordings WHERE contact_center_id = ?1)",
        [id],
        |row| row.get(0),
    )?;
    if has_recordings {
        return Ok(Removal::NotEmpty);
    }
    db.execute(
        "DELETE FROM contact_center_features WHERE contact_center_id = ?1",
        [id],
    )?;
    db.execute("DELETE FROM contact_centers WHERE id = ?1", [id])?;
    Ok(Removal::Removed)
}

pub(super) fn enable_features(
    db: &Connection,
    id: &str,
    features: &[String],
) -> Result<bool, StoreError> {
    if !contact_center_exists(db, id)? {
        return Ok(false);
    }
    let mut insert = db.prepare_cached(
        "INSERT INTO contact_center_features (contact_center_id, feature) VALUES (?1, ?2)
         ON CONFLICT DO NOTHING",
    )?;
    for feature in features {
        insert.execute(params![id, feature])?;
    }
    Ok(true)
}

pub(super) fn disable_feature(
    db: &Connection,
    id: &str,
    feature: &str,
) -> Result<Removal, StoreError> {
    let removed = db.execute(
        "DELETE FROM contact_center_features WHERE contact_center_id = ?1 AND feature = ?2",
        params![id, feature],
    )?;
    Ok(if removed == 1 {
        Removal::Removed
    } else {
        Removal::NotFound
    })
}

fn contact_center_exists(db: &Connection, id: &str) -> Result<bool, StoreError> {
    let mut query =
        db.prepare_cached("SELECT EXISTS (SELECT 1 FROM contact_centers WHERE id = ?1)")?;
    Ok(query.query_row([id], |row| row.get(0))?)
}

/// A POST made ready for the writer outside of it: sorted and serialized as if it were a
/// new record, which it usually is, so the single writer thread does as little as it can.
pub(super) struct PreparedInsert {
    recording: Recording,
    body: String,
}

impl PreparedInsert {
    pub(super) fn new(recording: Recording) -> Result<PreparedInsert, StoreError> {
        let fresh = StoredRecording::merge(None, recording, "")
            .map_err(|violations| StoreError::Corrupt(violations.to_string()))?;
        Ok(PreparedInsert {
            body: serialize(&fresh)?,
            recording: fresh.recording,
        })
    }
}

fn serialize(merged: &Merged) -> Result<String, StoreError> {
    merged
        .to_stored_json()
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Answers the outcome and the record itself, so that the caller's thread, not the
/// single writer, spends the time freeing it.
pub(super) fn insert_or_merge(
    db: &Connection,
    contact_center: &str,
    prepared: PreparedInsert,
) -> Result<(InsertOutcome, Option<Recording>), StoreError> {
    let now = now_text();
    // The common case, a new recording, costs one insert and no look-up first.
    let inserted = match insert_new(db, contact_center, &prepared, &now) {
        Err(error) if is_foreign_key_violation(&error) => {
            return Ok((
                InsertOutcome::ContactCenterMissing,
                Some(prepared.recording),
            ))
        }
        other => other?,
    };
    let (recording, outcome) = if inserted {
        (prepared.recording, InsertOutcome::Created)
    } else {
        match merge_into_existing(db, contact_center, prepared.recording, &now)? {
            Some(merged) => (merged, InsertOutcome::Merged),
            None => return Ok((InsertOutcome::Unchanged, None)),
        }
    };
    if let Some(taken) = claim_media_ids(db, contact_center, &recording)? {
        db.prepare_cached("ROLLBACK TO job")?.execute([])?;
        return Ok((taken, Some(recording)));
    }
    Ok((outcome, Some(recording)))
}

fn is_foreign_key_violation(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(failure, _)
        if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}

/// Inserts the recording unless its id exists; answers whether it was inserted.
fn insert_new(
    db: &Connection,
    contact_center: &str,
    prepared: &PreparedInsert,
    now: &str,
) -> rusqlite::Result<bool> {
    let recording = &prepared.recording;
    let (start, stop) = recording.time_span();
    let inserted = db
        .prepare_cached(
            "INSERT INTO recordings (contact_center_id, id, body, start_ms, stop_ms,
                 caller_phone_number, dialed_phone_number, region, call_type, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
             ON CONFLICT (contact_center_id, id) DO NOTHING",
        )?
        .execute(params![
            contact_center,
            recording.id,
            prepared.body,
            start,
            stop,
            recording.text_field("callerPhoneNumber"),
            recording.text_field("dialedPhoneNumber"),
            recording.text_field("region"),
            recording.text_field("callType"),
            now,
        ])?;
    Ok(inserted == 1)
}

/// Merges into the stored recording; `None` when the POST brought nothing new.
fn merge_into_existing(
    db: &Connection,
    contact_center: &str,
    incoming: Recording,
    now: &str,
) -> Result<Option<Recording>, StoreError> {
    let text: String = db
        .prepare_cached("SELECT body FROM recordings WHERE contact_center_id = ?1 AND id = ?2")?
        .query_row(params![contact_center, incoming.id], |row| row.get(0))?;
    let existing: StoredRecording = serde_json::from_str(&text)
        .map_err(|e| StoreError::Corrupt(format!("recording {:?}: {e}", incoming.id)))?;
    let merged = StoredRecording::merge(Some(&existing), incoming, now)
        .map_err(|violations| StoreError::Corrupt(violations.to_string()))?;
    if !merged.changed {
        return Ok(None);
    }
    let recording = &merged.recording;
    let (start, stop) = recording.time_span();
    db.prepare_cached(
        "UPDATE recordings SET body = ?3, start_ms = ?4, stop_ms = ?5,
             caller_phone_number = ?6, dialed_phone_number = ?7, region = ?8, call_type = ?9,
             updated_at = ?10
         WHERE contact_center_id = ?1 AND id = ?2",
    )?
    .execute(params![
        contact_center,
        recording.id,
        serialize(&merged)?,
        start,
        stop,
        recording.text_field("callerPhoneNumber"),
        recording.text_field("dialedPhoneNumber"),
        recording.text_field("region"),
        recording.text_field("callType"),
        now,
    ])?;
    Ok(Some(merged.recording))
}

/// Claims the recording's media ids; answers the first one another recording owns.
fn claim_media_ids(
    db: &Connection,
    contact_center: &str,
    recording: &Recording,
) -> Result<Option<InsertOutcome>, StoreError> {
    let mut claim = db.prepare_cached(
        "INSERT INTO media_files (contact_center_id, media_id, recording_id) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
    )?;
    let mut owner_of = db.prepare_cached(
        "SELECT recording_id FROM media_files WHERE contact_center_id = ?1 AND media_id = ?2",
    )?;
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
        if owner != recording.id {
            return Ok(Some(InsertOutcome::MediaIdTaken {
                media_id: media_id.to_owned(),
                owner,
            }));
        }
    }
    Ok(None)
}
