//! Group commit on PostgreSQL: inserts that wait together are written together.
//!
//! One insert at a time costs a transaction and a dozen round trips. Here a worker task
//! takes every insert that is waiting, writes all new recordings, their search terms and
//! media id claims with one set-based statement each (`UNNEST` of arrays), merges the few
//! that already exist one by one under a savepoint, commits once, and then answers every
//! caller. A batch holds one change per recording: the next change of a recording already
//! in it starts the next batch. (Many segments of one call posted at once would otherwise
//! be merged one after the other in one transaction, each re-writing the growing record,
//! and none acknowledged before the last; this way each is acknowledged as soon as the
//! transaction of its own merge commits.) A failed batch answers all of its callers "unavailable"; their retries
//! are safe because inserts are idempotent.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use deadpool_postgres::{Pool, Transaction};
use gird_model::datetime::{now_millis, now_text};
use gird_model::search::search_terms;
use tokio::sync::{mpsc, oneshot, Mutex, Notify};

use super::writes::{claim_media_ids, media_owner, merge_into_existing, raise_max_duration, Merge};
use crate::row::{Columns, PreparedInsert};
use crate::{InsertOutcome, StoreError};

/// How many inserts one transaction takes at most.
const MAX_BATCH: usize = 256;
/// Batches written at once (each on its own connection). One is fastest: measured with
/// gird-bench postgres, 1, 2 and 4 writers per instance gave 8.9k, 8.5k and 7.1k inserts/s
/// (fewer, larger transactions cost PostgreSQL less CPU per record).
const WORKERS: usize = 1;
const QUEUE_DEPTH: usize = 4096;

struct Job {
    contact_center: String,
    prepared: PreparedInsert,
    reply: oneshot::Sender<Result<InsertOutcome, StoreError>>,
}

impl Job {
    fn key(&self) -> (String, String) {
        (
            self.contact_center.clone(),
            self.prepared.recording.id.clone(),
        )
    }
}

pub(super) struct Batcher {
    sender: mpsc::Sender<Job>,
}

impl Batcher {
    /// `deliveries_queued` is notified after a batch that queued SpeechMiner deliveries.
    pub(super) fn start(pool: Pool, deliveries_queued: Arc<Notify>) -> Batcher {
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..WORKERS {
            tokio::spawn(work(
                pool.clone(),
                Arc::clone(&receiver),
                Arc::clone(&deliveries_queued),
            ));
        }
        Batcher { sender }
    }

    pub(super) async fn insert(
        &self,
        contact_center: &str,
        prepared: PreparedInsert,
    ) -> Result<InsertOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            contact_center: contact_center.to_owned(),
            prepared,
            reply,
        };
        let stopped = || StoreError::Unavailable("the PostgreSQL writers have stopped".into());
        self.sender.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn work(
    pool: Pool,
    receiver: Arc<Mutex<mpsc::Receiver<Job>>>,
    deliveries_queued: Arc<Notify>,
) {
    // The change that ended the last batch, because its recording was in it already.
    let mut carried: Option<Job> = None;
    loop {
        let jobs = {
            let mut receiver = receiver.lock().await;
            let first = match carried.take() {
                Some(job) => job,
                None => match receiver.recv().await {
                    Some(job) => job,
                    None => return,
                },
            };
            let mut recordings = HashSet::from([first.key()]);
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(job) if recordings.insert(job.key()) => jobs.push(job),
                    Ok(job) => {
                        carried = Some(job);
                        break;
                    }
                    Err(_) => break,
                }
            }
            jobs
        };
        let (inserts, replies): (Vec<_>, Vec<_>) = jobs
            .into_iter()
            .map(|job| ((job.contact_center, job.prepared), job.reply))
            .unzip();
        metrics::histogram!("gird_insert_batch_size").record(inserts.len() as f64);
        let (outcomes, queued) = write_or_split(&pool, &inserts).await;
        if queued {
            deliveries_queued.notify_one();
        }
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            let _ = reply.send(outcome);
        }
    }
}

