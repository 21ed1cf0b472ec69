//! The read view of a stored recording (docs/API.md): the merged record plus derived
//! times, playback fields and the completeness flag.
//!
//! Beside every time a client sent, the view adds the instant gird read in it, in epoch
//! milliseconds (`startTimeMs`, `timeMs`, `occurredAtMs`, ...): a time without offset is
//! UTC to gird, and a reader that parsed the text itself (a browser's `Date.parse`
//! takes it as local time) would see another instant than the one gird searches by.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::datetime::{format_millis, parse_iso, Millis};
use crate::record::{MediaFile, Recording};
use crate::stored::StoredRecording;

/// Namespace of the playback uuids, so they are stable across restarts and instances.
const PLAY_NAMESPACE: Uuid = Uuid::from_u128(0x6769_7264_2d70_6c61_792d_6964_7300_0001);

/// The playback id of a media file: a UUID v5 of contact center, recording and media key.
pub fn play_uuid(contact_center: &str, recording_id: &str, media_file: &MediaFile) -> Uuid {
    let name = format!("{contact_center}\n{recording_id}\n{}", media_file.key);
    Uuid::new_v5(&PLAY_NAMESPACE, name.as_bytes())
}

/// The file extension used in play paths: from the MIME type, else from the path.
pub fn media_extension(media_file: &Value) -> String {
    let mime = media_file["type"].as_str().unwrap_or_default();
    let essence = mime
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let known = match essence.as_str() {
        "audio/mp3" | "audio/mpeg" | "audio/mpeg3" | "audio/x-mpeg-3" => Some("mp3"),
        "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/vnd.wave" => Some("wav"),
        "video/mp4" | "audio/mp4" => Some("mp4"),
        "audio/ogg" => Some("ogg"),
        "audio/webm" | "video/webm" => Some("webm"),
        _ => None,
    };
    if let Some(extension) = known {
        return extension.to_owned();
    }
    let path = media_file["mediaDescriptor"]["path"]
        .as_str()
        .unwrap_or_default();
    let file = path.split(['?', '#']).next().unwrap_or_default();
    let file = file.rsplit('/').next().unwrap_or_default();
    match file.rsplit_once('.') {
        Some((_, ext))
            if !ext.is_empty()
                && ext.len() <= 5
                && ext.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            ext.to_ascii_lowercase()
        }
        _ => "bin".to_owned(),
    }
}

/// Soft fields (docs/API.md, "soft fields") the record lacks, by JSON path.
pub fn missing_soft_fields(recording: &Recording) -> Vec<String> {
    let mut missing = Vec::new();
    for (index, media_file) in recording.media_files.iter().enumerate() {
        let path = format!("mediaFiles[{index}]");
        let json = &media_file.json;
        if json["mediaId"].is_null() {
            missing.push(format!("{path}.mediaId"));
        }
        match json["parameters"].as_object() {
            None => missing.push(format!("{path}.parameters")),
            Some(parameters) => {
                for name in ["callUuid", "id"] {
                    if parameters.get(name).is_none_or(Value::is_null) {
                        missing.push(format!("{path}.parameters.{name}"));
                    }
                }
            }
        }
    }
    for (index, event) in recording.events.iter().enumerate() {
        let Some(contact) = event.json["contact"].as_object() else {
            continue;
        };
        for name in ["firstName", "lastName"] {
            if contact.get(name).is_none_or(Value::is_null) {
                missing.push(format!("eventHistory[{index}].contact.{name}"));
            }
        }
    }
    missing
}

/// Renders the recording as the read API answers it. `public_url` is the server's base
/// URL without a trailing slash (`http://host:port`).
pub fn render(
    stored: &StoredRecording,
    recording: &Recording,
    contact_center: &str,
    public_url: &str,
) -> Value {
    let mut view: Map<String, Value> = stored.recording.clone();
    let (start, stop) = recording.time_span();
    view.insert("startTime".into(), Value::String(format_millis(start)));
    view.insert("stopTime".into(), Value::String(format_millis(stop)));
    view.insert("startTimeMs".into(), start.into());
    view.insert("stopTimeMs".into(), stop.into());
    let media_files = recording
        .media_files
        .iter()
        .map(|media_file| playable(media_file, &recording.id, contact_center, public_url))
        .collect();
    view.insert("mediaFiles".into(), Value::Array(media_files));
    if let Some(events) = view.get_mut("eventHistory").and_then(Value::as_array_mut) {
        for event in events {
            add_instant(event, "occurredAt", "occurredAtMs");
        }
    }
    if !stored.merge_conflicts.is_empty() {
        let conflicts = serde_json::to_value(&stored.merge_conflicts).unwrap_or_default();
        view.insert("mergeConflicts".into(), conflicts);
    }
    let missing = missing_soft_fields(recording);
    if !missing.is_empty() {
        view.insert("incomplete".into(), Value::Bool(true));
        view.insert("missingFields".into(), missing.into());
    }
    Value::Object(view)
}

fn playable(
    media_file: &MediaFile,
    recording_id: &str,
    contact_center: &str,
    public_url: &str,
) -> Value {
    let mut json = media_file.json.clone();
    let uuid = play_uuid(contact_center, recording_id, media_file);
    let extension = media_extension(&json);
    let encoded_id = percent_encode_segment(recording_id);
    let play_path = format!("/recordings/{encoded_id}/play/{uuid}.{extension}");
    let descriptor = json["mediaDescriptor"].clone();
    if let Some(masks) = json.get_mut("masks").and_then(Value::as_array_mut) {
        for mask in masks {
            add_instant(mask, "time", "timeMs");
        }
    }
    if let Some(object) = json.as_object_mut() {
        object.insert("startTimeMs".into(), media_file.start.into());
        object.insert("stopTimeMs".into(), media_file.stop.into());
        object.insert(
            "mediaUri".into(),
            format!("{public_url}/api/v2{play_path}").into(),
        );
        // As in RWS: the path to play it (relative to /api/v2), never the storage URL.
        object.insert("mediaPath".into(), play_path.clone().into());
        object.insert("playPath".into(), play_path.into());
        // RWS re-exposes the stored descriptor under this name; readers take the media
        // file's location from it.
        object.insert("originalMediaDescriptor".into(), descriptor);
    }
    json
}

