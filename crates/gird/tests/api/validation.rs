//! Every rule of docs/API.md: missing fields are statusCode 1, wrong ones statusCode 10, each
//! named by its JSON path; a rejected request stores nothing.

use serde_json::{json, Value};

use crate::body::{complete_record, edited, json_path, media_file, remove, set, Edit};
use crate::helpers::{spawn_app, TestApp};

const ID: &str = "validation";

/// One rejected variant of the complete record.
struct Case {
    edits: Vec<Edit>,
    status_code: i64,
    /// The JSON path the message must name.
    path: String,
}

fn missing(pointer: &str) -> Case {
    Case {
        edits: vec![remove(pointer)],
        status_code: 1,
        path: json_path(pointer),
    }
}

fn invalid(pointer: &str, value: Value) -> Case {
    invalid_at(vec![set(pointer, value)], &json_path(pointer))
}

fn invalid_at(edits: Vec<Edit>, path: &str) -> Case {
    Case {
        edits,
        status_code: 10,
        path: path.to_owned(),
    }
}

fn missing_cases() -> Vec<Case> {
    [
        "/id",
        "/callerPhoneNumber",
        "/dialedPhoneNumber",
        "/region",
        "/mediaFiles",
        "/mediaFiles/0/callUUID",
        "/mediaFiles/0/startTime",
        "/mediaFiles/0/stopTime",
        "/mediaFiles/0/mediaDescriptor",
        "/mediaFiles/0/mediaDescriptor/storage",
        "/mediaFiles/0/mediaDescriptor/path",
        "/mediaFiles/0/masks/0/time",
        "/mediaFiles/0/masks/1/type",
        "/eventHistory/0/occurredAt",
        "/eventHistory/0/event",
        "/eventHistory/0/eventId",
        "/eventHistory/0/data",
        "/eventHistory/1/contact",
        "/eventHistory/1/contact/type",
        "/eventHistory/1/contact/phoneNumber",
        "/eventHistory/1/contact/userName",
        "/eventHistory/2/contact",
        "/eventHistory/2/contact/type",
        "/eventHistory/2/contact/phoneNumber",
    ]
    .into_iter()
    .map(missing)
    .collect()
}

fn invalid_cases() -> Vec<Case> {
    let media = |name: &str| format!("/mediaFiles/0/{name}");
    let mut cases = vec![
        invalid("/id", json!("")),
        invalid("/id", json!("x".repeat(257))),
        invalid("/id", json!(42)),
        invalid("/callerPhoneNumber", json!(14160000000u64)),
        invalid("/dialedPhoneNumber", json!(["+1"])),
        invalid("/region", json!(true)),
        invalid("/mediaFiles", json!([])),
        invalid("/mediaFiles", json!({})),
        invalid("/mediaFiles/0", json!("file1.mp3")),
        invalid("/callType", json!("Sideways")),
        invalid("/callType", json!(1)),
        invalid(&media("callUUID"), json!(123123)),
        invalid(&media("startTime"), json!("2015-13-01T00:00:00")),
        invalid(&media("startTime"), json!(1434412740000u64)),
        invalid(&media("stopTime"), json!("2015-06-15T23:58:00.000Z")),
        invalid(&media("stopTime"), json!("later")),
        invalid(&media("mediaId"), json!(5)),
        invalid(&media("type"), json!(5)),
        invalid(&media("type"), json!("mp3")),
        invalid(&media("duration"), json!("-1")),
        invalid(&media("duration"), json!(-1)),
        invalid(&media("duration"), json!("abc")),
        invalid(&media("duration"), json!(true)),
        invalid(&media("duration"), json!("")),
        invalid(&media("size"), json!("-3")),
        invalid(&media("size"), json!([])),
        invalid(&media("tenant"), json!(1)),
        invalid(&media("ivrprofile"), json!(1)),
        invalid(&media("pkcs7"), json!({})),
        invalid(&media("parameters"), json!("username=bob")),
        invalid(&media("masks"), json!("paused")),
        invalid(&media("masks/0"), json!("paused")),
        invalid(&media("masks/0/type"), json!("stopped")),
        invalid(&media("masks/1/time"), json!("noon")),
        invalid(&media("certAlias"), json!("alias-1")),
        invalid_at(
            vec![set(&media("certAlias"), json!(["a", 1]))],
            "mediaFiles[0].certAlias[1]",
        ),
        invalid(&media("partitions"), json!("p")),
        invalid_at(
            vec![set(&media("accessgroups"), json!([true]))],
            "mediaFiles[0].accessgroups[0]",
        ),
        invalid(
            &media("mediaDescriptor"),
            json!("http://example.com/file1.mp3"),
        ),
        invalid(&media("mediaDescriptor/storage"), json!("s3")),
        invalid(&media("mediaDescriptor/storage"), json!(1)),
        invalid(
            &media("mediaDescriptor/path"),
            json!("ftp://example.com/a.mp3"),
        ),
        invalid(&media("mediaDescriptor/path"), json!("")),
        invalid(&media("mediaDescriptor/path"), json!("http://")),
        invalid(&media("mediaDescriptor/path"), json!(42)),
        invalid("/eventHistory", json!({"event": "Joined"})),
        invalid("/eventHistory/0", json!("Data")),
        invalid("/eventHistory/0/occurredAt", json!("yesterday")),
        invalid("/eventHistory/0/event", json!("Exploded")),
        invalid("/eventHistory/0/event", json!(1)),
        invalid("/eventHistory/0/eventId", json!(5)),
        invalid("/eventHistory/0/data", json!("drink=cola")),
        invalid("/eventHistory/0/data", json!([1])),
        invalid("/eventHistory/0/calluuid", json!(5)),
        invalid("/eventHistory/1/contact", json!("agent.bob")),
        invalid("/eventHistory/1/contact/type", json!("Robot")),
        invalid("/eventHistory/1/contact/phoneNumber", json!(417001)),
        invalid("/eventHistory/1/contact/userName", json!(5)),
        invalid("/eventHistory/1/contact/firstName", json!(5)),
    ];
    for name in [
        "username", "agentId", "recordDN", "dnis", "ani", "callUuid", "id",
    ] {
        cases.push(invalid(&media(&format!("parameters/{name}")), json!(7)));
    }
    cases
}

