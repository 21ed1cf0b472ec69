//! A contact center's S3 settings as an operator writes them, in the ops API's JSON body
//! or under `gird.s3.contactCenters` in `application.yaml`: one definition, checked in
//! one place, whatever the source.

use std::collections::BTreeMap;
use std::time::Duration;

use gird_model::s3::{is_bucket_name, is_dns_bucket_name};
use merge::option::overwrite_none;
use merge::Merge;
use reqwest::Url;
use serde::Deserialize;

use crate::error::ApiError;
use crate::seal::Sealer;
use crate::settings::{whole_map, Secret, SettingsError};
use crate::urls::check_service_url;

pub const DEFAULT_TIMEOUT_SECONDS: u64 = 10;
/// Buckets one contact center may name: a list to check, not a catalogue.
pub const MAX_BUCKETS: usize = 100;

/// The settings as given, each field possibly missing or wrong. Read from the ops API's
/// body (by `crate::json_body`) or from the file; an unknown field is refused, so a
/// misspelt one does not silently leave a default in force.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct S3Config {
    /// An S3-compatible server's URL; `None`: AWS's endpoint for the region.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    pub path_style: Option<bool>,
    pub buckets: Option<Vec<String>>,
}

/// Why settings are refused; the text names the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    Missing(&'static str),
    Invalid(String),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::Missing(field) => write!(f, "{field}: is required"),
            ConfigError::Invalid(text) => f.write_str(text),
        }
    }
}

impl From<ConfigError> for ApiError {
    fn from(error: ConfigError) -> ApiError {
        match error {
            ConfigError::Missing(_) => ApiError::MissingField(error.to_string()),
            ConfigError::Invalid(text) => ApiError::InvalidValue(text),
        }
    }
}

/// Settings that passed every check, the secret still in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedS3 {
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret: Secret,
    pub path_style: bool,
    pub buckets: Vec<String>,
}

impl CheckedS3 {
    pub fn sealed(self, sealer: &Sealer) -> gird_store::S3Settings {
        gird_store::S3Settings {
            endpoint: self.endpoint,
            region: self.region,
            access_key_id: self.access_key_id,
            sealed_secret: sealer.seal(self.secret.expose()),
            path_style: self.path_style,
            buckets: self.buckets,
        }
    }
}

fn invalid(field: &str, why: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid(format!("{field}: {why}"))
}

impl S3Config {
    pub fn check(&self) -> Result<CheckedS3, ConfigError> {
        let path_style = self.path_style.unwrap_or(false);
        let endpoint = match &self.endpoint {
            None => None,
            Some(text) => Some(check_endpoint(text, path_style)?),
        };
        let region = self.region.clone().ok_or(ConfigError::Missing("region"))?;
        let region_ok = (1..=64).contains(&region.len())
            && region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !region_ok {
            return Err(invalid(
                "region",
                format!("{region:?} is not a region name (1 to 64 letters, digits, '-', '_')"),
            ));
        }
        let access_key_id = self
            .access_key_id
            .clone()
            .ok_or(ConfigError::Missing("accessKeyId"))?;
        if !is_token(&access_key_id, 128) {
            return Err(invalid(
                "accessKeyId",
                format!(
                    "{access_key_id:?} must be 1 to 128 printable ASCII characters without spaces"
                ),
            ));
        }
        let secret = self
            .secret_access_key
            .clone()
            .ok_or(ConfigError::Missing("secretAccessKey"))?;
        if !is_token(secret.expose(), 256) {
            // The secret itself is never repeated in an answer or a log.
            return Err(invalid(
                "secretAccessKey",
                "must be 1 to 256 printable ASCII characters without spaces",
            ));
        }
        let buckets = check_buckets(
            self.buckets
                .as_deref()
                .ok_or(ConfigError::Missing("buckets"))?,
            path_style,
        )?;
        Ok(CheckedS3 {
            endpoint: endpoint.map(|url| url.to_string()),
            region,
            access_key_id,
            secret,
            path_style,
            buckets,
        })
    }
}

fn is_token(text: &str, max: usize) -> bool {
    (1..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic())
}

