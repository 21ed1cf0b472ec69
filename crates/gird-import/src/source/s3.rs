//! A crawl of an S3 bucket prefix (see `crawl` for the rules): `ListObjectsV2` with `/`
//! as the delimiter, so that common prefixes are the folders, every page of a folder
//! fetched with its continuation token before the folder is crawled. Requests are signed
//! with SigV4 by rusty-s3; the signed URLs, which carry the signature, are never printed.
//!
//! Records name their media files as S3 ones: `storage` `awsS3`, `path` the object key,
//! `bucket` the bucket.

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use gird_model::s3::{is_bucket_name, is_dns_bucket_name};
use regex::Regex;
use reqwest::{Client, Url};
use rusty_s3::actions::ListObjectsV2;
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use serde_json::Value;
use tokio::sync::mpsc;

use super::crawl::{check_pattern, crawl, Folders, Listed};
use super::fields::Row;
use super::Item;

const SIGNED_FOR: Duration = Duration::from_secs(300);
/// The most S3 lists in one page.
pub const MAX_PAGE: usize = 1000;

/// What `gird import` needs to crawl an S3 prefix.
pub struct S3Crawl {
    bucket: Bucket,
    credentials: Credentials,
    /// `""` or a prefix ending in `/`: the root folder.
    prefix: String,
    pattern: Regex,
    depth: usize,
    page_size: usize,
}

/// Where to crawl and how to sign.
pub struct S3Source<'a> {
    pub endpoint: Option<&'a str>,
    pub region: &'a str,
    pub bucket: &'a str,
    pub prefix: &'a str,
    pub path_style: bool,
    pub credentials: Credentials,
}

impl S3Crawl {
    pub fn new(
        source: S3Source<'_>,
        pattern: &str,
        depth: usize,
        page_size: usize,
    ) -> anyhow::Result<S3Crawl> {
        let endpoint = match source.endpoint {
            Some(endpoint) => endpoint.to_owned(),
            None => format!("https://s3.{}.amazonaws.com", source.region),
        };
        let endpoint = Url::parse(&endpoint)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
            .ok_or_else(|| anyhow!("--s3-endpoint {endpoint:?} is not an http(s) URL"))?;
        let name = source.bucket;
        let (style, valid) = if source.path_style {
            (UrlStyle::Path, is_bucket_name(name))
        } else {
            (UrlStyle::VirtualHost, is_dns_bucket_name(name))
        };
        if !valid {
            bail!("--s3-bucket {name:?} is not a bucket name that can be addressed this way (with --s3-path-style: 3 to 255 letters, digits, '.', '-', '_'; without: 3 to 63 lowercase letters, digits, '.', '-')");
        }
        let bucket = Bucket::new(endpoint, style, name.to_owned(), source.region.to_owned())
            .map_err(|error| {
                anyhow!("no S3 URL can be made for bucket {name:?} ({error:?}); an endpoint with an IP address needs --s3-path-style")
            })?;
        let prefix = source.prefix.trim_start_matches('/');
        let prefix = if prefix.is_empty() || prefix.ends_with('/') {
            prefix.to_owned()
        } else {
            format!("{prefix}/")
        };
        Ok(S3Crawl {
            bucket,
            credentials: source.credentials,
            prefix,
            pattern: check_pattern(pattern)?,
            depth,
            page_size: page_size.clamp(1, MAX_PAGE),
        })
    }

    pub async fn run(self, client: Client, items: mpsc::Sender<Vec<Item>>) -> anyhow::Result<()> {
        let folders = S3Folders {
            crawl: &self,
            client,
        };
        crawl(&folders, &self.prefix, &self.pattern, self.depth, items).await
    }

    fn name_of(&self, key: &str) -> String {
        key.strip_prefix(&self.prefix).unwrap_or(key).to_owned()
    }

    fn at(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket.name())
    }
}

struct S3Folders<'a> {
    crawl: &'a S3Crawl,
    client: Client,
}

/// A failed request, named by what was asked: never by its URL, which is signed.
fn failed(what: &str, error: reqwest::Error) -> anyhow::Error {
    anyhow!("{what}: {}", error.without_url())
}

impl S3Folders<'_> {
    /// One page of a folder's listing.
    async fn page(&self, folder: &str, token: Option<&str>) -> anyhow::Result<String> {
        let crawl = self.crawl;
        let mut list = ListObjectsV2::new(&crawl.bucket, Some(&crawl.credentials));
        list.with_prefix(folder);
        list.with_delimiter("/");
        list.with_max_keys(crawl.page_size);
        if let Some(token) = token {
            list.with_continuation_token(token);
        }
        let what = format!("ListObjectsV2 {}", crawl.at(folder));
        let response = self
            .client
            .get(list.sign(SIGNED_FOR))
            .send()
            .await
            .map_err(|error| failed(&what, error))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|error| failed(&what, error))?;
        if !status.is_success() {
            bail!("{what}: HTTP {status}{}", error_code(&text));
        }
        Ok(text)
    }
}

