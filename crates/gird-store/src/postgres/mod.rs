//! The PostgreSQL backend: any number of gird instances share one database.
//!
//! Inserts are group-committed per instance (see `batch`); a merge locks the recording
//! row (`FOR UPDATE`), so two instances merging segments of one call at once serialize
//! on it and neither segment is lost.

mod batch;
mod migrations;
mod outbox;
mod reads;
mod writes;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use gird_model::Recording;
use tokio_postgres::NoTls;

use crate::row::PreparedInsert;
use gird_model::ContactCenter;

use crate::prelude::*;
use crate::{
    AttemptResult, DeletionStart, Delivery, DeliveryRecord, FoundRecording, HoldChange,
    InsertOutcome, OutboxStatus, ReceiverSettings, Removal, Repost, S3Settings, SearchPage,
    SearchQuery, StorageSettings, Store, StoreError,
};

/// Contact centers change through any instance; each instance rereads them this often.
const CONTACT_CENTER_TTL: Duration = Duration::from_secs(2);
const POOL_SIZE: usize = 16;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

type ContactCenters = Arc<HashMap<String, ContactCenter>>;

pub struct PostgresStore {
    pool: Pool,
    batcher: batch::Batcher,
    /// All contact centers, and when they were read.
    contact_centers: Mutex<Option<(Instant, ContactCenters)>>,
    deliveries_queued: Arc<tokio::sync::Notify>,
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> StoreError {
        match error.as_db_error() {
            // Data exceptions and integrity violations: retrying the same request cannot
            // help, so they are not "unavailable" (503, retry) but internal errors.
            Some(db)
                if db.code().code().starts_with("22") || db.code().code().starts_with("23") =>
            {
                StoreError::Corrupt(format!("{}: {}", db.code().code(), db.message()))
            }
            Some(db) => StoreError::Unavailable(format!("{}: {}", db.code().code(), db.message())),
            None => StoreError::Unavailable(error.to_string()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(error: deadpool_postgres::PoolError) -> StoreError {
        match error {
            deadpool_postgres::PoolError::Backend(error) => StoreError::from(error),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

impl PostgresStore {
    /// Connects, runs the migrations, and answers whether the database was new.
    pub async fn open(url: &str) -> Result<(PostgresStore, bool), StoreError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Unavailable(format!("invalid PostgreSQL URL: {e}")))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        // An acknowledged insert must be durable whatever the server's default says.
        config.options("-c synchronous_commit=on");
        if config.get_application_name().is_none() {
            config.application_name("gird");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot build the connection pool: {e}"))
            })?;
        let mut client = pool.get().await?;
        let created = migrations::run(&mut client).await?;
        drop(client);
        let deliveries_queued = Arc::<tokio::sync::Notify>::default();
        let store = PostgresStore {
            batcher: batch::Batcher::start(pool.clone(), Arc::clone(&deliveries_queued)),
            pool,
            contact_centers: Mutex::new(None),
            deliveries_queued,
        };
        Ok((store, created))
    }

    /// Whether the database holds gird's schema (without creating it), for the commands
    /// that only read or queue and must not make an empty database somewhere by mistake.
    pub async fn has_schema(url: &str) -> Result<bool, StoreError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Unavailable(format!("invalid PostgreSQL URL: {e}")))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        let (client, connection) = config
            .connect(NoTls)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        let connection = tokio::spawn(connection);
        let row = client
            .query_one("SELECT to_regclass('gird_migrations') IS NOT NULL", &[])
            .await?;
        drop(client);
        let _ = connection.await;
        Ok(row.get(0))
    }

    /// Runs the migrations only (`gird migrate`).
    pub async fn migrate(url: &str) -> Result<bool, StoreError> {
        let (store, created) = PostgresStore::open(url).await?;
        store.close().await;
        Ok(created)
    }

    async fn all_contact_centers(&self) -> Result<ContactCenters, StoreError> {
        if let Ok(cache) = self.contact_centers.lock() {
            if let Some((read_at, all)) = cache.as_ref() {
                if read_at.elapsed() < CONTACT_CENTER_TTL {
                    return Ok(Arc::clone(all));
                }
            }
        }
        let client = self.pool.get().await?;
        let all = Arc::new(reads::contact_centers(&client).await?);
        if let Ok(mut cache) = self.contact_centers.lock() {
            *cache = Some((Instant::now(), Arc::clone(&all)));
        }
        Ok(all)
    }

    fn forget_contact_centers(&self) {
        if let Ok(mut cache) = self.contact_centers.lock() {
            *cache = None;
        }
    }
}

#[async_trait]
impl ContactCenterStore for PostgresStore {
    async fn create_contact_center(
        &self,
        id: &str,
        domains: &[String],
    ) -> Result<bool, StoreError> {
        let client = self.pool.get().await?;
        let created = writes::create_contact_center(&client, id, domains).await;
        self.forget_contact_centers();
        created
    }

