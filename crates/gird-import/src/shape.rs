//! What gird import adds to a source's records before they are checked or posted:
//! `--set` constants, times made ISO (in `--timezone` when they have no offset), and for
//! records built from fields (CSV rows, crawled files) what can be derived: the media
//! type from the file's extension, `stopTime` from `startTime` + `duration`, and
//! `parameters.callUuid`/`parameters.id` from `callUUID`.
//!
//! Nothing a source gave is replaced: each of these fills a field only when it is absent
//! (or empty). JSON Lines records are posted as written unless `--set` or `--timezone` is
//! given.

use anyhow::bail;
use jiff::tz::TimeZone;
use serde_json::{json, Map, Value};

use crate::source::fields::{self, check_name, Row, RECORD_FIELDS};
use crate::source::{Item, Record};
use crate::times;

/// Fields that differ from one record or media file to the next: never constants.
const NOT_CONSTANT: [&str; 5] = ["id", "callUUID", "mediaId", "startTime", "stopTime"];
const CALL_TYPES: [&str; 5] = ["Internal", "Inbound", "Outbound", "Consult", "Unknown"];

#[derive(Debug, Default)]
pub struct Shaping {
    /// `--set` fields of the record itself.
    record: Map<String, Value>,
    /// `--set` fields of every media file, as a media file holds them.
    media: Map<String, Value>,
    zone: Option<TimeZone>,
}

/// One `--set FIELD=VALUE`, checked.
pub fn parse_set(text: &str) -> anyhow::Result<(String, String)> {
    let Some((name, value)) = text.split_once('=') else {
        bail!("--set {text:?}: give FIELD=VALUE, e.g. --set region=west");
    };
    let (name, value) = (name.trim(), value.trim());
    if name.is_empty() {
        bail!("--set {text:?}: give FIELD=VALUE, e.g. --set region=west");
    }
    if let Err(error) = check_name(name) {
        bail!("--set {error}");
    }
    if NOT_CONSTANT.contains(&name) {
        bail!("--set {name}: {name} differs from one recording or media file to the next, so it has to come from the source (a column or a --pattern group)");
    }
    if value.is_empty() {
        bail!("--set {name}=: has no value");
    }
    let bad = |what: &str| anyhow::anyhow!("--set {name}={value}: {name} must be {what}");
    match name {
        "duration" if !value.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(bad("a whole number of milliseconds, e.g. 61000"))
        }
        "size" if !value.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(bad("a whole number of bytes"))
        }
        "callType" if !CALL_TYPES.iter().any(|t| t.eq_ignore_ascii_case(value)) => {
            return Err(bad(&format!("one of {}", CALL_TYPES.join(", "))))
        }
        "storage"
            if !["webDAV", "awsS3"]
                .iter()
                .any(|s| s.eq_ignore_ascii_case(value)) =>
        {
            return Err(bad("webDAV or awsS3"))
        }
        _ => {}
    }
    Ok((name.to_owned(), value.to_owned()))
}

impl Shaping {
    /// From the `--set` and `--timezone` arguments; an error names the bad one.
    pub fn new(sets: &[String], timezone: Option<&str>) -> anyhow::Result<Shaping> {
        let mut record = Map::new();
        let mut media_row = Row::new();
        for text in sets {
            let (name, value) = parse_set(text)?;
            let given_twice =
                record.contains_key(&name) || media_row.iter().any(|(field, _)| *field == name);
            if given_twice {
                bail!("--set {name} is given twice");
            }
            if RECORD_FIELDS.contains(&name.as_str()) {
                record.insert(name, json!(value));
            } else {
                media_row.push((name, value));
            }
        }
        Ok(Shaping {
            record,
            media: fields::media_file(&media_row),
            zone: timezone.map(times::zone).transpose()?,
        })
    }

    fn rewrites_written_records(&self) -> bool {
        !self.record.is_empty() || !self.media.is_empty() || self.zone.is_some()
    }

    /// The item with its record shaped; `built`: made from fields (CSV, a crawl), not
    /// written as a whole record (JSON Lines). A record that cannot be shaped becomes an
    /// error of the item: it is reported, never posted.
    pub fn item(&self, mut item: Item, built: bool) -> Item {
        if !built && !self.rewrites_written_records() {
            return item;
        }
        let Ok(record) = &item.record else {
            return item;
        };
        // Not JSON, or no object: posted as it is, for the server to say why.
        let Some(Value::Object(mut object)) = record.json().ok().map(|json| json.into_owned())
        else {
            return item;
        };
        item.record = match self.record(&mut object, built) {
            Ok(()) => Ok(Record::from_json(Value::Object(object))),
            Err(error) => Err(error),
        };
        item
    }

