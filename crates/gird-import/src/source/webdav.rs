//! A crawl of a WebDAV folder (see `crawl` for the rules): `PROPFIND` with `Depth: 1`,
//! folder by folder.
//!
//! The WebDAV server names the entries, and an `href` may name any URL: only those under
//! the crawl's root (the rule the server applies to storage credentials,
//! `gird_model::origin::is_under`) are followed, and the credentials go nowhere else,
//! redirects included. Others are skipped with a warning and counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use gird_model::origin::{is_under, loggable};
use regex::Regex;
use reqwest::{Client, Method, Url};
use serde_json::Value;
use tokio::sync::mpsc;

use super::crawl::{check_pattern, crawl, Folders, Listed};
use super::fields::Row;
use super::Item;

pub struct Crawl {
    pub root: Url,
    pub pattern: Regex,
    /// Folders below the root to descend into (0: the root's files only).
    pub depth: usize,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Entries a listing named outside the root, which were not followed.
    pub not_followed: Arc<AtomicU64>,
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
        if !matches!(root.scheme(), "http" | "https") || root.host_str().is_none() {
            bail!("--webdav {} must be an http(s) URL", loggable(&root));
        }
        if !root.username().is_empty() || root.password().is_some() {
            bail!(
                "--webdav {} must not contain user info: give --webdav-user and --webdav-password (or GIRD_IMPORT_WEBDAV_USER and GIRD_IMPORT_WEBDAV_PASSWORD)",
                loggable(&root)
            );
        }
        if !root.path().ends_with('/') {
            root.set_path(&format!("{}/", root.path()));
        }
        Ok(Crawl {
            root,
            pattern: check_pattern(pattern)?,
            depth,
            username,
            password,
            not_followed: Arc::default(),
        })
    }

    /// The HTTP client of the crawl: it follows a redirect only to a URL under the root
    /// (where the credentials may go), never elsewhere.
    pub fn client(&self) -> anyhow::Result<Client> {
        let root = self.root.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 10 || !is_under(attempt.url(), &root) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        Ok(Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .redirect(policy)
            .build()?)
    }

    /// Keeps the entries under the root; warns about and counts the others.
    fn under_root(&self, folder: &Url, entries: Vec<Entry>) -> Vec<Entry> {
        let (inside, outside): (Vec<Entry>, Vec<Entry>) = entries
            .into_iter()
            .partition(|entry| is_under(&entry.url, &self.root));
        for entry in &outside {
            tracing::warn!(
                folder = loggable(folder),
                href = loggable(&entry.url),
                "the WebDAV listing names an entry outside --webdav; it is not followed"
            );
        }
        self.not_followed
            .fetch_add(outside.len() as u64, Ordering::Relaxed);
        inside
    }
    /// Sends the items to `items` as the folders are listed; an error ends the crawl.
    pub async fn run(self, client: Client, items: mpsc::Sender<Vec<Item>>) -> anyhow::Result<()> {
        let folders = WebDavFolders {
            crawl: &self,
            client,
        };
        crawl(
            &folders,
            self.root.as_str(),
            &self.pattern,
            self.depth,
            items,
        )
        .await
    }

    fn relative(&self, url: &Url) -> String {
        let path = url
            .path()
            .strip_prefix(self.root.path())
            .unwrap_or(url.path());
        decode(path)
    }

    fn request(&self, client: &Client, method: Method, url: &Url) -> reqwest::RequestBuilder {
        let request = client.request(method, url.clone());
        match &self.username {
            Some(user) => request.basic_auth(user, self.password.as_ref()),
            None => request,
        }
    }
}

struct WebDavFolders<'a> {
    crawl: &'a Crawl,
    client: Client,
}

impl WebDavFolders<'_> {
    /// A small file's bytes (a sidecar, an envelope), and how to name it in an error.
    async fn fetch(&self, file: &Listed) -> anyhow::Result<(Vec<u8>, String)> {
        let url = Url::parse(&file.location).with_context(|| format!("{:?}", file.location))?;
        let response = self
            .crawl
            .request(&self.client, Method::GET, &url)
            .send()
            .await
            .with_context(|| format!("GET {}", loggable(&url)))?;
        let status = response.status();
        if status.is_redirection() {
            bail!(
                "GET {}: HTTP {status}, a redirect outside --webdav, not followed",
                loggable(&url)
            );
        }
        if !status.is_success() {
            bail!("GET {}: HTTP {status}", loggable(&url));
        }
        let bytes = response
            .bytes()
            .await
            .with_context(|| format!("GET {}", loggable(&url)))?;
        Ok((bytes.to_vec(), loggable(&url).to_string()))
    }
}

