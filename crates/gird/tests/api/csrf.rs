//! CSRF protection (docs/API.md "CSRF").

use reqwest::Method;
use serde_json::json;

use crate::body::{minimal_record, sample};
use crate::helpers::{send, spawn_app, with_csrf, AppBuilder, CsrfSession, TestApp, CSRF_MESSAGE};

fn insert_path(cc: &str) -> String {
    format!("/internal-api/contact-centers/{cc}/recordings")
}

/// An insert with the ops credentials and exactly the given cookie and token.
async fn insert_with(
    app: &TestApp,
    cc: &str,
    cookie: Option<&str>,
    token: Option<&str>,
) -> crate::helpers::ApiResponse {
    let mut request = app.authed(Method::POST, &insert_path(cc)).json(&sample());
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    if let Some(token) = token {
        request = request.header("x-csrf-token", token);
    }
    send(request).await
}

#[tokio::test]
async fn a_get_hands_out_a_session_and_its_token() {
    let app = AppBuilder::new().csrf().spawn().await;

    let response = app.csrf_get(None).await;
    assert_eq!(response.status.as_u16(), 200);
    assert_eq!(
        response.header("x-csrf-header").as_deref(),
        Some("X-CSRF-TOKEN")
    );
    let token = response.header("x-csrf-token").expect("a token");
    assert!(!token.is_empty());
    let set_cookie = response.header("set-cookie").expect("a session cookie");
    for part in ["JSESSIONID=", "Path=/", "HttpOnly", "SameSite=Lax"] {
        assert!(set_cookie.contains(part), "{part} in {set_cookie}");
    }

    let cookie = response.session_cookie().unwrap();
    let again = app.csrf_get(Some(&cookie)).await;
    assert!(
        again.session_cookie().is_none(),
        "no new cookie for a known session"
    );
    assert_eq!(
        again.header("x-csrf-token"),
        Some(token),
        "the token belongs to the session"
    );

    let other = app.csrf_get(None).await;
    assert_ne!(
        other.session_cookie(),
        Some(cookie),
        "a new session each time"
    );
}

#[tokio::test]
async fn modifying_requests_need_the_session_and_its_token() {
    let app = AppBuilder::new().csrf().spawn().await;
    let cc = app.ready_contact_center().await;
    let session = app.csrf_session().await;
    let stranger = app.csrf_session().await;

    let refused = [
        (None, None),
        (Some(session.cookie.as_str()), None),
        (None, Some(session.token.as_str())),
        (Some(stranger.cookie.as_str()), Some(session.token.as_str())),
        (Some(session.cookie.as_str()), Some("not-a-token")),
        (Some(session.cookie.as_str()), Some("")),
    ];
    for (cookie, token) in refused {
        let message = insert_with(&app, &cc, cookie, token)
            .await
            .assert_error(403, 3);
        assert_eq!(message, CSRF_MESSAGE, "cookie {cookie:?}, token {token:?}");
        app.assert_absent(&cc, "alex-test-id").await;
    }

    // Browsers send the session cookie among others.
    let cookies = format!("theme=dark; {}; lang=en", session.cookie);
    insert_with(&app, &cc, Some(&cookies), Some(&session.token))
        .await
        .assert_ok();
    app.recording(&cc, "alex-test-id").await;
}

