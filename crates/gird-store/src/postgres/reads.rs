//! Reads on PostgreSQL, searches included.

use std::collections::HashMap;

use deadpool_postgres::Client;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::plan::{Dialect, Fetched, Paging, Param, Plan};
use crate::row::legal_hold;
use crate::{Direction, FoundRecording, SearchPage, SearchQuery, StorageSettings, StoreError};
use gird_model::ContactCenter;

pub(super) async fn contact_centers(
    client: &Client,
) -> Result<HashMap<String, ContactCenter>, StoreError> {
    let mut all: HashMap<String, ContactCenter> = client
        .query("SELECT id, domains FROM contact_centers", &[])
        .await?
        .into_iter()
        .map(|row| {
            let (id, domains): (String, String) = (row.get(0), row.get(1));
            let contact_center = ContactCenter {
                id: id.clone(),
                domains: serde_json::from_str(&domains).unwrap_or_default(),
                features: Vec::new(),
            };
            (id, contact_center)
        })
        .collect();
    let features = client
        .query(
            "SELECT contact_center_id, feature FROM contact_center_features ORDER BY feature",
            &[],
        )
        .await?;
    for row in features {
        let (id, feature): (String, String) = (row.get(0), row.get(1));
        if let Some(contact_center) = all.get_mut(&id) {
            contact_center.features.push(feature);
        }
    }
    Ok(all)
}

fn found(row: &Row) -> Result<FoundRecording, StoreError> {
    let id: String = row.get(0);
    let body: &str = row.get(2);
    let stored = serde_json::from_str(body)
        .map_err(|e| StoreError::Corrupt(format!("recording {id:?}: {e}")))?;
    let legal_hold = legal_hold(row.get(3));
    Ok(FoundRecording {
        id,
        start_ms: row.get(1),
        stored,
        legal_hold,
        stored_bytes: body.len(),
    })
}

pub(super) async fn recording(
    client: &Client,
    contact_center: &str,
    id: &str,
) -> Result<Option<FoundRecording>, StoreError> {
    let statement = client
        .prepare_cached(
            "SELECT id, start_ms, body, non_delete FROM recordings
             WHERE contact_center_id = $1 AND id = $2",
        )
        .await?;
    client
        .query_opt(&statement, &[&contact_center, &id])
        .await?
        .as_ref()
        .map(found)
        .transpose()
}

pub(super) async fn contact_centers_with_recording(
    client: &Client,
    id: &str,
) -> Result<Vec<String>, StoreError> {
    let rows = client
        .query(
            "SELECT contact_center_id FROM recordings WHERE id = $1 ORDER BY contact_center_id",
            &[&id],
        )
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

pub(super) async fn storage(
    client: &Client,
    contact_center: &str,
) -> Result<Option<StorageSettings>, StoreError> {
    let row = client
        .query_opt(
            "SELECT base_url, username, sealed_password FROM contact_center_storage
             WHERE contact_center_id = $1",
            &[&contact_center],
        )
        .await?;
    Ok(row.map(|row| StorageSettings {
        base_url: row.get(0),
        username: row.get(1),
        sealed_password: row.get(2),
    }))
}

pub(super) async fn s3_storage(
    client: &Client,
    contact_center: &str,
) -> Result<Option<crate::S3Settings>, StoreError> {
    let row = client
        .query_opt(
            &format!(
                "SELECT {} FROM contact_center_s3 WHERE contact_center_id = $1",
                crate::row::S3_COLUMNS
            ),
            &[&contact_center],
        )
        .await?;
    row.map(|row| {
        crate::row::s3_settings((
            row.get(0),
            row.get(1),
            row.get(2),
            row.get(3),
            row.get(4),
            row.get(5),
        ))
    })
    .transpose()
}

/// Binds plan parameters; PostgreSQL wants `BIGINT` limits and start instants as `i64`.
fn bound(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|param| match param {
            Param::Integer(n) => n as &(dyn ToSql + Sync),
            Param::Text(text) => text as &(dyn ToSql + Sync),
        })
        .collect()
}

/// Up to `limit` rows, read one at a time and no further once `max_bytes` are reached.
async fn fetch(
    client: &Client,
    plan: &Plan,
    direction: Direction,
    limit: usize,
    max_bytes: usize,
) -> Result<Fetched, StoreError> {
    use futures_util::TryStreamExt;
    let (sql, params) = plan.select("r.id, r.start_ms, r.body, r.non_delete", direction, limit);
    let statement = client.prepare_cached(&sql).await?;
    let rows = client.query_raw(&statement, bound(&params)).await?;
    futures_util::pin_mut!(rows);
    let mut fetched = Fetched::default();
    while let Some(row) = rows.try_next().await? {
        if fetched.add(found(&row)?, max_bytes) {
            break;
        }
    }
    Ok(fetched)
}

async fn any(client: &Client, plan: &Plan, direction: Direction) -> Result<bool, StoreError> {
    let (sql, params) = plan.select("1", direction, 1);
    let statement = client.prepare_cached(&sql).await?;
    Ok(client
        .query_opt(&statement, &bound(&params))
        .await?
        .is_some())
}

pub(super) async fn search(client: &Client, query: &SearchQuery) -> Result<SearchPage, StoreError> {
    let max_duration: i64 = client
        .query_opt(
            "SELECT max_duration_ms FROM contact_center_stats WHERE contact_center_id = $1",
            &[&query.contact_center],
        )
        .await?
        .map_or(0, |row| row.get(0));
    let paging = Paging::start(query, max_duration, Dialect::Postgres);
    let mut fetched = Vec::new();
    for plan in &paging.page_plans {
        fetched.push(
            fetch(
                client,
                plan,
                paging.direction,
                paging.limit + 1,
                paging.max_bytes,
            )
            .await?,
        );
    }
    let page = paging.page(fetched);
    let mut more_other = false;
    if let Some((direction, start_ms, id)) = &page.probe {
        for plan in &paging.plans {
            if any(client, &plan.beyond(*direction, *start_ms, id), *direction).await? {
                more_other = true;
                break;
            }
        }
    }
    let mut page = page.finish(more_other);
    if query.count {
        let cap = crate::counts::SEARCH_COUNT_CAP;
        let mut total = 0u64;
        for plan in &paging.plans {
            let (sql, params) = plan.count(cap);
            let statement = client.prepare_cached(&sql).await?;
            let counted: i64 = client.query_one(&statement, &bound(&params)).await?.get(0);
            total += counted as u64;
        }
        page.total = Some(total.min(cap));
    }
    Ok(page)
}

pub(super) async fn recording_count(
    client: &Client,
    contact_center: &str,
) -> Result<u64, StoreError> {
    let row = client
        .query_opt(crate::counts::OF, &[&contact_center])
        .await?;
    Ok(row.map_or(0, |row| row.get::<_, i64>(0).max(0) as u64))
}
