//! The query kinds the search benchmark times, and their parameters, drawn from the
//! generated records so that almost every query has results.

use super::dataset::{
    agent_name, format_phone, iso_millis, Dataset, Rng, DAY_MS, HOT_DIALED_NUMBERS, PHONE_FORMATS,
    STREAM_QUERIES,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryKind {
    CallerExact,
    CallerSuffix,
    DialedBusy,
    AgentDay,
    Day,
    DayPageTwo,
    SupervisorDay,
    SupervisorCaller,
    SupervisorNewest,
}

impl QueryKind {
    pub const ALL: [QueryKind; 9] = [
        QueryKind::CallerExact,
        QueryKind::CallerSuffix,
        QueryKind::DialedBusy,
        QueryKind::AgentDay,
        QueryKind::Day,
        QueryKind::DayPageTwo,
        QueryKind::SupervisorDay,
        QueryKind::SupervisorCaller,
        QueryKind::SupervisorNewest,
    ];

    pub fn label(self) -> &'static str {
        match self {
            QueryKind::CallerExact => "(a) callerPhoneNumber exact",
            QueryKind::CallerSuffix => "(b) callerPhoneNumber *last 7",
            QueryKind::DialedBusy => "(c) dialedPhoneNumber busy",
            QueryKind::AgentDay => "(d) userName + one day",
            QueryKind::Day => "(e) one day",
            QueryKind::DayPageTwo => "(f) one day, next page",
            QueryKind::SupervisorDay => "(g) restricted supervisor: one day",
            QueryKind::SupervisorCaller => "(h) restricted supervisor: callerPhoneNumber",
            QueryKind::SupervisorNewest => "(i) restricted supervisor: newest, no filter",
        }
    }

    /// The kinds searched as the restricted supervisor, through `GET /api/v2/recordings`:
    /// gird filters out what they may not see inside the query.
    pub fn as_supervisor(self) -> bool {
        matches!(
            self,
            QueryKind::SupervisorDay | QueryKind::SupervisorCaller | QueryKind::SupervisorNewest
        )
    }

    /// The kinds with a latency target (p95 ≤ 50 ms).
    pub fn has_target(self) -> bool {
        matches!(
            self,
            QueryKind::CallerExact
                | QueryKind::CallerSuffix
                | QueryKind::AgentDay
                | QueryKind::SupervisorDay
                | QueryKind::SupervisorCaller
                | QueryKind::SupervisorNewest
        )
    }

    /// Whether the record the parameters were drawn from must be among the results
    /// (when the page is not full).
    fn expects_its_record(self) -> bool {
        self.has_target() && self != QueryKind::SupervisorNewest
    }

    fn stream(self) -> u64 {
        self as u64
    }
}

/// One search request, and the record it must find when all results fit on the page.
#[derive(Clone, Debug)]
pub struct SearchQuery {
    /// Path and query string.
    pub path: String,
    pub expected_id: Option<String>,
}

/// Draws `count` queries of `kind` over the first `records` records. `purpose` keeps
/// the warm-up's queries apart from the measured ones. Page-two queries come from the
/// `next` links of one-day queries instead, so there are none to draw here.
pub fn draw(
    dataset: &Dataset,
    records: u64,
    kind: QueryKind,
    count: usize,
    purpose: u64,
    search_path: &str,
    limit: u32,
) -> Vec<SearchQuery> {
    if kind == QueryKind::DayPageTwo {
        return Vec::new();
    }
    let mut rng = Rng::new(dataset.seed(), STREAM_QUERIES, purpose << 8 | kind.stream());
    (0..count)
        .map(|_| {
            let recording = if kind.as_supervisor() {
                visible_recording(dataset, records, &mut rng)
            } else {
                dataset.recording(rng.below(records))
            };
            let parameters = match kind {
                QueryKind::CallerExact => {
                    // Any spelling, usually not the stored one: matching is on digits.
                    let format = rng.below(PHONE_FORMATS as u64) as usize;
                    let number = format_phone(&recording.caller_digits, format);
                    vec![("callerPhoneNumber", number)]
                }
                QueryKind::CallerSuffix => {
                    let last_seven = &recording.caller_digits[4..];
                    vec![("callerPhoneNumber", format!("*{last_seven}"))]
                }
                QueryKind::DialedBusy => {
                    let number = dataset.dialed_number(rng.below(HOT_DIALED_NUMBERS));
                    let number = if rng.percent(50) {
                        number.to_owned()
                    } else {
                        number.trim_start_matches('+').to_owned()
                    };
                    vec![("dialedPhoneNumber", number)]
                }
                QueryKind::AgentDay => {
                    let media = &recording.media_files
                        [rng.below(recording.media_files.len() as u64) as usize];
                    let mut agent = agent_name(media.agent);
                    if rng.percent(25) {
                        agent = agent.to_uppercase();
                    }
                    let mut parameters = vec![("userName", agent)];
                    parameters.extend(day_window(recording.start_ms));
                    parameters
                }
                QueryKind::Day | QueryKind::DayPageTwo => day_window(recording.start_ms),
                QueryKind::SupervisorDay => day_window(recording.start_ms),
                QueryKind::SupervisorCaller => {
                    let format = rng.below(PHONE_FORMATS as u64) as usize;
                    let number = format_phone(&recording.caller_digits, format);
                    vec![("callerPhoneNumber", number)]
                }
                QueryKind::SupervisorNewest => Vec::new(),
            };
            let expected = kind.expects_its_record()
                && (!kind.as_supervisor() || recording.visible_to_supervisor());
            let mut path = format!("{search_path}?");
            for (name, value) in &parameters {
                path.push_str(name);
                path.push('=');
                path.push_str(&encode_query_value(value));
                path.push('&');
            }
            path.push_str(&format!("limit={limit}"));
            SearchQuery {
                path,
                expected_id: expected.then(|| recording.id.clone()),
            }
        })
        .collect()
}

