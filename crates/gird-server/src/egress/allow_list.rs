//! A contact center's outbound allow-list as an operator writes it, in the ops API's body
//! (`{"origins": [...]}`) or under `gird.outbound.contactCenters.<id>` in
//! `application.yaml`: checked by one function whatever the source.

use gird_model::origin::Origin;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Origins one contact center may list: a short list of places, not a directory.
pub const MAX_ORIGINS: usize = 100;

/// One contact center's allow-list in `application.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundConfig {
    pub origins: Vec<String>,
}

/// Checks a list of origins (`None`: an entry that is not a string); the error names the
/// entry (`origins[2]: "ftp://x" is not an http or https origin`). Duplicates count once.
pub fn check<'a>(
    entries: impl ExactSizeIterator<Item = Option<&'a str>>,
) -> Result<Vec<Origin>, String> {
    if entries.len() > MAX_ORIGINS {
        return Err(format!(
            "origins: at most {MAX_ORIGINS} origins, not {}",
            entries.len()
        ));
    }
    let mut origins: Vec<Origin> = Vec::new();
    for (index, entry) in entries.enumerate() {
        let text = entry.ok_or_else(|| format!("origins[{index}]: expected a string"))?;
        let origin = Origin::parse(text).map_err(|why| format!("origins[{index}]: {why}"))?;
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

/// The body of `PUT .../outbound`: `{"origins": [...]}` and nothing else.
pub fn from_request(request: &Map<String, Value>) -> Result<Vec<Origin>, ApiError> {
    if let Some(unknown) = request.keys().find(|key| *key != "origins") {
        return Err(ApiError::InvalidValue(format!(
            "{unknown}: is not an outbound setting (origins)"
        )));
    }
    match request.get("origins") {
        None | Some(Value::Null) => Err(ApiError::MissingField("origins: is required".into())),
        Some(Value::Array(entries)) => {
            check(entries.iter().map(Value::as_str)).map_err(ApiError::InvalidValue)
        }
        Some(_) => Err(ApiError::InvalidValue(
            "origins: expected a list of origins (scheme://host[:port])".into(),
        )),
    }
}

impl OutboundConfig {
    pub fn check(&self) -> Result<Vec<Origin>, String> {
        check(self.origins.iter().map(|origin| Some(origin.as_str())))
    }
}

/// How an allow-list is stored and answered: each origin's normalized text.
pub fn texts(origins: &[Origin]) -> Vec<String> {
    origins.iter().map(Origin::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Value) -> Result<Vec<String>, ApiError> {
        from_request(value.as_object().unwrap()).map(|origins| texts(&origins))
    }

    #[test]
    fn requests_are_checked_entry_by_entry() {
        assert_eq!(
            body(
                json!({"origins": ["https://Media.example.com/", "http://10.1.2.3:8080", "https://media.example.com"]})
            ),
            Ok(vec![
                "https://media.example.com".into(),
                "http://10.1.2.3:8080".into()
            ])
        );
        assert_eq!(body(json!({"origins": []})), Ok(vec![]));
        let missing = body(json!({})).unwrap_err();
        assert_eq!(
            missing,
            ApiError::MissingField("origins: is required".into())
        );
        for (request, names) in [
            (json!({"origins": "https://a"}), "origins: expected a list"),
            (
                json!({"origins": ["https://a", 7]}),
                "origins[1]: expected a string",
            ),
            (
                json!({"origins": ["https://a/path"]}),
                "origins[0]: \"https://a/path\" has a path",
            ),
            (
                json!({"origins": ["https://u:p@a"]}),
                "origins[0]: \"https://u:p@a\" must not contain user info",
            ),
            (
                json!({"origins": ["ftp://a"]}),
                "origins[0]: \"ftp://a\" is not an http or https origin",
            ),
            (
                json!({"origins": ["a.example"]}),
                "origins[0]: \"a.example\" is not an origin",
            ),
            (
                json!({"origins": [], "extra": 1}),
                "extra: is not an outbound setting",
            ),
        ] {
            match body(request.clone()) {
                Err(ApiError::InvalidValue(message)) => {
                    assert!(message.starts_with(names), "{request}: {message}")
                }
                other => panic!("{request}: {other:?}"),
            }
        }
        let many: Vec<String> = (0..=MAX_ORIGINS)
            .map(|n| format!("http://h{n}.example"))
            .collect();
        let error = body(json!({ "origins": many })).unwrap_err();
        assert_eq!(
            error,
            ApiError::InvalidValue("origins: at most 100 origins, not 101".into())
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
