//! Import benchmark: `gird import` of a JSON Lines file into a local gird, against the
//! insert benchmark's own load driver inserting as many records into the same server,
//! in alternating rounds of the same run, so that the ratio survives a noisy machine.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;

use crate::bench::Outcome;
use crate::body::BodyTemplate;
use crate::launch::{self, random_hex, random_token, DataDir, GirdLaunch};
use crate::load::{self, BodySource, LoadTarget, PhaseEnd};
use crate::report::{median, mib};
use crate::server::{self, Memory};
use crate::GirdArgs;

#[derive(Args, Debug, Clone)]
pub struct ImportOptions {
    /// Records per round, for the import and for the insert benchmark alike.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub records: u64,
    /// Measured rounds; each is one insert-benchmark phase followed by one import.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub rounds: u32,
    /// Connections of the insert benchmark, and `--jobs` of the import.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub connections: u32,
    /// Keep gird's data (and the generated files) in DIR.
    #[arg(long, value_name = "DIR")]
    pub keep_data: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub gird: GirdArgs,
}

pub fn run(options: ImportOptions) -> anyhow::Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(measure(options))
}

async fn measure(options: ImportOptions) -> anyhow::Result<Outcome> {
    let data_dir = DataDir::new(options.keep_data.as_deref())?;
    let password = random_token(18)?;
    let launch = GirdLaunch {
        binary: options.gird.gird_bin.as_deref(),
        extra_args: &options.gird.gird_args,
        verbose: options.gird.verbose,
    };
    let (mut gird, mut session) =
        launch::start_gird_with_password(&launch, &data_dir, &password).await?;
    session.log_in().await?;
    let cc = &options.gird.contact_center;
    session.prepare_contact_center(cc).await?;
    let binary = server::locate_gird(options.gird.gird_bin.as_deref())?;
    println!(
        "gird-bench import: {} records per round, {} rounds, {} connections / --jobs, {} CPUs",
        options.records,
        options.rounds,
        options.connections,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("gird: {} (pid {})", gird.base_url, gird.pid().unwrap_or(0));
    println!();
    println!(
        "{:<6} {:>14} {:>14} {:>10} {:>16}",
        "round", "bench rec/s", "import rec/s", "ratio", "import peak RSS"
    );

    let mut ratios = Vec::new();
    let mut peak_kib = 0;
    let mut outcome = Outcome::Clean;
    for round in 1..=options.rounds {
        let body = Arc::new(BodyTemplate::from_sample(&random_hex(4)?)?);
        let target = LoadTarget::inserts(&session, cc, body);
        let bench = load::run_phase(
            target,
            options.connections,
            PhaseEnd::Requests(options.records),
            None,
        )
        .await
        .context("the insert benchmark phase")?;
        if bench.errors > 0 {
            outcome = Outcome::RequestErrors;
        }
        gird.ensure_running()?;

        let file = data_dir.path().join(format!("import-{round}.jsonl"));
        write_records(&file, options.records)?;
        let journal = data_dir.path().join(format!("import-{round}.journal"));
        let (elapsed, peak) = run_import(
            &binary,
            &[
                "import",
                "--target",
                &gird.base_url,
                "--contact-center",
                cc,
                "--user",
                launch::OPS_USER,
                "--password",
                &password,
                "--jsonl",
                &file.to_string_lossy(),
                "--journal",
                &journal.to_string_lossy(),
                "--jobs",
                &options.connections.to_string(),
                "--quiet",
            ],
            options.records,
        )
        .await?;
        gird.ensure_running()?;
        let import_rate = options.records as f64 / elapsed.as_secs_f64();
        let ratio = import_rate / bench.rate();
        ratios.push(ratio);
        peak_kib = peak_kib.max(peak);
        println!(
            "{round:<6} {:>14.0} {:>14.0} {:>10.3} {:>12.1} MiB",
            bench.rate(),
            import_rate,
            ratio,
            mib(peak)
        );
        let _ = std::fs::remove_file(&file);
    }
    let median_ratio = median(&ratios).unwrap_or_default();
    println!();
    println!("median ratio import ÷ insert benchmark: {median_ratio:.3}");
    println!(
        "verdict (informational): {}  import >= 0.70 of the insert benchmark",
        if median_ratio >= 0.70 { "PASS" } else { "MISS" }
    );
    println!(
        "import peak RSS: {:.1} MiB for {} records per file",
        mib(peak_kib),
        options.records
    );
    if let Some(Memory {
        peak_resident_kib, ..
    }) = gird.memory()
    {
        println!("gird peak RSS: {:.1} MiB", mib(peak_resident_kib));
    }
    gird.stop().await;
    drop(data_dir);
    Ok(outcome)
}

/// Unique records, one per line, as a migration script would have them.
fn write_records(path: &Path, count: u64) -> anyhow::Result<()> {
    let body = BodyTemplate::from_sample(&random_hex(4)?)?;
    let file = std::fs::File::create(path).with_context(|| format!("{}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    for sequence in 0..count {
        out.write_all(&body.render(sequence))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// Runs `gird import`; answers how long it took and its peak resident memory (KiB).
async fn run_import(binary: &Path, args: &[&str], records: u64) -> anyhow::Result<(Duration, u64)> {
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("starting gird import")?;
    let pid = child.id().unwrap_or(0);
    let mut peak = 0;
    let status = loop {
        if let Some(memory) = Memory::of_process(pid) {
            peak = peak.max(memory.peak_resident_kib);
        }
        tokio::select! {
            status = child.wait() => break status?,
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    };
    let elapsed = started.elapsed();
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        tokio::io::AsyncReadExt::read_to_string(&mut out, &mut stdout).await?;
    }
    if !status.success() || !stdout.contains(&format!("(this run: {records} in")) {
        bail!("gird import did not store every record ({status}): {stdout}");
    }
    Ok((elapsed, peak))
}
