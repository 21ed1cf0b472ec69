//! Datetimes as sources write them, made into what the Insertion API takes.
//!
//! Sources write a date as `2024-03-01` or `20240301`, then `T`, a space (SQL exports) or
//! nothing, a time as `10:00:00` or `100000`, a fraction of 1 to 9 digits, and an offset
//! (`Z`, `+01:00`, `+0100`, `+01`) or none. The Insertion API takes the ISO form with a `T`
//! and reads a time without an offset as UTC; `--timezone` says what such a time means
//! instead, with the tz database's rules for that date (daylight saving time included).

use anyhow::anyhow;
use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

/// The time zone `--timezone` names, from the tz database.
pub fn zone(name: &str) -> anyhow::Result<TimeZone> {
    TimeZone::get(name).map_err(|error| {
        anyhow!(
            "--timezone {name:?} is not a time zone of the tz database ({error}); give an IANA name such as America/Los_Angeles, Europe/Paris or UTC"
        )
    })
}

/// A datetime's parts as written.
#[derive(Debug)]
struct Written<'a> {
    civil: DateTime,
    /// The fraction's digits, as written (maybe none).
    fraction: &'a str,
    /// `Z` or `±HH:MM`, if an offset was written.
    offset: Option<String>,
    /// Written `YYYY-MM-DDTHH:MM:SS[.f]`: the Insertion API reads it as it is.
    iso: bool,
}

/// The text to send for a datetime of a source, or `None` when it goes as written (it is
/// already ISO with the offset it needs, or it is no datetime: the server says why).
/// A time without an offset is taken in `zone` (a time that does not exist there, in the
/// gap of a change to daylight saving time, is moved forward by the gap; one that exists
/// twice, when the clocks go back, is the earlier: jiff's `Disambiguation::Compatible`,
/// as java.time and JavaScript's Temporal do it), else as UTC.
pub fn normalize(text: &str, zone: Option<&TimeZone>) -> Option<String> {
    let written = parse(text)?;
    match (&written.offset, zone) {
        (Some(_), _) | (None, None) if written.iso => None,
        (Some(offset), _) => Some(iso(written.civil, written.fraction, offset)),
        (None, None) => Some(iso(written.civil, written.fraction, "Z")),
        (None, Some(zone)) => {
            let zoned = zone.to_ambiguous_zoned(written.civil).compatible().ok()?;
            Some(iso(
                zoned.datetime(),
                written.fraction,
                &offset_text(zoned.offset()),
            ))
        }
    }
}

/// An instant written in `zone` with its offset (`2024-03-10T03:30:00-07:00`), else in
/// UTC the way gird writes the times it derives (`2024-03-10T11:30:00.000+0000`).
pub fn format_in(millis: i64, zone: Option<&TimeZone>) -> String {
    let (Some(zone), Ok(instant)) = (zone, Timestamp::from_millisecond(millis)) else {
        return gird_model::datetime::format_millis(millis);
    };
    let zoned = instant.to_zoned(zone.clone());
    let fraction = match millis.rem_euclid(1000) {
        0 => String::new(),
        ms => format!("{ms:03}"),
    };
    iso(zoned.datetime(), &fraction, &offset_text(zoned.offset()))
}

fn iso(civil: DateTime, fraction: &str, offset: &str) -> String {
    let dot = if fraction.is_empty() { "" } else { "." };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{dot}{fraction}{offset}",
        civil.year(),
        civil.month(),
        civil.day(),
        civil.hour(),
        civil.minute(),
        civil.second()
    )
}

fn offset_text(offset: Offset) -> String {
    let seconds = offset.seconds();
    let sign = if seconds < 0 { '-' } else { '+' };
    let seconds = seconds.unsigned_abs();
    let (hours, minutes, rest) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    match rest {
        0 => format!("{sign}{hours:02}:{minutes:02}"),
        // Local mean time before standard time zones (America/Los_Angeles until 1883).
        _ => format!("{sign}{hours:02}:{minutes:02}:{rest:02}"),
    }
}

