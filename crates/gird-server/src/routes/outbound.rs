//! The ops API for a contact center's outbound allow-list: the origins, beside its
//! storage and its SpeechMiner receiver, that gird may request for it (see `egress`).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use gird_store::Removal;
use serde_json::{json, Value};

use crate::body::json_object;
use crate::egress::allow_list;
use crate::error::{success, ApiError};
use crate::state::AppState;

/// Replaces the allow-list with the body's `origins`.
pub async fn put(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    app.contact_center(&id).await?;
    let request = json_object(&headers, body, app.body_limit).await?;
    let origins = allow_list::from_request(&request)?;
    if !app
        .store
        .put_outbound_origins(&id, &allow_list::texts(&origins))
        .await?
    {
        return Err(ApiError::NotFound(format!(
            "contact center {id:?} does not exist"
        )));
    }
    Ok(success())
}

fn no_allow_list(id: &str) -> ApiError {
    ApiError::NotFound(format!("contact center {id:?} has no outbound allow-list"))
}

pub async fn get(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    app.contact_center(&id).await?;
    let origins = app
        .store
        .outbound_origins(&id)
        .await?
        .ok_or_else(|| no_allow_list(&id))?;
    Ok(Json(
        json!({"statusCode": 0, "outbound": {"origins": origins}}),
    ))
}

pub async fn delete(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    app.contact_center(&id).await?;
    match app.store.delete_outbound_origins(&id).await? {
        Removal::Removed => Ok(success()),
        _ => Err(no_allow_list(&id)),
    }
}
