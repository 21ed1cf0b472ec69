//! The SpeechMiner outbox on PostgreSQL (see [`crate::outbox`]). Instances share the
//! queue: a claim skips deliveries another instance has locked (`SKIP LOCKED`).

use deadpool_postgres::{Client, Transaction};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::outbox::{
    AttemptResult, Delivery, DeliveryRecord, DeliveryState, OutboxStatus, ReceiverSettings, Repost,
    ANY_CLAIMABLE, DEAD_LETTERS, DUE_NOW, FINISH_DEAD, FINISH_DELIVERED, FINISH_RETRY,
    FORGET_RECORDING, FOR_RANGE, FOR_RECORDING, LATEST, NOTHING_PENDING, REPOST_DEAD_LETTERS,
};
use crate::sql;
use crate::{Removal, StoreError};

/// The snapshot a delivery carries: the recording in the shape clients post (`json`, not
/// `jsonb`, keeps the stored text and its key order).
const QUEUE_FROM_RECORDINGS: &str =
    "INSERT INTO outbox (contact_center_id, recording_id, body, state, attempts, due_ms,
         queued_ms, updated_ms)
     SELECT r.contact_center_id, r.id, (r.body::json -> 'recording')::text, 0, 0, $2, $2, $2
     FROM recordings r JOIN speechminer_receivers s
         ON s.contact_center_id = r.contact_center_id AND s.enabled
     WHERE r.contact_center_id = $1";

/// Queues a delivery of each recording as it is now, where its contact center forwards;
/// answers how many were queued.
pub(super) async fn queue_many(
    tx: &Transaction<'_>,
    recordings: &[(&str, &str)],
    now_ms: i64,
) -> Result<u64, StoreError> {
    if recordings.is_empty() {
        return Ok(0);
    }
    let (contact_centers, ids): (Vec<&str>, Vec<&str>) = recordings.iter().copied().unzip();
    // Only the latest state needs delivering: a delivery still waiting (not in flight) is
    // replaced by the new one, which keeps its attempts, due time and age but gets a new
    // id (so a new Idempotency-Key).
    let statement = tx
        .prepare_cached(
            "WITH waiting AS (
                 DELETE FROM outbox o USING UNNEST($1::text[], $2::text[]) AS u (cc, id)
                 WHERE o.contact_center_id = u.cc AND o.recording_id = u.id AND o.state = 0
                   AND EXISTS (SELECT 1 FROM speechminer_receivers s
                               WHERE s.contact_center_id = u.cc AND s.enabled)
                 RETURNING o.contact_center_id, o.recording_id, o.attempts, o.due_ms,
                     o.queued_ms, o.last_error
             ), carried AS (
                 SELECT contact_center_id, recording_id, max(attempts) AS attempts,
                     max(due_ms) AS due_ms, min(queued_ms) AS queued_ms,
                     max(last_error) AS last_error
                 FROM waiting GROUP BY contact_center_id, recording_id
             )
             INSERT INTO outbox (contact_center_id, recording_id, body, state, attempts, due_ms,
                 queued_ms, updated_ms, last_error)
             SELECT r.contact_center_id, r.id, (r.body::json -> 'recording')::text, 0,
                 COALESCE(c.attempts, 0), COALESCE(c.due_ms, $3), COALESCE(c.queued_ms, $3),
                 $3, c.last_error
             FROM UNNEST($1::text[], $2::text[]) WITH ORDINALITY AS u (cc, id, n)
             JOIN recordings r ON r.contact_center_id = u.cc AND r.id = u.id
             JOIN speechminer_receivers s
                 ON s.contact_center_id = r.contact_center_id AND s.enabled
             LEFT JOIN carried c ON c.contact_center_id = u.cc AND c.recording_id = u.id
             ORDER BY u.n",
        )
        .await?;
    Ok(tx
        .execute(&statement, &[&contact_centers, &ids, &now_ms])
        .await?)
}

pub(super) async fn forget_recording(
    tx: &Transaction<'_>,
    contact_center: &str,
    id: &str,
) -> Result<(), StoreError> {
    tx.execute(FORGET_RECORDING, &[&contact_center, &id])
        .await?;
    Ok(())
}

pub(super) async fn put_receiver(
    client: &mut Client,
    id: &str,
    settings: &ReceiverSettings,
) -> Result<bool, StoreError> {
    let params: [&(dyn ToSql + Sync); 5] = [
        &id,
        &settings.url,
        &settings.username,
        &settings.sealed_password,
        &settings.enabled,
    ];
    if super::writes::put_settings(client, id, sql::PUT_RECEIVER, &params)
        .await?
        .is_none()
    {
        return Ok(false);
    }
    // The receiver changed (fixed, most likely): what waits for a retry is due now.
    client
        .execute(DUE_NOW, &[&id, &gird_model::datetime::now_millis()])
        .await?;
    Ok(true)
}

pub(super) async fn receiver(
    client: &Client,
    id: &str,
) -> Result<Option<ReceiverSettings>, StoreError> {
    let row = client.query_opt(sql::RECEIVER, &[&id]).await?;
    Ok(row.map(|row| ReceiverSettings {
        url: row.get(0),
        username: row.get(1),
        sealed_password: row.get(2),
        enabled: row.get(3),
    }))
}

