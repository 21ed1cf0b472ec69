//! Posting records to an Insertion API: gird, or Interaction Recording Web Services.
//!
//! Basic auth, the CSRF handshake (an authenticated GET answers `X-CSRF-HEADER` and
//! `X-CSRF-TOKEN` and sets the session cookie, which every POST sends back), and the
//! answers of docs/API.md sorted into what to do next.

use std::sync::RwLock;
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Client, StatusCode};
use serde_json::Value;

/// What to do after one POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// statusCode 0: the record is stored.
    Stored,
    /// The server refused this record (HTTP 4xx): posting it again will not help.
    Rejected {
        http: u16,
        status_code: Option<i64>,
        message: String,
    },
    /// Try again later (HTTP 5xx, 429, a connection error or time-out).
    Retry {
        error: String,
        after: Option<Duration>,
    },
    /// Every other record would fail the same way (credentials, contact center, feature).
    Fatal(String),
}

pub struct InsertionClient {
    http: Client,
    base: String,
    /// Where records are posted, parsed once.
    insertion_url: reqwest::Url,
    contact_center: String,
    user: String,
    password: String,
    /// `Basic ...`, made once.
    authorization: HeaderValue,
    /// The CSRF header name and token, once the server gave them.
    csrf: RwLock<Option<(HeaderName, HeaderValue)>>,
}

impl InsertionClient {
    pub fn new(
        target: &str,
        contact_center: &str,
        user: &str,
        password: &str,
        connections: usize,
    ) -> anyhow::Result<InsertionClient> {
        let url = reqwest::Url::parse(target)
            .with_context(|| format!("--target {target:?} is not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            bail!("--target {target:?} must be an http(s) URL");
        }
        let http = Client::builder()
            .cookie_store(true)
            .pool_max_idle_per_host(connections)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()?;
        use base64::Engine;
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let mut authorization = HeaderValue::from_str(&format!("Basic {credentials}"))
            .context("the user or password cannot be sent in a header")?;
        authorization.set_sensitive(true);
        let base = target.trim_end_matches('/').to_owned();
        let insertion_url = reqwest::Url::parse(&format!(
            "{base}/internal-api/contact-centers/{contact_center}/recordings"
        ))
        .with_context(|| format!("contact center {contact_center:?} does not fit in a URL"))?;
        Ok(InsertionClient {
            authorization,
            insertion_url,
            http,
            base,
            contact_center: contact_center.to_owned(),
            user: user.to_owned(),
            password: password.to_owned(),
            csrf: RwLock::new(None),
        })
    }

    /// Checks the credentials and the contact center, and takes the CSRF token if the
    /// server uses one: an authenticated GET of the contact center (ops API).
    pub async fn handshake(&self) -> anyhow::Result<()> {
        let url = format!(
            "{}/api/v2/ops/contact-centers/{}",
            self.base, self.contact_center
        );
        let response = self
            .http
            .get(&url)
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = response.status();
        self.take_csrf(response.headers());
        match status {
            StatusCode::UNAUTHORIZED => bail!(
                "{url}: 401: the server does not accept user {:?} and this password",
                self.user
            ),
            StatusCode::NOT_FOUND => bail!(
                "{url}: 404: contact center {:?} does not exist on the target",
                self.contact_center
            ),
            status if status.is_server_error() => bail!("{url}: HTTP {status}"),
            _ => Ok(()),
        }
    }

    fn take_csrf(&self, headers: &reqwest::header::HeaderMap) {
        let name = headers
            .get("x-csrf-header")
            .and_then(|value| HeaderName::from_bytes(value.as_bytes()).ok());
        let token = headers.get("x-csrf-token").cloned();
        if let (Some(name), Some(token)) = (name, token) {
            if let Ok(mut csrf) = self.csrf.write() {
                *csrf = Some((name, token));
            }
        }
    }

    /// Posts one record; a refused CSRF token is renewed once.
    pub async fn post(&self, body: Bytes) -> Answer {
        let answer = self.post_once(body.clone()).await;
        if is_csrf_refusal(&answer) {
            if let Err(error) = self.handshake().await {
                return Answer::Retry {
                    error: format!("renewing the CSRF token: {error:#}"),
                    after: None,
                };
            }
            return self.post_once(body).await;
        }
        answer
    }

    async fn post_once(&self, body: Bytes) -> Answer {
        let mut request = self
            .http
            .post(self.insertion_url.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body);
        let csrf = self.csrf.read().ok().and_then(|csrf| csrf.clone());
        if let Some((name, token)) = csrf {
            request = request.header(name, token);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return Answer::Retry {
                    error: describe(&error),
                    after: None,
                }
            }
        };
        let status = response.status();
        let after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok())
            .map(Duration::from_secs);
        let text = match response.text().await {
            Ok(text) => text,
            Err(error) => {
                return Answer::Retry {
                    error: describe(&error),
                    after,
                }
            }
        };
        classify(status, &text, after)
    }
}

