//! Writes on PostgreSQL, each in one transaction.

use deadpool_postgres::{Client, Transaction};
use gird_model::datetime::now_text;
use gird_model::search::search_terms;
use gird_model::{Recording, StoredRecording};
use tokio_postgres::types::ToSql;

use crate::deletion::{self, Begin, DeletionLease, Hold};
use crate::row::{hold_column, legal_hold, Columns, MergePlan, DELETING};
use crate::sql;
use crate::{DeletionStart, HoldChange, InsertOutcome, Removal, StorageSettings, StoreError};

fn corrupt(error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(error.to_string())
}

pub(super) async fn create_contact_center(
    client: &Client,
    id: &str,
    domains: &[String],
) -> Result<bool, StoreError> {
    let domains = serde_json::to_string(domains).unwrap_or_else(|_| "[]".into());
    let inserted = client
        .execute(sql::CREATE_CONTACT_CENTER, &[&id, &domains, &now_text()])
        .await?;
    Ok(inserted == 1)
}

async fn contact_center_exists(tx: &Transaction<'_>, id: &str) -> Result<bool, StoreError> {
    Ok(tx
        .query_one(sql::CONTACT_CENTER_EXISTS, &[&id])
        .await?
        .get(0))
}

pub(super) async fn delete_contact_center(
    client: &mut Client,
    id: &str,
) -> Result<Removal, StoreError> {
    let tx = client.transaction().await?;
    let locked = tx
        .query_opt(
            "SELECT id FROM contact_centers WHERE id = $1 FOR UPDATE",
            &[&id],
        )
        .await?;
    if locked.is_none() {
        return Ok(Removal::NotFound);
    }
    if tx.query_one(sql::HAS_RECORDINGS, &[&id]).await?.get(0) {
        return Ok(Removal::NotEmpty);
    }
    for statement in sql::FORGET_CONTACT_CENTER {
        tx.execute(statement, &[&id]).await?;
    }
    tx.commit().await?;
    Ok(Removal::Removed)
}

