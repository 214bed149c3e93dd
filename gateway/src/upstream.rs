//! The backend connection pools: keep-alive HTTP/1.1 connections per target, over plain TCP
//! or rustls, spoken by [`crate::h1`] on the request's own task (WebSocket upgrades use
//! hyper's connection-level client, `hyper::client::conn::http1`, for its upgrade support).
//!
//! Each target has its own [`Pool`] (held by its [`crate::balancer::Peer`]). A connection
//! goes back to its pool's idle list when the response body has been read to its end (or at
//! once for a body-less response); a body dropped half-read closes the connection. Checkout
//! takes the most recently used idle connection (warm in the backend's caches too), drops
//! closed ones and those idle past [`IDLE_TIMEOUT`], and a request that a reused connection
//! closed under before any answer (see [`crate::h1::SendError::unsent`]) is retried once on
//! a new connection. A target has at most
//! `max_conns` connections open (like nginx's `max_conns`): past it, a request waits for one
//! to come back or close, until the API's deadline, then fails as `Busy`.
//!
//! Why not `hyper_util`'s pooled `Client`: profiled under load (`bench/README.md`), its
//! checkout, per-request `Uri` handling and the task it spawns to return each connection
//! cost about an eighth of the gateway's user-space instructions per request. Why not
//! hyper's connection-level client either: each connection's task, and the channel every
//! request and response crossed to reach it (issue 27).

use crate::body::{self, Body};
use crate::config::UpstreamSettings;
use crate::h1::{self, Stream};
use domain::BackendAddress;
use http::{Request, Response, Uri};
use hyper::body::Incoming;
use hyper::client::conn::http1 as hyper_h1;
use hyper_util::rt::TokioIo;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::either::Either;

/// An idle connection older than this is closed rather than reused.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Idle connections kept per target; more are closed when they come back.
pub const MAX_IDLE_PER_ORIGIN: usize = 256;

/// The client for backends: TLS roots, the SSRF guard and the settings; the connections
/// themselves live in each target's [`Pool`]. Cheap to clone.
#[derive(Clone)]
pub struct Upstream {
    inner: Arc<Inner>,
}

struct Inner {
    /// Which client this is: a target's pool is shared, but a connection goes back only to
    /// the client that opened it (its TLS roots, its guard).
    id: u64,
    tls: tokio_rustls::TlsConnector,
    /// Address ranges backends may not be (the SSRF guard; off when empty).
    guard: crate::guard::AddressGuard,
    /// Idle connections this old are closed rather than reused ([`IDLE_TIMEOUT`]).
    idle_timeout: Duration,
    settings: UpstreamSettings,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream").field("settings", &self.inner.settings).finish()
    }
}

/// One target's connections: the idle ones (most recent last) and the limit on open ones.
/// Every open connection holds a permit of the limit's semaphore, so a burst of callers
/// opens at most the limit's connections; the rest wait for one to come back or close.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<Vec<Idle>>,
    /// The limit, fixed at the first connection ([`Pool::limit`]).
    limit: OnceLock<(Arc<Semaphore>, usize)>,
    /// Woken when a connection comes back idle.
    returned: Notify,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (open, idle) = self.counts();
        f.debug_struct("Pool").field("open", &open).field("idle", &idle).finish()
    }
}

impl Pool {
    fn limit(&self, max: usize) -> &Arc<Semaphore> {
        &self.limit.get_or_init(|| (Arc::new(Semaphore::new(max.max(1))), max.max(1))).0
    }

    /// Connections open (in use or idle) and idle.
    pub fn counts(&self) -> (usize, usize) {
        let idle = self.idle.lock().map(|list| list.len()).unwrap_or(0);
        let open = self.limit.get().map_or(0, |(semaphore, max)| max - semaphore.available_permits());
        (open, idle)
    }

    fn checkin(&self, connection: Connection) {
        if let Ok(mut list) = self.idle.lock() {
            if list.len() < MAX_IDLE_PER_ORIGIN {
                list.push(Idle { connection, since: Instant::now() });
            }
        }
        self.returned.notify_one();
    }
}

/// An open connection, the client that opened it, and its place under the target's limit.
struct Connection {
    conn: h1::Conn,
    owner: u64,
    permit: OwnedSemaphorePermit,
}

/// A connection's way back to its pool, held by the response body that reads it.
struct CheckIn {
    pool: Arc<Pool>,
    owner: u64,
    permit: OwnedSemaphorePermit,
}

