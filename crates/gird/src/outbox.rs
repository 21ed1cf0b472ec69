//! `gird repost` and `gird outbox status`: the SpeechMiner outbox from the command line,
//! straight on the database (a running server picks up what is queued within a second).
//! What a repost means and how it is queued is `gird_server::service::repost`'s, as for
//! `POST .../speechminer/repost`; only the wording of a refusal is the command's own.

use anyhow::{anyhow, bail};
use gird_model::datetime::now_millis;
use gird_model::ContactCenterId;
use gird_server::service::repost::{self, AskError, QueueError, RepostAsk};
use gird_store::{OutboxStatus, Store};

use crate::cli::{RepostArgs, StatusArgs};

pub async fn repost(args: RepostArgs) -> anyhow::Result<()> {
    let ask = RepostAsk {
        recording: args.recording.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
        dead_letters: args.dead_letters,
    };
    let request = ask.decide().map_err(refusal)?;
    let contact_center = args.contact_center.clone();
    let settings = args.store.settings()?;
    let store = gird_server::bootstrap::open_existing_store(&settings).await?;
    // An id outside the rule names no contact center: answered as any unknown one.
    let result = match ContactCenterId::parse(contact_center.as_str()) {
        Ok(id) => repost::queue(store.as_ref(), &id, request).await,
        Err(_) => Err(QueueError::NoContactCenter(contact_center.clone())),
    };
    store.close().await;
    let queued = result?;
    println!("gird: queued {queued} SpeechMiner deliveries for contact center {contact_center:?}");
    Ok(())
}

/// A request that means nothing, in the words of the command's flags.
fn refusal(error: AskError) -> anyhow::Error {
    match error {
        AskError::NothingChosen | AskError::SeveralChosen | AskError::HalfRange => {
            anyhow!("give one of --recording, --from with --to, or --dead-letters")
        }
        AskError::NotADatetime { end, text } => {
            anyhow!("--{} {text:?} is not an ISO 8601 datetime", end.name())
        }
        AskError::EmptyRange { from, to } => anyhow!("--from {from:?} must be before --to {to:?}"),
    }
}

pub async fn status(args: StatusArgs) -> anyhow::Result<()> {
    let settings = args.store.settings()?;
    let store = gird_server::bootstrap::open_existing_store(&settings).await?;
    let result = report(store.as_ref(), args.contact_center.as_deref(), args.json).await;
    store.close().await;
    result
}

async fn report(store: &dyn Store, only: Option<&str>, json: bool) -> anyhow::Result<()> {
    let contact_centers = match only {
        Some(id) => {
            if store.contact_center(id).await?.is_none() {
                bail!("contact center {id:?} does not exist");
            }
            vec![id.to_owned()]
        }
        None => store.contact_center_ids().await?,
    };
    let now = now_millis();
    let mut rows = Vec::new();
    for id in contact_centers {
        let status = store.outbox_status(Some(&id)).await?;
        let receiver = store.receiver(&id).await?;
        rows.push((id, receiver, status));
    }
    if json {
        let all: Vec<_> = rows
            .iter()
            .map(|(id, receiver, status)| {
                serde_json::json!({
                    "contactCenterId": id,
                    "forwarding": receiver.as_ref().is_some_and(|r| r.enabled),
                    "outbox": gird_server::outbox_status_json(status, now),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(());
    }
    println!(
        "{:<24} {:<10} {:>8} {:>8} {:>9} {:>7} {:>10} {:>12}",
        "contact center",
        "forwarding",
        "queued",
        "retrying",
        "in flight",
        "failed",
        "delivered",
        "oldest age"
    );
    let mut total = OutboxStatus::default();
    for (id, receiver, status) in &rows {
        let forwarding = match receiver {
            Some(receiver) if receiver.enabled => "on",
            Some(_) => "off",
            None => "-",
        };
        println!("{:<24} {forwarding:<10} {}", id, counts(status, now));
        total.queued += status.queued;
        total.retrying += status.retrying;
        total.in_flight += status.in_flight;
        total.failed += status.failed;
        total.delivered += status.delivered;
        total.oldest_pending_ms = match (total.oldest_pending_ms, status.oldest_pending_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    if rows.len() > 1 {
        println!("{:<24} {:<10} {}", "all", "", counts(&total, now));
    }
    Ok(())
}

fn counts(status: &OutboxStatus, now: i64) -> String {
    let age = status
        .oldest_pending_ms
        .map(|queued| format!("{} s", (now - queued).max(0) / 1000))
        .unwrap_or_else(|| "-".into());
    format!(
        "{:>8} {:>8} {:>9} {:>7} {:>10} {:>12}",
        status.queued, status.retrying, status.in_flight, status.failed, status.delivered, age
    )
}
