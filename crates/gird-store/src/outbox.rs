//! The SpeechMiner outbox: deliveries queued in the same transaction as the change they
//! announce, claimed by a worker with a lease, and kept after their last failure.
//!
//! A delivery carries the record as it was after its change (a snapshot), so the
//! receiver sees every change once, in order: a recording's later delivery is not
//! claimed while an earlier one is queued or in flight.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;

use crate::{Removal, StoreError};

/// Where a contact center's records are forwarded, and whether they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverSettings {
    pub url: String,
    pub username: Option<String>,
    /// Sealed by the server; the store never sees the password in clear.
    pub sealed_password: Option<String>,
    pub enabled: bool,
}

/// How both backends keep a delivery's state, in the `state` column.
pub(crate) const QUEUED: i16 = 0;
pub(crate) const IN_FLIGHT: i16 = 1;
pub(crate) const DELIVERED: i16 = 2;
pub(crate) const DEAD: i16 = 3;

/// A delivery is pending (queued or in flight) while its state is below this one; the
/// partial index `outbox_pending` has the same predicate.
pub(crate) const PENDING_BELOW: i16 = DELIVERED;
const _: () = assert!(QUEUED < PENDING_BELOW && IN_FLIGHT < PENDING_BELOW && DEAD > PENDING_BELOW);

/// The deliveries that may be claimed now (`$1`): due, of a contact center that forwards,
/// and with no earlier delivery of the same recording still pending.
pub(crate) static CLAIMABLE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT o.id FROM outbox o JOIN speechminer_receivers s
             ON s.contact_center_id = o.contact_center_id AND s.enabled
         WHERE o.state < {PENDING_BELOW} AND o.due_ms <= $1
           AND NOT EXISTS (SELECT 1 FROM outbox p
                           WHERE p.contact_center_id = o.contact_center_id
                             AND p.recording_id = o.recording_id AND p.id < o.id
                             AND p.state < {PENDING_BELOW})"
    )
});
/// Whether anything may be claimed at `$1`.
pub(crate) static ANY_CLAIMABLE: LazyLock<String> =
    LazyLock::new(|| format!("SELECT EXISTS ({})", CLAIMABLE.as_str()));

/// Claims up to `$3` deliveries at `$1`, leased until `$2`; `lock` ends the choosing
/// subquery (PostgreSQL skips what another instance has locked).
pub(crate) fn claim(lock: &str) -> String {
    format!(
        "UPDATE outbox SET state = {IN_FLIGHT}, attempts = attempts + 1, due_ms = $2,
             updated_ms = $1
         WHERE id IN ({} ORDER BY o.id LIMIT $3{lock})
         RETURNING id, contact_center_id, recording_id, body, attempts",
        CLAIMABLE.as_str()
    )
}

/// How an attempt ends, for delivery `$1` if it is still in flight. Delivered: `$2` now.
pub(crate) static FINISH_DELIVERED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE outbox SET state = {DELIVERED}, body = NULL, last_error = NULL, updated_ms = $2
         WHERE id = $1 AND state = {IN_FLIGHT}"
    )
});
/// Retry: `$2` when, `$3` the error, `$4` now.
pub(crate) static FINISH_RETRY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE outbox SET state = {QUEUED}, due_ms = $2, last_error = $3, updated_ms = $4
         WHERE id = $1 AND state = {IN_FLIGHT}"
    )
});
/// Dead: `$2` the error, `$3` now.
pub(crate) static FINISH_DEAD: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE outbox SET state = {DEAD}, last_error = $2, updated_ms = $3
         WHERE id = $1 AND state = {IN_FLIGHT}"
    )
});
/// Queues contact center `$1`'s dead letters again, due at `$2`.
pub(crate) static REPOST_DEAD_LETTERS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE outbox SET state = {QUEUED}, attempts = 0, due_ms = $2, updated_ms = $2
         WHERE contact_center_id = $1 AND state = {DEAD}"
    )
});
/// What a [`DeliveryRecord`] is read from, in its order.
const RECORD_COLUMNS: &str = "id, recording_id, state, attempts, last_error, queued_ms, updated_ms";
/// The latest delivery of recording `$2` of contact center `$1`.
pub(crate) static LATEST: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {RECORD_COLUMNS} FROM outbox WHERE contact_center_id = $1 AND recording_id = $2
         ORDER BY id DESC LIMIT 1"
    )
});
/// Up to `$2` of contact center `$1`'s dead letters, oldest first.
pub(crate) static DEAD_LETTERS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {RECORD_COLUMNS} FROM outbox WHERE contact_center_id = $1 AND state = {DEAD}
         ORDER BY queued_ms, id LIMIT $2"
    )
});
/// Every delivery of recording `$2` of contact center `$1` (it is deleted).
pub(crate) const FORGET_RECORDING: &str =
    "DELETE FROM outbox WHERE contact_center_id = $1 AND recording_id = $2";

/// Makes a contact center's pending deliveries (queued or retrying, not in flight) due
/// now at the latest: after a repost or a receiver change, nothing waits out a backoff
/// earned from a receiver that is fixed now. `$1` contact center, `$2` now; narrowed by
/// [`FOR_RECORDING`] or [`FOR_RANGE`]. The same SQL for both backends.
pub(crate) const DUE_NOW: &str =
    "UPDATE outbox SET due_ms = CASE WHEN due_ms > $2 THEN $2 ELSE due_ms END
     WHERE contact_center_id = $1 AND state = 0";
