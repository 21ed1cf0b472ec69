//! The baseline: an axum server that accepts an insert and does nothing with it.
//! It runs in its own process on the same kind of runtime as gird, so the two
//! measurements differ only in what happens inside the handler.

use std::io::Write;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::serve::ListenerExt;
use axum::Router;

pub const READY_PREFIX: &str = "noop: listening on ";

pub fn run(listen: SocketAddr) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(listen))
}

async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    let app = Router::new().route(
        "/internal-api/contact-centers/{contact_center}/recordings",
        post(accept_insert),
    );
    println!("{READY_PREFIX}http://{address}");
    std::io::stdout().flush()?;
    let listener = listener.tap_io(|stream| {
        // Nagle would only add latency to small answers; the baseline should be the best case.
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}

/// Taking `Bytes` makes axum read the whole body, as gird must.
async fn accept_insert(_body: Bytes) -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], r#"{"statusCode":0}"#)
}
