//! Typed settings, built from defaults → `application.yaml` → environment → flags.
//!
//! The command line (with clap's `env` fallback) hands over [`Overrides`], which win
//! over the file, which wins over the defaults. Nothing here is global.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

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

/// What the command line (or its environment variables) says; `None` means "not given".
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database: Option<String>,
    pub ops_user: Option<String>,
    pub ops_password: Option<Secret>,
    pub csrf_enabled: Option<bool>,
    pub csrf_key: Option<Secret>,
    pub body_limit: Option<usize>,
    pub public_url: Option<String>,
    pub storage_key: Option<Secret>,
    pub webdav_timeout_seconds: Option<u64>,
    pub forward_max_attempts: Option<u32>,
    pub forward_initial_backoff_ms: Option<u64>,
    pub forward_max_backoff_ms: Option<u64>,
    pub forward_timeout_seconds: Option<u64>,
    pub forward_concurrency: Option<usize>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub max_connections: Option<usize>,
    pub max_header_bytes: Option<usize>,
    pub request_timeout_seconds: Option<u64>,
    pub max_connections_per_address: Option<usize>,
    pub idle_timeout_seconds: Option<u64>,
    pub max_page_bytes: Option<usize>,
    /// The `--cors-*` flags; each key given wins over the file's.
    pub cors: crate::cors::CrossOriginSettings,
    pub s3_timeout_seconds: Option<u64>,
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

/// `application.yaml` in the RWS shape. Other RWS keys are ignored, so an existing RWS
/// file can be reused; keys under `gird:` are gird's own and a typo there is an error.
#[derive(Debug, Default, Deserialize)]
struct FileConfig {
    #[serde(rename = "serverSettings", default)]
    server_settings: ServerSettings,
    #[serde(default)]
    gird: GirdSection,
}

#[derive(Debug, Default, Deserialize)]
struct ServerSettings {
    #[serde(rename = "opsUserName", alias = "opsUsername")]
    ops_user_name: Option<String>,
    #[serde(rename = "opsUserPassword")]
    ops_user_password: Option<Secret>,
    #[serde(rename = "enableCsrfProtection")]
    enable_csrf_protection: Option<bool>,
    #[serde(rename = "crossOriginSettings", default)]
    cross_origin_settings: crate::cors::CrossOriginSettings,
    /// The many RWS settings gird does not use.
    #[serde(flatten)]
    other: std::collections::BTreeMap<String, serde_yaml::Value>,
}

impl ServerSettings {
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct GirdSection {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database: Option<String>,
    csrf_key: Option<Secret>,
    body_limit: Option<usize>,
    public_url: Option<String>,
    storage_key: Option<Secret>,
    webdav_timeout_seconds: Option<u64>,
    #[serde(default)]
    speechminer: SpeechMinerSection,
    tls: Option<TlsSection>,
    max_connections: Option<usize>,
    max_header_bytes: Option<usize>,
    request_timeout_seconds: Option<u64>,
    max_connections_per_address: Option<usize>,
    idle_timeout_seconds: Option<u64>,
    max_page_bytes: Option<usize>,
    #[serde(default)]
    s3: crate::s3::config::S3Section,
    #[serde(default)]
    outbound: OutboundSection,
}

/// `gird.outbound`: each contact center's allow-list of origins.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OutboundSection {
    #[serde(default)]
    contact_centers: BTreeMap<String, crate::egress::allow_list::OutboundConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TlsSection {
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SpeechMinerSection {
    max_attempts: Option<u32>,
    initial_backoff_ms: Option<u64>,
    max_backoff_ms: Option<u64>,
    timeout_seconds: Option<u64>,
    concurrency: Option<usize>,
    #[serde(default)]
    contact_centers: BTreeMap<String, ReceiverConfig>,
}

impl Forwarding {
    fn resolve(file: SpeechMinerSection, cli: &Overrides) -> Result<Forwarding, SettingsError> {
        let max_attempts = cli
            .forward_max_attempts
            .or(file.max_attempts)
            .unwrap_or(DEFAULT_FORWARD_MAX_ATTEMPTS);
        let concurrency = cli
            .forward_concurrency
            .or(file.concurrency)
            .unwrap_or(DEFAULT_FORWARD_CONCURRENCY);
        let initial_backoff_ms = cli
            .forward_initial_backoff_ms
            .or(file.initial_backoff_ms)
            .unwrap_or(DEFAULT_FORWARD_INITIAL_BACKOFF_MS);
        let max_backoff_ms = cli
            .forward_max_backoff_ms
            .or(file.max_backoff_ms)
            .unwrap_or(DEFAULT_FORWARD_MAX_BACKOFF_MS);
        let timeout_seconds = cli
            .forward_timeout_seconds
            .or(file.timeout_seconds)
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
            receivers: file.contact_centers,
        })
    }
}