    async fn contact_center(&self, id: &str) -> Result<Option<ContactCenter>, StoreError> {
        Ok(self.all_contact_centers().await?.get(id).cloned())
    }

    async fn contact_center_ids(&self) -> Result<Vec<String>, StoreError> {
        self.forget_contact_centers();
        let mut ids: Vec<String> = self.all_contact_centers().await?.keys().cloned().collect();
        ids.sort();
        Ok(ids)
    }

    async fn delete_contact_center(&self, id: &str) -> Result<Removal, StoreError> {
        let mut client = self.pool.get().await?;
        let removal = writes::delete_contact_center(&mut client, id).await;
        self.forget_contact_centers();
        removal
    }

    async fn enable_features(&self, id: &str, features: &[String]) -> Result<bool, StoreError> {
        let mut client = self.pool.get().await?;
        let enabled = writes::enable_features(&mut client, id, features).await;
        self.forget_contact_centers();
        enabled
    }

    async fn disable_feature(&self, id: &str, feature: &str) -> Result<Removal, StoreError> {
        let client = self.pool.get().await?;
        let removal = writes::disable_feature(&client, id, feature).await;
        self.forget_contact_centers();
        removal
    }

    async fn recording_count(&self, contact_center: &str) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        reads::recording_count(&client, contact_center).await
    }
}

#[async_trait]
impl StorageSettingsStore for PostgresStore {
    async fn put_storage(
        &self,
        contact_center: &str,
        settings: StorageSettings,
    ) -> Result<bool, StoreError> {
        let mut client = self.pool.get().await?;
        writes::put_storage(&mut client, contact_center, &settings).await
    }

    async fn storage(&self, contact_center: &str) -> Result<Option<StorageSettings>, StoreError> {
        let client = self.pool.get().await?;
        reads::storage(&client, contact_center).await
    }

    async fn delete_storage(&self, contact_center: &str) -> Result<Removal, StoreError> {
        let client = self.pool.get().await?;
        writes::delete_storage(&client, contact_center).await
    }

    async fn put_s3_storage(
        &self,
        contact_center: &str,
        settings: S3Settings,
    ) -> Result<bool, StoreError> {
        let mut client = self.pool.get().await?;
        writes::put_s3_storage(&mut client, contact_center, &settings).await
    }

    async fn s3_storage(&self, contact_center: &str) -> Result<Option<S3Settings>, StoreError> {
        let client = self.pool.get().await?;
        reads::s3_storage(&client, contact_center).await
    }

    async fn delete_s3_storage(&self, contact_center: &str) -> Result<Removal, StoreError> {
        let client = self.pool.get().await?;
        writes::delete_s3_storage(&client, contact_center).await
    }
}

#[async_trait]
impl RecordingStore for PostgresStore {
    async fn insert_or_merge(
        &self,
        contact_center: &str,
        recording: Recording,
    ) -> Result<InsertOutcome, StoreError> {
        let prepared = PreparedInsert::new(recording)?;
        if let Some(limit) = gird_model::stored::exceeded_size(prepared.body.len()) {
            return Ok(InsertOutcome::TooLarge(limit));
        }
        self.batcher.insert(contact_center, prepared).await
    }

    async fn recording(
        &self,
        contact_center: &str,
        id: &str,
    ) -> Result<Option<FoundRecording>, StoreError> {
        let client = self.pool.get().await?;
        reads::recording(&client, contact_center, id).await
    }

    async fn contact_centers_with_recording(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let client = self.pool.get().await?;
        reads::contact_centers_with_recording(&client, id).await
    }

    async fn search(&self, query: SearchQuery) -> Result<SearchPage, StoreError> {
        let client = self.pool.get().await?;
        reads::search(&client, &query).await
    }

    async fn delete_recording(
        &self,
        contact_center: &str,
        id: &str,
    ) -> Result<DeletionStart, StoreError> {
        let mut client = self.pool.get().await?;
        writes::delete_recording(&mut client, contact_center, id).await
    }

    async fn begin_deletion(
        &self,
        contact_center: &str,
        id: &str,
        lease: &crate::DeletionLease,
        now_ms: i64,
    ) -> Result<DeletionStart, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let start = writes::begin_deletion(&tx, contact_center, id, lease, now_ms).await?;
        tx.commit().await?;
        Ok(start)
    }

    async fn renew_deletion(
        &self,
        contact_center: &str,
        id: &str,
        lease: &crate::DeletionLease,
    ) -> Result<bool, StoreError> {
        let mut client = self.pool.get().await?;
        writes::renew_deletion(&mut client, contact_center, id, lease).await
    }

    async fn finish_deletion(
        &self,
        contact_center: &str,
        id: &str,
        token: &str,
    ) -> Result<bool, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let finished = writes::finish_deletion(&tx, contact_center, id, token).await?;
        tx.commit().await?;
        Ok(finished)
    }

    async fn release_deletion(
        &self,
        contact_center: &str,
        id: &str,
        token: &str,
        unmark: bool,
    ) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        writes::release_deletion(&mut client, contact_center, id, token, unmark).await
    }

    async fn set_legal_hold(
        &self,
        contact_center: &str,
        id: &str,
        hold: bool,
    ) -> Result<HoldChange, StoreError> {
        let mut client = self.pool.get().await?;
        writes::set_legal_hold(&mut client, contact_center, id, hold).await
    }
}

