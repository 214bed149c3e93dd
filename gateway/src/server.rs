//! The gateway listener: accepts connections, runs the phases for each request, and on
//! shutdown stops accepting and lets requests in flight finish.

use crate::phases::{self, RequestContext};
use crate::snapshot::SnapshotHandle;
use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long shutdown waits for requests in flight before it gives up on them.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves the gateway on `listener` until `shutdown` resolves, then drains connections.
pub async fn serve(
    listener: TcpListener,
    snapshots: SnapshotHandle,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _peer) = match accepted {
                    Ok(pair) => pair,
                    Err(error) => {
                        tracing::warn!(%error, "gateway accept failed");
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let snapshots = snapshots.clone();
                let service = service_fn(move |request| {
                    let snapshots = snapshots.clone();
                    async move { Ok::<_, Infallible>(handle(request, &snapshots)) }
                });
                let connection = graceful.watch(
                    http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service),
                );
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "gateway connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await.is_err() {
        tracing::warn!("gateway shutdown: connections still open after {DRAIN_TIMEOUT:?}");
    }
    Ok(())
}

/// Runs the phases for one request.
fn handle(request: Request<Incoming>, snapshots: &SnapshotHandle) -> Response<Full<Bytes>> {
    let snapshot = snapshots.current();
    let mut ctx = RequestContext::new(request.method().clone(), request.uri().path(), request.headers());
    let outcome =
        phases::resolve(&mut ctx, &snapshot, request.headers()).and_then(|deployment| phases::route(&ctx, &deployment));
    let mut response = match outcome {
        Ok(api) => match api {},
        Err(error) => error.into_response(&ctx.request_id),
    };
    if let Ok(id) = HeaderValue::from_str(&ctx.request_id) {
        response.headers_mut().insert("x-ca-request-id", id);
    }
    phases::log(&ctx, response.status());
    response
}
