//! `POST /internal-api/contact-centers/{id}/recordings` (docs/API.md).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Extension;
use axum::Json;
use gird_model::Recording;
use gird_store::InsertOutcome;
use serde_json::Value;

use crate::audit::{self, Actor};
use crate::body::{parse_object, read_limited, require_json};
use crate::error::{success, ApiError};
use crate::state::AppState;

pub async fn insert_recording(
    State(app): State<AppState>,
    Path(contact_center): Path<String>,
    actor: Option<Extension<Actor>>,
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
    let id = recording.id.clone();
    let outcome = app
        .store
        .insert_or_merge(&contact_center, recording)
        .await?;
    let audited = match &outcome {
        InsertOutcome::Created => Some("created"),
        InsertOutcome::Merged => Some("merged"),
        InsertOutcome::Unchanged => Some("unchanged"),
        _ => None,
    };
    if let Some(audited) = audited {
        audit::record("insert", actor.as_deref(), &contact_center, &id, audited);
    }
    match outcome {
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
