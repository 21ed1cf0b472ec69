//! `gird import`: bring existing recordings into any Insertion API endpoint (gird, or
//! Interaction Recording Web Services), from a JSON Lines file, a CSV file or a crawl of
//! a WebDAV folder or an S3 bucket prefix; fast (`--jobs` POSTs at once), resumable (a journal of what is done)
//! and safe to run again (nothing acknowledged is posted twice; rejected records go to a
//! rejects file, ready to fix and import).

pub mod client;
mod dry_run;
pub mod journal;
mod progress;
mod rejects;
pub mod shape;
pub mod source;
mod summary;
pub mod times;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::client::{Answer, InsertionClient};
use crate::journal::{Finished, Journal};
use crate::progress::Progress;
use crate::rejects::Rejects;
use crate::shape::Shaping;
use crate::source::Item;
pub use crate::summary::Summary;

#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["jsonl", "csv", "webdav", "s3_bucket"])))]
pub struct ImportArgs {
    /// Base URL of the Insertion API server, e.g. http://127.0.0.1:8080 (not needed with --dry-run).
    #[arg(long, required_unless_present = "dry_run")]
    pub target: Option<String>,
    /// The contact center the records go to.
    #[arg(long)]
    pub contact_center: String,
    /// User for the target's Basic auth.
    #[arg(long, env = "GIRD_IMPORT_USER", default_value = "ops")]
    pub user: String,
    /// Password for the target's Basic auth.
    #[arg(long, env = "GIRD_IMPORT_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// A JSON Lines file: one record per line, as the Insertion API takes it.
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,
    /// A CSV file: one media file per row, columns named as docs/API.md, "gird import", lists them.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// A WebDAV folder to crawl for media files (with --pattern).
    #[arg(long, value_name = "URL", requires = "pattern")]
    pub webdav: Option<String>,
    /// An S3 bucket to crawl for media files below --s3-prefix (with --pattern). The
    /// credentials come from the environment only: GIRD_IMPORT_S3_ACCESS_KEY_ID and
    /// GIRD_IMPORT_S3_SECRET_ACCESS_KEY, else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
    #[arg(long, value_name = "BUCKET", requires = "pattern")]
    pub s3_bucket: Option<String>,
    /// With --s3-bucket: the folder (key prefix) to crawl; a '/' is added when missing.
    #[arg(long, default_value = "")]
    pub s3_prefix: String,
    /// With --s3-bucket: an S3-compatible server [default: AWS's for --s3-region].
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// With --s3-bucket: the region requests are signed for.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub s3_region: String,
    /// With --s3-bucket: path-style URLs (endpoint/bucket/key), needed by most
    /// S3-compatible servers and by endpoints that are IP addresses.
    #[arg(long)]
    pub s3_path_style: bool,
    /// With --s3-bucket: objects listed per ListObjectsV2 request.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub s3_page_size: u16,
    /// With --webdav or --s3-bucket: a regular expression on a file's path below the folder,
    /// whose named groups are the record's fields, e.g. '(?P<callUUID>[^/_]+)_(?P<startTime>\d{8}T\d{6}Z)\.mp3$'.
    #[arg(long)]
    pub pattern: Option<String>,
    /// With --webdav or --s3-bucket: how many folder levels below it to crawl.
    #[arg(long, default_value_t = 5)]
    pub depth: usize,
    #[arg(long, env = "GIRD_IMPORT_WEBDAV_USER")]
    pub webdav_user: Option<String>,
    #[arg(long, env = "GIRD_IMPORT_WEBDAV_PASSWORD", hide_env_values = true)]
    pub webdav_password: Option<String>,
    /// POSTs at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: u16,
    /// Check every record with the server's own validation and report the bad ones; post nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The resume journal [default: gird-import-<hash of target, contact center and source>.journal].
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Records the server rejected, one per line, ready to fix and import again; the
    /// reasons go to the same name plus .txt [default: beside the journal].
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Give up (and stop, to be run again) after retrying one record this long.
    #[arg(long, default_value_t = 300)]
    pub retry_seconds: u64,
    /// A field every record (record fields) or every media file (media-file fields) gets
    /// when the source leaves it empty, named as CSV columns are: region=west,
    /// dialedPhoneNumber=+15550100, tenant=acme, parameters.site=paris, ... Repeatable.
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
    /// The time zone of source times written without an offset (a tz database name such as
    /// America/Los_Angeles): sent with the offset of their date there [default: UTC].
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// No progress bar (it is not drawn anyway when standard error is not a terminal).
    #[arg(long)]
    pub quiet: bool,
}