/// Posts every case to one contact center; each must be rejected and store nothing.
async fn check(app: &TestApp, cc: &str, cases: Vec<Case>) {
    let base = complete_record(ID);
    for case in cases {
        let pointers: Vec<_> = case.edits.iter().map(|e| e.pointer().to_owned()).collect();
        let body = edited(&base, case.edits);
        let message = app
            .insert(cc, &body)
            .await
            .assert_error(400, case.status_code);
        if case.status_code == 1 {
            assert_eq!(
                message,
                format!("{}: is required", case.path),
                "{pointers:?}"
            );
        } else {
            let prefix = format!("{}: ", case.path);
            assert!(
                message.starts_with(&prefix),
                "{pointers:?}: expected {prefix:?}, got {message:?}"
            );
        }
        app.assert_absent(cc, ID).await;
    }
    app.insert(cc, &base).await.assert_ok();
}

#[tokio::test]
async fn each_missing_required_field_is_named() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    check(&app, &cc, missing_cases()).await;
}

#[tokio::test]
async fn each_wrong_value_is_named() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    check(&app, &cc, invalid_cases()).await;
}

#[tokio::test]
async fn every_violation_is_listed_and_missing_wins() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let body = edited(
        &complete_record(ID),
        [
            remove("/region"),
            set("/callType", json!("Sideways")),
            set("/mediaFiles/0/mediaDescriptor/storage", json!("s3")),
            remove("/eventHistory/1/contact/userName"),
            set("/eventHistory/2/contact/type", json!("Robot")),
        ],
    );
    let message = app.insert(&cc, &body).await.assert_error(400, 1);
    for expected in [
        "region: is required",
        "callType: ",
        "mediaFiles[0].mediaDescriptor.storage: ",
        "eventHistory[1].contact.userName: is required",
        "eventHistory[2].contact.type: ",
    ] {
        assert!(message.contains(expected), "{expected:?} in {message:?}");
    }
    assert_eq!(message.matches("; ").count(), 4, "{message}");
    app.assert_absent(&cc, ID).await;

    let only_invalid = edited(
        &complete_record(ID),
        [set("/id", json!(7)), set("/mediaFiles/0/size", json!("-1"))],
    );
    let message = app.insert(&cc, &only_invalid).await.assert_error(400, 10);
    assert!(
        message.contains("id: ") && message.contains("mediaFiles[0].size: "),
        "{message}"
    );
}

fn with_bad_durations(count: usize) -> Value {
    let files: Vec<Value> = (0..count)
        .map(|index| {
            let mut file = media_file(
                &format!("m-{index}"),
                "2015-06-15T23:59:00Z",
                "2015-06-15T23:59:59Z",
            );
            file["duration"] = json!("-1");
            file
        })
        .collect();
    edited(
        &complete_record(ID),
        [set("/mediaFiles", Value::Array(files))],
    )
}

#[tokio::test]
async fn at_most_twenty_violations_are_listed() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;

    let message = app
        .insert(&cc, &with_bad_durations(20))
        .await
        .assert_error(400, 10);
    assert!(message.contains("mediaFiles[19].duration: "), "{message}");
    assert!(!message.contains("more"), "{message}");

    let message = app
        .insert(&cc, &with_bad_durations(25))
        .await
        .assert_error(400, 10);
    assert!(message.contains("mediaFiles[0].duration: "), "{message}");
    assert!(message.contains("mediaFiles[19].duration: "), "{message}");
    assert!(!message.contains("mediaFiles[20]"), "{message}");
    assert!(message.contains("(and 5 more)"), "{message}");
    app.assert_absent(&cc, ID).await;
}

#[tokio::test]
async fn duplicates_inside_one_request_must_be_identical() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let base = complete_record(ID);
    let media = base["mediaFiles"][0].clone();
    let data_event = base["eventHistory"][0].clone();

    let mut changed_media = media.clone();
    changed_media["size"] = json!("1");
    let body = edited(&base, [set("/mediaFiles/-", changed_media)]);
    let message = app.insert(&cc, &body).await.assert_error(400, 10);
    assert!(message.starts_with("mediaFiles[1]"), "{message}");
    app.assert_absent(&cc, ID).await;

    let mut changed_event = data_event.clone();
    changed_event["data"] = json!({"added": {"drink": "tea"}});
    let body = edited(&base, [set("/eventHistory/-", changed_event)]);
    let message = app.insert(&cc, &body).await.assert_error(400, 10);
    assert!(message.starts_with("eventHistory[3]"), "{message}");
    app.assert_absent(&cc, ID).await;

    let body = edited(
        &base,
        [
            set("/mediaFiles/-", media),
            set("/eventHistory/-", data_event),
        ],
    );
    app.insert(&cc, &body).await.assert_ok();
    let stored = app.recording(&cc, ID).await;
    assert_eq!(
        stored["mediaFiles"].as_array().unwrap().len(),
        1,
        "{stored}"
    );
    assert_eq!(
        stored["eventHistory"].as_array().unwrap().len(),
        3,
        "{stored}"
    );
}
