//! What searches look for: normalized phone numbers, phone patterns, and the terms a
//! recording is found by (agents, call UUIDs, partitions, access groups).

use crate::record::Recording;

/// Term kinds, as stored in a search index.
pub const AGENT: &str = "agent";
pub const CALL_UUID: &str = "calluuid";
pub const PARTITION: &str = "partition";
pub const ACCESS_GROUP: &str = "accessgroup";

/// A phone number reduced to its letters and digits, lower case:
/// `+1 (416) 000-0000` → `14160000000`.
pub fn phone_key(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

pub fn reversed(key: &str) -> String {
    key.chars().rev().collect()
}

/// How a phone pattern (`*` = any run of characters) can be answered from the indexes of
/// the phone key and of its reverse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneMatch {
    /// No letters or digits at all: matches every number.
    Any,
    Exact(String),
    /// Keys from `start` up to (excluding) `end`, in the forward (`reversed == false`)
    /// or the reversed key; `glob` further filters the forward key when the pattern has
    /// a `*` in the middle.
    Range {
        reversed: bool,
        start: String,
        end: String,
        glob: Option<String>,
    },
    /// Only a scan can answer (`*416*`): the forward key must match `glob`.
    Glob(String),
}

/// The smallest string greater than every string that starts with `prefix` (whose
/// characters are ASCII letters and digits).
fn prefix_end(prefix: &str) -> String {
    let mut end = prefix.to_owned();
    if let Some(last) = end.pop() {
        end.push((last as u8 + 1) as char);
    }
    end
}

pub fn phone_match(pattern: &str) -> PhoneMatch {
    let mut glob = String::new();
    for c in pattern.chars() {
        if c == '*' {
            if !glob.ends_with('*') {
                glob.push('*');
            }
        } else if c.is_ascii_alphanumeric() {
            glob.push(c.to_ascii_lowercase());
        }
    }
    if glob.trim_matches('*').is_empty() {
        return PhoneMatch::Any;
    }
    if !glob.contains('*') {
        return PhoneMatch::Exact(glob);
    }
    let leading = glob.split('*').next().unwrap_or_default().to_owned();
    let trailing = glob.rsplit('*').next().unwrap_or_default().to_owned();
    let inner_star = glob.trim_matches('*').contains('*');
    let needs_glob = inner_star || (!leading.is_empty() && !trailing.is_empty());
    let filter = needs_glob.then(|| glob.clone());
    if !leading.is_empty() {
        return PhoneMatch::Range {
            reversed: false,
            end: prefix_end(&leading),
            start: leading,
            glob: filter,
        };
    }
    if !trailing.is_empty() {
        let start = reversed(&trailing);
        return PhoneMatch::Range {
            reversed: true,
            end: prefix_end(&start),
            start,
            glob: filter,
        };
    }
    PhoneMatch::Glob(glob)
}

/// The terms a recording is found by, each once: `(kind, value)`.
pub fn search_terms(recording: &Recording) -> Vec<(&'static str, String)> {
    let mut terms: Vec<(&'static str, String)> = Vec::new();
    let mut add = |kind: &'static str, value: Option<&str>, lower: bool| {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return;
        };
        let value = if lower {
            value.to_lowercase()
        } else {
            value.to_owned()
        };
        if !terms.iter().any(|(k, v)| *k == kind && *v == value) {
            terms.push((kind, value));
        }
    };
    for media_file in &recording.media_files {
        let json = &media_file.json;
        add(AGENT, json["parameters"]["username"].as_str(), true);
        add(CALL_UUID, json["callUUID"].as_str(), false);
        for (kind, field) in [(PARTITION, "partitions"), (ACCESS_GROUP, "accessgroups")] {
            for value in json[field].as_array().into_iter().flatten() {
                add(kind, value.as_str(), false);
            }
        }
    }
    for event in &recording.events {
        add(AGENT, event.json["contact"]["userName"].as_str(), true);
        add(CALL_UUID, event.json["calluuid"].as_str(), false);
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(reversed: bool, start: &str, end: &str, glob: Option<&str>) -> PhoneMatch {
        PhoneMatch::Range {
            reversed,
            start: start.into(),
            end: end.into(),
            glob: glob.map(Into::into),
        }
    }

    #[test]
    fn phone_keys_keep_letters_and_digits() {
        assert_eq!(phone_key("+1 (416) 000-0000"), "14160000000");
        assert_eq!(phone_key("SIP:Bob"), "sipbob");
    }

    #[test]
    fn patterns_pick_an_index() {
        assert_eq!(
            phone_match("+1 416 000 1234"),
            PhoneMatch::Exact("14160001234".into())
        );
        assert_eq!(phone_match("1416*"), range(false, "1416", "1417", None));
        assert_eq!(phone_match("*1234"), range(true, "4321", "4322", None));
        assert_eq!(
            phone_match("*12*34"),
            range(true, "43", "44", Some("*12*34"))
        );
        assert_eq!(phone_match("1*9"), range(false, "1", "2", Some("1*9")));
        assert_eq!(phone_match("*416*"), PhoneMatch::Glob("*416*".into()));
        assert_eq!(phone_match("**"), PhoneMatch::Any);
        assert_eq!(phone_match("abz*"), range(false, "abz", "ab{", None));
    }
}
