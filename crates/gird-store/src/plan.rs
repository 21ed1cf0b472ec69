//! Searches in SQL, for both backends: one driving index chosen per query, every other
//! filter checked per row, newest first, keyset pagination on (start instant, id).

use gird_model::access::{Visibility, GRANTED_TO_GROUP, IN_PARTITION};
use gird_model::search::{PhoneMatch, AGENT};

use crate::{Direction, FoundRecording, SearchPage, SearchQuery};

/// Recordings longer than this are found through their own partial index
/// (`recordings_long`), so that one recording spanning years does not make every
/// time-window search scan back over those years: the start index is scanned back at
/// most this far (or the contact center's longest duration, when shorter).
pub const LONG_SPAN_MS: i64 = 4 * 3600 * 1000;

/// The partial index of long recordings; the same on both backends. A query uses it when
/// its condition repeats the index's.
pub(crate) const LONG_INDEX: &str =
    "CREATE INDEX recordings_long ON recordings (contact_center_id, start_ms, id)
     WHERE stop_ms - start_ms > 14400000";
const LONG_CONDITION: &str = "r.stop_ms - r.start_ms > 14400000";

/// A statement parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Param {
    Integer(i64),
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// SQLite's CROSS JOIN keeps the driving table outermost; PostgreSQL plans joins itself.
    fn join(self) -> &'static str {
        match self {
            Dialect::Sqlite => "CROSS JOIN",
            Dialect::Postgres => "JOIN",
        }
    }
}

/// A query in SQL: what it reads from, its conditions and their parameters.
#[derive(Clone)]
pub(crate) struct Plan {
    from: String,
    conditions: Vec<String>,
    params: Vec<Param>,
    dialect: Dialect,
    /// The columns the results are ordered by: start instant, then id.
    pub(crate) start: &'static str,
    pub(crate) id: &'static str,
}

impl Plan {
    fn condition(&mut self, sql: impl Into<String>, params: impl IntoIterator<Item = Param>) {
        self.conditions.push(sql.into());
        self.params.extend(params);
    }

    fn text(value: &str) -> Param {
        Param::Text(value.to_owned())
    }

    /// The plans that together find every match: the query driven by its most selective
    /// index, and, when the query has a window and the contact center may hold long
    /// recordings, the long recordings that start before the scanned part of the window.
    ///
    /// A restricted user's search that would scan the start index is driven by the
    /// visibility terms instead (see [`Plan::by_visibility`]): a supervisor who may see
    /// one call in fifty then reads about as many rows as they are shown.
    pub(crate) fn all(query: &SearchQuery, max_duration: i64, dialect: Dialect) -> Vec<Plan> {
        let lookback = max_duration.clamp(0, LONG_SPAN_MS);
        let mut plans = match &query.visibility {
            Some(visibility) if Plan::scans_by_start(query) => {
                Plan::by_visibility(query, visibility, lookback, dialect)
            }
            _ => vec![Plan::new(query, lookback, dialect)],
        };
        if let (Some(from), true) = (query.from, max_duration > LONG_SPAN_MS) {
            plans.push(Plan::long(query, from - lookback, dialect));
        }
        plans
    }

    fn new(query: &SearchQuery, lookback: i64, dialect: Dialect) -> Plan {
        let cc = Plan::text(&query.contact_center);
        let mut plan = Plan::driver(query, cc, dialect);
        if let Some(from) = query.from {
            let earliest = from.saturating_sub(lookback);
            plan.condition(format!("{} >= ?", plan.start), [Param::Integer(earliest)]);
        }
        let driven_by_term = !query.terms.is_empty();
        plan.filters(query, usize::from(driven_by_term), driven_by_term);
        plan
    }

    /// Whether the query has no index more selective than the start time.
    fn scans_by_start(query: &SearchQuery) -> bool {
        let phone_index = [&query.caller, &query.dialed].into_iter().any(|phone| {
            matches!(
                phone,
                Some(PhoneMatch::Exact(_) | PhoneMatch::Suffix { .. })
            )
        });
        query.terms.is_empty() && query.media_id.is_none() && !phone_index
    }

