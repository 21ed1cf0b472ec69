//! Records from named fields: the columns of a CSV row, or the named groups of a file-name
//! pattern. One row is one media file; consecutive rows with the same recording id are
//! one record (rows of one call that are not next to each other become two POSTs with
//! the same id, which the server merges).
//!
//! | field | goes to |
//! |---|---|
//! | `id` | the record's `id` (default: `callUUID`) |
//! | `callerPhoneNumber`, `dialedPhoneNumber`, `region`, `callType` | the record (first row of the record) |
//! | `callUUID`, `mediaId`, `startTime`, `stopTime`, `type`, `duration`, `size`, `tenant`, `ivrprofile` | the media file |
//! | `path`, `storage` | `mediaDescriptor.path`, `mediaDescriptor.storage` (default `webDAV`) |
//! | `bucket` | `mediaDescriptor.data.bucket` (with `storage` `awsS3`) |
//! | `username` | `parameters.username` (the agent) |
//! | `partitions`, `accessgroups`, `certAlias` | lists, items separated by `;` |
//! | `pkcs7` | the media file's encryption envelope (PEM), as written |
//! | `parameters.NAME` | `parameters.NAME` |
//!
//! Values go as written; what is derived from them (times made ISO, the media type,
//! `stopTime`, the call parameters) is `shape`'s.

use serde_json::{json, Map, Value};

use super::{Item, Record};

pub const RECORD_FIELDS: [&str; 5] = [
    "id",
    "callerPhoneNumber",
    "dialedPhoneNumber",
    "region",
    "callType",
];
pub const MEDIA_FIELDS: [&str; 17] = [
    "callUUID",
    "mediaId",
    "startTime",
    "stopTime",
    "type",
    "duration",
    "size",
    "tenant",
    "ivrprofile",
    "path",
    "storage",
    "bucket",
    "username",
    "partitions",
    "accessgroups",
    "certAlias",
    "pkcs7",
];
pub const PARAMETER_PREFIX: &str = "parameters.";

/// A field's name and value; empty values are left out.
pub type Row = Vec<(String, String)>;

/// Whether a column or group name is one gird import knows.
pub fn check_name(name: &str) -> Result<(), String> {
    let known = RECORD_FIELDS.contains(&name)
        || MEDIA_FIELDS.contains(&name)
        || name
            .strip_prefix(PARAMETER_PREFIX)
            .is_some_and(|rest| !rest.is_empty());
    if known {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a field gird import knows ({}, {}, or parameters.NAME)",
            RECORD_FIELDS.join(", "),
            MEDIA_FIELDS.join(", ")
        ))
    }
}

fn get<'a>(row: &'a Row, name: &str) -> Option<&'a str> {
    row.iter()
        .find(|(field, value)| field == name && !value.is_empty())
        .map(|(_, value)| value.as_str())
}

/// The recording id a row belongs to.
pub fn record_id(row: &Row) -> Option<&str> {
    get(row, "id").or_else(|| get(row, "callUUID"))
}

/// The media file of one row.
pub fn media_file(row: &Row) -> Map<String, Value> {
    let mut media = Map::new();
    let mut parameters = Map::new();
    let mut descriptor = Map::new();
    for (name, value) in row.iter().filter(|(_, value)| !value.is_empty()) {
        match name.as_str() {
            "callUUID" | "mediaId" | "startTime" | "stopTime" | "type" | "duration" | "size"
            | "tenant" | "ivrprofile" | "pkcs7" => {
                media.insert(name.clone(), json!(value));
            }
            "path" | "storage" => {
                descriptor.insert(name.clone(), json!(value));
            }
            "bucket" => {
                descriptor.insert("data".into(), json!({ "bucket": value }));
            }
            "username" => {
                parameters.insert(name.clone(), json!(value));
            }
            "partitions" | "accessgroups" | "certAlias" => {
                let items: Vec<&str> = value
                    .split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect();
                media.insert(name.clone(), json!(items));
            }
            other => {
                if let Some(parameter) = other.strip_prefix(PARAMETER_PREFIX) {
                    parameters.insert(parameter.to_owned(), json!(value));
                }
            }
        }
    }
    if !descriptor.is_empty() {
        descriptor
            .entry("storage")
            .or_insert_with(|| json!("webDAV"));
        media.insert("mediaDescriptor".into(), Value::Object(descriptor));
    }
    if !parameters.is_empty() {
        media.insert("parameters".into(), Value::Object(parameters));
    }
    media
}

