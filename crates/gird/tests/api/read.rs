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
