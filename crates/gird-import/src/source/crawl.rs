//! A crawl of a folder tree (a WebDAV folder, or an S3 bucket prefix with `/` as the
//! delimiter), folder by folder down to a depth, in name order. A file whose path below
//! the root matches the pattern is a media file; the pattern's named groups are its
//! fields (see `fields`). A file next to it named like it plus `.json` (or with `.json`
//! instead of its extension) is its sidecar: a partial record whose fields are added to,
//! and win over, what the pattern gave. A file named like it plus `.pkcs7` or `.p7m` (or
//! with that instead of its extension: `a.mp3.pkcs7` beside GIR's encrypted `a.mp3.bin`)
//! is its encryption envelope, the media file's `pkcs7`, as written.
//!
//! Items are keyed by the media files' paths, not by position, so that files added to
//! the folder between two runs do not shift what the journal says is done.

use std::collections::HashSet;
use std::future::Future;

use anyhow::bail;
use regex::Regex;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::fields::{check_name, Grouper, Row};
use super::Item;

/// One entry of a folder listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The path below the crawl's root, decoded: what the pattern sees.
    pub name: String,
    /// Where the storage finds it: a URL, or an object key or prefix.
    pub location: String,
    pub folder: bool,
    pub size: Option<u64>,
}

/// A storage that can be crawled.
pub trait Folders {
    /// The entries of a folder, without the folder itself, in the order to crawl them.
    fn list(&self, folder: &str) -> impl Future<Output = anyhow::Result<Vec<Listed>>> + Send;
    /// The JSON object in a sidecar file.
    fn sidecar(&self, file: &Listed) -> impl Future<Output = anyhow::Result<Value>> + Send;
    /// The text of an envelope file (PEM).
    fn envelope(&self, file: &Listed) -> impl Future<Output = anyhow::Result<String>> + Send;
    /// The fields a media file gets from where it is (`path`, and for S3 `storage` and
    /// `bucket`), unless the pattern names them.
    fn located(&self, file: &Listed) -> Row;
}

/// Checks the pattern's group names: known fields, and one of them `id` or `callUUID`.
pub fn check_pattern(pattern: &str) -> anyhow::Result<Regex> {
    let pattern = Regex::new(pattern)
        .map_err(|error| anyhow::anyhow!("--pattern is not a regular expression: {error}"))?;
    let names: Vec<&str> = pattern.capture_names().flatten().collect();
    for name in &names {
        check_name(name).map_err(|error| anyhow::anyhow!("--pattern group {error}"))?;
    }
    if !names
        .iter()
        .any(|name| *name == "id" || *name == "callUUID")
    {
        bail!("--pattern needs a named group id or callUUID, e.g. (?P<callUUID>[^_/]+)");
    }
    Ok(pattern)
}

/// Sends the items to `items` as the folders are listed; an error ends the crawl.
/// `depth`: folders below the root to descend into (0: the root's files only).
pub async fn crawl<F: Folders>(
    folders: &F,
    root: &str,
    pattern: &Regex,
    depth: usize,
    items: mpsc::Sender<Vec<Item>>,
) -> anyhow::Result<()> {
    let mut grouper = Grouper::default();
    let mut pending = vec![(root.to_owned(), 0usize)];
    while let Some((folder, level)) = pending.pop() {
        let entries = folders.list(&folder).await?;
        let names: HashSet<&str> = entries
            .iter()
            .filter(|entry| !entry.folder)
            .map(|entry| entry.name.as_str())
            .collect();
        for entry in entries.iter().filter(|entry| !entry.folder) {
            let Some(mut row) = row(pattern, entry, folders.located(entry)) else {
                continue;
            };
            let envelope = envelope_of(&entry.name, &names)
                .and_then(|name| entries.iter().find(|entry| entry.name == name));
            if let (Some(file), false) = (envelope, row.iter().any(|(name, _)| name == "pkcs7")) {
                row.push(("pkcs7".into(), folders.envelope(file).await?));
            }
            let sidecar = match sidecar_of(&entry.name, &names)
                .and_then(|name| entries.iter().find(|entry| entry.name == name))
            {
                Some(file) => Some(folders.sidecar(file).await?),
                None => None,
            };
            if let Some(item) = grouper.push(entry.name.clone(), row, sidecar) {
                send(&items, item).await?;
            }
        }
        if level < depth {
            // Popped from the end: pushed in reverse so that folders go in name order.
            for entry in entries.iter().filter(|entry| entry.folder).rev() {
                pending.push((entry.location.clone(), level + 1));
            }
        }
    }
    if let Some(item) = grouper.flush() {
        send(&items, item).await?;
    }
    Ok(())
}

/// The fields of a media file, if it is one.
fn row(pattern: &Regex, entry: &Listed, located: Row) -> Option<Row> {
    let lower = entry.name.to_ascii_lowercase();
    if [".json", ".pkcs7", ".p7m"]
        .iter()
        .any(|suffix| lower.ends_with(suffix))
    {
        return None;
    }
    let captures = pattern.captures(&entry.name)?;
    let mut row: Row = pattern
        .capture_names()
        .flatten()
        .filter_map(|name| {
            let value = captures.name(name)?.as_str();
            Some((name.to_owned(), value.to_owned()))
        })
        .collect();
    let named = |row: &Row, field: &str| row.iter().any(|(name, _)| name == field);
    for (field, value) in located {
        if !named(&row, &field) {
            row.push((field, value));
        }
    }
    if let (false, Some(size)) = (named(&row, "size"), entry.size) {
        row.push(("size".into(), size.to_string()));
    }
    Some(row)
}

