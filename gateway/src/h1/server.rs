//! Callers' HTTP/1.1 on both gateway listeners (plain, and over TLS after ALPN chose HTTP/1.1),
//! on `httparse`, in the way of pingora:
//! one task per connection that reads a head into a buffer it keeps, runs the handler (the
//! phases), and writes the response head in one `write` together with the body's first
//! bytes when they are ready. The request body is read by the handler on the same task, from
//! the same buffer: no connection task apart from the request's, no channel.
//!
//! Refused as nginx refuses them, each with the status nginx gives and the connection
//! closed: a head that does not parse (folded header lines, a bad request line, invalid
//! header names or values) `400`; both `Content-Length` and `Transfer-Encoding`, two
//! `Content-Length` headers, or one that is not a plain number `400`; a `Transfer-Encoding`
//! other than `chunked` `501`; an HTTP version other than 1.0 and 1.1 `505`; a head over
//! the header limit `431`; an `Expect` other than `100-continue` `417`. A chunked body with
//! an invalid chunk size, or a bare LF after one, fails where it is read: the caller gets
//! `400 InvalidBody` (the backend call stops, the target is not blamed for it, nothing is
//! tried again) and the connection closes. Bare LF line ends in the head are accepted, as nginx and
//! hyper accept them.
//!
//! What is not served here goes to hyper with the bytes already read put back in front
//! ([`Rewind`]): upgrade requests (WebSocket APIs), for the rest of their connection.
//!
//! Clocks (as [`crate::listener`] gives hyper): a head must arrive whole within
//! `timeouts.head` of its first byte (or of the connection's start); a keep-alive connection
//! waits at most `timeouts.idle` for its next request. Either ends the connection without an
//! answer, like nginx. A connection closes after the response in flight once `closing` fires.

use super::{frame_of, parse_decimal, Chunk, Decoded, Decoder};
use crate::body::{Body, BoxError};
use crate::listener::Timeouts;
use bytes::{Buf, Bytes, BytesMut};
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri, Version};
use http_body_util::BodyExt;
use hyper::body::{Frame, SizeHint};
use std::future::Future;
use std::io::{self, Write as _};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

/// A caller connection the server reads and writes at once, from one task: a TCP socket (its
/// owned halves) or TLS over one (`tokio::io::split`, the HTTPS listener's HTTP/1.1).
pub trait Connection: AsyncRead + AsyncWrite + Unpin + Send + Sized + 'static {
    /// The reading half, lent to a request's body.
    type Read: AsyncRead + Unpin + Send + Sync + 'static;
    /// The writing half.
    type Write: AsyncWrite + Unpin + Send + 'static;
    /// The two halves.
    fn split(self) -> (Self::Read, Self::Write);
    /// The connection again, from its two halves (for hyper, which takes an upgrade).
    fn reunite(read: Self::Read, write: Self::Write) -> Option<Self>;
}

impl Connection for TcpStream {
    type Read = OwnedReadHalf;
    type Write = OwnedWriteHalf;
    fn split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        self.into_split()
    }
    fn reunite(read: OwnedReadHalf, write: OwnedWriteHalf) -> Option<TcpStream> {
        read.reunite(write).ok()
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static> Connection for tokio_rustls::server::TlsStream<IO> {
    type Read = tokio::io::ReadHalf<Self>;
    type Write = tokio::io::WriteHalf<Self>;
    fn split(self) -> (Self::Read, Self::Write) {
        tokio::io::split(self)
    }
    fn reunite(read: Self::Read, write: Self::Write) -> Option<Self> {
        read.is_pair_of(&write).then(|| read.unsplit(write))
    }
}

/// The most headers a request head may have (hyper's default too).
pub const MAX_HEADERS: usize = 100;
/// Response bytes gathered before a write: the head and a small body go out in one.
const COALESCE: usize = 16 * 1024;
/// Bytes read at a time.
const READ_SIZE: usize = 8 * 1024;

/// How a connection is served.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The largest request head, in bytes (`431` past it).
    pub max_head: usize,
    /// The head and idle clocks.
    pub timeouts: Timeouts,
}