/// Runs the import; answers its summary after printing it. Bad arguments are an error
/// before anything is read or posted.
pub async fn run(args: ImportArgs) -> anyhow::Result<Summary> {
    let shaping = Shaping::new(&args.set, args.timezone.as_deref())?;
    let identity = identity(&args);
    let started = Instant::now();
    let progress = Arc::new(progress_bar(&args));
    let stop = Arc::new(AtomicBool::new(false));
    let not_followed = Arc::new(AtomicU64::new(0));
    let (items, source_done) =
        start_source(&args, shaping, Arc::clone(&stop), Arc::clone(&not_followed))?;
    let mut summary = if args.dry_run {
        dry_run::dry_run(items, &progress).await
    } else {
        import(&args, &identity, items, &progress, &stop).await?
    };
    progress.finish();
    if let Ok(Err(error)) = source_done.await {
        if summary.interrupted.is_none() && summary.failed.is_none() {
            return Err(error.context("reading the source"));
        }
    }
    summary.not_followed = not_followed.load(Ordering::Relaxed);
    summary.print(args.dry_run, started.elapsed());
    Ok(summary)
}

/// Names the import: target, contact center and source (with the crawl's pattern).
fn identity(args: &ImportArgs) -> String {
    let pattern = args.pattern.as_deref().unwrap_or_default();
    let source = match (&args.jsonl, &args.csv, &args.webdav, &args.s3_bucket) {
        (Some(path), ..) => format!("jsonl {}", absolute(path).display()),
        (_, Some(path), ..) => format!("csv {}", absolute(path).display()),
        (_, _, Some(url), _) => format!("webdav {url} {pattern} {}", args.depth),
        (_, _, _, Some(bucket)) => format!(
            "s3 {} {} {bucket} {} {pattern} {}",
            args.s3_endpoint.as_deref().unwrap_or_default(),
            args.s3_region,
            args.s3_prefix,
            args.depth
        ),
        _ => String::new(),
    };
    let text = format!(
        "{}\n{}\n{source}",
        args.target.as_deref().unwrap_or_default(),
        args.contact_center
    );
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

type SourceTask = tokio::task::JoinHandle<anyhow::Result<()>>;
/// A crawl, started with where to send its items.
type CrawlTask = Box<
    dyn FnOnce(
            mpsc::Sender<Vec<Item>>,
        )
            -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send>>
        + Send,
>;

/// Items read ahead and handed over at once.
const CHUNK: usize = 128;

/// Reads the source on its own task, a bounded number of items ahead.
/// Items are shaped (see `shape`) on the way.
fn start_source(
    args: &ImportArgs,
    shaping: Shaping,
    stop: Arc<AtomicBool>,
    not_followed: Arc<AtomicU64>,
) -> anyhow::Result<(mpsc::Receiver<Vec<Item>>, SourceTask)> {
    // Items travel in chunks: one wake-up of the import per chunk, not per record.
    let (sender, receiver) = mpsc::channel(16);
    let shaping = Arc::new(shaping);
    let task = if let Some(bucket) = &args.s3_bucket {
        let source = source::s3::S3Source {
            endpoint: args.s3_endpoint.as_deref(),
            region: &args.s3_region,
            bucket,
            prefix: &args.s3_prefix,
            path_style: args.s3_path_style,
            credentials: s3_credentials(|name| std::env::var(name).ok())?,
        };
        let crawl = source::s3::S3Crawl::new(
            source,
            args.pattern.as_deref().unwrap_or_default(),
            args.depth,
            usize::from(args.s3_page_size),
        )?;
        let client = crawler_client()?;
        crawled(
            Box::new(move |items| Box::pin(crawl.run(client, items))),
            shaping,
            sender,
        )
    } else if let Some(url) = &args.webdav {
        let mut crawl = source::webdav::Crawl::new(
            url,
            args.pattern.as_deref().unwrap_or_default(),
            args.depth,
            args.webdav_user.clone(),
            args.webdav_password.clone(),
        )?;
        crawl.not_followed = not_followed;
        let client = crawl.client()?;
        crawled(
            Box::new(move |items| Box::pin(crawl.run(client, items))),
            shaping,
            sender,
        )
    } else {
        let items: Box<dyn Iterator<Item = Item> + Send> = match (&args.jsonl, &args.csv) {
            (Some(path), _) => Box::new(source::jsonl::read(path)?),
            (_, Some(path)) => Box::new(source::csv::read(path)?),
            _ => bail!("give --jsonl, --csv, --webdav or --s3-bucket"),
        };
        let built = args.jsonl.is_none();
        tokio::task::spawn_blocking(move || {
            let items = items.map(|item| shaping.item(item, built));
            let mut items = items.peekable();
            while items.peek().is_some() {
                let chunk: Vec<Item> = items.by_ref().take(CHUNK).collect();
                if stop.load(Ordering::Relaxed) || sender.blocking_send(chunk).is_err() {
                    break;
                }
            }
            Ok(())
        })
    };
    Ok((receiver, task))
}

/// Runs a crawl, shaping its items on their way to `sender`.
fn crawled(crawl: CrawlTask, shaping: Arc<Shaping>, sender: mpsc::Sender<Vec<Item>>) -> SourceTask {
    let (crawled, mut items) = mpsc::channel::<Vec<Item>>(16);
    tokio::spawn(async move {
        let crawl = tokio::spawn(crawl(crawled));
        while let Some(chunk) = items.recv().await {
            let chunk = chunk.into_iter().map(|item| shaping.item(item, true));
            if sender.send(chunk.collect()).await.is_err() {
                break;
            }
        }
        // Dropping `items` ends a crawl still running.
        drop(items);
        crawl.await.context("the crawl")?
    })
}

fn crawler_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()?)
}