impl h1::Reuse<Stream> for CheckIn {
    fn reuse(self, conn: h1::Conn) {
        let CheckIn { pool, owner, permit } = self;
        pool.checkin(Connection { conn, owner, permit });
    }
}

/// For a connection of its own (the health check): closed after its one response.
struct Discard;

impl h1::Reuse<Stream> for Discard {
    fn reuse(self, _: h1::Conn) {}
}

struct Idle {
    connection: Connection,
    since: Instant,
}

/// Where one attempt goes: a target's address, its pool and its own connection limit.
#[derive(Clone, Copy)]
pub struct Dest<'a> {
    /// The target.
    pub address: &'a BackendAddress,
    /// The address to connect to, when discovered from the target's host name.
    pub connect_to: Option<std::net::SocketAddr>,
    /// Its connections.
    pub pool: &'a Arc<Pool>,
    /// Its own limit; the settings' `max_conns` when `None`.
    pub max_conns: Option<u32>,
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

/// A failed attempt, and whether the request was not sent (so it may go to another target).
#[derive(Debug)]
pub struct Failed {
    /// What failed.
    pub error: UpstreamError,
    /// The request was never sent: the caller's (lent to [`Upstream::send_as`]) is as it
    /// was, body and all.
    pub unsent: bool,
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
    /// The caller's request body failed while it was being sent (a bad chunk, a caller that
    /// went away mid-body): the caller's fault, a 400, and no mark against the target.
    CallerBody,
    /// No answer within the API's timeout.
    Timeout,
    /// The target stayed at its connection limit for the whole of the API's timeout.
    Busy,
}

