//! The ops API for a contact center's SpeechMiner receiver.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use gird_model::ContactCenterId;
use gird_store::{ReceiverSettings, Removal};
use serde_json::{json, Value};

use crate::body::{json_object, optional_text};
use crate::error::{success, ApiError};
use crate::scope::FoundContactCenter;
use crate::state::AppState;
use crate::store_answers::SettingsWrite;
use crate::urls::check_service_url;

pub async fn put(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
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
