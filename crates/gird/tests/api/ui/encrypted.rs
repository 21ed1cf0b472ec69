//! An encrypted segment in the browser: marked as encrypted, and it plays and seeks like
//! any other (gird decrypts the ranges the player asks for).

use serde_json::json;
use tempfile::TempDir;

use super::browser::{
    find, open_signed_in, play_first_audio, recording_hash, screenshot, script, scroll_to,
    seek_first_audio, tone, wait_for_title, Driver, DESKTOP,
};
use crate::body::complete_record;
use crate::client::send;
use crate::cms_fixture::Pki;
use crate::helpers::spawn_app;
use crate::webdav::WebDav;

#[tokio::test]
async fn an_encrypted_segment_is_marked_and_plays_in_chromium() {
    let pki = Pki::new();
    let rcs = pki.recipient("rcs-ui", "0e0e");
    let work = TempDir::new().unwrap();
    let plain = work.path().join("tone.wav");
    std::fs::write(&plain, tone()).unwrap();
    let cipher = work.path().join("tone.wav.bin");
    let pkcs7 = pki.seal(&plain, &cipher, &[&rcs]);
    let dav = WebDav::start().await;
    dav.put_file("calls/tone.wav.bin", &std::fs::read(&cipher).unwrap());
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.put_storage(&cc, &dav.storage(None)).await.assert_ok();
    let keys = format!("/api/v2/ops/contact-centers/{cc}/decryption-keys");
    let added = send(
        app.request(reqwest::Method::POST, &keys)
            .json(&rcs.keys_body("rcs-ui")),
    )
    .await;
    assert_eq!(added.status.as_u16(), 201, "{}", added.text);
    let mut record = complete_record("ui-encrypted");
    record["mediaFiles"][0]["mediaDescriptor"]["path"] = json!("calls/tone.wav.bin");
    record["mediaFiles"][0]["type"] = json!("audio/wav");
    record["mediaFiles"][0]["pkcs7"] = json!(pkcs7);
    app.insert(&cc, &record).await.assert_ok();

    let driver = Driver::start().await;
    let browser = driver.browser(DESKTOP).await;
    open_signed_in(&browser, &app, &recording_hash(&cc, "ui-encrypted")).await;
    wait_for_title(&browser, "Recording ui-encrypted").await;
    find(&browser, "audio").await;
    let marked = script(
        &browser,
        "const b = document.querySelector('.players h3 .badge.encrypted'); \
         return [b && b.textContent, document.querySelector('audio').getAttribute('aria-label')]",
    )
    .await;
    assert_eq!(marked, json!(["encrypted", "Play segment 1 (encrypted)"]));
    scroll_to(&browser, ".players").await;
    screenshot(&browser, "encrypted.png").await;

    let duration = play_first_audio(&browser, "the decrypted audio plays").await;
    assert!(
        (duration - 1.0).abs() < 0.05,
        "the plaintext's duration: {duration}"
    );
    seek_first_audio(&browser, "the decrypted audio plays on after the seek").await;
    let seen = dav.seen();
    assert!(
        seen.iter().any(|request| request.range.is_some()),
        "gird fetched ciphertext ranges: {seen:?}"
    );
}
