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
    CREATE TABLE recordings (
        contact_center_id TEXT NOT NULL REFERENCES contact_centers (id),
        id TEXT NOT NULL,
        body TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        stop_ms INTEGER NOT NULL,
        caller_phone_number TEXT,
        dialed_phone_number TEXT,
        region TEXT,
        call_type TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (contact_center_id, id)
    );
    CREATE TABLE media_files (
        contact_center_id TEXT NOT NULL,
        media_id TEXT NOT NULL,
        recording_id TEXT NOT NULL,
        PRIMARY KEY (contact_center_id, media_id)
    ) WITHOUT ROWID;
"];

/// Brings the schema up to date; answers true when the database was new.
pub(super) fn run(connection: &mut Connection) -> rusqlite::Result<bool> {
    let version: usize = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = connection.transaction()?;
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(version == 0)
}
