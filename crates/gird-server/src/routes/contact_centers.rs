//! The ops API for contact centers (docs/API.md "Ops API").

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use gird_model::id::NotAContactCenterId;
use gird_model::ContactCenterId;
use gird_store::Removal;
use serde_json::{json, Map, Value};

use crate::body::json_object;
use crate::error::{success, ApiError};
use crate::scope::{unknown_contact_center, ContactCenterPath, FoundContactCenter};
use crate::state::AppState;
use crate::store_answers::Creation;

/// A required array of strings in a request object.
pub fn string_list(object: &Map<String, Value>, name: &str) -> Result<Vec<String>, ApiError> {
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

fn contact_center_path(id: &str) -> String {
    format!("/contact-centers/{id}")
}

pub async fn create(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request = json_object(&headers, body, app.body_limit).await?;
    let domains = string_list(&request, "domains")?;
    let id = match request.get("id").filter(|v| !v.is_null()) {
        None => ContactCenterId::parse(uuid::Uuid::new_v4().to_string()).expect("a UUID is an id"),
        Some(Value::String(id)) => ContactCenterId::parse(id.as_str())
            .map_err(|why| ApiError::InvalidValue(format!("id: {why}")))?,
        Some(_) => return Err(ApiError::InvalidValue(format!("id: {NotAContactCenterId}"))),
    };
    let created = app
        .store
        .create_contact_center(id.as_str(), &domains)
        .await?;
    if Creation::from_store(created) == Creation::IdTaken {
        return Err(ApiError::AlreadyExists(format!(
            "contact center {id:?} already exists"
        )));
    }
    let path = contact_center_path(id.as_str());
    Ok((
        StatusCode::CREATED,
        Json(json!({"statusCode": 0, "id": id, "path": path})),
    ))
}

pub async fn list(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    let ids = app.store.contact_center_ids().await?;
    let uris: Vec<String> = ids.iter().map(|id| contact_center_path(id)).collect();
    Ok(Json(json!({"statusCode": 0, "uris": uris})))
}

pub async fn get(
    State(app): State<AppState>,
    found: FoundContactCenter,
) -> Result<Json<Value>, ApiError> {
    let (id, contact_center) = (found.id.as_str(), found.contact_center);
    let recording_count = app.store.recording_count(id).await?;
    Ok(Json(json!({
        "statusCode": 0,
        "contactCenter": {
            "id": contact_center.id,
            "domains": contact_center.domains,
            "features": contact_center.features,
            "path": contact_center_path(id),
            "recordingCount": recording_count,
        }
    })))
}

pub async fn delete(
    State(app): State<AppState>,
    ContactCenterPath(id): ContactCenterPath,
) -> Result<Json<Value>, ApiError> {
    match app.store.delete_contact_center(id.as_str()).await? {
        Removal::Removed => Ok(success()),
        Removal::NotFound => Err(unknown_contact_center(id.as_str())),
        Removal::NotEmpty => Err(ApiError::AlreadyExists(format!(
            "contact center {id:?} still holds recordings"
        ))),
    }
}