/// The record of consecutive rows with one id.
pub fn record(rows: &[(Row, Option<Value>)]) -> Value {
    let mut record = Map::new();
    if let Some(id) = rows.first().and_then(|(row, _)| record_id(row)) {
        record.insert("id".into(), json!(id));
    }
    for field in &RECORD_FIELDS[1..] {
        if let Some(value) = rows.iter().find_map(|(row, _)| get(row, field)) {
            record.insert((*field).into(), json!(value));
        }
    }
    let mut media_files = Vec::new();
    for (row, sidecar) in rows {
        let mut media = Value::Object(media_file(row));
        if let Some(Value::Object(sidecar)) = sidecar {
            for (name, value) in sidecar {
                if name == "mediaFiles" {
                    if let Some(Value::Object(fields)) = value.get(0) {
                        merge_into(&mut media, fields);
                    }
                } else {
                    record.insert(name.clone(), value.clone());
                }
            }
        }
        media_files.push(media);
    }
    record.insert("mediaFiles".into(), Value::Array(media_files));
    Value::Object(record)
}

/// Adds `fields` to `target`, objects field by field (a sidecar's values win).
fn merge_into(target: &mut Value, fields: &Map<String, Value>) {
    let Value::Object(target) = target else {
        return;
    };
    for (name, value) in fields {
        match (target.get_mut(name), value) {
            (Some(existing @ Value::Object(_)), Value::Object(inner)) => {
                merge_into(existing, inner);
            }
            _ => {
                target.insert(name.clone(), value.clone());
            }
        }
    }
}

/// Turns rows, in order, into items: one per run of rows with the same id.
#[derive(Default)]
pub struct Grouper {
    next_seq: u64,
    rows: Vec<(Row, Option<Value>)>,
    origins: Vec<String>,
}

impl Grouper {
    /// Adds a row; answers the previous record when this row starts another.
    pub fn push(&mut self, origin: String, row: Row, sidecar: Option<Value>) -> Option<Item> {
        let same = self
            .rows
            .first()
            .is_some_and(|(first, _)| record_id(first) == record_id(&row));
        let done = if same { None } else { self.flush() };
        self.rows.push((row, sidecar));
        self.origins.push(origin);
        done
    }

    /// A part of the source no record can be made of.
    pub fn fail(&mut self, origin: String, error: String) -> Vec<Item> {
        let mut items: Vec<Item> = self.flush().into_iter().collect();
        items.push(self.item(origin, Err(error)));
        items
    }

    /// The last record.
    pub fn flush(&mut self) -> Option<Item> {
        if self.rows.is_empty() {
            return None;
        }
        let rows = std::mem::take(&mut self.rows);
        let origins = std::mem::take(&mut self.origins);
        let origin = match (origins.first(), origins.last()) {
            (Some(first), Some(last)) if origins.len() > 1 => format!("{first} to {last}"),
            (Some(first), _) => first.clone(),
            _ => String::new(),
        };
        let result = match record_id(&rows[0].0) {
            Some(_) => Ok(Record::from_json(record(&rows))),
            None => Err("has neither id nor callUUID".to_owned()),
        };
        Some(self.item(origin, result))
    }

