//! Outbound requests (API.md "Outbound requests"): gird fetches, deletes and posts only
//! where a contact center allows (its storage, its SpeechMiner receiver, its outbound
//! allow-list); records that point elsewhere are stored as sent and answered with a
//! refusal; no receiver's words end up in an error; URLs are logged without user info or
//! query (`import_hrefs` has the importer's side).

use reqwest::Method;
use serde_json::{json, Value};

use crate::body::complete_record;
use crate::helpers::{eventually, send, spawn_app, Api, ApiResponse, AppBuilder, CSRF_MESSAGE};
use crate::playback::Stage;
use crate::receiver::{Answer, Receiver};
use crate::rws::{APPLY_HOLD, REMOVE_HOLD};
use crate::speechminer::{forwarding_contact_center, quick_retries};
use crate::webdav::{pattern, Mode, WebDav, DAV_PASSWORD, DAV_USER};

fn outbound_path(cc: &str) -> String {
    format!("/api/v2/ops/contact-centers/{cc}/outbound")
}

impl Api {
    pub async fn put_outbound(&self, cc: &str, body: &Value) -> ApiResponse {
        send(self.request(Method::PUT, &outbound_path(cc)).json(body)).await
    }

    pub async fn get_outbound(&self, cc: &str) -> ApiResponse {
        send(self.request(Method::GET, &outbound_path(cc))).await
    }

    pub async fn delete_outbound(&self, cc: &str) -> ApiResponse {
        send(self.request(Method::DELETE, &outbound_path(cc))).await
    }

    /// Allows `origins` for `cc`.
    pub async fn allow(&self, cc: &str, origins: &[&str]) {
        self.put_outbound(cc, &json!({ "origins": origins }))
            .await
            .assert_ok();
    }

    /// The allow-list of a successful GET.
    async fn origins(&self, cc: &str) -> Value {
        let response = self.get_outbound(cc).await;
        assert_eq!(response.status.as_u16(), 200, "{}", response.text);
        let body = response.json();
        assert_eq!(body["statusCode"], 0, "{body}");
        body["outbound"]["origins"].clone()
    }
}

/// `http://127.0.0.1:<port>` of a test server's URL.
fn origin_of(url: &str) -> String {
    let url = reqwest::Url::parse(url).unwrap();
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap(),
        url.port().unwrap()
    )
}

fn port_of(url: &str) -> u16 {
    reqwest::Url::parse(url).unwrap().port().unwrap()
}

/// Asserts a refusal of the outbound policy naming `origin` and how to allow it.
fn assert_refused(answer: &ApiResponse, origin: &str, cc: &str) -> String {
    let message = answer.assert_error(403, 5);
    assert!(
        message.contains(&format!(
            "origin {origin} is not allowed for contact center \"{cc}\""
        )),
        "{message}"
    );
    assert!(
        message.contains(&format!("PUT /api/v2/ops/contact-centers/{cc}/outbound"))
            && message.contains(&format!("gird.outbound.contactCenters.{cc}.origins")),
        "says how to allow it: {message}"
    );
    message
}

#[tokio::test]
async fn a_media_url_on_another_server_is_stored_but_not_fetched_until_its_origin_is_allowed() {
    let stage = Stage::new().await;
    let elsewhere = WebDav::without_auth().await;
    let bytes = pattern(5000, 41);
    elsewhere.put_file("public.mp3", &bytes);
    let url = format!("{}?token=Tok-4411", elsewhere.url("public.mp3"));
    let recording = stage.insert("elsewhere", &[&url], Some("audio/mp3")).await;
    let media = &recording["mediaFiles"][0];
    assert_eq!(media["mediaDescriptor"]["path"], url, "stored as sent");
    let play_path = media["playPath"].as_str().unwrap().to_owned();

    let played = stage.play(&play_path, None).await.as_api();
    let message = assert_refused(&played, &elsewhere.address, &stage.cc);
    assert!(
        !message.contains("public.mp3") && !message.contains("Tok-4411"),
        "the origin, not the URL: {message}"
    );
    assert!(elsewhere.seen().is_empty(), "{:?}", elsewhere.seen());

    stage.app.allow(&stage.cc, &[&elsewhere.address]).await;
    let played = stage.play(&play_path, None).await;
    assert_eq!(played.status.as_u16(), 200, "{}", played.as_api().text);
    assert!(played.body == bytes, "the file's bytes");
    let seen = elsewhere.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].authorization, None, "no storage credentials there");
}

