//! The search benchmark's records, generated from a seed and an index alone: the same
//! seed always gives the same million records, any one of them can be regenerated
//! without the others (the queries draw their parameters that way), and re-inserting
//! one is an identical merge, so a half-populated database can simply be topped up.

use bytes::Bytes;
use serde_json::{json, Value};

use crate::load::BodySource;

pub const AGENTS: u64 = 2_000;
pub const DIALED_NUMBERS: u64 = 500;
/// Half of all calls go to these few numbers of the pool, the other half spread over all.
pub const HOT_DIALED_NUMBERS: u64 = 10;
const REGIONS: [&str; 5] = ["Can-West", "Can-East", "US-West", "US-East", "EU-Central"];
const CALL_TYPES: [&str; 3] = ["Inbound", "Outbound", "Internal"];
/// Each call's access group: one of 4 departments × 5 areas (`/Sales/East`...).
const DEPARTMENTS: [&str; 4] = ["/Sales", "/Support", "/Billing", "/Retention"];
const AREAS: [&str; 5] = ["East", "West", "North", "South", "Central"];
/// Each call's partition, or none for a fifth of them.
const PARTITIONS: [&str; 3] = ["/emea", "/apac", "/amer"];
/// The restricted supervisor of the benchmark: one of the 20 groups, one of the 3
/// partitions, so they see about 2.3 % of the calls (a twentieth of those in `/emea` or
/// in no partition).
pub const SUPERVISOR_NAME: &str = "bench-supervisor";
pub const SUPERVISOR_GROUP: &str = "/Sales/East";
pub const SUPERVISOR_PARTITION: &str = "/emea";
/// 2025-01-01T00:00:00Z.
pub const YEAR_START_MS: i64 = 1_735_689_600_000;
pub const DAY_MS: i64 = 86_400_000;
const YEAR_MS: i64 = 365 * DAY_MS;
const MIN_CALL_MS: u64 = 30_000;
const MAX_CALL_MS: u64 = 20 * 60_000;

/// Namespaces of the random streams, so that no two uses share one.
const STREAM_RECORD: u64 = 1;
const STREAM_DIALED_POOL: u64 = 2;
pub const STREAM_QUERIES: u64 = 3;
/// Access groups and partitions have a stream of their own, so that adding them left
/// every other generated value as it was.
const STREAM_ACCESS: u64 = 4;

/// SplitMix64: tiny, fast, and fixed forever, unlike a library generator whose
/// algorithm may change between versions and with it every generated database.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64, stream: u64, index: u64) -> Self {
        let mut rng = Rng(seed);
        for word in [stream, index] {
            rng.0 = rng.next_u64() ^ word;
        }
        rng
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// Uniform in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }

    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A North American number: `1`, then area code and exchange (first digit 2–9),
/// then four digits; 11 digits in all.
fn phone_digits(rng: &mut Rng) -> String {
    format!(
        "1{}{}{:04}",
        rng.between(200, 999),
        rng.between(200, 999),
        rng.below(10_000)
    )
}

/// The ways a caller's number arrives. The search compares letters and digits only,
/// so every one of them must find the same record.
pub const PHONE_FORMATS: usize = 4;

/// `digits` (11 digits, starting with 1) written in format `format`.
pub fn format_phone(digits: &str, format: usize) -> String {
    let (area, exchange, line) = (&digits[1..4], &digits[4..7], &digits[7..11]);
    match format % PHONE_FORMATS {
        0 => format!("+1 ({area}) {exchange}-{line}"),
        1 => digits.to_owned(),
        2 => format!("+{digits}"),
        _ => format!("1-{area}-{exchange}-{line}"),
    }
}

pub fn agent_name(agent: u64) -> String {
    format!("agent{agent:04}@example.com")
}

pub struct MediaFile {
    pub agent: u64,
    pub start_ms: i64,
    pub stop_ms: i64,
}

pub struct Recording {
    pub id: String,
    pub start_ms: i64,
    /// The caller's 11 digits; `caller_text` is how the record spells them.
    pub caller_digits: String,
    pub caller_text: String,
    pub dialed: String,
    pub region: &'static str,
    pub call_type: &'static str,
    pub call_uuid: String,
    pub media_files: Vec<MediaFile>,
    /// The access group of every media file of the call, e.g. `/Sales/East`.
    pub access_group: String,
    pub partition: Option<&'static str>,
}

