//! First-start preparation: secrets kept in the data folder and the storage backend.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gird_model::INSERTION_FEATURE;
use gird_store::postgres::PostgresStore;
use gird_store::sqlite::SqliteStore;
use gird_store::Store;
use rand::RngCore;

use crate::egress::allow_list::{self, OutboundConfig};
use crate::s3::config::S3Options;
use crate::seal::Sealer;
use crate::settings::{Database, Forwarding, Secret, Settings};
use crate::urls::check_service_url;

pub const PASSWORD_FILE: &str = "ops-password";
pub const CSRF_KEY_FILE: &str = "csrf-key";
pub const STORAGE_KEY_FILE: &str = "storage-key";
/// The contact center a new database starts with, so the first `curl` works at once.
pub const DEFAULT_CONTACT_CENTER: &str = "default";

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{0}")]
    Storage(#[from] gird_store::StoreError),
    #[error("gird.speechminer.contactCenters.{contact_center}.{error}")]
    Receiver {
        contact_center: String,
        error: String,
    },
    #[error("gird.s3.contactCenters.{contact_center}.{error}")]
    S3 {
        contact_center: String,
        error: String,
    },
    #[error("no gird database at {0}: run this where gird serve keeps its data, or give the same --data-dir, --database or --config")]
    NoDatabase(String),
    #[error("gird.outbound.contactCenters.{contact_center}.{error}")]
    Outbound {
        contact_center: String,
        error: String,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> BootstrapError + '_ {
    move |error| BootstrapError::Io {
        path: path.to_owned(),
        error,
    }
}

fn random_text(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// A secret from the settings, else from a file in the data folder, else a new one
/// written there (readable by the owner only). The flag tells whether it is new.
pub fn secret_in_data_dir(
    configured: Option<&Secret>,
    data_dir: &Path,
    file: &str,
) -> Result<(Secret, bool), BootstrapError> {
    if let Some(secret) = configured {
        return Ok((secret.clone(), false));
    }
    let path = data_dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok((Secret::new(text.trim()), false)),
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(io_error(&path)(error)),
    }
    gird_store::private_files::create_dir(data_dir).map_err(io_error(data_dir))?;
    let secret = random_text(18);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut handle = options.open(&path).map_err(io_error(&path))?;
    handle
        .write_all(format!("{secret}\n").as_bytes())
        .and_then(|()| handle.sync_all())
        .map_err(io_error(&path))?;
    Ok((Secret::new(secret), true))
}

/// Opens the configured store; a new database gets the `default` contact center.
pub async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>, BootstrapError> {
    let (store, created): (Arc<dyn Store>, bool) = match &settings.database {
        Database::Sqlite(path) => {
            let path = path.clone();
            let (store, created) = tokio::task::spawn_blocking(move || SqliteStore::open(&path))
                .await
                .map_err(|e| gird_store::StoreError::Unavailable(e.to_string()))??;
            (Arc::new(store), created)
        }
        Database::Postgres(url) => {
            let (store, created) = PostgresStore::open(url.expose()).await?;
            (Arc::new(store), created)
        }
    };
    if created {
        store
            .create_contact_center(DEFAULT_CONTACT_CENTER, &[])
            .await?;
        store
            .enable_features(DEFAULT_CONTACT_CENTER, &[INSERTION_FEATURE.to_owned()])
            .await?;
    }
    Ok(store)
}

/// Opens a database that gird made already, for the commands that only read or queue
/// (`gird outbox status`, `gird repost`): run in the wrong folder, they must not create an
/// empty one and then report that nothing exists.
pub async fn open_existing_store(settings: &Settings) -> Result<Arc<dyn Store>, BootstrapError> {
    let exists = match &settings.database {
        Database::Sqlite(path) => path.is_file(),
        Database::Postgres(url) => PostgresStore::has_schema(url.expose()).await?,
    };
    if !exists {
        let place = match &settings.database {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(_) => {
                "the PostgreSQL database given (it holds no gird schema)".into()
            }
        };
        return Err(BootstrapError::NoDatabase(place));
    }
    open_store(settings).await
}

/// Brings the database's schema up to date without serving (`gird migrate`); a database
/// it creates starts like one `gird serve` creates, with the `default` contact center.
pub async fn migrate(settings: &Settings) -> Result<(), BootstrapError> {
    open_store(settings).await?.close().await;
    Ok(())
}

/// Writes the receivers of `gird.speechminer.contactCenters` to the database: the file
/// wins over what the ops API set for the same contact center, at every start. A contact
/// center that does not exist is skipped with a warning.
pub async fn configure_receivers(
    store: &dyn Store,
    sealer: &Sealer,
    forwarding: &Forwarding,
) -> Result<(), BootstrapError> {
    for (contact_center, receiver) in &forwarding.receivers {
        check_service_url("url", &receiver.url).map_err(|error| BootstrapError::Receiver {
            contact_center: contact_center.clone(),
            error,
        })?;
        let settings = gird_store::ReceiverSettings {
            url: receiver.url.clone(),
            username: receiver.username.clone(),
            sealed_password: receiver
                .password
                .as_ref()
                .map(|password| sealer.seal(password.expose())),
            enabled: receiver.enabled,
        };
        if !store.put_receiver(contact_center, settings).await? {
            tracing::warn!(
                contact_center,
                "gird.speechminer.contactCenters names a contact center that does not exist; create it with the ops API and restart"
            );
        }
    }
    Ok(())
}

/// Writes the S3 settings of `gird.s3.contactCenters` to the database, checked like the
/// ops API's: the file wins over what the ops API set for the same contact center, at
/// every start. A contact center that does not exist is skipped with a warning.
pub async fn configure_s3(
    store: &dyn Store,
    sealer: &Sealer,
    s3: &S3Options,
) -> Result<(), BootstrapError> {
    for (contact_center, config) in &s3.contact_centers {
        let checked = config.check().map_err(|error| BootstrapError::S3 {
            contact_center: contact_center.clone(),
            error: error.to_string(),
        })?;
        if !store
            .put_s3_storage(contact_center, checked.sealed(sealer))
            .await?
        {
            tracing::warn!(
                contact_center,
                "gird.s3.contactCenters names a contact center that does not exist; create it with the ops API and restart"
            );
        }
    }
    Ok(())
}

/// Writes the allow-lists of `gird.outbound.contactCenters` to the database, checked like
/// the ops API's: the file wins over what the ops API set for the same contact center, at
/// every start. A contact center that does not exist is skipped with a warning.
pub async fn configure_outbound(
    store: &dyn Store,
    allow_lists: &BTreeMap<String, OutboundConfig>,
) -> Result<(), BootstrapError> {
    let checked = allow_lists
        .iter()
        .map(|(contact_center, config)| {
            config
                .check()
                .map(|origins| (contact_center, allow_list::texts(&origins)))
                .map_err(|error| BootstrapError::Outbound {
                    contact_center: contact_center.clone(),
                    error,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (contact_center, origins) in checked {
        if !store.put_outbound_origins(contact_center, &origins).await? {
            tracing::warn!(
                contact_center,
                "gird.outbound.contactCenters names a contact center that does not exist; create it with the ops API and restart"
            );
        }
    }
    Ok(())
}