/// The reading side of a connection: the socket and what has been read from it.
struct ReadSide<R> {
    io: R,
    buf: BytesMut,
    /// The request body in progress was read to its end (or there was none).
    body_done: bool,
}

impl<R: AsyncRead + Unpin> ReadSide<R> {
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(READ_SIZE);
        }
        tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.buf)
    }
}

/// Where a request body puts the reading side back when it is dropped.
type Slot<R> = Arc<Mutex<Option<ReadSide<R>>>>;

/// Serves one caller connection until it closes, a clock runs out, or `closing` fires
/// between requests. `handler` answers each request; `fallback` takes the connection (with
/// the bytes read so far put back) when a request is one hyper must serve (an upgrade).
pub async fn serve<S, H, Fut, F, FFut>(
    stream: S,
    settings: Settings,
    closing: tokio_util::sync::CancellationToken,
    handler: H,
    fallback: F,
) where
    S: Connection,
    H: Fn(Box<Request<Body>>, super::Present) -> Fut,
    Fut: Future<Output = super::Answer>,
    F: FnOnce(Rewind<S>) -> FFut,
    FFut: Future<Output = ()>,
{
    let (read, mut write) = stream.split();
    let slot: Slot<S::Read> = Arc::new(Mutex::new(None));
    // Lent to a request's body while the handler runs, and back through `slot` after.
    let mut side = Some(ReadSide { io: read, buf: BytesMut::with_capacity(READ_SIZE), body_done: true });
    let mut out = Vec::with_capacity(READ_SIZE);
    let mut first = true;
    let clock = tokio::time::sleep(settings.timeouts.head);
    let mut clock = std::pin::pin!(clock);
    loop {
        let Some(reader) = side.as_mut() else { return };
        let head = match read_head(reader, &settings, first, &closing, clock.as_mut()).await {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(refusal) => {
                let _ = refuse(&mut write, refusal).await;
                return;
            }
        };
        first = false;
        let Head { mut request, raw, framing, keep, expect_continue, upgrade, trailers, present } = head;
        if upgrade {
            let Some(reader) = side.take() else { return };
            let Some(stream) = S::reunite(reader.io, write) else { return };
            let mut prefix = BytesMut::from(&raw[..]);
            prefix.extend_from_slice(&reader.buf);
            return fallback(Rewind { io: stream, prefix: prefix.freeze() }).await;
        }
        drop(raw);
        if expect_continue
            && framing != Framing::None
            && write.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await.is_err()
        {
            return;
        }
        let head_only = request.method() == Method::HEAD;
        let version = request.version();
        if let Framing::Length(_) | Framing::Chunked = framing {
            reader.body_done = false;
            let decoder = match framing {
                Framing::Length(n) => Decoder::Length(n),
                _ => Decoder::Chunked(Chunk::Size),
            };
            let body = RequestBody { side: side.take(), slot: slot.clone(), decoder };
            *request.body_mut() = body.boxed();
        }
        let (response, raw) = handler(request, present).await;
        if side.is_none() {
            side = slot.lock().ok().and_then(|mut slot| slot.take());
        }
        // A body left unread, or still held, closes the connection: its rest is not read to
        // find the next head.
        let keep = keep && side.as_ref().is_some_and(|reader| reader.body_done) && !closing.is_cancelled();
        match write_response(&mut write, &mut out, response, raw, head_only, version, keep, trailers).await {
            Ok(true) => {}
            Ok(false) | Err(_) => {
                let _ = write.shutdown().await;
                return;
            }
        }
    }
}

/// How a request's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
}

/// A parsed request head and what it says about its connection.
struct Head {
    /// The request, its body not set. Boxed: a quarter of a kilobyte, it was copied at each
    /// step from the parse to the phases (eight copies cost more than the allocation).
    request: Box<Request<Body>>,
    /// The head's bytes, as read.
    raw: Bytes,
    framing: Framing,
    /// Whether the caller wants the connection kept after this request.
    keep: bool,
    /// `Expect: 100-continue`.
    expect_continue: bool,
    /// An upgrade (WebSocket): hyper serves it.
    upgrade: bool,
    /// `TE: trailers`: the caller takes trailers in a chunked response.
    trailers: bool,
    /// Which kinds of field the head holds.
    present: super::Present,
}

