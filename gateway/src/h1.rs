//! HTTP/1.1 on `httparse`, without hyper's connection tasks: to backends here, and from
//! callers in [`server`].
//!
//! To backends, on the request's own task, in the way of pingora: the request head
//! written in one `write` (with the body when it is one small frame), the response head
//! parsed with `httparse`, and the response body decoded (`Content-Length`, chunked with
//! trailers, or read to the connection's close) as the caller's side reads it.
//!
//! There is no connection task and no channel: a [`Conn`] belongs to whoever holds it: the
//! target's pool while idle, the request while it is sent, and the response body while it
//! streams, which hands it back through [`Reuse`] at the body's end. (hyper's client kept
//! each connection on a task of its own, and every request and response crossed to it and
//! back: the hand-off `bench/results/proxy.md` measured.)
//!
//! What is refused from a backend, as a 502 to the caller: a response head over
//! [`MAX_HEAD_BYTES`] or with more than [`MAX_HEADERS`] headers, folded header lines,
//! differing or invalid `Content-Length`s, chunk sizes that are not hex or overflow, a bare
//! LF after a chunk size, and a `101` nobody asked for. A `Transfer-Encoding` whose last
//! coding is not `chunked` makes the body last until the connection closes (RFC 9112
//! §6.3); with both `Transfer-Encoding` and `Content-Length` the first wins and the
//! connection is not reused. `1xx` answers before the final one are skipped.
//!
//! Limits: the request body is sent whole before the response is read, so a backend that
//! answers early (a 413 before reading the upload) and closes is a 502 when the rest of the
//! body cannot be written. `Expect` is not forwarded: the caller's `100 Continue` comes from
//! the gateway when the body is first read.

use crate::body::{Body, BoxError};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Version};
use http_body_util::BodyExt;
use hyper::body::{Frame, SizeHint};
use std::io::{self, Write as _};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite};

/// A backend connection: plain TCP or TLS.
pub type Stream =
    tokio_util::either::Either<tokio::net::TcpStream, Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>>;

/// The largest response head accepted (hyper's default buffer is about as large).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The most headers a response head may have (hyper's default too).
pub const MAX_HEADERS: usize = 100;
/// Fields whose positions a head parse keeps on the stack; a head with more takes a vector.
pub(crate) const SPANS_ON_STACK: usize = 24;
/// The longest chunk-size line (with extensions).
const MAX_CHUNK_LINE: usize = 4096;
/// The largest trailer section.
const MAX_TRAILER_BYTES: usize = 16 * 1024;
/// A first body frame up to this size goes out in the head's write.
const COALESCE: usize = 16 * 1024;
/// Bytes read at a time.
const READ_SIZE: usize = 16 * 1024;

/// How a response head is handed over with its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadForm {
    /// Every end-to-end field in the response's `HeaderMap`.
    Map,
    /// For a caller that [`server`] serves and nothing reads the fields of: the end-to-end
    /// fields as the lines [`server`] writes ([`RawFields`], handed over beside the
    /// response: [`Answer`]), the map left for the gateway's own fields. A head this cannot describe exactly (a
    /// `Connection` naming fields, `Transfer-Encoding` with `Content-Length`, a length that
    /// is not one number, a `204` with a length, an `X-Ca-*` field the gateway may replace)
    /// is handed over as [`HeadForm::Map`].
    Raw,
}

/// Fields written into a request head ahead of its map's, as `name: value` lines: the
/// gateway's own (`Host`, `X-Forwarded-*`, the request id), which would otherwise cost a
/// map insert each. The caller of [`Conn::send_as`] keeps them valid (static names, values
/// from `HeaderValue`s or hex digits) and out of the map.
pub type Added<'a> = &'a [(&'a str, &'a [u8])];

/// How one request is sent and its answer handed over.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// The response's fields: in its map, or as their lines.
    pub form: HeadForm,
    /// Lines written into the request head ahead of the map's fields.
    pub added: Added<'a>,
    /// When the response head must have come by. The connection keeps one timer for all
    /// its requests, moved only to an earlier deadline (a timer per request costs a timer
    /// wheel insert and removal each).
    pub deadline: Option<tokio::time::Instant>,
}

impl Exchange<'_> {
    /// The response's fields in its map, nothing added to the request, no deadline.
    pub const PLAIN: Exchange<'static> = Exchange { form: HeadForm::Map, added: &[], deadline: None };
}

/// A response, and its end-to-end fields as lines when they were asked for that way
/// ([`HeadForm::Raw`]; its map then holds none of them).
pub type Answer = (Response<Body>, Option<RawFields>);

/// A response's end-to-end fields, kept as the lines they are written as: no `HeaderMap` is
/// built for a response whose fields nobody reads (about 3,000 instructions per proxied
/// request under callgrind, of 30,000).
#[derive(Debug, Clone)]
pub struct RawFields {
    /// `name: value\r\n` lines, names spelled as the backend spelled them.
    pub lines: BytesMut,
    /// The `Content-Length` among them: one valid number.
    pub length: Option<u64>,
    /// Whether a `Date` is among them.
    pub dated: bool,
}

/// Adds the line `name: value` to `lines`.
fn push_line(lines: &mut impl BufMut, name: &[u8], value: &[u8]) {
    lines.put_slice(name);
    lines.put_slice(b": ");
    lines.put_slice(value);
    lines.put_slice(b"\r\n");
}

/// Sets one of the gateway's own fields (`X-Ca-*`) on `response`: a line after a backend's
/// fields when they are kept as lines (a head with lines never holds an `X-Ca-*` field, so
/// nothing is replaced), else in the map, replacing any field of that name.
pub fn set_own_field(response: &mut Response<Body>, raw: Option<&mut RawFields>, name: HeaderName, value: &[u8]) {
    debug_assert!(name.as_str().starts_with("x-ca-"));
    if let Some(raw) = raw {
        debug_assert!(HeaderValue::from_bytes(value).is_ok());
        push_line(&mut raw.lines, name.as_str().as_bytes(), value);
    } else if let Ok(value) = HeaderValue::from_bytes(value) {
        response.headers_mut().insert(name, value);
    }
}

