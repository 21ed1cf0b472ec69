//! What an attack review of gird found, each closed and kept closed (docs/API.md
//! "Serving limits and TLS", "Operations"): idle HTTP/2 connections, client-chosen
//! metric labels, ...

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::{eventually, send, AppBuilder, TestApp, PATIENCE};

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// An empty SETTINGS frame: length 0, type 4, no flags, stream 0.
const EMPTY_SETTINGS: [u8; 9] = [0, 0, 0, 4, 0, 0, 0, 0, 0];
const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 3;

fn socket_address(app: &TestApp) -> SocketAddr {
    app.address
        .trim_start_matches("http://")
        .parse()
        .expect("host:port")
}

/// A connection from `from` (any address of 127/8) that speaks HTTP/2 with prior
/// knowledge, sends its preface and SETTINGS, and then nothing.
async fn idle_h2(app: &TestApp, from: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(format!("{from}:0").parse().unwrap())
        .expect("bind a loopback address");
    let mut stream = socket.connect(socket_address(app)).await.unwrap();
    // A server that closes at once makes these fail; the reads that follow tell.
    let _ = stream.write_all(H2_PREFACE).await;
    let _ = stream.write_all(&EMPTY_SETTINGS).await;
    stream
}

/// Reads until the server closes the connection (or resets it); fails after `PATIENCE`.
async fn closed_by_server(stream: &mut TcpStream) {
    let mut buffer = [0u8; 4096];
    let closed = tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server kept an idle connection open");
}

/// The server's first SETTINGS frame, as (identifier, value) pairs.
async fn server_settings(stream: &mut TcpStream) -> Vec<(u16, u32)> {
    tokio::time::timeout(PATIENCE, first_settings(stream))
        .await
        .expect("a SETTINGS frame in time")
        .expect("a SETTINGS frame")
}

async fn first_settings(stream: &mut TcpStream) -> std::io::Result<Vec<(u16, u32)>> {
    loop {
        let mut head = [0u8; 9];
        stream.read_exact(&mut head).await?;
        let length = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let mut payload = vec![0u8; length];
        stream.read_exact(&mut payload).await?;
        let (kind, flags) = (head[3], head[4]);
        if kind == 4 && flags & 1 == 0 {
            return Ok(payload
                .chunks_exact(6)
                .map(|entry| {
                    (
                        u16::from_be_bytes([entry[0], entry[1]]),
                        u32::from_be_bytes([entry[2], entry[3], entry[4], entry[5]]),
                    )
                })
                .collect());
        }
    }
}

async fn healthy(app: &TestApp) -> bool {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    client
        .get(format!("{}/health", app.address))
        .send()
        .await
        .is_ok_and(|response| response.status().is_success())
}

#[tokio::test]
async fn idle_http2_connections_do_not_hold_the_connection_slots() {
    let app = AppBuilder::new()
        .arg("--max-connections", "8")
        .arg("--max-connections-per-address", "0")
        .arg("--idle-timeout-seconds", "1")
        .spawn()
        .await;
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(idle_h2(&app, "127.0.0.2").await);
    }
    let settings = server_settings(&mut idle[0]).await;
    assert!(
        settings.contains(&(SETTINGS_MAX_CONCURRENT_STREAMS, 100)),
        "streams per connection are bounded: {settings:?}"
    );
    for stream in &mut idle {
        closed_by_server(stream).await;
    }
    assert!(healthy(&app).await, "the slots are free again");
}

#[tokio::test]
async fn idle_http1_connections_are_closed_too() {
    let app = AppBuilder::new()
        .arg("--idle-timeout-seconds", "1")
        .spawn()
        .await;
    let mut stream = TcpStream::connect(socket_address(&app)).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0u8; 1024];
    let read = stream.read(&mut answer).await.unwrap();
    assert!(answer[..read].starts_with(b"HTTP/1.1 200"));
    closed_by_server(&mut stream).await;
}

