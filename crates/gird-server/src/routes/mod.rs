pub mod contact_centers;
pub mod deletion;
pub mod forwarding;
pub mod insertion;
pub mod playback;
pub mod recordings;
pub mod s3_storage;
pub mod storage;