    /// [`Visibility`]'s rule as disjoint plans, each driven by one term, newest first:
    /// the user's own recordings (their agent term), then for each of their groups the
    /// recordings it grants that are in no partition or one of theirs, and that no plan
    /// before already finds (not their own, not granted by an earlier group). Disjoint, so
    /// that their pages merge and their counts add up.
    fn by_visibility(
        query: &SearchQuery,
        visibility: &Visibility,
        lookback: i64,
        dialect: Dialect,
    ) -> Vec<Plan> {
        let driven_by = |kind: &'static str, value: &str| {
            let mut driven = query.clone();
            driven.visibility = None;
            driven.terms = vec![(kind, value.to_owned())];
            Plan::new(&driven, lookback, dialect)
        };
        let mut plans = vec![driven_by(AGENT, &visibility.user)];
        let partitions = visibility.partition_terms();
        for (position, group) in visibility.groups.iter().enumerate() {
            let mut plan = driven_by(GRANTED_TO_GROUP, group);
            plan.condition(
                term_test(false, partitions.len()),
                term_params(IN_PARTITION, &partitions),
            );
            plan.condition(
                term_test(true, 1),
                term_params(AGENT, std::slice::from_ref(&visibility.user)),
            );
            let earlier = &visibility.groups[..position];
            if !earlier.is_empty() {
                plan.condition(
                    term_test(true, earlier.len()),
                    term_params(GRANTED_TO_GROUP, earlier),
                );
            }
            plans.push(plan);
        }
        plans
    }

    /// Long recordings (see [`LONG_SPAN_MS`]) that start before `earliest` and overlap
    /// the window, with every other filter checked per row.
    fn long(query: &SearchQuery, earliest: i64, dialect: Dialect) -> Plan {
        let mut plan = Plan {
            from: match dialect {
                Dialect::Sqlite => "recordings r INDEXED BY recordings_long".into(),
                Dialect::Postgres => "recordings r".into(),
            },
            conditions: Vec::new(),
            params: Vec::new(),
            dialect,
            start: "r.start_ms",
            id: "r.id",
        };
        plan.condition(
            "r.contact_center_id = ?",
            [Plan::text(&query.contact_center)],
        );
        plan.condition(LONG_CONDITION, []);
        plan.condition("r.start_ms < ?", [Param::Integer(earliest)]);
        plan.filters(query, 0, true);
        plan
    }

    /// The window and every filter but the driver's: the terms from `first_term` on, and
    /// the media id when `media_id_filtered`.
    fn filters(&mut self, query: &SearchQuery, first_term: usize, media_id_filtered: bool) {
        if let Some(to) = query.to {
            self.condition(format!("{} < ?", self.start), [Param::Integer(to)]);
        }
        if let Some(from) = query.from {
            self.condition("r.stop_ms > ?", [Param::Integer(from)]);
        }
        for (column, phone) in [("caller", &query.caller), ("dialed", &query.dialed)] {
            if let Some(phone) = phone {
                self.phone(column, phone);
            }
        }
        if let Some(region) = &query.region {
            self.condition("r.region = ?", [Plan::text(region)]);
        }
        if let Some(call_type) = &query.call_type {
            self.condition("r.call_type = ?", [Plan::text(call_type)]);
        }
        for (kind, value) in query.terms.iter().skip(first_term) {
            self.condition(
                "EXISTS (SELECT 1 FROM search_terms x WHERE x.contact_center_id = r.contact_center_id
                 AND x.kind = ? AND x.value = ? AND x.start_ms = r.start_ms AND x.recording_id = r.id)",
                [Plan::text(kind), Plan::text(value)],
            );
        }
        if let Some(visibility) = &query.visibility {
            self.visibility(visibility);
        }
        if let (Some(media_id), true) = (&query.media_id, media_id_filtered) {
            self.condition(
                "EXISTS (SELECT 1 FROM media_files m WHERE m.contact_center_id = r.contact_center_id
                 AND m.media_id = ? AND m.recording_id = r.id)",
                [Plan::text(media_id)],
            );
        }
    }

    /// [`Visibility`]'s rule over the terms of [`gird_model::access::visibility_terms`]:
    /// the user is on the recording, or one of their groups grants it and it has no
    /// partition or one of theirs. Each test is a lookup of the term index's primary key.
    fn visibility(&mut self, visibility: &Visibility) {
        let mut params = term_params(AGENT, std::slice::from_ref(&visibility.user));
        let mut sql = format!("({}", term_test(false, 1));
        if !visibility.groups.is_empty() {
            let partitions = visibility.partition_terms();
            sql.push_str(&format!(
                " OR ({} AND {})",
                term_test(false, visibility.groups.len()),
                term_test(false, partitions.len())
            ));
            params.extend(term_params(GRANTED_TO_GROUP, &visibility.groups));
            params.extend(term_params(IN_PARTITION, &partitions));
        }
        sql.push(')');
        self.condition(sql, params);
    }

    /// The most selective index: a search term, a media id, a phone number, else time.
    fn driver(query: &SearchQuery, cc: Param, dialect: Dialect) -> Plan {
        if let Some((kind, value)) = query.terms.first() {
            let mut plan = Plan {
                from: format!(
                    "search_terms t {} recordings r ON r.contact_center_id = t.contact_center_id
                     AND r.id = t.recording_id",
                    dialect.join()
                ),
                conditions: Vec::new(),
                params: Vec::new(),
                dialect,
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
            dialect,
            start: "r.start_ms",
            id: "r.id",
        };
        if let Some(media_id) = &query.media_id {
            plan.from = format!(
                "media_files m {} recordings r ON r.contact_center_id = m.contact_center_id
                 AND r.id = m.recording_id",
                dialect.join()
            );
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
        plan.from = match dialect {
            // SQLite has no statistics unless ANALYZE ran: name the index it must use.
            Dialect::Sqlite => format!("recordings r INDEXED BY {index}"),
            Dialect::Postgres => "recordings r".into(),
        };
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
                    self.condition(self.glob(column), [self.pattern(glob)]);
                }
            }
            PhoneMatch::Glob(glob) => self.condition(self.glob(column), [self.pattern(glob)]),
        }
    }

    fn glob(&self, column: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("r.{column}_key GLOB ?"),
            Dialect::Postgres => format!("r.{column}_key LIKE ?"),
        }
    }

    /// Keys hold only letters and digits, so `*` is the only special character.
    fn pattern(&self, glob: &str) -> Param {
        match self.dialect {
            Dialect::Sqlite => Plan::text(glob),
            Dialect::Postgres => Param::Text(glob.replace('*', "%")),
        }
    }

    /// Only rows beyond `edge` in `direction`.
    pub(crate) fn beyond(&self, direction: Direction, start_ms: i64, id: &str) -> Plan {
        let mut plan = self.clone();
        let comparison = match direction {
            Direction::Older => "<",
            Direction::Newer => ">",
        };
        plan.condition(
            format!("({}, {}) {comparison} (?, ?)", plan.start, plan.id),
            [Param::Integer(start_ms), Plan::text(id)],
        );
        plan
    }

    /// The statement and its parameters (the limit last), placeholders in the dialect's
    /// spelling.
    pub(crate) fn select(
        &self,
        columns: &str,
        direction: Direction,
        limit: usize,
    ) -> (String, Vec<Param>) {
        let order = match direction {
            Direction::Older => "DESC",
            Direction::Newer => "ASC",
        };
        let sql = format!(
            "SELECT {columns} FROM {} WHERE {} ORDER BY {} {order}, {} {order} LIMIT ?",
            self.from,
            self.conditions.join(" AND "),
            self.start,
            self.id
        );
        let mut params = self.params.clone();
        params.push(Param::Integer(limit as i64));
        let sql = match self.dialect {
            Dialect::Sqlite => sql,
            Dialect::Postgres => numbered_placeholders(&sql),
        };
        (sql, params)
    }
}

