//! The single writer thread: it runs every waiting write in one transaction.

use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::StoreError;

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

/// Each job of a batch runs in its own savepoint, so one job's failure undoes only it.
const SAVEPOINT: &str = "SAVEPOINT job";
const UNDO: &str = "ROLLBACK TO job";
const RELEASE: &str = "RELEASE job";

fn in_savepoint<T>(
    connection: &Connection,
    work: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    connection.prepare_cached(SAVEPOINT)?.execute([])?;
    let result = work(connection);
    if result.is_err() {
        undo_job(connection)?;
    }
    connection.prepare_cached(RELEASE)?.execute([])?;
    result
}

/// Undoes what the running job wrote so far (it then answers a refusal, not an error).
pub(super) fn undo_job(connection: &Connection) -> rusqlite::Result<()> {
    connection.prepare_cached(UNDO)?.execute([])?;
    Ok(())
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
    metrics::histogram!("gird_insert_batch_size").record(jobs.len() as f64);
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
