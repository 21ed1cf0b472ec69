//! Successful inserts and what the stored view gives back (docs/API.md).

use serde_json::{json, Value};

use crate::body::{
    assert_contains_all, complete_record, edited, has_event, media_by_id, minimal_record, remove,
    sample, set,
};
use crate::helpers::spawn_app;

#[tokio::test]
async fn the_public_sample_is_accepted_and_read_back_whole() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let sent = sample();

    app.insert(&cc, &sent).await.assert_ok();

    let stored = app.recording(&cc, "alex-test-id").await;
    for name in [
        "id",
        "callerPhoneNumber",
        "dialedPhoneNumber",
        "region",
        "callType",
    ] {
        assert_eq!(stored[name], sent[name], "{name}");
    }
    assert_eq!(stored["mediaFiles"].as_array().unwrap().len(), 2);
    for media in sent["mediaFiles"].as_array().unwrap() {
        let media_id = media["mediaId"].as_str().unwrap();
        assert_contains_all(media_by_id(&stored, media_id), media);
    }
    let events = stored["eventHistory"].as_array().expect("eventHistory");
    assert_eq!(events.len(), 2);
    for event in sent["eventHistory"].as_array().unwrap() {
        assert!(has_event(events, event), "event {event} in {stored}");
    }
    assert_eq!(stored["startTime"], "2015-06-15T23:58:00.000+0000");
    assert_eq!(stored["stopTime"], "2015-06-15T23:59:59.000+0000");
    assert!(stored.get("mergeConflicts").is_none(), "{stored}");
    // The sample lacks soft fields (parameters.callUuid and .id, one file's parameters).
    assert_eq!(stored["incomplete"], true, "{stored}");
    let missing = stored["missingFields"].as_array().expect("missingFields");
    for suffix in [".parameters", ".parameters.callUuid", ".parameters.id"] {
        assert!(
            missing
                .iter()
                .any(|m| m.as_str().unwrap().ends_with(suffix)),
            "{suffix} in {missing:?}"
        );
    }
}

#[tokio::test]
async fn playback_fields_point_at_the_media_with_the_right_extension() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &sample()).await.assert_ok();

    let stored = app.recording(&cc, "alex-test-id").await;
    let mut play_paths = Vec::new();
    for media in stored["mediaFiles"].as_array().unwrap() {
        let play_path = media["playPath"].as_str().expect("playPath");
        let uuid = play_path
            .strip_prefix("/recordings/alex-test-id/play/")
            .and_then(|rest| rest.strip_suffix(".mp3"))
            .unwrap_or_else(|| panic!("playPath {play_path}"));
        assert_eq!(uuid.len(), 36, "a UUID in {play_path}");
        assert_eq!(
            media["mediaUri"],
            format!("{}/api/v2{play_path}", app.address),
            "mediaUri is absolute"
        );
        assert_eq!(media["mediaPath"], play_path, "mediaPath equals playPath");
        assert_eq!(media["originalMediaDescriptor"], media["mediaDescriptor"]);
        play_paths.push(play_path.to_owned());
    }
    assert_ne!(play_paths[0], play_paths[1], "one uuid per media file");
}

#[tokio::test]
async fn the_extension_comes_from_the_type_then_the_path() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let cases = [
        (Some("audio/mp3"), "http://example.com/a.wav", "mp3"),
        (Some("audio/mpeg3"), "http://example.com/a", "mp3"),
        (Some("audio/mpeg"), "http://example.com/a", "mp3"),
        (Some("audio/wav"), "http://example.com/a.mp3", "wav"),
        (Some("audio/x-wav"), "calls/a", "wav"),
        (Some("video/mp4"), "calls/a", "mp4"),
        (Some("audio/ogg"), "calls/a", "ogg"),
        (Some("audio/webm"), "calls/a", "webm"),
        (None, "http://example.com/calls/a.wav", "wav"),
        (None, "calls/2015/a.ogg", "ogg"),
        (None, "calls/a", "bin"),
    ];
    for (index, (kind, path, extension)) in cases.into_iter().enumerate() {
        let id = format!("extension-{index}");
        let mut body = edited(
            &minimal_record(&id),
            [set("/mediaFiles/0/mediaDescriptor/path", json!(path))],
        );
        match kind {
            Some(kind) => body["mediaFiles"][0]["type"] = json!(kind),
            None => body = edited(&body, [remove("/mediaFiles/0/type")]),
        }
        app.insert(&cc, &body).await.assert_ok();
        let stored = app.recording(&cc, &id).await;
        let media = &stored["mediaFiles"][0];
        let play_path = media["playPath"].as_str().expect("playPath");
        assert!(
            play_path.ends_with(&format!(".{extension}")),
            "{kind:?} {path}: {play_path}"
        );
        assert!(media["mediaUri"].as_str().unwrap().ends_with(play_path));
        assert_eq!(media["mediaPath"], play_path);
        assert_eq!(media["originalMediaDescriptor"]["path"], path);
    }
}

