//! Typed requests to a running gird, and its answers.

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};

use crate::helpers::unique;

pub const FEATURE: &str = "api-supervisor-recording";
pub const FEATURE_URI: &str = "/api/api-supervisor-recording";
pub const CSRF_MESSAGE: &str = "Missing or invalid Csrf token";

/// A session cookie and the CSRF token that goes with it.
#[derive(Clone, Debug)]
pub struct CsrfSession {
    /// `JSESSIONID=<id>`, ready for a `Cookie` header.
    pub cookie: String,
    pub token: String,
}
/// The HTTP side of a running server; cheap to clone into spawned tasks.
#[derive(Clone)]
pub struct Api {
    pub address: String,
    pub client: reqwest::Client,
    pub ops_user: String,
    pub ops_password: String,
    /// Sent with every modifying request of the typed helpers when CSRF is on.
    pub csrf: Option<CsrfSession>,
}
impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A request without credentials.
    pub fn anonymous(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request with the ops credentials, without CSRF token.
    pub fn authed(&self, method: Method, path: &str) -> RequestBuilder {
        self.anonymous(method, path)
            .basic_auth(&self.ops_user, Some(&self.ops_password))
    }

    /// A request with the ops credentials and, when CSRF is on, the session and token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let modifying = method != Method::GET;
        let request = self.authed(method, path);
        match (&self.csrf, modifying) {
            (Some(session), true) => with_csrf(request, session),
            _ => request,
        }
    }

    pub async fn create_contact_center_with(&self, body: &Value) -> ApiResponse {
        send(
            self.request(Method::POST, "/api/v2/ops/contact-centers")
                .json(body),
        )
        .await
    }

    pub async fn create_contact_center(&self, id: &str) -> ApiResponse {
        let response = self
            .create_contact_center_with(&json!({"id": id, "domains": ["example.com"]}))
            .await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "create {id}: {}",
            response.text
        );
        response
    }

    pub async fn add_features(&self, cc: &str, uris: &[&str]) -> ApiResponse {
        let path = format!("/api/v2/ops/contact-centers/{cc}/features");
        send(
            self.request(Method::POST, &path)
                .json(&json!({ "uris": uris })),
        )
        .await
    }

    pub async fn enable_feature(&self, cc: &str) {
        self.add_features(cc, &[FEATURE_URI]).await.assert_ok();
    }

    /// A new contact center with the feature `api-supervisor-recording`.
    pub async fn ready_contact_center(&self) -> String {
        let cc = unique("cc");
        self.create_contact_center(&cc).await;
        self.enable_feature(&cc).await;
        cc
    }

    pub async fn insert(&self, cc: &str, body: &Value) -> ApiResponse {
        let bytes = serde_json::to_vec(body).expect("serialize body");
        self.insert_raw(cc, bytes, Some("application/json")).await
    }

    /// An insert that may fail at the connection level (the server may be gone).
    pub async fn try_insert(&self, cc: &str, body: &Value) -> Result<ApiResponse, reqwest::Error> {
        let path = format!("/internal-api/contact-centers/{cc}/recordings");
        try_send(self.request(Method::POST, &path).json(body)).await
    }

    pub async fn insert_raw(
        &self,
        cc: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
    ) -> ApiResponse {
        let path = format!("/internal-api/contact-centers/{cc}/recordings");
        let mut request = self.request(Method::POST, &path).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        send(request).await
    }

    pub async fn get_recording(&self, cc: &str, id: &str) -> ApiResponse {
        let path = format!(
            "/api/v2/ops/contact-centers/{cc}/recordings/{}",
            encode_segment(id)
        );
        send(self.request(Method::GET, &path)).await
    }

    /// The stored view of a recording that must exist.
    pub async fn recording(&self, cc: &str, id: &str) -> Value {
        let response = self.get_recording(cc, id).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "read {id}: {}",
            response.text
        );
        let body = response.json();
        assert_eq!(body["statusCode"], 0, "{body}");
        body["recording"].clone()
    }

    /// Asserts a rejected insert stored nothing.
    pub async fn assert_absent(&self, cc: &str, id: &str) {
        self.get_recording(cc, id).await.assert_error(404, 6);
    }

    /// GETs with the ops credentials (and `cookie`, if any); answers the response.
    pub async fn csrf_get(&self, cookie: Option<&str>) -> ApiResponse {
        let mut request = self.authed(Method::GET, "/api/v2/ops/contact-centers");
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        send(request).await
    }

    /// A fresh session: the cookie and token a GET hands out.
    pub async fn csrf_session(&self) -> CsrfSession {
        let response = self.csrf_get(None).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        CsrfSession {
            cookie: response.session_cookie().expect("a JSESSIONID cookie"),
            token: response
                .header("x-csrf-token")
                .expect("an X-CSRF-TOKEN header"),
        }
    }
}

pub fn with_csrf(request: RequestBuilder, session: &CsrfSession) -> RequestBuilder {
    request
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.token)
}

/// Percent-encodes everything but unreserved characters (and dots, which `.` and `..`
/// ids would turn into path steps), for one URL path segment.
pub fn encode_segment(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// An answer, read whole.
#[derive(Debug)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

pub async fn send(request: RequestBuilder) -> ApiResponse {
    try_send(request).await.expect("gird answers")
}

pub async fn try_send(request: RequestBuilder) -> Result<ApiResponse, reqwest::Error> {
    let response = request.send().await?;
    Ok(ApiResponse {
        status: response.status(),
        headers: response.headers().clone(),
        text: response.text().await?,
    })
}

impl ApiResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {:?}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let value = self.headers.get(name)?;
        Some(value.to_str().expect("ASCII header").to_owned())
    }

    /// `JSESSIONID=<id>` from a `Set-Cookie` header, if the answer sets one.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find(|value| value.starts_with("JSESSIONID="))
            .map(|value| value.split(';').next().unwrap_or_default().to_owned())
    }

    /// Whether this is the success answer.
    pub fn is_ok(&self) -> bool {
        self.status == StatusCode::OK && self.text == r#"{"statusCode":0}"#
    }

    /// HTTP 200 and exactly `{"statusCode":0}`.
    pub fn assert_ok(&self) {
        assert_eq!(
            (self.status, self.text.as_str()),
            (StatusCode::OK, r#"{"statusCode":0}"#),
            "expected success"
        );
    }

    /// The error envelope with exactly `statusCode` and `statusMessage`; answers the message.
    pub fn assert_error(&self, http: u16, status_code: i64) -> String {
        assert_eq!(self.status.as_u16(), http, "HTTP status of {}", self.text);
        let body = self.json();
        let object = body.as_object().expect("error body is an object");
        let mut keys: Vec<_> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["statusCode", "statusMessage"], "error body: {body}");
        assert_eq!(body["statusCode"], status_code, "statusCode of {body}");
        let message = body["statusMessage"]
            .as_str()
            .expect("statusMessage is a string");
        assert!(!message.is_empty(), "statusMessage is empty");
        message.to_owned()
    }

    /// HTTP 401, statusCode 20, and the Basic challenge.
    pub fn assert_unauthorized(&self) {
        self.assert_error(401, 20);
        assert_eq!(
            self.header("www-authenticate").as_deref(),
            Some(r#"Basic realm="gird""#)
        );
    }
}
