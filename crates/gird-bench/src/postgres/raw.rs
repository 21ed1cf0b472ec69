//! The baseline: the same record bodies written straight into PostgreSQL with
//! multi-row INSERT statements, each in autocommit (one durable commit per
//! statement), over as many connections as gird's pool uses. A table of the shape
//! of gird's `recordings` without its search columns and indexes: what storing the
//! rows costs with nothing of gird in the way.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};

use super::databases::{self, Throwaway};
use crate::body::BodyTemplate;
use crate::histogram::Histogram;
use crate::load::{BodySource, PhaseResult};

const TABLE: &str = "CREATE TABLE recordings (
    contact_center_id TEXT NOT NULL,
    id TEXT COLLATE \"C\" NOT NULL,
    body TEXT NOT NULL,
    start_ms BIGINT NOT NULL,
    stop_ms BIGINT NOT NULL,
    PRIMARY KEY (contact_center_id, id)
)";
const COLUMNS: usize = 5;
const ERROR_SAMPLES: usize = 5;

pub struct RawBaseline {
    database: Throwaway,
    /// Open for the whole run: set-up is not measured, and the backends (with the
    /// CPU time they used) are still there when a phase is observed.
    sessions: Vec<(Arc<Client>, Statement)>,
    batch: u32,
    rows: Arc<Rows>,
}

/// What every row is made of; only the id (and the media ids in the body) differ.
struct Rows {
    bodies: Arc<BodyTemplate>,
    contact_center: String,
    start_ms: i64,
    stop_ms: i64,
    sequence: AtomicU64,
}

impl RawBaseline {
    /// Creates the table in `database` and opens the connections.
    pub async fn prepare(
        database: Throwaway,
        connections: u32,
        batch: u32,
        bodies: Arc<BodyTemplate>,
        contact_center: &str,
    ) -> anyhow::Result<Self> {
        let (start_ms, stop_ms) = call_span(&bodies)?;
        databases::connect(&database.config)
            .await?
            .batch_execute(TABLE)
            .await
            .context("creating the baseline table")?;
        let sql = insert_statement(batch);
        let mut sessions = Vec::with_capacity(connections as usize);
        for _ in 0..connections {
            let client = databases::connect(&database.config).await?;
            let statement = client.prepare(&sql).await?;
            sessions.push((Arc::new(client), statement));
        }
        Ok(Self {
            database,
            sessions,
            batch,
            rows: Arc::new(Rows {
                bodies,
                contact_center: contact_center.to_owned(),
                start_ms,
                stop_ms,
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
        for (client, statement) in &self.sessions {
            let (client, statement) = (client.clone(), statement.clone());
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

async fn drive_connection(
    client: Arc<Client>,
    statement: Statement,
    rows: Arc<Rows>,
    batch: u32,
    deadline: Instant,
    samples: Arc<Mutex<Vec<String>>>,
) -> Worker {
    let mut worker = Worker::default();
    while Instant::now() < deadline && !client.is_closed() {
        let first = rows.sequence.fetch_add(u64::from(batch), Ordering::Relaxed);
        // Rendered before the clock starts: the statement is what is measured.
        let ids: Vec<String> = (first..first + u64::from(batch))
            .map(|sequence| rows.bodies.recording_id(sequence))
            .collect();
        let bodies: Vec<String> = (first..first + u64::from(batch))
            .map(|sequence| String::from_utf8_lossy(&rows.bodies.render(sequence)).into_owned())
            .collect();
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(batch as usize * COLUMNS);
        for (id, body) in ids.iter().zip(&bodies) {
            params.extend([
                &rows.contact_center as &(dyn ToSql + Sync),
                id,
                body,
                &rows.start_ms,
                &rows.stop_ms,
            ]);
        }
        let started = Instant::now();
        match client.execute(&statement, &params).await {
            Ok(inserted) => {
                worker.latency.record(started.elapsed());
                worker.ok += inserted;
                worker.errors += u64::from(batch).saturating_sub(inserted);
            }
            Err(error) => {
                worker.errors += u64::from(batch);
                let mut samples = samples.lock().unwrap_or_else(|e| e.into_inner());
                if samples.len() < ERROR_SAMPLES {
                    samples.push(format!("INSERT of {batch} rows: {error}"));
                }
            }
        }
    }
    worker
}

/// `INSERT ... VALUES ($1, ..., $5), ($6, ..., $10), ...` for `rows` rows.
fn insert_statement(rows: u32) -> String {
    let tuples: Vec<String> = (0..rows as usize)
        .map(|row| {
            let params: Vec<String> = (1..=COLUMNS)
                .map(|column| format!("${}", row * COLUMNS + column))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO recordings (contact_center_id, id, body, start_ms, stop_ms) VALUES {}",
        tuples.join(", ")
    )
}

/// Start of the first media file and stop of the last, in ms since 1970, as gird
/// derives its `start_ms` and `stop_ms` from the record.
fn call_span(bodies: &BodyTemplate) -> anyhow::Result<(i64, i64)> {
    let record: Value = serde_json::from_slice(&bodies.render(0))?;
    let media_files = record["mediaFiles"].as_array().context("no mediaFiles")?;
    let times = |field: &str| -> anyhow::Result<Vec<i64>> {
        media_files
            .iter()
            .map(|media_file| {
                let text = media_file[field].as_str().context("no media file time")?;
                epoch_millis(text).with_context(|| format!("{field} {text:?}"))
            })
            .collect()
    };
    let start = times("startTime")?.into_iter().min();
    let stop = times("stopTime")?.into_iter().max();
    start.zip(stop).context("the sample has no media files")
}

/// `YYYY-MM-DDTHH:MM:SS[.fff][Z]` (UTC) in ms since 1970.
fn epoch_millis(text: &str) -> anyhow::Result<i64> {
    let text = text.trim_end_matches('Z');
    let (date, time) = text.split_once('T').context("no T")?;
    let (clock, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let numbers = |part: &str, separator: char| -> anyhow::Result<Vec<i64>> {
        part.split(separator)
            .map(|number| Ok(number.parse::<i64>()?))
            .collect()
    };
    let (date, clock) = (numbers(date, '-')?, numbers(clock, ':')?);
    let (&[year, month, day], &[hour, minute, second]) = (&date[..], &clock[..]) else {
        bail!("not a datetime");
    };
    let millis: i64 = format!("{fraction:0<3}")[..3].parse()?;
    let days = days_from_civil(year, month, day);
    Ok(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_become_epoch_millis() {
        assert_eq!(epoch_millis("1970-01-01T00:00:00").unwrap(), 0);
        assert_eq!(
            epoch_millis("2015-06-15T23:59:00.000").unwrap(),
            1_434_412_740_000
        );
        assert_eq!(
            epoch_millis("2000-02-29T12:00:00.5Z").unwrap(),
            951_825_600_500
        );
        assert!(epoch_millis("yesterday").is_err());
    }

    #[test]
    fn the_sample_spans_its_media_files() {
        let bodies = BodyTemplate::from_sample("t").unwrap();
        let (start, stop) = call_span(&bodies).unwrap();
        // The second media file starts first, at 2015-06-15T23:58:00.
        assert_eq!(start, 1_434_412_680_000);
        assert!(stop > start);
    }

    #[test]
    fn the_statement_numbers_its_parameters_row_by_row() {
        assert_eq!(
            insert_statement(2),
            "INSERT INTO recordings (contact_center_id, id, body, start_ms, stop_ms) \
             VALUES ($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10)"
        );
    }
}
