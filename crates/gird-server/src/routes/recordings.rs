//! Reading a stored recording back (SPEC.md §7).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use gird_model::view::render;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::state::AppState;

pub async fn get_recording(
    State(app): State<AppState>,
    Path((contact_center, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let not_found = || {
        ApiError::NotFound(format!(
            "recording {id:?} does not exist in contact center {contact_center:?}"
        ))
    };
    let stored = app
        .store
        .recording(&contact_center, &id)
        .await?
        .ok_or_else(not_found)?;
    let recording = stored.to_recording().map_err(|violations| {
        tracing::error!(%violations, contact_center, id, "a stored recording no longer validates");
        ApiError::Internal
    })?;
    let view = render(
        &stored,
        &recording,
        &contact_center,
        &app.public_url(&headers),
    );
    Ok(Json(json!({"statusCode": 0, "recording": view})))
}