/// Ready once `deadline` has passed, on a timer kept across requests (a connection's): the
/// timer is moved only to an earlier deadline. On a kept connection each request's deadline
/// is later than the last, so the timer set for an earlier one fires early, is found early
/// (`now < deadline`) and is set again: the timer wheel is touched about once per timeout
/// rather than twice per request. Used by both sides ([`Conn`], [`server`]'s clocks).
pub(crate) fn poll_deadline(
    mut clock: Pin<&mut tokio::time::Sleep>,
    deadline: tokio::time::Instant,
    cx: &mut Context<'_>,
) -> Poll<()> {
    if deadline < clock.deadline() {
        clock.as_mut().reset(deadline);
    }
    loop {
        ready!(std::future::Future::poll(clock.as_mut(), cx));
        if tokio::time::Instant::now() >= deadline {
            return Poll::Ready(());
        }
        clock.as_mut().reset(deadline);
    }
}

/// One HTTP/1.1 connection to a backend and its buffers (kept across requests).
pub struct Conn<S = Stream> {
    /// Boxed: a connection moves at each hand-over (out of the pool, into a response body,
    /// back to the pool), eight bytes at a time rather than two hundred.
    p: Box<ConnParts<S>>,
}

/// What a [`Conn`] holds.
struct ConnParts<S> {
    io: S,
    read: BytesMut,
    /// What is to be written of the request in progress.
    write: Vec<u8>,
    /// The request in progress, while any of it is left to write.
    upload: Option<Upload>,
    /// The timer for [`Exchange::deadline`], kept across requests.
    clock: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// Where a connection goes once a response has been read to its end (the target's pool).
pub trait Reuse<S>: Send + Sync + Unpin + 'static {
    /// Takes back `conn`, idle and ready for another request.
    fn reuse(self, conn: Conn<S>);
}

/// Why a request got no response.
pub struct SendError<R> {
    /// What went wrong, for the log and the trace.
    pub detail: String,
    /// The connection's place back, when the backend cannot have seen the request: a reused
    /// connection that was closed before any answer, for a request without a body and with
    /// an idempotent method. The request is then as it was (it had no body to spend) and
    /// may be sent again on a new connection.
    pub unsent: Option<R>,
    /// The request's own body failed (the caller's bytes: a bad chunk, a connection closed
    /// mid-body), not the backend: the caller is told 400 and the target is not blamed.
    pub caller: bool,
    /// The exchange's deadline passed before the response head ([`Exchange::deadline`]).
    pub timed_out: bool,
}

impl<R> std::fmt::Debug for SendError<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendError").field("detail", &self.detail).field("unsent", &self.unsent.is_some()).finish()
    }
}

