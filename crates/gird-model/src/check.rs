//! The rules of docs/API.md, applied in one pass that collects every violation.

use serde_json::{Map, Value};

use crate::datetime::{parse_iso, Millis};
use crate::id::RecordingId;
use crate::index::{EventIndex, MediaIndex};
use crate::record::{Event, MediaFile, MediaKey, Recording, CALL_TYPES};
use crate::s3;
use crate::violation::Violations;

const PARAMETER_STRINGS: [&str; 7] = [
    "username", "agentId", "recordDN", "dnis", "ani", "callUuid", "id",
];
const STRING_ARRAYS: [&str; 3] = ["certAlias", "partitions", "accessgroups"];
const OPTIONAL_STRINGS: [&str; 4] = ["type", "tenant", "ivrprofile", "pkcs7"];

/// Where a media file is stored, as its descriptor's `storage` says.
enum Storage {
    WebDav,
    S3,
}

#[derive(Default)]
pub(crate) struct Checker {
    violations: Violations,
}

/// A field looked up in an object: absent (or null), or present with its value.
fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|value| !value.is_null())
}

/// "a string", "an array", ...: the JSON type of a value, for error messages.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Checker {
    pub(crate) fn into_violations(self) -> Violations {
        self.violations
    }

    fn wrong_type(&mut self, path: &str, expected: &str, value: &Value) {
        self.violations.invalid(
            path,
            format!("expected {expected}, got {}", json_type(value)),
        );
    }

    fn required<'a>(
        &mut self,
        object: &'a Map<String, Value>,
        name: &str,
        path: &str,
    ) -> Option<&'a Value> {
        let value = field(object, name);
        if value.is_none() {
            self.violations.missing(path);
        }
        value
    }

    fn string<'a>(&mut self, value: &'a Value, path: &str) -> Option<&'a str> {
        let Some(text) = value.as_str() else {
            self.wrong_type(path, "a string", value);
            return None;
        };
        // Interpreted strings become database columns, and PostgreSQL's text cannot hold
        // U+0000: refused here for every backend alike.
        if text.contains('\0') {
            self.violations
                .invalid(path, "must not contain the NUL character");
            return None;
        }
        Some(text)
    }

    fn required_string<'a>(
        &mut self,
        object: &'a Map<String, Value>,
        name: &str,
        path: &str,
    ) -> Option<&'a str> {
        let value = self.required(object, name, path)?;
        self.string(value, path)
    }

    fn optional_string(&mut self, object: &Map<String, Value>, name: &str, path: &str) {
        if let Some(value) = field(object, name) {
            self.string(value, path);
        }
    }

    fn object<'a>(&mut self, value: &'a Value, path: &str) -> Option<&'a Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.wrong_type(path, "an object", value);
        }
        object
    }

    fn array<'a>(&mut self, value: &'a Value, path: &str) -> Option<&'a Vec<Value>> {
        let array = value.as_array();
        if array.is_none() {
            self.wrong_type(path, "an array", value);
        }
        array
    }

    fn required_datetime(
        &mut self,
        object: &Map<String, Value>,
        name: &str,
        path: &str,
    ) -> Option<Millis> {
        let text = self.required_string(object, name, path)?;
        let instant = parse_iso(text);
        if instant.is_none() {
            self.violations
                .invalid(path, format!("{text:?} is not an ISO 8601 datetime"));
        }
        instant
    }

    fn one_of(&mut self, text: &str, allowed: &[&str], path: &str) {
        if !allowed.contains(&text) {
            self.violations.invalid(
                path,
                format!("{text:?} is not one of {}", allowed.join(", ")),
            );
        }
    }

    pub(crate) fn recording(&mut self, mut object: Map<String, Value>) -> Option<Recording> {
        let id = self.recording_id(&object);
        for name in ["callerPhoneNumber", "dialedPhoneNumber", "region"] {
            self.required_string(&object, name, name);
        }
        let call_type = self.call_type(&object);
        let media_files = self.media_files(&object);
        let (events, has_event_history) = self.event_history(&object);

        let (id, media_files, events) = (id?, media_files?, events?);
        if !self.violations.is_empty() {
            return None;
        }
        // The validated values are moved, not copied, into the typed record.
        let media_files = attach(object.remove("mediaFiles"), media_files, |m, json| {
            m.json = json
        });
        let events = attach(object.remove("eventHistory"), events, |e, json| {
            e.json = json
        });
        if let Some(call_type) = call_type {
            object.insert("callType".into(), Value::String(call_type.into()));
        }
        Some(Recording {
            id,
            fields: object,
            media_files,
            events,
            has_event_history,
        })
    }

    fn recording_id(&mut self, object: &Map<String, Value>) -> Option<String> {
        let id = self.required_string(object, "id", "id")?;
        match RecordingId::parse(id) {
            Ok(id) => Some(id.into_string()),
            Err(why) => {
                self.violations.invalid("id", why.to_string());
                None
            }
        }
    }

    fn call_type(&mut self, object: &Map<String, Value>) -> Option<&'static str> {
        let text = self.string(field(object, "callType")?, "callType")?;
        let canonical = CALL_TYPES
            .into_iter()
            .find(|known| known.eq_ignore_ascii_case(text));
        if canonical.is_none() {
            self.one_of(text, &CALL_TYPES, "callType");
        }
        canonical
    }

    /// The distinct media files, each with the index of its JSON value in the request.
    fn media_files(&mut self, object: &Map<String, Value>) -> Option<Vec<(usize, MediaFile)>> {
        let list = self.required_value(object, "mediaFiles")?;
        let list = self.array(list, "mediaFiles")?;
        if list.is_empty() {
            self.violations
                .invalid("mediaFiles", "must hold at least one media file");
            return None;
        }
        let mut media_files: Vec<(usize, MediaFile)> = Vec::with_capacity(list.len());
        let mut by_key = MediaIndex::default();
        let mut all_valid = true;
        for (index, value) in list.iter().enumerate() {
            let path = format!("mediaFiles[{index}]");
            let Some(media_file) = self.media_file(value, &path) else {
                all_valid = false;
                continue;
            };
            match by_key.get(&media_file.key) {
                None => {
                    by_key.insert(media_file.key.clone(), index);
                    media_files.push((index, media_file));
                }
                Some(first) if list[first] == *value => {}
                Some(first) => self.violations.invalid(
                    &path,
                    format!("has the same key as mediaFiles[{first}] but different content"),
                ),
            }
        }
        all_valid.then_some(media_files)
    }

    fn required_value<'a>(
        &mut self,
        object: &'a Map<String, Value>,
        name: &str,
    ) -> Option<&'a Value> {
        self.required(object, name, name)
    }

    fn media_file(&mut self, value: &Value, path: &str) -> Option<MediaFile> {
        let object = self.object(value, path)?;
        let at = |name: &str| format!("{path}.{name}");
        let call_uuid = self.required_string(object, "callUUID", &at("callUUID"));
        let start = self.required_datetime(object, "startTime", &at("startTime"));
        let stop = self.required_datetime(object, "stopTime", &at("stopTime"));
        if let (Some(start), Some(stop)) = (start, stop) {
            if stop < start {
                self.violations
                    .invalid(&at("stopTime"), "is before startTime");
            }
        }
        let media_id = field(object, "mediaId").and_then(|v| self.string(v, &at("mediaId")));
        if let Some(kind) = field(object, "type").and_then(|v| v.as_str()) {
            if !is_mime_type(kind) {
                self.violations
                    .invalid(&at("type"), format!("{kind:?} is not a MIME type"));
            }
        }
        // Optional fields are looked at only when present: building their paths for
        // every media file showed up in profiles of bulk inserts.
        let present = |name: &str| field(object, name).is_some();
        for name in OPTIONAL_STRINGS.into_iter().filter(|name| present(name)) {
            self.optional_string(object, name, &at(name));
        }
        for name in ["duration", "size"]
            .into_iter()
            .filter(|name| present(name))
        {
            self.decimal(object, name, &at(name));
        }
        for name in STRING_ARRAYS.into_iter().filter(|name| present(name)) {
            self.string_array(object, name, &at(name));
        }
        if present("parameters") {
            self.parameters(object, &at("parameters"));
        }
        if present("masks") {
            self.masks(object, &at("masks"));
        }
        let descriptor_path = self.media_descriptor(object, &at("mediaDescriptor"));

        let (call_uuid, start, stop, descriptor_path) =
            (call_uuid?, start?, stop?, descriptor_path?);
        let key = match media_id {
            Some(id) => MediaKey::MediaId(id.to_owned()),
            None => MediaKey::Segment {
                call_uuid: call_uuid.to_owned(),
                start,
                path: descriptor_path.to_owned(),
            },
        };
        Some(MediaFile {
            key,
            start,
            stop,
            json: Value::Null,
        })
    }

    fn decimal(&mut self, object: &Map<String, Value>, name: &str, path: &str) {
        let valid = match field(object, name) {
            None => return,
            Some(Value::Number(number)) => number.as_f64().is_some_and(|n| n >= 0.0),
            Some(Value::String(text)) => is_decimal(text),
            Some(other) => {
                self.wrong_type(path, "a non-negative decimal number", other);
                return;
            }
        };
        if !valid {
            self.violations
                .invalid(path, "must be a non-negative decimal number");
        }
    }

    fn string_array(&mut self, object: &Map<String, Value>, name: &str, path: &str) {
        let Some(list) = field(object, name).and_then(|v| self.array(v, path)) else {
            return;
        };
        for (index, item) in list.iter().enumerate() {
            self.string(item, &format!("{path}[{index}]"));
        }
    }

    fn parameters(&mut self, media: &Map<String, Value>, path: &str) {
        let Some(parameters) = field(media, "parameters").and_then(|v| self.object(v, path)) else {
            return;
        };
        for name in PARAMETER_STRINGS {
            if field(parameters, name).is_some() {
                self.optional_string(parameters, name, &format!("{path}.{name}"));
            }
        }
    }

    fn masks(&mut self, media: &Map<String, Value>, path: &str) {
        let Some(list) = field(media, "masks").and_then(|v| self.array(v, path)) else {
            return;
        };
        for (index, item) in list.iter().enumerate() {
            let mask_path = format!("{path}[{index}]");
            let Some(mask) = self.object(item, &mask_path) else {
                continue;
            };
            self.required_datetime(mask, "time", &format!("{mask_path}.time"));
            let type_path = format!("{mask_path}.type");
            if let Some(kind) = self.required_string(mask, "type", &type_path) {
                self.one_of(kind, &["paused", "resume"], &type_path);
            }
        }
    }

    /// Answers the descriptor's `path` when the descriptor is valid.
    fn media_descriptor<'a>(
        &mut self,
        media: &'a Map<String, Value>,
        path: &str,
    ) -> Option<&'a str> {
        let descriptor = self.required(media, "mediaDescriptor", path)?;
        let descriptor = self.object(descriptor, path)?;
        let storage_path = format!("{path}.storage");
        let storage = self
            .required_string(descriptor, "storage", &storage_path)
            .and_then(|storage| self.storage(storage, &storage_path));
        let location_path = format!("{path}.path");
        let location = self.required_string(descriptor, "path", &location_path)?;
        match storage {
            Some(Storage::WebDav) if !is_media_location(location) => {
                self.violations.invalid(
                    &location_path,
                    format!("{location:?} is neither an http(s) URL nor a relative path"),
                );
                return None;
            }
            Some(Storage::S3) => {
                self.s3_bucket(descriptor, path);
                if !s3::is_object_key(location) {
                    self.violations.invalid(
                        &location_path,
                        format!(
                            "{location:?} is not an S3 object key gird can address (1 to {} bytes, no control characters, no \".\" or \"..\" segment)",
                            s3::MAX_KEY_BYTES
                        ),
                    );
                    return None;
                }
            }
            _ => {}
        }
        Some(location)
    }

    fn storage(&mut self, storage: &str, path: &str) -> Option<Storage> {
        if storage.eq_ignore_ascii_case("webDAV") {
            Some(Storage::WebDav)
        } else if storage.eq_ignore_ascii_case("awsS3") {
            Some(Storage::S3)
        } else {
            self.violations
                .invalid(path, format!("{storage:?} is neither webDAV nor awsS3"));
            None
        }
    }

    /// `data.bucket` of an `awsS3` descriptor.
    fn s3_bucket(&mut self, descriptor: &Map<String, Value>, path: &str) {
        let data_path = format!("{path}.data");
        let bucket_path = format!("{data_path}.bucket");
        let Some(data) = field(descriptor, "data") else {
            self.violations.missing(&bucket_path);
            return;
        };
        let Some(data) = self.object(data, &data_path) else {
            return;
        };
        let Some(bucket) = self.required_string(data, "bucket", &bucket_path) else {
            return;
        };
        if !s3::is_bucket_name(bucket) {
            self.violations.invalid(
                &bucket_path,
                format!(
                    "{bucket:?} is not an S3 bucket name (3 to 255 letters, digits, '.', '-' and '_')"
                ),
            );
        }
    }

    /// The distinct events, each with the index of its JSON value in the request.
    fn event_history(
        &mut self,
        object: &Map<String, Value>,
    ) -> (Option<Vec<(usize, Event)>>, bool) {
        let Some(value) = field(object, "eventHistory") else {
            return (Some(Vec::new()), false);
        };
        let Some(list) = self.array(value, "eventHistory") else {
            return (None, true);
        };
        let mut events: Vec<(usize, Event)> = Vec::with_capacity(list.len());
        let mut seen = EventIndex::default();
        let mut all_valid = true;
        for (index, value) in list.iter().enumerate() {
            let path = format!("eventHistory[{index}]");
            let Some(event) = self.event(value, &path) else {
                all_valid = false;
                continue;
            };
            let same_id = event
                .data_event_id
                .as_deref()
                .and_then(|id| seen.with_id(id));
            match same_id {
                Some(first) if list[first] != *value => self.violations.invalid(
                    &format!("{path}.eventId"),
                    format!("is already used by eventHistory[{first}] with different content"),
                ),
                Some(_) => {}
                None if seen
                    .alike(event.occurred_at, value)
                    .iter()
                    .any(|&other| list[other] == *value) => {}
                None => {
                    seen.insert(
                        index,
                        event.occurred_at,
                        event.data_event_id.as_deref(),
                        value,
                    );
                    events.push((index, event));
                }
            }
        }
        (all_valid.then_some(events), true)
    }

    fn event(&mut self, value: &Value, path: &str) -> Option<Event> {
        let object = self.object(value, path)?;
        let at = |name: &str| format!("{path}.{name}");
        let occurred_at = self.required_datetime(object, "occurredAt", &at("occurredAt"));
        self.optional_string(object, "calluuid", &at("calluuid"));
        let kind = self.required_string(object, "event", &at("event"));
        let mut data_event_id = None;
        match kind {
            Some("Joined" | "Left") => self.contact(object, &at("contact")),
            Some("Data") => {
                data_event_id = self
                    .required_string(object, "eventId", &at("eventId"))
                    .map(str::to_owned);
                if let Some(data) = self.required(object, "data", &at("data")) {
                    self.object(data, &at("data"));
                }
            }
            Some(other) => self.one_of(other, &["Joined", "Left", "Data"], &at("event")),
            None => {}
        }
        Some(Event {
            occurred_at: occurred_at?,
            data_event_id,
            json: Value::Null,
        })
    }

    fn contact(&mut self, event: &Map<String, Value>, path: &str) {
        let Some(contact) = self.required(event, "contact", path) else {
            return;
        };
        let Some(contact) = self.object(contact, path) else {
            return;
        };
        let at = |name: &str| format!("{path}.{name}");
        let kind = self.required_string(contact, "type", &at("type"));
        if let Some(kind) = kind {
            self.one_of(kind, &["User", "External"], &at("type"));
        }
        self.required_string(contact, "phoneNumber", &at("phoneNumber"));
        if kind == Some("User") {
            self.required_string(contact, "userName", &at("userName"));
        } else {
            self.optional_string(contact, "userName", &at("userName"));
        }
        for name in ["firstName", "lastName"] {
            self.optional_string(contact, name, &at(name));
        }
    }
}

