//! The one error type of the HTTP layer, mapped once to the GIR envelope
//! `{"statusCode": N, "statusMessage": "..."}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gird_model::Violations;
use gird_store::StoreError;
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// statusCode 1: a required field is missing.
    MissingField(String),
    /// statusCode 2: malformed JSON, body not UTF-8.
    InvalidState(String),
    /// statusCode 2, HTTP 413.
    PayloadTooLarge(usize),
    /// statusCode 2, HTTP 415.
    UnsupportedMediaType,
    /// statusCode 2, HTTP 405.
    MethodNotAllowed,
    /// statusCode 3: feature not enabled, CSRF.
    Forbidden(String),
    /// statusCode 4, HTTP 500: details are logged, never sent.
    Internal,
    /// statusCode 4, HTTP 503 with Retry-After: storage unavailable.
    Unavailable,
    /// statusCode 4, HTTP 503 with Retry-After: the request took longer than allowed.
    TooSlow(String),
    /// statusCode 4, HTTP 502: WebDAV failed or refused.
    BadGateway(String),
    /// statusCode 4, HTTP 504: WebDAV did not answer in time.
    GatewayTimeout(String),
    /// statusCode 10, HTTP 416, with the storage's `Content-Range: bytes */<size>` when it
    /// gave one.
    RangeNotSatisfiable(Option<String>),
    /// statusCode 5, HTTP 403: none of the signed-in user's roles allows the operation.
    InsufficientRoles,
    /// statusCode 3, HTTP 403: the user's role allows the operation on recordings, but a
    /// recording permission it needs is missing.
    InsufficientPermissions,
    /// statusCode 4, HTTP 503 with Retry-After: the directory (LDAP) that signs the user
    /// in cannot be reached.
    DirectoryUnavailable(String),
    /// statusCode 5, HTTP 403: the outbound request a record asks for goes where the
    /// contact center does not allow (the message names the origin, never the URL).
    Refused(String),
    /// statusCode 6.
    NotFound(String),
    /// statusCode 10: a value of the wrong type or out of range.
    InvalidValue(String),
    /// statusCode 10, HTTP 422: an encrypted media file cannot be decrypted (a damaged
    /// envelope or ciphertext, bad padding, an unsupported algorithm, a key that does not
    /// open the envelope).
    Undecryptable(String),
    /// statusCode 18.
    AlreadyExists(String),
    /// statusCode 20.
    Unauthenticated,
    /// statusCode 20, HTTP 429 with Retry-After: too many failed sign-ins from the
    /// client's address; nothing was verified.
    TooManyAttempts(std::time::Duration),
}

pub const CSRF_MESSAGE: &str = "Missing or invalid Csrf token";

/// 404/6 for a contact center that does not exist (or that a user may not name).
pub fn unknown_contact_center(id: &str) -> ApiError {
    ApiError::NotFound(format!("contact center {id:?} does not exist"))
}

/// 404/6 for a recording that does not exist, or that the principal may not see: the
/// same words, so a refusal never tells that a recording exists.
pub fn unknown_recording(id: &str, contact_center: &gird_model::ContactCenterId) -> ApiError {
    ApiError::NotFound(format!(
        "recording {id:?} does not exist in contact center {contact_center:?}"
    ))
}

