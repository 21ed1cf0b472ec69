//! The S3 side: a contact center's S3 settings opened for use, and GET and DELETE of one
//! object with a SigV4-signed request (rusty-s3 signs, reqwest sends).
//!
//! Bucket and key come from a client's record, so every request is built the same
//! careful way: the bucket must be one the contact center's settings name, it is a valid
//! bucket name for the addressing style, the key has no `.` or `..` segment, rusty-s3
//! percent-encodes both, and the finished URL must still point at the configured
//! endpoint (or `bucket.` + its host) before the request goes out. Redirects are not
//! followed, so the signature goes nowhere else.

pub mod config;

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use gird_model::s3::{is_bucket_name, is_dns_bucket_name, is_object_key};
use reqwest::Url;
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

use crate::egress::{address_refused, describe, Cleared, Egress, Reach};
use crate::error::ApiError;

/// How long a signed URL stays valid: enough for a slow start, too short to be worth
/// stealing from a log (gird never logs one anyway).
const SIGNATURE_LIFETIME: Duration = Duration::from_secs(60);
/// Of an S3 error body, only this much is read, for the `<Code>` in the log.
const ERROR_BODY_BYTES: usize = 8 * 1024;

/// A contact center's S3 settings with the secret opened.
pub struct S3Storage {
    endpoint: Url,
    /// An endpoint the operator configured may be anywhere; AWS's, which gird derives
    /// from the region, only at public addresses.
    reach: Reach,
    region: String,
    credentials: Credentials,
    path_style: bool,
    buckets: Vec<String>,
}

impl S3Storage {
    pub fn open(settings: gird_store::S3Settings, secret: String) -> Result<S3Storage, ApiError> {
        let (endpoint, reach) = match &settings.endpoint {
            Some(endpoint) => (
                Url::parse(endpoint).map_err(|_| {
                    tracing::error!(endpoint, "a stored S3 endpoint does not parse");
                    ApiError::Internal
                })?,
                Reach::Named,
            ),
            None => (aws_endpoint(&settings.region)?, Reach::Public),
        };
        Ok(S3Storage {
            endpoint,
            reach,
            region: settings.region,
            credentials: Credentials::new(settings.access_key_id, secret),
            path_style: settings.path_style,
            buckets: settings.buckets,
        })
    }

    /// The bucket a record names, if the settings allow it.
    fn bucket(&self, name: &str) -> Result<Bucket, ApiError> {
        if !self.buckets.iter().any(|allowed| allowed == name) {
            return Err(ApiError::Forbidden(format!(
                "bucket {name:?} is not one of the contact center's S3 buckets"
            )));
        }
        let (style, valid) = if self.path_style {
            (UrlStyle::Path, is_bucket_name(name))
        } else {
            (UrlStyle::VirtualHost, is_dns_bucket_name(name))
        };
        if !valid {
            return Err(ApiError::Forbidden(format!(
                "bucket {name:?} cannot be addressed with the contact center's S3 settings"
            )));
        }
        Bucket::new(
            self.endpoint.clone(),
            style,
            name.to_owned(),
            self.region.clone(),
        )
        .map_err(|error| {
            tracing::error!(
                bucket = name,
                ?error,
                "no S3 URL can be made for the bucket"
            );
            ApiError::Internal
        })
    }

    /// Whether a signed URL still goes to the configured endpoint: same scheme and port,
    /// and the endpoint's host (path style) or the bucket before it (virtual-hosted).
    fn goes_to_endpoint(&self, url: &Url, bucket: &str) -> bool {
        let host = self.endpoint.host_str().unwrap_or_default();
        let expected_host = if self.path_style {
            host.to_owned()
        } else {
            format!("{bucket}.{host}")
        };
        url.scheme() == self.endpoint.scheme()
            && url.port_or_known_default() == self.endpoint.port_or_known_default()
            && url.host_str() == Some(expected_host.as_str())
            && url.username().is_empty()
            && url.password().is_none()
    }

