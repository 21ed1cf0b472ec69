//! Needs a PostgreSQL server: `GIRD_TEST_POSTGRES_URL`, by default the local one
//! (`postgres://postgres@127.0.0.1:5432/postgres`); each test makes its own database.

use crate::prelude::*;
use gird_model::search::{phone_match, AGENT};
use gird_model::Recording;
use serde_json::json;
use tokio_postgres::NoTls;

use super::PostgresStore;
use crate::plan::{Dialect, Param, Plan};
use crate::{Direction, InsertOutcome, SearchQuery, Store};

fn server_url() -> String {
    std::env::var("GIRD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh database; answers its URL.
async fn fresh_database() -> String {
    let (client, connection) = tokio_postgres::connect(&server_url(), NoTls)
        .await
        .expect("a PostgreSQL server for the tests (GIRD_TEST_POSTGRES_URL)");
    tokio::spawn(connection);
    let name = format!("gird_store_test_{}", uuid_like());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let base = server_url();
    let server = base
        .rsplit_once('/')
        .map_or(base.as_str(), |(server, _)| server);
    format!("{server}/{name}")
}

/// Drops a database made by [`fresh_database`] (after the test's connections close).
async fn drop_database(url: &str) {
    let name = url.rsplit('/').next().unwrap();
    let (client, connection) = tokio_postgres::connect(&server_url(), NoTls).await.unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}{:x}", std::process::id())
}

fn call(id: &str, media_id: &str, minute: u32) -> Recording {
    let body = json!({
        "id": id, "callerPhoneNumber": "+1 416 555 0100", "dialedPhoneNumber": "+2", "region": "r",
        "mediaFiles": [{
            "callUUID": "c", "mediaId": media_id,
            "startTime": format!("2015-06-15T00:{minute:02}:00Z"),
            "stopTime": format!("2015-06-15T00:{minute:02}:30Z"),
            "parameters": {"username": "bob"},
            "mediaDescriptor": {"storage": "webDAV", "path": "a.mp3"}
        }]
    });
    Recording::from_json(body.as_object().unwrap().clone()).unwrap()
}

#[tokio::test]
async fn inserts_merge_and_claim_media_ids() {
    let url = fresh_database().await;
    let (store, created) = PostgresStore::open(&url).await.unwrap();
    assert!(created);
    assert!(
        !PostgresStore::migrate(&url).await.unwrap(),
        "migrating twice is fine"
    );
    assert!(store.create_contact_center("cc", &[]).await.unwrap());
    assert_eq!(
        store
            .insert_or_merge("cc", call("r1", "m1", 1))
            .await
            .unwrap(),
        InsertOutcome::Created
    );
    assert_eq!(
        store
            .insert_or_merge("cc", call("r1", "m2", 0))
            .await
            .unwrap(),
        InsertOutcome::Merged
    );
    assert_eq!(
        store
            .insert_or_merge("cc", call("r1", "m2", 0))
            .await
            .unwrap(),
        InsertOutcome::Unchanged
    );
    assert_eq!(
        store
            .insert_or_merge("cc", call("r2", "m1", 3))
            .await
            .unwrap(),
        InsertOutcome::MediaIdTaken {
            media_id: "m1".into(),
            owner: "r1".into()
        }
    );
    assert!(store.recording("cc", "r2").await.unwrap().is_none());
    assert_eq!(
        store
            .insert_or_merge("nope", call("r3", "m3", 3))
            .await
            .unwrap(),
        InsertOutcome::ContactCenterMissing
    );
    let query = SearchQuery {
        contact_center: "cc".into(),
        limit: 10,
        terms: vec![(AGENT, "bob".into())],
        ..SearchQuery::default()
    };
    let page = store.search(query).await.unwrap();
    assert_eq!(page.recordings.len(), 1);
    assert_eq!(page.recordings[0].start_ms, 1_434_326_400_000);
    store.close().await;
    drop_database(&url).await;
}

#[tokio::test]
async fn every_search_can_use_an_index() {
    let url = fresh_database().await;
    let (store, _) = PostgresStore::open(&url).await.unwrap();
    store.close().await;
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    // With sequential scans priced out, a plan that still scans has no usable index.
    client
        .batch_execute("SET enable_seqscan = off")
        .await
        .unwrap();
    let base = SearchQuery {
        contact_center: "cc".into(),
        limit: 100,
        ..SearchQuery::default()
    };
    let cases = [
        SearchQuery {
            caller: Some(phone_match("14165550100")),
            ..base.clone()
        },
        SearchQuery {
            caller: Some(phone_match("*5550100")),
            ..base.clone()
        },
        SearchQuery {
            dialed: Some(phone_match("*0100")),
            ..base.clone()
        },
        SearchQuery {
            terms: vec![(AGENT, "bob".into())],
            from: Some(0),
            to: Some(86_400_000),
            ..base.clone()
        },
        SearchQuery {
            from: Some(0),
            to: Some(86_400_000),
            ..base.clone()
        },
        SearchQuery {
            media_id: Some("m".into()),
            ..base.clone()
        },
    ];
    for case in cases {
        let (sql, params) =
            Plan::all(&case, 0, Dialect::Postgres)[0].select("r.id", Direction::Older, 100);
        let bound: Vec<Box<dyn tokio_postgres::types::ToSql + Sync>> = params
            .into_iter()
            .map(|p| -> Box<dyn tokio_postgres::types::ToSql + Sync> {
                match p {
                    Param::Integer(n) => Box::new(n),
                    Param::Text(t) => Box::new(t),
                }
            })
            .collect();
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            bound.iter().map(|b| b.as_ref()).collect();
        let rows = client
            .query(&format!("EXPLAIN {sql}"), &refs)
            .await
            .unwrap();
        let plan: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
        assert!(
            plan.iter().all(|line| !line.contains("Seq Scan")),
            "{case:?}: {plan:#?}"
        );
    }
    drop(client);
    drop_database(&url).await;
}

#[tokio::test]
async fn s3_settings() {
    let url = fresh_database().await;
    let (store, _) = PostgresStore::open(&url).await.unwrap();
    assert!(store.create_contact_center("cc", &[]).await.unwrap());
    crate::s3_conformance::s3_settings(&store).await;
    store.close().await;
    drop_database(&url).await;
}

#[tokio::test]
async fn outbox_lifecycle() {
    let url = fresh_database().await;
    let (store, _) = PostgresStore::open(&url).await.unwrap();
    assert!(store.create_contact_center("cc", &[]).await.unwrap());
    crate::outbox_conformance::outbox_lifecycle(&store).await;
    store.close().await;
    drop_database(&url).await;
}

#[tokio::test]
async fn holds_and_deletions() {
    let url = fresh_database().await;
    let (store, _) = PostgresStore::open(&url).await.unwrap();
    assert!(store.create_contact_center("cc", &[]).await.unwrap());
    crate::deletion::conformance(&store).await;
    store.close().await;
    drop_database(&url).await;
}

#[tokio::test]
async fn outbound_origins() {
    let url = fresh_database().await;
    let (store, _) = PostgresStore::open(&url).await.unwrap();
    crate::outbound::conformance(&store).await;
    store.close().await;
    drop_database(&url).await;
}

#[tokio::test]
async fn sessions() {
    let url = fresh_database().await;
    let (store, _) = PostgresStore::open(&url).await.unwrap();
    crate::sessions::conformance(&store).await;
    store.close().await;
    drop_database(&url).await;
}

/// Two instances claiming at once never get the same delivery.
#[tokio::test]
async fn instances_share_the_outbox_without_double_claims() {
    let url = fresh_database().await;
    let (first, _) = PostgresStore::open(&url).await.unwrap();
    let (second, _) = PostgresStore::open(&url).await.unwrap();
    assert!(first.create_contact_center("cc", &[]).await.unwrap());
    let receiver = crate::ReceiverSettings {
        url: "http://127.0.0.1:9/ir".into(),
        username: None,
        sealed_password: None,
        enabled: true,
    };
    assert!(first.put_receiver("cc", receiver).await.unwrap());
    for n in 0..40 {
        let body = json!({
            "id": format!("r{n}"), "callerPhoneNumber": "+1", "dialedPhoneNumber": "+2",
            "region": "r",
            "mediaFiles": [{
                "callUUID": "c", "mediaId": format!("m{n}"),
                "startTime": "2015-06-15T23:00:00Z", "stopTime": "2015-06-15T23:00:30Z",
                "mediaDescriptor": {"storage": "webDAV", "path": "a.mp3"}
            }]
        });
        let recording = Recording::from_json(body.as_object().unwrap().clone()).unwrap();
        first.insert_or_merge("cc", recording).await.unwrap();
    }
    let now = gird_model::datetime::now_millis() + 1_000;
    let mut claimed = Vec::new();
    for _ in 0..10 {
        let (a, b) = tokio::join!(
            first.claim_deliveries(now, now + 60_000, 3),
            second.claim_deliveries(now, now + 60_000, 3)
        );
        claimed.extend(a.unwrap().into_iter().map(|d| d.id));
        claimed.extend(b.unwrap().into_iter().map(|d| d.id));
    }
    let unique: std::collections::HashSet<i64> = claimed.iter().copied().collect();
    assert_eq!(unique.len(), claimed.len(), "a delivery was claimed twice");
    assert_eq!(unique.len(), 40);
    first.close().await;
    second.close().await;
    drop_database(&url).await;
}

/// A retried POST is answered from the digests of what was merged, without reading the
/// stored record: shown by damaging the record, which a real merge would have to parse.
#[tokio::test]
async fn a_retried_merge_is_answered_without_reading_the_record() {
    let url = fresh_database().await;
    let (store, _) = PostgresStore::open(&url).await.unwrap();
    assert!(store.create_contact_center("cc", &[]).await.unwrap());
    for minute in 0..3 {
        let media_id = format!("m{minute}");
        store
            .insert_or_merge("cc", call("r", &media_id, minute))
            .await
            .unwrap();
    }
    let retried = store.insert_or_merge("cc", call("r", "m1", 1)).await;
    assert_eq!(retried.unwrap(), InsertOutcome::Unchanged);
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
        .execute("UPDATE recordings SET body = 'damaged' WHERE id = 'r'", &[])
        .await
        .unwrap();
    for _ in 0..2 {
        let again = store.insert_or_merge("cc", call("r", "m1", 1)).await;
        assert_eq!(again.unwrap(), InsertOutcome::Unchanged);
        let again = store.insert_or_merge("cc", call("r", "m2", 2)).await;
        assert_eq!(again.unwrap(), InsertOutcome::Unchanged);
    }
    assert!(
        store
            .insert_or_merge("cc", call("r", "m9", 9))
            .await
            .is_err(),
        "a new POST must read the record"
    );
    drop(client);
    store.close().await;
    drop_database(&url).await;
}

/// A record stored under rules that were later tightened still reads, merges and
/// deletes: stored records are decoded, not validated again.
#[tokio::test]
async fn a_record_stored_under_older_rules_still_reads_merges_and_deletes() {
    let url = fresh_database().await;
    let (store, _) = PostgresStore::open(&url).await.unwrap();
    assert!(store.create_contact_center("cc", &[]).await.unwrap());
    store
        .insert_or_merge("cc", call("old", "m1", 1))
        .await
        .unwrap();
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
        .execute(
            "UPDATE recordings SET body = jsonb_set(jsonb_set(jsonb_set(body::jsonb,
                 '{recording,region}', '42'), '{recording,mediaFiles,0,type}', '\"not a type\"'),
                 '{recording,callType}', '\"Weird\"')::text
             WHERE id = 'old'",
            &[],
        )
        .await
        .unwrap();
    let found = store.recording("cc", "old").await.unwrap().unwrap();
    assert_eq!(found.stored.recording["region"], 42);
    let merged = store.insert_or_merge("cc", call("old", "m2", 2)).await;
    assert_eq!(merged.unwrap(), InsertOutcome::Merged);
    let deleted = store.delete_recording("cc", "old").await.unwrap();
    assert!(matches!(deleted, crate::DeletionStart::Ready(_)));
    drop(client);
    store.close().await;
    drop_database(&url).await;
}
