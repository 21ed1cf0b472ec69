//! Merge on an existing id (docs/API.md): idempotent, order-independent, lossless.

use serde_json::{json, Value};

use crate::body::{
    comparable, complete_record, fixture_segments, has_event, media_by_id, media_file,
    minimal_record, segment,
};
use crate::helpers::{spawn_app, Api};

/// `2026-01-02T03:04:05.678+0000`: UTC with milliseconds, as RWS writes derived times.
fn is_utc_millis(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 28
        && [4, 7].iter().all(|&i| bytes[i] == b'-')
        && bytes[10] == b'T'
        && [13, 16].iter().all(|&i| bytes[i] == b':')
        && bytes[19] == b'.'
        && text.ends_with("+0000")
}

fn conflicts(recording: &Value) -> Vec<Value> {
    recording["mergeConflicts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The single conflict recorded at `path`, checked for shape.
fn conflict_at(recording: &Value, path: &str) -> Value {
    let found: Vec<_> = conflicts(recording)
        .into_iter()
        .filter(|c| c["path"] == path)
        .collect();
    assert_eq!(found.len(), 1, "one conflict at {path} in {recording}");
    let conflict = found[0].clone();
    let mut keys: Vec<_> = conflict.as_object().unwrap().keys().cloned().collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["ignored", "kept", "path", "receivedAt"],
        "{conflict}"
    );
    let received_at = conflict["receivedAt"].as_str().expect("receivedAt");
    assert!(is_utc_millis(received_at), "receivedAt {received_at}");
    conflict
}

#[tokio::test]
async fn the_same_body_twice_gives_the_same_record() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let body = complete_record("twice");

    app.insert(&cc, &body).await.assert_ok();
    let first = app.recording(&cc, "twice").await;
    app.insert(&cc, &body).await.assert_ok();

    assert_eq!(app.recording(&cc, "twice").await, first);
    assert!(first.get("mergeConflicts").is_none(), "{first}");
}

fn permutations(items: &[usize]) -> Vec<Vec<usize>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut all = Vec::new();
    for (index, &first) in items.iter().enumerate() {
        let mut rest = items.to_vec();
        rest.remove(index);
        for mut tail in permutations(&rest) {
            tail.insert(0, first);
            all.push(tail);
        }
    }
    all
}

#[tokio::test]
async fn segments_in_any_order_give_the_same_record() {
    let app = spawn_app().await;
    let segments = fixture_segments();
    let orders = permutations(&(0..segments.len()).collect::<Vec<_>>());
    let mut records = Vec::new();
    for order in &orders {
        // mediaIds are unique per contact center, so each order gets its own.
        let cc = app.ready_contact_center().await;
        for &index in order {
            app.insert(&cc, &segments[index]).await.assert_ok();
        }
        records.push(app.recording(&cc, "fixture-multi-segment").await);
    }

    let expected = comparable(&records[0]);
    for (order, record) in orders.iter().zip(&records) {
        assert_eq!(comparable(record), expected, "order {order:?}");
    }
    let record = &records[0];
    let media_ids: Vec<_> = record["mediaFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mediaId"].clone())
        .collect();
    assert_eq!(
        media_ids,
        [
            "fixture-multi-segment-0",
            "fixture-multi-segment-1",
            "fixture-multi-segment-2"
        ]
    );
    assert_eq!(
        record["eventHistory"].as_array().unwrap().len(),
        2,
        "the repeated Data event is kept once"
    );
    assert_eq!(record["startTime"], "2015-06-15T23:50:00.000+0000");
    assert_eq!(record["stopTime"], "2015-06-15T23:52:59.000+0000");
    assert!(record.get("mergeConflicts").is_none(), "{record}");
    for segment in &segments {
        let sent = &segment["mediaFiles"][0];
        crate::body::assert_contains_all(
            media_by_id(record, sent["mediaId"].as_str().unwrap()),
            sent,
        );
    }
}

