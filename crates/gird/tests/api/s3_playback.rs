//! Playback and `deleteMedia` of media files stored in S3 (API.md "Playback", "Delete
//! and legal hold"), against the in-process S3 server of `s3`: whole files and ranges,
//! every way S3 can fail, buckets a record may not name, and the legal hold.

use crate::playback::peak_rss;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::body::{edited, minimal_record, set};
use crate::helpers::{AppBuilder, TestApp};
use crate::playback::Stage;
use crate::rws::{Played, APPLY_HOLD, REMOVE_HOLD};
use crate::s3::{closed_endpoint, S3Client, S3Server, Silent, ACCESS_KEY, BUCKET, SECRET_KEY};
use crate::s3_storage::s3_record;
use crate::webdav::{pattern, Fnv};

const SIZE: usize = 300 * 1024;

/// A gird, an S3 server, and a contact center whose S3 settings are that server's.
struct S3Stage {
    app: TestApp,
    s3: S3Server,
    cc: String,
}

impl S3Stage {
    async fn new() -> S3Stage {
        S3Stage::with(AppBuilder::new()).await
    }

    async fn with(builder: AppBuilder) -> S3Stage {
        let s3 = S3Server::start().await;
        let app = builder.spawn().await;
        let cc = app.ready_contact_center().await;
        app.put_s3(&cc, &s3.settings(None)).await.assert_ok();
        S3Stage { app, s3, cc }
    }

    /// Inserts recording `id` with one media file, `key` in `bucket`; answers its playPath.
    async fn play_path(&self, id: &str, bucket: &str, key: &str, media_type: &str) -> String {
        let body = edited(
            &s3_record(id, bucket, key),
            [set("/mediaFiles/0/type", media_type.into())],
        );
        self.app.insert(&self.cc, &body).await.assert_ok();
        let recording = self.app.recording(&self.cc, id).await;
        recording["mediaFiles"][0]["playPath"]
            .as_str()
            .expect("a playPath")
            .to_owned()
    }

    async fn play(&self, play_path: &str, range: Option<&str>) -> Played {
        self.app.play(play_path, &self.cc, range).await
    }

    /// Requests the S3 server received for `key` of the default bucket.
    fn seen_for(&self, key: &str) -> Vec<crate::s3::Seen> {
        let path = format!("/{BUCKET}/{key}");
        self.s3
            .seen()
            .into_iter()
            .filter(|seen| seen.path == path)
            .collect()
    }
}

fn assert_played(played: &Played, expected: &[u8], media_type: &str) {
    assert_eq!(played.status.as_u16(), 200, "{}", played.as_api().text);
    assert_eq!(played.header("content-type").as_deref(), Some(media_type));
    assert_eq!(
        played.header("content-length"),
        Some(expected.len().to_string())
    );
    assert_eq!(played.header("accept-ranges").as_deref(), Some("bytes"));
    assert!(played.body == expected, "the body is the object's bytes");
}

#[tokio::test]
async fn an_s3_object_plays_whole_with_a_signed_get() {
    let stage = S3Stage::new().await;
    let bytes = pattern(SIZE, 21);
    stage.s3.put_object(BUCKET, "calls/2024/one.wav", &bytes);
    let play_path = stage
        .play_path("one", BUCKET, "calls/2024/one.wav", "audio/wav")
        .await;
    assert!(play_path.ends_with(".wav"), "{play_path}");
    assert_played(&stage.play(&play_path, None).await, &bytes, "audio/wav");

    let seen = stage.seen_for("calls/2024/one.wav");
    assert_eq!(seen.len(), 1, "{seen:?}");
    let query = &seen[0].query;
    assert_eq!(seen[0].method, "GET");
    assert!(
        query.contains("X-Amz-Algorithm=AWS4-HMAC-SHA256"),
        "{query}"
    );
    assert!(
        query.contains(&format!("X-Amz-Credential={ACCESS_KEY}")),
        "{query}"
    );
    assert!(
        !query.contains(SECRET_KEY) && !query.contains("Secret"),
        "{query}"
    );
    assert_eq!(
        seen[0].host,
        stage.s3.endpoint.trim_start_matches("http://")
    );

    // The ops path plays too.
    let url = format!("/api/v2/ops/contact-centers/{}{play_path}", stage.cc);
    let response = stage.app.request(Method::GET, &url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.bytes().await.unwrap() == bytes);
}

