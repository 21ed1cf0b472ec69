//! Delete and legal hold (API.md "Delete and legal hold").

use reqwest::Method;
use serde_json::json;
use tokio::task::JoinSet;

use crate::body::{edited, minimal_record, set};
use crate::helpers::{send, spawn_app, AppBuilder, TestApp, CSRF_MESSAGE};
use crate::playback::Stage;
use crate::rws::{found, ops_recording, APPLY_HOLD, REMOVE_HOLD};
use crate::webdav::{pattern, Mode};

async fn app_with(id: &str) -> (TestApp, String) {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &minimal_record(id)).await.assert_ok();
    (app, cc)
}

/// Asserts the recording is there, and whether it is on legal hold.
async fn assert_held(app: &TestApp, cc: &str, id: &str, held: bool) {
    let response = app.rws_recording(id, Some(cc)).await;
    assert_eq!(
        response.status.as_u16(),
        200,
        "{id} is kept: {}",
        response.text
    );
    let recording = &response.json()["recording"];
    if held {
        assert_eq!(recording["nonDelete"], true, "{recording}");
    } else {
        assert_ne!(recording["nonDelete"], true, "{recording}");
    }
}

#[tokio::test]
async fn delete_removes_the_recording_and_frees_its_media_ids() {
    let (app, cc) = app_with("doomed").await;
    app.delete_recording("doomed", Some(&cc), false)
        .await
        .assert_ok();
    app.rws_recording("doomed", Some(&cc))
        .await
        .assert_error(404, 6);
    app.assert_absent(&cc, "doomed").await;
    app.delete_recording("doomed", Some(&cc), false)
        .await
        .assert_error(404, 6);

    // Its mediaId belongs to nobody now.
    let mut heir = minimal_record("heir");
    heir["mediaFiles"][0]["mediaId"] = "doomed-media".into();
    app.insert(&cc, &heir).await.assert_ok();

    // The same id starts a new record: nothing of the old one is merged in.
    let reborn = edited(
        &minimal_record("doomed"),
        [
            set("/callerPhoneNumber", "+15550000000".into()),
            set("/mediaFiles/0/mediaId", "reborn-media".into()),
        ],
    );
    app.insert(&cc, &reborn).await.assert_ok();
    let recording = app.recording(&cc, "doomed").await;
    assert_eq!(recording["callerPhoneNumber"], "+15550000000");
    assert!(recording.get("mergeConflicts").is_none(), "{recording}");
    assert_eq!(recording["mediaFiles"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn delete_works_on_the_ops_path_and_without_the_contact_center() {
    let (app, cc) = app_with("first").await;
    app.insert(&cc, &minimal_record("second")).await.assert_ok();
    app.delete_recording_ops(&cc, "first").await.assert_ok();
    app.assert_absent(&cc, "first").await;
    app.delete_recording("second", None, false)
        .await
        .assert_ok();
    app.assert_absent(&cc, "second").await;
    app.delete_recording_ops(&cc, "second")
        .await
        .assert_error(404, 6);
    // Empty again, the contact center can go.
    let path = format!("/api/v2/ops/contact-centers/{cc}");
    send(app.request(Method::DELETE, &path)).await.assert_ok();
}

#[tokio::test]
async fn unknown_ambiguous_and_foreign_deletes_change_nothing() {
    let (app, cc) = app_with("shared").await;
    let other = app.ready_contact_center().await;
    app.insert(&other, &minimal_record("shared"))
        .await
        .assert_ok();
    app.insert(&other, &minimal_record("theirs"))
        .await
        .assert_ok();

    app.delete_recording("nobody", Some(&cc), false)
        .await
        .assert_error(404, 6);
    app.delete_recording_ops(&cc, "nobody")
        .await
        .assert_error(404, 6);
    app.delete_recording("theirs", Some(&cc), false)
        .await
        .assert_error(404, 6);
    app.delete_recording_ops(&cc, "theirs")
        .await
        .assert_error(404, 6);
    let message = app
        .delete_recording("shared", None, false)
        .await
        .assert_error(400, 1);
    assert!(message.contains("contactCenterId"), "{message}");
    for (cc, id) in [(&cc, "shared"), (&other, "shared"), (&other, "theirs")] {
        app.recording(cc, id).await;
    }
}

#[tokio::test]
async fn a_recording_on_legal_hold_is_not_deleted() {
    let (app, cc) = app_with("held").await;
    assert_held(&app, &cc, "held", false).await;
    app.hold("held", &cc, APPLY_HOLD).await;
    assert_held(&app, &cc, "held", true).await;
    assert_eq!(
        app.recording(&cc, "held").await["nonDelete"],
        true,
        "the ops view too"
    );
    app.hold("held", &cc, APPLY_HOLD).await;

    let message = app
        .delete_recording("held", Some(&cc), false)
        .await
        .assert_error(403, 3);
    assert!(message.contains("legal hold"), "{message}");
    assert!(message.contains("held"), "names the recording: {message}");
    app.delete_recording_ops(&cc, "held")
        .await
        .assert_error(403, 3);
    app.delete_recording("held", None, false)
        .await
        .assert_error(403, 3);
    assert_held(&app, &cc, "held", true).await;

    let listed = found(&app.search_ops(&cc, &[("mediaId", "held-media")]).await);
    assert_eq!(listed[0]["nonDelete"], true, "search shows the hold too");

    app.hold("held", &cc, REMOVE_HOLD).await;
    assert_held(&app, &cc, "held", false).await;
    app.delete_recording("held", Some(&cc), false)
        .await
        .assert_ok();
    app.assert_absent(&cc, "held").await;
    assert!(
        found(&app.search_ops(&cc, &[]).await).is_empty(),
        "deleted, not listed"
    );
}

#[tokio::test]
async fn no_race_deletes_a_recording_put_on_hold() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let ids: Vec<String> = (0..40).map(|i| format!("raced-{i}")).collect();
    for id in &ids {
        app.insert(&cc, &minimal_record(id)).await.assert_ok();
    }
    let mut races = JoinSet::new();
    for id in ids.clone() {
        let (api, cc) = (app.api.clone(), cc.clone());
        races.spawn(async move {
            let body = json!({"operationName": APPLY_HOLD});
            let (held, deleted) = tokio::join!(
                api.recording_operation(&id, &cc, &body),
                api.delete_recording(&id, Some(&cc), false)
            );
            (id, held, deleted)
        });
    }
    while let Some(race) = races.join_next().await {
        let (id, held, deleted) = race.expect("race task");
        match (held.is_ok(), deleted.is_ok()) {
            (true, false) => {
                deleted.assert_error(403, 3);
                assert_held(&app, &cc, &id, true).await;
            }
            (false, true) => {
                held.assert_error(404, 6);
                app.assert_absent(&cc, &id).await;
            }
            _ => panic!("{id}: hold {held:?} and delete {deleted:?}"),
        }
    }
}

#[tokio::test]
async fn the_hold_is_set_on_the_ops_path_too() {
    let (app, cc) = app_with("held").await;
    app.recording_operation_ops(&cc, "held", APPLY_HOLD)
        .await
        .assert_ok();
    assert_held(&app, &cc, "held", true).await;
    app.delete_recording_ops(&cc, "held")
        .await
        .assert_error(403, 3);
    app.recording_operation_ops(&cc, "held", REMOVE_HOLD)
        .await
        .assert_ok();
    app.delete_recording_ops(&cc, "held").await.assert_ok();
    app.recording_operation_ops(&cc, "held", APPLY_HOLD)
        .await
        .assert_error(404, 6);
}

#[tokio::test]
async fn bad_operations_are_refused_and_change_nothing() {
    let (app, cc) = app_with("held").await;
    app.hold("held", &cc, APPLY_HOLD).await;
    let cases = [
        (json!({"operationName": "removeNonDeleteNow"}), 400, 10),
        (json!({"operationName": "removenondelete"}), 400, 10),
        (json!({"operationName": ""}), 400, 10),
        (json!({"operationName": 1}), 400, 10),
        (json!({"operationName": null}), 400, 1),
        (json!({}), 400, 1),
        (json!({"operation": "removeNonDelete"}), 400, 1),
    ];
    for (body, http, status_code) in cases {
        let message = app
            .recording_operation("held", &cc, &body)
            .await
            .assert_error(http, status_code);
        assert!(message.contains("operationName"), "{body}: {message}");
        assert_held(&app, &cc, "held", true).await;
    }
    app.recording_operation("nobody", &cc, &json!({"operationName": APPLY_HOLD}))
        .await
        .assert_error(404, 6);
}

#[tokio::test]
async fn delete_and_hold_need_the_ops_credentials() {
    let (app, cc) = app_with("guarded").await;
    let path = "/api/v2/recordings/guarded";
    let query = [("contactCenterId", cc.as_str())];
    send(app.anonymous(Method::DELETE, path).query(&query))
        .await
        .assert_unauthorized();
    let body = json!({"operationName": APPLY_HOLD});
    send(app.anonymous(Method::POST, path).query(&query).json(&body))
        .await
        .assert_unauthorized();
    send(app.anonymous(Method::DELETE, &ops_recording(&cc, "guarded")))
        .await
        .assert_unauthorized();
    assert_held(&app, &cc, "guarded", false).await;
}

#[tokio::test]
async fn with_csrf_on_delete_and_hold_need_the_token() {
    let app = AppBuilder::new().csrf().spawn().await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &minimal_record("guarded"))
        .await
        .assert_ok();
    let path = "/api/v2/recordings/guarded";
    let query = [("contactCenterId", cc.as_str())];
    let body = json!({"operationName": APPLY_HOLD});
    let refused = [
        app.authed(Method::POST, path).query(&query).json(&body),
        app.authed(Method::DELETE, path).query(&query),
        app.authed(Method::DELETE, &ops_recording(&cc, "guarded")),
    ];
    for request in refused {
        let message = send(request).await.assert_error(403, 3);
        assert_eq!(message, CSRF_MESSAGE);
    }
    assert_held(&app, &cc, "guarded", false).await;

    app.hold("guarded", &cc, APPLY_HOLD).await;
    assert_held(&app, &cc, "guarded", true).await;
    app.hold("guarded", &cc, REMOVE_HOLD).await;
    app.delete_recording("guarded", Some(&cc), false)
        .await
        .assert_ok();
    app.assert_absent(&cc, "guarded").await;
}

#[tokio::test]
async fn delete_media_removes_the_files_on_webdav() {
    let stage = Stage::new().await;
    stage.dav.put_file("calls/a.mp3", &pattern(1000, 1));
    stage.dav.put_file("calls/b.mp3", &pattern(1000, 2));
    stage.dav.put_file("calls/bystander.mp3", &pattern(1000, 3));
    let absolute = stage.dav.url("calls/b.mp3");
    // The third file is already missing: it counts as deleted.
    let paths = ["calls/a.mp3", absolute.as_str(), "calls/missing.mp3"];
    stage.insert("with-media", &paths, Some("audio/mp3")).await;
    stage
        .insert("kept-media", &["calls/bystander.mp3"], None)
        .await;
    let app = &stage.app;

    app.delete_recording("with-media", Some(&stage.cc), true)
        .await
        .assert_ok();
    app.assert_absent(&stage.cc, "with-media").await;
    assert!(
        !stage.dav.exists("calls/a.mp3"),
        "a relative path is deleted"
    );
    assert!(
        !stage.dav.exists("calls/b.mp3"),
        "an absolute URL is deleted"
    );
    assert!(stage.dav.exists("calls/bystander.mp3"), "other files stay");
    let deletes: Vec<_> = stage
        .dav
        .seen()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert!(
        deletes
            .iter()
            .all(|request| request.authorization.is_some()),
        "deleted with the storage credentials: {deletes:?}"
    );

    // Without deleteMedia the files stay.
    app.delete_recording("kept-media", Some(&stage.cc), false)
        .await
        .assert_ok();
    assert!(stage.dav.exists("calls/bystander.mp3"));
}

#[tokio::test]
async fn a_held_recording_keeps_its_media() {
    let stage = Stage::new().await;
    stage.dav.put_file("held.mp3", &pattern(1000, 4));
    stage.insert("held", &["held.mp3"], None).await;
    stage.app.hold("held", &stage.cc, APPLY_HOLD).await;
    stage
        .app
        .delete_recording("held", Some(&stage.cc), true)
        .await
        .assert_error(403, 3);
    assert!(
        stage.dav.exists("held.mp3"),
        "a held recording's media stays"
    );
}

#[tokio::test]
async fn with_webdav_failing_or_down_the_record_is_kept() {
    let mut stage = Stage::new().await;
    stage.dav.put_file("fragile.mp3", &pattern(1000, 5));
    stage.insert("fragile", &["fragile.mp3"], None).await;
    let (app, cc) = (&stage.app, stage.cc.clone());

    stage.dav.set_mode(Mode::Failing);
    app.delete_recording("fragile", Some(&cc), true)
        .await
        .assert_error(502, 4);
    app.recording(&cc, "fragile").await;
    assert!(stage.dav.exists("fragile.mp3"));

    let wrong = stage.dav.storage(Some("not-the-password"));
    stage.dav.set_mode(Mode::Normal);
    app.put_storage(&cc, &wrong).await.assert_ok();
    app.delete_recording("fragile", Some(&cc), true)
        .await
        .assert_error(502, 4);
    app.recording(&cc, "fragile").await;
    app.put_storage(&cc, &stage.dav.storage(None))
        .await
        .assert_ok();

    stage.dav.stop().await;
    let (app, cc) = (&stage.app, stage.cc.clone());
    app.delete_recording("fragile", Some(&cc), true)
        .await
        .assert_error(502, 4);
    app.recording(&cc, "fragile").await;
    assert!(stage.dav.exists("fragile.mp3"), "the file is still there");
    // The failed deletions left nothing half done: the hold can be applied.
    app.hold("fragile", &cc, APPLY_HOLD).await;
    assert_held(app, &cc, "fragile", true).await;
}

#[tokio::test]
async fn with_webdav_too_slow_the_record_is_kept() {
    let builder = AppBuilder::new().arg("--webdav-timeout-seconds", "1");
    let stage = Stage::with(builder).await;
    stage.dav.put_file("slow.mp3", &pattern(1000, 6));
    stage.insert("slow", &["slow.mp3"], None).await;
    stage.dav.set_mode(Mode::Slow);
    let response = stage
        .app
        .delete_recording("slow", Some(&stage.cc), true)
        .await;
    // API.md: "if WebDAV fails, 502/4"; a timeout is 504/4 on playback.
    let http = response.status.as_u16();
    assert!(http == 502 || http == 504, "{http}: {}", response.text);
    response.assert_error(http, 4);
    stage.app.recording(&stage.cc, "slow").await;
    stage.app.hold("slow", &stage.cc, APPLY_HOLD).await;
    assert_held(&stage.app, &stage.cc, "slow", true).await;
}
