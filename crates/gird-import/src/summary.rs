//! What an import did, printed when it ends, and the exit code that goes with it.

use std::path::PathBuf;
use std::time::Duration;

use crate::journal::Counts;

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// How the records this run finished went.
    pub run: Counts,
    /// How every record of the import went, earlier runs included (per the journal).
    pub total: Counts,
    /// Already done by an earlier run, per the journal.
    pub skipped: u64,
    /// Records checked by a dry run that the server would refuse.
    pub invalid: u64,
    /// Records checked by a dry run that pass.
    pub valid: u64,
    /// Records of a dry run whose media ids were not remembered (too many ids).
    pub media_ids_unchecked: u64,
    /// Stopped by Ctrl-C, or by a server that stayed unreachable: run it again.
    pub interrupted: Option<String>,
    /// Stopped because every record would fail (credentials, contact center, feature).
    pub failed: Option<String>,
    /// The rejected records and their reasons, while either file is there.
    pub rejects: Option<(PathBuf, PathBuf)>,
    /// Entries a WebDAV listing named outside `--webdav`, not followed.
    pub not_followed: u64,
}

impl Summary {
    /// 1 when every record would fail, 4 when stopped before the end, 3 while rejected
    /// records remain (their files are there) or records are invalid (dry run), else 0.
    pub fn exit_code(&self) -> i32 {
        if self.failed.is_some() {
            1
        } else if self.interrupted.is_some() {
            4
        } else if self.invalid > 0 || (self.total.rejected > 0 && self.rejects.is_some()) {
            3
        } else {
            0
        }
    }

    pub fn print(&self, dry_run: bool, elapsed: Duration) {
        for line in self.lines(dry_run, elapsed) {
            println!("{line}");
        }
    }

    fn lines(&self, dry_run: bool, elapsed: Duration) -> Vec<String> {
        let seconds = elapsed.as_secs_f64().max(0.001);
        let mut lines = Vec::new();
        if self.not_followed > 0 {
            lines.push(format!(
                "gird import: {} entries the WebDAV listings named outside --webdav were not followed (see the warnings)",
                self.not_followed
            ));
        }
        if dry_run {
            lines.push(format!(
                "gird import --dry-run: {} records checked in {seconds:.1} s: {} valid, {} invalid",
                self.valid + self.invalid,
                self.valid,
                self.invalid
            ));
            if self.media_ids_unchecked > 0 {
                lines.push(format!(
                    "gird import --dry-run: the media ids of {} records were not remembered (more than {} in all): a later record using one of them is not reported",
                    self.media_ids_unchecked,
                    crate::dry_run::MEDIA_IDS_CHECKED
                ));
            }
            return lines;
        }
        let total = self.total;
        let unreported = match total.unreported {
            0 => String::new(),
            count => format!(", {count} stored (outcome not reported)"),
        };
        let unrecorded = match total.unrecorded {
            0 => String::new(),
            count => format!(", {count} done by an older gird import (outcome not recorded)"),
        };
        let posted = self.run.total();
        lines.push(format!(
            "gird import: {} records: {} new, {} merged, {} unchanged{unreported}, {} rejected{unrecorded} (this run: {posted} in {seconds:.1} s, {:.0} records/s; {} done by an earlier run)",
            total.total(),
            total.new,
            total.merged,
            total.unchanged,
            total.rejected,
            posted as f64 / seconds,
            self.skipped,
        ));
        match (&self.rejects, total.rejected) {
            (_, 0) => {}
            (Some((rejects, reasons)), count) => lines.push(format!(
                "gird import: the {count} rejected records are in {} (reasons in {}): fix them and import that file; this import exits 3 until you delete both files",
                rejects.display(),
                reasons.display()
            )),
            (None, count) => lines.push(format!(
                "gird import: {count} records were rejected; their rejects files are deleted, so they count as handled"
            )),
        }
        if let Some(why) = &self.interrupted {
            lines.push(format!(
                "gird import: stopped: {why}; run the same command again to continue"
            ));
        }
        if let Some(why) = &self.failed {
            lines.push(format!("gird import: stopped: {why}"));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_new_merged_unchanged_and_rejected_records_of_the_whole_import() {
        let summary = Summary {
            run: Counts {
                new: 3,
                merged: 1,
                rejected: 1,
                ..Counts::default()
            },
            total: Counts {
                new: 48_000,
                merged: 1_500,
                unchanged: 1_000,
                rejected: 500,
                ..Counts::default()
            },
            skipped: 50_995,
            rejects: Some(("a.rejects.jsonl".into(), "a.rejects.jsonl.txt".into())),
            ..Summary::default()
        };
        let lines = summary.lines(false, Duration::from_secs(2));
        assert_eq!(
            lines[0],
            "gird import: 51000 records: 48000 new, 1500 merged, 1000 unchanged, 500 rejected (this run: 5 in 2.0 s, 2 records/s; 50995 done by an earlier run)"
        );
        assert!(
            lines[1].contains(
                "the 500 rejected records are in a.rejects.jsonl (reasons in a.rejects.jsonl.txt)"
            ),
            "{}",
            lines[1]
        );
        assert_eq!(summary.exit_code(), 3);
        let handled = Summary {
            rejects: None,
            ..summary.clone()
        };
        assert_eq!(handled.exit_code(), 0, "rejects files deleted");
        let rws = Summary {
            total: Counts {
                unreported: 7,
                ..Counts::default()
            },
            ..Summary::default()
        };
        assert!(rws.lines(false, Duration::from_secs(1))[0]
            .starts_with("gird import: 7 records: 0 new, 0 merged, 0 unchanged, 7 stored (outcome not reported), 0 rejected (this run: 0"));
        assert_eq!(rws.exit_code(), 0);
        let failed = Summary {
            failed: Some("HTTP 401".into()),
            interrupted: Some("Ctrl-C".into()),
            ..summary
        };
        assert_eq!(failed.exit_code(), 1);
    }
}
