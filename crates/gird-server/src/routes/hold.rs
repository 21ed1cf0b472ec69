//! `POST .../recordings/{recording}` `{"operationName": ...}`: the legal hold.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Extension;
use axum::Json;
use serde_json::Value;

use crate::audit::Actor;
use crate::body::json_object;
use crate::error::{success, ApiError};
use crate::scope::RecordingScope;
use crate::service::hold::{self, HoldOperation};
use crate::state::AppState;

pub async fn operation(
    State(app): State<AppState>,
    actor: Option<Extension<Actor>>,
    scope: RecordingScope,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let request = json_object(&headers, body, app.body_limit).await?;
    let operation = match request.get("operationName").filter(|v| !v.is_null()) {
        None => return Err(ApiError::MissingField("operationName: is required".into())),
        Some(Value::String(name)) => HoldOperation::try_from(name.clone())
            .map_err(|why| ApiError::InvalidValue(format!("operationName: {why}")))?,
        Some(other) => {
            return Err(ApiError::InvalidValue(format!(
                "operationName: {other} is not applyNonDelete or removeNonDelete"
            )))
        }
    };
    let (cc, id) = (&scope.contact_center, &scope.recording);
    hold::change(&app, actor.as_deref(), cc, id, operation).await?;
    Ok(success())
}
