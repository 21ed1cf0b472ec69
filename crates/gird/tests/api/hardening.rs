//! Serving under hostile conditions (docs/API.md "Operations"): HTTPS with a certificate
//! reloaded when its files change, bounded request heads, connections and request time,
//! and repeated wrong passwords answered more and more slowly.

use std::time::{Duration, Instant};

use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{eventually, eventually_within, send, spawn_app, AppBuilder, PATIENCE};

/// A self-signed certificate for 127.0.0.1: PEM chain, PEM key, and the DER certificate.
pub fn certificate(name: &str) -> (String, String, Vec<u8>) {
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.subject_alt_names = vec![rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap())];
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem(), cert.der().to_vec())
}

fn served_certificate(response: &reqwest::Response) -> Vec<u8> {
    response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("a TLS answer")
        .to_vec()
}

#[tokio::test]
async fn https_is_served_and_a_renewed_certificate_is_picked_up() {
    let builder = AppBuilder::new();
    let (cert, key, der) = certificate("first");
    let cert_path = builder.write_file("tls-cert.pem", &cert);
    let key_path = builder.write_file("tls-key.pem", &key);
    let app = builder
        .arg("--tls-cert", cert_path.to_str().unwrap())
        .arg("--tls-key", key_path.to_str().unwrap())
        .spawn()
        .await;
    assert!(app.address.starts_with("https://"), "{}", app.address);
    let cc = app.ready_contact_center().await;
    let first = app
        .authed(Method::GET, &format!("/api/v2/ops/contact-centers/{cc}"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status().as_u16(), 200);
    assert_eq!(served_certificate(&first), der);

    let (cert, key, renewed) = certificate("renewed");
    std::fs::write(&key_path, key).unwrap();
    std::fs::write(&cert_path, cert).unwrap();
    // The files are looked at every 10 s.
    eventually_within(
        Duration::from_secs(25),
        Duration::from_millis(500),
        "the renewed certificate is picked up",
        || async {
            // A new connection each time: the certificate is chosen at the handshake.
            let client = reqwest::Client::builder()
                .danger_accept_invalid_certs(true)
                .tls_info(true)
                .build()
                .unwrap();
            let response = client
                .get(format!("{}/health", app.address))
                .send()
                .await
                .unwrap();
            served_certificate(&response) == renewed
        },
    )
    .await;
}

#[tokio::test]
async fn a_missing_or_mismatched_certificate_stops_the_start() {
    let builder = AppBuilder::new();
    let (cert, _, _) = certificate("a");
    let (_, other_key, _) = certificate("b");
    let cert_path = builder.write_file("tls-cert.pem", &cert);
    let key_path = builder.write_file("tls-key.pem", &other_key);
    let (status, output) = builder
        .clone()
        .arg("--tls-cert", cert_path.to_str().unwrap())
        .arg("--tls-key", key_path.to_str().unwrap())
        .spawn_expecting_failure()
        .await
        .expect("gird refuses to start");
    assert!(!status.success());
    assert!(output.contains("does not match"), "{output}");
    let (_, output) = builder
        .arg("--tls-cert", "/nonexistent/cert.pem")
        .arg("--tls-key", key_path.to_str().unwrap())
        .spawn_expecting_failure()
        .await
        .expect("gird refuses to start");
    assert!(output.contains("/nonexistent/cert.pem"), "{output}");
}

async fn raw_request(address: &str, request: &[u8]) -> String {
    let host = address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn an_oversized_request_head_is_refused() {
    let app = AppBuilder::new()
        .arg("--max-header-bytes", "16384")
        .spawn()
        .await;
    let big = "x".repeat(40_000);
    let request =
        format!("GET /health HTTP/1.1\r\nhost: x\r\nx-big: {big}\r\nconnection: close\r\n\r\n");
    let answer = raw_request(&app.address, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let fine = send(app.anonymous(Method::GET, "/health")).await;
    assert_eq!(fine.status.as_u16(), 200, "the server keeps serving");
}

#[tokio::test]
async fn a_request_that_takes_too_long_is_ended_with_503() {
    let app = AppBuilder::new()
        .arg("--request-timeout-seconds", "1")
        .spawn()
        .await;
    let cc = app.ready_contact_center().await;
    let credentials = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("ops:{}", app.ops_password),
    );
    // A body announced and never sent: the slow client is cut off.
    let request = format!(
        "POST /internal-api/contact-centers/{cc}/recordings HTTP/1.1\r\nhost: x\r\nauthorization: Basic {credentials}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{{\"id\":"
    );
    let started = Instant::now();
    let answer = raw_request(&app.address, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"statusCode\":4"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Connections the kernel has made for the server listening on 127.0.0.1:`port` that the
/// server has not taken yet: the accept queue, as Linux shows it (`/proc/net/tcp`, the
/// listening socket's `rx_queue`).
fn waiting_to_be_accepted(port: u16) -> u32 {
    let sockets = std::fs::read_to_string("/proc/net/tcp").expect("Linux's TCP socket table");
    let local = format!("0100007F:{port:04X}");
    sockets
        .lines()
        .skip(1)
        .find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let listening = fields.get(1) == Some(&local.as_str()) && fields.get(3) == Some(&"0A");
            let (_, queued) = fields.get(4)?.split_once(':')?;
            listening.then(|| u32::from_str_radix(queued, 16).expect("hex"))
        })
        .expect("gird's listening socket")
}

/// Sends a keep-alive request on `stream` and reads the whole answer: the server has
/// taken the connection and serves it (and keeps it, with its slot, until it is closed).
async fn served(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let complete = |answer: &[u8]| {
        let text = String::from_utf8_lossy(answer).to_ascii_lowercase();
        let (head, body) = text.split_once("\r\n\r\n")?;
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))?
            .trim()
            .parse()
            .ok()?;
        (body.len() >= length).then_some(())
    };
    while complete(&answer).is_none() {
        let mut buffer = [0u8; 1024];
        let read = tokio::time::timeout(PATIENCE, stream.read(&mut buffer))
            .await
            .expect("an answer")
            .unwrap();
        assert!(read > 0, "closed without an answer");
        answer.extend_from_slice(&buffer[..read]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_their_turn() {
    let app = AppBuilder::new()
        .arg("--max-connections", "2")
        .spawn()
        .await;
    let host = app.address.trim_start_matches("http://").to_owned();
    let port: u16 = host.rsplit_once(':').unwrap().1.parse().unwrap();
    let mut first = TcpStream::connect(&host).await.unwrap();
    let mut second = TcpStream::connect(&host).await.unwrap();
    assert!(served(&mut first).await.starts_with("HTTP/1.1 200"));
    assert!(served(&mut second).await.starts_with("HTTP/1.1 200"));

    let mut third = TcpStream::connect(&host).await.unwrap();
    third
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    // The server's side: the kernel holds the third connection and gird has not taken
    // it; nor has it after answering requests that came after the third connection (a
    // server free to take it takes it while it serves them).
    eventually("the third connection waits to be accepted", || async {
        waiting_to_be_accepted(port) == 1
    })
    .await;
    for _ in 0..10 {
        assert!(served(&mut second).await.starts_with("HTTP/1.1 200"));
        assert_eq!(
            waiting_to_be_accepted(port),
            1,
            "a third connection is not taken while two are open"
        );
    }
    let mut nothing = [0u8; 1];
    assert!(
        matches!(third.try_read(&mut nothing), Err(error) if error.kind() == std::io::ErrorKind::WouldBlock),
        "a third connection is not served while two are open"
    );

    drop(first);
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, third.read_to_end(&mut answer))
        .await
        .expect("served once a slot is free")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(waiting_to_be_accepted(port), 0);
    drop(second);
}

#[tokio::test]
async fn an_address_with_repeated_wrong_passwords_is_locked_even_for_the_right_one() {
    let app = spawn_app().await;
    let wrong = || {
        app.anonymous(Method::GET, "/api/v2/ops/contact-centers")
            .basic_auth("ops", Some("not-the-password"))
    };
    for _ in 0..5 {
        send(wrong()).await.assert_unauthorized();
    }
    // Locked: not even the right password is verified now.
    let locked = send(app.authed(Method::GET, "/api/v2/ops/contact-centers")).await;
    assert_eq!(locked.assert_error(429, 20), locked.json()["statusMessage"]);
    let retry_after: u64 = locked
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=300).contains(&retry_after), "{retry_after}");
    // Once the lock is over, the right password works and forgets the failures.
    eventually("the lock ends", || async {
        send(app.authed(Method::GET, "/api/v2/ops/contact-centers"))
            .await
            .status
            .as_u16()
            == 200
    })
    .await;
    send(wrong()).await.assert_unauthorized();
}
