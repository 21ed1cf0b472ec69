//! Running searches on SQLite.

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OptionalExtension};

use super::reads::RawRecording;
use crate::plan::{Dialect, Paging, Param, Plan};
use crate::{Direction, SearchPage, SearchQuery, StoreError};

fn values(params: Vec<Param>) -> impl Iterator<Item = Value> {
    params.into_iter().map(|param| match param {
        Param::Integer(n) => Value::Integer(n),
        Param::Text(text) => Value::Text(text),
    })
}

fn fetch(
    db: &Connection,
    plan: &Plan,
    direction: Direction,
    limit: usize,
) -> rusqlite::Result<Vec<RawRecording>> {
    let (sql, params) = plan.select("r.id, r.start_ms, r.body, r.non_delete", direction, limit);
    let mut statement = db.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(values(params)), RawRecording::from_row)?;
    rows.collect()
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
    let fetched = fetch(db, &paging.page_plan, paging.direction, paging.limit + 1)?
        .into_iter()
        .map(RawRecording::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let page = paging.page(fetched);
    let more_other = match &page.probe {
        Some((direction, start_ms, id)) => any(
            db,
            &paging.plan.beyond(*direction, *start_ms, id),
            *direction,
        )?,
        None => false,
    };
    Ok(page.finish(more_other))
}

/// The query plan SQLite picks for a search, one line per step (for tests).
#[cfg(test)]
pub(super) fn explain(db: &Connection, query: &SearchQuery) -> Vec<String> {
    let (sql, params) = Plan::new(query, 0, Dialect::Sqlite).select("r.id", Direction::Older, 1);
    let mut statement = db.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    statement
        .query_map(params_from_iter(values(params)), |row| {
            row.get::<_, String>(3)
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}
