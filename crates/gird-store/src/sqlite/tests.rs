use crate::prelude::*;
use std::sync::Arc;

use gird_model::Recording;
use serde_json::json;

use super::SqliteStore;
use crate::{Cursor, Direction, InsertOutcome, Removal, SearchQuery, Store};
use gird_model::search::{phone_match, AGENT};

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
    let stored = store.recording("cc", "r1").await.unwrap().unwrap().stored;
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
    let stored = store.recording("cc", "call").await.unwrap().unwrap().stored;
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

fn call(id: &str, caller: &str, agent: &str, minute: u32) -> Recording {
    let body = json!({
        "id": id, "callerPhoneNumber": caller, "dialedPhoneNumber": "+2", "region": "r",
        "mediaFiles": [{
            "callUUID": format!("c-{id}"), "mediaId": format!("m-{id}"),
            "startTime": format!("2015-06-15T{:02}:{:02}:00Z", minute / 60, minute % 60),
            "stopTime": format!("2015-06-15T{:02}:{:02}:30Z", minute / 60, minute % 60),
            "parameters": {"username": agent},
            "mediaDescriptor": {"storage": "webDAV", "path": "a.mp3"}
        }]
    });
    Recording::from_json(body.as_object().unwrap().clone()).unwrap()
}

fn query(limit: usize) -> SearchQuery {
    SearchQuery {
        contact_center: "cc".into(),
        limit,
        ..SearchQuery::default()
    }
}

async fn ids(store: &SqliteStore, query: SearchQuery) -> (Vec<String>, bool, bool) {
    let page = store.search(query).await.unwrap();
    let ids = page.recordings.iter().map(|r| r.id.clone()).collect();
    (ids, page.more_older, page.more_newer)
}

#[tokio::test]
async fn searches_filter_and_page_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    for n in 0..10u32 {
        let agent = if n % 2 == 0 { "Even@x" } else { "odd@x" };
        store
            .insert_or_merge(
                "cc",
                call(
                    &format!("r{n}"),
                    &format!("+1 (416) 555-00{n:02}"),
                    agent,
                    n,
                ),
            )
            .await
            .unwrap();
    }
    let (first, older, newer) = ids(&store, query(4)).await;
    assert_eq!(first, ["r9", "r8", "r7", "r6"]);
    assert_eq!((older, newer), (true, false));
    let next = SearchQuery {
        cursor: Some(Cursor {
            direction: Direction::Older,
            start_ms: 1_434_326_760_000,
            id: "r6".into(),
        }),
        ..query(4)
    };
    let (second, older, newer) = ids(&store, next).await;
    assert_eq!(second, ["r5", "r4", "r3", "r2"]);
    assert_eq!((older, newer), (true, true));
    let back = SearchQuery {
        cursor: Some(Cursor {
            direction: Direction::Newer,
            start_ms: 1_434_326_700_000,
            id: "r5".into(),
        }),
        ..query(4)
    };
    assert_eq!(
        ids(&store, back).await,
        (
            vec!["r9".into(), "r8".into(), "r7".into(), "r6".into()],
            true,
            false
        )
    );

    let by_agent = SearchQuery {
        terms: vec![(AGENT, "even@x".into())],
        ..query(100)
    };
    assert_eq!(
        ids(&store, by_agent).await.0,
        ["r8", "r6", "r4", "r2", "r0"]
    );
    let suffix = SearchQuery {
        caller: Some(phone_match("*0007")),
        ..query(100)
    };
    assert_eq!(ids(&store, suffix).await.0, ["r7"]);
    let exact = SearchQuery {
        caller: Some(phone_match("14165550003")),
        ..query(100)
    };
    assert_eq!(ids(&store, exact).await.0, ["r3"]);
    let window = SearchQuery {
        from: Some(1_434_326_530_000),
        to: Some(1_434_326_700_000),
        ..query(100)
    };
    assert_eq!(
        ids(&store, window).await.0,
        ["r4", "r3", "r2"],
        "r2 spans the window start"
    );
    let media = SearchQuery {
        media_id: Some("m-r5".into()),
        ..query(100)
    };
    assert_eq!(ids(&store, media).await.0, ["r5"]);
}

