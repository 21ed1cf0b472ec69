//! Searches: filters, paging both ways, windows, long recordings.

use gird_model::search::{phone_match, AGENT};
use gird_model::Recording;
use serde_json::json;

use super::Harness;
use crate::{Cursor, Direction, SearchQuery, Store};

fn call(id: &str, caller: &str, agent: &str, minute: u32) -> Recording {
    let body = json!({
        "id": id, "callerPhoneNumber": caller, "dialedPhoneNumber": "+2", "region": "r",
        "mediaFiles": [{
            "callUUID": format!("c-{id}"), "mediaId": format!("m-{id}"),
            "startTime": format!("2015-06-15T{:02}:{:02}:00Z", minute / 60, minute % 60),
            "stopTime": format!("2015-06-15T{:02}:{:02}:30Z", minute / 60, minute % 60),
            "parameters": {"username": agent},
            "mediaDescriptor": {"storage": "webDAV", "path": "a.mp3"}
        }]
    });
    Recording::from_json(body.as_object().unwrap().clone()).unwrap()
}

fn query(limit: usize) -> SearchQuery {
    SearchQuery {
        contact_center: "cc".into(),
        limit,
        ..SearchQuery::default()
    }
}

async fn ids(store: &dyn Store, query: SearchQuery) -> (Vec<String>, bool, bool) {
    let page = store.search(query).await.unwrap();
    let ids = page.recordings.iter().map(|r| r.id.clone()).collect();
    (ids, page.more_older, page.more_newer)
}

pub(crate) async fn searches_filter_and_page_newest_first(harness: &dyn Harness) {
    let store = harness.store();
    for n in 0..10u32 {
        let agent = if n % 2 == 0 { "Even@x" } else { "odd@x" };
        store
            .insert_or_merge(
                "cc",
                call(
                    &format!("r{n}"),
                    &format!("+1 (416) 555-00{n:02}"),
                    agent,
                    n,
                ),
            )
            .await
            .unwrap();
    }
    let (first, older, newer) = ids(store, query(4)).await;
    assert_eq!(first, ["r9", "r8", "r7", "r6"]);
    assert_eq!((older, newer), (true, false));
    let next = SearchQuery {
        cursor: Some(Cursor {
            direction: Direction::Older,
            start_ms: 1_434_326_760_000,
            id: "r6".into(),
        }),
        ..query(4)
    };
    let (second, older, newer) = ids(store, next).await;
    assert_eq!(second, ["r5", "r4", "r3", "r2"]);
    assert_eq!((older, newer), (true, true));
    let back = SearchQuery {
        cursor: Some(Cursor {
            direction: Direction::Newer,
            start_ms: 1_434_326_700_000,
            id: "r5".into(),
        }),
        ..query(4)
    };
    assert_eq!(
        ids(store, back).await,
        (
            vec!["r9".into(), "r8".into(), "r7".into(), "r6".into()],
            true,
            false
        )
    );

    let by_agent = SearchQuery {
        terms: vec![(AGENT, "even@x".into())],
        ..query(100)
    };
    assert_eq!(ids(store, by_agent).await.0, ["r8", "r6", "r4", "r2", "r0"]);
    let suffix = SearchQuery {
        caller: Some(phone_match("*0007")),
        ..query(100)
    };
    assert_eq!(ids(store, suffix).await.0, ["r7"]);
    let exact = SearchQuery {
        caller: Some(phone_match("14165550003")),
        ..query(100)
    };
    assert_eq!(ids(store, exact).await.0, ["r3"]);
    let window = SearchQuery {
        from: Some(1_434_326_530_000),
        to: Some(1_434_326_700_000),
        ..query(100)
    };
    assert_eq!(
        ids(store, window).await.0,
        ["r4", "r3", "r2"],
        "r2 spans the window start"
    );
    let media = SearchQuery {
        media_id: Some("m-r5".into()),
        ..query(100)
    };
    assert_eq!(ids(store, media).await.0, ["r5"]);
}

/// A recording of one media file from `start` to `stop`.
pub(crate) fn spanning(id: &str, start: &str, stop: &str) -> Recording {
    let body = json!({
        "id": id, "callerPhoneNumber": "+1", "dialedPhoneNumber": "+2", "region": "r",
        "mediaFiles": [{
            "callUUID": id, "mediaId": format!("{id}-m"), "startTime": start, "stopTime": stop,
            "mediaDescriptor": {"storage": "webDAV", "path": "a.mp3"}
        }]
    });
    Recording::from_json(body.as_object().unwrap().clone()).unwrap()
}

/// A recording longer than the usual ones (hours, or centuries from a bad clock) is still
/// found by every window it overlaps, and pages stay in start order around it.
pub(crate) async fn a_long_recording_is_found_in_the_windows_it_overlaps(harness: &dyn Harness) {
    let store = harness.store();
    let hour = 3_600_000_i64;
    let base = gird_model::datetime::parse_iso("2020-01-01T00:00:00Z").unwrap();
    for n in 0..30 {
        let start = gird_model::datetime::format_millis(base + n * hour);
        let stop = gird_model::datetime::format_millis(base + n * hour + 60_000);
        store
            .insert_or_merge("cc", spanning(&format!("r{n}"), &start, &stop))
            .await
            .unwrap();
    }
    store
        .insert_or_merge(
            "cc",
            spanning("huge", "1970-01-01T00:00:00Z", "2999-12-31T00:00:00Z"),
        )
        .await
        .unwrap();
    store
        .insert_or_merge(
            "cc",
            spanning("six-hours", "2020-01-01T20:30:00Z", "2020-01-02T02:30:00Z"),
        )
        .await
        .unwrap();
    let window = SearchQuery {
        contact_center: "cc".into(),
        from: Some(base + 25 * hour),
        to: Some(base + 26 * hour),
        limit: 25,
        ..SearchQuery::default()
    };
    let found = ids(store, window.clone()).await.0;
    assert_eq!(found, ["r25", "six-hours", "huge"]);
    let later = SearchQuery {
        from: Some(base + 28 * hour),
        to: None,
        limit: 1,
        ..window.clone()
    };
    let first = store.search(later).await.unwrap();
    assert_eq!(first.recordings[0].id, "r29");
    assert!(first.more_older);
    store.delete_recording("cc", "huge").await.unwrap();
    assert_eq!(ids(store, window).await.0, ["r25", "six-hours"]);
}
