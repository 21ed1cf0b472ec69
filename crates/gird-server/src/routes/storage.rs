//! The ops API for a contact center's WebDAV storage and credentials.

use axum::extract::State;
use axum::Json;
use gird_model::ContactCenterId;
use gird_store::{Removal, StorageSettings};
use serde_json::{json, Value};

use crate::error::{success, ApiError};
use crate::json_body::JsonBody;
use crate::requests::WebDavStorage;
use crate::scope::FoundContactCenter;
use crate::state::AppState;
use crate::store_answers::SettingsWrite;

pub async fn put(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
    JsonBody(request): JsonBody<WebDavStorage>,
) -> Result<Json<Value>, ApiError> {
    let settings = StorageSettings {
        base_url: request.base_url.into_string(),
        username: request.username,
        sealed_password: request
            .password
            .map(|password| app.sealer.seal(password.expose())),
    };
    let written = app.store.put_storage(id.as_str(), settings).await?;
    SettingsWrite::from_store(written).or_unknown(&id)?;
    Ok(success())
}

fn no_storage(id: &ContactCenterId) -> ApiError {
    ApiError::NotFound(format!("contact center {id:?} has no storage settings"))
}

pub async fn get(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
) -> Result<Json<Value>, ApiError> {
    let settings = app
        .store
        .storage(id.as_str())
        .await?
        .ok_or_else(|| no_storage(&id))?;
    Ok(Json(json!({
        "statusCode": 0,
        "storage": {
            "baseUrl": settings.base_url,
            "username": settings.username,
            "passwordSet": settings.sealed_password.is_some(),
        }
    })))
}

pub async fn delete(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
) -> Result<Json<Value>, ApiError> {
    match app.store.delete_storage(id.as_str()).await? {
        Removal::Removed => Ok(success()),
        _ => Err(no_storage(&id)),
    }
}
