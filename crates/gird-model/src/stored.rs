//! The stored form of a recording and the merge of a new POST into it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::merge::{merge, sort_canonically, MergeConflict};
use crate::record::Recording;
use crate::violation::Violations;

/// What gird keeps for one recording: the merged record in the shape clients post, and
/// what could not be merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRecording {
    pub recording: Map<String, Value>,
    #[serde(
        rename = "mergeConflicts",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub merge_conflicts: Vec<MergeConflict>,
}

/// The outcome of merging one POST into what was stored.
#[derive(Debug, Clone)]
pub struct Merged {
    pub stored: StoredRecording,
    /// The merged record, typed (for the columns a store indexes).
    pub recording: Recording,
    /// False when the POST brought nothing new (a retry): nothing needs writing.
    pub changed: bool,
}

impl StoredRecording {
    /// The typed record; fails only if what was stored no longer passes validation.
    pub fn to_recording(&self) -> Result<Recording, Violations> {
        Recording::from_json(self.recording.clone())
    }

    /// Merges `incoming` into `existing` (or starts a new record).
    pub fn merge(
        existing: Option<&StoredRecording>,
        mut incoming: Recording,
        received_at: &str,
    ) -> Result<Merged, Violations> {
        let (recording, merge_conflicts, changed) = match existing {
            None => {
                sort_canonically(&mut incoming);
                (incoming, Vec::new(), true)
            }
            Some(stored) => {
                let mut base = stored.to_recording()?;
                let mut conflicts = stored.merge_conflicts.clone();
                let changed = merge(&mut base, &mut conflicts, incoming, received_at);
                (base, conflicts, changed)
            }
        };
        Ok(Merged {
            stored: StoredRecording {
                recording: recording.to_json(),
                merge_conflicts,
            },
            recording,
            changed,
        })
    }
}