#[async_trait]
impl OutboxStore for PostgresStore {
    async fn put_receiver(
        &self,
        contact_center: &str,
        settings: ReceiverSettings,
    ) -> Result<bool, StoreError> {
        let mut client = self.pool.get().await?;
        outbox::put_receiver(&mut client, contact_center, &settings).await
    }

    async fn receiver(&self, contact_center: &str) -> Result<Option<ReceiverSettings>, StoreError> {
        let client = self.pool.get().await?;
        outbox::receiver(&client, contact_center).await
    }

    async fn delete_receiver(&self, contact_center: &str) -> Result<Removal, StoreError> {
        let client = self.pool.get().await?;
        outbox::delete_receiver(&client, contact_center).await
    }

    async fn deliveries_due(&self, now_ms: i64) -> Result<bool, StoreError> {
        let client = self.pool.get().await?;
        outbox::deliveries_due(&client, now_ms).await
    }

    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let client = self.pool.get().await?;
        outbox::claim(&client, now_ms, lease_until_ms, limit).await
    }

    async fn finish_delivery(
        &self,
        id: i64,
        result: AttemptResult,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        outbox::finish(&client, id, &result, now_ms).await
    }

    async fn release_deliveries(&self, _now_ms: i64) -> Result<(), StoreError> {
        // Other instances may be delivering: their leases, not this start, end claims.
        Ok(())
    }

    async fn repost(
        &self,
        contact_center: &str,
        what: Repost,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        let queued = outbox::repost(&client, contact_center, &what, now_ms).await?;
        if queued > 0 {
            self.deliveries_queued.notify_one();
        }
        Ok(queued)
    }

    async fn outbox_status(
        &self,
        contact_center: Option<&str>,
    ) -> Result<OutboxStatus, StoreError> {
        let client = self.pool.get().await?;
        outbox::status(&client, contact_center).await
    }

    async fn latest_delivery(
        &self,
        contact_center: &str,
        id: &str,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        let client = self.pool.get().await?;
        outbox::latest(&client, contact_center, id).await
    }

    async fn dead_letters(
        &self,
        contact_center: &str,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let client = self.pool.get().await?;
        outbox::dead_letters(&client, contact_center, limit).await
    }

    fn deliveries_queued(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.deliveries_queued)
    }
}

use crate::access_log::{AccessEntry, AccessLogStore};
use crate::users::{self, User, UserStore, UserWrite};

#[async_trait]
impl Store for PostgresStore {
    async fn close(&self) {
        self.pool.close();
    }
}

#[async_trait]
impl crate::SessionStore for PostgresStore {
    async fn put_session(&self, session: crate::Session, now_ms: i64) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client.execute(crate::sessions::PURGE, &[&now_ms]).await?;
        client
            .execute(
                crate::sessions::INSERT,
                &[
                    &session.token_hash,
                    &session.user,
                    &session.stamp,
                    &session.expires_ms,
                ],
            )
            .await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<crate::Session>, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(crate::sessions::SELECT, &[&token_hash])
            .await?;
        Ok(row.map(|row| crate::Session {
            token_hash: row.get(0),
            user: row.get(1),
            stamp: row.get(2),
            expires_ms: row.get(3),
        }))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(crate::sessions::DELETE, &[&token_hash])
            .await?;
        Ok(())
    }

    async fn delete_sessions_of(&self, user: &str) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        Ok(client
            .execute(crate::sessions::DELETE_OF_USER, &[&user])
            .await?)
    }
}

fn user_row(row: &tokio_postgres::Row) -> [String; 8] {
    std::array::from_fn(|column| row.get(column))
}

impl PostgresStore {
    /// Creates or replaces a user in one transaction with the check of its contact center.
    async fn write_user(&self, user: User, create: bool) -> Result<UserWrite, StoreError> {
        let mut client = self.pool.get().await?;
        let columns = users::columns(&user);
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = columns
            .iter()
            .map(|c| c as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        let statement = if create {
            users::CREATE
        } else {
            users::REPLACE
        };
        let written =
            writes::put_settings(&mut client, &user.contact_center, statement, &params).await?;
        let Some(rows) = written else {
            return Ok(UserWrite::ContactCenterMissing);
        };
        Ok(users::outcome(create, rows))
    }
}

#[async_trait]
impl UserStore for PostgresStore {
    async fn create_user(&self, user: User) -> Result<UserWrite, StoreError> {
        self.write_user(user, true).await
    }

