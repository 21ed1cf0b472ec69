//! A recording as posted to the Insertion API: checked once, then typed.
//!
//! The JSON object a client sent is kept whole (unknown fields included, so nothing is
//! lost); the typed parts beside it are what gird interprets: the id, the media keys and
//! the instants that merging and searching need.

use serde_json::{Map, Value};

use crate::check::Checker;
use crate::datetime::Millis;
use crate::violation::Violations;

pub const MAX_ID_CHARS: usize = 256;
pub const CALL_TYPES: [&str; 5] = ["Internal", "Inbound", "Outbound", "Consult", "Unknown"];

/// A recording that passed every rule of SPEC.md §2.
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
    /// Parses a request body that is already known to be a JSON object.
    pub fn from_json(object: Map<String, Value>) -> Result<Recording, Violations> {
        let mut checker = Checker::default();
        let recording = checker.recording(object);
        match (recording, checker.into_violations()) {
            (Some(recording), violations) if violations.is_empty() => Ok(recording),
            (_, violations) => Err(violations),
        }
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
