//! Caller connections, for every listener (the gateway's plain and HTTPS ones, the
//! console): the accept loop with its connection cap and accept-error back-off, the TLS
//! handshake and ALPN choice of an HTTPS listener, and the two clocks of an HTTP/1
//! connection.
//!
//! - **TLS**: the handshake must finish within [`Timeouts::head`]; ALPN `h2` gets HTTP/2,
//!   anything else HTTP/1.1.
//!
//! - **Head**: once the first byte of a request head has arrived (or as soon as a new
//!   connection opens), the whole head must arrive within [`Timeouts::head`].
//! - **Idle**: a keep-alive connection may wait for its next request at most
//!   [`Timeouts::idle`] after the previous answer.
//!
//! hyper has one timer for both (its header-read timeout starts when the connection waits
//! for a head), so [`HeadTimer`] gives that timer two deadlines: the idle one while no byte
//! of the next head has been read, the head one from the first byte on. It learns of bytes
//! through [`Counted`], which wraps the socket (under TLS, the count restarts after the
//! handshake, so the first head is on the head clock).
//! - **HTTP/2**: the same head limit applies to each header block; an idle connection is
//!   pinged every [`Timeouts::idle`] and closed when the ping goes unanswered for 20 s
//!   (hyper's HTTP/2 server has no idle timer of its own).

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::rt::{Sleep, Timer};
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The clocks of a caller connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// A request head must arrive complete within this, counted from its first byte (or from
    /// the connection's start, for its first request).
    pub head: Duration,
    /// A keep-alive connection waits this long for its next request, then closes.
    pub idle: Duration,
}

/// How a listener accepts and keeps connections.
#[derive(Debug, Clone, Copy)]
pub struct Listening {
    /// Connections open at once; more wait in the kernel's listen backlog.
    pub max_connections: usize,
    /// Largest request head, in bytes.
    pub max_header_bytes: usize,
    /// The head and idle clocks.
    pub timeouts: Timeouts,
}

/// How long shutdown waits for requests in flight before it gives up on them.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves HTTP/1 on `listener` (or, with `tls`, HTTPS with HTTP/1.1 and HTTP/2 by ALPN)
/// until `shutdown` resolves, then stops accepting and lets the requests in flight finish
/// (for at most 30 s). `service` makes the service for one connection from the caller's
/// address.
pub async fn serve<M, S, B>(
    listener: TcpListener,
    listening: Listening,
    tls: Option<tokio_rustls::TlsAcceptor>,
    service: M,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    M: Fn(SocketAddr) -> S,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    accept(listener, listening, shutdown, move |stream, peer, closing| {
        let (stream, timer) = watch(stream, listening.timeouts);
        let service = service(peer);
        let tls = tls.clone();
        async move {
            let Some(acceptor) = tls else {
                let connection = http1_builder(timer, &listening).serve_connection(TokioIo::new(stream), service);
                let outcome = until_closed(connection.with_upgrades(), &closing, |c| c.graceful_shutdown()).await;
                if let Err(error) = outcome {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            };
            let read = stream.read.clone();
            let Some(stream) = handshake(&acceptor, stream, listening.timeouts.head).await else { return };
            // The head clock starts afresh after the handshake.
            read.store(0, Ordering::Relaxed);
            if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                return serve_hyper_http2(stream, listening, service, closing).await;
            }
            let connection = http1_builder(timer, &listening).serve_connection(TokioIo::new(stream), service);
            if let Err(error) = until_closed(connection.with_upgrades(), &closing, |c| c.graceful_shutdown()).await {
                tracing::debug!(%error, "connection ended with an error");
            }
        }
    })
    .await
}

/// The TLS handshake of a connection to an HTTPS listener, which must finish within `limit`;
/// `None` when it fails or runs out of time (logged at debug level).
pub async fn handshake<IO>(
    acceptor: &tokio_rustls::TlsAcceptor,
    stream: IO,
    limit: Duration,
) -> Option<tokio_rustls::server::TlsStream<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    match tokio::time::timeout(limit, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(error)) => {
            tracing::debug!(%error, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            None
        }
    }
}

/// Serves HTTP/2 by hyper on a connection whose ALPN chose `h2`, until it ends or, after
/// `closing` fires, its streams in flight finish.
pub async fn serve_hyper_http2<I, S, B>(
    io: I,
    listening: Listening,
    service: S,
    closing: tokio_util::sync::CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connection = http2_builder(&listening).serve_connection(TokioIo::new(io), service);
    if let Err(error) = until_closed(connection, &closing, |c| c.graceful_shutdown()).await {
        tracing::debug!(%error, "connection ended with an error");
    }
}