/// Why a request head was refused: its status and what is wrong.
#[derive(Debug)]
struct Refusal(StatusCode, &'static str);

/// Reads a request head: `None` when the connection ends first (closed, a clock ran out,
/// or `closing` fired while no request was in progress).
async fn read_head<R: AsyncRead + Unpin>(
    side: &mut ReadSide<R>,
    settings: &Settings,
    first: bool,
    closing: &tokio_util::sync::CancellationToken,
    mut clock: Pin<&mut tokio::time::Sleep>,
) -> Result<Option<Head>, Refusal> {
    let now = tokio::time::Instant::now();
    // The idle clock until a byte of the next head arrives; the head clock from then on (and
    // from the start, for a connection's first request).
    let mut on_head_clock = first || !side.buf.is_empty();
    // One timer for both clocks, moved only to an earlier deadline (`super::poll_deadline`).
    let mut deadline = now + if on_head_clock { settings.timeouts.head } else { settings.timeouts.idle };
    loop {
        if !side.buf.is_empty() {
            if let Some(head) = parse_head(&mut side.buf)? {
                if head.raw.len() > settings.max_head {
                    return Err(Refusal(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "the request head is too large"));
                }
                return Ok(Some(head));
            }
            if side.buf.len() > settings.max_head {
                return Err(Refusal(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "the request head is too large"));
            }
            if !on_head_clock {
                on_head_clock = true;
                deadline = tokio::time::Instant::now() + settings.timeouts.head;
            }
        }
        let idle = side.buf.is_empty();
        let read = std::future::poll_fn(|cx| side.poll_fill(cx));
        tokio::select! {
            biased;
            read = read => match read {
                // The end (or half a head and then the end): nothing to answer.
                Ok(0) | Err(_) => return Ok(None),
                Ok(_) => {}
            },
            () = std::future::poll_fn(|cx| super::poll_deadline(clock.as_mut(), deadline, cx)) => return Ok(None),
            () = closing.cancelled(), if idle => return Ok(None),
        }
    }
}

/// A request head taken off the front of `buf`, if it is whole. Header values and the
/// target share the head's bytes (no copy); the head's raw bytes come along, for hyper.
fn parse_head(buf: &mut BytesMut) -> Result<Option<Head>, Refusal> {
    let bad = |reason| Refusal(StatusCode::BAD_REQUEST, reason);
    let mut fields = [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    // Where each name and value lies in the head: on the stack for the usual head (a vector
    // past `SPANS_ON_STACK` fields), and only that much zeroed.
    let mut stack = [((0u32, 0u32), (0u32, 0u32)); super::SPANS_ON_STACK];
    let mut heap = Vec::new();
    let (length, method, target, minor, count) = {
        let mut parsed = httparse::Request::new(&mut []);
        let config = httparse::ParserConfig::default();
        let length = match config.parse_request_with_uninit_headers(&mut parsed, buf, &mut fields) {
            Ok(httparse::Status::Complete(length)) => length,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(Refusal(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "the request has too many headers"))
            }
            Err(httparse::Error::Version) => {
                return Err(Refusal(StatusCode::HTTP_VERSION_NOT_SUPPORTED, "only HTTP/1.0 and HTTP/1.1 are served"))
            }
            Err(_) => return Err(bad("the request head is not valid HTTP/1.1")),
        };
        if u32::try_from(length).is_err() {
            return Err(Refusal(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "the request head is too large"));
        }
        let start = buf.as_ptr() as usize;
        // Every offset is within the head, checked above to be below 4 GiB.
        let span = |bytes: &[u8]| {
            let at = bytes.as_ptr() as usize - start;
            (at as u32, (at + bytes.len()) as u32)
        };
        let method = Method::from_bytes(parsed.method.unwrap_or("").as_bytes()).map_err(|_| bad("invalid method"))?;
        let target = span(parsed.path.unwrap_or("").as_bytes());
        let spans = match parsed.headers.len() {
            n if n <= super::SPANS_ON_STACK => &mut stack[..n],
            n => {
                heap.resize(n, ((0, 0), (0, 0)));
                &mut heap[..]
            }
        };
        for (at, field) in spans.iter_mut().zip(parsed.headers.iter()) {
            *at = (span(field.name.as_bytes()), span(field.value));
        }
        (length, method, target, parsed.version.unwrap_or(1), parsed.headers.len())
    };
    let spans = if count <= super::SPANS_ON_STACK { &stack[..count] } else { &heap[..] };
    let raw = buf.split_to(length).freeze();
    let uri = Uri::from_maybe_shared(raw.slice(target.0 as usize..target.1 as usize))
        .map_err(|_| bad("invalid request target"))?;
    let version = if minor == 0 { Version::HTTP_10 } else { Version::HTTP_11 };
    // Room for what the upstream-request phase adds (`X-Forwarded-For`, `-Proto`, `-Host`,
    // the request id, the backend's `Host`) up front: no rehash of the map on the way to the
    // backend (`phases::upstream_request` reserves the same).
    let mut headers = HeaderMap::with_capacity(count + crate::phases::upstream_request::ADDED_HEADERS);
    let mut keep = version == Version::HTTP_11;
    let (mut lengths, mut codings, mut expect_continue, mut upgrade, mut trailers) = (0, 0, false, false, false);
    let mut framing = Framing::None;
    let mut present = super::Present::NONE;
    for &((name_start, name_end), (value_start, value_end)) in spans {
        let (name_start, name_end, value_start, value_end) =
            (name_start as usize, name_end as usize, value_start as usize, value_end as usize);
        let name = HeaderName::from_bytes(&raw[name_start..name_end]).map_err(|_| bad("invalid header name"))?;
        let value = HeaderValue::from_maybe_shared(raw.slice(value_start..value_end))
            .map_err(|_| bad("invalid header value"))?;
        present.note(&name);
        match name {
            header::CONTENT_LENGTH => {
                lengths += 1;
                let length = parse_decimal(value.as_bytes().trim_ascii()).ok_or(bad("invalid Content-Length"))?;
                framing = Framing::Length(length);
            }
            header::TRANSFER_ENCODING => {
                codings += 1;
                if !value.as_bytes().trim_ascii().eq_ignore_ascii_case(b"chunked") {
                    return Err(Refusal(StatusCode::NOT_IMPLEMENTED, "only the chunked transfer coding is accepted"));
                }
            }
            header::CONNECTION => {
                for token in value.as_bytes().split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                    if token.eq_ignore_ascii_case(b"close") {
                        keep = false;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") && version == Version::HTTP_10 {
                        keep = true;
                    } else if token.eq_ignore_ascii_case(b"upgrade") {
                        upgrade = true;
                    }
                }
            }
            header::EXPECT => {
                if !value.as_bytes().trim_ascii().eq_ignore_ascii_case(b"100-continue") {
                    return Err(Refusal(StatusCode::EXPECTATION_FAILED, "only `Expect: 100-continue` is understood"));
                }
                expect_continue = version == Version::HTTP_11;
            }
            header::TE => {
                trailers =
                    value.as_bytes().split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(b"trailers"))
            }
            _ => {}
        }
        headers.append(name, value);
    }
    if lengths > 1 {
        return Err(bad("more than one Content-Length"));
    }
    if codings > 0 {
        if lengths > 0 {
            return Err(bad("both Content-Length and Transfer-Encoding"));
        }
        if version == Version::HTTP_10 {
            return Err(bad("Transfer-Encoding in an HTTP/1.0 request"));
        }
        if codings > 1 {
            return Err(bad("more than one Transfer-Encoding"));
        }
        framing = Framing::Chunked;
    }
    if framing == Framing::Length(0) {
        framing = Framing::None;
    }
    let upgrade = upgrade && headers.contains_key(header::UPGRADE);
    let mut request = Box::new(Request::new(crate::body::empty()));
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = version;
    *request.headers_mut() = headers;
    Ok(Some(Head { request, raw, framing, keep, expect_continue, upgrade, trailers, present }))
}

