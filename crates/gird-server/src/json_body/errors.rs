//! A deserialization fault, in the words of the ops API: serde's messages come in a few
//! fixed forms (`missing field`, `unknown field`, `invalid type`, and a type's own
//! refusal); each is reworded around the JSON path of the value at fault.

use serde_json::Value;
use serde_path_to_error::{Path, Segment};

use super::RequestBody;
use crate::error::ApiError;

pub fn describe<T: RequestBody>(path: &Path, error: &serde_json::Error, body: &Value) -> ApiError {
    let at = json_path(path);
    let message = error.to_string();
    if let Some(field) = quoted_after(&message, "missing field ") {
        return ApiError::MissingField(format!("{}: is required", joined(&at, field)));
    }
    if let Some(field) = quoted_after(&message, "unknown field ") {
        // The path already ends at the unknown key.
        let fields = message
            .split_once(", expected ")
            .map(|(_, expected)| known_fields(expected))
            .unwrap_or_default();
        return ApiError::InvalidValue(format!(
            "{}: is not {} ({fields})",
            if at.is_empty() { field } else { &at },
            T::SETTING
        ));
    }
    if let Some((_, expected)) = message
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.rsplit_once(", expected "))
    {
        let what = T::EXPECTED
            .iter()
            .find(|(field, _)| *field == at)
            .map_or_else(|| json_wording(expected), |(_, what)| what);
        let got = value_at(body, path)
            .map(|value| format!(", got {}", gird_model::json_type(value)))
            .unwrap_or_default();
        return ApiError::InvalidValue(format!("{}expected {what}{got}", prefix(&at)));
    }
    // A type's own refusal (an id, a URL, a name): its message says why.
    ApiError::InvalidValue(format!("{}{message}", prefix(&at)))
}

/// `buckets[1]`, `a.b`: the path as the Insertion API's violations write it ("" at the top).
fn json_path(path: &Path) -> String {
    let mut text = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => text.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(key);
            }
            Segment::Unknown => text.push('?'),
        }
    }
    text
}

fn joined(at: &str, field: &str) -> String {
    if at.is_empty() {
        field.to_owned()
    } else {
        format!("{at}.{field}")
    }
}

fn prefix(at: &str) -> String {
    if at.is_empty() {
        String::new()
    } else {
        format!("{at}: ")
    }
}

/// `x` of ``<lead>`x`...``.
fn quoted_after<'a>(message: &'a str, lead: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(lead)?.strip_prefix('`')?;
    rest.split_once('`').map(|(quoted, _)| quoted)
}

/// The names quoted in ``one of `a`, `b`, `c` ``, `` `a` or `b` `` or `` `a` ``: `a, b, c`.
fn known_fields(expected: &str) -> String {
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .collect::<Vec<_>>()
        .join(", ")
}

/// serde's name of what it expected, in JSON's words.
fn json_wording(expected: &str) -> &str {
    match expected {
        "a boolean" => "true or false",
        "a sequence" => "an array",
        "a map" => "an object",
        other if other.starts_with("struct ") => "an object",
        other => other,
    }
}

/// The value at `path` in the body (`None` where the path leaves it).
fn value_at<'a>(body: &'a Value, path: &Path) -> Option<&'a Value> {
    path.iter().try_fold(body, |value, segment| match segment {
        Segment::Map { key } => value.get(key),
        Segment::Seq { index } => value.get(index),
        Segment::Enum { .. } | Segment::Unknown => None,
    })
}