pub(super) async fn delete_receiver(client: &Client, id: &str) -> Result<Removal, StoreError> {
    Ok(sql::removal(
        client.execute(sql::DELETE_RECEIVER, &[&id]).await?,
    ))
}

pub(super) async fn deliveries_due(client: &Client, now_ms: i64) -> Result<bool, StoreError> {
    let statement = client.prepare_cached(&ANY_CLAIMABLE).await?;
    Ok(client.query_one(&statement, &[&now_ms]).await?.get(0))
}

pub(super) async fn claim(
    client: &Client,
    now_ms: i64,
    lease_until_ms: i64,
    limit: usize,
) -> Result<Vec<Delivery>, StoreError> {
    let statement = client
        .prepare_cached(&crate::outbox::claim(" FOR UPDATE OF o SKIP LOCKED"))
        .await?;
    let rows = client
        .query(&statement, &[&now_ms, &lease_until_ms, &(limit as i64)])
        .await?;
    let mut claimed: Vec<Delivery> = rows
        .iter()
        .map(|row| Delivery {
            id: row.get(0),
            contact_center: row.get(1),
            recording_id: row.get(2),
            body: row.get::<_, Option<String>>(3).unwrap_or_default(),
            attempt: row.get::<_, i32>(4) as u32,
        })
        .collect();
    claimed.sort_by_key(|delivery| delivery.id);
    Ok(claimed)
}

pub(super) async fn finish(
    client: &Client,
    id: i64,
    result: &AttemptResult,
    now_ms: i64,
) -> Result<(), StoreError> {
    match result {
        AttemptResult::Delivered => client.execute(&*FINISH_DELIVERED, &[&id, &now_ms]).await?,
        AttemptResult::Retry { at_ms, error } => {
            client
                .execute(&*FINISH_RETRY, &[&id, at_ms, error, &now_ms])
                .await?
        }
        AttemptResult::Dead { error } => {
            client
                .execute(&*FINISH_DEAD, &[&id, error, &now_ms])
                .await?
        }
    };
    Ok(())
}

pub(super) async fn repost(
    client: &Client,
    contact_center: &str,
    what: &Repost,
    now_ms: i64,
) -> Result<u64, StoreError> {
    Ok(match what {
        Repost::Recording(id) => {
            let due = client
                .execute(
                    &format!("{DUE_NOW}{FOR_RECORDING}"),
                    &[&contact_center, &now_ms, id],
                )
                .await?;
            due + client
                .execute(
                    &format!("{QUEUE_FROM_RECORDINGS} AND r.id = $3{NOTHING_PENDING}"),
                    &[&contact_center, &now_ms, id],
                )
                .await?
        }
        Repost::StartedBetween { from_ms, to_ms } => {
            let due = client
                .execute(
                    &format!("{DUE_NOW}{FOR_RANGE}"),
                    &[&contact_center, &now_ms, from_ms, to_ms],
                )
                .await?;
            due + client
                .execute(
                    &format!(
                        "{QUEUE_FROM_RECORDINGS} AND r.start_ms >= $3 AND r.start_ms < $4{NOTHING_PENDING}
                         ORDER BY r.start_ms, r.id"
                    ),
                    &[&contact_center, &now_ms, from_ms, to_ms],
                )
                .await?
        }
        Repost::DeadLetters => {
            client
                .execute(&*REPOST_DEAD_LETTERS, &[&contact_center, &now_ms])
                .await?
        }
    })
}

pub(super) async fn status(
    client: &Client,
    contact_center: Option<&str>,
) -> Result<OutboxStatus, StoreError> {
    let rows = client
        .query(
            "SELECT state, count(*), count(*) FILTER (WHERE attempts > 0), min(queued_ms)
             FROM outbox WHERE $1::text IS NULL OR contact_center_id = $1 GROUP BY state",
            &[&contact_center],
        )
        .await?;
    let mut status = OutboxStatus::default();
    for row in rows {
        status.add(
            row.get(0),
            row.get::<_, i64>(1) as u64,
            row.get::<_, i64>(2) as u64,
            row.get(3),
        );
    }
    Ok(status)
}

fn delivery_record(row: &Row) -> DeliveryRecord {
    DeliveryRecord {
        id: row.get(0),
        recording_id: row.get(1),
        state: DeliveryState::from_column(row.get(2)),
        attempts: row.get::<_, i32>(3) as u32,
        last_error: row.get(4),
        queued_ms: row.get(5),
        updated_ms: row.get(6),
    }
}

pub(super) async fn latest(
    client: &Client,
    contact_center: &str,
    id: &str,
) -> Result<Option<DeliveryRecord>, StoreError> {
    let row = client.query_opt(&*LATEST, &[&contact_center, &id]).await?;
    Ok(row.as_ref().map(delivery_record))
}

pub(super) async fn dead_letters(
    client: &Client,
    contact_center: &str,
    limit: usize,
) -> Result<Vec<DeliveryRecord>, StoreError> {
    let rows = client
        .query(&*DEAD_LETTERS, &[&contact_center, &(limit as i64)])
        .await?;
    Ok(rows.iter().map(delivery_record).collect())
}
