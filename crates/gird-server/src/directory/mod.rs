//! Directory users (docs/API.md "Directory users (LDAP)"): a name that is neither the ops
//! user nor a stored user is looked up in the directory, and signs in when a bind with
//! its own password succeeds. Its groups give its roles, access groups, partitions and
//! permissions by the configured rules ([`mapping`]).
//!
//! One sign-in is: connect (TLS by `ldaps://` or StartTLS), bind as the service account
//! (or stay anonymous), find the one entry `userFilter` matches under `userBase`, bind as
//! that entry with the password given, read the entry's groups as the user (its
//! `memberOf`, or a search under `groupBase`), unbind. All of it within `timeoutSeconds`;
//! a directory that cannot be reached or does not answer is [`ApiError::DirectoryUnavailable`]
//! (503/4), never a refusal. Successful sign-ins are remembered for `cacheSeconds`, keyed
//! by a salted digest of the name and password; failures never are.

pub mod mapping;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gird_store::User;
use ldap3::{ldap_escape, Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::settings::Secret;
use mapping::{Profile, Rule};

/// The directory's settings, checked (`gird.ldap` in `application.yaml`).
#[derive(Debug, Clone)]
pub struct DirectorySettings {
    pub url: String,
    pub start_tls: bool,
    /// Trusted CAs for TLS; `None`: the system's.
    pub ca_file: Option<PathBuf>,
    /// Who finds users' entries; `None`: an anonymous search.
    pub service: Option<ServiceAccount>,
    pub user_base: String,
    /// Holds `{user}`.
    pub user_filter: String,
    pub groups: GroupLookup,
    pub contact_center: String,
    pub timeout: Duration,
    /// Zero: successful sign-ins are not remembered.
    pub cache_for: Duration,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
pub struct ServiceAccount {
    pub dn: String,
    /// Read once at start; its content is never logged.
    pub password_file: PathBuf,
}

/// Where a user's groups come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupLookup {
    /// The `memberOf` values of the user's entry.
    MemberOf,
    /// The entries `filter` (with `{dn}` and `{user}`) matches under `base`.
    Search { base: String, filter: String },
}

/// Why the directory cannot be used at all: start-up stops.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("ldap: cannot read {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("ldap: {0}")]
    Tls(String),
}

/// `session stamp` of a directory user: this prefix, then the user as JSON.
const STAMP_PREFIX: &str = "directory ";

/// Names the directory is asked about: those a stored user may have (1 to 128
/// characters, no `:`, no control characters, no spaces at either end).
fn plausible_name(name: &str) -> bool {
    (1..=128).contains(&name.chars().count())
        && !name.contains(':')
        && !name.chars().any(char::is_control)
        && name.trim() == name
}

/// The most sign-ins remembered; the cache empties when it is full.
const MAX_REMEMBERED: usize = 10_000;

/// The LDAP result code of a bind with a wrong password or an unknown DN.
const INVALID_CREDENTIALS: u32 = 49;

pub struct Directory {
    settings: DirectorySettings,
    service_password: Option<Secret>,
    tls: Option<Arc<rustls::ClientConfig>>,
    /// Salted digest of name and password → the user and until when.
    remembered: Mutex<HashMap<[u8; 32], (User, Instant)>>,
    salt: [u8; 32],
    /// Sign-ins asking the directory at once; more wait (within the time limit), so that
    /// a burst of sign-ins does not open a connection each.
    asking: tokio::sync::Semaphore,
}

const MAX_ASKING: usize = 16;

/// What the directory said of a name and password.
enum Answer {
    /// The bind succeeded; the DNs of the user's groups.
    Member {
        groups: Vec<String>,
    },
    Refused,
}