impl Folders for WebDavFolders<'_> {
    async fn list(&self, folder: &str) -> anyhow::Result<Vec<Listed>> {
        let folder = Url::parse(folder).with_context(|| format!("{folder:?} is not a URL"))?;
        let propfind = Method::from_bytes(b"PROPFIND").expect("a valid method");
        let response = self
            .crawl
            .request(&self.client, propfind, &folder)
            .header("Depth", "1")
            .header("Content-Type", "application/xml")
            .body(PROPFIND_BODY)
            .send()
            .await
            .with_context(|| format!("PROPFIND {}", loggable(&folder)))?;
        let status = response.status();
        if status.is_redirection() {
            bail!(
                "PROPFIND {}: HTTP {status}, a redirect outside --webdav, not followed",
                loggable(&folder)
            );
        }
        if !status.is_success() {
            bail!("PROPFIND {}: HTTP {status}", loggable(&folder));
        }
        let text = response.text().await?;
        let entries = parse_multistatus(&folder, &text).with_context(|| {
            format!(
                "PROPFIND {}: not a WebDAV multistatus answer",
                loggable(&folder)
            )
        })?;
        let mut entries = self.crawl.under_root(&folder, entries);
        entries.retain(|entry| {
            entry.url.path().trim_end_matches('/') != folder.path().trim_end_matches('/')
        });
        entries.sort_by(|a, b| a.url.path().cmp(b.url.path()));
        Ok(entries
            .into_iter()
            .map(|entry| Listed {
                name: self.crawl.relative(&entry.url),
                location: entry.url.to_string(),
                folder: entry.folder,
                size: entry.size,
            })
            .collect())
    }

    async fn sidecar(&self, file: &Listed) -> anyhow::Result<Value> {
        let (bytes, what) = self.fetch(file).await?;
        let sidecar: Value =
            serde_json::from_slice(&bytes).with_context(|| format!("{what} is not JSON"))?;
        if !sidecar.is_object() {
            bail!("{what} is not a JSON object");
        }
        Ok(sidecar)
    }

    async fn envelope(&self, file: &Listed) -> anyhow::Result<String> {
        let (bytes, what) = self.fetch(file).await?;
        String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{what} is not text (PEM)"))
    }

    fn located(&self, file: &Listed) -> Row {
        vec![("path".into(), file.location.clone())]
    }
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
    fn the_root_is_a_folder_url_and_names_are_below_it() {
        let crawl = |pattern: &str| Crawl::new("http://dav.example/rec", pattern, 1, None, None);
        assert!(crawl(r"(?P<caller>\d+)").is_err());
        let crawl = crawl(r"(?P<callUUID>[^_/]+)_(?P<callerPhoneNumber>\d+)\.mp3$").unwrap();
        assert_eq!(crawl.root.as_str(), "http://dav.example/rec/");
        let url = Url::parse("http://dav.example/rec/2024/c1_%2B555.mp3").unwrap();
        assert_eq!(crawl.relative(&url), "2024/c1_+555.mp3");
        assert!(Crawl::new("ftp://dav.example/", r"(?P<id>.+)", 1, None, None).is_err());
        let error = Crawl::new("http://u:Pw-3@dav.example/", r"(?P<id>.+)", 1, None, None)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("--webdav-user"), "{error}");
        assert!(!error.contains("Pw-3"), "{error}");
    }

    #[test]
    fn entries_outside_the_root_are_dropped_and_counted() {
        let crawl = Crawl::new("http://dav.example/rec/", r"(?P<id>.+)", 1, None, None).unwrap();
        let folder = crawl.root.clone();
        let text = r#"<?xml version="1.0"?>
<D:multistatus xmlns:D="DAV:">
 <D:response><D:href>/rec/</D:href></D:response>
 <D:response><D:href>/rec/a.mp3</D:href></D:response>
 <D:response><D:href>http://dav.example/rec/sub/</D:href></D:response>
 <D:response><D:href>http://evil.example/rec/b.mp3</D:href></D:response>
 <D:response><D:href>http://dav.example:8080/rec/c.mp3</D:href></D:response>
 <D:response><D:href>https://dav.example/rec/d.mp3</D:href></D:response>
 <D:response><D:href>/other/e.mp3</D:href></D:response>
 <D:response><D:href>/rec/../f/</D:href></D:response>
 <D:response><D:href>http://u:p@dav.example/rec/g.mp3</D:href></D:response>
</D:multistatus>"#;
        let entries = parse_multistatus(&folder, text).unwrap();
        let kept: Vec<String> = crawl
            .under_root(&folder, entries)
            .into_iter()
            .map(|entry| entry.url.to_string())
            .collect();
        assert_eq!(
            kept,
            [
                "http://dav.example/rec/",
                "http://dav.example/rec/a.mp3",
                "http://dav.example/rec/sub/"
            ]
        );
        assert_eq!(crawl.not_followed.load(Ordering::Relaxed), 6);
    }
}
