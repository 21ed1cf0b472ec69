//! The measured part: a warm-up, then rounds of [baseline reads, each query kind],
//! every phase a fixed list of requests spread over the search clients.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::dataset::{Dataset, SUPERVISOR_NAME};
use super::queries::{self, QueryKind, SearchQuery};
use super::workload::Searches;
use super::SearchOptions;
use crate::histogram::Histogram;
use crate::load::{self, LoadTarget, PhaseEnd, PhaseResult};
use crate::ops::Session;
use crate::server::ServerProcess;

const MEASURED: u64 = 0;
const WARM_UP: u64 = 1;

/// One row of the report: the baseline (`kind` None) or a query kind, all rounds merged.
pub struct Totals {
    pub kind: Option<QueryKind>,
    pub ok: u64,
    pub errors: u64,
    pub results: u64,
    pub latency: Histogram,
    /// The slowest measured request and its path.
    pub slowest: Option<(Duration, String)>,
}

impl Totals {
    fn new(kind: Option<QueryKind>) -> Self {
        Self {
            kind,
            ok: 0,
            errors: 0,
            results: 0,
            latency: Histogram::default(),
            slowest: None,
        }
    }

    pub fn label(&self) -> &'static str {
        self.kind
            .map_or("baseline: GET contact center", QueryKind::label)
    }

    /// Warm-up answers count for errors only, as they must be right too.
    fn add(&mut self, result: &PhaseResult, workload: &Searches, measured: bool) {
        self.errors += result.errors;
        if !measured {
            return;
        }
        self.ok += result.ok;
        self.results += result.results;
        self.latency.merge(&result.latency);
        if let Some((latency, sequence)) = result.slowest {
            if self
                .slowest
                .as_ref()
                .is_none_or(|(slowest, _)| latency > *slowest)
            {
                self.slowest = Some((latency, workload.query(sequence).path.clone()));
            }
        }
    }
}

struct Bench<'a> {
    options: &'a SearchOptions,
    session: &'a Session,
    search_path: String,
    baseline_path: String,
    /// The restricted supervisor's searches: the RWS path, their Basic credentials.
    supervisor_search_path: String,
    supervisor_headers: hyper::HeaderMap,
    dataset: Arc<Dataset>,
}

pub async fn run(
    options: &SearchOptions,
    session: &Session,
    dataset: &Dataset,
    records: u64,
    gird: &mut ServerProcess,
    supervisor_password: &str,
) -> anyhow::Result<Vec<Totals>> {
    let contact_center = &options.gird.contact_center;
    let bench = Bench {
        options,
        session,
        search_path: session.path(&format!(
            "/api/v2/ops/contact-centers/{contact_center}/recordings"
        )),
        baseline_path: session.path(&format!("/api/v2/ops/contact-centers/{contact_center}")),
        supervisor_search_path: session.path("/api/v2/recordings"),
        supervisor_headers: session.headers_as(SUPERVISOR_NAME, supervisor_password)?,
        dataset: Arc::new(Dataset::new(dataset.seed())),
    };
    let draw = |count: u32, purpose: u64| -> Vec<Vec<SearchQuery>> {
        QueryKind::ALL
            .iter()
            .map(|&kind| {
                queries::draw(
                    dataset,
                    records,
                    kind,
                    count as usize,
                    purpose,
                    if kind.as_supervisor() {
                        &bench.supervisor_search_path
                    } else {
                        &bench.search_path
                    },
                    options.limit,
                )
            })
            .collect()
    };
    let mut totals: Vec<Totals> = std::iter::once(None)
        .chain(QueryKind::ALL.map(Some))
        .map(Totals::new)
        .collect();
    println!(
        "searching: {} queries per kind in {} rounds, {} clients, limit {}",
        options.queries, options.rounds, options.clients, options.limit
    );
    if options.warmup_queries > 0 {
        let warm_up = draw(options.warmup_queries, WARM_UP);
        bench
            .round(
                "warm-up",
                &warm_up,
                options.warmup_queries as usize,
                &mut totals,
                false,
            )
            .await?;
        gird.ensure_running()?;
    }
    let measured = draw(options.queries, MEASURED);
    let rounds = options.rounds as usize;
    for round in 0..rounds {
        // The queries of round r are the r-th slice of each kind's list.
        let slice = |queries: &Vec<SearchQuery>| {
            let (start, end) = (
                round * queries.len() / rounds,
                (round + 1) * queries.len() / rounds,
            );
            queries[start..end].to_vec()
        };
        let chunk: Vec<Vec<SearchQuery>> = measured.iter().map(slice).collect();
        let baseline_reads = (round + 1) * options.queries as usize / rounds
            - round * options.queries as usize / rounds;
        let label = format!("round {}/{rounds}", round + 1);
        bench
            .round(&label, &chunk, baseline_reads, &mut totals, true)
            .await?;
        gird.ensure_running()?;
    }
    Ok(totals)
}