    async fn replace_user(&self, user: User) -> Result<UserWrite, StoreError> {
        self.write_user(user, false).await
    }

    async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(users::SELECT.as_str(), &[&users::key(name)])
            .await?;
        row.as_ref()
            .map(|row| users::from_columns(user_row(row)))
            .transpose()
    }

    async fn users(&self, contact_center: &str) -> Result<Vec<User>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(users::OF_CONTACT_CENTER.as_str(), &[&contact_center])
            .await?;
        rows.iter()
            .map(|row| users::from_columns(user_row(row)))
            .collect()
    }

    async fn delete_user(&self, contact_center: &str, name: &str) -> Result<Removal, StoreError> {
        let mut client = self.pool.get().await?;
        let key = users::key(name);
        let tx = client.transaction().await?;
        let deleted = tx.execute(users::DELETE, &[&contact_center, &key]).await?;
        if deleted == 1 {
            tx.execute(crate::sessions::DELETE_OF_USER, &[&key]).await?;
        }
        tx.commit().await?;
        Ok(crate::sql::removal(deleted))
    }
}

#[async_trait]
impl AccessLogStore for PostgresStore {
    async fn record_access(&self, entry: AccessEntry) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                crate::access_log::INSERT,
                &[
                    &entry.contact_center,
                    &entry.recording_id,
                    &entry.at_ms,
                    &entry.user,
                    &entry.address,
                    &entry.action,
                    &entry.detail,
                ],
            )
            .await?;
        Ok(())
    }

    async fn access_history(
        &self,
        contact_center: &str,
        recording_id: &str,
        limit: usize,
    ) -> Result<Vec<AccessEntry>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                crate::access_log::HISTORY,
                &[&contact_center, &recording_id, &(limit as i64)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| {
                let columns = (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
                crate::access_log::entry(contact_center, recording_id, columns)
            })
            .collect())
    }
}

#[async_trait]
impl crate::OutboundStore for PostgresStore {
    async fn put_outbound_origins(
        &self,
        contact_center: &str,
        origins: &[String],
    ) -> Result<bool, StoreError> {
        let client = self.pool.get().await?;
        let text = crate::outbound::origins_text(origins);
        let written = client
            .execute(crate::outbound::PUT, &[&contact_center, &text])
            .await?;
        Ok(written == 1)
    }

    async fn outbound_origins(
        &self,
        contact_center: &str,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(crate::outbound::SELECT, &[&contact_center])
            .await?;
        row.map(|row| crate::outbound::origins(row.get(0)))
            .transpose()
    }

    async fn delete_outbound_origins(&self, contact_center: &str) -> Result<Removal, StoreError> {
        let client = self.pool.get().await?;
        let deleted = client
            .execute(crate::outbound::DELETE, &[&contact_center])
            .await?;
        Ok(crate::sql::removal(deleted))
    }
}

#[async_trait]
impl crate::DecryptionKeyStore for PostgresStore {
    async fn add_decryption_key(
        &self,
        key: crate::DecryptionKey,
    ) -> Result<crate::KeyAdded, StoreError> {
        use crate::decryption_keys as keys;
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let columns = keys::columns(&key);
        let inserted = tx
            .execute(
                keys::INSERT,
                &[
                    &columns[0],
                    &columns[1],
                    &columns[2],
                    &columns[3],
                    &columns[4],
                    &columns[5],
                    &columns[6],
                    &columns[7],
                    &columns[8],
                    &key.added_ms,
                ],
            )
            .await?;
        let outcome = if inserted == 1 {
            crate::KeyAdded::Added
        } else {
            let row = tx
                .query_one(keys::TAKEN, &[&key.contact_center, &key.alias])
                .await?;
            keys::refusal((row.get(0), row.get(1)))
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn decryption_keys(
        &self,
        contact_center: &str,
    ) -> Result<Vec<crate::DecryptionKey>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(crate::decryption_keys::SELECT, &[&contact_center])
            .await?;
        Ok(rows
            .iter()
            .map(|row| {
                let text: [String; 8] = std::array::from_fn(|column| row.get(column));
                crate::decryption_keys::key(contact_center, text, row.get(8))
            })
            .collect())
    }

    async fn delete_decryption_key(
        &self,
        contact_center: &str,
        alias: &str,
    ) -> Result<Removal, StoreError> {
        let client = self.pool.get().await?;
        let deleted = client
            .execute(crate::decryption_keys::DELETE, &[&contact_center, &alias])
            .await?;
        Ok(crate::sql::removal(deleted))
    }
}

#[cfg(test)]
mod tests;
