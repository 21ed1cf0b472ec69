//! Deleting recordings (with their media files on request) and the legal hold.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Extension;
use axum::Json;
use gird_store::{DeletionStart, HoldChange};
use serde_json::Value;

use crate::audit::{self, Actor};
use crate::body::json_object;
use crate::error::{success, ApiError};
use crate::media::{Location, MediaStore};
use crate::scope::Scope;
use crate::state::AppState;

fn flag(parameters: &[(String, String)], name: &str) -> Result<bool, ApiError> {
    match parameters
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
    {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::InvalidValue(format!(
            "{name}: {other:?} is neither true nor false"
        ))),
    }
}

pub async fn delete(
    State(app): State<AppState>,
    actor: Option<Extension<Actor>>,
    scope: Scope,
    Query(parameters): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let delete_media = flag(&parameters, "deleteMedia")?;
    let (cc, id) = (scope.contact_center.as_str(), scope.recording_id());
    let start = if delete_media {
        app.store.begin_deletion(cc, id).await?
    } else {
        app.store.delete_recording(cc, id).await?
    };
    let recording = match start {
        DeletionStart::Ready(recording) => recording,
        DeletionStart::NotFound => {
            return Err(ApiError::NotFound(format!(
                "recording {id:?} does not exist in contact center {cc:?}"
            )))
        }
        DeletionStart::OnHold => {
            return Err(ApiError::Forbidden(format!(
                "recording {id:?} is on legal hold (nonDelete)"
            )))
        }
    };
    if delete_media {
        // The recording is marked as being deleted meanwhile, so no hold can slip in
        // between its media files going and the record going. The rest runs as a task of
        // its own: a client that hangs up must not leave the recording half-deleted.
        let (app, cc, id) = (app.clone(), cc.to_owned(), id.to_owned());
        tokio::spawn(async move { finish_with_media(&app, &cc, &id, &recording).await })
            .await
            .map_err(|_| ApiError::Internal)??;
    }
    let outcome = if delete_media {
        "deleted with its media"
    } else {
        "deleted"
    };
    audit::record("delete", actor.as_deref(), cc, id, outcome);
    Ok(success())
}

async fn finish_with_media(
    app: &AppState,
    cc: &str,
    id: &str,
    recording: &gird_model::Recording,
) -> Result<(), ApiError> {
    if let Err(error) = delete_media_files(app, cc, recording).await {
        app.store.abort_deletion(cc, id).await?;
        return Err(error);
    }
    if !app.store.finish_deletion(cc, id).await? {
        return Err(ApiError::AlreadyExists(format!(
            "the deletion of recording {id:?} was cancelled by removeNonDelete"
        )));
    }
    Ok(())
}

async fn delete_media_files(
    app: &AppState,
    contact_center: &str,
    recording: &gird_model::Recording,
) -> Result<(), ApiError> {
    let media = MediaStore::new(app, contact_center);
    for media_file in &recording.media_files {
        media.delete(&Location::of(&media_file.json)?).await?;
    }
    Ok(())
}

/// `{"operationName": "applyNonDelete" | "removeNonDelete"}`.
pub async fn operation(
    State(app): State<AppState>,
    actor: Option<Extension<Actor>>,
    scope: Scope,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let request = json_object(&headers, body, app.body_limit).await?;
    let hold = match request.get("operationName").filter(|v| !v.is_null()) {
        None => return Err(ApiError::MissingField("operationName: is required".into())),
        Some(Value::String(name)) if name == "applyNonDelete" => true,
        Some(Value::String(name)) if name == "removeNonDelete" => false,
        Some(other) => {
            return Err(ApiError::InvalidValue(format!(
                "operationName: {other} is not applyNonDelete or removeNonDelete"
            )))
        }
    };
    let (cc, id) = (scope.contact_center.as_str(), scope.recording_id());
    match app.store.set_legal_hold(cc, id, hold).await? {
        HoldChange::Done => {
            let outcome = if hold { "applyNonDelete" } else { "removeNonDelete" };
            audit::record("legal-hold", actor.as_deref(), cc, id, outcome);
            Ok(success())
        }
        HoldChange::NotFound => Err(ApiError::NotFound(format!("recording {id:?} does not exist in contact center {cc:?}"))),
        HoldChange::DeletionInProgress => Err(ApiError::AlreadyExists(format!(
            "recording {id:?} is being deleted; DELETE it again to finish, or removeNonDelete to cancel"
        ))),
    }
}