/// A record the restricted supervisor may see (about one in 43), or after 5,000 draws
/// without one (a tiny database) any record: its query then expects nothing.
fn visible_recording(dataset: &Dataset, records: u64, rng: &mut Rng) -> super::dataset::Recording {
    let mut recording = dataset.recording(rng.below(records));
    for _ in 0..5_000 {
        if recording.visible_to_supervisor() {
            break;
        }
        recording = dataset.recording(rng.below(records));
    }
    recording
}

/// The UTC day that contains `instant_ms`, as `startTime` and `endTime`.
fn day_window(instant_ms: i64) -> Vec<(&'static str, String)> {
    let day_start = instant_ms - instant_ms.rem_euclid(DAY_MS);
    vec![
        ("startTime", iso_millis(day_start)),
        ("endTime", iso_millis(day_start + DAY_MS)),
    ]
}

/// Percent-encodes a query value. `+` must be encoded (a form decoder reads it as a
/// space); `*`, `@` and `:` are legal in a query and stay readable.
pub fn encode_query_value(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len() + 8);
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'*'
            | b'@'
            | b':' => encoded.push(byte as char),
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/api/v2/ops/contact-centers/bench/recordings";

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            encode_query_value("+1 (416) 555-0123"),
            "%2B1%20%28416%29%20555-0123"
        );
        assert_eq!(encode_query_value("*5550123"), "*5550123");
        assert_eq!(
            encode_query_value("2025-03-04T00:00:00.000Z"),
            "2025-03-04T00:00:00.000Z"
        );
    }

    #[test]
    fn queries_are_deterministic_and_point_at_a_record() {
        let dataset = Dataset::new(5);
        for kind in QueryKind::ALL {
            let first = draw(&dataset, 1000, kind, 20, 0, PATH, 100);
            let again = draw(&dataset, 1000, kind, 20, 0, PATH, 100);
            let warm_up = draw(&dataset, 1000, kind, 20, 1, PATH, 100);
            let paths = |queries: &[SearchQuery]| -> Vec<String> {
                queries.iter().map(|query| query.path.clone()).collect()
            };
            assert_eq!(paths(&first), paths(&again));
            if kind == QueryKind::DayPageTwo {
                assert!(first.is_empty());
                continue;
            }
            if kind == QueryKind::SupervisorNewest {
                // No parameters to draw: the supervisor's newest, again and again.
                assert!(first
                    .iter()
                    .all(|query| query.path == format!("{PATH}?limit=100")));
                continue;
            }
            assert_ne!(paths(&first), paths(&warm_up));
            for query in &first {
                assert!(query.path.starts_with(PATH), "{}", query.path);
                assert!(query.path.ends_with("&limit=100"), "{}", query.path);
                assert_eq!(query.expected_id.is_some(), kind.expects_its_record());
                if let Some(id) = &query.expected_id {
                    if kind.as_supervisor() {
                        assert!(dataset.supervisor_sees(id), "{kind:?} drew {id}");
                    }
                }
            }
        }
    }

    #[test]
    fn suffix_and_day_queries_match_their_record() {
        let dataset = Dataset::new(5);
        let query = &draw(&dataset, 1, QueryKind::CallerSuffix, 1, 0, PATH, 100)[0];
        let recording = dataset.recording(0);
        assert_eq!(
            query.path,
            format!(
                "{PATH}?callerPhoneNumber=*{}&limit=100",
                &recording.caller_digits[4..]
            )
        );
        let query = &draw(&dataset, 1, QueryKind::AgentDay, 1, 0, PATH, 100)[0];
        let day = &iso_millis(recording.start_ms)[..10];
        assert!(
            query
                .path
                .contains(&format!("startTime={day}T00:00:00.000Z")),
            "{}",
            query.path
        );
        assert_eq!(query.expected_id.as_deref(), Some(recording.id.as_str()));
    }
}
