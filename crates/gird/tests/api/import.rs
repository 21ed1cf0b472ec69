//! `gird import` end to end: into a running gird (JSON Lines, CSV, a WebDAV crawl, CSRF,
//! dry run, rejects), and against a scripted Insertion API that counts every POST, for
//! interruption, resume, retries and refusals.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::body::{complete_record, media_by_id};
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
async fn a_jsonl_file_is_imported_its_rejects_kept_and_a_second_run_posts_nothing_but_reports_them()
{
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
        summary.contains(
            "gird import: 40 records: 38 new, 0 merged, 0 unchanged, 2 rejected (this run: 40 in"
        ),
        "{summary}"
    );
    assert!(summary.contains("0 done by an earlier run)"), "{summary}");
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

    // The default rejects file is named after the journal, in the working directory.
    let name = rejects.file_name().unwrap().to_string_lossy();
    let where_they_are = format!("the 2 rejected records are in {name} (reasons in {name}.txt)");
    assert!(summary.contains(&where_they_are), "{summary}");

    // Run again: everything is done already, and the summary still covers the whole
    // import: the rejects remain, so it still exits 3 and says where they are.
    let again = run(dir.path(), &args_of(&args)).await;
    assert_eq!(again.status.code(), Some(3), "{}", stderr(&again));
    let summary = stdout(&again);
    assert!(
        summary.contains(
            "gird import: 40 records: 38 new, 0 merged, 0 unchanged, 2 rejected (this run: 0 in"
        ),
        "{summary}"
    );
    assert!(summary.contains("40 done by an earlier run)"), "{summary}");
    assert!(summary.contains(&where_they_are), "{summary}");
    assert!(
        summary.contains("exits 3 until you delete both files"),
        "{summary}"
    );
    let journal = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|ext| ext == "journal"))
        .expect("a journal");
    let journal = std::fs::read_to_string(journal).unwrap();
    assert!(
        journal.contains("counts new=38 merged=0 unchanged=0 stored=0 rejected=2"),
        "the counts are kept in the journal: {journal}"
    );

    // The fixed rejects import like any file.
    let mut fixed = bad_date.clone();
    fixed["mediaFiles"][0]["startTime"] = json!("2015-06-15T23:59:00Z");
    let fixed_file = write_jsonl(dir.path(), "fixed.jsonl", &[fixed.to_string()]);
    let mut fixed_args = into_gird(&app, &cc);
    fixed_args.extend(["--jsonl".into(), fixed_file.display().to_string()]);
    let output = run(dir.path(), &args_of(&fixed_args)).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    app.recording(&cc, "bad-date").await;

    // Once its rejects files are deleted, the first import counts them as handled.
    std::fs::remove_file(&rejects).unwrap();
    std::fs::remove_file(format!("{}.txt", rejects.display())).unwrap();
    let handled = run(dir.path(), &args_of(&args)).await;
    assert_eq!(handled.status.code(), Some(0), "{}", stdout(&handled));
    assert!(
        stdout(&handled).contains("their rejects files are deleted"),
        "{}",
        stdout(&handled)
    );
}

