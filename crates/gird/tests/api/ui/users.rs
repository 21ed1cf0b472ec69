//! The web UI as a restricted supervisor: signed in as a user, the page offers only their
//! contact center, lists only the recordings they may see, plays those, leaves out the
//! actions their roles do not allow and the ops-only details, and a recording they may
//! not see is as unknown as one that does not exist.

use reqwest::Method;
use serde_json::{json, Value};

use super::browser::{
    find, open_signed_in_as, play_first_audio, recording_hash, screenshot, script, tone,
    wait_for_title, wait_until, Driver, DESKTOP,
};
use crate::body::complete_record;
use crate::helpers::{send, spawn_app};
use crate::webdav::WebDav;

const PASSWORD: &str = "Supervisor-pass-7";

/// A playable recording of `agent` in `groups` and `partitions`.
fn recording(id: &str, agent: &str, groups: &[&str], partitions: &[&str]) -> Value {
    let mut record = complete_record(id);
    let media = &mut record["mediaFiles"][0];
    // The sample's pkcs7 is a placeholder, not an envelope: this file is plain.
    media.as_object_mut().unwrap().remove("pkcs7");
    media["mediaDescriptor"]["path"] = json!("calls/tone.wav");
    media["type"] = json!("audio/wav");
    media["parameters"]["username"] = json!(agent);
    media["accessgroups"] = json!(groups);
    media["partitions"] = json!(partitions);
    record
}

#[tokio::test]
async fn a_restricted_supervisor_sees_and_plays_only_their_recordings_in_chromium() {
    let dav = WebDav::start().await;
    dav.put_file("calls/tone.wav", &tone());
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.put_storage(&cc, &dav.storage(None)).await.assert_ok();
    let theirs = recording("sales-east", "bob", &["/Sales/East"], &["/emea"]);
    app.insert(&cc, &theirs).await.assert_ok();
    let support = recording("support-call", "bob", &["/Support"], &["/emea"]);
    app.insert(&cc, &support).await.assert_ok();
    let apac = recording("sales-apac", "bob", &["/Sales"], &["/apac"]);
    app.insert(&cc, &apac).await.assert_ok();
    let other = app.ready_contact_center().await;
    let foreign = recording("foreign", "bob", &["/Sales"], &["/emea"]);
    app.insert(&other, &foreign).await.assert_ok();
    let created = send(
        app.request(
            Method::POST,
            &format!("/api/v2/ops/contact-centers/{cc}/users"),
        )
        .json(
            &json!({"userName": "sam", "password": PASSWORD, "roles": ["Supervisor"],
            "accessGroups": ["/Sales"], "partitions": ["/emea"]}),
        ),
    )
    .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.text);

    let driver = Driver::start().await;
    let browser = driver.browser(DESKTOP).await;
    open_signed_in_as(&browser, &app, "/search", "sam", PASSWORD).await;
    let who = script(
        &browser,
        "return document.getElementById('who').textContent",
    )
    .await;
    assert_eq!(who, json!("Signed in as sam (Supervisor)"));

    // Only their contact center to choose, and no ops-only count beside it.
    let options = script(
        &browser,
        "return [...document.querySelectorAll('select#cc option')].map(o => o.value)",
    )
    .await;
    assert_eq!(options, json!([cc]));
    find(&browser, "form[role=search] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    find(&browser, "a[aria-label='Open recording sales-east']").await;
    let ids = script(
        &browser,
        "return [...document.querySelectorAll('tbody tr')].map(r => r.cells[6].textContent)",
    )
    .await;
    assert_eq!(ids, json!(["sales-east"]), "only what sam may see");
    let count = script(
        &browser,
        "return document.getElementById('cc-count').textContent",
    )
    .await;
    assert_eq!(count, json!(""), "the count is the ops user's alone");
    screenshot(&browser, "supervisor-search.png").await;

    // Their recording opens and plays; the legal hold is shown but not offered (a
    // supervisor needs RECORDING_PERMISSION_APPLY_NON_DELETE), and the SpeechMiner
    // delivery, an ops detail, is left out.
    find(&browser, "a[aria-label='Open recording sales-east']")
        .await
        .click()
        .await
        .unwrap();
    wait_for_title(&browser, "Recording sales-east").await;
    find(&browser, "audio").await;
    let shown = script(
        &browser,
        "return [document.getElementById('hold') === null, [...document.querySelectorAll('dt')].map(d => d.textContent)]",
    )
    .await;
    assert_eq!(shown[0], json!(true), "no legal-hold button");
    let terms = shown[1].as_array().unwrap();
    assert!(terms.contains(&json!("Legal hold")), "{terms:?}");
    assert!(!terms.contains(&json!("SpeechMiner")), "{terms:?}");
    play_first_audio(&browser, "the audio plays").await;
    screenshot(&browser, "supervisor-recording.png").await;

    // A recording of another group, by its address: as unknown as a missing one.
    for (id, cc) in [("support-call", &cc), ("foreign", &other), ("nothing", &cc)] {
        script(
            &browser,
            &format!(
                "location.hash = {}; return true",
                json!(format!("#{}", recording_hash(cc, id)))
            ),
        )
        .await;
        wait_for_title(&browser, &format!("Recording {id}")).await;
        wait_until(
            &browser,
            "return document.querySelector('.failure') !== null",
            &format!("{id} cannot be opened"),
        )
        .await;
        let page = script(&browser, "return document.getElementById('main').innerText").await;
        let page = page.as_str().unwrap();
        assert!(page.contains("cannot be opened"), "{id}: {page}");
        assert!(
            !page.contains("bob") && !page.contains("/Support"),
            "{id} reveals nothing: {page}"
        );
    }
    browser.close().await.unwrap();

    // The playback is in the recording's access history, as sam's.
    let history = send(app.request(
        Method::GET,
        &format!("/api/v2/ops/contact-centers/{cc}/recordings/sales-east/access"),
    ))
    .await
    .json();
    let entries = history["access"].as_array().expect("an access list");
    assert!(
        entries
            .iter()
            .any(|entry| entry["user"] == "sam" && entry["action"] == "play"),
        "{history}"
    );
}
