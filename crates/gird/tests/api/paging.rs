//! Search paging (API.md "Search"): keyset `next` / `previous` links, limits, and pages
//! that stay correct while inserts continue.

use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::body::media_file;
use crate::helpers::{spawn_app, ApiResponse, TestApp};
use crate::rws::{found, found_ids, link};

/// Recording `i` of a paging set: three recordings share each start minute, so that
/// page edges fall inside groups of equal start times; even ones are in `Can-West`.
fn paged_record(i: usize) -> Value {
    paged_record_at(&format!("p{i:03}"), 2021, i / 3, i)
}

fn paged_record_at(id: &str, year: u32, minute: usize, i: usize) -> Value {
    let start = format!("{year}-01-01T{:02}:{:02}:00.000Z", minute / 60, minute % 60);
    let stop = format!("{year}-01-01T{:02}:{:02}:30.000Z", minute / 60, minute % 60);
    json!({
        "id": id,
        "callerPhoneNumber": "+14160000000",
        "dialedPhoneNumber": "+14161111111",
        "region": if i.is_multiple_of(2) { "Can-West" } else { "Can-East" },
        "mediaFiles": [media_file(&format!("{id}-media"), &start, &stop)]
    })
}

async fn insert_all(app: &TestApp, cc: &str, bodies: Vec<Value>) {
    let mut inserts = JoinSet::new();
    for body in bodies {
        let (api, cc) = (app.api.clone(), cc.to_owned());
        inserts.spawn(async move { api.insert(&cc, &body).await.assert_ok() });
    }
    while let Some(done) = inserts.join_next().await {
        done.expect("insert task");
    }
}

async fn paged_app(count: usize) -> (TestApp, String) {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    insert_all(&app, &cc, (0..count).map(paged_record).collect()).await;
    (app, cc)
}

/// The ids newest first. The tie-break on equal start times is "then id"; API.md does
/// not say in which direction, so both are accepted, as long as it is consistent.
fn expected_orders(indexes: impl Iterator<Item = usize>) -> [Vec<String>; 2] {
    let mut ids: Vec<(usize, String)> = indexes.map(|i| (i / 3, format!("p{i:03}"))).collect();
    ids.sort_by(|a, b| b.cmp(a));
    let descending: Vec<String> = ids.iter().map(|(_, id)| id.clone()).collect();
    ids.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let ascending = ids.into_iter().map(|(_, id)| id).collect();
    [descending, ascending]
}

fn assert_one_of(walked: &[String], orders: &[Vec<String>; 2]) {
    assert!(
        orders.iter().any(|order| order == walked),
        "pages walked {walked:?}\nexpected newest first, ties by id: {:?}",
        orders[0]
    );
}

/// Follows `name` links from `first` to the end; answers the pages' ids, in walk order.
async fn walk(app: &TestApp, first: &ApiResponse, name: &str) -> Vec<Vec<String>> {
    let mut pages = vec![found_ids(first)];
    let mut next = link(first, name);
    while let Some(url) = next {
        assert!(pages.len() < 100, "the {name} links never end");
        let page = app.follow(&url).await;
        pages.push(found_ids(&page));
        next = link(&page, name);
    }
    pages
}

#[tokio::test]
async fn next_and_previous_links_walk_every_recording_once_in_order() {
    let (app, cc) = paged_app(250).await;
    let first = app
        .search(&[("contactCenterId", &cc), ("limit", "40")])
        .await;
    assert_eq!(
        link(&first, "previous"),
        None,
        "nothing is newer than page 1"
    );
    let forward = walk(&app, &first, "next").await;
    let sizes: Vec<usize> = forward.iter().map(Vec::len).collect();
    assert_eq!(sizes, [40, 40, 40, 40, 40, 40, 10]);
    assert_one_of(&forward.concat(), &expected_orders(0..250));

    // Back from the last page: the same pages in reverse, page 1 without `previous`.
    let mut last = app.follow(&link(&first, "next").unwrap()).await;
    while let Some(url) = link(&last, "next") {
        last = app.follow(&url).await;
    }
    assert_eq!(found_ids(&last), forward[6]);
    let backward = walk(&app, &last, "previous").await;
    let mut reversed = forward.clone();
    reversed.reverse();
    assert_eq!(backward, reversed);
}

#[tokio::test]
async fn links_keep_the_filters_on_the_ops_path() {
    let (app, cc) = paged_app(250).await;
    let query = [("region", "Can-West"), ("limit", "40")];
    let first = app.search_ops(&cc, &query).await;
    let pages = walk(&app, &first, "next").await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [40, 40, 40, 5]);
    assert_one_of(&pages.concat(), &expected_orders((0..250).step_by(2)));
}

#[tokio::test]
async fn the_limit_defaults_to_100_and_goes_up_to_1000() {
    let (app, cc) = paged_app(250).await;
    let default = app.search(&[("contactCenterId", &cc)]).await;
    assert_eq!(found(&default).len(), 100);
    assert!(link(&default, "next").is_some());

    let all = app
        .search(&[("contactCenterId", &cc), ("limit", "1000")])
        .await;
    assert_eq!(found(&all).len(), 250);
    assert_eq!((link(&all, "next"), link(&all, "previous")), (None, None));
    assert_one_of(&found_ids(&all), &expected_orders(0..250));

    let one = app.search_ops(&cc, &[("limit", "1")]).await;
    assert_eq!(found_ids(&one), ["p249"]);
}

#[tokio::test]
async fn a_damaged_cursor_is_400() {
    let (app, cc) = paged_app(30).await;
    let first = app
        .search(&[("contactCenterId", &cc), ("limit", "10")])
        .await;
    let next = link(&first, "next").expect("a next link");
    let (path, query) = next.split_once('?').expect("a query");
    let damaged: Vec<String> = query
        .split('&')
        .map(|pair| match pair.strip_prefix("cursor=") {
            Some(cursor) => format!("cursor=x{cursor}"),
            None => pair.to_owned(),
        })
        .collect();
    assert!(
        damaged.iter().any(|pair| pair.starts_with("cursor=x")),
        "{next}"
    );
    let message = app
        .follow(&format!("{path}?{}", damaged.join("&")))
        .await
        .assert_error(400, 10);
    assert!(message.contains("cursor"), "{message}");
}

#[tokio::test]
async fn inserts_between_page_fetches_neither_duplicate_nor_skip() {
    let (app, cc) = paged_app(100).await;
    let first = app
        .search(&[("contactCenterId", &cc), ("limit", "30")])
        .await;
    let page_one = found_ids(&first);

    // Newer than everything, and inside the range page 1 already showed.
    let mut later: Vec<Value> = (0..3)
        .map(|i| paged_record_at(&format!("new{i}"), 2022, i, i))
        .collect();
    later.push(paged_record_at("p098a", 2021, 98 / 3, 0));
    later.push(paged_record_at("p080a", 2021, 80 / 3, 0));
    insert_all(&app, &cc, later).await;

    let mut walked = page_one;
    let mut next = link(&first, "next");
    while let Some(url) = next {
        let page = app.follow(&url).await;
        walked.extend(found_ids(&page));
        next = link(&page, "next");
    }
    assert_one_of(&walked, &expected_orders(0..100));

    let now = app
        .search(&[("contactCenterId", &cc), ("limit", "1000")])
        .await;
    assert_eq!(
        found(&now).len(),
        105,
        "a new search sees the new recordings"
    );
}
