//! Cross-origin requests from browser applications, configured the way RWS configures
//! them (`serverSettings.crossOriginSettings`), served by tower-http's CORS layer. Off
//! unless origins are allowed.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method};
use merge::option::overwrite_none;
use merge::Merge;
use regex::Regex;
use serde::Deserialize;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::settings::SettingsError;

/// RWS's defaults for what a cross-origin request may use.
const DEFAULT_METHODS: &str = "GET,POST,PUT,DELETE,OPTIONS";
const DEFAULT_HEADERS: &str =
    "X-Requested-With,Content-Type,Accept,Origin,Cookie,authorization,ssid,surl,ContactCenterId,X-CSRF-TOKEN";
/// Always exposed: a cross-origin client cannot make a modifying request without them.
const CSRF_HEADERS: [&str; 2] = ["X-CSRF-HEADER", "X-CSRF-TOKEN"];

/// A list in `application.yaml`: RWS writes comma-separated text, YAML lists work too.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum ListSetting {
    Text(String),
    List(Vec<String>),
}

impl ListSetting {
    fn items(&self) -> Vec<String> {
        let parts: Vec<&str> = match self {
            ListSetting::Text(text) => text.split(',').collect(),
            ListSetting::List(list) => list.iter().flat_map(|item| item.split(',')).collect(),
        };
        parts
            .into_iter()
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// What a flag or an environment variable gives: comma-separated text.
impl From<String> for ListSetting {
    fn from(text: String) -> ListSetting {
        ListSetting::Text(text)
    }
}

/// `serverSettings.crossOriginSettings`, or the `--cors-*` flags (which win key by key).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq, clap::Args, Merge)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[merge(strategy = overwrite_none)]
pub struct CrossOriginSettings {
    /// Origins whose browser applications may call gird (comma-separated; `https://*.example.com` allowed). Default: none, CORS off.
    #[arg(
        id = "cors_allowed_origins",
        value_name = "CORS_ALLOWED_ORIGINS",
        long = "cors-allowed-origins",
        env = "GIRD_CORS_ALLOWED_ORIGINS"
    )]
    pub allowed_origins: Option<ListSetting>,
    /// Methods cross-origin requests may use (comma-separated).
    #[arg(
        id = "cors_allowed_methods",
        value_name = "CORS_ALLOWED_METHODS",
        long = "cors-allowed-methods",
        env = "GIRD_CORS_ALLOWED_METHODS"
    )]
    pub allowed_methods: Option<ListSetting>,
    /// Headers cross-origin requests may send (comma-separated, or *).
    #[arg(
        id = "cors_allowed_headers",
        value_name = "CORS_ALLOWED_HEADERS",
        long = "cors-allowed-headers",
        env = "GIRD_CORS_ALLOWED_HEADERS"
    )]
    pub allowed_headers: Option<ListSetting>,
    /// Let cross-origin requests carry credentials (cookies, Basic auth).
    #[arg(
        id = "cors_allow_credentials",
        value_name = "CORS_ALLOW_CREDENTIALS",
        long = "cors-allow-credentials",
        env = "GIRD_CORS_ALLOW_CREDENTIALS"
    )]
    pub allow_credentials: Option<bool>,
    /// Answer headers cross-origin scripts may read (X-CSRF-HEADER and X-CSRF-TOKEN always).
    #[arg(
        id = "cors_exposed_headers",
        value_name = "CORS_EXPOSED_HEADERS",
        long = "cors-exposed-headers",
        env = "GIRD_CORS_EXPOSED_HEADERS"
    )]
    pub exposed_headers: Option<ListSetting>,
    /// Seconds a browser may cache a preflight answer.
    #[arg(
        id = "cors_max_age_seconds",
        value_name = "CORS_MAX_AGE_SECONDS",
        long = "cors-max-age-seconds",
        env = "GIRD_CORS_MAX_AGE_SECONDS"
    )]
    pub cors_filter_cache_time_to_live: Option<u64>,
}

