//! `GET .../recordings/{id}/play/{uuid}.{ext}`: streams a media file from its storage
//! (WebDAV or S3), decrypted when the media file has a `pkcs7` envelope.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use gird_model::view::play_uuid;

use axum::Extension;
use gird_model::access::Operation;

use super::encrypted_playback::{self, EncryptedFile};
use super::recordings::found;
use crate::access::Principal;
use crate::audit::{self, Actor};
use crate::error::ApiError;
use crate::media::{playback_headers, Location, MediaStore};
use crate::scope::RecordingScope;
use crate::state::AppState;

pub async fn play(
    State(app): State<AppState>,
    principal: Principal,
    actor: Option<Extension<Actor>>,
    scope: RecordingScope,
    Path(path): Path<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let file = path.get("file").map(String::as_str).unwrap_or_default();
    let uuid = file.split('.').next().unwrap_or_default();
    let recording = found(&app, &principal, &scope, Operation::Play)
        .await?
        .stored
        .to_recording()
        .map_err(|violations| {
            tracing::error!(%violations, "a stored recording no longer validates");
            ApiError::Internal
        })?;
    let media_file = recording
        .media_files
        .iter()
        .find(|m| play_uuid(scope.contact_center.as_str(), &recording.id, m).to_string() == uuid)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "recording {:?} has no media file {file:?}",
                recording.id
            ))
        })?;
    if let Some(pkcs7) = media_file.json["pkcs7"]
        .as_str()
        .filter(|p| !p.trim().is_empty())
    {
        let encrypted = EncryptedFile {
            contact_center: scope.contact_center.as_str(),
            recording: &recording.id,
            file,
            media_file: &media_file.json,
            pkcs7,
        };
        return encrypted_playback::play(&app, actor.as_deref(), encrypted, &headers).await;
    }
    let location = Location::of(&media_file.json)?;
    let upstream = MediaStore::new(&app, scope.contact_center.as_str())
        .open(&location, headers.get(header::RANGE))
        .await?;
    let status = upstream.status();
    let range = headers
        .get(header::RANGE)
        .and_then(|range| range.to_str().ok())
        .map(|range| format!(" {}", range.chars().take(64).collect::<String>()))
        .unwrap_or_default();
    audit::access(
        app.store.as_ref(),
        actor.as_deref(),
        "play",
        scope.contact_center.as_str(),
        &recording.id,
        &format!("{} {file}{range}", status.as_u16()),
    )
    .await?;
    let answer_headers =
        playback_headers(status, upstream.headers(), media_file.json["type"].as_str());
    let body = Body::from_stream(upstream.bytes_stream());
    Ok((status, answer_headers, body).into_response())
}
