//! Status codes of the Insertion API other than validation: content type, body size and
//! shape, contact center and feature, the order of the checks, mediaId ownership.

use reqwest::Method;
use serde_json::json;

use crate::body::{minimal_record, sample};
use crate::helpers::{send, spawn_app, AppBuilder, FEATURE};

#[tokio::test]
async fn only_json_content_is_accepted() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let bytes = serde_json::to_vec(&sample()).unwrap();
    for content_type in [
        Some("text/plain"),
        Some("application/xml"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let response = app.insert_raw(&cc, bytes.clone(), content_type).await;
        response.assert_error(415, 2);
        app.assert_absent(&cc, "alex-test-id").await;
    }
    for content_type in [
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "application/json",
    ] {
        app.insert_raw(&cc, bytes.clone(), Some(content_type))
            .await
            .assert_ok();
    }
}

/// A valid record of exactly `size` bytes, padded with an unknown field.
fn record_of_size(id: &str, size: usize) -> Vec<u8> {
    let mut body = minimal_record(id);
    body["padding"] = json!("");
    let base = serde_json::to_vec(&body).unwrap().len();
    body["padding"] = json!("x".repeat(size - base));
    let bytes = serde_json::to_vec(&body).unwrap();
    assert_eq!(bytes.len(), size);
    bytes
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_refused() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;

    let too_large = record_of_size("large", 1024 * 1024 + 100);
    assert!(too_large.len() > 1024 * 1024);
    app.insert_raw(&cc, too_large, Some("application/json"))
        .await
        .assert_error(413, 2);
    app.assert_absent(&cc, "large").await;

    let just_fits = record_of_size("large", 1024 * 1024 - 100);
    assert!(just_fits.len() <= 1024 * 1024);
    app.insert_raw(&cc, just_fits, Some("application/json"))
        .await
        .assert_ok();
}

#[tokio::test]
async fn the_body_limit_is_configurable() {
    let app = AppBuilder::new().body_limit(3000).spawn().await;
    let cc = app.ready_contact_center().await;

    let body = record_of_size("limited", 3500);
    app.insert_raw(&cc, body, Some("application/json"))
        .await
        .assert_error(413, 2);
    app.assert_absent(&cc, "limited").await;

    let body = record_of_size("limited", 2900);
    app.insert_raw(&cc, body, Some("application/json"))
        .await
        .assert_ok();
}

#[tokio::test]
async fn malformed_bodies_are_statuscode_2_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;

    let message = app
        .insert_raw(
            &cc,
            b"{\"id\": \"x\",\n  \"region\": }".to_vec(),
            Some("application/json"),
        )
        .await
        .assert_error(400, 2);
    assert!(
        message.contains("line 2") && message.contains("column"),
        "{message}"
    );

    let bad_bodies: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"{\"id\": \"\xff\xfe\"}".to_vec(),
        b"\xef\xbb\xbf\xff".to_vec(),
        "[".repeat(100_000).into_bytes(),
        format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
        format!(
            "{{\"id\":\"deep\",\"x\":{}1{}}}",
            "{\"a\":".repeat(10_000),
            "}".repeat(10_000)
        )
        .into_bytes(),
        b"[]".to_vec(),
        b"[{\"id\": \"x\"}]".to_vec(),
        b"5".to_vec(),
        b"\"a string\"".to_vec(),
        b"null".to_vec(),
        b"{\"id\": \"x\"} trailing".to_vec(),
    ];
    for body in bad_bodies {
        let shown = String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned();
        let response = app.insert_raw(&cc, body, Some("application/json")).await;
        assert_eq!(response.status.as_u16(), 400, "{shown}: {}", response.text);
        response.assert_error(400, 2);
    }
    app.assert_absent(&cc, "deep").await;
    app.insert(&cc, &sample()).await.assert_ok();
}

#[tokio::test]
async fn the_contact_center_must_exist_and_have_the_feature() {
    let app = spawn_app().await;
    app.insert("no-such-center", &sample())
        .await
        .assert_error(404, 6);

    let cc = crate::helpers::unique("cc");
    app.create_contact_center(&cc).await;
    app.insert(&cc, &sample()).await.assert_error(403, 3);
    app.assert_absent(&cc, "alex-test-id").await;

    app.enable_feature(&cc).await;
    app.insert(&cc, &sample()).await.assert_ok();

    let path = format!("/api/v2/ops/contact-centers/{cc}/features/{FEATURE}");
    send(app.request(Method::DELETE, &path)).await.assert_ok();
    let mut second = minimal_record("after-feature-removed");
    second["mediaFiles"][0]["mediaId"] = json!("other-media");
    app.insert(&cc, &second).await.assert_error(403, 3);
    app.assert_absent(&cc, "after-feature-removed").await;
    app.recording(&cc, "alex-test-id").await;
}

