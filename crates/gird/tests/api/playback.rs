//! Playback (API.md "Playback"): media streamed from an in-process WebDAV server with the
//! contact center's storage credentials, ranges, and every way WebDAV can fail.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::body::{edited, minimal_record, remove, set};
use crate::helpers::{AppBuilder, TestApp};
use crate::rws::Played;
use crate::webdav::{basic, pattern, Fnv, Mode, WebDav, DAV_PASSWORD, DAV_USER};

const SIZE: usize = 300 * 1024;

/// A gird, a WebDAV server, and a contact center whose storage is that server.
pub struct Stage {
    pub app: TestApp,
    pub dav: WebDav,
    pub cc: String,
}

impl Stage {
    pub async fn new() -> Stage {
        Stage::with(AppBuilder::new()).await
    }

    pub async fn with(builder: AppBuilder) -> Stage {
        let dav = WebDav::start().await;
        let app = builder.spawn().await;
        let cc = app.ready_contact_center().await;
        app.put_storage(&cc, &dav.storage(None)).await.assert_ok();
        Stage { app, dav, cc }
    }

    /// Inserts recording `id` whose media files are at `paths` (with `type`, when
    /// given); answers its stored view.
    pub async fn insert(&self, id: &str, paths: &[&str], media_type: Option<&str>) -> Value {
        let template = minimal_record(id)["mediaFiles"][0].clone();
        let media: Vec<Value> = paths
            .iter()
            .enumerate()
            .map(|(index, path)| {
                let mut edits = vec![
                    set("/mediaId", format!("{id}-media-{index}").into()),
                    set("/mediaDescriptor/path", (*path).into()),
                    remove("/type"),
                ];
                if let Some(media_type) = media_type {
                    edits.push(set("/type", media_type.into()));
                }
                edited(&template, edits)
            })
            .collect();
        let body = edited(&minimal_record(id), [set("/mediaFiles", media.into())]);
        self.app.insert(&self.cc, &body).await.assert_ok();
        self.app.recording(&self.cc, id).await
    }

    /// Inserts recording `id` with one media file at `path`; answers its `playPath`.
    pub async fn play_path(&self, id: &str, path: &str, media_type: Option<&str>) -> String {
        let recording = self.insert(id, &[path], media_type).await;
        recording["mediaFiles"][0]["playPath"]
            .as_str()
            .expect("a playPath")
            .to_owned()
    }

    pub async fn play(&self, play_path: &str, range: Option<&str>) -> Played {
        self.app.play(play_path, &self.cc, range).await
    }
}

fn assert_played(played: &Played, expected: &[u8], media_type: &str) {
    assert_eq!(played.status.as_u16(), 200, "{}", played.as_api().text);
    assert_eq!(played.header("content-type").as_deref(), Some(media_type));
    let length = expected.len().to_string();
    assert_eq!(played.header("content-length"), Some(length));
    assert_eq!(played.header("accept-ranges").as_deref(), Some("bytes"));
    assert!(played.body == expected, "the body is the file's bytes");
}

#[tokio::test]
async fn a_relative_path_plays_the_whole_file_with_its_type() {
    let stage = Stage::new().await;
    let bytes = pattern(SIZE, 1);
    stage.dav.put_file("calls/2020/one.wav", &bytes);
    let play_path = stage
        .play_path("one", "calls/2020/one.wav", Some("audio/wav"))
        .await;
    assert!(play_path.ends_with(".wav"), "{play_path}");
    assert_played(&stage.play(&play_path, None).await, &bytes, "audio/wav");

    let seen = stage.dav.seen();
    assert!(
        seen.iter()
            .any(|request| request.path == "/dav/recordings/calls/2020/one.wav"),
        "{seen:?}"
    );
}