/// ` (AccessDenied)`: the `<Code>` of an S3 error document, when it is a plain word.
fn error_code(body: &str) -> String {
    let code = body
        .split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map(|(code, _)| code)
        .filter(|code| !code.is_empty() && code.bytes().all(|b| b.is_ascii_alphanumeric()));
    code.map(|code| format!(" ({code})")).unwrap_or_default()
}

impl S3Folders<'_> {
    /// A small object's bytes (a sidecar, an envelope), and how to name it in an error.
    async fn fetch(&self, file: &Listed) -> anyhow::Result<(Vec<u8>, String)> {
        let crawl = self.crawl;
        let what = format!("GET {}", crawl.at(&file.location));
        let url = crawl
            .bucket
            .get_object(Some(&crawl.credentials), &file.location)
            .sign(SIGNED_FOR);
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|error| failed(&what, error))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|error| failed(&what, error))?;
        if !status.is_success() {
            bail!(
                "{what}: HTTP {status}{}",
                error_code(&String::from_utf8_lossy(&bytes))
            );
        }
        Ok((bytes.to_vec(), what))
    }
}

impl Folders for S3Folders<'_> {
    async fn list(&self, folder: &str) -> anyhow::Result<Vec<Listed>> {
        let crawl = self.crawl;
        let mut entries = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let text = self.page(folder, token.as_deref()).await?;
            let page = ListObjectsV2::parse_response(&text).map_err(|error| {
                anyhow!(
                    "ListObjectsV2 {}: not a listing ({error})",
                    crawl.at(folder)
                )
            })?;
            for object in page.contents {
                // A zero-byte object named like the folder is a folder marker.
                if object.key == folder {
                    continue;
                }
                entries.push(Listed {
                    name: crawl.name_of(&object.key),
                    location: object.key,
                    folder: false,
                    size: object.size,
                });
            }
            for prefix in page.common_prefixes {
                entries.push(Listed {
                    name: crawl.name_of(&prefix.prefix),
                    location: prefix.prefix,
                    folder: true,
                    size: None,
                });
            }
            match page.next_continuation_token {
                Some(next) if Some(&next) != token.as_ref() => token = Some(next),
                Some(_) => bail!(
                    "ListObjectsV2 {}: S3 gave the same continuation token twice",
                    crawl.at(folder)
                ),
                None => break,
            }
        }
        entries.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(entries)
    }

    async fn sidecar(&self, file: &Listed) -> anyhow::Result<Value> {
        let (bytes, what) = self.fetch(file).await?;
        let sidecar: Value =
            serde_json::from_slice(&bytes).with_context(|| format!("{what}: not JSON"))?;
        if !sidecar.is_object() {
            bail!("{what}: not a JSON object");
        }
        Ok(sidecar)
    }

    async fn envelope(&self, file: &Listed) -> anyhow::Result<String> {
        let (bytes, what) = self.fetch(file).await?;
        String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{what}: not text (PEM)"))
    }

    fn located(&self, file: &Listed) -> Row {
        vec![
            ("path".into(), file.location.clone()),
            ("storage".into(), "awsS3".into()),
            ("bucket".into(), self.crawl.bucket.name().to_owned()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source<'a>(endpoint: Option<&'a str>, bucket: &'a str, path_style: bool) -> S3Source<'a> {
        S3Source {
            endpoint,
            region: "eu-west-1",
            bucket,
            prefix: "archive/2024",
            path_style,
            credentials: Credentials::new("AKID", "secret"),
        }
    }

    const PATTERN: &str = r"(?P<callUUID>[^/_]+)\.mp3$";

    #[test]
    fn the_prefix_is_a_folder_and_names_are_below_it() {
        let crawl = S3Crawl::new(source(None, "acme-rec", false), PATTERN, 1, 5000).unwrap();
        assert_eq!(crawl.prefix, "archive/2024/");
        assert_eq!(crawl.page_size, MAX_PAGE);
        assert_eq!(crawl.name_of("archive/2024/05/c1.mp3"), "05/c1.mp3");
        assert_eq!(
            crawl.bucket.base_url().as_str(),
            "https://acme-rec.s3.eu-west-1.amazonaws.com/"
        );
    }

    #[test]
    fn bad_buckets_and_endpoints_are_refused() {
        let local = Some("http://127.0.0.1:9000");
        assert!(S3Crawl::new(source(local, "acme-rec", true), PATTERN, 1, 10).is_ok());
        assert!(S3Crawl::new(source(local, "acme-rec", false), PATTERN, 1, 10).is_err());
        assert!(S3Crawl::new(source(None, "Legacy_Bucket", false), PATTERN, 1, 10).is_err());
        assert!(S3Crawl::new(source(None, "evil.example/x", true), PATTERN, 1, 10).is_err());
        assert!(S3Crawl::new(source(Some("ftp://x"), "acme-rec", true), PATTERN, 1, 10).is_err());
        assert!(S3Crawl::new(source(None, "acme-rec", false), r"(?P<x>.)", 1, 10).is_err());
    }

    #[test]
    fn error_codes_are_plain_words() {
        assert_eq!(
            error_code("<Error><Code>AccessDenied</Code></Error>"),
            " (AccessDenied)"
        );
        assert_eq!(error_code("<Code>a b</Code>"), "");
        assert_eq!(error_code("nothing"), "");
    }
}
