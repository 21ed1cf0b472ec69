//! Forwarding to SpeechMiner (API.md "Forwarding to SpeechMiner"): every change of a
//! record reaches the receiver once, in order, through failures, time-outs, dropped
//! connections and a kill -9; dead letters are kept and can be posted again.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use crate::body::{complete_record, sample};
use crate::helpers::{send, strong_password, ApiResponse, AppBuilder, TestApp};
use crate::receiver::{Answer, Receiver};

fn receiver_path(cc: &str) -> String {
    format!("/api/v2/ops/contact-centers/{cc}/speechminer")
}

impl crate::helpers::Api {
    pub async fn put_receiver(&self, cc: &str, body: &Value) -> ApiResponse {
        send(self.request(Method::PUT, &receiver_path(cc)).json(body)).await
    }

    pub async fn get_receiver(&self, cc: &str) -> ApiResponse {
        send(self.request(Method::GET, &receiver_path(cc))).await
    }

    pub async fn delete_receiver(&self, cc: &str) -> ApiResponse {
        send(self.request(Method::DELETE, &receiver_path(cc))).await
    }

    pub async fn repost(&self, cc: &str, body: &Value) -> ApiResponse {
        let path = format!("{}/repost", receiver_path(cc));
        send(self.request(Method::POST, &path).json(body)).await
    }

    /// The `outbox` answer of a contact center (counts and dead letters).
    pub async fn outbox(&self, cc: &str) -> Value {
        let path = format!("{}/outbox", receiver_path(cc));
        succeeded(send(self.request(Method::GET, &path)).await)
    }

    /// The latest delivery of a recording, or null.
    pub async fn delivery(&self, cc: &str, id: &str) -> Value {
        let path = format!("{}/deliveries/{id}", receiver_path(cc));
        succeeded(send(self.request(Method::GET, &path)).await)["delivery"].clone()
    }

    /// The latest delivery of a recording once gird has recorded it as delivered: the
    /// receiver sees the post a moment before gird hears its answer and writes it down.
    pub async fn delivered(&self, cc: &str, id: &str) -> Value {
        crate::helpers::eventually(&format!("{id} is recorded as delivered"), || async {
            self.delivery(cc, id).await["state"] == "delivered"
        })
        .await;
        self.delivery(cc, id).await
    }
}

/// The body of an answer with HTTP 200 and statusCode 0.
fn succeeded(response: ApiResponse) -> Value {
    assert_eq!(response.status.as_u16(), 200, "{}", response.text);
    let body = response.json();
    assert_eq!(body["statusCode"], 0, "{body}");
    body
}

/// Short waits, so that retries happen within a test's patience.
pub fn quick_retries() -> AppBuilder {
    AppBuilder::new()
        .arg("--speechminer-initial-backoff-ms", "50")
        .arg("--speechminer-max-backoff-ms", "200")
        .arg("--speechminer-timeout-seconds", "1")
}

/// A contact center that forwards to `receiver` with Basic credentials; answers its id
/// and the password.
pub async fn forwarding_contact_center(app: &TestApp, receiver: &Receiver) -> (String, String) {
    let cc = app.ready_contact_center().await;
    let password = strong_password();
    let body = json!({"url": receiver.url, "username": "sm-user", "password": password});
    app.put_receiver(&cc, &body).await.assert_ok();
    (cc, password)
}

fn record(id: &str) -> Value {
    complete_record(id)
}

/// The segment `n` of one call: a record with one media file of its own.
fn segment(id: &str, n: usize) -> Value {
    let mut body = complete_record(id);
    body["mediaFiles"][0]["mediaId"] = json!(format!("{id}-media-{n}"));
    body["mediaFiles"][0]["startTime"] = json!(format!("2015-06-15T23:5{n}:00.000Z"));
    body["mediaFiles"][0]["stopTime"] = json!(format!("2015-06-15T23:5{n}:30.000Z"));
    body
}

