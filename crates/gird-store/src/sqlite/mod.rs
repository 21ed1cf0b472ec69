//! The embedded SQLite backend: one writer thread that group-commits, and a small pool
//! of reader connections.
//!
//! SQLite allows one writer at a time, and every commit costs an fsync (WAL with
//! `synchronous=FULL`, so an acknowledged record survives a power cut). The writer
//! thread therefore takes every insert that is waiting, runs each in its own savepoint
//! of one transaction, commits once, and only then answers all of them.

/// Shared SQL (written with `$n`, see [`crate::sql`]) in SQLite's `?n`, converted once per
/// place it is used.
macro_rules! shared {
    ($sql:expr) => {{
        static SQL: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| crate::plan::sqlite_placeholders(&$sql));
        SQL.as_str()
    }};
}

mod cc_writes;
mod checkpoint;
mod migrations;
mod outbox;
mod reads;
mod recording_writes;
mod search;
mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;
use gird_model::Recording;
use rusqlite::{Connection, OpenFlags};

use gird_model::ContactCenter;

use crate::access_log::{AccessEntry, AccessLogStore};
use crate::prelude::*;
use crate::users::{self, User, UserStore, UserWrite};
use crate::{
    AttemptResult, DeletionStart, Delivery, DeliveryRecord, FoundRecording, HoldChange,
    InsertOutcome, OutboxStatus, ReceiverSettings, Removal, Repost, S3Settings, SearchPage,
    SearchQuery, StorageSettings, Store, StoreError,
};
use writer::Writer;

/// Idle read connections kept open; more are opened under load and closed after.
const MAX_IDLE_READERS: usize = 8;

pub struct SqliteStore {
    path: PathBuf,
    readers: Arc<Mutex<Vec<Connection>>>,
    writer: Writer,
    checkpointer: Mutex<checkpoint::Checkpointer>,
    contact_centers: ContactCenterCache,
    /// Reads run on blocking threads; this bounds how many at once (and so the threads and
    /// connections that slow searches can pile up).
    reads_in_flight: tokio::sync::Semaphore,
    deliveries_queued: Arc<tokio::sync::Notify>,
}

const MAX_READS_IN_FLIGHT: usize = 8;

/// Every insert checks its contact center; they change rarely and only through this
/// process, so they are read once and kept until one of them changes.
#[derive(Default)]
struct ContactCenterCache {
    generation: AtomicU64,
    all: RwLock<Option<Arc<HashMap<String, ContactCenter>>>>,
}

impl ContactCenterCache {
    fn get(&self) -> Option<Arc<HashMap<String, ContactCenter>>> {
        self.all.read().ok()?.clone()
    }

    /// Keeps what was loaded unless a change happened since `generation`.
    fn fill(&self, generation: u64, all: Arc<HashMap<String, ContactCenter>>) {
        if let Ok(mut slot) = self.all.write() {
            if self.generation.load(Ordering::SeqCst) == generation {
                *slot = Some(all);
            }
        }
    }

    fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut slot) = self.all.write() {
            *slot = None;
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and runs the migrations. The flag
    /// tells whether the database was created by this call.
    pub fn open(path: &Path) -> Result<(SqliteStore, bool), StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::private_files::create_dir(parent).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        crate::private_files::create_database_file(path).map_err(|e| {
            StoreError::Unavailable(format!("cannot create {}: {e}", path.display()))
        })?;
        let mut connection = open_connection(path, true)?;
        let created = migrations::run(&mut connection).map_err(unavailable)?;
        let store = SqliteStore {
            path: path.to_owned(),
            readers: Arc::default(),
            writer: Writer::start(connection)?,
            checkpointer: Mutex::new(checkpoint::Checkpointer::start(path)?),
            contact_centers: ContactCenterCache::default(),
            reads_in_flight: tokio::sync::Semaphore::new(MAX_READS_IN_FLIGHT),
            deliveries_queued: Arc::default(),
        };
        Ok((store, created))
    }

    async fn all_contact_centers(&self) -> Result<Arc<HashMap<String, ContactCenter>>, StoreError> {
        if let Some(all) = self.contact_centers.get() {
            return Ok(all);
        }
        let generation = self.contact_centers.generation.load(Ordering::SeqCst);
        let all = Arc::new(self.read(reads::contact_centers).await?);
        self.contact_centers.fill(generation, Arc::clone(&all));
        Ok(all)
    }

    /// Runs a write that changes contact centers or their features.
    async fn change_contact_centers<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let result = self.writer.run(work).await;
        self.contact_centers.invalidate();
        result
    }

    /// Runs `work` on the writer thread with a contact center's id.
    async fn write_for<T: Send + 'static>(
        &self,
        contact_center: &str,
        work: impl FnOnce(&Connection, &str) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let contact_center = contact_center.to_owned();
        self.writer.run(move |tx| work(tx, &contact_center)).await
    }

    /// Runs `work` on the writer thread with a recording's contact center and id.
    async fn write_for_recording<T: Send + 'static>(
        &self,
        contact_center: &str,
        id: &str,
        work: impl FnOnce(&Connection, &str, &str) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (contact_center, id) = (contact_center.to_owned(), id.to_owned());
        self.writer
            .run(move |tx| work(tx, &contact_center, &id))
            .await
    }

    /// Runs `work` on a reader with a contact center's id.
    async fn read_for<T: Send + 'static>(
        &self,
        contact_center: &str,
        work: impl FnOnce(&Connection, &str) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let contact_center = contact_center.to_owned();
        self.read(move |db| work(db, &contact_center)).await
    }

    /// Runs `work` on a reader with a recording's contact center and id.
    async fn read_for_recording<T: Send + 'static>(
        &self,
        contact_center: &str,
        id: &str,
        work: impl FnOnce(&Connection, &str, &str) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (contact_center, id) = (contact_center.to_owned(), id.to_owned());
        self.read(move |db| work(db, &contact_center, &id)).await
    }

    /// Like [`SqliteStore::read`], for work that also parses what it read.
    async fn read_parsed<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.read(move |db| Ok(work(db))).await?
    }

    async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let _permit = self
            .reads_in_flight
            .acquire()
            .await
            .map_err(|_| unavailable("the store is closed"))?;
        let readers = Arc::clone(&self.readers);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = readers
                .lock()
                .map_err(|_| unavailable("reader pool poisoned"))?
                .pop();
            let connection = match pooled {
                Some(connection) => connection,
                None => open_connection(&path, false)?,
            };
            let result = work(&connection).map_err(unavailable);
            if let Ok(mut pool) = readers.lock() {
                if pool.len() < MAX_IDLE_READERS {
                    pool.push(connection);
                }
            }
            result
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("reader task failed: {e}")))?
    }
}

