//! The backend side of HTTP/1.1: what a backend receives, how each response framing is read,
//! what is refused, when a connection goes back, and a differential test against hyper's
//! client on generated responses.

use super::*;
use crate::body;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// `body` as chunks of the given sizes (the rest in one last chunk), without the last
/// `0` chunk: the differential tests' chunked bodies, both ways.
pub(super) fn chunks(body: &[u8], sizes: &[usize], out: &mut Vec<u8>) {
    let mut rest = body;
    for &size in sizes.iter().chain(std::iter::once(&usize::MAX)) {
        if rest.is_empty() {
            break;
        }
        let take = size.clamp(1, rest.len());
        out.extend_from_slice(format!("{take:x}\r\n").as_bytes());
        out.extend_from_slice(&rest[..take]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[take..];
    }
}

/// Cases per differential test: `default`, or `GANTRY_FUZZ_CASES` (`scripts/fuzz.sh`).
pub(super) fn cases(default: u32) -> u32 {
    std::env::var("GANTRY_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(default)
}

/// Notes that the connection went back (and keeps it, for a second request).
#[derive(Clone, Default)]
struct Noted(Arc<std::sync::Mutex<Option<Conn<DuplexStream>>>>, Arc<AtomicBool>);

impl Reuse<DuplexStream> for Noted {
    fn reuse(self, conn: Conn<DuplexStream>) {
        self.1.store(true, Ordering::SeqCst);
        *self.0.lock().expect("lock") = Some(conn);
    }
}

impl Noted {
    fn reused(&self) -> bool {
        self.1.load(Ordering::SeqCst)
    }
    fn take(&self) -> Conn<DuplexStream> {
        self.0.lock().expect("lock").take().expect("the connection came back")
    }
}

/// A backend on the other end of a pipe: reads each request (head, and body as its framing
/// says), hands its bytes to the test and writes the next scripted answer; then, with
/// `close`, closes.
fn backend(answers: Vec<Vec<u8>>, close: bool) -> (DuplexStream, tokio::task::JoinHandle<Vec<Vec<u8>>>) {
    let (ours, mut theirs) = tokio::io::duplex(1 << 20);
    let task = tokio::spawn(async move {
        let mut seen = Vec::new();
        let mut pending = Vec::new();
        for answer in answers {
            let request = loop {
                if let Some(length) = whole_request(&pending) {
                    break pending.drain(..length).collect::<Vec<u8>>();
                }
                let mut buf = [0u8; 4096];
                match theirs.read(&mut buf).await {
                    Ok(0) | Err(_) => return seen,
                    Ok(n) => pending.extend_from_slice(&buf[..n]),
                }
            };
            seen.push(request);
            if theirs.write_all(&answer).await.is_err() {
                return seen;
            }
        }
        if close {
            drop(theirs);
        } else {
            // Keep the connection open until the test ends.
            let mut rest = Vec::new();
            let _ = theirs.read_to_end(&mut rest).await;
        }
        seen
    });
    (ours, task)
}

/// The length of the first whole request in `bytes` (head, then a `content-length` or
/// chunked body), if it is all there.
fn whole_request(bytes: &[u8]) -> Option<usize> {
    let mut fields = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut fields);
    let head = match request.parse(bytes) {
        Ok(httparse::Status::Complete(head)) => head,
        _ => return None,
    };
    let field = |name: &str| {
        request.headers.iter().find(|f| f.name.eq_ignore_ascii_case(name)).map(|f| String::from_utf8_lossy(f.value))
    };
    if let Some(length) = field("content-length") {
        let end = head + length.trim().parse::<usize>().ok()?;
        return (bytes.len() >= end).then_some(end);
    }
    if field("transfer-encoding").is_some() {
        let body = &bytes[head..];
        return body.windows(5).position(|w| w == b"0\r\n\r\n").map(|at| head + at + 5).or_else(|| {
            // Trailers: the last chunk, then lines, then an empty line.
            let last = body.windows(3).position(|w| w == b"0\r\n")?;
            let end = body[last..].windows(4).position(|w| w == b"\r\n\r\n")?;
            Some(head + last + end + 4)
        });
    }
    Some(head)
}

fn get(path: &str) -> Request<Body> {
    let mut request = Request::new(body::full(""));
    *request.uri_mut() = format!("http://backend{path}").parse().expect("uri");
    request.headers_mut().insert(header::HOST, HeaderValue::from_static("backend"));
    request
}

fn with_method(method: Method, body: Body) -> Request<Body> {
    let mut request = get("/upload");
    *request.method_mut() = method;
    *request.body_mut() = body;
    request
}

/// The body's data and trailers.
async fn read(response: Response<Body>) -> Result<(Vec<u8>, Option<HeaderMap>), String> {
    let mut body = response.into_body();
    let mut data = Vec::new();
    let mut trailers = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        match frame.into_data() {
            Ok(bytes) => data.extend_from_slice(&bytes),
            Err(frame) => trailers = frame.into_trailers().ok(),
        }
    }
    Ok((data, trailers))
}

