//! The ops API: contact centers and their features (docs/API.md "Ops API").

use reqwest::Method;
use serde_json::{json, Value};

use crate::body::sample;
use crate::helpers::{send, spawn_app, unique, ApiResponse, TestApp, FEATURE, FEATURE_URI};

const CENTERS: &str = "/api/v2/ops/contact-centers";

async fn get(app: &TestApp, path: &str) -> ApiResponse {
    send(app.request(Method::GET, path)).await
}

async fn delete(app: &TestApp, path: &str) -> ApiResponse {
    send(app.request(Method::DELETE, path)).await
}

fn ok_json(response: &ApiResponse, http: u16) -> Value {
    assert_eq!(response.status.as_u16(), http, "{}", response.text);
    let body = response.json();
    assert_eq!(body["statusCode"], 0, "{body}");
    body
}

#[tokio::test]
async fn contact_centers_are_created_with_or_without_an_id() {
    let app = spawn_app().await;
    let id = unique("gir-id");

    let body = ok_json(&app.create_contact_center(&id).await, 201);
    assert_eq!(
        body,
        json!({"statusCode": 0, "id": id, "path": format!("/contact-centers/{id}")})
    );

    let generated = app
        .create_contact_center_with(&json!({"domains": ["example.org"]}))
        .await;
    let body = ok_json(&generated, 201);
    let generated_id = body["id"].as_str().expect("a generated id").to_owned();
    assert_eq!(generated_id.len(), 36, "a UUID: {generated_id}");
    assert_eq!(body["path"], format!("/contact-centers/{generated_id}"));

    let center = ok_json(&get(&app, &format!("{CENTERS}/{generated_id}")).await, 200);
    assert_eq!(center["contactCenter"]["domains"], json!(["example.org"]));

    let list = ok_json(&get(&app, CENTERS).await, 200);
    let uris = list["uris"].as_array().expect("uris");
    for expected in [
        "/contact-centers/default".to_owned(),
        format!("/contact-centers/{id}"),
        format!("/contact-centers/{generated_id}"),
    ] {
        assert!(uris.contains(&json!(expected)), "{expected} in {uris:?}");
    }
    assert_eq!(uris.len(), 3, "{uris:?}");
}

#[tokio::test]
async fn invalid_or_duplicate_contact_centers_are_refused() {
    let app = spawn_app().await;
    let id = unique("cc");
    app.create_contact_center(&id).await;

    app.create_contact_center_with(&json!({"id": id, "domains": ["x"]}))
        .await
        .assert_error(409, 18);
    app.create_contact_center_with(&json!({"id": "default", "domains": ["x"]}))
        .await
        .assert_error(409, 18);

    let message = app
        .create_contact_center_with(&json!({"id": unique("cc")}))
        .await
        .assert_error(400, 1);
    assert!(message.contains("domains"), "{message}");

    let too_long = "c".repeat(129);
    for bad_id in ["bad id", "bad/id", "bad?id", "", too_long.as_str()] {
        let response = app
            .create_contact_center_with(&json!({"id": bad_id, "domains": ["x"]}))
            .await;
        let message = response.assert_error(400, 10);
        assert!(message.contains("id"), "{bad_id:?}: {message}");
    }
    app.create_contact_center(&"c".repeat(128)).await;
    app.create_contact_center("A-z_0.9").await;

    let response = send(
        app.request(Method::POST, CENTERS)
            .header("content-type", "application/json")
            .body("{\"domains\": ["),
    )
    .await;
    response.assert_error(400, 2);
}

#[tokio::test]
async fn a_contact_center_is_read_with_its_features() {
    let app = spawn_app().await;
    let id = unique("cc");
    app.create_contact_center(&id).await;
    let path = format!("{CENTERS}/{id}");

    let body = ok_json(&get(&app, &path).await, 200);
    assert_eq!(
        body["contactCenter"],
        json!({"id": id, "domains": ["example.com"], "features": [], "path": format!("/contact-centers/{id}"), "recordingCount": 0})
    );

    app.enable_feature(&id).await;
    let body = ok_json(&get(&app, &path).await, 200);
    assert_eq!(body["contactCenter"]["features"], json!([FEATURE]));

    let default = ok_json(&get(&app, &format!("{CENTERS}/default")).await, 200);
    assert_eq!(
        default["contactCenter"]["features"],
        json!([FEATURE]),
        "the default center can insert at once"
    );

    get(&app, &format!("{CENTERS}/no-such-center"))
        .await
        .assert_error(404, 6);
}

