//! The PostgreSQL backend, whatever `GIRD_TEST_BACKEND` says: several instances on one
//! database, instances starting together, `gird migrate`, `GIRD_DATABASE`; an outage of
//! the database is in `outage`.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::time::{timeout, Instant};

use crate::body::{media_by_id, minimal_record, sample, segment};
use crate::helpers::{send, strong_password, Api, AppBuilder, Backend, TestApp, TestDatabase};

/// How long a contact center created through one instance may take to reach another.
pub const PROPAGATION: Duration = Duration::from_secs(3);
pub const POLL: Duration = Duration::from_millis(20);

pub fn on_postgres() -> AppBuilder {
    AppBuilder::new().backend(Backend::Postgres)
}

/// A second instance on the database of `app`, with a data folder of its own.
pub async fn second_instance(app: &TestApp, builder: AppBuilder) -> TestApp {
    builder.share_database(app).spawn().await
}

/// Inserts `minimal_record(id)` through `api` until it is accepted; fails after
/// [`PROPAGATION`] or on any answer but "no such contact center" / "feature missing".
pub async fn insert_once_usable(api: &Api, cc: &str, id: &str) {
    let deadline = Instant::now() + PROPAGATION;
    loop {
        let response = api.insert(cc, &minimal_record(id)).await;
        if response.is_ok() {
            return;
        }
        let body = response.json();
        let not_yet = matches!(
            (response.status.as_u16(), body["statusCode"].as_i64()),
            (404, Some(6)) | (403, Some(3))
        );
        assert!(not_yet, "unexpected answer: {}", response.text);
        assert!(
            Instant::now() < deadline,
            "{cc} is not usable within {PROPAGATION:?}: {}",
            response.text
        );
        tokio::time::sleep(POLL).await;
    }
}

