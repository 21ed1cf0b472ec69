//! The load driver: N keep-alive HTTP/1.1 connections, each sending one insert at a
//! time until the phase ends, timing every request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::body::BodyTemplate;
use crate::histogram::Histogram;

const EXPECTED_BODY: &[u8] = br#"{"statusCode":0}"#;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const RECONNECT_PAUSE: Duration = Duration::from_millis(50);
const ERROR_SAMPLES: usize = 5;

/// Everything a connection needs to send inserts to one server.
pub struct LoadTarget {
    pub authority: String,
    pub path: String,
    pub headers: hyper::HeaderMap,
    pub body: Arc<BodyTemplate>,
    /// Shared across phases, so every request to a server gets a fresh id.
    pub sequence: Arc<AtomicU64>,
}

#[derive(Clone, Copy, Debug)]
pub enum PhaseEnd {
    After(Duration),
    Requests(u64),
}

#[derive(Default)]
pub struct PhaseResult {
    pub ok: u64,
    pub errors: u64,
    pub reconnects: u64,
    pub error_samples: Vec<String>,
    pub elapsed: Duration,
    pub latency: Histogram,
    pub first_id: Option<u64>,
    pub last_id: Option<u64>,
}

impl PhaseResult {
    pub fn requests(&self) -> u64 {
        self.ok + self.errors
    }

    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn absorb(&mut self, worker: Worker) {
        self.ok += worker.ok;
        self.errors += worker.errors;
        self.reconnects += worker.reconnects;
        self.latency.merge(&worker.latency);
        self.first_id = min_some(self.first_id, worker.first_id);
        self.last_id = self.last_id.max(worker.last_id);
    }
}

fn min_some(left: Option<u64>, right: Option<u64>) -> Option<u64> {
    match (left, right) {
        (Some(left), Some(right)) => Some(left.min(right)),
        (either, None) | (None, either) => either,
    }
}

/// Shared state of one phase: when to stop, and what went wrong.
struct Phase {
    end: PhaseEnd,
    deadline: Instant,
    claimed: AtomicU64,
    completed: AtomicU64,
    error_samples: Mutex<Vec<String>>,
}

impl Phase {
    fn claim(&self) -> bool {
        match self.end {
            PhaseEnd::After(_) => Instant::now() < self.deadline,
            PhaseEnd::Requests(limit) => self.claimed.fetch_add(1, Ordering::Relaxed) < limit,
        }
    }

    fn note_error(&self, error: String) {
        let mut samples = self.error_samples.lock().unwrap_or_else(|e| e.into_inner());
        if samples.len() < ERROR_SAMPLES && !samples.contains(&error) {
            samples.push(error);
        }
    }
}

#[derive(Default)]
struct Worker {
    ok: u64,
    errors: u64,
    reconnects: u64,
    latency: Histogram,
    first_id: Option<u64>,
    last_id: Option<u64>,
}

enum Failure {
    /// The server answered, but not with success; the connection is still usable.
    Answer(String),
    /// The connection broke or timed out; it has to be replaced.
    Connection(String),
}

