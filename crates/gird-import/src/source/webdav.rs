//! A crawl of a WebDAV folder: `PROPFIND` with `Depth: 1`, folder by folder down to a
//! depth, in name order. A file whose path below the folder matches the pattern is a media
//! file; the pattern's named groups are its fields (see `fields`). A file next to it named
//! like it plus `.json` (or with `.json` instead of its extension) is its sidecar: a
//! partial record whose fields are added to, and win over, what the pattern gave.
//!
//! Items are keyed by the media files' paths, not by position, so that files added to
//! the folder between two runs do not shift what the journal says is done.

use std::collections::HashSet;

use anyhow::{bail, Context};
use regex::Regex;
use reqwest::{Client, Method, Url};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::fields::{check_name, Grouper, Row};
use super::Item;

pub struct Crawl {
    pub root: Url,
    pub pattern: Regex,
    /// Folders below the root to descend into (0: the root's files only).
    pub depth: usize,
    pub username: Option<String>,
    pub password: Option<String>,
}

const PROPFIND_BODY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getcontentlength/></d:prop></d:propfind>"#;

/// One entry of a folder listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub url: Url,
    pub folder: bool,
    pub size: Option<u64>,
}

impl Crawl {
    /// Checks the pattern's group names.
    pub fn new(
        root: &str,
        pattern: &str,
        depth: usize,
        username: Option<String>,
        password: Option<String>,
    ) -> anyhow::Result<Crawl> {
        let mut root =
            Url::parse(root).with_context(|| format!("--webdav {root:?} is not a URL"))?;
        if !matches!(root.scheme(), "http" | "https") {
            bail!("--webdav {root} must be an http(s) URL");
        }
        if !root.path().ends_with('/') {
            root.set_path(&format!("{}/", root.path()));
        }
        let pattern = Regex::new(pattern).context("--pattern is not a regular expression")?;
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
        Ok(Crawl {
            root,
            pattern,
            depth,
            username,
            password,
        })
    }

    /// Sends the items to `items` as the folders are listed; an error ends the crawl.
    pub async fn run(self, client: Client, items: mpsc::Sender<Vec<Item>>) -> anyhow::Result<()> {
        let mut grouper = Grouper::default();
        let mut folders = vec![(self.root.clone(), 0usize)];
        while let Some((folder, depth)) = folders.pop() {
            let entries = self.list(&client, &folder).await?;
            let names: HashSet<&str> = entries.iter().map(|e| e.url.path()).collect();
            for entry in entries.iter().filter(|entry| !entry.folder) {
                let Some(row) = self.row(entry) else {
                    continue;
                };
                let sidecar = match sidecar_of(&entry.url, &names) {
                    Some(url) => Some(self.sidecar(&client, &url).await?),
                    None => None,
                };
                let origin = self.relative(&entry.url);
                if let Some(item) = grouper.push(origin, row, sidecar) {
                    send(&items, item).await?;
                }
            }
            if depth < self.depth {
                // Popped from the end: pushed in reverse so that folders go in name order.
                for entry in entries.iter().filter(|entry| entry.folder).rev() {
                    folders.push((entry.url.clone(), depth + 1));
                }
            }
        }
        if let Some(item) = grouper.flush() {
            send(&items, item).await?;
        }
        Ok(())
    }

    fn relative(&self, url: &Url) -> String {
        let path = url
            .path()
            .strip_prefix(self.root.path())
            .unwrap_or(url.path());
        decode(path)
    }

    /// The fields of a media file, if it is one.
    fn row(&self, entry: &Entry) -> Option<Row> {
        let relative = self.relative(&entry.url);
        if relative.to_ascii_lowercase().ends_with(".json") {
            return None;
        }
        let captures = self.pattern.captures(&relative)?;
        let mut row: Row = self
            .pattern
            .capture_names()
            .flatten()
            .filter_map(|name| {
                let value = captures.name(name)?.as_str();
                Some((name.to_owned(), value.to_owned()))
            })
            .collect();
        if !row.iter().any(|(name, _)| name == "path") {
            row.push(("path".into(), entry.url.to_string()));
        }
        if let (false, Some(size)) = (row.iter().any(|(name, _)| name == "size"), entry.size) {
            row.push(("size".into(), size.to_string()));
        }
        Some(row)
    }

    fn request(&self, client: &Client, method: Method, url: &Url) -> reqwest::RequestBuilder {
        let request = client.request(method, url.clone());
        match &self.username {
            Some(user) => request.basic_auth(user, self.password.as_ref()),
            None => request,
        }
    }

    async fn list(&self, client: &Client, folder: &Url) -> anyhow::Result<Vec<Entry>> {
        let propfind = Method::from_bytes(b"PROPFIND").expect("a valid method");
        let response = self
            .request(client, propfind, folder)
            .header("Depth", "1")
            .header("Content-Type", "application/xml")
            .body(PROPFIND_BODY)
            .send()
            .await
            .with_context(|| format!("PROPFIND {folder}"))?;
        let status = response.status();
        if !status.is_success() {
            bail!("PROPFIND {folder}: HTTP {status}");
        }
        let text = response.text().await?;
        let mut entries = parse_multistatus(folder, &text)
            .with_context(|| format!("PROPFIND {folder}: not a WebDAV multistatus answer"))?;
        entries.retain(|entry| {
            entry.url.path().trim_end_matches('/') != folder.path().trim_end_matches('/')
        });
        entries.sort_by(|a, b| a.url.path().cmp(b.url.path()));
        Ok(entries)
    }