/// Sends `request` on a new connection to a backend answering `answer`.
async fn exchange(request: Request<Body>, answer: &str) -> (Result<(u16, Vec<u8>, Option<HeaderMap>), String>, Noted) {
    let (io, _backend) = backend(vec![answer.as_bytes().to_vec()], false);
    let noted = Noted::default();
    let result = match Conn::new(io).send(request, false, noted.clone()).await {
        Err(error) => Err(error.detail),
        Ok(response) => {
            let status = response.status().as_u16();
            read(response).await.map(|(data, trailers)| (status, data, trailers))
        }
    };
    (result, noted)
}

#[tokio::test]
async fn each_response_framing_is_read_and_the_connection_goes_back_when_it_may() {
    let cases: &[(&str, Method, &str, &str, bool)] = &[
        ("content-length", Method::GET, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello", "hello", true),
        ("chunked", Method::GET, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\n\r\n", "hello", true),
        ("HEAD with a length", Method::HEAD, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", "", true),
        ("204", Method::GET, "HTTP/1.1 204 No Content\r\n\r\n", "", true),
        ("304 with a length", Method::GET, "HTTP/1.1 304 Not Modified\r\ncontent-length: 9\r\n\r\n", "", true),
        ("1xx first", Method::GET, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", "ok", true),
        ("Connection: close", Method::GET, "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok", "ok", false),
        ("HTTP/1.0", Method::GET, "HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok", "ok", false),
        ("HTTP/1.0 keep-alive", Method::GET, "HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok", "ok", true),
        ("the same length twice", Method::GET, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\nok", "ok", true),
        ("chunked beats a length", Method::GET, "HTTP/1.1 200 OK\r\ncontent-length: 99\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "ok", false),
        ("bare LF in the head", Method::GET, "HTTP/1.1 200 OK\ncontent-length: 2\n\nok", "ok", true),
    ];
    for (name, method, answer, body, back) in cases {
        let (result, noted) = exchange(with_method(method.clone(), body::full("")), answer).await;
        let (status, data, _) = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(status < 400, "{name}: {status}");
        assert_eq!(String::from_utf8_lossy(&data), *body, "{name}");
        assert_eq!(noted.reused(), *back, "{name}: whether the connection went back");
    }
}

#[tokio::test]
async fn hop_by_hop_fields_never_reach_the_response_and_still_decide_its_framing() {
    let answer = "HTTP/1.1 200 OK\r\nconnection: keep-alive, X-Hop\r\nkeep-alive: timeout=5\r\nx-hop: 1\r\n\
                  x-end: 2\r\ntrailer: x-sum\r\ncontent-length: 2\r\n\r\nok";
    let (io, _backend) = backend(vec![answer.as_bytes().to_vec()], false);
    let noted = Noted::default();
    let response = Conn::new(io).send(get("/"), false, noted.clone()).await.expect("sent");
    let mut names: Vec<&str> = response.headers().keys().map(|n| n.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["content-length", "x-end"], "only end-to-end fields are kept");
    let (data, _) = read(response).await.expect("body");
    assert_eq!(data, b"ok");
    assert!(noted.reused(), "keep-alive kept the connection");

    // `close` anywhere in the tokens, a coding that is not chunked, differing lengths.
    for (name, answer, back) in [
        (
            "close after keep-alive",
            "HTTP/1.1 200 OK\r\nconnection: keep-alive\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok",
            false,
        ),
        (
            "gzip then chunked",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            true,
        ),
    ] {
        let (result, noted) = exchange(get("/"), answer).await;
        let (_, data, _) = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(data, b"ok", "{name}");
        assert_eq!(noted.reused(), back, "{name}");
    }
    for (name, answer, why) in [
        ("differing lengths", "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok", "differing"),
        ("a list that differs", "HTTP/1.1 200 OK\r\ncontent-length: 2, 3\r\n\r\nok", "differing"),
        ("a length that is not a number", "HTTP/1.1 200 OK\r\ncontent-length: 2x\r\n\r\nok", "invalid"),
    ] {
        let (result, _) = exchange(get("/"), answer).await;
        let error = result.err().unwrap_or_else(|| panic!("{name}: accepted"));
        assert!(error.contains(why), "{name}: {error}");
    }
}

/// The fields of a response sent with [`HeadForm::Raw`]: its `RawFields` lines (names
/// lower-cased, as a map holds them) followed by its map's fields.
pub(super) fn raw_then_map((response, raw): &super::Answer) -> Vec<(String, Vec<u8>)> {
    let mut fields = Vec::new();
    if let Some(raw) = raw {
        assert!(raw.lines.ends_with(b"\r\n") || raw.lines.is_empty(), "whole lines");
        for line in raw.lines[..].split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
            let line = line.strip_suffix(b"\r").expect("CRLF line ends");
            let colon = line.iter().position(|&b| b == b':').expect("a name");
            let value = line[colon + 1..].strip_prefix(b" ").expect("one space after the colon");
            fields.push((String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase(), value.to_vec()));
        }
    }
    fields.extend(response.headers().iter().map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec())));
    fields
}

#[tokio::test]
async fn raw_fields_are_the_end_to_end_lines_and_what_they_cannot_say_falls_back_to_the_map() {
    let send = |answer: &'static str| async move {
        let (io, _backend) = backend(vec![answer.as_bytes().to_vec()], false);
        let noted = Noted::default();
        let sent = Conn::new(io)
            .send_as(&mut get("/"), false, noted.clone(), Exchange { form: HeadForm::Raw, added: &[], deadline: None })
            .await;
        (sent, noted)
    };
    let (sent, noted) = send(
        "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sun, 06 Dec 2026 08:00:00 GMT\r\nConnection: keep-alive\r\n\
         Keep-Alive: timeout=5\r\nContent-Length: 2\r\nETag: \"a\"\r\nX-Cache:  hit \r\n\r\nok",
    )
    .await;
    let (response, raw) = sent.expect("sent");
    let raw = raw.expect("raw fields");
    assert_eq!(
        String::from_utf8_lossy(&raw.lines),
        "Server: nginx\r\nDate: Sun, 06 Dec 2026 08:00:00 GMT\r\nContent-Length: 2\r\nETag: \"a\"\r\nX-Cache: hit\r\n",
        "end-to-end lines only, as spelled, values trimmed"
    );
    assert_eq!((raw.length, raw.dated), (Some(2), true));
    assert!(response.headers().is_empty(), "the map is left to the gateway's own fields");
    assert_eq!(read(response).await.expect("body").0, b"ok");
    assert!(noted.reused(), "keep-alive kept the connection");

    // A bare LF head becomes CRLF lines.
    let (sent, _) = send("HTTP/1.1 200 OK\nA:b\ncontent-length: 2\n\nok").await;
    let raw = sent.expect("sent").1.expect("raw fields");
    assert_eq!(&raw.lines[..], b"A: b\r\ncontent-length: 2\r\n");

    // What the lines cannot say exactly goes into the map, as `HeadForm::Map` would put it.
    for (name, answer, kept) in [
        (
            "Connection names a field",
            "HTTP/1.1 200 OK\r\nconnection: x-hop\r\nx-hop: 1\r\nx-end: 2\r\ncontent-length: 2\r\n\r\nok",
            &["content-length", "x-end"][..],
        ),
        (
            "a field the gateway sets",
            "HTTP/1.1 200 OK\r\nX-Ca-Request-Id: spoofed\r\ncontent-length: 2\r\n\r\nok",
            &["content-length", "x-ca-request-id"],
        ),
        (
            "chunked with a length",
            "HTTP/1.1 200 OK\r\ncontent-length: 9\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            &["content-length"],
        ),
        ("204 with a length", "HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n", &["content-length"]),
    ] {
        let (sent, _) = send(answer).await;
        let (response, raw) = sent.unwrap_or_else(|e| panic!("{name}: {}", e.detail));
        assert!(raw.is_none(), "{name}: no raw fields");
        let mut names: Vec<&str> = response.headers().keys().map(|n| n.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, kept, "{name}");
    }
    // And refusals are worded as the map's path words them.
    for (name, answer, why) in [
        ("differing lengths", "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok", "differing"),
        ("a length that is not a number", "HTTP/1.1 200 OK\r\ncontent-length: 2x\r\n\r\nok", "invalid"),
    ] {
        let (sent, _) = send(answer).await;
        let error = sent.err().unwrap_or_else(|| panic!("{name}: accepted"));
        assert!(error.detail.contains(why), "{name}: {}", error.detail);
    }
}

#[tokio::test]
async fn a_head_with_more_fields_than_the_stack_keeps_is_read_whole_in_both_forms() {
    let count = SPANS_ON_STACK * 3;
    let mut answer = String::from("HTTP/1.1 200 OK\r\n");
    for n in 0..count {
        answer.push_str(&format!("x-field-{n}: value {n}\r\n"));
    }
    answer.push_str("content-length: 2\r\n\r\nok");
    let answer: &'static str = answer.leak();
    for form in [HeadForm::Map, HeadForm::Raw] {
        let (io, _backend) = backend(vec![answer.as_bytes().to_vec()], false);
        let answer = Conn::new(io)
            .send_as(&mut get("/"), false, Noted::default(), Exchange { form, added: &[], deadline: None })
            .await
            .expect("sent");
        let fields = raw_then_map(&answer);
        let response = answer.0;
        assert_eq!(fields.len(), count + 1, "{form:?}");
        for n in 0..count {
            let expected = (format!("x-field-{n}"), format!("value {n}").into_bytes());
            assert_eq!(fields[n], expected, "{form:?}");
        }
        assert_eq!(read(response).await.expect("body").0, b"ok");
    }
}

#[tokio::test]
async fn a_body_delimited_by_the_close_is_read_to_it_and_the_connection_is_not_kept() {
    for (name, answer) in [
        ("no length", "HTTP/1.1 200 OK\r\n\r\nuntil the end"),
        ("a coding that is not chunked", "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nuntil the end"),
    ] {
        let (io, _backend) = backend(vec![answer.as_bytes().to_vec()], true);
        let noted = Noted::default();
        let response = Conn::new(io).send(get("/"), false, noted.clone()).await.expect(name);
        let (data, _) = read(response).await.expect(name);
        assert_eq!(data, b"until the end", "{name}");
        assert!(!noted.reused(), "{name}");
    }
}

#[tokio::test]
async fn chunked_trailers_arrive_as_a_trailers_frame() {
    let answer =
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nx-checksum: abc\r\nx-more: 1\r\n\r\n";
    let (result, noted) = exchange(get("/"), answer).await;
    let (_, data, trailers) = result.expect("answered");
    assert_eq!(data, b"ok");
    let trailers = trailers.expect("trailers");
    assert_eq!(trailers.get("x-checksum").map(|v| v.as_bytes()), Some(&b"abc"[..]));
    assert_eq!(trailers.len(), 2);
    assert!(noted.reused());
}

#[tokio::test]
async fn malformed_answers_are_refused_never_guessed() {
    let refused = [
        ("two differing lengths", "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok!"),
        ("a length that is not a number", "HTTP/1.1 200 OK\r\ncontent-length: +2\r\n\r\nok"),
        ("a length list that differs", "HTTP/1.1 200 OK\r\ncontent-length: 2, 3\r\n\r\nok!"),
        ("a folded header", "HTTP/1.1 200 OK\r\nx-a: 1\r\n  folded\r\ncontent-length: 2\r\n\r\nok"),
        ("a chunk size that is not hex", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n"),
        ("a negative chunk size", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n-2\r\nok\r\n0\r\n\r\n"),
        ("a 0x chunk size", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n"),
        (
            "an overflowing chunk size",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10000000000000002\r\nok\r\n0\r\n\r\n",
        ),
        ("a bare LF after a chunk size", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\nok\r\n0\r\n\r\n"),
        ("chunk data without its CRLF", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nokX\r\n0\r\n\r\n"),
        ("an unasked 101", "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n"),
        ("not HTTP", "SSH-2.0-OpenSSH_9.6\r\n\r\n"),
        ("a bad header name", "HTTP/1.1 200 OK\r\nx a: 1\r\ncontent-length: 0\r\n\r\n"),
        ("a control character in a value", "HTTP/1.1 200 OK\r\nx-a: 1\x01\r\ncontent-length: 0\r\n\r\n"),
    ];
    for (name, answer) in refused {
        let (result, noted) = exchange(get("/"), answer).await;
        assert!(result.is_err(), "{name}: {result:?}");
        assert!(!noted.reused(), "{name}: a connection that failed is not kept");
    }
}

#[tokio::test]
async fn heads_past_the_limits_are_refused() {
    let many: String = (0..=MAX_HEADERS).map(|i| format!("x-{i}: 1\r\n")).collect();
    let large = format!("x-large: {}\r\n", "a".repeat(MAX_HEAD_BYTES));
    for (name, extra) in [("too many headers", many), ("a head too large", large)] {
        let answer = format!("HTTP/1.1 200 OK\r\n{extra}content-length: 0\r\n\r\n");
        let (result, _) = exchange(get("/"), &answer).await;
        let error = result.expect_err(name);
        assert!(error.contains("headers") || error.contains("KiB"), "{name}: {error}");
    }
}

#[tokio::test]
async fn a_body_cut_short_is_an_error_not_a_short_answer() {
    for answer in [
        "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort",
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\na\r\nshort",
    ] {
        let (io, _backend) = backend(vec![answer.as_bytes().to_vec()], true);
        let noted = Noted::default();
        let response = Conn::new(io).send(get("/"), false, noted.clone()).await.expect("head");
        assert!(read(response).await.is_err(), "{answer:?}");
        assert!(!noted.reused());
    }
}

/// A body of frames whose length is not known ahead (a streamed upload or answer).
pub(super) struct Frames(pub(super) std::collections::VecDeque<Frame<Bytes>>);

impl hyper::body::Body for Frames {
    type Data = Bytes;
    type Error = BoxError;
    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Poll::Ready(self.0.pop_front().map(Ok))
    }
}

#[tokio::test]
async fn the_backend_receives_one_framing_of_our_choosing() {
    let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".to_vec();
    // A caller's framing headers and Expect never pass; the body's own framing does.
    let mut known = with_method(Method::POST, body::full("hello"));
    let headers = known.headers_mut();
    headers.insert(header::TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
    headers.insert(header::EXPECT, HeaderValue::from_static("100-continue"));
    headers.insert("x-kept", HeaderValue::from_static("yes"));
    // A streamed body of unknown length goes chunked, with its trailers.
    let mut trailers = HeaderMap::new();
    trailers.insert("x-sum", HeaderValue::from_static("7"));
    let streamed = Frames(
        [Frame::data(Bytes::from_static(b"abc")), Frame::data(Bytes::from_static(b"defg")), Frame::trailers(trailers)]
            .into(),
    );
    let cases: Vec<(&str, Request<Body>, &str)> = vec![
        ("GET", get("/a?b=c"), "GET /a?b=c HTTP/1.1\r\nhost: backend\r\n\r\n"),
        ("an empty POST", with_method(Method::POST, body::full("")), "POST /upload HTTP/1.1\r\nhost: backend\r\ncontent-length: 0\r\n\r\n"),
        ("a known body", known, "POST /upload HTTP/1.1\r\nhost: backend\r\nx-kept: yes\r\ncontent-length: 5\r\n\r\nhello"),
        ("a streamed body", with_method(Method::PUT, BodyExt::boxed(streamed)), "PUT /upload HTTP/1.1\r\nhost: backend\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\nx-sum: 7\r\n\r\n"),
    ];
    for (name, request, expected) in cases {
        let (io, backend) = backend(vec![ok.clone()], true);
        let response = Conn::new(io).send(request, false, Noted::default()).await.expect(name);
        assert_eq!(response.status(), 200, "{name}");
        drop(response);
        let seen = backend.await.expect("backend");
        assert_eq!(String::from_utf8_lossy(&seen[0]), expected, "{name}");
    }
}

#[tokio::test]
async fn added_fields_go_ahead_of_the_maps_and_a_request_handed_back_does_not_carry_them() {
    let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".to_vec();
    let added: Added<'_> = &[("x-forwarded-for", b"192.0.2.1"), ("x-ca-request-id", b"abc-1")];
    let (io, answered) = backend(vec![ok], true);
    let exchange = Exchange { form: HeadForm::Map, added, deadline: None };
    let response = Conn::new(io).send_as(&mut get("/a"), false, Noted::default(), exchange).await.expect("sent");
    drop(response);
    let seen = answered.await.expect("backend");
    assert_eq!(
        String::from_utf8_lossy(&seen[0]),
        "GET /a HTTP/1.1\r\nx-forwarded-for: 192.0.2.1\r\nx-ca-request-id: abc-1\r\nhost: backend\r\n\r\n"
    );

    // Closed unanswered on a reused connection: the request lent is as it was given, the
    // added fields left to the caller to add again.
    let (io, _backend) = backend(vec![], true);
    let exchange = Exchange { form: HeadForm::Map, added, deadline: None };
    let mut unsent = get("/a");
    let failed = Conn::new(io).send_as(&mut unsent, true, Noted::default(), exchange).await.expect_err("closed");
    assert!(failed.unsent.is_some(), "never seen");
    assert_eq!((unsent.method(), unsent.uri().path()), (&Method::GET, "/a"));
    assert!(unsent.headers().get("x-forwarded-for").is_none());
    assert_eq!(unsent.headers()["host"], "backend");
}

#[tokio::test(start_paused = true)]
async fn the_connections_one_timer_holds_each_requests_deadline() {
    let (ours, mut theirs) = tokio::io::duplex(1 << 16);
    // The backend answers the first request at once, the second after 150 ms, the third never.
    tokio::spawn(async move {
        let mut pending = Vec::new();
        for delay in [Some(0), Some(150), None] {
            while whole_request(&pending).is_none() {
                let mut buf = [0u8; 4096];
                match theirs.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => pending.extend_from_slice(&buf[..n]),
                }
            }
            pending.clear();
            let Some(delay) = delay else {
                tokio::time::sleep(Duration::from_secs(60)).await;
                return;
            };
            tokio::time::sleep(Duration::from_millis(delay)).await;
            if theirs.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await.is_err() {
                return;
            }
        }
    });
    let noted = Noted::default();
    let within = |ms| Exchange {
        form: HeadForm::Map,
        added: &[],
        deadline: Some(tokio::time::Instant::now() + Duration::from_millis(ms)),
    };
    // The first, due in 100 ms, answered at once: the connection goes back, its timer set.
    let (first, _) = Conn::new(ours).send_as(&mut get("/1"), false, noted.clone(), within(100)).await.expect("first");
    drop(first);
    // The second, due in 200 ms, answered after 150: past the first's deadline, within its own.
    let started = tokio::time::Instant::now();
    let (second, _) = noted.take().send_as(&mut get("/2"), true, noted.clone(), within(200)).await.expect("second");
    assert_eq!((second.status(), started.elapsed().as_millis()), (StatusCode::OK, 150));
    drop(second);
    // The third, due in 200 ms, never answered: refused at its own deadline, not at the timer
    // the second left set.
    let started = tokio::time::Instant::now();
    let error = noted.take().send_as(&mut get("/3"), true, noted.clone(), within(200)).await.expect_err("timed out");
    assert!(error.timed_out && error.unsent.is_none(), "{}", error.detail);
    assert_eq!(started.elapsed().as_millis(), 200);
}

#[tokio::test]
async fn a_request_body_that_fails_or_lies_about_its_length_is_not_sent_as_whole() {
    // A body whose size hint says 10 but that ends after 3 bytes.
    struct Liar(bool);
    impl hyper::body::Body for Liar {
        type Data = Bytes;
        type Error = BoxError;
        fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            if self.0 {
                return Poll::Ready(None);
            }
            self.0 = true;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"abc")))))
        }
        fn size_hint(&self) -> SizeHint {
            SizeHint::with_exact(10)
        }
    }
    // A body that gives some bytes, then fails (the caller went away).
    struct Failing(bool);
    impl hyper::body::Body for Failing {
        type Data = Bytes;
        type Error = BoxError;
        fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            if self.0 {
                return Poll::Ready(Some(Err(Box::new(io::Error::other("the caller went away")))));
            }
            self.0 = true;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"abc")))))
        }
    }
    for (name, body, expected) in [
        ("shorter than its length", BodyExt::boxed(Liar(false)), "shorter"),
        ("failing", BodyExt::boxed(Failing(false)), "the caller went away"),
    ] {
        let (io, _backend) = backend(vec![], false);
        let error = Conn::new(io).send(with_method(Method::POST, body), false, Noted::default()).await.expect_err(name);
        assert!(error.detail.contains(expected), "{name}: {}", error.detail);
        assert!(error.unsent.is_none(), "{name}: part of it was sent");
    }
}

