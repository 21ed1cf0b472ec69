//! Filling the database, and the marker file that lets a later run reuse it: which
//! seed and how many records a data folder holds.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::{json, Value};

use super::dataset::Dataset;
use super::SearchOptions;
use crate::load::{self, Inserts, LoadTarget, PhaseEnd, PhaseResult};
use crate::ops::Session;

const MARKER_FILE: &str = "gird-bench-search.json";
/// Bump whenever the generator's output changes: a kept database then no longer
/// matches the queries drawn for it and must be rebuilt.
/// 2: access groups and partitions.
const GENERATOR_VERSION: u64 = 2;

#[derive(Debug, PartialEq, Eq)]
pub struct Marker {
    pub seed: u64,
    pub records: u64,
    pub contact_center: String,
}

impl Marker {
    fn file(data_dir: &Path) -> PathBuf {
        data_dir.join(MARKER_FILE)
    }

    pub fn read(data_dir: &Path) -> anyhow::Result<Option<Self>> {
        let file = Self::file(data_dir);
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error).with_context(|| format!("reading {}", file.display())),
        };
        let value: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", file.display()))?;
        if value["generator"] != GENERATOR_VERSION {
            bail!(
                "{} was populated by another version of the record generator; use a new folder",
                data_dir.display()
            );
        }
        let field = |name: &str| {
            value[name]
                .as_u64()
                .with_context(|| format!("{}: no {name}", file.display()))
        };
        Ok(Some(Self {
            seed: field("seed")?,
            records: field("records")?,
            contact_center: value["contactCenter"]
                .as_str()
                .with_context(|| format!("{}: no contactCenter", file.display()))?
                .to_owned(),
        }))
    }

    pub fn write(&self, data_dir: &Path) -> anyhow::Result<()> {
        let file = Self::file(data_dir);
        let text = json!({
            "generator": GENERATOR_VERSION,
            "seed": self.seed,
            "records": self.records,
            "contactCenter": self.contact_center,
        });
        std::fs::write(&file, format!("{text:#}\n"))
            .with_context(|| format!("writing {}", file.display()))
    }
}

/// What a run works with: the seed, the records already in the folder, the records
/// it must hold before the searches start.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    pub seed: u64,
    pub present: u64,
    pub wanted: u64,
}

impl Plan {
    pub fn decide(
        options: &SearchOptions,
        marker: Option<&Marker>,
        folder: &Path,
    ) -> anyhow::Result<Self> {
        if let Some(marker) = marker {
            if marker.contact_center != options.gird.contact_center {
                bail!(
                    "{} holds contact center {:?}, not {:?}",
                    folder.display(),
                    marker.contact_center,
                    options.gird.contact_center
                );
            }
        }
        match (marker, options.reuse_data.is_some()) {
            (Some(marker), true) => Ok(Self {
                seed: marker.seed,
                present: marker.records,
                wanted: marker.records,
            }),
            (None, true) => bail!(
                "{} holds no populated search benchmark ({MARKER_FILE} is missing); \
                 populate it first with --keep-data",
                folder.display()
            ),
            (Some(marker), false) if marker.seed != options.seed => bail!(
                "{} holds records of seed {}; pass --seed {} or use another folder",
                folder.display(),
                marker.seed,
                marker.seed
            ),
            (Some(marker), false) => Ok(Self {
                seed: marker.seed,
                present: marker.records,
                wanted: marker.records.max(options.records),
            }),
            (None, false) => Ok(Self {
                seed: options.seed,
                present: 0,
                wanted: options.records,
            }),
        }
    }
}

/// Inserts records `plan.present..plan.wanted` over `connections` connections.
pub async fn insert_missing(
    session: &Session,
    options: &SearchOptions,
    dataset: Arc<Dataset>,
    plan: &Plan,
) -> anyhow::Result<PhaseResult> {
    let missing = plan.wanted - plan.present;
    let target = Arc::new(LoadTarget {
        authority: session.authority.clone(),
        headers: session.headers.clone(),
        workload: Arc::new(Inserts {
            path: session.insert_path(&options.gird.contact_center),
            bodies: dataset,
        }),
        // The sequence is the record index, so the run continues where the last stopped.
        sequence: Arc::new(AtomicU64::new(plan.present)),
    });
    let progress = |done: u64, elapsed: Duration| {
        eprintln!(
            "  ... populating: {done}/{missing} records in {:.0} s ({:.0}/s)",
            elapsed.as_secs_f64(),
            done as f64 / elapsed.as_secs_f64()
        );
    };
    let result = load::run_phase(
        target,
        options.connections,
        PhaseEnd::Requests(missing),
        Some(&progress),
    )
    .await
    .context("populating")?;
    for sample in &result.error_samples {
        eprintln!("  populating: error: {sample}");
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        options: SearchOptions,
    }

    fn options(args: &[&str]) -> SearchOptions {
        let mut all = vec!["search"];
        all.extend(args);
        Wrapper::parse_from(all).options
    }

    fn marker(seed: u64, records: u64) -> Marker {
        Marker {
            seed,
            records,
            contact_center: "bench".to_owned(),
        }
    }

    #[test]
    fn marker_round_trips() {
        let folder = tempfile::tempdir().unwrap();
        assert_eq!(Marker::read(folder.path()).unwrap(), None);
        marker(9, 1234).write(folder.path()).unwrap();
        assert_eq!(Marker::read(folder.path()).unwrap(), Some(marker(9, 1234)));
    }

    #[test]
    fn plans() {
        let folder = Path::new("/data");
        let fresh = Plan::decide(&options(&["--records", "50"]), None, folder).unwrap();
        assert_eq!((fresh.seed, fresh.present, fresh.wanted), (1, 0, 50));
        let topped_up =
            Plan::decide(&options(&["--records", "50"]), Some(&marker(1, 20)), folder).unwrap();
        assert_eq!((topped_up.present, topped_up.wanted), (20, 50));
        let larger =
            Plan::decide(&options(&["--records", "5"]), Some(&marker(1, 20)), folder).unwrap();
        assert_eq!((larger.present, larger.wanted), (20, 20));
        let reused = Plan::decide(
            &options(&["--reuse-data", "/data", "--seed", "3"]),
            Some(&marker(2, 20)),
            folder,
        )
        .unwrap();
        assert_eq!((reused.seed, reused.present, reused.wanted), (2, 20, 20));
        assert!(Plan::decide(&options(&["--reuse-data", "/data"]), None, folder).is_err());
        assert!(Plan::decide(&options(&["--seed", "3"]), Some(&marker(2, 20)), folder).is_err());
        assert!(Plan::decide(
            &options(&["--contact-center", "x"]),
            Some(&marker(1, 20)),
            folder
        )
        .is_err());
    }
}
