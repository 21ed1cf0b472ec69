use crate::prelude::*;

use serde_json::json;

use super::SqliteStore;
use crate::conformance::search::spanning;
use crate::conformance::segment;
use crate::{SearchQuery, Store};
use gird_model::search::{phone_match, AGENT};

/// A SQLite file in a fresh folder, for the conformance suite.
struct Harness {
    dir: tempfile::TempDir,
    store: SqliteStore,
}

async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    Harness { dir, store }
}

#[async_trait::async_trait]
impl crate::conformance::Harness for Harness {
    fn store(&self) -> &dyn Store {
        &self.store
    }

    fn dialect(&self) -> crate::plan::Dialect {
        crate::plan::Dialect::Sqlite
    }

    async fn execute(&self, sql: &str) {
        let connection = rusqlite::Connection::open(self.dir.path().join("gird.db")).unwrap();
        connection.execute(sql, []).unwrap();
    }

    async fn close(&self) {
        self.store.close().await;
    }
}

mod conformance {
    crate::conformance::suite!(super::harness);
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

fn query(limit: usize) -> SearchQuery {
    SearchQuery {
        contact_center: "cc".into(),
        limit,
        ..SearchQuery::default()
    }
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
    // The counts themselves are the conformance suite's; here, the cap in SQL.
    let query = SearchQuery {
        count: true,
        ..query(2)
    };
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

/// A database made before visibility terms were indexed gets them when migrated.
#[tokio::test]
async fn migrating_indexes_who_may_see_the_stored_recordings() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_contact_center(&dir).await;
    let mut grouped = segment("r1", "m1", 1);
    grouped.media_files[0].json["accessgroups"] = json!(["/Sales/East"]);
    store.insert_or_merge("cc", grouped).await.unwrap();
    store.close().await;
    drop(store);
    let connection = rusqlite::Connection::open(dir.path().join("gird.db")).unwrap();
    connection
        .execute_batch(&format!(
            "DELETE FROM search_terms WHERE kind IN ('granted-group', 'in-partition');
             DROP TABLE users;
             DROP TABLE recording_access;
             DROP TABLE decryption_keys;
             PRAGMA user_version = {};",
            crate::access::VISIBILITY_MIGRATION - 1
        ))
        .unwrap();
    drop(connection);
    let (store, created) = SqliteStore::open(&dir.path().join("gird.db")).unwrap();
    assert!(!created);
    let sales = gird_model::access::Visibility::new("sup", &["/Sales".into()], &[]);
    let query = SearchQuery {
        visibility: Some(sales),
        ..query(10)
    };
    let page = store.search(query).await.unwrap();
    assert_eq!(page.recordings.len(), 1);
    store.close().await;
}
