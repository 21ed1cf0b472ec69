//! The ops API for a contact center's features (docs/API.md "Ops API").

use axum::extract::{Path, State};
use axum::Json;
use gird_store::Removal;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{success, ApiError};
use crate::json_body::JsonBody;
use crate::requests::{FeatureList, FeatureName, FEATURE_URI_PREFIX};
use crate::scope::FoundContactCenter;
use crate::state::AppState;
use crate::store_answers::SettingsWrite;

pub async fn add(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
    JsonBody(request): JsonBody<FeatureList>,
) -> Result<Json<Value>, ApiError> {
    let names: Vec<String> = request
        .uris
        .into_iter()
        .map(FeatureName::into_string)
        .collect();
    let enabled = app.store.enable_features(id.as_str(), &names).await?;
    SettingsWrite::from_store(enabled).or_unknown(&id)?;
    Ok(success())
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