    /// A signed URL for `action` on `key` in `bucket`, cleared by the outbound policy.
    fn signed(
        &self,
        bucket: &str,
        key: &str,
        sign: impl FnOnce(&Bucket, &Credentials, &str) -> Url,
    ) -> Result<Cleared, ApiError> {
        if !is_object_key(key) {
            return Err(ApiError::NotFound(format!(
                "the object key {key:?} cannot be addressed in S3"
            )));
        }
        let handle = self.bucket(bucket)?;
        let url = sign(&handle, &self.credentials, key);
        if !self.goes_to_endpoint(&url, bucket) {
            tracing::error!(
                bucket,
                key,
                "a signed S3 URL would leave the configured endpoint"
            );
            return Err(ApiError::Internal);
        }
        crate::egress::clear(url, self.reach).map_err(|refusal| {
            tracing::warn!(bucket, key, %refusal, "the S3 endpoint is not requested");
            ApiError::Refused(format!("the contact center's S3 endpoint: {refusal}"))
        })
    }
}

fn aws_endpoint(region: &str) -> Result<Url, ApiError> {
    Url::parse(&format!("https://s3.{region}.amazonaws.com")).map_err(|_| {
        tracing::error!(region, "no AWS S3 endpoint can be made for the region");
        ApiError::Internal
    })
}

#[derive(Clone)]
pub struct S3 {
    egress: Egress,
    timeout: Duration,
}

impl S3 {
    pub fn new(timeout: Duration) -> S3 {
        S3 {
            egress: Egress::new(|builder| builder.connect_timeout(timeout)),
            timeout,
        }
    }

    /// Starts a GET of the object; the body is left to stream. Only the wait for the
    /// answer's head is bounded by the timeout.
    pub async fn get(
        &self,
        storage: &S3Storage,
        bucket: &str,
        key: &str,
        range: Option<&HeaderValue>,
    ) -> Result<reqwest::Response, ApiError> {
        let url = storage.signed(bucket, key, |handle, credentials, key| {
            handle
                .get_object(Some(credentials), key)
                .sign(SIGNATURE_LIFETIME)
        })?;
        let mut request = self.egress.request(reqwest::Method::GET, &url);
        if let Some(range) = range {
            request = request.header(header::RANGE, range.clone());
        }
        let response = self.send(request, bucket, key).await?;
        match response.status() {
            status if status.is_success() => Ok(response),
            StatusCode::NOT_FOUND => {
                log_refusal(response, bucket, key, self.timeout).await;
                Err(ApiError::NotFound("media file not found in S3".into()))
            }
            StatusCode::RANGE_NOT_SATISFIABLE => Err(ApiError::RangeNotSatisfiable(
                crate::media::unsatisfied_range(response.headers()),
            )),
            _ => Err(refused(response, bucket, key, self.timeout).await),
        }
    }

    /// Deletes the object; one that is already missing counts as deleted (S3 itself
    /// answers 204 either way).
    pub async fn delete(
        &self,
        storage: &S3Storage,
        bucket: &str,
        key: &str,
    ) -> Result<(), ApiError> {
        let url = storage.signed(bucket, key, |handle, credentials, key| {
            handle
                .delete_object(Some(credentials), key)
                .sign(SIGNATURE_LIFETIME)
        })?;
        let request = self.egress.request(reqwest::Method::DELETE, &url);
        let response = self.send(request, bucket, key).await?;
        match response.status() {
            status if status.is_success() => Ok(()),
            StatusCode::NOT_FOUND => Ok(()),
            _ => Err(refused(response, bucket, key, self.timeout).await),
        }
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        bucket: &str,
        key: &str,
    ) -> Result<reqwest::Response, ApiError> {
        match tokio::time::timeout(self.timeout, request.send()).await {
            Err(_) => {
                tracing::warn!(bucket, key, "S3 did not answer in time");
                Err(ApiError::GatewayTimeout("S3 did not answer in time".into()))
            }
            Ok(Err(error)) => {
                if let Some(refusal) = address_refused(&error) {
                    tracing::warn!(bucket, key, %refusal, "S3 request refused by the outbound policy");
                    return Err(ApiError::Refused(format!(
                        "the contact center's S3 endpoint: {refusal}"
                    )));
                }
                // Without the URL: it carries the signature.
                let error = describe(error);
                tracing::warn!(bucket, key, error, "S3 unreachable");
                Err(ApiError::BadGateway("S3 is unreachable".into()))
            }
            Ok(Ok(response)) => Ok(response),
        }
    }
}

/// Logs S3's error code (never its message or the URL) and says what failed, without
/// passing on anything S3 wrote.
async fn refused(
    response: reqwest::Response,
    bucket: &str,
    key: &str,
    timeout: Duration,
) -> ApiError {
    let status = response.status();
    log_refusal(response, bucket, key, timeout).await;
    let reason = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            "S3 refused the storage credentials".to_owned()
        }
        status => format!("S3 answered HTTP {}", status.as_u16()),
    };
    ApiError::BadGateway(reason)
}

