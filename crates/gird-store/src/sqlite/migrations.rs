//! Embedded, additive schema migrations, tracked in `PRAGMA user_version`.

use rusqlite::Connection;

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
    -- The longest recording per contact center bounds time-window scans of the start index.
    CREATE TABLE contact_center_stats (
        contact_center_id TEXT PRIMARY KEY,
        max_duration_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE recordings (
        contact_center_id TEXT NOT NULL REFERENCES contact_centers (id),
        id TEXT NOT NULL,
        body TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        stop_ms INTEGER NOT NULL,
        caller_phone_number TEXT,
        dialed_phone_number TEXT,
        caller_key TEXT NOT NULL,
        caller_rkey TEXT NOT NULL,
        dialed_key TEXT NOT NULL,
        dialed_rkey TEXT NOT NULL,
        region TEXT,
        call_type TEXT,
        non_delete INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (contact_center_id, id)
    );
    CREATE INDEX recordings_by_start ON recordings (contact_center_id, start_ms, id);
    -- Phone numbers are indexed reversed only: exact numbers and last-digits searches
    -- (a leading *) use it; other patterns are filtered while scanning newest first.
    CREATE INDEX recordings_by_caller_reversed ON recordings (contact_center_id, caller_rkey, start_ms);
    CREATE INDEX recordings_by_dialed_reversed ON recordings (contact_center_id, dialed_rkey, start_ms);
    -- Agents, call UUIDs, partitions and access groups of each recording, by start time.
    CREATE TABLE search_terms (
        contact_center_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        recording_id TEXT NOT NULL,
        PRIMARY KEY (contact_center_id, kind, value, start_ms, recording_id)
    ) WITHOUT ROWID;
    CREATE TABLE media_files (
        contact_center_id TEXT NOT NULL,
        media_id TEXT NOT NULL,
        recording_id TEXT NOT NULL,
        PRIMARY KEY (contact_center_id, media_id)
    ) WITHOUT ROWID;
", "
    -- SpeechMiner forwarding: a receiver per contact center, and the outbox of deliveries.
    CREATE TABLE speechminer_receivers (
        contact_center_id TEXT PRIMARY KEY REFERENCES contact_centers (id),
        url TEXT NOT NULL,
        username TEXT,
        sealed_password TEXT,
        enabled INTEGER NOT NULL
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        contact_center_id TEXT NOT NULL,
        recording_id TEXT NOT NULL,
        -- The record after the change; dropped once delivered.
        body TEXT,
        state INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        -- When a queued delivery is due, or when an in-flight one's lease ends.
        due_ms INTEGER NOT NULL,
        queued_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        last_error TEXT
    );
    CREATE INDEX outbox_pending ON outbox (due_ms) WHERE state < 2;
    CREATE INDEX outbox_by_recording ON outbox (contact_center_id, recording_id, id);
    CREATE INDEX outbox_by_state ON outbox (contact_center_id, state, queued_ms);
", "
    -- S3 storage per contact center, beside the WebDAV one; buckets is a JSON array.
    CREATE TABLE contact_center_s3 (
        contact_center_id TEXT PRIMARY KEY REFERENCES contact_centers (id),
        endpoint TEXT,
        region TEXT NOT NULL,
        access_key_id TEXT NOT NULL,
        sealed_secret TEXT NOT NULL,
        path_style INTEGER NOT NULL,
        buckets TEXT NOT NULL
    );
", crate::sessions::MIGRATION, crate::plan::LONG_INDEX, crate::digests::MIGRATION,
    crate::deletion::MIGRATION, crate::counts::MIGRATION, crate::outbound::MIGRATION, crate::users::MIGRATION,
    crate::access_log::MIGRATION, crate::decryption_keys::MIGRATION];

/// Brings the schema up to date; answers true when the database was new.
pub(super) fn run(connection: &mut Connection) -> rusqlite::Result<bool> {
    let version: usize = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = connection.transaction()?;
        tx.execute_batch(migration)?;
        if index + 1 == crate::access::VISIBILITY_MIGRATION && version > 0 {
            index_visibility(&tx)?;
        }
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(version == 0)
}

/// Indexes the visibility terms of the records stored before they were indexed.
fn index_visibility(tx: &Connection) -> rusqlite::Result<()> {
    let mut insert = tx.prepare(&crate::plan::sqlite_placeholders(crate::sql::INDEX_TERM))?;
    let mut rows = tx.prepare("SELECT contact_center_id, id, start_ms, body FROM recordings")?;
    let mut rows = rows.query([])?;
    let mut indexed = 0u64;
    while let Some(row) = rows.next()? {
        let (contact_center, id, start): (String, String, i64) =
            (row.get(0)?, row.get(1)?, row.get(2)?);
        let body: String = row.get(3)?;
        for (kind, value) in crate::access::terms_of_stored(&body) {
            insert.execute(rusqlite::params![contact_center, kind, value, start, id])?;
        }
        indexed += 1;
    }
    tracing::info!(
        recordings = indexed,
        "indexed who may see each stored recording"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn visibility_terms_arrive_with_the_users_migration() {
        let at = crate::access::VISIBILITY_MIGRATION;
        assert_eq!(super::MIGRATIONS[at - 1], crate::users::MIGRATION);
    }
}
