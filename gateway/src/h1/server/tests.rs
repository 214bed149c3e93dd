//! Callers' HTTP/1.1: conformance (framings both ways, 100-continue, HEAD, 204/304,
//! pipelining, half-close, keep-alive rules), the refusals nginx makes (smuggling shapes,
//! limits), the clocks, and a differential test against hyper's server on generated
//! requests.

use super::*;
use crate::body;
use crate::h1::tests::Frames;
use crate::h1::Present;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

fn settings() -> Settings {
    Settings {
        max_head: 8 * 1024,
        timeouts: Timeouts { head: Duration::from_millis(800), idle: Duration::from_millis(1500) },
    }
}

/// What the handler saw, as text: the request line, whether `present` leaves out no kind of
/// field the head holds (it may only say more than there is), the headers (sorted), the body
/// and the trailers. The answer says it with `x-echo: yes`, chunked when the request asks
/// for it with `x-stream`.
async fn echo(request: Request<Body>, present: Present) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let mut held = Present::NONE;
    parts.headers.keys().for_each(|name| held.note(name));
    let sound = held.0 & !present.0 == 0;
    let mut lines = vec![format!("{} {} {:?} sound: {sound}", parts.method, parts.uri, parts.version)];
    let mut headers: Vec<String> =
        parts.headers.iter().map(|(n, v)| format!("{n}: {}", String::from_utf8_lossy(v.as_bytes()))).collect();
    headers.sort();
    lines.extend(headers);
    let mut data = Vec::new();
    let mut trailers = Vec::new();
    let mut body = body;
    let mut failed = None;
    while let Some(frame) = body.frame().await {
        match frame {
            Err(error) => {
                failed = Some(error.to_string());
                break;
            }
            Ok(frame) => match frame.into_data() {
                Ok(bytes) => data.extend_from_slice(&bytes),
                Err(frame) => {
                    if let Ok(map) = frame.into_trailers() {
                        trailers
                            .extend(map.iter().map(|(n, v)| format!("{n}={}", String::from_utf8_lossy(v.as_bytes()))));
                    }
                }
            },
        }
    }
    if let Some(error) = failed {
        // Asked again after failing, a body stays failed: its connection must not look
        // read to its end (the rest would be read as the next request).
        assert!(body.frame().await.is_none(), "a failed body ends");
        let mut response = Response::new(body::full(format!("body failed: {error}")));
        *response.status_mut() = StatusCode::BAD_GATEWAY;
        return response;
    }
    lines.push(format!("body: {}", String::from_utf8_lossy(&data)));
    lines.push(format!("trailers: {}", trailers.join(",")));
    let text = lines.join("\n");
    let streamed = parts.headers.contains_key("x-stream");
    let mut response = if streamed {
        let frames: std::collections::VecDeque<_> =
            text.as_bytes().chunks(7).map(|c| Frame::data(Bytes::copy_from_slice(c))).collect();
        Response::new(BodyExt::boxed(Frames(frames)))
    } else {
        Response::new(body::full(text))
    };
    response.headers_mut().insert("x-echo", HeaderValue::from_static("yes"));
    if let Some(status) = parts.headers.get("x-status").and_then(|v| v.to_str().ok()?.parse::<u16>().ok()) {
        *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    }
    response
}

/// Which server a test talks to.
#[derive(Clone, Copy, Debug)]
enum Server {
    Ours,
    Hyper,
}

/// [`echo`]'s response, its fields all in its map.
async fn answer(request: Box<Request<Body>>, present: Present) -> crate::h1::Answer {
    (echo(*request, present).await, None)
}

/// A listener serving every connection with [`echo`] on `server`.
async fn listen(server: Server) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                match server {
                    Server::Ours => {
                        let closing = tokio_util::sync::CancellationToken::new();
                        serve(stream, settings(), closing, answer, |_rewind| async {}).await;
                    }
                    Server::Hyper => {
                        let service =
                            hyper::service::service_fn(|request: Request<hyper::body::Incoming>| async move {
                                Ok::<_, std::convert::Infallible>(echo(request.map(body::stream), Present::ANY).await)
                            });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                    }
                }
            });
        }
    });
    address
}