/// Answers a refused head and closes.
async fn refuse<W: AsyncWrite + Unpin>(write: &mut W, Refusal(status, reason): Refusal) -> io::Result<()> {
    let mut out = Vec::with_capacity(256);
    let _ = write!(
        out,
        "HTTP/1.1 {} {}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        reason.len() + 1
    );
    write_date(&mut out);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(reason.as_bytes());
    out.push(b'\n');
    write.write_all(&out).await?;
    write.shutdown().await
}

/// `date: …\r\n`, formatted once a second per thread.
fn write_date(out: &mut Vec<u8>) {
    thread_local! {
        static DATE: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((0, String::new())) };
    }
    let now = std::time::SystemTime::now();
    let second = now.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    DATE.with(|date| {
        let mut date = date.borrow_mut();
        if date.0 != second || date.1.is_empty() {
            *date = (second, httpdate::fmt_http_date(now));
        }
        out.extend_from_slice(b"date: ");
        out.extend_from_slice(date.1.as_bytes());
        out.extend_from_slice(b"\r\n");
    });
}

/// Writes `response`: the head with the first body bytes when they are ready, then the rest.
/// The framing is the response's `Content-Length` when it has one, else its body's known
/// length, else chunked (HTTP/1.1) or the connection's close (HTTP/1.0). Whether the
/// connection may serve another request comes back.
async fn write_response<W: AsyncWrite + Unpin>(
    write: &mut W,
    out: &mut Vec<u8>,
    response: Response<Body>,
    raw: Option<super::RawFields>,
    head_only: bool,
    version: Version,
    mut keep: bool,
    trailers_wanted: bool,
) -> io::Result<bool> {
    let (parts, mut body) = response.into_parts();
    let status = parts.status;
    let bodiless_status =
        status.is_informational() || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED;
    out.clear();
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut declared = None;
    let mut dated = false;
    // A backend's fields as they came ([`super::HeadForm::Raw`]): the map holds only the
    // gateway's own, none of which they name.
    if let Some(raw) = raw {
        out.extend_from_slice(&raw.lines);
        declared = raw.length;
        dated = raw.dated;
    }
    for (name, value) in &parts.headers {
        if name == header::TRANSFER_ENCODING || name == header::CONNECTION {
            continue;
        }
        if name == header::CONTENT_LENGTH {
            if status == StatusCode::NO_CONTENT || status.is_informational() {
                continue;
            }
            declared = parse_decimal(value.as_bytes());
            if declared.is_none() {
                // An unparsable length is not passed on; the body's own framing is used.
                continue;
            }
        }
        if name == header::DATE {
            dated = true;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !dated {
        write_date(out);
    }
    let exact = hyper::body::Body::size_hint(&body).exact();
    let framing = if bodiless_status {
        Framing::None
    } else if let Some(length) = declared {
        Framing::Length(length)
    } else if let Some(length) = exact {
        let _ = write!(out, "content-length: {length}\r\n");
        Framing::Length(length)
    } else if version == Version::HTTP_11 {
        if !head_only {
            out.extend_from_slice(b"transfer-encoding: chunked\r\n");
        }
        Framing::Chunked
    } else {
        keep = false;
        Framing::None
    };
    if !keep {
        out.extend_from_slice(b"connection: close\r\n");
    } else if version == Version::HTTP_10 {
        out.extend_from_slice(b"connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if head_only || bodiless_status {
        write.write_all(out).await?;
        return Ok(keep);
    }
    let mut sent: u64 = 0;
    let mut trailers_sent = false;
    loop {
        // Whatever of the body is ready joins the head; the head goes out as soon as the
        // body would make it wait.
        let frame = match std::future::poll_fn(|cx| Poll::Ready(hyper::body::Body::poll_frame(Pin::new(&mut body), cx)))
            .await
        {
            Poll::Ready(frame) => frame,
            Poll::Pending => {
                if !out.is_empty() {
                    write.write_all(out).await?;
                    out.clear();
                }
                body.frame().await
            }
        };
        let Some(frame) = frame else { break };
        let Ok(frame) = frame else {
            // The body failed half-way: the caller can only learn it from the close.
            if !out.is_empty() {
                write.write_all(out).await?;
            }
            return Ok(false);
        };
        match frame.into_data() {
            Ok(data) => {
                if data.is_empty() {
                    continue;
                }
                sent += data.len() as u64;
                if framing == Framing::Chunked {
                    let _ = write!(out, "{:x}\r\n", data.len());
                }
                if out.len() + data.len() <= COALESCE {
                    out.extend_from_slice(&data);
                } else {
                    write.write_all(out).await?;
                    out.clear();
                    write.write_all(&data).await?;
                }
                if framing == Framing::Chunked {
                    out.extend_from_slice(b"\r\n");
                }
            }
            Err(frame) => {
                if let (Ok(trailers), Framing::Chunked) = (frame.into_trailers(), framing) {
                    out.extend_from_slice(b"0\r\n");
                    if trailers_wanted {
                        super::write_fields(out, &trailers);
                    }
                    out.extend_from_slice(b"\r\n");
                    trailers_sent = true;
                }
            }
        }
        if out.len() >= COALESCE {
            write.write_all(out).await?;
            out.clear();
        }
    }
    if framing == Framing::Chunked && !trailers_sent {
        out.extend_from_slice(b"0\r\n\r\n");
    }
    if !out.is_empty() {
        write.write_all(out).await?;
        out.clear();
    }
    if let Framing::Length(length) = framing {
        if sent != length {
            // The caller was promised another length: only the close can tell it.
            return Ok(false);
        }
    }
    Ok(keep)
}

/// A caller's request body, read from its connection as the handler asks. Dropped (read or
/// not), it puts the connection's reading side back for the next request.
struct RequestBody<R> {
    side: Option<ReadSide<R>>,
    slot: Slot<R>,
    decoder: Decoder,
}

impl<R> Drop for RequestBody<R> {
    fn drop(&mut self) {
        if let Some(side) = self.side.take() {
            if let Ok(mut slot) = self.slot.lock() {
                *slot = Some(side);
            }
        }
    }
}

impl<R> RequestBody<R> {
    fn finish(&mut self) {
        self.decoder = Decoder::Done;
        if let Some(side) = self.side.as_mut() {
            side.body_done = true;
        }
    }

    fn fail(&mut self, detail: String) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.decoder = Decoder::Done;
        Poll::Ready(Some(Err(Box::new(io::Error::other(detail)))))
    }
}

impl<R: AsyncRead + Unpin> hyper::body::Body for RequestBody<R> {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            let Some(side) = this.side.as_mut() else { return Poll::Ready(None) };
            // Ended, or failed: never read again (a failed body is not "done").
            if this.decoder.is_end_stream() {
                return Poll::Ready(None);
            }
            match this.decoder.next(&mut side.buf) {
                Err(detail) => return this.fail(format!("the request's body: {detail}")),
                Ok(Decoded::More) => {}
                Ok(decoded) => {
                    if matches!(decoded, Decoded::Data(_, true) | Decoded::End(_)) {
                        this.finish();
                    }
                    return Poll::Ready(frame_of(decoded).map(Ok));
                }
            }
            match ready!(side.poll_fill(cx)) {
                Ok(0) => return this.fail("the caller closed the connection before the body's end".into()),
                Ok(_) => {}
                Err(error) => return this.fail(format!("reading the request body: {error}")),
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

/// A connection handed to hyper: the bytes already read come first, then the socket.
pub struct Rewind<S> {
    io: S,
    prefix: Bytes,
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewind<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if !self.prefix.is_empty() {
            let take = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix[..take]);
            self.prefix.advance(take);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewind<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests;
