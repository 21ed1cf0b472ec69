//! The search form: its filters (call UUID, recording id, region, partition), the
//! contact center it remembers, and the contact center's recording count when the
//! server gives one.

use fantoccini::Client;
use serde_json::{json, Value};

use super::browser::{
    find, open_signed_in, screenshot, script, script_with, wait_until, Driver, DESKTOP,
};
use crate::body::complete_record;
use crate::helpers::spawn_app;

const FILTERS: [&str; 10] = [
    "caller",
    "dialed",
    "agent",
    "callType",
    "callUUID",
    "id",
    "region",
    "partition",
    "from",
    "to",
];

/// Fills the form with `filters` alone, searches, and answers the ids on the new page.
async fn search_with(browser: &Client, filters: &[(&str, &str)]) -> Vec<String> {
    let values: serde_json::Map<String, Value> = FILTERS
        .iter()
        .map(|name| {
            let value = filters.iter().find(|(n, _)| n == name).map_or("", |f| f.1);
            (name.to_string(), json!(value))
        })
        .collect();
    // The old form is marked, so that the wait sees the page the search draws.
    let fill = "const values = arguments[0]; for (const [name, value] of Object.entries(values)) document.getElementById(name).value = value; document.getElementById('cc').dataset.old = 'yes'; document.querySelector('form[role=search] button[type=submit]').click(); return true";
    script_with(browser, fill, vec![Value::Object(values)]).await;
    wait_until(
        browser,
        "const cc = document.getElementById('cc'); return cc !== null && !cc.dataset.old && document.getElementById('status').textContent.endsWith('on this page.')",
        "the search is done",
    )
    .await;
    let ids = script(
        browser,
        "return [...document.querySelectorAll('tbody td.id')].map(c => c.textContent)",
    )
    .await;
    serde_json::from_value(ids).unwrap()
}

#[tokio::test]
async fn the_search_filters_by_call_id_region_and_partition_and_keeps_the_contact_center() {
    let app = spawn_app().await;
    let first = app.ready_contact_center().await;
    let second = app.ready_contact_center().await;
    let ccs = [first.as_str(), second.as_str()];
    let mut west = complete_record("f-west");
    west["mediaFiles"][0]["partitions"] = json!(["partition-1"]);
    let mut east = complete_record("f-east");
    east["region"] = json!("Can-East");
    east["mediaFiles"][0]["partitions"] = json!(["partition-2"]);
    for cc in ccs {
        app.insert(cc, &west).await.assert_ok();
        app.insert(cc, &east).await.assert_ok();
    }
    app.insert(&first, &complete_record("f-elsewhere"))
        .await
        .assert_ok();

    let driver = Driver::start().await;
    let browser = driver.browser(DESKTOP).await;
    open_signed_in(&browser, &app, "/").await;
    find(&browser, "select#cc").await;
    let options = script(
        &browser,
        "return [...document.getElementById('cc').options].map(o => o.value)",
    )
    .await;
    let options: Vec<String> = serde_json::from_value(options).unwrap();
    assert!(
        ccs.iter().all(|cc| options.iter().any(|o| o == cc)),
        "{options:?}"
    );
    let current = script(&browser, "return document.getElementById('cc').value").await;
    assert_eq!(current, json!(options[0]), "the first one to begin with");
    let chosen = if options[0] == second {
        &first
    } else {
        &second
    }
    .clone();
    script_with(
        &browser,
        "const select = document.getElementById('cc'); select.value = arguments[0]; select.dispatchEvent(new Event('change')); return true",
        vec![json!(chosen)],
    )
    .await;

    // Each filter, alone, in the chosen contact center.
    let mut both = search_with(&browser, &[]).await;
    both.sort();
    assert_eq!(both, ["f-east", "f-west"], "not f-elsewhere");
    assert_eq!(
        search_with(&browser, &[("callUUID", "f-east-call")]).await,
        ["f-east"]
    );
    let hash = script(&browser, "return location.hash").await;
    assert!(
        hash.as_str().unwrap().contains("callUUID=f-east-call"),
        "{hash}"
    );
    assert_eq!(
        search_with(&browser, &[("region", "Can-East")]).await,
        ["f-east"]
    );
    assert_eq!(
        search_with(&browser, &[("partition", "partition-1")]).await,
        ["f-west"]
    );
    screenshot(&browser, "search-filtered.png").await;

    // A recording id finds that recording, in this contact center only.
    assert_eq!(search_with(&browser, &[("id", "f-west")]).await, ["f-west"]);
    let caption = script(
        &browser,
        "return document.querySelector('caption').innerText",
    )
    .await;
    assert!(
        caption
            .as_str()
            .unwrap()
            .starts_with("The recording with this id."),
        "{caption}"
    );
    assert!(search_with(&browser, &[("id", "f-elsewhere")])
        .await
        .is_empty());
    let none = script(
        &browser,
        "return document.querySelector('section').textContent",
    )
    .await;
    assert!(
        none.as_str()
            .unwrap()
            .contains(&format!("No recording has the id f-elsewhere in {chosen}.")),
        "{none}"
    );

    // A new visit starts on the contact center of the last one.
    browser.goto(&format!("{}/ui/", app.address)).await.unwrap();
    find(&browser, "select#cc").await;
    let current = script(&browser, "return document.getElementById('cc').value").await;
    assert_eq!(current, json!(chosen), "the contact center is remembered");

    // The contact center's recordingCount (kept by the server) is shown beside it.
    let view = crate::helpers::send(app.request(
        reqwest::Method::GET,
        &format!("/api/v2/ops/contact-centers/{chosen}"),
    ))
    .await
    .json();
    let count = view["contactCenter"]["recordingCount"]
        .as_u64()
        .expect("a count");
    let expected = if count == 1 {
        "1 recording".to_owned()
    } else {
        format!("{count} recordings")
    };
    wait_until(
        &browser,
        &format!(
            "const hint = document.getElementById('cc-count'); return hint !== null && hint.textContent === {}",
            json!(expected)
        ),
        "the count is shown",
    )
    .await;
    let described = script(
        &browser,
        "return document.getElementById('cc').getAttribute('aria-describedby')",
    )
    .await;
    assert_eq!(described, "cc-count");
    screenshot(&browser, "search-count.png").await;
    browser.close().await.unwrap();
}