/// Runs one phase and waits for every connection's last request to finish.
/// `progress` is called every few seconds with the requests completed so far.
pub async fn run_phase(
    target: Arc<LoadTarget>,
    connections: u32,
    end: PhaseEnd,
    progress: Option<&(dyn Fn(u64, Duration) + Sync)>,
) -> anyhow::Result<PhaseResult> {
    // Connect everything before the clock starts, so set-up is not measured.
    let mut senders = Vec::with_capacity(connections as usize);
    for _ in 0..connections {
        senders.push(
            connect(&target.authority)
                .await
                .with_context(|| format!("cannot connect to {}", target.authority))?,
        );
    }
    let start = Instant::now();
    let phase = Arc::new(Phase {
        end,
        deadline: match end {
            PhaseEnd::After(length) => start + length,
            PhaseEnd::Requests(_) => start + Duration::from_secs(86_400 * 365),
        },
        claimed: AtomicU64::new(0),
        completed: AtomicU64::new(0),
        error_samples: Mutex::new(Vec::new()),
    });
    let mut workers = tokio::task::JoinSet::new();
    for sender in senders {
        workers.spawn(drive_connection(target.clone(), phase.clone(), sender));
    }
    let mut result = PhaseResult::default();
    let mut ticker = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(5),
        Duration::from_secs(5),
    );
    loop {
        tokio::select! {
            finished = workers.join_next() => match finished {
                Some(worker) => result.absorb(worker.context("a connection task panicked")?),
                None => break,
            },
            _ = ticker.tick(), if progress.is_some() => {
                if let Some(progress) = progress {
                    progress(phase.completed.load(Ordering::Relaxed), start.elapsed());
                }
            }
        }
    }
    result.elapsed = start.elapsed();
    result.error_samples = std::mem::take(
        &mut *phase
            .error_samples
            .lock()
            .unwrap_or_else(|e| e.into_inner()),
    );
    Ok(result)
}

async fn drive_connection(
    target: Arc<LoadTarget>,
    phase: Arc<Phase>,
    sender: SendRequest<Full<Bytes>>,
) -> Worker {
    let mut worker = Worker::default();
    let mut sender = Some(sender);
    loop {
        let mut live = match sender.take() {
            Some(live) => live,
            None => match connect(&target.authority).await {
                Ok(live) => {
                    worker.reconnects += 1;
                    live
                }
                Err(error) => {
                    if !phase.claim() {
                        break;
                    }
                    worker.errors += 1;
                    phase.note_error(format!("connect: {error:#}"));
                    tokio::time::sleep(RECONNECT_PAUSE).await;
                    continue;
                }
            },
        };
        // A server may close a keep-alive connection between requests; that is a
        // reconnect, not a failed request.
        if live.ready().await.is_err() {
            continue;
        }
        if !phase.claim() {
            break;
        }
        let id = target.sequence.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let outcome =
            tokio::time::timeout(REQUEST_TIMEOUT, send_insert(&target, &mut live, id)).await;
        phase.completed.fetch_add(1, Ordering::Relaxed);
        match outcome {
            Ok(Ok(())) => {
                worker.latency.record(started.elapsed());
                worker.ok += 1;
                worker.first_id = min_some(worker.first_id, Some(id));
                worker.last_id = worker.last_id.max(Some(id));
                sender = Some(live);
            }
            Ok(Err(Failure::Answer(error))) => {
                worker.errors += 1;
                phase.note_error(error);
                sender = Some(live);
            }
            Ok(Err(Failure::Connection(error))) => {
                worker.errors += 1;
                phase.note_error(error);
            }
            Err(_) => {
                worker.errors += 1;
                phase.note_error(format!("no answer within {REQUEST_TIMEOUT:?}"));
            }
        }
    }
    worker
}

async fn connect(authority: &str) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(authority).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // Errors surface through the sender as well; nothing to add here.
        let _ = connection.await;
    });
    Ok(sender)
}

async fn send_insert(
    target: &LoadTarget,
    sender: &mut SendRequest<Full<Bytes>>,
    id: u64,
) -> Result<(), Failure> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(target.path.as_str())
        .body(Full::new(target.body.render(id)))
        .map_err(|error| Failure::Connection(format!("building the request: {error}")))?;
    let headers = request.headers_mut();
    headers.extend(target.headers.clone());
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let response = sender
        .send_request(request)
        .await
        .map_err(|error| Failure::Connection(format!("request failed: {error}")))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|error| Failure::Connection(format!("reading the answer: {error}")))?
        .to_bytes();
    if status == StatusCode::OK && body == EXPECTED_BODY {
        Ok(())
    } else {
        Err(Failure::Answer(format!(
            "HTTP {status} {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        )))
    }
}
