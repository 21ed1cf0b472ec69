//! The SpeechMiner outbox (see [`crate::outbox`]).

use gird_model::datetime::now_millis;
use gird_model::Recording;
use serde_json::{json, Value};

use super::Harness;
use crate::{AttemptResult, DeletionStart, DeliveryState, InsertOutcome, ReceiverSettings, Repost};

fn call(id: &str, media_ids: &[&str]) -> Recording {
    let media: Vec<Value> = media_ids
        .iter()
        .enumerate()
        .map(|(minute, media_id)| {
            json!({
                "callUUID": "c", "mediaId": media_id,
                "startTime": format!("2015-06-15T23:{minute:02}:00Z"),
                "stopTime": format!("2015-06-15T23:{minute:02}:30Z"),
                "mediaDescriptor": {"storage": "webDAV", "path": "a.mp3"}
            })
        })
        .collect();
    let body = json!({
        "id": id, "callerPhoneNumber": "+1", "dialedPhoneNumber": "+2", "region": "r",
        "mediaFiles": media
    });
    Recording::from_json(body.as_object().unwrap().clone()).unwrap()
}

fn receiver(enabled: bool) -> ReceiverSettings {
    ReceiverSettings {
        url: "http://127.0.0.1:9/ir".into(),
        username: Some("sm".into()),
        sealed_password: Some("sealed".into()),
        enabled,
    }
}

fn media_count(body: &str) -> usize {
    let record: Value = serde_json::from_str(body).unwrap();
    record["mediaFiles"].as_array().unwrap().len()
}

