//! The ops API's request bodies, as DTOs read by the one extractor
//! ([`crate::json_body::JsonBody`]), which words every fault with the field's JSON path.
//! A field's type does its checking where it can (an id, a URL, a feature, a hold
//! operation), so a handler receives values that passed; what needs more than one field
//! (an S3 configuration, a repost's choice) is checked by the domain code the DTO goes to.
//!
//! `null` is an absent field. Unknown fields are ignored, except in the S3 settings and
//! the outbound allow-list, where a misspelt field must not leave a default in force.

use gird_model::ContactCenterId;
use serde::Deserialize;

use crate::json_body::RequestBody;
use crate::s3::config::S3Config;
use crate::service::hold::HoldOperation;
use crate::service::repost::RepostAsk;
use crate::settings::Secret;
use crate::urls::ServiceUrl;

/// `POST /api/v2/ops/contact-centers`.
#[derive(Debug, Deserialize)]
pub struct NewContactCenter {
    /// `None`: a generated UUID.
    pub id: Option<ContactCenterId>,
    pub domains: Vec<String>,
}

impl RequestBody for NewContactCenter {
    const EXPECTED: &'static [(&'static str, &'static str)] = &[("domains", "an array of strings")];
}

/// `POST .../features`.
#[derive(Debug, Deserialize)]
pub struct FeatureList {
    pub uris: Vec<FeatureName>,
}

impl RequestBody for FeatureList {
    const EXPECTED: &'static [(&'static str, &'static str)] = &[("uris", "an array of strings")];
}

/// How the API writes a feature: `/api/<name>`.
pub const FEATURE_URI_PREFIX: &str = "/api/";

/// A feature's name (1 to 128 letters, digits, `-`, `_`, `.`), from its
/// `/api/<name>` URI or the bare name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct FeatureName(String);

impl FeatureName {
    pub fn into_string(self) -> String {
        self.0
    }
}

impl TryFrom<String> for FeatureName {
    type Error = String;

    fn try_from(uri: String) -> Result<FeatureName, String> {
        let name = uri.strip_prefix(FEATURE_URI_PREFIX).unwrap_or(&uri);
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-_.".contains(&b);
        if (1..=128).contains(&name.len()) && name.bytes().all(allowed) {
            Ok(FeatureName(name.to_owned()))
        } else {
            Err(format!(
                "{uri:?} is not a feature name or /api/<feature> URI"
            ))
        }
    }
}

/// `PUT .../storage`: the WebDAV base URL and its credentials.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebDavStorage {
    pub base_url: ServiceUrl,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

impl RequestBody for WebDavStorage {}

/// `PUT .../storage/s3`.
impl RequestBody for S3Config {
    const SETTING: &'static str = "an S3 setting";
    const EXPECTED: &'static [(&'static str, &'static str)] =
        &[("buckets", "an array of bucket names")];
}

/// `PUT .../speechminer`: the receiver, enabled unless said otherwise.
#[derive(Debug, Deserialize)]
pub struct Receiver {
    pub url: ServiceUrl,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub enabled: Option<bool>,
}

impl RequestBody for Receiver {}

/// `POST .../speechminer/repost`: one of `recordingId`, `from` with `to`, or
/// `deadLetters: true` (which of them, `crate::service::repost` decides).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepostBody {
    pub recording_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub dead_letters: Option<bool>,
}

impl RequestBody for RepostBody {}

impl From<RepostBody> for RepostAsk {
    fn from(body: RepostBody) -> RepostAsk {
        RepostAsk {
            recording: body.recording_id,
            from: body.from,
            to: body.to,
            dead_letters: body.dead_letters.unwrap_or(false),
        }
    }
}

/// `POST .../recordings/{recording}`: `{"operationName": "applyNonDelete"}` or
/// `removeNonDelete`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldBody {
    pub operation_name: HoldOperation,
}

impl RequestBody for HoldBody {}

/// `PUT .../outbound`: `{"origins": [...]}` and nothing else (each origin is checked by
/// `crate::egress::allow_list`, as the configuration file's are).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundBody {
    pub origins: Vec<String>,
}

impl RequestBody for OutboundBody {
    const SETTING: &'static str = "an outbound setting";
    const EXPECTED: &'static [(&'static str, &'static str)] =
        &[("origins", "a list of origins (scheme://host[:port])")];
}

/// `POST .../decryption-keys`: a PEM certificate with its private key, or a PKCS#12
/// keystore (base64) with its password; an alias, else one made from the certificate.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecryptionKeyBody {
    pub alias: Option<KeyAlias>,
    pub certificate: Option<String>,
    pub private_key: Option<Secret>,
    pub pkcs12: Option<Secret>,
    pub password: Option<Secret>,
}

impl RequestBody for DecryptionKeyBody {
    const SETTING: &'static str = "a decryption key field";
    const EXPECTED: &'static [(&'static str, &'static str)] = &[
        ("certificate", "a PEM certificate"),
        ("privateKey", "a PEM private key"),
        ("pkcs12", "a base64 PKCS#12 keystore"),
    ];
}

