//! What a request's path names, as typed ids, each checked where it enters: the `{id}`
//! of an ops path, or the `contactCenterId` query parameter of an RWS path (which may be
//! left out when the recording id is unique across contact centers), and the
//! `{recording}`.
//!
//! An id outside its rule names nothing that exists, so it is answered as any unknown
//! one is (404/6, the same message), not as a malformed request.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use gird_model::ContactCenter;
use gird_model::{ContactCenterId, RecordingId};

use crate::error::ApiError;
use crate::state::AppState;

pub const CONTACT_CENTER_PARAMETER: &str = "contactCenterId";

pub use crate::error::{unknown_contact_center, unknown_recording};

fn contact_center_id(text: &str) -> Result<ContactCenterId, ApiError> {
    ContactCenterId::parse(text).map_err(|_| unknown_contact_center(text))
}

async fn path_parameters(
    parts: &mut Parts,
    app: &AppState,
) -> Result<HashMap<String, String>, ApiError> {
    let Path(path) = Path::<HashMap<String, String>>::from_request_parts(parts, app)
        .await
        .map_err(|_| ApiError::NotFound("no such resource".into()))?;
    Ok(path)
}

fn parameter<'a>(path: &'a HashMap<String, String>, name: &str) -> Result<&'a str, ApiError> {
    path.get(name)
        .map(String::as_str)
        .ok_or_else(|| ApiError::NotFound("no such resource".into()))
}

/// The `{id}` of an ops path, whether or not the contact center exists (creating and
/// deleting ask the store themselves).
pub struct ContactCenterPath(pub ContactCenterId);

impl FromRequestParts<AppState> for ContactCenterPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let path = path_parameters(parts, app).await?;
        contact_center_id(parameter(&path, "id")?).map(ContactCenterPath)
    }
}

/// The `{id}` of an ops path, naming a contact center that exists.
pub struct FoundContactCenter {
    pub id: ContactCenterId,
    pub contact_center: ContactCenter,
}

impl FromRequestParts<AppState> for FoundContactCenter {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let ContactCenterPath(id) = ContactCenterPath::from_request_parts(parts, app).await?;
        let contact_center = app.contact_center(&id).await?;
        Ok(FoundContactCenter { id, contact_center })
    }
}

/// The existing contact center a search is about.
pub struct Scope {
    pub contact_center: ContactCenterId,
}

impl FromRequestParts<AppState> for Scope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Scope, ApiError> {
        let path = path_parameters(parts, app).await?;
        let named = match path.get("id") {
            Some(id) => Some(contact_center_id(id)?),
            None => queried_contact_center(parts, app).await?,
        };
        let contact_center = match (users_contact_center(parts), named) {
            // A user's searches are in their own contact center; naming another is
            // answered as naming one that does not exist.
            (Some(own), Some(named)) if named != own => {
                return Err(unknown_contact_center(named.as_str()))
            }
            (Some(own), _) => own,
            (None, Some(named)) => named,
            (None, None) => return Err(contact_center_required("")),
        };
        app.contact_center(&contact_center).await?;
        Ok(Scope { contact_center })
    }
}

/// The existing contact center and the recording a request is about (the recording may
/// not exist: the handler's store call says).
pub struct RecordingScope {
    pub contact_center: ContactCenterId,
    pub recording: RecordingId,
}

impl FromRequestParts<AppState> for RecordingScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let path = path_parameters(parts, app).await?;
        let text = parameter(&path, "recording")?;
        let recording = RecordingId::parse(text);
        let named = match path.get("id") {
            Some(id) => Some(contact_center_id(id)?),
            None => queried_contact_center(parts, app).await?,
        };
        let contact_center = match (users_contact_center(parts), named) {
            // Another contact center's recording is, to a user, one that does not exist.
            (Some(own), Some(named)) if named != own => {
                return Err(unknown_recording(text, &own));
            }
            (Some(own), _) => own,
            (None, Some(named)) => named,
            (None, None) => owner(app, text, recording.as_ref().ok()).await?,
        };
        app.contact_center(&contact_center).await?;
        let recording = recording.map_err(|_| unknown_recording(text, &contact_center))?;
        Ok(RecordingScope {
            contact_center,
            recording,
        })
    }
}

/// The contact center of the signed-in user (`None` for the ops user).
fn users_contact_center(parts: &Parts) -> Option<ContactCenterId> {
    parts
        .extensions
        .get::<crate::access::Principal>()
        .and_then(|principal| principal.contact_center())
        .map(|id| ContactCenterId::stored(id.to_owned()))
}

/// The RWS `contactCenterId` parameter, if given.
async fn queried_contact_center(
    parts: &mut Parts,
    app: &AppState,
) -> Result<Option<ContactCenterId>, ApiError> {
    let Query(query) = Query::<Vec<(String, String)>>::from_request_parts(parts, app)
        .await
        .map_err(|_| ApiError::InvalidValue("the query string is malformed".into()))?;
    query
        .iter()
        .find(|(name, _)| name == CONTACT_CENTER_PARAMETER)
        .map(|(_, id)| contact_center_id(id))
        .transpose()
}

fn contact_center_required(why: &str) -> ApiError {
    ApiError::MissingField(format!("{CONTACT_CENTER_PARAMETER}: is required{why}"))
}

/// The one contact center holding a recording with this id (`None`: an id outside the
/// rule, which none holds).
async fn owner(
    app: &AppState,
    text: &str,
    recording: Option<&RecordingId>,
) -> Result<ContactCenterId, ApiError> {
    let missing = || ApiError::NotFound(format!("recording {text:?} does not exist"));
    let Some(recording) = recording else {
        return Err(missing());
    };
    let mut owners = app
        .store
        .contact_centers_with_recording(recording.as_str())
        .await?;
    match owners.len() {
        0 => Err(missing()),
        1 => Ok(ContactCenterId::stored(owners.remove(0))),
        _ => Err(contact_center_required(
            ": the recording id exists in several contact centers",
        )),
    }
}