#[tokio::test]
async fn ranges_are_passed_on_to_s3() {
    let stage = S3Stage::new().await;
    let bytes = pattern(SIZE, 22);
    stage.s3.put_object(BUCKET, "ranged.mp3", &bytes);
    let play_path = stage
        .play_path("ranged", BUCKET, "ranged.mp3", "audio/mp3")
        .await;
    let last = SIZE - 1;
    let cases = [
        ("bytes=100-199", 100, 199),
        ("bytes=0-0", 0, 0),
        (&*format!("bytes={}-", SIZE - 100), SIZE - 100, last),
        ("bytes=-50", SIZE - 50, last),
        (&*format!("bytes=1000-{}", SIZE * 2), 1000, last),
    ];
    for (range, first, end) in cases {
        let played = stage.play(&play_path, Some(range)).await;
        assert_eq!(
            played.status.as_u16(),
            206,
            "{range}: {}",
            played.as_api().text
        );
        assert_eq!(
            played.header("content-range"),
            Some(format!("bytes {first}-{end}/{SIZE}")),
            "{range}"
        );
        assert_eq!(
            played.header("content-length"),
            Some((end + 1 - first).to_string())
        );
        assert_eq!(played.header("content-type").as_deref(), Some("audio/mp3"));
        assert!(
            played.body == bytes[first..=end],
            "{range}: the bytes of the range"
        );
    }
    let beyond = format!("bytes={}-{}", SIZE, SIZE + 10);
    stage
        .play(&play_path, Some(&beyond))
        .await
        .as_api()
        .assert_error(416, 10);
}

#[tokio::test]
async fn keys_with_characters_urls_reserve_play() {
    let stage = S3Stage::new().await;
    let key = "calls/2024 05/a+b&c=d;e@f:g,h$i'j(k)!l*m?n#o%p~q[r]s.mp3";
    let bytes = pattern(5000, 23);
    // Uploaded through the S3 API, so that S3 itself names the object.
    let client = S3Client::new(&stage.s3.endpoint, ACCESS_KEY, SECRET_KEY);
    let status = client
        .put(BUCKET, key, bytes.clone())
        .await
        .expect("S3 answers");
    assert!(status.is_success(), "{status}");
    let play_path = stage.play_path("odd", BUCKET, key, "audio/mpeg").await;
    assert_played(&stage.play(&play_path, None).await, &bytes, "audio/mpeg");
}

#[tokio::test]
async fn a_missing_object_is_404() {
    let stage = S3Stage::new().await;
    let play_path = stage
        .play_path("gone", BUCKET, "never/written.mp3", "audio/mp3")
        .await;
    let message = stage
        .play(&play_path, None)
        .await
        .as_api()
        .assert_error(404, 6);
    assert_eq!(message, "media file not found in S3");
}