async fn send(items: &mpsc::Sender<Vec<Item>>, mut item: Item) -> anyhow::Result<()> {
    item.seq = key_of(&item);
    items
        .send(vec![item])
        .await
        .map_err(|_| anyhow::anyhow!("the import stopped"))
}

/// The journal key of a crawled record: a hash of its media files' origins.
fn key_of(item: &Item) -> u64 {
    let digest = Sha256::digest(item.origin.as_bytes());
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// `a.mp3.json` or `a.json` beside `a.mp3`, if the listing has one.
fn sidecar_of(name: &str, names: &HashSet<&str>) -> Option<String> {
    beside(name, &["json"], names)
}

/// `a.mp3.bin.pkcs7`, `a.mp3.pkcs7` (or `.p7m`) beside `a.mp3.bin`, if the listing has one.
fn envelope_of(name: &str, names: &HashSet<&str>) -> Option<String> {
    beside(name, &["pkcs7", "p7m"], names)
}

/// The first of `name.EXT`, then `stem.EXT` (`name` without its extension) in the listing.
fn beside(name: &str, extensions: &[&str], names: &HashSet<&str>) -> Option<String> {
    let stem = name
        .rsplit_once('.')
        .filter(|(stem, _)| !stem.is_empty() && !stem.ends_with('/'))
        .map(|(stem, _)| stem);
    let with_suffix = extensions.iter().map(|ext| format!("{name}.{ext}"));
    let replaced = extensions
        .iter()
        .filter_map(|ext| stem.map(|stem| format!("{stem}.{ext}")));
    with_suffix
        .chain(replaced)
        .find(|candidate| names.contains(candidate.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_name_known_fields_and_an_id() {
        assert!(check_pattern(r"(?P<callUUID>[^_/]+)_(?P<startTime>\d{8}T\d{6}Z)\.mp3$").is_ok());
        assert!(check_pattern(r"(?P<caller>\d+)").is_err());
        assert!(check_pattern(r"(?P<startTime>\d+)").is_err());
        assert!(check_pattern(r"(").is_err());
    }

    #[test]
    fn a_matching_file_is_a_row_with_where_it_is() {
        let pattern =
            check_pattern(r"(?P<callUUID>[^_/]+)_(?P<callerPhoneNumber>\d+)\.mp3$").unwrap();
        let entry = Listed {
            name: "2024/c1_555.mp3".into(),
            location: "archive/2024/c1_555.mp3".into(),
            folder: false,
            size: Some(9),
        };
        let located = vec![
            ("path".to_owned(), entry.location.clone()),
            ("storage".to_owned(), "awsS3".to_owned()),
        ];
        let row = row(&pattern, &entry, located).unwrap();
        assert!(row.contains(&("callUUID".into(), "c1".into())));
        assert!(row.contains(&("path".into(), "archive/2024/c1_555.mp3".into())));
        assert!(row.contains(&("storage".into(), "awsS3".into())));
        assert!(row.contains(&("size".into(), "9".into())));
        let sidecar = Listed {
            name: "2024/c1_555.mp3.json".into(),
            ..entry
        };
        assert!(super::row(&pattern, &sidecar, Vec::new()).is_none());
    }

    #[test]
    fn sidecars_sit_beside_their_media_file() {
        let listed = HashSet::from(["rec/a.json"]);
        assert_eq!(
            sidecar_of("rec/a.mp3", &listed).as_deref(),
            Some("rec/a.json")
        );
        let listed = HashSet::from(["a.mp3.json"]);
        assert_eq!(sidecar_of("a.mp3", &listed).as_deref(), Some("a.mp3.json"));
        assert!(sidecar_of("a.mp3", &HashSet::new()).is_none());
        assert!(sidecar_of("rec/.mp3", &HashSet::from(["rec/.json"])).is_none());
    }

    #[test]
    fn envelopes_sit_beside_their_encrypted_media_file() {
        for envelope in [
            "r/a.mp3.bin.pkcs7",
            "r/a.mp3.pkcs7",
            "r/a.mp3.bin.p7m",
            "r/a.mp3.p7m",
        ] {
            let listed = HashSet::from([envelope, "r/a.mp3.json"]);
            assert_eq!(
                envelope_of("r/a.mp3.bin", &listed).as_deref(),
                Some(envelope)
            );
        }
        assert!(envelope_of("r/a.mp3.bin", &HashSet::from(["r/b.mp3.pkcs7"])).is_none());
        let pattern = check_pattern(r"(?P<callUUID>[^/]+)\.mp3").unwrap();
        let entry = Listed {
            name: "r/c1.mp3.pkcs7".into(),
            location: "r/c1.mp3.pkcs7".into(),
            folder: false,
            size: None,
        };
        assert!(
            row(&pattern, &entry, Vec::new()).is_none(),
            "not a media file"
        );
    }
}
