//! `gird import` end to end: into a running gird (JSON Lines, CSV, a WebDAV crawl, CSRF,
//! dry run, rejects), and against a scripted Insertion API that counts every POST, for
//! interruption, resume, retries and refusals.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::process::{Child, Command};
use tokio::time::{sleep, Instant};

use crate::body::complete_record;
use crate::helpers::{spawn_app, AppBuilder, TestApp, PATIENCE};
use crate::webdav::{WebDav, DAV_PASSWORD, DAV_USER};

pub fn gird_import(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gird"));
    command
        .arg("import")
        .args(args)
        .arg("--quiet")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("GIRD_")) {
        command.env_remove(name);
    }
    command
}

pub async fn run(dir: &Path, args: &[&str]) -> Output {
    let output = tokio::time::timeout(PATIENCE * 6, gird_import(dir, args).output())
        .await
        .expect("gird import finishes")
        .expect("run gird import");
    if std::env::var_os("TEST_LOG").is_some() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    }
    output
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Arguments that point an import at a running gird.
pub fn into_gird(app: &TestApp, cc: &str) -> Vec<String> {
    vec![
        "--target".into(),
        app.address.clone(),
        "--contact-center".into(),
        cc.into(),
        "--password".into(),
        app.ops_password.clone(),
    ]
}

pub fn args_of(owned: &[String]) -> Vec<&str> {
    owned.iter().map(String::as_str).collect()
}

fn write_jsonl(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// The reasons file of the rejects in `dir`, if any.
fn reasons(dir: &Path) -> String {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .map(|path| {
            format!(
                "{}:\n{}",
                path.display(),
                std::fs::read_to_string(&path).unwrap_or_default()
            )
        })
        .collect()
}

fn record_line(id: &str) -> String {
    complete_record(id).to_string()
}

#[tokio::test]
async fn a_jsonl_file_is_imported_its_rejects_kept_and_a_second_run_posts_nothing() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let dir = TempDir::new().unwrap();
    let mut lines: Vec<String> = (0..40).map(|n| record_line(&format!("imp-{n}"))).collect();
    let mut bad_date = complete_record("bad-date");
    bad_date["mediaFiles"][0]["startTime"] = json!("2015-13-01T00:00:00Z");
    lines[7] = bad_date.to_string();
    lines[20] = "{not json".into();
    let file = write_jsonl(dir.path(), "in.jsonl", &lines);

    let mut args = into_gird(&app, &cc);
    args.extend([
        "--jsonl".into(),
        file.display().to_string(),
        "--jobs".into(),
        "4".into(),
    ]);
    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(
        output.status.code(),
        Some(3),
        "rejects: {}",
        stderr(&output)
    );
    let summary = stdout(&output);
    assert!(
        summary.contains("38 stored, 2 rejected, 0 already done"),
        "{summary}"
    );
    for n in [0, 6, 8, 19, 21, 39] {
        app.recording(&cc, &format!("imp-{n}")).await;
    }
    app.assert_absent(&cc, "bad-date").await;

    // The rejected record, ready to fix; the reasons with their line numbers.
    let rejects = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.to_string_lossy().ends_with(".rejects.jsonl"))
        .expect("a rejects file");
    let rejected = std::fs::read_to_string(&rejects).unwrap();
    let rejected: Vec<&str> = rejected.lines().collect();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_eq!(
        serde_json::from_str::<Value>(rejected[0]).unwrap(),
        bad_date
    );
    assert_eq!(rejected[1], "{not json", "the line as it was, to fix");
    let reasons = std::fs::read_to_string(format!("{}.txt", rejects.display())).unwrap();
    assert!(
        reasons.contains(
            "1: line 8 (id \"bad-date\"): HTTP 400, statusCode 10: mediaFiles[0].startTime"
        ),
        "{reasons}"
    );
    assert!(
        reasons.contains("2: line 21: HTTP 400, statusCode 2:"),
        "the server's answer: {reasons}"
    );

    // Run again: everything is done already.
    let again = run(dir.path(), &args_of(&args)).await;
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let summary = stdout(&again);
    assert!(
        summary.contains("0 stored, 0 rejected, 40 already done"),
        "{summary}"
    );

    // The fixed rejects import like any file.
    let mut fixed = bad_date.clone();
    fixed["mediaFiles"][0]["startTime"] = json!("2015-06-15T23:59:00Z");
    let fixed_file = write_jsonl(dir.path(), "fixed.jsonl", &[fixed.to_string()]);
    let mut args = into_gird(&app, &cc);
    args.extend(["--jsonl".into(), fixed_file.display().to_string()]);
    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    app.recording(&cc, "bad-date").await;
}

