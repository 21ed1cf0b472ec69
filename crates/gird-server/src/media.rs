//! Where a media file's bytes are, decided in one place from its descriptor, and the
//! fetching and deleting of them on that storage (WebDAV or S3) for playback and
//! `deleteMedia`.

use axum::http::{header, HeaderMap, HeaderValue};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::error::ApiError;
use crate::s3::S3Storage;
use crate::state::AppState;
use crate::webdav::{locate, Storage};

/// The storage of one media file, as its `mediaDescriptor` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location<'a> {
    /// `path`: a URL, or a path under the contact center's WebDAV base URL.
    WebDav { path: &'a str },
    /// `path` is the object key, `data.bucket` the bucket.
    S3 { bucket: &'a str, key: &'a str },
}

impl<'a> Location<'a> {
    /// Reads a stored media file's descriptor (checked when it was inserted).
    pub fn of(media_file: &'a Value) -> Result<Location<'a>, ApiError> {
        let descriptor = &media_file["mediaDescriptor"];
        let path = descriptor["path"].as_str().unwrap_or_default();
        let storage = descriptor["storage"].as_str().unwrap_or_default();
        if !storage.eq_ignore_ascii_case("awsS3") {
            return Ok(Location::WebDav { path });
        }
        match descriptor["data"]["bucket"].as_str() {
            Some(bucket) => Ok(Location::S3 { bucket, key: path }),
            None => Err(ApiError::NotFound(
                "the media file's S3 descriptor names no bucket".into(),
            )),
        }
    }
}

/// One contact center's media storage for the length of a request; each storage's
/// settings are read once, when first needed.
pub struct MediaStore<'a> {
    app: &'a AppState,
    contact_center: &'a str,
    webdav: OnceCell<Option<Storage>>,
    s3: OnceCell<Option<S3Storage>>,
}

impl<'a> MediaStore<'a> {
    pub fn new(app: &'a AppState, contact_center: &'a str) -> MediaStore<'a> {
        MediaStore {
            app,
            contact_center,
            webdav: OnceCell::new(),
            s3: OnceCell::new(),
        }
    }

    async fn webdav_storage(&self) -> Result<Option<&Storage>, ApiError> {
        let storage = self
            .webdav
            .get_or_try_init(|| self.app.storage(self.contact_center))
            .await?;
        Ok(storage.as_ref())
    }

    async fn s3_storage(&self, bucket: &str) -> Result<&S3Storage, ApiError> {
        let storage = self
            .s3
            .get_or_try_init(|| self.app.s3_storage(self.contact_center))
            .await?;
        storage.as_ref().ok_or_else(|| {
            ApiError::NotFound(format!(
                "the media file is in S3 bucket {bucket:?} and contact center {:?} has no S3 settings",
                self.contact_center
            ))
        })
    }

    /// Starts fetching the media file (`range` passed on); the body streams.
    pub async fn open(
        &self,
        location: &Location<'_>,
        range: Option<&HeaderValue>,
    ) -> Result<reqwest::Response, ApiError> {
        match *location {
            Location::WebDav { path } => {
                let storage = self.webdav_storage().await?;
                let (url, with_credentials) = locate(path, storage)?;
                self.app
                    .webdav
                    .get(&url, storage, with_credentials, range)
                    .await
            }
            Location::S3 { bucket, key } => {
                let storage = self.s3_storage(bucket).await?;
                self.app.s3.get(storage, bucket, key, range).await
            }
        }
    }

    /// Deletes the media file; one already missing counts as deleted.
    pub async fn delete(&self, location: &Location<'_>) -> Result<(), ApiError> {
        match *location {
            Location::WebDav { path } => {
                let storage = self.webdav_storage().await?;
                let (url, with_credentials) = locate(path, storage)?;
                self.app
                    .webdav
                    .delete(&url, storage, with_credentials)
                    .await
            }
            Location::S3 { bucket, key } => {
                let storage = self.s3_storage(bucket).await?;
                self.app.s3.delete(storage, bucket, key).await
            }
        }
    }
}

/// The headers of a playback answer, taken from the storage's where they describe the
/// bytes; the media file's `type`, when it has one, is the content type.
pub fn playback_headers(upstream: &HeaderMap, content_type: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for name in [
        header::CONTENT_LENGTH,
        header::CONTENT_RANGE,
        header::LAST_MODIFIED,
        header::ETAG,
    ] {
        if let Some(value) = upstream.get(&name) {
            headers.insert(name, value.clone());
        }
    }
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let content_type = content_type
        .and_then(|t| HeaderValue::from_str(t).ok())
        .or_else(|| upstream.get(header::CONTENT_TYPE).cloned())
        .unwrap_or_else(|| HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_descriptor_names_the_storage() {
        let webdav = json!({"mediaDescriptor": {"storage": "webDAV", "path": "a/b.mp3"}});
        assert_eq!(
            Location::of(&webdav).unwrap(),
            Location::WebDav { path: "a/b.mp3" }
        );
        let s3 = json!({"mediaDescriptor": {"storage": "AWSs3", "path": "k/a.mp3", "data": {"bucket": "acme"}}});
        assert_eq!(
            Location::of(&s3).unwrap(),
            Location::S3 {
                bucket: "acme",
                key: "k/a.mp3"
            }
        );
        let no_bucket = json!({"mediaDescriptor": {"storage": "awsS3", "path": "k"}});
        assert!(matches!(
            Location::of(&no_bucket),
            Err(ApiError::NotFound(_))
        ));
    }
}
