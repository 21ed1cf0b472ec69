//! The web UI: a small page to find and play recordings, served from the binary (its
//! files are embedded at build time; it loads nothing from elsewhere).
//!
//! Signing in trades a password for a session cookie (`HttpOnly`, `SameSite=Strict`,
//! `Secure` over HTTPS, 12 hours; a directory user's, 1 hour), so that the browser's audio
//! player, which cannot send an `Authorization` header, can stream recordings with Range
//! requests like any client. The cookie is a random token; the database keeps its SHA-256, so every
//! instance on the database accepts it, and signing out (or changing the ops password)
//! ends it everywhere at once.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gird_store::Store;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::access::{Principal, SignedIn, DIRECTORY, LOCAL};
use crate::auth::Gate;
use crate::error::ApiError;
use crate::json_body::{BodyLimit, JsonBody};
use crate::requests::SignIn;
use crate::settings::Secret;

pub const COOKIE: &str = "gird_ui";
/// The header the UI sends with every request that changes something.
pub const UI_HEADER: &str = "x-gird-ui";
const SESSION_SECONDS: i64 = 12 * 3600;
/// A directory user's session: their groups are read again at the next sign-in.
const DIRECTORY_SESSION_SECONDS: i64 = 3600;

const INDEX: &str = include_str!("../ui/index.html");
const SCRIPT: &str = include_str!("../ui/app.js");
const STYLE: &str = include_str!("../ui/app.css");
const ICON: &str = include_str!("../ui/favicon.svg");
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; media-src 'self'; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

pub struct Sessions {
    store: Arc<dyn Store>,
    user: String,
    /// A fingerprint of the ops credentials: sessions made under others no longer count.
    stamp: String,
    secure: bool,
    /// Whether directory users' sessions count (the directory is configured).
    directory: bool,
}

impl Sessions {
    /// `password` is the ops password as configured (clear or hashed): when it changes,
    /// every session made before ends.
    pub fn new(
        store: Arc<dyn Store>,
        ops_user: &str,
        password: &Secret,
        secure: bool,
        directory: bool,
    ) -> Sessions {
        let mut digest = Sha256::new();
        digest.update(b"gird web UI session stamp\n");
        digest.update(ops_user.as_bytes());
        digest.update(b"\n");
        digest.update(password.expose().as_bytes());
        Sessions {
            store,
            user: ops_user.to_owned(),
            stamp: hex(&digest.finalize()),
            secure,
            directory,
        }
    }

    /// The user a session signs in as.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// A new session of `principal`: its token, for the cookie, and how many seconds it
    /// lasts. A user's session keeps their name in lower case (the key their deletion ends
    /// sessions by) and their stamp; a directory user's stamp is what the directory gave
    /// them, and their session is shorter, since the directory is not asked again.
    async fn issue(&self, principal: &Principal, now: i64) -> Result<(String, i64), ApiError> {
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
        let token = hex(&bytes);
        let (user, stamp) = match principal {
            Principal::Ops => (self.user.clone(), self.stamp.clone()),
            Principal::User(signed_in) => (
                signed_in.user.name.to_lowercase(),
                signed_in.user.stamp.clone(),
            ),
        };
        let seconds = match principal {
            Principal::User(signed_in) if signed_in.source == DIRECTORY => {
                DIRECTORY_SESSION_SECONDS
            }
            _ => SESSION_SECONDS,
        };
        let session = gird_store::Session {
            token_hash: token_hash(&token),
            user,
            stamp,
            expires_ms: (now + seconds) * 1000,
        };
        self.store.put_session(session, now * 1000).await?;
        Ok((token, seconds))
    }

    /// Who a live session is of: the ops user while the ops credentials are those it was
    /// made under, a user while they exist with the stamp it was made with.
    async fn accepts(&self, token: &str, now: i64) -> Result<Option<Principal>, ApiError> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let Some(session) = self.store.session(&token_hash(token)).await? else {
            return Ok(None);
        };
        if session.expires_ms <= now * 1000 {
            return Ok(None);
        }
        let same = |a: &str, b: &str| bool::from(a.as_bytes().ct_eq(b.as_bytes()));
        if session.user == self.user {
            return Ok(same(&session.stamp, &self.stamp).then_some(Principal::Ops));
        }
        let stored = self.store.user(&session.user).await?;
        if crate::directory::is_directory_stamp(&session.stamp) {
            // A stored user of that name, made since, takes the name over.
            if stored.is_some() || !self.directory {
                return Ok(None);
            }
            return Ok(crate::directory::user_of_stamp(&session.stamp)
                .filter(|user| user.name.to_lowercase() == session.user)
                .map(|user| Principal::User(Arc::new(SignedIn::new(user, DIRECTORY)))));
        }
        let Some(user) = stored else {
            return Ok(None);
        };
        Ok(same(&session.stamp, &user.stamp)
            .then(|| Principal::User(Arc::new(SignedIn::new(user, LOCAL)))))
    }

    /// Who the request's session cookie is of, if it is live.
    pub async fn admits(&self, headers: &HeaderMap) -> Result<Option<Principal>, ApiError> {
        match cookie(headers, COOKIE) {
            Some(token) => self.accepts(&token, now()).await,
            None => Ok(None),
        }
    }

    /// Ends the request's session, if it has one.
    async fn end(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        if let Some(token) = cookie(headers, COOKIE) {
            self.store.delete_session(&token_hash(&token)).await?;
        }
        Ok(())
    }

    fn cookie(&self, value: &str, max_age: i64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
        ))
        .expect("a cookie of ASCII text")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
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
    gate: Arc<Gate>,
    body_limit: usize,
}

/// The UI's pages and its sign-in, outside the ops authentication.
pub fn router(gate: Arc<Gate>, body_limit: usize) -> Router {
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
        .route(
            "/ui/favicon.svg",
            get(|| async { asset(ICON, "image/svg+xml") }),
        )
        .route("/ui/session", post(sign_in).delete(sign_out))
        .with_state(UiState { gate, body_limit })
}

impl BodyLimit for UiState {
    fn body_limit(&self) -> usize {
        self.body_limit
    }
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

/// `POST /ui/session` `{"user":"ops","password":"..."}`: the session cookie, or 401/20.
async fn sign_in(
    State(ui): State<UiState>,
    peer: Option<axum::Extension<PeerAddress>>,
    JsonBody(request): JsonBody<SignIn>,
) -> Result<Response, ApiError> {
    let user = request.user.unwrap_or_default();
    let password = request.password.unwrap_or_else(|| Secret::new(""));
    let ip = peer.map(|peer| peer.0 .0.ip());
    let Some(principal) = ui.gate.sign_in(ip, &user, password.expose()).await? else {
        // Not the user name: one typed into the password field would be logged.
        tracing::info!(peer = ?ip, "rejected a web UI sign-in");
        return Ok(crate::auth::unauthenticated(true));
    };
    let (token, seconds) = ui.gate.sessions.issue(&principal, now()).await?;
    let mut response = Json(json!({"statusCode": 0, "user": user})).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, ui.gate.sessions.cookie(&token, seconds));
    Ok(response)
}

/// `DELETE /ui/session`: ends the session on the server (the cookie no longer works, even
/// replayed) and clears it in the browser.
async fn sign_out(State(ui): State<UiState>, headers: HeaderMap) -> Result<Response, ApiError> {
    ui.gate.sessions.end(&headers).await?;
    let mut response = (StatusCode::OK, Json::<Value>(json!({"statusCode": 0}))).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, ui.gate.sessions.cookie("", 0));
    Ok(response)
}