#[tokio::test]
async fn one_address_cannot_take_every_connection() {
    let app = AppBuilder::new()
        .arg("--max-connections-per-address", "3")
        .spawn()
        .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(idle_h2(&app, "127.0.0.2").await);
    }
    // The first three are served (the server speaks first in HTTP/2).
    for stream in &mut held {
        assert!(!server_settings(stream).await.is_empty());
    }
    let mut refused = idle_h2(&app, "127.0.0.2").await;
    closed_by_server(&mut refused).await;
    assert!(healthy(&app).await, "other addresses are served");
    drop(held);
    eventually("a freed address connects again", || async {
        let mut again = idle_h2(&app, "127.0.0.2").await;
        let settings = tokio::time::timeout(Duration::from_secs(1), first_settings(&mut again));
        matches!(settings.await, Ok(Ok(_)))
    })
    .await;
}

#[tokio::test]
async fn made_up_methods_do_not_become_metric_labels() {
    let app = AppBuilder::new().spawn().await;
    for index in 0..200 {
        let method = Method::from_bytes(format!("MADEUP{index:04}XYZ").as_bytes()).unwrap();
        let _ = send(app.anonymous(method, "/health")).await;
    }
    let metrics = send(app.authed(Method::GET, "/metrics")).await;
    assert_eq!(metrics.status.as_u16(), 200);
    assert!(!metrics.text.contains("MADEUP"), "client text in a label");
    assert!(
        metrics.text.contains("method=\"other\""),
        "unknown methods count as one: {}",
        &metrics.text[..metrics.text.len().min(2000)]
    );
}

/// A wrong-password attempt on `/api/v2/ops/contact-centers`, from `from`.
async fn guess(app: &TestApp, from: std::net::IpAddr, password: &str) -> u16 {
    let client = reqwest::Client::builder()
        .local_address(from)
        .build()
        .unwrap();
    let response = client
        .get(format!("{}/api/v2/ops/contact-centers", app.address))
        .basic_auth("ops", Some(password))
        .send()
        .await
        .expect("gird answers");
    response.status().as_u16()
}

