//! An in-process WebDAV server for the playback and delete tests: dav-server's `LocalFs`
//! over a temporary folder, behind HTTP Basic auth, switchable at run time to failing,
//! slow or stopped.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Extension, Router};
use base64::Engine;
use dav_server::fakels::FakeLs;
use dav_server::localfs::LocalFs;
use dav_server::DavHandler;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

use crate::helpers::PATIENCE;

pub const DAV_USER: &str = "dav-user";
pub const DAV_PASSWORD: &str = "dav-Pass-5e1f0c";
/// The folder under the WebDAV root that is the contact center's storage `baseUrl`.
const BASE: &str = "recordings";

/// What the server does with the next request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Serves WebDAV, with Basic auth when configured.
    Normal,
    /// Answers 500 to everything.
    Failing,
    /// Never answers: gird's timeout (`--webdav-timeout-seconds`) ends the request.
    Slow,
}

/// One request the server received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub range: Option<String>,
}

#[derive(Clone)]
struct Shared {
    /// The whole `Authorization` header a request must carry, if any.
    authorization: Option<String>,
    mode: Arc<AtomicU8>,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Requests for paths ending so wait for a permit of the semaphore (see
    /// [`WebDav::gate`]).
    gate: Arc<Mutex<Option<Gate>>>,
}

/// A path suffix and the permits its requests wait for.
type Gate = (String, Arc<tokio::sync::Semaphore>);

/// A running WebDAV server; stopped when dropped.
pub struct WebDav {
    dir: TempDir,
    /// `http://127.0.0.1:<port>`
    pub address: String,
    pub credentials: Option<(String, String)>,
    shared: Shared,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl WebDav {
    /// A server that wants [`DAV_USER`] / [`DAV_PASSWORD`].
    pub async fn start() -> WebDav {
        WebDav::start_with(Some((DAV_USER, DAV_PASSWORD))).await
    }

    /// A server that wants no credentials (and records whether it got some).
    pub async fn without_auth() -> WebDav {
        WebDav::start_with(None).await
    }

    async fn start_with(credentials: Option<(&str, &str)>) -> WebDav {
        let dir = TempDir::new().expect("WebDAV folder");
        std::fs::create_dir(dir.path().join(BASE)).expect("base folder");
        let shared = Shared {
            authorization: credentials.map(|(user, password)| basic(user, password)),
            mode: Arc::new(AtomicU8::new(Mode::Normal as u8)),
            seen: Arc::default(),
            gate: Arc::default(),
        };
        let dav = DavHandler::builder()
            .filesystem(LocalFs::new(dir.path(), false, false, false))
            .locksystem(FakeLs::new())
            .strip_prefix("/dav")
            .build_handler();
        let router = Router::new()
            .route("/dav", any(handle_dav))
            .route("/dav/", any(handle_dav))
            .route("/dav/{*path}", any(handle_dav))
            .layer(Extension(dav))
            .layer(middleware::from_fn_with_state(shared.clone(), guard));
        // Bound before the task starts: connections wait in the backlog, no readiness race.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind WebDAV");
        let address = format!("http://{}", listener.local_addr().expect("local address"));
        let (shutdown, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .expect("WebDAV server");
        });
        WebDav {
            dir,
            address,
            credentials: credentials.map(|(u, p)| (u.to_owned(), p.to_owned())),
            shared,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    /// The storage `baseUrl` for gird, with a trailing slash.
    pub fn base_url(&self) -> String {
        format!("{}/dav/{BASE}/", self.address)
    }

    /// The absolute URL of a file under the base URL.
    pub fn url(&self, relative: &str) -> String {
        format!("{}{relative}", self.base_url())
    }

    /// The storage settings gird needs for this server (`password` overrides the right one).
    pub fn storage(&self, password: Option<&str>) -> serde_json::Value {
        let mut storage = serde_json::json!({ "baseUrl": self.base_url() });
        if let Some((user, right)) = &self.credentials {
            storage["username"] = user.as_str().into();
            storage["password"] = password.unwrap_or(right).into();
        }
        storage
    }

    pub fn set_mode(&self, mode: Mode) {
        self.shared.mode.store(mode as u8, Ordering::SeqCst);
    }

    /// From now on, requests for a path ending with `suffix` wait until [`WebDav::open`].
    pub fn gate(&self, suffix: &str) {
        let semaphore = Arc::new(tokio::sync::Semaphore::new(0));
        *self.shared.gate.lock().expect("gate") = Some((suffix.to_owned(), semaphore));
    }

    /// Lets every waiting and later request through the gate.
    pub fn open(&self) {
        if let Some((_, semaphore)) = self.shared.gate.lock().expect("gate").take() {
            semaphore.add_permits(tokio::sync::Semaphore::MAX_PERMITS / 2);
        }
    }

    /// Closes the port: idle connections are closed, new ones refused.
    pub async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if timeout(PATIENCE, server).await.is_err() {
                abort.abort();
            }
        }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(BASE).join(relative)
    }

