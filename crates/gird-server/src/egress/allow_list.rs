//! A contact center's outbound allow-list as an operator writes it, in the ops API's body
//! (`{"origins": [...]}`, read as `crate::requests::OutboundBody`) or under
//! `gird.outbound.contactCenters.<id>` in `application.yaml`: checked by one function
//! whatever the source.

use gird_model::origin::Origin;
use serde::Deserialize;

/// Origins one contact center may list: a short list of places, not a directory.
pub const MAX_ORIGINS: usize = 100;

/// One contact center's allow-list in `application.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundConfig {
    pub origins: Vec<String>,
}

/// Checks a list of origins; the error names the entry
/// (`origins[2]: "ftp://x" is not an http or https origin`). Duplicates count once.
pub fn check(entries: &[String]) -> Result<Vec<Origin>, String> {
    if entries.len() > MAX_ORIGINS {
        return Err(format!(
            "origins: at most {MAX_ORIGINS} origins, not {}",
            entries.len()
        ));
    }
    let mut origins: Vec<Origin> = Vec::new();
    for (index, text) in entries.iter().enumerate() {
        let origin = Origin::parse(text).map_err(|why| format!("origins[{index}]: {why}"))?;
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

impl OutboundConfig {
    pub fn check(&self) -> Result<Vec<Origin>, String> {
        check(&self.origins)
    }
}

/// How an allow-list is stored and answered: each origin's normalized text.
pub fn texts(origins: &[Origin]) -> Vec<String> {
    origins.iter().map(Origin::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(entries: &[&str]) -> Result<Vec<String>, String> {
        let entries: Vec<String> = entries.iter().map(|entry| entry.to_string()).collect();
        check(&entries).map(|origins| texts(&origins))
    }

    #[test]
    fn lists_are_checked_entry_by_entry() {
        assert_eq!(
            checked(&[
                "https://Media.example.com/",
                "http://10.1.2.3:8080",
                "https://media.example.com"
            ]),
            Ok(vec![
                "https://media.example.com".into(),
                "http://10.1.2.3:8080".into()
            ])
        );
        assert_eq!(checked(&[]), Ok(vec![]));
        for (entries, names) in [
            (
                &["https://a/path"][..],
                "origins[0]: \"https://a/path\" has a path",
            ),
            (
                &["https://a", "https://u:p@a"][..],
                "origins[1]: \"https://u:p@a\" must not contain user info",
            ),
            (
                &["ftp://a"][..],
                "origins[0]: \"ftp://a\" is not an http or https origin",
            ),
            (
                &["a.example"][..],
                "origins[0]: \"a.example\" is not an origin",
            ),
        ] {
            let message = checked(entries).unwrap_err();
            assert!(message.starts_with(names), "{entries:?}: {message}");
        }
        let many: Vec<String> = (0..=MAX_ORIGINS)
            .map(|n| format!("http://h{n}.example"))
            .collect();
        assert_eq!(
            check(&many).unwrap_err(),
            "origins: at most 100 origins, not 101"
        );
    }

    #[test]
    fn the_file_is_checked_the_same_way() {
        let config: OutboundConfig =
            serde_yaml::from_str("origins: [\"http://127.0.0.1:9000\", \"https://x.example\"]")
                .unwrap();
        assert_eq!(texts(&config.check().unwrap()).len(), 2);
        let bad: OutboundConfig = serde_yaml::from_str("origins: [\"http://x/y\"]").unwrap();
        assert!(bad.check().unwrap_err().starts_with("origins[0]: "));
        assert!(serde_yaml::from_str::<OutboundConfig>("origin: []").is_err());
    }
}