fn is_csrf_refusal(answer: &Answer) -> bool {
    matches!(answer, Answer::Rejected { http: 403, status_code: Some(3), message }
        if message.to_ascii_lowercase().contains("csrf"))
}

/// Sorts an answer by docs/API.md.
pub fn classify(status: StatusCode, text: &str, after: Option<Duration>) -> Answer {
    let envelope: Option<Value> = serde_json::from_str(text).ok();
    let status_code = envelope
        .as_ref()
        .and_then(|body| body.get("statusCode"))
        .and_then(Value::as_i64);
    let message = envelope
        .as_ref()
        .and_then(|body| body.get("statusMessage"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| text.chars().take(300).collect());
    let http = status.as_u16();
    match (http, status_code) {
        (200..=299, Some(0)) => Answer::Stored,
        (200..=299, None) => Answer::Retry {
            error: format!("HTTP {http} without a statusCode: {message}"),
            after,
        },
        (_, Some(4)) | (429 | 500..=599, _) => Answer::Retry {
            error: format!(
                "HTTP {http}, statusCode {}: {message}",
                status_code.unwrap_or(4)
            ),
            after,
        },
        (401, _) | (_, Some(20)) => {
            Answer::Fatal(format!("HTTP {http}: not authenticated: {message}"))
        }
        (403, Some(3)) if message.to_ascii_lowercase().contains("csrf") => Answer::Rejected {
            http,
            status_code,
            message,
        },
        (403, _) => Answer::Fatal(format!("HTTP {http}: forbidden: {message}")),
        (404, _) => Answer::Fatal(format!("HTTP {http}: not found: {message}")),
        _ => Answer::Rejected {
            http,
            status_code,
            message,
        },
    }
}

/// The error with its causes.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(http: u16, body: &str) -> Answer {
        classify(StatusCode::from_u16(http).unwrap(), body, None)
    }

    #[test]
    fn answers_are_sorted_as_spec_section_3_says() {
        assert_eq!(answer(200, r#"{"statusCode":0}"#), Answer::Stored);
        for (http, code) in [(400, 1), (400, 2), (413, 2), (415, 2), (400, 10), (409, 18)] {
            let body = format!(r#"{{"statusCode":{code},"statusMessage":"why"}}"#);
            assert_eq!(
                answer(http, &body),
                Answer::Rejected {
                    http,
                    status_code: Some(code),
                    message: "why".into()
                }
            );
        }
        for (http, body) in [
            (500, r#"{"statusCode":4}"#),
            (503, r#"{"statusCode":4}"#),
            (502, "Bad Gateway"),
            (429, ""),
            (200, "<html>"),
        ] {
            assert!(
                matches!(answer(http, body), Answer::Retry { .. }),
                "{http} {body}"
            );
        }
        for (http, body) in [
            (401, r#"{"statusCode":20}"#),
            (
                403,
                r#"{"statusCode":3,"statusMessage":"feature not enabled"}"#,
            ),
            (403, r#"{"statusCode":5}"#),
            (404, r#"{"statusCode":6}"#),
        ] {
            assert!(
                matches!(answer(http, body), Answer::Fatal(_)),
                "{http} {body}"
            );
        }
        let csrf = answer(
            403,
            r#"{"statusCode":3,"statusMessage":"Missing or invalid Csrf token"}"#,
        );
        assert!(is_csrf_refusal(&csrf));
    }
}
