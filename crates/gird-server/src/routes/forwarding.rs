//! The ops API for forwarding to SpeechMiner: a contact center's receiver, its outbox,
//! and reposting.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use gird_model::datetime::{format_millis, now_millis};
use gird_model::ContactCenterId;
use gird_store::{DeliveryRecord, OutboxStatus, ReceiverSettings, Removal};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::body::{json_object, optional_text};
use crate::error::{success, ApiError};
use crate::service::repost::{self, AskError, QueueError, RepostAsk};
use crate::state::AppState;
use crate::urls::check_service_url;

pub async fn put(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    app.contact_center(&id).await?;
    let request = json_object(&headers, body, app.body_limit).await?;
    let url = optional_text(&request, "url")?
        .ok_or_else(|| ApiError::MissingField("url: is required".into()))?;
    check_service_url("url", &url).map_err(ApiError::InvalidValue)?;
    let enabled = match request.get("enabled") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(enabled)) => *enabled,
        Some(_) => {
            return Err(ApiError::InvalidValue(
                "enabled: expected true or false".into(),
            ))
        }
    };
    let settings = ReceiverSettings {
        url,
        username: optional_text(&request, "username")?,
        sealed_password: optional_text(&request, "password")?
            .map(|password| app.sealer.seal(&password)),
        enabled,
    };
    if !app.store.put_receiver(&id, settings).await? {
        return Err(ApiError::NotFound(format!(
            "contact center {id:?} does not exist"
        )));
    }
    Ok(success())
}

fn no_receiver(id: &str) -> ApiError {
    ApiError::NotFound(format!("contact center {id:?} has no SpeechMiner receiver"))
}

pub async fn get(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    app.contact_center(&id).await?;
    let receiver = app
        .store
        .receiver(&id)
        .await?
        .ok_or_else(|| no_receiver(&id))?;
    Ok(Json(json!({
        "statusCode": 0,
        "speechMiner": {
            "url": receiver.url,
            "username": receiver.username,
            "passwordSet": receiver.sealed_password.is_some(),
            "enabled": receiver.enabled,
        }
    })))
}

pub async fn delete(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    app.contact_center(&id).await?;
    match app.store.delete_receiver(&id).await? {
        Removal::Removed => Ok(success()),
        _ => Err(no_receiver(&id)),
    }
}

/// The queue's counts as the API and `gird outbox status` show them.
pub fn outbox_status_json(status: &OutboxStatus, now_ms: i64) -> Value {
    json!({
        "queued": status.queued,
        "retrying": status.retrying,
        "inFlight": status.in_flight,
        "failed": status.failed,
        "delivered": status.delivered,
        "oldestPendingAgeSeconds": status
            .oldest_pending_ms
            .map(|queued| (now_ms - queued).max(0) / 1000),
    })
}

pub fn delivery_json(record: &DeliveryRecord) -> Value {
    json!({
        "recordingId": record.recording_id,
        "state": record.state.name(),
        "attempts": record.attempts,
        "lastError": record.last_error,
        "queuedAt": format_millis(record.queued_ms),
        "updatedAt": format_millis(record.updated_ms),
    })
}

#[derive(Deserialize)]
pub struct OutboxQuery {
    limit: Option<usize>,
}

/// Counts for every contact center.
pub async fn all_outboxes(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    let status = app.store.outbox_status(None).await?;
    Ok(Json(json!({
        "statusCode": 0,
        "outbox": outbox_status_json(&status, now_millis()),
    })))
}

/// Counts for one contact center, and its oldest dead letters with their last error.
pub async fn outbox(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<OutboxQuery>,
) -> Result<Json<Value>, ApiError> {
    app.contact_center(&id).await?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let status = app.store.outbox_status(Some(&id)).await?;
    let dead = app.store.dead_letters(&id, limit).await?;
    Ok(Json(json!({
        "statusCode": 0,
        "outbox": outbox_status_json(&status, now_millis()),
        "deadLetters": dead.iter().map(delivery_json).collect::<Vec<_>>(),
    })))
}

/// The latest delivery of one recording.
pub async fn recording_delivery(
    State(app): State<AppState>,
    Path((id, recording)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    app.contact_center(&id).await?;
    let latest = app.store.latest_delivery(&id, &recording).await?;
    Ok(Json(json!({
        "statusCode": 0,
        "delivery": latest.as_ref().map(delivery_json),
    })))
}

/// What a repost body asks: the repost's meaning and its queuing are
/// `crate::service::repost`'s, shared with `gird repost`.
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

pub async fn repost(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    app.contact_center(&id).await?;
    let id = ContactCenterId::stored(id);
    let request = json_object(&headers, body, app.body_limit).await?;
    let request = repost_ask(&request)?.decide().map_err(refusal)?;
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
