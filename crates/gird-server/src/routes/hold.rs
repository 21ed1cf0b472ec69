//! `POST .../recordings/{recording}` `{"operationName": ...}`: the legal hold.

use axum::extract::State;
use axum::Extension;
use axum::Json;
use serde_json::Value;

use crate::audit::Actor;
use crate::error::{success, ApiError};
use crate::json_body::JsonBody;
use crate::requests::HoldBody;
use crate::scope::RecordingScope;
use crate::service::hold;
use crate::state::AppState;

pub async fn operation(
    State(app): State<AppState>,
    actor: Option<Extension<Actor>>,
    scope: RecordingScope,
    JsonBody(body): JsonBody<HoldBody>,
) -> Result<Json<Value>, ApiError> {
    let (cc, id) = (&scope.contact_center, &scope.recording);
    hold::change(&app, actor.as_deref(), cc, id, body.operation_name).await?;
    Ok(success())
}