#[tokio::test]
async fn a_reused_connection_closed_before_answering_hands_back_only_what_the_backend_cannot_have_seen() {
    for (method, body, unsent) in [
        (Method::GET, body::full(""), true),
        (Method::DELETE, body::full(""), true),
        (Method::POST, body::full(""), false),
        (Method::PUT, body::full("data"), false),
    ] {
        let (io, _backend) = backend(vec![], true);
        let error =
            Conn::new(io).send(with_method(method.clone(), body), true, Noted::default()).await.expect_err("closed");
        assert_eq!(error.unsent.is_some(), unsent, "{method}: {}", error.detail);
    }
    // A connection new for this request: its close is the backend's answer, not staleness.
    let (io, _backend) = backend(vec![], true);
    let error = Conn::new(io).send(get("/"), false, Noted::default()).await.expect_err("closed");
    assert!(error.unsent.is_none());
}

#[tokio::test]
async fn a_connection_that_went_back_serves_the_next_request_and_a_closed_one_reads_as_closed() {
    let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec();
    let (io, backend) = backend(vec![answer.clone(), answer], true);
    let noted = Noted::default();
    let response = Conn::new(io).send(get("/one"), false, noted.clone()).await.expect("one");
    assert_eq!(read(response).await.expect("body").0, b"ok");
    let mut conn = noted.take();
    assert!(conn.is_open(), "an idle connection still open");
    let again = Noted::default();
    let response = conn.send(get("/two"), true, again.clone()).await.expect("two");
    assert_eq!(read(response).await.expect("body").0, b"ok");
    let seen = backend.await.expect("backend");
    assert_eq!(seen.len(), 2, "both requests on one connection");
    // The backend has closed it now.
    let mut conn = again.take();
    tokio::task::yield_now().await;
    assert!(!conn.is_open(), "a connection the backend closed");
}

