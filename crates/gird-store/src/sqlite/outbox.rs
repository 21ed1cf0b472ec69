//! The SpeechMiner outbox on SQLite (see [`crate::outbox`]). Writes run on the writer
//! thread, so a delivery is queued in the transaction of the change it announces.

use rusqlite::{params, Connection, OptionalExtension};

use crate::outbox::{
    AttemptResult, Delivery, DeliveryRecord, DeliveryState, OutboxStatus, ReceiverSettings, Repost,
    ANY_CLAIMABLE, DEAD_LETTERS, DUE_NOW, FINISH_DEAD, FINISH_DELIVERED, FINISH_RETRY,
    FORGET_RECORDING, FOR_RANGE, FOR_RECORDING, IN_FLIGHT, LATEST, NOTHING_PENDING, QUEUED,
    REPOST_DEAD_LETTERS,
};
use crate::sql;
use crate::{Removal, StoreError};

/// The snapshot a delivery carries: the recording in the shape clients post.
const QUEUE_FROM_RECORDINGS: &str =
    "INSERT INTO outbox (contact_center_id, recording_id, body, state, attempts, due_ms,
         queued_ms, updated_ms)
     SELECT r.contact_center_id, r.id, json_extract(r.body, '$.recording'), 0, 0, ?2, ?2, ?2
     FROM recordings r JOIN speechminer_receivers s
         ON s.contact_center_id = r.contact_center_id AND s.enabled
     WHERE r.contact_center_id = ?1";

/// Queues a delivery of the recording as it is now, if its contact center forwards;
/// answers whether one was queued. Only the latest state needs delivering: a delivery of
/// the recording still waiting (not in flight) is replaced by this one, which keeps its
/// attempts, due time and age but gets a new id (so a new `Idempotency-Key`: the receiver
/// must not drop the newer state as a repeat of the older).
pub(super) fn queue(
    db: &Connection,
    contact_center: &str,
    id: &str,
    now_ms: i64,
) -> rusqlite::Result<bool> {
    let waiting: Option<(i64, i64, i64, i64, Option<String>)> = db
        .prepare_cached(
            "SELECT id, attempts, due_ms, queued_ms, last_error FROM outbox
             WHERE contact_center_id = ?1 AND recording_id = ?2 AND state = 0
             ORDER BY id LIMIT 1",
        )?
        .query_row(params![contact_center, id], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ))
        })
        .optional()?;
    let Some((_, attempts, due_ms, queued_ms, last_error)) = waiting else {
        let queued = db
            .prepare_cached(&format!("{QUEUE_FROM_RECORDINGS} AND r.id = ?3"))?
            .execute(params![contact_center, now_ms, id])?;
        return Ok(queued > 0);
    };
    let queued = db
        .prepare_cached(
            "INSERT INTO outbox (contact_center_id, recording_id, body, state, attempts, due_ms,
                 queued_ms, updated_ms, last_error)
             SELECT r.contact_center_id, r.id, json_extract(r.body, '$.recording'), 0, ?4, ?5,
                 ?6, ?2, ?7
             FROM recordings r JOIN speechminer_receivers s
                 ON s.contact_center_id = r.contact_center_id AND s.enabled
             WHERE r.contact_center_id = ?1 AND r.id = ?3",
        )?
        .execute(params![
            contact_center,
            now_ms,
            id,
            attempts,
            due_ms,
            queued_ms,
            last_error
        ])?;
    if queued > 0 {
        db.prepare_cached(
            "DELETE FROM outbox WHERE contact_center_id = ?1 AND recording_id = ?2 AND state = 0
             AND id < ?3",
        )?
        .execute(params![contact_center, id, db.last_insert_rowid()])?;
    }
    Ok(queued > 0)
}

/// Drops every delivery of a recording that is deleted.
pub(super) fn forget_recording(
    db: &Connection,
    contact_center: &str,
    id: &str,
) -> rusqlite::Result<()> {
    db.prepare_cached(shared!(FORGET_RECORDING))?
        .execute(params![contact_center, id])?;
    Ok(())
}

pub(super) fn put_receiver(
    db: &Connection,
    id: &str,
    settings: &ReceiverSettings,
) -> Result<bool, StoreError> {
    let params = params![
        id,
        settings.url,
        settings.username,
        settings.sealed_password,
        settings.enabled
    ];
    if !super::cc_writes::put_settings(db, id, shared!(sql::PUT_RECEIVER), params)? {
        return Ok(false);
    }
    // The receiver changed (fixed, most likely): what waits for a retry is due now.
    db.execute(
        shared!(DUE_NOW),
        params![id, gird_model::datetime::now_millis()],
    )?;
    Ok(true)
}

pub(super) fn receiver(db: &Connection, id: &str) -> rusqlite::Result<Option<ReceiverSettings>> {
    db.prepare_cached(shared!(sql::RECEIVER))?
        .query_row([id], |row| {
            Ok(ReceiverSettings {
                url: row.get(0)?,
                username: row.get(1)?,
                sealed_password: row.get(2)?,
                enabled: row.get(3)?,
            })
        })
        .optional()
}

pub(super) fn delete_receiver(db: &Connection, id: &str) -> Result<Removal, StoreError> {
    Ok(sql::removal(
        db.execute(shared!(sql::DELETE_RECEIVER), [id])? as u64,
    ))
}

