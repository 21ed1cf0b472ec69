//! Embedded, additive schema migrations for PostgreSQL, tracked in `gird_migrations`.
//! An advisory lock lets any number of instances start at once.
//!
//! The SQL keeps to what Citus and YugabyteDB also accept (plain tables, B-tree indexes,
//! `ON CONFLICT`, `FOR UPDATE`); only PostgreSQL 15 is verified.

use tokio_postgres::Client;

/// Any fixed number: the key of the advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x0067_6972_646d_6967;

const MIGRATIONS: &[&str] = &["
    CREATE TABLE contact_centers (
        id TEXT PRIMARY KEY,
        domains TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE contact_center_features (
        contact_center_id TEXT NOT NULL REFERENCES contact_centers (id),
        feature TEXT NOT NULL,
        PRIMARY KEY (contact_center_id, feature)
    );
    CREATE TABLE contact_center_storage (
        contact_center_id TEXT PRIMARY KEY REFERENCES contact_centers (id),
        base_url TEXT NOT NULL,
        username TEXT,
        sealed_password TEXT
    );
    CREATE TABLE contact_center_stats (
        contact_center_id TEXT PRIMARY KEY,
        max_duration_ms BIGINT NOT NULL
    );
    CREATE TABLE recordings (
        contact_center_id TEXT NOT NULL REFERENCES contact_centers (id),
        id TEXT COLLATE \"C\" NOT NULL,
        body TEXT NOT NULL,
        start_ms BIGINT NOT NULL,
        stop_ms BIGINT NOT NULL,
        caller_phone_number TEXT,
        dialed_phone_number TEXT,
        caller_key TEXT COLLATE \"C\" NOT NULL,
        caller_rkey TEXT COLLATE \"C\" NOT NULL,
        dialed_key TEXT COLLATE \"C\" NOT NULL,
        dialed_rkey TEXT COLLATE \"C\" NOT NULL,
        region TEXT,
        call_type TEXT,
        non_delete SMALLINT NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (contact_center_id, id)
    );
    CREATE INDEX recordings_by_start ON recordings (contact_center_id, start_ms, id);
    CREATE INDEX recordings_by_caller_reversed ON recordings (contact_center_id, caller_rkey, start_ms);
    CREATE INDEX recordings_by_dialed_reversed ON recordings (contact_center_id, dialed_rkey, start_ms);
    CREATE TABLE search_terms (
        contact_center_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        start_ms BIGINT NOT NULL,
        recording_id TEXT COLLATE \"C\" NOT NULL,
        PRIMARY KEY (contact_center_id, kind, value, start_ms, recording_id)
    );
    CREATE TABLE media_files (
        contact_center_id TEXT NOT NULL,
        media_id TEXT NOT NULL,
        recording_id TEXT NOT NULL,
        PRIMARY KEY (contact_center_id, media_id)
    );
", "
    CREATE TABLE speechminer_receivers (
        contact_center_id TEXT PRIMARY KEY REFERENCES contact_centers (id),
        url TEXT NOT NULL,
        username TEXT,
        sealed_password TEXT,
        enabled BOOLEAN NOT NULL
    );
    CREATE TABLE outbox (
        id BIGSERIAL PRIMARY KEY,
        contact_center_id TEXT NOT NULL,
        recording_id TEXT COLLATE \"C\" NOT NULL,
        body TEXT,
        state SMALLINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        due_ms BIGINT NOT NULL,
        queued_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL,
        last_error TEXT
    );
    CREATE INDEX outbox_pending ON outbox (due_ms) WHERE state < 2;
    CREATE INDEX outbox_by_recording ON outbox (contact_center_id, recording_id, id);
    CREATE INDEX outbox_by_state ON outbox (contact_center_id, state, queued_ms);
", "
    CREATE TABLE contact_center_s3 (
        contact_center_id TEXT PRIMARY KEY REFERENCES contact_centers (id),
        endpoint TEXT,
        region TEXT NOT NULL,
        access_key_id TEXT NOT NULL,
        sealed_secret TEXT NOT NULL,
        path_style BOOLEAN NOT NULL,
        buckets TEXT NOT NULL
    );
", crate::sessions::MIGRATION, crate::plan::LONG_INDEX, crate::digests::MIGRATION,
    crate::deletion::MIGRATION, crate::counts::MIGRATION, crate::outbound::MIGRATION, crate::users::MIGRATION,
    crate::access_log::MIGRATION, crate::decryption_keys::MIGRATION];

/// Indexes the visibility terms of the records stored before they were indexed, a
/// thousand at a time.
async fn index_visibility(
    tx: &tokio_postgres::Transaction<'_>,
) -> Result<(), tokio_postgres::Error> {
    let insert = tx.prepare(crate::sql::INDEX_TERM).await?;
    let mut after = (String::new(), String::new());
    let mut indexed = 0u64;
    loop {
        let rows = tx
            .query(
                "SELECT contact_center_id, id, start_ms, body FROM recordings
                 WHERE (contact_center_id, id) > ($1, $2) ORDER BY contact_center_id, id
                 LIMIT 1000",
                &[&after.0, &after.1],
            )
            .await?;
        let Some(last) = rows.last() else { break };
        after = (last.get(0), last.get(1));
        for row in &rows {
            let (contact_center, id, start): (&str, &str, i64) =
                (row.get(0), row.get(1), row.get(2));
            for (kind, value) in crate::access::terms_of_stored(row.get(3)) {
                tx.execute(&insert, &[&contact_center, &kind, &value, &start, &id])
                    .await?;
            }
        }
        indexed += rows.len() as u64;
    }
    tracing::info!(
        recordings = indexed,
        "indexed who may see each stored recording"
    );
    Ok(())
}

/// Brings the schema up to date; answers true when the database was new.
pub(super) async fn run(client: &mut Client) -> Result<bool, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS gird_migrations (
             version INTEGER PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let applied: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM gird_migrations", &[])
        .await?
        .get(0);
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
        tx.batch_execute(migration).await?;
        if index + 1 == crate::access::VISIBILITY_MIGRATION && applied > 0 {
            index_visibility(&tx).await?;
        }
        tx.execute(
            "INSERT INTO gird_migrations (version) VALUES ($1)",
            &[&(index as i32 + 1)],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(applied == 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn visibility_terms_arrive_with_the_users_migration() {
        let at = crate::access::VISIBILITY_MIGRATION;
        assert_eq!(super::MIGRATIONS[at - 1], crate::users::MIGRATION);
    }
}