/// A decryption key's alias: 1 to 64 letters, digits, `-`, `_`, `.`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct KeyAlias(pub String);

impl TryFrom<String> for KeyAlias {
    type Error = String;

    fn try_from(alias: String) -> Result<KeyAlias, String> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-_.".contains(&b);
        if (1..=64).contains(&alias.len()) && alias.bytes().all(allowed) {
            Ok(KeyAlias(alias))
        } else {
            Err(format!(
                "{alias:?} is not an alias (1 to 64 letters, digits, '-', '_', '.')"
            ))
        }
    }
}

/// `POST /ui/session`: what the sign-in form sent (missing fields are empty, and fail).
#[derive(Debug, Deserialize)]
pub struct SignIn {
    pub user: Option<String>,
    pub password: Option<Secret>,
}

impl RequestBody for SignIn {}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::error::ApiError;
    use crate::json_body::decode;

    fn read<T: RequestBody>(body: Value) -> Result<T, ApiError> {
        decode(body.as_object().expect("an object").clone())
    }

    fn message<T: RequestBody + std::fmt::Debug>(body: Value) -> (u32, String) {
        let error = read::<T>(body).unwrap_err();
        (error.status().1, error.message())
    }

    #[test]
    fn a_new_contact_center_needs_domains_and_a_good_id() {
        let created: NewContactCenter = read(json!({"domains": ["x"]})).unwrap();
        assert_eq!((created.id, created.domains), (None, vec!["x".to_owned()]));
        assert_eq!(
            message::<NewContactCenter>(json!({"id": "a"})),
            (1, "domains: is required".into())
        );
        assert_eq!(
            message::<NewContactCenter>(json!({"domains": "x"})),
            (
                10,
                "domains: expected an array of strings, got a string".into()
            )
        );
        assert_eq!(
            message::<NewContactCenter>(json!({"id": "bad id", "domains": []})),
            (
                10,
                "id: must be 1 to 128 letters, digits, '-', '_' or '.'".into()
            )
        );
    }

    #[test]
    fn features_are_names_or_their_uris() {
        let list: FeatureList =
            read(json!({"uris": ["/api/api-supervisor-recording", "x.y"]})).unwrap();
        let names: Vec<String> = list
            .uris
            .into_iter()
            .map(FeatureName::into_string)
            .collect();
        assert_eq!(names, ["api-supervisor-recording", "x.y"]);
        assert_eq!(
            message::<FeatureList>(json!({"uris": ["ok", "/api/no way"]})),
            (
                10,
                "uris[1]: \"/api/no way\" is not a feature name or /api/<feature> URI".into()
            )
        );
        assert_eq!(
            message::<FeatureList>(json!({"uris": null})),
            (1, "uris: is required".into())
        );
    }

    #[test]
    fn service_urls_are_checked_by_field() {
        assert_eq!(
            message::<WebDavStorage>(json!({"baseUrl": "ftp://dav.example/"})),
            (
                10,
                "baseUrl: \"ftp://dav.example/\" is not an http(s) URL".into()
            )
        );
        assert_eq!(
            message::<WebDavStorage>(json!({"baseUrl": 42})),
            (10, "baseUrl: expected a string, got a number".into())
        );
        assert_eq!(
            message::<Receiver>(json!({"username": "u"})),
            (1, "url: is required".into())
        );
        assert_eq!(
            message::<Receiver>(json!({"url": "http://sm.example/", "enabled": "yes"})),
            (10, "enabled: expected true or false, got a string".into())
        );
        let receiver: Receiver =
            read(json!({"url": "http://sm.example/", "password": "p"})).unwrap();
        assert_eq!(receiver.enabled, None);
        assert!(
            !format!("{receiver:?}").contains("\"p\""),
            "the password is not shown"
        );
    }

    #[test]
    fn hold_operations_are_named_exactly() {
        let hold: HoldBody = read(json!({"operationName": "removeNonDelete", "other": 1})).unwrap();
        assert_eq!(hold.operation_name, HoldOperation::Remove);
        assert_eq!(
            message::<HoldBody>(json!({"operationName": "removenondelete"})),
            (
                10,
                "operationName: \"removenondelete\" is not applyNonDelete or removeNonDelete"
                    .into()
            )
        );
        assert_eq!(
            message::<HoldBody>(json!({"operationName": 1})),
            (10, "operationName: expected a string, got a number".into())
        );
        assert_eq!(
            message::<HoldBody>(json!({"operationName": null})),
            (1, "operationName: is required".into())
        );
    }

    #[test]
    fn a_repost_body_is_what_was_asked() {
        let body: RepostBody = read(json!({"recordingId": "r1", "deadLetters": false})).unwrap();
        assert_eq!(
            RepostAsk::from(body),
            RepostAsk {
                recording: Some("r1".into()),
                ..RepostAsk::default()
            }
        );
        assert_eq!(
            message::<RepostBody>(json!({"deadLetters": "yes"})),
            (
                10,
                "deadLetters: expected true or false, got a string".into()
            )
        );
    }

    #[test]
    fn the_allow_list_body_has_origins_and_nothing_else() {
        let body: OutboundBody = read(json!({"origins": []})).unwrap();
        assert!(body.origins.is_empty());
        for (body, expected) in [
            (json!({}), (1, "origins: is required")),
            (json!({"origins": null}), (1, "origins: is required")),
            (
                json!({"origins": "https://a"}),
                (
                    10,
                    "origins: expected a list of origins (scheme://host[:port]), got a string",
                ),
            ),
            (
                json!({"origins": ["https://a", 7]}),
                (10, "origins[1]: expected a string, got a number"),
            ),
            (
                json!({"origins": [], "extra": 1}),
                (10, "extra: is not an outbound setting (origins)"),
            ),
        ] {
            assert_eq!(
                message::<OutboundBody>(body.clone()),
                (expected.0, expected.1.to_owned()),
                "{body}"
            );
        }
    }

    #[test]
    fn a_sign_in_may_leave_fields_out() {
        let sign_in: SignIn = read(json!({"user": "ops"})).unwrap();
        assert_eq!(
            (sign_in.user.as_deref(), sign_in.password),
            (Some("ops"), None)
        );
        assert_eq!(
            message::<SignIn>(json!({"user": 1})),
            (10, "user: expected a string, got a number".into())
        );
    }
}