pub(super) fn deliveries_due(db: &Connection, now_ms: i64) -> rusqlite::Result<bool> {
    db.prepare_cached(shared!(ANY_CLAIMABLE))?
        .query_row([now_ms], |row| row.get(0))
}

pub(super) fn claim(
    db: &Connection,
    now_ms: i64,
    lease_until_ms: i64,
    limit: usize,
) -> rusqlite::Result<Vec<Delivery>> {
    let mut claim = db.prepare_cached(shared!(crate::outbox::claim("")))?;
    let rows = claim.query_map(params![now_ms, lease_until_ms, limit as i64], |row| {
        Ok(Delivery {
            id: row.get(0)?,
            contact_center: row.get(1)?,
            recording_id: row.get(2)?,
            body: row.get::<_, Option<String>>(3)?.unwrap_or_default(),
            attempt: row.get(4)?,
        })
    })?;
    let mut claimed: Vec<Delivery> = rows.collect::<rusqlite::Result<_>>()?;
    claimed.sort_by_key(|delivery| delivery.id);
    Ok(claimed)
}

pub(super) fn finish(
    db: &Connection,
    id: i64,
    result: &AttemptResult,
    now_ms: i64,
) -> rusqlite::Result<()> {
    match result {
        AttemptResult::Delivered => db
            .prepare_cached(shared!(FINISH_DELIVERED))?
            .execute(params![id, now_ms]),
        AttemptResult::Retry { at_ms, error } => db
            .prepare_cached(shared!(FINISH_RETRY))?
            .execute(params![id, at_ms, error, now_ms]),
        AttemptResult::Dead { error } => db
            .prepare_cached(shared!(FINISH_DEAD))?
            .execute(params![id, error, now_ms]),
    }?;
    Ok(())
}

/// One process owns a SQLite file, so what is in flight when it starts was left by a
/// process that died: due again at once.
pub(super) fn release(db: &Connection, now_ms: i64) -> rusqlite::Result<()> {
    db.execute(
        &format!("UPDATE outbox SET state = {QUEUED}, due_ms = ?1 WHERE state = {IN_FLIGHT}"),
        [now_ms],
    )?;
    Ok(())
}

pub(super) fn repost(
    db: &Connection,
    contact_center: &str,
    what: &Repost,
    now_ms: i64,
) -> rusqlite::Result<u64> {
    let sql = |text: String| crate::plan::sqlite_placeholders(&text);
    let count = match what {
        Repost::Recording(id) => {
            let due = db
                .prepare_cached(&sql(format!("{DUE_NOW}{FOR_RECORDING}")))?
                .execute(params![contact_center, now_ms, id])?;
            due + db
                .prepare_cached(&sql(format!(
                    "{QUEUE_FROM_RECORDINGS} AND r.id = ?3{NOTHING_PENDING}"
                )))?
                .execute(params![contact_center, now_ms, id])?
        }
        Repost::StartedBetween { from_ms, to_ms } => {
            let due = db
                .prepare_cached(&sql(format!("{DUE_NOW}{FOR_RANGE}")))?
                .execute(params![contact_center, now_ms, from_ms, to_ms])?;
            due + db
                .prepare_cached(&sql(format!(
                    "{QUEUE_FROM_RECORDINGS} AND r.start_ms >= ?3 AND r.start_ms < ?4{NOTHING_PENDING}
                     ORDER BY r.start_ms, r.id"
                )))?
                .execute(params![contact_center, now_ms, from_ms, to_ms])?
        }
        Repost::DeadLetters => db
            .prepare_cached(shared!(REPOST_DEAD_LETTERS))?
            .execute(params![contact_center, now_ms])?,
    };
    Ok(count as u64)
}

pub(super) fn status(
    db: &Connection,
    contact_center: Option<&str>,
) -> rusqlite::Result<OutboxStatus> {
    let mut query = db.prepare_cached(
        "SELECT state, count(*), sum(attempts > 0), min(queued_ms) FROM outbox
         WHERE ?1 IS NULL OR contact_center_id = ?1 GROUP BY state",
    )?;
    let rows = query.query_map([contact_center], |row| {
        Ok((
            row.get::<_, i16>(0)?,
            row.get::<_, i64>(1)? as u64,
            row.get::<_, i64>(2)? as u64,
            row.get::<_, i64>(3)?,
        ))
    })?;
    let mut status = OutboxStatus::default();
    for row in rows {
        let (state, count, retried, oldest) = row?;
        status.add(state, count, retried, oldest);
    }
    Ok(status)
}

fn delivery_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<DeliveryRecord> {
    Ok(DeliveryRecord {
        id: row.get(0)?,
        recording_id: row.get(1)?,
        state: DeliveryState::from_column(row.get(2)?),
        attempts: row.get(3)?,
        last_error: row.get(4)?,
        queued_ms: row.get(5)?,
        updated_ms: row.get(6)?,
    })
}

pub(super) fn latest(
    db: &Connection,
    contact_center: &str,
    id: &str,
) -> rusqlite::Result<Option<DeliveryRecord>> {
    db.prepare_cached(shared!(LATEST))?
        .query_row(params![contact_center, id], delivery_record)
        .optional()
}

pub(super) fn dead_letters(
    db: &Connection,
    contact_center: &str,
    limit: usize,
) -> rusqlite::Result<Vec<DeliveryRecord>> {
    db.prepare_cached(shared!(DEAD_LETTERS))?
        .query_map(params![contact_center, limit as i64], delivery_record)?
        .collect()
}
