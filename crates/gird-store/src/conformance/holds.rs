//! Legal holds and deletions (the rules are [`crate::deletion`]'s).

use super::Harness;
use crate::deletion::DeletionLease;
use crate::{DeletionStart, HoldChange, InsertOutcome, LegalHold};

/// Legal holds and deletions: what a hold refuses, the deletion lease, and what a
/// deletion removes.
pub(crate) async fn holds_and_deletions(harness: &dyn Harness) {
    let store = harness.store();
    let recording = |id: &str, media_id: &str| {
        let body = serde_json::json!({
            "id": id, "callerPhoneNumber": "+1", "dialedPhoneNumber": "+2", "region": "r",
            "mediaFiles": [{
                "callUUID": "c", "mediaId": media_id,
                "startTime": "2015-06-15T23:00:00Z", "stopTime": "2015-06-15T23:01:00Z",
                "mediaDescriptor": {"storage": "webDAV", "path": "a.mp3"}
            }]
        });
        gird_model::Recording::from_json(body.as_object().unwrap().clone()).unwrap()
    };
    let lease = |token: &str, until_ms: i64| DeletionLease {
        token: token.into(),
        until_ms,
    };
    let state = |id: &'static str| async move {
        store
            .recording("cc", id)
            .await
            .unwrap()
            .map(|found| found.legal_hold)
    };
    store
        .insert_or_merge("cc", recording("r1", "m1"))
        .await
        .unwrap();

    // A hold stops every deletion; removed, it lets one begin.
    assert_eq!(
        store.set_legal_hold("cc", "r1", true).await.unwrap(),
        HoldChange::Done
    );
    let start = store
        .begin_deletion("cc", "r1", &lease("a", 2_000), 1_000)
        .await
        .unwrap();
    assert_eq!(start, DeletionStart::OnHold);
    assert_eq!(
        store.delete_recording("cc", "r1").await.unwrap(),
        DeletionStart::OnHold
    );
    assert_eq!(state("r1").await, Some(LegalHold::Held));
    store.set_legal_hold("cc", "r1", false).await.unwrap();
    let start = store
        .begin_deletion("cc", "r1", &lease("a", 2_000), 1_000)
        .await
        .unwrap();
    assert!(matches!(start, DeletionStart::Ready(_)));
    assert_eq!(state("r1").await, Some(LegalHold::Deleting));

    // While it runs, nothing else can hold, release or take it.
    for hold in [true, false] {
        assert_eq!(
            store.set_legal_hold("cc", "r1", hold).await.unwrap(),
            HoldChange::DeletionInProgress
        );
    }
    let second = store
        .begin_deletion("cc", "r1", &lease("b", 3_000), 1_500)
        .await
        .unwrap();
    assert_eq!(second, DeletionStart::InProgress);
    assert!(store
        .renew_deletion("cc", "r1", &lease("a", 2_500))
        .await
        .unwrap());
    assert!(!store
        .renew_deletion("cc", "r1", &lease("b", 2_500))
        .await
        .unwrap());
    assert!(!store.finish_deletion("cc", "r1", "b").await.unwrap());
    // The record is still being deleted; a POST to it is refused.
    let post = store
        .insert_or_merge("cc", recording("r1", "m2"))
        .await
        .unwrap();
    assert_eq!(post, InsertOutcome::BeingDeleted);

    // Given up (a media file could not be deleted), the mark stays and the next
    // deletion takes over; the old one can no longer finish.
    store.release_deletion("cc", "r1", "b", true).await.unwrap();
    assert_eq!(
        state("r1").await,
        Some(LegalHold::Deleting),
        "not b's to end"
    );
    store
        .release_deletion("cc", "r1", "a", false)
        .await
        .unwrap();
    assert_eq!(state("r1").await, Some(LegalHold::Deleting));
    let taken = store
        .begin_deletion("cc", "r1", &lease("c", 4_000), 1_600)
        .await
        .unwrap();
    assert!(matches!(taken, DeletionStart::Ready(_)));
    assert!(!store
        .renew_deletion("cc", "r1", &lease("a", 5_000))
        .await
        .unwrap());
    assert!(!store.finish_deletion("cc", "r1", "a").await.unwrap());

    // A deleter that died: its lease runs out and another takes over.
    let after = store
        .begin_deletion("cc", "r1", &lease("d", 9_000), 4_000)
        .await
        .unwrap();
    assert!(matches!(after, DeletionStart::Ready(_)));
    assert!(store.finish_deletion("cc", "r1", "d").await.unwrap());
    assert_eq!(state("r1").await, None);

    // Given up before any file went, the recording is as it was: a hold can be applied.
    store
        .insert_or_merge("cc", recording("r4", "m4"))
        .await
        .unwrap();
    let start = store
        .begin_deletion("cc", "r4", &lease("f", 9_000), 5_000)
        .await
        .unwrap();
    assert!(matches!(start, DeletionStart::Ready(_)));
    store.release_deletion("cc", "r4", "f", true).await.unwrap();
    assert_eq!(state("r4").await, Some(LegalHold::None));
    assert_eq!(
        store.set_legal_hold("cc", "r4", true).await.unwrap(),
        HoldChange::Done
    );
    let gone = store
        .begin_deletion("cc", "r1", &lease("e", 9_000), 5_000)
        .await
        .unwrap();
    assert_eq!(gone, DeletionStart::NotFound);

    // Deleted without its media, in one step; its media id is free again.
    store
        .insert_or_merge("cc", recording("r2", "m1"))
        .await
        .unwrap();
    assert!(matches!(
        store.delete_recording("cc", "r2").await.unwrap(),
        DeletionStart::Ready(_)
    ));
    let again = store
        .insert_or_merge("cc", recording("r3", "m1"))
        .await
        .unwrap();
    assert_eq!(again, InsertOutcome::Created);
}