#[tokio::test]
async fn a_dry_run_reports_every_bad_row_and_posts_nothing() {
    let dir = TempDir::new().unwrap();
    let mut missing = complete_record("missing");
    missing.as_object_mut().unwrap().remove("region");
    let mut wrong = complete_record("wrong");
    wrong["mediaFiles"][0]["stopTime"] = json!(17);
    let lines = [
        record_line("fine"),
        missing.to_string(),
        "[]".into(),
        wrong.to_string(),
    ];
    let file = write_jsonl(dir.path(), "in.jsonl", &lines);
    let output = run(
        dir.path(),
        &[
            "--dry-run",
            "--contact-center",
            "cc",
            "--jsonl",
            file.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let report = stdout(&output);
    assert!(report.contains("line 2: region: is required"), "{report}");
    assert!(report.contains("line 3: is not a JSON object"), "{report}");
    assert!(
        report.contains("line 4: mediaFiles[0].stopTime:"),
        "{report}"
    );
    assert!(!report.contains("line 1:"), "{report}");
    assert!(
        report.contains("4 records checked") && report.contains("1 valid, 3 invalid"),
        "{report}"
    );
    let journals = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .path()
                .to_string_lossy()
                .contains("journal")
        })
        .count();
    assert_eq!(journals, 0, "a dry run keeps no journal");
}

#[tokio::test]
async fn csv_rows_of_one_call_become_one_record() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let dir = TempDir::new().unwrap();
    let csv = "id,callUUID,mediaId,startTime,stopTime,callerPhoneNumber,dialedPhoneNumber,region,callType,username,path,partitions\n\
               call-1,c1,c1-a,2024-03-01T10:00:00Z,2024-03-01T10:01:00Z,+15550001,+15550002,west,Inbound,agent.ann,calls/c1-a.mp3,p1;p2\n\
               call-1,c1,c1-b,2024-03-01T10:01:00Z,2024-03-01T10:02:00Z,,,,,agent.bob,calls/c1-b.mp3,\n\
               call-2,c2,c2-a,20240301T110000Z,20240301T110500Z,+15550003,+15550004,east,Outbound,agent.cy,calls/c2-a.wav,\n";
    let file = dir.path().join("in.csv");
    std::fs::write(&file, csv).unwrap();
    let mut args = into_gird(&app, &cc);
    args.extend(["--csv".into(), file.display().to_string()]);
    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("2 stored"), "{}", stdout(&output));

    let first = app.recording(&cc, "call-1").await;
    let media = first["mediaFiles"].as_array().unwrap();
    assert_eq!(media.len(), 2, "{first}");
    assert_eq!(first["callerPhoneNumber"], "+15550001");
    assert_eq!(first["callType"], "Inbound");
    assert_eq!(media[0]["parameters"]["username"], "agent.ann");
    assert_eq!(media[0]["partitions"], json!(["p1", "p2"]));
    assert_eq!(media[1]["mediaDescriptor"]["path"], "calls/c1-b.mp3");
    assert_eq!(media[1]["type"], "audio/mp3");
    let second = app.recording(&cc, "call-2").await;
    assert_eq!(second["mediaFiles"][0]["startTime"], "2024-03-01T11:00:00Z");
}

