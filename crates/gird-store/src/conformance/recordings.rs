//! Inserting and merging recordings: outcomes, media-id claims, retries, old records and
//! counts.

use futures_util::future::join_all;
use serde_json::json;

use super::{segment, Harness};
use crate::plan::Dialect;
use crate::{DeletionStart, InsertOutcome, SearchQuery};

pub(crate) async fn inserts_merges_and_reads_back(harness: &dyn Harness) {
    let store = harness.store();
    let first = store.insert_or_merge("cc", segment("r1", "m1", 1)).await;
    let second = store.insert_or_merge("cc", segment("r1", "m2", 0)).await;
    let again = store.insert_or_merge("cc", segment("r1", "m2", 0)).await;
    assert_eq!(
        (first.unwrap(), second.unwrap(), again.unwrap()),
        (
            InsertOutcome::Created,
            InsertOutcome::Merged,
            InsertOutcome::Unchanged
        )
    );
    let stored = store.recording("cc", "r1").await.unwrap().unwrap().stored;
    let media_ids: Vec<_> = stored.recording["mediaFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mediaId"].clone())
        .collect();
    assert_eq!(
        media_ids,
        [json!("m2"), json!("m1")],
        "sorted by start time"
    );
    assert!(store.recording("cc", "r2").await.unwrap().is_none());
    assert!(store.recording("other", "r1").await.unwrap().is_none());
    let missing = store.insert_or_merge("nope", segment("r3", "m3", 3)).await;
    assert_eq!(missing.unwrap(), InsertOutcome::ContactCenterMissing);
    assert!(store.recording("nope", "r3").await.unwrap().is_none());
}

pub(crate) async fn a_media_id_belongs_to_one_recording(harness: &dyn Harness) {
    let store = harness.store();
    store
        .insert_or_merge("cc", segment("r1", "m1", 1))
        .await
        .unwrap();
    let outcome = store.insert_or_merge("cc", segment("r2", "m1", 1)).await;
    assert_eq!(
        outcome.unwrap(),
        InsertOutcome::MediaIdTaken {
            media_id: "m1".into(),
            owner: "r1".into()
        }
    );
    assert!(store.recording("cc", "r2").await.unwrap().is_none());
    // The refused POST claimed nothing: its other media id is free.
    let mut two = segment("r2", "m1", 1);
    two.media_files
        .push(segment("r2", "m5", 5).media_files.remove(0));
    assert!(matches!(
        store.insert_or_merge("cc", two).await.unwrap(),
        InsertOutcome::MediaIdTaken { .. }
    ));
    let free = store.insert_or_merge("cc", segment("r3", "m5", 5)).await;
    assert_eq!(free.unwrap(), InsertOutcome::Created);
    // A deleted recording's media ids are free again.
    store.delete_recording("cc", "r1").await.unwrap();
    let reused = store.insert_or_merge("cc", segment("r4", "m1", 1)).await;
    assert_eq!(reused.unwrap(), InsertOutcome::Created);
}

/// Segments of one call posted at once (as a recorder does) all end up in one record.
pub(crate) async fn concurrent_segments_of_one_call_are_all_kept(harness: &dyn Harness) {
    let store = harness.store();
    let posts = (0..60).map(|n| store.insert_or_merge("cc", segment("call", &format!("m{n}"), n)));
    for outcome in join_all(posts).await {
        outcome.unwrap();
    }
    let stored = store.recording("cc", "call").await.unwrap().unwrap().stored;
    assert_eq!(stored.recording["mediaFiles"].as_array().unwrap().len(), 60);
}

/// A retried POST is answered from the digests of what was merged, without reading the
/// stored record: shown by damaging the record, which a real merge would have to parse.
pub(crate) async fn a_retried_merge_is_answered_without_reading_the_record(harness: &dyn Harness) {
    let store = harness.store();
    for minute in 0..3 {
        store
            .insert_or_merge("cc", segment("r", &format!("m{minute}"), minute))
            .await
            .unwrap();
    }
    let retried = store.insert_or_merge("cc", segment("r", "m1", 1)).await;
    assert_eq!(retried.unwrap(), InsertOutcome::Unchanged);
    harness
        .execute("UPDATE recordings SET body = 'damaged' WHERE id = 'r'")
        .await;
    for _ in 0..2 {
        let again = store.insert_or_merge("cc", segment("r", "m1", 1)).await;
        assert_eq!(again.unwrap(), InsertOutcome::Unchanged);
        let again = store.insert_or_merge("cc", segment("r", "m2", 2)).await;
        assert_eq!(again.unwrap(), InsertOutcome::Unchanged);
    }
    assert!(
        store
            .insert_or_merge("cc", segment("r", "m9", 9))
            .await
            .is_err(),
        "a new POST must read the record"
    );
}

/// A record stored under rules that were later tightened still reads, merges and
/// deletes: stored records are decoded, not validated again.
pub(crate) async fn a_record_stored_under_older_rules_still_reads_merges_and_deletes(
    harness: &dyn Harness,
) {
    let store = harness.store();
    store
        .insert_or_merge("cc", segment("old", "m1", 1))
        .await
        .unwrap();
    harness
        .execute(match harness.dialect() {
            Dialect::Sqlite => {
                "UPDATE recordings SET body = json_set(body, '$.recording.region', 42,
                     '$.recording.mediaFiles[0].type', 'not a type', '$.recording.callType', 'Weird')
                 WHERE id = 'old'"
            }
            Dialect::Postgres => {
                "UPDATE recordings SET body = jsonb_set(jsonb_set(jsonb_set(body::jsonb,
                     '{recording,region}', '42'), '{recording,mediaFiles,0,type}', '\"not a type\"'),
                     '{recording,callType}', '\"Weird\"')::text
                 WHERE id = 'old'"
            }
        })
        .await;
    let found = store.recording("cc", "old").await.unwrap().unwrap();
    assert_eq!(found.stored.recording["region"], 42);
    let merged = store.insert_or_merge("cc", segment("old", "m2", 2)).await;
    assert_eq!(merged.unwrap(), InsertOutcome::Merged);
    let deleted = store.delete_recording("cc", "old").await.unwrap();
    assert!(matches!(deleted, DeletionStart::Ready(_)));
    assert!(store.recording("cc", "old").await.unwrap().is_none());
}

/// The contact center's count follows creations and deletions (not merges), and a
/// search asked to count answers its total.
pub(crate) async fn recordings_are_counted(harness: &dyn Harness) {
    let store = harness.store();
    assert_eq!(store.recording_count("cc").await.unwrap(), 0);
    for minute in 0..5 {
        let id = format!("r{minute}");
        store
            .insert_or_merge("cc", segment(&id, &format!("m{minute}"), minute))
            .await
            .unwrap();
    }
    store
        .insert_or_merge("cc", segment("r0", "m9", 9))
        .await
        .unwrap();
    assert_eq!(store.recording_count("cc").await.unwrap(), 5);
    let query = SearchQuery {
        contact_center: "cc".into(),
        limit: 2,
        count: true,
        ..SearchQuery::default()
    };
    let page = store.search(query.clone()).await.unwrap();
    assert_eq!((page.recordings.len(), page.total), (2, Some(5)));
    let uncounted = SearchQuery {
        count: false,
        ..query.clone()
    };
    assert_eq!(store.search(uncounted).await.unwrap().total, None);
    store.delete_recording("cc", "r3").await.unwrap();
    assert_eq!(store.recording_count("cc").await.unwrap(), 4);
    assert_eq!(store.search(query).await.unwrap().total, Some(4));
}
