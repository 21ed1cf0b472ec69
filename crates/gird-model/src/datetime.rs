//! ISO 8601 datetimes as GIR clients send them.
//!
//! Recorders send many spellings of one instant (`-0800`, `-08:00`, `Z`, no offset,
//! 0 to 9 fraction digits), so gird parses them by hand instead of relying on a
//! strict RFC 3339 parser, and keeps the original text next to the instant.

use jiff::{civil::DateTime, tz::Offset, tz::TimeZone, Timestamp};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// Parses an ISO 8601 datetime; a value without offset is UTC. `None` when the text is
/// not a valid datetime (bad shape, month 13, February 30, hour 24, ...).
pub fn parse_iso(text: &str) -> Option<Millis> {
    let mut cursor = Cursor(text.as_bytes());
    let year = cursor.digits(4)? as i16;
    cursor.expect(b'-')?;
    let month = cursor.digits(2)? as i8;
    cursor.expect(b'-')?;
    let day = cursor.digits(2)? as i8;
    cursor.expect_any(b"Tt")?;
    let hour = cursor.digits(2)? as i8;
    cursor.expect(b':')?;
    let minute = cursor.digits(2)? as i8;
    cursor.expect(b':')?;
    let second = cursor.digits(2)? as i8;
    let nanos = cursor.fraction()?;
    let offset_seconds = cursor.offset()?;
    if !cursor.0.is_empty() {
        return None;
    }
    let civil = DateTime::new(year, month, day, hour, minute, second, nanos).ok()?;
    let offset = Offset::from_seconds(offset_seconds).ok()?;
    let instant = civil.to_zoned(TimeZone::fixed(offset)).ok()?.timestamp();
    Some(instant.as_millisecond())
}

/// The pattern RWS writes the times it derives in, Java's `yyyy-MM-dd'T'HH:mm:ss.SSS+0000`
/// (Java readers parse them with exactly that pattern and fail on `Z`).
const RWS_PATTERN: &str = "%Y-%m-%dT%H:%M:%S%.3f+0000";

/// Formats an instant the way RWS writes derived times: `2015-06-15T23:58:00.000+0000`.
pub fn format_millis(millis: Millis) -> String {
    match Timestamp::from_millisecond(millis) {
        Ok(instant) => format_instant(instant),
        Err(_) => millis.to_string(),
    }
}

fn format_instant(instant: Timestamp) -> String {
    instant
        .to_zoned(TimeZone::UTC)
        .strftime(RWS_PATTERN)
        .to_string()
}

/// The current instant in milliseconds since the Unix epoch.
pub fn now_millis() -> Millis {
    Timestamp::now().as_millisecond()
}

/// The current instant, formatted like [`format_millis`].
pub fn now_text() -> String {
    format_millis(now_millis())
}

struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn digits(&mut self, count: usize) -> Option<i32> {
        let (head, rest) = self.0.split_at_checked(count)?;
        let mut value = 0i32;
        for &byte in head {
            if !byte.is_ascii_digit() {
                return None;
            }
            value = value * 10 + i32::from(byte - b'0');
        }
        self.0 = rest;
        Some(value)
    }

    fn expect(&mut self, wanted: u8) -> Option<()> {
        self.expect_any(&[wanted])
    }

    fn expect_any(&mut self, wanted: &[u8]) -> Option<()> {
        let (&first, rest) = self.0.split_first()?;
        wanted.contains(&first).then(|| self.0 = rest)
    }

    /// `.` followed by 1 to 9 digits, or nothing; answers nanoseconds.
    fn fraction(&mut self) -> Option<i32> {
        if self.expect(b'.').is_none() {
            return Some(0);
        }
        let count = self.0.iter().take_while(|b| b.is_ascii_digit()).count();
        if !(1..=9).contains(&count) {
            return None;
        }
        let digits = self.digits(count)?;
        Some(digits * 10i32.pow(9 - count as u32))
    }

    /// `Z`, `±HH:MM`, `±HHMM`, `±HH`, or nothing (UTC); answers seconds east of UTC.
    fn offset(&mut self) -> Option<i32> {
        let Some((&sign, rest)) = self.0.split_first() else {
            return Some(0);
        };
        let sign = match sign {
            b'Z' | b'z' => {
                self.0 = rest;
                return Some(0);
            }
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        self.0 = rest;
        let hours = self.digits(2)?;
        let minutes = if self.0.is_empty() {
            0
        } else {
            let _ = self.expect(b':');
            self.digits(2)?
        };
        if hours > 23 || minutes > 59 {
            return None;
        }
        Some(sign * (hours * 3600 + minutes * 60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BASE: Millis = 1_434_412_740_000; // 2015-06-15T23:59:00Z

    #[test]
    fn accepts_the_formats_gir_clients_send() {
        let cases = [
            ("2013-05-17T11:45:32.000-0800", 1_368_819_932_000),
            ("2013-05-17T11:45:32-08:00", 1_368_819_932_000),
            ("2015-06-15T23:58:30.000+0000", BASE - 30_000),
            ("2013-02-06T10:23:10.034Z", 1_360_146_190_034),
            ("2015-06-15T23:59:00", BASE),
            ("2015-06-15T23:59:00.1", BASE + 100),
            ("2015-06-15T23:59:00.123456789Z", BASE + 123),
            ("2015-06-15T23:59:00+02", BASE - 7_200_000),
            ("2015-06-15t23:59:00z", BASE),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_iso(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn rejects_invalid_datetimes() {
        let cases = [
            "2015-13-01T00:00:00",
            "2015-02-30T00:00:00",
            "2015-06-15T24:00:00",
            "2015-06-15T23:60:00",
            "2015-06-15T23:59",
            "2015-06-15 23:59:00",
            "2015-06-15T23:59:00.",
            "2015-06-15T23:59:00.1234567890",
            "2015-06-15T23:59:00+2400",
            "2015-06-15T23:59:00+02:0",
            "2015-06-15T23:59:00Zjunk",
            "15-06-15T23:59:00",
            "",
            "yesterday",
        ];
        for text in cases {
            assert_eq!(parse_iso(text), None, "{text}");
        }
    }

    #[test]
    fn formats_utc_with_milliseconds() {
        assert_eq!(format_millis(BASE + 5), "2015-06-15T23:59:00.005+0000");
        assert_eq!(parse_iso(&format_millis(BASE + 5)), Some(BASE + 5));
    }

    proptest! {
        #[test]
        fn every_valid_instant_round_trips_in_every_spelling(
            millis in 0i64..4_102_444_800_000,
            offset_minutes in -(23 * 60 + 59)..=(23 * 60 + 59i32),
        ) {
            let instant = Timestamp::from_millisecond(millis).unwrap();
            let offset = Offset::from_seconds(offset_minutes * 60).unwrap();
            let local = instant.to_zoned(TimeZone::fixed(offset)).datetime();
            let sign = if offset_minutes < 0 { '-' } else { '+' };
            let (h, m) = (offset_minutes.abs() / 60, offset_minutes.abs() % 60);
            let base = local.strftime("%Y-%m-%dT%H:%M:%S").to_string();
            let fraction = format!("{:03}", millis.rem_euclid(1000));
            for text in [
                format!("{base}.{fraction}{sign}{h:02}{m:02}"),
                format!("{base}.{fraction}{sign}{h:02}:{m:02}"),
                format!("{base}.{fraction}000000{sign}{h:02}:{m:02}"),
            ] {
                prop_assert_eq!(parse_iso(&text), Some(millis), "{}", text);
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,40}") {
            let _ = parse_iso(&text);
        }
    }
}
