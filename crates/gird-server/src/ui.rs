//! The web UI: a small page to find and play recordings, served from the binary (its
//! files are embedded at build time; it loads nothing from elsewhere).
//!
//! Signing in trades the ops user's password for a session cookie (`HttpOnly`,
//! `SameSite=Strict`, 12 hours), so that the browser's audio player, which cannot send an
//! `Authorization` header, can stream recordings with Range requests like any client.
//! The cookie is an HMAC under a key derived from the CSRF key, so every instance that
//! shares `csrfKey` accepts it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::auth::OpsCredentials;
use crate::body::{json_object, optional_text};
use crate::error::ApiError;
use crate::settings::Secret;

pub const COOKIE: &str = "gird_ui";
/// The header the UI sends with every request that changes something.
pub const UI_HEADER: &str = "x-gird-ui";
const SESSION_SECONDS: i64 = 12 * 3600;

const INDEX: &str = include_str!("../ui/index.html");
const SCRIPT: &str = include_str!("../ui/app.js");
const STYLE: &str = include_str!("../ui/app.css");
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; media-src 'self'; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

pub struct Sessions {
    key: [u8; 32],
    user: String,
}

impl Sessions {
    pub fn new(key: &Secret, ops_user: &str) -> Sessions {
        let mut digest = Sha256::new();
        digest.update(b"gird web UI session\n");
        digest.update(ops_user.as_bytes());
        digest.update(b"\n");
        digest.update(key.expose().as_bytes());
        Sessions {
            key: digest.finalize().into(),
            user: ops_user.to_owned(),
        }
    }

    /// The user a session signs in as.
    pub fn user(&self) -> &str {
        &self.user
    }

    fn mac(&self, expiry: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(expiry.to_string().as_bytes());
        mac
    }

    /// `<expiry>.<hex MAC>`.
    fn issue(&self, now: i64) -> String {
        let expiry = now + SESSION_SECONDS;
        let mac = self.mac(expiry).finalize().into_bytes();
        let hex: String = mac.iter().map(|byte| format!("{byte:02x}")).collect();
        format!("{expiry}.{hex}")
    }

    fn accepts(&self, token: &str, now: i64) -> bool {
        let Some((expiry, hex)) = token.split_once('.') else {
            return false;
        };
        let Ok(expiry) = expiry.parse::<i64>() else {
            return false;
        };
        let bytes: Option<Vec<u8>> = (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect();
        match bytes {
            Some(bytes) if expiry > now => self.mac(expiry).verify_slice(&bytes).is_ok(),
            _ => false,
        }
    }

    /// Whether the request carries a valid session cookie.
    pub fn admits(&self, request: &Request) -> bool {
        cookie(request.headers(), COOKIE).is_some_and(|token| self.accepts(&token, now()))
    }
}

fn now() -> i64 {
    gird_model::datetime::now_millis() / 1000
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

type PeerAddress = axum::extract::ConnectInfo<std::net::SocketAddr>;

#[derive(Clone)]
struct UiState {
    credentials: Arc<OpsCredentials>,
    sessions: Arc<Sessions>,
    body_limit: usize,
}

/// The UI's pages and its sign-in, outside the ops authentication.
pub fn router(
    credentials: Arc<OpsCredentials>,
    sessions: Arc<Sessions>,
    body_limit: usize,
) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .route(
            "/ui/",
            get(|| async { asset(INDEX, "text/html; charset=utf-8") }),
        )
        .route(
            "/ui/app.js",
            get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/ui/app.css",
            get(|| async { asset(STYLE, "text/css; charset=utf-8") }),
        )
        .route("/ui/session", post(sign_in).delete(sign_out))
        .with_state(UiState {
            credentials,
            sessions,
            body_limit,
        })
}

fn asset(text: &'static str, content_type: &'static str) -> Response {
    let mut response = text.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn session_cookie(value: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict"
    ))
    .expect("a cookie of ASCII text")
}

/// `POST /ui/session` `{"user":"ops","password":"..."}`: the session cookie, or 401/20.
async fn sign_in(
    State(ui): State<UiState>,
    peer: Option<axum::Extension<PeerAddress>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let request = json_object(&headers, body, ui.body_limit).await?;
    let user = optional_text(&request, "user")?.unwrap_or_default();
    let password = optional_text(&request, "password")?.unwrap_or_default();
    let ip = peer.map(|peer| peer.0 .0.ip());
    if !ui.credentials.check_from(ip, &user, &password).await? {
        // Not the user name: one typed into the password field would be logged.
        tracing::info!(peer = ?ip, "rejected a web UI sign-in");
        return Ok(crate::auth::unauthenticated(true));
    }
    let mut response = Json(json!({"statusCode": 0, "user": user})).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&ui.sessions.issue(now()), SESSION_SECONDS),
    );
    Ok(response)
}

async fn sign_out() -> Response {
    let mut response = (StatusCode::OK, Json::<Value>(json!({"statusCode": 0}))).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie("", 0));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_and_cannot_be_forged() {
        let sessions = Sessions::new(&Secret::new("key"), "ops");
        let token = sessions.issue(1_000);
        assert!(sessions.accepts(&token, 1_001));
        assert!(!sessions.accepts(&token, 1_000 + SESSION_SECONDS));
        let (expiry, mac) = token.split_once('.').unwrap();
        let extended = format!("{}.{mac}", expiry.parse::<i64>().unwrap() + 1);
        assert!(!sessions.accepts(&extended, 1_001));
        assert!(!sessions.accepts("garbage", 1_001));
        let other = Sessions::new(&Secret::new("other key"), "ops");
        assert!(!other.accepts(&token, 1_001));
        let other_user = Sessions::new(&Secret::new("key"), "admin");
        assert!(!other_user.accepts(&token, 1_001));
    }
}