impl UpstreamFailure {
    /// What a caller reads in the 502.
    pub fn public_message(self) -> &'static str {
        match self {
            UpstreamFailure::Connect => "the backend could not be reached (connection failed)",
            UpstreamFailure::Tls => "the TLS handshake with the backend failed",
            UpstreamFailure::Protocol => "the backend closed the connection or sent an invalid response",
            UpstreamFailure::CallerBody => "the request's body is malformed or ended early",
            UpstreamFailure::Timeout => "the backend did not answer in time",
            UpstreamFailure::Busy => "the backend is at its connection limit; try again shortly",
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
    /// A client whose HTTPS connections trust `tls`'s roots, with the default settings.
    pub fn new(tls: rustls::ClientConfig) -> Upstream {
        Upstream::with(tls, crate::guard::AddressGuard::default(), UpstreamSettings::default())
    }

    /// A client that refuses backends in `guard`'s ranges (see [`crate::guard`]), with
    /// `settings`.
    pub fn with(tls: rustls::ClientConfig, guard: crate::guard::AddressGuard, settings: UpstreamSettings) -> Upstream {
        static CLIENTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Upstream {
            inner: Arc::new(Inner {
                id: CLIENTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                guard,
                tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
                idle_timeout: IDLE_TIMEOUT,
                settings,
            }),
        }
    }

    /// The same client with another idle timeout (tests: zero makes every idle connection
    /// expired, without waiting).
    #[cfg(test)]
    fn with_idle_timeout(tls: rustls::ClientConfig, idle_timeout: Duration) -> Upstream {
        let client = Upstream::new(tls);
        let inner = Inner {
            id: client.inner.id,
            tls: client.inner.tls.clone(),
            guard: client.inner.guard.clone(),
            idle_timeout,
            settings: client.inner.settings.clone(),
        };
        Upstream { inner: Arc::new(inner) }
    }

    /// The settings it was made with.
    pub fn settings(&self) -> &UpstreamSettings {
        &self.inner.settings
    }

    /// Sends `request` (absolute URI; sent in origin form) to `to` on a pooled connection,
    /// answering by `deadline`; the response body streams, and its end returns the
    /// connection. A request refused by a reused connection before it was sent goes once
    /// more on a new one; one that was never sent is marked [`Failed::unsent`].
    pub async fn send(
        &self,
        to: Dest<'_>,
        mut request: Request<Body>,
        deadline: Instant,
    ) -> Result<Response<Body>, Failed> {
        Ok(self.send_as(to, &mut request, deadline, h1::Exchange::PLAIN).await?.0)
    }

    /// [`Upstream::send`] with `exchange`'s fields added to the request head, the response's
    /// fields handed over in its form. The request is lent ([`h1::Conn::send_as`]): its body
    /// is spent once sending starts; unsent, it is as it was.
    pub async fn send_as(
        &self,
        to: Dest<'_>,
        request: &mut Request<Body>,
        deadline: Instant,
        exchange: h1::Exchange<'_>,
    ) -> Result<h1::Answer, Failed> {
        // The URI stays absolute: only its path and query are written (`crate::h1`).
        match self.acquire(to, deadline).await {
            Ok((connection, reused)) => self.send_on(connection, reused, to, request, deadline, exchange).await,
            Err(error) => Err(Failed { error, unsent: true }),
        }
    }

    /// Sends on `connection`; when it was `reused` and closed before any answer to a
    /// request the backend cannot have seen, once more on a new connection.
    async fn send_on(
        &self,
        connection: Connection,
        mut reused: bool,
        to: Dest<'_>,
        request: &mut Request<Body>,
        deadline: Instant,
        exchange: h1::Exchange<'_>,
    ) -> Result<h1::Answer, Failed> {
        let Connection { mut conn, owner, permit } = connection;
        let mut back = CheckIn { pool: to.pool.clone(), owner, permit };
        loop {
            // Boxed: moved once to the heap rather than twice more through the futures of
            // every phase above (it is the largest part of them). The connection's own timer
            // holds the deadline (`h1::Exchange::deadline`).
            let exchange = h1::Exchange { deadline: Some(deadline.into()), ..exchange };
            let sent = Box::pin(conn.send_as(request, reused, back, exchange)).await;
            match sent {
                Err(h1::SendError { timed_out: true, .. }) => {
                    let error = UpstreamError::new(UpstreamFailure::Timeout, "no response head by the API's timeout");
                    return Err(Failed { error, unsent: false });
                }
                Ok(response) => return Ok(response),
                // Closed under us, unseen: once more on a new connection, under the same permit.
                Err(h1::SendError { unsent: Some(kept), .. }) if reused => {
                    back = kept;
                    conn = match Box::pin(self.connect(to, deadline)).await {
                        Ok(conn) => conn,
                        Err(error) => return Err(Failed { error, unsent: true }),
                    };
                    reused = false;
                }
                Err(failure) => {
                    let kind = if failure.caller { UpstreamFailure::CallerBody } else { UpstreamFailure::Protocol };
                    let error = UpstreamError::new(kind, failure.detail);
                    return Err(Failed { error, unsent: failure.unsent.is_some() });
                }
            }
        }
    }

    /// An idle connection, or a new one under the target's limit; at the limit, waits for
    /// one to come back or close, until `deadline` (then `Busy`).
    async fn acquire(&self, to: Dest<'_>, deadline: Instant) -> Result<(Connection, bool), UpstreamError> {
        let max = to.max_conns.map_or(self.inner.settings.max_conns, |m| m as usize);
        let limit = to.pool.limit(max).clone();
        loop {
            if let Some(connection) = self.checkout(to.pool) {
                return Ok((connection, true));
            }
            let permit = match limit.clone().try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => {
                    let waiting = async {
                        tokio::select! {
                            permit = limit.clone().acquire_owned() => permit.ok(),
                            () = to.pool.returned.notified() => None,
                        }
                    };
                    match Box::pin(tokio::time::timeout_at(deadline.into(), waiting)).await {
                        Err(_) => {
                            let detail = format!("all {max} connections stayed busy until the API's timeout");
                            return Err(UpstreamError::new(UpstreamFailure::Busy, detail));
                        }
                        Ok(Some(permit)) => permit,
                        Ok(None) => continue,
                    }
                }
            };
            // Boxed, here and for the other waits off the usual path (a new connection, a
            // full pool): the connect and TLS futures are kilobytes, and every request's
            // future would carry (and move) them otherwise.
            let conn = Box::pin(self.connect(to, deadline)).await?;
            return Ok((Connection { conn, owner: self.inner.id, permit }, false));
        }
    }

    /// The most recently used idle connection of this client that is still open.
    fn checkout(&self, pool: &Pool) -> Option<Connection> {
        loop {
            let idle = {
                let mut list = pool.idle.lock().ok()?;
                let mine = list.iter().rposition(|idle| idle.connection.owner == self.inner.id)?;
                list.remove(mine)
            };
            let mut connection = idle.connection;
            if idle.since.elapsed() < self.inner.idle_timeout && connection.conn.is_open() {
                return Some(connection);
            }
        }
    }

