//! The baseline: the same rows gird writes for each record — its `recordings` row with
//! the search columns, its search terms and its media id claims — written straight into
//! a database with gird's own schema (made by `gird migrate`, indexes included), a batch
//! of records per transaction with one multi-row INSERT per table, over as many
//! connections as gird's pool uses. What storing gird's data model costs in PostgreSQL,
//! with nothing of gird in the way.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use gird_model::search::{phone_key, reversed, search_terms};
use gird_model::Recording;
use serde_json::Value;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};

use super::databases::{self, Throwaway};
use crate::body::BodyTemplate;
use crate::histogram::Histogram;
use crate::load::{BodySource, PhaseResult};

const ERROR_SAMPLES: usize = 5;

pub struct RawBaseline {
    database: Throwaway,
    /// Open for the whole run: set-up is not measured, and the backends (with the
    /// CPU time they used) are still there when a phase is observed.
    sessions: Vec<(Arc<Client>, Statements)>,
    batch: u32,
    rows: Arc<Rows>,
}

/// What every row is made of; only the id (and the media ids in the body) differ.
struct Rows {
    bodies: Arc<BodyTemplate>,
    contact_center: String,
    sequence: AtomicU64,
}

#[derive(Clone)]
struct Statements {
    recordings: Statement,
    terms: Statement,
    media: Statement,
}

const INSERT_RECORDINGS: &str = "INSERT INTO recordings (contact_center_id, id, body, start_ms,
        stop_ms, caller_phone_number, dialed_phone_number, caller_key, caller_rkey, dialed_key,
        dialed_rkey, region, call_type, created_at, updated_at)
    SELECT $1, u.*, 'now', 'now' FROM UNNEST($2::text[], $3::text[], $4::int8[], $5::int8[],
        $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
        $13::text[]) AS u";
const INSERT_TERMS: &str = "INSERT INTO search_terms (contact_center_id, kind, value, start_ms,
        recording_id)
    SELECT $1, u.* FROM UNNEST($2::text[], $3::text[], $4::int8[], $5::text[]) AS u";
const INSERT_MEDIA: &str = "INSERT INTO media_files (contact_center_id, media_id, recording_id)
    SELECT $1, u.* FROM UNNEST($2::text[], $3::text[]) AS u";

impl RawBaseline {
    /// Gives `database` gird's schema (with `gird migrate`), adds the contact center,
    /// and opens the connections.
    pub async fn prepare(
        database: Throwaway,
        gird_bin: &std::path::Path,
        connections: u32,
        batch: u32,
        bodies: Arc<BodyTemplate>,
        contact_center: &str,
    ) -> anyhow::Result<Self> {
        let status = tokio::process::Command::new(gird_bin)
            .args(["migrate", "--database", &database.url])
            .stdout(std::process::Stdio::null())
            .status()
            .await
            .context("running gird migrate for the baseline")?;
        if !status.success() {
            bail!("gird migrate failed for the baseline database ({status})");
        }
        databases::connect(&database.config)
            .await?
            .execute(
                "INSERT INTO contact_centers (id, domains, created_at) VALUES ($1, '[]', 'now')",
                &[&contact_center],
            )
            .await
            .context("creating the baseline contact center")?;
        let mut sessions = Vec::with_capacity(connections as usize);
        for _ in 0..connections {
            let client = databases::connect(&database.config).await?;
            let statements = Statements {
                recordings: client.prepare(INSERT_RECORDINGS).await?,
                terms: client.prepare(INSERT_TERMS).await?,
                media: client.prepare(INSERT_MEDIA).await?,
            };
            sessions.push((Arc::new(client), statements));
        }
        Ok(Self {
            database,
            sessions,
            batch,
            rows: Arc::new(Rows {
                bodies,
                contact_center: contact_center.to_owned(),
                sequence: AtomicU64::new(0),
            }),
        })
    }

    pub fn database(&self) -> &Throwaway {
        &self.database
    }

    /// Inserts for `length` and waits for the statements in flight. `ok` and
    /// `errors` count rows; the latency is per statement.
    pub async fn run_phase(&self, length: Duration) -> anyhow::Result<PhaseResult> {
        let start = Instant::now();
        let deadline = start + length;
        let samples = Arc::new(Mutex::new(Vec::new()));
        let mut workers = tokio::task::JoinSet::new();
        for (client, statements) in &self.sessions {
            let (client, statement) = (client.clone(), statements.clone());
            let rows = self.rows.clone();
            let samples = samples.clone();
            let batch = self.batch;
            workers.spawn(async move {
                drive_connection(client, statement, rows, batch, deadline, samples).await
            });
        }
        let mut result = PhaseResult::default();
        while let Some(worker) = workers.join_next().await {
            let worker = worker.context("a baseline connection task panicked")?;
            result.ok += worker.ok;
            result.errors += worker.errors;
            result.latency.merge(&worker.latency);
        }
        result.elapsed = start.elapsed();
        result.error_samples =
            std::mem::take(&mut *samples.lock().unwrap_or_else(|e| e.into_inner()));
        Ok(result)
    }
}

#[derive(Default)]
struct Worker {
    ok: u64,
    errors: u64,
    latency: Histogram,
}

/// The arrays of one batch: every row of every table for `batch` records.
#[derive(Default)]
struct Batch {
    ids: Vec<String>,
    bodies: Vec<String>,
    starts: Vec<i64>,
    stops: Vec<i64>,
    text: [Vec<Option<String>>; 8],
    term_kinds: Vec<&'static str>,
    term_values: Vec<String>,
    term_starts: Vec<i64>,
    term_ids: Vec<String>,
    media_ids: Vec<String>,
    media_owners: Vec<String>,
}