/// How a message's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    /// Until the connection closes (responses only).
    Close,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static> Conn<S> {
    /// A connection over `io`, just opened.
    pub fn new(io: S) -> Conn<S> {
        Conn { p: Box::new(ConnParts { io, read: BytesMut::new(), write: Vec::new(), upload: None, clock: None }) }
    }

    /// Whether an idle connection is still open: it has not been closed by the backend
    /// and holds no bytes nobody asked for. Never waits.
    pub fn is_open(&mut self) -> bool {
        if !self.p.read.is_empty() {
            return false;
        }
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut probe = [0u8; 1];
        let mut buf = tokio::io::ReadBuf::new(&mut probe);
        // Pending: nothing to read, the usual state of a healthy idle connection. (A TLS
        // session ticket is read and kept by rustls here, and still reads as pending.)
        matches!(Pin::new(&mut self.p.io).poll_read(&mut cx, &mut buf), Poll::Pending)
    }

    /// Sends `request` (its URI's path and query become the request target) and reads the
    /// response head; the body streams as the caller reads it, and gives the connection to
    /// `back` at its end if it may carry another request. `reused`: the connection served
    /// requests before (only such a connection's close may mean "never seen").
    ///
    /// Full duplex, as hyper's client was: the response head is read while the request body
    /// is still being written, and the rest of the request body goes on being written while
    /// the response body is read (a backend that echoes a stream, or answers an upload
    /// early).
    pub async fn send<R: Reuse<S>>(
        self,
        mut request: Request<Body>,
        reused: bool,
        back: R,
    ) -> Result<Response<Body>, SendError<R>> {
        Ok(self.send_as(&mut request, reused, back, Exchange::PLAIN).await?.0)
    }

    /// [`Conn::send`] with `exchange`'s fields added to the request head, the response's
    /// fields handed over in its form. The request is lent, not given: its body is taken
    /// (an empty one left in its place) and the rest stays the caller's, so the phases'
    /// request is not moved down through each future on the way here (about a quarter of
    /// a kilobyte, copied at each step).
    pub async fn send_as<R: Reuse<S>>(
        mut self,
        request: &mut Request<Body>,
        reused: bool,
        back: R,
        exchange: Exchange<'_>,
    ) -> Result<Answer, SendError<R>> {
        let form = exchange.form;
        let empty = hyper::body::Body::is_end_stream(request.body());
        let framing = request_framing(request.method(), request.headers(), request.body());
        let body = if empty { None } else { Some(std::mem::replace(request.body_mut(), crate::body::empty())) };
        let request = &*request;
        self.p.write.clear();
        write_head(&mut self.p.write, request, exchange.added, framing);
        self.p.upload = Some(Upload::new(body, framing));
        let mut answered = false;
        let head = std::future::poll_fn(|cx| {
            if self.p.upload.is_some() {
                match self.poll_upload(cx) {
                    Poll::Ready(Ok(())) => self.p.upload = None,
                    // Nothing of an answer, and nothing but a head sent: the backend may
                    // have closed the connection before it saw the request.
                    Poll::Ready(Err(UploadError::Io(error))) if empty && !answered => {
                        return Poll::Ready(Err(Failure::Closed(format!("writing the request: {error}"))))
                    }
                    Poll::Ready(Err(error @ UploadError::Body(_))) => {
                        return Poll::Ready(Err(Failure::Body(error.to_string())))
                    }
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(Failure::Failed(error.to_string()))),
                    Poll::Pending => {}
                }
            }
            let head = self.poll_head(cx, request.method(), form, &mut answered);
            if head.is_pending() && exchange.deadline.is_some_and(|deadline| self.poll_clock(cx, deadline).is_ready()) {
                return Poll::Ready(Err(Failure::TimedOut));
            }
            head
        })
        .await;
        let head = match head {
            Ok(head) => head,
            Err(Failure::Failed(detail)) => {
                return Err(SendError { detail, unsent: None, caller: false, timed_out: false })
            }
            Err(Failure::Body(detail)) => {
                return Err(SendError { detail, unsent: None, caller: true, timed_out: false })
            }
            Err(Failure::TimedOut) => {
                let detail = "no response head by the deadline".to_string();
                return Err(SendError { detail, unsent: None, caller: false, timed_out: true });
            }
            Err(Failure::Closed(detail)) => {
                let idempotent = matches!(
                    *request.method(),
                    Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE | Method::TRACE
                );
                let unsent = (reused && empty && idempotent).then_some(back);
                return Err(SendError { detail, unsent, caller: false, timed_out: false });
            }
        };
        let ((mut response, raw), framing, keep) = head;
        let decoder = match framing {
            Framing::None | Framing::Length(0) => None,
            Framing::Length(n) => Some(Decoder::Length(n)),
            Framing::Chunked => Some(Decoder::Chunked(Chunk::Size)),
            Framing::Close => Some(Decoder::Close),
        };
        match decoder {
            None => {
                // An upload still going cannot be finished once the answer is whole: the
                // connection closes.
                if keep && self.p.read.is_empty() && self.p.upload.is_none() {
                    back.reuse(self);
                }
                *response.body_mut() = crate::body::empty();
            }
            Some(decoder) => {
                let body = ResponseBody { conn: Some(self), back: Some(back), decoder, keep };
                *response.body_mut() = body.boxed();
            }
        }
        Ok((response, raw))
    }

    /// Ready once `deadline` has passed, on the connection's one timer ([`poll_deadline`]).
    fn poll_clock(&mut self, cx: &mut Context<'_>, deadline: tokio::time::Instant) -> Poll<()> {
        let clock = self.p.clock.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        poll_deadline(clock.as_mut(), deadline, cx)
    }

    /// Writes what there is of the request: the head, and the body's frames as they come,
    /// gathering what is ready into one write (the head and a small body go out together).
    fn poll_upload(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), UploadError>> {
        let Some(upload) = self.p.upload.as_mut() else { return Poll::Ready(Ok(())) };
        loop {
            if upload.state == Sending::Body && upload.big.is_none() && self.p.write.len() - upload.at < COALESCE {
                if let Some(body) = upload.body.as_mut() {
                    match hyper::body::Body::poll_frame(Pin::new(body), cx) {
                        Poll::Ready(Some(Ok(frame))) => {
                            upload.encode(frame, &mut self.p.write)?;
                            continue;
                        }
                        Poll::Ready(Some(Err(error))) => return Poll::Ready(Err(UploadError::Body(error.to_string()))),
                        Poll::Ready(None) => {
                            upload.end(&mut self.p.write)?;
                            continue;
                        }
                        Poll::Pending => {}
                    }
                }
            }
            if upload.at < self.p.write.len() {
                let n = ready!(Pin::new(&mut self.p.io).poll_write(cx, &self.p.write[upload.at..]))
                    .map_err(UploadError::Io)?;
                if n == 0 {
                    return Poll::Ready(Err(UploadError::Io(io::ErrorKind::WriteZero.into())));
                }
                upload.at += n;
                if upload.at == self.p.write.len() {
                    self.p.write.clear();
                    upload.at = 0;
                }
                continue;
            }
            if let Some(data) = upload.big.as_mut() {
                let n = ready!(Pin::new(&mut self.p.io).poll_write(cx, data)).map_err(UploadError::Io)?;
                if n == 0 {
                    return Poll::Ready(Err(UploadError::Io(io::ErrorKind::WriteZero.into())));
                }
                data.advance(n);
                if data.is_empty() {
                    upload.big = None;
                    if upload.framing == Framing::Chunked {
                        self.p.write.extend_from_slice(b"\r\n");
                    }
                }
                continue;
            }
            match upload.state {
                Sending::Body => return Poll::Pending,
                Sending::Flush => {
                    ready!(Pin::new(&mut self.p.io).poll_flush(cx)).map_err(UploadError::Io)?;
                    upload.state = Sending::Done;
                }
                Sending::Done => return Poll::Ready(Ok(())),
            }
        }
    }

    /// Reads until a final response head, skipping `1xx` ones: the response (body not set),
    /// its framing and whether the connection may serve another request after it.
    /// `answered`: some byte of an answer has arrived.
    fn poll_head(
        &mut self,
        cx: &mut Context<'_>,
        method: &Method,
        form: HeadForm,
        answered: &mut bool,
    ) -> Poll<Result<(Answer, Framing, bool), Failure>> {
        loop {
            if !self.p.read.is_empty() {
                *answered = true;
                match parse_head(&mut self.p.read, form) {
                    Err(detail) => return Poll::Ready(Err(Failure::Failed(detail))),
                    Ok(Some(Head { status, version, headers, facts, raw })) => {
                        if status.is_informational() {
                            if status == StatusCode::SWITCHING_PROTOCOLS {
                                let detail = "the backend switched protocols unasked (101)".to_string();
                                return Poll::Ready(Err(Failure::Failed(detail)));
                            }
                            continue;
                        }
                        let (framing, keep) = match response_framing(method, status, version, &facts) {
                            Ok(framing) => framing,
                            Err(detail) => return Poll::Ready(Err(Failure::Failed(detail))),
                        };
                        let mut response = Response::new(crate::body::empty());
                        *response.status_mut() = status;
                        *response.version_mut() = version;
                        *response.headers_mut() = headers;
                        return Poll::Ready(Ok(((response, raw), framing, keep)));
                    }
                    Ok(None) if self.p.read.len() >= MAX_HEAD_BYTES => {
                        let detail = format!("the response head is over {} KiB", MAX_HEAD_BYTES / 1024);
                        return Poll::Ready(Err(Failure::Failed(detail)));
                    }
                    Ok(None) => {}
                }
            }
            let failure = match ready!(self.poll_fill(cx)) {
                Ok(0) if !*answered => Failure::Closed("the backend closed the connection before answering".into()),
                Ok(0) => Failure::Failed("the backend closed the connection in the response head".into()),
                Ok(_) => continue,
                Err(e) if !*answered && e.kind() == io::ErrorKind::ConnectionReset => {
                    Failure::Closed(format!("reading the response: {e}"))
                }
                Err(e) => Failure::Failed(format!("reading the response: {e}")),
            };
            return Poll::Ready(Err(failure));
        }
    }

    /// Reads what the connection has into the read buffer: the bytes read (0 at its end).
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.p.read.capacity() - self.p.read.len() < 1024 {
            self.p.read.reserve(READ_SIZE);
        }
        tokio_util::io::poll_read_buf(Pin::new(&mut self.p.io), cx, &mut self.p.read)
    }
}

