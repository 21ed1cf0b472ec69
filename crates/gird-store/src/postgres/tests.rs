//! Needs a PostgreSQL server: `GIRD_TEST_POSTGRES_URL`, by default the local one
//! (`postgres://postgres@127.0.0.1:5432/postgres`); each test makes its own database.

use crate::prelude::*;
use gird_model::search::{phone_match, AGENT};
use gird_model::Recording;
use gird_testkit::TestDatabase;
use serde_json::json;
use tokio_postgres::NoTls;

use super::PostgresStore;
use crate::plan::{Dialect, Param, Plan};
use crate::{Direction, SearchQuery, Store};

#[tokio::test]
async fn migrating_twice_is_fine() {
    let db = TestDatabase::create().await;
    let url = db.url().to_owned();
    let (store, created) = PostgresStore::open(&url).await.unwrap();
    assert!(created);
    assert!(!PostgresStore::migrate(&url).await.unwrap());
    store.close().await;
    let (_, created) = PostgresStore::open(&url).await.unwrap();
    assert!(!created);
    db.drop().await.unwrap();
}

/// A database of its own, for the conformance suite.
struct Harness {
    db: tokio::sync::Mutex<Option<TestDatabase>>,
    url: String,
    store: PostgresStore,
}

async fn harness() -> Harness {
    let db = TestDatabase::create().await;
    let url = db.url().to_owned();
    let (store, _) = PostgresStore::open(&url).await.unwrap();
    assert!(store
        .create_contact_center("cc", &["example.com".into()])
        .await
        .unwrap());
    Harness {
        db: tokio::sync::Mutex::new(Some(db)),
        url,
        store,
    }
}

#[async_trait::async_trait]
impl crate::conformance::Harness for Harness {
    fn store(&self) -> &dyn Store {
        &self.store
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn execute(&self, sql: &str) {
        let (client, connection) = tokio_postgres::connect(&self.url, NoTls).await.unwrap();
        tokio::spawn(connection);
        client.execute(sql, &[]).await.unwrap();
    }

    async fn close(&self) {
        self.store.close().await;
        if let Some(db) = self.db.lock().await.take() {
            db.drop().await.unwrap();
        }
    }
}

mod conformance {
    crate::conformance::suite!(super::harness);
}

#[tokio::test]
async fn every_search_can_use_an_index() {
    let db = TestDatabase::create().await;
    let url = db.url().to_owned();
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
    db.drop().await.unwrap();
}

/// Two instances claiming at once never get the same delivery.
#[tokio::test]
async fn instances_share_the_outbox_without_double_claims() {
    let db = TestDatabase::create().await;
    let url = db.url().to_owned();
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
    db.drop().await.unwrap();
}

/// A database made before visibility terms were indexed gets them when migrated.
#[tokio::test]
async fn migrating_indexes_who_may_see_the_stored_recordings() {
    let db = TestDatabase::create().await;
    let url = db.url().to_owned();
    let (store, _) = PostgresStore::open(&url).await.unwrap();
    assert!(store.create_contact_center("cc", &[]).await.unwrap());
    let mut grouped = crate::conformance::segment("r1", "m1", 1);
    grouped.media_files[0].json["accessgroups"] = json!(["/Sales/East"]);
    store.insert_or_merge("cc", grouped).await.unwrap();
    store.close().await;
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(&format!(
            "DELETE FROM search_terms WHERE kind IN ('granted-group', 'in-partition');
             DROP TABLE users;
             DROP TABLE recording_access;
             DROP TABLE decryption_keys;
             DELETE FROM gird_migrations WHERE version >= {};",
            crate::access::VISIBILITY_MIGRATION
        ))
        .await
        .unwrap();
    drop(client);
    let (store, _) = PostgresStore::open(&url).await.unwrap();
    let sales = gird_model::access::Visibility::new("sup", &["/Sales".into()], &[]);
    let query = SearchQuery {
        contact_center: "cc".into(),
        limit: 10,
        visibility: Some(sales),
        ..SearchQuery::default()
    };
    assert_eq!(store.search(query).await.unwrap().recordings.len(), 1);
    store.close().await;
    db.drop().await.unwrap();
}