#[tokio::test]
async fn the_summary_tells_new_merged_and_unchanged_records_apart_on_every_run() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let dir = TempDir::new().unwrap();
    let first = complete_record("dup-1");
    let mut segment = complete_record("dup-1");
    segment["mediaFiles"][0]["mediaId"] = json!("dup-1-second");
    segment["mediaFiles"][0]["startTime"] = json!("2015-06-16T00:00:00.000Z");
    segment["mediaFiles"][0]["stopTime"] = json!("2015-06-16T00:01:00.000Z");
    let mut refused = complete_record("dup-3");
    refused.as_object_mut().unwrap().remove("region");
    let lines = [
        first.to_string(),
        record_line("dup-2"),
        first.to_string(),
        segment.to_string(),
        refused.to_string(),
    ];
    let file = write_jsonl(dir.path(), "in.jsonl", &lines);
    let mut args = into_gird(&app, &cc);
    // One at a time: the exact duplicate comes after the record it repeats.
    args.extend(["--jsonl", file.to_str().unwrap(), "--jobs", "1"].map(String::from));
    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let expected = "gird import: 5 records: 2 new, 1 merged, 1 unchanged, 1 rejected";
    assert!(stdout(&output).contains(expected), "{}", stdout(&output));
    assert_eq!(
        app.recording(&cc, "dup-1").await["mediaFiles"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let again = run(dir.path(), &args_of(&args)).await;
    assert_eq!(again.status.code(), Some(3), "{}", stderr(&again));
    let summary = stdout(&again);
    assert!(summary.contains(expected), "from the journal: {summary}");
    assert!(
        summary.contains("(this run: 0 in") && summary.contains("5 done by an earlier run)"),
        "{summary}"
    );
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
async fn a_dry_run_reports_a_media_id_another_record_of_the_input_uses_by_line() {
    let dir = TempDir::new().unwrap();
    let owner = complete_record("owner");
    let mut thief = complete_record("thief");
    thief["mediaFiles"][0]["mediaId"] = owner["mediaFiles"][0]["mediaId"].clone();
    let lines = [
        record_line("before"),
        owner.to_string(),
        owner.to_string(),
        thief.to_string(),
    ];
    let file = write_jsonl(dir.path(), "in.jsonl", &lines);
    let dry = run(
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
    assert_eq!(dry.status.code(), Some(3), "{}", stderr(&dry));
    let report = stdout(&dry);
    assert!(
        report.contains(
            "line 4: mediaFiles[0].mediaId \"owner-media\" is already used by record \"owner\" on line 2\n"
        ),
        "{report}"
    );
    assert!(
        !report.contains("line 3:"),
        "an exact duplicate is merged: {report}"
    );
    assert!(report.contains("3 valid, 1 invalid"), "{report}");

    // The real run refuses that record the same way.
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let mut args = into_gird(&app, &cc);
    args.extend(["--jsonl", file.to_str().unwrap(), "--jobs", "1"].map(String::from));
    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        reasons(dir.path()).contains("line 4 (id \"thief\"): HTTP 409, statusCode 18"),
        "{}",
        reasons(dir.path())
    );
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
    assert!(
        stdout(&output).contains("2 records: 2 new"),
        "{}",
        stdout(&output)
    );

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
        stdout(&output).contains("2 records: 1 new, 0 merged, 0 unchanged, 1 rejected"),
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

#[tokio::test]
async fn a_contact_center_without_the_insertion_feature_stops_before_posting_and_says_how_to_enable_it(
) {
    let app = spawn_app().await;
    let cc = crate::helpers::unique("cc");
    app.create_contact_center(&cc).await;
    let dir = TempDir::new().unwrap();
    let file = write_jsonl(dir.path(), "in.jsonl", &[record_line("featureless")]);
    let mut args = into_gird(&app, &cc);
    args.extend(["--jsonl".into(), file.display().to_string()]);
    let refused = run(dir.path(), &args_of(&args)).await;
    assert_eq!(refused.status.code(), Some(1), "{}", stdout(&refused));
    let error = stderr(&refused);
    assert!(
        error.contains(&format!(
            "contact center \"{cc}\" does not have the feature api-supervisor-recording"
        )) && error.contains("nothing was posted"),
        "{error}"
    );
    assert!(!error.contains("run the same command again"), "{error}");
    let url = format!("{}/api/v2/ops/contact-centers/{cc}/features", app.address);
    let curl = format!(
        "curl -u 'ops:<password>' -H 'Content-Type: application/json' --data '{{\"uris\":[\"/api/api-supervisor-recording\"]}}' '{url}'"
    );
    assert!(error.contains(&curl), "{error}");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().all(|entry| !entry
            .unwrap()
            .path()
            .to_string_lossy()
            .contains("journal")),
        "stopped before the journal"
    );
    app.assert_absent(&cc, "featureless").await;

    // The request it names enables the feature; then the same command imports.
    let enabled = app
        .client
        .post(&url)
        .basic_auth("ops", Some(&app.ops_password))
        .header("Content-Type", "application/json")
        .body(r#"{"uris":["/api/api-supervisor-recording"]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(enabled.status().as_u16(), 200);
    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    app.recording(&cc, "featureless").await;
}

#[tokio::test]
async fn a_server_whose_contact_center_lacks_the_feature_stops_the_import_with_exit_1() {
    // An Insertion API that lists the features at their own path (the handshake reads it).
    let (scripted, address) = Scripted::start().await;
    *scripted.features.lock().unwrap() = Some(json!(["/api/some-other-feature"]));
    let dir = TempDir::new().unwrap();
    let file = many(dir.path(), 5);
    let args = scripted_args(&address, &file);
    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("does not have the feature api-supervisor-recording"),
        "{}",
        stderr(&output)
    );
    assert_eq!(scripted.total(), 0, "nothing posted");

    // One that says nothing of its features, and answers the POSTs 403: the first answer
    // stops the import, with the same advice.
    *scripted.features.lock().unwrap() = None;
    scripted
        .forbidden
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let error = stderr(&output);
    assert!(
        error.contains("HTTP 403, statusCode 3: forbidden: feature not enabled")
            && error.contains("--data '{\"uris\":[\"/api/api-supervisor-recording\"]}'"),
        "{error}"
    );
    assert!(
        stdout(&output).contains("gird import: 0 records:"),
        "{}",
        stdout(&output)
    );
    assert!(
        scripted.total() <= 4,
        "at most --jobs in flight: {}",
        scripted.total()
    );
}

#[tokio::test]
async fn constants_a_time_zone_and_sql_times_make_complete_records_of_a_csv_export() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let dir = TempDir::new().unwrap();
    // A SQL export: local times without an offset, a duration instead of stopTime, no
    // region, dialed number or tenant column.
    let csv = "callUUID,mediaId,startTime,duration,callerPhoneNumber,path\n\
               c1,c1-a,2024-03-10 01:30:00,3600000,+15550001,calls/c1-a.mp3\n\
               c1,c1-b,2024-03-10 03:30:00.250,60000,,calls/c1-b.wav\n\
               c2,c2-a,2024-11-03 01:30:00,1000,+15550003,calls/c2-a.mp3\n";
    let file = dir.path().join("export.csv");
    std::fs::write(&file, csv).unwrap();
    let mut args = into_gird(&app, &cc);
    args.extend(
        [
            "--csv",
            file.to_str().unwrap(),
            "--set",
            "region=west",
            "--set",
            "dialedPhoneNumber=+15550100",
            "--set",
            "tenant=acme",
            "--timezone",
            "America/Los_Angeles",
        ]
        .map(String::from),
    );
    let mut dry = args.clone();
    dry.push("--dry-run".into());
    let checked = run(dir.path(), &args_of(&dry)).await;
    assert_eq!(checked.status.code(), Some(0), "{}", stdout(&checked));
    assert!(
        stdout(&checked).contains("2 valid, 0 invalid"),
        "{}",
        stdout(&checked)
    );

    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("2 records: 2 new"),
        "{}",
        stdout(&output)
    );
    let c1 = app.recording(&cc, "c1").await;
    assert_eq!(
        (&c1["region"], &c1["dialedPhoneNumber"]),
        (&json!("west"), &json!("+15550100"))
    );
    assert_eq!(c1["callerPhoneNumber"], "+15550001");
    assert!(c1.get("incomplete").is_none(), "not incomplete: {c1}");
    let a = media_by_id(&c1, "c1-a");
    // Across the change to daylight saving time (02:00 PST became 03:00 PDT).
    assert_eq!(a["startTime"], "2024-03-10T01:30:00-08:00");
    assert_eq!(a["stopTime"], "2024-03-10T03:30:00-07:00");
    assert_eq!(a["tenant"], "acme");
    assert_eq!(a["type"], "audio/mp3");
    assert_eq!(a["parameters"], json!({"callUuid": "c1", "id": "c1"}));
    let b = media_by_id(&c1, "c1-b");
    assert_eq!(b["startTime"], "2024-03-10T03:30:00.250-07:00");
    assert_eq!(b["stopTime"], "2024-03-10T03:31:00.250-07:00");
    assert_eq!(c1["startTime"], "2024-03-10T09:30:00.000+0000");
    // 01:30 happened twice on 2024-11-03: the earlier, still PDT.
    let c2 = app.recording(&cc, "c2").await;
    assert_eq!(
        c2["mediaFiles"][0]["startTime"],
        "2024-11-03T01:30:00-07:00"
    );
    assert_eq!(c2["mediaFiles"][0]["stopTime"], "2024-11-03T01:30:01-07:00");
}