impl Plan {
    /// Counts the plan's matches, at most `cap` (reading no further than that).
    pub(crate) fn count(&self, cap: u64) -> (String, Vec<Param>) {
        let (sql, params) = self.select("1", Direction::Older, cap as usize);
        (format!("SELECT count(*) FROM ({sql}) matches"), params)
    }
}

/// Whether the row has a term of one kind with one of `values` values (a lookup of the
/// term index's primary key), or, `negated`, has none; see [`term_params`].
fn term_test(negated: bool, values: usize) -> String {
    let values = vec!["?"; values].join(", ");
    let not = if negated { "NOT " } else { "" };
    format!(
        "{not}EXISTS (SELECT 1 FROM search_terms v WHERE v.contact_center_id = r.contact_center_id
         AND v.kind = ? AND v.value IN ({values}) AND v.start_ms = r.start_ms
         AND v.recording_id = r.id)"
    )
}

/// The parameters of a [`term_test`].
fn term_params(kind: &str, values: &[String]) -> Vec<Param> {
    std::iter::once(Plan::text(kind))
        .chain(values.iter().map(|value| Plan::text(value)))
        .collect()
}

/// One page of a search, in the two steps both backends share: [`Paging::start`] says
/// what to fetch, [`Paging::page`] turns what was fetched into the page and says which
/// rows beyond it to probe for the link the other way.
pub(crate) struct Paging {
    /// The search without its cursor, to probe from (see [`Plan::all`]).
    pub(crate) plans: Vec<Plan>,
    /// The search from its cursor on, to fetch `limit + 1` rows of each.
    pub(crate) page_plans: Vec<Plan>,
    pub(crate) direction: Direction,
    pub(crate) limit: usize,
    pub(crate) max_bytes: usize,
    cursor: Option<(i64, String)>,
}