/// Puts beside `object[text]` the instant gird reads in it, as `object[millis]`; nothing
/// when the text is not a datetime (records are checked on insert, so only a record
/// stored under older rules could lack one).
fn add_instant(object: &mut Value, text: &str, millis: &str) {
    let instant: Option<Millis> = object[text].as_str().and_then(parse_iso);
    if let (Some(instant), Some(object)) = (instant, object.as_object_mut()) {
        object.insert(millis.into(), instant.into());
    }
}

/// Percent-encodes everything but unreserved characters, for one URL path segment. Dots
/// are encoded too: a recording id `.` or `..` must not make a path that clients and
/// browsers resolve to another one.
pub fn percent_encode_segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extensions_come_from_the_type_then_the_path() {
        let cases = [
            (json!({"type": "audio/mp3"}), "mp3"),
            (json!({"type": "audio/mpeg3"}), "mp3"),
            (json!({"type": "audio/wav"}), "wav"),
            (json!({"type": "video/mp4"}), "mp4"),
            (
                json!({"mediaDescriptor": {"path": "http://h/a/b.OPUS?x=1"}}),
                "opus",
            ),
            (json!({"mediaDescriptor": {"path": "calls/noext"}}), "bin"),
        ];
        for (media_file, expected) in cases {
            assert_eq!(media_extension(&media_file), expected, "{media_file}");
        }
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(percent_encode_segment("a b/c"), "a%20b%2Fc");
        assert_eq!(percent_encode_segment("alex-test-id"), "alex-test-id");
        assert_eq!(percent_encode_segment(".."), "%2E%2E");
        assert_eq!(percent_encode_segment("a.b"), "a%2Eb");
    }

    fn rendered(body: Value) -> Value {
        let recording = Recording::from_json(body.as_object().unwrap().clone()).unwrap();
        // As a POST is stored and read back: in canonical order.
        let merged = StoredRecording::merge(None, recording, "now").unwrap();
        let stored: StoredRecording =
            serde_json::from_str(&merged.to_stored_json().unwrap()).unwrap();
        render(&stored, &merged.recording, "cc", "http://gird")
    }

    #[test]
    fn every_time_sent_gets_the_instant_gird_reads_in_it() {
        let mut body: Value =
            serde_json::from_str(include_str!("../../../examples/seed-sample.json")).unwrap();
        // Offset-less (UTC to gird), -0800, Z and +0000 spellings side by side.
        body["mediaFiles"][1]["stopTime"] = json!("2015-06-15T15:58:59.500-0800");
        let view = rendered(body);

        // 2015-06-15T23:58:00Z, the earliest start, and 23:59:59Z, the latest stop.
        assert_eq!(view["startTimeMs"], 1_434_412_680_000_i64);
        assert_eq!(view["stopTimeMs"], 1_434_412_799_000_i64);
        assert_eq!(view["startTime"], "2015-06-15T23:58:00.000+0000");
        let media = view["mediaFiles"].as_array().unwrap();
        let by_id = |id: &str| media.iter().find(|m| m["mediaId"] == id).unwrap();
        let first = by_id("123123-FFAB-ABAD");
        assert_eq!(first["startTime"], "2015-06-15T23:59:00.000", "text kept");
        assert_eq!(first["startTimeMs"], 1_434_412_740_000_i64);
        assert_eq!(first["stopTimeMs"], 1_434_412_799_000_i64);
        let masks = first["masks"].as_array().unwrap();
        assert_eq!(masks[0]["time"], "2015-06-15T23:59:10.034Z");
        assert_eq!(masks[0]["timeMs"], 1_434_412_750_034_i64);
        assert_eq!(masks[1]["timeMs"], 1_371_340_760_034_i64, "2013, as sent");
        let second = by_id("123123-FFAB-ABAC");
        assert_eq!(second["stopTime"], "2015-06-15T15:58:59.500-0800");
        assert_eq!(second["stopTimeMs"], 1_434_412_739_500_i64);

        // Events come in time order, each with its instant.
        let events = view["eventHistory"].as_array().unwrap();
        assert_eq!(events[0]["occurredAt"], "2015-06-15T23:58:00.000");
        assert_eq!(events[0]["occurredAtMs"], 1_434_412_680_000_i64);
        assert_eq!(events[1]["occurredAt"], "2015-06-15T23:58:30.000+0000");
        assert_eq!(events[1]["occurredAtMs"], 1_434_412_710_000_i64);
    }

    #[test]
    fn a_stored_time_gird_cannot_read_gets_no_instant() {
        let mut event = json!({"occurredAt": "noon", "event": "Data"});
        add_instant(&mut event, "occurredAt", "occurredAtMs");
        assert_eq!(event, json!({"occurredAt": "noon", "event": "Data"}));
        let mut mask = json!({"time": "2015-06-15T23:59:10-08:00"});
        add_instant(&mut mask, "time", "timeMs");
        assert_eq!(mask["timeMs"], 1_434_441_550_000_i64);
    }
}