#[tokio::test]
async fn concurrent_segments_of_one_call_are_all_kept() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    const SEGMENTS: usize = 50;

    let tasks: Vec<_> = (0..SEGMENTS)
        .map(|index| {
            let (api, cc): (Api, String) = (app.api.clone(), cc.clone());
            tokio::spawn(async move { api.insert(&cc, &segment("busy-call", index)).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("insert task").assert_ok();
    }

    let record = app.recording(&cc, "busy-call").await;
    let media = record["mediaFiles"].as_array().unwrap();
    let events = record["eventHistory"].as_array().unwrap();
    assert_eq!(
        (media.len(), events.len()),
        (SEGMENTS, SEGMENTS),
        "no segment is lost"
    );
    for index in 0..SEGMENTS {
        media_by_id(&record, &format!("busy-call-media-{index}"));
    }
    assert_eq!(record["startTime"], "2015-06-15T10:00:00.000+0000");
    assert_eq!(record["stopTime"], "2015-06-15T10:49:59.000+0000");
    assert!(record.get("mergeConflicts").is_none(), "{record}");

    // The same segments again, in reverse order, change nothing.
    for index in (0..SEGMENTS).rev().step_by(7) {
        app.insert(&cc, &segment("busy-call", index))
            .await
            .assert_ok();
    }
    assert_eq!(app.recording(&cc, "busy-call").await, record);
}

#[tokio::test]
async fn a_later_different_scalar_is_kept_as_a_conflict() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let mut first = minimal_record("scalars");
    first["x-origin"] = json!({"site": "A"});
    app.insert(&cc, &first).await.assert_ok();

    let mut second = first.clone();
    second["callerPhoneNumber"] = json!("+19990000000");
    second["region"] = json!("Can-East");
    second["x-origin"] = json!({"site": "B"});
    app.insert(&cc, &second).await.assert_ok();
    app.insert(&cc, &second).await.assert_ok();

    let record = app.recording(&cc, "scalars").await;
    assert_eq!(record["callerPhoneNumber"], "+14160000000");
    assert_eq!(record["region"], "Can-West");
    assert_eq!(record["x-origin"], json!({"site": "A"}));
    let conflict = conflict_at(&record, "callerPhoneNumber");
    assert_eq!(
        (&conflict["kept"], &conflict["ignored"]),
        (&json!("+14160000000"), &json!("+19990000000"))
    );
    let conflict = conflict_at(&record, "region");
    assert_eq!(
        (&conflict["kept"], &conflict["ignored"]),
        (&json!("Can-West"), &json!("Can-East"))
    );
    let conflict = conflict_at(&record, "x-origin");
    assert_eq!(
        (&conflict["kept"], &conflict["ignored"]),
        (&json!({"site": "A"}), &json!({"site": "B"}))
    );
    assert_eq!(
        conflicts(&record).len(),
        3,
        "an identical conflict is recorded once"
    );
}

#[tokio::test]
async fn an_absent_field_is_filled_later() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let mut first = minimal_record("filled");
    first["dialedPhoneNumber"] = json!("");
    app.insert(&cc, &first).await.assert_ok();

    let mut second = first.clone();
    second["callType"] = json!("outbound");
    second["x-added"] = json!([1, 2]);
    app.insert(&cc, &second).await.assert_ok();
    let mut third = second.clone();
    third["callType"] = json!("OUTBOUND");
    app.insert(&cc, &third).await.assert_ok();

    let mut fourth = third.clone();
    fourth["dialedPhoneNumber"] = json!("+14162222222");
    app.insert(&cc, &fourth).await.assert_ok();

    let record = app.recording(&cc, "filled").await;
    assert_eq!(
        record["dialedPhoneNumber"], "+14162222222",
        "an empty value is filled later"
    );
    assert_eq!(record["callType"], "Outbound");
    assert_eq!(record["x-added"], json!([1, 2]));
    assert!(
        record.get("mergeConflicts").is_none(),
        "the same canonical callType is no conflict: {record}"
    );
}

#[tokio::test]
async fn a_changed_media_file_is_kept_as_a_conflict() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let first = minimal_record("media-conflict");
    app.insert(&cc, &first).await.assert_ok();

    let mut second = first.clone();
    second["mediaFiles"][0]["mediaDescriptor"]["path"] = json!("http://example.com/moved.mp3");
    app.insert(&cc, &second).await.assert_ok();

    let record = app.recording(&cc, "media-conflict").await;
    assert_eq!(record["mediaFiles"].as_array().unwrap().len(), 1);
    assert_eq!(
        record["mediaFiles"][0]["mediaDescriptor"],
        first["mediaFiles"][0]["mediaDescriptor"]
    );
    let conflict = conflict_at(&record, "mediaFiles[media-conflict-media]");
    assert_eq!(
        conflict["kept"]["mediaDescriptor"],
        first["mediaFiles"][0]["mediaDescriptor"]
    );
    assert_eq!(conflict["ignored"], second["mediaFiles"][0]);
}