#[tokio::test]
async fn parallel_guesses_from_one_address_gain_nothing() {
    let app = AppBuilder::new()
        .arg("--max-connections-per-address", "0")
        .spawn()
        .await;
    let from: std::net::IpAddr = "127.0.0.3".parse().unwrap();
    let guesses = (0..400).map(|n| {
        let app = &app;
        async move { guess(app, from, &format!("guess-{n}")).await }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let verified = answers.iter().filter(|&&status| status == 401).count();
    let locked = answers.iter().filter(|&&status| status == 429).count();
    assert_eq!(verified + locked, 400, "{answers:?}");
    assert!(
        verified <= 5,
        "{verified} of 400 parallel guesses were verified"
    );
    assert_eq!(
        guess(&app, from, &app.ops_password).await,
        429,
        "the right password from a locked address is not verified"
    );
    let elsewhere = "127.0.0.4".parse().unwrap();
    assert_eq!(guess(&app, elsewhere, &app.ops_password).await, 200);
}

#[tokio::test]
async fn guesses_from_many_addresses_share_one_budget() {
    let app = AppBuilder::new().spawn().await;
    let ops: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    assert_eq!(guess(&app, ops, &app.ops_password).await, 200);
    let started = std::time::Instant::now();
    let addresses: Vec<std::net::IpAddr> = (0..400u32)
        .map(|n| std::net::Ipv4Addr::new(127, 1, (n / 250) as u8, (n % 250 + 1) as u8).into())
        .collect();
    let mut verified = 0;
    for round in 0..5 {
        let guesses = addresses.iter().map(|&from| {
            let app = &app;
            async move { guess(app, from, &format!("guess-{round}")).await }
        });
        verified += futures_util::future::join_all(guesses)
            .await
            .into_iter()
            .filter(|&status| status == 401)
            .count();
    }
    let allowed = 100.0 + 10.0 * started.elapsed().as_secs_f64() + 10.0;
    assert!(
        (verified as f64) <= allowed,
        "{verified} of 2000 guesses from 400 addresses were verified (budget {allowed:.0})"
    );
    // The ops user, signing in from where it did before, is not locked out by them.
    assert_eq!(guess(&app, ops, &app.ops_password).await, 200);
}

/// Signs in to the web UI; answers the `gird_ui=...` cookie pair and the whole Set-Cookie.
async fn sign_in(app: &TestApp, password: &str) -> (String, String) {
    let signed = send(
        app.anonymous(Method::POST, "/ui/session")
            .json(&serde_json::json!({"user": "ops", "password": password})),
    )
    .await;
    assert_eq!(signed.status.as_u16(), 200, "{}", signed.text);
    let set_cookie = signed
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .find(|cookie| cookie.starts_with("gird_ui="))
        .expect("the UI session cookie");
    let pair = set_cookie.split(';').next().unwrap().to_owned();
    (pair, set_cookie)
}

async fn with_session(app: &TestApp, session: &str) -> u16 {
    send(
        app.anonymous(Method::GET, "/api/v2/ops/contact-centers")
            .header("cookie", session),
    )
    .await
    .status
    .as_u16()
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let app = AppBuilder::new().spawn().await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &crate::body::sample()).await.assert_ok();
    let (session, _) = sign_in(&app, &app.ops_password).await;
    let (other, _) = sign_in(&app, &app.ops_password).await;
    assert_eq!(with_session(&app, &session).await, 200);
    let out = send(
        app.anonymous(Method::DELETE, "/ui/session")
            .header("cookie", &session),
    )
    .await;
    out.assert_ok();
    // The cookie, kept and replayed, no longer works: not to read, not to remove a hold.
    assert_eq!(with_session(&app, &session).await, 401);
    let remove_hold = app
        .anonymous(
            Method::POST,
            &format!("/api/v2/recordings/alex-test-id?contactCenterId={cc}"),
        )
        .header("cookie", &session)
        .header("x-gird-ui", "1")
        .json(&serde_json::json!({"operationName": "removeNonDelete"}));
    send(remove_hold).await.assert_error(401, 20);
    assert_eq!(
        with_session(&app, &other).await,
        200,
        "other sessions go on"
    );
}

#[tokio::test]
async fn changing_the_ops_password_ends_every_session() {
    let app = AppBuilder::new().spawn().await;
    let (session, _) = sign_in(&app, &app.ops_password).await;
    assert_eq!(with_session(&app, &session).await, 200);
    let app = app.restart().await;
    assert_eq!(
        with_session(&app, &session).await,
        200,
        "a restart keeps it"
    );
    let new_password = crate::helpers::strong_password();
    let app = app
        .restart_with(|builder| builder.password_flag(&new_password))
        .await;
    assert_eq!(with_session(&app, &session).await, 401);
    let (fresh, _) = sign_in(&app, &new_password).await;
    assert_eq!(with_session(&app, &fresh).await, 200);
}

#[tokio::test]
async fn over_tls_cookies_are_secure_and_strict_transport_security_is_sent() {
    let builder = AppBuilder::new();
    let (cert, key, _) = crate::hardening::certificate("gird");
    let cert_path = builder.write_file("tls-cert.pem", &cert);
    let key_path = builder.write_file("tls-key.pem", &key);
    let app = builder
        .arg("--tls-cert", cert_path.to_str().unwrap())
        .arg("--tls-key", key_path.to_str().unwrap())
        .spawn()
        .await;
    let (_, set_cookie) = sign_in(&app, &app.ops_password).await;
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
    let read = send(app.anonymous(Method::GET, "/health")).await;
    let csrf_cookie = read.header("set-cookie").expect("a JSESSIONID");
    assert!(csrf_cookie.contains("; Secure"), "{csrf_cookie}");
    let hsts = read
        .header("strict-transport-security")
        .expect("Strict-Transport-Security over TLS");
    assert!(hsts.starts_with("max-age="), "{hsts}");
    let plain = AppBuilder::new().spawn().await;
    let read = send(plain.anonymous(Method::GET, "/health")).await;
    assert!(read.header("strict-transport-security").is_none());
    assert!(!read.header("set-cookie").unwrap().contains("Secure"));
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_folder_and_the_audit_log_are_the_owners_only() {
    use std::os::unix::fs::PermissionsExt;
    let builder = AppBuilder::new().backend(crate::helpers::Backend::Sqlite);
    let audit = builder.data_dir().with_file_name("audit.jsonl");
    let app = builder
        .arg("--audit-log", audit.to_str().unwrap())
        .spawn()
        .await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &crate::body::sample()).await.assert_ok();
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&app.data_dir), 0o700);
    for file in [
        "gird.db",
        "gird.db-wal",
        "gird.db-shm",
        "csrf-key",
        "storage-key",
    ] {
        assert_eq!(mode(&app.data_dir.join(file)), 0o600, "{file}");
    }
    assert_eq!(mode(&audit), 0o600, "the audit log");
}

