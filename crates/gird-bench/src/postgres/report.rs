//! The PostgreSQL benchmark's table: one row per configuration and round.

use std::time::Duration;

use super::observe::WalCounters;
use crate::load::PhaseResult;
use crate::report::{self, millis};

const HEADER: [&str; 13] = [
    "round",
    "config",
    "inserts",
    "errors",
    "inserts/s",
    "p50 ms",
    "p99 ms",
    "gird CPU",
    "pg CPU",
    "bench CPU",
    "ins/fsync",
    "WAL B/ins",
    "gird÷raw",
];
const WIDTHS: [usize; 13] = [5, 7, 8, 6, 9, 7, 7, 8, 7, 9, 9, 9, 8];

pub fn print_header() {
    report::print_aligned(&HEADER.map(str::to_owned), &WIDTHS, 2);
    report::print_rule(&WIDTHS);
}

/// What was seen of one measured phase besides the answers.
#[derive(Default)]
pub struct Observation {
    pub gird_cpu: Option<Duration>,
    pub postgres_cpu: Option<Duration>,
    pub bench_cpu: Option<Duration>,
    pub wal: Option<WalCounters>,
}

pub fn print_row(
    round: &str,
    config: &str,
    result: &PhaseResult,
    seen: &Observation,
    ratio: Option<f64>,
) {
    let inserts = result.ok + result.errors;
    let per_insert = |cpu: Option<Duration>| match cpu {
        Some(cpu) if inserts > 0 => format!("{:.0}", cpu.as_micros() as f64 / inserts as f64),
        _ => String::new(),
    };
    let wal = seen.wal.filter(|_| result.ok > 0);
    report::print_aligned(
        &[
            round.to_owned(),
            config.to_owned(),
            inserts.to_string(),
            result.errors.to_string(),
            format!("{:.0}", result.rate()),
            millis(result.latency.percentile_micros(0.50)),
            millis(result.latency.percentile_micros(0.99)),
            per_insert(seen.gird_cpu),
            per_insert(seen.postgres_cpu),
            per_insert(seen.bench_cpu),
            wal.filter(|wal| wal.syncs > 0)
                .map_or(String::new(), |wal| {
                    format!("{:.1}", result.ok as f64 / wal.syncs as f64)
                }),
            wal.map_or(String::new(), |wal| {
                format!("{:.0}", wal.bytes as f64 / result.ok as f64)
            }),
            ratio.map_or(String::new(), |ratio| format!("{ratio:.3}")),
        ],
        &WIDTHS,
        2,
    );
}

pub fn print_legend(raw_batch: u32) {
    println!(
        "CPU columns: µs of CPU time per insert (gird: all instances; pg: the database's \
         backends and PostgreSQL's background processes; bench: this client). Raw latency \
         is per INSERT statement of {raw_batch} rows. ins/fsync and WAL B/ins come from \
         pg_stat_wal, which is server-wide."
    );
}
