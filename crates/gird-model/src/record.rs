//! A recording as posted to the Insertion API: checked once, then typed.
//!
//! The JSON object a client sent is kept whole (unknown fields included, so nothing is
//! lost); the typed parts beside it are what gird interprets: the id, the media keys and
//! the instants that merging and searching need.

use serde_json::{Map, Value};

use crate::check::Checker;
use crate::datetime::Millis;
use crate::violation::Violations;

/// The most characters of a recording's id (its rule is [`crate::RecordingId`]'s).
pub const MAX_ID_CHARS: usize = crate::id::MAX_RECORDING_ID_CHARS;
pub const CALL_TYPES: [&str; 5] = ["Internal", "Inbound", "Outbound", "Consult", "Unknown"];

/// A recording that passed every rule of docs/API.md.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    pub id: String,
    /// Top-level fields other than `mediaFiles` and `eventHistory`, as sent (callType
    /// in its canonical spelling).
    pub fields: Map<String, Value>,
    pub media_files: Vec<MediaFile>,
    pub events: Vec<Event>,
    /// Whether the client sent `eventHistory` (possibly empty), so it is given back.
    pub has_event_history: bool,
}

/// One media file: its identity for merging, its instants, and the object as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaFile {
    pub key: MediaKey,
    pub start: Millis,
    pub stop: Millis,
    pub json: Value,
}

/// What identifies a media file across the POSTs of one call.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MediaKey {
    MediaId(String),
    /// `callUUID`, start instant and `mediaDescriptor.path`, for files without `mediaId`.
    Segment {
        call_uuid: String,
        start: Millis,
        path: String,
    },
}

impl MediaKey {
    pub fn media_id(&self) -> Option<&str> {
        match self {
            MediaKey::MediaId(id) => Some(id),
            MediaKey::Segment { .. } => None,
        }
    }
}

impl std::fmt::Display for MediaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MediaKey::MediaId(id) => f.write_str(id),
            MediaKey::Segment {
                call_uuid,
                start,
                path,
            } => write!(
                f,
                "{call_uuid}|{}|{path}",
                crate::datetime::format_millis(*start)
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub occurred_at: Millis,
    /// The `eventId` of a `Data` event.
    pub data_event_id: Option<String>,
    pub json: Value,
}

