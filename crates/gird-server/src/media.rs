//! Where a media file's bytes are, decided in one place from its descriptor, and the
//! fetching and deleting of them on that storage (WebDAV or S3) for playback and
//! `deleteMedia`.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::egress::{Cleared, Destinations};
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
/// settings, and where the contact center allows requests to go, are read once, when
/// first needed.
pub struct MediaStore<'a> {
    app: &'a AppState,
    contact_center: &'a str,
    webdav: OnceCell<Option<Storage>>,
    s3: OnceCell<Option<S3Storage>>,
    destinations: OnceCell<Destinations>,
}

impl<'a> MediaStore<'a> {
    pub fn new(app: &'a AppState, contact_center: &'a str) -> MediaStore<'a> {
        MediaStore {
            app,
            contact_center,
            webdav: OnceCell::new(),
            s3: OnceCell::new(),
            destinations: OnceCell::new(),
        }
    }

    /// The media file's WebDAV URL, if the outbound policy lets gird request it, and
    /// whether the storage credentials go with it.
    async fn webdav_url(&self, path: &str) -> Result<(Cleared, bool), ApiError> {
        let storage = self.webdav_storage().await?;
        let (url, with_credentials) = locate(path, storage)?;
        let destinations = self
            .destinations
            .get_or_try_init(|| Destinations::load(self.app.store.as_ref(), self.contact_center))
            .await?;
        let cleared = destinations.clear(url).map_err(|refusal| {
            tracing::warn!(
                contact_center = self.contact_center,
                %refusal,
                "a media file's URL is not requested"
            );
            ApiError::Refused(format!("the media file's URL: {refusal}"))
        })?;
        Ok((cleared, with_credentials))
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
                let (url, with_credentials) = self.webdav_url(path).await?;
                let storage = self.webdav_storage().await?;
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
                let (url, with_credentials) = self.webdav_url(path).await?;
                let storage = self.webdav_storage().await?;
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
/// bytes. The bytes are whatever a record pointed at, so a browser must never run them:
/// only an audio or video type (the media file's `type`, else the storage's) is answered
/// as such; anything else is `application/octet-stream` and a download. Every answer
/// forbids sniffing and runs, if opened at all, sandboxed with nothing allowed.
pub fn playback_headers(
    status: StatusCode,
    upstream: &HeaderMap,
    content_type: Option<&str>,
) -> HeaderMap {
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
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    let upstream_type = upstream
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    // Several ranges come back as one multipart body, which only that type describes.
    let multipart = upstream_type.filter(|kind| {
        status == StatusCode::PARTIAL_CONTENT
            && kind
                .to_ascii_lowercase()
                .starts_with("multipart/byteranges;")
    });
    let playable = multipart.or_else(|| {
        content_type
            .or(upstream_type)
            .filter(|kind| is_playable(kind))
    });
    match playable.and_then(|kind| HeaderValue::from_str(kind).ok()) {
        Some(kind) => {
            headers.insert(header::CONTENT_TYPE, kind);
        }
        None => {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            headers.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment"),
            );
        }
    }
    headers
}

/// The `Content-Range: bytes */<size>` of a storage's 416 answer, when it is that.
pub fn unsatisfied_range(upstream: &HeaderMap) -> Option<String> {
    let range = upstream.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let size = range.strip_prefix("bytes */")?;
    (!size.is_empty() && size.bytes().all(|b| b.is_ascii_digit())).then(|| range.to_owned())
}

/// `audio/...` or `video/...` with a plain subtype and parameters of plain text.
fn is_playable(kind: &str) -> bool {
    let essence = kind.split(';').next().unwrap_or_default().trim();
    let Some((top, subtype)) = essence.split_once('/') else {
        return false;
    };
    let token = |text: &str| {
        !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    (top.eq_ignore_ascii_case("audio") || top.eq_ignore_ascii_case("video"))
        && token(subtype)
        && kind.bytes().all(|b| (0x20..0x7f).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn served(status: StatusCode, upstream: Option<&str>, kind: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(upstream) = upstream {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(upstream).unwrap(),
            );
        }
        playback_headers(status, &headers, kind)
    }

    #[test]
    fn only_audio_and_video_are_served_as_such() {
        let ok = StatusCode::OK;
        for (upstream, kind, expected) in [
            (None, Some("audio/mp3"), "audio/mp3"),
            (Some("text/html"), Some("audio/wav"), "audio/wav"),
            (Some("audio/mpeg"), None, "audio/mpeg"),
            (
                None,
                Some("video/mp4; codecs=avc1"),
                "video/mp4; codecs=avc1",
            ),
            (None, Some("text/html"), "application/octet-stream"),
            (Some("text/html"), None, "application/octet-stream"),
            (None, Some("image/svg+xml"), "application/octet-stream"),
            (None, Some("audio/"), "application/octet-stream"),
            (None, Some("audio/x<script>"), "application/octet-stream"),
            (None, None, "application/octet-stream"),
        ] {
            let headers = served(ok, upstream, kind);
            assert_eq!(
                headers[header::CONTENT_TYPE],
                expected,
                "{upstream:?} {kind:?}"
            );
            assert_eq!(
                headers.contains_key(header::CONTENT_DISPOSITION),
                expected == "application/octet-stream"
            );
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(
                headers[header::CONTENT_SECURITY_POLICY],
                "sandbox; default-src 'none'"
            );
        }
        let multipart = "multipart/byteranges; boundary=3d6b6a416f9b5";
        let parts = served(
            StatusCode::PARTIAL_CONTENT,
            Some(multipart),
            Some("audio/mp3"),
        );
        assert_eq!(parts[header::CONTENT_TYPE], multipart);
        let not_partial = served(ok, Some(multipart), None);
        assert_eq!(
            not_partial[header::CONTENT_TYPE],
            "application/octet-stream"
        );
    }

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
