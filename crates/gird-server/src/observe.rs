//! Watching gird run: a request id on every request (taken from `X-Request-Id` when the
//! client sent a usable one, answered in the same header, and on every log line of the
//! request), Prometheus metrics at `/metrics`, and the health checks `/health` (the
//! process answers) and `/ready` (the storage answers too).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gird_model::datetime::now_millis;
use gird_store::Store;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use tracing::Instrument;

pub const REQUEST_ID: &str = "x-request-id";
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The process's metrics registry, installed once.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let seconds = [
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let sizes = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("seconds".into()), &seconds)
            .and_then(|builder| {
                builder
                    .set_buckets_for_metric(Matcher::Full("gird_insert_batch_size".into()), &sizes)
            })
            .expect("valid buckets")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder came first (a test harness); then nothing is kept.
        let _ = metrics::set_global_recorder(recorder);
        describe();
        handle
    })
}

/// Folds the samples recorded since the last time into the histograms. The recorder keeps
/// every raw sample until then, so without this (or a scrape) memory grows with traffic.
pub async fn upkeep() {
    let mut ticks = tokio::time::interval(Duration::from_secs(5));
    loop {
        ticks.tick().await;
        prometheus().run_upkeep();
    }
}

fn describe() {
    metrics::describe_counter!(
        "gird_http_requests_total",
        "HTTP requests by method, route and status"
    );
    metrics::describe_histogram!(
        "gird_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "HTTP request latency by method and route"
    );
    metrics::describe_histogram!(
        "gird_insert_batch_size",
        "Inserts committed per transaction"
    );
    metrics::describe_counter!("gird_storage_errors_total", "Storage errors by kind");
    metrics::describe_gauge!("gird_outbox_deliveries", "SpeechMiner deliveries by state");
    metrics::describe_gauge!(
        "gird_outbox_oldest_pending_seconds",
        metrics::Unit::Seconds,
        "Age of the oldest SpeechMiner delivery not yet made"
    );
}

/// The route a request matched, carried out to [`track`] on the response.
#[derive(Clone)]
struct Route(Arc<str>);

/// Inside the router: notes which route matched (the outer layers cannot see it).
pub async fn label_route(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| Route(Arc::from(path.as_str())));
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(route);
    }
    response
}

fn request_id(request: &Request) -> String {
    let given = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            (1..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        });
    match given {
        Some(id) => id.to_owned(),
        None => uuid::Uuid::new_v4().to_string(),
    }
}

/// A request method as a metric label: a client may send any token as a method, and each
/// distinct label is a new series kept for ever, so anything else is `other`. (The route
/// label is the matched route's template or `none`, the status a number: neither takes
/// client text.)
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    const KNOWN: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::PATCH, "PATCH"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    KNOWN
        .iter()
        .find(|(known, _)| known == method)
        .map_or("other", |(_, label)| label)
}

