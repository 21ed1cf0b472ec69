//! The ops API's views of the SpeechMiner outbox: counts, dead letters, and one
//! recording's latest delivery.

use axum::extract::{Path, Query, State};
use axum::Json;
use gird_model::datetime::{format_millis, now_millis};
use gird_model::RecordingId;
use gird_store::{DeliveryRecord, OutboxStatus};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::scope::FoundContactCenter;
use crate::state::AppState;

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
    FoundContactCenter { id, .. }: FoundContactCenter,
    Query(query): Query<OutboxQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let status = app.store.outbox_status(Some(id.as_str())).await?;
    let dead = app.store.dead_letters(id.as_str(), limit).await?;
    Ok(Json(json!({
        "statusCode": 0,
        "outbox": outbox_status_json(&status, now_millis()),
        "deadLetters": dead.iter().map(delivery_json).collect::<Vec<_>>(),
    })))
}

/// The `{recording}` of `.../deliveries/{recording}`.
#[derive(Deserialize)]
pub struct DeliveryPath {
    recording: String,
}

/// The latest delivery of one recording (`null` when it has none).
pub async fn recording_delivery(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
    Path(DeliveryPath { recording }): Path<DeliveryPath>,
) -> Result<Json<Value>, ApiError> {
    // An id outside the record's rule names no recording, so it has no delivery either.
    let latest = match RecordingId::parse(recording) {
        Ok(recording) => {
            app.store
                .latest_delivery(id.as_str(), recording.as_str())
                .await?
        }
        Err(_) => None,
    };
    Ok(Json(json!({
        "statusCode": 0,
        "delivery": latest.as_ref().map(delivery_json),
    })))
}
