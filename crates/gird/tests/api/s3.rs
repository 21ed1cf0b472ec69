//! An in-process S3 server for the S3 tests: s3s with its file-system backend (s3s-fs)
//! over a temporary folder, checking SigV4 signatures for one access key, served on
//! 127.0.0.1:0 with axum; switchable at run time to failing or stopped, and logging the
//! requests it received. Also a port that accepts connections and never answers, and
//! signed requests of the tests' own (rusty-s3) to put and look at objects on any S3.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

use crate::helpers::PATIENCE;

pub const ACCESS_KEY: &str = "GIRDTESTACCESSKEY";
pub const SECRET_KEY: &str = "gird/Test+Secret-7d3a9c1e5b";
pub const REGION: &str = "us-east-1";
/// The bucket every in-process server starts with.
pub const BUCKET: &str = "recordings";

/// One request the server received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub host: String,
}

#[derive(Clone)]
struct Shared {
    failing: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// A running in-process S3 server; stopped when dropped.
pub struct S3Server {
    root: TempDir,
    /// `http://127.0.0.1:<port>`
    pub endpoint: String,
    shared: Shared,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl S3Server {
    pub async fn start() -> S3Server {
        let root = TempDir::new().expect("S3 folder");
        std::fs::create_dir(root.path().join(BUCKET)).expect("bucket folder");
        let fs = s3s_fs::FileSystem::new(root.path()).expect("s3s-fs over the folder");
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let shared = Shared {
            failing: Arc::default(),
            seen: Arc::default(),
        };
        let router = Router::new()
            .fallback(serve_s3)
            .with_state(service)
            .layer(middleware::from_fn_with_state(shared.clone(), guard));
        // Bound before the task starts: connections wait in the backlog, no readiness race.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind S3");
        let endpoint = format!("http://{}", listener.local_addr().expect("local address"));
        let (shutdown, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .expect("S3 server");
        });
        S3Server {
            root,
            endpoint,
            shared,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    /// The body of `PUT .../storage/s3` for this server (`secret` overrides the right one).
    pub fn settings(&self, secret: Option<&str>) -> Value {
        json!({
            "endpoint": self.endpoint,
            "region": REGION,
            "accessKeyId": ACCESS_KEY,
            "secretAccessKey": secret.unwrap_or(SECRET_KEY),
            "pathStyle": true,
            "buckets": [BUCKET],
        })
    }

    fn path(&self, bucket: &str, key: &str) -> PathBuf {
        self.root.path().join(bucket).join(key)
    }

    /// Creates another bucket.
    pub fn create_bucket(&self, bucket: &str) {
        std::fs::create_dir_all(self.root.path().join(bucket)).expect("bucket folder");
    }

    /// Writes an object straight into the served folder.
    pub fn put_object(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let path = self.path(bucket, key);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create folders");
        std::fs::write(path, bytes).expect("write object");
    }

    pub fn exists(&self, bucket: &str, key: &str) -> bool {
        self.path(bucket, key).exists()
    }

    /// Answers 500 to everything while set.
    pub fn set_failing(&self, failing: bool) {
        self.shared.failing.store(failing, Ordering::SeqCst);
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().expect("request log").clone()
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
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

async fn guard(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    shared.seen.lock().expect("request log").push(Seen {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        query: request.uri().query().unwrap_or_default().to_owned(),
        host: request
            .headers()
            .get("host")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
    });
    if shared.failing.load(Ordering::SeqCst) {
        let body = "<Error><Code>InternalError</Code><Message>failing on purpose</Message></Error>";
        return (StatusCode::INTERNAL_SERVER_ERROR, body).into_response();
    }
    next.run(request).await
}

async fn serve_s3(State(service): State<S3Service>, request: Request) -> Response {
    let mut service = service;
    match tower::Service::call(&mut service, request).await {
        Ok(response) => response.map(axum::body::Body::new).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// A port that accepts connections and never answers; closed when dropped.
pub struct Silent {
    pub endpoint: String,
    task: JoinHandle<Infallible>,
}

impl Silent {
    pub async fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("local address"));
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                if let Ok((socket, _)) = listener.accept().await {
                    held.push(socket);
                }
            }
        });
        Silent { endpoint, task }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback port nothing listens on.
pub async fn closed_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("local address"));
    drop(listener);
    endpoint
}

/// Signed requests of the tests' own to an S3 server (path-style addressing).
pub struct S3Client {
    endpoint: String,
    credentials: Credentials,
    http: reqwest::Client,
}

const SIGNED_FOR: Duration = Duration::from_secs(300);

impl S3Client {
    pub fn new(endpoint: &str, access_key: &str, secret: &str) -> S3Client {
        S3Client {
            endpoint: endpoint.to_owned(),
            credentials: Credentials::new(access_key, secret),
            http: reqwest::Client::builder()
                .timeout(PATIENCE)
                .build()
                .expect("HTTP client"),
        }
    }

    fn bucket(&self, name: &str) -> Bucket {
        let endpoint = self.endpoint.parse().expect("an endpoint URL");
        Bucket::new(endpoint, UrlStyle::Path, name.to_owned(), REGION).expect("a bucket URL")
    }

    /// Creates the bucket; answers the HTTP status.
    pub async fn create_bucket(&self, name: &str) -> reqwest::Result<StatusCode> {
        let bucket = self.bucket(name);
        let url = bucket.create_bucket(&self.credentials).sign(SIGNED_FOR);
        Ok(self.http.put(url).send().await?.status())
    }

    /// Uploads an object; answers the HTTP status.
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
    ) -> reqwest::Result<StatusCode> {
        let bucket = self.bucket(bucket);
        let url = bucket
            .put_object(Some(&self.credentials), key)
            .sign(SIGNED_FOR);
        Ok(self.http.put(url).body(bytes).send().await?.status())
    }

    /// The HTTP status of a HEAD of the object.
    pub async fn head(&self, bucket: &str, key: &str) -> StatusCode {
        let bucket = self.bucket(bucket);
        let url = bucket
            .head_object(Some(&self.credentials), key)
            .sign(SIGNED_FOR);
        self.http
            .head(url)
            .send()
            .await
            .expect("S3 answers")
            .status()
    }
}
