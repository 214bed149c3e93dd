//! The backend connection pool: keep-alive HTTP/1.1 connections per origin, over plain TCP or
//! rustls, on hyper's connection-level client (`hyper::client::conn::http1`).
//!
//! A connection goes back to its origin's idle list when the response body has been read to
//! its end (or at once for a body-less response); a body dropped half-read closes the
//! connection. Checkout takes the most recently used idle connection (warm in the backend's
//! caches too), drops closed ones and those idle past [`IDLE_TIMEOUT`], and a request that a
//! reused connection refused before sending it is retried once on a new connection.
//!
//! Why not `hyper_util`'s pooled `Client`: profiled under load (`bench/README.md`), its
//! checkout, per-request `Uri` handling and the task it spawns to return each connection
//! cost about an eighth of the gateway's user-space instructions per request.

use crate::body::{self, Body, BoxError};
use crate::compiled::HttpBackend;
use bytes::Bytes;
use http::{Request, Response, Uri};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustc_hash::FxHashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_util::either::Either;

/// An idle connection older than this is closed rather than reused.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Idle connections kept per origin; more are closed when they come back.
pub const MAX_IDLE_PER_ORIGIN: usize = 256;
/// Time allowed for the TCP connect (the API's timeout bounds the whole call too).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Pooled connections to backends; cheap to clone (one shared pool).
#[derive(Clone)]
pub struct Upstream {
    inner: Arc<Inner>,
}

struct Inner {
    tls: tokio_rustls::TlsConnector,
    /// Address ranges backends may not be (the SSRF guard; off when empty).
    guard: crate::guard::AddressGuard,
    /// Keyed by configured origins only, so a fast non-keyed hash is safe here.
    idle: Mutex<FxHashMap<Arc<str>, Vec<Idle>>>,
    /// Idle connections this old are closed rather than reused ([`IDLE_TIMEOUT`]).
    idle_timeout: Duration,
}

struct Idle {
    sender: SendRequest<Body>,
    since: Instant,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let idle: usize = self.inner.idle.lock().map(|m| m.values().map(Vec::len).sum()).unwrap_or(0);
        f.debug_struct("Upstream").field("idle", &idle).finish()
    }
}

/// Why a backend call failed: the kind, which a caller is told, and the detail (the backend's
/// address is not in it, but OS and TLS error texts are), which only the access log and the
/// Debug API trace show.
#[derive(Debug)]
pub struct UpstreamError {
    /// What failed.
    pub kind: UpstreamFailure,
    /// The underlying error's text.
    pub detail: String,
}

/// The kinds of backend failure a caller may learn about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamFailure {
    /// The TCP connection could not be made (refused, unreachable, timed out).
    Connect,
    /// The TLS handshake failed.
    Tls,
    /// The connection broke, or the backend's answer was not valid HTTP/1.1.
    Protocol,
}

impl UpstreamFailure {
    /// What a caller reads in the 502.
    pub fn public_message(self) -> &'static str {
        match self {
            UpstreamFailure::Connect => "the backend could not be reached (connection failed)",
            UpstreamFailure::Tls => "the TLS handshake with the backend failed",
            UpstreamFailure::Protocol => "the backend closed the connection or sent an invalid response",
        }
    }
}

impl UpstreamError {
    fn new(kind: UpstreamFailure, detail: impl Into<String>) -> UpstreamError {
        UpstreamError { kind, detail: detail.into() }
    }
}

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.public_message(), self.detail)
    }
}

