//! Request bodies: the public fixtures, a complete record, and edits by JSON pointer.

use serde_json::{json, Value};

/// The public sample (`alex-test-id`).
pub fn sample() -> Value {
    serde_json::from_str(include_str!("fixtures/seed-sample.json")).expect("sample fixture")
}

/// The segments of one call, as separate POST bodies with the same id.
pub fn fixture_segments() -> Vec<Value> {
    serde_json::from_str(include_str!("fixtures/multi-segment-call.json"))
        .expect("segments fixture")
}

/// A record with every field of docs/API.md present, soft ones included. Its events are
/// `Data` (index 0), `Joined` by a user (1) and `Left` by an external party (2).
pub fn complete_record(id: &str) -> Value {
    json!({
        "id": id,
        "callerPhoneNumber": "+14160000000",
        "dialedPhoneNumber": "+14161111111",
        "region": "Can-West",
        "callType": "Inbound",
        "mediaFiles": [{
            "callUUID": format!("{id}-call"),
            "startTime": "2015-06-15T23:59:00.000Z",
            "stopTime": "2015-06-15T23:59:59.000Z",
            "mediaId": format!("{id}-media"),
            "type": "audio/mp3",
            "duration": "59000",
            "size": "67324",
            "tenant": "Environment",
            "ivrprofile": "profile-1",
            "pkcs7": "MIIB-envelope",
            "certAlias": ["alias-1"],
            "partitions": ["partition-1"],
            "accessgroups": ["group-1"],
            "parameters": {
                "username": "agent.bob@example.com",
                "agentId": "agent-1",
                "recordDN": "1001",
                "dnis": "2002",
                "ani": "3003",
                "callUuid": format!("{id}-call"),
                "id": format!("{id}-parameters")
            },
            "masks": [
                {"time": "2015-06-15T23:59:10.034Z", "type": "paused"},
                {"time": "2015-06-15T23:59:20.034Z", "type": "resume"}
            ],
            "mediaDescriptor": {
                "storage": "webDAV",
                "path": "http://example.com/file1.mp3",
                "storage_version": "1"
            }
        }],
        "eventHistory": [
            {
                "occurredAt": "2015-06-15T23:59:30.000+0000",
                "calluuid": format!("{id}-call"),
                "eventId": format!("{id}-data"),
                "event": "Data",
                "data": {"added": {"drink": "cola"}}
            },
            {
                "occurredAt": "2015-06-15T23:59:00.000Z",
                "event": "Joined",
                "contact": {
                    "type": "User", "phoneNumber": "417001", "userName": "agent.bob@example.com",
                    "firstName": "Bob", "lastName": "Smith"
                }
            },
            {
                "occurredAt": "2015-06-15T23:59:59.000Z",
                "event": "Left",
                "contact": {
                    "type": "External", "phoneNumber": "+14160000000",
                    "firstName": "Alice", "lastName": "Jones"
                }
            }
        ]
    })
}

/// A small valid record with one media file (`<id>-media`) and no events.
pub fn minimal_record(id: &str) -> Value {
    json!({
        "id": id,
        "callerPhoneNumber": "+14160000000",
        "dialedPhoneNumber": "+14161111111",
        "region": "Can-West",
        "mediaFiles": [media_file(&format!("{id}-media"), "2015-06-15T23:59:00.000Z", "2015-06-15T23:59:59.000Z")]
    })
}

pub fn media_file(media_id: &str, start: &str, stop: &str) -> Value {
    json!({
        "callUUID": format!("{media_id}-call"),
        "startTime": start,
        "stopTime": stop,
        "mediaId": media_id,
        "type": "audio/mp3",
        "mediaDescriptor": {"storage": "webDAV", "path": format!("http://example.com/{media_id}.mp3")}
    })
}

/// Segment `index` of call `id`: its own media file (one minute long, `index` minutes
/// after 10:00 UTC) and its own `Data` event.
pub fn segment(id: &str, index: usize) -> Value {
    let minute = |second: u32| {
        format!(
            "2015-06-15T{:02}:{:02}:{second:02}Z",
            10 + index / 60,
            index % 60
        )
    };
    let mut body = minimal_record(id);
    body["mediaFiles"] = json!([media_file(
        &format!("{id}-media-{index}"),
        &minute(0),
        &minute(59)
    )]);
    body["eventHistory"] = json!([{
        "occurredAt": minute(30), "event": "Data",
        "eventId": format!("{id}-event-{index}"), "data": {"segment": index}
    }]);
    body
}

