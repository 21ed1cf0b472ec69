//! What every handler shares.

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use gird_store::{ContactCenter, Store, INSERTION_FEATURE};

use crate::error::ApiError;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub body_limit: usize,
    pub public_url: Option<Arc<str>>,
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