/// Serves HTTP/1.1 by hyper, with upgrades, on a connection another server began
/// (`crate::h1::server` hands over an upgrade request this way, its bytes put back first).
pub async fn serve_hyper_http1<I, S, B>(
    io: I,
    listening: Listening,
    service: S,
    closing: tokio_util::sync::CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connection = http1_builder(TokioTimer::new(), &listening).serve_connection(TokioIo::new(io), service);
    if let Err(error) = until_closed(connection.with_upgrades(), &closing, |c| c.graceful_shutdown()).await {
        tracing::debug!(%error, "connection ended with an error");
    }
}

/// The accept loop every listener shares, until `shutdown` resolves: at most
/// `max_connections` open (more wait in the kernel's backlog), accept errors backed off,
/// each connection served by `connection(stream, peer, closing)` on a task of its own;
/// `closing` fires at shutdown, which then waits for the connections (at most 30 s).
pub async fn accept<C, F>(
    listener: TcpListener,
    listening: Listening,
    shutdown: impl Future<Output = ()>,
    connection: C,
) -> std::io::Result<()>
where
    C: Fn(TcpStream, SocketAddr, tokio_util::sync::CancellationToken) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    // Connections are tracked so shutdown can wait for them; `closing` asks each to finish
    // its request in flight and close.
    let connections = tokio_util::task::TaskTracker::new();
    let closing = tokio_util::sync::CancellationToken::new();
    let mut shutdown = std::pin::pin!(shutdown);
    // Past the cap, new connections wait in the kernel's backlog until one closes.
    let slots = Arc::new(tokio::sync::Semaphore::new(listening.max_connections.max(1)));
    let mut accept_errors = AcceptErrors::default();
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(error) => {
                        accept_errors.back_off(&error).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let serving = connection(stream, peer, closing.clone());
                connections.spawn(async move {
                    serving.await;
                    drop(slot);
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    closing.cancel();
    connections.close();
    if tokio::time::timeout(DRAIN_TIMEOUT, connections.wait()).await.is_err() {
        tracing::warn!("shutdown: connections still open after {DRAIN_TIMEOUT:?}");
    }
    Ok(())
}

/// Runs a connection until it ends; when `closing` fires first, asks it (`drain`) to finish
/// the request in flight and close, and waits for that.
async fn until_closed<C, T>(
    connection: C,
    closing: &tokio_util::sync::CancellationToken,
    drain: impl FnOnce(Pin<&mut C>),
) -> T
where
    C: Future<Output = T>,
{
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        outcome = connection.as_mut() => return outcome,
        () = closing.cancelled() => {}
    }
    drain(connection.as_mut());
    connection.await
}

/// HTTP/1.1; its connections are served with upgrades on (WebSocket APIs). `timer`: the
/// [`HeadTimer`] of a connection hyper serves from its start, a plain one for a connection
/// handed over mid-way (its head clock already ran).
fn http1_builder(timer: impl Timer + Send + Sync + 'static, listening: &Listening) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(timer)
        .header_read_timeout(listening.timeouts.head)
        .keep_alive(true)
        // hyper refuses buffers under 8 KiB.
        .max_buf_size(listening.max_header_bytes.max(8192));
    builder
}

fn http2_builder(listening: &Listening) -> http2::Builder<TokioExecutor> {
    let mut builder = http2::Builder::new(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .max_header_list_size(listening.max_header_bytes.try_into().unwrap_or(u32::MAX))
        .max_concurrent_streams(256)
        .keep_alive_interval(listening.timeouts.idle)
        .keep_alive_timeout(Duration::from_secs(20));
    builder
}

/// Wraps a caller's socket so that its [`HeadTimer`] sees bytes arrive.
pub fn watch(stream: TcpStream, timeouts: Timeouts) -> (Counted<TcpStream>, HeadTimer) {
    let read = Arc::new(AtomicU64::new(0));
    (Counted { inner: stream, read: read.clone() }, HeadTimer { read, timeouts })
}

/// Accept failures: out of file descriptors or memory, the listener backs off instead of
/// spinning on an error that repeats at once, and says so at most once a second.
#[derive(Debug, Default)]
struct AcceptErrors {
    last_warned: Option<Instant>,
    since_warned: u64,
}

impl AcceptErrors {
    async fn back_off(&mut self, error: &std::io::Error) {
        // EMFILE, ENFILE, ENOBUFS, ENOMEM: a shortage that lasts; anything else (a caller
        // that reset before accept) concerns one connection only.
        let shortage = matches!(error.raw_os_error(), Some(23 | 24 | 105 | 12));
        if !shortage {
            tracing::debug!(%error, "accept failed");
            return;
        }
        self.since_warned += 1;
        if self.last_warned.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
            tracing::warn!(%error, times = self.since_warned, "accept failed; backing off");
            self.last_warned = Some(Instant::now());
            self.since_warned = 0;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A socket that counts the bytes read from it.
#[derive(Debug)]
pub struct Counted<T> {
    inner: T,
    read: Arc<AtomicU64>,
}

impl<T> Counted<T> {
    /// Wraps `inner`, adding the bytes read from it to `read`.
    pub fn new(inner: T, read: Arc<AtomicU64>) -> Counted<T> {
        Counted { inner, read }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Counted<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        if read > 0 {
            this.read.fetch_add(read as u64, Ordering::Relaxed);
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Counted<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// hyper's header-read timer for one connection, with an idle deadline until the next
/// head's first byte arrives and the head deadline from then on.
#[derive(Debug, Clone)]
pub struct HeadTimer {
    read: Arc<AtomicU64>,
    timeouts: Timeouts,
}

impl Timer for HeadTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        Box::pin(Clock::Plain(Box::pin(tokio::time::sleep(duration))))
    }

    /// hyper asks for `now + head` each time the connection starts waiting for a head.
    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        let read_so_far = self.read.load(Ordering::Relaxed);
        // A new connection's first head is on the head clock from the start: a caller who
        // opens connections and sends nothing holds each for `head`, not `idle`.
        let fresh = read_so_far == 0;
        let started = deadline.checked_sub(self.timeouts.head).unwrap_or(deadline);
        let first = if fresh { deadline } else { started + self.timeouts.idle };
        Box::pin(Clock::Head(HeadClock {
            read: self.read.clone(),
            read_so_far,
            head_begun: fresh,
            head: self.timeouts.head,
            sleep: Box::pin(tokio::time::sleep_until(first.into())),
        }))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn Sleep>>, new_deadline: Instant) {
        *sleep = self.sleep_until(new_deadline);
    }

    fn now(&self) -> Instant {
        tokio::time::Instant::now().into()
    }
}

enum Clock {
    Plain(Pin<Box<tokio::time::Sleep>>),
    Head(HeadClock),
}

struct HeadClock {
    read: Arc<AtomicU64>,
    read_so_far: u64,
    head_begun: bool,
    head: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Future for Clock {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.get_mut() {
            Clock::Plain(sleep) => sleep.as_mut().poll(cx),
            Clock::Head(clock) => {
                // hyper polls this clock each time a read leaves the head unfinished, so the
                // first byte is seen here as soon as it arrives.
                if !clock.head_begun && clock.read.load(Ordering::Relaxed) != clock.read_so_far {
                    clock.head_begun = true;
                    clock.sleep.as_mut().reset(tokio::time::Instant::now() + clock.head);
                }
                clock.sleep.as_mut().poll(cx)
            }
        }
    }
}

impl Sleep for Clock {}

#[cfg(test)]
mod tests {
    use super::*;

    fn timer(read: u64) -> HeadTimer {
        HeadTimer {
            read: Arc::new(AtomicU64::new(read)),
            timeouts: Timeouts { head: Duration::from_secs(10), idle: Duration::from_secs(60) },
        }
    }

    fn ready(clock: &mut Pin<Box<dyn Sleep>>) -> bool {
        let waker = std::task::Waker::noop();
        clock.as_mut().poll(&mut Context::from_waker(waker)).is_ready()
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_connection_has_the_head_clock() {
        let timer = timer(0);
        let mut clock = timer.sleep_until(timer.now() + Duration::from_secs(10));
        tokio::time::advance(Duration::from_secs(9)).await;
        assert!(!ready(&mut clock));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(ready(&mut clock), "no head 11 s after connecting");
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_keep_alive_connection_has_the_idle_clock_until_a_byte_arrives() {
        let timer = timer(100);
        let mut clock = timer.sleep_until(timer.now() + Duration::from_secs(10));
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(!ready(&mut clock), "idle 30 s is allowed");
        // The next head's first byte: 10 s from now.
        timer.read.fetch_add(5, Ordering::Relaxed);
        assert!(!ready(&mut clock));
        tokio::time::advance(Duration::from_secs(9)).await;
        assert!(!ready(&mut clock));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(ready(&mut clock), "a head unfinished 11 s after its first byte");
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_closes_after_the_idle_time() {
        let timer = timer(100);
        let mut clock = timer.sleep_until(timer.now() + Duration::from_secs(10));
        tokio::time::advance(Duration::from_secs(59)).await;
        assert!(!ready(&mut clock));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(ready(&mut clock));
    }
}