    fn record(&self, record: &mut Map<String, Value>, built: bool) -> Result<(), String> {
        fill(record, &self.record);
        // Times are rewritten in built records always (their sources write many forms),
        // in written ones only for --timezone.
        let times = built || self.zone.is_some();
        if let Some(Value::Array(media_files)) = record.get_mut("mediaFiles") {
            for (index, media) in media_files.iter_mut().enumerate() {
                let Value::Object(media) = media else {
                    continue;
                };
                fill(media, &self.media);
                if times {
                    self.times(media, &["startTime", "stopTime"]);
                    if let Some(Value::Array(masks)) = media.get_mut("masks") {
                        for mask in masks.iter_mut().filter_map(Value::as_object_mut) {
                            self.times(mask, &["time"]);
                        }
                    }
                }
                if built {
                    self.derive(media)
                        .map_err(|error| format!("mediaFiles[{index}].{error}"))?;
                }
            }
        }
        if times {
            if let Some(Value::Array(events)) = record.get_mut("eventHistory") {
                for event in events.iter_mut().filter_map(Value::as_object_mut) {
                    self.times(event, &["occurredAt"]);
                }
            }
        }
        Ok(())
    }

    fn times(&self, object: &mut Map<String, Value>, names: &[&str]) {
        for name in names {
            let text = object.get(*name).and_then(Value::as_str);
            if let Some(normal) = text.and_then(|text| times::normalize(text, self.zone.as_ref())) {
                object.insert((*name).to_owned(), json!(normal));
            }
        }
    }

    /// What a media file built from fields can do without.
    fn derive(&self, media: &mut Map<String, Value>) -> Result<(), String> {
        if absent(media.get("type")) {
            let path = media
                .get("mediaDescriptor")
                .and_then(|descriptor| descriptor.get("path"))
                .and_then(Value::as_str);
            if let Some(kind) = path.and_then(media_type) {
                media.insert("type".into(), json!(kind));
            }
        }
        if absent(media.get("stopTime")) {
            if let Some(stop) = self.stop_time(media)? {
                media.insert("stopTime".into(), json!(stop));
            }
        }
        if let Some(call) = media.get("callUUID").filter(|call| !absent(Some(call))) {
            let call = call.clone();
            let parameters = media
                .entry("parameters")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(parameters) = parameters {
                for name in ["callUuid", "id"] {
                    if absent(parameters.get(name)) {
                        parameters.insert(name.into(), call.clone());
                    }
                }
            }
        }
        Ok(())
    }

    /// `startTime` + `duration` (in milliseconds, as GIR clients send it), when both are
    /// there; an error when the duration is not a whole number of milliseconds.
    fn stop_time(&self, media: &Map<String, Value>) -> Result<Option<String>, String> {
        let start = media
            .get("startTime")
            .and_then(Value::as_str)
            .and_then(gird_model::datetime::parse_iso);
        let duration = match media.get("duration") {
            Some(Value::String(text)) => text.trim().to_owned(),
            Some(Value::Number(number)) => number.to_string(),
            _ => return Ok(None),
        };
        let Some(start) = start else {
            return Ok(None);
        };
        let millis = duration
            .parse::<u32>()
            .ok()
            .filter(|_| duration.bytes().all(|b| b.is_ascii_digit()));
        match millis {
            Some(millis) => Ok(Some(times::format_in(
                start + i64::from(millis),
                self.zone.as_ref(),
            ))),
            None => Err(format!(
                "duration: {duration:?} is not a whole number of milliseconds (at most 4294967295), so stopTime cannot be derived from startTime and duration; give stopTime or a duration in milliseconds"
            )),
        }
    }
}

fn absent(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(text)) => text.is_empty(),
        Some(_) => false,
    }
}

/// Adds the fields of `fill` that `target` lacks, objects field by field.
fn fill(target: &mut Map<String, Value>, fill_with: &Map<String, Value>) {
    for (name, value) in fill_with {
        match (target.get_mut(name), value) {
            (Some(Value::Object(inner)), Value::Object(more)) => fill(inner, more),
            (existing, _) if absent(existing.as_deref()) => {
                target.insert(name.clone(), value.clone());
            }
            _ => {}
        }
    }
}

