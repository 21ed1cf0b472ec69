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

/// How a phone pattern (`*` = any run of characters) is answered. Only the reversed key
/// is indexed: exact numbers and leading wildcards (`*0000`, the common "last digits"
/// search) use it; other patterns filter the forward key while scanning newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneMatch {
    /// No letters or digits at all: matches every number.
    Any,
    /// The reversed key equals this.
    Exact(String),
    /// Reversed keys from `start` up to (excluding) `end`; `glob` further filters the
    /// forward key when the pattern has a `*` in the middle.
    Suffix {
        start: String,
        end: String,
        glob: Option<String>,
    },
    /// The forward key must match `glob` (`1416*`, `*416*`).
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
        return PhoneMatch::Exact(reversed(&glob));
    }
    let trailing = glob.rsplit('*').next().unwrap_or_default();
    if trailing.is_empty() {
        return PhoneMatch::Glob(glob);
    }
    let start = reversed(trailing);
    let only_leading_star = glob.strip_prefix('*') == Some(trailing);
    PhoneMatch::Suffix {
        end: prefix_end(&start),
        start,
        glob: (!only_leading_star).then_some(glob),
    }
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
    for agent in recording.user_names() {
        add(AGENT, Some(&agent), false);
    }
    for media_file in &recording.media_files {
        let json = &media_file.json;
        add(CALL_UUID, json["callUUID"].as_str(), false);
        for (kind, field) in [(PARTITION, "partitions"), (ACCESS_GROUP, "accessgroups")] {
            for value in json[field].as_array().into_iter().flatten() {
                add(kind, value.as_str(), false);
            }
        }
    }
    for event in &recording.events {
        add(CALL_UUID, event.json["calluuid"].as_str(), false);
    }
    terms.extend(crate::access::visibility_terms(recording));
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suffix(start: &str, end: &str, glob: Option<&str>) -> PhoneMatch {
        PhoneMatch::Suffix {
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
            PhoneMatch::Exact("43210006141".into())
        );
        assert_eq!(phone_match("*1234"), suffix("4321", "4322", None));
        assert_eq!(phone_match("*12*34"), suffix("43", "44", Some("*12*34")));
        assert_eq!(phone_match("1*9"), suffix("9", ":", Some("1*9")));
        assert_eq!(phone_match("1416*"), PhoneMatch::Glob("1416*".into()));
        assert_eq!(phone_match("*416*"), PhoneMatch::Glob("*416*".into()));
        assert_eq!(phone_match("**"), PhoneMatch::Any);
        assert_eq!(phone_match("*zba"), suffix("abz", "ab{", None));
    }
}