#[tokio::test]
async fn the_ops_api_is_protected_too() {
    let app = AppBuilder::new().csrf().spawn().await;
    let cc = app.ready_contact_center().await;
    let base = format!("/api/v2/ops/contact-centers/{cc}");
    let requests = [
        (
            Method::POST,
            "/api/v2/ops/contact-centers".to_owned(),
            json!({"id": "new-center", "domains": ["d"]}),
        ),
        (
            Method::POST,
            format!("{base}/features"),
            json!({"uris": ["/api/api-supervisor-recording"]}),
        ),
        (
            Method::DELETE,
            format!("{base}/features/api-supervisor-recording"),
            json!({}),
        ),
        (Method::DELETE, base.clone(), json!({})),
    ];
    for (method, path, body) in requests {
        let response = send(app.authed(method.clone(), &path).json(&body)).await;
        let message = response.assert_error(403, 3);
        assert_eq!(message, CSRF_MESSAGE, "{method} {path}");
    }
    let center = send(app.request(Method::GET, &base)).await.json();
    assert_eq!(
        center["contactCenter"]["features"],
        json!(["api-supervisor-recording"]),
        "nothing changed"
    );
    let centers = send(app.request(Method::GET, "/api/v2/ops/contact-centers"))
        .await
        .json();
    assert!(!centers["uris"]
        .as_array()
        .unwrap()
        .contains(&json!("/contact-centers/new-center")));
}

#[tokio::test]
async fn authentication_is_checked_before_the_token() {
    let app = AppBuilder::new().csrf().spawn().await;
    let cc = app.ready_contact_center().await;
    let response = send(
        app.anonymous(Method::POST, &insert_path(&cc))
            .json(&sample()),
    )
    .await;
    response.assert_unauthorized();
    app.assert_absent(&cc, "alex-test-id").await;
}

#[tokio::test]
async fn instances_sharing_the_key_accept_each_others_tokens() {
    let key = crate::helpers::strong_password();
    let first = AppBuilder::new()
        .csrf()
        .arg("--csrf-key", &key)
        .spawn()
        .await;
    let second = AppBuilder::new()
        .csrf()
        .arg("--csrf-key", &key)
        .spawn()
        .await;
    let stranger = AppBuilder::new()
        .csrf()
        .arg("--csrf-key", "a-different-csrf-key-0123456789")
        .spawn()
        .await;
    let session: CsrfSession = first.csrf_session().await;

    // Everything on the second instance, with the first instance's session.
    let cc = crate::helpers::unique("cc");
    let create = second
        .authed(Method::POST, "/api/v2/ops/contact-centers")
        .json(&json!({"id": cc, "domains": ["example.com"]}));
    assert_eq!(send(with_csrf(create, &session)).await.status.as_u16(), 201);
    let features = second
        .authed(
            Method::POST,
            &format!("/api/v2/ops/contact-centers/{cc}/features"),
        )
        .json(&json!({"uris": ["api-supervisor-recording"]}));
    send(with_csrf(features, &session)).await.assert_ok();
    insert_with(&second, &cc, Some(&session.cookie), Some(&session.token))
        .await
        .assert_ok();
    second.recording(&cc, "alex-test-id").await;

    let stranger_cc = stranger.ready_contact_center().await;
    let message = insert_with(
        &stranger,
        &stranger_cc,
        Some(&session.cookie),
        Some(&session.token),
    )
    .await
    .assert_error(403, 3);
    assert_eq!(message, CSRF_MESSAGE);
}

#[tokio::test]
async fn the_key_survives_a_restart() {
    let app = AppBuilder::new().csrf().spawn().await;
    let session = app.csrf_session().await;
    let cc = app.ready_contact_center().await;
    let app = app.restart().await;
    insert_with(&app, &cc, Some(&session.cookie), Some(&session.token))
        .await
        .assert_ok();
}

#[tokio::test]
async fn without_protection_no_token_is_needed() {
    for app in [
        spawn_app().await,
        AppBuilder::new().arg("--csrf", "false").spawn().await,
    ] {
        let cc = app.ready_contact_center().await;
        insert_with(&app, &cc, None, None).await.assert_ok();
        let response = app.csrf_get(None).await;
        assert_eq!(response.status.as_u16(), 200);
        let mut body = minimal_record("second");
        body["mediaFiles"][0]["mediaId"] = json!("second-media");
        app.insert(&cc, &body).await.assert_ok();
    }
}

