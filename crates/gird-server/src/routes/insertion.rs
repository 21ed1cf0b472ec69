//! `POST /internal-api/contact-centers/{id}/recordings` (docs/API.md). The body of a
//! success is exactly `{"statusCode":0}`, as RWS answers; what gird did with the record
//! is said in the `X-Gird-Outcome` header (`created`, `merged` or `unchanged`), which
//! `gird import` counts.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::Extension;
use axum::Json;
use gird_model::{ContactCenterId, Recording};
use gird_store::InsertOutcome;
use serde_json::Value;

use crate::audit::{self, Actor};
use crate::body::json_object;
use crate::error::{success, ApiError};
use crate::scope::{unknown_contact_center, ContactCenterPath};
use crate::state::AppState;

/// What became of a stored record: `created`, `merged` or `unchanged`.
pub const OUTCOME_HEADER: HeaderName = HeaderName::from_static("x-gird-outcome");

pub async fn insert_recording(
    State(app): State<AppState>,
    ContactCenterPath(contact_center): ContactCenterPath,
    actor: Option<Extension<Actor>>,
    headers: HeaderMap,
    body: Body,
) -> Result<([(HeaderName, HeaderValue); 1], Json<Value>), ApiError> {
    app.insertion_contact_center(&contact_center).await?;
    let recording = Recording::from_json(json_object(&headers, body, app.body_limit).await?)?;
    let media_ids: Vec<Option<String>> = recording
        .media_files
        .iter()
        .map(|m| m.key.media_id().map(str::to_owned))
        .collect();
    let id = recording.id.clone();
    let cc = contact_center.as_str();
    let said = match app.store.insert_or_merge(cc, recording).await? {
        InsertOutcome::Created => "created",
        InsertOutcome::Merged => "merged",
        InsertOutcome::Unchanged => "unchanged",
        refused => return Err(refusal(refused, &contact_center, &media_ids)),
    };
    audit::record("insert", actor.as_deref(), cc, &id, said);
    Ok((
        [(OUTCOME_HEADER, HeaderValue::from_static(said))],
        success(),
    ))
}

/// The error of an insert the store did not make.
fn refusal(
    outcome: InsertOutcome,
    contact_center: &ContactCenterId,
    media_ids: &[Option<String>],
) -> ApiError {
    match outcome {
        InsertOutcome::ContactCenterMissing => unknown_contact_center(contact_center.as_str()),
        InsertOutcome::TooLarge(limit) => ApiError::InvalidValue(limit),
        InsertOutcome::BeingDeleted => ApiError::AlreadyExists(
            "the recording is being deleted with its media files; post again once the deletion is done".into(),
        ),
        InsertOutcome::MediaIdTaken { media_id, owner } => {
            let index = media_ids
                .iter()
                .position(|id| id.as_deref() == Some(&media_id))
                .unwrap_or_default();
            ApiError::AlreadyExists(format!(
                "mediaFiles[{index}].mediaId: {media_id:?} already belongs to recording {owner:?}"
            ))
        }
        // Successes, answered by the caller: never here.
        InsertOutcome::Created | InsertOutcome::Merged | InsertOutcome::Unchanged => {
            ApiError::Internal
        }
    }
}
