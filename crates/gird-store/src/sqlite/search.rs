//! Running searches on SQLite.

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OptionalExtension};

use super::reads::RawRecording;
use crate::plan::{Dialect, Param, Plan};
use crate::{Cursor, Direction, SearchPage, SearchQuery, StoreError};

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
    let plan = Plan::new(
        query,
        max_duration(db, &query.contact_center)?,
        Dialect::Sqlite,
    );
    let direction = query
        .cursor
        .as_ref()
        .map_or(Direction::Older, |c| c.direction);
    let page_plan = match &query.cursor {
        Some(cursor) => plan.beyond(cursor.direction, cursor.start_ms, &cursor.id),
        None => plan.clone(),
    };
    let mut rows = fetch(db, &page_plan, direction, query.limit + 1)?;
    let more_in_direction = rows.len() > query.limit;
    rows.truncate(query.limit);
    if direction == Direction::Newer {
        rows.reverse();
    }
    let recordings = rows
        .into_iter()
        .map(RawRecording::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let edge = |newest: bool| -> Option<(i64, String)> {
        let row = if newest {
            recordings.first()
        } else {
            recordings.last()
        };
        row.map(|r| (r.start_ms, r.id.clone())).or_else(|| {
            query
                .cursor
                .as_ref()
                .map(|c: &Cursor| (c.start_ms, c.id.clone()))
        })
    };
    let any_beyond =
        |direction: Direction, edge: Option<(i64, String)>| -> rusqlite::Result<bool> {
            match edge {
                Some((start_ms, id)) => any(db, &plan.beyond(direction, start_ms, &id), direction),
                None => Ok(false),
            }
        };
    let (more_older, more_newer) = match direction {
        Direction::Older => (more_in_direction, any_beyond(Direction::Newer, edge(true))?),
        Direction::Newer => (
            any_beyond(Direction::Older, edge(false))?,
            more_in_direction,
        ),
    };
    Ok(SearchPage {
        recordings,
        more_older,
        more_newer,
    })
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