/// The S3 credentials, from the environment only (never the command line, where `ps`
/// would show them): gird's own variables, else AWS's (with its session token).
fn s3_credentials(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<rusty_s3::Credentials> {
    let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
    let gird = (
        var("GIRD_IMPORT_S3_ACCESS_KEY_ID"),
        var("GIRD_IMPORT_S3_SECRET_ACCESS_KEY"),
    );
    let aws = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"));
    match (gird, aws) {
        ((Some(key), Some(secret)), _) => Ok(rusty_s3::Credentials::new(key, secret)),
        ((None, None), (Some(key), Some(secret))) => Ok(match var("AWS_SESSION_TOKEN") {
            Some(token) => rusty_s3::Credentials::new_with_token(key, secret, token),
            None => rusty_s3::Credentials::new(key, secret),
        }),
        _ => bail!(
            "--s3-bucket needs credentials in the environment: GIRD_IMPORT_S3_ACCESS_KEY_ID and GIRD_IMPORT_S3_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        ),
    }
}

/// Lines of a file, counted in one quick pass (for the progress bar's length and ETA).
fn count_lines(path: &Path) -> Option<u64> {
    let mut file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path).ok()?);
    let mut lines = 0;
    loop {
        let buffer = std::io::BufRead::fill_buf(&mut file).ok()?;
        if buffer.is_empty() {
            return Some(lines);
        }
        lines += buffer.iter().filter(|b| **b == b'\n').count() as u64;
        let length = buffer.len();
        std::io::BufRead::consume(&mut file, length);
    }
}

