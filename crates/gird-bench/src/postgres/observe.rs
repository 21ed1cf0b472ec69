//! Where a phase's time goes on the PostgreSQL side: CPU of the server processes,
//! WAL written and flushed, and what the database's backends were doing, sampled
//! from `pg_stat_activity`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_postgres::Client;

use crate::server::process_cpu_time;

const SAMPLE_EVERY: Duration = Duration::from_millis(50);

/// CPU time of every local `postgres` process at one moment.
pub struct PostgresCpu {
    before: HashMap<u32, Duration>,
}

impl PostgresCpu {
    pub fn snapshot() -> Self {
        Self {
            before: postgres_processes(),
        }
    }

    /// CPU used since the snapshot by the backends of `database` and the server's
    /// background processes (WAL writer, checkpointer, autovacuum, ...); `None`
    /// when the server does not run on this machine.
    pub async fn since(
        &self,
        monitor: &Client,
        database: &str,
    ) -> anyhow::Result<Option<Duration>> {
        let now = postgres_processes();
        if now.is_empty() {
            return Ok(None);
        }
        let rows = monitor
            .query(
                "SELECT pid FROM pg_stat_activity
                 WHERE datname = $1 OR (backend_type <> 'client backend' AND datname IS NULL)",
                &[&database],
            )
            .await?;
        let mut total = Duration::ZERO;
        for row in rows {
            let pid = row.get::<_, i32>(0) as u32;
            if let Some(after) = now.get(&pid) {
                let before = self.before.get(&pid).copied().unwrap_or_default();
                total += after.saturating_sub(before);
            }
        }
        Ok(Some(total))
    }
}

fn postgres_processes() -> HashMap<u32, Duration> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return HashMap::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let name = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            (name.trim_end() == "postgres").then_some(())?;
            Some((pid, process_cpu_time(pid)?))
        })
        .collect()
}

/// Cluster-wide WAL counters (`pg_stat_wal`).
#[derive(Clone, Copy)]
pub struct WalCounters {
    pub syncs: i64,
    pub bytes: i64,
}

impl WalCounters {
    pub async fn read(monitor: &Client) -> anyhow::Result<Self> {
        let row = monitor
            .query_one("SELECT wal_sync, wal_bytes::bigint FROM pg_stat_wal", &[])
            .await
            .context("reading pg_stat_wal")?;
        Ok(Self {
            syncs: row.get(0),
            bytes: row.get(1),
        })
    }

    pub fn since(self, before: WalCounters) -> WalCounters {
        WalCounters {
            syncs: self.syncs - before.syncs,
            bytes: self.bytes - before.bytes,
        }
    }
}

/// Backends of one database by state and wait event, summed over the samples.
#[derive(Default, Clone)]
pub struct WaitTally {
    samples: u64,
    backends: BTreeMap<String, u64>,
}

impl WaitTally {
    pub fn merge(&mut self, other: &WaitTally) {
        self.samples += other.samples;
        for (key, count) in &other.backends {
            *self.backends.entry(key.clone()).or_default() += count;
        }
    }

    /// The `limit` most frequent states, each with its average number of backends.
    pub fn busiest(&self, limit: usize) -> Vec<(String, f64)> {
        let mut all: Vec<(String, f64)> = self
            .backends
            .iter()
            .map(|(key, count)| (key.clone(), *count as f64 / self.samples.max(1) as f64))
            .collect();
        all.sort_by(|left, right| right.1.total_cmp(&left.1));
        all.truncate(limit);
        all
    }

    pub fn samples(&self) -> u64 {
        self.samples
    }
}

/// Samples `pg_stat_activity` every 50 ms until finished.
pub struct WaitSampler {
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<WaitTally>>,
}

impl WaitSampler {
    pub fn start(monitor: Arc<Client>, database: String) -> Self {
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut tally = WaitTally::default();
            let mut ticker = tokio::time::interval(SAMPLE_EVERY);
            loop {
                tokio::select! {
                    _ = &mut stopped => return Ok(tally),
                    _ = ticker.tick() => sample(&monitor, &database, &mut tally).await?,
                }
            }
        });
        Self { stop, task }
    }

    pub async fn finish(self) -> anyhow::Result<WaitTally> {
        let _ = self.stop.send(());
        self.task.await.context("the wait sampler panicked")?
    }
}

async fn sample(monitor: &Client, database: &str, tally: &mut WaitTally) -> anyhow::Result<()> {
    let rows = monitor
        .query(
            "SELECT coalesce(state, '?'), wait_event_type, wait_event FROM pg_stat_activity
             WHERE datname = $1 AND backend_type = 'client backend'",
            &[&database],
        )
        .await
        .context("sampling pg_stat_activity")?;
    tally.samples += 1;
    for row in rows {
        let state: String = row.get(0);
        let event = match (
            row.get::<_, Option<String>>(1),
            row.get::<_, Option<String>>(2),
        ) {
            (Some(kind), Some(name)) => format!("{kind}:{name}"),
            _ => "on CPU".to_owned(),
        };
        *tally
            .backends
            .entry(format!("{state} {event}"))
            .or_default() += 1;
    }
    Ok(())
}