impl Batch {
    fn of(rows: &Rows, first: u64, count: u64) -> anyhow::Result<Batch> {
        let mut batch = Batch::default();
        for sequence in first..first + count {
            let body = String::from_utf8_lossy(&rows.bodies.render(sequence)).into_owned();
            let object = serde_json::from_str::<Value>(&body)?
                .as_object()
                .cloned()
                .context("the body is not an object")?;
            let recording = Recording::from_json(object)
                .map_err(|violations| anyhow::anyhow!("the sample is invalid: {violations}"))?;
            let (start, stop) = recording.time_span();
            let field = |name: &str| recording.text_field(name).map(str::to_owned);
            let caller = phone_key(
                recording
                    .text_field("callerPhoneNumber")
                    .unwrap_or_default(),
            );
            let dialed = phone_key(
                recording
                    .text_field("dialedPhoneNumber")
                    .unwrap_or_default(),
            );
            let values = [
                field("callerPhoneNumber"),
                field("dialedPhoneNumber"),
                Some(caller.clone()),
                Some(reversed(&caller)),
                Some(dialed.clone()),
                Some(reversed(&dialed)),
                field("region"),
                field("callType"),
            ];
            for (column, value) in batch.text.iter_mut().zip(values) {
                column.push(value);
            }
            for (kind, value) in search_terms(&recording) {
                batch.term_kinds.push(kind);
                batch.term_values.push(value);
                batch.term_starts.push(start);
                batch.term_ids.push(recording.id.clone());
            }
            for media_id in recording
                .media_files
                .iter()
                .filter_map(|m| m.key.media_id())
            {
                batch.media_ids.push(media_id.to_owned());
                batch.media_owners.push(recording.id.clone());
            }
            batch.ids.push(recording.id.clone());
            batch.bodies.push(body);
            batch.starts.push(start);
            batch.stops.push(stop);
        }
        Ok(batch)
    }

    async fn write(
        &self,
        client: &Client,
        statements: &Statements,
        contact_center: &String,
    ) -> Result<u64, tokio_postgres::Error> {
        let [callers, dialed, caller_keys, caller_rkeys, dialed_keys, dialed_rkeys, regions, call_types] =
            &self.text;
        client.batch_execute("BEGIN").await?;
        let recordings: [&(dyn ToSql + Sync); 13] = [
            contact_center,
            &self.ids,
            &self.bodies,
            &self.starts,
            &self.stops,
            callers,
            dialed,
            caller_keys,
            caller_rkeys,
            dialed_keys,
            dialed_rkeys,
            regions,
            call_types,
        ];
        let inserted = client.execute(&statements.recordings, &recordings).await?;
        client
            .execute(
                &statements.terms,
                &[
                    contact_center,
                    &self.term_kinds,
                    &self.term_values,
                    &self.term_starts,
                    &self.term_ids,
                ],
            )
            .await?;
        client
            .execute(
                &statements.media,
                &[contact_center, &self.media_ids, &self.media_owners],
            )
            .await?;
        client.batch_execute("COMMIT").await?;
        Ok(inserted)
    }
}

async fn drive_connection(
    client: Arc<Client>,
    statements: Statements,
    rows: Arc<Rows>,
    batch: u32,
    deadline: Instant,
    samples: Arc<Mutex<Vec<String>>>,
) -> Worker {
    let mut worker = Worker::default();
    while Instant::now() < deadline && !client.is_closed() {
        let first = rows.sequence.fetch_add(u64::from(batch), Ordering::Relaxed);
        // Built before the clock starts: the transaction is what is measured.
        let rows_of_batch = match Batch::of(&rows, first, u64::from(batch)) {
            Ok(rows_of_batch) => rows_of_batch,
            Err(error) => {
                worker.errors += u64::from(batch);
                samples
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(format!("{error:#}"));
                break;
            }
        };
        let started = Instant::now();
        match rows_of_batch
            .write(&client, &statements, &rows.contact_center)
            .await
        {
            Ok(inserted) => {
                worker.latency.record(started.elapsed());
                worker.ok += inserted;
                worker.errors += u64::from(batch).saturating_sub(inserted);
            }
            Err(error) => {
                let _ = client.batch_execute("ROLLBACK").await;
                worker.errors += u64::from(batch);
                let mut samples = samples.lock().unwrap_or_else(|e| e.into_inner());
                if samples.len() < ERROR_SAMPLES {
                    samples.push(format!("a transaction of {batch} records: {error}"));
                }
            }
        }
    }
    worker
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_holds_every_row_gird_writes_for_its_records() {
        let rows = Rows {
            bodies: Arc::new(BodyTemplate::from_sample("t").unwrap()),
            contact_center: "bench".into(),
            sequence: AtomicU64::new(0),
        };
        let batch = Batch::of(&rows, 10, 2).unwrap();
        assert_eq!(batch.ids.len(), 2);
        assert_ne!(batch.ids[0], batch.ids[1]);
        // The sample has two media files with media ids, an agent and two call UUIDs, and
        // (no access groups or partitions) the visibility terms `/` and no partition.
        assert_eq!(batch.media_ids.len(), 4);
        assert_eq!(batch.term_kinds.len(), 10);
        assert_eq!(batch.text[3][0].as_deref(), Some("00000006141"));
        assert!(batch.starts[0] < batch.stops[0]);
    }
}
