//! `storage`: the ceiling the SQLite store puts on the insert benchmark.
//!
//! Drives gird's own SQLite store in this process, with no HTTP at all: concurrent tasks
//! render the benchmark's record, parse and validate it as gird does, and call
//! `insert_or_merge`, so the store's single writer group-commits them exactly as in the
//! server. In interleaved rounds it also drives the no-op HTTP handler, as the insert
//! benchmark does. No HTTP server built on this store can insert faster than the store
//! alone, so the ratio store ÷ no-op printed here bounds the insert benchmark's ratio
//! gird ÷ no-op from above. It also prints the writer thread's CPU time per insert and
//! how busy that thread was: at 100% the writer is the limit.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use gird_model::Recording;
use gird_store::prelude::*;
use gird_store::sqlite::SqliteStore;
use gird_store::{InsertOutcome, Store};
use tokio::process::Command;

use crate::bench::Outcome;
use crate::body::BodyTemplate;
use crate::histogram::Histogram;
use crate::launch::{random_hex, DataDir};
use crate::load::{self, BodySource, LoadTarget, PhaseEnd};
use crate::ops::Session;
use crate::report::{self, millis};
use crate::server::{self, ServerProcess};
use crate::{noop, positive_seconds};

const CONTACT_CENTER: &str = "bench";
/// The name SQLite's writer thread gets in gird-store (truncated to 15 bytes by Linux).
const WRITER_THREAD: &str = "gird-sqlite-wri";

#[derive(Args, Debug, Clone)]
pub struct StorageOptions {
    /// Concurrent inserting tasks (and no-op connections).
    #[arg(long, default_value_t = 32)]
    pub connections: u32,
    /// Measured rounds; each is one no-op phase followed by one store phase.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rounds: u32,
    /// Length of each phase.
    #[arg(long, default_value_t = 5.0, value_parser = positive_seconds)]
    pub seconds: f64,
}

pub fn run(options: StorageOptions) -> anyhow::Result<Outcome> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(measure(options))
}

async fn measure(options: StorageOptions) -> anyhow::Result<Outcome> {
    let data_dir = DataDir::new(None)?;
    let (store, _) = SqliteStore::open(&data_dir.path().join("gird.sqlite3"))?;
    let store = Arc::new(store);
    store
        .create_contact_center(CONTACT_CENTER, &[])
        .await
        .context("creating the contact center")?;

    let mut noop_command = Command::new(std::env::current_exe()?);
    noop_command.args(["noop", "--listen", "127.0.0.1:0"]);
    let mut noop = ServerProcess::start("no-op", noop_command, noop::READY_PREFIX, false).await?;
    let session = Session::new(&noop.base_url, "ops", "unused")?;
    let body = Arc::new(BodyTemplate::from_sample(&random_hex(4)?)?);
    let noop_target = LoadTarget::inserts(&session, CONTACT_CENTER, body.clone());
    let sequence = Arc::new(AtomicU64::new(0));
    let length = Duration::from_secs_f64(options.seconds);

    println!(
        "gird-bench storage: gird's SQLite store in this process, no HTTP ({} tasks), against the no-op HTTP handler ({} connections); {} rounds of {} s",
        options.connections, options.connections, options.rounds, options.seconds
    );
    println!("data: {}", data_dir.path().display());
    println!();
    let widths = [7, 8, 9, 7, 7, 13, 12, 10];
    report::print_aligned(
        &[
            "round",
            "what",
            "inserts/s",
            "p50 ms",
            "p99 ms",
            "writer µs/ins",
            "writer busy",
            "store÷no-op",
        ]
        .map(str::to_owned),
        &widths,
        2,
    );
    report::print_rule(&widths);

    let mut ratios = Vec::new();
    let mut errors = 0;
    for round in 1..=options.rounds {
        let baseline = load::run_phase(
            noop_target.clone(),
            options.connections,
            PhaseEnd::After(length),
            None,
        )
        .await?;
        noop.ensure_running()?;
        errors += baseline.errors;
        let stored = store_phase(&store, &body, &sequence, options.connections, length).await?;
        errors += stored.errors;
        let ratio = stored.rate() / baseline.rate();
        ratios.push(ratio);
        let row = |what: &str, rate: f64, latency: &Histogram, writer: [String; 3]| {
            let quantile = |q| millis(latency.percentile_micros(q));
            let [per_insert, busy, ratio] = writer;
            report::print_aligned(
                &[
                    round.to_string(),
                    what.to_owned(),
                    format!("{rate:.0}"),
                    quantile(0.5),
                    quantile(0.99),
                    per_insert,
                    busy,
                    ratio,
                ],
                &widths,
                2,
            );
        };
        row(
            "no-op",
            baseline.rate(),
            &baseline.latency,
            Default::default(),
        );
        row(
            "store",
            stored.rate(),
            &stored.latency,
            [
                stored.writer_micros_per_insert(),
                stored.writer_busy(),
                format!("{ratio:.3}"),
            ],
        );
    }
    println!();
    println!(
        "median ratio store ÷ no-op: {} (the most gird ÷ no-op can be with this store on this machine)",
        report::median(&ratios).map_or("-".to_owned(), |ratio| format!("{ratio:.3}"))
    );
    noop.stop().await;
    store.close().await;
    drop(data_dir);
    if errors > 0 {
        println!("errors: {errors}");
        return Ok(Outcome::RequestErrors);
    }
    println!("errors: none");
    Ok(Outcome::Clean)
}

