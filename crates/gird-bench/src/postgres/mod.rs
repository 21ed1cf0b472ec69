//! PostgreSQL benchmark: gird inserting through 1, 2, 4... instances that share one
//! database, against the same rows written straight into PostgreSQL with batched
//! INSERTs, in interleaved rounds so that machine noise falls on every configuration.

mod cluster;
mod databases;
mod observe;
mod raw;
mod report;

use crate::GirdArgs;
use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use tokio_postgres::Client;

use self::cluster::{ClusterLaunch, GirdCluster};
use self::databases::{Databases, Throwaway};
use self::observe::{PostgresCpu, WaitSampler, WaitTally, WalCounters};
use self::raw::RawBaseline;
use self::report::Observation;
use crate::bench::Outcome;
use crate::body::BodyTemplate;
use crate::launch::{self, GirdLaunch};
use crate::load::{self, Inserts, PhaseEnd, PhaseResult, Workload};
use crate::server::{self, process_cpu_time};
use crate::{non_negative_seconds, positive_seconds};

/// The informational target: gird with two instances reaches this share of the raw rate.
const TARGET_RATIO_TWO_INSTANCES: f64 = 0.6;

#[derive(Args, Debug, Clone)]
pub struct PostgresOptions {
    /// PostgreSQL server (any database on it); the benchmark creates and drops its own.
    #[arg(
        long,
        env = "GIRD_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub postgres_url: String,
    /// Numbers of gird instances to measure, each on its own fresh database.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4",
          value_parser = clap::value_parser!(u32).range(1..=32))]
    pub instances: Vec<u32>,
    /// HTTP keep-alive connections, spread round-robin over the instances.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub connections: u32,
    /// Length of each measured phase.
    #[arg(long, default_value_t = 5.0, value_parser = positive_seconds)]
    pub seconds: f64,
    /// Measured rounds; each is one raw phase, then one phase per instance count.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rounds: u32,
    /// Unmeasured warm-up before every measured phase (0 to skip).
    #[arg(long, default_value_t = 1.0, value_parser = non_negative_seconds)]
    pub warmup_seconds: f64,
    /// Connections of the raw baseline (gird's pool holds up to 16 per instance).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub raw_connections: u32,
    /// Rows per INSERT statement of the raw baseline.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub raw_batch: u32,
    #[command(flatten)]
    pub gird: GirdArgs,
}

impl PostgresOptions {
    fn phase_length(&self) -> Duration {
        Duration::from_secs_f64(self.seconds)
    }

    fn warmup(&self) -> Option<Duration> {
        (self.warmup_seconds > 0.0).then(|| Duration::from_secs_f64(self.warmup_seconds))
    }
}

pub fn run(options: PostgresOptions) -> anyhow::Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_with_cleanup(options))
}

