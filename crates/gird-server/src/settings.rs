//! Typed settings, built from defaults → `application.yaml` → environment → flags.
//!
//! Every setting is declared once, as a field of a [`Layer`] section in the shape of
//! `application.yaml`: serde reads the file into one layer, clap reads the flags (each
//! with its environment variable as fallback) into another, the derived `Merge` lays the
//! flags over the file key by key, and [`Settings::validate`] turns the result into the
//! typed [`Settings`], with the defaults and range checks in that one place. Nothing here
//! is global.
//!
//! # Adding a setting
//!
//! 1. Add an `Option` field to the section whose YAML key it has ([`GirdSection`] for
//!    `gird.<key>`, [`SpeechMinerSection`] for `gird.speechminer.<key>`, ...; serde
//!    derives the camelCase key from the field name). Its doc comment is the `--help`
//!    text; `#[arg(long, env = "GIRD_...")]` makes the flag and the environment variable
//!    (in a nested section, also `id = "<section>_<key>"` and its `value_name`, so that
//!    clap's ids stay unique and the help names the value as the flag does); a file-only
//!    setting takes `#[arg(skip)]` instead. For example, `gird.bodyLimit`:
//!    ```text
//!    /// Largest accepted request body, in bytes.
//!    #[arg(long, env = "GIRD_BODY_LIMIT")]
//!    pub body_limit: Option<usize>,
//!    ```
//! 2. Validate it in [`Settings::validate`]: its default, its range, and its typed field
//!    in [`Settings`].
//!
//! The precedence test in `crates/gird/src/cli.rs` walks every flag through file,
//! environment and flag and fails until the new one has its row there; docs/API.md
//! "Running" lists it for the operator.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use merge::option::overwrite_none;
use merge::Merge;
use serde::{Deserialize, Deserializer};

use crate::cors::CrossOriginSettings;
use crate::s3::config::S3Section;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "data";
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
pub const DEFAULT_OPS_USER: &str = "ops";
pub const DEFAULT_WEBDAV_TIMEOUT_SECONDS: u64 = 10;
/// With the default backoff (1 s doubling up to 5 min, less up to half of it as jitter),
/// 40 attempts span at least 75 minutes (nearly two hours on average): a receiver that is
/// down for an hour still gets every record without a repost.
pub const DEFAULT_FORWARD_MAX_ATTEMPTS: u32 = 40;
pub const DEFAULT_FORWARD_INITIAL_BACKOFF_MS: u64 = 1_000;
pub const DEFAULT_FORWARD_MAX_BACKOFF_MS: u64 = 300_000;
pub const DEFAULT_FORWARD_TIMEOUT_SECONDS: u64 = 10;
pub const DEFAULT_FORWARD_CONCURRENCY: usize = 8;
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;
pub const DEFAULT_REQUEST_TIMEOUT_SECONDS: u64 = 60;
pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 256;
pub const DEFAULT_IDLE_TIMEOUT_SECONDS: u64 = 30;

/// A secret that never shows itself in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What a flag or an environment variable gives.
impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(Secret),
}

impl Database {
    pub fn parse(url: &str) -> Result<Database, SettingsError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(SettingsError::Invalid(format!(
                    "database {url:?} names no file"
                )));
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Database::Postgres(Secret::new(url)));
        }
        Err(SettingsError::Invalid(format!(
            "database {url:?} must start with sqlite:// or postgres://"
        )))
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database: Database,
    pub ops_user: String,
    /// `None`: generate one on first start and keep it in the data folder.
    pub ops_password: Option<Secret>,
    pub csrf_enabled: bool,
    /// `None`: generate one on first start and keep it in the data folder.
    pub csrf_key: Option<Secret>,
    pub body_limit: usize,
    /// Base of absolute URLs in answers; `None`: `http://` + the request's Host.
    pub public_url: Option<String>,
    /// Key that seals stored WebDAV passwords; `None`: generated on first start.
    pub storage_key: Option<Secret>,
    /// How long to wait for WebDAV to answer.
    pub webdav_timeout: std::time::Duration,
    pub forwarding: Forwarding,
    /// Serve HTTPS with these PEM files (reloaded when they change).
    pub tls: Option<crate::listen::TlsFiles>,
    pub limits: crate::listen::Limits,
    /// The longest a request may take, its body included (not a streamed answer's body).
    pub request_timeout: Duration,
    /// The most stored bytes one page of a search holds (at least one recording).
    pub max_page_bytes: usize,
    /// Cross-origin requests from browser applications; `None`: not allowed.
    pub cors: Option<crate::cors::Cors>,
    pub s3: crate::s3::config::S3Options,
    /// Allow-lists from `gird.outbound.contactCenters`, written to the database at start.
    pub outbound: BTreeMap<String, crate::egress::allow_list::OutboundConfig>,
    /// Directory users (LDAP); `None`: off.
    pub directory: Option<crate::directory::DirectorySettings>,
}

/// Forwarding records to SpeechMiner Interaction Receivers.
#[derive(Debug, Clone)]
pub struct Forwarding {
    /// Attempts before a delivery becomes a dead letter.
    pub max_attempts: u32,
    /// The wait after the first failure; it doubles after each one, up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// How long one POST to a receiver may take.
    pub timeout: Duration,
    /// Deliveries made at once by this instance.
    pub concurrency: usize,
    /// Receivers from `gird.speechminer.contactCenters`, written to the database at start.
    pub receivers: BTreeMap<String, ReceiverConfig>,
}

