//! The server as an HTTP client sees it: where it is, the headers every request
//! carries (Basic auth, and the CSRF cookie and token when the server wants them),
//! and the few ops calls the benchmark needs.

use anyhow::{bail, Context};
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{
    HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, COOKIE, HOST, SET_COOKIE,
};
use hyper::{HeaderMap, Method, Request, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

pub const FEATURE: &str = "/api/api-supervisor-recording";

pub struct Session {
    /// `host:port`, what the load driver connects to.
    pub authority: String,
    base_path: String,
    /// Sent with every request, inserts and ops calls alike.
    pub headers: HeaderMap,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    fn describe(&self) -> String {
        format!(
            "HTTP {} {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        )
    }
}

/// The `Authorization` header of HTTP Basic credentials.
fn basic(user: &str, password: &str) -> anyhow::Result<HeaderValue> {
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    Ok(HeaderValue::from_str(&format!("Basic {credentials}"))?)
}

impl Session {
    pub fn new(base_url: &str, user: &str, password: &str) -> anyhow::Result<Self> {
        let uri: Uri = base_url
            .parse()
            .with_context(|| format!("{base_url:?} is not a URL"))?;
        if uri.scheme_str() != Some("http") {
            bail!("{base_url}: only plain http:// servers can be benchmarked");
        }
        let authority = uri.authority().context("the URL has no host")?;
        let authority = match authority.port() {
            Some(_) => authority.to_string(),
            None => format!("{}:80", authority.host()),
        };
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_str(&authority)?);
        headers.insert(AUTHORIZATION, basic(user, password)?);
        Ok(Self {
            authority,
            base_path: uri.path().trim_end_matches('/').to_owned(),
            headers,
        })
    }

    /// This session's headers with another user's Basic credentials instead (GET
    /// requests need no CSRF token, so the session's cookie may stay).
    pub fn headers_as(&self, user: &str, password: &str) -> anyhow::Result<HeaderMap> {
        let mut headers = self.headers.clone();
        headers.insert(AUTHORIZATION, basic(user, password)?);
        Ok(headers)
    }

    pub fn path(&self, path: &str) -> String {
        format!("{}{path}", self.base_path)
    }

    pub fn insert_path(&self, contact_center: &str) -> String {
        self.path(&format!(
            "/internal-api/contact-centers/{contact_center}/recordings"
        ))
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Answer> {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let mut request = Request::builder().method(method.clone()).uri(format!(
            "http://{}{}",
            self.authority,
            self.path(path)
        ));
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let body = match body {
            Some(body) => {
                request = request.header(CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(body.to_string()))
            }
            None => Full::default(),
        };
        let response = client
            .request(request.body(body)?)
            .await
            .with_context(|| format!("{method} {path}"))?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    /// Checks the credentials and, if the server hands out a CSRF token, adopts its
    /// session cookie and token for every later request.
    pub async fn log_in(&mut self) -> anyhow::Result<()> {
        let answer = self
            .call(Method::GET, "/api/v2/ops/contact-centers", None)
            .await?;
        match answer.status {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED => bail!("the server rejected the ops credentials"),
            _ => bail!("GET /api/v2/ops/contact-centers: {}", answer.describe()),
        }
        if let Some(token) = answer.headers.get("x-csrf-token") {
            let header_name = answer
                .headers
                .get("x-csrf-header")
                .and_then(|name| HeaderName::from_bytes(name.as_bytes()).ok())
                .unwrap_or(HeaderName::from_static("x-csrf-token"));
            let cookie = answer
                .headers
                .get_all(SET_COOKIE)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .find_map(|value| {
                    value
                        .split(';')
                        .next()
                        .filter(|c| c.starts_with("JSESSIONID="))
                })
                .context("the server sent a CSRF token but no JSESSIONID cookie")?;
            self.headers.insert(COOKIE, HeaderValue::from_str(cookie)?);
            self.headers.insert(header_name, token.clone());
        }
        Ok(())
    }

    /// Creates the contact center (an existing one is fine) and enables insertion on it.
    pub async fn prepare_contact_center(&self, contact_center: &str) -> anyhow::Result<()> {
        let created = self
            .call(
                Method::POST,
                "/api/v2/ops/contact-centers",
                Some(
                    json!({"id": contact_center, "domains": [format!("{contact_center}.example")]}),
                ),
            )
            .await?;
        if !matches!(created.status, StatusCode::CREATED | StatusCode::CONFLICT) {
            bail!(
                "creating contact center {contact_center:?}: {}",
                created.describe()
            );
        }
        let enabled = self
            .call(
                Method::POST,
                &format!("/api/v2/ops/contact-centers/{contact_center}/features"),
                Some(json!({"uris": [FEATURE]})),
            )
            .await?;
        if enabled.status != StatusCode::OK {
            bail!(
                "enabling {FEATURE} on {contact_center:?}: {}",
                enabled.describe()
            );
        }
        Ok(())
    }

    /// Reads a recording back; the inner error says what came back instead of it.
    pub async fn read_recording(
        &self,
        contact_center: &str,
        recording_id: &str,
    ) -> anyhow::Result<Result<(), String>> {
        let answer = self
            .call(
                Method::GET,
                &format!("/api/v2/ops/contact-centers/{contact_center}/recordings/{recording_id}"),
                None,
            )
            .await?;
        if answer.status != StatusCode::OK {
            return Ok(Err(answer.describe()));
        }
        let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        if body["recording"]["id"] != recording_id {
            return Ok(Err(format!("unexpected body {body}")));
        }
        Ok(Ok(()))
    }
}