/// What one page plan fetched, in its order.
#[derive(Default)]
pub(crate) struct Fetched {
    rows: Vec<FoundRecording>,
    bytes: usize,
    /// The fetch stopped at the byte budget: the plan may have more rows beyond.
    cut: bool,
}

impl Fetched {
    /// Adds a row; answers true when the byte budget is reached (stop fetching).
    pub(crate) fn add(&mut self, row: FoundRecording, max_bytes: usize) -> bool {
        self.bytes += row.stored_bytes;
        self.rows.push(row);
        self.cut = self.bytes >= max_bytes;
        self.cut
    }
}

/// A page whose link the other way is still to be probed.
pub(crate) struct PendingPage {
    recordings: Vec<FoundRecording>,
    more_in_direction: bool,
    direction: Direction,
    /// Whether any row lies beyond this edge in this direction decides the other link.
    pub(crate) probe: Option<(Direction, i64, String)>,
}

impl Paging {
    pub(crate) fn start(query: &SearchQuery, max_duration: i64, dialect: Dialect) -> Paging {
        let plans = Plan::all(query, max_duration, dialect);
        let (direction, page_plans) = match &query.cursor {
            Some(cursor) => (
                cursor.direction,
                plans
                    .iter()
                    .map(|plan| plan.beyond(cursor.direction, cursor.start_ms, &cursor.id))
                    .collect(),
            ),
            None => (Direction::Older, plans.clone()),
        };
        Paging {
            plans,
            page_plans,
            direction,
            limit: query.limit,
            max_bytes: query.max_bytes.max(1),
            cursor: query.cursor.as_ref().map(|c| (c.start_ms, c.id.clone())),
        }
    }

    /// `fetched`: what each of the page plans fetched (up to `limit + 1` rows each, or
    /// fewer when its byte budget was reached). The page is their rows merged in order, up
    /// to `limit` rows and `max_bytes` (at least one row), and never past the last row of
    /// a plan that stopped early (its next rows are not known).
    pub(crate) fn page(&self, fetched: Vec<Fetched>) -> PendingPage {
        let in_order = |a: &FoundRecording, b: &FoundRecording| {
            let order = (a.start_ms, &a.id).cmp(&(b.start_ms, &b.id));
            match self.direction {
                Direction::Older => order.reverse(),
                Direction::Newer => order,
            }
        };
        let boundary = fetched
            .iter()
            .filter(|plan| plan.cut)
            .filter_map(|plan| plan.rows.last())
            .min_by(|a, b| in_order(a, b))
            .map(|row| (row.start_ms, row.id.clone()));
        let mut more_in_direction = boundary.is_some();
        let mut rows: Vec<FoundRecording> =
            fetched.into_iter().flat_map(|plan| plan.rows).collect();
        rows.sort_by(in_order);
        let mut fetched = Vec::with_capacity(rows.len().min(self.limit));
        let mut bytes = 0;
        for row in rows {
            let past_boundary = boundary.as_ref().is_some_and(|(start_ms, id)| {
                let edge = (*start_ms, id);
                match self.direction {
                    Direction::Older => (row.start_ms, &row.id) < edge,
                    Direction::Newer => (row.start_ms, &row.id) > edge,
                }
            });
            let over_budget = !fetched.is_empty() && bytes + row.stored_bytes > self.max_bytes;
            if past_boundary || over_budget || fetched.len() == self.limit {
                more_in_direction = true;
                break;
            }
            bytes += row.stored_bytes;
            fetched.push(row);
        }
        if self.direction == Direction::Newer {
            fetched.reverse();
        }
        let (other, edge) = match self.direction {
            Direction::Older => (Direction::Newer, fetched.first()),
            Direction::Newer => (Direction::Older, fetched.last()),
        };
        let edge = edge
            .map(|r| (r.start_ms, r.id.clone()))
            .or_else(|| self.cursor.clone());
        PendingPage {
            probe: edge.map(|(start_ms, id)| (other, start_ms, id)),
            recordings: fetched,
            more_in_direction,
            direction: self.direction,
        }
    }
}

