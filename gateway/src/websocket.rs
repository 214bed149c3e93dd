//! WebSocket APIs: the caller's upgrade request goes through every phase like any call
//! (route, authenticate, policies, validate, upstream request); then [`proxy`] sends it to
//! the backend on a connection of its own, answers the caller with the backend's `101`, and
//! pipes bytes both ways until either side closes or nothing moves for the API's idle
//! timeout. The bytes each way are logged when the socket ends (`gantry::access`,
//! `websocket closed`). Upgrades are HTTP/1.1 only (no RFC 8441 over HTTP/2).

use crate::body::{self, Body};
use crate::compiled::HttpBackend;
use crate::context::RequestContext;
use crate::listener::Counted;
use crate::upstream::Upstream;
use crate::GatewayError;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Version};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// Whether a request asks for a WebSocket: an HTTP/1.1 `GET` with `Upgrade: websocket` and
/// `Connection: upgrade`.
pub fn is_upgrade(method: &Method, version: Version, headers: &HeaderMap) -> bool {
    let has_token = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    method == Method::GET
        && version == Version::HTTP_11
        && has_token(header::UPGRADE, "websocket")
        && has_token(header::CONNECTION, "upgrade")
}

/// Puts back the two hop-by-hop headers an upgrade needs (the upstream request phase strips
/// every hop-by-hop header).
pub fn upgrade_headers(headers: &mut HeaderMap) {
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
}

/// Phase 7 for a WebSocket API: the backend's answer to the upgrade; on `101`, the pipe
/// between `caller` and the backend runs on its own task.
pub async fn proxy(
    ctx: &mut RequestContext,
    upstream: &Upstream,
    backend: &HttpBackend,
    request: Request<Body>,
    caller: OnUpgrade,
    idle: Duration,
) -> Result<Response<Body>, GatewayError> {
    // One target, picked as for any request (the upgrade is not retried: its connection is
    // the WebSocket's).
    let settings = upstream.settings();
    let Some(peer) = backend.targets.pick(settings.balance, &[]) else {
        return Err(GatewayError::NoHealthyUpstream("no target of the backend is healthy; try again shortly".into()));
    };
    let mut request = request;
    if backend.targets.len() > 1 && request.headers().get(header::HOST) == Some(&backend.origin.host_header) {
        request.headers_mut().insert(header::HOST, peer.origin.host_header.clone());
    }
    let deadline = std::time::Instant::now() + backend.timeout();
    let call = upstream.upgrade(peer.dest(), request, deadline);
    let mut response = crate::phases::proxy::call_backend(ctx, backend, &peer.origin.key, call).await?;
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        // The backend refused the upgrade: the caller gets its answer as it is.
        let (mut parts, incoming) = response.into_parts();
        crate::phases::upstream_request::strip_hop_by_hop(&mut parts.headers);
        return Ok(Response::from_parts(parts, body::stream(incoming)));
    }
    let backend_side = hyper::upgrade::on(&mut response);
    let mut answer = Response::new(body::empty());
    *answer.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    *answer.headers_mut() = std::mem::take(response.headers_mut());
    upgrade_headers(answer.headers_mut());
    let label =
        Pipe { request_id: ctx.request_id.as_str().to_owned(), api: ctx.api.as_ref().map(|a| a.name.to_string()) };
    tokio::spawn(async move {
        let (caller, backend) = match tokio::try_join!(caller, backend_side) {
            Ok(pair) => pair,
            Err(error) => {
                tracing::debug!(%error, "a WebSocket upgrade did not complete");
                return;
            }
        };
        label.run(TokioIo::new(caller), TokioIo::new(backend), idle).await;
    });
    Ok(answer)
}

struct Pipe {
    request_id: String,
    api: Option<String>,
}

impl Pipe {
    async fn run<A, B>(self, caller: A, backend: B, idle: Duration)
    where
        A: AsyncRead + AsyncWrite + Unpin,
        B: AsyncRead + AsyncWrite + Unpin,
    {
        // tokio's clock: paused in tests.
        let started = tokio::time::Instant::now();
        let (from_caller, from_backend) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let mut caller = Counted::new(caller, from_caller.clone());
        let mut backend = Counted::new(backend, from_backend.clone());
        let copy = tokio::io::copy_bidirectional(&mut caller, &mut backend);
        tokio::pin!(copy);
        // Idle: the byte counts have not moved for `idle` (seen within a quarter of it).
        let check = (idle / 4).max(Duration::from_millis(50));
        let (mut seen, mut quiet_since) = (0, started);
        let ending = loop {
            tokio::select! {
                outcome = &mut copy => break match outcome {
                    Ok(_) => "closed",
                    Err(_) => "broken",
                },
                () = tokio::time::sleep(check) => {
                    let moved = from_caller.load(Ordering::Relaxed) + from_backend.load(Ordering::Relaxed);
                    if moved != seen {
                        (seen, quiet_since) = (moved, tokio::time::Instant::now());
                    } else if quiet_since.elapsed() >= idle {
                        break "idle";
                    }
                }
            }
        };
        tracing::info!(
            target: "gantry::access",
            request_id = %self.request_id,
            api = self.api.as_deref().unwrap_or("-"),
            bytes_in = from_caller.load(Ordering::Relaxed),
            bytes_out = from_backend.load(Ordering::Relaxed),
            seconds = started.elapsed().as_secs_f64(),
            ending,
            "websocket closed"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn an_upgrade_needs_get_http11_and_both_headers() {
        let good = headers(&[("upgrade", "WebSocket"), ("connection", "keep-alive, Upgrade")]);
        assert!(is_upgrade(&Method::GET, Version::HTTP_11, &good));
        assert!(!is_upgrade(&Method::POST, Version::HTTP_11, &good));
        assert!(!is_upgrade(&Method::GET, Version::HTTP_2, &good));
        assert!(!is_upgrade(&Method::GET, Version::HTTP_11, &headers(&[("upgrade", "websocket")])));
        assert!(!is_upgrade(
            &Method::GET,
            Version::HTTP_11,
            &headers(&[("upgrade", "h2c"), ("connection", "upgrade")])
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_pipe_closes_after_its_idle_time_and_a_busy_one_stays() {
        let (caller, mut caller_far) = tokio::io::duplex(1024);
        let (backend, mut backend_far) = tokio::io::duplex(1024);
        let pipe = Pipe { request_id: "r".into(), api: None };
        let run = tokio::spawn(pipe.run(caller, backend, Duration::from_secs(10)));
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut buf = [0u8; 5];
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_secs(6)).await;
            caller_far.write_all(b"hello").await.expect("write");
            backend_far.read_exact(&mut buf).await.expect("piped");
            assert_eq!(&buf, b"hello");
        }
        assert!(!run.is_finished(), "busy every 6 s: still open after 18 s");
        tokio::time::sleep(Duration::from_secs(12)).await;
        tokio::task::yield_now().await;
        assert!(run.is_finished(), "quiet for 12 s with a 10 s idle timeout: closed");
    }
}
