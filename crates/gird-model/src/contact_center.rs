//! A contact center: the tenant every recording belongs to, and the features it may use.

/// The feature that lets a contact center use the Insertion API.
pub const INSERTION_FEATURE: &str = "api-supervisor-recording";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactCenter {
    pub id: String,
    pub domains: Vec<String>,
    pub features: Vec<String>,
}

impl ContactCenter {
    pub fn has_feature(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }
}