#[tokio::test]
async fn a_rejected_sign_in_does_not_log_what_was_typed() {
    let builder = AppBuilder::new().capture_log();
    let app = builder.spawn().await;
    // A client that swapped the fields sends the password as the user name.
    let swapped = app
        .anonymous(Method::GET, "/api/v2/ops/contact-centers")
        .basic_auth("Typed-Secret-8812", Some("ops"));
    send(swapped).await.assert_unauthorized();
    let ui = app
        .anonymous(Method::POST, "/ui/session")
        .json(&serde_json::json!({"user": "Typed-Secret-4471", "password": "x"}));
    send(ui).await.assert_error(401, 20);
    let log_file = builder.log_file();
    eventually("the rejections are logged", || async {
        let log = std::fs::read_to_string(&log_file).unwrap_or_default();
        log.contains("rejected credentials") && log.contains("rejected a web UI sign-in")
    })
    .await;
    let log = std::fs::read_to_string(&log_file).unwrap();
    assert!(!log.contains("Typed-Secret"), "{log}");
}

#[tokio::test]
async fn a_made_up_host_header_does_not_reach_the_media_uris() {
    let app = AppBuilder::new().spawn().await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &crate::body::sample()).await.assert_ok();
    let path = format!("/api/v2/ops/contact-centers/{cc}/recordings/alex-test-id");
    for host in [
        "evil.example/\"><script>alert(1)</script>",
        "a b",
        "user@evil.example",
    ] {
        let answer = send(app.request(Method::GET, &path).header("host", host)).await;
        let message = answer.assert_error(400, 10);
        assert!(message.contains("Host"), "{message}");
        assert!(!answer.text.contains("script"), "{}", answer.text);
    }
    let fine = send(
        app.request(Method::GET, &path)
            .header("host", "gird.example:8443"),
    )
    .await;
    let uri = fine.json()["recording"]["mediaFiles"][0]["mediaUri"].clone();
    assert!(
        uri.as_str()
            .unwrap()
            .starts_with("http://gird.example:8443/api/v2/recordings/"),
        "{uri}"
    );
    // A configured public URL is trusted and used whatever Host says.
    let trusted = AppBuilder::new()
        .arg("--public-url", "https://recordings.example")
        .spawn()
        .await;
    let cc = trusted.ready_contact_center().await;
    trusted
        .insert(&cc, &crate::body::sample())
        .await
        .assert_ok();
    let path = format!("/api/v2/ops/contact-centers/{cc}/recordings/alex-test-id");
    let answer = send(trusted.request(Method::GET, &path).header("host", "a b")).await;
    let uri = answer.json()["recording"]["mediaFiles"][0]["mediaUri"].clone();
    assert!(
        uri.as_str()
            .unwrap()
            .starts_with("https://recordings.example/"),
        "{uri}"
    );
}