/// A body fed by the test, frame by frame.
struct Fed(tokio::sync::mpsc::Receiver<Bytes>);

impl hyper::body::Body for Fed {
    type Data = Bytes;
    type Error = BoxError;
    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.0.poll_recv(cx).map(|data| data.map(|data| Ok(Frame::data(data))))
    }
}

#[tokio::test]
async fn the_answer_is_read_while_the_request_body_is_still_being_written() {
    // A backend that answers as soon as it has the head, then echoes each chunk it gets.
    let (ours, mut theirs) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = theirs.read(&mut buf).await.expect("read");
            seen.extend_from_slice(&buf[..n]);
        }
        let _ = theirs.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n").await;
        // What came with the head (the first chunk, written with it), echoed first.
        let at = seen.windows(4).position(|w| w == b"\r\n\r\n").map_or(0, |at| at + 4);
        if at < seen.len() {
            let rest = &seen[at..];
            let echo = format!("{:x}\r\n{}\r\n", rest.len(), String::from_utf8_lossy(rest));
            let _ = theirs.write_all(echo.as_bytes()).await;
        }
        loop {
            let n = match theirs.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let echo = format!("{n:x}\r\n{}\r\n", String::from_utf8_lossy(&buf[..n]));
            let _ = theirs.write_all(echo.as_bytes()).await;
        }
    });
    let (feed, fed) = tokio::sync::mpsc::channel(1);
    feed.send(Bytes::from_static(b"one")).await.expect("feed");
    let request = with_method(Method::POST, BodyExt::boxed(Fed(fed)));
    let within = Duration::from_secs(5);
    let response = tokio::time::timeout(within, Conn::new(ours).send(request, false, Noted::default()))
        .await
        .expect("head")
        .expect("sent");
    let mut body = response.into_body();
    let first = tokio::time::timeout(within, body.frame()).await.expect("in time").expect("frame").expect("ok");
    // The first chunk as the backend echoed it: the chunk framing of our upload included.
    assert!(String::from_utf8_lossy(&first.into_data().expect("data")).contains("one"));
    feed.send(Bytes::from_static(b"two")).await.expect("feed");
    let second = tokio::time::timeout(within, body.frame()).await.expect("in time").expect("frame").expect("ok");
    assert!(String::from_utf8_lossy(&second.into_data().expect("data")).contains("two"));
}