fn parse(text: &str) -> Option<Written<'_>> {
    let mut cursor = Cursor(text.as_bytes(), text);
    let year = cursor.number(4)?;
    let dashed = cursor.eat(b'-');
    let month = cursor.number(2)?;
    if dashed {
        cursor.expect(b'-')?;
    }
    let day = cursor.number(2)?;
    let separator = cursor.next_if(|byte| matches!(byte, b'T' | b't' | b' '));
    let hour = cursor.number(2)?;
    let coloned = cursor.eat(b':');
    let minute = cursor.number(2)?;
    if coloned {
        cursor.expect(b':')?;
    }
    let second = cursor.number(2)?;
    let fraction = if cursor.eat(b'.') {
        cursor.digits(1, 9)?
    } else {
        ""
    };
    let offset = cursor.offset()?;
    if !cursor.0.is_empty() || (separator.is_none() && dashed) {
        return None;
    }
    let nanos = format!("{fraction:0<9}").parse::<i32>().ok()?;
    let civil = DateTime::new(
        year as i16,
        month as i8,
        day as i8,
        hour as i8,
        minute as i8,
        second as i8,
        nanos,
    )
    .ok()?;
    Some(Written {
        civil,
        fraction,
        offset,
        iso: dashed && coloned && matches!(separator, Some(b'T' | b't')),
    })
}

/// The bytes left, and the whole text (for slices of it).
struct Cursor<'a>(&'a [u8], &'a str);

impl<'a> Cursor<'a> {
    fn eat(&mut self, byte: u8) -> bool {
        self.next_if(|next| next == byte).is_some()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    fn next_if(&mut self, accept: impl Fn(u8) -> bool) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        if !accept(first) {
            return None;
        }
        self.0 = rest;
        Some(first)
    }

