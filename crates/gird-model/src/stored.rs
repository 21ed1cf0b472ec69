//! The stored form of a recording and the merge of a new POST into it.

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::merge::{merge, sort_canonically, MergeConflict};
use crate::record::Recording;

/// What gird keeps for one recording: the merged record in the shape clients post, and
/// what could not be merged.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredRecording {
    pub recording: Map<String, Value>,
    #[serde(rename = "mergeConflicts", default)]
    pub merge_conflicts: Vec<MergeConflict>,
}

/// The outcome of merging one POST into what was stored.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The merged record, typed.
    pub recording: Recording,
    pub merge_conflicts: Vec<MergeConflict>,
    /// False when the POST brought nothing new (a retry): nothing needs writing.
    pub changed: bool,
}

impl StoredRecording {
    /// The typed record, read without the insertion rules (see [`Recording::decode`]).
    pub fn to_recording(&self) -> Result<Recording, String> {
        Recording::decode(self.recording.clone())
    }

    /// Merges `incoming` into `existing` (or starts a new record).
    pub fn merge(
        existing: Option<&StoredRecording>,
        mut incoming: Recording,
        received_at: &str,
    ) -> Result<Merged, String> {
        let Some(stored) = existing else {
            sort_canonically(&mut incoming);
            return Ok(Merged {
                recording: incoming,
                merge_conflicts: Vec::new(),
                changed: true,
            });
        };
        let mut recording = stored.to_recording()?;
        let mut merge_conflicts = stored.merge_conflicts.clone();
        let changed = merge(&mut recording, &mut merge_conflicts, incoming, received_at);
        Ok(Merged {
            recording,
            merge_conflicts,
            changed,
        })
    }
}

/// The most a recording may hold after merges: a client that keeps posting new events
/// or conflicting values to one id must not grow a row (and every later merge of it)
/// without end. A fresh POST is bounded by the body limit already.
pub const MAX_MEDIA_FILES: usize = 10_000;
pub const MAX_EVENTS: usize = 50_000;
pub const MAX_MERGE_CONFLICTS: usize = 1_000;
/// The most a recording's stored JSON may weigh, in bytes, whatever its counts: every
/// read, search page and merge of it costs in proportion.
pub const MAX_STORED_BYTES: usize = 8 * 1024 * 1024;

/// Why a recording whose stored JSON is `bytes` long is too large, if it is.
pub fn exceeded_size(bytes: usize) -> Option<String> {
    (bytes > MAX_STORED_BYTES).then(|| {
        format!("the recording would take {bytes} bytes stored, more than the {MAX_STORED_BYTES} gird keeps")
    })
}

impl Merged {
    /// Why this merge would make the recording too large, if it would.
    pub fn exceeded_limit(&self) -> Option<String> {
        let counts = [
            (
                "mediaFiles",
                self.recording.media_files.len(),
                MAX_MEDIA_FILES,
                "media files",
            ),
            (
                "eventHistory",
                self.recording.events.len(),
                MAX_EVENTS,
                "events",
            ),
            (
                "mergeConflicts",
                self.merge_conflicts.len(),
                MAX_MERGE_CONFLICTS,
                "merge conflicts",
            ),
        ];
        counts
            .into_iter()
            .find(|(_, count, max, _)| count > max)
            .map(|(path, _, max, what)| {
                format!("{path}: the merged recording would hold more than {max} {what}")
            })
    }

    /// The stored form as JSON text, written straight from the typed record (no copy of
    /// the JSON tree is made on the way).
    pub fn to_stored_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(&StoredForm(self))
    }
}

struct StoredForm<'a>(&'a Merged);
struct RecordingForm<'a>(&'a Recording);

impl Serialize for StoredForm<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("recording", &RecordingForm(&self.0.recording))?;
        if !self.0.merge_conflicts.is_empty() {
            map.serialize_entry("mergeConflicts", &self.0.merge_conflicts)?;
        }
        map.end()
    }
}

impl Serialize for RecordingForm<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let recording = self.0;
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in &recording.fields {
            map.serialize_entry(name, value)?;
        }
        let media: Vec<&Value> = recording.media_files.iter().map(|m| &m.json).collect();
        map.serialize_entry("mediaFiles", &media)?;
        if recording.has_event_history || !recording.events.is_empty() {
            let events: Vec<&Value> = recording.events.iter().map(|e| &e.json).collect();
            map.serialize_entry("eventHistory", &events)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_with(caller: &str) -> Recording {
        let mut sample: Value =
            serde_json::from_str(include_str!("../../../examples/seed-sample.json")).unwrap();
        sample["callerPhoneNumber"] = Value::String(caller.into());
        Recording::from_json(sample.as_object().unwrap().clone()).unwrap()
    }

    #[test]
    fn merges_stop_at_the_conflict_limit() {
        let mut stored = None;
        for n in 0..=MAX_MERGE_CONFLICTS {
            let merged =
                StoredRecording::merge(stored.as_ref(), sample_with(&format!("+{n}")), "now")
                    .unwrap();
            assert_eq!(merged.exceeded_limit(), None, "after {n} conflicts");
            let text = merged.to_stored_json().unwrap();
            stored = Some(serde_json::from_str::<StoredRecording>(&text).unwrap());
        }
        let merged =
            StoredRecording::merge(stored.as_ref(), sample_with("+one more"), "now").unwrap();
        let limit = merged.exceeded_limit().expect("one conflict too many");
        assert!(limit.starts_with("mergeConflicts: "), "{limit}");
    }

    #[test]
    fn the_stored_json_reads_back_as_the_same_record() {
        let sample: Value =
            serde_json::from_str(include_str!("../../../examples/seed-sample.json")).unwrap();
        let recording = Recording::from_json(sample.as_object().unwrap().clone()).unwrap();
        let merged = StoredRecording::merge(None, recording, "now").unwrap();
        let stored: StoredRecording =
            serde_json::from_str(&merged.to_stored_json().unwrap()).unwrap();
        assert_eq!(stored.recording, merged.recording.to_json());
        assert_eq!(stored.to_recording().unwrap(), merged.recording);
    }
}