fn describe(error: &dyn std::error::Error) -> String {
    match error.source() {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

impl Upstream {
    /// A pool whose HTTPS connections trust `tls`'s roots.
    pub fn new(tls: rustls::ClientConfig) -> Upstream {
        Upstream::guarded(tls, crate::guard::AddressGuard::default())
    }

    /// A client that refuses backends in `guard`'s ranges (see [`crate::guard`]).
    pub fn guarded(tls: rustls::ClientConfig, guard: crate::guard::AddressGuard) -> Upstream {
        Upstream {
            inner: Arc::new(Inner {
                guard,
                tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
                idle: Mutex::new(FxHashMap::default()),
                idle_timeout: IDLE_TIMEOUT,
            }),
        }
    }

    /// The same pool with another idle timeout (tests: zero makes every idle connection
    /// expired, without waiting).
    #[cfg(test)]
    fn with_idle_timeout(tls: rustls::ClientConfig, idle_timeout: Duration) -> Upstream {
        let pool = Upstream::new(tls);
        let inner = Inner {
            tls: pool.inner.tls.clone(),
            guard: pool.inner.guard.clone(),
            idle: Mutex::new(FxHashMap::default()),
            idle_timeout,
        };
        Upstream { inner: Arc::new(inner) }
    }

    /// Sends `request` (absolute URI; sent in origin form) to `backend` on a pooled
    /// connection; the response body streams, and its end returns the connection.
    pub async fn send(&self, backend: &HttpBackend, request: Request<Body>) -> Result<Response<Body>, UpstreamError> {
        let (mut parts, body) = request.into_parts();
        if let Some(path) = parts.uri.path_and_query().cloned() {
            parts.uri = Uri::from(path);
        }
        let request = Request::from_parts(parts, body);
        let reused = self.checkout(&backend.origin.key).await;
        self.send_on(reused, backend, request).await
    }

    /// Sends on `reused` (a pooled connection) or a new one; a request the reused connection
    /// refused before sending it goes once more on a new connection.
    async fn send_on(
        &self,
        mut reused: Option<SendRequest<Body>>,
        backend: &HttpBackend,
        mut request: Request<Body>,
    ) -> Result<Response<Body>, UpstreamError> {
        loop {
            let fresh = reused.is_none();
            let mut sender = match reused.take() {
                Some(sender) => sender,
                None => self.connect(backend).await?,
            };
            match sender.try_send_request(request).await {
                Ok(response) => return Ok(self.respond(response, sender, &backend.origin.key)),
                Err(mut error) => match error.take_message() {
                    // Not sent: the pooled connection closed under us; once more on a new one.
                    Some(unsent) if !fresh => request = unsent,
                    _ => return Err(UpstreamError::new(UpstreamFailure::Protocol, describe(error.error()))),
                },
            }
        }
    }

    /// The most recently used idle connection to `origin` that is still open and ready.
    async fn checkout(&self, origin: &Arc<str>) -> Option<SendRequest<Body>> {
        loop {
            let idle = {
                let mut map = self.inner.idle.lock().ok()?;
                map.get_mut(origin)?.pop()?
            };
            if idle.since.elapsed() >= self.inner.idle_timeout || idle.sender.is_closed() {
                continue;
            }
            let mut sender = idle.sender;
            // Ready at once unless the connection is still finishing the previous response.
            if sender.ready().await.is_ok() {
                return Some(sender);
            }
        }
    }

    fn checkin(&self, origin: &Arc<str>, sender: SendRequest<Body>) {
        if sender.is_closed() {
            return;
        }
        let Ok(mut map) = self.inner.idle.lock() else { return };
        let list = match map.get_mut(origin) {
            Some(list) => list,
            None => map.entry(origin.clone()).or_default(),
        };
        if list.len() < MAX_IDLE_PER_ORIGIN {
            list.push(Idle { sender, since: Instant::now() });
        }
    }

    /// Sends a WebSocket upgrade request on a new connection of its own (never pooled: after
    /// a `101` it carries the WebSocket). The response's body is not read; on `101`,
    /// `hyper::upgrade::on(response)` gives the backend's side of the socket.
    pub async fn upgrade(
        &self,
        backend: &HttpBackend,
        request: Request<Body>,
    ) -> Result<Response<Incoming>, UpstreamError> {
        let (mut parts, body) = request.into_parts();
        if let Some(path) = parts.uri.path_and_query().cloned() {
            parts.uri = Uri::from(path);
        }
        let stream = self.open(backend).await?;
        let (mut sender, connection) = http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| UpstreamError::new(UpstreamFailure::Protocol, describe(&e)))?;
        tokio::spawn(async move {
            if let Err(error) = connection.with_upgrades().await {
                tracing::debug!(%error, "backend WebSocket connection ended with an error");
            }
        });
        sender
            .send_request(Request::from_parts(parts, body))
            .await
            .map_err(|e| UpstreamError::new(UpstreamFailure::Protocol, describe(&e)))
    }

    async fn connect(&self, backend: &HttpBackend) -> Result<SendRequest<Body>, UpstreamError> {
        let stream = self.open(backend).await?;
        let (sender, connection) = http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| UpstreamError::new(UpstreamFailure::Protocol, describe(&e)))?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "backend connection ended with an error");
            }
        });
        Ok(sender)
    }

    /// A new connection to the backend: TCP (through the SSRF guard when on), then TLS for
    /// an `https://` backend.
    async fn open(&self, backend: &HttpBackend) -> Result<Stream, UpstreamError> {
        let address = &backend.address;
        let port = address.effective_port();
        let host = address.host();
        let connecting = async {
            if self.inner.guard.is_on() {
                // Resolve once, check every address, connect only to those checked.
                let addresses = self
                    .inner
                    .guard
                    .resolve(host, port)
                    .await
                    .map_err(|reason| std::io::Error::new(std::io::ErrorKind::PermissionDenied, reason))?;
                TcpStream::connect(&addresses[..]).await
            } else {
                TcpStream::connect((host, port)).await
            }
        };
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
            .await
            .map_err(|_| {
                UpstreamError::new(
                    UpstreamFailure::Connect,
                    format!("connect timed out after {} s", CONNECT_TIMEOUT.as_secs()),
                )
            })?
            .map_err(|e| UpstreamError::new(UpstreamFailure::Connect, format!("connect: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let stream: Stream = if address.is_tls() {
            let name = rustls::pki_types::ServerName::try_from(host.to_owned())
                .map_err(|e| UpstreamError::new(UpstreamFailure::Tls, format!("TLS server name `{host}`: {e}")))?;
            let tls = self
                .inner
                .tls
                .connect(name, tcp)
                .await
                .map_err(|e| UpstreamError::new(UpstreamFailure::Tls, format!("TLS: {e}")))?;
            Either::Right(Box::new(tls))
        } else {
            Either::Left(tcp)
        };
        Ok(stream)
    }

    fn respond(&self, response: Response<Incoming>, sender: SendRequest<Body>, origin: &Arc<str>) -> Response<Body> {
        let (parts, incoming) = response.into_parts();
        let body = if hyper::body::Body::is_end_stream(&incoming) {
            self.checkin(origin, sender);
            body::stream(incoming)
        } else {
            let back = Some(CheckIn { pool: self.clone(), origin: origin.clone(), sender });
            http_body_util::BodyExt::boxed(PooledBody { incoming, back })
        };
        Response::from_parts(parts, body)
    }
}

/// The connection a response body came on, returned to the pool when the body ends.
struct CheckIn {
    pool: Upstream,
    origin: Arc<str>,
    sender: SendRequest<Body>,
}

/// A backend's response body that gives its connection back once read to the end.
struct PooledBody {
    incoming: Incoming,
    back: Option<CheckIn>,
}

impl PooledBody {
    fn give_back(&mut self) {
        if let Some(CheckIn { pool, origin, sender }) = self.back.take() {
            pool.checkin(&origin, sender);
        }
    }
}

impl hyper::body::Body for PooledBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.incoming).poll_frame(cx) {
            Poll::Ready(None) => {
                this.give_back();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(error))) => {
                this.back = None;
                Poll::Ready(Some(Err(Box::new(error))))
            }
            Poll::Ready(Some(Ok(frame))) => {
                if this.incoming.is_end_stream() {
                    this.give_back();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}

/// A backend connection: plain TCP or TLS.
type Stream = Either<TcpStream, Box<tokio_rustls::client::TlsStream<TcpStream>>>;

/// The TLS settings for HTTPS backends: the system's roots plus the extra CA file.
pub fn tls_config(extra_ca: Option<&std::path::Path>) -> std::io::Result<rustls::ClientConfig> {
    let invalid = |message: String| std::io::Error::new(std::io::ErrorKind::InvalidData, message);
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = extra_ca {
        let pem = std::fs::read(path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("upstream CA file {}: {e}", path.display())))?;
        let mut added = 0;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            roots.add(cert?).map_err(|e| invalid(format!("upstream CA file {}: {e}", path.display())))?;
            added += 1;
        }
        if added == 0 {
            return Err(invalid(format!("upstream CA file {} holds no PEM certificate", path.display())));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(e.to_string()))
        .map(|builder| builder.with_root_certificates(roots).with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiled::{Backend, CompiledApi, Target};
    use http_body_util::BodyExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A backend that answers every request on a connection with `ok` (keep-alive) and
    /// counts the connections it accepted.
    async fn counting_backend() -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("addr"));
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut pending = Vec::new();
                    let mut buf = [0u8; 1024];
                    loop {
                        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                            pending.drain(..end + 4);
                            let answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                            if stream.write_all(answer.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&buf[..n]),
                        }
                    }
                });
            }
        });
        (address, accepted)
    }

    fn backend(address: &str) -> Box<HttpBackend> {
        let spec: domain::api::ApiSpec = serde_json::from_value(serde_json::json!({
            "name": "p", "request": {"method": "GET", "path": "/p"}, "backend": {"http": {"path": "/"}}
        }))
        .expect("spec");
        let target = Target::Http(domain::BackendAddress::parse(address).expect("address"));
        match CompiledApi::compile(1, &spec.validate().expect("valid"), target).expect("compile").backend {
            Backend::Http(backend) => backend,
            _ => panic!("an HTTP backend"),
        }
    }

    fn get(backend: &HttpBackend) -> Request<Body> {
        let mut request = Request::new(body::full(""));
        *request.uri_mut() = format!("http://{}/", backend.origin.uri_authority).parse().expect("uri");
        request.headers_mut().insert(http::header::HOST, backend.origin.host_header.clone());
        request
    }

    fn tls() -> rustls::ClientConfig {
        tls_config(None).expect("tls")
    }

    async fn read_all(response: Response<Body>) -> Bytes {
        response.into_body().collect().await.expect("body").to_bytes()
    }

    #[tokio::test]
    async fn a_body_read_to_its_end_returns_the_connection_and_the_next_request_reuses_it() {
        let (address, accepted) = counting_backend().await;
        let (pool, backend) = (Upstream::new(tls()), backend(&address));
        for _ in 0..3 {
            let response = pool.send(&backend, get(&backend)).await.expect("answered");
            assert_eq!(read_all(response).await, "ok");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "one connection for three requests");
    }

    #[tokio::test]
    async fn a_body_dropped_half_read_closes_its_connection() {
        let (address, accepted) = counting_backend().await;
        let (pool, backend) = (Upstream::new(tls()), backend(&address));
        drop(pool.send(&backend, get(&backend)).await.expect("answered"));
        let response = pool.send(&backend, get(&backend)).await.expect("answered");
        assert_eq!(read_all(response).await, "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "the unread connection was not reused");
    }

    #[tokio::test]
    async fn an_idle_connection_past_the_idle_timeout_is_not_reused() {
        let (address, accepted) = counting_backend().await;
        let (pool, backend) = (Upstream::with_idle_timeout(tls(), Duration::ZERO), backend(&address));
        for _ in 0..2 {
            let response = pool.send(&backend, get(&backend)).await.expect("answered");
            assert_eq!(read_all(response).await, "ok");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "every idle connection had expired");
    }

    #[tokio::test]
    async fn a_request_a_reused_connection_refused_goes_once_more_on_a_new_one() {
        let (address, accepted) = counting_backend().await;
        let (pool, backend) = (Upstream::new(tls()), backend(&address));
        // A pooled connection whose other end is gone: its task has ended, so the request is
        // handed back unsent.
        let (ours, theirs) = tokio::io::duplex(64);
        let (sender, connection) = http1::Builder::new().handshake(TokioIo::new(ours)).await.expect("handshake");
        let task = tokio::spawn(connection);
        drop(theirs);
        let _ = task.await;
        let response = pool.send_on(Some(sender), &backend, get(&backend)).await.expect("retried");
        assert_eq!(read_all(response).await, "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "sent once, on a new connection");
    }

    #[tokio::test]
    async fn a_new_connection_that_fails_is_not_retried() {
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let (pool, backend) = (Upstream::new(tls()), backend(&format!("http://127.0.0.1:{port}")));
        let error = pool.send(&backend, get(&backend)).await.expect_err("refused");
        assert_eq!(error.kind, UpstreamFailure::Connect, "{error}");
    }
}
