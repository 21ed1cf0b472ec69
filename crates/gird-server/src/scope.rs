//! Which contact center a recording request is about: the `{id}` of an ops path, or the
//! `contactCenterId` query parameter of an RWS path (which may be left out when the
//! recording id is unique across contact centers).

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::state::AppState;

pub const CONTACT_CENTER_PARAMETER: &str = "contactCenterId";

pub struct Scope {
    pub contact_center: String,
    /// The `{recording}` of the path, when it has one.
    pub recording: Option<String>,
}

impl Scope {
    pub fn recording_id(&self) -> &str {
        self.recording.as_deref().unwrap_or_default()
    }
}

impl FromRequestParts<AppState> for Scope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Scope, ApiError> {
        let Path(path) = Path::<HashMap<String, String>>::from_request_parts(parts, app)
            .await
            .map_err(|_| ApiError::NotFound("no such resource".into()))?;
        let recording = path.get("recording").cloned();
        let contact_center = match path.get("id") {
            Some(id) => id.clone(),
            None => resolve(parts, app, recording.as_deref()).await?,
        };
        app.contact_center(&contact_center).await?;
        Ok(Scope {
            contact_center,
            recording,
        })
    }
}

async fn resolve(
    parts: &mut Parts,
    app: &AppState,
    recording: Option<&str>,
) -> Result<String, ApiError> {
    let Query(query) = Query::<Vec<(String, String)>>::from_request_parts(parts, app)
        .await
        .map_err(|_| ApiError::InvalidValue("the query string is malformed".into()))?;
    if let Some((_, id)) = query
        .iter()
        .find(|(name, _)| name == CONTACT_CENTER_PARAMETER)
    {
        return Ok(id.clone());
    }
    let required =
        |why: &str| ApiError::MissingField(format!("{CONTACT_CENTER_PARAMETER}: is required{why}"));
    let Some(recording) = recording else {
        return Err(required(""));
    };
    let mut owners = app.store.contact_centers_with_recording(recording).await?;
    match owners.len() {
        0 => Err(ApiError::NotFound(format!(
            "recording {recording:?} does not exist"
        ))),
        1 => Ok(owners.remove(0)),
        _ => Err(required(
            ": the recording id exists in several contact centers",
        )),
    }
}