/// One contact center's receiver in `application.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReceiverConfig {
    pub url: String,
    pub username: Option<String>,
    pub password: Option<Secret>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: {error}")]
    Parse {
        path: PathBuf,
        error: serde_yaml::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

/// One layer of settings, in the shape of `application.yaml` (RWS's, with gird's own
/// settings under `gird:`): the file's, or the command line's (flags, each with its
/// environment variable). `None` is "not given here". Other RWS keys are ignored, so an
/// existing RWS file can be reused; keys under `gird:` are gird's own and a typo there
/// is an error.
#[derive(Debug, Default, Deserialize, clap::Args, Merge)]
pub struct Layer {
    #[serde(default)]
    #[command(flatten)]
    pub gird: GirdSection,
    #[serde(rename = "serverSettings", default)]
    #[command(flatten)]
    pub server_settings: ServerSection,
}

impl Layer {
    /// This layer over `lower`: each key given here wins, the others come from `lower`.
    pub fn over(mut self, lower: Layer) -> Layer {
        self.merge(lower);
        self
    }

    /// The layer `application.yaml` at `path` gives (an empty file gives none).
    pub fn read(path: &Path) -> Result<Layer, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|error| SettingsError::Read {
            path: path.to_owned(),
            error,
        })?;
        if text.trim().is_empty() {
            return Ok(Layer::default());
        }
        serde_yaml::from_str(&text).map_err(|error| SettingsError::Parse {
            path: path.to_owned(),
            error,
        })
    }
}

/// `serverSettings`: the RWS keys gird reads.
#[derive(Debug, Default, Deserialize, clap::Args, Merge)]
#[serde(rename_all = "camelCase")]
#[merge(strategy = overwrite_none)]
pub struct ServerSection {
    #[serde(alias = "opsUsername")]
    #[arg(
        id = "ops_user",
        value_name = "OPS_USER",
        long = "ops-user",
        env = "GIRD_OPS_USER"
    )]
    pub ops_user_name: Option<String>,
    /// Clear text, or {argon2}$argon2id$... / {bcrypt}$2b$...
    #[arg(
        id = "ops_password",
        value_name = "OPS_PASSWORD",
        long = "ops-password",
        env = "GIRD_OPS_PASSWORD",
        hide_env_values = true
    )]
    pub ops_user_password: Option<Secret>,
    /// Require the CSRF token on POST, PUT and DELETE.
    #[arg(id = "csrf", value_name = "CSRF", long = "csrf", env = "GIRD_CSRF")]
    pub enable_csrf_protection: Option<bool>,
    #[serde(default)]
    #[command(flatten)]
    #[merge(strategy = Merge::merge)]
    pub cross_origin_settings: CrossOriginSettings,
    /// The many RWS settings gird does not use.
    #[serde(flatten)]
    #[arg(skip)]
    #[merge(strategy = whole_map)]
    pub other: BTreeMap<String, serde_yaml::Value>,
}

impl ServerSection {
    /// An RWS file may hold settings gird ignores, but a misspelt ops or CSRF setting
    /// would silently leave a default in force, so those are refused.
    fn check_spelling(&self) -> Result<(), SettingsError> {
        let suspicious = self.other.keys().find(|key| {
            let key = key.to_ascii_lowercase();
            key.starts_with("ops") || key.contains("csrf")
        });
        match suspicious {
            Some(key) => Err(SettingsError::Invalid(format!(
                "serverSettings.{key} is not a setting gird knows (opsUserName, opsUsername, opsUserPassword, enableCsrfProtection, crossOriginSettings)"
            ))),
            None => Ok(()),
        }
    }
}

/// `gird`: gird's own settings.
#[derive(Debug, Default, Deserialize, clap::Args, Merge)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[merge(strategy = overwrite_none)]
pub struct GirdSection {
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port).
    #[arg(long, env = "GIRD_LISTEN")]
    pub listen: Option<String>,
    /// Folder for the database, the generated ops password and the CSRF key.
    #[arg(long, env = "GIRD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://PATH (default: sqlite://<data-dir>/gird.db), or postgres://USER:PASSWORD@HOST:PORT/DBNAME for PostgreSQL (several instances may share it).
    #[arg(long, env = "GIRD_DATABASE")]
    pub database: Option<String>,
    /// Key of the CSRF token MAC; instances sharing it accept each other's tokens.
    #[arg(long, env = "GIRD_CSRF_KEY", hide_env_values = true)]
    pub csrf_key: Option<Secret>,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "GIRD_BODY_LIMIT")]
    pub body_limit: Option<usize>,
    /// Base of absolute URLs in answers (default: http:// + the request's Host).
    #[arg(long, env = "GIRD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Key that seals the WebDAV passwords stored per contact center.
    #[arg(long, env = "GIRD_STORAGE_KEY", hide_env_values = true)]
    pub storage_key: Option<Secret>,
    /// How long to wait for WebDAV to answer, in seconds.
    #[arg(long, env = "GIRD_WEBDAV_TIMEOUT_SECONDS")]
    pub webdav_timeout_seconds: Option<u64>,
    #[serde(default)]
    #[command(flatten)]
    #[merge(strategy = Merge::merge)]
    pub speechminer: SpeechMinerSection,
    #[serde(default, deserialize_with = "null_is_default")]
    #[command(flatten)]
    #[merge(strategy = Merge::merge)]
    pub tls: TlsSection,
    /// Connections served at once; more wait to be accepted.
    #[arg(long, env = "GIRD_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Largest request head (request line and headers), in bytes.
    #[arg(long, env = "GIRD_MAX_HEADER_BYTES")]
    pub max_header_bytes: Option<usize>,
    /// The longest a request may take, its body included, in seconds.
    #[arg(long, env = "GIRD_REQUEST_TIMEOUT_SECONDS")]
    pub request_timeout_seconds: Option<u64>,
    /// Connections served at once from one client address (IPv6: one /64); 0: no limit.
    #[arg(long, env = "GIRD_MAX_CONNECTIONS_PER_ADDRESS")]
    pub max_connections_per_address: Option<usize>,
    /// A connection with no request in flight for this long is closed (HTTP/1 and HTTP/2), in seconds.
    #[arg(long, env = "GIRD_IDLE_TIMEOUT_SECONDS")]
    pub idle_timeout_seconds: Option<u64>,
    /// The most stored bytes one page of a search holds (at least one recording; the rest comes with `next`).
    #[arg(long, env = "GIRD_MAX_PAGE_BYTES")]
    pub max_page_bytes: Option<usize>,
    #[serde(default)]
    #[command(flatten)]
    #[merge(strategy = Merge::merge)]
    pub s3: S3Section,
    #[serde(default)]
    #[arg(skip)]
    #[merge(strategy = Merge::merge)]
    pub outbound: OutboundSection,
    #[serde(default, deserialize_with = "null_is_default")]
    #[command(flatten)]
    #[merge(strategy = Merge::merge)]
    pub ldap: LdapSection,
}