struct StorePhase {
    ok: u64,
    errors: u64,
    elapsed: Duration,
    latency: Histogram,
    writer_cpu: Option<Duration>,
}

impl StorePhase {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn writer_micros_per_insert(&self) -> String {
        match self.writer_cpu {
            Some(cpu) if self.ok > 0 => format!("{:.1}", cpu.as_micros() as f64 / self.ok as f64),
            _ => "-".to_owned(),
        }
    }

    fn writer_busy(&self) -> String {
        self.writer_cpu.map_or("-".to_owned(), |cpu| {
            format!(
                "{:.0}%",
                100.0 * cpu.as_secs_f64() / self.elapsed.as_secs_f64()
            )
        })
    }
}

async fn store_phase(
    store: &Arc<SqliteStore>,
    body: &Arc<BodyTemplate>,
    sequence: &Arc<AtomicU64>,
    tasks: u32,
    length: Duration,
) -> anyhow::Result<StorePhase> {
    let writer_before = thread_cpu(WRITER_THREAD);
    let started = Instant::now();
    let deadline = started + length;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let (store, body, sequence) = (Arc::clone(store), Arc::clone(body), Arc::clone(sequence));
        workers.spawn(async move {
            let (mut ok, mut errors, mut latency) = (0, 0, Histogram::default());
            while Instant::now() < deadline {
                let n = sequence.fetch_add(1, Ordering::Relaxed);
                let begun = Instant::now();
                match insert(&store, &body.render(n)).await {
                    Ok(()) => {
                        ok += 1;
                        latency.record(begun.elapsed());
                    }
                    Err(error) => {
                        if errors == 0 {
                            eprintln!("  store: error: {error:#}");
                        }
                        errors += 1;
                    }
                }
            }
            (ok, errors, latency)
        });
    }
    let mut phase = StorePhase {
        ok: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latency: Histogram::default(),
        writer_cpu: None,
    };
    while let Some(joined) = workers.join_next().await {
        let (ok, errors, latency) = joined?;
        phase.ok += ok;
        phase.errors += errors;
        phase.latency.merge(&latency);
    }
    phase.elapsed = started.elapsed();
    phase.writer_cpu = writer_before
        .zip(thread_cpu(WRITER_THREAD))
        .map(|(before, after)| after.saturating_sub(before));
    Ok(phase)
}

/// What the server does with a body after reading it: parse, validate, store.
async fn insert(store: &SqliteStore, body: &[u8]) -> anyhow::Result<()> {
    let serde_json::Value::Object(object) = serde_json::from_slice(body)? else {
        bail!("the body is not an object");
    };
    let recording = Recording::from_json(object).map_err(|v| anyhow::anyhow!("{v:?}"))?;
    match store.insert_or_merge(CONTACT_CENTER, recording).await? {
        InsertOutcome::Created => Ok(()),
        other => bail!("unexpected outcome {other:?}"),
    }
}

/// CPU time (user + system) of this process's threads with the given name, from
/// /proc/self/task; None where /proc is not there.
fn thread_cpu(name: &str) -> Option<Duration> {
    let mut total = None;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path();
        if read_trimmed(&path.join("comm")).as_deref() == Some(name) {
            let cpu = server::cpu_time_from_stat(&read_trimmed(&path.join("stat"))?)?;
            total = Some(total.unwrap_or(Duration::ZERO) + cpu);
        }
    }
    total
}

fn read_trimmed(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|text| text.trim().to_owned())
}