fn progress_bar(args: &ImportArgs) -> Progress {
    let lines = match args.quiet {
        true => None,
        false => args
            .jsonl
            .as_ref()
            .or(args.csv.as_ref())
            .and_then(|path| count_lines(path)),
    };
    Progress::new(args.quiet, lines)
}

/// Items as a stream that ends early once `stop` is set.
fn stream_of(
    chunks: mpsc::Receiver<Vec<Item>>,
    stop: Option<Arc<AtomicBool>>,
) -> impl futures_util::Stream<Item = Item> {
    let chunks = futures_util::stream::unfold(chunks, |mut chunks| async move {
        chunks.recv().await.map(|chunk| (chunk, chunks))
    });
    chunks
        .flat_map(futures_util::stream::iter)
        .take_while(move |_| {
            let stopped = stop
                .as_ref()
                .is_some_and(|stop| stop.load(Ordering::Relaxed));
            std::future::ready(!stopped)
        })
}

/// What became of one item.
enum Outcome {
    Finished(Finished),
    Skipped,
    Rejected {
        reason: String,
    },
    /// The import must stop (to be run again): this item is not done.
    Stop(String),
    /// Every record would fail the same way: this item is not done.
    Fail(String),
}

async fn import(
    args: &ImportArgs,
    identity: &str,
    items: mpsc::Receiver<Vec<Item>>,
    progress: &Arc<Progress>,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<Summary> {
    let target = args.target.as_deref().unwrap_or_default();
    let password = args
        .password
        .clone()
        .context("give the target's password with --password or GIRD_IMPORT_PASSWORD")?;
    let client = Arc::new(InsertionClient::new(
        target,
        &args.contact_center,
        &args.user,
        &password,
        usize::from(args.jobs),
    )?);
    client.handshake().await?;
    let journal_path = args
        .journal
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("gird-import-{identity}.journal")));
    let (mut journal, resume) = Journal::open(&journal_path, identity)?;
    let resume = Arc::new(resume);
    if resume.count() > 0 {
        progress.suspend(|| {
            eprintln!(
                "gird import: continuing: {} records were done by an earlier run ({})",
                resume.count(),
                journal_path.display()
            )
        });
    }
    let rejects_path = args
        .rejects
        .clone()
        .unwrap_or_else(|| journal_path.with_extension("rejects.jsonl"));
    let mut rejects = Rejects::new(rejects_path);

    let interrupted = Arc::new(std::sync::Mutex::new(None::<String>));
    let ctrl_c = {
        let (stop, interrupted) = (Arc::clone(stop), Arc::clone(&interrupted));
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::Relaxed);
                if let Ok(mut why) = interrupted.lock() {
                    why.get_or_insert_with(|| "interrupted (Ctrl-C)".into());
                }
            }
        })
    };
    let retry_for = Duration::from_secs(args.retry_seconds);
    let jobs = usize::from(args.jobs);
    let results = stream_of(items, Some(Arc::clone(stop)))
        .map(|item| {
            let (client, resume) = (Arc::clone(&client), Arc::clone(&resume));
            let progress = Arc::clone(progress);
            async move {
                let outcome = if resume.is_done(item.seq) {
                    Outcome::Skipped
                } else {
                    post(&client, &item, retry_for, &progress).await
                };
                (item, outcome)
            }
        })
        .buffer_unordered(jobs);
    tokio::pin!(results);
    let mut summary = Summary::default();
    let mut failed = None;
    let mut shown = Instant::now();
    while let Some((item, outcome)) = results.next().await {
        match outcome {
            Outcome::Finished(finished) => {
                summary.run.add(Some(finished));
                journal.finish(item.seq, finished)?;
            }
            Outcome::Skipped => summary.skipped += 1,
            Outcome::Rejected { reason } => {
                summary.run.add(Some(Finished::Rejected));
                rejects.add(&item, &reason)?;
                journal.finish(item.seq, Finished::Rejected)?;
            }
            Outcome::Stop(why) => {
                stop.store(true, Ordering::Relaxed);
                if let Ok(mut interrupted) = interrupted.lock() {
                    interrupted.get_or_insert(why);
                }
            }
            Outcome::Fail(why) => {
                stop.store(true, Ordering::Relaxed);
                failed.get_or_insert(why);
            }
        }
        progress.finished(&item.origin);
        if shown.elapsed() > Duration::from_millis(200) {
            shown = Instant::now();
            progress.show(&summary);
        }
    }
    ctrl_c.abort();
    journal.checkpoint()?;
    rejects.finish()?;
    summary.total = journal.counts();
    summary.interrupted = interrupted.lock().ok().and_then(|why| why.clone());
    summary.failed = failed;
    summary.rejects = rejects.remaining();
    Ok(summary)
}

