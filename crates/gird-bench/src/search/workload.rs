//! Search requests for the load driver, and the check of their answers: HTTP 200,
//! statusCode 0, newest first, the record the parameters were drawn from among the
//! results, for the restricted supervisor only records they may see, and the `next` link
//! kept for the page-two queries.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, StatusCode};
use serde_json::Value;

use super::dataset::{Dataset, SUPERVISOR_NAME};
use super::queries::SearchQuery;
use crate::load::{describe_answer, Workload};

pub struct Searches {
    queries: Vec<SearchQuery>,
    /// `None` for a plain read whose answer has no `recordings`.
    limit: Option<u64>,
    next_links: Mutex<Vec<Option<String>>>,
    /// Searches of the restricted supervisor: every result must be one they may see.
    seen_by: Option<Arc<Dataset>>,
}

impl Searches {
    pub fn new(queries: Vec<SearchQuery>, limit: u32) -> Self {
        let next_links = Mutex::new(vec![None; queries.len()]);
        Self {
            queries,
            limit: Some(u64::from(limit)),
            next_links,
            seen_by: None,
        }
    }

    /// The same searches, made as the restricted supervisor of `dataset`.
    pub fn seen_by_supervisor(mut self, dataset: Arc<Dataset>) -> Self {
        self.seen_by = Some(dataset);
        self
    }

    /// The baseline: the same GET every time, any `{"statusCode":0,...}` is success.
    pub fn plain_reads(path: &str, count: usize) -> Self {
        let query = SearchQuery {
            path: path.to_owned(),
            expected_id: None,
        };
        Self {
            queries: vec![query; count],
            limit: None,
            next_links: Mutex::new(Vec::new()),
            seen_by: None,
        }
    }

    pub fn len(&self) -> usize {
        self.queries.len()
    }

    pub fn query(&self, sequence: u64) -> &SearchQuery {
        &self.queries[sequence as usize % self.queries.len()]
    }

    /// The `next` links of the answers, as queries for the following page.
    pub fn next_pages(&self) -> Vec<SearchQuery> {
        let links = self.next_links.lock().unwrap_or_else(|e| e.into_inner());
        links
            .iter()
            .flatten()
            .map(|link| SearchQuery {
                path: link.clone(),
                expected_id: None,
            })
            .collect()
    }

    fn judge(&self, sequence: u64, status: StatusCode, body: &Bytes) -> Result<u64, String> {
        let answer: Value = match serde_json::from_slice(body) {
            Ok(answer) if status == StatusCode::OK => answer,
            _ => return Err(describe_answer(status, body)),
        };
        if answer["statusCode"] != 0 {
            return Err(describe_answer(status, body));
        }
        let Some(limit) = self.limit else {
            return Ok(0);
        };
        let recordings = answer["recordings"]
            .as_array()
            .ok_or("no recordings array in the answer")?;
        let start_times: Vec<&str> = recordings
            .iter()
            .map(|recording| recording["startTime"].as_str().unwrap_or_default())
            .collect();
        // UTC with milliseconds throughout, so text order is time order.
        if start_times.windows(2).any(|pair| pair[0] < pair[1]) {
            return Err("results not newest first".to_owned());
        }
        if recordings.len() as u64 > limit {
            return Err(format!("{} results, over the limit", recordings.len()));
        }
        if let Some(dataset) = &self.seen_by {
            let hidden = recordings.iter().find_map(|recording| {
                let id = recording["id"].as_str().unwrap_or_default();
                (!dataset.supervisor_sees(id)).then_some(id)
            });
            if let Some(id) = hidden {
                return Err(format!(
                    "{SUPERVISOR_NAME} was shown {id}, which they may not see"
                ));
            }
        }
        let expected = self.query(sequence).expected_id.as_deref();
        if let Some(expected) = expected {
            let found = recordings
                .iter()
                .any(|recording| recording["id"] == expected);
            if !found && (recordings.len() as u64) < limit {
                return Err(format!(
                    "recording {expected} missing from the {} results",
                    recordings.len()
                ));
            }
        }
        if let Some(link) = answer["next"].as_str() {
            let mut links = self.next_links.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(slot) = links.get_mut(sequence as usize) {
                *slot = Some(path_of(link).to_owned());
            }
        }
        Ok(recordings.len() as u64)
    }
}

