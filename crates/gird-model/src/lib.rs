//! gird's recording model: the record of docs/API.md ("The record"), its validation, the merge
//! and the read view. Pure: no I/O, so every rule is unit-testable.

pub mod access;
mod check;
pub mod contact_center;
pub mod datetime;
pub mod id;
mod index;
pub mod merge;
pub mod origin;
pub mod record;
pub mod s3;
pub mod search;
pub mod stored;
pub mod view;
pub mod violation;

pub use check::json_type;
pub use contact_center::{ContactCenter, INSERTION_FEATURE};
pub use id::{ContactCenterId, RecordingId};
pub use merge::MergeConflict;
pub use record::{Event, MediaFile, MediaKey, Recording};
pub use stored::{Merged, StoredRecording};
pub use violation::{Violation, ViolationKind, Violations};
