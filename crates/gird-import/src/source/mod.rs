//! Where records come from: a JSON Lines file, a CSV file, or a crawl of a WebDAV folder.
//! Each source yields items in the same order every run, numbered from 0, so that the
//! journal can name them.

pub mod csv;
pub mod fields;
pub mod jsonl;
pub mod webdav;

use bytes::Bytes;
use serde_json::Value;

/// One record of a source, or why none could be made of that part of it.
#[derive(Debug, Clone)]
pub struct Item {
    /// Position in the source, the same every run.
    pub seq: u64,
    /// Where in the source, for people: `line 12`, `rows 3-5`, a media file's URL.
    pub origin: String,
    pub record: Result<Record, String>,
}

#[derive(Debug, Clone)]
pub struct Record {
    pub json: Value,
    /// The bytes to post: the source's own line for JSON Lines, else `json` serialized.
    pub body: Bytes,
}

impl Record {
    pub fn from_json(json: Value) -> Record {
        let body = Bytes::from(serde_json::to_vec(&json).expect("a JSON value serializes"));
        Record { json, body }
    }

    pub fn id(&self) -> Option<&str> {
        self.json.get("id").and_then(Value::as_str)
    }
}