    /// Writes a file under the base URL directly into the served folder.
    pub fn put_file(&self, relative: &str, bytes: &[u8]) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create folders");
        std::fs::write(path, bytes).expect("write WebDAV file");
    }

    /// Uploads a file under the base URL with an HTTP PUT (its folder must exist).
    pub async fn put_over_http(&self, relative: &str, bytes: Vec<u8>) {
        let mut request = reqwest::Client::new().put(self.url(relative)).body(bytes);
        if let Some((user, password)) = &self.credentials {
            request = request.basic_auth(user, Some(password));
        }
        let status = request.send().await.expect("WebDAV answers").status();
        assert!(status.is_success(), "PUT {relative}: {status}");
    }

    /// Whether a file under the base URL exists in the served folder.
    pub fn exists(&self, relative: &str) -> bool {
        self.path(relative).exists()
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().expect("request log").clone()
    }
}

impl Drop for WebDav {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

pub fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

async fn guard(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    // Every Authorization header, so that a second one cannot hide behind the first.
    let all: Vec<&str> = request
        .headers()
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    let authorization = (!all.is_empty()).then(|| all.join(", "));
    shared.seen.lock().expect("request log").push(Seen {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        authorization: authorization.clone(),
        range: request
            .headers()
            .get(header::RANGE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
    });
    let gate = shared.gate.lock().expect("gate").clone();
    if let Some((suffix, semaphore)) = gate {
        if request.uri().path().ends_with(&suffix) {
            let _ = semaphore.acquire().await;
        }
    }
    match shared.mode.load(Ordering::SeqCst) {
        mode if mode == Mode::Failing as u8 => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "failing on purpose").into_response();
        }
        mode if mode == Mode::Slow as u8 => std::future::pending::<()>().await,
        _ => {}
    }
    if shared.authorization.is_some() && authorization != shared.authorization {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, r#"Basic realm="dav""#)],
            "who are you?",
        )
            .into_response();
    }
    next.run(request).await
}

async fn handle_dav(Extension(dav): Extension<DavHandler>, request: Request) -> impl IntoResponse {
    dav.handle(request).await
}

/// `len` deterministic bytes that do not repeat with a short period, so that a wrong
/// offset shows.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// FNV-1a, fed in chunks, to compare large bodies without holding them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    pub fn update(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    pub fn of(bytes: &[u8]) -> Fnv {
        let mut hash = Fnv::default();
        hash.update(bytes);
        hash
    }

    /// The length and hash of a response's body, read chunk by chunk (never held whole).
    pub async fn of_body(mut response: reqwest::Response) -> (usize, Fnv) {
        let (mut hash, mut received) = (Fnv::default(), 0);
        while let Some(chunk) = response.chunk().await.expect("a body chunk") {
            hash.update(&chunk);
            received += chunk.len();
        }
        (received, hash)
    }
}
