//! The resume journal: which items of a source are finished (acknowledged by the server,
//! or rejected by it), so that running the same import again posts none of them twice.
//!
//! A text file of lines appended as items finish: `done <seq> <outcome>` (`new`,
//! `merged`, `unchanged`, `stored` when the server did not say which, or `rejected`), and
//! from time to time `upto <n>` (every item before `n` is finished). Opening it rewrites it
//! compactly, the outcomes so far kept as one `counts ...` line, so that a later run's
//! summary still covers the whole import. Loading it needs memory only for the items
//! finished out of order after the last `upto`, which is at most about `--jobs`. Each line
//! is written as its item finishes, so a killed import loses none. (`done <seq>` without an
//! outcome, as older versions wrote it, counts as finished with its outcome not recorded.)

use std::collections::{BTreeSet, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

const MAGIC: &str = "gird-import-journal v1";
/// How many finished items between two `upto` lines.
const CHECKPOINT_EVERY: u64 = 1_000;

/// How an item finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// The server stored it as a new recording.
    New,
    /// The server merged it into a recording it had.
    Merged,
    /// The server had it already (a retry, or an exact duplicate).
    Unchanged,
    /// The server stored it without saying which of the three (RWS).
    Unreported,
    Rejected,
}

impl Finished {
    fn word(self) -> &'static str {
        match self {
            Finished::New => "new",
            Finished::Merged => "merged",
            Finished::Unchanged => "unchanged",
            Finished::Unreported => "stored",
            Finished::Rejected => "rejected",
        }
    }

    fn from_word(word: &str) -> Option<Finished> {
        [
            Finished::New,
            Finished::Merged,
            Finished::Unchanged,
            Finished::Unreported,
            Finished::Rejected,
        ]
        .into_iter()
        .find(|finished| finished.word() == word)
    }
}

/// How many items finished which way.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub new: u64,
    pub merged: u64,
    pub unchanged: u64,
    pub unreported: u64,
    pub rejected: u64,
    /// Finished, per a journal line of an older version that did not say how.
    pub unrecorded: u64,
}

impl Counts {
    pub fn add(&mut self, finished: Option<Finished>) {
        let count = match finished {
            Some(Finished::New) => &mut self.new,
            Some(Finished::Merged) => &mut self.merged,
            Some(Finished::Unchanged) => &mut self.unchanged,
            Some(Finished::Unreported) => &mut self.unreported,
            Some(Finished::Rejected) => &mut self.rejected,
            None => &mut self.unrecorded,
        };
        *count += 1;
    }

    /// Every item counted.
    pub fn total(&self) -> u64 {
        self.stored() + self.rejected + self.unrecorded
    }

    /// Items the server acknowledged.
    pub fn stored(&self) -> u64 {
        self.new + self.merged + self.unchanged + self.unreported
    }