    async fn sidecar(&self, client: &Client, url: &Url) -> anyhow::Result<Value> {
        let response = self
            .request(client, Method::GET, url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = response.status();
        if !status.is_success() {
            bail!("GET {url}: HTTP {status}");
        }
        let sidecar: Value = response
            .json()
            .await
            .with_context(|| format!("{url} is not JSON"))?;
        if !sidecar.is_object() {
            bail!("{url} is not a JSON object");
        }
        Ok(sidecar)
    }
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
fn sidecar_of(url: &Url, paths: &HashSet<&str>) -> Option<Url> {
    let path = url.path();
    let with_suffix = format!("{path}.json");
    let replaced = path
        .rsplit_once('.')
        .filter(|(stem, _)| !stem.ends_with('/'))
        .map(|(stem, _)| format!("{stem}.json"));
    [Some(with_suffix), replaced]
        .into_iter()
        .flatten()
        .find(|candidate| paths.contains(candidate.as_str()))
        .map(|candidate| {
            let mut sidecar = url.clone();
            sidecar.set_path(&candidate);
            sidecar
        })
}

fn decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The entries of a `207 Multi-Status` answer (the folder itself included).
pub fn parse_multistatus(base: &Url, text: &str) -> anyhow::Result<Vec<Entry>> {
    let document = roxmltree::Document::parse(text)?;
    let dav = |node: &roxmltree::Node, name: &str| {
        node.tag_name().name() == name && node.tag_name().namespace() == Some("DAV:")
    };
    let mut entries = Vec::new();
    for response in document.descendants().filter(|n| dav(n, "response")) {
        let Some(href) = response
            .descendants()
            .find(|n| dav(n, "href"))
            .and_then(|n| n.text())
        else {
            continue;
        };
        let url = base
            .join(href.trim())
            .with_context(|| format!("href {href:?}"))?;
        let ok_props = response
            .descendants()
            .filter(|n| dav(n, "propstat"))
            .filter(|propstat| {
                propstat
                    .descendants()
                    .find(|n| dav(n, "status"))
                    .and_then(|n| n.text())
                    .is_none_or(|status| status.contains(" 200 "))
            });
        let (mut folder, mut size) = (false, None);
        for propstat in ok_props {
            folder |= propstat.descendants().any(|n| dav(&n, "collection"));
            size = size.or_else(|| {
                propstat
                    .descendants()
                    .find(|n| dav(n, "getcontentlength"))
                    .and_then(|n| n.text())
                    .and_then(|text| text.trim().parse().ok())
            });
        }
        entries.push(Entry { url, folder, size });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multistatus_answer_lists_files_and_folders() {
        let base = Url::parse("http://dav.example/rec/").unwrap();
        let text = r#"<?xml version="1.0"?>
<D:multistatus xmlns:D="DAV:">
 <D:response><D:href>/rec/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
 <D:response><D:href>/rec/2024%2001/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
 <D:response><D:href>http://dav.example/rec/a.mp3</D:href><D:propstat><D:prop><D:resourcetype/><D:getcontentlength>1234</D:getcontentlength></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
</D:multistatus>"#;
        let entries = parse_multistatus(&base, text).unwrap();
        assert_eq!(entries.len(), 3);
        assert!(entries[1].folder && entries[1].url.path() == "/rec/2024%2001/");
        assert_eq!((entries[2].folder, entries[2].size), (false, Some(1234)));
        assert_eq!(decode("/rec/2024%2001/"), "/rec/2024 01/");
    }

    #[test]
    fn patterns_name_known_fields_and_an_id() {
        let crawl = |pattern: &str| Crawl::new("http://dav.example/rec", pattern, 1, None, None);
        assert!(crawl(r"(?P<callUUID>[^_/]+)_(?P<startTime>\d{8}T\d{6}Z)\.mp3$").is_ok());
        assert!(crawl(r"(?P<caller>\d+)").is_err());
        assert!(crawl(r"(?P<startTime>\d+)").is_err());
        assert!(crawl(r"(").is_err());
        let crawl = crawl(r"(?P<callUUID>[^_/]+)_(?P<callerPhoneNumber>\d+)\.mp3$").unwrap();
        assert_eq!(crawl.root.as_str(), "http://dav.example/rec/");
        let entry = Entry {
            url: Url::parse("http://dav.example/rec/2024/c1_555.mp3").unwrap(),
            folder: false,
            size: Some(9),
        };
        let row = crawl.row(&entry).unwrap();
        assert!(row.contains(&("callUUID".into(), "c1".into())));
        assert!(row.contains(&("path".into(), entry.url.to_string())));
        assert!(row.contains(&("size".into(), "9".into())));
    }

    #[test]
    fn sidecars_sit_beside_their_media_file() {
        let url = Url::parse("http://dav.example/rec/a.mp3").unwrap();
        let listed = HashSet::from(["/rec/a.json"]);
        assert_eq!(
            sidecar_of(&url, &listed).unwrap().as_str(),
            "http://dav.example/rec/a.json"
        );
        let listed = HashSet::from(["/rec/a.mp3.json"]);
        assert!(sidecar_of(&url, &listed).is_some());
        assert!(sidecar_of(&url, &HashSet::new()).is_none());
    }
}