#[tokio::test]
async fn a_crawl_of_plainly_named_files_makes_valid_records_from_constants_and_a_time_zone() {
    let dav = WebDav::start().await;
    dav.put_file("2024/03/c1_20240310T013000.mp3", b"audio one");
    dav.put_file("2024/07/c2_20240701T120000.wav", b"audio two");
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let dir = TempDir::new().unwrap();
    let mut args = into_gird(&app, &cc);
    args.extend(
        [
            "--webdav",
            &dav.base_url(),
            "--pattern",
            r"(?P<callUUID>[^/_]+)_(?P<startTime>\d{8}T\d{6})\.(mp3|wav)$",
            "--webdav-user",
            DAV_USER,
            "--webdav-password",
            DAV_PASSWORD,
            "--set",
            "callerPhoneNumber=+15550000",
            "--set",
            "dialedPhoneNumber=+15550100",
            "--set",
            "region=west",
            "--set",
            "duration=60000",
            "--timezone",
            "America/Los_Angeles",
        ]
        .map(String::from),
    );
    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        reasons(dir.path())
    );
    assert!(
        stdout(&output).contains("2 records: 2 new"),
        "{}",
        stdout(&output)
    );
    let c1 = app.recording(&cc, "c1").await;
    assert_eq!(c1["region"], "west");
    let media = &c1["mediaFiles"][0];
    assert_eq!(media["startTime"], "2024-03-10T01:30:00-08:00");
    assert_eq!(media["stopTime"], "2024-03-10T01:31:00-08:00");
    assert_eq!(media["type"], "audio/mp3");
    assert_eq!(media["parameters"], json!({"callUuid": "c1", "id": "c1"}));
    assert_eq!(
        media["mediaDescriptor"]["path"],
        dav.url("2024/03/c1_20240310T013000.mp3")
    );
    // A file name has no media id to give: the one soft field left.
    assert_eq!(
        c1["missingFields"],
        json!(["mediaFiles[0].mediaId"]),
        "{c1}"
    );
    let c2 = app.recording(&cc, "c2").await;
    assert_eq!(
        c2["mediaFiles"][0]["startTime"],
        "2024-07-01T12:00:00-07:00"
    );
    assert_eq!(c2["mediaFiles"][0]["type"], "audio/wav");
}

