//! The read-back of a record (docs/API.md): playback fields stable across merges, restarts
//! and instances, and the public base URL.

use reqwest::Method;
use serde_json::{json, Value};

use crate::body::{media_by_id, minimal_record, sample, segment};
use crate::helpers::{send, spawn_app, AppBuilder};

fn play_paths(recording: &Value) -> Vec<(Value, Value)> {
    recording["mediaFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|media| (media["mediaId"].clone(), media["playPath"].clone()))
        .collect()
}

#[tokio::test]
async fn play_paths_are_stable_across_merges_restarts_and_instances() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &segment("stable", 0)).await.assert_ok();
    let first = play_paths(&app.recording(&cc, "stable").await);

    app.insert(&cc, &segment("stable", 1)).await.assert_ok();
    let merged = app.recording(&cc, "stable").await;
    let (_, path) = &first[0];
    assert_eq!(&media_by_id(&merged, "stable-media-0")["playPath"], path);
    let both = play_paths(&merged);

    let app = app.restart().await;
    assert_eq!(play_paths(&app.recording(&cc, "stable").await), both);

    // Another instance, with its own database, derives the same uuids.
    let other = spawn_app().await;
    other.create_contact_center(&cc).await;
    other.enable_feature(&cc).await;
    for index in [1, 0] {
        other
            .insert(&cc, &segment("stable", index))
            .await
            .assert_ok();
    }
    assert_eq!(play_paths(&other.recording(&cc, "stable").await), both);
}

#[tokio::test]
async fn the_media_uri_follows_the_host_header_or_the_public_url() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &sample()).await.assert_ok();
    let path = format!("/api/v2/ops/contact-centers/{cc}/recordings/alex-test-id");
    let read = send(
        app.request(Method::GET, &path)
            .header("host", "gird.example.com:9999"),
    )
    .await;
    let recording = &read.json()["recording"];
    for media in recording["mediaFiles"].as_array().unwrap() {
        let expected = format!(
            "http://gird.example.com:9999/api/v2{}",
            media["playPath"].as_str().unwrap()
        );
        assert_eq!(media["mediaUri"], expected);
    }

    let app = AppBuilder::new()
        .arg("--public-url", "https://recordings.example.com")
        .spawn()
        .await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &minimal_record("public")).await.assert_ok();
    let recording = app.recording(&cc, "public").await;
    let media = &recording["mediaFiles"][0];
    let expected = format!(
        "https://recordings.example.com/api/v2{}",
        media["playPath"].as_str().unwrap()
    );
    assert_eq!(media["mediaUri"], json!(expected));
}

/// What RWS readers take from a recording: each view (ops GET, RWS GET, search) answers
/// the same media fields.
fn assert_rws_reader_fields(recording: &Value, sent: &Value) {
    for time in ["startTime", "stopTime"] {
        let text = recording[time].as_str().expect(time);
        assert!(
            text.len() == 28 && text.ends_with("+0000") && text.as_bytes()[19] == b'.',
            "{time} {text} is written yyyy-MM-dd'T'HH:mm:ss.SSS+0000"
        );
    }
    assert_eq!(recording["startTime"], "2015-06-15T23:58:00.000+0000");
    let media_files = recording["mediaFiles"].as_array().unwrap();
    assert_eq!(media_files.len(), 2);
    for media in media_files {
        let sent_media = sent["mediaFiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["mediaId"] == media["mediaId"])
            .expect("a media file that was sent");
        assert_eq!(
            media["originalMediaDescriptor"],
            sent_media["mediaDescriptor"]
        );
        assert_eq!(media["mediaDescriptor"], sent_media["mediaDescriptor"]);
        let play_path = media["playPath"].as_str().unwrap();
        assert!(play_path.starts_with("/recordings/alex-test-id/play/"));
        assert_eq!(media["mediaPath"], play_path, "mediaPath equals playPath");
        assert!(
            !media["mediaPath"].as_str().unwrap().contains("http"),
            "no storage URL in mediaPath"
        );
        // Times a client sent keep their text.
        assert_eq!(media["startTime"], sent_media["startTime"]);
        assert_eq!(media["stopTime"], sent_media["stopTime"]);
    }
}

#[tokio::test]
async fn every_view_answers_what_rws_readers_read() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let sent = sample();
    app.insert(&cc, &sent).await.assert_ok();

    assert_rws_reader_fields(&app.recording(&cc, "alex-test-id").await, &sent);
    let rws = app.rws_recording("alex-test-id", Some(&cc)).await.json();
    assert_rws_reader_fields(&rws["recording"], &sent);
    let found = app.search(&[("contactCenterId", cc.as_str())]).await.json();
    assert_rws_reader_fields(&found["recordings"][0], &sent);
}

