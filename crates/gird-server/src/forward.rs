//! Forwarding records to SpeechMiner's Interaction Receiver: a worker that drains the
//! outbox (see `gird_store::outbox`).
//!
//! A delivery is claimed with a lease in one short write, posted with no transaction
//! open, and its result written in another. A process that dies mid-delivery leaves a
//! lease that runs out (or, on SQLite, is released when gird starts again), so the
//! delivery is made again: the receiver may see a record twice after a crash, with the
//! same `Idempotency-Key` header both times.

use std::sync::Arc;
use std::time::Duration;

use gird_model::datetime::now_millis;
use gird_model::origin::{loggable_text, same_origin};
use gird_store::{AttemptResult, Delivery, ReceiverSettings, Store};
use rand::Rng;
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::Url;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::egress::{address_refused, describe, Cleared, Destinations, Egress};
use crate::seal::Sealer;
use crate::settings::Forwarding;
use crate::urls::check_service_url;

/// The media-file parameter that names another receiver for its record.
pub const URI_PARAMETER: &str = "rp.speechminer_uri";
/// How often the outbox is looked at when nothing announced a delivery (other instances'
/// deliveries, retries coming due).
const POLL: Duration = Duration::from_secs(1);
/// What a lease adds to the request timeout, for writing the result.
const LEASE_MARGIN: Duration = Duration::from_secs(10);
const IDEMPOTENCY_NAMESPACE: uuid::Uuid = uuid::uuid!("3f1c2d9e-8b7a-4c5d-9e0f-6a7b8c9d0e1f");