/// Generated responses, read by this client and by hyper's: the same status, headers, body
/// and trailers, or both refuse.
mod differential {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Framing {
        Length,
        Chunked { sizes: Vec<usize>, trailers: bool },
        Close,
    }

    #[derive(Debug, Clone)]
    struct Answer {
        status: u16,
        interim: bool,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        framing: Framing,
        head: bool,
    }

    impl Answer {
        fn bytes(&self) -> Vec<u8> {
            let mut out = Vec::new();
            if self.interim {
                out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
            }
            out.extend_from_slice(format!("HTTP/1.1 {} Whatever\r\n", self.status).as_bytes());
            for (name, value) in &self.headers {
                out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
            }
            let bodiless = self.head || self.status == 204 || self.status == 304;
            match &self.framing {
                Framing::Length => {
                    out.extend_from_slice(format!("content-length: {}\r\n\r\n", self.body.len()).as_bytes())
                }
                Framing::Close => out.extend_from_slice(b"connection: close\r\n\r\n"),
                Framing::Chunked { .. } => out.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n"),
            }
            if bodiless {
                return out;
            }
            match &self.framing {
                Framing::Length | Framing::Close => out.extend_from_slice(&self.body),
                Framing::Chunked { sizes, trailers } => {
                    chunks(&self.body, sizes, &mut out);
                    out.extend_from_slice(b"0\r\n");
                    if *trailers {
                        out.extend_from_slice(b"x-trailer: done\r\n");
                    }
                    out.extend_from_slice(b"\r\n");
                }
            }
            out
        }
    }