impl PendingPage {
    /// `more_other`: what the probe found (false when there was nothing to probe).
    pub(crate) fn finish(self, more_other: bool) -> SearchPage {
        let (more_older, more_newer) = match self.direction {
            Direction::Older => (self.more_in_direction, more_other),
            Direction::Newer => (more_other, self.more_in_direction),
        };
        SearchPage {
            recordings: self.recordings,
            more_older,
            more_newer,
            total: None,
        }
    }
}

/// SQL written once for both backends uses PostgreSQL's `$1`, `$2`, ...; SQLite reads
/// `$n` as a *named* parameter numbered by first appearance, so for it they become `?n`,
/// which binds by number whatever the order.
pub(crate) fn sqlite_placeholders(sql: &str) -> String {
    let mut converted = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            converted.push('?');
        } else {
            converted.push(c);
        }
    }
    converted
}

/// `?` → `$1`, `$2`, ... (no `?` appears in gird's SQL but as a placeholder).
fn numbered_placeholders(sql: &str) -> String {
    let mut numbered = String::with_capacity(sql.len() + 16);
    let mut count = 0;
    for c in sql.chars() {
        if c == '?' {
            count += 1;
            numbered.push_str(&format!("${count}"));
        } else {
            numbered.push(c);
        }
    }
    numbered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_recordings_have_their_own_plan_and_bound_the_lookback() {
        let query = SearchQuery {
            contact_center: "cc".into(),
            from: Some(100 * LONG_SPAN_MS),
            limit: 10,
            ..SearchQuery::default()
        };
        assert_eq!(Plan::all(&query, LONG_SPAN_MS, Dialect::Sqlite).len(), 1);
        let plans = Plan::all(&query, 1_000 * LONG_SPAN_MS, Dialect::Sqlite);
        assert_eq!(plans.len(), 2);
        assert_eq!(
            plans[0].params[1],
            Param::Integer(99 * LONG_SPAN_MS),
            "the start index is scanned back no further than LONG_SPAN_MS"
        );
        let (sql, _) = plans[1].select("r.id", Direction::Older, 11);
        assert!(sql.contains("INDEXED BY recordings_long"), "{sql}");
        assert!(sql.contains(LONG_CONDITION), "{sql}");
        assert!(
            LONG_INDEX.contains(&LONG_CONDITION.replace("r.", "")),
            "the index and its use agree"
        );
        assert_eq!(LONG_SPAN_MS, 14_400_000);
        let unbounded = SearchQuery {
            from: None,
            ..query
        };
        assert_eq!(
            Plan::all(&unbounded, 1_000 * LONG_SPAN_MS, Dialect::Sqlite).len(),
            1
        );
    }

    #[test]
    fn a_restricted_search_without_a_better_index_is_driven_by_the_visibility_terms() {
        let visibility = Visibility::new("Sam", &["/Sales".into(), "/Support".into()], &[]);
        let query = SearchQuery {
            contact_center: "cc".into(),
            limit: 10,
            visibility: Some(visibility),
            ..SearchQuery::default()
        };
        let plans = Plan::all(&query, 0, Dialect::Sqlite);
        let sql: Vec<String> = plans
            .iter()
            .map(|plan| plan.select("r.id", Direction::Older, 11).0)
            .collect();
        assert_eq!(sql.len(), 3, "own, then one per group");
        assert!(sql
            .iter()
            .all(|sql| sql.starts_with("SELECT r.id FROM search_terms t")));
        assert_eq!(
            plans[0].params[1..3],
            [Plan::text(AGENT), Plan::text("sam")]
        );
        assert_eq!(plans[2].params[2], Plan::text("/Support"));
        // Disjoint: a group's plan leaves out the user's own and the earlier groups'.
        assert_eq!(sql[1].matches("NOT EXISTS").count(), 1, "{}", sql[1]);
        assert_eq!(sql[2].matches("NOT EXISTS").count(), 2, "{}", sql[2]);
        let by_caller = SearchQuery {
            caller: Some(PhoneMatch::Exact("1".into())),
            ..query.clone()
        };
        let plans = Plan::all(&by_caller, 0, Dialect::Sqlite);
        assert_eq!(plans.len(), 1, "the phone index is more selective");
        let (sql, _) = plans[0].select("r.id", Direction::Older, 11);
        assert!(sql.contains("recordings_by_caller_reversed"), "{sql}");
        assert!(sql.contains(" OR "), "visibility as a filter: {sql}");
    }

    fn row(start_ms: i64, stored_bytes: usize) -> FoundRecording {
        FoundRecording {
            id: format!("r{start_ms}"),
            start_ms,
            stored: gird_model::StoredRecording {
                recording: serde_json::Map::new(),
                merge_conflicts: Vec::new(),
            },
            legal_hold: crate::LegalHold::None,
            stored_bytes,
        }
    }

    fn fetched(rows: &[(i64, usize)], max_bytes: usize) -> Fetched {
        let mut fetched = Fetched::default();
        for &(start, bytes) in rows {
            if fetched.add(row(start, bytes), max_bytes) {
                break;
            }
        }
        fetched
    }

    fn ids(page: &PendingPage) -> Vec<i64> {
        page.recordings.iter().map(|r| r.start_ms).collect()
    }

    #[test]
    fn a_page_stops_at_its_byte_budget_with_at_least_one_row() {
        let query = SearchQuery {
            contact_center: "cc".into(),
            limit: 10,
            max_bytes: 100,
            ..SearchQuery::default()
        };
        let paging = Paging::start(&query, 0, Dialect::Sqlite);
        let page = paging.page(vec![fetched(&[(9, 40), (8, 40), (7, 40), (6, 40)], 100)]);
        assert_eq!(ids(&page), [9, 8]);
        assert!(page.more_in_direction);
        let page = paging.page(vec![fetched(&[(9, 500), (8, 1)], 100)]);
        assert_eq!(ids(&page), [9], "one row even when it alone is over");
        assert!(page.more_in_direction);
        let page = paging.page(vec![fetched(&[(9, 10), (8, 10)], 100)]);
        assert_eq!(ids(&page), [9, 8]);
        assert!(!page.more_in_direction);
    }

    #[test]
    fn a_plan_that_stopped_early_bounds_the_merged_page() {
        let query = SearchQuery {
            contact_center: "cc".into(),
            limit: 10,
            max_bytes: 100,
            ..SearchQuery::default()
        };
        let paging = Paging::start(&query, 0, Dialect::Sqlite);
        // The first plan stopped after 8 (its budget): rows after 8 are not known, so
        // the second plan's 7 and 5 wait for the next page.
        let first = fetched(&[(10, 50), (8, 50), (6, 1)], 100);
        let second = fetched(&[(9, 1), (7, 1), (5, 1)], 100);
        let page = paging.page(vec![first, second]);
        assert_eq!(ids(&page), [10, 9]);
        assert!(page.more_in_direction);
    }

    #[test]
    fn shared_sql_binds_by_number_on_sqlite() {
        assert_eq!(
            sqlite_placeholders("UPDATE t SET a = $4 WHERE b = $1 AND c = $12"),
            "UPDATE t SET a = ?4 WHERE b = ?1 AND c = ?12"
        );
        let db = rusqlite::Connection::open_in_memory().unwrap();
        let (a, b): (i64, i64) = db
            .query_row(&sqlite_placeholders("SELECT $2, $1"), [1, 2], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .unwrap();
        assert_eq!((a, b), (2, 1));
    }

    #[test]
    fn postgres_gets_numbered_placeholders_and_like() {
        let query = SearchQuery {
            contact_center: "cc".into(),
            caller: Some(gird_model::search::phone_match("1416*")),
            limit: 10,
            ..SearchQuery::default()
        };
        let (sql, params) =
            Plan::all(&query, 0, Dialect::Postgres)[0].select("r.id", Direction::Older, 11);
        assert!(
            sql.contains("r.contact_center_id = $1 AND r.caller_key LIKE $2"),
            "{sql}"
        );
        assert!(sql.ends_with("LIMIT $3"), "{sql}");
        assert_eq!(params[1], Param::Text("1416%".into()));
        assert_eq!(params[2], Param::Integer(11));
    }
}