/// `$3` the recording.
pub(crate) const FOR_RECORDING: &str = " AND recording_id = $3";
/// `$3`..`$4` the start instants.
pub(crate) const FOR_RANGE: &str = " AND recording_id IN (SELECT id FROM recordings
     WHERE contact_center_id = $1 AND start_ms >= $3 AND start_ms < $4)";
/// Appended to a queueing `SELECT ... FROM recordings r`: only recordings with no pending
/// delivery (one pending already carries the latest state, see [`DUE_NOW`]).
pub(crate) const NOTHING_PENDING: &str = " AND NOT EXISTS (SELECT 1 FROM outbox o
     WHERE o.contact_center_id = r.contact_center_id AND o.recording_id = r.id AND o.state = 0)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Queued,
    InFlight,
    Delivered,
    /// Failed `maxAttempts` times; kept with its last error until reposted.
    Dead,
}

impl DeliveryState {
    pub(crate) fn from_column(state: i16) -> DeliveryState {
        match state {
            QUEUED => DeliveryState::Queued,
            IN_FLIGHT => DeliveryState::InFlight,
            DELIVERED => DeliveryState::Delivered,
            _ => DeliveryState::Dead,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::InFlight => "inFlight",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "failed",
        }
    }
}

/// A claimed delivery: post `body` to the contact center's receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub contact_center: String,
    pub recording_id: String,
    /// The record as it was after the change, in the shape clients post.
    pub body: String,
    /// 1 for the first attempt.
    pub attempt: u32,
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    Delivered,
    /// Try again at `at_ms` (milliseconds since the epoch).
    Retry {
        at_ms: i64,
        error: String,
    },
    /// Give up: kept as a dead letter.
    Dead {
        error: String,
    },
}

/// What to queue again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repost {
    /// The recording as it is now.
    Recording(String),
    /// Every recording starting in `[from_ms, to_ms)`, as it is now.
    StartedBetween { from_ms: i64, to_ms: i64 },
    /// Every dead letter, with its attempts counted from zero again.
    DeadLetters,
}

/// Counts of the queue, for one contact center or all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxStatus {
    pub queued: u64,
    /// Queued after at least one failed attempt.
    pub retrying: u64,
    pub in_flight: u64,
    pub failed: u64,
    pub delivered: u64,
    /// When the oldest delivery not yet made was queued (milliseconds since the epoch).
    pub oldest_pending_ms: Option<i64>,
}

impl OutboxStatus {
    /// Adds one row of a `GROUP BY state` count.
    pub(crate) fn add(&mut self, state: i16, count: u64, retried: u64, oldest_queued_ms: i64) {
        match DeliveryState::from_column(state) {
            DeliveryState::Queued => {
                self.queued = count;
                self.retrying = retried;
            }
            DeliveryState::InFlight => self.in_flight = count,
            DeliveryState::Delivered => self.delivered = count,
            DeliveryState::Dead => self.failed = count,
        }
        if matches!(state, QUEUED | IN_FLIGHT) {
            self.oldest_pending_ms = Some(
                self.oldest_pending_ms
                    .map_or(oldest_queued_ms, |known| known.min(oldest_queued_ms)),
            );
        }
    }
}

/// The latest delivery of one recording, or a dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: i64,
    pub recording_id: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub queued_ms: i64,
    pub updated_ms: i64,
}

/// SpeechMiner forwarding: each contact center's receiver and the outbox of deliveries
/// (see the module documentation).
#[async_trait]
pub trait OutboxStore: Send + Sync {
    // SpeechMiner forwarding: see [`outbox`].
    /// Answers false when the contact center does not exist.
    async fn put_receiver(
        &self,
        contact_center: &str,
        settings: ReceiverSettings,
    ) -> Result<bool, StoreError>;

    async fn receiver(&self, contact_center: &str) -> Result<Option<ReceiverSettings>, StoreError>;

    async fn delete_receiver(&self, contact_center: &str) -> Result<Removal, StoreError>;

    /// Whether a delivery can be claimed now: a read, to spare a write when none can.
    async fn deliveries_due(&self, now_ms: i64) -> Result<bool, StoreError>;

    /// Claims up to `limit` due deliveries, each leased until `lease_until_ms`: if it is
    /// not finished by then, it is claimed again (by this or another instance).
    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError>;

    async fn finish_delivery(
        &self,
        id: i64,
        result: AttemptResult,
        now_ms: i64,
    ) -> Result<(), StoreError>;

    /// Makes deliveries that a process which died left in flight due at once, where one
    /// process owns the database (SQLite); elsewhere their leases run out by themselves.
    async fn release_deliveries(&self, now_ms: i64) -> Result<(), StoreError>;

    /// Queues deliveries again; answers how many.
    async fn repost(
        &self,
        contact_center: &str,
        what: Repost,
        now_ms: i64,
    ) -> Result<u64, StoreError>;

    /// Counts for one contact center, or all of them.
    async fn outbox_status(&self, contact_center: Option<&str>)
        -> Result<OutboxStatus, StoreError>;

    /// The latest delivery of a recording.
    async fn latest_delivery(
        &self,
        contact_center: &str,
        id: &str,
    ) -> Result<Option<DeliveryRecord>, StoreError>;

    /// The oldest dead letters of a contact center.
    async fn dead_letters(
        &self,
        contact_center: &str,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError>;

    /// Notified after a change of this process queued a delivery.
    fn deliveries_queued(&self) -> Arc<tokio::sync::Notify>;
}