pub struct Dataset {
    seed: u64,
    dialed_pool: Vec<String>,
}

impl Dataset {
    pub fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed, STREAM_DIALED_POOL, 0);
        let dialed_pool = (0..DIALED_NUMBERS)
            .map(|_| format!("+{}", phone_digits(&mut rng)))
            .collect();
        Self { seed, dialed_pool }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The pool's numbers in E.164 (`+14165550123`); the first
    /// [`HOT_DIALED_NUMBERS`] are the busy ones.
    pub fn dialed_number(&self, index: u64) -> &str {
        &self.dialed_pool[index as usize]
    }

    pub fn recording_id(&self, index: u64) -> String {
        format!("search-{}-{index:08}", self.seed)
    }

    /// The index of a recording id of this dataset, the inverse of [`Dataset::recording_id`].
    pub fn index_of(&self, id: &str) -> Option<u64> {
        let rest = id.strip_prefix(&format!("search-{}-", self.seed))?;
        rest.parse().ok()
    }

    /// Whether `id` is a recording of this dataset that the restricted supervisor may see.
    pub fn supervisor_sees(&self, id: &str) -> bool {
        self.index_of(id)
            .is_some_and(|index| self.recording(index).visible_to_supervisor())
    }

    pub fn recording(&self, index: u64) -> Recording {
        let mut access = Rng::new(self.seed, STREAM_ACCESS, index);
        let access_group = format!("{}/{}", access.pick(&DEPARTMENTS), access.pick(&AREAS));
        let partition = (!access.percent(20)).then(|| access.pick(&PARTITIONS));
        let mut rng = Rng::new(self.seed, STREAM_RECORD, index);
        let start_ms = YEAR_START_MS + rng.below(YEAR_MS as u64) as i64;
        let length_ms = rng.between(MIN_CALL_MS, MAX_CALL_MS);
        let caller_digits = phone_digits(&mut rng);
        let caller_text = format_phone(&caller_digits, rng.below(PHONE_FORMATS as u64) as usize);
        let dialed_index = if rng.percent(50) {
            rng.below(HOT_DIALED_NUMBERS)
        } else {
            rng.below(DIALED_NUMBERS)
        };
        let media_count = match rng.below(100) {
            0..=49 => 1,
            50..=84 => 2,
            _ => 3,
        };
        // Segments of the call, back to back: cut points spread over its length.
        let mut cuts: Vec<u64> = (1..media_count).map(|_| rng.below(length_ms)).collect();
        cuts.sort_unstable();
        cuts.insert(0, 0);
        cuts.push(length_ms);
        let mut agent = rng.between(1, AGENTS);
        let mut media_files = Vec::with_capacity(media_count);
        for segment in cuts.windows(2) {
            // A transfer usually reaches another agent.
            if !media_files.is_empty() && rng.percent(70) {
                agent = rng.between(1, AGENTS);
            }
            media_files.push(MediaFile {
                agent,
                start_ms: start_ms + segment[0] as i64,
                stop_ms: start_ms + segment[1] as i64,
            });
        }
        Recording {
            id: self.recording_id(index),
            start_ms,
            caller_digits,
            caller_text,
            dialed: self.dialed_pool[dialed_index as usize].clone(),
            region: rng.pick(&REGIONS),
            call_type: rng.pick(&CALL_TYPES),
            call_uuid: format!("{:016X}", rng.next_u64()),
            media_files,
            access_group,
            partition,
        }
    }
}

impl BodySource for Dataset {
    fn render(&self, sequence: u64) -> Bytes {
        Bytes::from(self.recording(sequence).to_json().to_string())
    }
}

impl Recording {
    /// Whether the benchmark's restricted supervisor may see the call (gird's rule: a
    /// group of theirs grants it, and it has no partition or one of theirs).
    pub fn visible_to_supervisor(&self) -> bool {
        let granted = self.access_group == SUPERVISOR_GROUP
            || self
                .access_group
                .starts_with(&format!("{SUPERVISOR_GROUP}/"));
        granted && self.partition.is_none_or(|p| p == SUPERVISOR_PARTITION)
    }

