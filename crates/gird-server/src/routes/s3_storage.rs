//! The ops API for a contact center's S3 storage, beside the WebDAV one.

use axum::extract::State;
use axum::Json;
use gird_model::ContactCenterId;
use gird_store::Removal;
use serde_json::{json, Value};

use crate::error::{success, ApiError};
use crate::json_body::JsonBody;
use crate::s3::config::S3Config;
use crate::scope::FoundContactCenter;
use crate::state::AppState;
use crate::store_answers::SettingsWrite;

/// Replaces the contact center's S3 settings with those of the body.
pub async fn put(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
    JsonBody(request): JsonBody<S3Config>,
) -> Result<Json<Value>, ApiError> {
    let checked = request.check()?;
    let written = app
        .store
        .put_s3_storage(id.as_str(), checked.sealed(&app.sealer))
        .await?;
    SettingsWrite::from_store(written).or_unknown(&id)?;
    Ok(success())
}

fn no_s3(id: &ContactCenterId) -> ApiError {
    ApiError::NotFound(format!("contact center {id:?} has no S3 settings"))
}

/// The settings without the secret.
pub async fn get(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
) -> Result<Json<Value>, ApiError> {
    let settings = app
        .store
        .s3_storage(id.as_str())
        .await?
        .ok_or_else(|| no_s3(&id))?;
    Ok(Json(json!({
        "statusCode": 0,
        "s3": {
            "endpoint": settings.endpoint,
            "region": settings.region,
            "accessKeyId": settings.access_key_id,
            "secretSet": !settings.sealed_secret.is_empty(),
            "pathStyle": settings.path_style,
            "buckets": settings.buckets,
        }
    })))
}

pub async fn delete(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
) -> Result<Json<Value>, ApiError> {
    match app.store.delete_s3_storage(id.as_str()).await? {
        Removal::Removed => Ok(success()),
        _ => Err(no_s3(&id)),
    }
}