impl Recording {
    /// The user names the recording is on, in lower case, each once: its media files'
    /// `parameters.username` and its events' `contact.userName` (agents are found and
    /// shown their recordings by these).
    pub fn user_names(&self) -> Vec<String> {
        let media = self
            .media_files
            .iter()
            .map(|m| m.json["parameters"]["username"].as_str());
        let events = self
            .events
            .iter()
            .map(|e| e.json["contact"]["userName"].as_str());
        let mut names: Vec<String> = Vec::new();
        for name in media.chain(events).flatten().filter(|n| !n.is_empty()) {
            let name = name.to_lowercase();
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// Parses a request body that is already known to be a JSON object.
    pub fn from_json(object: Map<String, Value>) -> Result<Recording, Violations> {
        let mut checker = Checker::default();
        let recording = checker.recording(object);
        match (recording, checker.into_violations()) {
            (Some(recording), violations) if violations.is_empty() => Ok(recording),
            (_, violations) => Err(violations),
        }
    }

    /// Reads a recording gird stored, without the insertion rules: it passed them when it
    /// came, and a rule tightened since must not make it unreadable (or undeletable). Only
    /// what gird interprets is taken out — the id, each media file's key and instants,
    /// each event's instant and `eventId` — leniently: a time that no longer parses reads
    /// as the epoch. Fails only when the id itself is missing, or a part is not the kind of
    /// JSON value it always is (the data is damaged).
    pub fn decode(mut object: Map<String, Value>) -> Result<Recording, String> {
        let id = object
            .get("id")
            .and_then(Value::as_str)
            .ok_or("a stored recording without an id")?
            .to_owned();
        let instant = |value: &Value, name: &str| {
            value[name]
                .as_str()
                .and_then(crate::datetime::parse_iso)
                .unwrap_or(0)
        };
        let media_files = match object.remove("mediaFiles") {
            Some(Value::Array(list)) => list
                .into_iter()
                .map(|json| {
                    let text = |name: &str| json[name].as_str().unwrap_or_default().to_owned();
                    let start = instant(&json, "startTime");
                    let key = match json["mediaId"].as_str() {
                        Some(media_id) => MediaKey::MediaId(media_id.to_owned()),
                        None => MediaKey::Segment {
                            call_uuid: text("callUUID"),
                            start,
                            path: json["mediaDescriptor"]["path"]
                                .as_str()
                                .unwrap_or_default()
                                .to_owned(),
                        },
                    };
                    MediaFile {
                        key,
                        start,
                        stop: instant(&json, "stopTime"),
                        json,
                    }
                })
                .collect(),
            None => Vec::new(),
            Some(_) => return Err(format!("recording {id:?}: mediaFiles is not an array")),
        };
        let has_event_history = object.contains_key("eventHistory");
        let events = match object.remove("eventHistory") {
            Some(Value::Array(list)) => list
                .into_iter()
                .map(|json| Event {
                    occurred_at: instant(&json, "occurredAt"),
                    data_event_id: (json["event"] == "Data")
                        .then(|| json["eventId"].as_str().map(str::to_owned))
                        .flatten(),
                    json,
                })
                .collect(),
            None => Vec::new(),
            Some(_) => return Err(format!("recording {id:?}: eventHistory is not an array")),
        };
        Ok(Recording {
            id,
            fields: object,
            media_files,
            events,
            has_event_history,
        })
    }

    /// The JSON object this recording stands for (the shape a client posts).
    pub fn to_json(&self) -> Map<String, Value> {
        let mut object = self.fields.clone();
        object.insert(
            "mediaFiles".into(),
            Value::Array(self.media_files.iter().map(|m| m.json.clone()).collect()),
        );
        if self.has_event_history || !self.events.is_empty() {
            object.insert(
                "eventHistory".into(),
                Value::Array(self.events.iter().map(|e| e.json.clone()).collect()),
            );
        }
        object
    }

    /// Earliest start and latest stop over the media files.
    pub fn time_span(&self) -> (Millis, Millis) {
        let start = self.media_files.iter().map(|m| m.start).min();
        let stop = self.media_files.iter().map(|m| m.stop).max();
        (start.unwrap_or(0), stop.unwrap_or(0))
    }

    pub fn text_field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::violation::ViolationKind::{self, Invalid, Missing};
    use serde_json::json;

    fn sample() -> Value {
        serde_json::from_str(include_str!("../../../examples/seed-sample.json")).unwrap()
    }

    fn violations_of(body: Value) -> Vec<(String, ViolationKind)> {
        match Recording::from_json(body.as_object().unwrap().clone()) {
            Ok(_) => Vec::new(),
            Err(violations) => violations.0.into_iter().map(|v| (v.path, v.kind)).collect(),
        }
    }

    #[test]
    fn a_valid_record_decodes_to_what_validation_gives() {
        let body = sample();
        let validated = Recording::from_json(body.as_object().unwrap().clone()).unwrap();
        let decoded = Recording::decode(validated.to_json()).unwrap();
        assert_eq!(decoded, validated);
    }

    #[test]
    fn a_record_stored_before_a_rule_was_tightened_still_decodes() {
        // Say a later gird refused regions of more than 3 characters, types that are not
        // audio, or events without a calluuid: what is stored decodes as it is.
        let mut body = sample();
        body["region"] = json!("a-region-a-tighter-rule-refuses");
        body["mediaFiles"][0]["type"] = json!("x-unheard-of/type");
        body["eventHistory"][0]["occurredAt"] = json!("2015-06-15T23:59:00 a format gone");
        let decoded = Recording::decode(body.as_object().unwrap().clone()).unwrap();
        assert_eq!(decoded.id, "alex-test-id");
        assert_eq!(decoded.media_files.len(), 2);
        assert_eq!(
            decoded.events[0].occurred_at, 0,
            "an unreadable time reads as 0"
        );
        assert!(Recording::decode(serde_json::Map::new()).is_err(), "no id");
    }

    #[test]
    fn the_public_sample_is_valid() {
        let recording = Recording::from_json(sample().as_object().unwrap().clone()).unwrap();
        assert_eq!(recording.id, "alex-test-id");
        assert_eq!(recording.media_files.len(), 2);
        assert_eq!(recording.events.len(), 2);
        assert_eq!(
            recording.time_span(),
            (1_434_412_680_000, 1_434_412_799_000)
        );
    }

    #[test]
    fn each_rule_names_its_path_and_kind() {
        let cases: Vec<(&str, Value, ViolationKind)> = vec![
            ("/id", json!(null), Missing),
            ("/id", json!(""), Invalid),
            ("/id", json!("x".repeat(257)), Invalid),
            ("/callerPhoneNumber", json!(5), Invalid),
            ("/region", json!(null), Missing),
            ("/region", json!("West\u{0}"), Invalid),
            ("/callType", json!("Sideways"), Invalid),
            ("/mediaFiles", json!([]), Invalid),
            ("/mediaFiles", json!({}), Invalid),
            ("/mediaFiles/0/callUUID", json!(null), Missing),
            (
                "/mediaFiles/0/stopTime",
                json!("2015-06-15T23:58:59.000"),
                Invalid,
            ),
            (
                "/mediaFiles/0/startTime",
                json!("2015-13-01T00:00:00"),
                Invalid,
            ),
            ("/mediaFiles/0/duration", json!("-1"), Invalid),
            ("/mediaFiles/0/size", json!(true), Invalid),
            ("/mediaFiles/0/type", json!("mp3"), Invalid),
            ("/mediaFiles/0/masks/0/type", json!("stopped"), Invalid),
            ("/mediaFiles/0/masks/0/time", json!(null), Missing),
            ("/mediaFiles/0/parameters/username", json!(7), Invalid),
            ("/mediaFiles/0/partitions", json!(["a", 1]), Invalid),
            (
                "/mediaFiles/0/mediaDescriptor/storage",
                json!("s3"),
                Invalid,
            ),
            (
                "/mediaFiles/0/mediaDescriptor/path",
                json!("ftp://x/y"),
                Invalid,
            ),
            ("/mediaFiles/0/mediaDescriptor", json!(null), Missing),
            ("/eventHistory/1/contact/userName", json!(null), Missing),
            ("/eventHistory/1/contact/type", json!("Robot"), Invalid),
            ("/eventHistory/0/eventId", json!(null), Missing),
            ("/eventHistory/0/data", json!("text"), Invalid),
            ("/eventHistory/0/event", json!("Moved"), Invalid),
            ("/eventHistory/0/occurredAt", json!("noon"), Invalid),
        ];
        for (pointer, value, kind) in cases {
            let mut body = sample();
            let (parent, name) = pointer.rsplit_once('/').unwrap();
            let target = body.pointer_mut(parent).unwrap();
            if value.is_null() {
                target.as_object_mut().unwrap().remove(name);
            } else if let Ok(index) = name.parse::<usize>() {
                target[index] = value;
            } else {
                target[name] = value;
            }
            let path = pointer[1..].split('/').fold(String::new(), |path, part| {
                match part.parse::<usize>() {
                    Ok(index) => format!("{path}[{index}]"),
                    Err(_) if path.is_empty() => part.to_owned(),
                    Err(_) => format!("{path}.{part}"),
                }
            });
            let found = violations_of(body);
            assert!(
                found
                    .iter()
                    .any(|(p, k)| p.starts_with(&path) && *k == kind),
                "{pointer}: expected {kind:?} at {path}, got {found:?}"
            );
        }
    }

    fn with_descriptor(descriptor: Value) -> Value {
        let mut body = sample();
        body["mediaFiles"][0]["mediaDescriptor"] = descriptor;
        body
    }

    #[test]
    fn aws_s3_descriptors_need_a_bucket_and_a_usable_key() {
        let good = json!({"storage": "awsS3", "path": "calls/2015/a.mp3", "data": {"bucket": "acme-recordings"}});
        let recording =
            Recording::from_json(with_descriptor(good.clone()).as_object().unwrap().clone());
        assert_eq!(
            recording.unwrap().media_files[0].json["mediaDescriptor"],
            good,
            "kept as sent"
        );
        let upper = json!({"storage": "AWSS3", "path": "a.mp3", "data": {"bucket": "Legacy_Bucket", "region": "x"}});
        assert_eq!(violations_of(with_descriptor(upper)), []);
        let at = |name: &str| format!("mediaFiles[0].mediaDescriptor.{name}");
        let cases = [
            (
                json!({"storage": "awsS3", "path": "a.mp3"}),
                at("data.bucket"),
                Missing,
            ),
            (
                json!({"storage": "awsS3", "path": "a.mp3", "data": {}}),
                at("data.bucket"),
                Missing,
            ),
            (
                json!({"storage": "awsS3", "path": "a.mp3", "data": "b"}),
                at("data"),
                Invalid,
            ),
            (
                json!({"storage": "awsS3", "path": "a.mp3", "data": {"bucket": 7}}),
                at("data.bucket"),
                Invalid,
            ),
            (
                json!({"storage": "awsS3", "path": "a.mp3", "data": {"bucket": ""}}),
                at("data.bucket"),
                Invalid,
            ),
            (
                json!({"storage": "awsS3", "path": "a.mp3", "data": {"bucket": "evil.example/x"}}),
                at("data.bucket"),
                Invalid,
            ),
            (
                json!({"storage": "awsS3", "path": "../other/a.mp3", "data": {"bucket": "abc"}}),
                at("path"),
                Invalid,
            ),
            (
                json!({"storage": "awsS3", "path": "", "data": {"bucket": "abc"}}),
                at("path"),
                Invalid,
            ),
            (
                json!({"storage": "awsS3", "data": {"bucket": "abc"}}),
                at("path"),
                Missing,
            ),
            (
                json!({"storage": "gcs", "path": "a.mp3", "data": {"bucket": "abc"}}),
                at("storage"),
                Invalid,
            ),
        ];
        for (descriptor, path, kind) in cases {
            let found = violations_of(with_descriptor(descriptor.clone()));
            assert_eq!(found, [(path.clone(), kind)], "{descriptor}");
        }
    }

    #[test]
    fn call_type_is_canonicalised() {
        let mut body = sample();
        body["callType"] = json!("oUtBoUnD");
        let recording = Recording::from_json(body.as_object().unwrap().clone()).unwrap();
        assert_eq!(recording.text_field("callType"), Some("Outbound"));
    }

    #[test]
    fn duplicate_keys_in_one_request() {
        let mut body = sample();
        let first = body["mediaFiles"][0].clone();
        body["mediaFiles"]
            .as_array_mut()
            .unwrap()
            .push(first.clone());
        assert_eq!(
            Recording::from_json(body.as_object().unwrap().clone())
                .unwrap()
                .media_files
                .len(),
            2
        );
        let mut changed = first;
        changed["size"] = json!("1");
        body["mediaFiles"].as_array_mut().unwrap().push(changed);
        assert_eq!(violations_of(body), [("mediaFiles[3]".to_owned(), Invalid)]);
    }
}
