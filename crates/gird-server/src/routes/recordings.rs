//! Reading recordings: one by id (SPEC.md §7) and the search (docs/API.md).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use axum::Json;
use gird_model::view::render;
use gird_store::{FoundRecording, LegalHold};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::scope::Scope;
use crate::search_params::{cursor_text, SearchParams};
use crate::state::AppState;

/// The read view of a found recording, with its legal-hold flag.
pub fn recording_view(
    found: &FoundRecording,
    contact_center: &str,
    public_url: &str,
) -> Result<Value, ApiError> {
    let recording = found.stored.to_recording().map_err(|violations| {
        tracing::error!(%violations, contact_center, id = found.id, "a stored recording no longer validates");
        ApiError::Internal
    })?;
    let mut view = render(&found.stored, &recording, contact_center, public_url);
    match found.legal_hold {
        LegalHold::Held => view["nonDelete"] = Value::Bool(true),
        // A deletion began and has not finished: some media files may be gone already.
        LegalHold::Deleting => view["beingDeleted"] = Value::Bool(true),
        LegalHold::None => {}
    }
    Ok(view)
}

pub async fn found(app: &AppState, scope: &Scope) -> Result<FoundRecording, ApiError> {
    app.store
        .recording(&scope.contact_center, scope.recording_id())
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "recording {:?} does not exist in contact center {:?}",
                scope.recording_id(),
                scope.contact_center
            ))
        })
}

pub async fn get_recording(
    State(app): State<AppState>,
    scope: Scope,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let found = found(&app, &scope).await?;
    let view = recording_view(&found, &scope.contact_center, &app.public_url(&headers)?)?;
    Ok(Json(json!({"statusCode": 0, "recording": view})))
}

pub async fn search(
    State(app): State<AppState>,
    scope: Scope,
    Query(parameters): Query<Vec<(String, String)>>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let params = SearchParams::parse(&parameters)?;
    let page = app
        .store
        .search(params.query(&scope.contact_center))
        .await?;
    let public_url = app.public_url(&headers)?;
    let recordings = page
        .recordings
        .iter()
        .map(|found| recording_view(found, &scope.contact_center, &public_url))
        .collect::<Result<Vec<_>, _>>()?;
    let mut answer = json!({"statusCode": 0, "recordings": recordings});
    // An empty page (its rows deleted since the link was made) links back to the first
    // page rather than to itself.
    let link = |newest: bool| {
        let edge = if newest {
            page.recordings.first()
        } else {
            page.recordings.last()
        };
        let cursor = edge.map(|found| cursor_text(!newest, found.start_ms, &found.id));
        params.link(uri.path(), &parameters, cursor.as_deref())
    };
    if page.more_older {
        answer["next"] = link(false).into();
    }
    if page.more_newer {
        answer["previous"] = link(true).into();
    }
    Ok(Json(answer))
}
