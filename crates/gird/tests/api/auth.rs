//! HTTP Basic authentication with the ops credentials, on every endpoint.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::Method;
use serde_json::json;

use crate::body::sample;
use crate::helpers::{send, spawn_app, AppBuilder, TestApp};

/// Every protected endpoint, with a body where it takes one.
fn endpoints(cc: &str) -> Vec<(Method, String)> {
    let base = format!("/api/v2/ops/contact-centers/{cc}");
    vec![
        (
            Method::POST,
            format!("/internal-api/contact-centers/{cc}/recordings"),
        ),
        (Method::GET, "/api/v2/ops/contact-centers".to_owned()),
        (Method::POST, "/api/v2/ops/contact-centers".to_owned()),
        (Method::GET, base.clone()),
        (Method::DELETE, base.clone()),
        (Method::GET, format!("{base}/features")),
        (Method::POST, format!("{base}/features")),
        (
            Method::DELETE,
            format!("{base}/features/api-supervisor-recording"),
        ),
        (Method::GET, format!("{base}/recordings/alex-test-id")),
    ]
}

fn basic(credentials: &str) -> String {
    format!("Basic {}", STANDARD.encode(credentials))
}

fn bad_authorizations(app: &TestApp) -> Vec<Option<String>> {
    vec![
        None,
        Some(basic(&format!(
            "{}:wrong-{}",
            app.ops_user, app.ops_password
        ))),
        Some(basic(&format!("{}:{}x", app.ops_user, app.ops_password))),
        Some(basic(&format!("{}:", app.ops_user))),
        Some(basic(&format!("someone:{}", app.ops_password))),
        Some(basic(&format!("{}-x:{}", app.ops_user, app.ops_password))),
        Some(basic(&app.ops_password)),
        Some("Basic !!!not-base64!!!".to_owned()),
        Some("Basic".to_owned()),
        Some(format!("Bearer {}", app.ops_password)),
    ]
}

#[tokio::test]
async fn missing_or_wrong_credentials_are_refused_everywhere() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &sample()).await.assert_ok();
    let before = app.recording(&cc, "alex-test-id").await;
    let body =
        serde_json::to_vec(&json!({"id": "x", "domains": ["d"], "uris": ["/api/x"]})).unwrap();

    for (method, path) in endpoints(&cc) {
        for authorization in bad_authorizations(&app) {
            let mut request = app
                .anonymous(method.clone(), &path)
                .header("content-type", "application/json")
                .body(body.clone());
            if let Some(authorization) = &authorization {
                request = request.header("authorization", authorization);
            }
            let response = send(request).await;
            assert_eq!(
                response.status.as_u16(),
                401,
                "{method} {path} with {authorization:?}"
            );
            response.assert_unauthorized();
            // A success forgets the failures, which would otherwise be answered more and
            // more slowly (see hardening.rs).
            let fine = send(app.request(Method::GET, "/api/v2/ops/contact-centers")).await;
            assert_eq!(fine.status.as_u16(), 200);
        }
    }

    // Nothing changed, and the right credentials still work.
    assert_eq!(app.recording(&cc, "alex-test-id").await, before);
    let features = send(app.request(
        Method::GET,
        &format!("/api/v2/ops/contact-centers/{cc}/features"),
    ))
    .await;
    assert_eq!(
        features.json()["uris"],
        json!(["/api/api-supervisor-recording"])
    );
}

#[tokio::test]
async fn the_ops_user_name_is_configurable() {
    let app = AppBuilder::new().ops_user_flag("recorder").spawn().await;
    let list = "/api/v2/ops/contact-centers";
    let ok = send(app.authed(Method::GET, list)).await;
    assert_eq!(ok.status.as_u16(), 200, "{}", ok.text);
    send(
        app.anonymous(Method::GET, list)
            .basic_auth("ops", Some(&app.ops_password)),
    )
    .await
    .assert_unauthorized();
}

#[tokio::test]
async fn passwords_may_contain_colons_and_any_characters() {
    let password = format!("{}:with:colons:ünï", crate::helpers::strong_password());
    let app = AppBuilder::new().password_flag(&password).spawn().await;
    let list = "/api/v2/ops/contact-centers";
    let ok = send(app.authed(Method::GET, list)).await;
    assert_eq!(ok.status.as_u16(), 200, "{}", ok.text);
    let prefix = password.split(':').next().unwrap();
    send(
        app.anonymous(Method::GET, list)
            .basic_auth("ops", Some(prefix)),
    )
    .await
    .assert_unauthorized();
}