    /// The record as the Insertion API takes it.
    pub fn to_json(&self) -> Value {
        let media_files: Vec<Value> = self
            .media_files
            .iter()
            .enumerate()
            .map(|(position, media)| {
                let length_ms = media.stop_ms - media.start_ms;
                json!({
                    "callUUID": self.call_uuid,
                    "startTime": iso_millis(media.start_ms),
                    "stopTime": iso_millis(media.stop_ms),
                    "mediaId": format!("{}-m{position}", self.id),
                    "type": "audio/mp3",
                    "duration": length_ms.to_string(),
                    "size": (length_ms * 2).to_string(),
                    "parameters": {"username": agent_name(media.agent)},
                    "accessgroups": [self.access_group],
                    "partitions": self.partition.into_iter().collect::<Vec<_>>(),
                    "mediaDescriptor": {
                        "storage": "webDAV",
                        "path": format!("{}/{}-m{position}.mp3", &iso_millis(media.start_ms)[..10], self.id),
                    },
                })
            })
            .collect();
        let first = &self.media_files[0];
        json!({
            "id": self.id,
            "callerPhoneNumber": self.caller_text,
            "dialedPhoneNumber": self.dialed,
            "region": self.region,
            "callType": self.call_type,
            "mediaFiles": media_files,
            "eventHistory": [{
                "occurredAt": iso_millis(first.start_ms),
                "calluuid": self.call_uuid,
                "event": "Joined",
                "contact": {
                    "type": "User",
                    "phoneNumber": format!("4{:05}", first.agent),
                    "userName": agent_name(first.agent),
                    "firstName": "Agent",
                    "lastName": format!("{:04}", first.agent),
                },
            }],
        })
    }
}