/// The running worker; [`Forwarder::stop`] ends it.
pub struct Forwarder {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Forwarder {
    pub fn start(store: Arc<dyn Store>, sealer: Arc<Sealer>, settings: Forwarding) -> Forwarder {
        let timeout = settings.timeout;
        let egress = Egress::new(|builder| builder.connect_timeout(timeout).timeout(timeout));
        let worker = Arc::new(Worker {
            store,
            sealer,
            egress,
            settings,
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(worker.run(stopped));
        Forwarder { stop, task }
    }

    /// Stops claiming and waits for the deliveries under way (each ends within the
    /// request timeout).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

struct Worker {
    store: Arc<dyn Store>,
    sealer: Arc<Sealer>,
    egress: Egress,
    settings: Forwarding,
}

/// Why an attempt failed, and whether another could succeed.
struct Failure {
    error: String,
    permanent: bool,
}

impl Failure {
    fn retry(error: impl Into<String>) -> Failure {
        Failure {
            error: error.into(),
            permanent: false,
        }
    }
}

impl Worker {
    async fn run(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        if let Err(error) = self.store.release_deliveries(now_millis()).await {
            tracing::warn!(%error, "cannot release the deliveries a previous run left in flight");
        }
        let queued = self.store.deliveries_queued();
        let poll = POLL.min(self.settings.initial_backoff.max(Duration::from_millis(20)));
        let mut running = JoinSet::new();
        while !*stopped.borrow() {
            let free = self.settings.concurrency.saturating_sub(running.len());
            if free > 0 {
                match self.claim(free).await {
                    Ok(deliveries) => {
                        for delivery in deliveries {
                            running.spawn(Arc::clone(&self).deliver(delivery));
                        }
                    }
                    Err(error) => tracing::warn!(%error, "cannot claim SpeechMiner deliveries"),
                }
            }
            tokio::select! {
                Some(_) = running.join_next(), if !running.is_empty() => {}
                () = queued.notified() => {}
                () = tokio::time::sleep(poll) => {}
                _ = stopped.changed() => {}
            }
        }
        while running.join_next().await.is_some() {}
    }

    async fn claim(&self, limit: usize) -> Result<Vec<Delivery>, gird_store::StoreError> {
        let now = now_millis();
        if !self.store.deliveries_due(now).await? {
            return Ok(Vec::new());
        }
        let lease = (self.settings.timeout + LEASE_MARGIN).as_millis() as i64;
        self.store.claim_deliveries(now, now + lease, limit).await
    }

    async fn deliver(self: Arc<Self>, delivery: Delivery) {
        let result = match self.attempt(&delivery).await {
            Ok(()) => AttemptResult::Delivered,
            Err(failure) if failure.permanent || delivery.attempt >= self.settings.max_attempts => {
                AttemptResult::Dead {
                    error: failure.error,
                }
            }
            Err(failure) => AttemptResult::Retry {
                at_ms: now_millis() + self.backoff(delivery.attempt).as_millis() as i64,
                error: failure.error,
            },
        };
        match &result {
            AttemptResult::Delivered => tracing::debug!(
                contact_center = delivery.contact_center,
                recording = delivery.recording_id,
                attempt = delivery.attempt,
                "delivered to SpeechMiner"
            ),
            AttemptResult::Retry { error, .. } => tracing::info!(
                contact_center = delivery.contact_center,
                recording = delivery.recording_id,
                attempt = delivery.attempt,
                error,
                "SpeechMiner delivery failed; it will be retried"
            ),
            AttemptResult::Dead { error } => tracing::warn!(
                contact_center = delivery.contact_center,
                recording = delivery.recording_id,
                attempt = delivery.attempt,
                error,
                "SpeechMiner delivery failed for good; kept as a dead letter"
            ),
        }
        // Unwritten, the result is lost with the lease: the delivery is made again.
        for wait in [1, 2, 4] {
            match self
                .store
                .finish_delivery(delivery.id, result.clone(), now_millis())
                .await
            {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(%error, delivery = delivery.id, "cannot record a delivery's result");
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                }
            }
        }
    }

    /// The wait before attempt `attempt + 1`: doubling from the initial backoff up to the
    /// maximum, then a random part of it dropped so that failed deliveries spread out.
    fn backoff(&self, attempt: u32) -> Duration {
        backoff(
            self.settings.initial_backoff,
            self.settings.max_backoff,
            attempt,
            rand::thread_rng().gen_range(0.5..=1.0),
        )
    }

    async fn attempt(&self, delivery: &Delivery) -> Result<(), Failure> {
        let receiver = self
            .store
            .receiver(&delivery.contact_center)
            .await
            .map_err(|error| Failure::retry(error.to_string()))?
            .filter(|receiver| receiver.enabled)
            .ok_or_else(|| Failure::retry("forwarding was turned off for the contact center"))?;
        let (target, with_credentials) = target(&receiver, &delivery.body)?;
        let target = self.clear(delivery, &receiver, target).await?;
        let mut request = self
            .egress
            .request(reqwest::Method::POST, &target)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header("Idempotency-Key", idempotency_key(delivery))
            .header("X-Gird-Delivery-Attempt", delivery.attempt.to_string())
            .body(delivery.body.clone());
        if with_credentials {
            if let Some(username) = &receiver.username {
                request = request.basic_auth(username, self.password(&receiver)?);
            }
        }
        // Errors name the URL without user info or query, and never carry what the
        // receiver wrote: only its status.
        let shown = target.loggable();
        let response = request.send().await.map_err(|error| {
            Failure::retry(if error.is_timeout() {
                format!(
                    "{shown}: no answer within {} s",
                    self.settings.timeout.as_secs()
                )
            } else if let Some(refusal) = address_refused(&error) {
                format!("{shown}: {refusal}")
            } else {
                format!("{shown}: {}", describe(error))
            })
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        Err(Failure::retry(format!(
            "{shown}: HTTP {}",
            status_line(status)
        )))
    }

    /// The target, if the outbound policy lets gird post there: the receiver's origin
    /// always, another origin (a record's `rp.speechminer_uri`) when the contact center
    /// allows it. A refusal is for good: the delivery is a dead letter at once, kept to
    /// be reposted once the origin is allowed.
    async fn clear(
        &self,
        delivery: &Delivery,
        receiver: &ReceiverSettings,
        target: Url,
    ) -> Result<Cleared, Failure> {
        let contact_center = delivery.contact_center.as_str();
        let mut destinations = Destinations::new(contact_center);
        destinations.allow_url(&receiver.url);
        let named = !destinations.allows(&target);
        if named {
            destinations = Destinations::load(self.store.as_ref(), contact_center)
                .await
                .map_err(|error| Failure::retry(error.to_string()))?;
        }
        destinations.clear(target).map_err(|refusal| Failure {
            error: if named {
                format!("mediaFiles[].parameters.{URI_PARAMETER}: {refusal}")
            } else {
                format!("the contact center's receiver: {refusal}")
            },
            permanent: true,
        })
    }

    fn password(&self, receiver: &ReceiverSettings) -> Result<Option<String>, Failure> {
        match &receiver.sealed_password {
            None => Ok(None),
            Some(sealed) => self.sealer.open(sealed).map(Some).ok_or_else(|| {
                Failure::retry("the receiver's password does not open with the storage key")
            }),
        }
    }
}

/// Where the record goes: the URL its first media file names in `rp.speechminer_uri`,
/// else the contact center's receiver. The receiver's credentials go only to its own
/// origin (scheme, host and port), never to another host a record names.
fn target(receiver: &ReceiverSettings, body: &str) -> Result<(Url, bool), Failure> {
    let configured = check_service_url("url", &receiver.url).map_err(|error| Failure {
        error: format!("the contact center's receiver {error}"),
        permanent: false,
    })?;
    let Some(named) = named_receiver(body) else {
        return Ok((configured, true));
    };
    // The URL is the record's: the error shows it without user info or query.
    let named = check_service_url(URI_PARAMETER, &named).map_err(|_| Failure {
        error: format!(
            "mediaFiles[].parameters.{URI_PARAMETER}: {} is not an http(s) URL without user info",
            loggable_text(&named)
        ),
        permanent: true,
    })?;
    let with_credentials = same_origin(&named, &configured);
    Ok((named, with_credentials))
}

fn named_receiver(body: &str) -> Option<String> {
    let record: Value = serde_json::from_str(body).ok()?;
    record
        .get("mediaFiles")?
        .as_array()?
        .iter()
        .find_map(|media| media.get("parameters")?.get(URI_PARAMETER)?.as_str())
        .map(str::to_owned)
}

fn idempotency_key(delivery: &Delivery) -> String {
    let name = format!(
        "{}\n{}\n{}",
        delivery.contact_center, delivery.recording_id, delivery.id
    );
    uuid::Uuid::new_v5(&IDEMPOTENCY_NAMESPACE, name.as_bytes()).to_string()
}

/// `500 Internal Server Error`: the code and its standard reason, never the receiver's
/// own words.
fn status_line(status: reqwest::StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

fn backoff(initial: Duration, max: Duration, attempt: u32, jitter: f64) -> Duration {
    let doublings = attempt.saturating_sub(1).min(30);
    let full = initial.saturating_mul(1 << doublings).min(max);
    full.mul_f64(jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receiver(url: &str) -> ReceiverSettings {
        ReceiverSettings {
            url: url.into(),
            username: Some("u".into()),
            sealed_password: None,
            enabled: true,
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum_and_jitter_shortens_it() {
        let (one, max) = (Duration::from_secs(1), Duration::from_secs(300));
        let waits: Vec<u64> = (1..=11)
            .map(|attempt| backoff(one, max, attempt, 1.0).as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff(one, max, 3, 0.5), Duration::from_secs(2));
        assert_eq!(backoff(one, max, u32::MAX, 1.0), max);
    }

    #[test]
    fn the_default_schedule_outlasts_a_receiver_down_for_an_hour() {
        use crate::settings::{
            DEFAULT_FORWARD_INITIAL_BACKOFF_MS, DEFAULT_FORWARD_MAX_ATTEMPTS,
            DEFAULT_FORWARD_MAX_BACKOFF_MS,
        };
        let initial = Duration::from_millis(DEFAULT_FORWARD_INITIAL_BACKOFF_MS);
        let max = Duration::from_millis(DEFAULT_FORWARD_MAX_BACKOFF_MS);
        let span = |jitter: f64| -> Duration {
            (1..DEFAULT_FORWARD_MAX_ATTEMPTS)
                .map(|attempt| backoff(initial, max, attempt, jitter))
                .sum()
        };
        assert!(span(0.5) >= Duration::from_secs(75 * 60), "{:?}", span(0.5));
        assert!(
            span(0.75) >= Duration::from_secs(115 * 60),
            "{:?}",
            span(0.75)
        );
    }

    #[test]
    fn a_media_file_can_name_another_receiver() {
        let body = r#"{"id":"r","mediaFiles":[{"mediaId":"a"},{"parameters":{"rp.speechminer_uri":"http://other:81/ir"}}]}"#;
        let (url, credentials) = target(&receiver("http://sm/ir"), body).ok().unwrap();
        assert_eq!(url.as_str(), "http://other:81/ir");
        assert!(!credentials, "credentials stay with the configured origin");
        let same = r#"{"mediaFiles":[{"parameters":{"rp.speechminer_uri":"http://sm/other"}}]}"#;
        let (url, credentials) = target(&receiver("http://sm/ir"), same).ok().unwrap();
        assert_eq!((url.as_str(), credentials), ("http://sm/other", true));
        let (url, credentials) = target(&receiver("http://sm/ir"), r#"{"mediaFiles":[]}"#)
            .ok()
            .unwrap();
        assert_eq!((url.as_str(), credentials), ("http://sm/ir", true));
    }

    #[test]
    fn an_unusable_named_receiver_fails_for_good() {
        let body = r#"{"mediaFiles":[{"parameters":{"rp.speechminer_uri":"ftp://x"}}]}"#;
        let failure = target(&receiver("http://sm/ir"), body).err().unwrap();
        assert!(failure.permanent);
        assert!(
            failure.error.contains("rp.speechminer_uri"),
            "{}",
            failure.error
        );
        let with_password = r#"{"mediaFiles":[{"parameters":{"rp.speechminer_uri":"http://u:Pw-9@sm/ir?key=K-7"}}]}"#;
        let failure = target(&receiver("http://sm/ir"), with_password)
            .err()
            .unwrap();
        assert!(failure.permanent);
        assert!(failure.error.contains("http://sm/ir"), "{}", failure.error);
        assert!(
            !failure.error.contains("Pw-9") && !failure.error.contains("K-7"),
            "{}",
            failure.error
        );
    }

    #[test]
    fn status_lines_are_the_standard_ones() {
        assert_eq!(
            status_line(reqwest::StatusCode::INTERNAL_SERVER_ERROR),
            "500 Internal Server Error"
        );
        assert_eq!(
            status_line(reqwest::StatusCode::from_u16(599).unwrap()),
            "599"
        );
    }

    #[test]
    fn idempotency_keys_are_stable_per_delivery() {
        let delivery = Delivery {
            id: 7,
            contact_center: "acme".into(),
            recording_id: "r1".into(),
            body: "{}".into(),
            attempt: 1,
        };
        let again = Delivery {
            attempt: 2,
            ..delivery.clone()
        };
        let next = Delivery {
            id: 8,
            ..delivery.clone()
        };
        assert_eq!(idempotency_key(&delivery), idempotency_key(&again));
        assert_ne!(idempotency_key(&delivery), idempotency_key(&next));
    }
}
