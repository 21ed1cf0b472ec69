//! One end-to-end run against a real WebDAV server, `rclone serve webdav` (Debian's
//! `rclone` package; `scripts/test` installs it): storage, playback with a range, and
//! delete with its media; and a `gird import` crawl of a folder.

use std::path::Path;
use std::process::Stdio;

use serde_json::json;
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::body::{edited, minimal_record, set};
use crate::helpers::{accepting, free_port, spawn_app};
use crate::webdav::pattern;

pub(crate) const USER: &str = "rclone-user";
pub(crate) const PASSWORD: &str = "rclone-Pass-93c1";

/// A running `rclone serve webdav`; killed when dropped.
pub(crate) struct Rclone {
    pub(crate) address: String,
    _child: Child,
}

impl Rclone {
    pub(crate) async fn serve(root: &Path) -> Rclone {
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let mut command = Command::new("rclone");
        command
            .args(["serve", "webdav"])
            .arg(root)
            .args(["--addr", &address, "--user", USER, "--pass", PASSWORD])
            .env("RCLONE_CONFIG", root.join("rclone.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true);
        if std::env::var_os("TEST_LOG").is_none() {
            command.stderr(Stdio::null());
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                panic!("rclone not found: run scripts/test, which installs it")
            }
            Err(error) => panic!("cannot start rclone: {error}"),
        };
        accepting(&mut child, "rclone", &address).await;
        Rclone {
            address: format!("http://{address}"),
            _child: child,
        }
    }
}

#[tokio::test]
async fn playback_and_delete_against_rclone_webdav() {
    let root = TempDir::new().expect("rclone folder");
    let files = root.path().join("recordings/2024");
    std::fs::create_dir_all(&files).expect("folders");
    let bytes = pattern(300 * 1024, 42);
    std::fs::write(files.join("call.mp3"), &bytes).expect("write media");
    let rclone = Rclone::serve(root.path()).await;

    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let base_url = format!("{}/recordings/", rclone.address);
    let storage = json!({"baseUrl": base_url, "username": USER, "password": "wrong"});
    app.put_storage(&cc, &storage).await.assert_ok();
    let body = edited(
        &minimal_record("e2e"),
        [set(
            "/mediaFiles/0/mediaDescriptor/path",
            "2024/call.mp3".into(),
        )],
    );
    app.insert(&cc, &body).await.assert_ok();
    let recording = app.recording(&cc, "e2e").await;
    let play_path = recording["mediaFiles"][0]["playPath"].as_str().unwrap();

    app.play(play_path, &cc, None)
        .await
        .as_api()
        .assert_error(502, 4);
    let storage = json!({"baseUrl": base_url, "username": USER, "password": PASSWORD});
    app.put_storage(&cc, &storage).await.assert_ok();

    let played = app.play(play_path, &cc, None).await;
    assert_eq!(played.status.as_u16(), 200, "{}", played.as_api().text);
    assert_eq!(played.header("content-type").as_deref(), Some("audio/mp3"));
    assert_eq!(
        played.header("content-length"),
        Some(bytes.len().to_string())
    );
    assert!(played.body == bytes, "the file's bytes");

    let played = app.play(play_path, &cc, Some("bytes=100-199")).await;
    assert_eq!(played.status.as_u16(), 206, "{}", played.as_api().text);
    let range = format!("bytes 100-199/{}", bytes.len());
    assert_eq!(played.header("content-range"), Some(range));
    assert!(played.body == bytes[100..200], "the range's bytes");

    app.delete_recording("e2e", Some(&cc), true)
        .await
        .assert_ok();
    app.assert_absent(&cc, "e2e").await;
    assert!(
        !files.join("call.mp3").exists(),
        "the media file is deleted"
    );
    app.play(play_path, &cc, None)
        .await
        .as_api()
        .assert_error(404, 6);
}

/// `gird import` crawling an rclone WebDAV folder: records from file names and sidecars.
#[tokio::test]
async fn import_crawls_an_rclone_webdav_folder() {
    let root = TempDir::new().expect("rclone folder");
    let calls = root.path().join("archive/2024-05");
    std::fs::create_dir_all(&calls).expect("folders");
    for (name, bytes) in [
        ("c7_+15550007_20240501T080000Z.wav", &b"first"[..]),
        ("c8_+15550008_20240501T090000Z.wav", &b"second"[..]),
    ] {
        std::fs::write(calls.join(name), bytes).expect("write media");
    }
    let sidecar = json!({
        "dialedPhoneNumber": "+15559999", "region": "north",
        "mediaFiles": [{"stopTime": "2024-05-01T08:03:00Z"}]
    });
    std::fs::write(
        calls.join("c7_+15550007_20240501T080000Z.json"),
        sidecar.to_string(),
    )
    .expect("write sidecar");
    let rclone = Rclone::serve(root.path()).await;

    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let work = TempDir::new().expect("working folder");
    let output = Command::new(env!("CARGO_BIN_EXE_gird"))
        .args([
            "import",
            "--quiet",
            "--target",
            &app.address,
            "--contact-center",
            &cc,
        ])
        .args(["--password", &app.ops_password])
        .args(["--webdav", &format!("{}/archive/", rclone.address)])
        .args([
            "--webdav-user",
            USER,
            "--webdav-password",
            PASSWORD,
            "--depth",
            "1",
        ])
        .args([
            "--pattern",
            r"(?P<callUUID>c\d+)_(?P<callerPhoneNumber>\+\d+)_(?P<startTime>\d{8}T\d{6}Z)\.wav$",
        ])
        .current_dir(work.path())
        .output()
        .await
        .expect("run gird import");
    let summary = String::from_utf8_lossy(&output.stdout);
    // c8 has no sidecar, so no region: the server rejects it.
    assert_eq!(output.status.code(), Some(3), "{summary}");
    assert!(
        summary.contains("2 records: 1 new, 0 merged, 0 unchanged, 1 rejected"),
        "{summary}"
    );
    let call = app.recording(&cc, "c7").await;
    assert_eq!(call["region"], "north");
    assert_eq!(call["mediaFiles"][0]["type"], "audio/wav");
    assert_eq!(call["mediaFiles"][0]["size"], "5");
    assert_eq!(call["mediaFiles"][0]["startTime"], "2024-05-01T08:00:00Z");
    app.assert_absent(&cc, "c8").await;
}
