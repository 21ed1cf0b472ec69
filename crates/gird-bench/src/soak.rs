//! Proof under load and faults.
//!
//! `soak`: measures gird's maximum insert rate, then holds a fraction of it (70% by
//! default) for a long time (30 minutes by default) with searches mixed in (a recently
//! stored call looked up by its media id), printing the
//! latency percentiles and gird's memory for every window, and finally reads acknowledged
//! records back.
//!
//! `faults`: inserts with retries, as a careful client would, while gird is killed with
//! SIGKILL and restarted again and again (and, with `--restart-database`, while the
//! database is restarted); then checks that every acknowledged record is there exactly
//! once, with nothing duplicated inside it.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderMap, CONTENT_TYPE};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::bench::Outcome;
use crate::body::BodyTemplate;
use crate::histogram::Histogram;
use crate::launch::{self, random_hex, random_token, DataDir, GirdLaunch};
use crate::load::BodySource;
use crate::ops::Session;
use crate::report::{mib, millis};
use crate::server::ServerProcess;
use crate::GirdArgs;

#[derive(Args, Debug, Clone)]
pub struct SoakOptions {
    /// How long to run flat out first, to measure the maximum (the rate of its second
    /// half is the maximum).
    #[arg(long, default_value_t = 60.0, value_parser = crate::positive_seconds)]
    pub calibrate_seconds: f64,
    /// How long to hold the load, in minutes.
    #[arg(long, default_value_t = 30.0)]
    pub minutes: f64,
    /// The share of the measured maximum insert rate to hold.
    #[arg(long, default_value_t = 0.7)]
    pub load: f64,
    /// One request in this many is a search (the rest are inserts).
    #[arg(long, default_value_t = 10)]
    pub search_every: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    pub connections: u32,
    /// Seconds per report line.
    #[arg(long, default_value_t = 60)]
    pub report_seconds: u64,
    #[command(flatten)]
    pub gird: GirdArgs,
}

#[derive(Args, Debug, Clone)]
pub struct FaultOptions {
    /// Kill-and-restart cycles.
    #[arg(long, default_value_t = 10)]
    pub cycles: u32,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    pub connections: u32,
    /// A shell command that restarts the database, run in every other cycle while the
    /// load goes on (e.g. 'pg_ctlcluster 15 main restart'); with a PostgreSQL --gird-arg.
    #[arg(long)]
    pub restart_database: Option<String>,
    #[command(flatten)]
    pub gird: GirdArgs,
}

/// HTTP to one gird: a pooled keep-alive client and the ops credentials.
#[derive(Clone)]
struct Http {
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    authority: String,
    headers: HeaderMap,
}

impl Http {
    fn new(session: &Session) -> Http {
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(256)
            .build_http();
        Http {
            client,
            authority: session.authority.clone(),
            headers: session.headers.clone(),
        }
    }

    /// Sends a request; answers the status and the body, or why there was none.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<(StatusCode, Bytes), String> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.authority));
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if body.is_some() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|e| e.to_string())?;
        let response = tokio::time::timeout(Duration::from_secs(30), self.client.request(request))
            .await
            .map_err(|_| "no answer within 30 s".to_owned())?
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body))
    }

    /// Posts a record; true when it was acknowledged with statusCode 0.
    async fn insert(&self, cc: &str, body: Bytes) -> Result<(), String> {
        let path = format!("/internal-api/contact-centers/{cc}/recordings");
        let (status, answer) = self.send(Method::POST, &path, Some(body)).await?;
        if status == StatusCode::OK && &answer[..] == br#"{"statusCode":0}"# {
            Ok(())
        } else {
            Err(format!(
                "HTTP {status} {}",
                String::from_utf8_lossy(&answer)
            ))
        }
    }

    /// The stored record, if there is one.
    async fn read(&self, cc: &str, id: &str) -> Result<Option<Value>, String> {
        let path = format!("/api/v2/ops/contact-centers/{cc}/recordings/{id}");
        let (status, answer) = self.send(Method::GET, &path, None).await?;
        match status {
            StatusCode::OK => Ok(serde_json::from_slice::<Value>(&answer)
                .ok()
                .map(|body| body["recording"].clone())),
            StatusCode::NOT_FOUND => Ok(None),
            other => Err(format!("HTTP {other}")),
        }
    }
}

