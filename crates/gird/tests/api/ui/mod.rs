//! The web UI in a real browser: headless Chromium driven through chromedriver (Debian's
//! `chromium` and `chromium-driver`; `scripts/test` installs them). It signs in,
//! searches, opens a recording, plays a media file served by a test WebDAV server, puts
//! the recording on legal hold, shows errors, and saves screenshots under
//! `target/tmp/ui-e2e/`. The browser runs in the America/Los_Angeles time zone, so that
//! a time read in the wrong zone shows. The session cookie and its rules are tested over
//! plain HTTP too.

mod browser;
mod encrypted;
mod errors;
mod search;
mod times;
mod users;

use fantoccini::Client;
use reqwest::Method;
use serde_json::{json, Value};

use crate::body::complete_record;
use crate::helpers::{send, spawn_app};
use crate::webdav::WebDav;
use browser::{
    assert_no_sideways_scroll, find, open_signed_in, play_first_audio, screenshot, script,
    seek_first_audio, set_viewport, tone, wait_for_title, wait_until, Driver, DESKTOP, PHONE,
};

/// A recording whose id, caller number and agent are single long words.
fn long_words_record() -> (String, Value) {
    let id = format!("long-{}", "0123456789abcdef".repeat(8));
    let mut record = complete_record(&id);
    record["callerPhoneNumber"] = json!(format!("+1416{}", "1".repeat(60)));
    record["mediaFiles"][0]["parameters"]["username"] = json!(format!(
        "{}@example.com",
        "a.very.long.agent.name".repeat(4)
    ));
    (id, record)
}