/// Writes `bytes` (then half-closes, with `shut`) and reads until the server closes or
/// `quiet` passes without a byte.
async fn exchange(address: std::net::SocketAddr, bytes: &[u8], shut: bool, quiet: Duration) -> Vec<u8> {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    if shut {
        stream.shutdown().await.expect("half-close");
    }
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(quiet, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return seen,
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// The responses in `bytes`: status, headers (lowercase names, without `date`) and body.
/// `heads`: which answers (by their place) are to HEAD requests.
fn responses_to(mut bytes: &[u8], heads: &[usize]) -> Vec<(u16, Vec<(String, String)>, Vec<u8>)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let mut fields = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut fields);
        let Ok(httparse::Status::Complete(head)) = response.parse(bytes) else { break };
        let status = response.code.unwrap_or(0);
        let headers: Vec<(String, String)> = response
            .headers
            .iter()
            .map(|f| (f.name.to_ascii_lowercase(), String::from_utf8_lossy(f.value).into_owned()))
            .filter(|(n, _)| n != "date")
            .collect();
        let field = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        bytes = &bytes[head..];
        let mut body = Vec::new();
        if status == 100 {
            out.push((status, headers, body));
            continue;
        }
        if heads.contains(&out.len()) || status == 204 || status == 304 {
        } else if let Some(length) = field("content-length") {
            let length: usize = length.parse().expect("length");
            body.extend_from_slice(&bytes[..length.min(bytes.len())]);
            bytes = &bytes[length.min(bytes.len())..];
        } else if field("transfer-encoding").is_some() {
            loop {
                let Some(lf) = bytes.iter().position(|&b| b == b'\n') else { break };
                let size = usize::from_str_radix(String::from_utf8_lossy(&bytes[..lf]).trim(), 16).expect("size");
                bytes = &bytes[lf + 1..];
                if size == 0 {
                    let end = bytes.windows(2).position(|w| w == b"\r\n").unwrap_or(0);
                    // Trailer lines, then the empty line.
                    let rest = bytes.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4);
                    bytes = if end == 0 { &bytes[2..] } else { &bytes[rest.unwrap_or(bytes.len())..] };
                    break;
                }
                body.extend_from_slice(&bytes[..size]);
                bytes = &bytes[size + 2..];
            }
        } else {
            body.extend_from_slice(bytes);
            bytes = &[];
        }
        out.push((status, headers, body));
    }
    out
}

/// The responses in `bytes`, none of them to a HEAD request.
fn responses(bytes: &[u8]) -> Vec<(u16, Vec<(String, String)>, Vec<u8>)> {
    responses_to(bytes, &[])
}

fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

const QUIET: Duration = Duration::from_millis(300);

#[tokio::test]
async fn bodies_of_each_framing_reach_the_handler_whole_with_their_trailers() {
    let address = listen(Server::Ours).await;
    let cases = [
        ("no body", "GET /a?b=c HTTP/1.1\r\nhost: x\r\n\r\n", "body: \ntrailers: "),
        ("a length", "POST /a HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello", "body: hello\ntrailers: "),
        (
            "chunked with trailers",
            "POST /a HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nx-sum: 9\r\n\r\n",
            "body: hello\ntrailers: x-sum=9",
        ),
    ];
    for (name, request, expected) in cases {
        let answers = responses(&exchange(address, request.as_bytes(), true, QUIET).await);
        assert_eq!(answers.len(), 1, "{name}");
        assert_eq!(answers[0].0, 200, "{name}");
        assert!(text(&answers[0].2).ends_with(expected), "{name}: {}", text(&answers[0].2));
    }
}

#[tokio::test]
async fn responses_carry_a_length_or_go_chunked_and_head_204_304_have_no_body() {
    let address = listen(Server::Ours).await;
    let request = "GET / HTTP/1.1\r\nhost: x\r\n\r\nGET / HTTP/1.1\r\nhost: x\r\nx-stream: 1\r\n\r\nHEAD / HTTP/1.1\r\nhost: x\r\n\r\nGET / HTTP/1.1\r\nhost: x\r\nx-status: 204\r\n\r\nGET / HTTP/1.1\r\nhost: x\r\nx-status: 304\r\n\r\nGET /last HTTP/1.1\r\nhost: x\r\n\r\n";
    let bytes = exchange(address, request.as_bytes(), true, QUIET).await;
    let raw = text(&bytes);
    let answers = responses_to(&bytes, &[2]);
    assert_eq!(answers.iter().map(|a| a.0).collect::<Vec<_>>(), vec![200, 200, 200, 204, 304, 200], "{raw}");
    let header = |i: usize, name: &str| answers[i].1.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    assert!(header(0, "content-length").is_some(), "a known length is sent: {raw}");
    assert_eq!(header(1, "transfer-encoding").as_deref(), Some("chunked"), "{raw}");
    assert!(text(&answers[1].2).starts_with("GET / HTTP/1.1"), "the chunked body arrives whole: {raw}");
    assert!(header(2, "content-length").is_some(), "HEAD keeps the length it would have: {raw}");
    assert!(answers[3].2.is_empty() && header(3, "content-length").is_none(), "204 has no body: {raw}");
    assert!(answers[4].2.is_empty(), "304 has no body: {raw}");
    assert!(text(&answers[5].2).starts_with("GET /last"), "the pipelined requests are answered in order: {raw}");
}