/// The type of `x.mp3`, and of GIR's encrypted `x.mp3.bin`.
fn media_type(path: &str) -> Option<&'static str> {
    let lower = path.to_ascii_lowercase();
    let plain = lower.strip_suffix(".bin").unwrap_or(&lower);
    let extension = plain.rsplit_once('.')?.1;
    Some(match extension {
        "mp3" => "audio/mp3",
        "wav" => "audio/wav",
        "ogg" | "opus" => "audio/ogg",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encrypted_file_has_the_type_of_its_plaintext() {
        assert_eq!(media_type("a/x.mp3.bin"), Some("audio/mp3"));
        assert_eq!(media_type("a/X.WAV.BIN"), Some("audio/wav"));
        assert_eq!(media_type("a/x.mp3"), Some("audio/mp3"));
        assert_eq!(media_type("a/x.bin"), None);
        assert_eq!(media_type("a/x.txt.bin"), None);
    }

    fn built(shaping: &Shaping, record: Value) -> Result<Value, String> {
        let item = Item {
            seq: 0,
            origin: "line 2".into(),
            record: Ok(Record::from_json(record)),
        };
        let record = shaping.item(item, true).record?;
        Ok(record.json().unwrap().into_owned())
    }

    fn shaping(sets: &[&str], zone: Option<&str>) -> Shaping {
        let sets: Vec<String> = sets.iter().map(|set| (*set).to_owned()).collect();
        Shaping::new(&sets, zone).unwrap()
    }

    fn set_error(set: &str) -> String {
        Shaping::new(&[set.to_owned()], None)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn sets_are_field_value_pairs_of_known_constant_fields() {
        assert_eq!(
            parse_set("region = west").unwrap(),
            ("region".into(), "west".into())
        );
        assert_eq!(
            parse_set("parameters.site=a=b").unwrap(),
            ("parameters.site".into(), "a=b".into())
        );
        for (set, says) in [
            ("region", "give FIELD=VALUE"),
            ("=west", "give FIELD=VALUE"),
            ("regoin=west", "\"regoin\" is not a field"),
            ("region=", "has no value"),
            ("id=x", "has to come from the source"),
            ("mediaId=x", "has to come from the source"),
            (
                "startTime=2024-01-01T00:00:00Z",
                "has to come from the source",
            ),
            ("duration=abc", "a whole number of milliseconds"),
            ("duration=6.192", "a whole number of milliseconds"),
            ("size=-1", "a whole number of bytes"),
            ("callType=sideways", "one of Internal, Inbound"),
            ("storage=gcs", "webDAV or awsS3"),
        ] {
            let error = set_error(set);
            assert!(error.starts_with("--set "), "{set}: {error}");
            assert!(error.contains(says), "{set}: {error}");
        }
        let twice = Shaping::new(&["region=a".into(), "region=b".into()], None)
            .unwrap_err()
            .to_string();
        assert!(twice.contains("given twice"), "{twice}");
    }

    #[test]
    fn sets_fill_what_the_record_and_every_media_file_lack() {
        let shaping = shaping(
            &[
                "region=west",
                "dialedPhoneNumber=+15550100",
                "tenant=acme",
                "username=agent.ann",
                "storage=webDAV",
                "parameters.site=paris",
            ],
            None,
        );
        let record = json!({
            "id": "r1", "region": "", "dialedPhoneNumber": "+15550999",
            "mediaFiles": [
                {"callUUID": "c1", "parameters": {"site": "lyon"}},
                {"callUUID": "c1", "tenant": "other"}
            ]
        });
        let record = built(&shaping, record).unwrap();
        assert_eq!(record["region"], "west", "empty is absent");
        assert_eq!(record["dialedPhoneNumber"], "+15550999", "the source wins");
        let media = &record["mediaFiles"];
        assert_eq!(media[0]["tenant"], "acme");
        assert_eq!(media[1]["tenant"], "other");
        assert_eq!(media[0]["parameters"]["site"], "lyon");
        assert_eq!(media[1]["parameters"]["site"], "paris");
        assert_eq!(media[1]["parameters"]["username"], "agent.ann");
        assert_eq!(media[0]["mediaDescriptor"]["storage"], "webDAV");
    }

    #[test]
    fn stop_time_is_start_time_plus_the_duration_in_milliseconds() {
        let record = |media: Value| json!({"id": "r1", "mediaFiles": [media]});
        let utc = shaping(&[], None);
        let stopped = built(
            &utc,
            record(
                json!({"callUUID": "c1", "startTime": "2024-01-01 10:00:00", "duration": "61000"}),
            ),
        )
        .unwrap();
        let media = &stopped["mediaFiles"][0];
        assert_eq!(media["startTime"], "2024-01-01T10:00:00Z");
        assert_eq!(media["stopTime"], "2024-01-01T10:01:01.000+0000");
        // A JSON number, across the change to daylight saving time in the zone.
        let zoned = shaping(&[], Some("America/Los_Angeles"));
        let stopped = built(
            &zoned,
            record(json!({"callUUID": "c1", "startTime": "2024-03-10 01:30:00", "duration": 3_600_000})),
        )
        .unwrap();
        let media = &stopped["mediaFiles"][0];
        assert_eq!(media["startTime"], "2024-03-10T01:30:00-08:00");
        assert_eq!(media["stopTime"], "2024-03-10T03:30:00-07:00");
        // A stopTime given stays; no duration, no stopTime.
        let given = json!({"callUUID": "c1", "startTime": "2024-01-01T10:00:00Z",
                           "stopTime": "2024-01-01T10:00:05Z", "duration": "61000"});
        let kept = built(&utc, record(given)).unwrap();
        assert_eq!(kept["mediaFiles"][0]["stopTime"], "2024-01-01T10:00:05Z");
        let alone = built(
            &utc,
            record(json!({"callUUID": "c1", "startTime": "2024-01-01T10:00:00Z"})),
        );
        assert!(alone.unwrap()["mediaFiles"][0].get("stopTime").is_none());
        // A duration that is no number of milliseconds: the record is not posted.
        for duration in ["abc", "6.192", "-5"] {
            let media = json!({"callUUID": "c1", "startTime": "2024-01-01T10:00:00Z", "duration": duration});
            let error = built(&utc, record(media)).unwrap_err();
            assert!(
                error.starts_with(&format!(
                    "mediaFiles[0].duration: {duration:?} is not a whole number of milliseconds"
                )),
                "{error}"
            );
        }
    }

    #[test]
    fn built_media_files_get_their_type_and_call_parameters() {
        let record = json!({"id": "r1", "mediaFiles": [
            {"callUUID": "c1", "mediaDescriptor": {"path": "calls/a.WAV", "storage": "webDAV"}},
            {"callUUID": "c2", "type": "audio/mpeg", "mediaDescriptor": {"path": "b.mp3"},
             "parameters": {"id": "given"}}
        ]});
        let record = built(&shaping(&["type=audio/ogg"], None), record.clone()).unwrap();
        let media = &record["mediaFiles"];
        assert_eq!(
            media[0]["type"], "audio/ogg",
            "--set wins over the extension"
        );
        assert_eq!(media[1]["type"], "audio/mpeg");
        assert_eq!(
            media[0]["parameters"],
            json!({"callUuid": "c1", "id": "c1"})
        );
        assert_eq!(
            media[1]["parameters"],
            json!({"callUuid": "c2", "id": "given"})
        );
        let guessed = json!({"id": "r1", "mediaFiles": [
            {"callUUID": "c1", "mediaDescriptor": {"path": "calls/a.WAV"}}]});
        let guessed = built(&shaping(&[], None), guessed).unwrap();
        assert_eq!(guessed["mediaFiles"][0]["type"], "audio/wav");
    }

    #[test]
    fn written_records_change_only_for_sets_and_a_time_zone() {
        let line = br#"{"id":"r1","mediaFiles":[{"callUUID":"c1","startTime":"2024-07-01 12:00:00","duration":"5"}],"eventHistory":[{"occurredAt":"2024-07-01T12:00:01"}]}"#;
        let item = |shaping: &Shaping| {
            let item = Item {
                seq: 0,
                origin: "line 1".into(),
                record: Ok(Record::raw(bytes::Bytes::from_static(line))),
            };
            shaping.item(item, false).record.unwrap()
        };
        let untouched = item(&shaping(&[], None));
        assert_eq!(&untouched.body()[..], line, "posted as written");
        let zoned = item(&shaping(&["region=west"], Some("Europe/Paris")));
        let json = zoned.json().unwrap();
        assert_eq!(json["region"], "west");
        let media = &json["mediaFiles"][0];
        assert_eq!(media["startTime"], "2024-07-01T12:00:00+02:00");
        assert!(media.get("stopTime").is_none(), "nothing derived");
        assert!(media.get("parameters").is_none(), "nothing derived");
        assert_eq!(
            json["eventHistory"][0]["occurredAt"],
            "2024-07-01T12:00:01+02:00"
        );
    }
}
