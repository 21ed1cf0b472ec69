//! gird's HTTP server: the GIR Insertion API, the ops API, authentication and CSRF.
//!
//! [`prepare`] turns settings into a ready [`App`]; [`serve`] runs it on a listener the
//! caller bound, so tests and the binary alike can use port 0.

pub mod access;
pub mod audit;
pub mod auth;
mod body;
pub mod bootstrap;
pub mod cors;
mod csrf;
mod decrypt;
pub mod directory;
mod drain;
mod egress;
pub mod error;
mod forward;
mod json_body;
pub mod listen;
mod media;
mod observe;
mod requests;
mod routes;
mod s3;
mod scope;
mod seal;
mod search_params;
pub mod service;
pub mod settings;
mod state;
mod store_answers;
mod ui;
mod urls;
mod webdav;

use std::future::Future;
use std::sync::Arc;

use axum::routing::{delete, get, post, put};
use axum::{middleware, Router};
use gird_store::Store;
use tokio::net::TcpListener;

use crate::auth::{Gate, OpsCredentials};
use crate::bootstrap::{secret_in_data_dir, CSRF_KEY_FILE, PASSWORD_FILE, STORAGE_KEY_FILE};
use crate::csrf::Csrf;
use crate::error::ApiError;
use crate::forward::Forwarder;
pub use crate::routes::outbox::outbox_status_json;
use crate::routes::{
    access_history, contact_centers, decryption_keys, deletion, features, hold, identity,
    insertion, outbound, outbox, playback, receiver, recordings, repost, s3_storage, storage,
    users,
};
use crate::seal::Sealer;
pub use crate::settings::{Forwarding, Layer, Secret, Settings};
use crate::state::AppState;
use crate::webdav::WebDav;

/// A server ready to run, and what start-up should tell the operator.
pub struct App {
    router: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: listen::Limits,
    store: Arc<dyn Store>,
    sealer: Arc<Sealer>,
    forwarding: Forwarding,
    /// Set when this start generated the ops password: print it once.
    pub generated_password: Option<Secret>,
    pub ops_user: String,
}