/// Epoch milliseconds as `2025-03-04T05:06:07.089Z`.
pub fn iso_millis(epoch_ms: i64) -> String {
    let (year, month, day) = civil_from_days(epoch_ms.div_euclid(DAY_MS));
    let in_day = epoch_ms.rem_euclid(DAY_MS);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits_only(text: &str) -> String {
        text.chars().filter(char::is_ascii_digit).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_records() {
        let (first, second) = (Dataset::new(7), Dataset::new(7));
        for index in [0, 1, 999_999] {
            assert_eq!(first.render(index), second.render(index));
        }
        assert_ne!(first.render(0), first.render(1));
        assert_ne!(first.render(0), Dataset::new(8).render(0));
    }

    #[test]
    fn generated_values_are_pinned() {
        // Changing the generator silently would make kept databases disagree with the
        // queries drawn for them; the marker's generator version must change with it.
        let recording = Dataset::new(1).recording(0);
        let start = iso_millis(recording.start_ms);
        let pinned = (
            recording.id.as_str(),
            start.as_str(),
            recording.caller_digits.as_str(),
        );
        assert_eq!(pinned, PINNED_RECORD_0);
    }

    const PINNED_RECORD_0: (&str, &str, &str) = (
        "search-1-00000000",
        "2025-05-05T16:41:25.013Z",
        "19507943544",
    );

    #[test]
    fn records_have_the_promised_shape() {
        let dataset = Dataset::new(42);
        let mut formats_seen = [false; PHONE_FORMATS];
        let mut hot_calls = 0;
        for index in 0..2_000 {
            let recording = dataset.recording(index);
            let body: Value = serde_json::from_slice(&dataset.render(index)).unwrap();
            assert_eq!(body["id"], recording.id.as_str());
            assert!((YEAR_START_MS..YEAR_START_MS + YEAR_MS).contains(&recording.start_ms));
            assert!(iso_millis(recording.start_ms).starts_with("2025-"));
            let stop = recording.media_files.last().unwrap().stop_ms;
            let length = (stop - recording.start_ms) as u64;
            assert!((MIN_CALL_MS..=MAX_CALL_MS).contains(&length), "{length}");
            assert!((1..=3).contains(&recording.media_files.len()));
            let media = body["mediaFiles"].as_array().unwrap();
            assert_eq!(media.len(), recording.media_files.len());
            for (position, file) in media.iter().enumerate() {
                let agent = file["parameters"]["username"].as_str().unwrap();
                assert!(agent.starts_with("agent") && agent.ends_with("@example.com"));
                let number: u64 = agent[5..9].parse().unwrap();
                assert!((1..=AGENTS).contains(&number));
                assert_eq!(file["mediaId"], format!("{}-m{position}", recording.id));
            }
            let caller = body["callerPhoneNumber"].as_str().unwrap();
            assert_eq!(digits_only(caller), recording.caller_digits);
            assert_eq!(recording.caller_digits.len(), 11);
            assert!(recording.caller_digits.starts_with('1'));
            let format = (0..PHONE_FORMATS)
                .find(|&format| format_phone(&recording.caller_digits, format) == caller)
                .unwrap();
            formats_seen[format] = true;
            let dialed = body["dialedPhoneNumber"].as_str().unwrap();
            let pool_index = (0..DIALED_NUMBERS)
                .find(|&i| dataset.dialed_number(i) == dialed)
                .unwrap();
            if pool_index < HOT_DIALED_NUMBERS {
                hot_calls += 1;
            }
            assert!(REGIONS.contains(&body["region"].as_str().unwrap()));
            assert!(CALL_TYPES.contains(&body["callType"].as_str().unwrap()));
            for file in media {
                assert_eq!(file["accessgroups"], json!([recording.access_group]));
                let partitions: Vec<&str> = recording.partition.into_iter().collect();
                assert_eq!(file["partitions"], json!(partitions));
            }
        }
        assert_eq!(formats_seen, [true; PHONE_FORMATS]);
        let visible = (0..2_000)
            .filter(|&index| dataset.recording(index).visible_to_supervisor())
            .count();
        // 1/20 of the groups × (4/5 × 1/3 + 1/5) of the partitions: about 46 in 2,000.
        assert!((20..80).contains(&visible), "{visible}");
        // 50 % hot plus the hot numbers' share of the uniform half: about 51 %.
        assert!((900..1_150).contains(&hot_calls), "{hot_calls}");
    }

    #[test]
    fn ids_lead_back_to_their_records() {
        let dataset = Dataset::new(3);
        assert_eq!(dataset.index_of(&dataset.recording_id(1234)), Some(1234));
        assert_eq!(dataset.index_of("search-4-00001234"), None);
        assert_eq!(dataset.index_of("other"), None);
        let visible = (0..500)
            .find(|&index| dataset.recording(index).visible_to_supervisor())
            .unwrap();
        let invisible = (0..500)
            .find(|&index| !dataset.recording(index).visible_to_supervisor())
            .unwrap();
        assert!(dataset.supervisor_sees(&dataset.recording_id(visible)));
        assert!(!dataset.supervisor_sees(&dataset.recording_id(invisible)));
        assert!(!dataset.supervisor_sees("unknown"));
    }

    #[test]
    fn phone_formats() {
        let digits = "14165550123";
        assert_eq!(format_phone(digits, 0), "+1 (416) 555-0123");
        assert_eq!(format_phone(digits, 1), "14165550123");
        assert_eq!(format_phone(digits, 2), "+14165550123");
        assert_eq!(format_phone(digits, 3), "1-416-555-0123");
    }

    #[test]
    fn dialed_pool_is_e164_and_distinct() {
        let dataset = Dataset::new(1);
        let mut numbers: Vec<&str> = (0..DIALED_NUMBERS)
            .map(|i| dataset.dialed_number(i))
            .collect();
        assert!(numbers.iter().all(|n| n.len() == 12 && n.starts_with("+1")));
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len() as u64, DIALED_NUMBERS);
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_millis(YEAR_START_MS), "2025-01-01T00:00:00.000Z");
        assert_eq!(iso_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            iso_millis(YEAR_START_MS + YEAR_MS - 1),
            "2025-12-31T23:59:59.999Z"
        );
        assert_eq!(iso_millis(1_741_064_767_089), "2025-03-04T05:06:07.089Z");
    }

    #[test]
    fn random_numbers_stay_in_range() {
        let mut rng = Rng::new(3, 4, 5);
        for _ in 0..10_000 {
            assert!(rng.below(7) < 7);
            assert!((200..=999).contains(&rng.between(200, 999)));
        }
    }
}