/// Queueing, claiming, retrying, coalescing, reposting and dead letters.
pub(crate) async fn outbox_lifecycle(harness: &dyn Harness) {
    let store = harness.store();
    // Without a receiver nothing is queued.
    let created = store.insert_or_merge("cc", call("r1", &["m1"])).await;
    assert_eq!(created.unwrap(), InsertOutcome::Created);
    let later = now_millis() + 1_000;
    assert!(!store.deliveries_due(later).await.unwrap());
    assert_eq!(store.outbox_status(Some("cc")).await.unwrap().queued, 0);

    assert!(!store.put_receiver("nope", receiver(true)).await.unwrap());
    assert!(store.put_receiver("cc", receiver(true)).await.unwrap());
    assert_eq!(store.receiver("cc").await.unwrap(), Some(receiver(true)));

    // Each change queues the record as it was after it; a retry of the same POST does not.
    // A delivery still waiting is replaced by the newer state: only that needs delivering.
    let notified = store.deliveries_queued();
    store
        .insert_or_merge("cc", call("r2", &["m2"]))
        .await
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), notified.notified())
        .await
        .expect("a queued delivery is announced");
    let merged = store.insert_or_merge("cc", call("r2", &["m3"])).await;
    assert_eq!(merged.unwrap(), InsertOutcome::Merged);
    let retried = store.insert_or_merge("cc", call("r2", &["m3"])).await;
    assert_eq!(retried.unwrap(), InsertOutcome::Unchanged);
    let status = store.outbox_status(Some("cc")).await.unwrap();
    assert_eq!((status.queued, status.in_flight), (1, 0), "coalesced");
    assert!(status.oldest_pending_ms.is_some());

    assert!(store.deliveries_due(later).await.unwrap());
    let first = store.claim_deliveries(later, later + 60_000, 10).await;
    let first = first.unwrap();
    assert_eq!(first.len(), 1);
    let first = &first[0];
    assert_eq!(
        (first.recording_id.as_str(), first.attempt),
        ("r2", 1),
        "{first:?}"
    );
    assert_eq!(media_count(&first.body), 2, "the latest state");

    // A change while a delivery is in flight queues another, which waits for the first.
    let merged = store.insert_or_merge("cc", call("r2", &["m4"])).await;
    assert_eq!(merged.unwrap(), InsertOutcome::Merged);
    assert!(store
        .claim_deliveries(later, later + 60_000, 10)
        .await
        .unwrap()
        .is_empty());

    // A failure comes back when it is due, with one more attempt counted.
    let retry = AttemptResult::Retry {
        at_ms: later + 5_000,
        error: "HTTP 500".into(),
    };
    store.finish_delivery(first.id, retry, later).await.unwrap();
    let status = store.outbox_status(Some("cc")).await.unwrap();
    assert_eq!((status.queued, status.retrying), (2, 1));

    // A change now replaces both waiting ones, keeping the attempts and the wait of the
    // retrying one (a receiver that is down is not called more often), with a new id.
    let merged = store.insert_or_merge("cc", call("r2", &["m5"])).await;
    assert_eq!(merged.unwrap(), InsertOutcome::Merged);
    let status = store.outbox_status(Some("cc")).await.unwrap();
    assert_eq!((status.queued, status.retrying), (1, 1));
    assert!(store
        .claim_deliveries(later + 4_999, later + 60_000, 10)
        .await
        .unwrap()
        .is_empty());
    let again = store
        .claim_deliveries(later + 5_000, later + 60_000, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempt, 2);
    assert_ne!(again[0].id, first.id, "a new id, so a new Idempotency-Key");
    assert_eq!(media_count(&again[0].body), 4);
    store
        .finish_delivery(again[0].id, AttemptResult::Delivered, later)
        .await
        .unwrap();

    // The next change fails for good and is kept with its error.
    let merged = store.insert_or_merge("cc", call("r2", &["m6"])).await;
    assert_eq!(merged.unwrap(), InsertOutcome::Merged);
    let second = store
        .claim_deliveries(later, later + 60_000, 10)
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(media_count(&second[0].body), 5);
    let dead = AttemptResult::Dead {
        error: "HTTP 400: bad".into(),
    };
    store
        .finish_delivery(second[0].id, dead, later)
        .await
        .unwrap();
    let status = store.outbox_status(Some("cc")).await.unwrap();
    assert_eq!((status.queued, status.delivered, status.failed), (0, 1, 1));
    assert_eq!(status.oldest_pending_ms, None);
    let letters = store.dead_letters("cc", 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].last_error.as_deref(), Some("HTTP 400: bad"));
    let latest = store.latest_delivery("cc", "r2").await.unwrap().unwrap();
    assert_eq!((latest.state, latest.attempts), (DeliveryState::Dead, 1));

    // Reposting the dead letters starts their attempts again, with the same snapshot.
    let reposted = store.repost("cc", Repost::DeadLetters, later).await;
    assert_eq!(reposted.unwrap(), 1);
    let revived = store
        .claim_deliveries(later, later + 60_000, 10)
        .await
        .unwrap();
    assert_eq!(
        (revived[0].id, revived[0].attempt),
        (second[0].id, 1),
        "{revived:?}"
    );
    assert_eq!(media_count(&revived[0].body), 5);

    // A lease that runs out lets the delivery be claimed again.
    let reclaimed = store
        .claim_deliveries(later + 60_001, later + 120_000, 10)
        .await
        .unwrap();
    assert_eq!((reclaimed[0].id, reclaimed[0].attempt), (revived[0].id, 2));
    store
        .finish_delivery(reclaimed[0].id, AttemptResult::Delivered, later)
        .await
        .unwrap();

    // A delivery waiting out its backoff is due at once after a repost of its recording,
    // instead of a second one queuing behind it; and after a receiver change.
    store
        .insert_or_merge("cc", call("r5", &["m50"]))
        .await
        .unwrap();
    let waiting = store
        .claim_deliveries(later, later + 60_000, 10)
        .await
        .unwrap();
    assert_eq!(waiting[0].recording_id, "r5");
    let far = AttemptResult::Retry {
        at_ms: later + 3_600_000,
        error: "HTTP 503".into(),
    };
    store
        .finish_delivery(waiting[0].id, far.clone(), later)
        .await
        .unwrap();
    assert!(store
        .claim_deliveries(later, later + 60_000, 10)
        .await
        .unwrap()
        .is_empty());
    let reposted = store
        .repost("cc", Repost::Recording("r5".into()), later)
        .await;
    assert_eq!(reposted.unwrap(), 1, "the waiting one, not another");
    let due = store
        .claim_deliveries(later, later + 60_000, 10)
        .await
        .unwrap();
    assert_eq!(
        (due.len(), due[0].id, due[0].attempt),
        (1, waiting[0].id, 2)
    );
    store.finish_delivery(due[0].id, far, later).await.unwrap();
    assert!(store.put_receiver("cc", receiver(true)).await.unwrap());
    let due = store
        .claim_deliveries(now_millis(), now_millis() + 60_000, 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1, "due once the receiver changed");
    store
        .finish_delivery(due[0].id, AttemptResult::Delivered, later)
        .await
        .unwrap();
    store.delete_recording("cc", "r5").await.unwrap();

    // Reposting a recording or a time range queues each as it is now (a recording with a
    // delivery pending already is not queued twice: that one carries its latest state).
    let one = store.repost("cc", Repost::Recording("r1".into()), later);
    assert_eq!(one.await.unwrap(), 1);
    let none = store.repost("cc", Repost::Recording("missing".into()), later);
    assert_eq!(none.await.unwrap(), 0);
    let day = Repost::StartedBetween {
        from_ms: 1_434_326_400_000, // 2015-06-15
        to_ms: 1_434_412_800_000,
    };
    assert_eq!(store.repost("cc", day, later).await.unwrap(), 2);
    let outside = Repost::StartedBetween {
        from_ms: 0,
        to_ms: 1_000,
    };
    assert_eq!(store.repost("cc", outside, later).await.unwrap(), 0);
    assert_eq!(store.outbox_status(Some("cc")).await.unwrap().queued, 2);

    // Turned off, nothing is claimed, and nothing is lost either.
    assert!(store.put_receiver("cc", receiver(false)).await.unwrap());
    assert!(!store.deliveries_due(later).await.unwrap());
    assert!(store
        .claim_deliveries(later, later + 60_000, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.outbox_status(None).await.unwrap().queued, 2);

    // A deleted recording takes its deliveries with it.
    let deleted = store.delete_recording("cc", "r1").await.unwrap();
    assert!(matches!(deleted, DeletionStart::Ready(_)));
    assert_eq!(store.outbox_status(Some("cc")).await.unwrap().queued, 1);
    assert_eq!(store.latest_delivery("cc", "r1").await.unwrap(), None);
}