/// Writes the batch; if it fails, writes each insert alone, so that one record the
/// database refuses (or a lost race) answers only its own caller with the error. The
/// flag tells whether a SpeechMiner delivery was queued.
async fn write_or_split(
    pool: &Pool,
    inserts: &[(String, PreparedInsert)],
) -> (Vec<Result<InsertOutcome, StoreError>>, bool) {
    match write_batch(pool, inserts).await {
        Ok((outcomes, queued)) => (outcomes.into_iter().map(Ok).collect(), queued),
        Err(error) if inserts.len() == 1 => (vec![Err(error)], false),
        Err(error) => {
            tracing::warn!(%error, batch = inserts.len(), "a PostgreSQL batch failed; writing its inserts one by one");
            let mut outcomes = Vec::with_capacity(inserts.len());
            let mut any_queued = false;
            for insert in inserts {
                let single = write_batch(pool, std::slice::from_ref(insert)).await;
                outcomes.push(single.map(|(mut outcome, queued)| {
                    any_queued |= queued;
                    outcome.remove(0)
                }));
            }
            (outcomes, any_queued)
        }
    }
}

async fn write_batch(
    pool: &Pool,
    inserts: &[(String, PreparedInsert)],
) -> Result<(Vec<InsertOutcome>, bool), StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let now = now_text();
    let mut outcomes: Vec<Option<InsertOutcome>> = vec![None; inserts.len()];

    let known = existing_contact_centers(&tx, inserts).await?;
    let mut fresh = Vec::new();
    let mut seen = HashSet::new();
    for (index, (contact_center, prepared)) in inserts.iter().enumerate() {
        if !known.contains(contact_center) {
            outcomes[index] = Some(InsertOutcome::ContactCenterMissing);
        } else if seen.insert((contact_center.as_str(), prepared.recording.id.as_str())) {
            fresh.push(index);
        }
    }
    let inserted = insert_new(&tx, inserts, &fresh, &now).await?;
    let created: Vec<usize> = fresh
        .into_iter()
        .filter(|i| inserted.contains(&key(&inserts[*i])))
        .collect();
    index_terms(&tx, inserts, &created).await?;
    for (index, taken) in claim_all(&tx, inserts, &created).await? {
        outcomes[index] = Some(taken);
    }
    for &index in &created {
        outcomes[index].get_or_insert(InsertOutcome::Created);
    }

    // What remains exists already (or came twice in this batch): merge one by one.
    let mut merged_spans = Vec::new();
    for (index, (contact_center, prepared)) in inserts.iter().enumerate() {
        if outcomes[index].is_some() {
            continue;
        }
        tx.batch_execute("SAVEPOINT job").await?;
        let merge = merge_into_existing(
            &tx,
            contact_center,
            prepared.recording.clone(),
            &prepared.digest,
            &now,
        )
        .await?;
        let (outcome, span) = match merge {
            Merge::Unchanged => (InsertOutcome::Unchanged, None),
            Merge::BeingDeleted => (InsertOutcome::BeingDeleted, None),
            Merge::TooLarge(limit) => (InsertOutcome::TooLarge(limit), None),
            Merge::Missing => insert_alone(&tx, contact_center, prepared, &now).await?,
            Merge::Merged(recording) => {
                match claim_media_ids(&tx, contact_center, &recording).await? {
                    Some(taken) => (taken, None),
                    None => (InsertOutcome::Merged, Some(recording.time_span())),
                }
            }
        };
        if matches!(outcome, InsertOutcome::MediaIdTaken { .. }) {
            tx.batch_execute("ROLLBACK TO SAVEPOINT job").await?;
        }
        tx.batch_execute("RELEASE SAVEPOINT job").await?;
        if let Some(span) = span {
            merged_spans.push((contact_center.as_str(), span));
        }
        outcomes[index] = Some(outcome);
    }
    for (contact_center, (start, stop)) in merged_spans {
        raise_max_duration(&tx, contact_center, stop - start).await?;
    }
    let mut created_per_center: std::collections::BTreeMap<&str, i64> = Default::default();
    for ((contact_center, _), outcome) in inserts.iter().zip(&outcomes) {
        if outcome == &Some(InsertOutcome::Created) {
            *created_per_center
                .entry(contact_center.as_str())
                .or_default() += 1;
        }
    }
    for (contact_center, created) in created_per_center {
        tx.execute(crate::counts::ADD, &[&contact_center, &created])
            .await?;
    }
    let queued = queue_deliveries(&tx, inserts, &outcomes).await?;
    tx.commit().await?;
    let outcomes = outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or(InsertOutcome::Unchanged))
        .collect();
    Ok((outcomes, queued))
}