    fn answers() -> impl Strategy<Value = Answer> {
        let status =
            prop_oneof![Just(200u16), Just(201), Just(204), Just(304), Just(404), Just(500), Just(503), 200u16..600];
        // Names of every kind the raw fields tell apart (the gateway's own, `Date`, hop-by-hop,
        // a `Connection` naming another), in any case.
        let name = prop_oneof![
            4 => "x-[a-z]{1,8}",
            1 => "[Xx]-[Cc][Aa]-[a-zA-Z]{1,6}",
            1 => Just("Date".to_string()),
            1 => Just("Keep-Alive".to_string()),
            1 => Just("ETag".to_string()),
        ];
        let header = (name, "[ -~]{0,20}").prop_map(|(n, v)| (n, v.trim().to_string()));
        let naming = ("[a-z]{1,3}", "x-[a-z]{1,8}").prop_map(|(_, named)| ("Connection".to_string(), named));
        let header = prop_oneof![8 => header, 1 => naming];
        let framing = prop_oneof![
            Just(Framing::Length),
            Just(Framing::Close),
            (proptest::collection::vec(1usize..50, 0..6), any::<bool>())
                .prop_map(|(sizes, trailers)| Framing::Chunked { sizes, trailers }),
        ];
        (
            status,
            any::<bool>(),
            proptest::collection::vec(header, 0..8),
            proptest::collection::vec(any::<u8>(), 0..300),
            framing,
            any::<bool>(),
        )
            .prop_map(|(status, interim, headers, body, framing, head)| Answer {
                status,
                interim,
                headers,
                body,
                framing,
                head,
            })
    }

