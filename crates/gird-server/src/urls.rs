//! URLs of the services gird calls (WebDAV storage, SpeechMiner receivers). Where
//! credentials may go is `gird_model::origin`'s rule, shared with `gird import`.

use reqwest::Url;

/// An http(s) URL with a host and without user info (credentials go in their own fields,
/// sealed; a password in the URL would be stored, shown and logged in clear). The error
/// says what is wrong with `url`, prefixed by `field`.
pub fn check_service_url(field: &str, url: &str) -> Result<Url, String> {
    let invalid = |why: &str| format!("{field}: {url:?} {why}");
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
    }
}
