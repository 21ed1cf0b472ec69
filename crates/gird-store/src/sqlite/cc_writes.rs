//! Writes of contact centers, their features and their storage settings (the SQL is
//! [`crate::sql`]'s).

use gird_model::datetime::now_text;
use rusqlite::{params, Connection};

use crate::sql;
use crate::{Removal, S3Settings, StorageSettings, StoreError};

pub(super) fn create_contact_center(
    db: &Connection,
    id: &str,
    domains: &[String],
) -> Result<bool, StoreError> {
    let domains = serde_json::to_string(domains).unwrap_or_else(|_| "[]".into());
    let inserted = db.execute(
        shared!(sql::CREATE_CONTACT_CENTER),
        params![id, domains, now_text()],
    )?;
    Ok(inserted == 1)
}

pub(super) fn delete_contact_center(db: &Connection, id: &str) -> Result<Removal, StoreError> {
    if !contact_center_exists(db, id)? {
        return Ok(Removal::NotFound);
    }
    let has_recordings: bool =
        db.query_row(shared!(sql::HAS_RECORDINGS), [id], |row| row.get(0))?;
    if has_recordings {
        return Ok(Removal::NotEmpty);
    }
    for statement in sql::FORGET_CONTACT_CENTER {
        db.execute(&crate::plan::sqlite_placeholders(statement), [id])?; // rare: not cached
    }
    Ok(Removal::Removed)
}

pub(super) fn enable_features(
    db: &Connection,
    id: &str,
    features: &[String],
) -> Result<bool, StoreError> {
    if !contact_center_exists(db, id)? {
        return Ok(false);
    }
    let mut insert = db.prepare_cached(shared!(sql::ENABLE_FEATURE))?;
    for feature in features {
        insert.execute(params![id, feature])?;
    }
    Ok(true)
}

pub(super) fn disable_feature(
    db: &Connection,
    id: &str,
    feature: &str,
) -> Result<Removal, StoreError> {
    let removed = db.execute(shared!(sql::DISABLE_FEATURE), params![id, feature])?;
    Ok(sql::removal(removed as u64))
}

pub(super) fn contact_center_exists(db: &Connection, id: &str) -> Result<bool, StoreError> {
    let mut query = db.prepare_cached(shared!(sql::CONTACT_CENTER_EXISTS))?;
    Ok(query.query_row([id], |row| row.get(0))?)
}

/// Runs one settings write for a contact center that exists (`false` when it does not).
/// The writer thread runs it inside its transaction.
pub(super) fn put_settings(
    db: &Connection,
    id: &str,
    statement: &str,
    params: impl rusqlite::Params,
) -> Result<bool, StoreError> {
    if !contact_center_exists(db, id)? {
        return Ok(false);
    }
    db.execute(statement, params)?;
    Ok(true)
}

pub(super) fn put_storage(
    db: &Connection,
    id: &str,
    settings: &StorageSettings,
) -> Result<bool, StoreError> {
    let params = params![
        id,
        settings.base_url,
        settings.username,
        settings.sealed_password
    ];
    put_settings(db, id, shared!(sql::PUT_STORAGE), params)
}

pub(super) fn delete_storage(db: &Connection, id: &str) -> Result<Removal, StoreError> {
    let removed = db.execute(shared!(sql::DELETE_STORAGE), [id])?;
    Ok(sql::removal(removed as u64))
}

pub(super) fn put_s3_storage(
    db: &Connection,
    id: &str,
    settings: &S3Settings,
) -> Result<bool, StoreError> {
    let params = params![
        id,
        settings.endpoint,
        settings.region,
        settings.access_key_id,
        settings.sealed_secret,
        settings.path_style,
        crate::row::buckets_text(&settings.buckets),
    ];
    put_settings(db, id, shared!(sql::PUT_S3_STORAGE), params)
}

pub(super) fn delete_s3_storage(db: &Connection, id: &str) -> Result<Removal, StoreError> {
    let removed = db.execute(shared!(sql::DELETE_S3_STORAGE), [id])?;
    Ok(sql::removal(removed as u64))
}
