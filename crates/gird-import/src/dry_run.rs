//! `--dry-run`: every record checked with the server's own validation, nothing posted.

use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::progress::Progress;
use crate::source::{Item, Record};
use crate::summary::Summary;

pub async fn dry_run(chunks: mpsc::Receiver<Vec<Item>>, progress: &Progress) -> Summary {
    let mut summary = Summary::default();
    let items = crate::stream_of(chunks, None);
    tokio::pin!(items);
    while let Some(item) = items.next().await {
        let problems = match &item.record {
            Err(error) => vec![error.clone()],
            Ok(record) => check(record),
        };
        if problems.is_empty() {
            summary.valid += 1;
        } else {
            summary.invalid += 1;
            progress.suspend(|| {
                for problem in &problems {
                    println!("{}: {problem}", item.origin);
                }
            });
        }
        progress.finished(&item.origin);
        if (summary.valid + summary.invalid) % 1000 == 0 {
            progress.show(&summary);
        }
    }
    summary
}

/// What the server's validation says of a record, each with its JSON path.
fn check(record: &Record) -> Vec<String> {
    let json = match record.json() {
        Ok(json) => json.into_owned(),
        Err(error) => return vec![error],
    };
    let Value::Object(object) = json else {
        return vec!["is not a JSON object".into()];
    };
    match gird_model::Recording::from_json(object) {
        Ok(_) => Vec::new(),
        Err(violations) => violations.0.iter().map(ToString::to_string).collect(),
    }
}