pub(super) async fn enable_features(
    client: &mut Client,
    id: &str,
    features: &[String],
) -> Result<bool, StoreError> {
    let tx = client.transaction().await?;
    if !contact_center_exists(&tx, id).await? {
        return Ok(false);
    }
    for feature in features {
        tx.execute(sql::ENABLE_FEATURE, &[&id, feature]).await?;
    }
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn disable_feature(
    client: &Client,
    id: &str,
    feature: &str,
) -> Result<Removal, StoreError> {
    let removed = client
        .execute(sql::DISABLE_FEATURE, &[&id, &feature])
        .await?;
    Ok(sql::removal(removed))
}

/// Runs one write for a contact center that exists: the rows written, or `None` when it
/// does not exist.
pub(super) async fn put_settings(
    client: &mut Client,
    id: &str,
    statement: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<u64>, StoreError> {
    let tx = client.transaction().await?;
    // Shared lock: a deletion of the contact center (`FOR UPDATE`) waits for this write.
    let locked = tx
        .query_opt(
            "SELECT 1 FROM contact_centers WHERE id = $1 FOR SHARE",
            &[&id],
        )
        .await?;
    if locked.is_none() {
        return Ok(None);
    }
    let rows = tx.execute(statement, params).await?;
    tx.commit().await?;
    Ok(Some(rows))
}

pub(super) async fn put_storage(
    client: &mut Client,
    id: &str,
    settings: &StorageSettings,
) -> Result<bool, StoreError> {
    let params: [&(dyn ToSql + Sync); 4] = [
        &id,
        &settings.base_url,
        &settings.username,
        &settings.sealed_password,
    ];
    Ok(put_settings(client, id, sql::PUT_STORAGE, &params)
        .await?
        .is_some())
}

pub(super) async fn delete_storage(client: &Client, id: &str) -> Result<Removal, StoreError> {
    Ok(sql::removal(
        client.execute(sql::DELETE_STORAGE, &[&id]).await?,
    ))
}

pub(super) async fn put_s3_storage(
    client: &mut Client,
    id: &str,
    settings: &crate::S3Settings,
) -> Result<bool, StoreError> {
    let buckets = crate::row::buckets_text(&settings.buckets);
    let params: [&(dyn ToSql + Sync); 7] = [
        &id,
        &settings.endpoint,
        &settings.region,
        &settings.access_key_id,
        &settings.sealed_secret,
        &settings.path_style,
        &buckets,
    ];
    Ok(put_settings(client, id, sql::PUT_S3_STORAGE, &params)
        .await?
        .is_some())
}

pub(super) async fn delete_s3_storage(client: &Client, id: &str) -> Result<Removal, StoreError> {
    Ok(sql::removal(
        client.execute(sql::DELETE_S3_STORAGE, &[&id]).await?,
    ))
}

/// The parameters $1 to $14 of the row's INSERT and UPDATE statements.
fn row_params<'a>(
    c: &'a Columns<'a>,
    contact_center: &'a &'a str,
    id: &'a String,
    body: &'a String,
    now: &'a &'a str,
) -> [&'a (dyn ToSql + Sync); 14] {
    [
        contact_center as &(dyn ToSql + Sync),
        id,
        body,
        &c.start,
        &c.stop,
        &c.caller,
        &c.dialed,
        &c.caller_key,
        &c.caller_rkey,
        &c.dialed_key,
        &c.dialed_rkey,
        &c.region,
        &c.call_type,
        now,
    ]
}

/// Merges into the stored recording, whose row stays locked until the commit.
/// What merging into a stored recording found.
pub(super) enum Merge {
    Merged(Recording),
    Unchanged,
    BeingDeleted,
    TooLarge(String),
    /// No row (removed earlier in the batch or by another instance): insert it anew.
    Missing,
}

pub(super) async fn merge_into_existing(
    tx: &Transaction<'_>,
    contact_center: &str,
    incoming: Recording,
    digest: &str,
    now: &str,
) -> Result<Merge, StoreError> {
    // The lock and the state first: the body is read only when the POST is new to it.
    let row = tx
        .query_opt(
            "SELECT non_delete FROM recordings WHERE contact_center_id = $1 AND id = $2 FOR UPDATE",
            &[&contact_center, &incoming.id],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Merge::Missing);
    };
    if row.get::<_, i16>(0) == DELETING {
        return Ok(Merge::BeingDeleted);
    }
    let id = incoming.id.clone();
    let seen = tx.prepare_cached(crate::digests::SEEN).await?;
    if tx
        .query_opt(&seen, &[&contact_center, &id, &digest])
        .await?
        .is_some()
    {
        return Ok(Merge::Unchanged);
    }
    let keep = tx.prepare_cached(crate::digests::KEEP).await?;
    let body: String = tx
        .query_one(
            "SELECT body FROM recordings WHERE contact_center_id = $1 AND id = $2",
            &[&contact_center, &id],
        )
        .await?
        .get(0);
    let existing: StoredRecording = serde_json::from_str(&body).map_err(corrupt)?;
    drop(body);
    let (before, recording, body) = match MergePlan::new(&existing, incoming, now)? {
        MergePlan::Unchanged => {
            tx.execute(&keep, &[&contact_center, &id, &digest]).await?;
            return Ok(Merge::Unchanged);
        }
        MergePlan::TooLarge(limit) => return Ok(Merge::TooLarge(limit)),
        MergePlan::Write(write) => (write.before, write.merged, write.body),
    };
    drop(existing);
    unindex_terms(tx, contact_center, &before).await?;
    let columns = Columns::of(&recording);
    let update = tx.prepare_cached(sql::UPDATE_RECORDING).await?;
    tx.execute(
        &update,
        &row_params(&columns, &contact_center, &recording.id, &body, &now),
    )
    .await?;
    index_terms(tx, contact_center, &recording).await?;
    tx.execute(&keep, &[&contact_center, &id, &digest]).await?;
    Ok(Merge::Merged(recording))
}

async fn index_terms(
    tx: &Transaction<'_>,
    contact_center: &str,
    recording: &Recording,
) -> Result<(), StoreError> {
    let (start, stop) = recording.time_span();
    let insert = tx.prepare_cached(sql::INDEX_TERM).await?;
    for (kind, value) in search_terms(recording) {
        tx.execute(
            &insert,
            &[&contact_center, &kind, &value, &start, &recording.id],
        )
        .await?;
    }
    raise_max_duration(tx, contact_center, stop - start).await
}

/// Widens the contact center's longest duration, which bounds time-window searches.
pub(super) async fn raise_max_duration(
    tx: &Transaction<'_>,
    contact_center: &str,
    duration: i64,
) -> Result<(), StoreError> {
    // Read first: an upsert would lock the contact center's one stats row in every
    // insert and serialize all of them across instances.
    let known: Option<i64> = tx
        .query_opt(
            "SELECT max_duration_ms FROM contact_center_stats WHERE contact_center_id = $1",
            &[&contact_center],
        )
        .await?
        .map(|row| row.get(0));
    if known.is_none_or(|known| duration > known) {
        tx.execute(
            "INSERT INTO contact_center_stats (contact_center_id, max_duration_ms) VALUES ($1, $2)
             ON CONFLICT (contact_center_id) DO UPDATE
             SET max_duration_ms = GREATEST(contact_center_stats.max_duration_ms, excluded.max_duration_ms)",
            &[&contact_center, &duration],
        )
        .await?;
    }
    Ok(())
}

