//! `POST .../recordings/{recording}` `{"operationName": ...}`: the legal hold.

use axum::extract::State;
use axum::Extension;
use axum::Json;
use serde_json::Value;

use crate::access::{admit, Principal};
use crate::audit::Actor;
use crate::error::{success, ApiError};
use crate::json_body::JsonBody;
use crate::requests::HoldBody;
use crate::scope::RecordingScope;
use crate::service::hold::{self, HoldOperation};
use crate::state::AppState;
use gird_model::access::Operation;

pub async fn operation(
    State(app): State<AppState>,
    principal: Principal,
    actor: Option<Extension<Actor>>,
    scope: RecordingScope,
    JsonBody(body): JsonBody<HoldBody>,
) -> Result<Json<Value>, ApiError> {
    let (cc, id) = (&scope.contact_center, &scope.recording);
    let operation = match body.operation_name {
        HoldOperation::Apply => Operation::ApplyHold,
        HoldOperation::Remove => Operation::RemoveHold,
    };
    admit(&*app.store, &principal, cc, id.as_str(), operation).await?;
    hold::change(&app, actor.as_deref(), cc, id, body.operation_name).await?;
    Ok(success())
}
