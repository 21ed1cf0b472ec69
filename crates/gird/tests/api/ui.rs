//! The web UI in a real browser: headless Chromium driven through chromedriver (Debian's
//! `chromium` and `chromium-driver`; `scripts/test` installs them). It signs in,
//! searches, opens a recording, plays a media file served by a test WebDAV server, puts
//! the recording on legal hold, and saves screenshots under `target/tmp/ui-e2e/`.
//! The session cookie and its rules are tested over plain HTTP too.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::time::{sleep, Instant};

use crate::body::complete_record;
use crate::helpers::{send, spawn_app, PATIENCE};
use crate::webdav::WebDav;

/// One second of a 440 Hz tone: 8 kHz, 16-bit mono PCM in a WAV file.
fn tone() -> Vec<u8> {
    let samples: Vec<i16> = (0..8000)
        .map(|n| ((n as f64 * 440.0 * std::f64::consts::TAU / 8000.0).sin() * 8000.0) as i16)
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut wav = Vec::new();
    wav.extend(b"RIFF");
    wav.extend((36 + data_len).to_le_bytes());
    wav.extend(b"WAVEfmt ");
    wav.extend(16u32.to_le_bytes());
    wav.extend(1u16.to_le_bytes()); // PCM
    wav.extend(1u16.to_le_bytes()); // mono
    wav.extend(8000u32.to_le_bytes());
    wav.extend(16000u32.to_le_bytes());
    wav.extend(2u16.to_le_bytes());
    wav.extend(16u16.to_le_bytes());
    wav.extend(b"data");
    wav.extend(data_len.to_le_bytes());
    for sample in samples {
        wav.extend(sample.to_le_bytes());
    }
    wav
}

/// A running chromedriver; killed when dropped.
struct Driver {
    url: String,
    _child: Child,
}

impl Driver {
    async fn start() -> Driver {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            listener.local_addr().unwrap().port()
        };
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("chromedriver not found ({error}): run scripts/test, which installs chromium-driver")
            });
        let address = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + PATIENCE;
        while TcpStream::connect(&address).await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            sleep(Duration::from_millis(50)).await;
        }
        Driver {
            url: format!("http://{address}"),
            _child: child,
        }
    }

    async fn browser(&self, width: u32, height: u32) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--autoplay-policy=no-user-gesture-required", "--mute-audio",
                    format!("--window-size={width},{height}"),
                ]
            }),
        );
        // chromedriver is on loopback: plain HTTP, no TLS stack needed.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session")
    }
}

fn output_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui-e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(browser: &Client, name: &str) -> PathBuf {
    let png = browser.screenshot().await.expect("a screenshot");
    let path = output_dir().join(name);
    std::fs::write(&path, png).unwrap();
    path
}

/// Waits for an element, up to the tests' patience.
async fn find(browser: &Client, css: &str) -> fantoccini::elements::Element {
    match browser
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
    {
        Ok(element) => element,
        Err(error) => {
            let page = browser.source().await.unwrap_or_default();
            let logs = script(
                browser,
                "return route().then(() => document.getElementById('main').innerHTML.slice(0, 300), e => 'error ' + e.stack)",
            )
            .await;
            screenshot(browser, "failure.png").await;
            panic!("no {css:?} on the page ({error}); status {logs}; page: {page}")
        }
    }
}

async fn script(browser: &Client, code: &str) -> Value {
    browser
        .execute(code, vec![])
        .await
        .expect("the script runs")
}