impl ApiError {
    pub fn status(&self) -> (StatusCode, u32) {
        match self {
            ApiError::MissingField(_) => (StatusCode::BAD_REQUEST, 1),
            ApiError::InvalidState(_) => (StatusCode::BAD_REQUEST, 2),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, 2),
            ApiError::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, 2),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, 2),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, 3),
            ApiError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, 4),
            ApiError::Unavailable | ApiError::TooSlow(_) => (StatusCode::SERVICE_UNAVAILABLE, 4),
            ApiError::BadGateway(_) => (StatusCode::BAD_GATEWAY, 4),
            ApiError::GatewayTimeout(_) => (StatusCode::GATEWAY_TIMEOUT, 4),
            ApiError::RangeNotSatisfiable(_) => (StatusCode::RANGE_NOT_SATISFIABLE, 10),
            ApiError::InsufficientRoles | ApiError::Refused(_) => (StatusCode::FORBIDDEN, 5),
            ApiError::InsufficientPermissions => (StatusCode::FORBIDDEN, 3),
            ApiError::DirectoryUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, 4),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, 6),
            ApiError::InvalidValue(_) => (StatusCode::BAD_REQUEST, 10),
            ApiError::Undecryptable(_) => (StatusCode::UNPROCESSABLE_ENTITY, 10),
            ApiError::AlreadyExists(_) => (StatusCode::CONFLICT, 18),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, 20),
            ApiError::TooManyAttempts(_) => (StatusCode::TOO_MANY_REQUESTS, 20),
        }
    }

    pub fn message(&self) -> String {
        match self {
            ApiError::MissingField(text)
            | ApiError::InvalidState(text)
            | ApiError::Forbidden(text)
            | ApiError::NotFound(text)
            | ApiError::InvalidValue(text)
            | ApiError::Undecryptable(text)
            | ApiError::AlreadyExists(text)
            | ApiError::BadGateway(text)
            | ApiError::Refused(text)
            | ApiError::GatewayTimeout(text)
            | ApiError::DirectoryUnavailable(text)
            | ApiError::TooSlow(text) => text.clone(),
            ApiError::RangeNotSatisfiable(_) => "the requested range cannot be satisfied".into(),
            ApiError::PayloadTooLarge(limit) => {
                format!("the body is larger than the limit of {limit} bytes")
            }
            ApiError::UnsupportedMediaType => "Content-Type must be application/json".into(),
            ApiError::MethodNotAllowed => "method not allowed on this path".into(),
            ApiError::Internal => "internal error".into(),
            ApiError::Unavailable => "storage is unavailable, retry later".into(),
            ApiError::InsufficientRoles => "Insufficient user roles.".into(),
            ApiError::InsufficientPermissions => "Insufficient recording permissions.".into(),
            ApiError::Unauthenticated => "authentication required".into(),
            ApiError::TooManyAttempts(wait) => format!(
                "too many failed sign-ins from this address; retry in {} s",
                retry_seconds(*wait)
            ),
        }
    }
}

impl ApiError {
    /// The same error with `more` added to its message (errors without a message of their
    /// own keep theirs).
    pub fn context(self, more: &str) -> ApiError {
        let add = |text: String| format!("{text}; {more}");
        match self {
            ApiError::MissingField(text) => ApiError::MissingField(add(text)),
            ApiError::InvalidState(text) => ApiError::InvalidState(add(text)),
            ApiError::Forbidden(text) => ApiError::Forbidden(add(text)),
            ApiError::NotFound(text) => ApiError::NotFound(add(text)),
            ApiError::InvalidValue(text) => ApiError::InvalidValue(add(text)),
            ApiError::AlreadyExists(text) => ApiError::AlreadyExists(add(text)),
            ApiError::BadGateway(text) => ApiError::BadGateway(add(text)),
            ApiError::GatewayTimeout(text) => ApiError::GatewayTimeout(add(text)),
            ApiError::TooSlow(text) => ApiError::TooSlow(add(text)),
            other => other,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status();
        let body = Json(json!({"statusCode": code, "statusMessage": self.message()}));
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        match self {
            ApiError::Unauthenticated => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"gird\""),
                );
            }
            ApiError::Unavailable | ApiError::TooSlow(_) | ApiError::DirectoryUnavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::RangeNotSatisfiable(Some(range)) => {
                if let Ok(value) = HeaderValue::from_str(&range) {
                    headers.insert(header::CONTENT_RANGE, value);
                }
            }
            ApiError::TooManyAttempts(wait) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_seconds(wait)));
            }
            _ => {}
        }
        response
    }
}

impl From<Violations> for ApiError {
    fn from(violations: Violations) -> ApiError {
        if violations.any_missing() {
            ApiError::MissingField(violations.to_string())
        } else {
            ApiError::InvalidValue(violations.to_string())
        }
    }
}

