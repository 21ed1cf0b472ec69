//! What the benchmark prints: one table row per phase, then the summary figures and
//! the verdict against the targets.

use std::time::Duration;

use crate::load::PhaseResult;
use crate::server::Memory;

pub const TARGET_RATIO: f64 = 0.30;
pub const TARGET_P99_MS: f64 = 10.0;
pub const TARGET_CONNECTIONS: u32 = 32;
pub const TARGET_RSS_MIB: f64 = 150.0;

const COLUMNS: usize = 12;
const HEADER: [&str; COLUMNS] = [
    "round",
    "server",
    "requests",
    "errors",
    "req/s",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "max ms",
    "CPU µs/req",
    "gird÷no-op",
    "RSS MiB",
];
const WIDTHS: [usize; COLUMNS] = [7, 6, 9, 7, 9, 7, 7, 7, 8, 10, 10, 8];

pub fn print_table_header() {
    print_cells(HEADER.map(str::to_owned));
    print_rule(&WIDTHS);
}

pub struct Row<'a> {
    pub round: &'a str,
    pub server: &'a str,
    pub result: &'a PhaseResult,
    /// CPU time the server process used during the phase.
    pub server_cpu: Option<Duration>,
    pub ratio: Option<f64>,
    pub memory: Option<Memory>,
}

pub fn print_row(row: &Row) {
    let latency = |quantile: f64| millis(row.result.latency.percentile_micros(quantile));
    print_cells([
        row.round.to_owned(),
        row.server.to_owned(),
        row.result.requests().to_string(),
        row.result.errors.to_string(),
        format!("{:.0}", row.result.rate()),
        latency(0.50),
        latency(0.90),
        latency(0.99),
        millis(row.result.latency.max_micros()),
        cpu_per_request(row.server_cpu, row.result.requests()),
        row.ratio
            .map_or(String::new(), |ratio| format!("{ratio:.3}")),
        row.memory.map_or(String::new(), |memory| {
            format!("{:.1}", mib(memory.resident_kib))
        }),
    ]);
}

fn print_cells(cells: [String; COLUMNS]) {
    print_aligned(&cells, &WIDTHS, 2);
}

/// One table line: the first `left_aligned` cells flush left, the others right.
pub fn print_aligned(cells: &[String], widths: &[usize], left_aligned: usize) {
    let line: Vec<String> = cells
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(column, (cell, &width))| {
            if column < left_aligned {
                format!("{cell:<width$}")
            } else {
                format!("{cell:>width$}")
            }
        })
        .collect();
    println!("{}", line.join("  ").trim_end());
}

/// The rule under a table header of these column widths.
pub fn print_rule(widths: &[usize]) {
    println!(
        "{}",
        "-".repeat(widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1))
    );
}

fn cpu_per_request(cpu: Option<Duration>, requests: u64) -> String {
    match cpu {
        Some(cpu) if requests > 0 => format!("{:.0}", cpu.as_micros() as f64 / requests as f64),
        _ => String::new(),
    }
}

pub fn millis(micros: Option<u64>) -> String {
    micros.map_or("-".to_owned(), |micros| {
        format!("{:.2}", micros as f64 / 1000.0)
    })
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Median of the values; the mean of the middle two for an even count.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    })
}

/// One line of the verdict: PASS or MISS, informational only.
pub fn verdict_line(label: &str, measured: Option<String>, passed: Option<bool>, note: &str) {
    let status = match passed {
        Some(true) => "PASS",
        Some(false) => "MISS",
        None => "n/a ",
    };
    let measured = measured.unwrap_or_else(|| "-".to_owned());
    let note = if note.is_empty() {
        String::new()
    } else {
        format!("  ({note})")
    };
    println!("  {status}  {label:<26} {measured:>10}{note}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_count_is_the_middle_value() {
        assert_eq!(median(&[0.5, 0.1, 0.3]), Some(0.3));
    }

    #[test]
    fn median_of_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn median_ignores_undefined_ratios() {
        assert_eq!(median(&[f64::NAN, 2.0]), Some(2.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn millis_has_two_decimals() {
        assert_eq!(millis(Some(1234)), "1.23");
        assert_eq!(millis(None), "-");
    }
}
