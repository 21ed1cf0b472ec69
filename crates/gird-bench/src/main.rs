//! gird's benchmarks. `insert` (the default): gird against a no-op HTTP handler,
//! measured in interleaved rounds so that a noisy machine shows up in both numbers and
//! cancels out of their ratio. `search`: search latency over a populated database,
//! against a trivial authenticated read on the same server. `postgres`: gird with
//! several instances on one PostgreSQL database, against raw batched INSERTs.
//! `playback`: decrypted playback of an encrypted recording against plain playback of
//! the same file.

mod bench;
mod body;
mod histogram;
mod import;
mod launch;
mod load;
mod noop;
mod ops;
mod playback;
mod postgres;
mod report;
mod search;
mod server;
mod soak;
mod storage;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "gird-bench",
    about = "gird benchmarks: inserts against a no-op HTTP handler (the default), or search latency",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    options: BenchOptions,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Insert benchmark: gird against a no-op HTTP handler (also what runs without a subcommand).
    Insert(BenchOptions),
    /// Search benchmark: populate a database, then time searches against a trivial read.
    Search(search::SearchOptions),
    /// PostgreSQL benchmark: gird with 1, 2, 4 instances on one database against raw batched INSERTs.
    Postgres(postgres::PostgresOptions),
    /// Import benchmark: `gird import` of a JSON Lines file against the insert benchmark on the same server.
    Import(import::ImportOptions),
    /// Playback benchmark: decrypted playback of an encrypted recording against plain playback of the same file.
    Playback(playback::PlaybackOptions),
    /// Soak test: a share of the maximum insert rate, with searches, for a long time.
    Soak(soak::SoakOptions),
    /// Fault test: SIGKILL gird (and restart the database) again and again under load, then count what was lost.
    Faults(soak::FaultOptions),
    /// Storage ceiling: gird's SQLite store in-process, no HTTP, against the no-op HTTP handler.
    Storage(storage::StorageOptions),
    /// The no-op baseline server; started by the benchmark itself.
    #[command(hide = true)]
    Noop {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
}

/// What every subcommand needs to start and drive gird.
#[derive(Args, Debug, Clone)]
pub struct GirdArgs {
    /// The gird binary [default: `gird` next to this executable].
    #[arg(long, env = "GIRD_BENCH_GIRD_BIN")]
    pub gird_bin: Option<PathBuf>,
    /// Extra argument for `gird serve` (repeatable), e.g. --gird-arg=--database=postgres://...
    #[arg(long = "gird-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub gird_args: Vec<String>,
    /// Contact center the records go to; created if it does not exist.
    #[arg(long, default_value = "bench")]
    pub contact_center: String,
    /// Show gird's standard error and extra progress.
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Args, Debug, Clone)]
pub struct BenchOptions {
    /// Concurrent keep-alive connections, one request at a time on each.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub connections: u32,
    /// Measured rounds; each is one no-op phase followed by one gird phase.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rounds: u32,
    /// Length of each measured phase (the no-op phases always, gird's unless --inserts).
    #[arg(long, default_value_t = 5.0, value_parser = positive_seconds)]
    pub seconds: f64,
    /// Fixed number of inserts per gird round instead of --seconds.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub inserts: Option<u64>,
    /// Warm-up length for each server before the first round (0 to skip).
    #[arg(long, default_value_t = 2.0, value_parser = non_negative_seconds)]
    pub warmup_seconds: f64,
    /// Keep gird's data in DIR instead of a temporary folder that is deleted at the end.
    #[arg(long, value_name = "DIR")]
    pub keep_data: Option<PathBuf>,
    /// Benchmark an already running server at this base URL instead of starting gird.
    #[arg(long, value_name = "URL", requires = "password")]
    pub target: Option<String>,
    /// Ops user for --target.
    #[arg(long, default_value = "ops", env = "GIRD_BENCH_USER")]
    pub user: String,
    /// Ops password for --target.
    #[arg(long, env = "GIRD_BENCH_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    #[command(flatten)]
    pub gird: GirdArgs,
}

impl BenchOptions {
    pub fn phase_length(&self) -> Duration {
        Duration::from_secs_f64(self.seconds)
    }

    pub fn warmup_length(&self) -> Duration {
        Duration::from_secs_f64(self.warmup_seconds)
    }
}

pub fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 => Ok(value),
        _ => Err(format!("{text:?} is not a positive number of seconds")),
    }
}

pub fn non_negative_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value),
        _ => Err(format!("{text:?} is not a number of seconds >= 0")),
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::Noop { listen }) => noop::run(listen).map(|()| bench::Outcome::Clean),
        Some(Command::Insert(options)) => bench::run(options),
        Some(Command::Search(options)) => search::run(options),
        Some(Command::Postgres(options)) => postgres::run(options),
        Some(Command::Import(options)) => import::run(options),
        Some(Command::Playback(options)) => playback::run(options),
        Some(Command::Soak(options)) => soak::soak(options),
        Some(Command::Faults(options)) => soak::faults(options),
        Some(Command::Storage(options)) => storage::run(options),
        None => bench::run(cli.options),
    };
    // Exit only here, after every child and temporary folder has been dropped.
    match outcome {
        Ok(bench::Outcome::Clean) => std::process::ExitCode::SUCCESS,
        Ok(bench::Outcome::RequestErrors) => std::process::ExitCode::from(1),
        Err(error) => {
            eprintln!("gird-bench: error: {error:#}");
            std::process::ExitCode::from(2)
        }
    }
}
