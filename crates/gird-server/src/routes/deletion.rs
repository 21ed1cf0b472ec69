//! Deleting recordings (with their media files on request) and the legal hold.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Extension;
use axum::Json;
use gird_model::datetime::now_millis;
use gird_store::{DeletionLease, DeletionStart, HoldChange};
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

/// How long a deletion of media files owns the recording without renewing its lease
/// (it renews before each file); after a crash, another deletion may take over then.
const DELETION_LEASE_MS: i64 = 60_000;

pub async fn delete(
    State(app): State<AppState>,
    actor: Option<Extension<Actor>>,
    scope: Scope,
    Query(parameters): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let delete_media = flag(&parameters, "deleteMedia")?;
    let (cc, id) = (scope.contact_center.as_str(), scope.recording_id());
    let lease = DeletionLease {
        token: uuid::Uuid::new_v4().to_string(),
        until_ms: now_millis() + DELETION_LEASE_MS,
    };
    let start = if delete_media {
        app.store
            .begin_deletion(cc, id, &lease, now_millis())
            .await?
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
        DeletionStart::InProgress => {
            return Err(ApiError::AlreadyExists(format!(
                "recording {id:?} is being deleted by another request; try again in a minute"
            )))
        }
    };
    if delete_media {
        // The recording is marked as being deleted and the lease is this request's, so no
        // hold can slip in while its media files go. The rest runs as a task of its own: a
        // client that hangs up must not leave the recording half-deleted.
        let (app, cc, id) = (app.clone(), cc.to_owned(), id.to_owned());
        let actor = actor.as_deref().cloned();
        tokio::spawn(async move {
            finish_with_media(&app, actor.as_ref(), &cc, &id, &recording, lease).await
        })
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

/// Deletes the media files one by one, renewing the lease before each, then the record.
/// Each file's deletion, done or failed, is audited. When one fails the lease is given
/// up; if files are gone already, the recording stays marked as being deleted (its view
/// says `beingDeleted`), so it never lists deleted files as if nothing happened, and
/// deleting it again finishes.
async fn finish_with_media(
    app: &AppState,
    actor: Option<&Actor>,
    cc: &str,
    id: &str,
    recording: &gird_model::Recording,
    mut lease: DeletionLease,
) -> Result<(), ApiError> {
    let media = MediaStore::new(app, cc);
    let total = recording.media_files.len();
    let taken_over = || {
        ApiError::AlreadyExists(format!(
            "the deletion of recording {id:?} was taken over by another request"
        ))
    };
    for (done, media_file) in recording.media_files.iter().enumerate() {
        lease.until_ms = now_millis() + DELETION_LEASE_MS;
        if !app.store.renew_deletion(cc, id, &lease).await? {
            return Err(taken_over());
        }
        let which = media_file.key.to_string();
        let deleted = match Location::of(&media_file.json) {
            Ok(location) => media.delete(&location).await,
            Err(error) => Err(error),
        };
        match deleted {
            Ok(()) => audit::record("delete-media", actor, cc, id, &format!("deleted {which}")),
            Err(error) => {
                audit::record(
                    "delete-media",
                    actor,
                    cc,
                    id,
                    &format!("failed {which}: {}", error.message()),
                );
                // Nothing gone yet: the recording is as it was. Otherwise it stays marked
                // as being deleted, and saying so, until a deletion finishes.
                let unmark = done == 0;
                app.store
                    .release_deletion(cc, id, &lease.token, unmark)
                    .await?;
                if unmark {
                    return Err(error);
                }
                return Err(error.context(&format!(
                    "{done} of {total} media files were deleted; the recording stays marked as being deleted: DELETE it again to finish (with deleteMedia=true for the remaining files)"
                )));
            }
        }
    }
    if !app.store.finish_deletion(cc, id, &lease.token).await? {
        return Err(taken_over());
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
            "recording {id:?} is being deleted, so its hold cannot change; DELETE it again to finish the deletion"
        ))),
    }
}
