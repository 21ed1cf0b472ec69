//! `GET /api/v2/ops/contact-centers/{id}/recordings/{recording}/access`: who read, played,
//! held or deleted a recording, newest first (the ops user's alone).

use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::scope::RecordingScope;
use crate::state::AppState;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 10_000;

pub async fn history(
    State(app): State<AppState>,
    scope: RecordingScope,
    Query(parameters): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let limit = match parameters.iter().find(|(name, _)| name == "limit") {
        None => DEFAULT_LIMIT,
        Some((_, text)) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::InvalidValue(format!(
                    "limit: {text:?} is not a number from 1 to {MAX_LIMIT}"
                ))
            })?,
    };
    let (cc, id) = (scope.contact_center.as_str(), scope.recording.as_str());
    let entries = app.store.access_history(cc, id, limit).await?;
    let access: Vec<Value> = entries
        .iter()
        .map(|entry| {
            json!({
                "at": gird_model::datetime::format_millis(entry.at_ms),
                "user": entry.user,
                "address": entry.address,
                "action": entry.action,
                "detail": entry.detail,
            })
        })
        .collect();
    Ok(Json(json!({"statusCode": 0, "access": access})))
}