/// The instants the view derives beside each time a client sent, in epoch milliseconds:
/// a text without offset is UTC, others keep their offset.
fn assert_derived_instants(recording: &Value) {
    // 2015-06-15T23:58:00Z and 23:59:59Z: the earliest start and the latest stop.
    assert_eq!(
        recording["startTimeMs"], 1_434_412_680_000_i64,
        "{recording}"
    );
    assert_eq!(recording["stopTimeMs"], 1_434_412_799_000_i64);
    let offsetless = media_by_id(recording, "123123-FFAB-ABAD");
    assert_eq!(offsetless["startTime"], "2015-06-15T23:59:00.000");
    assert_eq!(offsetless["startTimeMs"], 1_434_412_740_000_i64);
    assert_eq!(offsetless["stopTimeMs"], 1_434_412_799_000_i64);
    let masks = offsetless["masks"].as_array().unwrap();
    assert_eq!(masks[0]["time"], "2015-06-15T23:59:10.034Z");
    assert_eq!(masks[0]["timeMs"], 1_434_412_750_034_i64);
    assert_eq!(masks[1]["time"], "2013-06-15T23:59:20.034Z");
    assert_eq!(masks[1]["timeMs"], 1_371_340_760_034_i64);
    let pacific = media_by_id(recording, "123123-FFAB-ABAC");
    assert_eq!(pacific["startTime"], "2015-06-15T15:58:00.000-0800");
    assert_eq!(pacific["startTimeMs"], 1_434_412_680_000_i64);
    assert_eq!(pacific["stopTimeMs"], 1_434_412_739_000_i64);
    let events = recording["eventHistory"].as_array().unwrap();
    let at = |name: &str| {
        let event = events.iter().find(|e| e["event"] == name).unwrap();
        (event["occurredAt"].clone(), event["occurredAtMs"].clone())
    };
    assert_eq!(
        at("Joined"),
        (
            json!("2015-06-15T23:58:00.000"),
            json!(1_434_412_680_000_i64)
        )
    );
    assert_eq!(
        at("Data"),
        (
            json!("2015-06-15T15:58:30.000-0800"),
            json!(1_434_412_710_000_i64)
        )
    );
}

#[tokio::test]
async fn every_view_gives_the_instant_of_each_time_in_milliseconds() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let mut sent = sample();
    // The sample's offset-less times beside -0800 ones for the same instants.
    sent["mediaFiles"][1]["startTime"] = json!("2015-06-15T15:58:00.000-0800");
    sent["mediaFiles"][1]["stopTime"] = json!("2015-06-15T15:58:59.000-0800");
    sent["eventHistory"][0]["occurredAt"] = json!("2015-06-15T15:58:30.000-0800");
    app.insert(&cc, &sent).await.assert_ok();

    assert_derived_instants(&app.recording(&cc, "alex-test-id").await);
    let rws = app.rws_recording("alex-test-id", Some(&cc)).await.json();
    assert_derived_instants(&rws["recording"]);
    let found = app.search(&[("contactCenterId", cc.as_str())]).await.json();
    assert_derived_instants(&found["recordings"][0]);
}
