use std::sync::Arc;

use gird_model::Recording;
use serde_json::json;

use super::SqliteStore;
use crate::{InsertOutcome, Removal, Store};

fn segment(id: &str, media_id: &str, minute: u32) -> Recording {
    let body = json!({
        "id": id, "callerPhoneNumber": "+1", "dialedPhoneNumber": "+2", "region": "r",
        "mediaFiles": [{
            "callUUID": "c", "mediaId": media_id,
            "startTime": format!("2015-06-15T23:{minute:02}:00Z"),
            "stopTime": format!("2015-06-15T23:{minute:02}:30Z"),
            "mediaDescriptor": {"storage": "webDAV", "path": "a.mp3"}
        }]
    });
    Recording::from_json(body.as_object().unwrap().clone()).unwrap()
}

async fn open_with_contact_center(dir: &tempfile::TempDir) -> SqliteStore {
    let (store, created) = SqliteStore::open(&dir.path().join("gird.db")).unwrap();
    assert!(created);
    assert!(store
        .create_contact_center("cc", &["example.com".into()])
        .await
        .unwrap());
    store
}

#[tokio::test]
async fn inserts_merges_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    let first = store
        .insert_or_merge("cc", segment("r1", "m1", 1))
        .await
        .unwrap();
    let second = store
        .insert_or_merge("cc", segment("r1", "m2", 0))
        .await
        .unwrap();
    let again = store
        .insert_or_merge("cc", segment("r1", "m2", 0))
        .await
        .unwrap();
    assert_eq!(
        (first, second, again),
        (
            InsertOutcome::Created,
            InsertOutcome::Merged,
            InsertOutcome::Unchanged
        )
    );
    let stored = store.recording("cc", "r1").await.unwrap().unwrap();
    let media_ids: Vec<_> = stored.recording["mediaFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mediaId"].clone())
        .collect();
    assert_eq!(media_ids, [json!("m2"), json!("m1")]);
    assert!(store.recording("cc", "r2").await.unwrap().is_none());
    assert!(store.recording("other", "r1").await.unwrap().is_none());
}

#[tokio::test]
async fn a_media_id_belongs_to_one_recording() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    store
        .insert_or_merge("cc", segment("r1", "m1", 1))
        .await
        .unwrap();
    let outcome = store
        .insert_or_merge("cc", segment("r2", "m1", 1))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        InsertOutcome::MediaIdTaken {
            media_id: "m1".into(),
            owner: "r1".into()
        }
    );
    assert!(store.recording("cc", "r2").await.unwrap().is_none());
}

#[tokio::test]
async fn concurrent_segments_of_one_call_are_all_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open_with_contact_center(&dir).await);
    let tasks: Vec<_> = (0..60)
        .map(|n| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .insert_or_merge("cc", segment("call", &format!("m{n}"), n))
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let stored = store.recording("cc", "call").await.unwrap().unwrap();
    assert_eq!(stored.recording["mediaFiles"].as_array().unwrap().len(), 60);
}

#[tokio::test]
async fn what_was_acknowledged_is_there_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    store
        .insert_or_merge("cc", segment("r1", "m1", 1))
        .await
        .unwrap();
    store.close().await;
    drop(store);
    let (reopened, created) = SqliteStore::open(&dir.path().join("gird.db")).unwrap();
    assert!(!created);
    assert!(reopened.recording("cc", "r1").await.unwrap().is_some());
}

#[tokio::test]
async fn contact_centers_and_features() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    assert!(!store.create_contact_center("cc", &[]).await.unwrap());
    assert!(store
        .enable_features("cc", &["api-supervisor-recording".into()])
        .await
        .unwrap());
    assert!(!store.enable_features("nope", &["x".into()]).await.unwrap());
    assert!(store
        .contact_center("cc")
        .await
        .unwrap()
        .unwrap()
        .has_feature("api-supervisor-recording"));
    assert_eq!(
        store.disable_feature("cc", "missing").await.unwrap(),
        Removal::NotFound
    );
    assert_eq!(
        store
            .disable_feature("cc", "api-supervisor-recording")
            .await
            .unwrap(),
        Removal::Removed
    );
    store
        .insert_or_merge("cc", segment("r1", "m1", 1))
        .await
        .unwrap();
    assert_eq!(
        store.delete_contact_center("cc").await.unwrap(),
        Removal::NotEmpty
    );
    assert!(store.create_contact_center("empty", &[]).await.unwrap());
    assert_eq!(
        store.delete_contact_center("empty").await.unwrap(),
        Removal::Removed
    );
    assert_eq!(
        store.delete_contact_center("empty").await.unwrap(),
        Removal::NotFound
    );
    assert_eq!(store.contact_center_ids().await.unwrap(), ["cc"]);
}