#[tokio::test]
async fn unknown_fields_anywhere_are_returned_verbatim() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let sent = edited(
        &complete_record("unknown-fields"),
        [
            set(
                "/x-vendor",
                json!({"nested": [1, "two", null, {"three": 3.5}]}),
            ),
            set("/legacyFlag", json!(true)),
            set("/mediaFiles/0/vendorTag", json!("abc")),
            set(
                "/mediaFiles/0/parameters/customParameter",
                json!({"any": ["shape"]}),
            ),
            set("/mediaFiles/0/mediaDescriptor/bucket", json!("b-1")),
            set("/mediaFiles/0/masks/0/reason", json!("pci")),
            set("/eventHistory/0/extra", json!(42)),
            set("/eventHistory/0/data/deep", json!({"a": {"b": {"c": []}}})),
            set("/eventHistory/1/contact/nickname", json!("bobby")),
        ],
    );

    app.insert(&cc, &sent).await.assert_ok();

    let stored = app.recording(&cc, "unknown-fields").await;
    assert_eq!(stored["x-vendor"], sent["x-vendor"]);
    assert_eq!(stored["legacyFlag"], true);
    assert_contains_all(&stored["mediaFiles"][0], &sent["mediaFiles"][0]);
    let events = stored["eventHistory"].as_array().unwrap();
    for event in sent["eventHistory"].as_array().unwrap() {
        assert!(has_event(events, event), "event {event} in {stored}");
    }
}

#[tokio::test]
async fn call_type_is_matched_case_insensitively_and_stored_canonically() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let cases = [
        ("inbound", "Inbound"),
        ("OUTBOUND", "Outbound"),
        ("internal", "Internal"),
        ("cOnSuLt", "Consult"),
        ("Unknown", "Unknown"),
    ];
    for (sent, canonical) in cases {
        let id = format!("call-type-{sent}");
        app.insert(
            &cc,
            &edited(&minimal_record(&id), [set("/callType", json!(sent))]),
        )
        .await
        .assert_ok();
        assert_eq!(app.recording(&cc, &id).await["callType"], canonical);
    }
}

#[tokio::test]
async fn a_complete_record_is_not_flagged_incomplete() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &complete_record("complete"))
        .await
        .assert_ok();

    let stored = app.recording(&cc, "complete").await;
    assert!(stored.get("incomplete").is_none(), "{stored}");
    assert!(stored.get("missingFields").is_none(), "{stored}");
}

#[tokio::test]
async fn absent_soft_fields_are_accepted_and_listed() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let cases: [(&str, &str); 6] = [
        ("/mediaFiles/0/mediaId", "mediaFiles[0].mediaId"),
        ("/mediaFiles/0/parameters", "mediaFiles[0].parameters"),
        (
            "/mediaFiles/0/parameters/callUuid",
            "mediaFiles[0].parameters.callUuid",
        ),
        ("/mediaFiles/0/parameters/id", "mediaFiles[0].parameters.id"),
        ("/eventHistory/1/contact/firstName", ".contact.firstName"),
        ("/eventHistory/2/contact/lastName", ".contact.lastName"),
    ];
    for (index, (pointer, path)) in cases.into_iter().enumerate() {
        let id = format!("soft-{index}");
        app.insert(&cc, &edited(&complete_record(&id), [remove(pointer)]))
            .await
            .assert_ok();
        let stored = app.recording(&cc, &id).await;
        assert_eq!(stored["incomplete"], true, "{pointer}: {stored}");
        let missing = stored["missingFields"].as_array().expect("missingFields");
        let listed: Vec<&str> = missing.iter().map(|m| m.as_str().unwrap()).collect();
        assert!(
            listed.iter().any(|m| m.ends_with(path)),
            "{pointer}: {listed:?}"
        );
        let nested = format!("{path}.");
        assert!(
            listed
                .iter()
                .all(|m| m.ends_with(path) || m.contains(&nested)),
            "{pointer}: only what is absent is listed: {listed:?}"
        );
    }
}