#[tokio::test]
async fn without_a_type_the_content_type_is_webdavs() {
    let stage = Stage::new().await;
    let bytes = pattern(SIZE, 2);
    stage.dav.put_file("untyped.mp3", &bytes);
    let direct = reqwest::Client::new()
        .get(stage.dav.url("untyped.mp3"))
        .basic_auth(DAV_USER, Some(DAV_PASSWORD))
        .send()
        .await
        .expect("WebDAV answers");
    let webdav_type = direct.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let play_path = stage.play_path("untyped", "untyped.mp3", None).await;
    assert_played(&stage.play(&play_path, None).await, &bytes, &webdav_type);
}

#[tokio::test]
async fn an_absolute_url_under_the_base_url_plays_with_the_credentials() {
    let stage = Stage::new().await;
    let bytes = pattern(SIZE, 3);
    stage.dav.put_over_http("absolute.mp3", bytes.clone()).await;
    let url = stage.dav.url("absolute.mp3");
    let play_path = stage.play_path("absolute", &url, Some("audio/mp3")).await;
    assert_played(&stage.play(&play_path, None).await, &bytes, "audio/mp3");
}

#[tokio::test]
async fn credentials_are_sent_only_under_the_base_url() {
    let stage = Stage::new().await;
    let elsewhere = WebDav::without_auth().await;
    // Another origin must be allowed first (outbound.rs tests the refusal).
    let allowed = json!({ "origins": [elsewhere.address] });
    stage
        .app
        .put_outbound(&stage.cc, &allowed)
        .await
        .assert_ok();
    let bytes = pattern(SIZE, 4);
    elsewhere.put_file("public.mp3", &bytes);
    let url = elsewhere.url("public.mp3");
    let play_path = stage.play_path("public", &url, Some("audio/mpeg")).await;
    assert_played(&stage.play(&play_path, None).await, &bytes, "audio/mpeg");
    let seen = elsewhere.seen();
    assert!(!seen.is_empty(), "gird fetched from the other server");
    for request in seen {
        assert_eq!(request.authorization, None, "{request:?}");
    }
}

#[tokio::test]
async fn credentials_never_go_to_another_host_sharing_the_base_urls_prefix() {
    let stage = Stage::new().await;
    // A base URL without a path or trailing slash: the WebDAV server's root.
    let base = stage.dav.address.clone();
    let storage = json!({"baseUrl": base, "username": DAV_USER, "password": DAV_PASSWORD});
    stage.app.put_storage(&stage.cc, &storage).await.assert_ok();
    let elsewhere = WebDav::without_auth().await;
    elsewhere.put_file("trap.mp3", &pattern(1000, 14));
    let other_host = elsewhere.address.trim_start_matches("http://");
    // Starts with the base URL's text, but names another host (user info `127.0.0.1:P`).
    let url = format!("{base}@{other_host}/dav/recordings/trap.mp3");
    let play_path = stage.play_path("trap", &url, Some("audio/mp3")).await;
    stage.play(&play_path, None).await;
    let secret = basic(DAV_USER, DAV_PASSWORD);
    for request in elsewhere.seen() {
        let sent = request.authorization.unwrap_or_default();
        assert!(
            !sent.contains(&secret),
            "the storage credentials went to {other_host} for {url}: {sent}"
        );
    }
}

#[tokio::test]
async fn paths_do_not_escape_the_base_url_with_the_credentials() {
    let stage = Stage::new().await;
    stage.dav.put_file("../outside.mp3", &pattern(1000, 15));
    let absolute = stage.dav.url("../outside.mp3");
    for (id, path) in [("relative", "../outside.mp3"), ("absolute", &absolute)] {
        let play_path = stage.play_path(id, path, Some("audio/mp3")).await;
        let played = stage.play(&play_path, None).await;
        assert_ne!(
            played.status.as_u16(),
            200,
            "{path} is outside the base URL"
        );
    }
    for request in stage.dav.seen() {
        let inside = normalized(&request.path).starts_with("/dav/recordings/");
        assert!(
            inside || request.authorization.is_none(),
            "the storage credentials went outside the base URL: {request:?}"
        );
    }
}