/// Queues one SpeechMiner delivery per recording the batch created or changed (once,
/// with its final state, when the batch changed it twice).
async fn queue_deliveries(
    tx: &Transaction<'_>,
    inserts: &[(String, PreparedInsert)],
    outcomes: &[Option<InsertOutcome>],
) -> Result<bool, StoreError> {
    let mut seen = HashSet::new();
    let changed: Vec<(&str, &str)> = inserts
        .iter()
        .zip(outcomes)
        .filter(|(_, outcome)| {
            matches!(
                outcome,
                Some(InsertOutcome::Created | InsertOutcome::Merged)
            )
        })
        .map(|((cc, prepared), _)| (cc.as_str(), prepared.recording.id.as_str()))
        .filter(|key| seen.insert(*key))
        .collect();
    Ok(super::outbox::queue_many(tx, &changed, now_millis()).await? > 0)
}

/// Inserts a recording whose row vanished between the batch's insert and its merge (an
/// earlier copy in the batch was taken out again, or another instance deleted it).
async fn insert_alone(
    tx: &Transaction<'_>,
    contact_center: &str,
    prepared: &PreparedInsert,
    now: &str,
) -> Result<(InsertOutcome, Option<(i64, i64)>), StoreError> {
    let one = [(contact_center.to_owned(), prepared.clone())];
    if insert_new(tx, &one, &[0], now).await?.is_empty() {
        return Err(StoreError::Unavailable(format!(
            "recording {:?} changed during the insert",
            prepared.recording.id
        )));
    }
    index_terms(tx, &one, &[0]).await?;
    Ok(match claim_all(tx, &one, &[0]).await?.pop() {
        Some((_, taken)) => (taken, None),
        None => (InsertOutcome::Created, None),
    })
}

fn key(insert: &(String, PreparedInsert)) -> (String, String) {
    (insert.0.clone(), insert.1.recording.id.clone())
}

async fn existing_contact_centers(
    tx: &Transaction<'_>,
    inserts: &[(String, PreparedInsert)],
) -> Result<HashSet<String>, StoreError> {
    let wanted: Vec<&str> = inserts
        .iter()
        .map(|(cc, _)| cc.as_str())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let rows = tx
        .query(
            "SELECT id FROM contact_centers WHERE id = ANY($1)",
            &[&wanted],
        )
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

struct NewRow<'a> {
    contact_center: &'a String,
    prepared: &'a PreparedInsert,
    columns: Columns<'a>,
}

/// Inserts the recordings whose ids are new; answers the (contact center, id) inserted.
async fn insert_new(
    tx: &Transaction<'_>,
    inserts: &[(String, PreparedInsert)],
    fresh: &[usize],
    now: &str,
) -> Result<HashSet<(String, String)>, StoreError> {
    if fresh.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<NewRow> = fresh
        .iter()
        .map(|&i| NewRow {
            contact_center: &inserts[i].0,
            prepared: &inserts[i].1,
            columns: Columns::of(&inserts[i].1.recording),
        })
        .collect();
    let text =
        |f: fn(&NewRow) -> Option<String>| -> Vec<Option<String>> { rows.iter().map(f).collect() };
    let contact_centers = text(|r| Some(r.contact_center.clone()));
    let ids = text(|r| Some(r.prepared.recording.id.clone()));
    let bodies = text(|r| Some(r.prepared.body.clone()));
    let callers = text(|r| r.columns.caller.map(str::to_owned));
    let dialed = text(|r| r.columns.dialed.map(str::to_owned));
    let caller_keys = text(|r| Some(r.columns.caller_key.clone()));
    let caller_rkeys = text(|r| Some(r.columns.caller_rkey.clone()));
    let dialed_keys = text(|r| Some(r.columns.dialed_key.clone()));
    let dialed_rkeys = text(|r| Some(r.columns.dialed_rkey.clone()));
    let regions = text(|r| r.columns.region.map(str::to_owned));
    let call_types = text(|r| r.columns.call_type.map(str::to_owned));
    let starts: Vec<i64> = rows.iter().map(|r| r.columns.start).collect();
    let stops: Vec<i64> = rows.iter().map(|r| r.columns.stop).collect();
    let statement = tx
        .prepare_cached(
            "INSERT INTO recordings (contact_center_id, id, body, start_ms, stop_ms,
                 caller_phone_number, dialed_phone_number, caller_key, caller_rkey,
                 dialed_key, dialed_rkey, region, call_type, created_at, updated_at)
             SELECT u.*, $14, $14 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[],
                 $5::int8[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                 $11::text[], $12::text[], $13::text[]) AS u
             ON CONFLICT (contact_center_id, id) DO NOTHING
             RETURNING contact_center_id, id",
        )
        .await?;
    let inserted = tx
        .query(
            &statement,
            &[
                &contact_centers,
                &ids,
                &bodies,
                &starts,
                &stops,
                &callers,
                &dialed,
                &caller_keys,
                &caller_rkeys,
                &dialed_keys,
                &dialed_rkeys,
                &regions,
                &call_types,
                &now,
            ],
        )
        .await?;
    Ok(inserted
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect())
}