impl Settings {
    /// Resolves the settings; `config` is the file to read, if any.
    pub fn load(config: Option<&Path>, overrides: Overrides) -> Result<Settings, SettingsError> {
        let file = match config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        Settings::resolve(file, overrides)
    }

    fn resolve(file: FileConfig, cli: Overrides) -> Result<Settings, SettingsError> {
        let (mut server, mut gird) = (file.server_settings, file.gird);
        server.check_spelling()?;
        let cors = std::mem::take(&mut server.cross_origin_settings)
            .overridden_by(cli.cors.clone())
            .resolve()?;
        let forwarding = Forwarding::resolve(std::mem::take(&mut gird.speechminer), &cli)?;
        let s3 = std::mem::take(&mut gird.s3).resolve(cli.s3_timeout_seconds)?;
        let outbound = std::mem::take(&mut gird.outbound.contact_centers);
        let data_dir = cli
            .data_dir
            .or(gird.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database = match cli.database.or(gird.database) {
            Some(url) => Database::parse(&url)?,
            None => Database::Sqlite(data_dir.join("gird.db")),
        };
        let body_limit = cli
            .body_limit
            .or(gird.body_limit)
            .unwrap_or(DEFAULT_BODY_LIMIT);
        if body_limit == 0 {
            return Err(SettingsError::Invalid(
                "bodyLimit must be at least 1 byte".into(),
            ));
        }
        let public_url = cli
            .public_url
            .or(gird.public_url)
            .map(|url| url.trim_end_matches('/').to_owned());
        let ops_user = cli
            .ops_user
            .or(server.ops_user_name)
            .unwrap_or_else(|| DEFAULT_OPS_USER.into());
        if ops_user.is_empty() || ops_user.contains(':') {
            return Err(SettingsError::Invalid(format!(
                "opsUserName {ops_user:?} must be non-empty and contain no ':'"
            )));
        }
        let tls_section = gird.tls.unwrap_or_default();
        let tls = match (
            cli.tls_cert.clone().or(tls_section.cert_file),
            cli.tls_key.clone().or(tls_section.key_file),
        ) {
            (Some(certificate), Some(key)) => Some(crate::listen::TlsFiles { certificate, key }),
            (None, None) => None,
            _ => {
                return Err(SettingsError::Invalid(
                    "tls: give both the certificate (certFile, --tls-cert) and the key (keyFile, --tls-key)".into(),
                ))
            }
        };
        let limits = crate::listen::Limits {
            max_connections: cli
                .max_connections
                .or(gird.max_connections)
                .unwrap_or(DEFAULT_MAX_CONNECTIONS),
            max_header_bytes: cli
                .max_header_bytes
                .or(gird.max_header_bytes)
                .unwrap_or(DEFAULT_MAX_HEADER_BYTES),
            max_connections_per_address: cli
                .max_connections_per_address
                .or(gird.max_connections_per_address)
                .unwrap_or(DEFAULT_MAX_CONNECTIONS_PER_ADDRESS),
            idle_timeout: Duration::from_secs(
                cli.idle_timeout_seconds
                    .or(gird.idle_timeout_seconds)
                    .unwrap_or(DEFAULT_IDLE_TIMEOUT_SECONDS)
                    .max(1),
            ),
        };
        if limits.max_connections == 0 || limits.max_header_bytes < 1024 {
            return Err(SettingsError::Invalid(
                "maxConnections must be at least 1 and maxHeaderBytes at least 1024".into(),
            ));
        }
        let request_timeout = Duration::from_secs(
            cli.request_timeout_seconds
                .or(gird.request_timeout_seconds)
                .unwrap_or(DEFAULT_REQUEST_TIMEOUT_SECONDS)
                .max(1),
        );
        let max_page_bytes = cli
            .max_page_bytes
            .or(gird.max_page_bytes)
            .unwrap_or(gird_store::DEFAULT_PAGE_BYTES);
        if max_page_bytes < 1024 {
            return Err(SettingsError::Invalid(
                "maxPageBytes must be at least 1024".into(),
            ));
        }
        Ok(Settings {
            max_page_bytes,
            cors,
            s3,
            outbound,
            tls,
            limits,
            request_timeout,
            forwarding,
            listen: cli
                .listen
                .or(gird.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.into()),
            data_dir,
            database,
            ops_user,
            ops_password: cli.ops_password.or(server.ops_user_password),
            csrf_enabled: cli
                .csrf_enabled
                .or(server.enable_csrf_protection)
                .unwrap_or(false),
            csrf_key: cli.csrf_key.or(gird.csrf_key),
            body_limit,
            public_url,
            storage_key: cli.storage_key.or(gird.storage_key),
            webdav_timeout: std::time::Duration::from_secs(
                cli.webdav_timeout_seconds
                    .or(gird.webdav_timeout_seconds)
                    .unwrap_or(DEFAULT_WEBDAV_TIMEOUT_SECONDS)
                    .max(1),
            ),
        })
    }
}

fn read_file(path: &Path) -> Result<FileConfig, SettingsError> {
    let text = std::fs::read_to_string(path).map_err(|error| SettingsError::Read {
        path: path.to_owned(),
        error,
    })?;
    if text.trim().is_empty() {
        return Ok(FileConfig::default());
    }
    serde_yaml::from_str(&text).map_err(|error| SettingsError::Parse {
        path: path.to_owned(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(yaml: &str) -> FileConfig {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn defaults_put_sqlite_in_the_data_folder() {
        let settings = Settings::resolve(FileConfig::default(), Overrides::default()).unwrap();
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
        let settings = Settings::resolve(file(yaml), Overrides::default()).unwrap();
        assert_eq!(
            (settings.ops_user.as_str(), settings.listen.as_str()),
            ("admin2", "0.0.0.0:9000")
        );
        assert_eq!(settings.ops_password, Some(Secret::new("from-file")));
        assert!(settings.csrf_enabled);
        let cli = Overrides {
            ops_password: Some(Secret::new("from-flag")),
            csrf_enabled: Some(false),
            body_limit: Some(20),
            ..Overrides::default()
        };
        let settings = Settings::resolve(file(yaml), cli).unwrap();
        assert_eq!(settings.ops_password, Some(Secret::new("from-flag")));
        assert!(!settings.csrf_enabled);
        assert_eq!(settings.body_limit, 20);
    }

    #[test]
    fn a_typo_under_gird_or_in_an_ops_setting_is_an_error() {
        assert!(serde_yaml::from_str::<FileConfig>("gird:\n  lisen: x\n").is_err());
        let typo = file("serverSettings:\n  opsUserPasword: x\n");
        let error = Settings::resolve(typo, Overrides::default()).unwrap_err();
        assert!(error.to_string().contains("opsUserPasword"));
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let settings = Settings::resolve(
            FileConfig::default(),
            Overrides {
                ops_password: Some(Secret::new("hunter2")),
                ..Overrides::default()
            },
        )
        .unwrap();
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[test]
    fn speechminer_settings_from_the_file_and_flags() {
        let yaml = "gird:\n  speechminer:\n    maxAttempts: 3\n    initialBackoffMs: 50\n    contactCenters:\n      acme:\n        url: http://sm.example/interactionreceiver\n        username: u\n        password: p\n";
        let settings = Settings::resolve(file(yaml), Overrides::default()).unwrap();
        let forwarding = &settings.forwarding;
        assert_eq!(forwarding.max_attempts, 3);
        assert_eq!(forwarding.initial_backoff, Duration::from_millis(50));
        assert_eq!(forwarding.concurrency, DEFAULT_FORWARD_CONCURRENCY);
        let acme = &forwarding.receivers["acme"];
        assert!(acme.enabled);
        assert_eq!(acme.password, Some(Secret::new("p")));
        assert!(!format!("{settings:?}").contains("\"p\""));
        let cli = Overrides {
            forward_max_attempts: Some(7),
            ..Overrides::default()
        };
        let settings = Settings::resolve(file(yaml), cli).unwrap();
        assert_eq!(settings.forwarding.max_attempts, 7);
        assert!(
            serde_yaml::from_str::<FileConfig>("gird:\n  speechminer:\n    maxAtempts: 3\n")
                .is_err()
        );
        let zero = Overrides {
            forward_max_attempts: Some(0),
            ..Overrides::default()
        };
        assert!(Settings::resolve(FileConfig::default(), zero).is_err());
        let inverted = "gird:\n  speechminer:\n    initialBackoffMs: 10\n    maxBackoffMs: 5\n";
        assert!(Settings::resolve(file(inverted), Overrides::default()).is_err());
    }

    #[test]
    fn outbound_allow_lists_from_the_file() {
        let yaml = "gird:\n  outbound:\n    contactCenters:\n      acme:\n        origins: [\"https://media.example.com\", \"http://10.1.2.3:8080\"]\n";
        let settings = Settings::resolve(file(yaml), Overrides::default()).unwrap();
        assert_eq!(settings.outbound["acme"].origins.len(), 2);
        for typo in [
            "gird:\n  outbound:\n    contactCentres: {}\n",
            "gird:\n  outbound:\n    contactCenters:\n      acme:\n        origin: []\n",
        ] {
            assert!(serde_yaml::from_str::<FileConfig>(typo).is_err(), "{typo}");
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
