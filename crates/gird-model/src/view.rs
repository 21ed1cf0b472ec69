//! The read view of a stored recording (docs/API.md): the merged record plus derived
//! times, playback fields and the completeness flag.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::datetime::format_millis;
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
    let media_files = recording
        .media_files
        .iter()
        .map(|media_file| playable(media_file, &recording.id, contact_center, public_url))
        .collect();
    view.insert("mediaFiles".into(), Value::Array(media_files));
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
    if let Some(object) = json.as_object_mut() {
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
}