async fn start(
    gird: &GirdArgs,
    data_dir: &DataDir,
    password: &str,
) -> anyhow::Result<(ServerProcess, Session)> {
    let launch = GirdLaunch {
        binary: gird.gird_bin.as_deref(),
        extra_args: &gird.gird_args,
        verbose: gird.verbose,
    };
    let (process, mut session) =
        launch::start_gird_with_password(&launch, data_dir, password).await?;
    session.log_in().await?;
    session.prepare_contact_center(&gird.contact_center).await?;
    Ok((process, session))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

// ---- soak -----------------------------------------------------------------------

#[derive(Default)]
struct Window {
    inserts: Histogram,
    searches: Histogram,
    errors: u64,
    error_sample: Option<String>,
}

pub fn soak(options: SoakOptions) -> anyhow::Result<Outcome> {
    runtime()?.block_on(run_soak(options))
}

async fn run_soak(options: SoakOptions) -> anyhow::Result<Outcome> {
    let data_dir = DataDir::new(None)?;
    let password = random_token(18)?;
    let (gird, session) = start(&options.gird, &data_dir, &password).await?;
    let clients = Clients {
        http: Http::new(&session),
        body: Arc::new(BodyTemplate::from_sample(&random_hex(4)?)?),
        contact_center: options.gird.contact_center.clone(),
        search_every: options.search_every.max(2),
        sequence: Arc::new(AtomicU64::new(0)),
        window: Arc::new(Mutex::new(Window::default())),
        acknowledged: Arc::new(Mutex::new(Sample::default())),
    };

    // The maximum: the same clients and mix, flat out; the rate of the second half, when
    // the database is no longer empty.
    let half = Duration::from_secs_f64(options.calibrate_seconds / 2.0);
    let flat_out = clients.spawn(options.connections, None);
    tokio::time::sleep(half).await;
    drop(std::mem::take(&mut *clients.window.lock().unwrap()));
    tokio::time::sleep(half).await;
    let calibration = std::mem::take(&mut *clients.window.lock().unwrap());
    flat_out.stop().await;
    let maximum = calibration.inserts.count() as f64 / half.as_secs_f64();
    let max_searches = calibration.searches.count() as f64 / half.as_secs_f64();

    // The inserts alone hold the share of the maximum; the searches come on top.
    let search_every = clients.search_every;
    let target_inserts = maximum * options.load;
    let target = target_inserts * search_every as f64 / (search_every - 1) as f64;
    println!(
        "gird-bench soak: maximum {maximum:.0} inserts/s plus {max_searches:.0} searches/s (flat out for {} s with {} connections, one request in {search_every} a search; rate of the last {} s)",
        options.calibrate_seconds,
        options.connections,
        half.as_secs_f64(),
    );
    println!(
        "holding {target_inserts:.0} inserts/s ({:.0}%) plus {:.0} searches/s for {} min",
        options.load * 100.0,
        target - target_inserts,
        options.minutes,
    );
    println!();
    println!(
        "{:>7} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>7} {:>9}",
        "minute",
        "inserts/s",
        "searches/s",
        "ins p50",
        "ins p99",
        "srch p99",
        "max ms",
        "errors",
        "RSS MiB"
    );
    let paced = clients.spawn(
        options.connections,
        Some(Duration::from_secs_f64(1.0 / target.max(1.0))),
    );
    let window = Arc::clone(&clients.window);

    let started = Instant::now();
    let length = Duration::from_secs_f64(options.minutes * 60.0);
    let report = Duration::from_secs(options.report_seconds.max(1));
    let mut total = Window::default();
    let mut worst_p99 = 0;
    let mut peak_rss = 0;
    while started.elapsed() < length {
        tokio::time::sleep(report.min(length.saturating_sub(started.elapsed()))).await;
        let seen = std::mem::take(&mut *window.lock().unwrap());
        let seconds = report.as_secs_f64();
        let memory = gird.memory();
        peak_rss = peak_rss.max(memory.map_or(0, |m| m.peak_resident_kib));
        let p99 = seen.inserts.percentile_micros(0.99).unwrap_or(0);
        worst_p99 = worst_p99.max(p99);
        println!(
            "{:>7.1} {:>10.0} {:>10.0} {:>9} {:>9} {:>9} {:>9} {:>7} {:>9.1}",
            started.elapsed().as_secs_f64() / 60.0,
            seen.inserts.count() as f64 / seconds,
            seen.searches.count() as f64 / seconds,
            millis(seen.inserts.percentile_micros(0.5)),
            millis(Some(p99)),
            millis(seen.searches.percentile_micros(0.99)),
            millis(seen.inserts.max_micros()),
            seen.errors,
            memory.map_or(0.0, |m| mib(m.resident_kib)),
        );
        if let Some(sample) = &seen.error_sample {
            println!("        an error: {sample}");
        }
        total.inserts.merge(&seen.inserts);
        total.searches.merge(&seen.searches);
        total.errors += seen.errors;
    }
    paced.stop().await;
    let http = &clients.http;
    let cc = &clients.contact_center;
    let acknowledged = &clients.acknowledged;

    // Read back a sample of what was acknowledged: the last ones and a spread of the rest.
    let sample = acknowledged.lock().unwrap().ids();
    let mut lost = Vec::new();
    for id in &sample {
        if http.read(cc, id).await.ok().flatten().is_none() {
            lost.push(id.clone());
        }
    }
    println!();
    println!(
        "total: {} inserts, {} searches in {:.1} min; insert p50 {} ms, p99 {} ms (worst window {} ms); search p99 {} ms; errors {}",
        total.inserts.count(),
        total.searches.count(),
        started.elapsed().as_secs_f64() / 60.0,
        millis(total.inserts.percentile_micros(0.5)),
        millis(total.inserts.percentile_micros(0.99)),
        millis(Some(worst_p99)),
        millis(total.searches.percentile_micros(0.99)),
        total.errors
    );
    let held = total.inserts.count() as f64 / started.elapsed().as_secs_f64();
    println!(
        "held {held:.0} inserts/s on average: {:.1}% of the maximum",
        100.0 * held / maximum.max(1.0)
    );
    println!(
        "gird memory: peak {:.1} MiB; read back {} acknowledged records: {} missing",
        mib(peak_rss),
        sample.len(),
        lost.len()
    );
    gird.stop().await;
    drop(data_dir);
    if !lost.is_empty() || total.errors > 0 {
        return Ok(Outcome::RequestErrors);
    }
    Ok(Outcome::Clean)
}

/// The soak's clients: inserts of unique records, and one request in `search_every` a
/// search for a recently stored call by its media id, as a supervisor does.
struct Clients {
    http: Http,
    body: Arc<BodyTemplate>,
    contact_center: String,
    search_every: u64,
    sequence: Arc<AtomicU64>,
    window: Arc<Mutex<Window>>,
    acknowledged: Arc<Mutex<Sample>>,
}

/// Running clients, until [`Running::stop`].
struct Running {
    stop: Arc<AtomicBool>,
    workers: tokio::task::JoinSet<()>,
}

impl Running {
    async fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        while self.workers.join_next().await.is_some() {}
    }
}

