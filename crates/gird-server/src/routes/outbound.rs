//! The ops API for a contact center's outbound allow-list: the origins, beside its
//! storage and its SpeechMiner receiver, that gird may request for it (see `egress`).

use axum::extract::State;
use axum::Json;
use gird_model::ContactCenterId;
use gird_store::Removal;
use serde_json::{json, Value};

use crate::egress::allow_list;
use crate::error::{success, ApiError};
use crate::json_body::JsonBody;
use crate::requests::OutboundBody;
use crate::scope::FoundContactCenter;
use crate::state::AppState;
use crate::store_answers::SettingsWrite;

/// Replaces the allow-list with the body's `origins`.
pub async fn put(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
    JsonBody(request): JsonBody<OutboundBody>,
) -> Result<Json<Value>, ApiError> {
    let origins = allow_list::check(&request.origins).map_err(ApiError::InvalidValue)?;
    let written = app
        .store
        .put_outbound_origins(id.as_str(), &allow_list::texts(&origins))
        .await?;
    SettingsWrite::from_store(written).or_unknown(&id)?;
    Ok(success())
}

fn no_allow_list(id: &ContactCenterId) -> ApiError {
    ApiError::NotFound(format!("contact center {id:?} has no outbound allow-list"))
}

pub async fn get(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
) -> Result<Json<Value>, ApiError> {
    let origins = app
        .store
        .outbound_origins(id.as_str())
        .await?
        .ok_or_else(|| no_allow_list(&id))?;
    Ok(Json(
        json!({"statusCode": 0, "outbound": {"origins": origins}}),
    ))
}

pub async fn delete(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
) -> Result<Json<Value>, ApiError> {
    match app.store.delete_outbound_origins(id.as_str()).await? {
        Removal::Removed => Ok(success()),
        _ => Err(no_allow_list(&id)),
    }
}