/// A change to a body at a JSON pointer (`/mediaFiles/0/startTime`; `-` appends).
pub enum Edit {
    Set(String, Value),
    Remove(String),
}

pub fn set(pointer: &str, value: Value) -> Edit {
    Edit::Set(pointer.to_owned(), value)
}

pub fn remove(pointer: &str) -> Edit {
    Edit::Remove(pointer.to_owned())
}

impl Edit {
    pub fn pointer(&self) -> &str {
        match self {
            Edit::Set(pointer, _) | Edit::Remove(pointer) => pointer,
        }
    }
}

/// A copy of `body` with the edits applied in order.
pub fn edited(body: &Value, edits: impl IntoIterator<Item = Edit>) -> Value {
    let mut body = body.clone();
    for edit in edits {
        apply(&mut body, edit);
    }
    body
}

fn apply(body: &mut Value, edit: Edit) {
    let (pointer, value) = match edit {
        Edit::Set(pointer, value) => (pointer, Some(value)),
        Edit::Remove(pointer) => (pointer, None),
    };
    let (parent, last) = pointer.rsplit_once('/').expect("a JSON pointer");
    let target = body
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{parent} is not in the body"));
    match (target, value) {
        (Value::Object(object), Some(value)) => {
            object.insert(last.to_owned(), value);
        }
        (Value::Object(object), None) => {
            object
                .remove(last)
                .unwrap_or_else(|| panic!("{pointer} is not in the body"));
        }
        (Value::Array(list), Some(value)) if last == "-" => list.push(value),
        (Value::Array(list), Some(value)) => list[index(last)] = value,
        (Value::Array(list), None) => {
            list.remove(index(last));
        }
        _ => panic!("{parent} is neither an object nor an array"),
    }
}

fn index(token: &str) -> usize {
    token.parse().expect("an array index")
}

/// The path gird names in messages for a JSON pointer:
/// `/mediaFiles/0/mediaDescriptor/path` → `mediaFiles[0].mediaDescriptor.path`.
pub fn json_path(pointer: &str) -> String {
    let mut path = String::new();
    for token in pointer.split('/').skip(1) {
        if token.parse::<usize>().is_ok() {
            path.push_str(&format!("[{token}]"));
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(token);
        }
    }
    path
}

/// The media file of a stored view with the given `mediaId`.
pub fn media_by_id<'a>(recording: &'a Value, media_id: &str) -> &'a Value {
    recording["mediaFiles"]
        .as_array()
        .expect("mediaFiles")
        .iter()
        .find(|media| media["mediaId"] == media_id)
        .unwrap_or_else(|| panic!("no media file {media_id} in {recording}"))
}

/// The instants the view adds beside the times a client sent.
pub const DERIVED_INSTANTS: [&str; 4] = ["startTimeMs", "stopTimeMs", "timeMs", "occurredAtMs"];

/// A part of the view (an event, a media file) without the instants the view derives:
/// what the client sent.
pub fn as_sent(view: &Value) -> Value {
    let mut sent = view.clone();
    strip(&mut sent, &DERIVED_INSTANTS);
    sent
}

/// Whether the view's events hold `event` as it was sent.
pub fn has_event(events: &[Value], event: &Value) -> bool {
    events.iter().any(|shown| as_sent(shown) == *event)
}

/// Asserts that every field of `sent` is in `stored` with the same value (the stored
/// object may add fields, such as the playback fields and derived instants).
pub fn assert_contains_all(stored: &Value, sent: &Value) {
    let sent = sent.as_object().expect("sent object");
    let stored = as_sent(stored);
    for (name, value) in sent {
        assert_eq!(&stored[name], value, "field {name} of {stored}");
    }
}

/// The stored view without what legitimately differs between equal records: the
/// `receivedAt` stamps, and the playback fields (their uuid depends on the contact center).
pub fn comparable(recording: &Value) -> Value {
    let mut recording = recording.clone();
    strip(
        &mut recording,
        &["receivedAt", "mediaUri", "playPath", "mediaPath"],
    );
    recording
}

fn strip(value: &mut Value, names: &[&str]) {
    match value {
        Value::Object(object) => {
            for name in names {
                object.remove(*name);
            }
            object.values_mut().for_each(|v| strip(v, names));
        }
        Value::Array(list) => list.iter_mut().for_each(|v| strip(v, names)),
        _ => {}
    }
}
