//! URLs of the services gird calls (WebDAV storage, SpeechMiner receivers). Where
//! credentials may go is `gird_model::origin`'s rule, shared with `gird import`.

use reqwest::Url;
use serde::Deserialize;

/// An http(s) URL with a host and without user info (credentials go in their own fields,
/// sealed; a password in the URL would be stored, shown and logged in clear). The error
/// says what is wrong with `url`, prefixed by `field`.
pub fn check_service_url(field: &str, url: &str) -> Result<Url, String> {
    service_url(url).map_err(|why| format!("{field}: {why}"))
}

/// The rule of [`check_service_url`]; the error starts with the quoted URL.
fn service_url(url: &str) -> Result<Url, String> {
    let invalid = |why: &str| format!("{url:?} {why}");
    let parsed = Url::parse(url).map_err(|_| invalid("is not an http(s) URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("is not an http(s) URL"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "must not contain user info; give username and password instead",
        ));
    }
    Ok(parsed)
}

/// The URL of a service gird calls, as a request gave it (kept as written), that passed
/// [`check_service_url`]'s rule; a body field of this type is refused naming its path.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ServiceUrl(String);

impl ServiceUrl {
    pub fn into_string(self) -> String {
        self.0
    }
}

impl TryFrom<String> for ServiceUrl {
    type Error = String;

    fn try_from(text: String) -> Result<ServiceUrl, String> {
        service_url(&text)?;
        Ok(ServiceUrl(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_urls() {
        assert!(check_service_url("url", "https://sm.example:8443/ir").is_ok());
        let error = check_service_url("url", "ftp://x").unwrap_err();
        assert!(error.starts_with("url: \"ftp://x\""), "{error}");
        assert!(check_service_url("url", "http://u:p@x/").is_err());
        assert!(check_service_url("url", "not a url").is_err());
        assert_eq!(
            ServiceUrl::try_from("http://u:p@x/".to_owned()),
            Err(
                "\"http://u:p@x/\" must not contain user info; give username and password instead"
                    .into()
            )
        );
        let kept = ServiceUrl::try_from("HTTPS://SM.example/ir".to_owned()).unwrap();
        assert_eq!(
            kept.into_string(),
            "HTTPS://SM.example/ir",
            "kept as written"
        );
    }
}
