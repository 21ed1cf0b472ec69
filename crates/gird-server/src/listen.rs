//! Accepting connections: plain HTTP or TLS (rustls, the certificate reloaded when its
//! files change), at most `max_connections` at once, request heads bounded in size and in
//! the time they may take to arrive, and a graceful end: stop accepting, let the requests
//! under way finish.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How long a client may take to send a request's head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long in-flight requests may take to finish after a shutdown began.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the certificate files are looked at.
const RELOAD_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub max_header_bytes: usize,
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub certificate: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {error}")]
    Read { path: PathBuf, error: String },
    #[error("{0}")]
    Invalid(String),
}

/// The certificate in use, replaced when its files change.
#[derive(Debug)]
struct Reloading {
    files: TlsFiles,
    current: RwLock<(Arc<CertifiedKey>, Option<SystemTime>)>,
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current
            .read()
            .ok()
            .map(|current| Arc::clone(&current.0))
    }
}

fn modified(files: &TlsFiles) -> Option<SystemTime> {
    let time = |path: &Path| {
        std::fs::metadata(path)
            .and_then(|meta| meta.modified())
            .ok()
    };
    time(&files.certificate).max(time(&files.key))
}

fn load(files: &TlsFiles) -> Result<Arc<CertifiedKey>, TlsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|error| TlsError::Read {
            path: path.to_owned(),
            error: error.to_string(),
        })
    };
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(&read(&files.certificate)?)
            .collect::<Result<_, _>>()
            .map_err(|error| TlsError::Read {
                path: files.certificate.clone(),
                error: format!("not a PEM certificate chain: {error}"),
            })?;
    if chain.is_empty() {
        return Err(TlsError::Read {
            path: files.certificate.clone(),
            error: "holds no certificate".into(),
        });
    }
    let key =
        PrivateKeyDer::from_pem_slice(&read(&files.key)?).map_err(|error| TlsError::Read {
            path: files.key.clone(),
            error: format!("not a PEM private key: {error}"),
        })?;
    let provider = rustls::crypto::ring::default_provider();
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|error| TlsError::Invalid(format!("the private key cannot sign: {error}")))?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|error| {
        TlsError::Invalid(format!("the key does not match the certificate: {error}"))
    })?;
    Ok(Arc::new(certified))
}

/// A TLS acceptor for the files, and the task that reloads them when they change (a
/// failed reload keeps the certificate in use and logs why).
pub fn tls_acceptor(files: TlsFiles) -> Result<tokio_rustls::TlsAcceptor, TlsError> {
    let certified = load(&files)?;
    let stamp = modified(&files);
    let resolver = Arc::new(Reloading {
        files,
        current: RwLock::new((certified, stamp)),
    });
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| TlsError::Invalid(error.to_string()))?
    .with_no_client_auth()
    .with_cert_resolver(Arc::clone(&resolver) as Arc<dyn ResolvesServerCert>);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tokio::spawn(reload_when_changed(resolver));
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

async fn reload_when_changed(resolver: Arc<Reloading>) {
    let mut ticks = tokio::time::interval(RELOAD_EVERY);
    loop {
        ticks.tick().await;
        let stamp = modified(&resolver.files);
        let known = resolver.current.read().ok().and_then(|current| current.1);
        if stamp == known {
            continue;
        }
        match load(&resolver.files) {
            Ok(certified) => {
                if let Ok(mut current) = resolver.current.write() {
                    *current = (certified, stamp);
                }
                tracing::info!(certificate = %resolver.files.certificate.display(), "TLS certificate reloaded");
            }
            Err(error) => {
                // Half-written files are common while a renewal runs: try again later.
                tracing::warn!(%error, "TLS certificate not reloaded; the one in use stays");
                if let Ok(mut current) = resolver.current.write() {
                    current.1 = stamp;
                }
            }
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then waits (at most 30 s)
/// for the requests under way.
pub async fn run(
    listener: TcpListener,
    router: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(limits.max_header_bytes.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(limits.max_header_bytes as u32);
    let builder = Arc::new(builder);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => permit.expect("the semaphore stays open"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a little, go on.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service =
            router
                .clone()
                .map_request(move |request: hyper::Request<hyper::body::Incoming>| {
                    let mut request = request.map(axum::body::Body::new);
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request
                });
        let service = TowerToHyperService::new(service);
        let builder = Arc::clone(&builder);
        match &tls {
            None => {
                let connection = builder
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    let _permit = permit;
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, %peer, "connection ended with an error");
                    }
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let _permit = permit;
                    let handshake = tokio::time::timeout(HEADER_TIMEOUT, acceptor.accept(stream));
                    let stream = match handshake.await {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(error)) => {
                            tracing::debug!(%error, %peer, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    };
                    let connection = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .into_owned();
                    if let Err(error) = watcher.watch(connection).await {
                        tracing::debug!(%error, %peer, "connection ended with an error");
                    }
                });
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still running {} s after the shutdown began were cut",
            DRAIN_TIMEOUT.as_secs()
        );
    }
    Ok(())
}

/// Where a socket's peer is, for a request that came without [`ConnectInfo`].
pub fn peer_of(request: &axum::extract::Request) -> Option<SocketAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0)
}
