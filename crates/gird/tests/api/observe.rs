//! Watching gird: health checks, Prometheus metrics, request ids, JSON logs and the audit
//! log (docs/API.md "Operations").

use std::process::Stdio;

use gird_testkit::{wait_until_listening, GIRD_LISTENING};
use reqwest::Method;
use serde_json::{json, Value};

use crate::body::complete_record;
use crate::helpers::{send, spawn_app, strong_password, AppBuilder, PATIENCE};

#[tokio::test]
async fn health_and_ready_answer_without_credentials() {
    let app = spawn_app().await;
    for (path, status) in [("/health", "ok"), ("/ready", "ready")] {
        let response = send(app.anonymous(Method::GET, path)).await;
        assert_eq!(response.status.as_u16(), 200, "{path}: {}", response.text);
        assert_eq!(response.json(), json!({ "status": status }));
    }
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let app = spawn_app().await;
    let given = send(
        app.anonymous(Method::GET, "/health")
            .header("x-request-id", "lb-7f3a.1"),
    )
    .await;
    assert_eq!(given.header("x-request-id").as_deref(), Some("lb-7f3a.1"));
    let made = send(app.anonymous(Method::GET, "/no/such/path")).await;
    let id = made.header("x-request-id").expect("an id");
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let refused = send(
        app.anonymous(Method::GET, "/health")
            .header("x-request-id", "bad id with spaces"),
    )
    .await;
    assert_ne!(
        refused.header("x-request-id").as_deref(),
        Some("bad id with spaces")
    );
}

#[tokio::test]
async fn metrics_count_requests_batches_and_the_outbox() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &complete_record("metered"))
        .await
        .assert_ok();
    send(app.anonymous(Method::GET, "/metrics"))
        .await
        .assert_unauthorized();
    let response = send(app.authed(Method::GET, "/metrics")).await;
    assert_eq!(response.status.as_u16(), 200);
    assert!(response
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text;
    for expected in [
        r#"gird_http_requests_total{method="POST",route="/internal-api/contact-centers/{id}/recordings",status="200"} 1"#,
        r#"gird_http_requests_total{method="GET",route="/metrics",status="401"} 1"#,
        "gird_http_request_duration_seconds_bucket{",
        "gird_insert_batch_size_count ",
        r#"gird_outbox_deliveries{state="queued"} 0"#,
        "gird_outbox_oldest_pending_seconds 0",
    ] {
        assert!(text.contains(expected), "{expected} in:\n{text}");
    }
}

#[tokio::test]
async fn the_audit_log_names_who_changed_what_from_where() {
    let builder = AppBuilder::new();
    let audit = builder.data_dir().with_file_name("audit.jsonl");
    let app = builder
        .arg("--audit-log", audit.to_str().unwrap())
        .spawn()
        .await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &complete_record("audited"))
        .await
        .assert_ok();
    app.insert(&cc, &complete_record("audited"))
        .await
        .assert_ok();
    let path = format!("/api/v2/recordings/audited?contactCenterId={cc}");
    send(
        app.request(Method::POST, &path)
            .header("x-request-id", "hold-req-1")
            .json(&json!({"operationName": "applyNonDelete"})),
    )
    .await
    .assert_ok();
    send(
        app.request(Method::POST, &path)
            .json(&json!({"operationName": "removeNonDelete"})),
    )
    .await
    .assert_ok();
    send(app.request(Method::DELETE, &path)).await.assert_ok();

    let text = std::fs::read_to_string(&audit).expect("the audit log");
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    let actions: Vec<(&str, &str)> = lines
        .iter()
        .map(|line| {
            let fields = &line["fields"];
            (
                fields["action"].as_str().unwrap(),
                fields["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("insert", "created"),
            ("insert", "unchanged"),
            ("legal-hold", "applyNonDelete"),
            ("legal-hold", "removeNonDelete"),
            ("delete", "deleted"),
        ]
    );
    let hold = &lines[2];
    assert_eq!(hold["fields"]["user"], "ops");
    assert_eq!(hold["fields"]["via"], "basic");
    assert_eq!(hold["fields"]["from"], "127.0.0.1");
    assert_eq!(hold["fields"]["contact_center"], cc.as_str());
    assert_eq!(hold["fields"]["recording"], "audited");
    assert_eq!(hold["span"]["id"], "hold-req-1", "{hold}");
    assert!(hold["timestamp"].as_str().unwrap().starts_with("20"));
}

/// `--log-format json`: one JSON object per line, with the request's id on lines logged
/// while serving it.
#[tokio::test]
async fn json_logs_carry_the_request_id() {
    let data = tempfile::TempDir::new().unwrap();
    let password = strong_password();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_gird"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .arg("--data-dir")
        .arg(data.path())
        .args(["--ops-password", &password])
        .current_dir(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let listening = wait_until_listening(child, GIRD_LISTENING, PATIENCE, None)
        .await
        .unwrap_or_else(|error| panic!("gird listens: {error:?}"));
    let (child, address) = (listening.child, listening.address);
    let client = reqwest::Client::new();
    let refused = client
        .get(format!("{address}/api/v2/ops/contact-centers"))
        .basic_auth("ops", Some("wrong"))
        .header("x-request-id", "json-log-1")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let output = tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let rejected = lines
        .iter()
        .find(|line| line["fields"]["message"] == "rejected credentials")
        .unwrap_or_else(|| panic!("no rejection logged: {stderr}"));
    assert_eq!(rejected["span"]["id"], "json-log-1");
    assert_eq!(rejected["level"], "INFO");
}

/// A query string that does not parse gets the JSON envelope like every other error.
#[tokio::test]
async fn unparseable_query_strings_get_the_json_envelope() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let path = format!("/api/v2/ops/contact-centers/{cc}/speechminer/outbox?limit=-1");
    let answer = send(app.authed(Method::GET, &path)).await;
    let message = answer.assert_error(400, 10);
    assert!(message.contains("limit"), "{message}");
}

#[tokio::test]
async fn the_openapi_document_is_served() {
    let app = spawn_app().await;
    let answer = send(app.anonymous(Method::GET, "/openapi.json")).await;
    assert_eq!(answer.status.as_u16(), 200);
    let document = answer.json();
    assert_eq!(document["openapi"], "3.0.3");
    assert!(document["paths"]["/internal-api/contact-centers/{id}/recordings"]["post"].is_object());
}