    /// From `min` to `max` ASCII digits, as text.
    fn digits(&mut self, min: usize, max: usize) -> Option<&'a str> {
        let count = self.0.iter().take_while(|b| b.is_ascii_digit()).count();
        if count < min || count > max {
            return None;
        }
        let start = self.1.len() - self.0.len();
        self.0 = &self.0[count..];
        Some(&self.1[start..start + count])
    }

    /// Exactly `count` digits as a number.
    fn number(&mut self, count: usize) -> Option<u32> {
        let taken = self.0.get(..count)?;
        if !taken.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.0 = &self.0[count..];
        std::str::from_utf8(taken).ok()?.parse().ok()
    }

    /// `None` when the offset is malformed; `Some(None)` when there is none.
    fn offset(&mut self) -> Option<Option<String>> {
        if self.eat(b'Z') || self.eat(b'z') {
            return Some(Some("Z".into()));
        }
        let Some(sign) = self.next_if(|byte| matches!(byte, b'+' | b'-')) else {
            return Some(None);
        };
        let hours = self.number(2)?;
        let colon = self.eat(b':');
        let minutes = match (colon, self.0.is_empty()) {
            (false, true) => 0,
            _ => self.number(2)?,
        };
        if hours > 23 || minutes > 59 {
            return None;
        }
        Some(Some(format!("{}{hours:02}:{minutes:02}", sign as char)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn los_angeles() -> TimeZone {
        zone("America/Los_Angeles").expect("the tz database has America/Los_Angeles")
    }

    #[test]
    fn iso_times_with_or_without_an_offset_go_as_written() {
        for text in [
            "2024-03-01T10:00:00Z",
            "2024-03-01T10:00:00.123-08:00",
            "2013-05-17T11:45:32.000-0800",
            "2015-06-15T23:59:00",
        ] {
            assert_eq!(normalize(text, None), None, "{text}");
        }
        assert_eq!(
            normalize("2024-03-01T10:00:00+01:00", Some(&los_angeles())),
            None
        );
        for not_a_time in [
            "",
            "yesterday",
            "2024-13-01 10:00:00",
            "2024-03-01 25:00:00",
        ] {
            assert_eq!(normalize(not_a_time, None), None, "{not_a_time}");
        }
    }

    #[test]
    fn the_sql_export_form_and_compact_forms_become_iso() {
        assert_eq!(
            normalize("2024-03-01 10:00:00", None).as_deref(),
            Some("2024-03-01T10:00:00Z")
        );
        assert_eq!(
            normalize("2024-03-01 10:00:00.123456", None).as_deref(),
            Some("2024-03-01T10:00:00.123456Z")
        );
        assert_eq!(
            normalize("2024-03-01 10:00:00+0100", None).as_deref(),
            Some("2024-03-01T10:00:00+01:00")
        );
        assert_eq!(
            normalize("20240301T100000Z", None).as_deref(),
            Some("2024-03-01T10:00:00Z")
        );
        assert_eq!(
            normalize("20240301100000", None).as_deref(),
            Some("2024-03-01T10:00:00Z")
        );
        assert_eq!(
            normalize("2024-03-01 10:00:00", Some(&los_angeles())).as_deref(),
            Some("2024-03-01T10:00:00-08:00")
        );
        assert_eq!(
            normalize("2024-03-01 10:00", None),
            None,
            "seconds are needed"
        );
    }

    #[test]
    fn local_times_take_the_offset_of_their_date_in_the_zone() {
        let zone = los_angeles();
        let local = |text| normalize(text, Some(&zone)).unwrap();
        assert_eq!(local("2024-03-10T01:30:00"), "2024-03-10T01:30:00-08:00");
        assert_eq!(
            local("2024-03-10 03:30:00.250"),
            "2024-03-10T03:30:00.250-07:00"
        );
        assert_eq!(local("20240701T120000"), "2024-07-01T12:00:00-07:00");
        assert_eq!(local("2024-12-01T12:00:00"), "2024-12-01T12:00:00-08:00");
    }

    #[test]
    fn a_time_in_the_spring_gap_moves_forward_and_one_in_the_autumn_fold_is_the_earlier() {
        let zone = los_angeles();
        let local = |text| normalize(text, Some(&zone)).unwrap();
        // 2024-03-10: 02:00 PST became 03:00 PDT; 02:30 never happened.
        assert_eq!(local("2024-03-10 02:30:00"), "2024-03-10T03:30:00-07:00");
        // 2024-11-03: 02:00 PDT became 01:00 PST; 01:30 happened twice.
        assert_eq!(local("2024-11-03 01:30:00"), "2024-11-03T01:30:00-07:00");
        assert_eq!(local("2024-11-03 02:30:00"), "2024-11-03T02:30:00-08:00");
        // Southern hemisphere, the other way round: Sydney leaves DST in April.
        let sydney = zone_named("Australia/Sydney");
        assert_eq!(
            normalize("2024-04-07 02:30:00", Some(&sydney)).unwrap(),
            "2024-04-07T02:30:00+11:00"
        );
        assert_eq!(
            normalize("2024-10-06 02:30:00", Some(&sydney)).unwrap(),
            "2024-10-06T03:30:00+11:00"
        );
    }

    fn zone_named(name: &str) -> TimeZone {
        zone(name).unwrap()
    }

    #[test]
    fn an_unknown_zone_is_refused_with_examples() {
        let error = zone("America/Nowhere").unwrap_err().to_string();
        assert!(error.contains("\"America/Nowhere\""), "{error}");
        assert!(error.contains("Europe/Paris"), "{error}");
        assert!(zone("UTC").is_ok());
    }

    #[test]
    fn derived_instants_are_written_in_the_zone_or_in_utc() {
        let start = gird_model::datetime::parse_iso("2024-03-10T01:30:00-08:00").unwrap();
        let hour = 3_600_000;
        assert_eq!(
            format_in(start + hour, Some(&los_angeles())),
            "2024-03-10T03:30:00-07:00",
            "across the change to daylight saving time"
        );
        assert_eq!(
            format_in(start + 1_500, Some(&los_angeles())),
            "2024-03-10T01:30:01.500-08:00"
        );
        assert_eq!(
            format_in(start + hour, None),
            "2024-03-10T10:30:00.000+0000"
        );
    }
}