async fn wait_until(browser: &Client, code: &str, what: &str) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let value = script(browser, code).await;
        if value.as_bool() == Some(true) {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: {value}");
        sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn sign_in_search_open_and_play_a_recording_in_chromium() {
    let dav = WebDav::start().await;
    let wav = tone();
    dav.put_file("calls/tone.wav", &wav);
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.put_storage(&cc, &dav.storage(None)).await.assert_ok();
    let mut record = complete_record("ui-call");
    record["mediaFiles"][0]["mediaDescriptor"]["path"] = json!("calls/tone.wav");
    record["mediaFiles"][0]["type"] = json!("audio/wav");
    app.insert(&cc, &record).await.assert_ok();
    app.insert(&cc, &complete_record("other-call"))
        .await
        .assert_ok();

    let driver = Driver::start().await;
    let browser = driver.browser(1280, 1000).await;
    browser
        .goto(&format!("{}/ui/", app.address))
        .await
        .expect("the UI loads");

    // Sign in: a wrong password first, then the right one.
    let password = find(&browser, "#password").await;
    password.send_keys("wrong-password").await.unwrap();
    find(&browser, "form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    wait_until(
        &browser,
        "return document.getElementById('status').textContent.includes('Wrong user or password')",
        "the sign-in error is shown",
    )
    .await;
    password.clear().await.unwrap();
    password.send_keys(&app.ops_password).await.unwrap();
    find(&browser, "form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();

    // Search: this contact center, by caller number with a wildcard and by agent.
    find(&browser, "select#cc").await;
    let choose = format!(
        "const select = document.getElementById('cc'); select.value = {}; return select.value",
        json!(cc)
    );
    assert_eq!(script(&browser, &choose).await, json!(cc));
    find(&browser, "#caller")
        .await
        .send_keys("*0000")
        .await
        .unwrap();
    find(&browser, "#agent")
        .await
        .send_keys("agent.bob@example.com")
        .await
        .unwrap();
    find(&browser, "form[role=search] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    let link = find(&browser, "a[aria-label='Open recording ui-call']").await;
    let rows = script(
        &browser,
        "return document.querySelectorAll('tbody tr').length",
    )
    .await;
    assert_eq!(rows, json!(2), "both calls match");
    let cells = script(
        &browser,
        "return [...document.querySelector('tbody tr').cells].map(c => c.textContent)",
    )
    .await;
    assert!(
        cells[4].as_str().unwrap().contains("agent.bob@example.com"),
        "{cells}"
    );
    let utc = script(
        &browser,
        "return document.querySelector('tbody time').title",
    )
    .await;
    assert!(
        utc.as_str().unwrap().starts_with("UTC: 2015-06-15"),
        "{utc}"
    );
    screenshot(&browser, "search.png").await;

    // Open the recording: details, the timeline with its masked span, the events.
    link.click().await.unwrap();
    find(&browser, "audio").await;
    let title = script(
        &browser,
        "return document.getElementById('title').textContent",
    )
    .await;
    assert_eq!(title, json!("Recording ui-call"));
    let masks = script(
        &browser,
        "return document.querySelectorAll('.segment .mask').length",
    )
    .await;
    assert_eq!(masks, json!(1), "the paused span is marked");
    let events = script(
        &browser,
        "return document.querySelectorAll('.track .event').length",
    )
    .await;
    assert_eq!(events, json!(3));

    // Play: the browser streams the file through gird with Range requests.
    let played = script(
        &browser,
        "return document.querySelector('audio').play().then(() => 'playing', e => 'error: ' + e.message)",
    )
    .await;
    assert_eq!(played, json!("playing"));
    wait_until(
        &browser,
        "const a = document.querySelector('audio'); return a.currentTime > 0.2 || a.ended",
        "the audio plays",
    )
    .await;
    let duration = script(&browser, "return document.querySelector('audio').duration").await;
    assert!(
        (duration.as_f64().unwrap() - 1.0).abs() < 0.05,
        "{duration}"
    );
    let seen = dav.seen();
    assert!(
        seen.iter().any(|request| request.range.is_some()),
        "the browser asked for ranges: {seen:?}"
    );
    script(
        &browser,
        "document.querySelector('.players').scrollIntoView(); return true",
    )
    .await;
    let shot = screenshot(&browser, "recording.png").await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);

    // Legal hold from the page, then the API agrees.
    find(&browser, "#hold").await.click().await.unwrap();
    wait_until(
        &browser,
        "return document.getElementById('hold').textContent === 'Remove legal hold'",
        "the hold is applied",
    )
    .await;
    assert_eq!(app.recording(&cc, "ui-call").await["nonDelete"], true);

    // Phone width: the page still works, the table becomes cards.
    browser.set_window_size(390, 844).await.unwrap();
    browser.back().await.unwrap();
    find(&browser, "a[aria-label='Open recording ui-call']").await;
    let header_hidden = script(
        &browser,
        "return document.querySelector('thead').getBoundingClientRect().right <= 0",
    )
    .await;
    assert_eq!(header_hidden, json!(true));
    screenshot(&browser, "search-phone.png").await;

    find(&browser, "#sign-out").await.click().await.unwrap();
    find(&browser, "#password").await;
    browser.close().await.unwrap();
}

#[tokio::test]
async fn the_session_cookie_opens_the_api_and_changes_need_the_ui_header() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &complete_record("cookie-call"))
        .await
        .assert_ok();
    let page = app.anonymous(Method::GET, "/ui/").send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(page.text().await.unwrap().contains("/ui/app.js"));

    let wrong = app
        .anonymous(Method::POST, "/ui/session")
        .json(&json!({"user": "ops", "password": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());

    let signed = app
        .anonymous(Method::POST, "/ui/session")
        .json(&json!({"user": "ops", "password": app.ops_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status().as_u16(), 200);
    let cookie = signed.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();

    let read = app
        .anonymous(
            Method::GET,
            &format!("/api/v2/recordings/cookie-call?contactCenterId={cc}"),
        )
        .header("cookie", &session);
    let read = send(read).await;
    assert_eq!(read.status.as_u16(), 200, "{}", read.text);

    let hold = json!({"operationName": "applyNonDelete"});
    let path = format!("/api/v2/recordings/cookie-call?contactCenterId={cc}");
    let without = app
        .anonymous(Method::POST, &path)
        .header("cookie", &session)
        .json(&hold);
    send(without).await.assert_error(403, 3);
    let with = app
        .anonymous(Method::POST, &path)
        .header("cookie", &session)
        .header("x-gird-ui", "1")
        .json(&hold);
    send(with).await.assert_ok();

    let forged = app
        .anonymous(Method::GET, &path)
        .header("cookie", "gird_ui=99999999999.00ff");
    send(forged).await.assert_unauthorized();
    let out = app
        .anonymous(Method::DELETE, "/ui/session")
        .send()
        .await
        .unwrap();
    let cleared = out.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
}

/// With CSRF protection on, the page sends back the token its GETs received.
#[tokio::test]
async fn the_page_works_with_csrf_protection_on() {
    let app = crate::helpers::AppBuilder::new().csrf().spawn().await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &complete_record("csrf-call"))
        .await
        .assert_ok();
    let driver = Driver::start().await;
    let browser = driver.browser(1024, 800).await;
    let page = format!(
        "{}/ui/#/recording?{}",
        app.address,
        reqwest::Url::parse_with_params("http://x/", [("cc", cc.as_str()), ("id", "csrf-call")])
            .unwrap()
            .query()
            .unwrap()
    );
    browser.goto(&page).await.unwrap();
    find(&browser, "#password")
        .await
        .send_keys(&app.ops_password)
        .await
        .unwrap();
    find(&browser, "form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    find(&browser, "#hold").await.click().await.unwrap();
    wait_until(
        &browser,
        "return document.getElementById('hold').textContent === 'Remove legal hold'",
        "the hold is applied with the CSRF token",
    )
    .await;
    assert_eq!(app.recording(&cc, "csrf-call").await["nonDelete"], true);
    browser.close().await.unwrap();
}
