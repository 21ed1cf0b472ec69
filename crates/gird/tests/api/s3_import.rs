//! `gird import --s3-bucket`: a crawl of a bucket prefix on the in-process S3 server,
//! page by page (continuation tokens), with sidecars, into records whose media files
//! are S3 objects that then play through gird; resumed by its journal; and refused
//! clearly, posting nothing, without credentials or with wrong ones.

use std::path::Path;
use std::process::Output;

use serde_json::json;
use tempfile::TempDir;

use crate::helpers::{spawn_app, TestApp, PATIENCE};
use crate::import::{args_of, gird_import, into_gird, stderr, stdout};
use crate::s3::{S3Server, ACCESS_KEY, BUCKET, REGION, SECRET_KEY};

// No `+` in these keys: s3s-fs echoes `encoding-type=url` without encoding the keys, so
// a `+` would come back as a space (the SeaweedFS test, s3_e2e.rs, has one).
const PATTERN: &str =
    r"(?P<callUUID>c\d+)_(?P<callerPhoneNumber>\d+)_(?P<startTime>\d{8}T\d{6}Z)\.mp3$";

/// `gird import` with the S3 credentials in the environment (never on the command line).
pub async fn import_s3(dir: &Path, args: &[&str], secret: Option<&str>) -> Output {
    let mut command = gird_import(dir, args);
    if let Some(secret) = secret {
        command
            .env("GIRD_IMPORT_S3_ACCESS_KEY_ID", ACCESS_KEY)
            .env("GIRD_IMPORT_S3_SECRET_ACCESS_KEY", secret);
    }
    command
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let output = tokio::time::timeout(PATIENCE * 6, command.output())
        .await
        .expect("gird import finishes")
        .expect("run gird import");
    if std::env::var_os("TEST_LOG").is_some() {
        eprintln!("{}", stderr(&output));
    }
    output
}

/// Arguments for a crawl of `archive/` on `s3` into `cc` of `app`.
pub fn s3_args(app: &TestApp, cc: &str, endpoint: &str, extra: &[&str]) -> Vec<String> {
    let mut args = into_gird(app, cc);
    args.extend(
        [
            "--s3-endpoint",
            endpoint,
            "--s3-bucket",
            BUCKET,
            "--s3-prefix",
            "archive",
            "--s3-region",
            REGION,
            "--s3-path-style",
            "--pattern",
            PATTERN,
            "--depth",
            "1",
        ]
        .map(String::from),
    );
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    args
}