/// An http(s) URL without user info, query or fragment; its path, if any, is a prefix of
/// every request's. With virtual-hosted addressing the bucket goes before its host, which
/// an IP address cannot have.
fn check_endpoint(text: &str, path_style: bool) -> Result<Url, ConfigError> {
    let url = check_service_url("endpoint", text).map_err(ConfigError::Invalid)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "endpoint",
            format!("{text:?} must not have a query or a fragment"),
        ));
    }
    let host = url.host_str().unwrap_or_default();
    let ip_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .is_ok();
    if ip_host && !path_style {
        return Err(invalid(
            "pathStyle",
            format!("must be true with the endpoint {text:?}: a bucket cannot be put before an IP address"),
        ));
    }
    Ok(url)
}

fn check_buckets(names: &[String], path_style: bool) -> Result<Vec<String>, ConfigError> {
    if names.is_empty() || names.len() > MAX_BUCKETS {
        return Err(invalid(
            "buckets",
            format!("must name 1 to {MAX_BUCKETS} buckets, got {}", names.len()),
        ));
    }
    let mut buckets: Vec<String> = Vec::with_capacity(names.len());
    for (index, name) in names.iter().enumerate() {
        let field = format!("buckets[{index}]");
        if path_style && !is_bucket_name(name) {
            return Err(invalid(
                &field,
                format!(
                    "{name:?} is not an S3 bucket name (3 to 255 letters, digits, '.', '-', '_')"
                ),
            ));
        }
        if !path_style && !is_dns_bucket_name(name) {
            return Err(invalid(
                &field,
                format!("{name:?} cannot be a host name label (3 to 63 lowercase letters, digits, '.', '-'); use pathStyle: true for it"),
            ));
        }
        if !buckets.contains(name) {
            buckets.push(name.clone());
        }
    }
    Ok(buckets)
}

/// `gird.s3` in `application.yaml`.
#[derive(Debug, Default, Deserialize, clap::Args, Merge)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct S3Section {
    /// How long to wait for S3 to answer, in seconds.
    #[arg(
        id = "s3_timeout_seconds",
        value_name = "S3_TIMEOUT_SECONDS",
        long = "s3-timeout-seconds",
        env = "GIRD_S3_TIMEOUT_SECONDS"
    )]
    #[merge(strategy = overwrite_none)]
    pub timeout_seconds: Option<u64>,
    #[serde(default)]
    #[arg(skip)]
    #[merge(strategy = whole_map)]
    pub contact_centers: BTreeMap<String, S3Config>,
}

/// S3 as the server uses it.
#[derive(Debug, Clone)]
pub struct S3Options {
    /// How long to wait for S3 to answer (the head of a GET; a body streams on).
    pub timeout: Duration,
    /// Settings from `gird.s3.contactCenters`, written to the database at start.
    pub contact_centers: BTreeMap<String, S3Config>,
}

impl Default for S3Options {
    fn default() -> S3Options {
        S3Options {
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECONDS),
            contact_centers: BTreeMap::new(),
        }
    }
}