#[tokio::test]
async fn a_webdav_folder_is_crawled_into_records_with_their_sidecars() {
    let dav = WebDav::start().await;
    dav.put_file("2024/03/c1_+15550001_20240301T100000Z.mp3", b"audio one");
    dav.put_file(
        "2024/03/c1_+15550001_20240301T100000Z.mp3.json",
        br#"{"mediaFiles":[{"stopTime":"2024-03-01T10:05:00Z"}]}"#,
    );
    dav.put_file("2024/03/c1_+15550001_20240301T101000Z.mp3", b"audio two");
    dav.put_file(
        "2024/03/c1_+15550001_20240301T101000Z.json",
        br#"{"region":"west","dialedPhoneNumber":"+15550002","callType":"Inbound","mediaFiles":[{"stopTime":"2024-03-01T10:15:00Z","parameters":{"username":"agent.ann"}}]}"#,
    );
    dav.put_file("2024/04/c2_+15550003_20240401T090000Z.mp3", b"audio three");
    dav.put_file(
        "2024/04/deeper/still/c3_+1_20240401T090000Z.mp3",
        b"too deep",
    );
    dav.put_file("2024/04/notes.txt", b"not a recording");

    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let dir = TempDir::new().unwrap();
    let pattern =
        r"(?P<callUUID>[^/_]+)_(?P<callerPhoneNumber>\+\d+)_(?P<startTime>\d{8}T\d{6}Z)\.mp3$";
    let mut args = into_gird(&app, &cc);
    args.extend(
        [
            "--webdav",
            &dav.base_url(),
            "--pattern",
            pattern,
            "--depth",
            "2",
            "--webdav-user",
            DAV_USER,
            "--webdav-password",
            DAV_PASSWORD,
            "--dry-run",
        ]
        .map(String::from),
    );
    // c1 takes region and dialedPhoneNumber from its sidecar; c2 has none.
    let dry = run(dir.path(), &args_of(&args)).await;
    assert!(
        stdout(&dry).contains("c2_+15550003_20240401T090000Z.mp3: region: is required"),
        "{}",
        stdout(&dry)
    );
    args.pop();

    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(
        output.status.code(),
        Some(3),
        "c2 has no region: {}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("1 stored, 1 rejected"),
        "{}{}",
        stdout(&output),
        reasons(dir.path())
    );
    let call = app.recording(&cc, "c1").await;
    assert_eq!(call["region"], "west", "from the sidecar: {call}");
    let media = call["mediaFiles"].as_array().unwrap();
    assert_eq!(media.len(), 2, "{call}");
    assert_eq!(media[1]["parameters"]["username"], "agent.ann");
    assert_eq!(media[1]["stopTime"], "2024-03-01T10:15:00Z");
    assert_eq!(
        media[0]["mediaDescriptor"]["path"],
        dav.url("2024/03/c1_%2B15550001_20240301T100000Z.mp3"),
        "the URL the WebDAV server listed"
    );
    assert_eq!(media[0]["size"], "9");
    app.assert_absent(&cc, "c3").await;
}

#[tokio::test]
async fn the_csrf_handshake_is_made_when_the_server_asks_for_it() {
    let app = AppBuilder::new().csrf().spawn().await;
    let cc = app.ready_contact_center().await;
    let dir = TempDir::new().unwrap();
    let file = write_jsonl(dir.path(), "in.jsonl", &[record_line("with-csrf")]);
    let mut args = into_gird(&app, &cc);
    args.extend(["--jsonl".into(), file.display().to_string()]);
    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    app.recording(&cc, "with-csrf").await;
}

#[tokio::test]
async fn a_wrong_password_or_contact_center_stops_at_once_with_a_clear_error() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let dir = TempDir::new().unwrap();
    let file = write_jsonl(dir.path(), "in.jsonl", &[record_line("never")]);
    let target = app.address.clone();
    let file = file.display().to_string();
    let wrong = run(
        dir.path(),
        &[
            "--target",
            &target,
            "--contact-center",
            &cc,
            "--password",
            "Wrong-pw-1",
            "--jsonl",
            &file,
        ],
    )
    .await;
    assert_eq!(wrong.status.code(), Some(1));
    assert!(stderr(&wrong).contains("401"), "{}", stderr(&wrong));
    let missing = run(
        dir.path(),
        &[
            "--target",
            &target,
            "--contact-center",
            "no-such",
            "--password",
            &app.ops_password,
            "--jsonl",
            &file,
        ],
    )
    .await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("\"no-such\" does not exist"),
        "{}",
        stderr(&missing)
    );
    app.assert_absent(&cc, "never").await;
}

/// An Insertion API that counts the POSTs of each id, answers slowly, and fails as told.
#[derive(Clone, Default)]
struct Scripted {
    posts: Arc<Mutex<HashMap<String, u32>>>,
    /// Requests answered 503 before any is served.
    unavailable: Arc<Mutex<u32>>,
    delay: Duration,
}

impl Scripted {
    async fn start(delay: Duration) -> (Scripted, String) {
        let scripted = Scripted {
            delay,
            ..Scripted::default()
        };
        let router = Router::new()
            .route(
                "/api/v2/ops/contact-centers/{cc}",
                get(|| async { Json(json!({"statusCode": 0})) }),
            )
            .route(
                "/internal-api/contact-centers/{cc}/recordings",
                post(insert),
            )
            .with_state(scripted.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        (scripted, address)
    }

    fn posts(&self) -> HashMap<String, u32> {
        self.posts.lock().unwrap().clone()
    }

    fn total(&self) -> u32 {
        self.posts().values().sum()
    }
}

async fn insert(
    State(scripted): State<Scripted>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    sleep(scripted.delay).await;
    {
        let mut unavailable = scripted.unavailable.lock().unwrap();
        if *unavailable > 0 {
            *unavailable -= 1;
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"statusCode": 4, "statusMessage": "try later"})),
            );
        }
    }
    let id = body["id"].as_str().unwrap_or_default().to_owned();
    *scripted
        .posts
        .lock()
        .unwrap()
        .entry(id.clone())
        .or_default() += 1;
    if id.starts_with("refused") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"statusCode": 10, "statusMessage": "no"})),
        );
    }
    (StatusCode::OK, Json(json!({"statusCode": 0})))
}

