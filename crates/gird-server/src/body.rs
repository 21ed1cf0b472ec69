//! Reading JSON request bodies: content type, size limit, UTF-8 and syntax, each with
//! its own clear error. The Insertion API validates the object as a record; the ops API
//! reads it into a DTO (`crate::json_body`).

use axum::body::Body;
use axum::http::{header, HeaderMap};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// `application/json`, with or without parameters such as `charset=utf-8`.
fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

/// Reads the whole body, refusing more than `limit` bytes without reading them all.
async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<bytes::Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::PayloadTooLarge(limit))
        }
        Err(error) => Err(ApiError::InvalidState(format!(
            "cannot read the request body: {error}"
        ))),
    }
}

/// Parses a JSON object, with line and column on syntax errors.
fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if let Err(error) = std::str::from_utf8(bytes) {
        return Err(ApiError::InvalidState(format!(
            "the body is not UTF-8 (invalid byte at offset {})",
            error.valid_up_to()
        )));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(ApiError::InvalidState(format!(
            "the body must be a JSON object, got {}",
            gird_model::json_type(&other)
        ))),
        Err(error) => Err(ApiError::InvalidState(format!(
            "malformed JSON at line {} column {}: {}",
            error.line(),
            error.column(),
            strip_position(&error.to_string())
        ))),
    }
}

fn strip_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

/// All of the above: the body's JSON object.
pub async fn json_object(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Map<String, Value>, ApiError> {
    require_json(headers)?;
    let bytes = read_limited(headers, body, limit).await?;
    parse_object(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_give_line_and_column() {
        let error = parse_object(b"{\n  \"id\": ,\n}").unwrap_err();
        let ApiError::InvalidState(message) = error else {
            panic!("{error:?}")
        };
        assert!(
            message.starts_with("malformed JSON at line 2 column 9: expected value"),
            "{message}"
        );
    }

    #[test]
    fn non_objects_and_non_utf8_are_refused() {
        assert!(
            matches!(parse_object(b"[1]"), Err(ApiError::InvalidState(m)) if m.contains("an array"))
        );
        assert!(
            matches!(parse_object(b"{\"a\":\"\xff\"}"), Err(ApiError::InvalidState(m)) if m.contains("UTF-8"))
        );
        let deep = "[".repeat(100_000);
        assert!(
            matches!(parse_object(deep.as_bytes()), Err(ApiError::InvalidState(m)) if m.contains("recursion"))
        );
    }
}