impl Directory {
    /// Reads the service account's password and the CA file.
    pub fn new(settings: DirectorySettings) -> Result<Directory, DirectoryError> {
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|error| DirectoryError::Read {
                path: path.clone(),
                error,
            })
        };
        let service_password = match &settings.service {
            Some(service) => {
                let bytes = read(&service.password_file)?;
                let text = String::from_utf8(bytes).map_err(|_| DirectoryError::Read {
                    path: service.password_file.clone(),
                    error: std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8"),
                })?;
                let password = text.trim_end_matches(['\n', '\r']);
                if password.is_empty() {
                    return Err(DirectoryError::Read {
                        path: service.password_file.clone(),
                        error: std::io::Error::new(std::io::ErrorKind::InvalidData, "empty"),
                    });
                }
                Some(Secret::new(password))
            }
            None => None,
        };
        let uses_tls = settings.start_tls || settings.url.starts_with("ldaps://");
        let tls = match (&settings.ca_file, uses_tls) {
            (Some(path), true) => Some(client_config(&read(path)?, path)?),
            (Some(path), false) => {
                tracing::warn!(path = %path.display(), "ldap.caFile is not used: the directory connection has no TLS (ldap:// without startTls)");
                None
            }
            (None, _) => None,
        };
        if !uses_tls {
            tracing::warn!(url = %settings.url, "directory sign-ins send passwords without TLS: use ldaps:// or startTls");
        }
        if settings.rules.is_empty() {
            tracing::warn!("ldap.rules is empty: no directory user can sign in");
        }
        let mut salt = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut salt);
        Ok(Directory {
            settings,
            service_password,
            tls,
            remembered: Mutex::new(HashMap::new()),
            salt,
            asking: tokio::sync::Semaphore::new(MAX_ASKING),
        })
    }

    /// The directory user of that name if `password` is theirs and their groups give them
    /// a role; [`ApiError::DirectoryUnavailable`] when the directory cannot tell.
    pub async fn verify(&self, name: &str, password: &str) -> Result<Option<User>, ApiError> {
        // An empty password would make an unauthenticated bind, which succeeds.
        if password.is_empty() || !plausible_name(name) {
            return Ok(None);
        }
        let key = self.key(name, password);
        if let Some(user) = self.remembered(&key, Instant::now()) {
            return Ok(Some(user));
        }
        let asked = async {
            let _permit = self
                .asking
                .acquire()
                .await
                .map_err(|_| ldap3::LdapError::Io {
                    source: std::io::Error::other("gird is shutting down"),
                })?;
            self.ask(name, password).await
        };
        let answer = tokio::time::timeout(self.settings.timeout, asked).await;
        let groups = match answer {
            Err(_) => {
                tracing::error!(timeout = ?self.settings.timeout, "the directory did not answer in time");
                return Err(unavailable());
            }
            Ok(Err(error)) => {
                tracing::error!(%error, "the directory cannot be used");
                return Err(unavailable());
            }
            Ok(Ok(Answer::Refused)) => return Ok(None),
            Ok(Ok(Answer::Member { groups })) => groups,
        };
        let profile = mapping::profile(&self.settings.rules, &groups);
        if profile.roles.is_empty() {
            tracing::info!(
                user = name,
                groups = groups.len(),
                "a directory user whose groups give no role: refused"
            );
            return Ok(None);
        }
        let user = directory_user(name, &self.settings.contact_center, profile);
        self.remember(key, &user, Instant::now());
        Ok(Some(user))
    }

    /// The sign-in itself, without the time limit.
    async fn ask(&self, name: &str, password: &str) -> Result<Answer, ldap3::LdapError> {
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(self.settings.timeout)
            .set_starttls(self.settings.start_tls);
        if let Some(config) = &self.tls {
            settings = settings.set_config(Arc::clone(config));
        }
        let (connection, mut ldap) =
            LdapConnAsync::with_settings(settings, &self.settings.url).await?;
        tokio::spawn(async move {
            if let Err(error) = connection.drive().await {
                tracing::debug!(%error, "directory connection ended");
            }
        });
        let answer = self.ask_on(&mut ldap, name, password).await;
        let _ = ldap.unbind().await;
        answer
    }

    async fn ask_on(
        &self,
        ldap: &mut Ldap,
        name: &str,
        password: &str,
    ) -> Result<Answer, ldap3::LdapError> {
        if let (Some(service), Some(secret)) = (&self.settings.service, &self.service_password) {
            ldap.simple_bind(&service.dn, secret.expose())
                .await?
                .success()?;
        }
        let filter = fill(&self.settings.user_filter, &[("{user}", name)]);
        let (entries, _) = ldap
            .search(
                &self.settings.user_base,
                Scope::Subtree,
                &filter,
                vec!["1.1"],
            )
            .await?
            .success()?;
        let found = entries.len();
        let mut entries = entries.into_iter();
        let dn = match (entries.next(), entries.next()) {
            (Some(entry), None) => SearchEntry::construct(entry).dn,
            (None, _) => return Ok(Answer::Refused),
            (Some(_), Some(_)) => {
                tracing::warn!(
                    user = name,
                    found,
                    "several directory entries match one name: refused"
                );
                return Ok(Answer::Refused);
            }
        };
        if dn.is_empty() {
            return Ok(Answer::Refused);
        }
        let bound = ldap.simple_bind(&dn, password).await?;
        if bound.rc != 0 {
            if bound.rc != INVALID_CREDENTIALS {
                tracing::warn!(user = name, code = bound.rc, "the directory refused a bind");
            }
            return Ok(Answer::Refused);
        }
        let groups = match &self.settings.groups {
            GroupLookup::MemberOf => {
                let (entries, _) = ldap
                    .search(&dn, Scope::Base, "(objectClass=*)", vec!["memberOf"])
                    .await?
                    .success()?;
                entries
                    .into_iter()
                    .map(SearchEntry::construct)
                    .flat_map(|entry| {
                        entry
                            .attrs
                            .into_iter()
                            .filter(|(attribute, _)| attribute.eq_ignore_ascii_case("memberOf"))
                            .flat_map(|(_, values)| values)
                    })
                    .collect()
            }
            GroupLookup::Search { base, filter } => {
                let filter = fill(filter, &[("{dn}", &dn), ("{user}", name)]);
                let (entries, _) = ldap
                    .search(base, Scope::Subtree, &filter, vec!["1.1"])
                    .await?
                    .success()?;
                entries
                    .into_iter()
                    .map(|entry| SearchEntry::construct(entry).dn)
                    .collect()
            }
        };
        Ok(Answer::Member { groups })
    }

    fn key(&self, name: &str, password: &str) -> [u8; 32] {
        let name = name.to_lowercase();
        let mut digest = Sha256::new();
        digest.update(self.salt);
        digest.update((name.len() as u64).to_be_bytes());
        digest.update(name.as_bytes());
        digest.update(password.as_bytes());
        digest.finalize().into()
    }

    /// The user a sign-in remembered at `now` is of.
    fn remembered(&self, key: &[u8; 32], now: Instant) -> Option<User> {
        let remembered = self.remembered.lock().ok()?;
        let (user, until) = remembered.get(key)?;
        (now < *until).then(|| user.clone())
    }

    fn remember(&self, key: [u8; 32], user: &User, now: Instant) {
        if self.settings.cache_for.is_zero() {
            return;
        }
        if let Ok(mut remembered) = self.remembered.lock() {
            remembered.retain(|_, (_, until)| *until > now);
            if remembered.len() >= MAX_REMEMBERED {
                remembered.clear();
            }
            remembered.insert(key, (user.clone(), now + self.settings.cache_for));
        }
    }
}