impl From<crate::decrypt::DecryptError> for ApiError {
    fn from(error: crate::decrypt::DecryptError) -> ApiError {
        use crate::decrypt::DecryptError;
        metrics::counter!("gird_decryption_failures_total").increment(1);
        match error {
            DecryptError::NoKey(_) => ApiError::NotFound(error.to_string()),
            _ => ApiError::Undecryptable(error.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        tracing::error!(%error, "storage error");
        let kind = match &error {
            StoreError::Unavailable(_) => "unavailable",
            StoreError::Corrupt(_) => "corrupt",
        };
        metrics::counter!("gird_storage_errors_total", "kind" => kind).increment(1);
        match error {
            StoreError::Unavailable(_) => ApiError::Unavailable,
            StoreError::Corrupt(_) => ApiError::Internal,
        }
    }
}

/// Whole seconds to wait, at least 1.
fn retry_seconds(wait: std::time::Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// The success answer of the Insertion API and of simple ops calls.
pub fn success() -> Json<serde_json::Value> {
    Json(json!({"statusCode": 0}))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented status of each error (docs/API.md "Errors"). The `match` has no
    /// catch-all: a new variant does not compile until it is given its status here, and
    /// [`one_of_each`] must then name it too.
    fn documented(error: &ApiError) -> (u16, u32) {
        match error {
            ApiError::MissingField(_) => (400, 1),
            ApiError::InvalidState(_) => (400, 2),
            ApiError::PayloadTooLarge(_) => (413, 2),
            ApiError::UnsupportedMediaType => (415, 2),
            ApiError::MethodNotAllowed => (405, 2),
            ApiError::Forbidden(_) => (403, 3),
            ApiError::Internal => (500, 4),
            ApiError::Unavailable => (503, 4),
            ApiError::TooSlow(_) => (503, 4),
            ApiError::BadGateway(_) => (502, 4),
            ApiError::GatewayTimeout(_) => (504, 4),
            ApiError::RangeNotSatisfiable(_) => (416, 10),
            ApiError::InsufficientRoles => (403, 5),
            ApiError::InsufficientPermissions => (403, 3),
            ApiError::DirectoryUnavailable(_) => (503, 4),
            ApiError::Refused(_) => (403, 5),
            ApiError::NotFound(_) => (404, 6),
            ApiError::InvalidValue(_) => (400, 10),
            ApiError::Undecryptable(_) => (422, 10),
            ApiError::AlreadyExists(_) => (409, 18),
            ApiError::Unauthenticated => (401, 20),
            ApiError::TooManyAttempts(_) => (429, 20),
        }
    }

    fn one_of_each() -> Vec<ApiError> {
        let text = || "x".to_owned();
        vec![
            ApiError::MissingField(text()),
            ApiError::InvalidState(text()),
            ApiError::PayloadTooLarge(1),
            ApiError::UnsupportedMediaType,
            ApiError::MethodNotAllowed,
            ApiError::Forbidden(text()),
            ApiError::Internal,
            ApiError::Unavailable,
            ApiError::TooSlow(text()),
            ApiError::BadGateway(text()),
            ApiError::GatewayTimeout(text()),
            ApiError::RangeNotSatisfiable(Some("bytes */10".into())),
            ApiError::InsufficientRoles,
            ApiError::InsufficientPermissions,
            ApiError::DirectoryUnavailable(text()),
            ApiError::Refused(text()),
            ApiError::NotFound(text()),
            ApiError::InvalidValue(text()),
            ApiError::Undecryptable(text()),
            ApiError::AlreadyExists(text()),
            ApiError::Unauthenticated,
            ApiError::TooManyAttempts(std::time::Duration::from_millis(1500)),
        ]
    }

    #[test]
    fn every_variant_has_its_http_status_and_status_code() {
        let all = one_of_each();
        let kinds: std::collections::HashSet<_> = all.iter().map(std::mem::discriminant).collect();
        assert_eq!(kinds.len(), all.len(), "one of each, each once");
        for error in all {
            let (http, code) = documented(&error);
            let (status, status_code) = error.status();
            assert_eq!((status.as_u16(), status_code), (http, code), "{error:?}");
            let response = error.clone().into_response();
            assert_eq!(response.status().as_u16(), http);
            let retry_after = response.headers().get(header::RETRY_AFTER).is_some();
            let should_retry = matches!(
                error,
                ApiError::Unavailable
                    | ApiError::TooSlow(_)
                    | ApiError::TooManyAttempts(_)
                    | ApiError::DirectoryUnavailable(_)
            );
            assert_eq!(retry_after, should_retry, "{error:?}: Retry-After");
        }
    }

    #[test]
    fn storage_details_are_not_sent_to_clients() {
        let error = ApiError::from(StoreError::Unavailable("disk /secret/path is full".into()));
        assert_eq!(error, ApiError::Unavailable);
        assert!(!error.message().contains("secret"));
        let response = error.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }
}