#[tokio::test]
async fn wrong_credentials_failing_or_stopped_s3_is_502_without_its_words() {
    let mut stage = S3Stage::new().await;
    let bytes = pattern(SIZE, 24);
    stage.s3.put_object(BUCKET, "fragile.mp3", &bytes);
    let play_path = stage
        .play_path("fragile", BUCKET, "fragile.mp3", "audio/mp3")
        .await;

    let wrong = stage.s3.settings(Some("not-the-secret"));
    stage.app.put_s3(&stage.cc, &wrong).await.assert_ok();
    let message = stage
        .play(&play_path, None)
        .await
        .as_api()
        .assert_error(502, 4);
    assert_eq!(message, "S3 refused the storage credentials");
    let mut unknown_key = stage.s3.settings(None);
    unknown_key["accessKeyId"] = json!("NOSUCHKEY");
    stage.app.put_s3(&stage.cc, &unknown_key).await.assert_ok();
    stage
        .play(&play_path, None)
        .await
        .as_api()
        .assert_error(502, 4);
    stage
        .app
        .put_s3(&stage.cc, &stage.s3.settings(None))
        .await
        .assert_ok();
    assert_played(&stage.play(&play_path, None).await, &bytes, "audio/mp3");

    stage.s3.set_failing(true);
    let message = stage
        .play(&play_path, None)
        .await
        .as_api()
        .assert_error(502, 4);
    assert_eq!(
        message, "S3 answered HTTP 500",
        "S3's text is not passed on"
    );
    stage.s3.set_failing(false);
    assert_played(&stage.play(&play_path, None).await, &bytes, "audio/mp3");

    stage.s3.stop().await;
    let message = stage
        .play(&play_path, None)
        .await
        .as_api()
        .assert_error(502, 4);
    assert_eq!(message, "S3 is unreachable");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_502() {
    let stage = S3Stage::new().await;
    let play_path = stage.play_path("far", BUCKET, "far.mp3", "audio/mp3").await;
    let mut settings = stage.s3.settings(None);
    settings["endpoint"] = json!(closed_endpoint().await);
    stage.app.put_s3(&stage.cc, &settings).await.assert_ok();
    let message = stage
        .play(&play_path, None)
        .await
        .as_api()
        .assert_error(502, 4);
    assert_eq!(message, "S3 is unreachable");
}

#[tokio::test]
async fn an_s3_that_never_answers_is_504_after_the_timeout() {
    let builder = AppBuilder::new().arg("--s3-timeout-seconds", "1");
    let stage = S3Stage::with(builder).await;
    let silent = Silent::start().await;
    let mut settings = stage.s3.settings(None);
    settings["endpoint"] = json!(silent.endpoint);
    stage.app.put_s3(&stage.cc, &settings).await.assert_ok();
    let play_path = stage
        .play_path("slow", BUCKET, "slow.mp3", "audio/mp3")
        .await;
    let started = Instant::now();
    let played = stage.play(&play_path, None).await;
    let elapsed = started.elapsed();
    let message = played.as_api().assert_error(504, 4);
    assert_eq!(message, "S3 did not answer in time");
    assert!(
        elapsed < Duration::from_secs(5),
        "answered after {elapsed:?} with a 1 s timeout"
    );
}

#[tokio::test]
async fn a_bucket_the_settings_do_not_name_is_refused_without_a_request() {
    let stage = S3Stage::new().await;
    let client = S3Client::new(&stage.s3.endpoint, ACCESS_KEY, SECRET_KEY);
    let created = client
        .create_bucket("other-tenant")
        .await
        .expect("S3 answers");
    assert!(created.is_success(), "{created}");
    stage
        .s3
        .put_object("other-tenant", "secret.mp3", &pattern(1000, 25));
    assert_eq!(
        client.head("other-tenant", "secret.mp3").await.as_u16(),
        200
    );
    let before = stage.s3.seen().len();
    let play_path = stage
        .play_path("foreign", "other-tenant", "secret.mp3", "audio/mp3")
        .await;
    let message = stage
        .play(&play_path, None)
        .await
        .as_api()
        .assert_error(403, 3);
    assert!(
        message.contains("\"other-tenant\" is not one of the contact center's S3 buckets"),
        "{message}"
    );
    let seen = stage.s3.seen();
    assert_eq!(seen.len(), before, "nothing was sent: {seen:?}");
}

#[tokio::test]
async fn without_s3_settings_an_s3_file_is_404() {
    let stage = S3Stage::new().await;
    let play_path = stage
        .play_path("orphan", BUCKET, "orphan.mp3", "audio/mp3")
        .await;
    stage.app.delete_s3(&stage.cc).await.assert_ok();
    let message = stage
        .play(&play_path, None)
        .await
        .as_api()
        .assert_error(404, 6);
    assert!(message.contains("has no S3 settings"), "{message}");
}

/// Peak resident memory of a process, in bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_s3_object_is_streamed_not_held() {
    const LARGE: usize = 40 * 1024 * 1024;
    let stage = S3Stage::new().await;
    let bytes = pattern(LARGE, 26);
    let expected = Fnv::of(&bytes);
    stage.s3.put_object(BUCKET, "large.wav", &bytes);
    drop(bytes);
    let play_path = stage
        .play_path("large", BUCKET, "large.wav", "audio/wav")
        .await;
    stage.s3.put_object(BUCKET, "small.wav", &pattern(1000, 27));
    let small = stage
        .play_path("small", BUCKET, "small.wav", "audio/wav")
        .await;
    assert_eq!(stage.play(&small, None).await.status.as_u16(), 200);
    let pid = stage.app.child.id().expect("gird runs");
    let before = peak_rss(pid);

    let url = format!("/api/v2{play_path}");
    let started = Instant::now();
    let response = stage
        .app
        .request(Method::GET, &url)
        .query(&[("contactCenterId", &stage.cc)])
        .send()
        .await
        .expect("gird answers");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(Fnv::of_body(response).await, (LARGE, expected));
    let growth = peak_rss(pid).saturating_sub(before);
    eprintln!(
        "streamed {LARGE} bytes from S3 in {:?}; gird's peak memory grew by {growth} bytes",
        started.elapsed()
    );
    assert!(
        growth < (LARGE / 2) as u64,
        "gird's peak memory grew by {growth} bytes while streaming {LARGE} bytes"
    );
}

