//! The rejects file: records the server refused, one per line as they were posted, ready
//! to fix and import; and beside it (its name plus `.txt`) why, one line each, with the
//! line in the rejects file and where the record came from.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::source::Item;

/// The rejects file (records, one per line) and its reasons (`.txt` beside it).
pub struct Rejects {
    pub path: PathBuf,
    files: Option<(std::fs::File, std::fs::File)>,
    lines: u64,
}

impl Rejects {
    pub fn new(path: PathBuf) -> Rejects {
        Rejects {
            path,
            files: None,
            lines: 0,
        }
    }

    pub fn reasons_path(&self) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(".txt");
        PathBuf::from(name)
    }

    pub fn add(&mut self, item: &Item, reason: &str) -> anyhow::Result<()> {
        if self.files.is_none() {
            let open = |path: &Path| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("cannot open {}", path.display()))
            };
            self.lines = std::fs::read(&self.path)
                .map(|bytes| bytes.iter().filter(|b| **b == b'\n').count() as u64)
                .unwrap_or(0);
            self.files = Some((open(&self.path)?, open(&self.reasons_path())?));
        }
        let (records, reasons) = self.files.as_mut().expect("opened above");
        // A record goes to the rejects file; what is not one is named by its origin only.
        let (number, id) = match &item.record {
            Ok(record) => {
                records.write_all(record.body())?;
                records.write_all(b"\n")?;
                self.lines += 1;
                let id = record.id().map(|id| format!(" (id {id:?})"));
                (format!("{}: ", self.lines), id.unwrap_or_default())
            }
            Err(_) => (String::new(), String::new()),
        };
        writeln!(reasons, "{number}{}{id}: {reason}", item.origin)?;
        Ok(())
    }

    pub fn finish(&mut self) -> anyhow::Result<()> {
        if let Some((records, reasons)) = &mut self.files {
            records.flush()?;
            reasons.flush()?;
        }
        Ok(())
    }

    /// The rejects file and its reasons, if either is there (a run of this import wrote
    /// them, and they were not deleted since).
    pub fn remaining(&self) -> Option<(PathBuf, PathBuf)> {
        let reasons = self.reasons_path();
        (self.path.exists() || reasons.exists()).then(|| (self.path.clone(), reasons))
    }
}
