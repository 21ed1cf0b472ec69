//! Search (API.md "Search"): every filter alone and combined, on both paths, the time
//! window, ordering, and the errors. Paging is in `paging`.

use serde_json::{json, Value};

use crate::helpers::{send, spawn_app, TestApp};
use crate::rws::{found, found_ids, link};

/// One recording of the fixture set; `None` leaves the field out.
struct Fixture {
    id: &'static str,
    caller: &'static str,
    dialed: &'static str,
    region: &'static str,
    call_type: Option<&'static str>,
    agent: &'static str,
    /// The `contact.userName` and `calluuid` of a `Joined` event.
    joined: Option<(&'static str, &'static str)>,
    call_uuid: &'static str,
    partitions: &'static [&'static str],
    groups: &'static [&'static str],
    start: &'static str,
    stop: &'static str,
}

/// Newest first: s4, s3, s2, s1, s5. s5 ends exactly when s1 starts.
const FIXTURES: [Fixture; 5] = [
    Fixture {
        id: "s1",
        caller: "+1 (416) 000-1234",
        dialed: "+1 (905) 555-0100",
        region: "Can-West",
        call_type: Some("Inbound"),
        agent: "Agent.Bob@Example.com",
        joined: None,
        call_uuid: "call-a",
        partitions: &["east"],
        groups: &["sales"],
        start: "2020-03-01T10:00:00.000Z",
        stop: "2020-03-01T10:10:00.000Z",
    },
    Fixture {
        id: "s2",
        caller: "1-416-555-9999",
        dialed: "+1 (416) 000-1234",
        region: "Can-East",
        call_type: Some("outbound"),
        agent: "alice",
        joined: Some(("carol@example.com", "evt-b")),
        call_uuid: "call-b",
        partitions: &["west"],
        groups: &["support"],
        start: "2020-03-01T06:00:00-05:00",
        stop: "2020-03-01T11:30:00Z",
    },
    Fixture {
        id: "s3",
        caller: "+44 20 7946 0001",
        dialed: "ABC-1234",
        region: "EU",
        call_type: Some("Internal"),
        agent: "dave",
        joined: None,
        call_uuid: "call-c",
        partitions: &["east"],
        groups: &["support"],
        start: "2020-03-02T09:00:00Z",
        stop: "2020-03-02T09:05:00Z",
    },
    Fixture {
        id: "s4",
        caller: "sip:Agent42",
        dialed: "14160001234",
        region: "Can-West",
        call_type: None,
        agent: "agent.bob@example.com",
        joined: None,
        call_uuid: "call-d",
        partitions: &["north"],
        groups: &["sales"],
        start: "2020-03-02T12:00:00.000+0000",
        stop: "2020-03-02T12:00:30.000+0000",
    },
    Fixture {
        id: "s5",
        caller: "+1 416 000 0000",
        dialed: "911",
        region: "Can-West",
        call_type: Some("INBOUND"),
        agent: "erin",
        joined: Some(("Agent.Bob@example.com", "evt-e")),
        call_uuid: "call-e",
        partitions: &["east", "south"],
        groups: &["ops"],
        start: "2020-02-29T23:00:00Z",
        stop: "2020-03-01T10:00:00Z",
    },
];

fn record(fixture: &Fixture, media_id: &str) -> Value {
    let mut body = json!({
        "id": fixture.id,
        "callerPhoneNumber": fixture.caller,
        "dialedPhoneNumber": fixture.dialed,
        "region": fixture.region,
        "mediaFiles": [{
            "callUUID": fixture.call_uuid,
            "startTime": fixture.start,
            "stopTime": fixture.stop,
            "mediaId": media_id,
            "type": "audio/mp3",
            "partitions": fixture.partitions,
            "accessgroups": fixture.groups,
            "parameters": {"username": fixture.agent},
            "mediaDescriptor": {"storage": "webDAV", "path": format!("calls/{media_id}.mp3")}
        }]
    });
    if let Some(call_type) = fixture.call_type {
        body["callType"] = call_type.into();
    }
    if let Some((user, call_uuid)) = fixture.joined {
        body["eventHistory"] = json!([{
            "occurredAt": fixture.start, "event": "Joined", "calluuid": call_uuid,
            "contact": {"type": "User", "phoneNumber": "1001", "userName": user}
        }]);
    }
    body
}