    /// Sends a WebSocket upgrade request on a new connection of its own (never pooled: after
    /// a `101` it carries the WebSocket, and it does not count against the target's
    /// connection limit). The response's body is not read; on `101`,
    /// `hyper::upgrade::on(response)` gives the backend's side of the socket.
    pub async fn upgrade(
        &self,
        to: Dest<'_>,
        request: Request<Body>,
        deadline: Instant,
    ) -> Result<Response<Incoming>, UpstreamError> {
        let (mut parts, body) = request.into_parts();
        if let Some(path) = parts.uri.path_and_query().cloned() {
            parts.uri = Uri::from(path);
        }
        let stream = self.open(to, deadline).await?;
        let (mut sender, connection) = hyper_h1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| UpstreamError::new(UpstreamFailure::Protocol, describe(&e)))?;
        tokio::spawn(async move {
            if let Err(error) = connection.with_upgrades().await {
                tracing::debug!(%error, "backend WebSocket connection ended with an error");
            }
        });
        match tokio::time::timeout_at(deadline.into(), sender.send_request(Request::from_parts(parts, body))).await {
            Err(_) => Err(UpstreamError::new(UpstreamFailure::Timeout, "no response head by the API's timeout")),
            Ok(answer) => answer.map_err(|e| UpstreamError::new(UpstreamFailure::Protocol, describe(&e))),
        }
    }

    /// `GET path` on a connection of its own (the active health check): the status, or why
    /// there is none, by `deadline`.
    pub async fn probe(&self, to: Dest<'_>, path: &str, deadline: Instant) -> Result<u16, UpstreamError> {
        let address = to.address;
        let conn = self.connect(to, deadline).await?;
        let mut request = Request::new(body::full(""));
        *request.uri_mut() =
            Uri::try_from(path).map_err(|e| UpstreamError::new(UpstreamFailure::Protocol, e.to_string()))?;
        let host = http::HeaderValue::from_str(&address.authority())
            .map_err(|e| UpstreamError::new(UpstreamFailure::Protocol, e.to_string()))?;
        request.headers_mut().insert(http::header::HOST, host);
        request.headers_mut().insert(http::header::USER_AGENT, http::HeaderValue::from_static("gantry-health-check"));
        match tokio::time::timeout_at(deadline.into(), conn.send(request, false, Discard)).await {
            Err(_) => Err(UpstreamError::new(UpstreamFailure::Timeout, "no answer in time")),
            Ok(Err(failure)) => Err(UpstreamError::new(UpstreamFailure::Protocol, failure.detail)),
            Ok(Ok(response)) => Ok(response.status().as_u16()),
        }
    }

    async fn connect(&self, to: Dest<'_>, deadline: Instant) -> Result<h1::Conn, UpstreamError> {
        Ok(h1::Conn::new(self.open(to, deadline).await?))
    }

    /// A new connection to the backend: TCP (through the SSRF guard when on), then TLS for
    /// an `https://` backend; the connect gets the settings' connect timeout, and nothing
    /// past `deadline`.
    async fn open(&self, to: Dest<'_>, deadline: Instant) -> Result<Stream, UpstreamError> {
        let address = to.address;
        let port = address.effective_port();
        let host = address.host();
        let connecting = async {
            if let Some(ip) = to.connect_to {
                // A discovered address: checked itself, since no name is resolved here.
                if let Some(range) = self.inner.guard.blocks(ip.ip()) {
                    let reason = format!("{ip} is in the blocked range {range}");
                    return Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, reason));
                }
                TcpStream::connect(ip).await
            } else if self.inner.guard.is_on() {
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
        let allowed = self.inner.settings.connect_timeout;
        let until = deadline.min(Instant::now() + allowed);
        let tcp = tokio::time::timeout_at(until.into(), connecting)
            .await
            .map_err(|_| UpstreamError::new(UpstreamFailure::Connect, "connect timed out"))?
            .map_err(|e| UpstreamError::new(UpstreamFailure::Connect, format!("connect: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let stream: Stream = if address.is_tls() {
            let name = rustls::pki_types::ServerName::try_from(host.to_owned())
                .map_err(|e| UpstreamError::new(UpstreamFailure::Tls, format!("TLS server name `{host}`: {e}")))?;
            let handshake = self.inner.tls.connect(name, tcp);
            let tls = tokio::time::timeout_at(deadline.into(), handshake)
                .await
                .map_err(|_| UpstreamError::new(UpstreamFailure::Tls, "TLS handshake timed out"))?
                .map_err(|e| UpstreamError::new(UpstreamFailure::Tls, format!("TLS: {e}")))?;
            Either::Right(Box::new(tls))
        } else {
            Either::Left(tcp)
        };
        Ok(stream)
    }
}

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

    /// A target: its address and a pool of its own.
    struct Target {
        address: BackendAddress,
        pool: Arc<Pool>,
        max_conns: Option<u32>,
    }

    impl Target {
        fn at(address: &str) -> Target {
            Target { address: BackendAddress::parse(address).expect("address"), pool: Arc::default(), max_conns: None }
        }

        fn dest(&self) -> Dest<'_> {
            Dest { address: &self.address, connect_to: None, pool: &self.pool, max_conns: self.max_conns }
        }
    }

    fn get(target: &Target) -> Request<Body> {
        let mut request = Request::new(body::full(""));
        *request.uri_mut() = format!("{}/", target.address).parse().expect("uri");
        request.headers_mut().insert(http::header::HOST, target.address.authority().parse().expect("host"));
        request
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    fn tls() -> rustls::ClientConfig {
        tls_config(None).expect("tls")
    }

    async fn read_all(response: Response<Body>) -> bytes::Bytes {
        response.into_body().collect().await.expect("body").to_bytes()
    }

    #[tokio::test]
    async fn a_body_read_to_its_end_returns_the_connection_and_the_next_request_reuses_it() {
        let (address, accepted) = counting_backend().await;
        let (pool, backend) = (Upstream::new(tls()), Target::at(&address));
        for _ in 0..3 {
            let response = pool.send(backend.dest(), get(&backend), soon()).await.expect("answered");
            assert_eq!(read_all(response).await, "ok");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "one connection for three requests");
    }

    #[tokio::test]
    async fn a_connection_goes_back_only_to_the_client_that_opened_it() {
        // Two clients (say, with other TLS roots) calling one target: its pool is shared,
        // its connections are not.
        let (address, accepted) = counting_backend().await;
        let backend = Target::at(&address);
        let (one, two) = (Upstream::new(tls()), Upstream::new(tls()));
        for client in [&one, &two, &one, &two] {
            let response = client.send(backend.dest(), get(&backend), soon()).await.expect("answered");
            assert_eq!(read_all(response).await, "ok");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "one connection per client, each reused");
    }

    #[tokio::test]
    async fn a_body_dropped_half_read_closes_its_connection() {
        let (address, accepted) = counting_backend().await;
        let (pool, backend) = (Upstream::new(tls()), Target::at(&address));
        drop(pool.send(backend.dest(), get(&backend), soon()).await.expect("answered"));
        let response = pool.send(backend.dest(), get(&backend), soon()).await.expect("answered");
        assert_eq!(read_all(response).await, "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "the unread connection was not reused");
    }

    #[tokio::test]
    async fn an_idle_connection_past_the_idle_timeout_is_not_reused() {
        let (address, accepted) = counting_backend().await;
        let (pool, backend) = (Upstream::with_idle_timeout(tls(), Duration::ZERO), Target::at(&address));
        for _ in 0..2 {
            let response = pool.send(backend.dest(), get(&backend), soon()).await.expect("answered");
            assert_eq!(read_all(response).await, "ok");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "every idle connection had expired");
    }

    #[tokio::test]
    async fn a_request_a_reused_connection_refused_goes_once_more_on_a_new_one() {
        let (address, accepted) = counting_backend().await;
        let (pool, backend) = (Upstream::new(tls()), Target::at(&address));
        // A pooled connection whose other end has closed it (a backend's idle timeout): the
        // request gets no answer on it, and was never seen.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let stale = TcpStream::connect(listener.local_addr().expect("addr")).await.expect("connect");
        drop(listener.accept().await.expect("accept"));
        let permit = backend.pool.limit(4).clone().try_acquire_owned().expect("permit");
        let dead = Connection { conn: h1::Conn::new(Either::Left(stale)), owner: pool.inner.id, permit };
        let (response, _) = pool
            .send_on(dead, true, backend.dest(), &mut get(&backend), soon(), h1::Exchange::PLAIN)
            .await
            .expect("retried");
        assert_eq!(read_all(response).await, "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "sent once, on a new connection");
    }

    #[tokio::test]
    async fn a_new_connection_that_fails_is_not_retried() {
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let (pool, backend) = (Upstream::new(tls()), Target::at(&format!("http://127.0.0.1:{port}")));
        let error = pool.send(backend.dest(), get(&backend), soon()).await.expect_err("refused");
        assert_eq!(error.error.kind, UpstreamFailure::Connect, "{}", error.error);
        assert!(error.unsent, "a request never sent is marked so");
    }
}
