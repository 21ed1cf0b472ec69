//! Look-ups by key instead of by scanning, so that a record with thousands of media files
//! or events is checked and merged in linear time (a body near the size limit with
//! 10,000 events took seconds with pairwise comparisons).

use std::collections::HashMap;

use serde_json::Value;

use crate::datetime::Millis;
use crate::record::MediaKey;

/// Media files by key.
#[derive(Default)]
pub(crate) struct MediaIndex(HashMap<MediaKey, usize>);

impl MediaIndex {
    pub(crate) fn get(&self, key: &MediaKey) -> Option<usize> {
        self.0.get(key).copied()
    }

    pub(crate) fn insert(&mut self, key: MediaKey, position: usize) {
        self.0.entry(key).or_insert(position);
    }
}

/// Events by `Data` eventId, and by occurrence instant and kind: an identical event has
/// the same of both, so only those few are compared in full.
#[derive(Default)]
pub(crate) struct EventIndex {
    by_id: HashMap<String, usize>,
    by_moment: HashMap<(Millis, String), Vec<usize>>,
}

fn kind(json: &Value) -> String {
    json["event"].as_str().unwrap_or_default().to_owned()
}

impl EventIndex {
    pub(crate) fn with_id(&self, event_id: &str) -> Option<usize> {
        self.by_id.get(event_id).copied()
    }

    /// Positions of the events that occurred at the same instant with the same kind.
    pub(crate) fn alike(&self, occurred_at: Millis, json: &Value) -> &[usize] {
        self.by_moment
            .get(&(occurred_at, kind(json)))
            .map_or(&[], Vec::as_slice)
    }

    pub(crate) fn insert(
        &mut self,
        position: usize,
        occurred_at: Millis,
        event_id: Option<&str>,
        json: &Value,
    ) {
        if let Some(id) = event_id {
            self.by_id.entry(id.to_owned()).or_insert(position);
        }
        self.by_moment
            .entry((occurred_at, kind(json)))
            .or_default()
            .push(position);
    }
}