/// The request being written: its body, how it is framed, and how far it has gone.
struct Upload {
    body: Option<Body>,
    framing: Framing,
    sent: u64,
    /// How much of the connection's write buffer has been written.
    at: usize,
    /// A large data frame, written from its own bytes after the buffer.
    big: Option<Bytes>,
    state: Sending,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sending {
    Body,
    Flush,
    Done,
}

/// Why a request could not be written.
enum UploadError {
    Io(io::Error),
    Body(String),
    Framing(&'static str),
}

impl std::fmt::Display for UploadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UploadError::Io(error) => write!(f, "writing the request: {error}"),
            UploadError::Body(error) => write!(f, "the request body failed: {error}"),
            UploadError::Framing(what) => f.write_str(what),
        }
    }
}

impl Upload {
    /// A request whose head is in the write buffer, and `body` (none when empty) to follow.
    fn new(body: Option<Body>, framing: Framing) -> Upload {
        let state = if body.is_some() { Sending::Body } else { Sending::Flush };
        Upload { body, framing, sent: 0, at: 0, big: None, state }
    }

    /// Adds a body frame to `out` (or, when large, keeps it to be written from its own bytes).
    fn encode(&mut self, frame: Frame<Bytes>, out: &mut Vec<u8>) -> Result<(), UploadError> {
        match frame.into_data() {
            Ok(data) => {
                self.sent += data.len() as u64;
                if let Framing::Length(length) = self.framing {
                    if self.sent > length {
                        return Err(UploadError::Framing("the request body is longer than its Content-Length"));
                    }
                }
                if data.is_empty() {
                    return Ok(());
                }
                let chunked = self.framing == Framing::Chunked;
                if chunked {
                    let _ = write!(out, "{:x}\r\n", data.len());
                }
                if data.len() <= COALESCE {
                    out.extend_from_slice(&data);
                    if chunked {
                        out.extend_from_slice(b"\r\n");
                    }
                } else {
                    self.big = Some(data);
                }
            }
            Err(frame) => {
                if let (Ok(trailers), Framing::Chunked) = (frame.into_trailers(), self.framing) {
                    out.extend_from_slice(b"0\r\n");
                    write_fields(out, &trailers);
                    out.extend_from_slice(b"\r\n");
                    // Trailers end the body.
                    self.state = Sending::Flush;
                    self.body = None;
                }
            }
        }
        Ok(())
    }

    /// The body has ended.
    fn end(&mut self, out: &mut Vec<u8>) -> Result<(), UploadError> {
        self.state = Sending::Flush;
        self.body = None;
        if let Framing::Length(length) = self.framing {
            if self.sent != length {
                return Err(UploadError::Framing("the request body is shorter than its Content-Length"));
            }
        }
        if self.framing == Framing::Chunked {
            out.extend_from_slice(b"0\r\n\r\n");
        }
        Ok(())
    }
}

/// A failed request: `Closed` when the connection was found closed before any byte of an
/// answer (maybe before the backend saw anything), `Failed` otherwise.
enum Failure {
    Closed(String),
    Failed(String),
    /// The request body (from the caller) failed.
    Body(String),
    /// No response head by the exchange's deadline.
    TimedOut,
}

/// The request's framing: a body of known length gets `Content-Length`, a streamed one is
/// chunked; no body gets `Content-Length: 0` only when the caller sent one or the method
/// usually has a body.
fn request_framing(method: &Method, headers: &HeaderMap, body: &Body) -> Framing {
    if hyper::body::Body::is_end_stream(body) {
        let expects_body = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
        return if expects_body || headers.contains_key(header::CONTENT_LENGTH) {
            Framing::Length(0)
        } else {
            Framing::None
        };
    }
    match hyper::body::Body::size_hint(body).exact() {
        Some(length) => Framing::Length(length),
        None => Framing::Chunked,
    }
}