/// `POST .../users` and `PUT .../users/{name}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserBody {
    /// Required to create; to change, the path names the user (a body's name must agree).
    pub user_name: Option<UserName>,
    /// Required to create; left out when changing, the password stays.
    pub password: Option<UserPassword>,
    pub roles: Vec<RoleName>,
    #[serde(default)]
    pub access_groups: Vec<AccessPath>,
    #[serde(default)]
    pub partitions: Vec<AccessPath>,
    #[serde(default)]
    pub permissions: Vec<PermissionName>,
}

impl RequestBody for UserBody {
    const EXPECTED: &'static [(&'static str, &'static str)] = &[
        ("roles", "an array of Administrator, Supervisor, Agent"),
        ("accessGroups", "an array of paths such as /Sales/East"),
        ("partitions", "an array of paths such as /emea"),
        ("permissions", "an array of recording permissions"),
    ];
}

/// A user's name: 1 to 128 characters, no `:` (HTTP Basic ends the name there), no
/// control characters, no spaces at either end.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct UserName(pub String);

impl TryFrom<String> for UserName {
    type Error = String;

    fn try_from(name: String) -> Result<UserName, String> {
        let length = name.chars().count();
        if !(1..=128).contains(&length) {
            return Err("must be 1 to 128 characters".into());
        }
        if name.contains(':') || name.chars().any(char::is_control) {
            return Err(format!("{name:?} has a ':' or a control character"));
        }
        if name.trim() != name {
            return Err(format!("{name:?} starts or ends with a space"));
        }
        Ok(UserName(name))
    }
}

/// A user's password: 8 to 1024 characters, not a well-known one.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct UserPassword(pub Secret);

impl TryFrom<String> for UserPassword {
    type Error = String;

    fn try_from(password: String) -> Result<UserPassword, String> {
        let length = password.chars().count();
        if !(8..=1024).contains(&length) {
            return Err("must be 8 to 1024 characters".into());
        }
        if crate::auth::is_well_known(&password) {
            return Err("is a well-known password".into());
        }
        Ok(UserPassword(Secret::new(password)))
    }
}

/// `Administrator`, `Supervisor` or `Agent` (any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct RoleName(pub gird_model::access::Role);

impl TryFrom<String> for RoleName {
    type Error = String;

    fn try_from(name: String) -> Result<RoleName, String> {
        gird_model::access::Role::ALL
            .into_iter()
            .find(|role| role.name().eq_ignore_ascii_case(&name))
            .map(RoleName)
            .ok_or_else(|| format!("{name:?} is not Administrator, Supervisor or Agent"))
    }
}

/// A recording permission by its GIR name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PermissionName(pub gird_model::access::Permission);

impl TryFrom<String> for PermissionName {
    type Error = String;

    fn try_from(name: String) -> Result<PermissionName, String> {
        gird_model::access::Permission::parse(&name)
            .map(PermissionName)
            .ok_or_else(|| {
                let known: Vec<&str> = gird_model::access::Permission::ALL
                    .iter()
                    .map(|p| p.name())
                    .collect();
                format!("{name:?} is not one of {}", known.join(", "))
            })
    }
}

/// An access group or partition (see [`gird_model::access::parse_path`]), normalized.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct AccessPath(pub String);

impl TryFrom<String> for AccessPath {
    type Error = String;

    fn try_from(path: String) -> Result<AccessPath, String> {
        gird_model::access::parse_path(&path).map(AccessPath)
    }
}
