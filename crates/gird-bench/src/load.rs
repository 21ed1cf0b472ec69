//! The load driver: N keep-alive HTTP/1.1 connections, each sending one request at a
//! time until the phase ends, timing every request. What is sent and what counts as
//! success is a [`Workload`]: inserts for the insert benchmark, searches for the other.

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

use crate::histogram::Histogram;

const EXPECTED_INSERT_ANSWER: &[u8] = br#"{"statusCode":0}"#;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const RECONNECT_PAUSE: Duration = Duration::from_millis(50);
const ERROR_SAMPLES: usize = 5;

/// The requests of a phase, by sequence number, and the check of their answers.
pub trait Workload: Send + Sync {
    /// The request for `sequence`, without the session headers (the driver adds them).
    fn request(&self, sequence: u64) -> hyper::http::Result<Request<Full<Bytes>>>;
    /// Judges the answer to `sequence`, after the clock has stopped: the number of
    /// results it carried, or what was wrong with it.
    fn check(&self, sequence: u64, status: StatusCode, body: &Bytes) -> Result<u64, String>;
}

/// Request bodies by sequence number.
pub trait BodySource: Send + Sync {
    fn render(&self, sequence: u64) -> Bytes;
}

/// POSTs to the Insertion API; success is exactly HTTP 200 `{"statusCode":0}`.
pub struct Inserts {
    pub path: String,
    pub bodies: Arc<dyn BodySource>,
}

impl Workload for Inserts {
    fn request(&self, sequence: u64) -> hyper::http::Result<Request<Full<Bytes>>> {
        Request::builder()
            .method(Method::POST)
            .uri(self.path.as_str())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(Full::new(self.bodies.render(sequence)))
    }

    fn check(&self, _sequence: u64, status: StatusCode, body: &Bytes) -> Result<u64, String> {
        if status == StatusCode::OK && body == EXPECTED_INSERT_ANSWER {
            Ok(1)
        } else {
            Err(describe_answer(status, body))
        }
    }
}

/// An unexpected answer, shortened for the error samples.
pub fn describe_answer(status: StatusCode, body: &[u8]) -> String {
    format!(
        "HTTP {status} {}",
        String::from_utf8_lossy(&body[..body.len().min(300)])
    )
}

/// Everything a connection needs to send one workload to one server.
pub struct LoadTarget {
    pub authority: String,
    pub headers: hyper::HeaderMap,
    pub workload: Arc<dyn Workload>,
    /// Shared across phases when the workload wants every request to get a fresh id.
    pub sequence: Arc<AtomicU64>,
}

impl LoadTarget {
    /// Inserts of `bodies` into `contact_center` through `session`'s server, with a
    /// sequence of their own.
    pub fn inserts(
        session: &crate::ops::Session,
        contact_center: &str,
        bodies: Arc<dyn BodySource>,
    ) -> Arc<LoadTarget> {
        Arc::new(LoadTarget {
            authority: session.authority.clone(),
            headers: session.headers.clone(),
            workload: Arc::new(Inserts {
                path: session.insert_path(contact_center),
                bodies,
            }),
            sequence: Arc::new(AtomicU64::new(0)),
        })
    }
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
    /// Sum of what [`Workload::check`] counted in the successful answers.
    pub results: u64,
    /// The slowest successful request: its latency and sequence number.
    pub slowest: Option<(Duration, u64)>,
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
        self.results += worker.results;
        self.slowest = slower(self.slowest, worker.slowest);
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

fn slower(
    left: Option<(Duration, u64)>,
    right: Option<(Duration, u64)>,
) -> Option<(Duration, u64)> {
    match (left, right) {
        (Some(left), Some(right)) => Some(if right.0 > left.0 { right } else { left }),
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
    results: u64,
    slowest: Option<(Duration, u64)>,
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
    run_phase_spread(&[target], connections, end, progress).await
}

/// [`run_phase`] over several servers: connection `i` goes to `targets[i % n]`.
pub async fn run_phase_spread(
    targets: &[Arc<LoadTarget>],
    connections: u32,
    end: PhaseEnd,
    progress: Option<&(dyn Fn(u64, Duration) + Sync)>,
) -> anyhow::Result<PhaseResult> {
    anyhow::ensure!(!targets.is_empty(), "no server to send the load to");
    // Connect everything before the clock starts, so set-up is not measured.
    let mut senders = Vec::with_capacity(connections as usize);
    for target in targets.iter().cycle().take(connections as usize) {
        let sender = connect(&target.authority)
            .await
            .with_context(|| format!("cannot connect to {}", target.authority))?;
        senders.push((target.clone(), sender));
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
    for (target, sender) in senders {
        workers.spawn(drive_connection(target, phase.clone(), sender));
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
        let outcome = tokio::time::timeout(REQUEST_TIMEOUT, send(&target, &mut live, id))
            .await
            .map(|answer| {
                let latency = started.elapsed();
                answer.and_then(|(status, body)| {
                    target
                        .workload
                        .check(id, status, &body)
                        .map(|results| (latency, results))
                        .map_err(Failure::Answer)
                })
            });
        phase.completed.fetch_add(1, Ordering::Relaxed);
        match outcome {
            Ok(Ok((latency, results))) => {
                worker.latency.record(latency);
                worker.ok += 1;
                worker.results += results;
                worker.slowest = slower(worker.slowest, Some((latency, id)));
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

/// Sends one request and reads the whole answer; the clock stops when this returns.
async fn send(
    target: &LoadTarget,
    sender: &mut SendRequest<Full<Bytes>>,
    id: u64,
) -> Result<(StatusCode, Bytes), Failure> {
    let mut request = target
        .workload
        .request(id)
        .map_err(|error| Failure::Connection(format!("building the request: {error}")))?;
    request.headers_mut().extend(target.headers.clone());
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
    Ok((status, body))
}
