//! Violations found while checking a record, each named by its JSON path.

use std::fmt;

/// How many violations one error message lists.
pub const LISTED_VIOLATIONS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViolationKind {
    /// A required field is absent (statusCode 1).
    Missing,
    /// A field is present with a wrong type or value (statusCode 10).
    Invalid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub kind: ViolationKind,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every violation of one request, found in one pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn missing(&mut self, path: &str) {
        self.push(path, ViolationKind::Missing, "is required".into());
    }

    pub fn invalid(&mut self, path: &str, message: impl Into<String>) {
        self.push(path, ViolationKind::Invalid, message.into());
    }

    fn push(&mut self, path: &str, kind: ViolationKind, message: String) {
        self.0.push(Violation {
            path: path.to_owned(),
            kind,
            message,
        });
    }

    /// Any missing field makes the whole answer statusCode 1; otherwise 10.
    pub fn any_missing(&self) -> bool {
        self.0.iter().any(|v| v.kind == ViolationKind::Missing)
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, violation) in self.0.iter().take(LISTED_VIOLATIONS).enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{violation}")?;
        }
        if self.0.len() > LISTED_VIOLATIONS {
            write!(f, " (and {} more)", self.0.len() - LISTED_VIOLATIONS)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_at_most_twenty_and_counts_the_rest() {
        let mut violations = Violations::default();
        for index in 0..23 {
            violations.invalid(&format!("mediaFiles[{index}].size"), "bad");
        }
        let text = violations.to_string();
        assert!(text.starts_with("mediaFiles[0].size: bad; mediaFiles[1].size: bad"));
        assert!(text.contains("mediaFiles[19].size"));
        assert!(!text.contains("mediaFiles[20].size"));
        assert!(text.ends_with(" (and 3 more)"));
    }

    #[test]
    fn missing_wins_over_invalid() {
        let mut violations = Violations::default();
        violations.invalid("id", "bad");
        assert!(!violations.any_missing());
        violations.missing("region");
        assert!(violations.any_missing());
    }
}