/// Takes a recording inserted in this transaction out again: its row, terms and claims.
pub(super) async fn remove_new_recording(
    tx: &Transaction<'_>,
    contact_center: &str,
    recording: &Recording,
) -> Result<(), StoreError> {
    unindex_terms(tx, contact_center, recording).await?;
    let media_ids: Vec<&str> = recording
        .media_files
        .iter()
        .filter_map(|m| m.key.media_id())
        .collect();
    tx.execute(
        "DELETE FROM media_files WHERE contact_center_id = $1 AND recording_id = $2 AND media_id = ANY($3)",
        &[&contact_center, &recording.id, &media_ids],
    )
    .await?;
    tx.execute(
        "DELETE FROM recordings WHERE contact_center_id = $1 AND id = $2",
        &[&contact_center, &recording.id],
    )
    .await?;
    Ok(())
}

async fn unindex_terms(
    tx: &Transaction<'_>,
    contact_center: &str,
    recording: &Recording,
) -> Result<(), StoreError> {
    let (start, _) = recording.time_span();
    let delete = tx.prepare_cached(sql::UNINDEX_TERM).await?;
    for (kind, value) in search_terms(recording) {
        tx.execute(
            &delete,
            &[&contact_center, &kind, &value, &start, &recording.id],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn claim_media_ids(
    tx: &Transaction<'_>,
    contact_center: &str,
    recording: &Recording,
) -> Result<Option<InsertOutcome>, StoreError> {
    let claim = tx.prepare_cached(sql::CLAIM_MEDIA_ID).await?;
    for media_id in recording
        .media_files
        .iter()
        .filter_map(|m| m.key.media_id())
    {
        if tx
            .execute(&claim, &[&contact_center, &media_id, &recording.id])
            .await?
            == 1
        {
            continue;
        }
        let owner = media_owner(tx, contact_center, media_id).await?;
        if let Some(taken) = sql::taken_by(media_id, owner, &recording.id) {
            return Ok(Some(taken));
        }
    }
    Ok(None)
}

/// The recording that has claimed a media id.
pub(super) async fn media_owner(
    tx: &Transaction<'_>,
    contact_center: &str,
    media_id: &str,
) -> Result<String, StoreError> {
    let row = tx
        .query_one(sql::MEDIA_ID_OWNER, &[&contact_center, &media_id])
        .await?;
    Ok(row.get(0))
}

async fn hold_state(
    tx: &Transaction<'_>,
    contact_center: &str,
    id: &str,
) -> Result<Option<i16>, StoreError> {
    let row = tx
        .query_opt(
            "SELECT non_delete FROM recordings WHERE contact_center_id = $1 AND id = $2 FOR UPDATE",
            &[&contact_center, &id],
        )
        .await?;
    Ok(row.map(|row| row.get(0)))
}

async fn set_hold_state(
    tx: &Transaction<'_>,
    contact_center: &str,
    id: &str,
    state: i16,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE recordings SET non_delete = $3 WHERE contact_center_id = $1 AND id = $2",
        &[&contact_center, &id, &state],
    )
    .await?;
    Ok(())
}

async fn stored(
    tx: &Transaction<'_>,
    contact_center: &str,
    id: &str,
) -> Result<Recording, StoreError> {
    let row = tx
        .query_one(
            "SELECT body FROM recordings WHERE contact_center_id = $1 AND id = $2",
            &[&contact_center, &id],
        )
        .await?;
    let stored: StoredRecording = serde_json::from_str(row.get(0)).map_err(corrupt)?;
    stored.to_recording().map_err(corrupt)
}

/// Marks the recording as being deleted and takes the lease (see [`crate::deletion`]);
/// the row lock makes the hold check and the mark one step.
pub(super) async fn begin_deletion(
    tx: &Transaction<'_>,
    contact_center: &str,
    id: &str,
    lease: &DeletionLease,
    now_ms: i64,
) -> Result<DeletionStart, StoreError> {
    let state = hold_state(tx, contact_center, id).await?.map(legal_hold);
    let current: Option<i64> = tx
        .query_opt(deletion::LEASE_OF, &[&contact_center, &id])
        .await?
        .map(|row| row.get(1));
    match deletion::begin(state, current, now_ms) {
        Begin::NotFound => return Ok(DeletionStart::NotFound),
        Begin::OnHold => return Ok(DeletionStart::OnHold),
        Begin::InProgress => return Ok(DeletionStart::InProgress),
        Begin::Start => {}
    }
    set_hold_state(tx, contact_center, id, DELETING).await?;
    tx.execute(
        deletion::TAKE,
        &[&contact_center, &id, &lease.token, &lease.until_ms],
    )
    .await?;
    Ok(DeletionStart::Ready(stored(tx, contact_center, id).await?))
}

pub(super) async fn renew_deletion(
    client: &mut Client,
    contact_center: &str,
    id: &str,
    lease: &DeletionLease,
) -> Result<bool, StoreError> {
    let tx = client.transaction().await?;
    let renewed = tx
        .execute(
            deletion::RENEW,
            &[&contact_center, &id, &lease.token, &lease.until_ms],
        )
        .await?;
    let marked = hold_state(&tx, contact_center, id).await? == Some(DELETING);
    tx.commit().await?;
    Ok(renewed == 1 && marked)
}

pub(super) async fn release_deletion(
    client: &mut Client,
    contact_center: &str,
    id: &str,
    token: &str,
    unmark: bool,
) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    let marked = hold_state(&tx, contact_center, id).await? == Some(DELETING);
    let owner: Option<String> = tx
        .query_opt(deletion::LEASE_OF, &[&contact_center, &id])
        .await?
        .map(|row| row.get(0));
    if unmark && marked && owner.as_deref() == Some(token) {
        set_hold_state(&tx, contact_center, id, crate::row::NOT_HELD).await?;
        tx.execute(deletion::FORGET, &[&contact_center, &id])
            .await?;
    } else {
        tx.execute(deletion::RELEASE, &[&contact_center, &id, &token])
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn finish_deletion(
    tx: &Transaction<'_>,
    contact_center: &str,
    id: &str,
    token: &str,
) -> Result<bool, StoreError> {
    if hold_state(tx, contact_center, id).await? != Some(DELETING) {
        return Ok(false);
    }
    let owner: Option<String> = tx
        .query_opt(deletion::LEASE_OF, &[&contact_center, &id])
        .await?
        .map(|row| row.get(0));
    if owner.as_deref() != Some(token) {
        return Ok(false);
    }
    let recording = stored(tx, contact_center, id).await?;
    unindex_terms(tx, contact_center, &recording).await?;
    for media_id in recording
        .media_files
        .iter()
        .filter_map(|m| m.key.media_id())
    {
        tx.execute(sql::RELEASE_MEDIA_ID, &[&contact_center, &media_id, &id])
            .await?;
    }
    let deleted = tx
        .execute(
            "DELETE FROM recordings WHERE contact_center_id = $1 AND id = $2 AND non_delete = $3",
            &[&contact_center, &id, &DELETING],
        )
        .await?;
    if deleted == 1 {
        tx.execute(crate::counts::ADD, &[&contact_center, &-1i64])
            .await?;
    }
    super::outbox::forget_recording(tx, contact_center, id).await?;
    tx.execute(crate::digests::FORGET, &[&contact_center, &id])
        .await?;
    tx.execute(deletion::FORGET, &[&contact_center, &id])
        .await?;
    Ok(true)
}

pub(super) async fn delete_recording(
    client: &mut Client,
    contact_center: &str,
    id: &str,
) -> Result<DeletionStart, StoreError> {
    let tx = client.transaction().await?;
    let now_ms = gird_model::datetime::now_millis();
    let lease = deletion::immediate(now_ms);
    let start = begin_deletion(&tx, contact_center, id, &lease, now_ms).await?;
    if let DeletionStart::Ready(_) = &start {
        finish_deletion(&tx, contact_center, id, &lease.token).await?;
    }
    tx.commit().await?;
    Ok(start)
}

pub(super) async fn set_legal_hold(
    client: &mut Client,
    contact_center: &str,
    id: &str,
    hold: bool,
) -> Result<HoldChange, StoreError> {
    let tx = client.transaction().await?;
    let state = hold_state(&tx, contact_center, id).await?.map(legal_hold);
    let change = match deletion::hold(state, hold) {
        Hold::NotFound => HoldChange::NotFound,
        Hold::DeletionInProgress => HoldChange::DeletionInProgress,
        Hold::Set(state) => {
            set_hold_state(&tx, contact_center, id, hold_column(state)).await?;
            HoldChange::Done
        }
    };
    tx.commit().await?;
    Ok(change)
}