async fn log_refusal(response: reqwest::Response, bucket: &str, key: &str, timeout: Duration) {
    let status = response.status();
    let body = tokio::time::timeout(timeout, error_body(response))
        .await
        .unwrap_or_default();
    let code = error_code(&body).unwrap_or("-");
    tracing::warn!(bucket, key, %status, code, "S3 refused the request");
}

async fn error_body(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body
}

/// `<Code>NoSuchKey</Code>` of an S3 error document, if it is a plain word.
fn error_code(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let length = text[start..].find("</Code>")?;
    let code = &text[start..start + length];
    (!code.is_empty() && code.len() <= 64 && code.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(endpoint: Option<&str>, path_style: bool) -> S3Storage {
        S3Storage::open(
            gird_store::S3Settings {
                endpoint: endpoint.map(str::to_owned),
                region: "eu-west-1".into(),
                access_key_id: "AKIDEXAMPLE".into(),
                sealed_secret: String::new(),
                path_style,
                buckets: vec!["acme-rec".into(), "Legacy_Bucket".into()],
            },
            "secret".into(),
        )
        .unwrap()
    }

    fn get(storage: &S3Storage, bucket: &str, key: &str) -> Result<Url, ApiError> {
        storage
            .signed(bucket, key, |handle, credentials, key| {
                handle
                    .get_object(Some(credentials), key)
                    .sign(SIGNATURE_LIFETIME)
            })
            .map(|cleared| cleared.url().clone())
    }

    #[test]
    fn urls_go_to_the_endpoint_with_bucket_and_key_encoded() {
        let aws = storage(None, false);
        let url = get(&aws, "acme-rec", "calls/2024/a b#?.mp3").unwrap();
        assert_eq!(url.host_str(), Some("acme-rec.s3.eu-west-1.amazonaws.com"));
        assert_eq!(url.path(), "/calls/2024/a%20b%23%3F.mp3");
        assert!(url.query().unwrap().contains("X-Amz-Signature="));
        assert!(!url.as_str().contains("secret"));

        let local = storage(Some("http://127.0.0.1:9000/prefix"), true);
        let url = get(&local, "Legacy_Bucket", "/a@b:c/%2e%2e/x").unwrap();
        assert_eq!(url.host_str(), Some("127.0.0.1"));
        assert_eq!(url.port(), Some(9000));
        assert_eq!(url.path(), "/prefix/Legacy_Bucket//a%40b%3Ac/%252e%252e/x");
    }

    #[test]
    fn buckets_and_keys_that_could_go_elsewhere_are_refused() {
        let aws = storage(None, false);
        for (bucket, key) in [
            ("other-bucket", "a.mp3"),
            ("Legacy_Bucket", "a.mp3"),
            ("evil.example", "a.mp3"),
            ("acme-rec", "../other/a.mp3"),
            ("acme-rec", "a/./b"),
            ("acme-rec", ""),
        ] {
            assert!(get(&aws, bucket, key).is_err(), "{bucket} {key}");
        }
        let local = storage(Some("http://127.0.0.1:9000"), true);
        assert!(matches!(
            get(&local, "acme-rec/../x", "a"),
            Err(ApiError::Forbidden(_))
        ));
    }

    #[test]
    fn a_configured_endpoint_may_be_internal_and_never_unusable() {
        assert!(get(
            &storage(Some("http://127.0.0.1:9000"), true),
            "acme-rec",
            "a"
        )
        .is_ok());
        assert!(get(
            &storage(Some("http://10.0.0.5:9000"), true),
            "acme-rec",
            "a"
        )
        .is_ok());
        let unusable = get(&storage(Some("http://0.0.0.0:9000"), true), "acme-rec", "a");
        match unusable {
            Err(ApiError::Refused(message)) => {
                assert!(message.contains("0.0.0.0"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(storage(None, false).reach, Reach::Public);
        assert_eq!(
            storage(Some("http://127.0.0.1:9000"), true).reach,
            Reach::Named
        );
    }

    #[test]
    fn error_codes_are_read_only_when_plain() {
        let body = b"<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>x</Message></Error>";
        assert_eq!(error_code(body), Some("SignatureDoesNotMatch"));
        assert_eq!(error_code(b"<Code>a b</Code>"), None);
        assert_eq!(error_code(b"no xml"), None);
    }
}
