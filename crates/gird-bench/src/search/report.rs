//! The search benchmark's table: per query kind, latency next to the baseline read's,
//! then the slowest request of each kind and the verdict.

use super::measure::Totals;
use super::SearchOptions;
use crate::report::{millis, verdict_line};
use crate::server::Memory;

pub const TARGET_P95_MS: f64 = 50.0;

pub fn print(options: &SearchOptions, totals: &[Totals], memory: Option<Memory>) {
    let baseline_p95 = totals[0].latency.percentile_micros(0.95);
    println!();
    println!(
        "{:<32} {:>7} {:>6} {:>8} {:>8} {:>8} {:>8} {:>9} {:>11}",
        "query", "queries", "errors", "results", "p50 ms", "p95 ms", "p99 ms", "max ms", "p95÷base"
    );
    println!("{}", "-".repeat(106));
    for row in totals {
        let p95 = row.latency.percentile_micros(0.95);
        let ratio = match (row.kind, p95, baseline_p95) {
            (Some(_), Some(p95), Some(base)) if base > 0 => {
                format!("{:.1}", p95 as f64 / base as f64)
            }
            _ => String::new(),
        };
        let results = match row.kind {
            Some(_) if row.ok > 0 => format!("{:.1}", row.results as f64 / row.ok as f64),
            _ => String::new(),
        };
        println!(
            "{:<32} {:>7} {:>6} {:>8} {:>8} {:>8} {:>8} {:>9} {:>11}",
            row.label(),
            row.ok + row.errors,
            row.errors,
            results,
            millis(row.latency.percentile_micros(0.50)),
            millis(p95),
            millis(row.latency.percentile_micros(0.99)),
            millis(row.latency.max_micros()),
            ratio
        );
    }
    println!(
        "(results: average per answer, at most {} a page; errors include the warm-up)",
        options.limit
    );
    println!();
    println!("slowest request of each kind:");
    for row in totals {
        if let Some((latency, path)) = &row.slowest {
            println!(
                "  {:>9.2} ms  {:<32} GET {path}",
                latency.as_secs_f64() * 1000.0,
                row.label()
            );
        }
    }
    if let Some(memory) = memory {
        println!(
            "gird memory after the searches: VmRSS {:.1} MiB, VmHWM (peak) {:.1} MiB",
            crate::report::mib(memory.resident_kib),
            crate::report::mib(memory.peak_resident_kib)
        );
    }
    println!();
    println!("verdict (targets are informational):");
    for row in totals {
        let Some(kind) = row.kind.filter(|kind| kind.has_target()) else {
            continue;
        };
        let p95 = row
            .latency
            .percentile_micros(0.95)
            .map(|micros| micros as f64 / 1000.0);
        verdict_line(
            &format!("{} p95 <= {TARGET_P95_MS:.0} ms", &kind.label()[..3]),
            p95.map(|ms| format!("{ms:.2} ms")),
            p95.map(|ms| ms <= TARGET_P95_MS),
            &kind.label()[4..],
        );
    }
}