async fn index_terms(
    tx: &Transaction<'_>,
    inserts: &[(String, PreparedInsert)],
    created: &[usize],
) -> Result<(), StoreError> {
    let (mut ccs, mut kinds, mut values, mut starts, mut ids) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut longest: HashMap<&str, i64> = HashMap::new();
    for &index in created {
        let (contact_center, prepared) = &inserts[index];
        let recording = &prepared.recording;
        let (start, stop) = recording.time_span();
        let longest = longest.entry(contact_center.as_str()).or_insert(0);
        *longest = (*longest).max(stop - start);
        for (kind, value) in search_terms(recording) {
            ccs.push(contact_center.as_str());
            kinds.push(kind);
            values.push(value);
            starts.push(start);
            ids.push(recording.id.as_str());
        }
    }
    if !ccs.is_empty() {
        let statement = tx
            .prepare_cached(
                "INSERT INTO search_terms (contact_center_id, kind, value, start_ms, recording_id)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[])
                 ON CONFLICT DO NOTHING",
            )
            .await?;
        tx.execute(&statement, &[&ccs, &kinds, &values, &starts, &ids])
            .await?;
    }
    for (contact_center, duration) in longest {
        raise_max_duration(tx, contact_center, duration).await?;
    }
    Ok(())
}

/// Claims the media ids of the new recordings at once. A recording with a media id that
/// another recording owns is taken out again (row, terms, claims); answers those.
async fn claim_all(
    tx: &Transaction<'_>,
    inserts: &[(String, PreparedInsert)],
    created: &[usize],
) -> Result<Vec<(usize, InsertOutcome)>, StoreError> {
    let (mut ccs, mut media_ids, mut owners) = (Vec::new(), Vec::new(), Vec::new());
    for &index in created {
        let (contact_center, prepared) = &inserts[index];
        for media_id in prepared
            .recording
            .media_files
            .iter()
            .filter_map(|m| m.key.media_id())
        {
            ccs.push(contact_center.as_str());
            media_ids.push(media_id);
            owners.push(prepared.recording.id.as_str());
        }
    }
    if ccs.is_empty() {
        return Ok(Vec::new());
    }
    let statement = tx
        .prepare_cached(
            "INSERT INTO media_files (contact_center_id, media_id, recording_id)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[])
             ON CONFLICT DO NOTHING
             RETURNING contact_center_id, media_id, recording_id",
        )
        .await?;
    let claimed: HashSet<(String, String, String)> = tx
        .query(&statement, &[&ccs, &media_ids, &owners])
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
    let mut taken = Vec::new();
    for &index in created {
        let (contact_center, prepared) = &inserts[index];
        let recording = &prepared.recording;
        let lost = recording
            .media_files
            .iter()
            .filter_map(|m| m.key.media_id())
            .find(|media_id| {
                !claimed.contains(&(
                    contact_center.clone(),
                    (*media_id).to_owned(),
                    recording.id.clone(),
                ))
            });
        let Some(media_id) = lost else {
            continue;
        };
        let owner = media_owner(tx, contact_center, media_id).await?;
        if owner == recording.id {
            continue; // the same media file twice in one recording
        }
        super::writes::remove_new_recording(tx, contact_center, recording).await?;
        taken.push((
            index,
            InsertOutcome::MediaIdTaken {
                media_id: media_id.to_owned(),
                owner,
            },
        ));
    }
    Ok(taken)
}