impl Clients {
    /// Starts `connections` clients: flat out, or with `interval` between requests on
    /// one schedule for all of them. Request n is then due n intervals after the start;
    /// a client that falls behind sends at once until it has caught up, so the rate is
    /// held whenever gird can keep up with it.
    fn spawn(&self, connections: u32, interval: Option<Duration>) -> Running {
        let stop = Arc::new(AtomicBool::new(false));
        let schedule_start = tokio::time::Instant::now();
        let first = self.sequence.load(Ordering::Relaxed);
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..connections {
            let (http, window, stop, sequence, body, cc, acknowledged) = (
                self.http.clone(),
                Arc::clone(&self.window),
                Arc::clone(&stop),
                Arc::clone(&self.sequence),
                Arc::clone(&self.body),
                self.contact_center.clone(),
                Arc::clone(&self.acknowledged),
            );
            let search_every = self.search_every;
            workers.spawn(async move {
                let mut last_stored = first;
                while !stop.load(Ordering::Relaxed) {
                    let n = sequence.fetch_add(1, Ordering::Relaxed);
                    if let Some(interval) = interval {
                        let due = schedule_start + interval.mul_f64(n.saturating_sub(first) as f64);
                        tokio::time::sleep_until(due).await;
                    }
                    let started = Instant::now();
                    if n % search_every == 0 {
                        let media_id = format!("{}-m0", body.recording_id(last_stored));
                        let search = format!(
                            "/api/v2/recordings?contactCenterId={cc}&mediaId={media_id}&limit=25"
                        );
                        let result = http.send(Method::GET, &search, None).await;
                        let mut window = window.lock().unwrap();
                        match result {
                            Ok((StatusCode::OK, _)) => window.searches.record(started.elapsed()),
                            other => {
                                window.errors += 1;
                                window
                                    .error_sample
                                    .get_or_insert(format!("search: {other:?}"));
                            }
                        }
                    } else {
                        let result = http.insert(&cc, body.render(n)).await;
                        let latency = started.elapsed();
                        match result {
                            Ok(()) => {
                                window.lock().unwrap().inserts.record(latency);
                                acknowledged.lock().unwrap().add(body.recording_id(n));
                                last_stored = n;
                            }
                            Err(error) => {
                                let mut window = window.lock().unwrap();
                                window.errors += 1;
                                window.error_sample.get_or_insert(error);
                            }
                        }
                    }
                }
            });
        }
        Running { stop, workers }
    }
}