/// `gird.ldap`: directory users (docs/API.md "Directory users (LDAP)"); off without `url`.
#[derive(Debug, Default, Deserialize, clap::Args, Merge)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[merge(strategy = overwrite_none)]
pub struct LdapSection {
    /// Directory users: the LDAP server, ldap://HOST[:PORT] or ldaps://HOST[:PORT] (off when not given).
    #[arg(
        id = "ldap_url",
        value_name = "LDAP_URL",
        long = "ldap-url",
        env = "GIRD_LDAP_URL"
    )]
    pub url: Option<String>,
    /// Directory users: upgrade an ldap:// connection with StartTLS.
    #[arg(
        id = "ldap_start_tls",
        value_name = "LDAP_START_TLS",
        long = "ldap-start-tls",
        env = "GIRD_LDAP_START_TLS"
    )]
    pub start_tls: Option<bool>,
    /// Directory users: the PEM certificates (CAs) trusted for the directory's TLS (default: the system's).
    #[arg(
        id = "ldap_ca_file",
        value_name = "LDAP_CA_FILE",
        long = "ldap-ca-file",
        env = "GIRD_LDAP_CA_FILE"
    )]
    pub ca_file: Option<PathBuf>,
    /// Directory users: the DN gird binds as to find a user's entry (default: it searches anonymously).
    #[arg(
        id = "ldap_bind_dn",
        value_name = "LDAP_BIND_DN",
        long = "ldap-bind-dn",
        env = "GIRD_LDAP_BIND_DN"
    )]
    pub bind_dn: Option<String>,
    /// Directory users: the file holding the password of --ldap-bind-dn.
    #[arg(
        id = "ldap_bind_password_file",
        value_name = "LDAP_BIND_PASSWORD_FILE",
        long = "ldap-bind-password-file",
        env = "GIRD_LDAP_BIND_PASSWORD_FILE"
    )]
    pub bind_password_file: Option<PathBuf>,
    /// Directory users: where users' entries are searched, e.g. ou=people,dc=example,dc=org.
    #[arg(
        id = "ldap_user_base",
        value_name = "LDAP_USER_BASE",
        long = "ldap-user-base",
        env = "GIRD_LDAP_USER_BASE"
    )]
    pub user_base: Option<String>,
    /// Directory users: the filter that finds a user's entry; {user} is the name signed in with, escaped.
    #[arg(
        id = "ldap_user_filter",
        value_name = "LDAP_USER_FILTER",
        long = "ldap-user-filter",
        env = "GIRD_LDAP_USER_FILTER"
    )]
    pub user_filter: Option<String>,
    /// Directory users: where groups are searched for a user's membership (default: the user's memberOf).
    #[arg(
        id = "ldap_group_base",
        value_name = "LDAP_GROUP_BASE",
        long = "ldap-group-base",
        env = "GIRD_LDAP_GROUP_BASE"
    )]
    pub group_base: Option<String>,
    /// Directory users: the filter of a user's groups under --ldap-group-base; {dn} is the user's DN, {user} the name, escaped.
    #[arg(
        id = "ldap_group_filter",
        value_name = "LDAP_GROUP_FILTER",
        long = "ldap-group-filter",
        env = "GIRD_LDAP_GROUP_FILTER"
    )]
    pub group_filter: Option<String>,
    /// Directory users: the contact center they belong to.
    #[arg(
        id = "ldap_contact_center",
        value_name = "LDAP_CONTACT_CENTER",
        long = "ldap-contact-center",
        env = "GIRD_LDAP_CONTACT_CENTER"
    )]
    pub contact_center: Option<String>,
    /// Directory users: the longest a sign-in waits for the directory, in seconds (1 to 60).
    #[arg(
        id = "ldap_timeout_seconds",
        value_name = "LDAP_TIMEOUT_SECONDS",
        long = "ldap-timeout-seconds",
        env = "GIRD_LDAP_TIMEOUT_SECONDS"
    )]
    pub timeout_seconds: Option<u64>,
    /// Directory users: how long a successful sign-in is remembered, in seconds (0: never; at most 3600).
    #[arg(
        id = "ldap_cache_seconds",
        value_name = "LDAP_CACHE_SECONDS",
        long = "ldap-cache-seconds",
        env = "GIRD_LDAP_CACHE_SECONDS"
    )]
    pub cache_seconds: Option<u64>,
    /// Which groups give which roles, access groups, partitions and permissions (file only).
    #[serde(default)]
    #[arg(skip)]
    #[merge(strategy = whole_list)]
    pub rules: Vec<crate::directory::mapping::RuleConfig>,
}