/// The request line, the `added` lines, the map's fields, and the framing's own field in
/// place of the caller's.
fn write_head(out: &mut Vec<u8>, request: &Request<Body>, added: Added<'_>, framing: Framing) {
    out.extend_from_slice(request.method().as_str().as_bytes());
    out.push(b' ');
    match request.uri().path_and_query().map(|p| p.as_str()) {
        Some(target) if !target.is_empty() => out.extend_from_slice(target.as_bytes()),
        _ => out.push(b'/'),
    }
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in added {
        push_line(out, name.as_bytes(), value);
    }
    for (name, value) in request.headers() {
        if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING || name == header::EXPECT {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    match framing {
        Framing::Length(length) => {
            let _ = write!(out, "content-length: {length}\r\n");
        }
        Framing::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        Framing::None | Framing::Close => {}
    }
    out.extend_from_slice(b"\r\n");
}

/// Header lines (trailers).
fn write_fields(out: &mut Vec<u8>, fields: &HeaderMap) {
    for (name, value) in fields {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// Whether `name` describes one connection and is never forwarded (RFC 9110 §7.6.1):
/// [`Field::of`]'s list, matched by length first (comparing `HeaderName`s one by one costs
/// more).
pub fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(Field::of(name.as_str().as_bytes()), Field::Connection | Field::TransferEncoding | Field::HopByHop)
}

/// Which kinds of field a caller's head holds, noted by the parse that read it
/// ([`server`]) so the phases skip looking for, or removing, fields that are not
/// there. A request from hyper is not looked through: [`Present::ANY`], every lookup made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Present(u8);

impl Present {
    /// Nothing known: every kind may be there.
    pub const ANY: Present = Present(u8::MAX);
    /// None of the kinds below (a head of `Host`, `Accept`, `User-Agent` … only).
    pub const NONE: Present = Present(0);
    const OWN: u8 = 1;
    const AUTHORIZATION: u8 = 2;
    const HOP_BY_HOP: u8 = 4;
    const FORWARDED: u8 = 8;

    /// Notes a field named `name`.
    pub fn note(&mut self, name: &HeaderName) {
        let text = name.as_str();
        self.0 |= if text.starts_with("x-ca-") || text.starts_with("x-gantry-") {
            Present::OWN
        } else if text.starts_with("x-forwarded-") {
            Present::FORWARDED
        } else if *name == http::header::AUTHORIZATION {
            Present::AUTHORIZATION
        } else if is_hop_by_hop(name) {
            Present::HOP_BY_HOP
        } else {
            0
        };
    }

    /// Maybe a field of the gateway's own names: `X-Ca-*` (stage, signature, key, request
    /// id) or `X-Gantry-*` (the Debug API's token).
    pub fn own(self) -> bool {
        self.0 & Present::OWN != 0
    }

    /// Maybe `Authorization`.
    pub fn authorization(self) -> bool {
        self.0 & Present::AUTHORIZATION != 0
    }

    /// Maybe a hop-by-hop field ([`is_hop_by_hop`]).
    pub fn hop_by_hop(self) -> bool {
        self.0 & Present::HOP_BY_HOP != 0
    }

    /// Maybe an `X-Forwarded-*` field.
    pub fn forwarded(self) -> bool {
        self.0 & Present::FORWARDED != 0
    }
}

/// Removes hop-by-hop headers, including those the `Connection` header names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // One pass over the names finds the hop-by-hop ones present (most messages carry none,
    // or only `Connection: keep-alive`), so absent ones cost no hash lookup.
    let mut present: Vec<HeaderName> = headers.keys().filter(|name| is_hop_by_hop(name)).cloned().collect();
    if present.is_empty() {
        return;
    }
    for value in headers.get_all(header::CONNECTION) {
        for token in value.to_str().unwrap_or("").split(',').map(str::trim) {
            // `close` and `keep-alive` are the usual options, not header names to remove.
            if token.is_empty() || token.eq_ignore_ascii_case("close") || token.eq_ignore_ascii_case("keep-alive") {
                continue;
            }
            if let Ok(name) = HeaderName::from_bytes(token.as_bytes()) {
                present.push(name);
            }
        }
    }
    for name in present {
        headers.remove(name);
    }
}

/// A response head from the front of `buf`, taken off it; `None` until it is whole. Header
/// values share the head's bytes (no copy).
///
/// What the head says about its framing and its connection (`Connection`, `Content-Length`,
/// `Transfer-Encoding`) is gathered in the same pass ([`HeadFacts`]), and hop-by-hop fields
/// (RFC 9110 §7.6.1: `Connection`, those it names, `Transfer-Encoding`, `Keep-Alive`, …) never
/// enter the map: they describe this connection, and the gateway would strip them anyway.
struct Head {
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    facts: HeadFacts,
    /// The end-to-end fields as lines ([`HeadForm::Raw`]); `headers` is then empty.
    raw: Option<RawFields>,
}

/// What a response head says about how its body is delimited and whether its connection
/// may be reused, as [`response_framing`] reads it.
#[derive(Debug, Default)]
struct HeadFacts {
    /// `close` / `keep-alive` tokens of `Connection`, applied in order (HTTP/1.1 keeps by
    /// default, HTTP/1.0 closes).
    keep: bool,
    /// A `Transfer-Encoding` was sent; and whether its last coding is `chunked`.
    coded: bool,
    chunked: bool,
    /// `Content-Length`, when one was sent: its value when every one agrees, or why not.
    length: Option<Result<u64, &'static str>>,
}

impl HeadFacts {
    /// A `Connection` value: `close` and `keep-alive` applied in order; each other token
    /// (a field name to leave out, or empty) goes to `other`.
    fn connection<'a>(&mut self, value: &'a [u8], version: Version, mut other: impl FnMut(&'a [u8])) {
        for token in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
            if token.eq_ignore_ascii_case(b"close") {
                self.keep = false;
            } else if token.eq_ignore_ascii_case(b"keep-alive") {
                self.keep |= version == Version::HTTP_10;
            } else {
                other(token);
            }
        }
    }

    /// A `Content-Length` value (a list of them too): the length when every one agrees,
    /// or why not.
    fn lengths(&mut self, value: &[u8]) {
        for part in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
            self.length = Some(match (self.length, parse_decimal(part)) {
                (Some(Err(why)), _) => Err(why),
                (_, None) => Err("invalid Content-Length in the response"),
                (Some(Ok(known)), Some(parsed)) if known != parsed => Err("differing Content-Lengths in the response"),
                (_, Some(parsed)) => Ok(parsed),
            });
        }
    }

    /// A `Transfer-Encoding` value: the body is coded, chunked when its last coding is.
    fn codings(&mut self, value: &[u8]) {
        self.coded = true;
        for coding in value.split(|&b| b == b',').map(<[u8]>::trim_ascii).filter(|c| !c.is_empty()) {
            self.chunked = coding.eq_ignore_ascii_case(b"chunked");
        }
    }
}

