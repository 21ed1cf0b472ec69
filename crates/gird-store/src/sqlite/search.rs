//! Running searches on SQLite.

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OptionalExtension};

use super::reads::RawRecording;
use crate::plan::{Dialect, Fetched, Paging, Param, Plan};
use crate::{Direction, SearchPage, SearchQuery, StoreError};

fn values(params: Vec<Param>) -> impl Iterator<Item = Value> {
    params.into_iter().map(|param| match param {
        Param::Integer(n) => Value::Integer(n),
        Param::Text(text) => Value::Text(text),
    })
}

/// Up to `limit` rows, read one at a time and no further once `max_bytes` are reached.
fn fetch(
    db: &Connection,
    plan: &Plan,
    direction: Direction,
    limit: usize,
    max_bytes: usize,
) -> Result<Fetched, StoreError> {
    let (sql, params) = plan.select("r.id, r.start_ms, r.body, r.non_delete", direction, limit);
    let mut statement = db.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(values(params)), RawRecording::from_row)?;
    let mut fetched = Fetched::default();
    for raw in rows {
        if fetched.add(raw?.parse()?, max_bytes) {
            break;
        }
    }
    Ok(fetched)
}

fn any(db: &Connection, plan: &Plan, direction: Direction) -> rusqlite::Result<bool> {
    let (sql, params) = plan.select("1", direction, 1);
    let found: Option<i64> = db
        .prepare_cached(&sql)?
        .query_row(params_from_iter(values(params)), |row| row.get(0))
        .optional()?;
    Ok(found.is_some())
}

fn max_duration(db: &Connection, contact_center: &str) -> rusqlite::Result<i64> {
    let found: Option<i64> = db
        .prepare_cached(
            "SELECT max_duration_ms FROM contact_center_stats WHERE contact_center_id = ?1",
        )?
        .query_row([contact_center], |row| row.get(0))
        .optional()?;
    Ok(found.unwrap_or(0))
}

pub(super) fn search(db: &Connection, query: &SearchQuery) -> Result<SearchPage, StoreError> {
    let max_duration = max_duration(db, &query.contact_center)?;
    let paging = Paging::start(query, max_duration, Dialect::Sqlite);
    let mut fetched = Vec::new();
    for plan in &paging.page_plans {
        fetched.push(fetch(
            db,
            plan,
            paging.direction,
            paging.limit + 1,
            paging.max_bytes,
        )?);
    }
    let page = paging.page(fetched);
    let mut more_other = false;
    if let Some((direction, start_ms, id)) = &page.probe {
        for plan in &paging.plans {
            if any(db, &plan.beyond(*direction, *start_ms, id), *direction)? {
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
            let counted: i64 = db
                .prepare_cached(&sql)?
                .query_row(params_from_iter(values(params)), |row| row.get(0))?;
            total += counted as u64;
        }
        page.total = Some(total.min(cap));
    }
    Ok(page)
}

/// The query plan SQLite picks for a search, one line per step (for tests).
#[cfg(test)]
pub(super) fn explain(db: &Connection, query: &SearchQuery) -> Vec<String> {
    let (sql, params) = Plan::all(query, 0, Dialect::Sqlite)[0].select("r.id", Direction::Older, 1);
    let mut statement = db.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    statement
        .query_map(params_from_iter(values(params)), |row| {
            row.get::<_, String>(3)
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// The virtual-machine steps SQLite takes to run a search's page plans: how much of the
/// database a search reads, whatever the machine's speed (for tests).
#[cfg(test)]
pub(super) fn steps(db: &Connection, query: &SearchQuery, max_duration: i64) -> i64 {
    let paging = Paging::start(query, max_duration, Dialect::Sqlite);
    let mut steps = 0;
    for plan in &paging.page_plans {
        let (sql, params) = plan.select("r.id", paging.direction, paging.limit + 1);
        let mut statement = db.prepare(&sql).unwrap();
        let rows = statement
            .query_map(params_from_iter(values(params)), |row| {
                row.get::<_, String>(0)
            })
            .unwrap()
            .count();
        assert!(rows <= paging.limit + 1);
        steps += statement.get_status(rusqlite::StatementStatus::VmStep) as i64;
    }
    steps
}