#[tokio::test]
async fn media_files_without_media_id_are_keyed_by_call_start_and_path() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let mut body = minimal_record("no-media-id");
    body["mediaFiles"][0]
        .as_object_mut()
        .unwrap()
        .remove("mediaId");
    app.insert(&cc, &body).await.assert_ok();
    app.insert(&cc, &body).await.assert_ok();
    assert_eq!(
        app.recording(&cc, "no-media-id").await["mediaFiles"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let mut other_path = body.clone();
    other_path["mediaFiles"][0]["mediaDescriptor"]["path"] = json!("http://example.com/other.mp3");
    app.insert(&cc, &other_path).await.assert_ok();
    let mut other_start = body.clone();
    other_start["mediaFiles"][0]["startTime"] = json!("2015-06-15T23:59:01.000Z");
    app.insert(&cc, &other_start).await.assert_ok();
    let mut other_call = body.clone();
    other_call["mediaFiles"][0]["callUUID"] = json!("another-call");
    app.insert(&cc, &other_call).await.assert_ok();
    let record = app.recording(&cc, "no-media-id").await;
    assert_eq!(
        record["mediaFiles"].as_array().unwrap().len(),
        4,
        "{record}"
    );

    let mut changed = body.clone();
    changed["mediaFiles"][0]["size"] = json!("10");
    app.insert(&cc, &changed).await.assert_ok();
    let record = app.recording(&cc, "no-media-id").await;
    assert_eq!(
        record["mediaFiles"].as_array().unwrap().len(),
        4,
        "{record}"
    );
    assert_eq!(conflicts(&record).len(), 1, "{record}");
}

#[tokio::test]
async fn events_are_a_set_and_a_changed_data_event_is_a_conflict() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let first = complete_record("events");
    app.insert(&cc, &first).await.assert_ok();

    let mut second = first.clone();
    let left_again = json!({
        "occurredAt": "2015-06-15T23:59:59.500Z", "event": "Left",
        "contact": {"type": "User", "phoneNumber": "417001", "userName": "agent.bob@example.com", "firstName": "Bob", "lastName": "Smith"}
    });
    second["eventHistory"] = json!([first["eventHistory"][1].clone(), left_again.clone()]);
    app.insert(&cc, &second).await.assert_ok();
    let record = app.recording(&cc, "events").await;
    let events = record["eventHistory"].as_array().unwrap();
    assert_eq!(
        events.len(),
        4,
        "the identical Joined is ignored, the new Left added: {record}"
    );
    assert!(has_event(events, &left_again));

    let mut third = first.clone();
    third["eventHistory"][0]["data"] = json!({"added": {"drink": "tea"}});
    app.insert(&cc, &third).await.assert_ok();
    let record = app.recording(&cc, "events").await;
    assert_eq!(record["eventHistory"].as_array().unwrap().len(), 4);
    assert!(has_event(
        record["eventHistory"].as_array().unwrap(),
        &first["eventHistory"][0]
    ));
    let conflict = conflict_at(&record, "eventHistory[events-data]");
    assert_eq!(conflict["kept"], first["eventHistory"][0]);
    assert_eq!(conflict["ignored"], third["eventHistory"][0]);
}

#[tokio::test]
async fn derived_times_span_every_segment() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let middle = media_file("middle", "2015-06-15T12:00:00Z", "2015-06-15T12:10:00Z");
    let early = media_file(
        "early",
        "2015-06-15T11:00:00+00:00",
        "2015-06-15T11:05:00+00:00",
    );
    let late = media_file(
        "late",
        "2015-06-15T08:30:00-04:00",
        "2015-06-15T08:40:00-04:00",
    );
    for file in [middle, early, late] {
        let mut body = minimal_record("span");
        body["mediaFiles"] = json!([file]);
        app.insert(&cc, &body).await.assert_ok();
    }
    let record = app.recording(&cc, "span").await;
    assert_eq!(record["startTime"], "2015-06-15T11:00:00.000+0000");
    assert_eq!(record["stopTime"], "2015-06-15T12:40:00.000+0000");
    let media_ids: Vec<_> = record["mediaFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mediaId"].clone())
        .collect();
    assert_eq!(
        media_ids,
        ["early", "middle", "late"],
        "sorted by start instant"
    );
}

#[tokio::test]
async fn concurrent_retries_store_one_record() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let body = complete_record("retried");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (api, cc, body) = (app.api.clone(), cc.clone(), body.clone());
            tokio::spawn(async move { api.insert(&cc, &body).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("insert task").assert_ok();
    }
    let record = app.recording(&cc, "retried").await;
    assert!(record.get("mergeConflicts").is_none(), "{record}");
    assert_eq!(record["mediaFiles"].as_array().unwrap().len(), 1);
    assert_eq!(record["eventHistory"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn the_same_id_in_two_contact_centers_is_two_records() {
    let app = spawn_app().await;
    let (first_cc, second_cc) = (
        app.ready_contact_center().await,
        app.ready_contact_center().await,
    );
    app.insert(&first_cc, &minimal_record("shared-id"))
        .await
        .assert_ok();
    let mut other = minimal_record("shared-id");
    other["callerPhoneNumber"] = json!("+19990000000");
    app.insert(&second_cc, &other).await.assert_ok();

    let first = app.recording(&first_cc, "shared-id").await;
    let second = app.recording(&second_cc, "shared-id").await;
    assert_eq!(first["callerPhoneNumber"], "+14160000000");
    assert_eq!(second["callerPhoneNumber"], "+19990000000");
    assert!(first.get("mergeConflicts").is_none() && second.get("mergeConflicts").is_none());
}