impl App {
    /// `https` when serving TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Bootstrap(#[from] bootstrap::BootstrapError),
    #[error(transparent)]
    Credentials(#[from] auth::CredentialsError),
    #[error("TLS: {0}")]
    Tls(#[from] listen::TlsError),
    #[error(transparent)]
    Directory(#[from] directory::DirectoryError),
}

/// Resolves secrets (generating them on first start), opens the store, builds routes.
pub async fn prepare(settings: &Settings) -> Result<App, StartError> {
    let (password, generated) = secret_in_data_dir(
        settings.ops_password.as_ref(),
        &settings.data_dir,
        PASSWORD_FILE,
    )?;
    let credentials = Arc::new(OpsCredentials::new(&settings.ops_user, &password)?);
    let (csrf_key, _) = secret_in_data_dir(
        settings.csrf_key.as_ref(),
        &settings.data_dir,
        CSRF_KEY_FILE,
    )?;
    let store = bootstrap::open_store(settings).await?;
    let (storage_key, _) = secret_in_data_dir(
        settings.storage_key.as_ref(),
        &settings.data_dir,
        STORAGE_KEY_FILE,
    )?;
    let sealer = Arc::new(Sealer::new(&storage_key));
    bootstrap::configure_receivers(store.as_ref(), &sealer, &settings.forwarding).await?;
    bootstrap::configure_s3(store.as_ref(), &sealer, &settings.s3).await?;
    bootstrap::configure_outbound(store.as_ref(), &settings.outbound).await?;
    let state = AppState {
        store: Arc::clone(&store),
        body_limit: settings.body_limit,
        public_url: settings.public_url.as_deref().map(Arc::from),
        sealer: Arc::clone(&sealer),
        webdav: WebDav::new(settings.webdav_timeout),
        max_page_bytes: settings.max_page_bytes,
        scheme: if settings.tls.is_some() {
            "https"
        } else {
            "http"
        },
        s3: s3::S3::new(settings.s3.timeout),
        ops_user: Arc::from(settings.ops_user.as_str()),
        content_keys: Arc::new(decrypt::content_keys::ContentKeys::new()),
    };
    let directory = settings
        .directory
        .clone()
        .map(directory::Directory::new)
        .transpose()?
        .map(Arc::new);
    let sessions = Arc::new(ui::Sessions::new(
        Arc::clone(&store),
        &settings.ops_user,
        &password,
        settings.tls.is_some(),
        directory.is_some(),
    ));
    let csrf = Arc::new(Csrf::new(csrf_key, settings.tls.is_some()));
    let tls = settings.tls.clone().map(listen::tls_acceptor).transpose()?;
    let protection = Protection {
        csrf,
        csrf_enabled: settings.csrf_enabled,
    };
    let mut router = router(
        state,
        Gate {
            credentials,
            users: Arc::new(access::Users::new(Arc::clone(&store))),
            directory,
            sessions,
        },
        protection,
        settings.cors.as_ref(),
    );
    router = router.layer(middleware::from_fn_with_state(
        settings.request_timeout,
        observe::limit_time,
    ));
    if settings.tls.is_some() {
        router = router.layer(middleware::map_response(strict_transport_security));
    }
    Ok(App {
        tls,
        limits: settings.limits.clone(),
        router,
        store,
        sealer,
        forwarding: settings.forwarding.clone(),
        generated_password: generated.then_some(password),
        ops_user: settings.ops_user.clone(),
    })
}

/// Over HTTPS, browsers are told to use nothing else for a year.
async fn strict_transport_security(
    mut response: axum::response::Response,
) -> axum::response::Response {
    response.headers_mut().insert(
        axum::http::header::STRICT_TRANSPORT_SECURITY,
        axum::http::HeaderValue::from_static("max-age=31536000"),
    );
    response
}

/// CSRF tokens are always handed out; `csrf_enabled` says whether they are checked.
struct Protection {
    csrf: Arc<Csrf>,
    csrf_enabled: bool,
}

fn router(
    state: AppState,
    gate: Gate,
    protection: Protection,
    cors: Option<&cors::Cors>,
) -> Router {
    let store = Arc::clone(&state.store);
    let gate = Arc::new(gate);
    let ui = ui::router(Arc::clone(&gate), state.body_limit);
    observe::prometheus();
    let ops = "/api/v2/ops/contact-centers";
    let mut routes = Router::new()
        .route(
            "/internal-api/contact-centers/{id}/recordings",
            post(insertion::insert_recording),
        )
        .route(
            ops,
            post(contact_centers::create).get(contact_centers::list),
        )
        .route(
            &format!("{ops}/{{id}}"),
            get(contact_centers::get).delete(contact_centers::delete),
        )
        .route(
            &format!("{ops}/{{id}}/features"),
            post(features::add).get(features::list),
        )
        .route(
            &format!("{ops}/{{id}}/features/{{name}}"),
            delete(features::remove),
        )
        .route(
            &format!("{ops}/{{id}}/storage"),
            put(storage::put).get(storage::get).delete(storage::delete),
        )
        .route(
            &format!("{ops}/{{id}}/storage/s3"),
            put(s3_storage::put)
                .get(s3_storage::get)
                .delete(s3_storage::delete),
        )
        .route(
            &format!("{ops}/{{id}}/outbound"),
            put(outbound::put)
                .get(outbound::get)
                .delete(outbound::delete),
        )
        .route(
            &format!("{ops}/{{id}}/speechminer"),
            put(receiver::put)
                .get(receiver::get)
                .delete(receiver::delete),
        )
        .route(
            &format!("{ops}/{{id}}/speechminer/outbox"),
            get(outbox::outbox),
        )
        .route(
            &format!("{ops}/{{id}}/speechminer/repost"),
            post(repost::repost),
        )
        .route(
            &format!("{ops}/{{id}}/speechminer/deliveries/{{recording}}"),
            get(outbox::recording_delivery),
        )
        .route("/api/v2/ops/speechminer/outbox", get(outbox::all_outboxes))
        .route(
            &format!("{ops}/{{id}}/decryption-keys"),
            post(decryption_keys::add).get(decryption_keys::list),
        )
        .route(
            &format!("{ops}/{{id}}/decryption-keys/{{alias}}"),
            delete(decryption_keys::delete),
        )
        .route(
            &format!("{ops}/{{id}}/settings/screen-recording-encryption"),
            get(decryption_keys::screen_recording_encryption),
        )
        .route(
            &format!("{ops}/{{id}}/users"),
            post(users::create).get(users::list),
        )
        .route(
            &format!("{ops}/{{id}}/users/{{name}}"),
            get(users::get).put(users::replace).delete(users::delete),
        )
        .route("/metrics", get(observe::metrics))
        .route(&format!("{ops}/{{id}}/recordings"), get(recordings::search))
        .route(
            &format!("{ops}/{{id}}/recordings/{{recording}}"),
            get(recordings::get_recording)
                .delete(deletion::delete)
                .post(hold::operation),
        )
        .route(
            &format!("{ops}/{{id}}/recordings/{{recording}}/access"),
            get(access_history::history),
        )
        .route(
            &format!("{ops}/{{id}}/recordings/{{recording}}/play/{{file}}"),
            get(playback::play),
        )
        .route("/api/v2/recordings", get(recordings::search))
        .route(
            "/api/v2/recordings/{recording}",
            get(recordings::get_recording)
                .delete(deletion::delete)
                .post(hold::operation),
        )
        .route(
            "/api/v2/recordings/{recording}/play/{file}",
            get(playback::play),
        )
        .route("/api/v2/me", get(identity::me))
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state);
    if protection.csrf_enabled {
        routes = routes.layer(middleware::from_fn_with_state(
            Arc::clone(&protection.csrf),
            csrf::protect,
        ));
    }
    let probes = Router::new()
        .route("/health", get(observe::health))
        .route("/ready", get(observe::ready))
        .route("/openapi.json", get(observe::openapi))
        .route("/api/v2/diagnostics/version", get(identity::version))
        .with_state(Arc::clone(&store));
    let mut router = routes
        .layer(middleware::from_fn_with_state(gate, auth::authenticate))
        .merge(ui)
        .merge(probes)
        .route_layer(middleware::from_fn(observe::label_route))
        .route_layer(middleware::from_fn(observe::envelope_errors))
        .fallback(|| async { ApiError::NotFound("no such resource".into()) })
        .layer(middleware::from_fn_with_state(
            protection.csrf,
            csrf::hand_out,
        ));
    // Outside authentication: a browser's preflight carries no credentials.
    if let Some(cors) = cors {
        router = router.layer(cors.layer());
    }
    router
        .layer(middleware::from_fn(drain::drain_unread_body))
        .layer(middleware::from_fn(observe::track))
}

/// Serves (and forwards to SpeechMiner) until `shutdown` completes, then lets in-flight
/// requests and deliveries finish and commits what the store has pending.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let forwarder = Forwarder::start(Arc::clone(&app.store), app.sealer, app.forwarding);
    let upkeep = tokio::spawn(observe::upkeep());
    let result = listen::run(listener, app.router, app.tls, app.limits, shutdown).await;
    upkeep.abort();
    forwarder.stop().await;
    app.store.close().await;
    result
}