fn sidecar(region: &str) -> Vec<u8> {
    json!({"dialedPhoneNumber": "+15559999", "region": region,
           "mediaFiles": [{"stopTime": "2024-03-01T10:05:00Z"}]})
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn an_s3_prefix_is_crawled_page_by_page_into_playable_records_and_resumed() {
    let s3 = S3Server::start().await;
    let objects: [(&str, &[u8]); 9] = [
        (
            "archive/2024-03/c1_15550001_20240301T100000Z.mp3",
            b"audio one",
        ),
        (
            "archive/2024-03/c1_15550001_20240301T100000Z.mp3.json",
            &sidecar("west"),
        ),
        (
            "archive/2024-03/c2_15550002_20240301T090000Z.mp3",
            b"audio two!",
        ),
        (
            "archive/2024-03/c2_15550002_20240301T090000Z.json",
            &sidecar("east"),
        ),
        ("archive/2024-04/c3_15550003_20240301T080000Z.mp3", b"three"),
        (
            "archive/2024-04/c3_15550003_20240301T080000Z.json",
            &sidecar("north"),
        ),
        (
            "archive/2024-04/deeper/c4_15550004_20240301T080000Z.mp3",
            b"too deep",
        ),
        ("archive/notes.txt", b"not a recording"),
        (
            "elsewhere/c9_15550009_20240301T080000Z.mp3",
            b"outside the prefix",
        ),
    ];
    for (key, bytes) in objects {
        s3.put_object(BUCKET, key, bytes);
    }
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let dir = TempDir::new().unwrap();
    // Two keys a page: every folder takes several ListObjectsV2 requests.
    let args = s3_args(&app, &cc, &s3.endpoint, &["--s3-page-size", "2"]);

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
    let lists: Vec<_> = s3
        .seen()
        .into_iter()
        .filter(|seen| seen.query.contains("list-type=2"))
        .collect();
    assert!(
        lists
            .iter()
            .filter(|seen| seen.query.contains("continuation-token="))
            .count()
            >= 3,
        "{lists:?}"
    );
    let c1 = app.recording(&cc, "c1").await;
    assert_eq!(c1["region"], "west", "from the .mp3.json sidecar");
    let media = &c1["mediaFiles"][0];
    assert_eq!(
        media["mediaDescriptor"],
        json!({"path": "archive/2024-03/c1_15550001_20240301T100000Z.mp3",
               "storage": "awsS3", "data": {"bucket": BUCKET}})
    );
    assert_eq!(media["size"], "9");
    assert_eq!(media["type"], "audio/mp3");
    assert_eq!(
        app.recording(&cc, "c2").await["region"],
        "east",
        "from the .json sidecar"
    );
    assert_eq!(app.recording(&cc, "c3").await["region"], "north");
    for absent in ["c4", "c9"] {
        app.assert_absent(&cc, absent).await;
    }

    // The imported records play from S3 through gird.
    app.put_s3(&cc, &s3.settings(None)).await.assert_ok();
    let played = app
        .play(media["playPath"].as_str().unwrap(), &cc, None)
        .await;
    assert_eq!(played.status.as_u16(), 200, "{}", played.as_api().text);
    assert_eq!(played.body, b"audio one");

    // A new object: the next run posts it alone, the journal knows the rest.
    s3.put_object(
        BUCKET,
        "archive/2024-04/c5_15550005_20240301T070000Z.mp3",
        b"five",
    );
    s3.put_object(
        BUCKET,
        "archive/2024-04/c5_15550005_20240301T070000Z.json",
        &sidecar("south"),
    );
    let again = import_s3(dir.path(), &args_of(&args), Some(SECRET_KEY)).await;
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stdout(&again)
            .contains("4 records: 4 new, 0 merged, 0 unchanged, 0 rejected (this run: 1 in"),
        "{}",
        stdout(&again)
    );
    assert_eq!(app.recording(&cc, "c5").await["region"], "south");
}

#[tokio::test]
async fn s3_imports_without_or_with_wrong_credentials_stop_clearly_and_post_nothing() {
    let s3 = S3Server::start().await;
    s3.put_object(BUCKET, "archive/c1_15550001_20240301T100000Z.mp3", b"one");
    s3.put_object(
        BUCKET,
        "archive/c1_15550001_20240301T100000Z.json",
        &sidecar("west"),
    );
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let dir = TempDir::new().unwrap();
    let args = s3_args(&app, &cc, &s3.endpoint, &[]);

    let missing = import_s3(dir.path(), &args_of(&args), None).await;
    assert_eq!(missing.status.code(), Some(1), "{}", stdout(&missing));
    assert!(
        stderr(&missing).contains("GIRD_IMPORT_S3_ACCESS_KEY_ID"),
        "{}",
        stderr(&missing)
    );

    let wrong = import_s3(dir.path(), &args_of(&args), Some("not-the-secret")).await;
    assert_ne!(wrong.status.code(), Some(0));
    let said = format!("{}{}", stdout(&wrong), stderr(&wrong));
    assert!(
        said.contains("ListObjectsV2 s3://recordings/archive/: HTTP 403"),
        "{said}"
    );
    assert!(
        !said.contains("X-Amz-Signature") && !said.contains("not-the-secret"),
        "{said}"
    );
    app.assert_absent(&cc, "c1").await;

    let mut bad_bucket = args.clone();
    let at = bad_bucket
        .iter()
        .position(|arg| arg == "--s3-bucket")
        .unwrap();
    bad_bucket[at + 1] = "no/such".into();
    let refused = import_s3(dir.path(), &args_of(&bad_bucket), Some(SECRET_KEY)).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("--s3-bucket \"no/such\""),
        "{}",
        stderr(&refused)
    );
    app.assert_absent(&cc, "c1").await;
}
