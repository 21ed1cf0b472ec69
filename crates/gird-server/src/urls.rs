//! URLs of the services gird calls (WebDAV storage, SpeechMiner receivers).

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

/// Same scheme, host and port: where a service's credentials may go.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
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

    #[test]
    fn origins() {
        let url = |text: &str| Url::parse(text).unwrap();
        assert!(same_origin(&url("http://a/x"), &url("http://a:80/y")));
        assert!(!same_origin(&url("http://a/x"), &url("https://a/x")));
        assert!(!same_origin(&url("http://a/x"), &url("http://b/x")));
        assert!(!same_origin(&url("http://a:81/"), &url("http://a/")));
    }
}
