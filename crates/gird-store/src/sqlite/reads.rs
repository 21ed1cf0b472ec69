//! Read queries, run on pooled read-only connections.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

use crate::row::legal_hold;
use crate::{FoundRecording, StorageSettings, StoreError};
use gird_model::ContactCenter;

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

pub(super) fn recording(
    db: &Connection,
    contact_center: &str,
    id: &str,
) -> Result<Option<FoundRecording>, StoreError> {
    let row = db
        .prepare_cached(
            "SELECT id, start_ms, body, non_delete FROM recordings
             WHERE contact_center_id = ?1 AND id = ?2",
        )?
        .query_row(params![contact_center, id], RawRecording::from_row)
        .optional()?;
    row.map(RawRecording::parse).transpose()
}

/// A recording row as read, before its body is parsed.
pub(super) struct RawRecording {
    id: String,
    start_ms: i64,
    body: String,
    hold_state: i16,
}

impl RawRecording {
    /// Reads the columns `id, start_ms, body, non_delete`, in that order.
    pub(super) fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawRecording> {
        Ok(RawRecording {
            id: row.get(0)?,
            start_ms: row.get(1)?,
            body: row.get(2)?,
            hold_state: row.get(3)?,
        })
    }

    pub(super) fn parse(self) -> Result<FoundRecording, StoreError> {
        let stored = serde_json::from_str(&self.body)
            .map_err(|e| StoreError::Corrupt(format!("recording {:?}: {e}", self.id)))?;
        Ok(FoundRecording {
            id: self.id,
            start_ms: self.start_ms,
            stored,
            legal_hold: legal_hold(self.hold_state),
            stored_bytes: self.body.len(),
        })
    }
}

pub(super) fn contact_centers_with_recording(
    db: &Connection,
    id: &str,
) -> rusqlite::Result<Vec<String>> {
    // One primary-key look-up per contact center, instead of a scan for the id.
    db.prepare_cached(
        "SELECT c.id FROM contact_centers c
         WHERE EXISTS (SELECT 1 FROM recordings r WHERE r.contact_center_id = c.id AND r.id = ?1)
         ORDER BY c.id",
    )?
    .query_map([id], |row| row.get(0))?
    .collect()
}

pub(super) fn storage(
    db: &Connection,
    contact_center: &str,
) -> rusqlite::Result<Option<StorageSettings>> {
    db.prepare_cached(
        "SELECT base_url, username, sealed_password FROM contact_center_storage
         WHERE contact_center_id = ?1",
    )?
    .query_row([contact_center], |row| {
        Ok(StorageSettings {
            base_url: row.get(0)?,
            username: row.get(1)?,
            sealed_password: row.get(2)?,
        })
    })
    .optional()
}

pub(super) fn s3_storage(
    db: &Connection,
    contact_center: &str,
) -> rusqlite::Result<Option<crate::row::S3Row>> {
    db.prepare_cached(&format!(
        "SELECT {} FROM contact_center_s3 WHERE contact_center_id = ?1",
        crate::row::S3_COLUMNS
    ))?
    .query_row([contact_center], |row| {
        Ok((
            row.get(0)?,
            row.get(1)?,
            row.get(2)?,
            row.get(3)?,
            row.get(4)?,
            row.get(5)?,
        ))
    })
    .optional()
}
