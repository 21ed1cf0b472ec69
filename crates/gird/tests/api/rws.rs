//! Typed requests for the RWS read side (API.md "Search, playback, delete and legal
//! hold"): search, one recording, playback, delete, legal hold and storage credentials.

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{encode_segment, send, Api, ApiResponse};

pub const APPLY_HOLD: &str = "applyNonDelete";
pub const REMOVE_HOLD: &str = "removeNonDelete";

/// A playback answer, with its body as bytes.
#[derive(Debug)]
pub struct Played {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Played {
    pub fn header(&self, name: &str) -> Option<String> {
        let value = self.headers.get(name)?;
        Some(value.to_str().expect("ASCII header").to_owned())
    }

    /// The answer as an [`ApiResponse`], to check an error envelope.
    pub fn as_api(&self) -> ApiResponse {
        ApiResponse {
            status: self.status,
            headers: self.headers.clone(),
            text: String::from_utf8_lossy(&self.body).into_owned(),
        }
    }
}

impl Api {
    /// `GET /api/v2/recordings` with the given query parameters (encoded here).
    pub async fn search(&self, query: &[(&str, &str)]) -> ApiResponse {
        send(self.request(Method::GET, "/api/v2/recordings").query(query)).await
    }

    /// `GET /api/v2/ops/contact-centers/{cc}/recordings` with the given query parameters.
    pub async fn search_ops(&self, cc: &str, query: &[(&str, &str)]) -> ApiResponse {
        let path = format!("/api/v2/ops/contact-centers/{cc}/recordings");
        send(self.request(Method::GET, &path).query(query)).await
    }

    /// GETs a `next` or `previous` link as the server gave it.
    pub async fn follow(&self, link: &str) -> ApiResponse {
        assert!(
            link.starts_with("/api/v2/"),
            "a server-relative link: {link}"
        );
        send(self.request(Method::GET, link)).await
    }

    /// `GET /api/v2/recordings/{id}`, with `contactCenterId` when given.
    pub async fn rws_recording(&self, id: &str, cc: Option<&str>) -> ApiResponse {
        send(self.on_recording(Method::GET, id, cc)).await
    }

    /// `DELETE /api/v2/recordings/{id}?contactCenterId=CC[&deleteMedia=true]`.
    pub async fn delete_recording(&self, id: &str, cc: Option<&str>, media: bool) -> ApiResponse {
        let mut request = self.on_recording(Method::DELETE, id, cc);
        if media {
            request = request.query(&[("deleteMedia", "true")]);
        }
        send(request).await
    }

    /// `DELETE /api/v2/ops/contact-centers/{cc}/recordings/{id}`.
    pub async fn delete_recording_ops(&self, cc: &str, id: &str) -> ApiResponse {
        send(self.request(Method::DELETE, &ops_recording(cc, id))).await
    }

    /// `POST /api/v2/recordings/{id}?contactCenterId=CC` with `body`.
    pub async fn recording_operation(&self, id: &str, cc: &str, body: &Value) -> ApiResponse {
        send(self.on_recording(Method::POST, id, Some(cc)).json(body)).await
    }

    /// `POST /api/v2/ops/contact-centers/{cc}/recordings/{id}` with `{"operationName": op}`.
    pub async fn recording_operation_ops(
        &self,
        cc: &str,
        id: &str,
        operation: &str,
    ) -> ApiResponse {
        let body = json!({ "operationName": operation });
        send(
            self.request(Method::POST, &ops_recording(cc, id))
                .json(&body),
        )
        .await
    }

    /// `applyNonDelete` or `removeNonDelete` on the RWS path, which must succeed.
    pub async fn hold(&self, id: &str, cc: &str, operation: &str) {
        let body = json!({ "operationName": operation });
        self.recording_operation(id, cc, &body).await.assert_ok();
    }

    /// `GET /api/v2{play_path}?contactCenterId=CC`, with a `Range` header when given.
    pub async fn play(&self, play_path: &str, cc: &str, range: Option<&str>) -> Played {
        self.play_with(
            self.request(Method::GET, &format!("/api/v2{play_path}")),
            cc,
            range,
        )
        .await
    }

    pub async fn play_with(
        &self,
        request: RequestBuilder,
        cc: &str,
        range: Option<&str>,
    ) -> Played {
        let mut request = request.query(&[("contactCenterId", cc)]);
        if let Some(range) = range {
            request = request.header("range", range);
        }
        let response = request.send().await.expect("gird answers");
        Played {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.bytes().await.expect("playback body").to_vec(),
        }
    }

    pub async fn put_storage(&self, cc: &str, body: &Value) -> ApiResponse {
        send(self.request(Method::PUT, &storage_path(cc)).json(body)).await
    }

    pub async fn get_storage(&self, cc: &str) -> ApiResponse {
        send(self.request(Method::GET, &storage_path(cc))).await
    }

    pub async fn delete_storage(&self, cc: &str) -> ApiResponse {
        send(self.request(Method::DELETE, &storage_path(cc))).await
    }

    fn on_recording(&self, method: Method, id: &str, cc: Option<&str>) -> RequestBuilder {
        let path = format!("/api/v2/recordings/{}", encode_segment(id));
        let request = self.request(method, &path);
        match cc {
            Some(cc) => request.query(&[("contactCenterId", cc)]),
            None => request,
        }
    }
}

pub fn storage_path(cc: &str) -> String {
    format!("/api/v2/ops/contact-centers/{cc}/storage")
}

pub fn ops_recording(cc: &str, id: &str) -> String {
    format!(
        "/api/v2/ops/contact-centers/{cc}/recordings/{}",
        encode_segment(id)
    )
}

/// The `recordings` of a successful search answer.
pub fn found(response: &ApiResponse) -> Vec<Value> {
    assert_eq!(response.status, StatusCode::OK, "search: {}", response.text);
    let body = response.json();
    assert_eq!(body["statusCode"], 0, "{body}");
    body["recordings"]
        .as_array()
        .unwrap_or_else(|| panic!("a recordings array in {body}"))
        .clone()
}

/// The ids of a successful search answer, in answer order.
pub fn found_ids(response: &ApiResponse) -> Vec<String> {
    found(response)
        .iter()
        .map(|recording| recording["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// The `next` or `previous` link of a search answer, if there is one.
pub fn link(response: &ApiResponse, name: &str) -> Option<String> {
    match &response.json()[name] {
        Value::Null => None,
        Value::String(link) => Some(link.clone()),
        other => panic!("{name} is not a string link: {other}"),
    }
}