pub const DEFAULT_LDAP_USER_FILTER: &str = "(uid={user})";
pub const DEFAULT_LDAP_GROUP_FILTER: &str = "(member={dn})";
pub const DEFAULT_LDAP_TIMEOUT_SECONDS: u64 = 5;
pub const DEFAULT_LDAP_CACHE_SECONDS: u64 = 60;

impl LdapSection {
    fn is_empty(&self) -> bool {
        let LdapSection {
            url,
            start_tls,
            ca_file,
            bind_dn,
            bind_password_file,
            user_base,
            user_filter,
            group_base,
            group_filter,
            contact_center,
            timeout_seconds,
            cache_seconds,
            rules,
        } = self;
        url.is_none()
            && start_tls.is_none()
            && ca_file.is_none()
            && bind_dn.is_none()
            && bind_password_file.is_none()
            && user_base.is_none()
            && user_filter.is_none()
            && group_base.is_none()
            && group_filter.is_none()
            && contact_center.is_none()
            && timeout_seconds.is_none()
            && cache_seconds.is_none()
            && rules.is_empty()
    }

    fn validate(self) -> Result<Option<crate::directory::DirectorySettings>, SettingsError> {
        use crate::directory::{DirectorySettings, GroupLookup, ServiceAccount};
        let invalid = |what: String| Err(SettingsError::Invalid(format!("ldap.{what}")));
        let Some(url) = self.url.clone() else {
            if self.is_empty() {
                return Ok(None);
            }
            return invalid(
                "url (--ldap-url) is required when other directory settings are given".into(),
            );
        };
        let start_tls = self.start_tls.unwrap_or(false);
        let ldaps = match reqwest::Url::parse(&url) {
            Ok(parsed)
                if matches!(parsed.scheme(), "ldap" | "ldaps")
                    && parsed.host_str().is_some_and(|host| !host.is_empty())
                    && matches!(parsed.path(), "" | "/")
                    && parsed.query().is_none()
                    && parsed.username().is_empty() =>
            {
                parsed.scheme() == "ldaps"
            }
            _ => {
                return invalid(format!(
                    "url {url:?} must be ldap://HOST[:PORT] or ldaps://HOST[:PORT]"
                ))
            }
        };
        if ldaps && start_tls {
            return invalid("startTls: an ldaps:// connection is TLS already".into());
        }
        let Some(user_base) = self.user_base.filter(|base| !base.trim().is_empty()) else {
            return invalid("userBase (--ldap-user-base) is required".into());
        };
        let user_filter = self
            .user_filter
            .unwrap_or_else(|| DEFAULT_LDAP_USER_FILTER.into());
        if !(user_filter.starts_with('(') && user_filter.contains("{user}")) {
            return invalid(format!(
                "userFilter {user_filter:?} must be an LDAP filter in parentheses holding {{user}}"
            ));
        }
        let groups = match self.group_base.filter(|base| !base.trim().is_empty()) {
            None => GroupLookup::MemberOf,
            Some(base) => {
                let filter = self
                    .group_filter
                    .unwrap_or_else(|| DEFAULT_LDAP_GROUP_FILTER.into());
                if !(filter.starts_with('(')
                    && (filter.contains("{dn}") || filter.contains("{user}")))
                {
                    return invalid(format!(
                        "groupFilter {filter:?} must be an LDAP filter in parentheses holding {{dn}} or {{user}}"
                    ));
                }
                GroupLookup::Search { base, filter }
            }
        };
        let service = match (self.bind_dn, self.bind_password_file) {
            (Some(dn), Some(password_file)) => Some(ServiceAccount { dn, password_file }),
            (None, None) => None,
            _ => {
                return invalid(
                    "bindDn and bindPasswordFile (--ldap-bind-dn, --ldap-bind-password-file) go together".into(),
                )
            }
        };
        let Some(contact_center) = self.contact_center.filter(|id| !id.is_empty()) else {
            return invalid("contactCenter (--ldap-contact-center) is required".into());
        };
        let timeout_seconds = self.timeout_seconds.unwrap_or(DEFAULT_LDAP_TIMEOUT_SECONDS);
        if !(1..=60).contains(&timeout_seconds) {
            return invalid(format!(
                "timeoutSeconds {timeout_seconds} must be from 1 to 60"
            ));
        }
        let cache_seconds = self.cache_seconds.unwrap_or(DEFAULT_LDAP_CACHE_SECONDS);
        if cache_seconds > 3600 {
            return invalid(format!("cacheSeconds {cache_seconds} must be at most 3600"));
        }
        let rules = self
            .rules
            .iter()
            .enumerate()
            .map(|(index, rule)| crate::directory::mapping::Rule::parse(index, rule))
            .collect::<Result<Vec<_>, _>>()
            .map_err(SettingsError::Invalid)?;
        Ok(Some(DirectorySettings {
            url,
            start_tls,
            ca_file: self.ca_file,
            service,
            user_base,
            user_filter,
            groups,
            contact_center,
            timeout: Duration::from_secs(timeout_seconds),
            cache_for: Duration::from_secs(cache_seconds),
            rules,
        }))
    }
}