fn parse_head(buf: &mut BytesMut, form: HeadForm) -> Result<Option<Head>, String> {
    // Neither array is zeroed first: 6 KiB of memset per response was 8 % of the gateway's
    // instructions under callgrind.
    let mut fields = [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    // Where each name and value lies in the head, so they can point into its bytes: on the
    // stack for the usual head (a vector past `SPANS_ON_STACK` fields), and only that much
    // zeroed.
    let mut stack = [(0u32, 0u32, 0u32, 0u32); SPANS_ON_STACK];
    let mut heap = Vec::new();
    let (length, code, minor, count) = {
        let mut response = httparse::Response::new(&mut []);
        let config = httparse::ParserConfig::default();
        let length = match config.parse_response_with_uninit_headers(&mut response, buf, &mut fields) {
            Ok(httparse::Status::Complete(length)) => length,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(format!("the response has more than {MAX_HEADERS} headers"))
            }
            Err(error) => return Err(format!("invalid response head: {error}")),
        };
        // Every offset is within the head: below 4 GiB, they fit in `u32`.
        if u32::try_from(length).is_err() {
            return Err("the response head is too large".into());
        }
        let start = buf.as_ptr() as usize;
        let spans = match response.headers.len() {
            n if n <= SPANS_ON_STACK => &mut stack[..n],
            n => {
                heap.resize(n, (0, 0, 0, 0));
                &mut heap[..]
            }
        };
        for (span, field) in spans.iter_mut().zip(response.headers.iter()) {
            let name = (field.name.as_ptr() as usize - start) as u32;
            let value = (field.value.as_ptr() as usize - start) as u32;
            *span = (name, name + field.name.len() as u32, value, value + field.value.len() as u32);
        }
        (length, response.code.unwrap_or(0), response.version.unwrap_or(1), response.headers.len())
    };
    let spans = if count <= SPANS_ON_STACK { &stack[..count] } else { &heap[..] };
    let head = buf.split_to(length).freeze();
    let status = StatusCode::from_u16(code).map_err(|_| format!("invalid response status {code}"))?;
    let version = if minor == 0 { Version::HTTP_10 } else { Version::HTTP_11 };
    if form == HeadForm::Raw {
        if let Some((raw, facts)) = raw_fields(&head, spans, status, version) {
            return Ok(Some(Head { status, version, headers: HeaderMap::new(), facts, raw: Some(raw) }));
        }
    }
    // Room for the gateway's own response headers (`X-Ca-Request-Id`, `X-Ca-Version`) up
    // front; `Connection`, sent by most backends, is not kept and leaves one more.
    let mut headers = HeaderMap::with_capacity(count + 1);
    let mut facts = HeadFacts { keep: version == Version::HTTP_11, ..HeadFacts::default() };
    // Header names `Connection` lists (other than `close` and `keep-alive`): rare, removed after.
    let mut named: Vec<HeaderName> = Vec::new();
    for &(name_start, name_end, value_start, value_end) in spans {
        let name = HeaderName::from_bytes(&head[name_start as usize..name_end as usize])
            .map_err(|_| "invalid response header name".to_string())?;
        let bytes = &head[value_start as usize..value_end as usize];
        match name {
            header::CONNECTION => {
                facts.connection(bytes, version, |token| named.extend(HeaderName::from_bytes(token).ok()));
                continue;
            }
            header::TRANSFER_ENCODING => {
                facts.codings(bytes);
                continue;
            }
            header::CONTENT_LENGTH => facts.lengths(bytes),
            _ if is_hop_by_hop(&name) => continue,
            _ => {}
        }
        let value = HeaderValue::from_maybe_shared(head.slice(value_start as usize..value_end as usize))
            .map_err(|_| format!("invalid value of response header {name}"))?;
        headers.append(name, value);
    }
    for name in named {
        headers.remove(name);
    }
    Ok(Some(Head { status, version, headers, facts, raw: None }))
}

/// What a field is to [`raw_fields`]; the one list of hop-by-hop names ([`is_hop_by_hop`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Connection,
    TransferEncoding,
    ContentLength,
    Date,
    /// Describes the connection: never forwarded ([`is_hop_by_hop`]'s list).
    HopByHop,
    /// `X-Ca-*`: the gateway's own names, which it may set on the response.
    Gateway,
    Other,
}

impl Field {
    /// The field named `name` (any case), by its length first: no `HeaderName` is made.
    fn of(name: &[u8]) -> Field {
        let is = |known: &str| name.eq_ignore_ascii_case(known.as_bytes());
        match name.len() {
            2 if is("te") => Field::HopByHop,
            4 if is("date") => Field::Date,
            7 if is("trailer") || is("upgrade") => Field::HopByHop,
            10 if is("connection") => Field::Connection,
            10 if is("keep-alive") => Field::HopByHop,
            14 if is("content-length") => Field::ContentLength,
            16 if is("proxy-connection") => Field::HopByHop,
            17 if is("transfer-encoding") => Field::TransferEncoding,
            19 if is("proxy-authorization") => Field::HopByHop,
            n if n >= 5 && name[..5].eq_ignore_ascii_case(b"x-ca-") => Field::Gateway,
            _ => Field::Other,
        }
    }
}

