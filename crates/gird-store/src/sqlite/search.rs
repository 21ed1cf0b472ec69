//! Searches: one driving index chosen per query, every other filter checked per row,
//! newest first, keyset pagination on (start instant, id).

use gird_model::search::PhoneMatch;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OptionalExtension};

use super::reads::RawRecording;
use crate::{Cursor, Direction, SearchPage, SearchQuery, StoreError};

/// A query in SQL: what it reads from, its conditions and their parameters.
#[derive(Clone)]
struct Plan {
    from: String,
    conditions: Vec<String>,
    params: Vec<Value>,
    /// The columns the results are ordered by: start instant, then id.
    start: &'static str,
    id: &'static str,
}

impl Plan {
    fn condition(&mut self, sql: impl Into<String>, params: impl IntoIterator<Item = Value>) {
        self.conditions.push(sql.into());
        self.params.extend(params);
    }

    fn text(value: &str) -> Value {
        Value::Text(value.to_owned())
    }

    fn new(query: &SearchQuery, max_duration: i64) -> Plan {
        let cc = Plan::text(&query.contact_center);
        let mut plan = Plan::driver(query, cc.clone());
        if let Some(to) = query.to {
            plan.condition(format!("{} < ?", plan.start), [Value::Integer(to)]);
        }
        if let Some(from) = query.from {
            let earliest = from.saturating_sub(max_duration);
            plan.condition(format!("{} >= ?", plan.start), [Value::Integer(earliest)]);
            plan.condition("r.stop_ms > ?", [Value::Integer(from)]);
        }
        for (column, phone) in [("caller", &query.caller), ("dialed", &query.dialed)] {
            if let Some(phone) = phone {
                plan.phone(column, phone);
            }
        }
        if let Some(region) = &query.region {
            plan.condition("r.region = ?", [Plan::text(region)]);
        }
        if let Some(call_type) = &query.call_type {
            plan.condition("r.call_type = ?", [Plan::text(call_type)]);
        }
        let driven_by_term = !query.terms.is_empty();
        for (kind, value) in query.terms.iter().skip(usize::from(driven_by_term)) {
            plan.condition(
                "EXISTS (SELECT 1 FROM search_terms x WHERE x.contact_center_id = r.contact_center_id
                 AND x.kind = ? AND x.value = ? AND x.start_ms = r.start_ms AND x.recording_id = r.id)",
                [Plan::text(kind), Plan::text(value)],
            );
        }
        if let (Some(media_id), true) = (&query.media_id, driven_by_term) {
            plan.condition(
                "EXISTS (SELECT 1 FROM media_files m WHERE m.contact_center_id = r.contact_center_id
                 AND m.media_id = ? AND m.recording_id = r.id)",
                [Plan::text(media_id)],
            );
        }
        plan
    }

    /// The most selective index: a search term, a media id, a phone number, else time.
    fn driver(query: &SearchQuery, cc: Value) -> Plan {
        if let Some((kind, value)) = query.terms.first() {
            let mut plan = Plan {
                from: "search_terms t CROSS JOIN recordings r ON r.contact_center_id = t.contact_center_id
                       AND r.id = t.recording_id"
                    .into(),
                conditions: Vec::new(),
                params: Vec::new(),
                start: "t.start_ms",
                id: "t.recording_id",
            };
            plan.condition(
                "t.contact_center_id = ? AND t.kind = ? AND t.value = ?",
                [cc, Plan::text(kind), Plan::text(value)],
            );
            return plan;
        }
        let mut plan = Plan {
            from: String::new(),
            conditions: Vec::new(),
            params: Vec::new(),
            start: "r.start_ms",
            id: "r.id",
        };
        if let Some(media_id) = &query.media_id {
            plan.from =
                "media_files m CROSS JOIN recordings r ON r.contact_center_id = m.contact_center_id
                         AND r.id = m.recording_id"
                    .into();
            plan.condition(
                "m.contact_center_id = ? AND m.media_id = ?",
                [cc, Plan::text(media_id)],
            );
            return plan;
        }
        let index = [("caller", &query.caller), ("dialed", &query.dialed)]
            .into_iter()
            .find_map(|(column, phone)| match phone {
                Some(PhoneMatch::Exact(_) | PhoneMatch::Suffix { .. }) => {
                    Some(format!("recordings_by_{column}_reversed"))
                }
                _ => None,
            })
            .unwrap_or_else(|| "recordings_by_start".into());
        plan.from = format!("recordings r INDEXED BY {index}");
        plan.condition("r.contact_center_id = ?", [cc]);
        plan
    }

    fn phone(&mut self, column: &str, phone: &PhoneMatch) {
        match phone {
            PhoneMatch::Any => {}
            PhoneMatch::Exact(reversed_key) => {
                self.condition(format!("r.{column}_rkey = ?"), [Plan::text(reversed_key)])
            }
            PhoneMatch::Suffix { start, end, glob } => {
                self.condition(
                    format!("r.{column}_rkey >= ? AND r.{column}_rkey < ?"),
                    [Plan::text(start), Plan::text(end)],
                );
                if let Some(glob) = glob {
                    self.condition(format!("r.{column}_key GLOB ?"), [Plan::text(glob)]);
                }
            }
            PhoneMatch::Glob(glob) => {
                self.condition(format!("r.{column}_key GLOB ?"), [Plan::text(glob)])
            }
        }
    }

    /// Only rows beyond `edge` in `direction`.
    fn beyond(&self, direction: Direction, start_ms: i64, id: &str) -> Plan {
        let mut plan = self.clone();
        let comparison = match direction {
            Direction::Older => "<",
            Direction::Newer => ">",
        };
        plan.condition(
            format!("({}, {}) {comparison} (?, ?)", plan.start, plan.id),
            [Value::Integer(start_ms), Plan::text(id)],
        );
        plan
    }

    fn sql(&self, columns: &str, direction: Direction) -> String {
        let order = match direction {
            Direction::Older => "DESC",
            Direction::Newer => "ASC",
        };
        format!(
            "SELECT {columns} FROM {} WHERE {} ORDER BY {} {order}, {} {order} LIMIT ?",
            self.from,
            self.conditions.join(" AND "),
            self.start,
            self.id
        )
    }

    fn fetch(
        &self,
        db: &Connection,
        direction: Direction,
        limit: usize,
    ) -> rusqlite::Result<Vec<RawRecording>> {
        let sql = self.sql("r.id, r.start_ms, r.body, r.non_delete", direction);
        let mut params = self.params.clone();
        params.push(Value::Integer(limit as i64));
        let mut statement = db.prepare_cached(&sql)?;
        let rows = statement.query_map(params_from_iter(params), RawRecording::from_row)?;
        rows.collect()
    }

    fn any(&self, db: &Connection, direction: Direction) -> rusqlite::Result<bool> {
        let sql = self.sql("1", direction);
        let mut params = self.params.clone();
        params.push(Value::Integer(1));
        let found: Option<i64> = db
            .prepare_cached(&sql)?
            .query_row(params_from_iter(params), |row| row.get(0))
            .optional()?;
        Ok(found.is_some())
    }
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
    let plan = Plan::new(query, max_duration(db, &query.contact_center)?);
    let direction = query
        .cursor
        .as_ref()
        .map_or(Direction::Older, |c| c.direction);
    let page_plan = match &query.cursor {
        Some(cursor) => plan.beyond(cursor.direction, cursor.start_ms, &cursor.id),
        None => plan.clone(),
    };
    let mut rows = page_plan.fetch(db, direction, query.limit + 1)?;
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
                Some((start_ms, id)) => plan.beyond(direction, start_ms, &id).any(db, direction),
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
    let plan = Plan::new(query, 0);
    let sql = format!("EXPLAIN QUERY PLAN {}", plan.sql("r.id", Direction::Older));
    let mut params = plan.params.clone();
    params.push(Value::Integer(1));
    let mut statement = db.prepare(&sql).unwrap();
    statement
        .query_map(params_from_iter(params), |row| row.get::<_, String>(3))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}
