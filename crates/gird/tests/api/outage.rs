//! PostgreSQL going away under load and coming back (API.md: storage failed is HTTP 503,
//! statusCode 4, `Retry-After`): nothing acknowledged is lost, reads and inserts are
//! refused while it is away, and the server recovers by itself.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{timeout_at, Instant};

use crate::body::minimal_record;
use crate::cluster::Cluster;
use crate::helpers::{unique, Api, ApiResponse, AppBuilder, PATIENCE};

/// Clients inserting at the same time.
const WORKERS: usize = 8;

enum Outcome {
    Stored,
    Unavailable,
    Unexpected(String),
}

/// HTTP 503 with `Retry-After` and exactly `{"statusCode":4,"statusMessage":"..."}`.
fn is_unavailable(response: &ApiResponse) -> bool {
    let Ok(body) = serde_json::from_str::<Value>(&response.text) else {
        return false;
    };
    response.status.as_u16() == 503
        && response.header("retry-after").is_some()
        && body["statusCode"] == 4
        && body["statusMessage"].is_string()
        && body.as_object().is_some_and(|object| object.len() == 2)
}

fn outcome(answer: Result<ApiResponse, reqwest::Error>) -> Outcome {
    match answer {
        Ok(response) if response.is_ok() => Outcome::Stored,
        Ok(response) if is_unavailable(&response) => Outcome::Unavailable,
        Ok(response) => Outcome::Unexpected(format!(
            "{} Retry-After {:?}: {}",
            response.status,
            response.header("retry-after"),
            response.text
        )),
        Err(error) => Outcome::Unexpected(format!("no answer: {error}")),
    }
}

/// [`WORKERS`] clients, each inserting new records one after another until `stop`.
fn load(
    api: &Api,
    cc: &str,
    stop: &Arc<AtomicBool>,
    answers: mpsc::UnboundedSender<(String, Outcome)>,
) -> Vec<JoinHandle<()>> {
    (0..WORKERS)
        .map(|worker| {
            let (api, cc, stop) = (api.clone(), cc.to_owned(), stop.clone());
            let answers = answers.clone();
            tokio::spawn(async move {
                for count in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let id = format!("load-{worker}-{count}");
                    let answer = outcome(api.try_insert(&cc, &minimal_record(&id)).await);
                    if answers.send((id, answer)).is_err() {
                        break;
                    }
                }
            })
        })
        .collect()
}

/// The answers the load got so far.
#[derive(Default)]
struct Tally {
    stored: Vec<String>,
    unavailable: usize,
    unexpected: Vec<String>,
}

impl Tally {
    fn add(&mut self, (id, outcome): (String, Outcome)) {
        match outcome {
            Outcome::Stored => self.stored.push(id),
            Outcome::Unavailable => self.unavailable += 1,
            Outcome::Unexpected(answer) => self.unexpected.push(format!("{id}: {answer}")),
        }
    }

    /// Takes answers until `done`; fails after [`PATIENCE`] saying what did not happen.
    async fn until(
        &mut self,
        answers: &mut mpsc::UnboundedReceiver<(String, Outcome)>,
        what: &str,
        done: impl Fn(&Tally) -> bool,
    ) {
        let deadline = Instant::now() + PATIENCE;
        while !done(self) {
            match timeout_at(deadline, answers.recv()).await {
                Ok(Some(answer)) => self.add(answer),
                Ok(None) => panic!("the load stopped"),
                Err(_) => panic!(
                    "{what} within {PATIENCE:?}: {} stored, {} refused, unexpected: {:?}",
                    self.stored.len(),
                    self.unavailable,
                    self.unexpected.iter().take(5).collect::<Vec<_>>()
                ),
            }
        }
    }
}

async fn assert_all_readable(api: &Api, cc: &str, ids: &[String]) {
    let readers: Vec<_> = ids
        .chunks(ids.len().div_ceil(WORKERS).max(1))
        .map(|chunk| {
            let (api, cc, chunk) = (api.clone(), cc.to_owned(), chunk.to_vec());
            tokio::spawn(async move {
                for id in chunk {
                    let response = api.get_recording(&cc, &id).await;
                    assert_eq!(
                        response.status.as_u16(),
                        200,
                        "acknowledged record {id} is lost: {}",
                        response.text
                    );
                }
            })
        })
        .collect();
    for reader in readers {
        reader.await.expect("read task");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_of_the_database_is_503_and_loses_nothing_acknowledged() {
    let cluster = Cluster::start().await;
    let app = AppBuilder::new()
        .arg("--database", &cluster.url)
        .spawn()
        .await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &minimal_record("before")).await.assert_ok();
    let stop = Arc::new(AtomicBool::new(false));
    let (sender, mut answers) = mpsc::unbounded_channel();
    let workers = load(&app, &cc, &stop, sender);
    let mut tally = Tally::default();

    tally
        .until(&mut answers, "inserts are stored", |so_far| {
            so_far.stored.len() >= 50
        })
        .await;
    cluster.stop().await;
    tally
        .until(&mut answers, "inserts are refused with 503", |so_far| {
            so_far.unavailable >= 20
        })
        .await;
    let read = app.get_recording(&cc, "before").await;
    assert!(
        is_unavailable(&read),
        "a read while the database is down: {read:?}"
    );
    let search = app.search(&[("contactCenterId", cc.as_str())]).await;
    assert!(
        is_unavailable(&search),
        "a search while the database is down: {search:?}"
    );
    let body = json!({"id": unique("cc"), "domains": ["example.com"]});
    let created = app.create_contact_center_with(&body).await;
    assert!(
        is_unavailable(&created),
        "a new contact center while the database is down: {created:?}"
    );

    let stored_before_recovery = tally.stored.len();
    cluster.resume().await;
    tally
        .until(&mut answers, "inserts succeed again", |so_far| {
            so_far.stored.len() >= stored_before_recovery + 50
        })
        .await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("load task");
    }
    while let Ok(answer) = answers.try_recv() {
        tally.add(answer);
    }

    assert!(
        tally.unexpected.is_empty(),
        "{} answers neither stored nor 503/4 with Retry-After, e.g. {:?}",
        tally.unexpected.len(),
        tally.unexpected.iter().take(5).collect::<Vec<_>>()
    );
    app.recording(&cc, "before").await;
    assert_all_readable(&app, &cc, &tally.stored).await;
}
