//! What the page shows when something is wrong: gird's own message beside a media file
//! that does not play, and an unknown recording alone (never the previous one under it).

use serde_json::json;

use super::browser::{
    assert_no_sideways_scroll, find, navigate, open_signed_in, recording_hash, screenshot, script,
    set_viewport, tone, wait_for_title, wait_until, Driver, DESKTOP, PHONE,
};
use crate::body::complete_record;
use crate::helpers::spawn_app;
use crate::webdav::WebDav;

#[tokio::test]
async fn the_page_says_why_a_file_does_not_play_and_that_a_recording_does_not_exist() {
    let dav = WebDav::start().await;
    dav.put_file("calls/here.wav", &tone());
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.put_storage(&cc, &dav.storage(None)).await.assert_ok();
    let mut record = complete_record("half-gone");
    // The sample's pkcs7 is a placeholder, not an envelope: these files are plain.
    record["mediaFiles"][0]
        .as_object_mut()
        .unwrap()
        .remove("pkcs7");
    let mut second = record["mediaFiles"][0].clone();
    record["mediaFiles"][0]["mediaDescriptor"]["path"] = json!("calls/here.wav");
    record["mediaFiles"][0]["type"] = json!("audio/wav");
    second["mediaId"] = json!("half-gone-media-2");
    second["startTime"] = json!("2015-06-16T00:00:00.000Z");
    second["stopTime"] = json!("2015-06-16T00:00:30.000Z");
    second["mediaDescriptor"]["path"] = json!("calls/gone.wav");
    second["type"] = json!("audio/wav");
    record["mediaFiles"].as_array_mut().unwrap().push(second);
    app.insert(&cc, &record).await.assert_ok();

    let driver = Driver::start().await;
    let browser = driver.browser(DESKTOP).await;
    open_signed_in(&browser, &app, &recording_hash(&cc, "half-gone")).await;
    wait_for_title(&browser, "Recording half-gone").await;
    find(&browser, "audio").await;

    // The second file is missing on WebDAV: the player fails, the page reads why.
    let played = script(
        &browser,
        "return document.querySelectorAll('audio')[1].play().then(() => 'playing', e => 'refused: ' + e.name)",
    )
    .await;
    assert!(played.as_str().unwrap().starts_with("refused"), "{played}");
    wait_until(
        &browser,
        "return document.getElementById('play-error-1').textContent.length > 0",
        "the playback error is shown",
    )
    .await;
    let problem = script(
        &browser,
        "const p = document.getElementById('play-error-1'); return [p.textContent, p.getAttribute('role'), document.querySelectorAll('audio')[1].getAttribute('aria-describedby')]",
    )
    .await;
    assert_eq!(
        problem,
        json!([
            "Segment 2 cannot be played: media file not found on WebDAV",
            "alert",
            "play-error-1"
        ])
    );
    let asked = dav.seen();
    assert!(
        asked
            .iter()
            .any(|seen| seen.path.ends_with("calls/gone.wav")
                && seen.range.as_deref() == Some("bytes=0-0")),
        "the page asked for one byte to read the message: {asked:?}"
    );
    // The file that is there still plays.
    let played = script(
        &browser,
        "return document.querySelectorAll('audio')[0].play().then(() => 'playing', e => 'refused: ' + e.name)",
    )
    .await;
    assert_eq!(played, "playing");
    assert_eq!(
        script(
            &browser,
            "return document.getElementById('play-error-0').textContent"
        )
        .await,
        ""
    );
    script(
        &browser,
        "document.getElementById('play-error-1').scrollIntoView({block: 'center'}); return true",
    )
    .await;
    screenshot(&browser, "recording-missing-media.png").await;
    set_viewport(&browser, PHONE).await;
    assert_no_sideways_scroll(&browser, "the playback error at phone width").await;
    script(
        &browser,
        "document.getElementById('play-error-1').scrollIntoView({block: 'center'}); return true",
    )
    .await;
    screenshot(&browser, "recording-missing-media-phone.png").await;

    // An unknown id, opened from that page: its error, and nothing of the page before.
    navigate(
        &browser,
        &recording_hash(&cc, "no-such-call"),
        "Recording no-such-call",
    )
    .await;
    let failure = find(&browser, "main .failure[role=alert]").await;
    let message = failure.text().await.unwrap();
    assert!(
        message.starts_with("This recording cannot be opened: ")
            && message.contains("\"no-such-call\" does not exist"),
        "{message}"
    );
    let leftovers = script(
        &browser,
        "return document.querySelectorAll('main audio, main dl, main .timeline, main #hold').length",
    )
    .await;
    assert_eq!(leftovers, 0, "the previous recording is gone");
    let back = script(
        &browser,
        "return document.querySelector('main a').getAttribute('href')",
    )
    .await;
    assert_eq!(back, json!(format!("#/search?cc={cc}")));
    assert_no_sideways_scroll(&browser, "the unknown recording at phone width").await;
    screenshot(&browser, "recording-unknown-phone.png").await;
    set_viewport(&browser, DESKTOP).await;
    screenshot(&browser, "recording-unknown.png").await;

    // A recording found again after the error shows whole.
    navigate(
        &browser,
        &recording_hash(&cc, "half-gone"),
        "Recording half-gone",
    )
    .await;
    find(&browser, "#hold").await;
    assert_eq!(
        script(
            &browser,
            "return document.querySelectorAll('main .failure:not(:empty)').length"
        )
        .await,
        0
    );
    browser.close().await.unwrap();
}
