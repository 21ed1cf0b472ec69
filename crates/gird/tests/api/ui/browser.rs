//! Headless Chromium through chromedriver for the UI tests, and what they do with it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::sync::{Mutex, MutexGuard};
use tokio::time::{sleep, Instant};

use crate::helpers::{TestApp, PATIENCE};

/// The browser's time zone: not UTC, so that a time read in the wrong zone shows (in
/// June 2015 it is UTC-7).
pub const TIME_ZONE: &str = "America/Los_Angeles";
pub const DESKTOP: (u32, u32) = (1280, 1000);
pub const PHONE: (u32, u32) = (390, 844);

/// One browser at a time: the API tests run in parallel, and several Chromiums on a
/// small machine make every wait slow.
static ONE_BROWSER: Mutex<()> = Mutex::const_new(());

/// A running chromedriver (killed when dropped) in [`TIME_ZONE`].
pub struct Driver {
    url: String,
    _child: Child,
    _turn: MutexGuard<'static, ()>,
}

impl Driver {
    pub async fn start() -> Driver {
        let turn = ONE_BROWSER.lock().await;
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            listener.local_addr().unwrap().port()
        };
        // Chromium inherits the driver's environment, TZ included.
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .env("TZ", TIME_ZONE)
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
            _turn: turn,
        }
    }

    pub async fn browser(&self, (width, height): (u32, u32)) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--autoplay-policy=no-user-gesture-required", "--mute-audio", "--lang=en-US",
                    format!("--window-size={width},{height}"),
                ]
            }),
        );
        // chromedriver is on loopback: plain HTTP, no TLS stack needed.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let browser = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session");
        // The window size flag sets the window; the page's viewport is what matters.
        set_viewport(&browser, (width, height)).await;
        browser
    }
}

/// Resizes the window and checks that the page's viewport is `width` wide.
pub async fn set_viewport(browser: &Client, (width, height): (u32, u32)) {
    browser.set_window_size(width, height).await.unwrap();
    let inner = script(browser, "return window.innerWidth").await;
    assert_eq!(inner, json!(width), "the viewport is as wide as the window");
}

fn output_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui-e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Scrolls the first element `css` selects into view (for a screenshot).
pub async fn scroll_to(browser: &Client, css: &str) {
    let code = "document.querySelector(arguments[0]).scrollIntoView({block: 'start'}); return true";
    script_with(browser, code, vec![json!(css)]).await;
}

pub async fn screenshot(browser: &Client, name: &str) -> PathBuf {
    let png = browser.screenshot().await.expect("a screenshot");
    let path = output_dir().join(name);
    std::fs::write(&path, png).unwrap();
    path
}

/// Waits for an element, up to the tests' patience.
pub async fn find(browser: &Client, css: &str) -> Element {
    match browser
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
    {
        Ok(element) => element,
        Err(error) => {
            let page = browser.source().await.unwrap_or_default();
            let status = script(
                browser,
                "return document.getElementById('status').textContent",
            )
            .await;
            screenshot(browser, "failure.png").await;
            panic!("no {css:?} on the page ({error}); status {status}; page: {page}")
        }
    }
}

pub async fn script(browser: &Client, code: &str) -> Value {
    browser
        .execute(code, vec![])
        .await
        .expect("the script runs")
}

/// Runs `code` with `args` (`arguments[0]`, ...).
pub async fn script_with(browser: &Client, code: &str, args: Vec<Value>) -> Value {
    browser.execute(code, args).await.expect("the script runs")
}

/// Asks `code` again every 100 ms until it answers true; fails naming `what` and the last
/// answer when it has not within the tests' patience.
pub async fn wait_until(browser: &Client, code: &str, what: &str) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let value = script(browser, code).await;
        if value.as_bool() == Some(true) {
            return value;
        }
        if Instant::now() >= deadline {
            screenshot(browser, "failure.png").await;
            panic!("{what}: not within {PATIENCE:?} (the check answers {value})");
        }
        sleep(Duration::from_millis(100)).await;
    }
}