/// A URL path with its `.` and `..` segments resolved.
fn normalized(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "." => {}
            ".." => {
                segments.pop();
            }
            segment => segments.push(segment),
        }
    }
    segments.join("/")
}

#[tokio::test]
async fn ranges_are_passed_on() {
    let stage = Stage::new().await;
    let bytes = pattern(SIZE, 5);
    stage.dav.put_file("ranged.wav", &bytes);
    let play_path = stage
        .play_path("ranged", "ranged.wav", Some("audio/wav"))
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
        let length = (end + 1 - first).to_string();
        assert_eq!(played.header("content-length"), Some(length), "{range}");
        assert_eq!(played.header("content-type").as_deref(), Some("audio/wav"));
        assert_eq!(played.header("accept-ranges").as_deref(), Some("bytes"));
        assert!(
            played.body == bytes[first..=end],
            "{range}: the bytes of the range"
        );
    }

    let beyond = format!("bytes={}-{}", SIZE, SIZE + 10);
    let played = stage.play(&play_path, Some(&beyond)).await;
    played.as_api().assert_error(416, 10);
}

#[tokio::test]
async fn the_ops_path_plays_too() {
    let stage = Stage::new().await;
    let bytes = pattern(SIZE, 13);
    stage.dav.put_file("ops.mp3", &bytes);
    let play_path = stage.play_path("ops", "ops.mp3", Some("audio/mp3")).await;
    let url = format!("/api/v2/ops/contact-centers/{}{play_path}", stage.cc);
    let response = stage
        .app
        .request(Method::GET, &url)
        .send()
        .await
        .expect("gird answers");
    assert_eq!(response.status().as_u16(), 200);
    let body = response.bytes().await.expect("a body");
    assert!(body == bytes, "the file's bytes");
}

#[tokio::test]
async fn a_file_missing_on_webdav_is_404() {
    let stage = Stage::new().await;
    let play_path = stage
        .play_path("gone", "calls/never-written.mp3", None)
        .await;
    let message = stage
        .play(&play_path, None)
        .await
        .as_api()
        .assert_error(404, 6);
    assert!(
        message.contains("media file not found on WebDAV"),
        "{message}"
    );
}

#[tokio::test]
async fn unknown_recordings_and_uuids_are_404() {
    let stage = Stage::new().await;
    stage.dav.put_file("known.mp3", &pattern(1000, 6));
    let play_path = stage
        .play_path("known", "known.mp3", Some("audio/mp3"))
        .await;
    let (recording_part, file) = play_path.rsplit_once('/').expect("a play path");
    let other_uuid = format!("{recording_part}/00000000-0000-5000-8000-000000000000.mp3");
    let other_recording = play_path.replace("/recordings/known/", "/recordings/unknown/");
    for path in [other_uuid.as_str(), other_recording.as_str()] {
        stage.play(path, None).await.as_api().assert_error(404, 6);
    }
    assert!(file.ends_with(".mp3"), "{play_path}");

    // The same play path asked for in another contact center.
    let other = stage.app.ready_contact_center().await;
    let played = stage.app.play(&play_path, &other, None).await;
    played.as_api().assert_error(404, 6);
}

#[tokio::test]
async fn webdav_refusing_failing_or_gone_is_502() {
    let mut stage = Stage::new().await;
    let bytes = pattern(SIZE, 7);
    stage.dav.put_file("fragile.mp3", &bytes);
    let play_path = stage
        .play_path("fragile", "fragile.mp3", Some("audio/mp3"))
        .await;

    let wrong = stage.dav.storage(Some("not-the-password"));
    stage.app.put_storage(&stage.cc, &wrong).await.assert_ok();
    stage
        .play(&play_path, None)
        .await
        .as_api()
        .assert_error(502, 4);
    let right = stage.dav.storage(None);
    stage.app.put_storage(&stage.cc, &right).await.assert_ok();
    assert_played(&stage.play(&play_path, None).await, &bytes, "audio/mp3");

    stage.dav.set_mode(Mode::Failing);
    let message = stage
        .play(&play_path, None)
        .await
        .as_api()
        .assert_error(502, 4);
    assert!(!message.contains(DAV_PASSWORD), "{message}");
    assert!(
        !message.contains("failing on purpose"),
        "WebDAV's text is not passed on: {message}"
    );
    stage.dav.set_mode(Mode::Normal);
    assert_played(&stage.play(&play_path, None).await, &bytes, "audio/mp3");

    stage.dav.stop().await;
    stage
        .play(&play_path, None)
        .await
        .as_api()
        .assert_error(502, 4);
}