#[tokio::test]
async fn optional_fields_may_be_absent_and_lenient_values_are_accepted() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let variants: Vec<(&str, Vec<crate::body::Edit>)> = vec![
        ("no-event-history", vec![remove("/eventHistory")]),
        ("empty-event-history", vec![set("/eventHistory", json!([]))]),
        ("no-call-type", vec![remove("/callType")]),
        ("no-type", vec![remove("/mediaFiles/0/type")]),
        (
            "no-optional-media-fields",
            [
                "duration",
                "size",
                "tenant",
                "ivrprofile",
                "pkcs7",
                "certAlias",
                "partitions",
                "accessgroups",
                "masks",
            ]
            .iter()
            .map(|name| remove(&format!("/mediaFiles/0/{name}")))
            .collect(),
        ),
        (
            "no-storage-version",
            vec![remove("/mediaFiles/0/mediaDescriptor/storage_version")],
        ),
        (
            "storage-upper-case",
            vec![set(
                "/mediaFiles/0/mediaDescriptor/storage",
                json!("WEBDAV"),
            )],
        ),
        (
            "storage-lower-case",
            vec![set(
                "/mediaFiles/0/mediaDescriptor/storage",
                json!("webdav"),
            )],
        ),
        (
            "relative-path",
            vec![set(
                "/mediaFiles/0/mediaDescriptor/path",
                json!("calls/2015/06/a.mp3"),
            )],
        ),
        (
            "https-path",
            vec![set(
                "/mediaFiles/0/mediaDescriptor/path",
                json!("https://dav.example.com:8443/a.mp3?v=1"),
            )],
        ),
        (
            "numbers",
            vec![
                set("/mediaFiles/0/duration", json!(59000)),
                set("/mediaFiles/0/size", json!(0)),
            ],
        ),
        (
            "seconds",
            vec![
                set("/mediaFiles/0/duration", json!("6.192")),
                set("/mediaFiles/0/size", json!(12.5)),
            ],
        ),
        (
            "resume-before-pause",
            vec![
                set("/mediaFiles/0/masks/0/type", json!("resume")),
                set("/mediaFiles/0/masks/1/type", json!("paused")),
            ],
        ),
        (
            "empty-arrays",
            vec![
                set("/mediaFiles/0/certAlias", json!([])),
                set("/mediaFiles/0/masks", json!([])),
            ],
        ),
        (
            "other-parameters",
            vec![set("/mediaFiles/0/parameters/custom", json!({"n": [1, 2]}))],
        ),
        (
            "left-by-a-user",
            vec![
                set("/eventHistory/2/contact/type", json!("User")),
                set("/eventHistory/2/contact/userName", json!("u")),
            ],
        ),
        (
            "stop-equals-start",
            vec![set(
                "/mediaFiles/0/stopTime",
                json!("2015-06-15T23:59:00.000Z"),
            )],
        ),
        (
            "free-form-data",
            vec![set(
                "/eventHistory/0/data",
                json!({"a": [1, {"b": null}], "c": "d"}),
            )],
        ),
        (
            "other-video-type",
            vec![set("/mediaFiles/0/type", json!("video/webm"))],
        ),
    ];
    for (id, edits) in variants {
        let sent = edited(&complete_record(id), edits);
        app.insert(&cc, &sent).await.assert_ok();
        let stored = app.recording(&cc, id).await;
        assert_contains_all(&stored["mediaFiles"][0], &sent["mediaFiles"][0]);
    }
}

#[tokio::test]
async fn ids_up_to_256_characters_of_any_kind_are_accepted() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let ids = [
        "a".repeat(256),
        "é".repeat(256),
        "call 1/2?x=y#z%20".to_owned(),
        "通话-記録".to_owned(),
    ];
    for (index, id) in ids.iter().enumerate() {
        let body = edited(
            &minimal_record(id),
            [set(
                "/mediaFiles/0/mediaId",
                json!(format!("media-{index}")),
            )],
        );
        app.insert(&cc, &body).await.assert_ok();
        assert_eq!(
            app.recording(&cc, id).await["id"],
            Value::String(id.clone())
        );
    }
}

#[tokio::test]
async fn unusual_json_values_are_kept_verbatim() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let mut deep = json!("bottom");
    for _ in 0..100 {
        deep = json!({ "level": deep });
    }
    let unusual = json!({
        "nul": "a\u{0}b",
        "emoji": "📞 ☎",
        "escapes": "quote \" backslash \\ newline \n tab \t",
        "big": u64::MAX,
        "small": i64::MIN,
        "fraction": 3.25,
        "huge": 1e300,
        "empty": {},
        "nothing": null
    });
    let sent = edited(
        &complete_record("unusual"),
        [
            set("/x-unusual", unusual.clone()),
            set("/eventHistory/0/data/deep", deep.clone()),
        ],
    );
    app.insert(&cc, &sent).await.assert_ok();

    let stored = app.recording(&cc, "unusual").await;
    assert_eq!(stored["x-unusual"], unusual);
    let events = stored["eventHistory"].as_array().unwrap();
    assert!(
        has_event(events, &sent["eventHistory"][0]),
        "the deep data event is kept"
    );
}

#[tokio::test]
async fn the_outcome_header_says_whether_a_post_created_merged_or_changed_nothing() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let first = complete_record("outcome-1");
    let mut segment = first.clone();
    segment["mediaFiles"][0]["mediaId"] = json!("outcome-1-second");
    segment["mediaFiles"][0]["startTime"] = json!("2015-06-16T00:00:00.000Z");
    segment["mediaFiles"][0]["stopTime"] = json!("2015-06-16T00:01:00.000Z");

    for (body, said) in [
        (&first, "created"),
        (&segment, "merged"),
        (&segment, "unchanged"),
        (&first, "unchanged"),
    ] {
        let answer = app.insert(&cc, body).await;
        answer.assert_ok();
        assert_eq!(
            answer.header("x-gird-outcome").as_deref(),
            Some(said),
            "{body}"
        );
    }
    let stored = app.recording(&cc, "outcome-1").await;
    assert_eq!(stored["mediaFiles"].as_array().unwrap().len(), 2);

    let refused = app.insert(&cc, &json!({"id": "outcome-2"})).await;
    refused.assert_error(400, 1);
    assert_eq!(refused.header("x-gird-outcome"), None, "successes only");
}
