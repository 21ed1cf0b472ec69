//! The search's query parameters: parsed strictly (a typo is an error, not an ignored
//! filter), and turned back into `next` / `previous` links with keyset cursors.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gird_model::datetime::parse_iso;
use gird_model::record::CALL_TYPES;
use gird_model::search::{phone_match, ACCESS_GROUP, AGENT, CALL_UUID, PARTITION};
use gird_store::{Cursor, Direction, SearchQuery};

use crate::error::ApiError;
use crate::scope::CONTACT_CENTER_PARAMETER;

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;
const CURSOR: &str = "cursor";

#[derive(Debug, Default)]
pub struct SearchParams {
    query: SearchQuery,
}

fn invalid(name: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::InvalidValue(format!("{name}: {message}"))
}

/// ISO 8601 (any form the Insertion API accepts) or epoch milliseconds.
fn instant(name: &str, value: &str) -> Result<i64, ApiError> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value
            .parse()
            .map_err(|_| invalid(name, format!("{value:?} is too large")));
    }
    parse_iso(value).ok_or_else(|| {
        invalid(
            name,
            format!("{value:?} is neither an ISO 8601 datetime nor epoch milliseconds"),
        )
    })
}

pub fn cursor_text(older: bool, start_ms: i64, id: &str) -> String {
    let direction = if older { 'o' } else { 'n' };
    URL_SAFE_NO_PAD.encode(format!("{direction}:{start_ms}:{id}"))
}

fn parse_cursor(text: &str) -> Option<Cursor> {
    let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?).ok()?;
    let mut parts = decoded.splitn(3, ':');
    let direction = match parts.next()? {
        "o" => Direction::Older,
        "n" => Direction::Newer,
        _ => return None,
    };
    let start_ms = parts.next()?.parse().ok()?;
    let id = parts.next()?.to_owned();
    Some(Cursor {
        direction,
        start_ms,
        id,
    })
}

impl SearchParams {
    pub fn parse(parameters: &[(String, String)]) -> Result<SearchParams, ApiError> {
        let mut query = SearchQuery {
            limit: DEFAULT_LIMIT,
            ..SearchQuery::default()
        };
        for (name, value) in parameters {
            let name = name.as_str();
            match name {
                CONTACT_CENTER_PARAMETER => {}
                "startTime" => query.from = Some(instant(name, value)?),
                "endTime" => query.to = Some(instant(name, value)?),
                "callerPhoneNumber" => query.caller = Some(phone_match(value)),
                "dialedPhoneNumber" => query.dialed = Some(phone_match(value)),
                "userName" => query.terms.push((AGENT, value.to_lowercase())),
                "callUUID" => query.terms.push((CALL_UUID, value.clone())),
                "partition" => query.terms.push((PARTITION, value.clone())),
                "accessGroup" => query.terms.push((ACCESS_GROUP, value.clone())),
                "mediaId" => query.media_id = Some(value.clone()),
                "region" => query.region = Some(value.clone()),
                "callType" => {
                    let canonical = CALL_TYPES
                        .into_iter()
                        .find(|known| known.eq_ignore_ascii_case(value))
                        .ok_or_else(|| {
                            invalid(
                                name,
                                format!("{value:?} is not one of {}", CALL_TYPES.join(", ")),
                            )
                        })?;
                    query.call_type = Some(canonical.to_owned());
                }
                "limit" => {
                    query.limit = value
                        .parse()
                        .ok()
                        .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                        .ok_or_else(|| {
                            invalid(
                                name,
                                format!("must be a whole number from 1 to {MAX_LIMIT}"),
                            )
                        })?;
                }
                "count" => {
                    query.count = match value.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(invalid(name, "must be true or false")),
                    }
                }
                CURSOR => {
                    query.cursor = Some(
                        parse_cursor(value)
                            .ok_or_else(|| invalid(name, "is not a cursor this server gave"))?,
                    )
                }
                other => return Err(invalid(other, "is not a search parameter")),
            }
        }
        if let (Some(from), Some(to)) = (query.from, query.to) {
            if to <= from {
                return Err(invalid("endTime", "must be after startTime"));
            }
        }
        Ok(SearchParams { query })
    }

    pub fn query(&self, contact_center: &str) -> SearchQuery {
        SearchQuery {
            contact_center: contact_center.to_owned(),
            ..self.query.clone()
        }
    }

    /// The same search with another cursor (none: the first page).
    pub fn link(
        &self,
        path: &str,
        parameters: &[(String, String)],
        cursor: Option<&str>,
    ) -> String {
        let mut kept: Vec<(&str, &str)> = parameters
            .iter()
            .filter(|(name, _)| name != CURSOR)
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        if let Some(cursor) = cursor {
            kept.push((CURSOR, cursor));
        }
        let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
        format!("{path}?{query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<SearchParams, ApiError> {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        SearchParams::parse(&owned)
    }

    #[test]
    fn parameters_become_a_query() {
        let params = parse(&[
            ("startTime", "2015-06-15T00:00:00Z"),
            ("endTime", "1434412800000"),
            ("callType", "inbound"),
            ("userName", "Bob@X"),
            ("limit", "5"),
        ])
        .unwrap();
        let query = params.query("cc");
        assert_eq!(
            (query.from, query.to),
            (Some(1_434_326_400_000), Some(1_434_412_800_000))
        );
        assert_eq!(query.call_type.as_deref(), Some("Inbound"));
        assert_eq!(query.terms, [(AGENT, "bob@x".to_owned())]);
        assert_eq!(query.limit, 5);
    }

    #[test]
    fn bad_parameters_are_named() {
        for (pairs, name) in [
            (vec![("limit", "0")], "limit"),
            (vec![("limit", "1001")], "limit"),
            (vec![("startTime", "yesterday")], "startTime"),
            (vec![("cursor", "!!")], "cursor"),
            (vec![("callType", "Sideways")], "callType"),
            (vec![("colour", "red")], "colour"),
            (vec![("startTime", "2000"), ("endTime", "1000")], "endTime"),
        ] {
            let error = parse(&pairs).unwrap_err();
            assert!(
                matches!(&error, ApiError::InvalidValue(m) if m.starts_with(name)),
                "{pairs:?}: {error:?}"
            );
        }
    }

    #[test]
    fn cursors_round_trip_and_links_replace_the_cursor() {
        let text = cursor_text(true, 42, "a:b");
        assert_eq!(
            parse_cursor(&text),
            Some(Cursor {
                direction: Direction::Older,
                start_ms: 42,
                id: "a:b".into()
            })
        );
        let params = parse(&[]).unwrap();
        let parameters = vec![
            ("region".to_owned(), "West & East".to_owned()),
            ("cursor".to_owned(), "old".to_owned()),
        ];
        assert_eq!(
            params.link("/api/v2/recordings", &parameters, Some("new")),
            "/api/v2/recordings?region=West+%26+East&cursor=new"
        );
    }
}