#[tokio::test]
async fn common_searches_use_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    let connection = rusqlite::Connection::open(dir.path().join("gird.db")).unwrap();
    let cases = [
        SearchQuery {
            caller: Some(phone_match("14165550003")),
            ..query(100)
        },
        SearchQuery {
            caller: Some(phone_match("*5550003")),
            ..query(100)
        },
        SearchQuery {
            dialed: Some(phone_match("1416*")),
            ..query(100)
        },
        SearchQuery {
            terms: vec![(AGENT, "a".into())],
            from: Some(0),
            to: Some(86_400_000),
            ..query(100)
        },
        SearchQuery {
            from: Some(0),
            to: Some(86_400_000),
            ..query(100)
        },
        SearchQuery {
            media_id: Some("m".into()),
            ..query(100)
        },
    ];
    for case in cases {
        let plan = super::search::explain(&connection, &case);
        assert!(
            plan.iter()
                .all(|step| !step.starts_with("SCAN") || step.contains("USING")),
            "{case:?} scans: {plan:?}"
        );
    }
    drop(store);
}

#[tokio::test]
async fn holds_and_deletions() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    crate::deletion::conformance(&store).await;
}

#[tokio::test]
async fn s3_settings() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    crate::s3_conformance::s3_settings(&store).await;
}

#[tokio::test]
async fn outbox_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    crate::outbox_conformance::outbox_lifecycle(&store).await;
}

#[tokio::test]
async fn outbound_origins() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    crate::outbound::conformance(&store).await;
}

#[tokio::test]
async fn sessions() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    crate::sessions::conformance(&store).await;
}

#[tokio::test]
async fn a_new_start_releases_what_a_dead_process_left_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    let receiver = crate::ReceiverSettings {
        url: "http://127.0.0.1:9/ir".into(),
        username: None,
        sealed_password: None,
        enabled: true,
    };
    assert!(store.put_receiver("cc", receiver).await.unwrap());
    store
        .insert_or_merge("cc", segment("r1", "m1", 1))
        .await
        .unwrap();
    let now = gird_model::datetime::now_millis() + 1_000;
    let claimed = store
        .claim_deliveries(now, now + 3_600_000, 5)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        !store.deliveries_due(now).await.unwrap(),
        "leased for an hour"
    );
    store.release_deliveries(now).await.unwrap();
    let again = store.claim_deliveries(now, now + 60_000, 5).await.unwrap();
    assert_eq!((again[0].id, again[0].attempt), (claimed[0].id, 2));
}

fn spanning(id: &str, start: &str, stop: &str) -> Recording {
    let body = json!({
        "id": id, "callerPhoneNumber": "+1", "dialedPhoneNumber": "+2", "region": "r",
        "mediaFiles": [{
            "callUUID": id, "mediaId": format!("{id}-m"), "startTime": start, "stopTime": stop,
            "mediaDescriptor": {"storage": "webDAV", "path": "a.mp3"}
        }]
    });
    Recording::from_json(body.as_object().unwrap().clone()).unwrap()
}

#[tokio::test]
async fn one_recording_spanning_centuries_does_not_make_window_searches_scan() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    let hour = 3_600_000_i64;
    let base = gird_model::datetime::parse_iso("2020-01-01T00:00:00Z").unwrap();
    for n in 0..3_000 {
        let start = gird_model::datetime::format_millis(base + n * hour);
        let stop = gird_model::datetime::format_millis(base + n * hour + 60_000);
        store
            .insert_or_merge("cc", spanning(&format!("r{n}"), &start, &stop))
            .await
            .unwrap();
    }
    let window = SearchQuery {
        contact_center: "cc".into(),
        from: Some(base + 2_900 * hour),
        to: Some(base + 2_901 * hour),
        limit: 25,
        ..SearchQuery::default()
    };
    let connection = rusqlite::Connection::open(dir.path().join("gird.db")).unwrap();
    let stats = |db: &rusqlite::Connection| -> i64 {
        db.query_row(
            "SELECT max_duration_ms FROM contact_center_stats WHERE contact_center_id = 'cc'",
            [],
            |row| row.get(0),
        )
        .unwrap()
    };
    let before = super::search::steps(&connection, &window, stats(&connection));

    store
        .insert_or_merge(
            "cc",
            spanning("huge", "1970-01-01T00:00:00Z", "2999-12-31T00:00:00Z"),
        )
        .await
        .unwrap();
    let after = super::search::steps(&connection, &window, stats(&connection));
    assert!(
        after <= 2 * before + 200,
        "one long recording made the search take {after} steps instead of {before}"
    );
    let page = store.search(window.clone()).await.unwrap();
    let ids: Vec<&str> = page.recordings.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["r2900", "huge"],
        "the long one overlaps the window too"
    );
    let later = SearchQuery {
        from: Some(base + 2_950 * hour),
        to: None,
        limit: 1,
        ..window.clone()
    };
    let first = store.search(later.clone()).await.unwrap();
    assert_eq!(first.recordings[0].id, "r2999");
    assert!(first.more_older);

    store.delete_recording("cc", "huge").await.unwrap();
    let gone = super::search::steps(&connection, &window, stats(&connection));
    assert!(gone <= 2 * before + 200, "{gone} steps after the deletion");
}

