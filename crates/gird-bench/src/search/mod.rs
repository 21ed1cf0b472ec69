//! Search benchmark: populate a contact center with generated records (or reuse a
//! populated data folder), then time searches of several kinds against a trivial
//! authenticated read on the same server, in interleaved rounds.

mod dataset;
mod measure;
mod populate;
mod queries;
mod report;
mod workload;

use crate::GirdArgs;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Args;
use hyper::{Method, StatusCode};

use self::dataset::Dataset;
use self::populate::{Marker, Plan};
use crate::bench::Outcome;
use crate::launch::{self, DataDir, GirdLaunch};
use crate::ops::Session;
use crate::server::{self, ServerProcess};

#[derive(Args, Debug, Clone)]
pub struct SearchOptions {
    /// Records in the database before the searches start.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub records: u64,
    /// Seed of the record generator (and of the queries drawn from the records).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Measured queries per query kind (and baseline reads).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub queries: u32,
    /// Concurrent search clients (keep-alive connections).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub clients: u32,
    /// Page size of the searches.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// Rounds the measured queries are split into: [baseline, each kind] per round.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub rounds: u32,
    /// Unmeasured queries per kind before the first round (0 to skip).
    #[arg(long, default_value_t = 20)]
    pub warmup_queries: u32,
    /// Connections used to populate the database.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub connections: u32,
    /// Keep gird's data in DIR; a folder populated before (same seed) is topped up, not refilled.
    #[arg(long, value_name = "DIR", conflicts_with = "reuse_data")]
    pub keep_data: Option<PathBuf>,
    /// Search the records of a folder populated before with --keep-data; inserts nothing.
    #[arg(long, value_name = "DIR")]
    pub reuse_data: Option<PathBuf>,
    /// Populate (and keep, with --keep-data) without measuring.
    #[arg(long)]
    pub populate_only: bool,
    #[command(flatten)]
    pub gird: GirdArgs,
}

pub fn run(options: SearchOptions) -> anyhow::Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_with_gird(options))
}

async fn run_with_gird(options: SearchOptions) -> anyhow::Result<Outcome> {
    let folder = options
        .keep_data
        .as_deref()
        .or(options.reuse_data.as_deref());
    let data_dir = DataDir::new(folder)?;
    let marker = Marker::read(&data_dir.path())?;
    let plan = Plan::decide(&options, marker.as_ref(), &data_dir.path())?;
    let launch = GirdLaunch {
        binary: options.gird.gird_bin.as_deref(),
        extra_args: &options.gird.gird_args,
        verbose: options.gird.verbose,
    };
    let (mut gird, session) = launch::start_gird(&launch, &data_dir).await?;
    // Ctrl-C ends the run early but still stops gird cleanly, which a kept folder needs.
    let outcome = tokio::select! {
        outcome = populate_and_measure(&options, &plan, &data_dir, &mut gird, session) => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    gird.stop().await;
    drop(data_dir);
    outcome
}

async fn populate_and_measure(
    options: &SearchOptions,
    plan: &Plan,
    data_dir: &DataDir,
    gird: &mut ServerProcess,
    mut session: Session,
) -> anyhow::Result<Outcome> {
    session.log_in().await?;
    session
        .prepare_contact_center(&options.gird.contact_center)
        .await?;
    let dataset = Arc::new(Dataset::new(plan.seed));
    println!(
        "gird-bench search: {} records (seed {}), {} CPUs; gird {} (pid {}); data {}",
        plan.wanted,
        plan.seed,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        gird.base_url,
        gird.pid().map_or("?".to_owned(), |pid| pid.to_string()),
        data_dir.path().display()
    );
    if !options.populate_only {
        preflight(&session, options).await?;
    }

    let mut insert_errors = 0;
    if plan.wanted > plan.present {
        let result = populate::insert_missing(&session, options, dataset.clone(), plan).await?;
        gird.ensure_running()?;
        insert_errors = result.errors;
        println!(
            "populated: {} records inserted in {:.1} s ({:.0}/s), {} errors{}",
            result.ok,
            result.elapsed.as_secs_f64(),
            result.rate(),
            result.errors,
            if plan.present > 0 {
                format!(" (the first {} were there already)", plan.present)
            } else {
                String::new()
            }
        );
        if result.errors == 0 {
            Marker {
                seed: plan.seed,
                records: plan.wanted,
                contact_center: options.gird.contact_center.clone(),
            }
            .write(&data_dir.path())?;
        }
    } else {
        println!(
            "reusing {} records already in {}",
            plan.present,
            data_dir.path().display()
        );
    }
    println!(
        "data folder {:.1} MiB{}",
        server::disk_usage(&data_dir.path()) as f64 / 1048576.0,
        gird.memory().map_or(String::new(), |memory| format!(
            "; gird VmRSS {:.1} MiB, VmHWM {:.1} MiB",
            crate::report::mib(memory.resident_kib),
            crate::report::mib(memory.peak_resident_kib)
        ))
    );

    let search_errors = if options.populate_only {
        0
    } else {
        let password = launch::random_token(18)?;
        create_supervisor(&session, options, &password).await?;
        let totals =
            measure::run(options, &session, &dataset, plan.wanted, gird, &password).await?;
        report::print(options, &totals, gird.memory());
        totals.iter().map(|kind| kind.errors).sum()
    };
    println!();
    let errors = insert_errors + search_errors;
    if errors > 0 {
        println!("errors: {errors} requests failed (inserts {insert_errors}, reads and searches {search_errors})");
        return Ok(Outcome::RequestErrors);
    }
    println!("errors: none");
    Ok(Outcome::Clean)
}

/// The restricted supervisor of the (g)–(i) searches, made anew with `password` (a kept
/// folder may hold the one of an earlier run).
async fn create_supervisor(
    session: &Session,
    options: &SearchOptions,
    password: &str,
) -> anyhow::Result<()> {
    let users = format!(
        "/api/v2/ops/contact-centers/{}/users",
        options.gird.contact_center
    );
    let earlier = format!("{users}/{}", dataset::SUPERVISOR_NAME);
    let gone = session.call(Method::DELETE, &earlier, None).await?;
    if !matches!(gone.status, StatusCode::OK | StatusCode::NOT_FOUND) {
        bail!(
            "DELETE {earlier}: HTTP {} {}",
            gone.status,
            String::from_utf8_lossy(&gone.body)
        );
    }
    let body = serde_json::json!({
        "userName": dataset::SUPERVISOR_NAME,
        "password": password,
        "roles": ["Supervisor"],
        "accessGroups": [dataset::SUPERVISOR_GROUP],
        "partitions": [dataset::SUPERVISOR_PARTITION],
    });
    let created = session.call(Method::POST, &users, Some(body)).await?;
    if created.status != StatusCode::CREATED {
        bail!(
            "POST {users}: HTTP {} {}: this gird has no users API",
            created.status,
            String::from_utf8_lossy(&created.body)
        );
    }
    Ok(())
}

/// One search before a long population, so a gird without the search API fails at once.
async fn preflight(session: &Session, options: &SearchOptions) -> anyhow::Result<()> {
    let path = format!(
        "/api/v2/ops/contact-centers/{}/recordings?limit=1",
        options.gird.contact_center
    );
    let answer = session.call(Method::GET, &path, None).await?;
    if answer.status != StatusCode::OK {
        bail!(
            "GET {path}: HTTP {} {}: this gird does not answer searches \
             (--populate-only fills the database anyway)",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        );
    }
    serde_json::from_slice::<serde_json::Value>(&answer.body)
        .with_context(|| format!("GET {path}: the answer is not JSON"))?;
    Ok(())
}
