//! Any bytes as an Insertion API body: parsing and validation never panic, and a record
//! that passes survives being stored and read back, and merging into itself changes
//! nothing.
#![no_main]

use gird_model::{Recording, StoredRecording};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(recording) = Recording::from_json(object) else {
        return;
    };
    let merged = StoredRecording::merge(None, recording.clone(), "2024-01-01T00:00:00Z")
        .expect("a new record merges");
    let text = merged.to_stored_json().expect("a stored record serializes");
    let stored: StoredRecording = serde_json::from_str(&text).expect("the stored form parses");
    let again = stored.to_recording().expect("what was stored passes validation again");
    assert_eq!(again.id, recording.id);
    let remerged = StoredRecording::merge(Some(&stored), recording, "2024-01-01T00:00:01Z")
        .expect("a record merges into itself");
    assert!(!remerged.changed, "posting the same record again changes nothing");
});