#[tokio::test]
async fn expect_100_continue_gets_its_interim_answer_before_the_body_is_sent() {
    let address = listen(Server::Ours).await;
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream
        .write_all(b"POST / HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 4\r\n\r\n")
        .await
        .expect("head");
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await.expect("in time").expect("read");
    assert_eq!(&buf[..n], b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(b"data").await.expect("body");
    stream.shutdown().await.expect("half-close");
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut rest)).await;
    let answers = responses(&rest);
    assert_eq!(answers[0].0, 200);
    assert!(text(&answers[0].2).contains("body: data"));
}

#[tokio::test]
async fn smuggling_shapes_and_oversized_heads_are_refused_as_nginx_refuses_them() {
    let address = listen(Server::Ours).await;
    let big = format!("GET / HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n", "a".repeat(9000));
    let many: String = (0..=MAX_HEADERS).map(|i| format!("x-{i}: 1\r\n")).collect();
    let many = format!("GET / HTTP/1.1\r\nhost: x\r\n{many}\r\n");
    let cases: Vec<(&str, String, u16)> = vec![
        (
            "CL and TE",
            "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n".into(),
            400,
        ),
        (
            "TE and CL",
            "POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n0\r\n\r\n".into(),
            400,
        ),
        ("two CLs", "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ncontent-length: 3\r\n\r\nabc".into(), 400),
        ("a CL list", "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3, 3\r\n\r\nabc".into(), 400),
        ("a signed CL", "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: +3\r\n\r\nabc".into(), 400),
        (
            "a TE other than chunked",
            "POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n".into(),
            501,
        ),
        (
            "two TEs",
            "POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n"
                .into(),
            400,
        ),
        ("TE in HTTP/1.0", "POST / HTTP/1.0\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n".into(), 400),
        ("a folded header", "GET / HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n folded\r\n\r\n".into(), 400),
        ("a space before the colon", "GET / HTTP/1.1\r\nhost : x\r\n\r\n".into(), 400),
        ("HTTP/2.0 on HTTP/1", "GET / HTTP/2.0\r\nhost: x\r\n\r\n".into(), 505),
        ("a head over the limit", big, 431),
        ("too many headers", many, 431),
        (
            "an unknown expectation",
            "POST / HTTP/1.1\r\nhost: x\r\nexpect: tea\r\ncontent-length: 1\r\n\r\na".into(),
            417,
        ),
        ("a control byte in a value", "GET / HTTP/1.1\r\nhost: x\r\nx-a: 1\x01\r\n\r\n".into(), 400),
    ];
    for (name, request, status) in cases {
        let bytes = exchange(address, request.as_bytes(), false, Duration::from_secs(2)).await;
        let answers = responses(&bytes);
        assert_eq!(answers.len(), 1, "{name}: {}", text(&bytes));
        assert_eq!(answers[0].0, status, "{name}: {}", text(&bytes));
        assert!(answers[0].1.iter().any(|(n, v)| n == "connection" && v == "close"), "{name}: the connection closes");
        assert!(!answers[0].1.iter().any(|(n, _)| n == "x-echo"), "{name}: the handler never saw it");
    }
}

#[tokio::test]
async fn a_chunked_body_with_an_invalid_chunk_fails_where_it_is_read_and_the_connection_closes() {
    let address = listen(Server::Ours).await;
    for (name, chunks) in [
        ("not hex", "zz\r\nab\r\n0\r\n\r\n"),
        ("0x", "0x2\r\nab\r\n0\r\n\r\n"),
        ("a bare LF", "2\nab\r\n0\r\n\r\n"),
        ("overflow", "10000000000000002\r\nab\r\n0\r\n\r\n"),
        ("data longer than its size", "2\r\nabc\r\n0\r\n\r\n"),
    ] {
        let request = format!("POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n{chunks}GET /next HTTP/1.1\r\nhost: x\r\n\r\n");
        let bytes = exchange(address, request.as_bytes(), false, Duration::from_secs(2)).await;
        let answers = responses(&bytes);
        assert_eq!(answers.len(), 1, "{name}: nothing after the bad body is read as a request: {}", text(&bytes));
        assert_eq!(answers[0].0, 502, "{name}: {}", text(&bytes));
        assert!(text(&answers[0].2).contains("chunk"), "{name}: {}", text(&answers[0].2));
    }
}

