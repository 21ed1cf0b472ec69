//! ISO datetimes (docs/API.md): the accepted spellings, the instant gird derives from them
//! (UTC, milliseconds, written `yyyy-MM-ddTHH:mm:ss.SSS+0000` as RWS writes them), and the rejected ones.

use serde_json::json;

use crate::body::{edited, media_file, minimal_record, set};
use crate::helpers::spawn_app;

/// Each accepted spelling and the instant it stands for.
const ACCEPTED: [(&str, &str); 19] = [
    (
        "2013-05-17T11:45:32.000-0800",
        "2013-05-17T19:45:32.000+0000",
    ),
    ("2013-05-17T11:45:32-08:00", "2013-05-17T19:45:32.000+0000"),
    (
        "2015-06-15T23:58:30.000+0000",
        "2015-06-15T23:58:30.000+0000",
    ),
    ("2013-02-06T10:23:10.034Z", "2013-02-06T10:23:10.034+0000"),
    ("2015-06-15T23:59:00", "2015-06-15T23:59:00.000+0000"),
    ("2015-06-15T23:59:00Z", "2015-06-15T23:59:00.000+0000"),
    ("2015-06-15T23:59:00+05:30", "2015-06-15T18:29:00.000+0000"),
    (
        "2015-06-15T23:59:00.000+00:00",
        "2015-06-15T23:59:00.000+0000",
    ),
    ("2015-12-31T23:30:00-01:00", "2016-01-01T00:30:00.000+0000"),
    ("2016-02-29T12:00:00", "2016-02-29T12:00:00.000+0000"),
    ("2015-06-15T23:59:00.1", "2015-06-15T23:59:00.100+0000"),
    ("2015-06-15T23:59:00.12", "2015-06-15T23:59:00.120+0000"),
    ("2015-06-15T23:59:00.123", "2015-06-15T23:59:00.123+0000"),
    ("2015-06-15T23:59:00.1230", "2015-06-15T23:59:00.123+0000"),
    ("2015-06-15T23:59:00.12300", "2015-06-15T23:59:00.123+0000"),
    ("2015-06-15T23:59:00.123000", "2015-06-15T23:59:00.123+0000"),
    (
        "2015-06-15T23:59:00.1230000Z",
        "2015-06-15T23:59:00.123+0000",
    ),
    (
        "2015-06-15T23:59:00.12300000+0000",
        "2015-06-15T23:59:00.123+0000",
    ),
    (
        "2015-06-15T23:59:00.123000000-00:00",
        "2015-06-15T23:59:00.123+0000",
    ),
];

const REJECTED: [&str; 12] = [
    "2015-13-01T00:00:00",
    "2015-00-10T00:00:00",
    "2015-02-30T00:00:00",
    "2015-02-29T00:00:00",
    "2015-06-31T00:00:00",
    "2015-06-15T25:00:00",
    "2015-06-15T23:61:00",
    "2015-06-15T23:59",
    "2015-06-15",
    "garbage",
    "",
    "1434412740000",
];

#[tokio::test]
async fn every_accepted_spelling_gives_its_utc_instant() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    for (index, (text, instant)) in ACCEPTED.into_iter().enumerate() {
        let id = format!("datetime-{index}");
        let mut body = minimal_record(&id);
        body["mediaFiles"][0]["startTime"] = json!(text);
        body["mediaFiles"][0]["stopTime"] = json!(text);
        body["mediaFiles"][0]["masks"] = json!([{"time": text, "type": "paused"}]);
        body["eventHistory"] =
            json!([{"occurredAt": text, "event": "Data", "eventId": "e", "data": {}}]);

        app.insert(&cc, &body).await.assert_ok();

        let stored = app.recording(&cc, &id).await;
        assert_eq!(stored["startTime"], instant, "{text}");
        assert_eq!(stored["stopTime"], instant, "{text}");
        assert_eq!(
            stored["mediaFiles"][0]["startTime"], text,
            "the original text is kept"
        );
        assert_eq!(stored["eventHistory"][0]["occurredAt"], text);
    }
}

#[tokio::test]
async fn invalid_datetimes_are_rejected_wherever_they_appear() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let id = "bad-datetime";
    let mut base = minimal_record(id);
    base["mediaFiles"][0]["masks"] = json!([{"time": "2015-06-15T23:59:10Z", "type": "paused"}]);
    base["eventHistory"] = json!([{"occurredAt": "2015-06-15T23:59:10Z", "event": "Data", "eventId": "e", "data": {}}]);
    for text in REJECTED {
        for pointer in [
            "/mediaFiles/0/startTime",
            "/mediaFiles/0/stopTime",
            "/mediaFiles/0/masks/0/time",
            "/eventHistory/0/occurredAt",
        ] {
            let body = edited(&base, [set(pointer, json!(text))]);
            let message = app.insert(&cc, &body).await.assert_error(400, 10);
            let path = crate::body::json_path(pointer);
            assert!(
                message.starts_with(&format!("{path}: ")),
                "{text} at {pointer}: {message}"
            );
            assert!(
                message.contains(&format!("{text:?}")),
                "the message quotes {text:?}: {message}"
            );
            app.assert_absent(&cc, id).await;
        }
    }
}

#[tokio::test]
async fn times_are_compared_as_instants_not_as_text() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    // In text order, file a starts first and file b stops last; in instants it is the
    // other way round.
    let a = media_file(
        "a",
        "2015-06-15T20:00:00-05:00",
        "2015-06-15T20:30:00-05:00",
    );
    let b = media_file("b", "2015-06-15T23:30:00Z", "2015-06-16T00:00:00Z");
    let body = edited(
        &minimal_record("instants"),
        [set("/mediaFiles", json!([a, b]))],
    );

    app.insert(&cc, &body).await.assert_ok();

    let stored = app.recording(&cc, "instants").await;
    assert_eq!(stored["startTime"], "2015-06-15T23:30:00.000+0000");
    assert_eq!(stored["stopTime"], "2015-06-16T01:30:00.000+0000");

    // A stop that sorts before its start as text, but is later as an instant.
    let body = edited(
        &minimal_record("offset-stop"),
        [
            set("/mediaFiles/0/mediaId", json!("offset-stop-media")),
            set("/mediaFiles/0/startTime", json!("2015-06-15T23:00:00Z")),
            set("/mediaFiles/0/stopTime", json!("2015-06-15T20:00:00-05:00")),
        ],
    );
    app.insert(&cc, &body).await.assert_ok();
    let stored = app.recording(&cc, "offset-stop").await;
    assert_eq!(stored["stopTime"], "2015-06-16T01:00:00.000+0000");
}
