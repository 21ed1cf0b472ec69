//! Origins of http(s) URLs (scheme, host, port) and where credentials may go, written
//! once for the server (WebDAV playback, SpeechMiner receivers, the outbound allow-list)
//! and for `gird import --webdav`, which must apply the same rule to the URLs a WebDAV
//! server lists. Pure: URLs are parsed, never requested.

use std::fmt;
use std::net::IpAddr;

pub use url::Url;

/// The longest origin an operator may write.
pub const MAX_ORIGIN_LENGTH: usize = 2048;

/// `scheme://host:port` of an http(s) URL: the host as the URL parser normalizes it
/// (lower case, punycode, IPv4 shorthands expanded, IPv6 in brackets), the port explicit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of an http(s) URL with a host; `None` for any other URL.
    pub fn of(url: &Url) -> Option<Origin> {
        if !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        let host = url.host_str().filter(|host| !host.is_empty())?;
        Some(Origin {
            scheme: url.scheme().to_owned(),
            host: host.to_owned(),
            port: url.port_or_known_default()?,
        })
    }

    /// An origin as an operator writes it: `scheme://host[:port]` with `http` or `https`,
    /// and nothing else (no user info, path, query or fragment; one trailing `/` is
    /// accepted). The error says what is wrong, for a message that names the field.
    pub fn parse(text: &str) -> Result<Origin, String> {
        let not_origin = || format!("{text:?} is not an origin (scheme://host[:port])");
        if text.is_empty() || text.len() > MAX_ORIGIN_LENGTH {
            return Err(format!(
                "{:?} is not an origin of 1 to {MAX_ORIGIN_LENGTH} characters",
                truncated(text)
            ));
        }
        // The URL parser drops surrounding spaces and inner tabs and newlines silently.
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "{text:?} must not contain spaces or control characters"
            ));
        }
        let url = Url::parse(text).map_err(|_| not_origin())?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{text:?} is not an http or https origin"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("{text:?} must not contain user info"));
        }
        let Some((_, rest)) = text.split_once("://") else {
            return Err(not_origin());
        };
        let after_authority = rest.find(['/', '?', '#']).map_or("", |at| &rest[at..]);
        if !after_authority.is_empty() && after_authority != "/" {
            return Err(format!(
                "{text:?} has a path, query or fragment; give only scheme://host[:port]"
            ));
        }
        Origin::of(&url).ok_or_else(not_origin)
    }

    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The host as URLs write it (an IPv6 address in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address, when the host is an IP address rather than a name.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()
    }

    /// Whether `url` has this origin.
    pub fn contains(&self, url: &Url) -> bool {
        Origin::of(url).as_ref() == Some(self)
    }
}

/// `scheme://host`, with `:port` unless it is the scheme's default.
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default = match self.scheme.as_str() {
            "https" => 443,
            _ => 80,
        };
        write!(f, "{}://{}", self.scheme, self.host)?;
        if self.port != default {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

fn truncated(text: &str) -> String {
    text.chars().take(64).collect()
}

/// Same scheme, host and port.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    matches!((Origin::of(a), Origin::of(b)), (Some(a), Some(b)) if a == b)
}

/// Where credentials for `base` may go: a URL of the same origin, without user info of
/// its own, whose path is the base's path or below it once `.` and `..` are resolved
/// (the URL parser resolves them, `%2e` spellings included), and that hides no other
/// path separator (`%2f`, `%5c`) that a server could decode into a way out.
pub fn is_under(url: &Url, base: &Url) -> bool {
    let base_path = base.path().trim_end_matches('/');
    let path = url.path();
    let below = match path.strip_prefix(base_path) {
        Some("") => true,
        Some(rest) => rest.starts_with('/') && !hides_separator(rest),
        None => false,
    };
    same_origin(url, base) && url.username().is_empty() && url.password().is_none() && below
}

fn hides_separator(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.contains("%2f") || lower.contains("%5c") || path.contains('\\')
}

/// A URL as gird logs it: `scheme://host:port/path`, never its user info, query or
/// fragment (a URL a record or a WebDAV server chose may carry a password or a token in
/// them).
pub fn loggable(url: &Url) -> String {
    match url.host_str() {
        Some(host) => {
            let port = url
                .port()
                .map(|port| format!(":{port}"))
                .unwrap_or_default();
            format!("{}://{host}{port}{}", url.scheme(), url.path())
        }
        None => format!("{}:(no host)", url.scheme()),
    }
}