    fn item(&mut self, origin: String, record: Result<Record, String>) -> Item {
        let seq = self.next_seq;
        self.next_seq += 1;
        Item {
            seq,
            origin,
            record,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: &[(&str, &str)]) -> Row {
        fields
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("callerPhoneNumber").is_ok());
        assert!(check_name("parameters.agentId").is_ok());
        assert!(check_name("parameters.").is_err());
        let error = check_name("caller").unwrap_err();
        assert!(error.contains("callerPhoneNumber"), "{error}");
    }

    #[test]
    fn an_encrypted_media_file_carries_its_envelope_and_aliases() {
        let pem = "-----BEGIN PKCS7-----\nMIIB\n-----END PKCS7-----";
        let media = media_file(&row(&[
            ("callUUID", "c1"),
            ("path", "calls/a.mp3.bin"),
            ("pkcs7", pem),
            ("certAlias", "rcs-2024; rcs-2025"),
        ]));
        assert_eq!(media["pkcs7"], pem);
        assert_eq!(media["certAlias"], json!(["rcs-2024", "rcs-2025"]));
        assert!(check_name("pkcs7").is_ok() && check_name("certAlias").is_ok());
    }

    #[test]
    fn a_row_is_a_media_file() {
        let media = media_file(&row(&[
            ("callUUID", "c1"),
            ("startTime", "20240101T100000Z"),
            ("duration", "61000"),
            ("tenant", "acme"),
            ("path", "calls/a.wav"),
            ("username", "bob"),
            ("partitions", "p1; p2"),
            ("parameters.agentId", "7"),
            ("region", "ignored here"),
        ]));
        assert_eq!(
            Value::Object(media),
            json!({
                "callUUID": "c1", "startTime": "20240101T100000Z", "duration": "61000",
                "tenant": "acme", "partitions": ["p1", "p2"],
                "mediaDescriptor": {"path": "calls/a.wav", "storage": "webDAV"},
                "parameters": {"username": "bob", "agentId": "7"}
            })
        );
    }

    #[test]
    fn an_s3_row_names_its_bucket() {
        let media = media_file(&row(&[
            ("callUUID", "c1"),
            ("path", "calls/a.mp3"),
            ("storage", "awsS3"),
            ("bucket", "acme-rec"),
        ]));
        assert_eq!(
            media["mediaDescriptor"],
            json!({"path": "calls/a.mp3", "storage": "awsS3", "data": {"bucket": "acme-rec"}})
        );
    }

    #[test]
    fn consecutive_rows_of_one_call_are_one_record() {
        let mut grouper = Grouper::default();
        let first = row(&[("callUUID", "c1"), ("mediaId", "m1"), ("region", "west")]);
        let second = row(&[("callUUID", "c1"), ("mediaId", "m2"), ("region", "east")]);
        let other = row(&[("id", "r2"), ("callUUID", "c2")]);
        assert!(grouper.push("row 2".into(), first, None).is_none());
        let sidecar = json!({"callType": "Inbound", "mediaFiles": [{"parameters": {"x": "1"}}]});
        assert!(grouper
            .push("row 3".into(), second, Some(sidecar))
            .is_none());
        let call = grouper.push("row 4".into(), other, None).unwrap();
        assert_eq!((call.seq, call.origin.as_str()), (0, "row 2 to row 3"));
        let json = call.record.unwrap().json().unwrap().into_owned();
        assert_eq!(json["id"], "c1");
        assert_eq!(json["region"], "west", "the first row's value");
        assert_eq!(json["callType"], "Inbound", "from the sidecar");
        assert_eq!(json["mediaFiles"][1]["parameters"]["x"], "1");
        assert_eq!(json["mediaFiles"].as_array().unwrap().len(), 2);
        let failed = grouper.fail("row 5".into(), "bad".into());
        assert_eq!(failed.len(), 2);
        assert_eq!(
            failed[0].record.as_ref().unwrap().id().as_deref(),
            Some("r2")
        );
        assert_eq!((failed[1].seq, failed[1].record.is_err()), (2, true));
        assert!(grouper.flush().is_none());
    }
}