/// The last 1,000 ids and a reservoir of 1,000 from all of them.
#[derive(Default)]
struct Sample {
    last: VecDeque<String>,
    reservoir: Vec<String>,
    seen: u64,
}

impl Sample {
    fn add(&mut self, id: String) {
        self.seen += 1;
        if self.reservoir.len() < 1000 {
            self.reservoir.push(id.clone());
        } else {
            let slot = (self.seen.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) % self.seen;
            if let Some(kept) = self.reservoir.get_mut(slot as usize) {
                *kept = id.clone();
            }
        }
        self.last.push_back(id);
        if self.last.len() > 1000 {
            self.last.pop_front();
        }
    }

    fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.reservoir.iter().chain(&self.last).cloned().collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

// ---- faults ---------------------------------------------------------------------

pub fn faults(options: FaultOptions) -> anyhow::Result<Outcome> {
    runtime()?.block_on(run_faults(options))
}

async fn run_faults(options: FaultOptions) -> anyhow::Result<Outcome> {
    let data_dir = DataDir::new(None)?;
    let password = random_token(18)?;
    let cc = options.gird.contact_center.clone();
    let body = Arc::new(BodyTemplate::from_sample(&random_hex(4)?)?);
    let media_per_record = serde_json::from_slice::<Value>(&body.render(0))?["mediaFiles"]
        .as_array()
        .map_or(0, Vec::len);
    // Ids not yet acknowledged (posted again, same body, until they are), and those that are.
    let pending: Arc<Mutex<VecDeque<u64>>> = Arc::default();
    let acknowledged: Arc<Mutex<Vec<u64>>> = Arc::default();
    let next = Arc::new(AtomicU64::new(0));
    let attempts = Arc::new(AtomicU64::new(0));
    let mut restarts = 0;
    println!(
        "gird-bench faults: {} cycles of load then SIGKILL, {} clients{}",
        options.cycles,
        options.connections,
        if options.restart_database.is_some() {
            ", the database restarted every other cycle"
        } else {
            ""
        }
    );
    for cycle in 1..=options.cycles {
        let (gird, session) = start(&options.gird, &data_dir, &password).await?;
        let http = Http::new(&session);
        let stop = Arc::new(AtomicBool::new(false));
        let mut clients = tokio::task::JoinSet::new();
        for _ in 0..options.connections {
            let (http, stop, pending, acknowledged, next, attempts, body, cc) = (
                http.clone(),
                Arc::clone(&stop),
                Arc::clone(&pending),
                Arc::clone(&acknowledged),
                Arc::clone(&next),
                Arc::clone(&attempts),
                Arc::clone(&body),
                cc.clone(),
            );
            clients.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let n = pending
                        .lock()
                        .unwrap()
                        .pop_front()
                        .unwrap_or_else(|| next.fetch_add(1, Ordering::Relaxed));
                    attempts.fetch_add(1, Ordering::Relaxed);
                    match http.insert(&cc, body.render(n)).await {
                        Ok(()) => acknowledged.lock().unwrap().push(n),
                        Err(_) => {
                            pending.lock().unwrap().push_back(n);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            });
        }
        // Load for 2 to 4 s, a database restart in the middle of every other cycle, then
        // SIGKILL while the clients keep posting.
        let run = Duration::from_millis(2000 + u64::from(cycle * 677 % 2000));
        let database = options.restart_database.as_ref().filter(|_| cycle % 2 == 0);
        if let Some(command) = database {
            tokio::time::sleep(run / 2).await;
            let status = tokio::process::Command::new("sh")
                .args(["-c", command])
                .status()
                .await?;
            if !status.success() {
                bail!("restarting the database failed: {status}");
            }
            restarts += 1;
            tokio::time::sleep(run / 2).await;
        } else {
            tokio::time::sleep(run).await;
        }
        let before = acknowledged.lock().unwrap().len();
        gird.kill().await;
        stop.store(true, Ordering::Relaxed);
        while clients.join_next().await.is_some() {}
        println!(
            "cycle {cycle}: {} acknowledged so far, {} waiting to be posted again, killed with SIGKILL",
            before,
            pending.lock().unwrap().len()
        );
    }

    // The last run: post what was never acknowledged, then check everything.
    let (gird, session) = start(&options.gird, &data_dir, &password).await?;
    let http = Http::new(&session);
    let left: Vec<u64> = pending.lock().unwrap().drain(..).collect();
    for n in left {
        http.insert(&cc, body.render(n))
            .await
            .map_err(|error| anyhow::anyhow!("posting {n} after the faults: {error}"))?;
        acknowledged.lock().unwrap().push(n);
    }
    let ids = acknowledged.lock().unwrap().clone();
    let mut counts: HashMap<u64, u32> = HashMap::new();
    for n in &ids {
        *counts.entry(*n).or_default() += 1;
    }
    let (mut lost, mut duplicated) = (Vec::new(), Vec::new());
    for n in counts.keys() {
        let id = body.recording_id(*n);
        match http
            .read(&cc, &id)
            .await
            .map_err(anyhow::Error::msg)
            .context("reading back")?
        {
            None => lost.push(id),
            Some(record) => {
                let media = record["mediaFiles"].as_array().map_or(0, Vec::len);
                if media != media_per_record {
                    duplicated.push(format!("{id}: {media} media files"));
                }
            }
        }
    }
    gird.stop().await;
    println!();
    println!(
        "faults survived: {} SIGKILLs of gird, {} database restarts; {} POSTs for {} records",
        options.cycles,
        restarts,
        attempts.load(Ordering::Relaxed),
        counts.len()
    );
    println!(
        "records lost: {} of {}; records with duplicated content: {}",
        lost.len(),
        counts.len(),
        duplicated.len()
    );
    for problem in lost.iter().chain(&duplicated).take(10) {
        println!("  {problem}");
    }
    drop(data_dir);
    if lost.is_empty() && duplicated.is_empty() {
        Ok(Outcome::Clean)
    } else {
        Ok(Outcome::RequestErrors)
    }
}
