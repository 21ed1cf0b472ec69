//! The WebDAV side: where a media file is, and fetching or deleting it with the contact
//! center's credentials.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use gird_model::origin::is_under;
use gird_store::StorageSettings;
use reqwest::Url;

use crate::egress::{address_refused, describe, Cleared, Egress};
use crate::error::ApiError;

/// A contact center's storage, with its password opened.
#[derive(Clone)]
pub struct Storage {
    pub base_url: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl Storage {
    pub fn from_settings(settings: StorageSettings, password: Option<String>) -> Storage {
        Storage {
            base_url: settings.base_url,
            username: settings.username,
            password,
        }
    }
}

/// Where a media file is and whether the storage credentials go with the request: only
/// to URLs under the storage's base URL (same scheme, host and port, and a path below the
/// base path once `..` is resolved), never to any other host a record names. Whether gird
/// may request the URL at all is the outbound policy's decision (`egress`).
pub fn locate(path: &str, storage: Option<&Storage>) -> Result<(Url, bool), ApiError> {
    let lower = path.to_ascii_lowercase();
    let absolute = lower.starts_with("http://") || lower.starts_with("https://");
    let text = if absolute {
        path.to_owned()
    } else {
        let storage = storage.ok_or_else(|| {
            ApiError::NotFound(format!(
                "media path {path:?} is relative and the contact center has no storage baseUrl"
            ))
        })?;
        let base = storage.base_url.trim_end_matches('/');
        format!("{base}/{}", path.trim_start_matches('/'))
    };
    let url = Url::parse(&text)
        .map_err(|_| ApiError::NotFound(format!("media path {path:?} is not a usable URL")))?;
    let under_base = storage.is_some_and(|storage| {
        Url::parse(&storage.base_url).is_ok_and(|base| is_under(&url, &base))
    });
    Ok((url, under_base))
}

#[derive(Clone)]
pub struct WebDav {
    egress: Egress,
    timeout: Duration,
}

impl WebDav {
    pub fn new(timeout: Duration) -> WebDav {
        WebDav {
            egress: Egress::new(|builder| builder.connect_timeout(timeout)),
            timeout,
        }
    }

    fn request(
        &self,
        method: reqwest::Method,
        url: &Cleared,
        storage: Option<&Storage>,
        with_credentials: bool,
    ) -> reqwest::RequestBuilder {
        let mut request = self.egress.request(method, url);
        if let (true, Some(storage)) = (with_credentials, storage) {
            if let Some(user) = &storage.username {
                request = request.basic_auth(user, storage.password.as_deref());
            }
        }
        request
    }

    /// Starts a GET; the body is left to stream. Only the wait for the answer's head is
    /// bounded by the timeout, so a long recording can still stream to a slow player.
    pub async fn get(
        &self,
        url: &Cleared,
        storage: Option<&Storage>,
        with_credentials: bool,
        range: Option<&HeaderValue>,
    ) -> Result<reqwest::Response, ApiError> {
        let mut request = self.request(reqwest::Method::GET, url, storage, with_credentials);
        if let Some(range) = range {
            request = request.header(header::RANGE, range.clone());
        }
        let response = self.send(request, url).await?;
        match response.status() {
            status if status.is_success() => Ok(response),
            StatusCode::NOT_FOUND | StatusCode::GONE => {
                Err(ApiError::NotFound("media file not found on WebDAV".into()))
            }
            StatusCode::RANGE_NOT_SATISFIABLE => Err(ApiError::RangeNotSatisfiable(
                crate::media::unsatisfied_range(response.headers()),
            )),
            status => Err(refused(url, status)),
        }
    }

    /// Deletes a media file; one that is already missing counts as deleted.
    pub async fn delete(
        &self,
        url: &Cleared,
        storage: Option<&Storage>,
        with_credentials: bool,
    ) -> Result<(), ApiError> {
        let request = self.request(reqwest::Method::DELETE, url, storage, with_credentials);
        let response = self.send(request, url).await?;
        match response.status() {
            status if status.is_success() => Ok(()),
            StatusCode::NOT_FOUND | StatusCode::GONE => Ok(()),
            status => Err(refused(url, status)),
        }
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        url: &Cleared,
    ) -> Result<reqwest::Response, ApiError> {
        let url = url.loggable();
        match tokio::time::timeout(self.timeout, request.send()).await {
            Err(_) => {
                tracing::warn!(url, "WebDAV did not answer in time");
                Err(ApiError::GatewayTimeout(
                    "WebDAV did not answer in time".into(),
                ))
            }
            Ok(Err(error)) => {
                if let Some(refusal) = address_refused(&error) {
                    tracing::warn!(url, %refusal, "WebDAV request refused by the outbound policy");
                    return Err(ApiError::Refused(refusal.to_string()));
                }
                let error = describe(error);
                tracing::warn!(url, error, "WebDAV unreachable");
                Err(ApiError::BadGateway("WebDAV is unreachable".into()))
            }
            Ok(Ok(response)) => Ok(response),
        }
    }
}

fn refused(url: &Cleared, status: StatusCode) -> ApiError {
    tracing::warn!(url = url.loggable(), %status, "WebDAV refused the request");
    let reason = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            "WebDAV refused the storage credentials".to_owned()
        }
        status => format!("WebDAV answered HTTP {}", status.as_u16()),
    };
    ApiError::BadGateway(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage() -> Storage {
        Storage {
            base_url: "http://dav.example/rec/".into(),
            username: Some("u".into()),
            password: Some("p".into()),
        }
    }

    #[test]
    fn relative_paths_join_the_base_and_credentials_stay_under_it() {
        let storage = storage();
        let located = |path: &str| {
            let (url, with_credentials) = locate(path, Some(&storage)).unwrap();
            (url.to_string(), with_credentials)
        };
        assert_eq!(
            located("2015/a.mp3"),
            ("http://dav.example/rec/2015/a.mp3".into(), true)
        );
        assert_eq!(
            located("/2015/a.mp3"),
            ("http://dav.example/rec/2015/a.mp3".into(), true)
        );
        assert!(
            locate("http://dav.example/rec/x.mp3", Some(&storage))
                .unwrap()
                .1
        );
        assert!(
            !locate("http://elsewhere.example/x.mp3", Some(&storage))
                .unwrap()
                .1
        );
        assert!(locate("a.mp3", None).is_err());
        for escaping in [
            "../outside.mp3",
            "http://dav.example/rec/../outside.mp3",
            "http://dav.example/record.mp3",
            "http://dav.example@evil.example/rec/x.mp3",
            "http://dav.example/rec@evil.example/rec/x.mp3",
            "http://dav.example:8080/rec/x.mp3",
            "https://dav.example/rec/x.mp3",
        ] {
            assert!(!locate(escaping, Some(&storage)).unwrap().1, "{escaping}");
        }
    }
}