/// `gird.outbound`: each contact center's allow-list of origins (file only).
#[derive(Debug, Default, Deserialize, Merge)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OutboundSection {
    #[serde(default)]
    #[merge(strategy = whole_map)]
    pub contact_centers: BTreeMap<String, crate::egress::allow_list::OutboundConfig>,
}

/// `gird.tls`: serve HTTPS.
#[derive(Debug, Default, Deserialize, clap::Args, Merge)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[merge(strategy = overwrite_none)]
pub struct TlsSection {
    /// Serve HTTPS with this PEM certificate chain (with --tls-key); reloaded when it changes.
    #[arg(
        id = "tls_cert",
        value_name = "TLS_CERT",
        long = "tls-cert",
        env = "GIRD_TLS_CERT"
    )]
    pub cert_file: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(
        id = "tls_key",
        value_name = "TLS_KEY",
        long = "tls-key",
        env = "GIRD_TLS_KEY"
    )]
    pub key_file: Option<PathBuf>,
}

/// `gird.speechminer`: forwarding to SpeechMiner.
#[derive(Debug, Default, Deserialize, clap::Args, Merge)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[merge(strategy = overwrite_none)]
pub struct SpeechMinerSection {
    /// SpeechMiner deliveries: attempts before one becomes a dead letter.
    #[arg(
        id = "speechminer_max_attempts",
        value_name = "SPEECHMINER_MAX_ATTEMPTS",
        long = "speechminer-max-attempts",
        env = "GIRD_SPEECHMINER_MAX_ATTEMPTS"
    )]
    pub max_attempts: Option<u32>,
    /// SpeechMiner deliveries: the wait after a first failure, doubled after each next one.
    #[arg(
        id = "speechminer_initial_backoff_ms",
        value_name = "SPEECHMINER_INITIAL_BACKOFF_MS",
        long = "speechminer-initial-backoff-ms",
        env = "GIRD_SPEECHMINER_INITIAL_BACKOFF_MS"
    )]
    pub initial_backoff_ms: Option<u64>,
    /// SpeechMiner deliveries: the longest wait between two attempts.
    #[arg(
        id = "speechminer_max_backoff_ms",
        value_name = "SPEECHMINER_MAX_BACKOFF_MS",
        long = "speechminer-max-backoff-ms",
        env = "GIRD_SPEECHMINER_MAX_BACKOFF_MS"
    )]
    pub max_backoff_ms: Option<u64>,
    /// SpeechMiner deliveries: how long one POST may take.
    #[arg(
        id = "speechminer_timeout_seconds",
        value_name = "SPEECHMINER_TIMEOUT_SECONDS",
        long = "speechminer-timeout-seconds",
        env = "GIRD_SPEECHMINER_TIMEOUT_SECONDS"
    )]
    pub timeout_seconds: Option<u64>,
    /// SpeechMiner deliveries made at once by this instance.
    #[arg(
        id = "speechminer_concurrency",
        value_name = "SPEECHMINER_CONCURRENCY",
        long = "speechminer-concurrency",
        env = "GIRD_SPEECHMINER_CONCURRENCY"
    )]
    pub concurrency: Option<usize>,
    #[serde(default)]
    #[arg(skip)]
    #[merge(strategy = whole_map)]
    pub contact_centers: BTreeMap<String, ReceiverConfig>,
}

/// The merge of a file-only map: it comes whole from the highest layer that has one.
pub(crate) fn whole_map<K, V>(top: &mut BTreeMap<K, V>, lower: BTreeMap<K, V>) {
    if top.is_empty() {
        *top = lower;
    }
}

/// The merge of a file-only list: it comes whole from the highest layer that has one.
fn whole_list<T>(top: &mut Vec<T>, lower: Vec<T>) {
    if top.is_empty() {
        *top = lower;
    }
}

/// `key: ~` (or an empty `key:`) reads as the section's defaults.
fn null_is_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

impl SpeechMinerSection {
    fn validate(self) -> Result<Forwarding, SettingsError> {
        let max_attempts = self.max_attempts.unwrap_or(DEFAULT_FORWARD_MAX_ATTEMPTS);
        let concurrency = self.concurrency.unwrap_or(DEFAULT_FORWARD_CONCURRENCY);
        let initial_backoff_ms = self
            .initial_backoff_ms
            .unwrap_or(DEFAULT_FORWARD_INITIAL_BACKOFF_MS);
        let max_backoff_ms = self
            .max_backoff_ms
            .unwrap_or(DEFAULT_FORWARD_MAX_BACKOFF_MS);
        let timeout_seconds = self
            .timeout_seconds
            .unwrap_or(DEFAULT_FORWARD_TIMEOUT_SECONDS);
        let invalid = |what: String| Err(SettingsError::Invalid(format!("speechminer.{what}")));
        if max_attempts == 0 {
            return invalid("maxAttempts must be at least 1".into());
        }
        if !(1..=256).contains(&concurrency) {
            return invalid(format!("concurrency {concurrency} must be from 1 to 256"));
        }
        if initial_backoff_ms == 0 || max_backoff_ms < initial_backoff_ms {
            return invalid(format!(
                "initialBackoffMs ({initial_backoff_ms}) must be at least 1 and at most maxBackoffMs ({max_backoff_ms})"
            ));
        }
        if timeout_seconds == 0 {
            return invalid("timeoutSeconds must be at least 1".into());
        }
        Ok(Forwarding {
            max_attempts,
            initial_backoff: Duration::from_millis(initial_backoff_ms),
            max_backoff: Duration::from_millis(max_backoff_ms),
            timeout: Duration::from_secs(timeout_seconds),
            concurrency,
            receivers: self.contact_centers,
        })
    }
}

