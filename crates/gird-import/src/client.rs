//! Posting records to an Insertion API: gird, or Interaction Recording Web Services.
//!
//! Basic auth, the CSRF handshake (an authenticated GET answers `X-CSRF-HEADER` and
//! `X-CSRF-TOKEN` and sets the session cookie, which every POST sends back), the check
//! that the contact center has the insertion feature, and the answers (statusCode 0 to
//! 20) sorted into what to do next. gird says how it stored a record in the
//! `X-Gird-Outcome` header; other servers do not.

use std::sync::RwLock;
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Client, StatusCode};
use serde_json::Value;

use crate::journal::Finished;

/// The feature a contact center needs for the Insertion API.
pub const INSERTION_FEATURE: &str = "api-supervisor-recording";
/// The header in which gird says what became of a stored record.
pub const OUTCOME_HEADER: &str = "x-gird-outcome";

/// What to do after one POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// statusCode 0: the record is stored: new, merged, unchanged, or not said.
    Stored(Finished),
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

    /// Checks the credentials, the contact center and its features, and takes the CSRF
    /// token if the server uses one: an authenticated GET of the contact center (ops API).
    /// A contact center without the insertion feature stops the import here, before
    /// anything is posted.
    pub async fn handshake(&self) -> anyhow::Result<()> {
        let url = format!(
            "{}/api/v2/ops/contact-centers/{}",
            self.base, self.contact_center
        );
        let (status, body) = self.get(&url).await?;
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
            _ => {}
        }
        // gird lists the features in the contact center; else they may have their own path.
        let features = match features_of(&body) {
            Some(features) => Some(features),
            None => match self.get(&format!("{url}/features")).await {
                Ok((status, body)) if status.is_success() => features_of(&body),
                _ => None,
            },
        };
        match features {
            Some(features) if !features.iter().any(|name| name == INSERTION_FEATURE) => {
                bail!(
                    "contact center {:?} does not have the feature {INSERTION_FEATURE}, so the Insertion API would refuse every record (HTTP 403, statusCode 3); nothing was posted. {}",
                    self.contact_center,
                    self.enable_feature_hint()
                )
            }
            // Enabled, or not said: a POST refused for it stops the import with the hint.
            _ => Ok(()),
        }
    }

    /// An authenticated GET: its status and its JSON body (`Null` when it has none).
    async fn get(&self, url: &str) -> anyhow::Result<(StatusCode, Value)> {
        let response = self
            .http
            .get(url)
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = response.status();
        self.take_csrf(response.headers());
        let body = response.bytes().await.unwrap_or_default();
        Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
    }

    /// The ops API request that enables the insertion feature, ready to run.
    pub fn enable_feature_hint(&self) -> String {
        format!(
            "Enable the feature with the ops API, then run the import again:\n  curl -u '{}:<password>' -H 'Content-Type: application/json' --data '{{\"uris\":[\"/api/{INSERTION_FEATURE}\"]}}' '{}/api/v2/ops/contact-centers/{}/features'\n(when the server has CSRF protection on, send with it the JSESSIONID cookie and the X-CSRF-TOKEN header that a GET of any API path answers)",
            self.user, self.base, self.contact_center
        )
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
        let mut answer = self.post_once(body.clone()).await;
        if is_csrf_refusal(&answer) {
            if let Err(error) = self.handshake().await {
                return Answer::Retry {
                    error: format!("renewing the CSRF token: {error:#}"),
                    after: None,
                };
            }
            answer = self.post_once(body).await;
        }
        match answer {
            // statusCode 3 outside CSRF: a feature the contact center lacks.
            Answer::Fatal(why) if why.starts_with("HTTP 403, statusCode 3") => {
                Answer::Fatal(format!("{why}. {}", self.enable_feature_hint()))
            }
            answer => answer,
        }
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
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let after = header(RETRY_AFTER.as_str())
            .and_then(|value| value.parse().ok())
            .map(Duration::from_secs);
        let outcome = header(OUTCOME_HEADER);
        let text = match response.text().await {
            Ok(text) => text,
            Err(error) => {
                return Answer::Retry {
                    error: describe(&error),
                    after,
                }
            }
        };
        classify(status, outcome.as_deref(), &text, after)
    }
}

/// The feature names a contact center (`contactCenter.features`) or a feature list
/// (`uris`) answer gives, `/api/` taken off; `None` when the answer has neither.
fn features_of(body: &Value) -> Option<Vec<String>> {
    let list = body
        .pointer("/contactCenter/features")
        .or_else(|| body.get("uris"))?
        .as_array()?;
    Some(
        list.iter()
            .filter_map(Value::as_str)
            .map(|name| name.trim_start_matches("/api/").to_owned())
            .collect(),
    )
}

/// What `X-Gird-Outcome` says of a stored record.
fn stored_as(outcome: Option<&str>) -> Finished {
    match outcome
        .map(|value| value.trim().to_ascii_lowercase())
        .as_deref()
    {
        Some("created") => Finished::New,
        Some("merged") => Finished::Merged,
        Some("unchanged") => Finished::Unchanged,
        _ => Finished::Unreported,
    }
}

fn is_csrf_refusal(answer: &Answer) -> bool {
    matches!(answer, Answer::Rejected { http: 403, status_code: Some(3), message }
        if message.to_ascii_lowercase().contains("csrf"))
}

/// Sorts an answer by its HTTP status and statusCode; `outcome` is the `X-Gird-Outcome`
/// header, if any.
pub fn classify(
    status: StatusCode,
    outcome: Option<&str>,
    text: &str,
    after: Option<Duration>,
) -> Answer {
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
        (200..=299, Some(0)) => Answer::Stored(stored_as(outcome)),
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
        (403, Some(3)) => Answer::Fatal(format!("HTTP {http}, statusCode 3: forbidden: {message}")),
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
    use serde_json::json;

    fn answer(http: u16, body: &str) -> Answer {
        classify(StatusCode::from_u16(http).unwrap(), None, body, None)
    }

    #[test]
    fn a_stored_record_is_new_merged_unchanged_or_not_said() {
        let ok = |outcome| classify(StatusCode::OK, outcome, r#"{"statusCode":0}"#, None);
        assert_eq!(ok(Some("created")), Answer::Stored(Finished::New));
        assert_eq!(ok(Some("merged")), Answer::Stored(Finished::Merged));
        assert_eq!(ok(Some("Unchanged")), Answer::Stored(Finished::Unchanged));
        assert_eq!(ok(None), Answer::Stored(Finished::Unreported));
        assert_eq!(ok(Some("other")), Answer::Stored(Finished::Unreported));
    }

    #[test]
    fn features_come_from_the_contact_center_or_the_feature_list() {
        let gird = json!({"statusCode":0,"contactCenter":{"id":"cc","features":["api-supervisor-recording"]}});
        assert_eq!(features_of(&gird).unwrap(), ["api-supervisor-recording"]);
        let none = json!({"statusCode":0,"contactCenter":{"id":"cc","features":[]}});
        assert_eq!(features_of(&none).unwrap(), Vec::<String>::new());
        let list = json!({"statusCode":0,"uris":["/api/api-supervisor-recording","/api/x"]});
        assert_eq!(
            features_of(&list).unwrap(),
            ["api-supervisor-recording", "x"]
        );
        assert!(features_of(&json!({"statusCode":0})).is_none());
        assert!(features_of(&Value::Null).is_none());
    }

    #[test]
    fn answers_are_sorted_by_status_and_status_code() {
        assert_eq!(
            answer(200, r#"{"statusCode":0}"#),
            Answer::Stored(Finished::Unreported)
        );
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