#[tokio::test]
async fn dot_ids_do_not_make_paths_that_resolve_elsewhere() {
    let app = AppBuilder::new().spawn().await;
    let cc = app.ready_contact_center().await;
    // `.` and `..` are path steps (WHATWG URLs resolve `%2E%2E` too): never an id.
    for id in [".", ".."] {
        let message = app
            .insert(&cc, &crate::body::minimal_record(id))
            .await
            .assert_error(400, 10);
        assert!(message.starts_with("id: "), "{message}");
    }
    for id in ["a.b", "...", ".hidden"] {
        app.insert(&cc, &crate::body::minimal_record(id))
            .await
            .assert_ok();
        let recording = app.recording(&cc, id).await;
        let play_path = recording["mediaFiles"][0]["playPath"]
            .as_str()
            .unwrap()
            .to_owned();
        let encoded = id.replace('.', "%2E");
        assert!(
            play_path.starts_with(&format!("/recordings/{encoded}/play/")),
            "{id}: {play_path}"
        );
        let read = send(app.request(
            Method::GET,
            &format!("/api/v2/recordings/{encoded}?contactCenterId={cc}"),
        ))
        .await;
        assert_eq!(read.json()["recording"]["id"], id, "{}", read.text);
    }
}

#[tokio::test]
async fn a_media_file_is_never_served_as_a_page() {
    use crate::playback::Stage;
    let stage = Stage::new().await;
    let page = b"<html><script>fetch('/api/v2/ops/contact-centers')</script></html>";
    stage.dav.put_file("evil.html", page);
    for (id, kind) in [("typed-html", Some("text/html")), ("untyped-html", None)] {
        let play_path = stage.play_path(id, "evil.html", kind).await;
        let played = stage.play(&play_path, None).await;
        assert_eq!(played.status.as_u16(), 200);
        assert_eq!(
            played.header("content-type").as_deref(),
            Some("application/octet-stream"),
            "{id}"
        );
        assert_eq!(
            played.header("content-disposition").as_deref(),
            Some("attachment")
        );
        assert_eq!(
            played.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(
            played.header("content-security-policy").as_deref(),
            Some("sandbox; default-src 'none'")
        );
    }
    let audio = crate::webdav::pattern(1000, 7);
    stage.dav.put_file("fine.mp3", &audio);
    let play_path = stage.play_path("fine", "fine.mp3", Some("audio/mp3")).await;
    let played = stage.play(&play_path, None).await;
    assert_eq!(played.header("content-type").as_deref(), Some("audio/mp3"));
    assert!(played.header("content-disposition").is_none());
    assert_eq!(
        played.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert!(played.header("content-security-policy").is_some());

    // Beyond the end: 416 says how long the file is.
    let played = stage.play(&play_path, Some("bytes=5000-6000")).await;
    played.as_api().assert_error(416, 10);
    assert_eq!(
        played.header("content-range").as_deref(),
        Some("bytes */1000")
    );

    // Several ranges come back as multipart/byteranges, labelled so.
    let played = stage.play(&play_path, Some("bytes=0-9,20-29")).await;
    assert_eq!(played.status.as_u16(), 206);
    let kind = played.header("content-type").unwrap();
    assert!(
        kind.starts_with("multipart/byteranges; boundary="),
        "{kind}"
    );
    let body = String::from_utf8_lossy(&played.body).into_owned();
    let boundary = kind.rsplit('=').next().unwrap();
    assert!(body.contains(&format!("--{boundary}")), "{body}");
}

#[tokio::test]
async fn a_deletion_in_progress_cannot_be_cancelled_or_overtaken_by_a_hold() {
    use crate::playback::Stage;
    use crate::rws::{APPLY_HOLD, REMOVE_HOLD};
    let stage = Stage::new().await;
    let (app, cc) = (&stage.app, stage.cc.clone());
    for name in ["first.mp3", "second.mp3"] {
        stage.dav.put_file(name, &crate::webdav::pattern(100, 1));
    }
    stage
        .insert("guarded", &["first.mp3", "second.mp3"], None)
        .await;
    stage.dav.gate("second.mp3");
    let deleting = {
        let client = app.api.clone();
        let cc = cc.clone();
        tokio::spawn(async move { client.delete_recording("guarded", Some(&cc), true).await })
    };
    eventually("the second file's deletion reaches WebDAV", || async {
        stage
            .dav
            .seen()
            .iter()
            .any(|seen| seen.method == "DELETE" && seen.path.ends_with("second.mp3"))
    })
    .await;
    assert!(!stage.dav.exists("first.mp3"));
    // Nothing can cancel the deletion now: no hold change, no second deletion.
    for operation in [REMOVE_HOLD, APPLY_HOLD] {
        let body = serde_json::json!({ "operationName": operation });
        let refused = app.recording_operation("guarded", &cc, &body).await;
        let message = refused.assert_error(409, 18);
        assert!(message.contains("being deleted"), "{message}");
    }
    app.delete_recording("guarded", Some(&cc), true)
        .await
        .assert_error(409, 18);
    let view = app.recording(&cc, "guarded").await;
    assert_eq!(view["beingDeleted"], true);
    stage.dav.open();
    deleting.await.unwrap().assert_ok();
    app.assert_absent(&cc, "guarded").await;
    assert!(!stage.dav.exists("second.mp3"));
}

#[tokio::test]
async fn a_failed_deletion_says_which_files_are_gone_and_finishes_on_retry() {
    use crate::playback::Stage;
    let builder = AppBuilder::new().arg("--webdav-timeout-seconds", "1");
    let audit = builder.data_dir().with_file_name("audit.jsonl");
    let stage = Stage::with(builder.arg("--audit-log", audit.to_str().unwrap())).await;
    let (app, cc) = (&stage.app, stage.cc.clone());
    for name in ["one.mp3", "two.mp3", "three.mp3"] {
        stage.dav.put_file(name, &crate::webdav::pattern(100, 2));
    }
    stage
        .insert("partial", &["one.mp3", "two.mp3", "three.mp3"], None)
        .await;
    stage.dav.gate("two.mp3");
    let failed = app.delete_recording("partial", Some(&cc), true).await;
    let message = failed.assert_error(504, 4);
    assert!(
        message.contains("1 of 3 media files were deleted"),
        "{message}"
    );
    stage.dav.open();
    // The record stays, saying it is being deleted; a hold cannot be put on it.
    let view = app.recording(&cc, "partial").await;
    assert_eq!(view["beingDeleted"], true, "{view}");
    let hold = serde_json::json!({ "operationName": crate::rws::APPLY_HOLD });
    app.recording_operation("partial", &cc, &hold)
        .await
        .assert_error(409, 18);
    // Deleting again finishes (the file already gone counts as deleted).
    app.delete_recording("partial", Some(&cc), true)
        .await
        .assert_ok();
    app.assert_absent(&cc, "partial").await;
    for name in ["one.mp3", "two.mp3", "three.mp3"] {
        assert!(!stage.dav.exists(name), "{name}");
    }
    // Every media file's deletion, done or failed, is in the audit log.
    eventually("the audit lines are written", || async {
        let lines = std::fs::read_to_string(&audit).unwrap_or_default();
        lines.matches("delete-media").count() >= 5
    })
    .await;
    let lines = std::fs::read_to_string(&audit).unwrap();
    let failed_lines = lines
        .lines()
        .filter(|line| line.contains("delete-media") && line.contains("failed"))
        .count();
    assert_eq!(failed_lines, 1, "{lines}");
}

/// A recording of about `kib` KiB: one media file with a large unknown field.
fn heavy_record(id: &str, kib: usize) -> serde_json::Value {
    let mut body = crate::body::minimal_record(id);
    body["mediaFiles"][0]["mediaId"] = serde_json::json!(format!("{id}-media"));
    body["padding"] = serde_json::json!("x".repeat(kib * 1024));
    body
}

#[tokio::test]
async fn a_search_page_is_bounded_in_bytes_and_gives_next() {
    let app = AppBuilder::new()
        .arg("--body-limit", "2000000")
        .arg("--max-page-bytes", "2500000")
        .spawn()
        .await;
    let cc = app.ready_contact_center().await;
    for n in 0..5 {
        app.insert(&cc, &heavy_record(&format!("heavy-{n}"), 1000))
            .await
            .assert_ok();
    }
    let mut page = app
        .search(&[("contactCenterId", cc.as_str()), ("limit", "1000")])
        .await;
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    loop {
        assert_eq!(
            page.status.as_u16(),
            200,
            "{}",
            &page.text[..200.min(page.text.len())]
        );
        let ids = crate::rws::found_ids(&page);
        sizes.push(ids.len());
        seen.extend(ids);
        match crate::rws::link(&page, "next") {
            Some(next) => page = app.follow(&next).await,
            None => break,
        }
    }
    assert_eq!(sizes, [2, 2, 1], "two records of ~1 MB fit in 2.5 MB");
    seen.sort();
    assert_eq!(
        seen,
        ["heavy-0", "heavy-1", "heavy-2", "heavy-3", "heavy-4"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_searches_of_large_records_keep_memory_flat() {
    let app = AppBuilder::new()
        .arg("--body-limit", "2000000")
        .arg("--max-page-bytes", "2000000")
        .spawn()
        .await;
    let cc = app.ready_contact_center().await;
    for n in 0..12 {
        app.insert(&cc, &heavy_record(&format!("big-{n}"), 1500))
            .await
            .assert_ok();
    }
    let pid = app.child.id().expect("gird runs");
    let before = crate::playback::peak_rss(pid);
    let searches = (0..4).map(|_| {
        let api = app.api.clone();
        let cc = cc.clone();
        async move {
            let page = api
                .search(&[("contactCenterId", cc.as_str()), ("limit", "1000")])
                .await;
            assert_eq!(page.status.as_u16(), 200);
            crate::rws::found_ids(&page).len()
        }
    });
    let counts = futures_util::future::join_all(searches).await;
    assert!(counts.iter().all(|&count| count == 1), "{counts:?}");
    let grown = crate::playback::peak_rss(pid).saturating_sub(before);
    assert!(
        grown < 150 * 1024 * 1024,
        "4 searches over 18 MB of records grew the server by {} MiB",
        grown / (1024 * 1024)
    );
}

#[tokio::test]
async fn a_recording_cannot_grow_past_its_byte_limit() {
    let app = AppBuilder::new()
        .arg("--body-limit", "9000000")
        .spawn()
        .await;
    let cc = app.ready_contact_center().await;
    let message = app
        .insert(&cc, &heavy_record("obese", 8300))
        .await
        .assert_error(400, 10);
    assert!(message.contains("bytes"), "{message}");
    app.assert_absent(&cc, "obese").await;
    // Grown by merges, the same limit holds.
    app.insert(&cc, &heavy_record("growing", 5000))
        .await
        .assert_ok();
    let mut more = heavy_record("growing", 4000);
    more["mediaFiles"][0]["mediaId"] = serde_json::json!("growing-second");
    more["mediaFiles"][0]["callUUID"] = serde_json::json!("another-call");
    more["other"] = more["padding"].take();
    let message = app.insert(&cc, &more).await.assert_error(400, 10);
    assert!(message.contains("bytes"), "{message}");
    let stored = app.recording(&cc, "growing").await;
    assert_eq!(
        stored["mediaFiles"].as_array().unwrap().len(),
        1,
        "nothing merged"
    );
}
