pub mod contact_centers;
pub mod deletion;
pub mod forwarding;
pub mod identity;
pub mod insertion;
pub mod playback;
pub mod recordings;
pub mod storage;