/// The session a GET handed out, as a client reads it from the answer.
fn session_from(response: &crate::helpers::ApiResponse) -> CsrfSession {
    assert_eq!(
        response.header("x-csrf-header").as_deref(),
        Some("X-CSRF-TOKEN"),
        "{response:?}"
    );
    CsrfSession {
        cookie: response.session_cookie().expect("a JSESSIONID cookie"),
        token: response.header("x-csrf-token").expect("a token"),
    }
}

#[tokio::test]
async fn clients_that_take_the_token_from_the_version_without_credentials() {
    for protected in [true, false] {
        let app = AppBuilder::new()
            .arg("--csrf", &protected.to_string())
            .spawn()
            .await;
        let cc = app.ready_contact_center().await;
        let response = send(app.anonymous(Method::GET, "/api/v2/diagnostics/version")).await;
        assert_eq!(response.status.as_u16(), 200, "{}", response.text);
        let version = response.json();
        assert_eq!(version["statusCode"], 0);
        assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
        let session = session_from(&response);
        insert_with(&app, &cc, Some(&session.cookie), Some(&session.token))
            .await
            .assert_ok();
        app.recording(&cc, "alex-test-id").await;
    }
}

#[tokio::test]
async fn clients_that_take_the_token_from_me_with_basic_auth() {
    for protected in [true, false] {
        let app = AppBuilder::new()
            .arg("--csrf", &protected.to_string())
            .spawn()
            .await;
        let cc = app.ready_contact_center().await;
        let response = send(app.authed(Method::GET, "/api/v2/me")).await;
        assert_eq!(response.status.as_u16(), 200, "{}", response.text);
        let me = response.json();
        assert_eq!(me["statusCode"], 0);
        assert_eq!(me["user"]["userName"], "ops");
        assert_eq!(me["user"]["roles"], json!(["Ops"]));
        let session = session_from(&response);
        insert_with(&app, &cc, Some(&session.cookie), Some(&session.token))
            .await
            .assert_ok();
        app.recording(&cc, "alex-test-id").await;

        send(app.anonymous(Method::GET, "/api/v2/me"))
            .await
            .assert_unauthorized();
    }
}

#[tokio::test]
async fn every_get_answer_hands_out_a_token_whatever_its_status() {
    for protected in [true, false] {
        let app = AppBuilder::new()
            .arg("--csrf", &protected.to_string())
            .spawn()
            .await;
        let answers = [
            (
                app.anonymous(Method::GET, "/api/v2/ops/contact-centers"),
                401,
            ),
            (app.authed(Method::GET, "/api/v2/no-such-thing"), 404),
            (app.anonymous(Method::GET, "/no/such/path"), 404),
            (app.authed(Method::GET, "/api/v2/ops/contact-centers"), 200),
            (app.anonymous(Method::GET, "/health"), 200),
        ];
        for (request, status) in answers {
            let response = send(request).await;
            assert_eq!(response.status.as_u16(), status, "{}", response.text);
            let session = session_from(&response);
            assert!(!session.token.is_empty());
        }
        // A known session keeps its token and gets no new cookie.
        let first = session_from(&send(app.anonymous(Method::GET, "/health")).await);
        let again = send(
            app.anonymous(Method::GET, "/api/v2/diagnostics/version")
                .header("cookie", &first.cookie),
        )
        .await;
        assert!(again.session_cookie().is_none());
        assert_eq!(again.header("x-csrf-token"), Some(first.token));
    }
}

#[tokio::test]
async fn a_token_from_the_version_does_not_work_with_another_session() {
    let app = AppBuilder::new().csrf().spawn().await;
    let cc = app.ready_contact_center().await;
    let mine = session_from(&send(app.anonymous(Method::GET, "/api/v2/diagnostics/version")).await);
    let other =
        session_from(&send(app.anonymous(Method::GET, "/api/v2/diagnostics/version")).await);
    let message = insert_with(&app, &cc, Some(&other.cookie), Some(&mine.token))
        .await
        .assert_error(403, 3);
    assert_eq!(message, CSRF_MESSAGE);
    app.assert_absent(&cc, "alex-test-id").await;
}