#[tokio::test]
async fn keep_alive_follows_the_version_and_connection_header_and_half_close_still_gets_its_answer() {
    let address = listen(Server::Ours).await;
    for (name, request, answered) in [
        ("HTTP/1.0 closes after one", "GET /1 HTTP/1.0\r\n\r\nGET /2 HTTP/1.0\r\n\r\n", 1),
        ("HTTP/1.0 keep-alive", "GET /1 HTTP/1.0\r\nconnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n", 2),
        ("Connection: close", "GET /1 HTTP/1.1\r\nconnection: close\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", 1),
        ("HTTP/1.1 keeps", "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", 2),
    ] {
        let bytes = exchange(address, request.as_bytes(), true, QUIET).await;
        assert_eq!(responses(&bytes).len(), answered, "{name}: {}", text(&bytes));
    }
}

#[tokio::test]
async fn the_head_clock_and_the_idle_clock_close_connections() {
    let address = listen(Server::Ours).await;
    // Half a head: closed by the head clock (0.8 s), with no answer.
    let started = std::time::Instant::now();
    let bytes = exchange(address, b"GET / HTTP/1.1\r\nhost:", false, Duration::from_secs(3)).await;
    assert!(bytes.is_empty(), "{}", text(&bytes));
    assert!(started.elapsed() < Duration::from_millis(2500), "closed by the head clock");
    // A request, then silence: closed by the idle clock (1.5 s) after the answer.
    let started = std::time::Instant::now();
    let bytes = exchange(address, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n", false, Duration::from_secs(4)).await;
    assert_eq!(responses(&bytes).len(), 1);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(1400) && waited < Duration::from_millis(3500), "{waited:?}");
}

#[tokio::test]
async fn the_clocks_follow_each_request_on_a_kept_connection() {
    // The timer is only moved earlier (`read_head`): one set for an earlier request fires
    // early, and must neither close a connection still in use nor keep an idle one open.
    let address = listen(Server::Ours).await;
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    let mut answers = 0;
    let mut read = Vec::new();
    let started = std::time::Instant::now();
    for _ in 0..3 {
        // 1 s apart, 2 s in all: past the idle clock (1.5 s) of the first request.
        stream.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await.expect("write");
        while responses(&read).len() == answers {
            let mut buf = [0u8; 4096];
            let n = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf))
                .await
                .expect("answered")
                .expect("read");
            assert!(n > 0, "closed while in use after {:?}", started.elapsed());
            read.extend_from_slice(&buf[..n]);
        }
        answers += 1;
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    // Half a head after the last wait: the head clock (0.8 s) closes it, not the idle clock
    // still set from before.
    stream.write_all(b"GET / HTTP/1.1\r\nhost:").await.expect("write");
    let half = std::time::Instant::now();
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf)).await.expect("closed").unwrap_or(0);
    assert_eq!(n, 0, "no answer to half a head");
    let waited = half.elapsed();
    assert!(waited >= Duration::from_millis(700) && waited < Duration::from_millis(1400), "{waited:?}");
}

/// Generated requests through this server and hyper's: the handler sees the same, and the
/// caller reads the same statuses and bodies.
mod differential {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    struct Generated {
        method: &'static str,
        path: String,
        headers: Vec<(String, String)>,
        body: Option<(Vec<u8>, Option<Vec<usize>>)>,
        stream: bool,
    }

    impl Generated {
        fn bytes(&self) -> Vec<u8> {
            let mut out = format!("{} {} HTTP/1.1\r\nhost: gen\r\n", self.method, self.path).into_bytes();
            for (name, value) in &self.headers {
                out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
            }
            if self.stream {
                out.extend_from_slice(b"x-stream: 1\r\n");
            }
            match &self.body {
                None => out.extend_from_slice(b"\r\n"),
                Some((body, None)) => {
                    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
                    out.extend_from_slice(body);
                }
                Some((body, Some(sizes))) => {
                    out.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n");
                    crate::h1::tests::chunks(body, sizes, &mut out);
                    out.extend_from_slice(b"0\r\n\r\n");
                }
            }
            out
        }
    }