/// Posts one item, retrying what may succeed later with backoff.
async fn post(
    client: &InsertionClient,
    item: &Item,
    retry_for: Duration,
    progress: &Progress,
) -> Outcome {
    let record = match &item.record {
        Ok(record) => record,
        Err(error) => {
            return Outcome::Rejected {
                reason: error.clone(),
            }
        }
    };
    progress.posting();
    let first_try = Instant::now();
    let mut wait = Duration::from_millis(200);
    loop {
        let answer = client.post(record.body().clone()).await;
        if !matches!(answer, Answer::Retry { .. }) {
            progress.answered();
        }
        match answer {
            Answer::Stored(finished) => return Outcome::Finished(finished),
            Answer::Rejected {
                http,
                status_code,
                message,
            } => {
                let code = status_code.map_or(String::new(), |code| format!(", statusCode {code}"));
                return Outcome::Rejected {
                    reason: format!("HTTP {http}{code}: {message}"),
                };
            }
            Answer::Fatal(why) => return Outcome::Fail(why),
            Answer::Retry { error, after } => {
                if first_try.elapsed() >= retry_for {
                    return Outcome::Stop(format!(
                        "{}: still failing after {} s: {error}",
                        item.origin,
                        retry_for.as_secs()
                    ));
                }
                let pause = after.unwrap_or(wait).min(Duration::from_secs(30));
                tracing::debug!(origin = item.origin, error, "retrying");
                progress.retrying(&error, pause);
                tokio::time::sleep(pause).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_credentials_come_from_gird_variables_else_aws_ones() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            }
        };
        let both = env(&[
            ("GIRD_IMPORT_S3_ACCESS_KEY_ID", "gird-key"),
            ("GIRD_IMPORT_S3_SECRET_ACCESS_KEY", "gird-secret"),
            ("AWS_ACCESS_KEY_ID", "aws-key"),
            ("AWS_SECRET_ACCESS_KEY", "aws-secret"),
        ]);
        assert_eq!(s3_credentials(both).unwrap().key(), "gird-key");
        let aws = env(&[
            ("AWS_ACCESS_KEY_ID", "aws-key"),
            ("AWS_SECRET_ACCESS_KEY", "aws-secret"),
            ("AWS_SESSION_TOKEN", "token"),
        ]);
        let credentials = s3_credentials(aws).unwrap();
        assert_eq!(
            (credentials.key(), credentials.token()),
            ("aws-key", Some("token"))
        );
        let half = env(&[
            ("GIRD_IMPORT_S3_ACCESS_KEY_ID", "gird-key"),
            ("AWS_ACCESS_KEY_ID", "aws-key"),
            ("AWS_SECRET_ACCESS_KEY", "aws-secret"),
        ]);
        let error = s3_credentials(half).unwrap_err().to_string();
        assert!(
            error.contains("GIRD_IMPORT_S3_SECRET_ACCESS_KEY"),
            "{error}"
        );
        assert!(s3_credentials(env(&[])).is_err());
    }
}
