//! The ops API for contact centers (docs/API.md "Ops API").

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gird_model::ContactCenterId;
use gird_store::Removal;
use serde_json::{json, Value};

use crate::error::{success, ApiError};
use crate::json_body::JsonBody;
use crate::requests::NewContactCenter;
use crate::scope::{unknown_contact_center, ContactCenterPath, FoundContactCenter};
use crate::state::AppState;
use crate::store_answers::Creation;

fn contact_center_path(id: &str) -> String {
    format!("/contact-centers/{id}")
}

pub async fn create(
    State(app): State<AppState>,
    JsonBody(request): JsonBody<NewContactCenter>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = request.id.unwrap_or_else(ContactCenterId::random);
    let created = app
        .store
        .create_contact_center(id.as_str(), &request.domains)
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
