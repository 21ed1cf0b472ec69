//! The lossless, idempotent merge of docs/API.md.
//!
//! A recording pipeline posts one call as several inserts with the same id and retries
//! after failures, so merging must give the same record whatever the order, and must
//! not drop anything: a value that cannot be merged is kept in `mergeConflicts`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::index::{EventIndex, MediaIndex};
use crate::record::Recording;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergeConflict {
    pub path: String,
    pub kept: Value,
    pub ignored: Value,
    #[serde(rename = "receivedAt")]
    pub received_at: String,
}

impl MergeConflict {
    fn same_as(&self, other: &MergeConflict) -> bool {
        self.path == other.path && self.kept == other.kept && self.ignored == other.ignored
    }
}

/// Merges `incoming` into `base`; answers whether `base` or `conflicts` changed.
pub fn merge(
    base: &mut Recording,
    conflicts: &mut Vec<MergeConflict>,
    incoming: Recording,
    received_at: &str,
) -> bool {
    let mut merger = Merger {
        conflicts,
        received_at,
        changed: false,
    };
    merger.fields(base, &incoming);
    merger.media_files(base, incoming.media_files);
    merger.events(base, incoming.events);
    if incoming.has_event_history && !base.has_event_history {
        base.has_event_history = true;
        merger.changed = true;
    }
    sort_canonically(base);
    merger.changed
}

/// Media files by start instant, events by occurrence: the stored order does not depend
/// on the order the segments arrived in.
pub fn sort_canonically(recording: &mut Recording) {
    recording
        .media_files
        .sort_by(|a, b| (a.start, &a.key).cmp(&(b.start, &b.key)));
    recording
        .events
        .sort_by_cached_key(|event| (event.occurred_at, event.json.to_string()));
}

struct Merger<'a> {
    conflicts: &'a mut Vec<MergeConflict>,
    received_at: &'a str,
    changed: bool,
}

fn is_empty(value: &Value) -> bool {
    matches!(value, Value::Null) || value.as_str() == Some("")
}

