//! One recording on the RWS path (API.md "One recording"): the same view as the ops
//! path, and which contact center it belongs to.

use reqwest::Method;

use crate::body::{complete_record, edited, minimal_record, set};
use crate::helpers::{send, spawn_app};

#[tokio::test]
async fn the_rws_view_equals_the_ops_view() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &complete_record("viewed"))
        .await
        .assert_ok();
    let ops = app.recording(&cc, "viewed").await;

    for contact_center in [Some(cc.as_str()), None] {
        let response = app.rws_recording("viewed", contact_center).await;
        assert_eq!(response.status.as_u16(), 200, "{}", response.text);
        let body = response.json();
        assert_eq!(body["statusCode"], 0, "{body}");
        assert_eq!(body["recording"], ops, "contactCenterId {contact_center:?}");
        assert!(body["recording"].get("nonDelete").is_none(), "{body}");
    }
}

#[tokio::test]
async fn an_id_in_two_contact_centers_needs_the_contact_center() {
    let app = spawn_app().await;
    let (first, second) = (
        app.ready_contact_center().await,
        app.ready_contact_center().await,
    );
    app.insert(&first, &minimal_record("shared"))
        .await
        .assert_ok();
    let other = edited(&minimal_record("shared"), [set("/region", "EU".into())]);
    app.insert(&second, &other).await.assert_ok();

    let message = app.rws_recording("shared", None).await.assert_error(400, 1);
    assert!(message.contains("contactCenterId"), "{message}");
    for (cc, region) in [(&first, "Can-West"), (&second, "EU")] {
        let response = app.rws_recording("shared", Some(cc)).await;
        assert_eq!(response.status.as_u16(), 200, "{}", response.text);
        assert_eq!(response.json()["recording"]["region"], region);
    }
}

#[tokio::test]
async fn unknown_ids_and_other_contact_centers_ids_are_404() {
    let app = spawn_app().await;
    let (mine, theirs) = (
        app.ready_contact_center().await,
        app.ready_contact_center().await,
    );
    app.insert(&theirs, &minimal_record("theirs"))
        .await
        .assert_ok();

    app.rws_recording("nobody", Some(&mine))
        .await
        .assert_error(404, 6);
    app.rws_recording("nobody", None).await.assert_error(404, 6);
    app.rws_recording("theirs", Some(&mine))
        .await
        .assert_error(404, 6);
    app.rws_recording("theirs", Some("no-such-cc"))
        .await
        .assert_error(404, 6);
}

#[tokio::test]
async fn one_recording_needs_the_ops_credentials() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &minimal_record("secret")).await.assert_ok();
    send(
        app.anonymous(Method::GET, "/api/v2/recordings/secret")
            .query(&[("contactCenterId", &cc)]),
    )
    .await
    .assert_unauthorized();
}
