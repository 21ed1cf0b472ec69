//! Reading recordings: one by id and the search (docs/API.md).

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gird_model::view::render;
use gird_model::Recording;
use gird_store::{FoundRecording, LegalHold};
use serde_json::{json, Value};

use crate::access::{visible, Principal};
use crate::audit::{self, Actor};
use crate::error::ApiError;
use crate::scope::{RecordingScope, Scope};
use crate::search_params::{cursor_text, SearchParams};
use crate::state::AppState;
use axum::Extension;
use gird_model::access::Operation;

/// The typed record of a found recording.
fn typed(found: &FoundRecording, contact_center: &str) -> Result<Recording, ApiError> {
    found.stored.to_recording().map_err(|violations| {
        tracing::error!(%violations, contact_center, id = found.id, "a stored recording no longer validates");
        ApiError::Internal
    })
}

/// The read view of a found recording, with its legal-hold flag.
pub fn recording_view(
    found: &FoundRecording,
    contact_center: &str,
    public_url: &str,
) -> Result<Value, ApiError> {
    let recording = typed(found, contact_center)?;
    Ok(view_of(found, &recording, contact_center, public_url))
}

fn view_of(
    found: &FoundRecording,
    recording: &Recording,
    contact_center: &str,
    public_url: &str,
) -> Value {
    let mut view = render(&found.stored, recording, contact_center, public_url);
    match found.legal_hold {
        LegalHold::Held => view["nonDelete"] = Value::Bool(true),
        // A deletion began and has not finished: some media files may be gone already.
        LegalHold::Deleting => view["beingDeleted"] = Value::Bool(true),
        LegalHold::None => {}
    }
    view
}

/// The recording the request names, when the principal may see it and do `operation`
/// with it (see [`crate::access::visible`]).
pub async fn found(
    app: &AppState,
    principal: &Principal,
    scope: &RecordingScope,
    operation: Operation,
) -> Result<FoundRecording, ApiError> {
    let (cc, id) = (&scope.contact_center, &scope.recording);
    let found = app.store.recording(cc.as_str(), id.as_str()).await?;
    visible(principal, found, cc, id.as_str(), operation)
}

pub async fn get_recording(
    State(app): State<AppState>,
    principal: Principal,
    actor: Option<Extension<Actor>>,
    scope: RecordingScope,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let found = found(&app, &principal, &scope, Operation::Read).await?;
    let (cc, id) = (scope.contact_center.as_str(), scope.recording.as_str());
    audit::access(app.store.as_ref(), actor.as_deref(), "read", cc, id, "").await?;
    let cc = scope.contact_center.as_str();
    let view = recording_view(&found, cc, &app.public_url(&headers)?)?;
    Ok(Json(json!({"statusCode": 0, "recording": view})))
}

pub async fn search(
    State(app): State<AppState>,
    principal: Principal,
    actor: Option<Extension<Actor>>,
    scope: Scope,
    Query(parameters): Query<Vec<(String, String)>>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = SearchParams::parse(&parameters)?;
    principal.may(Operation::Search)?;
    let mut query = params.query(scope.contact_center.as_str());
    query.max_bytes = app.max_page_bytes;
    query.visibility = principal.visibility();
    let page = app.store.search(query).await?;
    let asked: String = uri.query().unwrap_or_default().chars().take(512).collect();
    audit::record(
        "search",
        actor.as_deref(),
        scope.contact_center.as_str(),
        "-",
        &format!("{} found; {asked}", page.recordings.len()),
    );
    let public_url = app.public_url(&headers)?;
    let typed = page
        .recordings
        .iter()
        .map(|found| typed(found, scope.contact_center.as_str()))
        .collect::<Result<Vec<_>, _>>()?;
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
    let mut after_recordings = serde_json::Map::new();
    if page.more_older {
        after_recordings.insert("next".into(), link(false).into());
    }
    if page.more_newer {
        after_recordings.insert("previous".into(), link(true).into());
    }
    if let Some(total) = page.total {
        after_recordings.insert("total".into(), total.into());
        let capped = total >= gird_store::counts::SEARCH_COUNT_CAP;
        after_recordings.insert("totalIsExact".into(), (!capped).into());
    }
    let contact_center = scope.contact_center.into_string();
    Ok(streamed_page(
        page.recordings,
        typed,
        after_recordings,
        move |found, recording| view_of(found, recording, &contact_center, &public_url),
    ))
}

/// `{"statusCode":0,"recordings":[...],"next":...,"total":...}`, each recording's view made and
/// written only when the client reads that far: a page is never held as one JSON tree.
fn streamed_page(
    found: Vec<FoundRecording>,
    typed: Vec<Recording>,
    after_recordings: serde_json::Map<String, Value>,
    view: impl Fn(&FoundRecording, &Recording) -> Value + Send + 'static,
) -> Response {
    let head = std::iter::once(Bytes::from_static(b"{\"statusCode\":0,\"recordings\":["));
    let items = found
        .into_iter()
        .zip(typed)
        .enumerate()
        .map(move |(index, (found, recording))| {
            let mut chunk = if index == 0 { Vec::new() } else { vec![b','] };
            // Serializing a serde_json::Value into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut chunk, &view(&found, &recording));
            Bytes::from(chunk)
        });
    let tail = std::iter::once_with(move || {
        let mut chunk = b"]".to_vec();
        for (name, value) in &after_recordings {
            chunk.push(b',');
            let _ = serde_json::to_writer(&mut chunk, name);
            chunk.push(b':');
            let _ = serde_json::to_writer(&mut chunk, value);
        }
        chunk.push(b'}');
        Bytes::from(chunk)
    });
    let chunks = head
        .chain(items)
        .chain(tail)
        .map(Ok::<_, std::convert::Infallible>);
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