    fn fields(&mut self) -> [(&'static str, &mut u64); 6] {
        [
            ("new", &mut self.new),
            ("merged", &mut self.merged),
            ("unchanged", &mut self.unchanged),
            ("stored", &mut self.unreported),
            ("rejected", &mut self.rejected),
            ("unrecorded", &mut self.unrecorded),
        ]
    }

    fn line(mut self) -> String {
        let fields: Vec<String> = self
            .fields()
            .into_iter()
            .map(|(name, count)| format!("{name}={count}"))
            .collect();
        format!("counts {}\n", fields.join(" "))
    }

    fn parse(text: &str) -> Option<Counts> {
        let mut counts = Counts::default();
        for pair in text.split(' ') {
            let (name, value) = pair.split_once('=')?;
            let mut fields = counts.fields();
            let (_, count) = fields.iter_mut().find(|(field, _)| *field == name)?;
            **count = value.parse().ok()?;
        }
        Some(counts)
    }
}

/// What an earlier run finished.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Resume {
    /// Every item before this one is finished.
    pub upto: u64,
    /// Items at or after `upto` that are finished.
    pub done: HashSet<u64>,
    /// How they finished.
    pub counts: Counts,
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
    counts: Counts,
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
        // Rewritten compactly, then appended to. The counts line comes last: it replaces
        // what the lines before it counted.
        let compact = path.with_extension("journal-new");
        let mut text = format!("{MAGIC} {identity}\nupto {}\n", resume.upto);
        let mut ahead: Vec<u64> = resume.done.iter().copied().collect();
        ahead.sort_unstable();
        for seq in &ahead {
            text.push_str(&format!("done {seq}\n"));
        }
        text.push_str(&resume.counts.line());
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
            counts: resume.counts,
        };
        journal.advance();
        Ok((journal, resume))
    }

    /// Records that the item `seq` is finished, and how.
    pub fn finish(&mut self, seq: u64, finished: Finished) -> anyhow::Result<()> {
        self.write(&format!("done {seq} {}\n", finished.word()))?;
        self.counts.add(Some(finished));
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

    /// How the items of this import finished, earlier runs included.
    pub fn counts(&self) -> Counts {
        self.counts
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
    let mut counted = false;
    for (index, line) in lines.enumerate() {
        let parse = |text: &str| {
            text.parse::<u64>().with_context(|| {
                format!("{} line {}: {line:?} is damaged", path.display(), index + 2)
            })
        };
        let damaged =
            || anyhow::anyhow!("{} line {}: {line:?} is damaged", path.display(), index + 2);
        match line.split_once(' ') {
            Some(("done", rest)) => {
                let (seq, finished) = match rest.split_once(' ') {
                    Some((seq, word)) => {
                        (seq, Some(Finished::from_word(word).ok_or_else(damaged)?))
                    }
                    None => (rest, None),
                };
                let seq = parse(seq)?;
                resume.counts.add(finished);
                if seq >= resume.upto {
                    resume.done.insert(seq);
                }
            }
            Some(("counts", counts)) => {
                resume.counts = Counts::parse(counts).ok_or_else(damaged)?;
                counted = true;
            }
            Some(("upto", seq)) => {
                let upto = parse(seq)?;
                if upto > resume.upto {
                    resume.upto = upto;
                    resume.done.retain(|seq| *seq >= upto);
                }
            }
            _ => return Err(damaged()),
        }
    }
    while resume.done.remove(&resume.upto) {
        resume.upto += 1;
    }
    // An older version's journal (every one of ours has a counts line from its first
    // opening on) kept no outcomes, and dropped the done lines its `upto` covered.
    if !counted {
        resume.counts = Counts {
            unrecorded: resume.count(),
            ..Counts::default()
        };
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
            journal.finish(seq, Finished::New).unwrap();
        }
        drop(journal);
        let (_, resume) = Journal::open(&path, "id-1").unwrap();
        assert_eq!(resume.upto, 5);
        assert_eq!(resume.done, HashSet::from([6]));
        assert!(resume.is_done(4) && resume.is_done(6) && !resume.is_done(5));
        assert_eq!(resume.count(), 6);
        assert_eq!(resume.counts.new, 6);
        // Opening compacts: the same state from a shorter file.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "gird-import-journal v1 id-1\nupto 5\ndone 6\n\
             counts new=6 merged=0 unchanged=0 stored=0 rejected=0 unrecorded=0\n"
        );
    }

    #[test]
    fn how_items_finished_is_counted_across_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.journal");
        let (mut journal, _) = Journal::open(&path, "id").unwrap();
        let outcomes = [
            Finished::New,
            Finished::New,
            Finished::Merged,
            Finished::Unchanged,
            Finished::Unreported,
            Finished::Rejected,
        ];
        for (seq, finished) in outcomes.into_iter().enumerate() {
            journal.finish(seq as u64, finished).unwrap();
        }
        let expected = Counts {
            new: 2,
            merged: 1,
            unchanged: 1,
            unreported: 1,
            rejected: 1,
            unrecorded: 0,
        };
        assert_eq!(journal.counts(), expected);
        drop(journal);
        // A second run adds to what the first counted, and a third still sees both.
        let (mut journal, resume) = Journal::open(&path, "id").unwrap();
        assert_eq!(resume.counts, expected);
        journal.finish(9, Finished::Rejected).unwrap();
        assert_eq!(journal.counts().rejected, 2);
        drop(journal);
        let (journal, resume) = Journal::open(&path, "id").unwrap();
        assert_eq!((resume.counts.rejected, resume.counts.total()), (2, 7));
        assert_eq!(journal.counts(), resume.counts);
        assert_eq!(resume.done, HashSet::from([9]), "done ahead, not recounted");
    }

    #[test]
    fn an_older_journal_without_outcomes_still_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.journal");
        std::fs::write(
            &path,
            "gird-import-journal v1 one\ndone 0\ndone 1\nupto 2\n",
        )
        .unwrap();
        let (_, resume) = Journal::open(&path, "one").unwrap();
        assert_eq!((resume.upto, resume.counts.unrecorded), (2, 2));
        let (_, again) = Journal::open(&path, "one").unwrap();
        assert_eq!(again.counts, resume.counts);
        // Compacted by an older version: the items its upto covers count too.
        std::fs::write(&path, "gird-import-journal v1 one\nupto 5\ndone 6\n").unwrap();
        let (_, resume) = Journal::open(&path, "one").unwrap();
        assert_eq!(resume.counts.unrecorded, 6);
    }

    #[test]
    fn checkpoints_keep_the_file_readable_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.journal");
        let (mut journal, _) = Journal::open(&path, "id").unwrap();
        for seq in (0..2_500).rev() {
            journal.finish(seq, Finished::Unchanged).unwrap();
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
        for damaged in ["done x", "done 1 lost", "counts new=x", "counts old=1"] {
            std::fs::write(&path, format!("gird-import-journal v1 one\n{damaged}\n")).unwrap();
            let error = Journal::open(&path, "one").err().unwrap().to_string();
            assert!(error.contains("damaged"), "{damaged}: {error}");
        }
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
