//! The resume journal: which items of a source are finished (acknowledged by the server,
//! or rejected by it), so that running the same import again posts none of them twice.
//!
//! A text file of lines appended as items finish: `done <seq>`, and from time to time
//! `upto <n>` (every item before `n` is finished). Loading it needs memory only for the
//! items finished out of order after the last `upto`, which is at most about `--jobs`.
//! Each line is written as its item finishes, so a killed import loses none.

use std::collections::{BTreeSet, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

const MAGIC: &str = "gird-import-journal v1";
/// How many finished items between two `upto` lines.
const CHECKPOINT_EVERY: u64 = 1_000;

/// What an earlier run finished.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Resume {
    /// Every item before this one is finished.
    pub upto: u64,
    /// Items at or after `upto` that are finished.
    pub done: HashSet<u64>,
}

impl Resume {
    pub fn is_done(&self, seq: u64) -> bool {
        seq < self.upto || self.done.contains(&seq)
    }

    pub fn count(&self) -> u64 {
        self.upto + self.done.len() as u64
    }
}

pub struct Journal {
    path: PathBuf,
    file: File,
    /// Every item before this one is finished.
    upto: u64,
    /// Finished items at or after `upto`.
    ahead: BTreeSet<u64>,
    since_checkpoint: u64,
}

impl Journal {
    /// Opens the journal of the import named `identity`, creating it if needed; answers
    /// what earlier runs finished. A journal of another import is refused.
    pub fn open(path: &Path, identity: &str) -> anyhow::Result<(Journal, Resume)> {
        let resume = match File::open(path) {
            Ok(file) => read(path, file, identity)?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Resume::default(),
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", path.display()))
            }
        };
        // Rewritten compactly, then appended to.
        let compact = path.with_extension("journal-new");
        let mut text = format!("{MAGIC} {identity}\nupto {}\n", resume.upto);
        let mut ahead: Vec<u64> = resume.done.iter().copied().collect();
        ahead.sort_unstable();
        for seq in &ahead {
            text.push_str(&format!("done {seq}\n"));
        }
        std::fs::write(&compact, text)
            .and_then(|()| std::fs::rename(&compact, path))
            .with_context(|| format!("cannot write {}", path.display()))?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let mut journal = Journal {
            path: path.to_owned(),
            file,
            upto: resume.upto,
            ahead: ahead.into_iter().collect(),
            since_checkpoint: 0,
        };
        journal.advance();
        Ok((journal, resume))
    }

    /// Records that the item `seq` is finished.
    pub fn finish(&mut self, seq: u64) -> anyhow::Result<()> {
        self.write(&format!("done {seq}\n"))?;
        if seq >= self.upto {
            self.ahead.insert(seq);
        }
        self.advance();
        self.since_checkpoint += 1;
        if self.since_checkpoint >= CHECKPOINT_EVERY {
            self.checkpoint()?;
        }
        Ok(())
    }

    /// Writes how far the items are all finished.
    pub fn checkpoint(&mut self) -> anyhow::Result<()> {
        self.since_checkpoint = 0;
        self.write(&format!("upto {}\n", self.upto))
    }

    fn advance(&mut self) {
        while self.ahead.remove(&self.upto) {
            self.upto += 1;
        }
    }

    fn write(&mut self, line: &str) -> anyhow::Result<()> {
        self.file
            .write_all(line.as_bytes())
            .with_context(|| format!("cannot write {}", self.path.display()))
    }
}

fn read(path: &Path, file: File, identity: &str) -> anyhow::Result<Resume> {
    let mut text = String::new();
    BufReader::new(file)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {}", path.display()))?;
    // A line without its newline was cut short by a crash: what it said is posted again.
    let mut lines = text
        .split_inclusive('\n')
        .filter(|line| line.ends_with('\n'))
        .map(|line| line.trim_end_matches('\n'));
    let header = lines.next().unwrap_or_default();
    let Some(found) = header.strip_prefix(MAGIC).map(str::trim) else {
        bail!("{} is not a gird import journal", path.display());
    };
    if found != identity {
        bail!(
            "{} is the journal of another import (other target, contact center or source); give another --journal or delete it",
            path.display()
        );
    }
    let mut resume = Resume::default();
    for (index, line) in lines.enumerate() {
        let parse = |text: &str| {
            text.parse::<u64>().with_context(|| {
                format!("{} line {}: {line:?} is damaged", path.display(), index + 2)
            })
        };
        match line.split_once(' ') {
            Some(("done", seq)) => {
                let seq = parse(seq)?;
                if seq >= resume.upto {
                    resume.done.insert(seq);
                }
            }
            Some(("upto", seq)) => {
                let upto = parse(seq)?;
                if upto > resume.upto {
                    resume.upto = upto;
                    resume.done.retain(|seq| *seq >= upto);
                }
            }
            _ => bail!("{} line {}: {line:?} is damaged", path.display(), index + 2),
        }
    }
    while resume.done.remove(&resume.upto) {
        resume.upto += 1;
    }
    Ok(resume)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_items_survive_a_restart_in_little_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.journal");
        let (mut journal, resume) = Journal::open(&path, "id-1").unwrap();
        assert_eq!(resume, Resume::default());
        for seq in [0, 1, 2, 4, 6, 3] {
            journal.finish(seq).unwrap();
        }
        drop(journal);
        let (_, resume) = Journal::open(&path, "id-1").unwrap();
        assert_eq!(resume.upto, 5);
        assert_eq!(resume.done, HashSet::from([6]));
        assert!(resume.is_done(4) && resume.is_done(6) && !resume.is_done(5));
        assert_eq!(resume.count(), 6);
        // Opening compacts: the same state from a shorter file.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "gird-import-journal v1 id-1\nupto 5\ndone 6\n");
    }

    #[test]
    fn checkpoints_keep_the_file_readable_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.journal");
        let (mut journal, _) = Journal::open(&path, "id").unwrap();
        for seq in (0..2_500).rev() {
            journal.finish(seq).unwrap();
        }
        journal.checkpoint().unwrap();
        drop(journal);
        let (_, resume) = Journal::open(&path, "id").unwrap();
        assert_eq!((resume.upto, resume.done.len()), (2_500, 0));
    }

    #[test]
    fn another_imports_journal_or_a_damaged_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.journal");
        drop(Journal::open(&path, "one").unwrap());
        let error = Journal::open(&path, "two").err().unwrap().to_string();
        assert!(error.contains("another import"), "{error}");
        std::fs::write(&path, "something else\n").unwrap();
        assert!(Journal::open(&path, "one").is_err());
        std::fs::write(&path, "gird-import-journal v1 one\ndone x\n").unwrap();
        let error = Journal::open(&path, "one").err().unwrap().to_string();
        assert!(error.contains("damaged"), "{error}");
    }

    #[test]
    fn a_line_cut_short_by_a_crash_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.journal");
        std::fs::write(&path, "gird-import-journal v1 one\ndone 0\ndone 1\ndone 3").unwrap();
        let (_, resume) = Journal::open(&path, "one").unwrap();
        assert_eq!(resume.upto, 2);
    }
}