fn many(dir: &Path, count: usize) -> PathBuf {
    let lines: Vec<String> = (0..count)
        .map(|n| json!({"id": format!("rec-{n:05}")}).to_string())
        .collect();
    write_jsonl(dir, "many.jsonl", &lines)
}

fn scripted_args(address: &str, file: &Path) -> Vec<String> {
    [
        "--target",
        address,
        "--contact-center",
        "cc",
        "--password",
        "pw",
        "--jobs",
        "4",
        "--jsonl",
        file.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec()
}

async fn wait_for_posts(scripted: &Scripted, count: u32) {
    let deadline = Instant::now() + PATIENCE;
    while scripted.total() < count {
        assert!(Instant::now() < deadline, "only {} posts", scripted.total());
        sleep(Duration::from_millis(10)).await;
    }
}

fn signal(child: &Child, name: &str) {
    let pid = child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args([name, &pid])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn ctrl_c_stops_cleanly_and_the_next_run_posts_only_the_rest() {
    let (scripted, address) = Scripted::start(Duration::from_millis(5)).await;
    let dir = TempDir::new().unwrap();
    let file = many(dir.path(), 400);
    let args = scripted_args(&address, &file);
    let child = gird_import(dir.path(), &args_of(&args)).spawn().unwrap();
    wait_for_posts(&scripted, 100).await;
    signal(&child, "-INT");
    let output = tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(4),
        "stopped: {}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("run the same command again"),
        "{}",
        stdout(&output)
    );
    let first_run = scripted.total();
    assert!(first_run < 400, "stopped early: {first_run}");

    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let posts = scripted.posts();
    assert_eq!(posts.len(), 400);
    let twice: Vec<_> = posts.iter().filter(|(_, count)| **count > 1).collect();
    assert!(twice.is_empty(), "posted twice: {twice:?}");
    assert!(
        stdout(&output).contains(&format!("{} already done", first_run)),
        "{}",
        stdout(&output)
    );
}

#[tokio::test]
async fn after_a_kill_9_the_next_run_finishes_and_reposts_at_most_what_was_in_flight() {
    let (scripted, address) = Scripted::start(Duration::from_millis(5)).await;
    let dir = TempDir::new().unwrap();
    let file = many(dir.path(), 400);
    let args = scripted_args(&address, &file);
    let mut child = gird_import(dir.path(), &args_of(&args)).spawn().unwrap();
    wait_for_posts(&scripted, 150).await;
    child.kill().await.unwrap();

    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let posts = scripted.posts();
    assert_eq!(posts.len(), 400, "every record arrives");
    let twice = posts.values().filter(|count| **count > 1).count();
    assert!(
        twice <= 4,
        "only what was in flight (--jobs 4) is posted again: {twice}"
    );
}

#[tokio::test]
async fn unavailable_servers_are_retried_and_refusals_are_not() {
    let (scripted, address) = Scripted::start(Duration::ZERO).await;
    *scripted.unavailable.lock().unwrap() = 5;
    let dir = TempDir::new().unwrap();
    let lines = [
        json!({"id": "ok-1"}).to_string(),
        json!({"id": "refused-1"}).to_string(),
        json!({"id": "ok-2"}).to_string(),
    ];
    let file = write_jsonl(dir.path(), "in.jsonl", &lines);
    let output = run(dir.path(), &args_of(&scripted_args(&address, &file))).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("2 stored, 1 rejected"),
        "{}",
        stdout(&output)
    );
    let posts = scripted.posts();
    assert_eq!(posts.get("refused-1"), Some(&1), "a 400 is not retried");
    assert_eq!((posts.get("ok-1"), posts.get("ok-2")), (Some(&1), Some(&1)));
    assert_eq!(
        *scripted.unavailable.lock().unwrap(),
        0,
        "the 503s were retried"
    );
}

#[tokio::test]
async fn a_server_that_stays_down_stops_the_import_to_be_run_again() {
    let dir = TempDir::new().unwrap();
    let file = write_jsonl(dir.path(), "in.jsonl", &[json!({"id": "x"}).to_string()]);
    let (scripted, address) = Scripted::start(Duration::ZERO).await;
    *scripted.unavailable.lock().unwrap() = 1_000_000;
    let mut args = scripted_args(&address, &file);
    args.extend(["--retry-seconds".into(), "1".into()]);
    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("still failing after 1 s"),
        "{}",
        stdout(&output)
    );
    *scripted.unavailable.lock().unwrap() = 0;
    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(scripted.posts().get("x"), Some(&1));
}