/// `template` with each placeholder replaced by its value escaped as an LDAP filter value
/// (RFC 4515), in one pass: a value is never read as a placeholder.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut filled = String::with_capacity(template.len());
    let mut rest = template;
    while !rest.is_empty() {
        match values
            .iter()
            .find(|(placeholder, _)| rest.starts_with(placeholder))
        {
            Some((placeholder, value)) => {
                filled.push_str(&ldap_escape(*value));
                rest = &rest[placeholder.len()..];
            }
            None => {
                let next = rest.chars().next().map_or(1, char::len_utf8);
                filled.push_str(&rest[..next]);
                rest = &rest[next..];
            }
        }
    }
    filled
}

fn unavailable() -> ApiError {
    ApiError::DirectoryUnavailable(
        "the directory that signs this user in is unavailable, retry later".into(),
    )
}

/// A TLS client configuration trusting the PEM certificates of `pem`.
fn client_config(
    pem: &[u8],
    path: &std::path::Path,
) -> Result<Arc<rustls::ClientConfig>, DirectoryError> {
    let invalid = |why: String| DirectoryError::Tls(format!("caFile {}: {why}", path.display()));
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(pem) {
        let certificate = certificate.map_err(|error| invalid(error.to_string()))?;
        roots
            .add(certificate)
            .map_err(|error| invalid(error.to_string()))?;
    }
    if roots.is_empty() {
        return Err(invalid("holds no PEM certificate".into()));
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| DirectoryError::Tls(error.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A directory user as a web UI session keeps it (in its stamp).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Kept {
    user_name: String,
    contact_center: String,
    #[serde(flatten)]
    profile: Profile,
}

/// The user the directory signed in, with the stamp its web UI sessions keep.
fn directory_user(name: &str, contact_center: &str, profile: Profile) -> User {
    let kept = Kept {
        user_name: name.to_owned(),
        contact_center: contact_center.to_owned(),
        profile,
    };
    let stamp = format!(
        "{STAMP_PREFIX}{}",
        serde_json::to_string(&kept).expect("a profile serializes")
    );
    let Kept { profile, .. } = kept;
    User {
        name: name.to_owned(),
        contact_center: contact_center.to_owned(),
        password_hash: String::new(),
        roles: profile.roles,
        access_groups: profile.access_groups,
        partitions: profile.partitions,
        permissions: profile.permissions,
        stamp,
    }
}

/// Whether a web UI session's stamp is a directory user's.
pub fn is_directory_stamp(stamp: &str) -> bool {
    stamp.starts_with(STAMP_PREFIX)
}

/// The directory user a web UI session's stamp keeps (`None`: not one, or unreadable).
pub fn user_of_stamp(stamp: &str) -> Option<User> {
    let kept: Kept = serde_json::from_str(stamp.strip_prefix(STAMP_PREFIX)?).ok()?;
    Some(directory_user(
        &kept.user_name,
        &kept.contact_center,
        kept.profile,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gird_model::access::Role;

    #[test]
    fn filter_values_are_escaped_and_never_read_as_placeholders() {
        assert_eq!(
            fill("(uid={user})", &[("{user}", "carol)(uid=*")]),
            r"(uid=carol\29\28uid=\2a)"
        );
        assert_eq!(
            fill(
                "(|(member={dn})(memberUid={user}))",
                &[("{dn}", "cn={user},dc=x"), ("{user}", "bob")]
            ),
            "(|(member=cn={user},dc=x)(memberUid=bob))"
        );
        assert_eq!(fill("(cn=ü{user}ß)", &[("{user}", "\\")]), r"(cn=ü\5cß)");
    }

    #[test]
    fn only_names_a_stored_user_could_have_are_asked_about() {
        for name in ["carol", "Carol.Smith", "c@example.org", "ünïcode"] {
            assert!(plausible_name(name), "{name}");
        }
        let long = "x".repeat(129);
        for name in ["", " carol", "carol ", "a:b", "a\0b", "a\nb", long.as_str()] {
            assert!(!plausible_name(name), "{name:?}");
        }
    }

    #[test]
    fn a_session_stamp_gives_back_the_user_it_was_made_for() {
        let profile = Profile {
            roles: vec![Role::Supervisor],
            access_groups: vec!["/Sales".into()],
            partitions: vec!["/emea".into()],
            permissions: vec![],
        };
        let user = directory_user("Carol", "acme", profile);
        assert!(is_directory_stamp(&user.stamp));
        assert_eq!(user_of_stamp(&user.stamp), Some(user.clone()));
        assert!(!is_directory_stamp("0123abcd"));
        assert_eq!(user_of_stamp("0123abcd"), None);
        assert_eq!(user_of_stamp("directory {not json"), None);
    }

    fn settings(url: &str) -> DirectorySettings {
        DirectorySettings {
            url: url.into(),
            start_tls: false,
            ca_file: None,
            service: None,
            user_base: "ou=people,dc=example,dc=org".into(),
            user_filter: "(uid={user})".into(),
            groups: GroupLookup::MemberOf,
            contact_center: "acme".into(),
            timeout: Duration::from_secs(1),
            cache_for: Duration::from_secs(60),
            rules: vec![],
        }
    }

    #[tokio::test]
    async fn empty_passwords_and_impossible_names_are_refused_without_asking() {
        // Nothing listens on port 1: asking would be 503.
        let directory = Directory::new(settings("ldap://127.0.0.1:1")).unwrap();
        assert_eq!(directory.verify("carol", "").await, Ok(None));
        assert_eq!(directory.verify(" carol", "secret").await, Ok(None));
        assert_eq!(directory.verify("a:b", "secret").await, Ok(None));
        assert!(matches!(
            directory.verify("carol", "secret").await,
            Err(ApiError::DirectoryUnavailable(_))
        ));
    }

    #[test]
    fn a_missing_service_password_file_stops_the_start() {
        let mut with_service = settings("ldap://127.0.0.1:1");
        with_service.service = Some(ServiceAccount {
            dn: "cn=gird".into(),
            password_file: PathBuf::from("/nonexistent/gird-bind-password"),
        });
        let error = Directory::new(with_service).err().unwrap().to_string();
        assert!(error.contains("/nonexistent/gird-bind-password"), "{error}");
        let folder = tempfile::tempdir().unwrap();
        let empty = folder.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        let mut with_empty = settings("ldap://127.0.0.1:1");
        with_empty.service = Some(ServiceAccount {
            dn: "cn=gird".into(),
            password_file: empty,
        });
        assert!(
            Directory::new(with_empty).is_err(),
            "an empty password file"
        );
    }

    #[test]
    fn remembered_sign_ins_are_keyed_by_name_and_password_and_expire() {
        let directory = Directory::new(settings("ldap://127.0.0.1:1")).unwrap();
        let user = directory_user("carol", "acme", Profile::default());
        let key = directory.key("carol", "secret");
        assert_eq!(key, directory.key("Carol", "secret"), "names without case");
        assert_ne!(key, directory.key("carol", "secret2"));
        assert_ne!(
            directory.key("ab", "c"),
            directory.key("a", "bc"),
            "the name's length is in the key"
        );
        let now = Instant::now();
        directory.remember(key, &user, now);
        assert_eq!(directory.remembered(&key, now), Some(user.clone()));
        let later = now + Duration::from_secs(59);
        assert_eq!(directory.remembered(&key, later), Some(user.clone()));
        let expired = now + Duration::from_secs(60);
        assert_eq!(directory.remembered(&key, expired), None);
        let other = directory.key("carol", "another");
        assert_eq!(directory.remembered(&other, now), None);
        let mut off = settings("ldap://127.0.0.1:1");
        off.cache_for = Duration::ZERO;
        let never = Directory::new(off).unwrap();
        never.remember(key, &user, now);
        assert_eq!(never.remembered(&key, now), None, "cacheSeconds 0");
    }

    #[test]
    fn a_ca_file_must_hold_a_certificate() {
        let path = std::path::Path::new("ca.pem");
        assert!(client_config(b"", path).is_err());
        assert!(client_config(
            b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n",
            path
        )
        .is_err());
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["ca.test".to_owned()]).unwrap();
        let certificate = params.self_signed(&key).unwrap();
        assert!(client_config(certificate.pem().as_bytes(), path).is_ok());
    }
}