/// A server with the fixtures in one contact center, and the same phone numbers and
/// ids (other media ids) in a second one; answers the first contact center.
async fn fixture_app() -> (TestApp, String, String) {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let other = app.ready_contact_center().await;
    for fixture in &FIXTURES {
        let media = format!("media-{}", fixture.id);
        app.insert(&cc, &record(fixture, &media)).await.assert_ok();
        let media = format!("other-{}", fixture.id);
        app.insert(&other, &record(fixture, &media))
            .await
            .assert_ok();
    }
    (app, cc, other)
}

/// Searches on both paths, checks they agree and every item is the recording's own
/// view in `cc`; answers the ids.
async fn ids(app: &TestApp, cc: &str, filters: &[(&str, &str)]) -> Vec<String> {
    let mut query = vec![("contactCenterId", cc)];
    query.extend_from_slice(filters);
    let rws = app.search(&query).await;
    let ops = app.search_ops(cc, filters).await;
    let recordings = found(&rws);
    assert_eq!(
        found(&ops),
        recordings,
        "both paths find the same for {filters:?}"
    );
    for response in [&rws, &ops] {
        assert_eq!(link(response, "next"), None, "{filters:?}");
        assert_eq!(link(response, "previous"), None, "{filters:?}");
    }
    for recording in &recordings {
        let media = &recording["mediaFiles"][0]["mediaId"];
        let id = recording["id"].as_str().unwrap();
        assert_eq!(media, &format!("media-{id}"), "a recording of {cc}");
    }
    found_ids(&rws)
}

/// Query parameters, and the ids they find, newest first.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);