#[tokio::test]
async fn bad_sets_an_unknown_time_zone_or_a_bad_duration_stop_before_anything_is_posted() {
    let (scripted, address) = Scripted::start().await;
    let dir = TempDir::new().unwrap();
    let file = many(dir.path(), 3);
    for (extra, says) in [
        (
            &["--set", "region"][..],
            "--set \"region\": give FIELD=VALUE",
        ),
        (
            &["--set", "regoin=west"],
            "--set \"regoin\" is not a field gird import knows",
        ),
        (&["--set", "region="], "--set region=: has no value"),
        (
            &["--set", "mediaId=m1"],
            "--set mediaId: mediaId differs from one recording",
        ),
        (
            &["--set", "region=a", "--set", "region=b"],
            "--set region is given twice",
        ),
        (
            &["--set", "duration=abc"],
            "--set duration=abc: duration must be a whole number of milliseconds",
        ),
        (
            &["--set", "callType=sideways"],
            "callType must be one of Internal",
        ),
        (
            &["--timezone", "America/Nowhere"],
            "--timezone \"America/Nowhere\" is not a time zone of the tz database",
        ),
    ] {
        let mut args = scripted_args(&address, &file);
        args.extend(extra.iter().map(|arg| (*arg).to_owned()));
        let output = run(dir.path(), &args_of(&args)).await;
        assert_eq!(
            output.status.code(),
            Some(1),
            "{extra:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(says),
            "{extra:?}: {}",
            stderr(&output)
        );
        // The dry run refuses them the same way.
        args.push("--dry-run".into());
        let dry = run(dir.path(), &args_of(&args)).await;
        assert_eq!(dry.status.code(), Some(1), "{extra:?}: {}", stderr(&dry));
    }
    assert_eq!(scripted.total(), 0, "nothing posted");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().all(|entry| !entry
            .unwrap()
            .path()
            .to_string_lossy()
            .contains("journal")),
        "no journal"
    );

    // A row whose duration is no number of milliseconds: that record is reported and
    // never posted; the others are.
    let csv = "callUUID,startTime,duration\n\
               ok-1,2024-03-01 10:00:00,1000\n\
               bad-1,2024-03-01 10:00:00,6.192\n\
               ok-2,2024-03-01 10:00:00,2000\n";
    let rows = dir.path().join("rows.csv");
    std::fs::write(&rows, csv).unwrap();
    let mut args = scripted_args(&address, &rows);
    let csv_at = args.iter().position(|arg| arg == "--jsonl").unwrap();
    args[csv_at] = "--csv".into();
    let mut dry = args.clone();
    dry.push("--dry-run".into());
    let checked = run(dir.path(), &args_of(&dry)).await;
    let bad = "line 3: mediaFiles[0].duration: \"6.192\" is not a whole number of milliseconds";
    assert!(stdout(&checked).contains(bad), "{}", stdout(&checked));
    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(reasons(dir.path()).contains(bad), "{}", reasons(dir.path()));
    let posts = scripted.posts();
    assert_eq!(posts.get("bad-1"), None, "never posted");
    assert_eq!((posts.get("ok-1"), posts.get("ok-2")), (Some(&1), Some(&1)));
}

