//! Read queries, run on pooled read-only connections.

use rusqlite::{params, Connection, OptionalExtension};

use crate::ContactCenter;

pub(super) fn contact_center(db: &Connection, id: &str) -> rusqlite::Result<Option<ContactCenter>> {
    let domains: Option<String> = db
        .prepare_cached("SELECT domains FROM contact_centers WHERE id = ?1")?
        .query_row([id], |row| row.get(0))
        .optional()?;
    let Some(domains) = domains else {
        return Ok(None);
    };
    let features = db
        .prepare_cached(
            "SELECT feature FROM contact_center_features WHERE contact_center_id = ?1 ORDER BY feature",
        )?
        .query_map([id], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(Some(ContactCenter {
        id: id.to_owned(),
        domains: serde_json::from_str(&domains).unwrap_or_default(),
        features,
    }))
}

pub(super) fn contact_center_ids(db: &Connection) -> rusqlite::Result<Vec<String>> {
    db.prepare_cached("SELECT id FROM contact_centers ORDER BY id")?
        .query_map([], |row| row.get(0))?
        .collect()
}

pub(super) fn recording_body(
    db: &Connection,
    contact_center: &str,
    id: &str,
) -> rusqlite::Result<Option<String>> {
    db.prepare_cached("SELECT body FROM recordings WHERE contact_center_id = ?1 AND id = ?2")?
        .query_row(params![contact_center, id], |row| row.get(0))
        .optional()
}
