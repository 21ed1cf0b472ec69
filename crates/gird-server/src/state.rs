//! What every handler shares.

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use gird_store::{ContactCenter, Store, INSERTION_FEATURE};

use crate::error::ApiError;
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
}

impl AppState {
    pub async fn contact_center(&self, id: &str) -> Result<ContactCenter, ApiError> {
        self.store
            .contact_center(id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("contact center {id:?} does not exist")))
    }

    /// The contact center, if it may use the Insertion API.
    pub async fn insertion_contact_center(&self, id: &str) -> Result<ContactCenter, ApiError> {
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

    /// Base of absolute URLs: the configured public URL, else this request's Host.
    pub fn public_url(&self, headers: &HeaderMap) -> String {
        if let Some(url) = &self.public_url {
            return url.to_string();
        }
        let host = headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}")
    }
}