#[tokio::test]
async fn a_slow_webdav_is_504_after_the_timeout() {
    let builder = AppBuilder::new().arg("--webdav-timeout-seconds", "1");
    let stage = Stage::with(builder).await;
    stage.dav.put_file("slow.mp3", &pattern(1000, 8));
    let play_path = stage.play_path("slow", "slow.mp3", Some("audio/mp3")).await;
    stage.dav.set_mode(Mode::Slow);
    let started = Instant::now();
    let played = stage.play(&play_path, None).await;
    let elapsed = started.elapsed();
    played.as_api().assert_error(504, 4);
    assert!(
        elapsed < Duration::from_secs(5),
        "answered after {elapsed:?} with a 1 s timeout"
    );
}

#[tokio::test]
async fn playback_needs_the_ops_credentials() {
    let stage = Stage::new().await;
    stage.dav.put_file("private.mp3", &pattern(1000, 9));
    let play_path = stage
        .play_path("private", "private.mp3", Some("audio/mp3"))
        .await;
    let url = format!("/api/v2{play_path}");
    let request = stage.app.anonymous(Method::GET, &url);
    let played = stage.app.play_with(request, &stage.cc, None).await;
    played.as_api().assert_unauthorized();
}

#[tokio::test]
async fn storage_credentials_survive_a_restart() {
    let stage = Stage::new().await;
    let bytes = pattern(SIZE, 10);
    stage.dav.put_file("kept.mp3", &bytes);
    let play_path = stage.play_path("kept", "kept.mp3", Some("audio/mp3")).await;
    let Stage { app, dav, cc } = stage;
    let app = app.restart().await;
    let played = app.play(&play_path, &cc, None).await;
    assert_played(&played, &bytes, "audio/mp3");
    drop(dav);
}

/// Peak resident memory of a process, in bytes.
pub fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .expect("a VmHWM line");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|value| value.parse().ok())
        .expect("VmHWM in kB");
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_is_streamed_not_held() {
    const LARGE: usize = 40 * 1024 * 1024;
    let stage = Stage::new().await;
    let bytes = pattern(LARGE, 11);
    let expected = Fnv::of(&bytes);
    stage.dav.put_file("large.wav", &bytes);
    drop(bytes);
    let play_path = stage
        .play_path("large", "large.wav", Some("audio/wav"))
        .await;
    stage.dav.put_file("small.wav", &pattern(1000, 12));
    let small = stage
        .play_path("small", "small.wav", Some("audio/wav"))
        .await;
    assert_eq!(stage.play(&small, None).await.status.as_u16(), 200);
    let pid = stage.app.child.id().expect("gird runs");
    let before = peak_rss(pid);

    let url = format!("/api/v2{play_path}");
    let response = send_streaming(&stage, &url).await;
    assert_eq!(response.status().as_u16(), 200);
    let length = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(length, LARGE.to_string());
    assert_eq!(Fnv::of_body(response).await, (LARGE, expected));

    let growth = peak_rss(pid).saturating_sub(before);
    assert!(
        growth < (LARGE / 2) as u64,
        "gird's peak memory grew by {growth} bytes while streaming {LARGE} bytes"
    );
}

async fn send_streaming(stage: &Stage, url: &str) -> reqwest::Response {
    stage
        .app
        .request(Method::GET, url)
        .query(&[("contactCenterId", &stage.cc)])
        .send()
        .await
        .expect("gird answers")
}