/// Outermost: the request id, a span for the request's log lines, and its metrics.
pub async fn track(request: Request, next: Next) -> Response {
    let id = request_id(&request);
    let method = request.method().clone();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip().to_string());
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %method,
        path = %request.uri().path(),
        peer = peer.as_deref().unwrap_or("-"),
    );
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let route = response
        .extensions()
        .get::<Route>()
        .map_or_else(|| Arc::from("none"), |route| Arc::clone(&route.0));
    let labels = [
        ("method", method_label(&method).to_owned()),
        ("route", route.to_string()),
    ];
    metrics::counter!(
        "gird_http_requests_total",
        "method" => labels[0].1.clone(),
        "route" => labels[1].1.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!("gird_http_request_duration_seconds", &labels)
        .record(elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::debug!(
            status,
            millis = elapsed.as_secs_f64() * 1000.0,
            "request done"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// Answers that axum's own extractors made (a query string or path that does not parse)
/// are plain text; every error of the API is the JSON envelope, so they are rewritten.
pub async fn envelope_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return response;
    }
    let code = match status.as_u16() {
        401 => 20,
        403 => 3,
        404 => 6,
        405 | 413 | 415 => 2,
        400..=499 => 10,
        _ => 4,
    };
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let message = String::from_utf8_lossy(&text).trim().to_owned();
    let mut rewritten = (
        parts.status,
        Json(json!({"statusCode": code, "statusMessage": message})),
    )
        .into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rewritten
}

/// `GET /health`: the process is up and answering.
pub async fn health() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// `GET /ready`: the storage answers (and so its migrations ran: gird listens only after).
pub async fn ready(State(store): State<Arc<dyn Store>>) -> Response {
    match tokio::time::timeout(READY_TIMEOUT, store.contact_center_ids()).await {
        Ok(Ok(_)) => Json(json!({"status": "ready"})).into_response(),
        Ok(Err(error)) => not_ready(error.to_string()),
        Err(_) => not_ready(format!(
            "the storage did not answer within {} s",
            READY_TIMEOUT.as_secs()
        )),
    }
}

fn not_ready(error: String) -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "unavailable", "error": error})),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// `GET /metrics` (ops auth): the Prometheus text format; the outbox is counted now.
pub async fn metrics(State(app): State<crate::state::AppState>) -> Response {
    let counted = tokio::time::timeout(READY_TIMEOUT, app.store.outbox_status(None)).await;
    if let Ok(Ok(status)) = counted {
        // Each delivery in exactly one state: `queued` is those waiting for a first attempt.
        for (state, count) in [
            ("queued", status.queued.saturating_sub(status.retrying)),
            ("retrying", status.retrying),
            ("in_flight", status.in_flight),
            ("failed", status.failed),
            ("delivered", status.delivered),
        ] {
            metrics::gauge!("gird_outbox_deliveries", "state" => state).set(count as f64);
        }
        let age = status
            .oldest_pending_ms
            .map_or(0.0, |queued| (now_millis() - queued).max(0) as f64 / 1000.0);
        metrics::gauge!("gird_outbox_oldest_pending_seconds").set(age);
    }
    let mut response = prometheus().render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Ends a request that takes longer than `limit` (a slow client's body included) with
/// 503/4; the client may retry, as every gird write is safe to repeat.
pub async fn limit_time(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => crate::error::ApiError::TooSlow(format!(
            "the request took longer than {} s",
            limit.as_secs()
        ))
        .into_response(),
    }
}

const OPENAPI: &str = include_str!("../openapi.yaml");

/// The OpenAPI document of every endpoint, as JSON.
pub fn openapi_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let document: serde_json::Value =
            serde_yaml::from_str(OPENAPI).expect("openapi.yaml is valid YAML");
        document.to_string()
    })
}

/// `GET /openapi.json`.
pub async fn openapi() -> Response {
    let mut response = openapi_json().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_names_every_route() {
        let document: serde_json::Value = serde_json::from_str(openapi_json()).unwrap();
        let paths = document["paths"].as_object().unwrap();
        for route in [
            "/internal-api/contact-centers/{id}/recordings",
            "/api/v2/ops/contact-centers",
            "/api/v2/ops/contact-centers/{id}",
            "/api/v2/ops/contact-centers/{id}/features",
            "/api/v2/ops/contact-centers/{id}/features/{name}",
            "/api/v2/ops/contact-centers/{id}/storage",
            "/api/v2/ops/contact-centers/{id}/storage/s3",
            "/api/v2/ops/contact-centers/{id}/outbound",
            "/api/v2/ops/contact-centers/{id}/decryption-keys",
            "/api/v2/ops/contact-centers/{id}/decryption-keys/{alias}",
            "/api/v2/ops/contact-centers/{id}/settings/screen-recording-encryption",
            "/api/v2/ops/contact-centers/{id}/users",
            "/api/v2/ops/contact-centers/{id}/users/{name}",
            "/api/v2/ops/contact-centers/{id}/recordings/{recording}/access",
            "/api/v2/ops/contact-centers/{id}/speechminer",
            "/api/v2/ops/contact-centers/{id}/speechminer/outbox",
            "/api/v2/ops/contact-centers/{id}/speechminer/repost",
            "/api/v2/ops/contact-centers/{id}/speechminer/deliveries/{recording}",
            "/api/v2/ops/speechminer/outbox",
            "/api/v2/ops/contact-centers/{id}/recordings",
            "/api/v2/ops/contact-centers/{id}/recordings/{recording}",
            "/api/v2/ops/contact-centers/{id}/recordings/{recording}/play/{file}",
            "/api/v2/recordings",
            "/api/v2/recordings/{recording}",
            "/api/v2/recordings/{recording}/play/{file}",
            "/api/v2/diagnostics/version",
            "/api/v2/me",
            "/metrics",
            "/health",
            "/ready",
            "/ui/session",
            "/openapi.json",
        ] {
            assert!(paths.contains_key(route), "{route} is not documented");
        }
        assert_eq!(paths.len(), 32, "a documented path the list above misses");
    }
}
