//! The ops API for contact centers and their features (docs/API.md).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use gird_store::Removal;
use serde_json::{json, Map, Value};

use crate::body::json_object;
use crate::error::{success, ApiError};
use crate::state::AppState;

const FEATURE_URI_PREFIX: &str = "/api/";

fn is_name(text: &str, max: usize) -> bool {
    (1..=max).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

fn contact_center_path(id: &str) -> String {
    format!("/contact-centers/{id}")
}

/// A required array of strings in a request object.
fn string_list(object: &Map<String, Value>, name: &str) -> Result<Vec<String>, ApiError> {
    let value = object
        .get(name)
        .filter(|v| !v.is_null())
        .ok_or_else(|| ApiError::MissingField(format!("{name}: is required")))?;
    let invalid = || ApiError::InvalidValue(format!("{name}: expected an array of strings"));
    value
        .as_array()
        .ok_or_else(invalid)?
        .iter()
        .map(|item| item.as_str().map(str::to_owned).ok_or_else(invalid))
        .collect()
}

pub async fn create(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request = json_object(&headers, body, app.body_limit).await?;
    let domains = string_list(&request, "domains")?;
    let id = match request.get("id").filter(|v| !v.is_null()) {
        None => uuid::Uuid::new_v4().to_string(),
        Some(Value::String(id)) if is_name(id, 128) => id.clone(),
        Some(_) => {
            return Err(ApiError::InvalidValue(
                "id: must be 1 to 128 letters, digits, '-', '_' or '.'".into(),
            ))
        }
    };
    if !app.store.create_contact_center(&id, &domains).await? {
        return Err(ApiError::AlreadyExists(format!(
            "contact center {id:?} already exists"
        )));
    }
    let path = contact_center_path(&id);
    Ok((
        StatusCode::CREATED,
        Json(json!({"statusCode": 0, "id": id, "path": path})),
    ))
}

pub async fn list(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    let uris: Vec<String> = app
        .store
        .contact_center_ids()
        .await?
        .iter()
        .map(|id| contact_center_path(id))
        .collect();
    Ok(Json(json!({"statusCode": 0, "uris": uris})))
}

pub async fn get(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let contact_center = app.contact_center(&id).await?;
    let recording_count = app.store.recording_count(&id).await?;
    Ok(Json(json!({
        "statusCode": 0,
        "contactCenter": {
            "id": contact_center.id,
            "domains": contact_center.domains,
            "features": contact_center.features,
            "path": contact_center_path(&id),
            "recordingCount": recording_count,
        }
    })))
}

pub async fn delete(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match app.store.delete_contact_center(&id).await? {
        Removal::Removed => Ok(success()),
        Removal::NotFound => Err(ApiError::NotFound(format!(
            "contact center {id:?} does not exist"
        ))),
        Removal::NotEmpty => Err(ApiError::AlreadyExists(format!(
            "contact center {id:?} still holds recordings"
        ))),
    }
}

/// `/api/api-supervisor-recording` or the bare name.
fn feature_name(uri: &str) -> Result<String, ApiError> {
    let name = uri.strip_prefix(FEATURE_URI_PREFIX).unwrap_or(uri);
    if is_name(name, 128) {
        Ok(name.to_owned())
    } else {
        Err(ApiError::InvalidValue(format!(
            "uris: {uri:?} is not a feature name or /api/<feature> URI"
        )))
    }
}

pub async fn add_features(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    app.contact_center(&id).await?;
    let request = json_object(&headers, body, app.body_limit).await?;
    let features = string_list(&request, "uris")?
        .iter()
        .map(|uri| feature_name(uri))
        .collect::<Result<Vec<_>, _>>()?;
    if !app.store.enable_features(&id, &features).await? {
        return Err(ApiError::NotFound(format!(
            "contact center {id:?} does not exist"
        )));
    }
    Ok(success())
}

pub async fn list_features(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let contact_center = app.contact_center(&id).await?;
    let uris: Vec<String> = contact_center
        .features
        .iter()
        .map(|name| format!("{FEATURE_URI_PREFIX}{name}"))
        .collect();
    Ok(Json(json!({"statusCode": 0, "uris": uris})))
}

pub async fn remove_feature(
    State(app): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    app.contact_center(&id).await?;
    match app.store.disable_feature(&id, &name).await? {
        Removal::Removed => Ok(success()),
        _ => Err(ApiError::NotFound(format!(
            "feature {name:?} is not enabled for contact center {id:?}"
        ))),
    }
}