/// How many POSTs pass, and what the next ones wait for.
type Hold = (u32, Arc<tokio::sync::Semaphore>);

/// An Insertion API that counts the POSTs of each id, holds them as told, and fails as told;
/// it says nothing of the outcome (as RWS), closes every connection after its answer, and
/// can go away and come back on the same port.
#[derive(Clone, Default)]
struct Scripted {
    posts: Arc<Mutex<HashMap<String, u32>>>,
    /// Requests answered 503 before any is served.
    unavailable: Arc<Mutex<u32>>,
    /// What `GET .../features` lists (404 when `None`).
    features: Arc<Mutex<Option<Value>>>,
    /// POSTs answered 403, statusCode 3 (feature not enabled), after being counted.
    forbidden: Arc<std::sync::atomic::AtomicBool>,
    /// After this many POSTs the next ones wait until [`Scripted::release`].
    gate: Arc<Mutex<Option<Hold>>>,
    admitted: Arc<std::sync::atomic::AtomicU32>,
    address: Arc<Mutex<Option<std::net::SocketAddr>>>,
    serving: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Scripted {
    async fn start() -> (Scripted, String) {
        let scripted = Scripted::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        scripted.serve(listener);
        (scripted, format!("http://{address}"))
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let router = Router::new()
            .route(
                "/api/v2/ops/contact-centers/{cc}",
                get(|| async { Json(json!({"statusCode": 0})) }),
            )
            .route("/api/v2/ops/contact-centers/{cc}/features", get(features))
            .route(
                "/internal-api/contact-centers/{cc}/recordings",
                post(insert),
            )
            .layer(axum::middleware::map_response(
                |mut response: axum::response::Response| async move {
                    let close = axum::http::HeaderValue::from_static("close");
                    response
                        .headers_mut()
                        .insert(axum::http::header::CONNECTION, close);
                    response
                },
            ))
            .with_state(self.clone());
        let address = listener.local_addr().unwrap();
        let serving = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        *self.address.lock().unwrap() = Some(address);
        *self.serving.lock().unwrap() = Some(serving);
    }

    /// Stops listening: connections are refused until [`Scripted::up`].
    async fn down(&self) {
        let serving = self.serving.lock().unwrap().take().expect("listening");
        serving.abort();
        let _ = serving.await;
    }

    /// Listens again on the same address.
    async fn up(&self) {
        let address = self.address.lock().unwrap().expect("was listening");
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(address).unwrap();
        self.serve(socket.listen(1024).unwrap());
    }

    /// POSTs after the first `count` wait until [`Scripted::release`]: the test acts while
    /// an import is surely under way, however fast it runs.
    fn hold_after(&self, count: u32) {
        let semaphore = Arc::new(tokio::sync::Semaphore::new(0));
        *self.gate.lock().unwrap() = Some((count, semaphore));
    }

    /// Lets the held POSTs and every later one through.
    fn release(&self) {
        if let Some((_, semaphore)) = self.gate.lock().unwrap().take() {
            semaphore.add_permits(tokio::sync::Semaphore::MAX_PERMITS / 2);
        }
    }

    fn posts(&self) -> HashMap<String, u32> {
        self.posts.lock().unwrap().clone()
    }

    fn total(&self) -> u32 {
        self.posts().values().sum()
    }
}

async fn features(State(scripted): State<Scripted>) -> (StatusCode, Json<Value>) {
    match scripted.features.lock().unwrap().clone() {
        Some(uris) => (StatusCode::OK, Json(json!({"statusCode": 0, "uris": uris}))),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"statusCode": 6, "statusMessage": "no such path"})),
        ),
    }
}

