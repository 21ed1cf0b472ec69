//! `DELETE .../recordings/{recording}`, with its media files on `deleteMedia=true`: the
//! deletion itself is `crate::service::deletion`'s.

use axum::extract::{Query, State};
use axum::Extension;
use axum::Json;
use serde_json::Value;

use crate::access::{admit, Principal};
use crate::audit::Actor;
use crate::error::{success, ApiError};
use crate::scope::RecordingScope;
use crate::service::deletion::{self, MediaFiles};
use crate::state::AppState;
use gird_model::access::Operation;

pub async fn delete(
    State(app): State<AppState>,
    principal: Principal,
    actor: Option<Extension<Actor>>,
    scope: RecordingScope,
    Query(parameters): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let media = media_files(&parameters)?;
    let (cc, id) = (&scope.contact_center, &scope.recording);
    admit(&*app.store, &principal, cc, id.as_str(), Operation::Delete).await?;
    deletion::delete(&app, actor.as_deref(), cc, id, media).await?;
    Ok(success())
}

/// `deleteMedia`: `true`, or `false` (the default).
fn media_files(parameters: &[(String, String)]) -> Result<MediaFiles, ApiError> {
    const NAME: &str = "deleteMedia";
    match parameters
        .iter()
        .find(|(name, _)| name == NAME)
        .map(|(_, value)| value.as_str())
    {
        None | Some("false") => Ok(MediaFiles::Kept),
        Some("true") => Ok(MediaFiles::Deleted),
        Some(other) => Err(ApiError::InvalidValue(format!(
            "{NAME}: {other:?} is neither true nor false"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(query: &[(&str, &str)]) -> Result<MediaFiles, ApiError> {
        let parameters: Vec<(String, String)> = query
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        media_files(&parameters)
    }

    #[test]
    fn delete_media_is_true_or_false() {
        assert_eq!(asked(&[]), Ok(MediaFiles::Kept));
        assert_eq!(asked(&[("deleteMedia", "false")]), Ok(MediaFiles::Kept));
        assert_eq!(
            asked(&[("other", "x"), ("deleteMedia", "true")]),
            Ok(MediaFiles::Deleted)
        );
        assert_eq!(
            asked(&[("deleteMedia", "yes")]),
            Err(ApiError::InvalidValue(
                "deleteMedia: \"yes\" is neither true nor false".into()
            ))
        );
    }
}
