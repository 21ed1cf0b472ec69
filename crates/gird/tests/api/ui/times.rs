//! The page shows the instants gird read in each time (the view's `...Ms` fields), in
//! the browser's time zone or in UTC; it never parses a time text itself. The public
//! sample's times have no offset: gird reads them as UTC, a browser's `Date.parse` as
//! local time, which put Start seven hours from Segment 1 in Los Angeles.

use serde_json::{json, Value};

use super::browser::{
    find, navigate, open_signed_in, recording_hash, screenshot, script, script_with,
    wait_for_title, wait_until, Driver, DESKTOP, TIME_ZONE,
};
use crate::body::sample;
use crate::helpers::spawn_app;

/// `[datetime, text, title]` of every `<time>` under `css`.
const TIMES: &str = "return [...document.querySelectorAll(arguments[0])].map(t => [t.dateTime, t.textContent, t.title])";

async fn times(browser: &fantoccini::Client, css: &str) -> Vec<Value> {
    let found = script_with(browser, TIMES, vec![json!(css)]).await;
    found.as_array().unwrap().clone()
}

fn assert_shows(time: &Value, instant: &str, text: &str) {
    assert_eq!(time[0], instant, "{time}");
    let shown = time[1].as_str().unwrap();
    assert!(
        shown.contains(text),
        "{instant} shown as {shown:?}, not {text}"
    );
}

/// The `left` and `width` (percent of the track) of the timeline's `css` boxes.
async fn placement(browser: &fantoccini::Client, css: &str) -> Vec<(f64, f64)> {
    let code = "return [...document.querySelectorAll(arguments[0])].map(e => [parseFloat(e.style.left), parseFloat(e.style.width || '0')])";
    let found = script_with(browser, code, vec![json!(css)]).await;
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair[0].as_f64().unwrap(), pair[1].as_f64().unwrap()))
        .collect()
}

fn assert_near(found: (f64, f64), expected: (f64, f64), what: &str) {
    let close = (found.0 - expected.0).abs() < 0.2 && (found.1 - expected.1).abs() < 0.2;
    assert!(close, "{what}: {found:?}, expected {expected:?}");
}

