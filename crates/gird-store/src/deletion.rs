//! Deleting a recording with its media files: the legal-hold and deletion transitions,
//! decided here once for both backends, and the lease that makes a deletion in progress
//! belong to one request.
//!
//! A deletion with media marks the recording `Deleting` and takes a lease (a random token
//! and an expiry). Only the lease holder can finish it, and it renews the lease before
//! each media file; nothing else can cancel the mark: a hold cannot be applied or removed
//! meanwhile, and a second deletion is refused while the lease is live. When the deleter
//! fails, it releases the lease and the mark stays, so the record never lists deleted
//! files as if nothing happened: deleting it again (with or without its media) finishes.
//! When the deleter dies, its lease runs out and the next deletion takes over.

use crate::LegalHold;

/// The lease of a deletion in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionLease {
    pub token: String,
    pub until_ms: i64,
}

/// What [`crate::Store::begin_deletion`] does, given the state it read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Begin {
    NotFound,
    OnHold,
    /// Another request holds a live lease.
    InProgress,
    /// Mark the recording (again) and take the lease.
    Start,
}

pub(crate) fn begin(state: Option<LegalHold>, lease_until_ms: Option<i64>, now_ms: i64) -> Begin {
    match state {
        None => Begin::NotFound,
        Some(LegalHold::Held) => Begin::OnHold,
        Some(LegalHold::None) => Begin::Start,
        Some(LegalHold::Deleting) => match lease_until_ms {
            Some(until) if until > now_ms => Begin::InProgress,
            _ => Begin::Start,
        },
    }
}

/// What `applyNonDelete` (`hold`) or `removeNonDelete` does to a recording in `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hold {
    NotFound,
    /// A deletion has begun: only finishing it (DELETE again) ends the mark.
    DeletionInProgress,
    Set(LegalHold),
}

pub(crate) fn hold(state: Option<LegalHold>, hold: bool) -> Hold {
    match state {
        None => Hold::NotFound,
        Some(LegalHold::Deleting) => Hold::DeletionInProgress,
        Some(_) if hold => Hold::Set(LegalHold::Held),
        Some(_) => Hold::Set(LegalHold::None),
    }
}

/// The lease [`crate::Store::delete_recording`] takes for its one transaction.
pub(crate) fn immediate(now_ms: i64) -> DeletionLease {
    DeletionLease {
        token: format!("immediate-{now_ms}"),
        until_ms: now_ms + 1,
    }
}

pub(crate) const MIGRATION: &str = "
    CREATE TABLE recording_deletions (
        contact_center_id TEXT NOT NULL,
        recording_id TEXT NOT NULL,
        token TEXT NOT NULL,
        lease_until_ms BIGINT NOT NULL,
        PRIMARY KEY (contact_center_id, recording_id)
    );
";

pub(crate) const LEASE_OF: &str = "SELECT token, lease_until_ms FROM recording_deletions
     WHERE contact_center_id = $1 AND recording_id = $2";
pub(crate) const TAKE: &str =
    "INSERT INTO recording_deletions (contact_center_id, recording_id, token, lease_until_ms)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (contact_center_id, recording_id)
     DO UPDATE SET token = excluded.token, lease_until_ms = excluded.lease_until_ms";
pub(crate) const RENEW: &str = "UPDATE recording_deletions SET lease_until_ms = $4
     WHERE contact_center_id = $1 AND recording_id = $2 AND token = $3";
pub(crate) const RELEASE: &str = "UPDATE recording_deletions SET lease_until_ms = 0
     WHERE contact_center_id = $1 AND recording_id = $2 AND token = $3";
pub(crate) const FORGET: &str =
    "DELETE FROM recording_deletions WHERE contact_center_id = $1 AND recording_id = $2";
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deletion_starts_unless_held_or_leased_by_another() {
        assert_eq!(begin(None, None, 10), Begin::NotFound);
        assert_eq!(begin(Some(LegalHold::Held), None, 10), Begin::OnHold);
        assert_eq!(begin(Some(LegalHold::None), None, 10), Begin::Start);
        assert_eq!(
            begin(Some(LegalHold::Deleting), Some(11), 10),
            Begin::InProgress
        );
        assert_eq!(
            begin(Some(LegalHold::Deleting), Some(10), 10),
            Begin::Start,
            "run out"
        );
        assert_eq!(
            begin(Some(LegalHold::Deleting), Some(0), 10),
            Begin::Start,
            "released"
        );
        assert_eq!(begin(Some(LegalHold::Deleting), None, 10), Begin::Start);
    }

    #[test]
    fn nothing_but_the_deletion_ends_its_mark() {
        assert_eq!(hold(None, true), Hold::NotFound);
        for apply in [true, false] {
            assert_eq!(
                hold(Some(LegalHold::Deleting), apply),
                Hold::DeletionInProgress
            );
        }
        assert_eq!(
            hold(Some(LegalHold::None), true),
            Hold::Set(LegalHold::Held)
        );
        assert_eq!(
            hold(Some(LegalHold::Held), false),
            Hold::Set(LegalHold::None)
        );
    }
}
