//! WAL checkpoints on their own thread.
//!
//! By default SQLite checkpoints inside the committing transaction, which puts the copy
//! of pages into the database file (and its fsync) on the single writer's path and
//! stalls every waiting insert. A passive checkpoint from another connection never
//! blocks the writer, so it runs here, a few times a second. Under continuous load it
//! can never catch up with the last frame, and only the writer can restart the WAL
//! file, so the writer still checkpoints when the WAL passes 8192 pages (32 MiB): by then
//! this thread has copied nearly everything and the writer's share is small.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use super::open_connection;
use crate::StoreError;

const INTERVAL: Duration = Duration::from_millis(250);

pub(super) struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(super) fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        let connection = open_connection(path, true)?;
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("gird-sqlite-checkpoint".into())
            .spawn(move || run(connection, stopped))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the checkpointer: {e}")))?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Stops the thread after a last checkpoint that also empties the WAL file.
    pub(super) fn stop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(connection: Connection, stopped: mpsc::Receiver<()>) {
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
        checkpoint(&connection, "PASSIVE");
    }
    checkpoint(&connection, "TRUNCATE");
}

fn checkpoint(connection: &Connection, mode: &str) {
    let result = connection.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
        ))
    });
    if let Err(error) = result {
        tracing::warn!(%error, mode, "WAL checkpoint failed");
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}