/// Clicks the legal-hold button and answers the in-page confirmation.
async fn hold_and_answer(browser: &Client, confirm: bool) {
    find(browser, "#hold").await.click().await.unwrap();
    find(browser, "dialog#confirm[open]").await;
    let answer = if confirm {
        "#confirm-yes"
    } else {
        "#confirm-no"
    };
    find(browser, answer).await.click().await.unwrap();
    wait_until(
        browser,
        "return document.getElementById('confirm') === null",
        "the confirmation closes",
    )
    .await;
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
    // The sample's pkcs7 is a placeholder, not an envelope: this file is plain.
    record["mediaFiles"][0]
        .as_object_mut()
        .unwrap()
        .remove("pkcs7");
    app.insert(&cc, &record).await.assert_ok();
    app.insert(&cc, &complete_record("other-call"))
        .await
        .assert_ok();
    let (long_id, long_record) = long_words_record();
    app.insert(&cc, &long_record).await.assert_ok();

    let driver = Driver::start().await;
    let browser = driver.browser(DESKTOP).await;
    browser
        .goto(&format!("{}/ui/", app.address))
        .await
        .expect("the UI loads");
    // Whatever the page draws from here on must keep to its Content-Security-Policy.
    script(
        &browser,
        "window.violations = []; document.addEventListener('securitypolicyviolation', e => violations.push(e.violatedDirective + ' ' + e.blockedURI)); return true",
    )
    .await;

    // Sign in: a wrong password first, then the right one.
    find(&browser, "#user")
        .await
        .send_keys(&app.ops_user)
        .await
        .unwrap();
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

    // The page has its icon, served with the page's policy.
    find(&browser, "select#cc").await;
    let icon = script(
        &browser,
        "return fetch(document.querySelector('link[rel=icon]').href).then(r => [r.status, r.headers.get('content-type')])",
    )
    .await;
    assert_eq!(icon, json!([200, "image/svg+xml"]));
    let unfolded = script(
        &browser,
        "return document.querySelector('details.more').open",
    )
    .await;
    assert_eq!(unfolded, json!(true), "every filter shows at desktop width");

    // Search: this contact center, by caller number with a wildcard and by agent.
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
    let columns = script(
        &browser,
        "return [...document.querySelectorAll('thead th')].map(c => c.textContent)",
    )
    .await;
    assert_eq!(
        columns,
        json!([
            "Start",
            "Duration",
            "Caller",
            "Dialed",
            "Agent",
            "Call type",
            "Id",
            "Segments"
        ])
    );
    let cells = script(
        &browser,
        "return [...document.querySelectorAll('tbody tr')].map(r => [...r.cells].map(c => c.textContent))",
    )
    .await;
    let mut ids: Vec<&str> = cells
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[6].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        ["other-call", "ui-call"],
        "calls alike but for their id"
    );
    let row = cells
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row[6] == "ui-call")
        .unwrap();
    assert!(
        row[4].as_str().unwrap().contains("agent.bob@example.com"),
        "{row}"
    );
    assert_eq!(row[5], "Inbound");
    assert_eq!(row[1], "0:59");
    let utc = script(
        &browser,
        "return document.querySelector('tbody time').title",
    )
    .await;
    assert!(
        utc.as_str()
            .unwrap()
            .starts_with("UTC: 2015-06-15 23:59:00Z"),
        "{utc}"
    );
    // At desktop width the start time stays on one line, and the caption names the zone.
    let start_lines = script(
        &browser,
        "return [...document.querySelectorAll('tbody td.start time')].map(t => t.getClientRects().length)",
    )
    .await;
    assert_eq!(start_lines, json!([1, 1]), "Start does not wrap");
    let caption = script(
        &browser,
        "return document.querySelector('caption').innerText",
    )
    .await;
    let caption = caption.as_str().unwrap();
    assert!(
        caption.contains("Times are in America/Los_Angeles; hover one for UTC"),
        "{caption}"
    );
    screenshot(&browser, "search.png").await;

    // Open the recording: details, the timeline with its masked span, the events. The
    // link is looked up again: the results may have been drawn anew since (the contact
    // center's count arrives on its own).
    drop(link);
    find(&browser, "a[aria-label='Open recording ui-call']")
        .await
        .click()
        .await
        .unwrap();
    find(&browser, "audio").await;
    wait_for_title(&browser, "Recording ui-call").await;
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
    let zone = script(&browser, "return document.querySelector('.zone').innerText").await;
    assert!(
        zone.as_str()
            .unwrap()
            .contains("Times are in America/Los_Angeles"),
        "{zone}"
    );

    // Play: the browser streams the file through gird with Range requests.
    let duration = play_first_audio(&browser, "the audio plays").await;
    assert!((duration - 1.0).abs() < 0.05, "{duration}");
    let seen = dav.seen();
    assert!(
        seen.iter().any(|request| request.range.is_some()),
        "the browser asked for ranges: {seen:?}"
    );
    // Seeking asks gird for another range, and plays on from there.
    seek_first_audio(&browser, "the audio plays on after the seek").await;
    script(
        &browser,
        "document.querySelector('.players').scrollIntoView(); return true",
    )
    .await;
    let shot = screenshot(&browser, "recording.png").await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);

    // Legal hold from the page, after a confirmation; cancelling changes nothing.
    hold_and_answer(&browser, false).await;
    assert!(app
        .recording(&cc, "ui-call")
        .await
        .get("nonDelete")
        .is_none());
    assert_eq!(
        script(&browser, "return document.activeElement.id").await,
        json!("hold"),
        "focus is back on the button"
    );
    find(&browser, "#hold").await.click().await.unwrap();
    let question = find(&browser, "dialog#confirm[open]").await;
    assert!(question.text().await.unwrap().contains("cannot be deleted"));
    screenshot(&browser, "hold-confirm.png").await;
    find(&browser, "#confirm-yes").await.click().await.unwrap();
    wait_until(
        &browser,
        "return document.getElementById('hold').textContent === 'Remove legal hold'",
        "the hold is applied",
    )
    .await;
    assert_eq!(app.recording(&cc, "ui-call").await["nonDelete"], true);
    hold_and_answer(&browser, true).await;
    wait_until(
        &browser,
        "return document.getElementById('hold').textContent === 'Apply legal hold'",
        "the hold is removed",
    )
    .await;
    assert!(app
        .recording(&cc, "ui-call")
        .await
        .get("nonDelete")
        .is_none());

    // Phone width: the page still works, the table becomes cards, long words wrap.
    set_viewport(&browser, PHONE).await;
    assert_no_sideways_scroll(&browser, "the recording page at phone width").await;
    browser::scroll_to(&browser, ".players").await;
    screenshot(&browser, "recording-phone.png").await;
    browser.back().await.unwrap();
    find(&browser, "a[aria-label='Open recording ui-call']").await;
    let header_hidden = script(
        &browser,
        "return document.querySelector('thead').getBoundingClientRect().right <= 0",
    )
    .await;
    assert_eq!(header_hidden, json!(true));
    let folded = script(
        &browser,
        "return document.querySelector('details.more').open",
    )
    .await;
    assert_eq!(
        folded,
        json!(false),
        "the other filters are folded at phone width"
    );
    let caption = script(
        &browser,
        "return document.querySelector('caption').innerText",
    )
    .await;
    let caption = caption.as_str().unwrap();
    assert!(
        caption.contains("tap for UTC") && !caption.contains("hover"),
        "{caption}"
    );
    let fits = script(
        &browser,
        "const c = document.querySelector('caption'); return c.scrollWidth <= c.clientWidth",
    )
    .await;
    assert_eq!(fits, json!(true), "the caption fits");
    // Without filters: the recording of long words too.
    browser::navigate(&browser, &format!("/search?cc={cc}"), "Recordings").await;
    find(
        &browser,
        &format!("a[aria-label='Open recording {long_id}']"),
    )
    .await;
    assert_no_sideways_scroll(&browser, "the search page at phone width").await;
    browser::scroll_to(&browser, "#results-title").await;
    screenshot(&browser, "search-phone.png").await;
    find(
        &browser,
        &format!("a[aria-label='Open recording {long_id}']"),
    )
    .await
    .click()
    .await
    .unwrap();
    wait_for_title(&browser, &format!("Recording {long_id}")).await;
    assert_no_sideways_scroll(&browser, "a recording of long words at phone width").await;
    screenshot(&browser, "recording-long-phone.png").await;

    let violations = script(&browser, "return window.violations").await;
    assert_eq!(
        violations,
        json!([]),
        "no Content-Security-Policy violation"
    );

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
    let icon = app
        .anonymous(Method::GET, "/ui/favicon.svg")
        .send()
        .await
        .unwrap();
    assert_eq!(icon.status().as_u16(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert_eq!(icon.headers()["content-security-policy"], policy.as_str());
    assert!(icon.text().await.unwrap().starts_with("<svg"));

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
    let browser = driver.browser(DESKTOP).await;
    open_signed_in(&browser, &app, &browser::recording_hash(&cc, "csrf-call")).await;
    hold_and_answer(&browser, true).await;
    wait_until(
        &browser,
        "return document.getElementById('hold').textContent === 'Remove legal hold'",
        "the hold is applied with the CSRF token",
    )
    .await;
    assert_eq!(app.recording(&cc, "csrf-call").await["nonDelete"], true);
    browser.close().await.unwrap();
}