impl TlsSection {
    fn validate(self) -> Result<Option<crate::listen::TlsFiles>, SettingsError> {
        match (self.cert_file, self.key_file) {
            (Some(certificate), Some(key)) => Ok(Some(crate::listen::TlsFiles { certificate, key })),
            (None, None) => Ok(None),
            _ => Err(SettingsError::Invalid(
                "tls: give both the certificate (certFile, --tls-cert) and the key (keyFile, --tls-key)".into(),
            )),
        }
    }
}

/// Whole seconds, at least one.
fn seconds(given: Option<u64>, default: u64) -> Duration {
    Duration::from_secs(given.unwrap_or(default).max(1))
}

impl Settings {
    /// Resolves the settings: `flags` (with their environment variables) over the file
    /// `config`, if any, over the defaults.
    pub fn load(config: Option<&Path>, flags: Layer) -> Result<Settings, SettingsError> {
        let file = match config {
            Some(path) => Layer::read(path)?,
            None => Layer::default(),
        };
        Settings::validate(flags.over(file))
    }

    /// The merged layers, checked, with the defaults for what no layer gives.
    pub fn validate(layer: Layer) -> Result<Settings, SettingsError> {
        let Layer {
            gird,
            server_settings: server,
        } = layer;
        server.check_spelling()?;
        let cors = server.cross_origin_settings.resolve()?;
        let forwarding = gird.speechminer.validate()?;
        let s3 = gird.s3.resolve()?;
        let outbound = gird.outbound.contact_centers;
        let directory = gird.ldap.validate()?;
        let data_dir = gird
            .data_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database = match gird.database {
            Some(url) => Database::parse(&url)?,
            None => Database::Sqlite(data_dir.join("gird.db")),
        };
        let body_limit = gird.body_limit.unwrap_or(DEFAULT_BODY_LIMIT);
        if body_limit == 0 {
            return Err(SettingsError::Invalid(
                "bodyLimit must be at least 1 byte".into(),
            ));
        }
        let public_url = gird
            .public_url
            .map(|url| url.trim_end_matches('/').to_owned());
        let ops_user = server
            .ops_user_name
            .unwrap_or_else(|| DEFAULT_OPS_USER.into());
        if ops_user.is_empty() || ops_user.contains(':') {
            return Err(SettingsError::Invalid(format!(
                "opsUserName {ops_user:?} must be non-empty and contain no ':'"
            )));
        }
        let tls = gird.tls.validate()?;
        let limits = crate::listen::Limits {
            max_connections: gird.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS),
            max_header_bytes: gird.max_header_bytes.unwrap_or(DEFAULT_MAX_HEADER_BYTES),
            max_connections_per_address: gird
                .max_connections_per_address
                .unwrap_or(DEFAULT_MAX_CONNECTIONS_PER_ADDRESS),
            idle_timeout: seconds(gird.idle_timeout_seconds, DEFAULT_IDLE_TIMEOUT_SECONDS),
        };
        if limits.max_connections == 0 || limits.max_header_bytes < 1024 {
            return Err(SettingsError::Invalid(
                "maxConnections must be at least 1 and maxHeaderBytes at least 1024".into(),
            ));
        }
        let max_page_bytes = gird
            .max_page_bytes
            .unwrap_or(gird_store::DEFAULT_PAGE_BYTES);
        if max_page_bytes < 1024 {
            return Err(SettingsError::Invalid(
                "maxPageBytes must be at least 1024".into(),
            ));
        }
        Ok(Settings {
            listen: gird.listen.unwrap_or_else(|| DEFAULT_LISTEN.into()),
            data_dir,
            database,
            ops_user,
            ops_password: server.ops_user_password,
            csrf_enabled: server.enable_csrf_protection.unwrap_or(false),
            csrf_key: gird.csrf_key,
            body_limit,
            public_url,
            storage_key: gird.storage_key,
            webdav_timeout: seconds(gird.webdav_timeout_seconds, DEFAULT_WEBDAV_TIMEOUT_SECONDS),
            forwarding,
            tls,
            limits,
            request_timeout: seconds(
                gird.request_timeout_seconds,
                DEFAULT_REQUEST_TIMEOUT_SECONDS,
            ),
            max_page_bytes,
            cors,
            s3,
            outbound,
            directory,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(yaml: &str) -> Layer {
        serde_yaml::from_str(yaml).unwrap()
    }

    /// `flags` over the file `yaml`.
    fn resolve(yaml: &str, flags: Layer) -> Result<Settings, SettingsError> {
        Settings::validate(flags.over(file(yaml)))
    }

    fn flags(change: impl FnOnce(&mut Layer)) -> Layer {
        let mut layer = Layer::default();
        change(&mut layer);
        layer
    }

    #[test]
    fn defaults_put_sqlite_in_the_data_folder() {
        let settings = Settings::validate(Layer::default()).unwrap();
        assert_eq!(settings.listen, DEFAULT_LISTEN);
        assert_eq!(
            settings.database,
            Database::Sqlite(PathBuf::from("data/gird.db"))
        );
        assert_eq!(settings.ops_user, "ops");
        assert!(settings.ops_password.is_none());
        assert!(!settings.csrf_enabled);
        assert_eq!(settings.body_limit, DEFAULT_BODY_LIMIT);
    }

    #[test]
    fn the_file_wins_over_defaults_and_flags_win_over_the_file() {
        let yaml = "serverSettings:\n  opsUsername: admin2\n  opsUserPassword: from-file\n  enableCsrfProtection: true\n  externalApiUrlV2: http://ignored\ngird:\n  listen: 0.0.0.0:9000\n  bodyLimit: 10\n";
        let settings = resolve(yaml, Layer::default()).unwrap();
        assert_eq!(
            (settings.ops_user.as_str(), settings.listen.as_str()),
            ("admin2", "0.0.0.0:9000")
        );
        assert_eq!(settings.ops_password, Some(Secret::new("from-file")));
        assert!(settings.csrf_enabled);
        let cli = flags(|layer| {
            layer.server_settings.ops_user_password = Some(Secret::new("from-flag"));
            layer.server_settings.enable_csrf_protection = Some(false);
            layer.gird.body_limit = Some(20);
        });
        let settings = resolve(yaml, cli).unwrap();
        assert_eq!(settings.ops_password, Some(Secret::new("from-flag")));
        assert!(!settings.csrf_enabled);
        assert_eq!(settings.body_limit, 20);
    }

    #[test]
    fn a_typo_under_gird_or_in_an_ops_setting_is_an_error() {
        assert!(serde_yaml::from_str::<Layer>("gird:\n  lisen: x\n").is_err());
        let error =
            resolve("serverSettings:\n  opsUserPasword: x\n", Layer::default()).unwrap_err();
        assert!(error.to_string().contains("opsUserPasword"));
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let cli = flags(|layer| {
            layer.server_settings.ops_user_password = Some(Secret::new("hunter2"));
        });
        assert!(!format!("{cli:?}").contains("hunter2"));
        let settings = Settings::validate(cli).unwrap();
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[test]
    fn speechminer_settings_from_the_file_and_flags() {
        let yaml = "gird:\n  speechminer:\n    maxAttempts: 3\n    initialBackoffMs: 50\n    contactCenters:\n      acme:\n        url: http://sm.example/interactionreceiver\n        username: u\n        password: p\n";
        let settings = resolve(yaml, Layer::default()).unwrap();
        let forwarding = &settings.forwarding;
        assert_eq!(forwarding.max_attempts, 3);
        assert_eq!(forwarding.initial_backoff, Duration::from_millis(50));
        assert_eq!(forwarding.concurrency, DEFAULT_FORWARD_CONCURRENCY);
        let acme = &forwarding.receivers["acme"];
        assert!(acme.enabled);
        assert_eq!(acme.password, Some(Secret::new("p")));
        assert!(!format!("{settings:?}").contains("\"p\""));
        let cli = flags(|layer| layer.gird.speechminer.max_attempts = Some(7));
        let settings = resolve(yaml, cli).unwrap();
        assert_eq!(settings.forwarding.max_attempts, 7);
        assert_eq!(
            settings.forwarding.receivers.len(),
            1,
            "the file's receivers stay"
        );
        assert!(
            serde_yaml::from_str::<Layer>("gird:\n  speechminer:\n    maxAtempts: 3\n").is_err()
        );
        let zero = flags(|layer| layer.gird.speechminer.max_attempts = Some(0));
        assert!(Settings::validate(zero).is_err());
        let inverted = "gird:\n  speechminer:\n    initialBackoffMs: 10\n    maxBackoffMs: 5\n";
        assert!(resolve(inverted, Layer::default()).is_err());
    }

    #[test]
    fn outbound_allow_lists_from_the_file() {
        let yaml = "gird:\n  outbound:\n    contactCenters:\n      acme:\n        origins: [\"https://media.example.com\", \"http://10.1.2.3:8080\"]\n";
        let settings = resolve(yaml, Layer::default()).unwrap();
        assert_eq!(settings.outbound["acme"].origins.len(), 2);
        for typo in [
            "gird:\n  outbound:\n    contactCentres: {}\n",
            "gird:\n  outbound:\n    contactCenters:\n      acme:\n        origin: []\n",
        ] {
            assert!(serde_yaml::from_str::<Layer>(typo).is_err(), "{typo}");
        }
    }

    #[test]
    fn an_empty_tls_section_is_no_tls_and_half_of_one_is_refused() {
        assert!(resolve("gird:\n  tls:\n", Layer::default())
            .unwrap()
            .tls
            .is_none());
        let half = resolve("gird:\n  tls:\n    certFile: c.pem\n", Layer::default());
        assert!(half.unwrap_err().to_string().contains("--tls-key"));
        let cli = flags(|layer| layer.gird.tls.key_file = Some(PathBuf::from("k.pem")));
        let tls = resolve("gird:\n  tls:\n    certFile: c.pem\n", cli)
            .unwrap()
            .tls
            .unwrap();
        assert_eq!(
            (tls.certificate, tls.key),
            (PathBuf::from("c.pem"), PathBuf::from("k.pem")),
            "the halves may come from different layers"
        );
    }

    const LDAP: &str = "gird:\n  ldap:\n    url: ldap://127.0.0.1:3389\n    startTls: true\n    userBase: ou=people,dc=example,dc=org\n    contactCenter: acme\n    rules:\n      - group: supervisors\n        roles: [Supervisor]\n        accessGroups: [/Sales]\n";

    #[test]
    fn ldap_is_off_without_settings_and_read_with_its_defaults() {
        assert!(Settings::validate(Layer::default())
            .unwrap()
            .directory
            .is_none());
        assert!(resolve("gird:\n  ldap:\n", Layer::default())
            .unwrap()
            .directory
            .is_none());
        let directory = resolve(LDAP, Layer::default()).unwrap().directory.unwrap();
        assert!(directory.start_tls);
        assert_eq!(directory.user_filter, DEFAULT_LDAP_USER_FILTER);
        assert_eq!(directory.groups, crate::directory::GroupLookup::MemberOf);
        assert_eq!(
            directory.timeout,
            Duration::from_secs(DEFAULT_LDAP_TIMEOUT_SECONDS)
        );
        assert_eq!(
            directory.cache_for,
            Duration::from_secs(DEFAULT_LDAP_CACHE_SECONDS)
        );
        assert_eq!(directory.rules.len(), 1);
        assert!(directory.service.is_none());
        let cli = flags(|layer| {
            layer.gird.ldap.group_base = Some("ou=groups,dc=example,dc=org".into());
            layer.gird.ldap.bind_dn = Some("cn=gird,dc=example,dc=org".into());
            layer.gird.ldap.bind_password_file = Some(PathBuf::from("bind-password"));
            layer.gird.ldap.timeout_seconds = Some(2);
            layer.gird.ldap.cache_seconds = Some(0);
        });
        let directory = resolve(LDAP, cli).unwrap().directory.unwrap();
        assert_eq!(
            directory.groups,
            crate::directory::GroupLookup::Search {
                base: "ou=groups,dc=example,dc=org".into(),
                filter: DEFAULT_LDAP_GROUP_FILTER.into()
            }
        );
        assert_eq!(directory.service.unwrap().dn, "cn=gird,dc=example,dc=org");
        assert_eq!(directory.timeout, Duration::from_secs(2));
        assert!(directory.cache_for.is_zero());
        assert_eq!(directory.rules.len(), 1, "the file's rules stay");
    }

    #[test]
    fn wrong_ldap_settings_are_refused_naming_the_setting() {
        type Change = fn(&mut LdapSection);
        let cases: [(&str, Change); 12] = [
            ("ldap.url", |ldap| ldap.url = Some("http://x".into())),
            ("ldap.url", |ldap| {
                ldap.url = Some("ldap://x/dc=org?uid".into())
            }),
            ("ldap.url", |ldap| ldap.url = Some("ldap://".into())),
            ("ldap.startTls", |ldap| {
                ldap.url = Some("ldaps://x".into());
            }),
            ("ldap.userBase", |ldap| ldap.user_base = Some(" ".into())),
            ("ldap.userFilter", |ldap| {
                ldap.user_filter = Some("uid={user}".into())
            }),
            ("ldap.userFilter", |ldap| {
                ldap.user_filter = Some("(uid=carol)".into())
            }),
            ("ldap.groupFilter", |ldap| {
                ldap.group_base = Some("ou=groups".into());
                ldap.group_filter = Some("(member=x)".into());
            }),
            ("ldap.bindDn", |ldap| ldap.bind_dn = Some("cn=gird".into())),
            ("ldap.contactCenter", |ldap| ldap.contact_center = None),
            ("ldap.timeoutSeconds", |ldap| ldap.timeout_seconds = Some(0)),
            ("ldap.cacheSeconds", |ldap| ldap.cache_seconds = Some(3601)),
        ];
        for (expected, change) in cases {
            let mut layer = file(LDAP);
            change(&mut layer.gird.ldap);
            let error = Settings::validate(layer).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{expected}: {error}");
        }
        let rule = LDAP.replace("roles: [Supervisor]", "roles: [Boss]");
        let error = resolve(&rule, Layer::default()).unwrap_err().to_string();
        assert!(error.starts_with("ldap.rules[0].roles"), "{error}");
        let cli = flags(|layer| layer.gird.ldap.timeout_seconds = Some(5));
        let error = Settings::validate(cli).unwrap_err().to_string();
        assert!(error.contains("url (--ldap-url) is required"), "{error}");
        for typo in [
            "gird:\n  ldap:\n    urll: ldap://x\n",
            "gird:\n  ldap:\n    rules:\n      - group: a\n        role: [Agent]\n",
        ] {
            assert!(serde_yaml::from_str::<Layer>(typo).is_err(), "{typo}");
        }
    }

    #[test]
    fn database_urls() {
        assert!(matches!(
            Database::parse("postgres://u@h/db"),
            Ok(Database::Postgres(_))
        ));
        assert!(Database::parse("mysql://x").is_err());
        assert!(Database::parse("sqlite://").is_err());
    }
}