impl Bench<'_> {
    /// Baseline reads, then each kind's queries; page two follows this round's one-day `next` links.
    async fn round(
        &self,
        label: &str,
        queries_by_kind: &[Vec<SearchQuery>],
        baseline_reads: usize,
        totals: &mut [Totals],
        measured: bool,
    ) -> anyhow::Result<()> {
        eprintln!("  ... {label}");
        let baseline = Searches::plain_reads(&self.baseline_path, baseline_reads);
        let (baseline, result) = self
            .phase(
                baseline,
                &format!("{label} baseline"),
                &self.session.headers,
            )
            .await?;
        totals[0].add(&result, &baseline, measured);
        let mut day_pages: Vec<SearchQuery> = Vec::new();
        for (position, kind) in QueryKind::ALL.into_iter().enumerate() {
            let queries = match kind {
                QueryKind::DayPageTwo => std::mem::take(&mut day_pages),
                _ => queries_by_kind[position].clone(),
            };
            let mut workload = Searches::new(queries, self.options.limit);
            let mut headers = &self.session.headers;
            if kind.as_supervisor() {
                workload = workload.seen_by_supervisor(self.dataset.clone());
                headers = &self.supervisor_headers;
            }
            let (workload, result) = self
                .phase(workload, &format!("{label} {}", kind.label()), headers)
                .await?;
            if kind == QueryKind::Day {
                day_pages = workload.next_pages();
            }
            totals[position + 1].add(&result, &workload, measured);
        }
        Ok(())
    }

    async fn phase(
        &self,
        workload: Searches,
        label: &str,
        headers: &hyper::HeaderMap,
    ) -> anyhow::Result<(Arc<Searches>, PhaseResult)> {
        let workload = Arc::new(workload);
        if workload.len() == 0 {
            return Ok((workload, PhaseResult::default()));
        }
        let total = workload.len();
        let target = Arc::new(LoadTarget {
            authority: self.session.authority.clone(),
            headers: headers.clone(),
            workload: workload.clone(),
            sequence: Arc::new(AtomicU64::new(0)),
        });
        let progress = |done: u64, elapsed: Duration| {
            eprintln!(
                "  ... {label}: {done}/{total} in {:.0} s",
                elapsed.as_secs_f64()
            );
        };
        let result = load::run_phase(
            target,
            self.options.clients,
            PhaseEnd::Requests(total as u64),
            Some(&progress),
        )
        .await
        .with_context(|| label.to_owned())?;
        if self.options.gird.verbose {
            eprintln!(
                "  ... {label}: {} ok, {} errors, p50 {} ms in {:.1} s",
                result.ok,
                result.errors,
                crate::report::millis(result.latency.percentile_micros(0.5)),
                result.elapsed.as_secs_f64()
            );
        }
        for sample in &result.error_samples {
            eprintln!("  {label}: error: {sample}");
        }
        Ok((workload, result))
    }
}