#[tokio::test]
async fn only_empty_contact_centers_are_deleted() {
    let app = spawn_app().await;
    let empty = unique("cc");
    app.create_contact_center(&empty).await;
    delete(&app, &format!("{CENTERS}/{empty}"))
        .await
        .assert_ok();
    get(&app, &format!("{CENTERS}/{empty}"))
        .await
        .assert_error(404, 6);
    delete(&app, &format!("{CENTERS}/{empty}"))
        .await
        .assert_error(404, 6);
    let list = ok_json(&get(&app, CENTERS).await, 200);
    assert!(!list["uris"]
        .as_array()
        .unwrap()
        .contains(&json!(format!("/contact-centers/{empty}"))));

    let busy = app.ready_contact_center().await;
    app.insert(&busy, &sample()).await.assert_ok();
    delete(&app, &format!("{CENTERS}/{busy}"))
        .await
        .assert_error(409, 18);
    ok_json(&get(&app, &format!("{CENTERS}/{busy}")).await, 200);
    app.recording(&busy, "alex-test-id").await;

    delete(&app, &format!("{CENTERS}/no-such-center"))
        .await
        .assert_error(404, 6);

    // A deleted id can be created again, empty.
    app.create_contact_center(&empty).await;
    app.assert_absent(&empty, "alex-test-id").await;
}

#[tokio::test]
async fn features_are_added_listed_and_removed() {
    let app = spawn_app().await;
    let id = unique("cc");
    app.create_contact_center(&id).await;
    let features = format!("{CENTERS}/{id}/features");

    let body = ok_json(&get(&app, &features).await, 200);
    assert_eq!(body, json!({"statusCode": 0, "uris": []}));

    app.add_features(&id, &[FEATURE_URI]).await.assert_ok();
    let body = ok_json(&get(&app, &features).await, 200);
    assert_eq!(body, json!({"statusCode": 0, "uris": [FEATURE_URI]}));

    delete(&app, &format!("{features}/{FEATURE}"))
        .await
        .assert_ok();
    assert_eq!(ok_json(&get(&app, &features).await, 200)["uris"], json!([]));
    delete(&app, &format!("{features}/{FEATURE}"))
        .await
        .assert_error(404, 6);

    app.add_features(&id, &[FEATURE]).await.assert_ok();
    assert_eq!(
        ok_json(&get(&app, &features).await, 200)["uris"],
        json!([FEATURE_URI])
    );
    app.insert(&id, &sample()).await.assert_ok();

    app.add_features("no-such-center", &[FEATURE])
        .await
        .assert_error(404, 6);
    get(&app, &format!("{CENTERS}/no-such-center/features"))
        .await
        .assert_error(404, 6);
    delete(
        &app,
        &format!("{CENTERS}/no-such-center/features/{FEATURE}"),
    )
    .await
    .assert_error(404, 6);
}

#[tokio::test]
async fn recordings_are_read_only_through_their_contact_center() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let other = app.ready_contact_center().await;
    app.insert(&cc, &sample()).await.assert_ok();

    app.get_recording(&cc, "no-such-recording")
        .await
        .assert_error(404, 6);
    app.get_recording(&other, "alex-test-id")
        .await
        .assert_error(404, 6);
    app.get_recording("no-such-center", "alex-test-id")
        .await
        .assert_error(404, 6);
    let body = ok_json(&app.get_recording(&cc, "alex-test-id").await, 200);
    let mut keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    keys.sort_unstable();
    assert_eq!(keys, ["recording", "statusCode"]);
}