impl Merger<'_> {
    fn conflict(&mut self, path: String, kept: &Value, ignored: &Value) {
        let conflict = MergeConflict {
            path,
            kept: kept.clone(),
            ignored: ignored.clone(),
            received_at: self.received_at.to_owned(),
        };
        if !self.conflicts.iter().any(|known| known.same_as(&conflict)) {
            self.conflicts.push(conflict);
            self.changed = true;
        }
    }

    /// Top-level scalars (and unknown top-level fields): the first non-empty value wins.
    fn fields(&mut self, base: &mut Recording, incoming: &Recording) {
        for (name, value) in &incoming.fields {
            match base.fields.get(name) {
                Some(kept) if kept == value || is_empty(value) => {}
                Some(kept) if !is_empty(kept) => self.conflict(name.clone(), &kept.clone(), value),
                _ => {
                    base.fields.insert(name.clone(), value.clone());
                    self.changed = true;
                }
            }
        }
    }

    fn media_files(&mut self, base: &mut Recording, incoming: Vec<crate::record::MediaFile>) {
        let mut by_key = MediaIndex::default();
        for (position, media_file) in base.media_files.iter().enumerate() {
            by_key.insert(media_file.key.clone(), position);
        }
        for media_file in incoming {
            match by_key
                .get(&media_file.key)
                .map(|position| &base.media_files[position])
            {
                None => {
                    by_key.insert(media_file.key.clone(), base.media_files.len());
                    base.media_files.push(media_file);
                    self.changed = true;
                }
                Some(kept) if kept.json == media_file.json => {}
                Some(kept) => {
                    let path = format!("mediaFiles[{}]", kept.key);
                    let kept = kept.json.clone();
                    self.conflict(path, &kept, &media_file.json);
                }
            }
        }
    }

    fn events(&mut self, base: &mut Recording, incoming: Vec<crate::record::Event>) {
        let mut seen = EventIndex::default();
        for (position, event) in base.events.iter().enumerate() {
            seen.insert(
                position,
                event.occurred_at,
                event.data_event_id.as_deref(),
                &event.json,
            );
        }
        for event in incoming {
            let same_id = event
                .data_event_id
                .as_deref()
                .and_then(|id| seen.with_id(id));
            match same_id.map(|position| &base.events[position]) {
                Some(kept) if kept.json == event.json => {}
                Some(kept) => {
                    let path = format!(
                        "eventHistory[{}]",
                        event.data_event_id.as_deref().unwrap_or_default()
                    );
                    let kept = kept.json.clone();
                    self.conflict(path, &kept, &event.json);
                }
                None if seen
                    .alike(event.occurred_at, &event.json)
                    .iter()
                    .any(|&position| base.events[position].json == event.json) => {}
                None => {
                    let position = base.events.len();
                    seen.insert(
                        position,
                        event.occurred_at,
                        event.data_event_id.as_deref(),
                        &event.json,
                    );
                    base.events.push(event);
                    self.changed = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn segment(index: usize, caller: &str) -> Recording {
        let body = json!({
            "id": "call-1",
            "callerPhoneNumber": caller,
            "dialedPhoneNumber": "+14161111111",
            "region": "Can-West",
            "mediaFiles": [{
                "callUUID": format!("uuid-{index}"),
                "startTime": format!("2015-06-15T23:{:02}:00.000Z", index % 60),
                "stopTime": format!("2015-06-15T23:{:02}:59.000Z", index % 60),
                "mediaId": format!("media-{index}"),
                "mediaDescriptor": {"storage": "webDAV", "path": format!("calls/{index}.mp3")}
            }],
            "eventHistory": [{
                "occurredAt": format!("2015-06-15T23:{:02}:10Z", index % 60),
                "event": "Data", "eventId": format!("event-{index}"), "data": {"n": index}
            }]
        });
        Recording::from_json(body.as_object().unwrap().clone()).unwrap()
    }

    fn merge_all(segments: &[Recording]) -> (Recording, Vec<MergeConflict>) {
        let mut iter = segments.iter().cloned();
        let mut base = iter.next().unwrap();
        sort_canonically(&mut base);
        let mut conflicts = Vec::new();
        for next in iter {
            merge(&mut base, &mut conflicts, next, "2026-01-01T00:00:00.000Z");
        }
        (base, conflicts)
    }

    #[test]
    fn a_different_later_scalar_is_kept_as_a_conflict() {
        let (merged, conflicts) = merge_all(&[segment(0, "+1"), segment(1, "+2")]);
        assert_eq!(merged.text_field("callerPhoneNumber"), Some("+1"));
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].path, "callerPhoneNumber");
        assert_eq!(conflicts[0].ignored, json!("+2"));
        assert_eq!(merged.media_files.len(), 2);
    }

    #[test]
    fn an_absent_field_is_filled_later() {
        let mut first = segment(0, "+1");
        first.fields.remove("region");
        let (merged, conflicts) = merge_all(&[first, segment(1, "+1")]);
        assert_eq!(merged.text_field("region"), Some("Can-West"));
        assert!(conflicts.is_empty());
    }

    #[test]
    fn a_changed_media_file_or_data_event_is_a_conflict() {
        let mut changed = segment(0, "+1");
        changed.media_files[0].json["size"] = json!("10");
        changed.events[0].json["data"] = json!({"n": 99});
        let (merged, conflicts) = merge_all(&[segment(0, "+1"), changed]);
        let paths: Vec<_> = conflicts.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["mediaFiles[media-0]", "eventHistory[event-0]"]);
        assert_eq!(merged.media_files.len(), 1);
        assert_eq!(merged.events[0].json["data"], json!({"n": 0}));
    }

    #[test]
    fn the_same_conflict_twice_is_recorded_once() {
        let (_, conflicts) = merge_all(&[segment(0, "+1"), segment(0, "+2"), segment(0, "+2")]);
        assert_eq!(conflicts.len(), 1);
    }

    proptest! {
        #[test]
        fn segments_in_any_order_give_the_same_record(
            order in Just((0..8usize).collect::<Vec<_>>()).prop_shuffle(),
            repeats in proptest::collection::vec(0..8usize, 0..4),
        ) {
            let in_order: Vec<_> = (0..8).map(|i| segment(i, "+1")).collect();
            let mut shuffled: Vec<_> = order.iter().map(|&i| segment(i, "+1")).collect();
            shuffled.extend(repeats.iter().map(|&i| segment(i, "+1")));
            let (expected, expected_conflicts) = merge_all(&in_order);
            let (actual, actual_conflicts) = merge_all(&shuffled);
            prop_assert_eq!(expected.to_json(), actual.to_json());
            prop_assert!(expected_conflicts.is_empty() && actual_conflicts.is_empty());
        }

        #[test]
        fn merging_a_record_into_itself_changes_nothing(count in 1..6usize) {
            let (merged, _) = merge_all(&(0..count).map(|i| segment(i, "+1")).collect::<Vec<_>>());
            let mut again = merged.clone();
            let mut conflicts = Vec::new();
            let changed = merge(&mut again, &mut conflicts, merged.clone(), "later");
            prop_assert!(!changed);
            prop_assert_eq!(again, merged);
        }
    }
}
