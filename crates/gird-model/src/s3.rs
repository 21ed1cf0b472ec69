//! What S3 bucket names and object keys gird accepts. Both are chosen by the client that
//! posts a record and end up in a URL (the bucket even in its host, with virtual-hosted
//! addressing), so only names that cannot change anything else of that URL pass.

/// The longest object key S3 stores, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

/// A bucket name S3 ever allowed: 3 to 255 letters, digits, `.`, `-` and `_` (the
/// rules of `us-east-1` before March 2018, a superset of today's). Such a name is one
/// URL path segment with nothing to escape, so it is safe with path-style addressing.
pub fn is_bucket_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// A bucket name valid today, which can be part of a host name (virtual-hosted
/// addressing): 3 to 63 lowercase letters, digits, `.` and `-`, labels between the dots
/// neither empty nor starting or ending with `-`, not an IPv4 address, and none of the
/// prefixes and suffixes S3 reserves.
pub fn is_dns_bucket_name(name: &str) -> bool {
    const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
    const RESERVED_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
    let charset = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-'));
    let labels = name
        .split('.')
        .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
    let ipv4 = name.parse::<std::net::Ipv4Addr>().is_ok();
    (3..=63).contains(&name.len())
        && charset
        && labels
        && !ipv4
        && !RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
        && !RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// An object key that a URL can name: not empty, at most [`MAX_KEY_BYTES`], no control
/// characters, and no `.` or `..` segment (a URL resolves those, so `../other/key` would
/// name another bucket's object with path-style addressing).
pub fn is_object_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_BYTES
        && !key.chars().any(char::is_control)
        && !key
            .split('/')
            .any(|segment| segment == "." || segment == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for good in [
            "abc",
            "acme-recordings",
            "a.b.c",
            "Legacy_Bucket",
            &"x".repeat(255),
        ] {
            assert!(is_bucket_name(good), "{good}");
        }
        for bad in [
            "ab",
            "",
            "a/b",
            "a b",
            "a@b",
            "a:80",
            "a%2e",
            "a\u{0}b",
            "ä-bucket",
            &"x".repeat(256),
        ] {
            assert!(!is_bucket_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn dns_bucket_names() {
        for good in [
            "abc",
            "acme-recordings",
            "rec.2024.acme",
            "1-2-3",
            &"x".repeat(63),
        ] {
            assert!(is_dns_bucket_name(good), "{good}");
        }
        for bad in [
            "ab",
            "Acme",
            "acme_recordings",
            "a..b",
            ".abc",
            "abc.",
            "-abc",
            "abc-",
            "a.-bc",
            "192.168.5.4",
            "xn--abc",
            "sthree-abc",
            "abc-s3alias",
            "abc--ol-s3",
            "evil.example:80",
            "evil.example/x",
            &"x".repeat(64),
        ] {
            assert!(!is_dns_bucket_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn object_keys() {
        for good in [
            "a.mp3",
            "calls/2024/a.mp3",
            "/leading/slash",
            "a//b",
            "...",
            "a/..b/c.",
            "spaces and ümlauts ?#%.mp3",
        ] {
            assert!(is_object_key(good), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../other-bucket/secret",
            "a/../b",
            "a/./b",
            "a/..",
            "tab\there",
            "nl\nhere",
            &"k".repeat(MAX_KEY_BYTES + 1),
        ] {
            assert!(!is_object_key(bad), "{bad:?}");
        }
    }
}