/// [`loggable`] of a text that should be a URL.
pub fn loggable_text(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) => loggable(&url),
        Err(_) => "(not a URL)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn origins_are_parsed_strictly_and_normalized() {
        for (text, shown) in [
            ("https://media.example.com", "https://media.example.com"),
            ("https://Media.Example.COM/", "https://media.example.com"),
            ("http://10.1.2.3:8080", "http://10.1.2.3:8080"),
            ("http://example.com:80", "http://example.com"),
            ("https://example.com:80", "https://example.com:80"),
            ("http://[::1]:9000", "http://[::1]:9000"),
            ("http://127.1:81", "http://127.0.0.1:81"),
        ] {
            let origin = Origin::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(origin.to_string(), shown, "{text}");
            assert_eq!(Origin::parse(shown).unwrap(), origin, "{shown}");
        }
        for (text, why) in [
            ("", "1 to"),
            ("media.example.com", "not an origin"),
            ("ftp://media.example.com", "not an http or https origin"),
            ("file:///etc/passwd", "not an http or https origin"),
            ("https://user:pw@media.example.com", "user info"),
            ("https://user@media.example.com", "user info"),
            ("https://media.example.com/recordings", "has a path"),
            ("https://media.example.com//", "has a path"),
            ("https://media.example.com?x=1", "has a path, query"),
            ("https://media.example.com/?x", "has a path, query"),
            ("https://media.example.com#top", "fragment"),
            (" https://media.example.com", "spaces"),
            ("https://media.exa\tmple.com", "spaces"),
            ("https://", "not an origin"),
            ("https:media.example.com", "not an origin"),
            ("https:\\\\media.example.com", "not an origin"),
            ("https:///media.example.com", "has a path"),
            ("https://exa mple.com", "spaces"),
            ("http://example.com:99999", "not an origin"),
        ] {
            let error = Origin::parse(text).unwrap_err();
            assert!(error.contains(why), "{text:?}: {error}");
        }
        let long = format!("https://{}.example", "a".repeat(MAX_ORIGIN_LENGTH));
        assert!(Origin::parse(&long).unwrap_err().contains("1 to 2048"));
    }

    #[test]
    fn an_origin_knows_its_address_and_its_urls() {
        let origin = Origin::parse("http://[::ffff:7f00:1]:81").unwrap();
        assert_eq!(origin.ip(), Some("::ffff:127.0.0.1".parse().unwrap()));
        assert_eq!(Origin::parse("http://localhost").unwrap().ip(), None);
        let origin = Origin::parse("http://dav.example").unwrap();
        assert!(origin.contains(&url("http://dav.example:80/x?y")));
        assert!(!origin.contains(&url("https://dav.example/x")));
        assert!(!origin.contains(&url("http://dav.example:81/x")));
        assert_eq!(Origin::of(&url("mailto:a@b")), None);
    }

    #[test]
    fn same_origin_means_scheme_host_and_port() {
        assert!(same_origin(&url("http://a/x"), &url("http://a:80/y")));
        assert!(same_origin(&url("http://A/x"), &url("http://a/y")));
        assert!(!same_origin(&url("http://a/x"), &url("https://a/x")));
        assert!(!same_origin(&url("http://a/x"), &url("http://b/x")));
        assert!(!same_origin(&url("http://a:81/"), &url("http://a/")));
    }

    #[test]
    fn credentials_stay_under_the_base() {
        let base = url("http://dav.example/rec/");
        for inside in [
            "http://dav.example/rec/",
            "http://dav.example/rec",
            "http://dav.example/rec/2015/a.mp3",
            "http://dav.example:80/rec/a.mp3?x=1",
            "http://dav.example/rec/a/../b.mp3",
            "http://dav.example/rec/c1_%2B555.mp3",
        ] {
            assert!(is_under(&url(inside), &base), "{inside}");
        }
        for outside in [
            "http://dav.example/rec/../outside.mp3",
            "http://dav.example/rec/%2e%2e/outside.mp3",
            "http://dav.example/record.mp3",
            "http://dav.example/",
            "http://dav.example@evil.example/rec/x.mp3",
            "http://dav.example/rec@evil.example/rec/x.mp3",
            "http://u:p@dav.example/rec/x.mp3",
            "http://dav.example:8080/rec/x.mp3",
            "https://dav.example/rec/x.mp3",
            "http://dav.example/rec/..%2foutside.mp3",
            "http://dav.example/rec/..%5Coutside.mp3",
        ] {
            assert!(!is_under(&url(outside), &base), "{outside}");
        }
        let root = url("http://dav.example");
        assert!(is_under(&url("http://dav.example/anything"), &root));
    }

    #[test]
    fn logged_urls_lose_user_info_query_and_fragment() {
        assert_eq!(
            loggable(&url("http://user:pass@host:81/x/y.mp3?token=s3cret#f")),
            "http://host:81/x/y.mp3"
        );
        assert_eq!(loggable(&url("https://host/a%20b")), "https://host/a%20b");
        assert_eq!(loggable_text("http://u:p@h/x?q"), "http://h/x");
        assert_eq!(loggable_text("not a url with pass"), "(not a URL)");
    }
}