impl Workload for Searches {
    fn request(&self, sequence: u64) -> hyper::http::Result<Request<Full<Bytes>>> {
        Request::builder()
            .method(Method::GET)
            .uri(self.query(sequence).path.as_str())
            .body(Full::default())
    }

    fn check(&self, sequence: u64, status: StatusCode, body: &Bytes) -> Result<u64, String> {
        // Name the query: an error sample is only useful with it.
        self.judge(sequence, status, body)
            .map_err(|problem| format!("GET {}: {problem}", self.query(sequence).path))
    }
}

/// A link's path and query, whether the server wrote it absolute or not.
fn path_of(link: &str) -> &str {
    match link.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |slash| &rest[slash..]),
        None => link,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_query(expected: Option<&str>) -> Searches {
        let query = SearchQuery {
            path: "/search?x=1".to_owned(),
            expected_id: expected.map(str::to_owned),
        };
        Searches::new(vec![query], 2)
    }

    fn check(searches: &Searches, body: &str) -> Result<u64, String> {
        searches.check(0, StatusCode::OK, &Bytes::from(body.to_owned()))
    }

    #[test]
    fn answers_are_judged() {
        let searches = one_query(Some("b"));
        let page = r#"{"statusCode":0,"recordings":[
            {"id":"a","startTime":"2025-02-01T00:00:00.000Z"},
            {"id":"b","startTime":"2025-01-01T00:00:00.000Z"}],
            "next":"http://127.0.0.1:1/api/v2/recordings?cursor=x"}"#;
        assert_eq!(check(&searches, page), Ok(2));
        assert_eq!(searches.next_pages()[0].path, "/api/v2/recordings?cursor=x");
        let unordered = page.replace("2025-02", "2024-02");
        assert!(check(&searches, &unordered)
            .unwrap_err()
            .contains("newest first"));
        let missing =
            r#"{"statusCode":0,"recordings":[{"id":"a","startTime":"2025-01-01T00:00:00.000Z"}]}"#;
        assert!(check(&searches, missing).unwrap_err().contains("missing"));
        let error = r#"{"statusCode":10,"statusMessage":"limit"}"#;
        assert!(check(&searches, error)
            .unwrap_err()
            .contains("statusCode\":10"));
        let refused = searches.check(0, StatusCode::UNAUTHORIZED, &Bytes::from("{}"));
        assert!(refused
            .unwrap_err()
            .starts_with("GET /search?x=1: HTTP 401"));
    }

    #[test]
    fn a_full_page_need_not_hold_the_expected_record() {
        let searches = one_query(Some("z"));
        let page = r#"{"statusCode":0,"recordings":[
            {"id":"a","startTime":"2025-02-01T00:00:00.000Z"},
            {"id":"b","startTime":"2025-01-01T00:00:00.000Z"}]}"#;
        assert_eq!(check(&searches, page), Ok(2));
    }

    #[test]
    fn the_supervisor_is_shown_only_what_they_may_see() {
        let dataset = Arc::new(Dataset::new(9));
        let id = |visible: bool| {
            let index = (0..1000)
                .find(|&index| dataset.recording(index).visible_to_supervisor() == visible)
                .unwrap();
            dataset.recording_id(index)
        };
        let searches = Searches::new(
            vec![SearchQuery {
                path: "/search".to_owned(),
                expected_id: None,
            }],
            2,
        )
        .seen_by_supervisor(dataset.clone());
        let page = |id: &str| {
            format!(
                r#"{{"statusCode":0,"recordings":[{{"id":"{id}","startTime":"2025-01-01T00:00:00.000Z"}}]}}"#
            )
        };
        assert_eq!(check(&searches, &page(&id(true))), Ok(1));
        let hidden = id(false);
        let refused = check(&searches, &page(&hidden)).unwrap_err();
        assert!(
            refused.contains(&format!("was shown {hidden}")),
            "{refused}"
        );
    }

    #[test]
    fn plain_reads_need_only_status_zero() {
        let reads = Searches::plain_reads("/cc", 3);
        assert_eq!(reads.len(), 3);
        assert_eq!(
            check(&reads, r#"{"statusCode":0,"contactCenter":{}}"#),
            Ok(0)
        );
    }

    #[test]
    fn relative_links_are_kept() {
        assert_eq!(path_of("/api/v2/recordings?a=b"), "/api/v2/recordings?a=b");
        assert_eq!(path_of("https://host/x?y"), "/x?y");
    }
}
