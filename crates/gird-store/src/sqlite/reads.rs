//! Read queries, run on pooled read-only connections.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

use crate::ContactCenter;

pub(super) fn contact_centers(db: &Connection) -> rusqlite::Result<HashMap<String, ContactCenter>> {
    let mut all: HashMap<String, ContactCenter> = db
        .prepare_cached("SELECT id, domains FROM contact_centers")?
        .query_map([], |row| {
            let (id, domains): (String, String) = (row.get(0)?, row.get(1)?);
            Ok(ContactCenter {
                id,
                domains: serde_json::from_str(&domains).unwrap_or_default(),
                features: Vec::new(),
            })
        })?
        .map(|row| row.map(|cc| (cc.id.clone(), cc)))
        .collect::<rusqlite::Result<_>>()?;
    let mut features = db.prepare_cached(
        "SELECT contact_center_id, feature FROM contact_center_features ORDER BY feature",
    )?;
    let rows = features.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (id, feature) = row?;
        if let Some(contact_center) = all.get_mut(&id) {
            contact_center.features.push(feature);
        }
    }
    Ok(all)
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