    fn generated() -> impl Strategy<Value = Generated> {
        let method =
            prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("DELETE"), Just("OPTIONS"), Just("PATCH")];
        let path = "/[a-z0-9._~%-]{0,12}(\\?[a-z0-9=&%]{0,12})?";
        // Names of each kind `Present` notes, in any case, among plain ones.
        let name = prop_oneof![
            6 => "x-[a-z]{1,8}",
            1 => "[Xx]-[Cc][Aa]-[a-z]{1,6}",
            1 => "X-Gantry-[a-z]{1,5}",
            1 => "X-Forwarded-[A-Za-z]{1,5}",
            1 => "[Aa]uthorization",
            1 => "Keep-Alive",
        ];
        let header = (name, "[!-~]([ -~]{0,18}[!-~])?");
        let body = proptest::option::of((
            proptest::collection::vec(any::<u8>(), 0..200),
            proptest::option::of(proptest::collection::vec(1usize..40, 0..5)),
        ));
        (method, path, proptest::collection::vec(header, 0..6), body, any::<bool>())
            .prop_map(|(method, path, headers, body, stream)| Generated { method, path, headers, body, stream })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::h1::tests::cases(200)))]
        #[test]
        fn both_servers_hand_the_handler_the_same_requests(requests in proptest::collection::vec(generated(), 1..4)) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            let mut requests = requests;
            if let Some(last) = requests.last_mut() {
                // Both servers close after it: no waiting for silence.
                last.headers.push(("connection".into(), "close".into()));
            }
            let bytes: Vec<u8> = requests.iter().flat_map(Generated::bytes).collect();
            let (ours, hypers) = runtime.block_on(async {
                let (ours, hypers) = (listen(Server::Ours).await, listen(Server::Hyper).await);
                let patience = Duration::from_secs(3);
                (exchange(ours, &bytes, false, patience).await, exchange(hypers, &bytes, false, patience).await)
            });
            let pick = |bytes: &[u8]| responses(bytes).into_iter().map(|(status, _, body)| (status, text(&body))).collect::<Vec<_>>();
            prop_assert_eq!(pick(&ours), pick(&hypers), "{}", text(&bytes));
        }
    }
}

#[test]
fn each_kind_of_field_is_noted_and_others_are_not() {
    let kinds = |names: &[&str]| {
        let mut present = Present::NONE;
        for name in names {
            present.note(&HeaderName::from_bytes(name.as_bytes()).expect("name"));
        }
        (present.own(), present.authorization(), present.hop_by_hop(), present.forwarded())
    };
    assert_eq!(kinds(&["host", "accept", "user-agent", "content-length", "x-cache"]), (false, false, false, false));
    for own in ["X-Ca-Stage", "x-ca-signature", "x-ca-key", "X-Gantry-Debug", "x-gantry-debug-side"] {
        assert_eq!(kinds(&["host", own]), (true, false, false, false), "{own}");
    }
    assert_eq!(kinds(&["Authorization"]), (false, true, false, false));
    for hop in ["connection", "TE", "trailer", "upgrade", "keep-alive", "proxy-authorization", "transfer-encoding"] {
        assert_eq!(kinds(&[hop]), (false, false, true, false), "{hop}");
    }
    for forwarded in ["X-Forwarded-For", "x-forwarded-proto", "x-forwarded-host"] {
        assert_eq!(kinds(&[forwarded]), (false, false, false, true), "{forwarded}");
    }
    let any = Present::ANY;
    assert!(any.own() && any.authorization() && any.hop_by_hop() && any.forwarded());
}

#[tokio::test]
async fn a_head_with_more_fields_than_the_stack_keeps_reaches_the_handler_whole() {
    let address = listen(Server::Ours).await;
    let count = crate::h1::SPANS_ON_STACK * 3;
    let mut request = String::from("GET /many HTTP/1.1\r\nhost: gen\r\n");
    for n in 0..count {
        request.push_str(&format!("x-field-{n:02}: value {n}\r\n"));
    }
    request.push_str("connection: close\r\n\r\n");
    let answers = responses(&exchange(address, request.as_bytes(), false, QUIET).await);
    assert_eq!(answers.len(), 1);
    let seen = text(&answers[0].2);
    for n in 0..count {
        assert!(seen.contains(&format!("x-field-{n:02}: value {n}\n")), "field {n} missing: {seen}");
    }
    assert!(seen.contains("sound: true"), "{seen}");
}
