//! One benchmark run: start (or reach) gird and the no-op baseline, warm both up,
//! alternate measured phases between them, then report and clean up.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::process::Command;

use crate::body::BodyTemplate;
use crate::histogram::Histogram;
use crate::launch::{self, random_hex, DataDir, GirdLaunch};
use crate::load::{self, LoadTarget, PhaseEnd, PhaseResult};
use crate::ops::Session;
use crate::report::{self, Row};
use crate::server::{self, Memory, ServerProcess};
use crate::{noop, BenchOptions};

pub enum Outcome {
    Clean,
    /// Some request did not get the success answer; the exit code says so.
    RequestErrors,
}

pub fn run(options: BenchOptions) -> anyhow::Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_with_servers(options))
}

struct Servers {
    gird: Option<ServerProcess>,
    gird_session: Session,
    noop: ServerProcess,
    noop_session: Session,
    data_dir: Option<DataDir>,
}

async fn run_with_servers(options: BenchOptions) -> anyhow::Result<Outcome> {
    let mut servers = start_servers(&options).await?;
    // Ctrl-C ends the run early but still stops the servers and removes the data.
    let outcome = tokio::select! {
        outcome = measure(&options, &mut servers) => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    servers.noop.stop().await;
    if let Some(gird) = servers.gird {
        gird.stop().await;
    }
    // The children are gone now, so their data can go too (TempDir deletes on drop).
    drop(servers.data_dir);
    outcome
}

async fn start_servers(options: &BenchOptions) -> anyhow::Result<Servers> {
    let (gird, gird_session, data_dir) = match &options.target {
        Some(url) => {
            let password = options.password.as_deref().unwrap_or_default();
            (None, Session::new(url, &options.user, password)?, None)
        }
        None => {
            let (gird, session, data_dir) = start_gird(options).await?;
            (Some(gird), session, Some(data_dir))
        }
    };
    let mut gird_session = gird_session;
    gird_session.log_in().await?;
    gird_session
        .prepare_contact_center(&options.gird.contact_center)
        .await?;

    let mut noop_command = Command::new(std::env::current_exe()?);
    noop_command.args(["noop", "--listen", "127.0.0.1:0"]);
    let noop = ServerProcess::start(
        "no-op",
        noop_command,
        noop::READY_PREFIX,
        options.gird.verbose,
    )
    .await?;
    // Same credentials header as gird gets, so both see byte-for-byte equal requests.
    let noop_session = Session::new(
        &noop.base_url,
        &options.user,
        options.password.as_deref().unwrap_or("unused"),
    )?;
    Ok(Servers {
        gird,
        gird_session,
        noop,
        noop_session,
        data_dir,
    })
}

async fn start_gird(options: &BenchOptions) -> anyhow::Result<(ServerProcess, Session, DataDir)> {
    let data_dir = DataDir::new(options.keep_data.as_deref())?;
    let launch = GirdLaunch {
        binary: options.gird.gird_bin.as_deref(),
        extra_args: &options.gird.gird_args,
        verbose: options.gird.verbose,
    };
    let (gird, session) = launch::start_gird(&launch, &data_dir).await?;
    Ok((gird, session, data_dir))
}

/// Every measured phase of one server, and the record ids it inserted.
#[derive(Default)]
struct Totals {
    ok: u64,
    errors: u64,
    measured_latency: Histogram,
    first_id: Option<u64>,
    last_id: Option<u64>,
}

impl Totals {
    fn add(&mut self, result: &PhaseResult, measured: bool) {
        self.ok += result.ok;
        self.errors += result.errors;
        if measured {
            self.measured_latency.merge(&result.latency);
        }
        self.first_id = match (self.first_id, result.first_id) {
            (Some(mine), Some(theirs)) => Some(mine.min(theirs)),
            (mine, theirs) => mine.or(theirs),
        };
        self.last_id = self.last_id.max(result.last_id);
    }
}

async fn measure(options: &BenchOptions, servers: &mut Servers) -> anyhow::Result<Outcome> {
    let body = Arc::new(BodyTemplate::from_sample(&random_hex(4)?)?);
    let target_for = |session: &Session| {
        LoadTarget::inserts(session, &options.gird.contact_center, body.clone())
    };
    let gird_target = target_for(&servers.gird_session);
    let noop_target = target_for(&servers.noop_session);
    print_settings(options, servers);

    let mut gird_totals = Totals::default();
    let mut noop_totals = Totals::default();
    let mut ratios = Vec::new();
    report::print_table_header();
    if options.warmup_seconds > 0.0 {
        let warmup = PhaseEnd::After(options.warmup_length());
        let noop = run_phase(
            &noop_target,
            Some(&mut servers.noop),
            options,
            warmup,
            "no-op warm-up",
        )
        .await?;
        let gird = run_phase(
            &gird_target,
            servers.gird.as_mut(),
            options,
            warmup,
            "gird warm-up",
        )
        .await?;
        noop_totals.add(&noop.result, false);
        gird_totals.add(&gird.result, false);
        print_pair("warm-up", &noop, &gird, None, gird_memory(servers));
    }
    for round in 1..=options.rounds {
        let noop_end = PhaseEnd::After(options.phase_length());
        let gird_end = match options.inserts {
            Some(inserts) => PhaseEnd::Requests(inserts),
            None => noop_end,
        };
        let noop = run_phase(
            &noop_target,
            Some(&mut servers.noop),
            options,
            noop_end,
            &format!("no-op round {round}"),
        )
        .await?;
        let gird = run_phase(
            &gird_target,
            servers.gird.as_mut(),
            options,
            gird_end,
            &format!("gird round {round}"),
        )
        .await?;
        let ratio = gird.result.rate() / noop.result.rate();
        ratios.push(ratio);
        noop_totals.add(&noop.result, true);
        gird_totals.add(&gird.result, true);
        print_pair(
            &round.to_string(),
            &noop,
            &gird,
            Some(ratio),
            gird_memory(servers),
        );
    }
    println!();
    print_summary(options, servers, &gird_totals, &ratios, &body).await?;

    let errors = gird_totals.errors + noop_totals.errors;
    println!();
    if errors > 0 {
        println!("errors: {errors} requests did not get HTTP 200 {{\"statusCode\":0}} (gird {}, no-op {})", gird_totals.errors, noop_totals.errors);
        return Ok(Outcome::RequestErrors);
    }
    println!("errors: none");
    Ok(Outcome::Clean)
}

/// One phase against one server, with the CPU time that server spent on it.
struct Measured {
    result: PhaseResult,
    server_cpu: Option<Duration>,
}

async fn run_phase(
    target: &Arc<LoadTarget>,
    process: Option<&mut ServerProcess>,
    options: &BenchOptions,
    end: PhaseEnd,
    label: &str,
) -> anyhow::Result<Measured> {
    let long = match end {
        PhaseEnd::After(length) => length > Duration::from_secs(10),
        PhaseEnd::Requests(_) => true,
    };
    let show_progress = |done: u64, elapsed: Duration| {
        let total = match end {
            PhaseEnd::Requests(total) => format!("/{total}"),
            PhaseEnd::After(_) => String::new(),
        };
        eprintln!(
            "  ... {label}: {done}{total} requests in {:.0} s ({:.0}/s)",
            elapsed.as_secs_f64(),
            done as f64 / elapsed.as_secs_f64()
        );
    };
    let progress: Option<&(dyn Fn(u64, Duration) + Sync)> =
        (long || options.gird.verbose).then_some(&show_progress);
    let cpu_before = process.as_ref().and_then(|process| process.cpu_time());
    let result = load::run_phase(target.clone(), options.connections, end, progress)
        .await
        .with_context(|| label.to_owned())?;
    let server_cpu = match process {
        Some(process) => {
            process.ensure_running()?;
            let cpu_after = process.cpu_time();
            cpu_before
                .zip(cpu_after)
                .map(|(before, after)| after.saturating_sub(before))
        }
        None => None,
    };
    for sample in &result.error_samples {
        eprintln!("  {label}: error: {sample}");
    }
    Ok(Measured { result, server_cpu })
}

fn print_pair(
    round: &str,
    noop: &Measured,
    gird: &Measured,
    ratio: Option<f64>,
    memory: Option<Memory>,
) {
    report::print_row(&Row {
        round,
        server: "no-op",
        result: &noop.result,
        server_cpu: noop.server_cpu,
        ratio: None,
        memory: None,
    });
    report::print_row(&Row {
        round,
        server: "gird",
        result: &gird.result,
        server_cpu: gird.server_cpu,
        ratio,
        memory,
    });
}

fn gird_memory(servers: &Servers) -> Option<Memory> {
    servers.gird.as_ref()?.memory()
}

fn print_settings(options: &BenchOptions, servers: &Servers) {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let gird_phase = match options.inserts {
        Some(inserts) => format!("{inserts} inserts"),
        None => format!("{} s", options.seconds),
    };
    let rounds = match options.rounds {
        1 => "1 round".to_owned(),
        many => format!("{many} rounds"),
    };
    println!(
        "gird-bench: {} connections, {rounds} of [no-op {} s, gird {gird_phase}], warm-up {} s each, {cpus} CPUs",
        options.connections, options.seconds, options.warmup_seconds
    );
    let gird_where = match &servers.gird {
        Some(gird) => format!(
            "{} (pid {})",
            gird.base_url,
            gird.pid().map_or("?".to_owned(), |pid| pid.to_string())
        ),
        None => format!("http://{} (external)", servers.gird_session.authority),
    };
    println!("gird: {gird_where}; no-op: {}", servers.noop.base_url);
    if let Some(data_dir) = &servers.data_dir {
        println!("data: {}", data_dir.path().display());
    }
    println!();
}

async fn print_summary(
    options: &BenchOptions,
    servers: &Servers,
    gird_totals: &Totals,
    ratios: &[f64],
    body: &BodyTemplate,
) -> anyhow::Result<()> {
    let median_ratio = report::median(ratios);
    let round_ratios: Vec<String> = ratios.iter().map(|ratio| format!("{ratio:.3}")).collect();
    println!(
        "median ratio gird ÷ no-op: {} (rounds: {})",
        median_ratio.map_or("-".to_owned(), |ratio| format!("{ratio:.3}")),
        round_ratios.join(", ")
    );
    let memory = gird_memory(servers);
    match memory {
        Some(memory) => println!(
            "gird memory after the run: VmRSS {:.1} MiB, VmHWM (peak) {:.1} MiB",
            report::mib(memory.resident_kib),
            report::mib(memory.peak_resident_kib)
        ),
        None => println!("gird memory: n/a (server not started by the benchmark)"),
    }
    let disk = servers
        .data_dir
        .as_ref()
        .map(|dir| {
            format!(
                "; data folder {:.1} MiB",
                server::disk_usage(&dir.path()) as f64 / 1048576.0
            )
        })
        .unwrap_or_default();
    let warmup_note = if options.warmup_seconds > 0.0 {
        " (warm-up included)"
    } else {
        ""
    };
    println!(
        "records inserted into contact center {:?}: {}{warmup_note}{disk}",
        options.gird.contact_center, gird_totals.ok
    );
    spot_check(options, servers, gird_totals, body).await?;

    println!();
    println!("verdict (targets are informational):");
    report::verdict_line(
        "median ratio >= 0.30",
        median_ratio.map(|ratio| format!("{ratio:.3}")),
        median_ratio.map(|ratio| ratio >= report::TARGET_RATIO),
        "",
    );
    let p99 = gird_totals
        .measured_latency
        .percentile_micros(0.99)
        .map(|micros| micros as f64 / 1000.0);
    let connections_note = if options.connections == report::TARGET_CONNECTIONS {
        "measured rounds merged".to_owned()
    } else {
        format!(
            "measured at {} connections; the target is for {}",
            options.connections,
            report::TARGET_CONNECTIONS
        )
    };
    report::verdict_line(
        "gird p99 <= 10 ms",
        p99.map(|ms| format!("{ms:.2} ms")),
        p99.map(|ms| ms <= report::TARGET_P99_MS),
        &connections_note,
    );
    let peak = memory.map(|memory| report::mib(memory.peak_resident_kib));
    report::verdict_line(
        "gird RSS <= 150 MiB",
        peak.map(|mib| format!("{mib:.1} MiB")),
        peak.map(|mib| mib <= report::TARGET_RSS_MIB),
        "peak VmHWM",
    );
    Ok(())
}

/// Reads the first and the last inserted record back, so a server that answers 200
/// without storing anything does not go unnoticed.
async fn spot_check(
    options: &BenchOptions,
    servers: &Servers,
    totals: &Totals,
    body: &BodyTemplate,
) -> anyhow::Result<()> {
    let ids: Vec<u64> = [totals.first_id, totals.last_id]
        .into_iter()
        .flatten()
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let mut problems = Vec::new();
    for id in &ids {
        let recording_id = body.recording_id(*id);
        if let Err(problem) = servers
            .gird_session
            .read_recording(&options.gird.contact_center, &recording_id)
            .await?
        {
            problems.push(format!("{recording_id}: {problem}"));
        }
    }
    if problems.is_empty() {
        println!("read back: first and last inserted records found");
    } else {
        println!(
            "read back: WARNING, inserted records not readable: {}",
            problems.join("; ")
        );
    }
    Ok(())
}