async fn check(app: &TestApp, cc: &str, cases: &[Case<'_>]) {
    for (filters, expected) in cases {
        assert_eq!(
            ids(app, cc, filters).await,
            *expected,
            "filters {filters:?}"
        );
    }
}

#[tokio::test]
async fn phone_numbers_match_on_letters_and_digits_with_wildcards() {
    let (app, cc, _) = fixture_app().await;
    let caller = "callerPhoneNumber";
    let dialed = "dialedPhoneNumber";
    let cases: &[Case] = &[
        (&[(caller, "+1 (416) 000-1234")], &["s1"]),
        (&[(caller, "14160001234")], &["s1"]),
        (&[(caller, "4160001234")], &[]),
        (&[(caller, "1416000123")], &[]),
        (&[(caller, "1416*")], &["s2", "s1", "s5"]),
        (&[(caller, "+1 416*")], &["s2", "s1", "s5"]),
        (&[(caller, "*1234")], &["s1"]),
        (&[(caller, "*9999")], &["s2"]),
        (&[(caller, "*000*")], &["s3", "s1", "s5"]),
        (&[(caller, "*416*")], &["s2", "s1", "s5"]),
        (&[(caller, "SIP:AGENT42")], &["s4"]),
        (&[(caller, "sipagent*")], &["s4"]),
        (&[(caller, "*")], &["s4", "s3", "s2", "s1", "s5"]),
        (&[(dialed, "14160001234")], &["s4", "s2"]),
        (&[(dialed, "abc-1234")], &["s3"]),
        (&[(dialed, "*1234")], &["s4", "s3", "s2"]),
        (&[(dialed, "9*1")], &["s5"]),
        (&[(dialed, "1905*")], &["s1"]),
        (&[(caller, "*1234"), (dialed, "*1234")], &[]),
        (&[(caller, "1416*"), (dialed, "*1234")], &["s2"]),
    ];
    check(&app, &cc, cases).await;
}

#[tokio::test]
async fn agents_call_uuids_media_ids_and_the_other_filters_match() {
    let (app, cc, _) = fixture_app().await;
    let cases: &[Case] = &[
        // parameters.username or a Joined contact's userName, case-insensitive.
        (
            &[("userName", "agent.bob@example.com")],
            &["s4", "s1", "s5"],
        ),
        (
            &[("userName", "AGENT.BOB@EXAMPLE.COM")],
            &["s4", "s1", "s5"],
        ),
        (&[("userName", "carol@example.com")], &["s2"]),
        (&[("userName", "alice")], &["s2"]),
        (&[("userName", "agent")], &[]),
        // a media file's callUUID or an event's calluuid.
        (&[("callUUID", "call-a")], &["s1"]),
        (&[("callUUID", "call-b")], &["s2"]),
        (&[("callUUID", "evt-b")], &["s2"]),
        (&[("callUUID", "evt-e")], &["s5"]),
        (&[("callUUID", "call")], &[]),
        (&[("mediaId", "media-s3")], &["s3"]),
        (&[("mediaId", "media")], &[]),
        (&[("mediaId", "other-s3")], &[]),
        (&[("region", "Can-West")], &["s4", "s1", "s5"]),
        (&[("region", "EU")], &["s3"]),
        (&[("region", "can-west")], &[]),
        (&[("callType", "inbound")], &["s1", "s5"]),
        (&[("callType", "OUTBOUND")], &["s2"]),
        (&[("callType", "Internal")], &["s3"]),
        (&[("callType", "Consult")], &[]),
        (&[("partition", "east")], &["s3", "s1", "s5"]),
        (&[("partition", "south")], &["s5"]),
        (&[("partition", "nowhere")], &[]),
        (&[("accessGroup", "sales")], &["s4", "s1"]),
        (&[("accessGroup", "ops")], &["s5"]),
        (&[], &["s4", "s3", "s2", "s1", "s5"]),
    ];
    check(&app, &cc, cases).await;
}

#[tokio::test]
async fn all_given_filters_must_match() {
    let (app, cc, _) = fixture_app().await;
    let cases: &[Case] = &[
        (
            &[("region", "Can-West"), ("callType", "inbound")],
            &["s1", "s5"],
        ),
        (
            &[
                ("region", "Can-West"),
                ("userName", "agent.bob@example.com"),
                ("partition", "east"),
            ],
            &["s1", "s5"],
        ),
        (
            &[("callerPhoneNumber", "1416*"), ("accessGroup", "support")],
            &["s2"],
        ),
        (&[("region", "Can-West"), ("callType", "outbound")], &[]),
        (&[("mediaId", "media-s1"), ("callUUID", "call-a")], &["s1"]),
        (&[("mediaId", "media-s1"), ("callUUID", "call-b")], &[]),
        (
            &[
                ("accessGroup", "sales"),
                ("startTime", "2020-03-02T00:00:00Z"),
            ],
            &["s4"],
        ),
    ];
    check(&app, &cc, cases).await;
}

#[tokio::test]
async fn the_time_window_selects_overlapping_recordings() {
    let (app, cc, _) = fixture_app().await;
    let (start, end) = ("startTime", "endTime");
    let cases: &[Case] = &[
        // s5 ends exactly at the window's start; s1 starts exactly there.
        (
            &[(start, "2020-03-01T10:00:00Z")],
            &["s4", "s3", "s2", "s1"],
        ),
        // s1 spans the window's start; s2 starts exactly at its end.
        (
            &[
                (start, "2020-03-01T10:05:00Z"),
                (end, "2020-03-01T11:00:00Z"),
            ],
            &["s1"],
        ),
        (&[(start, "1583057100000"), (end, "1583060400000")], &["s1"]),
        (
            &[
                (start, "2020-03-01T05:05:00-05:00"),
                (end, "2020-03-01T11:00:00.000+0000"),
            ],
            &["s1"],
        ),
        (
            &[
                (start, "2020-03-01T10:05:00"),
                (end, "2020-03-01T11:00:00.001Z"),
            ],
            &["s2", "s1"],
        ),
        (&[(end, "2020-03-01T10:00:00Z")], &["s5"]),
        (&[(end, "1583056800001")], &["s1", "s5"]),
        (&[(start, "2020-03-02T12:00:30Z")], &[]),
        (&[(start, "2020-03-02T12:00:29.999Z")], &["s4"]),
        (&[(end, "2020-02-29T23:00:00Z")], &[]),
        (
            &[
                (start, "2020-03-01T00:00:00Z"),
                (end, "2020-03-03T00:00:00Z"),
            ],
            &["s4", "s3", "s2", "s1", "s5"],
        ),
    ];
    check(&app, &cc, cases).await;
}

#[tokio::test]
async fn another_contact_centers_recordings_never_appear() {
    let (app, cc, other) = fixture_app().await;
    let extra = app.ready_contact_center().await;
    let only_there = Fixture {
        id: "elsewhere",
        ..FIXTURES[0]
    };
    app.insert(&extra, &record(&only_there, "media-elsewhere"))
        .await
        .assert_ok();
    let all = ["s4", "s3", "s2", "s1", "s5"];
    assert_eq!(ids(&app, &cc, &[("callerPhoneNumber", "*")]).await, all);
    assert_eq!(ids(&app, &cc, &[("callUUID", "call-a")]).await, ["s1"]);
    assert!(ids(&app, &cc, &[("mediaId", "media-elsewhere")])
        .await
        .is_empty());

    let theirs = found(&app.search_ops(&other, &[]).await);
    let media: Vec<_> = theirs
        .iter()
        .map(|recording| recording["mediaFiles"][0]["mediaId"].clone())
        .collect();
    assert_eq!(media, all.map(|id| json!(format!("other-{id}"))));
}

#[tokio::test]
async fn search_items_are_the_recordings_own_view() {
    let (app, cc, _) = fixture_app().await;
    let response = app
        .search(&[("contactCenterId", &cc), ("region", "Can-West")])
        .await;
    for recording in found(&response) {
        let id = recording["id"].as_str().unwrap();
        let single = app.rws_recording(id, Some(&cc)).await;
        assert_eq!(single.status.as_u16(), 200, "{}", single.text);
        assert_eq!(single.json()["recording"], recording, "view of {id}");
    }
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_parameter() {
    let (app, cc, _) = fixture_app().await;
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("colour", "blue")], "colour"),
        (&[("callerphonenumber", "1416*")], "callerphonenumber"),
        (&[("startTime", "2020-13-01T00:00:00Z")], "startTime"),
        (&[("startTime", "yesterday")], "startTime"),
        (&[("endTime", "2020-03-01T25:00:00Z")], "endTime"),
        (&[("endTime", "")], "endTime"),
        (&[("limit", "0")], "limit"),
        (&[("limit", "1001")], "limit"),
        (&[("limit", "-1")], "limit"),
        (&[("limit", "ten")], "limit"),
        (&[("cursor", "not-a-cursor")], "cursor"),
    ];
    for (filters, named) in cases {
        let mut query = vec![("contactCenterId", cc.as_str())];
        query.extend_from_slice(filters);
        let message = app.search(&query).await.assert_error(400, 10);
        assert!(message.contains(named), "{filters:?}: {message}");
        let message = app.search_ops(&cc, filters).await.assert_error(400, 10);
        assert!(message.contains(named), "ops path, {filters:?}: {message}");
    }
}