fn media_count(body: &Value) -> usize {
    body["mediaFiles"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn each_record_is_posted_with_credentials_and_an_idempotency_key() {
    let receiver = Receiver::start().await;
    let app = quick_retries().spawn().await;
    let (cc, password) = forwarding_contact_center(&app, &receiver).await;

    app.insert(&cc, &sample()).await.assert_ok();
    let got = receiver.wait_for_accepted(1).await;
    let post = &got[0];
    assert_eq!(post.path, "/interactionreceiver");
    // The record as stored: what was posted, media files and events in time order.
    let posted = sample();
    for field in [
        "id",
        "callerPhoneNumber",
        "dialedPhoneNumber",
        "region",
        "callType",
    ] {
        assert_eq!(post.body[field], posted[field], "{field}");
    }
    let media_ids = |record: &Value| {
        let mut ids: Vec<String> = record["mediaFiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|media| media["mediaId"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(media_ids(&post.body), media_ids(&posted));
    assert_eq!(post.body["eventHistory"].as_array().map(Vec::len), Some(2));
    let expected = format!("Basic {}", STANDARD.encode(format!("sm-user:{password}")));
    assert_eq!(post.header("authorization"), Some(expected.as_str()));
    assert_eq!(post.header("content-type"), Some("application/json"));
    let key = post.header("idempotency-key").expect("an idempotency key");
    assert_eq!(key.len(), 36, "a UUID: {key}");
    assert_eq!(post.header("x-gird-delivery-attempt"), Some("1"));

    let delivery = app.delivered(&cc, "alex-test-id").await;
    let outbox = app.outbox(&cc).await;
    assert_eq!(outbox["outbox"]["delivered"], 1, "{outbox}");
    assert_eq!(outbox["outbox"]["queued"], 0, "{outbox}");
    assert_eq!(outbox["deadLetters"], json!([]));
    assert_eq!(delivery["attempts"], 1);
    receiver.assert_no_more_than(1, &app, &cc).await;
}

#[tokio::test]
async fn every_change_is_delivered_once_in_order_and_a_retried_post_is_not() {
    let receiver = Receiver::start().await;
    let app = quick_retries().spawn().await;
    let (cc, _) = forwarding_contact_center(&app, &receiver).await;

    app.insert(&cc, &segment("call-1", 1)).await.assert_ok();
    receiver.wait_for_accepted(1).await;
    app.insert(&cc, &segment("call-1", 2)).await.assert_ok();
    app.insert(&cc, &segment("call-1", 2)).await.assert_ok();
    let got = receiver.wait_for_accepted(2).await;
    assert_eq!(media_count(&got[0].body), 1);
    assert_eq!(media_count(&got[1].body), 2, "the merged record");
    assert_ne!(
        got[0].header("idempotency-key"),
        got[1].header("idempotency-key")
    );
    receiver.assert_no_more_than(2, &app, &cc).await;

    // Changes made while the receiver is down arrive in order once it is back; those
    // that waited together are sent as one, the latest state.
    receiver.answer(Answer::Status(503));
    for n in 3..=5 {
        app.insert(&cc, &segment("call-1", n)).await.assert_ok();
    }
    receiver.wait_for_requests(4).await;
    receiver.answer(Answer::Ok);
    crate::helpers::eventually("the latest state is delivered", || async {
        receiver
            .accepted()
            .last()
            .is_some_and(|post| media_count(&post.body) == 5)
    })
    .await;
    let counts: Vec<usize> = receiver
        .accepted()
        .iter()
        .map(|post| media_count(&post.body))
        .collect();
    assert_eq!(&counts[..2], [1, 2]);
    assert!(
        counts.windows(2).all(|pair| pair[0] < pair[1]),
        "in order: {counts:?}"
    );
    assert!(
        counts.len() < 5,
        "waiting changes were sent as one: {counts:?}"
    );
    app.delivered(&cc, "call-1").await;
}

#[tokio::test]
async fn small_changes_while_the_receiver_is_down_queue_one_snapshot() {
    let receiver = Receiver::start().await;
    receiver.answer(Answer::Status(503));
    let app = quick_retries().spawn().await;
    let (cc, _) = forwarding_contact_center(&app, &receiver).await;
    for n in 1..=9 {
        app.insert(&cc, &segment("busy", n)).await.assert_ok();
    }
    let status = app.outbox(&cc).await;
    let counts = &status["outbox"];
    let pending = counts["queued"].as_u64().unwrap() + counts["inFlight"].as_u64().unwrap();
    assert!(
        pending <= 2,
        "9 changes queued {pending} snapshots: {status}"
    );
    receiver.answer(Answer::Ok);
    crate::helpers::eventually("the latest state is delivered", || async {
        receiver
            .accepted()
            .last()
            .is_some_and(|post| media_count(&post.body) == 9)
    })
    .await;
}

#[tokio::test]
async fn failures_time_outs_and_dropped_connections_are_retried_until_delivered() {
    let receiver = Receiver::start().await;
    receiver.script(&[
        Answer::Status(500),
        Answer::Close,
        Answer::Hang,
        Answer::Status(502),
    ]);
    let app = quick_retries().spawn().await;
    let (cc, _) = forwarding_contact_center(&app, &receiver).await;

    app.insert(&cc, &record("retried")).await.assert_ok();
    let got = receiver.wait_for_accepted(1).await;
    let all = receiver.requests();
    assert_eq!(all.len(), 5, "four failures, then the delivery: {all:?}");
    let keys: Vec<_> = all.iter().map(|r| r.header("idempotency-key")).collect();
    assert!(
        keys.iter().all(|key| *key == keys[0]),
        "one key for every attempt: {keys:?}"
    );
    assert_eq!(got[0].header("x-gird-delivery-attempt"), Some("5"));
    let delivery = app.delivered(&cc, "retried").await;
    assert_eq!(delivery["attempts"].as_u64(), Some(5), "{delivery}");
    receiver.assert_no_more_than(5, &app, &cc).await;
}

#[tokio::test]
async fn after_max_attempts_a_delivery_is_a_dead_letter_until_reposted() {
    let receiver = Receiver::start().await;
    receiver.answer(Answer::Status(500));
    let app = quick_retries()
        .arg("--speechminer-max-attempts", "3")
        .spawn()
        .await;
    let (cc, _) = forwarding_contact_center(&app, &receiver).await;

    app.insert(&cc, &record("doomed")).await.assert_ok();
    receiver.wait_for_requests(3).await;
    receiver.assert_no_more_than(3, &app, &cc).await;
    let outbox = app.outbox(&cc).await;
    assert_eq!(outbox["outbox"]["failed"], 1, "{outbox}");
    let letter = &outbox["deadLetters"][0];
    assert_eq!(letter["recordingId"], "doomed");
    assert_eq!(letter["attempts"], 3);
    let error = letter["lastError"].as_str().unwrap();
    assert!(
        error.contains("HTTP 500 Internal Server Error") && !error.contains("receiver down"),
        "the status, never the receiver's words: {error}"
    );

    receiver.answer(Answer::Ok);
    let reposted = succeeded(app.repost(&cc, &json!({"deadLetters": true})).await);
    assert_eq!(reposted["queued"], 1);
    let got = receiver.wait_for_accepted(1).await;
    assert_eq!(got[0].id(), "doomed");
    let outbox = app.outbox(&cc).await;
    assert_eq!(
        (&outbox["outbox"]["failed"], &outbox["outbox"]["delivered"]),
        (&json!(0), &json!(1)),
        "{outbox}"
    );
}

#[tokio::test]
async fn deliveries_pending_at_a_kill_9_are_made_after_the_restart() {
    let receiver = Receiver::start().await;
    receiver.answer(Answer::Status(503));
    let app = quick_retries().spawn().await;
    let (cc, _) = forwarding_contact_center(&app, &receiver).await;
    for n in 0..5 {
        app.insert(&cc, &record(&format!("pending-{n}")))
            .await
            .assert_ok();
    }
    receiver.wait_for_requests(5).await;

    let app = app.restart().await;
    receiver.answer(Answer::Ok);
    let got = receiver.wait_for_accepted(5).await;
    let mut ids: Vec<&str> = got.iter().map(|post| post.id()).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        [
            "pending-0",
            "pending-1",
            "pending-2",
            "pending-3",
            "pending-4"
        ]
    );
    let seen = receiver.requests().len();
    receiver.assert_no_more_than(seen, &app, &cc).await;
    let outbox = app.outbox(&cc).await;
    assert_eq!(outbox["outbox"]["delivered"], 5, "{outbox}");
}

#[tokio::test]
async fn a_media_file_can_name_another_receiver_which_gets_no_credentials() {
    let configured = Receiver::start().await;
    let named = Receiver::start().await;
    let app = quick_retries().spawn().await;
    let (cc, _) = forwarding_contact_center(&app, &configured).await;
    // Another origin must be allowed first (outbound.rs tests the refusal).
    let origin = named.url.trim_end_matches("/interactionreceiver");
    app.put_outbound(&cc, &json!({ "origins": [origin] }))
        .await
        .assert_ok();

    let mut body = record("elsewhere");
    body["mediaFiles"][0]["parameters"]["rp.speechminer_uri"] = json!(named.url);
    app.insert(&cc, &body).await.assert_ok();
    let got = named.wait_for_accepted(1).await;
    assert_eq!(got[0].id(), "elsewhere");
    assert_eq!(got[0].header("authorization"), None);
    configured.assert_no_more_than(0, &app, &cc).await;
}

#[tokio::test]
async fn nothing_is_queued_where_forwarding_is_off() {
    let receiver = Receiver::start().await;
    let app = quick_retries().spawn().await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &record("before")).await.assert_ok();
    let off = json!({"url": receiver.url, "enabled": false});
    app.put_receiver(&cc, &off).await.assert_ok();
    app.insert(&cc, &record("while-off")).await.assert_ok();
    receiver.assert_no_more_than(0, &app, &cc).await;
    let outbox = app.outbox(&cc).await;
    assert_eq!(outbox["outbox"]["queued"], 0, "{outbox}");
    app.repost(&cc, &json!({"recordingId": "before"}))
        .await
        .assert_error(403, 3);

    // Turned on, a repost sends what was stored before.
    let on = json!({"url": receiver.url});
    app.put_receiver(&cc, &on).await.assert_ok();
    let reposted = succeeded(app.repost(&cc, &json!({"recordingId": "before"})).await);
    assert_eq!(reposted["queued"], 1);
    let got = receiver.wait_for_accepted(1).await;
    assert_eq!(got[0].id(), "before");
    assert_eq!(got[0].header("authorization"), None, "no username given");
}

#[tokio::test]
async fn a_time_range_is_reposted_as_the_records_are_now() {
    let receiver = Receiver::start().await;
    let app = quick_retries().spawn().await;
    let (cc, _) = forwarding_contact_center(&app, &receiver).await;
    app.insert(&cc, &record("in-range")).await.assert_ok();
    app.insert(&cc, &sample()).await.assert_ok();
    receiver.wait_for_accepted(2).await;

    // complete_record starts at 23:59:00, the sample at 23:58:00.
    let range = json!({"from": "2015-06-15T23:58:30Z", "to": "2015-06-16T00:00:00Z"});
    let reposted = succeeded(app.repost(&cc, &range).await);
    assert_eq!(reposted["queued"], 1);
    let got = receiver.wait_for_accepted(3).await;
    assert_eq!(got[2].id(), "in-range");
    receiver.assert_no_more_than(3, &app, &cc).await;
}

#[tokio::test]
async fn receiver_settings_are_checked_and_never_show_the_password() {
    let app = AppBuilder::new().spawn().await;
    let cc = app.ready_contact_center().await;
    app.get_receiver(&cc).await.assert_error(404, 6);
    app.put_receiver(&cc, &json!({"username": "u"}))
        .await
        .assert_error(400, 1);
    for url in ["ftp://sm.example/", "not a url", "http://u:p@sm.example/"] {
        app.put_receiver(&cc, &json!({ "url": url }))
            .await
            .assert_error(400, 10);
    }
    app.put_receiver(&cc, &json!({"url": "http://sm.example/", "enabled": "yes"}))
        .await
        .assert_error(400, 10);
    app.put_receiver("no-such-cc", &json!({"url": "http://sm.example/"}))
        .await
        .assert_error(404, 6);

    let password = strong_password();
    let body = json!({"url": "https://sm.example/ir", "username": "u", "password": password});
    app.put_receiver(&cc, &body).await.assert_ok();
    let response = app.get_receiver(&cc).await;
    assert!(!response.text.contains(&password), "{}", response.text);
    assert_eq!(
        response.json(),
        json!({"statusCode": 0, "speechMiner": {
            "url": "https://sm.example/ir", "username": "u", "passwordSet": true, "enabled": true
        }})
    );
    app.delete_receiver(&cc).await.assert_ok();
    app.delete_receiver(&cc).await.assert_error(404, 6);
}

#[tokio::test]
async fn bad_repost_requests_are_refused() {
    let receiver = Receiver::start().await;
    let app = quick_retries().spawn().await;
    let (cc, _) = forwarding_contact_center(&app, &receiver).await;
    app.repost(&cc, &json!({})).await.assert_error(400, 1);
    app.repost(&cc, &json!({"from": "2015-06-15T00:00:00Z"}))
        .await
        .assert_error(400, 1);
    app.repost(&cc, &json!({"recordingId": "a", "deadLetters": true}))
        .await
        .assert_error(400, 10);
    app.repost(
        &cc,
        &json!({"from": "2016-01-01T00:00:00Z", "to": "2015-01-01T00:00:00Z"}),
    )
    .await
    .assert_error(400, 10);
    app.repost(&cc, &json!({"recordingId": "missing"}))
        .await
        .assert_error(404, 6);
    app.repost("no-such-cc", &json!({"deadLetters": true}))
        .await
        .assert_error(404, 6);
    receiver.assert_no_more_than(0, &app, &cc).await;
}

#[tokio::test]
async fn receivers_can_come_from_the_configuration_file() {
    let receiver = Receiver::start().await;
    let password = strong_password();
    let yaml = format!(
        "gird:\n  speechminer:\n    initialBackoffMs: 50\n    contactCenters:\n      default:\n        url: {}\n        username: from-file\n        password: {password}\n",
        receiver.url
    );
    let app = AppBuilder::new().config_file(&yaml).spawn().await;
    app.insert("default", &sample()).await.assert_ok();
    let got = receiver.wait_for_accepted(1).await;
    let expected = format!("Basic {}", STANDARD.encode(format!("from-file:{password}")));
    assert_eq!(got[0].header("authorization"), Some(expected.as_str()));
}

/// `gird outbox status` and `gird repost` on the database of a running server.
#[tokio::test]
async fn the_command_line_shows_the_outbox_and_reposts() {
    let receiver = Receiver::start().await;
    receiver.answer(Answer::Status(500));
    let app = quick_retries()
        .arg("--speechminer-max-attempts", "1")
        .spawn()
        .await;
    let (cc, _) = forwarding_contact_center(&app, &receiver).await;
    app.insert(&cc, &record("cli")).await.assert_ok();
    receiver.wait_for_requests(1).await;
    crate::helpers::eventually("a dead letter", || async {
        app.outbox(&cc).await["outbox"]["failed"] == 1
    })
    .await;

    let status = gird(
        &app,
        &["outbox", "status", "--json", "--contact-center", &cc],
    )
    .await;
    let status: Value = serde_json::from_str(&status).expect("JSON status");
    assert_eq!(status[0]["contactCenterId"], cc.as_str());
    assert_eq!(status[0]["forwarding"], true);
    assert_eq!(status[0]["outbox"]["failed"], 1, "{status}");
    let table = gird(&app, &["outbox", "status"]).await;
    assert!(table.contains("failed") && table.contains(&cc), "{table}");

    receiver.answer(Answer::Ok);
    let printed = gird(&app, &["repost", "--contact-center", &cc, "--dead-letters"]).await;
    assert!(printed.contains("queued 1"), "{printed}");
    let got = receiver.wait_for_accepted(1).await;
    assert_eq!(got[0].id(), "cli");
    let printed = gird(
        &app,
        &["repost", "--contact-center", &cc, "--recording", "cli"],
    )
    .await;
    assert!(printed.contains("queued 1"), "{printed}");
    receiver.wait_for_accepted(2).await;

    let missing = gird_output(
        &app,
        &["repost", "--contact-center", &cc, "--recording", "nope"],
    )
    .await;
    assert!(!missing.status.success());
    let error = String::from_utf8_lossy(&missing.stderr);
    assert!(error.contains("\"nope\" does not exist"), "{error}");
}

/// Runs `gird <args>` on the app's database; answers its standard output.
async fn gird(app: &TestApp, args: &[&str]) -> String {
    let output = gird_output(app, args).await;
    assert!(
        output.status.success(),
        "gird {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

async fn gird_output(app: &TestApp, args: &[&str]) -> std::process::Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_gird"));
    command.args(args).arg("--data-dir").arg(&app.data_dir);
    if let Some(database) = app.database() {
        command.args(["--database", database.url()]);
    }
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("GIRD_")) {
        command.env_remove(name);
    }
    command.output().await.expect("run gird")
}

/// Run where no server keeps its data, the commands that only read or queue refuse to
/// make a database: they say where they looked.
#[tokio::test]
async fn outbox_commands_never_create_a_database() {
    let folder = tempfile::tempdir().unwrap();
    let data_dir = folder.path().join("data");
    for args in [
        vec!["outbox", "status"],
        vec!["repost", "--contact-center", "default", "--dead-letters"],
    ] {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_gird"))
            .args(&args)
            .current_dir(folder.path())
            .env_remove("GIRD_DATA_DIR")
            .env_remove("GIRD_DATABASE")
            .output()
            .await
            .unwrap();
        assert!(!output.status.success(), "{args:?}");
        let error = String::from_utf8_lossy(&output.stderr);
        assert!(error.contains("no gird database at"), "{args:?}: {error}");
        assert!(error.contains("gird.db"), "{error}");
        assert!(
            !data_dir.join("gird.db").exists(),
            "{args:?} created a database"
        );
    }
    // An empty PostgreSQL database is not given gird's schema either.
    let database = crate::helpers::TestDatabase::create().await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_gird"))
        .args(["outbox", "status", "--database", database.url()])
        .current_dir(folder.path())
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("no gird database at"), "{error}");
    assert!(database.tables().await.is_empty(), "no schema was made");
}

/// A receiver fixed after a failure: a repost, or a change of the receiver, delivers at
/// once instead of after the backoff the failure earned.
#[tokio::test]
async fn a_repost_or_a_receiver_change_makes_waiting_deliveries_due_now() {
    let receiver = Receiver::start().await;
    receiver.answer(Answer::Status(503));
    let app = AppBuilder::new()
        .arg("--speechminer-initial-backoff-ms", "3600000")
        .arg("--speechminer-max-backoff-ms", "3600000")
        .spawn()
        .await;
    let (cc, password) = forwarding_contact_center(&app, &receiver).await;
    app.insert(&cc, &record("fixed-by-repost"))
        .await
        .assert_ok();
    receiver.wait_for_requests(1).await;
    receiver.answer(Answer::Ok);
    // The next attempt is an hour away; the repost makes it now, and queues no second one.
    let reposted = app
        .repost(&cc, &json!({"recordingId": "fixed-by-repost"}))
        .await;
    assert_eq!(reposted.json()["queued"], 1, "{}", reposted.text);
    let got = receiver.wait_for_accepted(1).await;
    assert_eq!(got[0].header("x-gird-delivery-attempt"), Some("2"));

    receiver.answer(Answer::Status(503));
    app.insert(&cc, &record("fixed-by-change"))
        .await
        .assert_ok();
    receiver.wait_for_requests(3).await;
    receiver.answer(Answer::Ok);
    let body = json!({"url": receiver.url, "username": "sm-user", "password": password});
    app.put_receiver(&cc, &body).await.assert_ok();
    let got = receiver.wait_for_accepted(2).await;
    assert_eq!(got[1].id(), "fixed-by-change");
    receiver.assert_no_more_than(4, &app, &cc).await;
}

/// The outbox gauge counts each delivery in one state: summing them does not count a
/// retrying delivery twice.
#[tokio::test]
async fn the_outbox_gauge_states_add_up() {
    let receiver = Receiver::start().await;
    receiver.answer(Answer::Status(503));
    let app = AppBuilder::new()
        .arg("--speechminer-initial-backoff-ms", "3600000")
        .arg("--speechminer-max-backoff-ms", "3600000")
        .spawn()
        .await;
    let (cc, _) = forwarding_contact_center(&app, &receiver).await;
    app.insert(&cc, &record("gauged")).await.assert_ok();
    receiver.wait_for_requests(1).await;
    crate::helpers::eventually("the delivery is retrying", || async {
        app.outbox(&cc).await["outbox"]["retrying"] == 1
    })
    .await;
    let metrics = send(app.request(reqwest::Method::GET, "/metrics"))
        .await
        .text;
    let gauge = |state: &str| {
        let prefix = format!("gird_outbox_deliveries{{state=\"{state}\"}} ");
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {state} gauge"))
            .trim()
            .to_owned()
    };
    assert_eq!(gauge("retrying"), "1");
    assert_eq!(gauge("queued"), "0", "not counted twice");
}