async fn insert(
    State(scripted): State<Scripted>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let gate = scripted.gate.lock().unwrap().clone();
    if let Some((count, semaphore)) = gate {
        let admitted = scripted
            .admitted
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if admitted >= count {
            let _ = semaphore.acquire().await;
        }
    }
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
    if scripted
        .forbidden
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"statusCode": 3, "statusMessage": "feature not enabled"})),
        );
    }
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
    crate::helpers::eventually(&format!("{count} posts"), || async {
        scripted.total() >= count
    })
    .await;
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
    let (scripted, address) = Scripted::start().await;
    scripted.hold_after(100);
    let dir = TempDir::new().unwrap();
    let file = many(dir.path(), 400);
    let args = scripted_args(&address, &file);
    let child = gird_import(dir.path(), &args_of(&args)).spawn().unwrap();
    wait_for_posts(&scripted, 100).await;
    signal(&child, "-INT");
    // The POSTs in flight when Ctrl-C came are answered; no new one is sent.
    scripted.release();
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
        stdout(&output).contains(&format!("{first_run} done by an earlier run)")),
        "{}",
        stdout(&output)
    );
}

#[tokio::test]
async fn after_a_kill_9_the_next_run_finishes_and_reposts_at_most_what_was_in_flight() {
    let (scripted, address) = Scripted::start().await;
    scripted.hold_after(150);
    let dir = TempDir::new().unwrap();
    let file = many(dir.path(), 400);
    let args = scripted_args(&address, &file);
    let mut child = gird_import(dir.path(), &args_of(&args)).spawn().unwrap();
    wait_for_posts(&scripted, 150).await;
    child.kill().await.unwrap();
    scripted.release();

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
    let (scripted, address) = Scripted::start().await;
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
        stdout(&output).contains(
            "3 records: 0 new, 0 merged, 0 unchanged, 2 stored (outcome not reported), 1 rejected"
        ),
        "a server that does not say the outcome: {}",
        stdout(&output)
    );
    let log = stderr(&output);
    let retrying = log
        .find(
            "gird import: server unavailable, retrying in 0.2 s: HTTP 503, statusCode 4: try later",
        )
        .unwrap_or_else(|| panic!("{log}"));
    let answering = log
        .find("gird import: the server answers again")
        .unwrap_or_else(|| panic!("{log}"));
    assert!(retrying < answering, "{log}");
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
    let (scripted, address) = Scripted::start().await;
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

/// Standard error of a running import, line by line.
fn log_lines(child: &mut Child) -> tokio::sync::mpsc::UnboundedReceiver<String> {
    use tokio::io::AsyncBufReadExt;
    let stderr = child.stderr.take().expect("piped stderr");
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Waits for the next line that contains `text`; answers it.
async fn line_containing(
    lines: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    text: &str,
) -> String {
    let found = tokio::time::timeout(PATIENCE, async {
        while let Some(line) = lines.recv().await {
            if line.contains(text) {
                return Some(line);
            }
        }
        None
    });
    match found.await {
        Ok(Some(line)) => line,
        Ok(None) => panic!("the import ended without a line saying {text:?}"),
        Err(_) => panic!("no line saying {text:?} within {PATIENCE:?}"),
    }
}

#[tokio::test]
async fn while_the_server_is_down_the_import_says_it_retries_and_goes_on_when_it_is_back() {
    let (scripted, address) = Scripted::start().await;
    scripted.hold_after(20);
    let dir = TempDir::new().unwrap();
    let file = many(dir.path(), 400);
    let args = scripted_args(&address, &file);
    let mut child = gird_import(dir.path(), &args_of(&args)).spawn().unwrap();
    let mut log = log_lines(&mut child);
    wait_for_posts(&scripted, 20).await;

    scripted.down().await;
    // The POSTs under way when it went are answered; the next ones find no server.
    scripted.release();
    let down = line_containing(&mut log, "server unreachable, retrying in").await;
    assert!(
        down.starts_with("gird import: server unreachable, retrying in 0.2 s: "),
        "{down}"
    );
    let posted_while_down = scripted.total();
    assert!(posted_while_down < 400, "{posted_while_down}");
    scripted.up().await;
    line_containing(&mut log, "gird import: the server answers again").await;

    let output = tokio::time::timeout(PATIENCE * 3, child.wait_with_output())
        .await
        .expect("the import finishes")
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("400 records: 0 new, 0 merged, 0 unchanged, 400 stored (outcome not reported), 0 rejected"),
        "{}",
        stdout(&output)
    );
    let posts = scripted.posts();
    assert_eq!(posts.len(), 400);
    assert!(posts.values().all(|count| *count == 1), "posted once each");
}