/// Moves each validated item's JSON value out of the request's array into the item.
fn attach<T>(list: Option<Value>, items: Vec<(usize, T)>, set: impl Fn(&mut T, Value)) -> Vec<T> {
    let mut list = match list {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    items
        .into_iter()
        .map(|(index, mut item)| {
            set(&mut item, std::mem::take(&mut list[index]));
            item
        })
        .collect()
}

fn is_decimal(text: &str) -> bool {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction)
}

fn is_mime_type(text: &str) -> bool {
    let essence = text.split(';').next().unwrap_or_default().trim();
    let token = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    matches!(essence.split_once('/'), Some((kind, sub)) if token(kind) && token(sub))
}

/// An absolute http(s) URL with a host, or a relative path without a scheme.
fn is_media_location(text: &str) -> bool {
    if text.trim().is_empty() || text.chars().any(char::is_control) {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    for scheme in ["http://", "https://"] {
        if let Some(rest) = lower.strip_prefix(scheme) {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            return !host.is_empty() && !host.contains(char::is_whitespace);
        }
    }
    !text.contains("://") && !text.starts_with("//")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_non_negative_digits_with_an_optional_fraction() {
        for good in ["0", "59000", "6.192"] {
            assert!(is_decimal(good), "{good}");
        }
        for bad in ["", "-1", "1.", ".5", "1e3", "abc", " 1"] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }

    #[test]
    fn mime_types_have_a_type_and_a_subtype() {
        for good in [
            "audio/mp3",
            "audio/mpeg3",
            "video/mp4",
            "audio/wav; codecs=1",
        ] {
            assert!(is_mime_type(good), "{good}");
        }
        for bad in ["mp3", "audio/", "/mp3", "audio mp3/x", ""] {
            assert!(!is_mime_type(bad), "{bad}");
        }
    }

    #[test]
    fn media_locations_are_http_urls_or_relative_paths() {
        for good in [
            "http://example.com/file1.mp3",
            "HTTPS://h/x",
            "calls/2015/a.mp3",
            "/calls/a.mp3",
        ] {
            assert!(is_media_location(good), "{good}");
        }
        for bad in [
            "ftp://example.com/a.mp3",
            "http://",
            "http:///x",
            "//host/x",
            "",
            " ",
        ] {
            assert!(!is_media_location(bad), "{bad}");
        }
    }
}
