pub mod contact_centers;
pub mod insertion;
pub mod recordings;