impl CrossOriginSettings {
    /// The checked policy; `None` when no origin is allowed (CORS off).
    pub fn resolve(&self) -> Result<Option<Cors>, SettingsError> {
        let origins = self
            .allowed_origins
            .as_ref()
            .map(ListSetting::items)
            .unwrap_or_default();
        if origins.is_empty() {
            return Ok(None);
        }
        let credentials = self.allow_credentials.unwrap_or(false);
        let origins = origins
            .iter()
            .map(|origin| OriginPattern::parse(origin))
            .collect::<Result<Vec<_>, _>>()?;
        if credentials && origins.contains(&OriginPattern::Any) {
            return Err(invalid(
                "allowedOrigins \"*\" with allowCredentials: true would let every web site act with a signed-in user's credentials; list the origins (wildcards such as https://*.example.com are allowed)",
            ));
        }
        let methods = list_or(&self.allowed_methods, DEFAULT_METHODS)
            .iter()
            .map(|method| {
                Method::from_bytes(method.to_ascii_uppercase().as_bytes()).map_err(|_| {
                    invalid(&format!("allowedMethods: {method:?} is not an HTTP method"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let allowed_headers = list_or(&self.allowed_headers, DEFAULT_HEADERS);
        let headers = if allowed_headers.iter().any(|header| header == "*") {
            Headers::MirrorRequest
        } else {
            Headers::List(header_names("allowedHeaders", &allowed_headers)?)
        };
        let mut exposed = self
            .exposed_headers
            .as_ref()
            .map(ListSetting::items)
            .unwrap_or_default();
        for csrf in CSRF_HEADERS {
            if !exposed
                .iter()
                .any(|header| header.eq_ignore_ascii_case(csrf))
            {
                exposed.push(csrf.to_owned());
            }
        }
        Ok(Some(Cors {
            origins,
            methods,
            headers,
            credentials,
            exposed: header_names("exposedHeaders", &exposed)?,
            max_age: self.cors_filter_cache_time_to_live.map(Duration::from_secs),
        }))
    }
}

fn invalid(why: &str) -> SettingsError {
    SettingsError::Invalid(format!("serverSettings.crossOriginSettings.{why}"))
}

fn list_or(setting: &Option<ListSetting>, default: &str) -> Vec<String> {
    setting
        .as_ref()
        .map(ListSetting::items)
        .unwrap_or_else(|| ListSetting::Text(default.to_owned()).items())
}

fn header_names(key: &str, names: &[String]) -> Result<Vec<HeaderName>, SettingsError> {
    names
        .iter()
        .map(|name| {
            HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(&format!("{key}: {name:?} is not a header name")))
        })
        .collect()
}

/// An allowed origin: `*`, an exact origin, or one with `*` standing for host labels
/// (`https://*.example.com`), as RWS (Jetty's cross-origin filter) reads them.
#[derive(Debug, Clone)]
pub enum OriginPattern {
    Any,
    Exact(String),
    Wildcard(Regex),
}

impl PartialEq for OriginPattern {
    fn eq(&self, other: &OriginPattern) -> bool {
        match (self, other) {
            (OriginPattern::Any, OriginPattern::Any) => true,
            (OriginPattern::Exact(a), OriginPattern::Exact(b)) => a == b,
            (OriginPattern::Wildcard(a), OriginPattern::Wildcard(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

impl OriginPattern {
    fn parse(text: &str) -> Result<OriginPattern, SettingsError> {
        if text == "*" {
            return Ok(OriginPattern::Any);
        }
        let lower = text.trim_end_matches('/').to_ascii_lowercase();
        let Some((scheme, host)) = lower.split_once("://") else {
            return Err(invalid(&format!(
                "allowedOrigins: {text:?} is not an origin such as https://app.example.com"
            )));
        };
        let host_ok = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:*[]".contains(&b));
        if !matches!(scheme, "http" | "https") || !host_ok {
            return Err(invalid(&format!(
                "allowedOrigins: {text:?} is not an origin such as https://app.example.com"
            )));
        }
        if !lower.contains('*') {
            return Ok(OriginPattern::Exact(lower));
        }
        // `*` stands for one or more characters of the host name, never for a port, a
        // path or anything that would end the host.
        let pattern = lower
            .split('*')
            .map(regex::escape)
            .collect::<Vec<_>>()
            .join("[a-z0-9.-]+");
        let regex = Regex::new(&format!("^{pattern}$"))
            .map_err(|_| invalid(&format!("allowedOrigins: {text:?} is not a usable pattern")))?;
        Ok(OriginPattern::Wildcard(regex))
    }

    fn admits(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        match self {
            OriginPattern::Any => true,
            OriginPattern::Exact(exact) => *exact == origin,
            OriginPattern::Wildcard(regex) => regex.is_match(&origin),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Headers {
    List(Vec<HeaderName>),
    /// `*`: whatever the preflight asks for.
    MirrorRequest,
}

/// The checked cross-origin policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Cors {
    origins: Vec<OriginPattern>,
    methods: Vec<Method>,
    headers: Headers,
    credentials: bool,
    exposed: Vec<HeaderName>,
    max_age: Option<Duration>,
}

impl Cors {
    pub fn layer(&self) -> CorsLayer {
        let origins = self.origins.clone();
        let allow_origin = AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin
                .to_str()
                .is_ok_and(|origin| origins.iter().any(|pattern| pattern.admits(origin)))
        });
        let allow_headers = match &self.headers {
            Headers::List(names) => AllowHeaders::list(names.clone()),
            Headers::MirrorRequest => AllowHeaders::mirror_request(),
        };
        let mut layer = CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods(self.methods.clone())
            .allow_headers(allow_headers)
            .allow_credentials(self.credentials)
            .expose_headers(self.exposed.clone());
        if let Some(max_age) = self.max_age {
            layer = layer.max_age(max_age);
        }
        layer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(yaml: &str) -> CrossOriginSettings {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn off_without_origins() {
        assert_eq!(CrossOriginSettings::default().resolve().unwrap(), None);
        assert_eq!(settings("allowedOrigins: ''").resolve().unwrap(), None);
    }

    #[test]
    fn rws_comma_separated_text_and_yaml_lists() {
        let text = settings("allowedOrigins: 'https://a.example, http://*.b.example'\nallowCredentials: true\ncorsFilterCacheTimeToLive: 120");
        let list = settings("allowedOrigins: ['https://a.example', 'http://*.b.example']\nallowCredentials: true\ncorsFilterCacheTimeToLive: 120");
        let cors = text.resolve().unwrap().unwrap();
        assert_eq!(Some(&cors), list.resolve().unwrap().as_ref());
        assert!(cors.credentials);
        assert_eq!(cors.max_age, Some(Duration::from_secs(120)));
        assert_eq!(cors.methods.len(), 5);
        let exposed: Vec<&str> = cors.exposed.iter().map(HeaderName::as_str).collect();
        assert_eq!(exposed, ["x-csrf-header", "x-csrf-token"]);
    }

    #[test]
    fn wildcards_stand_for_host_labels_only() {
        let pattern = OriginPattern::parse("https://*.example.com").unwrap();
        assert!(pattern.admits("https://app.example.com"));
        assert!(pattern.admits("https://A.B.Example.COM"));
        for refused in [
            "https://example.com",
            "http://app.example.com",
            "https://app.example.com:8443",
            "https://evil.com/.example.com",
            "https://evil.com?.example.com",
            "https://app.example.com.evil.com",
            "https://appexample.com",
        ] {
            assert!(!pattern.admits(refused), "{refused}");
        }
        let exact = OriginPattern::parse("https://app.example.com:8443/").unwrap();
        assert!(exact.admits("https://app.example.com:8443"));
        assert!(!exact.admits("https://app.example.com"));
    }

    #[test]
    fn bad_settings_are_refused_with_their_key() {
        for (yaml, key) in [
            (
                "allowedOrigins: '*'\nallowCredentials: true",
                "allowedOrigins",
            ),
            ("allowedOrigins: 'ftp://x'", "allowedOrigins"),
            ("allowedOrigins: 'app.example.com'", "allowedOrigins"),
            (
                "allowedOrigins: 'https://a'\nallowedMethods: 'GET,PO ST'",
                "allowedMethods",
            ),
            (
                "allowedOrigins: 'https://a'\nallowedHeaders: 'X-Ok,Bad Header'",
                "allowedHeaders",
            ),
            (
                "allowedOrigins: 'https://a'\nexposedHeaders: 'Bad:Header'",
                "exposedHeaders",
            ),
        ] {
            let error = settings(yaml).resolve().unwrap_err().to_string();
            assert!(error.contains(key), "{yaml}: {error}");
        }
        assert!(serde_yaml::from_str::<CrossOriginSettings>("allowedOrigin: x").is_err());
    }

    #[test]
    fn flags_win_key_by_key() {
        let file = settings("allowedOrigins: 'https://a'\nallowCredentials: true");
        let flags = CrossOriginSettings {
            allowed_origins: Some(ListSetting::Text("https://b".into())),
            ..CrossOriginSettings::default()
        };
        let mut merged = flags;
        merged.merge(file);
        assert_eq!(
            merged.allowed_origins,
            Some(ListSetting::Text("https://b".into()))
        );
        assert_eq!(merged.allow_credentials, Some(true));
    }
}