#[tokio::test]
async fn the_contact_center_is_required_and_must_exist() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let message = app.search(&[("region", "EU")]).await.assert_error(400, 1);
    assert!(message.contains("contactCenterId"), "{message}");
    app.search(&[("contactCenterId", "no-such-cc")])
        .await
        .assert_error(404, 6);
    app.search_ops("no-such-cc", &[]).await.assert_error(404, 6);
    assert!(found(&app.search(&[("contactCenterId", &cc)]).await).is_empty());
}

#[tokio::test]
async fn search_needs_the_ops_credentials() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    crate::helpers::send(
        app.anonymous(reqwest::Method::GET, "/api/v2/recordings")
            .query(&[("contactCenterId", &cc)]),
    )
    .await
    .assert_unauthorized();
    let path = format!("/api/v2/ops/contact-centers/{cc}/recordings");
    crate::helpers::send(app.anonymous(reqwest::Method::GET, &path))
        .await
        .assert_unauthorized();
}

/// A recording with one media file from `start` to `stop`.
fn spanning(id: &str, start: &str, stop: &str) -> Value {
    let mut body = crate::body::minimal_record(id);
    body["mediaFiles"][0]["mediaId"] = json!(format!("media-{id}"));
    body["mediaFiles"][0]["startTime"] = json!(start);
    body["mediaFiles"][0]["stopTime"] = json!(stop);
    body
}