/// A record with a WebDAV file and S3 objects, in the stage's contact center.
fn mixed_record(id: &str, dav_path: &str, keys: &[&str]) -> Value {
    let template = minimal_record(id)["mediaFiles"][0].clone();
    let mut media = vec![edited(
        &template,
        [
            set("/mediaId", format!("{id}-dav").into()),
            set("/mediaDescriptor/path", dav_path.into()),
        ],
    )];
    for (index, key) in keys.iter().enumerate() {
        media.push(edited(
            &template,
            [
                set("/mediaId", format!("{id}-s3-{index}").into()),
                set(
                    "/mediaDescriptor",
                    json!({"storage": "awsS3", "path": key, "data": {"bucket": BUCKET}}),
                ),
            ],
        ));
    }
    edited(&minimal_record(id), [set("/mediaFiles", media.into())])
}

#[tokio::test]
async fn delete_media_removes_the_s3_objects_and_the_webdav_files_alike() {
    let stage = Stage::new().await;
    let s3 = S3Server::start().await;
    let (app, cc) = (&stage.app, stage.cc.as_str());
    app.put_s3(cc, &s3.settings(None)).await.assert_ok();
    stage.dav.put_file("mixed.mp3", &pattern(1000, 28));
    s3.put_object(BUCKET, "calls/a.mp3", &pattern(1000, 29));
    s3.put_object(BUCKET, "calls/bystander.mp3", &pattern(1000, 30));
    // The second object is already missing: it counts as deleted.
    let body = mixed_record("mixed", "mixed.mp3", &["calls/a.mp3", "calls/missing.mp3"]);
    app.insert(cc, &body).await.assert_ok();

    app.delete_recording("mixed", Some(cc), true)
        .await
        .assert_ok();
    app.assert_absent(cc, "mixed").await;
    assert!(
        !s3.exists(BUCKET, "calls/a.mp3"),
        "the S3 object is deleted"
    );
    assert!(!stage.dav.exists("mixed.mp3"), "the WebDAV file is deleted");
    assert!(
        s3.exists(BUCKET, "calls/bystander.mp3"),
        "other objects stay"
    );
    let deletes: Vec<_> = s3
        .seen()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 2, "{deletes:?}");
    assert!(
        deletes.iter().all(|r| r.query.contains("X-Amz-Signature=")),
        "signed: {deletes:?}"
    );

    // Without deleteMedia the objects stay.
    app.insert(cc, &s3_record("kept", BUCKET, "calls/bystander.mp3"))
        .await
        .assert_ok();
    app.delete_recording("kept", Some(cc), false)
        .await
        .assert_ok();
    assert!(s3.exists(BUCKET, "calls/bystander.mp3"));
}

