//! `POST .../speechminer/repost`: the request's meaning and the queuing are
//! `crate::service::repost`'s (shared with `gird repost`); here, their errors in the
//! words of the request body.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::json_body::JsonBody;
use crate::requests::RepostBody;
use crate::scope::FoundContactCenter;
use crate::service::repost::{self, AskError, QueueError, RepostAsk};
use crate::state::AppState;

pub async fn repost(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
    JsonBody(body): JsonBody<RepostBody>,
) -> Result<Json<Value>, ApiError> {
    let request = RepostAsk::from(body).decide().map_err(refusal)?;
    let queued = repost::queue(app.store.as_ref(), &id, request).await?;
    Ok(Json(json!({"statusCode": 0, "queued": queued})))
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