#[tokio::test]
async fn long_recordings_are_found_in_every_window_they_overlap() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    for (id, start, stop) in [
        ("centuries", "1970-01-01T00:00:00Z", "2999-12-31T00:00:00Z"),
        ("all-day", "2024-05-01T00:00:00Z", "2024-05-01T23:00:00Z"),
        ("short-1", "2024-05-01T10:00:00Z", "2024-05-01T10:05:00Z"),
        ("short-2", "2024-05-01T12:00:00Z", "2024-05-01T12:05:00Z"),
        ("short-3", "2024-06-01T12:00:00Z", "2024-06-01T12:05:00Z"),
    ] {
        app.insert(&cc, &spanning(id, start, stop))
            .await
            .assert_ok();
    }
    let (start, end) = ("startTime", "endTime");
    let cases: &[Case] = &[
        (
            &[
                (start, "2024-05-01T11:00:00Z"),
                (end, "2024-05-01T13:00:00Z"),
            ],
            &["short-2", "all-day", "centuries"],
        ),
        (
            &[
                (start, "2024-06-01T00:00:00Z"),
                (end, "2024-06-02T00:00:00Z"),
            ],
            &["short-3", "centuries"],
        ),
        (&[(start, "2500-01-01T00:00:00Z")], &["centuries"]),
        (&[(end, "1970-01-02T00:00:00Z")], &["centuries"]),
        (
            &[
                (start, "2024-05-01T09:00:00Z"),
                ("callerPhoneNumber", "+14160000000"),
            ],
            &["short-3", "short-2", "short-1", "all-day", "centuries"],
        ),
    ];
    check(&app, &cc, cases).await;

    // Paged one at a time, the long ones come in their place among the others.
    let mut page = app
        .search(&[
            ("contactCenterId", cc.as_str()),
            (start, "2024-05-01T09:00:00Z"),
            ("limit", "1"),
        ])
        .await;
    let mut seen = Vec::new();
    loop {
        seen.extend(found_ids(&page));
        let Some(next) = link(&page, "next") else {
            break;
        };
        page = app.follow(&next).await;
    }
    assert_eq!(
        seen,
        ["short-3", "short-2", "short-1", "all-day", "centuries"]
    );

    app.delete_recording_ops(&cc, "centuries").await.assert_ok();
    let found = ids(&app, &cc, &[(start, "2500-01-01T00:00:00Z")]).await;
    assert!(found.is_empty(), "{found:?}");
}

#[tokio::test]
async fn a_contact_center_knows_how_many_recordings_it_holds_and_a_search_can_count() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let path = format!("/api/v2/ops/contact-centers/{cc}");
    let count = || async {
        let response = send(app.request(reqwest::Method::GET, &path)).await;
        response.json()["contactCenter"]["recordingCount"].clone()
    };
    assert_eq!(count().await, 0);
    for n in 0..3 {
        let id = format!("counted-{n}");
        app.insert(
            &cc,
            &spanning(&id, "2024-05-01T10:00:00Z", "2024-05-01T10:05:00Z"),
        )
        .await
        .assert_ok();
    }
    // A retry, a merge and a refused insert change nothing.
    let again = spanning("counted-0", "2024-05-01T10:00:00Z", "2024-05-01T10:05:00Z");
    app.insert(&cc, &again).await.assert_ok();
    let mut merged = again.clone();
    merged["mediaFiles"][0]["mediaId"] = json!("counted-0-second");
    app.insert(&cc, &merged).await.assert_ok();
    let mut taken = spanning("thief", "2024-05-01T10:00:00Z", "2024-05-01T10:05:00Z");
    taken["mediaFiles"][0]["mediaId"] = json!("media-counted-1");
    app.insert(&cc, &taken).await.assert_error(409, 18);
    assert_eq!(count().await, 3);
    app.delete_recording_ops(&cc, "counted-2").await.assert_ok();
    assert_eq!(count().await, 2);

    let counted = app
        .search(&[
            ("contactCenterId", cc.as_str()),
            ("limit", "1"),
            ("count", "true"),
        ])
        .await
        .json();
    assert_eq!(counted["total"], 2, "{counted}");
    assert_eq!(counted["totalIsExact"], true);
    assert_eq!(counted["recordings"].as_array().unwrap().len(), 1);
    let plain = app.search(&[("contactCenterId", cc.as_str())]).await.json();
    assert!(plain.get("total").is_none(), "only when asked");
    let bad = app
        .search(&[("contactCenterId", cc.as_str()), ("count", "yes")])
        .await;
    let message = bad.assert_error(400, 10);
    assert!(message.starts_with("count"), "{message}");
}
