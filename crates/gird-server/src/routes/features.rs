//! The ops API for a contact center's features (docs/API.md "Ops API").

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use gird_store::Removal;
use serde::Deserialize;
use serde_json::{json, Value};

use super::contact_centers::string_list;
use crate::body::json_object;
use crate::error::{success, ApiError};
use crate::scope::FoundContactCenter;
use crate::state::AppState;
use crate::store_answers::SettingsWrite;

pub async fn add(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let request = json_object(&headers, body, app.body_limit).await?;
    let names = string_list(&request, "uris")?
        .iter()
        .map(|uri| feature_name(uri))
        .collect::<Result<Vec<_>, _>>()?;
    let enabled = app.store.enable_features(id.as_str(), &names).await?;
    SettingsWrite::from_store(enabled).or_unknown(&id)?;
    Ok(success())
}

const FEATURE_URI_PREFIX: &str = "/api/";

/// `/api/api-supervisor-recording` or the bare name.
fn feature_name(uri: &str) -> Result<String, ApiError> {
    let name = uri.strip_prefix(FEATURE_URI_PREFIX).unwrap_or(uri);
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-_.".contains(&b);
    if (1..=128).contains(&name.len()) && name.bytes().all(allowed) {
        Ok(name.to_owned())
    } else {
        Err(ApiError::InvalidValue(format!(
            "uris: {uri:?} is not a feature name or /api/<feature> URI"
        )))
    }
}

pub async fn list(found: FoundContactCenter) -> Json<Value> {
    let uris: Vec<String> = found
        .contact_center
        .features
        .iter()
        .map(|name| format!("{FEATURE_URI_PREFIX}{name}"))
        .collect();
    Json(json!({"statusCode": 0, "uris": uris}))
}

/// The `{name}` of `.../features/{name}`.
#[derive(Deserialize)]
pub struct FeaturePath {
    name: String,
}

pub async fn remove(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
    Path(FeaturePath { name }): Path<FeaturePath>,
) -> Result<Json<Value>, ApiError> {
    match app.store.disable_feature(id.as_str(), &name).await? {
        Removal::Removed => Ok(success()),
        _ => Err(ApiError::NotFound(format!(
            "feature {name:?} is not enabled for contact center {id:?}"
        ))),
    }
}
