//! Any text as an ISO 8601 datetime: the parser never panics, and what it accepts
//! formats back to text it parses to the same instant.
#![no_main]

use gird_model::datetime::{format_millis, parse_iso};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(millis) = parse_iso(text) {
        let formatted = format_millis(millis);
        assert_eq!(parse_iso(&formatted), Some(millis), "{text:?} -> {formatted:?}");
    }
});