#[tokio::test]
async fn a_held_recording_keeps_its_s3_objects() {
    let stage = S3Stage::new().await;
    let (app, cc) = (&stage.app, stage.cc.as_str());
    stage.s3.put_object(BUCKET, "held.mp3", &pattern(1000, 31));
    app.insert(cc, &s3_record("held", BUCKET, "held.mp3"))
        .await
        .assert_ok();
    app.hold("held", cc, APPLY_HOLD).await;
    let message = app
        .delete_recording("held", Some(cc), true)
        .await
        .assert_error(403, 3);
    assert!(message.contains("legal hold"), "{message}");
    assert!(
        stage.s3.exists(BUCKET, "held.mp3"),
        "a held recording's object stays"
    );
    assert!(
        stage.s3.seen().iter().all(|r| r.method != "DELETE"),
        "no DELETE reached S3"
    );
    app.hold("held", cc, REMOVE_HOLD).await;
    app.delete_recording("held", Some(cc), true)
        .await
        .assert_ok();
    assert!(!stage.s3.exists(BUCKET, "held.mp3"));
    app.assert_absent(cc, "held").await;
}

#[tokio::test]
async fn when_s3_fails_or_refuses_the_record_and_its_object_are_kept() {
    let builder = AppBuilder::new().arg("--s3-timeout-seconds", "1");
    let mut stage = S3Stage::with(builder).await;
    stage
        .s3
        .put_object(BUCKET, "fragile.mp3", &pattern(1000, 32));
    stage.s3.create_bucket("other-tenant");
    stage
        .s3
        .put_object("other-tenant", "x.mp3", &pattern(10, 33));
    let (cc, right) = (stage.cc.clone(), stage.s3.settings(None));
    stage
        .app
        .insert(&cc, &s3_record("fragile", BUCKET, "fragile.mp3"))
        .await
        .assert_ok();
    stage
        .app
        .insert(&cc, &s3_record("foreign", "other-tenant", "x.mp3"))
        .await
        .assert_ok();

    stage.s3.set_failing(true);
    stage
        .app
        .delete_recording("fragile", Some(&cc), true)
        .await
        .assert_error(502, 4);
    stage.s3.set_failing(false);
    stage
        .app
        .put_s3(&cc, &stage.s3.settings(Some("wrong")))
        .await
        .assert_ok();
    stage
        .app
        .delete_recording("fragile", Some(&cc), true)
        .await
        .assert_error(502, 4);
    stage.app.put_s3(&cc, &right).await.assert_ok();
    stage
        .app
        .delete_recording("foreign", Some(&cc), true)
        .await
        .assert_error(403, 3);
    assert!(stage.s3.exists("other-tenant", "x.mp3"));
    stage.app.recording(&cc, "foreign").await;

    let silent = Silent::start().await;
    let mut slow = right.clone();
    slow["endpoint"] = json!(silent.endpoint);
    stage.app.put_s3(&cc, &slow).await.assert_ok();
    stage
        .app
        .delete_recording("fragile", Some(&cc), true)
        .await
        .assert_error(504, 4);
    stage.app.put_s3(&cc, &right).await.assert_ok();
    stage.s3.stop().await;
    stage
        .app
        .delete_recording("fragile", Some(&cc), true)
        .await
        .assert_error(502, 4);

    stage.app.recording(&cc, "fragile").await;
    assert!(
        stage.s3.exists(BUCKET, "fragile.mp3"),
        "the object is still there"
    );
    // The failed deletions left nothing half done: the hold can be applied.
    stage.app.hold("fragile", &cc, APPLY_HOLD).await;
}