impl S3Section {
    /// The checked settings, with the default timeout when none is given.
    pub fn resolve(self) -> Result<S3Options, SettingsError> {
        let seconds = self.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS);
        if seconds == 0 {
            return Err(SettingsError::Invalid(
                "s3.timeoutSeconds must be at least 1".into(),
            ));
        }
        Ok(S3Options {
            timeout: Duration::from_secs(seconds),
            contact_centers: self.contact_centers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// The settings of an ops API body, as `PUT .../storage/s3` reads and checks them.
    fn config(body: Value) -> Result<CheckedS3, ApiError> {
        let request = crate::json_body::decode::<S3Config>(body.as_object().unwrap().clone())?;
        Ok(request.check()?)
    }

    fn good() -> Value {
        json!({"region": "eu-west-1", "accessKeyId": "AKIDEXAMPLE",
               "secretAccessKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "buckets": ["acme-rec"]})
    }

    fn with(field: &str, value: Value) -> Value {
        let mut body = good();
        if value.is_null() {
            body.as_object_mut().unwrap().remove(field);
        } else {
            body[field] = value;
        }
        body
    }

    #[test]
    fn good_settings_pass_with_defaults() {
        let checked = config(good()).unwrap();
        assert_eq!(checked.endpoint, None);
        assert!(!checked.path_style);
        assert_eq!(checked.buckets, ["acme-rec"]);
        let local = with("endpoint", json!("http://127.0.0.1:9000"));
        let mut local = local.as_object().unwrap().clone();
        local.insert("pathStyle".into(), json!(true));
        local.insert("buckets".into(), json!(["Legacy_Bucket", "Legacy_Bucket"]));
        let checked = config(Value::Object(local)).unwrap();
        assert_eq!(checked.endpoint.as_deref(), Some("http://127.0.0.1:9000/"));
        assert_eq!(
            checked.buckets,
            ["Legacy_Bucket"],
            "duplicates counted once"
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let missing = [
            ("region", "region: is required"),
            ("accessKeyId", "accessKeyId: is required"),
            ("secretAccessKey", "secretAccessKey: is required"),
            ("buckets", "buckets: is required"),
        ];
        for (field, message) in missing {
            let error = config(with(field, Value::Null)).unwrap_err();
            assert_eq!(error, ApiError::MissingField(message.into()));
        }
        let unchecked = S3Config::default().check().unwrap_err();
        assert_eq!(unchecked, ConfigError::Missing("region"));
        assert_eq!(unchecked.to_string(), "region: is required");
        let invalid = [
            ("endpoint", json!("ftp://s3.example"), "endpoint: "),
            ("endpoint", json!("http://u:p@s3.example"), "endpoint: "),
            ("endpoint", json!("https://s3.example/?x=1"), "endpoint: "),
            ("endpoint", json!("http://127.0.0.1:9000"), "pathStyle: "),
            ("endpoint", json!(9000), "endpoint: expected a string"),
            ("region", json!("eu west"), "region: "),
            ("region", json!(""), "region: "),
            ("accessKeyId", json!("AK ID"), "accessKeyId: "),
            ("secretAccessKey", json!(""), "secretAccessKey: "),
            (
                "secretAccessKey",
                json!(7),
                "secretAccessKey: expected a string",
            ),
            (
                "pathStyle",
                json!("yes"),
                "pathStyle: expected true or false",
            ),
            ("buckets", json!("acme-rec"), "buckets: expected an array"),
            ("buckets", json!([]), "buckets: must name 1 to 100"),
            (
                "buckets",
                json!(["ok-one", 5]),
                "buckets[1]: expected a string",
            ),
            ("buckets", json!(["Legacy_Bucket"]), "buckets[0]: "),
            ("buckets", json!(["evil.example/x"]), "buckets[0]: "),
            ("regoin", json!("eu-west-1"), "regoin: is not an S3 setting"),
        ];
        for (field, value, start) in invalid {
            let error = config(with(field, value.clone())).unwrap_err();
            let text = error.message();
            assert!(
                matches!(error, ApiError::InvalidValue(_)),
                "{field} {value}"
            );
            assert!(text.starts_with(start), "{field} {value}: {text}");
        }
        let secret = with("secretAccessKey", json!("has space"));
        let text = config(secret).unwrap_err().message();
        assert!(
            !text.contains("has space"),
            "the secret is not repeated: {text}"
        );
    }

    #[test]
    fn yaml_settings_use_the_same_rules() {
        let yaml = "timeoutSeconds: 3\ncontactCenters:\n  acme:\n    region: eu-west-1\n    accessKeyId: AKID\n    secretAccessKey: s3cr3t\n    buckets: [acme-rec]\n";
        let section: S3Section = serde_yaml::from_str(yaml).unwrap();
        let options = section.resolve().unwrap();
        assert_eq!(options.timeout, Duration::from_secs(3));
        let acme = &options.contact_centers["acme"];
        assert!(acme.check().is_ok());
        assert!(!format!("{options:?}").contains("s3cr3t"));
        assert!(
            serde_yaml::from_str::<S3Section>("contactCenters:\n  a:\n    secret: x\n").is_err()
        );
        let section: S3Section = serde_yaml::from_str("timeoutSeconds: 3\n").unwrap();
        let mut flag = S3Section {
            timeout_seconds: Some(1),
            ..S3Section::default()
        };
        flag.merge(section);
        assert_eq!(flag.resolve().unwrap().timeout, Duration::from_secs(1));
        let zero: S3Section = serde_yaml::from_str("timeoutSeconds: 0\n").unwrap();
        assert!(zero.resolve().is_err());
    }
}