/// The end-to-end fields of a parsed head as the lines the caller's side writes, and what the
/// head says of its framing; `None` for a head [`HeadForm::Raw`] does not describe (then the
/// map is built). `spans` are httparse's fields: names are tokens and values hold no control
/// bytes but tab, the same rules `HeaderName` and `HeaderValue` check.
fn raw_fields(
    head: &Bytes,
    spans: &[(u32, u32, u32, u32)],
    status: StatusCode,
    version: Version,
) -> Option<(RawFields, HeadFacts)> {
    let mut facts = HeadFacts { keep: version == Version::HTTP_11, ..HeadFacts::default() };
    // Room for the gateway's `X-Ca-Request-Id` and `X-Ca-Version` lines too.
    let mut lines = BytesMut::with_capacity(head.len() + 2 * spans.len() + 96);
    let mut dated = false;
    // Lines kept as they came (`name: value` and CRLF) are copied in runs of adjacent ones:
    // one copy for most heads, a second past a dropped `Connection`.
    let mut run = 0..0;
    for &(name_start, name_end, value_start, value_end) in spans {
        let name = &head[name_start as usize..name_end as usize];
        let value = &head[value_start as usize..value_end as usize];
        if name.len() > u16::MAX as usize {
            return None;
        }
        match Field::of(name) {
            Field::Connection => {
                let mut names_fields = false;
                facts.connection(value, version, |token| names_fields |= !token.is_empty());
                if names_fields {
                    // It names fields to leave out: the map does that.
                    return None;
                }
                continue;
            }
            Field::TransferEncoding => {
                facts.codings(value);
                continue;
            }
            Field::ContentLength => {
                facts.lengths(value);
                if let Some(Err(_)) = facts.length {
                    // Invalid or differing: the map's path words the refusal.
                    return None;
                }
            }
            Field::Date => dated = true,
            Field::HopByHop => continue,
            Field::Gateway => return None,
            Field::Other => {}
        }
        let (start, end) = (name_start as usize, value_end as usize);
        let as_written =
            head.get(name_end as usize..value_start as usize) == Some(b": ") && head.get(end..end + 2) == Some(b"\r\n");
        if as_written && run.end == start && !run.is_empty() {
            run.end = end + 2;
            continue;
        }
        lines.extend_from_slice(&head[run.clone()]);
        run = 0..0;
        if as_written {
            run = start..end + 2;
        } else {
            push_line(&mut lines, name, value);
        }
    }
    lines.extend_from_slice(&head[run]);
    if facts.length.is_some() && (facts.coded || status == StatusCode::NO_CONTENT) {
        return None;
    }
    let length = facts.length.and_then(Result::ok);
    Some((RawFields { lines, length, dated }, facts))
}

/// How a response's body is delimited (RFC 9112 §6.3), and whether its connection may be
/// reused after it.
fn response_framing(
    method: &Method,
    status: StatusCode,
    version: Version,
    facts: &HeadFacts,
) -> Result<(Framing, bool), String> {
    let keep = facts.keep;
    if method == Method::HEAD || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        return Ok((Framing::None, keep));
    }
    if facts.coded {
        if facts.chunked && version == Version::HTTP_11 {
            return Ok((Framing::Chunked, keep && facts.length.is_none()));
        }
        return Ok((Framing::Close, false));
    }
    match facts.length {
        Some(length) => Ok((Framing::Length(length?), keep)),
        None => Ok((Framing::Close, false)),
    }
}

/// A `Content-Length` value: 1 to 19 decimal digits.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
}

/// A chunk-size line without its LF: hex digits, then optional extensions, then CR.
fn parse_chunk_size(line: &[u8]) -> Result<u64, String> {
    let line = line.strip_suffix(b"\r").ok_or("a chunk size line ends in a bare LF")?;
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err("a chunk size is not hex".into());
    }
    if digits > 16 {
        return Err("a chunk size overflows".into());
    }
    let mut size: u64 = 0;
    for &b in &line[..digits] {
        let value = (b as char).to_digit(16).unwrap_or(0);
        size = size.checked_mul(16).and_then(|s| s.checked_add(u64::from(value))).ok_or("a chunk size overflows")?;
    }
    let rest = line[digits..].trim_ascii_start();
    let valid_extension = rest.first() == Some(&b';') && rest.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f));
    if !rest.is_empty() && !valid_extension {
        return Err("a chunk size is followed by something other than an extension".into());
    }
    Ok(size)
}

/// Where a chunked body's decoding is.
#[derive(Debug, Clone, Copy)]
enum Chunk {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
}

/// What decoding a chunked body gave.
enum Step {
    Data(Bytes),
    More,
    End(Option<HeaderMap>),
}

/// Decodes what `buf` holds of a chunked body.
fn decode_chunked(state: &mut Chunk, buf: &mut BytesMut) -> Result<Step, String> {
    loop {
        match state {
            Chunk::Size => {
                let Some(lf) = buf.iter().position(|&b| b == b'\n') else {
                    if buf.len() > MAX_CHUNK_LINE {
                        return Err("a chunk size line is too long".into());
                    }
                    return Ok(Step::More);
                };
                let size = parse_chunk_size(&buf[..lf])?;
                buf.advance(lf + 1);
                *state = if size == 0 { Chunk::Trailers } else { Chunk::Data(size) };
            }
            Chunk::Data(left) => {
                if buf.is_empty() {
                    return Ok(Step::More);
                }
                let take = usize::try_from(*left).unwrap_or(usize::MAX).min(buf.len());
                let data = buf.split_to(take).freeze();
                *left -= take as u64;
                if *left == 0 {
                    *state = Chunk::DataEnd;
                }
                return Ok(Step::Data(data));
            }
            Chunk::DataEnd => {
                if buf.len() < 2 {
                    return Ok(Step::More);
                }
                if &buf[..2] != b"\r\n" {
                    return Err("chunk data is not followed by CRLF".into());
                }
                buf.advance(2);
                *state = Chunk::Size;
            }
            Chunk::Trailers => {
                if buf.starts_with(b"\r\n") {
                    buf.advance(2);
                    return Ok(Step::End(None));
                }
                let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                    if buf.len() > MAX_TRAILER_BYTES {
                        return Err("the trailers are too large".into());
                    }
                    return Ok(Step::More);
                };
                let section = buf.split_to(end + 4);
                let mut fields = [httparse::EMPTY_HEADER; 32];
                let parsed = match httparse::parse_headers(&section, &mut fields) {
                    Ok(httparse::Status::Complete((_, parsed))) => parsed,
                    _ => return Err("invalid trailers".into()),
                };
                let mut trailers = HeaderMap::with_capacity(parsed.len());
                for field in parsed {
                    let name = HeaderName::from_bytes(field.name.as_bytes()).map_err(|_| "invalid trailer name")?;
                    let value = HeaderValue::from_bytes(field.value).map_err(|_| "invalid trailer value")?;
                    trailers.append(name, value);
                }
                return Ok(Step::End(Some(trailers)));
            }
        }
    }
}

