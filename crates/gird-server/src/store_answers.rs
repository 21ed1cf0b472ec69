//! The store's yes-or-no answers, as the server reads them. Some `Store` writes answer
//! `bool`, and what `false` means differs from one to the next (the contact center is
//! gone, the id is taken, the lease is lost): handlers and services match these enums
//! instead of remembering it.

use gird_model::ContactCenterId;

use crate::error::unknown_contact_center;
use crate::error::ApiError;

/// A write of one contact center's settings: storage, S3, SpeechMiner receiver,
/// outbound allow-list, features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsWrite {
    Written,
    /// The contact center does not exist (or was deleted since the request found it).
    NoContactCenter,
}

impl SettingsWrite {
    /// `found`: the store's answer.
    pub fn from_store(found: bool) -> SettingsWrite {
        if found {
            SettingsWrite::Written
        } else {
            SettingsWrite::NoContactCenter
        }
    }

    /// Done, or the 404 of a contact center that does not exist.
    pub fn or_unknown(self, id: &ContactCenterId) -> Result<(), ApiError> {
        match self {
            SettingsWrite::Written => Ok(()),
            SettingsWrite::NoContactCenter => Err(unknown_contact_center(id.as_str())),
        }
    }
}

/// What creating a contact center did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creation {
    Created,
    IdTaken,
}

impl Creation {
    /// `created`: the store's answer.
    pub fn from_store(created: bool) -> Creation {
        if created {
            Creation::Created
        } else {
            Creation::IdTaken
        }
    }
}

/// Whether a deletion still holds its lease on the recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    Kept,
    /// Another deletion took the recording over (this one's lease ran out).
    TakenOver,
}

impl Lease {
    /// `kept`: the store's answer.
    pub fn from_store(kept: bool) -> Lease {
        if kept {
            Lease::Kept
        } else {
            Lease::TakenOver
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn false_means_what_each_write_says() {
        let id = ContactCenterId::parse("acme").unwrap();
        assert_eq!(SettingsWrite::from_store(true).or_unknown(&id), Ok(()));
        assert_eq!(
            SettingsWrite::from_store(false).or_unknown(&id),
            Err(ApiError::NotFound(
                "contact center \"acme\" does not exist".into()
            ))
        );
        assert_eq!(Creation::from_store(false), Creation::IdTaken);
        assert_eq!(Creation::from_store(true), Creation::Created);
        assert_eq!(Lease::from_store(false), Lease::TakenOver);
        assert_eq!(Lease::from_store(true), Lease::Kept);
    }
}
