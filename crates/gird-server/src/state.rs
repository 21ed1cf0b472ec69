//! What every handler shares.

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use gird_model::{ContactCenter, ContactCenterId, INSERTION_FEATURE};
use gird_store::Store;

use crate::error::unknown_contact_center;
use crate::error::ApiError;
use crate::json_body::BodyLimit;
use crate::s3::{S3Storage, S3};
use crate::seal::Sealer;
use crate::webdav::{Storage, WebDav};

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub body_limit: usize,
    pub public_url: Option<Arc<str>>,
    pub sealer: Arc<Sealer>,
    pub webdav: WebDav,
    pub s3: S3,
    /// The most stored bytes one page of a search holds.
    pub max_page_bytes: usize,
    /// `https` when gird serves TLS, else `http`: the scheme of URLs built from Host.
    pub scheme: &'static str,
    /// The ops user's name, which no user may take.
    pub ops_user: Arc<str>,
    /// Unwrapped content keys of encrypted recordings, and the one RSA unwrapping at a time.
    pub content_keys: Arc<crate::decrypt::content_keys::ContentKeys>,
}

/// `host`, `host:port`, `1.2.3.4:port` or `[v6]:port`, nothing else.
fn is_authority(text: &str) -> bool {
    let (host_ok, port) = match text.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((v6, rest)) => (v6.parse::<std::net::Ipv6Addr>().is_ok(), rest),
            None => return false,
        },
        None => {
            let (host, rest) = match text.find(':') {
                Some(colon) => text.split_at(colon),
                None => (text, ""),
            };
            let labels_ok = host.len() <= 253
                && host.split('.').all(|label| {
                    (1..=63).contains(&label.len())
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                });
            (labels_ok, rest)
        }
    };
    let port_ok = match port.strip_prefix(':') {
        Some(digits) => {
            (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        }
        None => port.is_empty(),
    };
    host_ok && port_ok
}

impl BodyLimit for AppState {
    fn body_limit(&self) -> usize {
        self.body_limit
    }
}

impl AppState {
    pub async fn contact_center(&self, id: &ContactCenterId) -> Result<ContactCenter, ApiError> {
        self.store
            .contact_center(id.as_str())
            .await?
            .ok_or_else(|| unknown_contact_center(id.as_str()))
    }

    /// The contact center, if it may use the Insertion API.
    pub async fn insertion_contact_center(
        &self,
        id: &ContactCenterId,
    ) -> Result<ContactCenter, ApiError> {
        let contact_center = self.contact_center(id).await?;
        if !contact_center.has_feature(INSERTION_FEATURE) {
            return Err(ApiError::Forbidden(format!(
                "contact center {id:?} does not have the feature {INSERTION_FEATURE}"
            )));
        }
        Ok(contact_center)
    }

    /// The contact center's storage with its password opened, if it has one.
    pub async fn storage(&self, contact_center: &str) -> Result<Option<Storage>, ApiError> {
        let Some(settings) = self.store.storage(contact_center).await? else {
            return Ok(None);
        };
        let password = match &settings.sealed_password {
            None => None,
            Some(sealed) => Some(self.sealer.open(sealed).ok_or_else(|| {
                tracing::error!(
                    contact_center,
                    "the storage password does not open with the storage key"
                );
                ApiError::Internal
            })?),
        };
        Ok(Some(Storage::from_settings(settings, password)))
    }

    /// The contact center's S3 settings with the secret opened, if it has some.
    pub async fn s3_storage(&self, contact_center: &str) -> Result<Option<S3Storage>, ApiError> {
        let Some(settings) = self.store.s3_storage(contact_center).await? else {
            return Ok(None);
        };
        let secret = self.sealer.open(&settings.sealed_secret).ok_or_else(|| {
            tracing::error!(
                contact_center,
                "the S3 secret does not open with the storage key"
            );
            ApiError::Internal
        })?;
        S3Storage::open(settings, secret).map(Some)
    }

    /// Base of absolute URLs: the configured public URL (trusted; set it in production),
    /// else this request's Host, which must be a plain `host[:port]` (a client chooses it,
    /// and it ends up in every `mediaUri` of the answer).
    pub fn public_url(&self, headers: &HeaderMap) -> Result<String, ApiError> {
        if let Some(url) = &self.public_url {
            return Ok(url.to_string());
        }
        let Some(host) = headers.get(header::HOST) else {
            return Ok(format!("{}://localhost", self.scheme));
        };
        match host.to_str().ok().filter(|host| is_authority(host)) {
            Some(host) => Ok(format!("{}://{host}", self.scheme)),
            None => Err(ApiError::InvalidValue(
                "the Host header is not a host name or address with an optional port".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_authority;

    #[test]
    fn only_plain_authorities_pass() {
        for good in [
            "gird.example.com",
            "gird.example.com:9999",
            "127.0.0.1:8080",
            "[::1]:8080",
            "localhost",
        ] {
            assert!(is_authority(good), "{good}");
        }
        for bad in [
            "",
            "evil.com/\"><script>",
            "a b",
            "host:port",
            "host:",
            "host:123456",
            "user@host",
            "[::1",
            "..",
            "a..b",
            "[zz]:80",
        ] {
            assert!(!is_authority(bad), "{bad}");
        }
    }
}
