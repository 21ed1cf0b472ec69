//! `POST .../speechminer/repost`: the request's meaning and the queuing are
//! `crate::service::repost`'s (shared with `gird repost`); here, their errors in the
//! words of the request body.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Map, Value};

use crate::body::{json_object, optional_text};
use crate::error::ApiError;
use crate::scope::FoundContactCenter;
use crate::service::repost::{self, AskError, QueueError, RepostAsk};
use crate::state::AppState;

pub async fn repost(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let request = json_object(&headers, body, app.body_limit).await?;
    let request = repost_ask(&request)?.decide().map_err(refusal)?;
    let queued = repost::queue(app.store.as_ref(), &id, request).await?;
    Ok(Json(json!({"statusCode": 0, "queued": queued})))
}

/// What a repost body asks.
fn repost_ask(request: &Map<String, Value>) -> Result<RepostAsk, ApiError> {
    let dead_letters = match request.get("deadLetters") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => return Err(ApiError::InvalidValue("deadLetters: expected true".into())),
    };
    Ok(RepostAsk {
        recording: optional_text(request, "recordingId")?,
        from: optional_text(request, "from")?,
        to: optional_text(request, "to")?,
        dead_letters,
    })
}

fn refusal(error: AskError) -> ApiError {
    match error {
        AskError::NothingChosen => {
            ApiError::MissingField("recordingId, from/to or deadLetters: one is required".into())
        }
        AskError::SeveralChosen => {
            ApiError::InvalidValue("recordingId, from/to and deadLetters: give only one".into())
        }
        AskError::HalfRange => ApiError::MissingField("from, to: a time range needs both".into()),
        AskError::NotADatetime { end, text } => ApiError::InvalidValue(format!(
            "{}: {text:?} is not an ISO 8601 datetime",
            end.name()
        )),
        AskError::EmptyRange { from, to } => {
            ApiError::InvalidValue(format!("from: {from:?} must be before to: {to:?}"))
        }
    }
}

impl From<QueueError> for ApiError {
    fn from(error: QueueError) -> ApiError {
        match error {
            QueueError::Store(error) => error.into(),
            QueueError::ForwardingDisabled(_) => ApiError::Forbidden(error.to_string()),
            QueueError::NoContactCenter(_) | QueueError::NoRecording { .. } => {
                ApiError::NotFound(error.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::repost::RangeEnd;

    #[test]
    fn each_refusal_names_the_body_fields() {
        let cases = [
            (
                AskError::NothingChosen,
                1,
                "recordingId, from/to or deadLetters: one is required",
            ),
            (
                AskError::SeveralChosen,
                10,
                "recordingId, from/to and deadLetters: give only one",
            ),
            (AskError::HalfRange, 1, "from, to: a time range needs both"),
            (
                AskError::NotADatetime {
                    end: RangeEnd::To,
                    text: "noon".into(),
                },
                10,
                "to: \"noon\" is not an ISO 8601 datetime",
            ),
            (
                AskError::EmptyRange {
                    from: "b".into(),
                    to: "a".into(),
                },
                10,
                "from: \"b\" must be before to: \"a\"",
            ),
        ];
        for (error, status_code, message) in cases {
            let answer = refusal(error);
            assert_eq!(
                (answer.status().1, answer.message().as_str()),
                (status_code, message)
            );
        }
    }

    #[test]
    fn queue_errors_answer_404_or_403() {
        let id = gird_model::ContactCenterId::parse("acme").unwrap();
        let forbidden = ApiError::from(QueueError::ForwardingDisabled(id.clone()));
        assert_eq!(forbidden.status().1, 3);
        let missing = ApiError::from(QueueError::NoRecording {
            contact_center: id,
            recording: "r".into(),
        });
        assert_eq!(missing.status().1, 6);
        assert_eq!(
            ApiError::from(QueueError::NoContactCenter("x".into()))
                .status()
                .1,
            6
        );
    }
}
