//! How many recordings each contact center holds, kept up to date by the writes that
//! create and delete them (never counted per request), and the bounded total of a search.
//! The SQL is the same for both backends.

/// A search's total is counted up to this many matches; beyond, it is "at least".
pub const SEARCH_COUNT_CAP: u64 = 10_000;

pub(crate) const MIGRATION: &str = "
    ALTER TABLE contact_center_stats ADD COLUMN recordings BIGINT NOT NULL DEFAULT 0;
    INSERT INTO contact_center_stats (contact_center_id, max_duration_ms)
        SELECT id, 0 FROM contact_centers
        WHERE id NOT IN (SELECT contact_center_id FROM contact_center_stats);
    UPDATE contact_center_stats SET recordings = (SELECT count(*) FROM recordings r
        WHERE r.contact_center_id = contact_center_stats.contact_center_id);
";

/// `$1` contact center, `$2` the change (+n created, -1 deleted).
pub(crate) const ADD: &str =
    "INSERT INTO contact_center_stats (contact_center_id, max_duration_ms, recordings)
     VALUES ($1, 0, $2)
     ON CONFLICT (contact_center_id)
     DO UPDATE SET recordings = contact_center_stats.recordings + excluded.recordings";

pub(crate) const OF: &str =
    "SELECT recordings FROM contact_center_stats WHERE contact_center_id = $1";
