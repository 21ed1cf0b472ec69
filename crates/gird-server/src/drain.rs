//! Reading what a handler left of a request body before answering.
//!
//! An early answer (401, 404, 413, 415, ...) leaves request bytes unread; the server then
//! closes the connection with data in its receive buffer, the kernel sends a reset, and
//! the client may lose the answer and see only a network error. So the rest of the body
//! is read and discarded first, up to a bound in size and time.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;

/// Beyond this many unread bytes the connection is closed instead.
const MAX_DRAIN_BYTES: usize = 16 * 1024 * 1024;
const MAX_DRAIN_TIME: Duration = Duration::from_secs(5);

type Slot = Arc<Mutex<Option<Body>>>;

/// A request body the middleware can take back after the handler dropped it.
struct SharedBody(Slot);

impl HttpBody for SharedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let Ok(mut slot) = self.0.lock() else {
            return Poll::Ready(None);
        };
        match slot.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }
}

pub async fn drain_unread_body(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let slot: Slot = Arc::new(Mutex::new(Some(body)));
    let response = next
        .run(Request::from_parts(
            parts,
            Body::new(SharedBody(Arc::clone(&slot))),
        ))
        .await;
    let rest = slot.lock().ok().and_then(|mut slot| slot.take());
    if let Some(rest) = rest.filter(|body| !body.is_end_stream()) {
        let _ = tokio::time::timeout(MAX_DRAIN_TIME, discard(rest)).await;
    }
    response
}

async fn discard(mut body: Body) {
    let mut seen = 0usize;
    while let Some(Ok(frame)) = body.frame().await {
        seen += frame.data_ref().map_or(0, Bytes::len);
        if seen > MAX_DRAIN_BYTES {
            return;
        }
    }
}