#[tokio::test]
async fn delete_media_on_another_server_is_refused_and_keeps_the_record_and_the_file() {
    let stage = Stage::new().await;
    let elsewhere = WebDav::without_auth().await;
    elsewhere.put_file("keep.mp3", &pattern(1000, 42));
    let url = elsewhere.url("keep.mp3");
    stage.insert("kept", &[&url], Some("audio/mp3")).await;
    let app = &stage.app;

    let answer = app.delete_recording("kept", Some(&stage.cc), true).await;
    assert_refused(&answer, &elsewhere.address, &stage.cc);
    assert!(elsewhere.exists("keep.mp3"), "the file stays");
    assert!(elsewhere.seen().is_empty(), "{:?}", elsewhere.seen());
    let recording = app.recording(&stage.cc, "kept").await;
    assert_eq!(recording["mediaFiles"][0]["mediaDescriptor"]["path"], url);
    // Not left marked as being deleted: a hold can come and go.
    app.hold("kept", &stage.cc, APPLY_HOLD).await;
    app.hold("kept", &stage.cc, REMOVE_HOLD).await;

    app.allow(&stage.cc, &[&elsewhere.address]).await;
    app.delete_recording("kept", Some(&stage.cc), true)
        .await
        .assert_ok();
    app.assert_absent(&stage.cc, "kept").await;
    assert!(!elsewhere.exists("keep.mp3"), "deleted once allowed");
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_unless_its_origin_is_allowed() {
    let stage = Stage::new().await;
    let elsewhere = WebDav::without_auth().await;
    let bytes = pattern(3000, 43);
    elsewhere.put_file("named.mp3", &bytes);
    // `localhost` resolves to loopback on every machine, without any network.
    let by_name = format!("http://localhost:{}", port_of(&elsewhere.address));
    let url = format!("{by_name}/dav/recordings/named.mp3");
    let play_path = stage.play_path("by-name", &url, Some("audio/mp3")).await;
    assert_refused(
        &stage.play(&play_path, None).await.as_api(),
        &by_name,
        &stage.cc,
    );

    // Allowing the address does not allow a name that resolves to it.
    stage.app.allow(&stage.cc, &[&elsewhere.address]).await;
    assert_refused(
        &stage.play(&play_path, None).await.as_api(),
        &by_name,
        &stage.cc,
    );
    assert!(elsewhere.seen().is_empty(), "{:?}", elsewhere.seen());

    stage.app.allow(&stage.cc, &[&by_name]).await;
    let played = stage.play(&play_path, None).await;
    assert_eq!(played.status.as_u16(), 200, "{}", played.as_api().text);
    assert!(played.body == bytes);

    // The operator's own storage may be named so too: its base URL is trusted.
    let base = stage.dav.base_url().replace("127.0.0.1", "localhost");
    let storage = json!({"baseUrl": base, "username": DAV_USER, "password": DAV_PASSWORD});
    stage.app.put_storage(&stage.cc, &storage).await.assert_ok();
    let own = pattern(2000, 44);
    stage.dav.put_file("own.mp3", &own);
    let own_path = stage.play_path("own", "own.mp3", Some("audio/mp3")).await;
    let played = stage.play(&own_path, None).await;
    assert_eq!(played.status.as_u16(), 200, "{}", played.as_api().text);
    assert!(played.body == own);
}

#[tokio::test]
async fn a_receiver_named_by_a_record_elsewhere_is_a_dead_letter_at_once_until_allowed() {
    let configured = Receiver::start().await;
    let named = Receiver::start().await;
    let app = quick_retries().spawn().await;
    let (cc, _) = forwarding_contact_center(&app, &configured).await;
    let mut body = complete_record("forwarded");
    let named_url = format!("{}?apiKey=Key-7731", named.url);
    body["mediaFiles"][0]["parameters"]["rp.speechminer_uri"] = json!(named_url);
    app.insert(&cc, &body).await.assert_ok();
    let stored = app.recording(&cc, "forwarded").await;
    assert_eq!(
        stored["mediaFiles"][0]["parameters"]["rp.speechminer_uri"], named_url,
        "stored as sent"
    );

    eventually("the delivery is a dead letter", || async {
        app.delivery(&cc, "forwarded").await["state"] == "failed"
    })
    .await;
    let delivery = app.delivery(&cc, "forwarded").await;
    assert_eq!(delivery["attempts"], 1, "at once: {delivery}");
    let error = delivery["lastError"].as_str().unwrap();
    let origin = origin_of(&named.url);
    assert!(
        error.starts_with("mediaFiles[].parameters.rp.speechminer_uri: ")
            && error.contains(&format!(
                "origin {origin} is not allowed for contact center \"{cc}\""
            )),
        "{error}"
    );
    assert!(!error.contains("Key-7731"), "{error}");
    named.assert_no_more_than(0, &app, &cc).await;
    configured.assert_no_more_than(0, &app, &cc).await;

    app.allow(&cc, &[&origin]).await;
    let reposted = app.repost(&cc, &json!({"deadLetters": true})).await;
    assert_eq!(reposted.json()["queued"], 1, "{}", reposted.text);
    let got = named.wait_for_accepted(1).await;
    assert_eq!(got[0].id(), "forwarded");
    assert_eq!(got[0].header("authorization"), None, "not the receiver's");
    configured.assert_no_more_than(0, &app, &cc).await;
}

#[tokio::test]
async fn last_error_never_holds_what_the_receiver_answered() {
    const MARKER: &str = "AKIA-Secret-Answer-6620";
    const SECRET: &str = "AKIA-Secret-Answer-6620 password=hunter2";
    let receiver = Receiver::start().await;
    receiver.answer(Answer::Body(500, SECRET));
    let builder = quick_retries()
        .arg("--speechminer-max-attempts", "2")
        .capture_log();
    let app = builder.spawn().await;
    let (cc, _) = forwarding_contact_center(&app, &receiver).await;
    app.insert(&cc, &complete_record("answered"))
        .await
        .assert_ok();
    eventually("the delivery is a dead letter", || async {
        app.delivery(&cc, "answered").await["state"] == "failed"
    })
    .await;
    let delivery = app.delivery(&cc, "answered").await;
    assert_eq!(delivery["attempts"], 2, "{delivery}");
    let error = delivery["lastError"].as_str().unwrap();
    assert_eq!(
        error,
        format!("{}: HTTP 500 Internal Server Error", receiver.url)
    );
    let outbox = app.outbox(&cc).await;
    assert!(!outbox.to_string().contains(MARKER), "{outbox}");
    let log_file = builder.log_file();
    eventually("the dead letter is logged", || async {
        std::fs::read_to_string(&log_file)
            .unwrap_or_default()
            .contains("kept as a dead letter")
    })
    .await;
    let log = std::fs::read_to_string(&log_file).unwrap();
    assert!(!log.contains(MARKER) && !log.contains("hunter2"), "{log}");
}

#[tokio::test]
async fn user_info_and_queries_of_media_urls_never_reach_the_log() {
    const SECRETS: [&str; 7] = [
        "log-user",
        "Pw-Log-5521",
        "Tok-Log-9904",
        "Frag-Log-3",
        "other-user",
        "Pw-Log-7713",
        "Sig-Log-1",
    ];
    let builder = AppBuilder::new().capture_log();
    let mut stage = Stage::with(builder.clone()).await;
    let log_file = builder.log_file();
    let log = || std::fs::read_to_string(&log_file).unwrap_or_default();
    let assert_clean = |log: &str| {
        for secret in SECRETS {
            assert!(!log.contains(secret), "{secret} is in the log: {log}");
        }
    };

    // A failing and a stopped WebDAV, for a URL with user info, query and fragment.
    let authority = stage.dav.address.trim_start_matches("http://").to_owned();
    let url = format!(
        "http://log-user:Pw-Log-5521@{authority}/dav/recordings/x.mp3?token=Tok-Log-9904#Frag-Log-3"
    );
    let play_path = stage.play_path("logged", &url, Some("audio/mp3")).await;
    stage.dav.set_mode(Mode::Failing);
    stage
        .play(&play_path, None)
        .await
        .as_api()
        .assert_error(502, 4);
    stage.dav.stop().await;
    stage
        .play(&play_path, None)
        .await
        .as_api()
        .assert_error(502, 4);
    eventually("the failures are logged", || async {
        let log = log();
        log.contains("WebDAV refused the request") && log.contains("WebDAV unreachable")
    })
    .await;
    let logged = log();
    assert!(
        logged.contains(&format!("http://{authority}/dav/recordings/x.mp3")),
        "the URL is logged as scheme://host:port/path: {logged}"
    );
    assert_clean(&logged);

    // A refused one.
    let elsewhere = "http://other-user:Pw-Log-7713@localhost:9/x.mp3?sig=Sig-Log-1";
    let refused_path = stage.play_path("refused", elsewhere, None).await;
    stage
        .play(&refused_path, None)
        .await
        .as_api()
        .assert_error(403, 5);
    eventually("the refusal is logged", || async {
        log().contains("is not requested")
    })
    .await;
    assert_clean(&log());
}

#[tokio::test]
async fn the_allow_list_is_set_read_replaced_and_deleted() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.get_outbound(&cc).await.assert_error(404, 6);
    app.delete_outbound(&cc).await.assert_error(404, 6);

    let body = json!({"origins": ["https://Media.Example.com/", "http://10.1.2.3:8080", "http://[::1]:9000", "https://media.example.com:443"]});
    app.put_outbound(&cc, &body).await.assert_ok();
    assert_eq!(
        app.origins(&cc).await,
        json!([
            "https://media.example.com",
            "http://10.1.2.3:8080",
            "http://[::1]:9000"
        ]),
        "normalized, each once"
    );
    app.allow(&cc, &["http://127.0.0.1:81"]).await;
    assert_eq!(
        app.origins(&cc).await,
        json!(["http://127.0.0.1:81"]),
        "replaced"
    );
    let app = app.restart().await;
    assert_eq!(
        app.origins(&cc).await,
        json!(["http://127.0.0.1:81"]),
        "kept"
    );
    app.allow(&cc, &[]).await;
    assert_eq!(app.origins(&cc).await, json!([]));
    app.delete_outbound(&cc).await.assert_ok();
    app.get_outbound(&cc).await.assert_error(404, 6);

    {
        let path = outbound_path("no-such-cc");
        send(
            app.request(Method::PUT, &path)
                .json(&json!({"origins": []})),
        )
        .await
        .assert_error(404, 6);
        send(app.request(Method::GET, &path))
            .await
            .assert_error(404, 6);
        send(app.request(Method::DELETE, &path))
            .await
            .assert_error(404, 6);
    }
}

