//! Writes of contact centers, their features and their storage settings.

use gird_model::datetime::now_text;
use rusqlite::{params, Connection};

use crate::{Removal, S3Settings, StorageSettings, StoreError};

pub(super) fn create_contact_center(
    db: &Connection,
    id: &str,
    domains: &[String],
) -> Result<bool, StoreError> {
    let domains = serde_json::to_string(domains).unwrap_or_else(|_| "[]".into());
    let inserted = db.execute(
        "INSERT INTO contact_centers (id, domains, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO NOTHING",
        params![id, domains, now_text()],
    )?;
    Ok(inserted == 1)
}

pub(super) fn delete_contact_center(db: &Connection, id: &str) -> Result<Removal, StoreError> {
    if !contact_center_exists(db, id)? {
        return Ok(Removal::NotFound);
    }
    let has_recordings: bool = db.query_row(
        "SELECT EXISTS (SELECT 1 FROM recordings WHERE contact_center_id = ?1)",
        [id],
        |row| row.get(0),
    )?;
    if has_recordings {
        return Ok(Removal::NotEmpty);
    }
    db.execute(
        "DELETE FROM contact_center_features WHERE contact_center_id = ?1",
        [id],
    )?;
    db.execute(
        "DELETE FROM contact_center_storage WHERE contact_center_id = ?1",
        [id],
    )?;
    db.execute(
        "DELETE FROM contact_center_s3 WHERE contact_center_id = ?1",
        [id],
    )?;
    db.execute(
        "DELETE FROM contact_center_stats WHERE contact_center_id = ?1",
        [id],
    )?;
    db.execute(crate::outbound::DELETE, [id])?;
    super::outbox::forget_contact_center(db, id)?;
    db.execute("DELETE FROM contact_centers WHERE id = ?1", [id])?;
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
    let mut insert = db.prepare_cached(
        "INSERT INTO contact_center_features (contact_center_id, feature) VALUES (?1, ?2)
         ON CONFLICT DO NOTHING",
    )?;
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
    let removed = db.execute(
        "DELETE FROM contact_center_features WHERE contact_center_id = ?1 AND feature = ?2",
        params![id, feature],
    )?;
    Ok(if removed == 1 {
        Removal::Removed
    } else {
        Removal::NotFound
    })
}

fn contact_center_exists(db: &Connection, id: &str) -> Result<bool, StoreError> {
    let mut query =
        db.prepare_cached("SELECT EXISTS (SELECT 1 FROM contact_centers WHERE id = ?1)")?;
    Ok(query.query_row([id], |row| row.get(0))?)
}

pub(super) fn put_storage(
    db: &Connection,
    id: &str,
    settings: &StorageSettings,
) -> Result<bool, StoreError> {
    if !contact_center_exists(db, id)? {
        return Ok(false);
    }
    db.execute(
        "INSERT INTO contact_center_storage (contact_center_id, base_url, username, sealed_password)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (contact_center_id) DO UPDATE SET base_url = excluded.base_url,
             username = excluded.username, sealed_password = excluded.sealed_password",
        params![id, settings.base_url, settings.username, settings.sealed_password],
    )?;
    Ok(true)
}

pub(super) fn delete_storage(db: &Connection, id: &str) -> Result<Removal, StoreError> {
    let removed = db.execute(
        "DELETE FROM contact_center_storage WHERE contact_center_id = ?1",
        [id],
    )?;
    Ok(if removed == 1 {
        Removal::Removed
    } else {
        Removal::NotFound
    })
}

pub(super) fn put_s3_storage(
    db: &Connection,
    id: &str,
    settings: &S3Settings,
) -> Result<bool, StoreError> {
    if !contact_center_exists(db, id)? {
        return Ok(false);
    }
    db.execute(
        "INSERT INTO contact_center_s3
             (contact_center_id, endpoint, region, access_key_id, sealed_secret, path_style, buckets)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (contact_center_id) DO UPDATE SET endpoint = excluded.endpoint,
             region = excluded.region, access_key_id = excluded.access_key_id,
             sealed_secret = excluded.sealed_secret, path_style = excluded.path_style,
             buckets = excluded.buckets",
        params![
            id,
            settings.endpoint,
            settings.region,
            settings.access_key_id,
            settings.sealed_secret,
            settings.path_style,
            crate::row::buckets_text(&settings.buckets),
        ],
    )?;
    Ok(true)
}

pub(super) fn delete_s3_storage(db: &Connection, id: &str) -> Result<Removal, StoreError> {
    let removed = db.execute(
        "DELETE FROM contact_center_s3 WHERE contact_center_id = ?1",
        [id],
    )?;
    Ok(if removed == 1 {
        Removal::Removed
    } else {
        Removal::NotFound
    })
}