async fn run_with_cleanup(options: PostgresOptions) -> anyhow::Result<Outcome> {
    let run_tag = launch::random_hex(4)?;
    let mut databases = Databases::connect(&options.postgres_url, &run_tag).await?;
    let mut cluster = GirdCluster::default();
    // Ctrl-C ends the run early, but gird still stops and the databases still go.
    let outcome = tokio::select! {
        outcome = measure(&options, &run_tag, &mut databases, &mut cluster) => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    cluster.stop().await;
    databases.drop_all().await;
    outcome
}

/// One configuration's numbers over the whole run.
struct Tally {
    label: String,
    /// Successful inserts, warm-ups included: the rows its database must hold.
    acknowledged: u64,
    errors: u64,
    rates: Vec<f64>,
    ratios: Vec<f64>,
    waits: WaitTally,
}

impl Tally {
    fn new(label: String) -> Self {
        Self {
            label,
            acknowledged: 0,
            errors: 0,
            rates: Vec::new(),
            ratios: Vec::new(),
            waits: WaitTally::default(),
        }
    }

    fn add(&mut self, result: &PhaseResult, phase: &str) {
        self.acknowledged += result.ok;
        self.errors += result.errors;
        for sample in &result.error_samples {
            eprintln!("  {} {phase}: error: {sample}", self.label);
        }
    }
}

struct GirdConfiguration {
    instances: u32,
    database: Throwaway,
    contact_center_ready: bool,
    tally: Tally,
}

async fn measure(
    options: &PostgresOptions,
    run_tag: &str,
    databases: &mut Databases,
    cluster: &mut GirdCluster,
) -> anyhow::Result<Outcome> {
    let gird_bin = server::locate_gird(options.gird.gird_bin.as_deref())?;
    let bodies = Arc::new(BodyTemplate::from_sample(run_tag)?);
    let password = launch::random_token(18)?;
    let monitor = Arc::new(databases::connect(&databases.admin_config()?).await?);

    let raw = RawBaseline::prepare(
        databases.create("raw").await?,
        &gird_bin,
        options.raw_connections,
        options.raw_batch,
        bodies.clone(),
        &options.gird.contact_center,
    )
    .await?;
    let mut raw_tally = Tally::new("raw".to_owned());
    let mut girds = Vec::new();
    for &instances in &options.instances {
        girds.push(GirdConfiguration {
            instances,
            database: databases.create(&format!("x{instances}")).await?,
            contact_center_ready: false,
            tally: Tally::new(format!("gird×{instances}")),
        });
    }
    print_settings(options, &raw, &girds);
    let sequence = Arc::new(AtomicU64::new(0));

    report::print_header();
    for round in 1..=options.rounds {
        let round_label = round.to_string();
        if options.gird.verbose {
            eprintln!("  ... round {round}: raw");
        }
        if let Some(warmup) = options.warmup() {
            raw_tally.add(&raw.run_phase(warmup).await?, "warm-up");
        }
        let database = &raw.database().name;
        let (result, seen, waits) = observe(
            &monitor,
            database,
            None,
            raw.run_phase(options.phase_length()),
        )
        .await?;
        raw_tally.add(&result, &format!("round {round}"));
        raw_tally.rates.push(result.rate());
        raw_tally.waits.merge(&waits);
        report::print_row(&round_label, "raw", &result, &seen, None);
        let raw_rate = result.rate();

        for gird in &mut girds {
            if options.gird.verbose {
                eprintln!("  ... round {round}: {}", gird.tally.label);
            }
            let launch_args: Vec<String> = ["--database".to_owned(), gird.database.url.clone()]
                .into_iter()
                .chain(options.gird.gird_args.iter().cloned())
                .collect();
            let how = ClusterLaunch {
                launch: GirdLaunch {
                    binary: Some(&gird_bin),
                    extra_args: &launch_args,
                    verbose: options.gird.verbose,
                },
                password: &password,
                contact_center: (!gird.contact_center_ready)
                    .then_some(options.gird.contact_center.as_str()),
            };
            cluster.start(gird.instances, &how).await?;
            gird.contact_center_ready = true;
            let (result, seen, waits) =
                gird_phase(options, cluster, gird, &bodies, &sequence, &monitor).await?;
            cluster.ensure_running()?;
            cluster.stop().await;

            let ratio = result.rate() / raw_rate;
            gird.tally.add(&result, &format!("round {round}"));
            gird.tally.rates.push(result.rate());
            gird.tally.ratios.push(ratio);
            gird.tally.waits.merge(&waits);
            report::print_row(&round_label, &gird.tally.label, &result, &seen, Some(ratio));
        }
    }
    report::print_legend(options.raw_batch);
    println!();
    print_summary(&raw_tally, &girds);
    println!();
    print_waits(&raw_tally, &girds);
    println!();
    let consistent = check_row_counts(&raw, &raw_tally, &girds).await?;

    let errors: u64 = raw_tally.errors + girds.iter().map(|gird| gird.tally.errors).sum::<u64>();
    println!();
    if errors > 0 || !consistent {
        if errors > 0 {
            println!("errors: {errors} inserts failed (every gird answer must be HTTP 200 {{\"statusCode\":0}})");
        }
        return Ok(Outcome::RequestErrors);
    }
    println!("errors: none");
    Ok(Outcome::Clean)
}

/// Warm-up, then one measured phase over the running instances.
async fn gird_phase(
    options: &PostgresOptions,
    cluster: &GirdCluster,
    gird: &mut GirdConfiguration,
    bodies: &Arc<BodyTemplate>,
    sequence: &Arc<AtomicU64>,
    monitor: &Arc<Client>,
) -> anyhow::Result<(PhaseResult, Observation, WaitTally)> {
    let session = cluster
        .first_session()
        .context("no gird instance running")?;
    let workload: Arc<dyn Workload> = Arc::new(Inserts {
        path: session.insert_path(&options.gird.contact_center),
        bodies: bodies.clone(),
    });
    let targets = cluster.targets(&workload, sequence);
    if let Some(warmup) = options.warmup() {
        let result =
            load::run_phase_spread(&targets, options.connections, PhaseEnd::After(warmup), None)
                .await?;
        gird.tally.add(&result, "warm-up");
    }
    let end = PhaseEnd::After(options.phase_length());
    let phase = load::run_phase_spread(&targets, options.connections, end, None);
    observe(monitor, &gird.database.name, Some(cluster), phase).await
}

/// Runs `phase` while watching PostgreSQL, gird and this process.
async fn observe(
    monitor: &Arc<Client>,
    database: &str,
    cluster: Option<&GirdCluster>,
    phase: impl Future<Output = anyhow::Result<PhaseResult>>,
) -> anyhow::Result<(PhaseResult, Observation, WaitTally)> {
    let own_pid = std::process::id();
    let postgres_cpu = PostgresCpu::snapshot();
    let wal_before = WalCounters::read(monitor).await?;
    let bench_before = process_cpu_time(own_pid);
    let gird_before = cluster.and_then(GirdCluster::cpu_time);
    let sampler = WaitSampler::start(monitor.clone(), database.to_owned());

    let result = phase.await?;

    let waits = sampler.finish().await?;
    let since = |before: Option<Duration>, after: Option<Duration>| {
        before
            .zip(after)
            .map(|(before, after)| after.saturating_sub(before))
    };
    let seen = Observation {
        gird_cpu: since(gird_before, cluster.and_then(GirdCluster::cpu_time)),
        postgres_cpu: postgres_cpu.since(monitor, database).await?,
        bench_cpu: since(bench_before, process_cpu_time(own_pid)),
        wal: Some(WalCounters::read(monitor).await?.since(wal_before)),
    };
    Ok((result, seen, waits))
}

fn print_settings(options: &PostgresOptions, raw: &RawBaseline, girds: &[GirdConfiguration]) {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let configurations: Vec<String> = girds.iter().map(|gird| gird.tally.label.clone()).collect();
    println!(
        "gird-bench postgres: {rounds} round(s) of [raw, {configurations}], {seconds} s each after a \
         {warmup} s warm-up; gird: {connections} HTTP connections spread over the instances; \
         raw: {raw_connections} connections, INSERTs of {raw_batch} rows; {cpus} CPUs",
        rounds = options.rounds,
        configurations = configurations.join(", "),
        seconds = options.seconds,
        warmup = options.warmup_seconds,
        connections = options.connections,
        raw_connections = options.raw_connections,
        raw_batch = options.raw_batch,
    );
    let names: Vec<String> = std::iter::once(format!("raw {}", raw.database().name))
        .chain(
            girds
                .iter()
                .map(|gird| format!("{} {}", gird.tally.label, gird.database.name)),
        )
        .collect();
    println!("databases (dropped at the end): {}", names.join(", "));
    println!();
}

fn print_summary(raw: &Tally, girds: &[GirdConfiguration]) {
    let format_rate = |tally: &Tally| {
        crate::report::median(&tally.rates).map_or("-".to_owned(), |rate| format!("{rate:.0}"))
    };
    println!("medians over the rounds:");
    println!("  {:<8} {:>9} inserts/s", raw.label, format_rate(raw));
    for gird in girds {
        let ratios: Vec<String> = gird
            .tally
            .ratios
            .iter()
            .map(|ratio| format!("{ratio:.3}"))
            .collect();
        println!(
            "  {:<8} {:>9} inserts/s   gird ÷ raw {} (rounds: {})",
            gird.tally.label,
            format_rate(&gird.tally),
            crate::report::median(&gird.tally.ratios)
                .map_or("-".to_owned(), |ratio| format!("{ratio:.3}")),
            ratios.join(", ")
        );
    }
    println!();
    println!("verdict (informational):");
    let two = girds
        .iter()
        .find(|gird| gird.instances == 2)
        .and_then(|gird| crate::report::median(&gird.tally.ratios));
    crate::report::verdict_line(
        "gird×2 ÷ raw >= 0.60",
        two.map(|ratio| format!("{ratio:.3}")),
        two.map(|ratio| ratio >= TARGET_RATIO_TWO_INSTANCES),
        if two.is_some() {
            "median over the rounds"
        } else {
            "2 instances not measured"
        },
    );
}

fn print_waits(raw: &Tally, girds: &[GirdConfiguration]) {
    println!(
        "backends of each database by state and wait event (pg_stat_activity every 50 ms \
         during the measured phases; average number of backends):"
    );
    for tally in std::iter::once(raw).chain(girds.iter().map(|gird| &gird.tally)) {
        let busiest: Vec<String> = tally
            .waits
            .busiest(6)
            .into_iter()
            .map(|(state, backends)| format!("{state} {backends:.1}"))
            .collect();
        println!(
            "  {:<8} {} ({} samples)",
            tally.label,
            busiest.join(", "),
            tally.waits.samples()
        );
    }
}

/// Every acknowledged insert must be a row, and nothing else may be.
async fn check_row_counts(
    raw: &RawBaseline,
    raw_tally: &Tally,
    girds: &[GirdConfiguration],
) -> anyhow::Result<bool> {
    println!("rows in each database against the inserts acknowledged (warm-ups included):");
    let mut consistent = true;
    let checks = std::iter::once((raw.database(), raw_tally))
        .chain(girds.iter().map(|gird| (&gird.database, &gird.tally)));
    for (database, tally) in checks {
        let rows = databases::count_recordings(database).await?;
        let matches = u64::try_from(rows).ok() == Some(tally.acknowledged);
        consistent &= matches;
        println!(
            "  {:<8} {rows} rows, {} acknowledged: {}",
            tally.label,
            tally.acknowledged,
            if matches { "OK" } else { "MISMATCH" }
        );
    }
    Ok(consistent)
}
