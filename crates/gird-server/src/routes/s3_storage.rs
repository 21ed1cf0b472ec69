//! The ops API for a contact center's S3 storage, beside the WebDAV one.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use gird_store::Removal;
use serde_json::{json, Value};

use crate::body::json_object;
use crate::error::{success, ApiError};
use crate::s3::config::S3Config;
use crate::state::AppState;

/// Replaces the contact center's S3 settings with those of the body.
pub async fn put(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    app.contact_center(&id).await?;
    let request = json_object(&headers, body, app.body_limit).await?;
    let checked = S3Config::from_json(&request)?.check()?;
    if !app
        .store
        .put_s3_storage(&id, checked.sealed(&app.sealer))
        .await?
    {
        return Err(ApiError::NotFound(format!(
            "contact center {id:?} does not exist"
        )));
    }
    Ok(success())
}

fn no_s3(id: &str) -> ApiError {
    ApiError::NotFound(format!("contact center {id:?} has no S3 settings"))
}

/// The settings without the secret.
pub async fn get(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    app.contact_center(&id).await?;
    let settings = app.store.s3_storage(&id).await?.ok_or_else(|| no_s3(&id))?;
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
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    app.contact_center(&id).await?;
    match app.store.delete_s3_storage(&id).await? {
        Removal::Removed => Ok(success()),
        _ => Err(no_s3(&id)),
    }
}
