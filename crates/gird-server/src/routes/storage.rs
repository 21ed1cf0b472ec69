//! The ops API for a contact center's WebDAV storage and credentials.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use gird_store::{Removal, StorageSettings};
use serde_json::{json, Value};

use crate::body::{json_object, optional_text};
use crate::error::{success, ApiError};
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
    let base_url = optional_text(&request, "baseUrl")?
        .ok_or_else(|| ApiError::MissingField("baseUrl: is required".into()))?;
    check_base_url(&base_url)?;
    let settings = StorageSettings {
        base_url,
        username: optional_text(&request, "username")?,
        sealed_password: optional_text(&request, "password")?
            .map(|password| app.sealer.seal(&password)),
    };
    if !app.store.put_storage(&id, settings).await? {
        return Err(ApiError::NotFound(format!(
            "contact center {id:?} does not exist"
        )));
    }
    Ok(success())
}

fn check_base_url(base_url: &str) -> Result<(), ApiError> {
    check_service_url("baseUrl", base_url)
        .map(drop)
        .map_err(ApiError::InvalidValue)
}

fn no_storage(id: &str) -> ApiError {
    ApiError::NotFound(format!("contact center {id:?} has no storage settings"))
}

pub async fn get(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    app.contact_center(&id).await?;
    let settings = app
        .store
        .storage(&id)
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
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    app.contact_center(&id).await?;
    match app.store.delete_storage(&id).await? {
        Removal::Removed => Ok(success()),
        _ => Err(no_storage(&id)),
    }
}