#[tokio::test]
async fn a_bad_allow_list_is_refused_naming_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.allow(&cc, &["https://kept.example"]).await;
    let too_many: Vec<String> = (0..101).map(|n| format!("http://h{n}.example")).collect();
    let cases = [
        (json!({}), 1, "origins: is required"),
        (json!({"origins": null}), 1, "origins: is required"),
        (
            json!({"origins": "https://a.example"}),
            10,
            "origins: expected a list",
        ),
        (json!({"origins": [7]}), 10, "origins[0]: expected a string"),
        (
            json!({"origins": ["https://a.example", "media.example"]}),
            10,
            "origins[1]: \"media.example\" is not an origin",
        ),
        (
            json!({"origins": ["https://a.example/recordings"]}),
            10,
            "origins[0]: \"https://a.example/recordings\" has a path",
        ),
        (
            json!({"origins": ["https://a.example?x=1"]}),
            10,
            "has a path, query or fragment",
        ),
        (
            json!({"origins": ["https://user:pw@a.example"]}),
            10,
            "origins[0]: \"https://user:pw@a.example\" must not contain user info",
        ),
        (
            json!({"origins": ["ftp://a.example"]}),
            10,
            "origins[0]: \"ftp://a.example\" is not an http or https origin",
        ),
        (
            json!({"origins": ["file:///etc/passwd"]}),
            10,
            "is not an http or https origin",
        ),
        (
            json!({"origins": [" https://a.example"]}),
            10,
            "must not contain spaces",
        ),
        (
            json!({"origins": too_many}),
            10,
            "origins: at most 100 origins, not 101",
        ),
        (
            json!({"origins": [], "hosts": []}),
            10,
            "hosts: is not an outbound setting (origins)",
        ),
    ];
    for (body, status_code, expected) in cases {
        let message = app
            .put_outbound(&cc, &body)
            .await
            .assert_error(400, status_code);
        assert!(message.contains(expected), "{body}: {message}");
        assert_eq!(
            app.origins(&cc).await,
            json!(["https://kept.example"]),
            "after {body}"
        );
    }
    let not_json = send(
        app.request(Method::PUT, &outbound_path(&cc))
            .header("content-type", "application/json")
            .body("{\"origins\": ["),
    )
    .await;
    not_json.assert_error(400, 2);
    assert_eq!(app.origins(&cc).await, json!(["https://kept.example"]));
}