/// Plays the page's first audio player and waits until it has played 0.2 s; answers its
/// duration in seconds.
pub async fn play_first_audio(browser: &Client, what: &str) -> f64 {
    let played = script(
        browser,
        "return document.querySelector('audio').play().then(() => 'playing', e => 'error: ' + e.message)",
    )
    .await;
    assert_eq!(played, json!("playing"), "{what}");
    wait_until(
        browser,
        "const a = document.querySelector('audio'); return a.currentTime > 0.2 || a.ended",
        what,
    )
    .await;
    script(browser, "return document.querySelector('audio').duration")
        .await
        .as_f64()
        .expect("a duration")
}

/// Seeks the first audio player to 0.6 s and waits until it plays on from there, without
/// a playback error shown.
pub async fn seek_first_audio(browser: &Client, what: &str) {
    script(
        browser,
        "const a = document.querySelector('audio'); a.pause(); a.currentTime = 0.6; return a.play().then(() => true)",
    )
    .await;
    wait_until(
        browser,
        "const a = document.querySelector('audio'); return a.currentTime > 0.65 || a.ended",
        what,
    )
    .await;
    assert_eq!(
        script(
            browser,
            "return document.querySelector('.play-error').textContent"
        )
        .await,
        json!(""),
        "no playback error: {what}"
    );
}

/// Opens the page at `#hash` (e.g. `/recording?cc=a&id=b`) and signs in as the ops user.
pub async fn open_signed_in(browser: &Client, app: &TestApp, hash: &str) {
    open_signed_in_as(browser, app, hash, &app.ops_user, &app.ops_password).await;
}

/// Opens the page at `#hash` and signs in as `user`.
pub async fn open_signed_in_as(
    browser: &Client,
    app: &TestApp,
    hash: &str,
    user: &str,
    password: &str,
) {
    browser
        .goto(&format!("{}/ui/#{hash}", app.address))
        .await
        .expect("the UI loads");
    find(browser, "#user").await.send_keys(user).await.unwrap();
    find(browser, "#password")
        .await
        .send_keys(password)
        .await
        .unwrap();
    find(browser, "form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    find(browser, "#account:not([hidden])").await;
}

/// Goes to `#hash` within the page, as a link does (no reload), and waits for the page
/// titled `title`.
pub async fn navigate(browser: &Client, hash: &str, title: &str) {
    script_with(
        browser,
        "location.hash = arguments[0]; return true",
        vec![json!(hash)],
    )
    .await;
    wait_for_title(browser, title).await;
}

/// Waits until the page's heading is `title`.
pub async fn wait_for_title(browser: &Client, title: &str) {
    let check = format!(
        "const t = document.getElementById('title'); return t !== null && t.textContent === {}",
        json!(title)
    );
    wait_until(browser, &check, &format!("the page {title:?}")).await;
}

/// The hash of the recording page of `id` in `cc`.
pub fn recording_hash(cc: &str, id: &str) -> String {
    let query = reqwest::Url::parse_with_params("http://x/", [("cc", cc), ("id", id)]).unwrap();
    format!("/recording?{}", query.query().unwrap())
}

/// Asserts that the page does not scroll sideways: its width is at most the viewport's,
/// the vertical scroll bar left out.
pub async fn assert_no_sideways_scroll(browser: &Client, what: &str) {
    let widths = script(
        browser,
        "const root = document.documentElement; return [root.scrollWidth, root.clientWidth, window.innerWidth]",
    )
    .await;
    let (scroll, inner) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
    assert!(inner <= widths[2].as_u64().unwrap(), "{widths}");
    if scroll > inner {
        screenshot(browser, "failure.png").await;
        let wide = script(
            browser,
            "const width = document.documentElement.clientWidth; return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > width || e.scrollWidth > e.clientWidth + 1).slice(-3).map(e => e.outerHTML.slice(0, 200))",
        )
        .await;
        panic!("{what} scrolls sideways: {scroll} > {inner} px; too wide: {wide}");
    }
}

/// One second of a 440 Hz tone: 8 kHz, 16-bit mono PCM in a WAV file.
pub fn tone() -> Vec<u8> {
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
