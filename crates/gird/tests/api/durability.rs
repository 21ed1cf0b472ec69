//! An answer of statusCode 0 means the record is on disk (docs/API.md), and SIGTERM drains
//! in-flight requests and exits 0 (docs/API.md).

use std::collections::BTreeSet;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::body::{media_by_id, minimal_record, segment};
use crate::helpers::{spawn_app, Api, TestApp};

fn record(index: usize) -> Value {
    minimal_record(&format!("durable-{index}"))
}

/// Inserts records `0..count` concurrently; each task reports its index on `acks` when
/// it is acknowledged and answers the HTTP answer it got, if any.
fn insert_all(
    app: &TestApp,
    cc: &str,
    count: usize,
    acks: mpsc::UnboundedSender<usize>,
) -> Vec<JoinHandle<Option<String>>> {
    (0..count)
        .map(|index| {
            let (api, cc, acks): (Api, String, _) = (app.api.clone(), cc.to_owned(), acks.clone());
            tokio::spawn(async move {
                let response = api.try_insert(&cc, &record(index)).await.ok()?;
                if response.is_ok() {
                    let _ = acks.send(index);
                }
                Some(format!("{} {}", response.status, response.text))
            })
        })
        .collect()
}

/// Waits for `count` acknowledgements.
async fn wait_for_acks(acks: &mut mpsc::UnboundedReceiver<usize>, count: usize) {
    for _ in 0..count {
        tokio::time::timeout(crate::helpers::PATIENCE, acks.recv())
            .await
            .expect("inserts are acknowledged")
            .expect("an acknowledgement");
    }
}

/// Awaits every task; answers the acknowledged indexes and the other HTTP answers.
async fn outcomes(tasks: Vec<JoinHandle<Option<String>>>) -> (BTreeSet<usize>, Vec<String>) {
    let mut acknowledged = BTreeSet::new();
    let mut others = Vec::new();
    for (index, task) in tasks.into_iter().enumerate() {
        match task.await.expect("insert task") {
            Some(answer) if answer == r#"200 OK {"statusCode":0}"# => {
                acknowledged.insert(index);
            }
            Some(answer) => others.push(answer),
            None => {}
        }
    }
    (acknowledged, others)
}

async fn assert_all_present(app: &TestApp, cc: &str, indexes: &BTreeSet<usize>) {
    let reads: Vec<_> = indexes
        .iter()
        .map(|&index| {
            let (api, cc) = (app.api.clone(), cc.to_owned());
            tokio::spawn(async move {
                (
                    index,
                    api.get_recording(&cc, &format!("durable-{index}")).await,
                )
            })
        })
        .collect();
    for read in reads {
        let (index, response) = read.await.expect("read task");
        assert_eq!(
            response.status.as_u16(),
            200,
            "acknowledged record {index} is lost: {}",
            response.text
        );
    }
}

#[tokio::test]
async fn acknowledged_records_survive_kill_9() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let (acks, _) = mpsc::unbounded_channel();
    let (acknowledged, others) = outcomes(insert_all(&app, &cc, 200, acks)).await;
    assert!(others.is_empty(), "every insert succeeds: {others:?}");
    assert_eq!(acknowledged.len(), 200);

    let app = app.restart().await;
    assert_all_present(&app, &cc, &acknowledged).await;
}

#[tokio::test]
async fn records_acknowledged_before_a_crash_survive_it() {
    let mut app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let (acks, mut acked) = mpsc::unbounded_channel();
    let tasks = insert_all(&app, &cc, 400, acks);
    wait_for_acks(&mut acked, 50).await;

    app.kill().await;
    let (acknowledged, _) = outcomes(tasks).await;
    assert!(acknowledged.len() >= 50);

    let app = app.restart().await;
    assert_all_present(&app, &cc, &acknowledged).await;
}

#[tokio::test]
async fn sigterm_finishes_in_flight_requests_and_exits_0() {
    let mut app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let (acks, mut acked) = mpsc::unbounded_channel();
    let tasks = insert_all(&app, &cc, 200, acks);
    wait_for_acks(&mut acked, 20).await;

    app.send_sigterm();
    let status = app.wait_for_exit().await;
    assert!(status.success(), "SIGTERM exits 0, got {status}");
    let (acknowledged, others) = outcomes(tasks).await;
    assert!(
        others.is_empty(),
        "in-flight requests are finished, not failed: {others:?}"
    );

    let app = app.restart().await;
    assert_all_present(&app, &cc, &acknowledged).await;
}

#[tokio::test]
async fn merged_segments_acknowledged_before_a_crash_survive_it() {
    let mut app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let (acks, mut acked) = mpsc::unbounded_channel();
    let tasks: Vec<JoinHandle<bool>> = (0..100)
        .map(|index| {
            let (api, cc, acks) = (app.api.clone(), cc.clone(), acks.clone());
            tokio::spawn(async move {
                let acknowledged = api
                    .try_insert(&cc, &segment("crashed-call", index))
                    .await
                    .is_ok_and(|response| response.is_ok());
                if acknowledged {
                    let _ = acks.send(index);
                }
                acknowledged
            })
        })
        .collect();
    wait_for_acks(&mut acked, 30).await;

    app.kill().await;
    let mut acknowledged = Vec::new();
    for (index, task) in tasks.into_iter().enumerate() {
        if task.await.expect("insert task") {
            acknowledged.push(index);
        }
    }

    let app = app.restart().await;
    let record = app.recording(&cc, "crashed-call").await;
    for index in acknowledged {
        media_by_id(&record, &format!("crashed-call-media-{index}"));
    }
}