fn unavailable(error: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

fn open_connection(path: &Path, writer: bool) -> Result<Connection, StoreError> {
    let flags = if writer {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    // rusqlite keeps 16 prepared statements by default; the writer alone uses more, and
    // each eviction means parsing SQL again on the single writer thread.
    connection.set_prepared_statement_cache_capacity(64);
    connection
        .execute_batch(
            "PRAGMA busy_timeout = 5000;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(unavailable)?;
    if writer {
        // WAL + FULL: a commit is on disk (WAL fsynced) before the writer answers.
        // temp_store = MEMORY keeps each insert's savepoint journal off the disk: written
        // to a temporary file it cost a quarter of the writer's time.
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 PRAGMA wal_autocheckpoint = 8192;
                 PRAGMA temp_store = MEMORY;
                 PRAGMA journal_size_limit = 67108864;",
            )
            .map_err(unavailable)?;
    }
    Ok(connection)
}

#[async_trait]
impl ContactCenterStore for SqliteStore {
    async fn create_contact_center(
        &self,
        id: &str,
        domains: &[String],
    ) -> Result<bool, StoreError> {
        let (id, domains) = (id.to_owned(), domains.to_vec());
        self.change_contact_centers(move |tx| cc_writes::create_contact_center(tx, &id, &domains))
            .await
    }

    async fn contact_center(&self, id: &str) -> Result<Option<ContactCenter>, StoreError> {
        Ok(self.all_contact_centers().await?.get(id).cloned())
    }

    async fn contact_center_ids(&self) -> Result<Vec<String>, StoreError> {
        let mut ids: Vec<String> = self.all_contact_centers().await?.keys().cloned().collect();
        ids.sort();
        Ok(ids)
    }

    async fn delete_contact_center(&self, id: &str) -> Result<Removal, StoreError> {
        let id = id.to_owned();
        self.change_contact_centers(move |tx| cc_writes::delete_contact_center(tx, &id))
            .await
    }

    async fn enable_features(&self, id: &str, features: &[String]) -> Result<bool, StoreError> {
        let (id, features) = (id.to_owned(), features.to_vec());
        self.change_contact_centers(move |tx| cc_writes::enable_features(tx, &id, &features))
            .await
    }

    async fn disable_feature(&self, id: &str, feature: &str) -> Result<Removal, StoreError> {
        let (id, feature) = (id.to_owned(), feature.to_owned());
        self.change_contact_centers(move |tx| cc_writes::disable_feature(tx, &id, &feature))
            .await
    }

    async fn recording_count(&self, contact_center: &str) -> Result<u64, StoreError> {
        use rusqlite::OptionalExtension;
        let contact_center = contact_center.to_owned();
        let count: Option<i64> = self
            .read(move |db| {
                db.prepare_cached(shared!(crate::counts::OF))?
                    .query_row([contact_center], |row| row.get(0))
                    .optional()
            })
            .await?;
        Ok(count.unwrap_or(0).max(0) as u64)
    }
}

#[async_trait]
impl StorageSettingsStore for SqliteStore {
    async fn put_storage(
        &self,
        contact_center: &str,
        settings: StorageSettings,
    ) -> Result<bool, StoreError> {
        self.write_for(contact_center, move |tx, contact_center| {
            cc_writes::put_storage(tx, contact_center, &settings)
        })
        .await
    }

    async fn storage(&self, contact_center: &str) -> Result<Option<StorageSettings>, StoreError> {
        self.read_for(contact_center, move |db, contact_center| {
            reads::storage(db, contact_center)
        })
        .await
    }

    async fn delete_storage(&self, contact_center: &str) -> Result<Removal, StoreError> {
        self.write_for(contact_center, move |tx, contact_center| {
            cc_writes::delete_storage(tx, contact_center)
        })
        .await
    }

    async fn put_s3_storage(
        &self,
        contact_center: &str,
        settings: S3Settings,
    ) -> Result<bool, StoreError> {
        self.write_for(contact_center, move |tx, contact_center| {
            cc_writes::put_s3_storage(tx, contact_center, &settings)
        })
        .await
    }

    async fn s3_storage(&self, contact_center: &str) -> Result<Option<S3Settings>, StoreError> {
        let contact_center = contact_center.to_owned();
        let row = self
            .read(move |db| reads::s3_storage(db, &contact_center))
            .await?;
        row.map(crate::row::s3_settings).transpose()
    }

    async fn delete_s3_storage(&self, contact_center: &str) -> Result<Removal, StoreError> {
        self.write_for(contact_center, move |tx, contact_center| {
            cc_writes::delete_s3_storage(tx, contact_center)
        })
        .await
    }
}

#[async_trait]
impl RecordingStore for SqliteStore {
    async fn insert_or_merge(
        &self,
        contact_center: &str,
        recording: Recording,
    ) -> Result<InsertOutcome, StoreError> {
        let contact_center = contact_center.to_owned();
        let prepared = crate::row::PreparedInsert::new(recording)?;
        if let Some(limit) = gird_model::stored::exceeded_size(prepared.body.len()) {
            return Ok(InsertOutcome::TooLarge(limit));
        }
        let written = self
            .writer
            .run(move |tx| recording_writes::insert_or_merge(tx, &contact_center, prepared))
            .await?;
        if written.queued {
            self.deliveries_queued.notify_one();
        }
        Ok(written.outcome)
    }

    async fn recording(
        &self,
        contact_center: &str,
        id: &str,
    ) -> Result<Option<FoundRecording>, StoreError> {
        let (contact_center, id) = (contact_center.to_owned(), id.to_owned());
        self.read_parsed(move |db| reads::recording(db, &contact_center, &id))
            .await
    }

    async fn contact_centers_with_recording(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let id = id.to_owned();
        self.read(move |db| reads::contact_centers_with_recording(db, &id))
            .await
    }

    async fn search(&self, query: SearchQuery) -> Result<SearchPage, StoreError> {
        self.read_parsed(move |db| search::search(db, &query)).await
    }

    async fn delete_recording(
        &self,
        contact_center: &str,
        id: &str,
    ) -> Result<DeletionStart, StoreError> {
        self.write_for_recording(contact_center, id, move |tx, contact_center, id| {
            recording_writes::delete_recording(tx, contact_center, id)
        })
        .await
    }

    async fn begin_deletion(
        &self,
        contact_center: &str,
        id: &str,
        lease: &crate::DeletionLease,
        now_ms: i64,
    ) -> Result<DeletionStart, StoreError> {
        let (contact_center, id, lease) = (contact_center.to_owned(), id.to_owned(), lease.clone());
        self.writer
            .run(move |tx| {
                recording_writes::begin_deletion(tx, &contact_center, &id, &lease, now_ms)
            })
            .await
    }

    async fn renew_deletion(
        &self,
        contact_center: &str,
        id: &str,
        lease: &crate::DeletionLease,
    ) -> Result<bool, StoreError> {
        let (contact_center, id, lease) = (contact_center.to_owned(), id.to_owned(), lease.clone());
        self.writer
            .run(move |tx| recording_writes::renew_deletion(tx, &contact_center, &id, &lease))
            .await
    }

    async fn finish_deletion(
        &self,
        contact_center: &str,
        id: &str,
        token: &str,
    ) -> Result<bool, StoreError> {
        let (contact_center, id, token) =
            (contact_center.to_owned(), id.to_owned(), token.to_owned());
        self.writer
            .run(move |tx| recording_writes::finish_deletion(tx, &contact_center, &id, &token))
            .await
    }

    async fn release_deletion(
        &self,
        contact_center: &str,
        id: &str,
        token: &str,
        unmark: bool,
    ) -> Result<(), StoreError> {
        let (contact_center, id, token) =
            (contact_center.to_owned(), id.to_owned(), token.to_owned());
        self.writer
            .run(move |tx| {
                recording_writes::release_deletion(tx, &contact_center, &id, &token, unmark)
            })
            .await
    }

    async fn set_legal_hold(
        &self,
        contact_center: &str,
        id: &str,
        hold: bool,
    ) -> Result<HoldChange, StoreError> {
        self.write_for_recording(contact_center, id, move |tx, contact_center, id| {
            recording_writes::set_legal_hold(tx, contact_center, id, hold)
        })
        .await
    }
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn put_receiver(
        &self,
        contact_center: &str,
        settings: ReceiverSettings,
    ) -> Result<bool, StoreError> {
        self.write_for(contact_center, move |tx, contact_center| {
            outbox::put_receiver(tx, contact_center, &settings)
        })
        .await
    }

    async fn receiver(&self, contact_center: &str) -> Result<Option<ReceiverSettings>, StoreError> {
        self.read_for(contact_center, move |db, contact_center| {
            outbox::receiver(db, contact_center)
        })
        .await
    }

    async fn delete_receiver(&self, contact_center: &str) -> Result<Removal, StoreError> {
        self.write_for(contact_center, move |tx, contact_center| {
            outbox::delete_receiver(tx, contact_center)
        })
        .await
    }

    async fn deliveries_due(&self, now_ms: i64) -> Result<bool, StoreError> {
        self.read(move |db| outbox::deliveries_due(db, now_ms))
            .await
    }

    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.writer
            .run(move |tx| Ok(outbox::claim(tx, now_ms, lease_until_ms, limit)?))
            .await
    }

    async fn finish_delivery(
        &self,
        id: i64,
        result: AttemptResult,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.writer
            .run(move |tx| Ok(outbox::finish(tx, id, &result, now_ms)?))
            .await
    }

    async fn release_deliveries(&self, now_ms: i64) -> Result<(), StoreError> {
        self.writer
            .run(move |tx| Ok(outbox::release(tx, now_ms)?))
            .await
    }

    async fn repost(
        &self,
        contact_center: &str,
        what: Repost,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let contact_center = contact_center.to_owned();
        let queued = self
            .writer
            .run(move |tx| Ok(outbox::repost(tx, &contact_center, &what, now_ms)?))
            .await?;
        if queued > 0 {
            self.deliveries_queued.notify_one();
        }
        Ok(queued)
    }

    async fn outbox_status(
        &self,
        contact_center: Option<&str>,
    ) -> Result<OutboxStatus, StoreError> {
        let contact_center = contact_center.map(str::to_owned);
        self.read(move |db| outbox::status(db, contact_center.as_deref()))
            .await
    }

    async fn latest_delivery(
        &self,
        contact_center: &str,
        id: &str,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        self.read_for_recording(contact_center, id, move |db, contact_center, id| {
            outbox::latest(db, contact_center, id)
        })
        .await
    }

    async fn dead_letters(
        &self,
        contact_center: &str,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.read_for(contact_center, move |db, contact_center| {
            outbox::dead_letters(db, contact_center, limit)
        })
        .await
    }

    fn deliveries_queued(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.deliveries_queued)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn close(&self) {
        self.writer.stop().await;
        if let Ok(mut checkpointer) = self.checkpointer.lock() {
            checkpointer.stop();
        }
    }
}

#[async_trait]
impl crate::SessionStore for SqliteStore {
    async fn put_session(&self, session: crate::Session, now_ms: i64) -> Result<(), StoreError> {
        use crate::sessions::{INSERT, PURGE};
        self.writer
            .run(move |tx| {
                tx.execute(shared!(PURGE), [now_ms])?;
                tx.execute(
                    shared!(INSERT),
                    rusqlite::params![
                        session.token_hash,
                        session.user,
                        session.stamp,
                        session.expires_ms
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn session(&self, token_hash: &str) -> Result<Option<crate::Session>, StoreError> {
        use rusqlite::OptionalExtension;
        let token_hash = token_hash.to_owned();
        self.read(move |db| {
            db.prepare_cached(shared!(crate::sessions::SELECT))?
                .query_row([token_hash], |row| {
                    Ok(crate::Session {
                        token_hash: row.get(0)?,
                        user: row.get(1)?,
                        stamp: row.get(2)?,
                        expires_ms: row.get(3)?,
                    })
                })
                .optional()
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let token_hash = token_hash.to_owned();
        self.writer
            .run(move |tx| {
                Ok(tx
                    .execute(shared!(crate::sessions::DELETE), [token_hash])
                    .map(drop)?)
            })
            .await
    }

    async fn delete_sessions_of(&self, user: &str) -> Result<u64, StoreError> {
        let user = user.to_owned();
        self.writer
            .run(move |tx| Ok(tx.execute(shared!(crate::sessions::DELETE_OF_USER), [user])? as u64))
            .await
    }
}

impl SqliteStore {
    /// Creates or replaces a user in one transaction with the check of its contact center.
    async fn write_user(&self, user: User, create: bool) -> Result<UserWrite, StoreError> {
        self.writer
            .run(move |tx| {
                if !cc_writes::contact_center_exists(tx, &user.contact_center)? {
                    return Ok(UserWrite::ContactCenterMissing);
                }
                let statement = if create {
                    shared!(users::CREATE)
                } else {
                    shared!(users::REPLACE)
                };
                let written =
                    tx.execute(statement, rusqlite::params_from_iter(users::columns(&user)))?;
                Ok(users::outcome(create, written as u64))
            })
            .await
    }
}

/// A row's first `N` columns, as text.
fn text_columns<const N: usize>(row: &rusqlite::Row<'_>) -> rusqlite::Result<[String; N]> {
    let mut columns: [String; N] = std::array::from_fn(|_| String::new());
    for (index, column) in columns.iter_mut().enumerate() {
        *column = row.get(index)?;
    }
    Ok(columns)
}

fn user_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<[String; 8]> {
    text_columns(row)
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, user: User) -> Result<UserWrite, StoreError> {
        self.write_user(user, true).await
    }

    async fn replace_user(&self, user: User) -> Result<UserWrite, StoreError> {
        self.write_user(user, false).await
    }

    async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        use rusqlite::OptionalExtension;
        let key = users::key(name);
        let row = self
            .read(move |db| {
                db.prepare_cached(shared!(users::SELECT))?
                    .query_row([key], user_row)
                    .optional()
            })
            .await?;
        row.map(users::from_columns).transpose()
    }

    async fn users(&self, contact_center: &str) -> Result<Vec<User>, StoreError> {
        let rows = self
            .read_for(contact_center, |db, contact_center| {
                db.prepare_cached(shared!(users::OF_CONTACT_CENTER))?
                    .query_map([contact_center], user_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
        rows.into_iter().map(users::from_columns).collect()
    }

    async fn delete_user(&self, contact_center: &str, name: &str) -> Result<Removal, StoreError> {
        let key = users::key(name);
        self.write_for(contact_center, move |tx, contact_center| {
            let deleted = tx.execute(shared!(users::DELETE), [contact_center, &key])?;
            if deleted == 1 {
                tx.execute(shared!(crate::sessions::DELETE_OF_USER), [&key])?;
            }
            Ok(crate::sql::removal(deleted as u64))
        })
        .await
    }
}

#[async_trait]
impl AccessLogStore for SqliteStore {
    async fn record_access(&self, entry: AccessEntry) -> Result<(), StoreError> {
        self.writer
            .run(move |tx| {
                tx.prepare_cached(shared!(crate::access_log::INSERT))?
                    .execute(rusqlite::params![
                        entry.contact_center,
                        entry.recording_id,
                        entry.at_ms,
                        entry.user,
                        entry.address,
                        entry.action,
                        entry.detail
                    ])?;
                Ok(())
            })
            .await
    }

    async fn access_history(
        &self,
        contact_center: &str,
        recording_id: &str,
        limit: usize,
    ) -> Result<Vec<AccessEntry>, StoreError> {
        self.read_for_recording(contact_center, recording_id, move |db, cc, id| {
            db.prepare_cached(shared!(crate::access_log::HISTORY))?
                .query_map(rusqlite::params![cc, id, limit as i64], |row| {
                    let columns = (
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                    );
                    Ok(crate::access_log::entry(cc, id, columns))
                })?
                .collect()
        })
        .await
    }
}

#[async_trait]
impl crate::OutboundStore for SqliteStore {
    async fn put_outbound_origins(
        &self,
        contact_center: &str,
        origins: &[String],
    ) -> Result<bool, StoreError> {
        let (contact_center, text) = (
            contact_center.to_owned(),
            crate::outbound::origins_text(origins),
        );
        self.writer
            .run(move |tx| {
                Ok(tx.execute(
                    crate::outbound::PUT,
                    rusqlite::params![contact_center, text],
                )? == 1)
            })
            .await
    }

    async fn outbound_origins(
        &self,
        contact_center: &str,
    ) -> Result<Option<Vec<String>>, StoreError> {
        use rusqlite::OptionalExtension;
        let contact_center = contact_center.to_owned();
        let text: Option<String> = self
            .read(move |db| {
                db.prepare_cached(crate::outbound::SELECT)?
                    .query_row([contact_center], |row| row.get(0))
                    .optional()
            })
            .await?;
        text.as_deref().map(crate::outbound::origins).transpose()
    }

    async fn delete_outbound_origins(&self, contact_center: &str) -> Result<Removal, StoreError> {
        let contact_center = contact_center.to_owned();
        self.writer
            .run(move |tx| {
                let deleted = tx.execute(crate::outbound::DELETE, [contact_center])?;
                Ok(crate::sql::removal(deleted as u64))
            })
            .await
    }
}

#[async_trait]
impl crate::DecryptionKeyStore for SqliteStore {
    async fn add_decryption_key(
        &self,
        key: crate::DecryptionKey,
    ) -> Result<crate::KeyAdded, StoreError> {
        use crate::decryption_keys as keys;
        self.writer
            .run(move |tx| {
                let columns = keys::columns(&key);
                let inserted =
                    tx.prepare_cached(shared!(keys::INSERT))?
                        .execute(rusqlite::params![
                            columns[0],
                            columns[1],
                            columns[2],
                            columns[3],
                            columns[4],
                            columns[5],
                            columns[6],
                            columns[7],
                            columns[8],
                            key.added_ms
                        ])?;
                if inserted == 1 {
                    return Ok(crate::KeyAdded::Added);
                }
                let taken = tx.query_row(
                    shared!(keys::TAKEN),
                    [&key.contact_center, &key.alias],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )?;
                Ok(keys::refusal(taken))
            })
            .await
    }

    async fn decryption_keys(
        &self,
        contact_center: &str,
    ) -> Result<Vec<crate::DecryptionKey>, StoreError> {
        self.read_for(contact_center, |db, contact_center| {
            db.prepare_cached(shared!(crate::decryption_keys::SELECT))?
                .query_map([contact_center], |row| {
                    let text: [String; 8] = text_columns(row)?;
                    Ok(crate::decryption_keys::key(
                        contact_center,
                        text,
                        row.get(8)?,
                    ))
                })?
                .collect()
        })
        .await
    }

    async fn delete_decryption_key(
        &self,
        contact_center: &str,
        alias: &str,
    ) -> Result<Removal, StoreError> {
        let alias = alias.to_owned();
        self.write_for(contact_center, move |tx, contact_center| {
            let deleted = tx.execute(
                shared!(crate::decryption_keys::DELETE),
                [contact_center, &alias],
            )?;
            Ok(crate::sql::removal(deleted as u64))
        })
        .await
    }
}

#[cfg(test)]
mod tests;

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        StoreError::Unavailable(error.to_string())
    }
}
