//! The ops API for a contact center's SpeechMiner receiver.

use axum::extract::State;
use axum::Json;
use gird_model::ContactCenterId;
use gird_store::{ReceiverSettings, Removal};
use serde_json::{json, Value};

use crate::error::{success, ApiError};
use crate::json_body::JsonBody;
use crate::requests::Receiver;
use crate::scope::FoundContactCenter;
use crate::state::AppState;
use crate::store_answers::SettingsWrite;

pub async fn put(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
    JsonBody(request): JsonBody<Receiver>,
) -> Result<Json<Value>, ApiError> {
    let settings = ReceiverSettings {
        url: request.url.into_string(),
        username: request.username,
        sealed_password: request
            .password
            .map(|password| app.sealer.seal(password.expose())),
        enabled: request.enabled.unwrap_or(true),
    };
    let written = app.store.put_receiver(id.as_str(), settings).await?;
    SettingsWrite::from_store(written).or_unknown(&id)?;
    Ok(success())
}

fn no_receiver(id: &ContactCenterId) -> ApiError {
    ApiError::NotFound(format!("contact center {id:?} has no SpeechMiner receiver"))
}

pub async fn get(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
) -> Result<Json<Value>, ApiError> {
    let receiver = app
        .store
        .receiver(id.as_str())
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
    FoundContactCenter { id, .. }: FoundContactCenter,
) -> Result<Json<Value>, ApiError> {
    match app.store.delete_receiver(id.as_str()).await? {
        Removal::Removed => Ok(success()),
        _ => Err(no_receiver(&id)),
    }
}