/// How the rest of a response body is read.
enum Decoder {
    Length(u64),
    Chunked(Chunk),
    Close,
    Done,
}

/// What a body's next bytes are.
enum Decoded {
    /// Data; `true` when it ends the body.
    Data(Bytes, bool),
    /// The body has ended, with its trailers if it had any.
    End(Option<HeaderMap>),
    /// More bytes must be read first.
    More,
}

impl Decoder {
    /// Takes the body's next frame off `buf`, for both sides' bodies (the caller's request
    /// body in [`server`], the backend's response body here).
    fn next(&mut self, buf: &mut BytesMut) -> Result<Decoded, String> {
        match self {
            Decoder::Done => Ok(Decoded::End(None)),
            Decoder::Length(_) | Decoder::Close if buf.is_empty() => Ok(Decoded::More),
            Decoder::Length(left) => {
                let take = usize::try_from(*left).unwrap_or(usize::MAX).min(buf.len());
                let data = buf.split_to(take).freeze();
                *left -= take as u64;
                let ended = *left == 0;
                if ended {
                    *self = Decoder::Done;
                }
                Ok(Decoded::Data(data, ended))
            }
            Decoder::Close => Ok(Decoded::Data(buf.split().freeze(), false)),
            Decoder::Chunked(state) => match decode_chunked(state, buf)? {
                Step::Data(data) => Ok(Decoded::Data(data, false)),
                Step::More => Ok(Decoded::More),
                Step::End(trailers) => {
                    *self = Decoder::Done;
                    Ok(Decoded::End(trailers))
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Decoder::Done)
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Decoder::Length(left) => SizeHint::with_exact(*left),
            Decoder::Done => SizeHint::with_exact(0),
            Decoder::Chunked(_) | Decoder::Close => SizeHint::default(),
        }
    }
}

/// A decoded step as a body frame: data, trailers, or the end.
fn frame_of(decoded: Decoded) -> Option<Frame<Bytes>> {
    match decoded {
        Decoded::Data(data, _) => Some(Frame::data(data)),
        Decoded::End(trailers) => trailers.map(Frame::trailers),
        Decoded::More => None,
    }
}

/// A backend's response body, read from its connection as the caller's side asks; at its
/// end the connection goes back through [`Reuse`], unless it must close. Dropped half-read,
/// the connection closes.
struct ResponseBody<S, R> {
    conn: Option<Conn<S>>,
    back: Option<R>,
    decoder: Decoder,
    keep: bool,
}

impl<S, R> ResponseBody<S, R>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static,
    R: Reuse<S>,
{
    /// The body is read: the connection goes back when it may serve another request.
    fn finish(&mut self) {
        self.decoder = Decoder::Done;
        let (Some(conn), Some(back)) = (self.conn.take(), self.back.take()) else { return };
        if self.keep && conn.p.read.is_empty() && conn.p.upload.is_none() {
            back.reuse(conn);
        }
    }

    fn fail(&mut self, detail: String) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.decoder = Decoder::Done;
        self.conn = None;
        self.back = None;
        Poll::Ready(Some(Err(Box::new(io::Error::other(detail)))))
    }
}

impl<S, R> hyper::body::Body for ResponseBody<S, R>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static,
    R: Reuse<S>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            let Some(conn) = this.conn.as_mut() else { return Poll::Ready(None) };
            // The rest of the request, written as the answer is read.
            if conn.p.upload.is_some() {
                match conn.poll_upload(cx) {
                    Poll::Ready(Ok(())) => conn.p.upload = None,
                    Poll::Ready(Err(error)) => return this.fail(error.to_string()),
                    Poll::Pending => {}
                }
            }
            // Ended, or failed: never read again (a failed body is not "done").
            if this.decoder.is_end_stream() {
                return Poll::Ready(None);
            }
            match this.decoder.next(&mut conn.p.read) {
                Err(detail) => return this.fail(format!("the backend's body: {detail}")),
                Ok(Decoded::More) => {}
                Ok(decoded) => {
                    let ended = matches!(decoded, Decoded::Data(_, true) | Decoded::End(_));
                    if ended {
                        this.finish();
                    }
                    return Poll::Ready(frame_of(decoded).map(Ok));
                }
            }
            let closing = matches!(this.decoder, Decoder::Close);
            match ready!(conn.poll_fill(cx)) {
                Ok(0) | Err(_) if closing => {
                    // A body delimited by the close (a TLS backend may skip close_notify).
                    this.decoder = Decoder::Done;
                    this.conn = None;
                    return Poll::Ready(None);
                }
                Ok(0) => return this.fail("the backend closed the connection before the body's end".into()),
                Ok(_) => {}
                Err(error) => return this.fail(format!("reading the backend's body: {error}")),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.decoder.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.decoder.size_hint()
    }
}

pub mod server;

#[cfg(test)]
mod tests;