#[tokio::test]
async fn checks_run_in_the_documented_order() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let without_feature = crate::helpers::unique("cc");
    app.create_contact_center(&without_feature).await;
    let garbage = b"not json".to_vec();

    // Authentication before everything.
    let path = "/internal-api/contact-centers/no-such-center/recordings";
    send(app.anonymous(Method::POST, path).body(garbage.clone()))
        .await
        .assert_unauthorized();
    // The contact center before the content type and the body.
    app.insert_raw("no-such-center", garbage.clone(), Some("text/plain"))
        .await
        .assert_error(404, 6);
    // The feature before the content type and the body.
    app.insert_raw(&without_feature, garbage.clone(), Some("text/plain"))
        .await
        .assert_error(403, 3);
    // The content type before the body size and the JSON.
    let big = vec![b'{'; 2 * 1024 * 1024];
    app.insert_raw(&cc, big.clone(), Some("text/plain"))
        .await
        .assert_error(415, 2);
    // The body size before the JSON.
    app.insert_raw(&cc, big, Some("application/json"))
        .await
        .assert_error(413, 2);
}

#[tokio::test]
async fn a_media_id_belongs_to_one_recording_per_contact_center() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let first = minimal_record("first");
    app.insert(&cc, &first).await.assert_ok();
    let before = app.recording(&cc, "first").await;

    let mut thief = minimal_record("second");
    thief["mediaFiles"] = json!([
        crate::body::media_file("new-media", "2015-06-15T23:00:00Z", "2015-06-15T23:01:00Z"),
        first["mediaFiles"][0].clone(),
    ]);
    app.insert(&cc, &thief).await.assert_error(409, 18);
    app.assert_absent(&cc, "second").await;
    assert_eq!(
        app.recording(&cc, "first").await,
        before,
        "the owner is unchanged"
    );

    // Nothing of the refused request was kept: its other mediaId is still free.
    let mut third = minimal_record("third");
    third["mediaFiles"][0]["mediaId"] = json!("new-media");
    app.insert(&cc, &third).await.assert_ok();

    // Another contact center may use the same mediaId.
    let other = app.ready_contact_center().await;
    app.insert(&other, &thief).await.assert_ok();
}

#[tokio::test]
async fn unknown_routes_are_statuscode_6() {
    let app = spawn_app().await;
    send(app.authed(Method::GET, "/api/v2/ops/no-such-thing"))
        .await
        .assert_error(404, 6);
    send(app.authed(Method::GET, "/no-such-thing"))
        .await
        .assert_error(404, 6);
}

#[tokio::test]
async fn concurrent_claims_of_one_media_id_have_one_winner() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let claims: Vec<_> = (0..10)
        .map(|index| {
            let (api, cc) = (app.api.clone(), cc.clone());
            let mut body = minimal_record(&format!("claim-{index}"));
            body["mediaFiles"][0]["mediaId"] = json!("contested");
            tokio::spawn(async move { api.insert(&cc, &body).await })
        })
        .collect();
    let mut winners = 0;
    for claim in claims {
        let response = claim.await.expect("insert task");
        if response.is_ok() {
            winners += 1;
        } else {
            response.assert_error(409, 18);
        }
    }
    assert_eq!(winners, 1);
    let mut stored = 0;
    for index in 0..10 {
        let response = app.get_recording(&cc, &format!("claim-{index}")).await;
        if response.status.as_u16() == 200 {
            stored += 1;
        } else {
            response.assert_error(404, 6);
        }
    }
    assert_eq!(stored, 1, "only the winner is stored");
}

#[tokio::test]
async fn other_methods_answer_with_the_error_envelope() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let requests = [
        (
            Method::GET,
            format!("/internal-api/contact-centers/{cc}/recordings"),
        ),
        (
            Method::PUT,
            format!("/internal-api/contact-centers/{cc}/recordings"),
        ),
        (Method::PATCH, "/api/v2/ops/contact-centers".to_owned()),
    ];
    for (method, path) in requests {
        let response = send(app.request(method.clone(), &path)).await;
        let http = response.status.as_u16();
        assert!(http == 404 || http == 405, "{method} {path}: {http}");
        let body = response.json();
        let mut keys: Vec<_> = body
            .as_object()
            .expect("an object")
            .keys()
            .cloned()
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["statusCode", "statusMessage"],
            "{method} {path}: {body}"
        );
    }
}
