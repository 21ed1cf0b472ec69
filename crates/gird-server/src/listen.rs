//! Accepting connections: plain HTTP or TLS (rustls, the certificate reloaded when its
//! files change), at most `max_connections` at once and `max_connections_per_address` from
//! one client address, request heads bounded in size and in the time they may take to
//! arrive, connections without a request in flight closed after `idle_timeout` (HTTP/1
//! and HTTP/2 alike: an HTTP/2 client that answers pings but sends no request does not
//! keep its slot), and a graceful end: stop accepting, let the requests under way finish.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How long a client may take to send a request's head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an idle connection told to close may take to go (an HTTP/2 client that does
/// not acknowledge the GOAWAY's ping would otherwise keep it).
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// HTTP/2 streams a client may have open at once on one connection.
pub const MAX_CONCURRENT_STREAMS: u32 = 100;
/// How often an idle HTTP/2 connection is pinged (a dead peer is dropped after as long).
const PING_EVERY: Duration = Duration::from_secs(20);
/// How long in-flight requests may take to finish after a shutdown began.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the certificate files are looked at.
const RELOAD_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    /// From one client address (IPv6: one /64); 0: no limit.
    pub max_connections_per_address: usize,
    pub max_header_bytes: usize,
    /// A connection with no request in flight for this long is closed; also the deadline
    /// for a new connection's first request.
    pub idle_timeout: Duration,
}

/// Whose connections and failed sign-ins count together: an IPv4 address, or the /64 an
/// IPv6 address is in (one host usually holds a whole /64).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
    }
}

/// Connections open per client address.
#[derive(Debug, Default)]
struct PerAddress {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// A connection counted in [`PerAddress`], uncounted when dropped.
struct AddressSlot {
    table: Arc<PerAddress>,
    key: IpAddr,
}

impl PerAddress {
    fn take(table: &Arc<PerAddress>, ip: IpAddr, limit: usize) -> Option<AddressSlot> {
        let key = client_key(ip);
        let mut open = table.open.lock().ok()?;
        let count = open.entry(key).or_insert(0);
        if limit > 0 && *count >= limit {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            table: Arc::clone(table),
            key,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.table.open.lock() {
            if let Some(count) = open.get_mut(&self.key) {
                *count -= 1;
                if *count == 0 {
                    open.remove(&self.key);
                }
            }
        }
    }
}

/// Whether a connection has requests in flight, and since when it has none.
struct Activity {
    started: tokio::time::Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `started` of the last request's start or end.
    last_ms: AtomicU64,
    quiet: tokio::sync::Notify,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity {
            started: tokio::time::Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_ms: AtomicU64::new(0),
            quiet: tokio::sync::Notify::new(),
        })
    }

    fn touch(&self) {
        let elapsed = self.started.elapsed().as_millis() as u64;
        self.last_ms.store(elapsed, Ordering::Relaxed);
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.touch();
        InFlight(Arc::clone(self))
    }

    /// Resolves once the connection has had no request in flight for `idle`.
    async fn idle_for(&self, idle: Duration) {
        loop {
            if self.in_flight.load(Ordering::Acquire) > 0 {
                let quiet = self.quiet.notified();
                if self.in_flight.load(Ordering::Acquire) > 0 {
                    quiet.await;
                }
                continue;
            }
            let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let deadline = self.started + last + idle;
            if tokio::time::Instant::now() >= deadline {
                if self.in_flight.load(Ordering::Acquire) == 0 {
                    return;
                }
                continue;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// A request under way (until its answer's body is sent or dropped).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.quiet.notify_waiters();
        }
    }
}

/// An answer's body that keeps its request counted as in flight until it ends.
struct Counted {
    body: axum::body::Body,
    _request: InFlight,
}

impl http_body::Body for Counted {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
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
        .header_read_timeout(HEADER_TIMEOUT.min(limits.idle_timeout))
        .max_buf_size(limits.max_header_bytes.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(limits.max_header_bytes as u32)
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .keep_alive_interval(Some(PING_EVERY))
        .keep_alive_timeout(PING_EVERY);
    let builder = Arc::new(builder);
    let max_connections = limits.max_connections.max(1);
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections));
    let per_address = Arc::new(PerAddress::default());
    let (stop, stopping) = tokio::sync::watch::channel(false);
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
        let Some(address_slot) =
            PerAddress::take(&per_address, peer.ip(), limits.max_connections_per_address)
        else {
            tracing::info!(%peer, "too many connections from one address: closed");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let activity = Activity::new();
        let service = TowerToHyperService::new(counted(router.clone(), peer, &activity));
        let builder = Arc::clone(&builder);
        let tls = tls.clone();
        let stopping = stopping.clone();
        let idle_timeout = limits.idle_timeout;
        tokio::spawn(async move {
            let _slots = (permit, address_slot);
            let closed = match tls {
                None => {
                    let connection = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .into_owned();
                    drive(connection, &activity, idle_timeout, stopping).await
                }
                Some(acceptor) => {
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
                    drive(connection, &activity, idle_timeout, stopping).await
                }
            };
            if let Err(error) = closed {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection holds a slot until it ends: all slots back means all done.
    let drained =
        tokio::time::timeout(DRAIN_TIMEOUT, slots.acquire_many(max_connections as u32)).await;
    if drained.is_err() {
        tracing::warn!(
            "requests still running {} s after the shutdown began were cut",
            DRAIN_TIMEOUT.as_secs()
        );
    }
    Ok(())
}

/// The router, with each request counted in flight until its answer's body has ended.
fn counted(
    router: Router,
    peer: SocketAddr,
    activity: &Arc<Activity>,
) -> impl tower::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone {
    let activity = Arc::clone(activity);
    tower::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        let request_mark = activity.begin();
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        let answer = router.clone().oneshot(request);
        async move {
            let response = answer.await?;
            Ok(response.map(|body| {
                axum::body::Body::new(Counted {
                    body,
                    _request: request_mark,
                })
            }))
        }
    })
}

/// Serves one connection until it ends. When the server shuts down, or when it has had no
/// request in flight for `idle`, it is told to close gracefully (HTTP/2: GOAWAY); an idle
/// one that is still open [`CLOSE_GRACE`] later is cut.
async fn drive<I, S>(
    connection: hyper_util::server::conn::auto::UpgradeableConnection<'static, I, S, TokioExecutor>,
    activity: &Activity,
    idle: Duration,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::Service<
        hyper::Request<hyper::body::Incoming>,
        Response = hyper::Response<axum::body::Body>,
    >,
    S::Future: 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    TokioExecutor: hyper_util::server::conn::auto::HttpServerConnExec<S::Future, axum::body::Body>,
{
    tokio::pin!(connection);
    let server_stops = async {
        while !*stopping.borrow_and_update() {
            if stopping.changed().await.is_err() {
                break;
            }
        }
    };
    let idle_close = tokio::select! {
        result = connection.as_mut() => return result,
        () = activity.idle_for(idle) => true,
        () = server_stops => false,
    };
    connection.as_mut().graceful_shutdown();
    if !idle_close {
        return connection.await;
    }
    match tokio::time::timeout(CLOSE_GRACE, connection).await {
        Ok(result) => result,
        Err(_) => Ok(()),
    }
}

/// Where a socket's peer is, for a request that came without [`ConnectInfo`].
pub fn peer_of(request: &axum::extract::Request) -> Option<SocketAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0)
}