#[tokio::test]
async fn the_page_shows_the_instants_gird_read_in_the_browsers_time_zone() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &sample()).await.assert_ok();
    let driver = Driver::start().await;
    let browser = driver.browser(DESKTOP).await;
    open_signed_in(&browser, &app, &recording_hash(&cc, "alex-test-id")).await;
    wait_for_title(&browser, "Recording alex-test-id").await;

    // The browser really is elsewhere than UTC: UTC-7 in June 2015.
    let zone = script(
        &browser,
        "return [new Date(2015, 5, 15).getTimezoneOffset(), new Date().getTimezoneOffset(), Intl.DateTimeFormat().resolvedOptions().timeZone]",
    )
    .await;
    assert_eq!(zone[0], 420, "{zone}");
    assert_ne!(zone[1], 0, "{zone}");
    assert_eq!(zone[2], TIME_ZONE);
    let note = script(&browser, "return document.querySelector('.zone').innerText").await;
    assert!(
        note.as_str()
            .unwrap()
            .contains("Times are in America/Los_Angeles"),
        "{note}"
    );

    // Start and Stop are the earliest start and latest stop, 23:58:00Z and 23:59:59Z,
    // and Start is the first segment's start.
    let details = times(&browser, "dl.panel time").await;
    assert_shows(&details[0], "2015-06-15T23:58:00.000Z", "4:58:00");
    assert!(details[0][1].as_str().unwrap().contains("Jun 15, 2015"));
    assert_shows(&details[1], "2015-06-15T23:59:59.000Z", "4:59:59");
    let segments = times(&browser, ".players time").await;
    assert_eq!(
        (&segments[0][0], &segments[0][1]),
        (&details[0][0], &details[0][1]),
        "Start is Segment 1's start"
    );
    assert_shows(&segments[1], "2015-06-15T23:58:59.000Z", "4:58:59");
    assert_shows(&segments[2], "2015-06-15T23:59:00.000Z", "4:59:00");
    let title = segments[2][2].as_str().unwrap();
    assert!(
        title.contains("UTC: 2015-06-15 23:59:00Z")
            && title.contains("sent as 2015-06-15T23:59:00.000"),
        "{title}"
    );
    let duration = script(
        &browser,
        "return [...document.querySelectorAll('dl.panel dt')].find(dt => dt.textContent === 'Duration').nextElementSibling.textContent",
    )
    .await;
    assert_eq!(duration, "1:59");

    // Events in time order: Joined (offset-less, 23:58:00) before Data (23:58:30+0000).
    let events = script(
        &browser,
        "return [...document.querySelectorAll('table.events tbody tr')].map(r => r.cells[1].textContent)",
    )
    .await;
    assert_eq!(events, json!(["Joined", "Data"]));
    let event_times = times(&browser, "table.events time").await;
    assert_shows(&event_times[0], "2015-06-15T23:58:00.000Z", "4:58:00");
    assert_shows(&event_times[1], "2015-06-15T23:58:30.000Z", "4:58:30");

    // The timeline spans 23:58:00 to 23:59:59 (119 s): two segments of 59 s side by
    // side, Joined at its start, Data 30 s in.
    let percent = |seconds: f64| seconds / 119.0 * 100.0;
    let bars = placement(&browser, ".track .segment").await;
    assert_eq!(bars.len(), 2);
    assert_near(bars[0], (0.0, percent(59.0)), "segment 1");
    assert_near(bars[1], (percent(60.0), percent(59.0)), "segment 2");
    let markers = placement(&browser, ".track .event").await;
    assert_near(markers[0], (0.0, 0.0), "Joined");
    assert_near(markers[1], (percent(30.0), 0.0), "Data");
    let kinds = script(
        &browser,
        "return [...document.querySelectorAll('.track .event')].map(e => e.className)",
    )
    .await;
    assert_eq!(kinds, json!(["event joined", "event data"]));
    // Segment 2 is paused from 23:59:10.034 to its end (its resume is dated 2013).
    let masks = placement(&browser, ".segment .mask").await;
    assert_eq!(masks.len(), 1);
    assert_near(
        masks[0],
        (10.034 / 59.0 * 100.0, 48.966 / 59.0 * 100.0),
        "the paused span",
    );
    screenshot(&browser, "recording-sample.png").await;

    // UTC at a click, remembered over a reload, and back.
    find(&browser, ".zone-toggle").await.click().await.unwrap();
    wait_until(
        &browser,
        "const t = document.querySelector('dl.panel time'); return t !== null && t.textContent.includes('11:58:00')",
        "the times are in UTC",
    )
    .await;
    let note = script(&browser, "return document.querySelector('.zone').innerText").await;
    assert!(
        note.as_str().unwrap().contains("Times are in UTC"),
        "{note}"
    );
    let focused = script(&browser, "return document.activeElement.className").await;
    assert!(
        focused.as_str().unwrap().contains("zone-toggle"),
        "{focused}"
    );
    browser.refresh().await.unwrap();
    wait_for_title(&browser, "Recording alex-test-id").await;
    assert_shows(
        &times(&browser, "dl.panel time").await[0],
        "2015-06-15T23:58:00.000Z",
        "11:58:00",
    );
    find(&browser, ".zone-toggle").await.click().await.unwrap();
    wait_until(
        &browser,
        "const t = document.querySelector('dl.panel time'); return t !== null && t.textContent.includes('4:58:00')",
        "the times are local again",
    )
    .await;

    // The search shows the same instants, and its window is in the zone it names.
    navigate(&browser, &format!("/search?cc={cc}"), "Recordings").await;
    find(&browser, "a[aria-label='Open recording alex-test-id']").await;
    assert_shows(
        &times(&browser, "tbody time").await[0],
        "2015-06-15T23:58:00.000Z",
        "4:58:00",
    );
    let label = script(
        &browser,
        "return document.querySelector('label[for=from]').textContent",
    )
    .await;
    assert_eq!(label, "From (America/Los_Angeles)");
    search_from(&browser, "2015-06-15T16:58").await;
    find(&browser, "a[aria-label='Open recording alex-test-id']").await;
    let hash = script(&browser, "return location.hash").await;
    assert!(
        hash.as_str().unwrap().contains("from=1434412680000"),
        "16:58 in Los Angeles is 23:58Z: {hash}"
    );
    let shown = script(&browser, "return document.getElementById('from').value").await;
    assert_eq!(shown, "2015-06-15T16:58");
    search_from(&browser, "2015-06-15T17:00").await;
    wait_until(
        &browser,
        "const s = document.querySelector('section'); return s !== null && s.textContent.includes('No recording matches')",
        "17:00 in Los Angeles is after the call",
    )
    .await;
    browser.close().await.unwrap();
}

/// Searches from `local` (a `datetime-local` value) on, and waits for the new page.
async fn search_from(browser: &fantoccini::Client, local: &str) {
    // The old form is marked, so that the wait sees the one the search draws.
    let code = "const from = document.getElementById('from'); from.dataset.old = 'yes'; from.value = arguments[0]; document.querySelector('form[role=search] button[type=submit]').click(); return true";
    script_with(browser, code, vec![json!(local)]).await;
    let check = format!(
        "const from = document.getElementById('from'); return from !== null && !from.dataset.old && document.getElementById('status').textContent.endsWith('on this page.') && from.value === {}",
        json!(local)
    );
    wait_until(browser, &check, "the search is done").await;
}