#[tokio::test]
async fn the_allow_list_needs_the_ops_credentials_and_the_csrf_token() {
    let app = AppBuilder::new().csrf().spawn().await;
    let cc = app.ready_contact_center().await;
    let path = outbound_path(&cc);
    let body = json!({"origins": ["https://a.example"]});
    for method in [Method::PUT, Method::GET, Method::DELETE] {
        send(app.anonymous(method.clone(), &path).json(&body))
            .await
            .assert_unauthorized();
        send(
            app.anonymous(method, &path)
                .basic_auth(&app.ops_user, Some("wrong-password"))
                .json(&body),
        )
        .await
        .assert_unauthorized();
    }
    let message = send(app.authed(Method::PUT, &path).json(&body))
        .await
        .assert_error(403, 3);
    assert_eq!(message, CSRF_MESSAGE);
    app.get_outbound(&cc).await.assert_error(404, 6);

    app.put_outbound(&cc, &body).await.assert_ok();
    let message = send(app.authed(Method::DELETE, &path))
        .await
        .assert_error(403, 3);
    assert_eq!(message, CSRF_MESSAGE);
    assert_eq!(app.origins(&cc).await, json!(["https://a.example"]));
    app.delete_outbound(&cc).await.assert_ok();
}

#[tokio::test]
async fn allow_lists_come_from_the_file_too() {
    let elsewhere = WebDav::without_auth().await;
    let bytes = pattern(1000, 45);
    elsewhere.put_file("configured.mp3", &bytes);
    let yaml = |origin: &str| {
        format!(
            "gird:\n  outbound:\n    contactCenters:\n      filed:\n        origins: [\"{origin}\"]\n      no-such-cc:\n        origins: []\n"
        )
    };
    let builder = AppBuilder::new().config_file(&yaml(&elsewhere.address));
    let app = builder.spawn().await;
    // The contact center does not exist at the first start: skipped.
    let created = app.create_contact_center("filed").await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.text);
    app.enable_feature("filed").await;
    app.get_outbound("filed").await.assert_error(404, 6);
    let app = app.restart().await;
    assert_eq!(app.origins("filed").await, json!([elsewhere.address]));
    let path = elsewhere.url("configured.mp3");
    let mut record = crate::body::minimal_record("filed-media");
    record["mediaFiles"][0]["mediaDescriptor"]["path"] = json!(path);
    app.insert("filed", &record).await.assert_ok();
    let play_path = app.recording("filed", "filed-media").await["mediaFiles"][0]["playPath"]
        .as_str()
        .unwrap()
        .to_owned();
    let played = app.play(&play_path, "filed", None).await;
    assert_eq!(played.status.as_u16(), 200, "{}", played.as_api().text);
    assert!(played.body == bytes);

    // A bad entry stops the start and names it.
    let bad = AppBuilder::new().config_file(&yaml("https://a.example/path"));
    let (status, output) = bad
        .spawn_expecting_failure()
        .await
        .expect("refuses to start");
    assert!(!status.success());
    assert!(
        output.contains(
            "gird.outbound.contactCenters.filed.origins[0]: \"https://a.example/path\" has a path"
        ),
        "{output}"
    );
}