/// The stored view of `id` through `api`, polling while the contact center is unknown
/// there; fails after [`PROPAGATION`].
async fn read_once_visible(api: &Api, cc: &str, id: &str) -> Value {
    let deadline = Instant::now() + PROPAGATION;
    loop {
        let response = api.get_recording(cc, id).await;
        if response.status == StatusCode::OK {
            return response.json()["recording"].clone();
        }
        let message = response.assert_error(404, 6);
        assert!(
            Instant::now() < deadline,
            "{cc}/{id} is not readable within {PROPAGATION:?}: {message}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// The stored view, read with a fixed Host header so that instances give equal URIs.
async fn read_view(api: &Api, cc: &str, id: &str) -> Value {
    let path = format!("/api/v2/ops/contact-centers/{cc}/recordings/{id}");
    let response = send(api.request(Method::GET, &path).header("host", "gird.test")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.json()["recording"].clone()
}

#[tokio::test]
async fn two_instances_keep_every_concurrent_segment_of_one_call() {
    let first = on_postgres().spawn().await;
    let second = second_instance(&first, AppBuilder::new()).await;
    let cc = first.ready_contact_center().await;
    insert_once_usable(&second, &cc, "probe").await;
    const SEGMENTS: usize = 60;

    let tasks: Vec<_> = (0..SEGMENTS)
        .map(|index| {
            let api = [&first, &second][index % 2].api.clone();
            let cc = cc.clone();
            tokio::spawn(async move { api.insert(&cc, &segment("shared-call", index)).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("insert task").assert_ok();
    }

    let record = read_view(&first, &cc, "shared-call").await;
    let media = record["mediaFiles"].as_array().unwrap();
    let events = record["eventHistory"].as_array().unwrap();
    assert_eq!(
        (media.len(), events.len()),
        (SEGMENTS, SEGMENTS),
        "no segment is lost"
    );
    for index in 0..SEGMENTS {
        media_by_id(&record, &format!("shared-call-media-{index}"));
    }
    assert!(record.get("mergeConflicts").is_none(), "{record}");
    assert_eq!(read_view(&second, &cc, "shared-call").await, record);
}

#[tokio::test]
async fn instances_sharing_the_key_and_database_accept_each_others_tokens() {
    let key = strong_password();
    let with_key = |builder: AppBuilder| builder.csrf().arg("--csrf-key", &key);
    let first = with_key(on_postgres()).spawn().await;
    let second = second_instance(&first, with_key(AppBuilder::new())).await;

    // Everything through the second instance, with the session the first handed out.
    let mut api = second.api.clone();
    api.csrf = first.api.csrf.clone();
    let cc = api.ready_contact_center().await;
    api.insert(&cc, &sample()).await.assert_ok();
    read_once_visible(&first, &cc, "alex-test-id").await;
}

#[tokio::test]
async fn a_contact_center_created_through_one_instance_is_usable_through_another() {
    let first = on_postgres().spawn().await;
    let second = second_instance(&first, AppBuilder::new()).await;
    // Let the second instance see (and perhaps remember) that the contact center is missing.
    let cc = crate::helpers::unique("cc");
    second.insert(&cc, &sample()).await.assert_error(404, 6);

    first.create_contact_center(&cc).await;
    first.enable_feature(&cc).await;
    insert_once_usable(&second, &cc, "through-second").await;
    first.recording(&cc, "through-second").await;
}

#[tokio::test]
async fn instances_starting_together_on_a_new_database_both_serve() {
    let database = TestDatabase::create().await;
    let builders = [0, 1].map(|_| AppBuilder::new().arg("--database", database.url()));
    let (first, second) = tokio::join!(builders[0].spawn(), builders[1].spawn());
    let cc = first.ready_contact_center().await;
    insert_once_usable(&second, &cc, "both").await;
    first.recording(&cc, "both").await;
}

/// Runs `gird migrate --database url`; answers whether it exited 0, and its output.
async fn migrate(url: &str) -> (bool, String) {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_gird"))
        .args(["migrate", "--database", url])
        .env_remove("GIRD_DATABASE")
        .kill_on_drop(true)
        .output();
    let output = timeout(crate::helpers::PATIENCE, run)
        .await
        .expect("gird migrate finishes")
        .expect("run gird migrate");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test]
async fn migrate_prepares_an_empty_database_and_can_run_again() {
    let database = TestDatabase::create().await;
    let (migrated, output) = migrate(database.url()).await;
    assert!(migrated, "gird migrate on an empty database: {output}");
    let tables = database.tables().await;
    assert!(!tables.is_empty(), "gird migrate creates the tables");
    let (migrated, output) = migrate(database.url()).await;
    assert!(migrated, "gird migrate a second time: {output}");
    assert_eq!(database.tables().await, tables);

    let app = AppBuilder::new()
        .arg("--database", database.url())
        .spawn()
        .await;
    // A database made by `gird migrate` starts like one made by `gird serve`.
    let mut default_sample = sample();
    default_sample["id"] = "migrated-default".into();
    for media_file in default_sample["mediaFiles"].as_array_mut().unwrap() {
        media_file.as_object_mut().unwrap().remove("mediaId");
    }
    app.insert("default", &default_sample).await.assert_ok();
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &sample()).await.assert_ok();
    let (status, _) = app.stop().await;
    assert!(status.success());

    let (migrated, output) = migrate(database.url()).await;
    assert!(migrated, "gird migrate on a database in use: {output}");
    let app = AppBuilder::new()
        .arg("--database", database.url())
        .spawn()
        .await;
    app.recording(&cc, "alex-test-id").await;
}

#[tokio::test]
async fn the_database_can_come_from_gird_database() {
    let database = TestDatabase::create().await;
    let app = AppBuilder::new()
        .env("GIRD_DATABASE", database.url())
        .spawn()
        .await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &sample()).await.assert_ok();
    assert!(!database.tables_containing("alex-test-id").await.is_empty());
    assert!(!app.data_dir.join("gird.db").exists(), "not on SQLite");
}