/// A retried POST is answered from the digests of what was merged, without reading the
/// stored record: shown by damaging the record, which a real merge would have to parse.
#[tokio::test]
async fn a_retried_merge_is_answered_without_reading_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    for minute in 0..3 {
        store
            .insert_or_merge("cc", segment("r", &format!("m{minute}"), minute))
            .await
            .unwrap();
    }
    let retried = store.insert_or_merge("cc", segment("r", "m1", 1)).await;
    assert_eq!(retried.unwrap(), InsertOutcome::Unchanged);
    let connection = rusqlite::Connection::open(dir.path().join("gird.db")).unwrap();
    connection
        .execute("UPDATE recordings SET body = 'damaged' WHERE id = 'r'", [])
        .unwrap();
    drop(connection);
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

#[tokio::test]
async fn a_search_count_stops_at_its_cap() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    for minute in 0..5 {
        store
            .insert_or_merge(
                "cc",
                segment(&format!("r{minute}"), &format!("m{minute}"), minute),
            )
            .await
            .unwrap();
    }
    let query = SearchQuery {
        contact_center: "cc".into(),
        limit: 2,
        count: true,
        ..SearchQuery::default()
    };
    let page = store.search(query.clone()).await.unwrap();
    assert_eq!((page.recordings.len(), page.total), (2, Some(5)));
    assert_eq!(store.recording_count("cc").await.unwrap(), 5);
    let connection = rusqlite::Connection::open(dir.path().join("gird.db")).unwrap();
    let plan = &crate::plan::Plan::all(&query, 0, crate::plan::Dialect::Sqlite)[0];
    let (sql, params) = plan.count(3);
    let values: Vec<rusqlite::types::Value> = params
        .into_iter()
        .map(|param| match param {
            crate::plan::Param::Integer(n) => rusqlite::types::Value::Integer(n),
            crate::plan::Param::Text(text) => rusqlite::types::Value::Text(text),
        })
        .collect();
    let capped: i64 = connection
        .query_row(&sql, rusqlite::params_from_iter(values), |row| row.get(0))
        .unwrap();
    assert_eq!(capped, 3);
}

/// A record stored under rules that were later tightened still reads, merges and
/// deletes: stored records are decoded, not validated again.
#[tokio::test]
async fn a_record_stored_under_older_rules_still_reads_merges_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    store
        .insert_or_merge("cc", segment("old", "m1", 1))
        .await
        .unwrap();
    let connection = rusqlite::Connection::open(dir.path().join("gird.db")).unwrap();
    connection
        .execute(
            "UPDATE recordings SET body = json_set(body, '$.recording.region', 42,
                 '$.recording.mediaFiles[0].type', 'not a type', '$.recording.callType', 'Weird')
             WHERE id = 'old'",
            [],
        )
        .unwrap();
    drop(connection);
    let found = store.recording("cc", "old").await.unwrap().unwrap();
    assert_eq!(found.stored.recording["region"], 42);
    let merged = store.insert_or_merge("cc", segment("old", "m2", 2)).await;
    assert_eq!(merged.unwrap(), InsertOutcome::Merged);
    let deleted = store.delete_recording("cc", "old").await.unwrap();
    assert!(matches!(deleted, crate::DeletionStart::Ready(_)));
    assert!(store.recording("cc", "old").await.unwrap().is_none());
}
