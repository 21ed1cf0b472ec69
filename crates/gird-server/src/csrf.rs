//! CSRF protection: the token is an HMAC of the session id, so any number of gird
//! instances that share the key accept each other's tokens without a shared session
//! store. Tokens are handed out whether protection is on or off (clients written for RWS
//! expect them); only their check depends on the setting.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::error::{ApiError, CSRF_MESSAGE};
use crate::settings::Secret;

pub const SESSION_COOKIE: &str = "JSESSIONID";
pub const TOKEN_HEADER: &str = "X-CSRF-TOKEN";

#[derive(Debug)]
pub struct Csrf {
    key: Secret,
    /// Set the cookie's `Secure` attribute (gird serves HTTPS).
    secure_cookie: bool,
}

impl Csrf {
    pub fn new(key: Secret, secure_cookie: bool) -> Csrf {
        Csrf { key, secure_cookie }
    }

    fn mac(&self, session: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.expose().as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(session.as_bytes());
        mac
    }

    pub fn token(&self, session: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(session).finalize().into_bytes())
    }

    /// Constant-time check of a presented token.
    pub fn accepts(&self, session: &str, token: &str) -> bool {
        match URL_SAFE_NO_PAD.decode(token.trim()) {
            Ok(bytes) => self.mac(session).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }
}

fn session_of(request: &Request) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

fn new_session() -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Middleware, after authentication: with CSRF protection on, a modifying request needs
/// the session cookie and its token.
pub async fn protect(
    State(csrf): State<Arc<Csrf>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let modifying = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::DELETE | Method::PATCH
    );
    if modifying {
        let token = request
            .headers()
            .get(TOKEN_HEADER)
            .and_then(|value| value.to_str().ok());
        let valid = matches!((session_of(&request), token), (Some(session), Some(token)) if csrf.accepts(&session, token));
        if !valid {
            return Err(ApiError::Forbidden(CSRF_MESSAGE.into()));
        }
    }
    Ok(next.run(request).await)
}

/// Middleware around everything: every GET answer, authenticated or not, of a known path
/// or not, and whether protection is on or off, hands out the session's token (and a new
/// session when the request had none). Real GIR clients fetch it from whatever GET they
/// make first, and some fail when no `Set-Cookie` comes back.
pub async fn hand_out(State(csrf): State<Arc<Csrf>>, request: Request, next: Next) -> Response {
    let reading = matches!(*request.method(), Method::GET | Method::HEAD);
    let session = session_of(&request);
    let mut response = next.run(request).await;
    if !reading {
        return response;
    }
    let (session, is_new) = match session {
        Some(session) => (session, false),
        None => (new_session(), true),
    };
    let headers = response.headers_mut();
    headers.insert("X-CSRF-HEADER", HeaderValue::from_static(TOKEN_HEADER));
    if let Ok(token) = HeaderValue::from_str(&csrf.token(&session)) {
        headers.insert(TOKEN_HEADER, token);
    }
    if is_new {
        let secure = if csrf.secure_cookie { "; Secure" } else { "" };
        let cookie = format!("{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax{secure}");
        if let Ok(cookie) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, cookie);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_with_the_same_key_accept_each_others_tokens() {
        let (first, second) = (
            Csrf::new(Secret::new("k1"), false),
            Csrf::new(Secret::new("k1"), false),
        );
        let token = first.token("session-a");
        assert!(second.accepts("session-a", &token));
        assert!(!second.accepts("session-b", &token));
        assert!(!Csrf::new(Secret::new("k2"), false).accepts("session-a", &token));
        assert!(!first.accepts("session-a", "not base64 !"));
    }
}
