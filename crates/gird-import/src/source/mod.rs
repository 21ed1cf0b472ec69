//! Where records come from: a JSON Lines file, a CSV file, or a crawl of a WebDAV folder
//! or an S3 bucket prefix.
//! Each source yields items in the same order every run, numbered from 0, so that the
//! journal can name them.

pub mod crawl;
pub mod csv;
pub mod fields;
pub mod jsonl;
pub mod s3;
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

/// A record to post. From JSON Lines it stays the line's bytes, parsed only when
/// something needs to look inside (a dry run, a rejection): the server parses it anyway.
#[derive(Debug, Clone)]
pub struct Record {
    body: Bytes,
    json: Option<Value>,
}

impl Record {
    pub fn from_json(json: Value) -> Record {
        let body = Bytes::from(serde_json::to_vec(&json).expect("a JSON value serializes"));
        Record {
            body,
            json: Some(json),
        }
    }

    /// A record as the source wrote it.
    pub fn raw(body: Bytes) -> Record {
        Record { body, json: None }
    }

    /// The bytes to post.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The record as JSON, or why it is none.
    pub fn json(&self) -> Result<std::borrow::Cow<'_, Value>, String> {
        match &self.json {
            Some(json) => Ok(std::borrow::Cow::Borrowed(json)),
            None => serde_json::from_slice(&self.body)
                .map(std::borrow::Cow::Owned)
                .map_err(|error| format!("is not valid JSON: {error}")),
        }
    }

    pub fn id(&self) -> Option<String> {
        let json = self.json().ok()?;
        json.get("id").and_then(Value::as_str).map(str::to_owned)
    }
}