    type Seen = Result<(u16, Vec<(String, Vec<u8>)>, Vec<u8>, Option<Vec<(String, Vec<u8>)>>), ()>;

    fn fields(map: &HeaderMap) -> Vec<(String, Vec<u8>)> {
        map.iter().map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec())).collect()
    }

    async fn ours(answer: &Answer) -> Seen {
        let method = if answer.head { Method::HEAD } else { Method::GET };
        let (io, _backend) = backend(vec![answer.bytes()], true);
        let response =
            Conn::new(io).send(with_method(method, body::full("")), false, Noted::default()).await.map_err(|_| ())?;
        let (status, headers) = (response.status().as_u16(), fields(response.headers()));
        let (data, trailers) = read(response).await.map_err(|_| ())?;
        Ok((status, headers, data, trailers.as_ref().map(fields)))
    }

    /// The same with [`HeadForm::Raw`], its lines read back as fields.
    async fn ours_raw(answer: &Answer) -> Seen {
        let method = if answer.head { Method::HEAD } else { Method::GET };
        let (io, _backend) = backend(vec![answer.bytes()], true);
        let mut request = with_method(method, body::full(""));
        let answer = Conn::new(io)
            .send_as(
                &mut request,
                false,
                Noted::default(),
                Exchange { form: HeadForm::Raw, added: &[], deadline: None },
            )
            .await
            .map_err(|_| ())?;
        let (status, headers) = (answer.0.status().as_u16(), super::raw_then_map(&answer));
        let (data, trailers) = read(answer.0).await.map_err(|_| ())?;
        Ok((status, headers, data, trailers.as_ref().map(fields)))
    }

    async fn hypers(answer: &Answer) -> Seen {
        let method = if answer.head { Method::HEAD } else { Method::GET };
        let (io, _backend) = backend(vec![answer.bytes()], true);
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io)).await.map_err(|_| ())?;
        tokio::spawn(connection);
        let mut request = with_method(method, body::full(""));
        *request.uri_mut() = "/upload".parse().expect("uri");
        let mut response = sender.send_request(request).await.map_err(|_| ())?;
        // Hop-by-hop fields describe the backend connection: ours never puts them in the
        // response (the gateway strips them from hyper's too).
        crate::phases::strip_hop_by_hop(response.headers_mut());
        let (status, headers) = (response.status().as_u16(), fields(response.headers()));
        let (data, trailers) = read(response.map(body::stream)).await.map_err(|_| ())?;
        Ok((status, headers, data, trailers.as_ref().map(fields)))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::h1::tests::cases(300)))]
        #[test]
        fn both_clients_read_every_generated_answer_alike(answer in answers()) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            let (ours, raw, hypers) =
                runtime.block_on(async { (ours(&answer).await, ours_raw(&answer).await, hypers(&answer).await) });
            // Fields are compared by name, each name's values in order: a map's removals
            // (hyper's `Connection`) reorder the rest.
            let by_name = |seen: Seen| seen.map(|(status, mut fields, data, trailers)| {
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                (status, fields, data, trailers)
            });
            let (ours, raw, hypers) = (by_name(ours), by_name(raw), by_name(hypers));
            prop_assert_eq!(&ours, &hypers, "{:?}", String::from_utf8_lossy(&answer.bytes()));
            prop_assert_eq!(&raw, &hypers, "raw fields: {:?}", String::from_utf8_lossy(&answer.bytes()));
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), prefix in any::<bool>()) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            let mut answer = if prefix { b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec() } else { Vec::new() };
            answer.extend_from_slice(&bytes);
            runtime.block_on(async {
                let (io, _backend) = backend(vec![answer], true);
                if let Ok(response) = Conn::new(io).send(get("/"), false, Noted::default()).await {
                    let _ = read(response).await;
                }
            });
        }
    }
}
