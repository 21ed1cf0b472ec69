//! The ids that name things in gird's URLs and requests: a contact center's and a
//! recording's. Each is checked where it enters (a path, a request body, a flag) by the
//! one rule below, so a handler or service holding one never checks it again.
//!
//! Both read back from JSON through their rule (`#[serde(try_from = "String")]`), so a
//! request body field of either type is refused naming its path.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The most characters of a recording id.
pub const MAX_RECORDING_ID_CHARS: usize = 256;
/// The most characters of a contact center id.
pub const MAX_CONTACT_CENTER_ID_CHARS: usize = 128;

/// A contact center's id: 1 to 128 letters, digits, `-`, `_` or `.`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContactCenterId(String);

/// Why a text is not a contact center id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAContactCenterId;

impl fmt::Display for NotAContactCenterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "must be 1 to {MAX_CONTACT_CENTER_ID_CHARS} letters, digits, '-', '_' or '.'"
        )
    }
}

impl std::error::Error for NotAContactCenterId {}

impl ContactCenterId {
    pub fn parse(text: impl Into<String>) -> Result<ContactCenterId, NotAContactCenterId> {
        let text = text.into();
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-_.".contains(&b);
        if (1..=MAX_CONTACT_CENTER_ID_CHARS).contains(&text.len()) && text.bytes().all(allowed) {
            Ok(ContactCenterId(text))
        } else {
            Err(NotAContactCenterId)
        }
    }

    /// A new id for a contact center created without one: a random UUID, which the
    /// rule admits (hex digits and `-`).
    pub fn random() -> ContactCenterId {
        ContactCenterId(uuid::Uuid::new_v4().to_string())
    }

    /// An id the store gave back (say, the owner of a recording): it passed the rule
    /// when its contact center was created, and is not checked again, so that a rule
    /// tightened later cannot hide a contact center that exists.
    pub fn stored(text: String) -> ContactCenterId {
        ContactCenterId(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A recording's id: 1 to 256 characters, neither `.` nor `..` (path steps that URLs
/// resolve away, so such a recording could never be read back). The Insertion API's
/// record check uses this rule for the record's `id`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RecordingId(String);

/// Why a text is not a recording id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotARecordingId {
    /// Empty or longer than [`MAX_RECORDING_ID_CHARS`]; the length in characters.
    Length(usize),
    /// `.` or `..`.
    PathStep(String),
}

impl fmt::Display for NotARecordingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotARecordingId::Length(length) => write!(
                f,
                "must be 1 to {MAX_RECORDING_ID_CHARS} characters, got {length}"
            ),
            NotARecordingId::PathStep(id) => write!(f, "{id:?} cannot name a recording in a URL"),
        }
    }
}

impl std::error::Error for NotARecordingId {}

impl RecordingId {
    pub fn parse(text: impl Into<String>) -> Result<RecordingId, NotARecordingId> {
        let text = text.into();
        let length = text.chars().count();
        if length == 0 || length > MAX_RECORDING_ID_CHARS {
            return Err(NotARecordingId::Length(length));
        }
        if text == "." || text == ".." {
            return Err(NotARecordingId::PathStep(text));
        }
        Ok(RecordingId(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

macro_rules! text_like {
    ($id:ident, $error:ident) => {
        /// Written as the text itself (quoted by `{:?}`, as a `String` is): messages
        /// name ids with `{id:?}`.
        impl fmt::Debug for $id {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $id {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $id {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $id {
            type Error = $error;

            fn try_from(text: String) -> Result<$id, $error> {
                $id::parse(text)
            }
        }

        impl From<$id> for String {
            fn from(id: $id) -> String {
                id.0
            }
        }
    };
}

text_like!(ContactCenterId, NotAContactCenterId);
text_like!(RecordingId, NotARecordingId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_center_ids_are_short_names() {
        for good in ["default", "A-z_0.9", "x", &"c".repeat(128)] {
            let id = ContactCenterId::parse(good).unwrap();
            assert_eq!(id.as_str(), good);
        }
        for bad in [
            "",
            "bad id",
            "bad/id",
            "bad?id",
            "é",
            "a\u{0}",
            &"c".repeat(129),
        ] {
            assert_eq!(
                ContactCenterId::parse(bad),
                Err(NotAContactCenterId),
                "{bad:?}"
            );
        }
        assert_eq!(
            NotAContactCenterId.to_string(),
            "must be 1 to 128 letters, digits, '-', '_' or '.'"
        );
    }

    #[test]
    fn recording_ids_are_any_text_a_url_can_name() {
        for good in [
            "alex-test-id",
            "a b/c?d",
            "...",
            ".x",
            "é",
            &"é".repeat(256),
        ] {
            assert_eq!(RecordingId::parse(good).unwrap().as_str(), good);
        }
        assert_eq!(RecordingId::parse(""), Err(NotARecordingId::Length(0)));
        assert_eq!(
            RecordingId::parse("x".repeat(257)),
            Err(NotARecordingId::Length(257))
        );
        for step in [".", ".."] {
            let error = RecordingId::parse(step).unwrap_err();
            assert_eq!(error, NotARecordingId::PathStep(step.into()));
            assert_eq!(
                error.to_string(),
                format!("{step:?} cannot name a recording in a URL")
            );
        }
        assert_eq!(
            NotARecordingId::Length(0).to_string(),
            "must be 1 to 256 characters, got 0"
        );
    }

    #[test]
    fn ids_read_from_json_through_their_rule_and_print_as_text() {
        let id: ContactCenterId = serde_json::from_str("\"acme\"").unwrap();
        assert_eq!(format!("{id:?} {id}"), "\"acme\" acme");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"acme\"");
        let error = serde_json::from_str::<ContactCenterId>("\"a b\"").unwrap_err();
        assert!(error.to_string().starts_with("must be 1 to 128"), "{error}");
        assert!(serde_json::from_str::<ContactCenterId>("7").is_err());
        let recording: RecordingId = serde_json::from_str("\"r 1\"").unwrap();
        assert_eq!(format!("{recording:?}"), "\"r 1\"");
        assert!(serde_json::from_str::<RecordingId>("\"..\"").is_err());
    }

    #[test]
    fn a_random_id_passes_the_rule() {
        let id = ContactCenterId::random();
        assert_eq!(id.as_str().len(), 36);
        assert_eq!(ContactCenterId::parse(id.as_str()), Ok(id));
    }

    #[test]
    fn stored_contact_center_ids_are_taken_as_they_are() {
        let id = ContactCenterId::stored("an older rule's id".into());
        assert_eq!(id.as_str(), "an older rule's id");
    }
}
