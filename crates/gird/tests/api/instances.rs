//! More of what README.md ("PostgreSQL and several instances") promises to instances on
//! one PostgreSQL database: feature changes reach the others, the WebDAV passwords one
//! stored open on another, and no instance deletes a recording another put on hold.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::time::Instant;

use crate::body::minimal_record;
use crate::helpers::{send, strong_password, AppBuilder, FEATURE};
use crate::playback::Stage;
use crate::postgres::{insert_once_usable, on_postgres, second_instance, POLL, PROPAGATION};
use crate::rws::APPLY_HOLD;
use crate::webdav::pattern;

#[tokio::test]
async fn a_feature_disabled_through_one_instance_is_refused_by_another() {
    let first = on_postgres().spawn().await;
    let second = second_instance(&first, AppBuilder::new()).await;
    let cc = first.ready_contact_center().await;
    insert_once_usable(&second, &cc, "probe").await;

    let path = format!("/api/v2/ops/contact-centers/{cc}/features/{FEATURE}");
    send(first.request(Method::DELETE, &path)).await.assert_ok();
    first
        .insert(&cc, &minimal_record("refused"))
        .await
        .assert_error(403, 3);
    let deadline = Instant::now() + PROPAGATION;
    for attempt in 0.. {
        let response = second
            .insert(&cc, &minimal_record(&format!("late-{attempt}")))
            .await;
        if !response.is_ok() {
            response.assert_error(403, 3);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the second instance still accepts inserts {PROPAGATION:?} after the feature went"
        );
        tokio::time::sleep(POLL).await;
    }
}

#[tokio::test]
async fn a_webdav_password_stored_through_one_instance_opens_on_another() {
    let key = strong_password();
    let stage = Stage::with(on_postgres().arg("--storage-key", &key)).await;
    let second = second_instance(&stage.app, AppBuilder::new().arg("--storage-key", &key)).await;
    let bytes = pattern(64 * 1024, 7);
    stage.dav.put_file("shared.mp3", &bytes);
    let play_path = stage
        .play_path("shared", "shared.mp3", Some("audio/mp3"))
        .await;

    let played = second.play(&play_path, &stage.cc, None).await;
    assert_eq!(played.status.as_u16(), 200, "{}", played.as_api().text);
    assert!(played.body == bytes, "the body is the file's bytes");
}

#[tokio::test]
async fn a_hold_through_one_instance_and_a_delete_through_another_never_both_succeed() {
    let first = on_postgres().spawn().await;
    let second = second_instance(&first, AppBuilder::new()).await;
    let cc = first.ready_contact_center().await;
    insert_once_usable(&second, &cc, "probe").await;

    for round in 0..20 {
        let id = format!("contested-{round}");
        first.insert(&cc, &minimal_record(&id)).await.assert_ok();
        let hold = json!({ "operationName": APPLY_HOLD });
        let (held, deleted) = tokio::join!(
            first.recording_operation(&id, &cc, &hold),
            second.delete_recording(&id, Some(&cc), false)
        );
        let read = first.rws_recording(&id, Some(&cc)).await;
        if held.is_ok() {
            deleted.assert_error(403, 3);
            assert_eq!(read.status, StatusCode::OK, "{id} is held: {}", read.text);
            assert_eq!(read.json()["recording"]["nonDelete"], true, "{}", read.text);
        } else {
            held.assert_error(404, 6);
            deleted.assert_ok();
            read.assert_error(404, 6);
        }
    }
}
