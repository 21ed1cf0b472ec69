//! `POST /internal-api/contact-centers/{id}/recordings` (SPEC.md §1).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use gird_model::Recording;
use gird_store::InsertOutcome;
use serde_json::Value;

use crate::body::{parse_object, read_limited, require_json};
use crate::error::{success, ApiError};
use crate::state::AppState;

pub async fn insert_recording(
    State(app): State<AppState>,
    Path(contact_center): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    app.insertion_contact_center(&contact_center).await?;
    require_json(&headers)?;
    let bytes = read_limited(&headers, body, app.body_limit).await?;
    let recording = Recording::from_json(parse_object(&bytes)?)?;
    let media_ids: Vec<Option<String>> = recording
        .media_files
        .iter()
        .map(|m| m.key.media_id().map(str::to_owned))
        .collect();
    match app
        .store
        .insert_or_merge(&contact_center, recording)
        .await?
    {
        InsertOutcome::Created | InsertOutcome::Merged | InsertOutcome::Unchanged => Ok(success()),
        InsertOutcome::ContactCenterMissing => Err(ApiError::NotFound(format!(
            "contact center {contact_center:?} does not exist"
        ))),
        InsertOutcome::TooLarge(limit) => Err(ApiError::InvalidValue(limit)),
        InsertOutcome::BeingDeleted => Err(ApiError::AlreadyExists(
            "the recording is being deleted with its media files; post again once the deletion is done".into(),
        )),
        InsertOutcome::MediaIdTaken { media_id, owner } => {
            let index = media_ids
                .iter()
                .position(|id| id.as_deref() == Some(&media_id))
                .unwrap_or_default();
            Err(ApiError::AlreadyExists(format!(
                "mediaFiles[{index}].mediaId: {media_id:?} already belongs to recording {owner:?}"
            )))
        }
    }
}
