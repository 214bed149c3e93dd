//! Phase 7: the backend is called, over the pooled client with the API's timeout, or the
//! API's function runs on the function pool.
//!
//! An HTTP backend's targets take turns ([`crate::balancer`]). An attempt that could not
//! reach its target (connect or TLS failure, or a wait for a connection), or that the
//! target cannot have seen ([`crate::h1::SendError::unsent`]), goes to another target,
//! whatever the method. An idempotent request without a body that gets 502, 503 or 504, or
//! fails once sent, goes to another target too; so does any request of an API that opts in
//! (`backend.http.retry_non_idempotent`), its body read beforehand so it can be sent again.
//! At most [`crate::config::UpstreamSettings::retries`] extra attempts, all within the API's
//! one timeout.

use super::auth::strip_credentials;
use super::upstream_request::GatewayFields;
use super::validate::Values;
use crate::body::{self, Body};
use crate::compiled::HttpBackend;
use crate::context::{AuthMethod, RequestContext};
use crate::function::{FunctionCode, FunctionPool};
use crate::upstream::{Failed, Upstream, UpstreamError, UpstreamFailure};
use crate::GatewayError;
use http::{HeaderName, HeaderValue, Method, Request, Response};
use std::sync::Arc;
use std::time::Instant;

/// Phase 7: sends the request to one of the backend's targets over the pooled client,
/// trying another target when allowed; the response body streams back. `buffered`: the
/// request's body is in memory (the gateway read it), so an API that opts in can send it
/// again. The request is lent down to the connection ([`crate::h1::Conn::send_as`]), not
/// moved through each future on the way.
pub async fn proxy(
    ctx: &mut RequestContext,
    upstream: &Upstream,
    backend: &HttpBackend,
    request: &mut Request<Body>,
    mut added: GatewayFields,
    buffered: bool,
) -> Result<Response<Body>, GatewayError> {
    let started = Instant::now();
    let deadline = started + backend.timeout();
    let settings = upstream.settings();
    // The gateway's own `Host` (the first target's) becomes each target's own.
    let own_host = backend.targets.len() > 1 && added.host.is_some();
    // Kept for a second attempt only when one can go elsewhere: a backend's only address
    // costs no header copy per request.
    let retries = settings.retries.min(MAX_RETRIES);
    let replay = match backend.resends(retries) {
        true => Replay::of(request, backend.retry_any_method && buffered),
        false => None,
    };
    // The caller's side writes the backend's fields as they came when it is `crate::h1::server`
    // and nothing here reads or adds to them (the trace shows them; CORS and rate-limit
    // headers go in beside them).
    let form = match ctx.raw_heads && ctx.debug.is_none() && ctx.policies.is_none() {
        true => crate::h1::HeadForm::Raw,
        false => crate::h1::HeadForm::Map,
    };
    // Whether `request` is still whole (not yet sent, or sent nowhere): otherwise a later
    // attempt sends the replay's copy.
    let mut unsent = true;
    // The peers tried, on the stack: no allocation per request.
    let mut tried = [0usize; MAX_RETRIES as usize + 1];
    let mut attempts = 0;
    let mut last: Option<GatewayError> = None;
    for attempt in 0..=retries {
        let Some(peer) = backend.targets.pick(settings.balance, &tried[..attempts]) else { break };
        if !unsent {
            let Some(replay) = replay.as_ref() else { break };
            *request = replay.request();
        }
        if attempt > 0 && Instant::now() >= deadline {
            break;
        }
        tried[attempts] = crate::peer::identity(&peer);
        attempts += 1;
        if own_host {
            added.host = Some(peer.origin.host_header.clone());
        }
        if ctx.backend.take().is_some() {
            ctx.retried.extend(ctx.upstream_error.take());
        }
        ctx.backend = Some(peer.origin.key.clone());
        ctx.upstream_status = None;
        let in_flight = peer.start();
        let (lines, n) = added.lines(ctx);
        // The deadline is `Upstream::send_as`'s to set (it waits for a connection first).
        let exchange = crate::h1::Exchange { form, added: &lines[..n], deadline: None };
        let sent = upstream.send_as(peer.dest(), request, deadline, exchange).await;
        unsent = false;
        drop(in_flight);
        match sent {
            Ok((response, raw)) => {
                let status = response.status();
                backend.targets.answered(&peer, settings.health, status);
                ctx.upstream_micros = Some(started.elapsed().as_micros() as u64);
                ctx.upstream_status = Some(status.as_u16());
                let again = matches!(status.as_u16(), 502..=504) && replay.is_some() && attempt < retries;
                if again && backend.targets.any_left(&tried[..attempts]) {
                    ctx.upstream_error = Some(format!("{}: answered {}", peer.origin.key, status.as_u16()));
                    continue;
                }
                ctx.upstream_error = None;
                ctx.raw_fields = raw;
                // Hop-by-hop fields never reach it: `crate::h1` leaves them out as it parses.
                return Ok(response);
            }
            Err(Failed { error, unsent: back }) => {
                let counted =
                    matches!(error.kind, UpstreamFailure::Connect | UpstreamFailure::Tls | UpstreamFailure::Protocol);
                if counted {
                    backend.targets.failed(&peer, settings.health);
                }
                let refusal = refusal(backend, &error);
                ctx.upstream_error = Some(format!("{}: {}", peer.origin.key, error.detail));
                // A timeout is not tried again; neither is a body the caller broke (it is
                // spent, and no target is to blame).
                if matches!(error.kind, UpstreamFailure::Timeout | UpstreamFailure::CallerBody) {
                    return Err(refusal);
                }
                unsent = back;
                last = Some(refusal);
            }
        }
    }
    match last {
        Some(error) => Err(error),
        None if attempts == 0 => {
            ctx.upstream_error = Some(format!("all {} targets are ejected or down", backend.targets.len()));
            Err(GatewayError::NoHealthyUpstream("no target of the backend is healthy; try again shortly".into()))
        }
        // A 5xx that was to go to another target, when none was left or time ran out.
        None => Err(GatewayError::BadGateway(UpstreamFailure::Protocol.public_message().into())),
    }
}

/// The most extra attempts, whatever the setting says (the server caps it at 10 too).
const MAX_RETRIES: u32 = 10;

/// What the caller is told of a failed attempt.
fn refusal(backend: &HttpBackend, error: &UpstreamError) -> GatewayError {
    match error.kind {
        UpstreamFailure::Timeout => GatewayError::GatewayTimeout(format!(
            "the backend did not answer within {} ms",
            backend.timeout().as_millis()
        )),
        UpstreamFailure::Busy => GatewayError::UpstreamBusy(error.kind.public_message().into()),
        UpstreamFailure::CallerBody => GatewayError::InvalidBody(error.kind.public_message().into()),
        kind => GatewayError::BadGateway(kind.public_message().into()),
    }
}

/// A request that can be sent again after a 5xx answer or a failure once sent: an
/// idempotent method and no body, or (`any_method`: the API opts in and its body is in
/// memory) any request, with its body.
struct Replay {
    method: Method,
    uri: http::Uri,
    version: http::Version,
    headers: http::HeaderMap,
    body: bytes::Bytes,
}

impl Replay {
    /// A copy of `request` to send again, when it may be (its body, read into memory here,
    /// goes back into `request` as one buffer).
    fn of(request: &mut Request<Body>, any_method: bool) -> Option<Replay> {
        let idempotent = matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
        );
        let empty = hyper::body::Body::is_end_stream(request.body());
        if !(any_method || idempotent && empty) {
            return None;
        }
        let bytes = match body::in_memory(std::mem::replace(request.body_mut(), body::empty())) {
            Ok(bytes) => bytes,
            Err(streamed) => {
                *request.body_mut() = streamed;
                return None;
            }
        };
        *request.body_mut() = body::full(bytes.clone());
        Some(Replay {
            method: request.method().clone(),
            uri: request.uri().clone(),
            version: request.version(),
            headers: request.headers().clone(),
            body: bytes,
        })
    }

    fn request(&self) -> Request<Body> {
        let mut request = Request::new(body::full(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.version_mut() = self.version;
        *request.headers_mut() = self.headers.clone();
        request
    }
}

/// Awaits a one-target call to `backend` (a WebSocket upgrade) within the API's timeout and
/// notes its time and status. The caller learns what failed (504, 502); the backend's
/// address and the OS or TLS error text go to the access log and the Debug API trace only.
pub async fn call_backend<B>(
    ctx: &mut RequestContext,
    backend: &HttpBackend,
    origin: &Arc<str>,
    call: impl std::future::Future<Output = Result<Response<B>, UpstreamError>>,
) -> Result<Response<B>, GatewayError> {
    let started = Instant::now();
    ctx.backend = Some(origin.clone());
    let response = match tokio::time::timeout(backend.timeout(), call).await {
        Err(_) => {
            let ms = backend.timeout().as_millis();
            ctx.upstream_error = Some(format!("{origin} did not answer within {ms} ms"));
            return Err(GatewayError::GatewayTimeout(format!("the backend did not answer within {ms} ms")));
        }
        Ok(Err(error)) => {
            ctx.upstream_error = Some(format!("{origin}: {}", error.detail));
            return Err(refusal(backend, &error));
        }
        Ok(Ok(response)) => response,
    };
    ctx.upstream_micros = Some(started.elapsed().as_micros() as u64);
    ctx.upstream_status = Some(response.status().as_u16());
    Ok(response)
}

/// Phase 7 for a Function backend: runs the API's function on the pool with
/// `{method, path, params, query, headers, body, json}` and answers with what it returns.
pub async fn function(
    ctx: &mut RequestContext,
    pool: &FunctionPool,
    code: &Arc<FunctionCode>,
    request: &Request<Body>,
    query: &[(String, String)],
    values: &Values,
    body: bytes::Bytes,
) -> Result<Response<Body>, GatewayError> {
    let mut params = serde_json::Map::new();
    for (_, name, value) in &values.declared {
        params.insert(name.to_string(), serde_json::Value::String(value.to_string()));
    }
    let mut query_object = serde_json::Map::new();
    for (name, value) in query {
        query_object.entry(name.clone()).or_insert_with(|| serde_json::Value::String(value.clone()));
    }
    let mut visible = request.headers().clone();
    strip_credentials(&mut visible, ctx.auth == Some(AuthMethod::Signature));
    let mut headers = serde_json::Map::new();
    for (name, value) in &visible {
        if let Ok(value) = value.to_str() {
            headers.entry(name.as_str().to_owned()).or_insert_with(|| serde_json::Value::String(value.to_owned()));
        }
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    // `req.json` is parsed from `body` in the sandbox, and only if the function reads it.
    let argument = serde_json::json!({
        "method": ctx.method.as_str(), "path": ctx.path.as_str(), "params": params, "query": query_object,
        "headers": headers, "body": text,
    });
    if let Some(notes) = ctx.debug.as_mut() {
        notes.upstream = Some(domain::debug::UpstreamTrace {
            method: "FUNCTION".into(),
            url: format!("function {} (code {})", ctx.api.as_ref().map(|a| &*a.name).unwrap_or("-"), &code.hash[..12]),
            headers: Vec::new(),
            body_bytes: Some(body.len() as u64),
        });
    }
    let started = Instant::now();
    // Waiting for a worker counts against the function's own time limit.
    let group = ctx.group.as_ref().map_or(-1, |g| g.id);
    let answer = pool.call(group, code.clone(), argument.to_string(), code.timeout).await;
    ctx.upstream_micros = Some(started.elapsed().as_micros() as u64);
    let answer = answer.map_err(|error| match error {
        crate::function::CallError::QueueFull => {
            GatewayError::Overloaded("as many function calls wait as the gateway queues; try again shortly".into())
        }
        crate::function::CallError::Failed(message) => GatewayError::Function(message),
    })?;
    ctx.upstream_status = Some(answer.status);
    let mut response = Response::new(body::full(answer.body));
    *response.status_mut() = http::StatusCode::from_u16(answer.status).unwrap_or(http::StatusCode::OK);
    for (name, value) in answer.headers {
        match (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
            (Ok(name), Ok(value)) => {
                response.headers_mut().append(name, value);
            }
            _ => return Err(GatewayError::Function(format!("the handler returned an invalid header `{name}`"))),
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiled::{Backend, CompiledApi, Target};
    use http::{HeaderMap, Method};
    use std::net::{IpAddr, Ipv4Addr};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn http_api(address: &str, timeout_ms: u64) -> CompiledApi {
        let spec: domain::api::ApiSpec = serde_json::from_value(serde_json::json!({
            "name": "p", "request": {"method": "GET", "path": "/p"},
            "backend": {"http": {"path": "/", "timeout_ms": timeout_ms}}
        }))
        .expect("spec");
        let target = Target::Http(domain::Targets::parse(address).expect("address"));
        CompiledApi::compile(1, &spec.validate().expect("valid"), target).expect("compile")
    }

    fn context() -> RequestContext {
        RequestContext::new(Method::GET, "/p", &HeaderMap::new(), &IpAddr::V4(Ipv4Addr::LOCALHOST).into())
    }

    fn client() -> Upstream {
        Upstream::new(crate::upstream::tls_config(None).expect("tls"))
    }

    fn request_to(backend: &HttpBackend) -> Request<Body> {
        let mut request = Request::new(body::full(""));
        *request.uri_mut() = format!("http://{}/", backend.origin.uri_authority).parse().expect("uri");
        request
    }

    #[tokio::test]
    async fn the_answer_streams_back_without_hop_by_hop_headers_and_is_noted() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut head = [0u8; 1024];
            let _ = socket.read(&mut head).await;
            let answer =
                "HTTP/1.1 201 Created\r\ncontent-length: 2\r\nconnection: x-hop\r\nx-hop: 1\r\nx-kept: 2\r\n\r\nok";
            socket.write_all(answer.as_bytes()).await.expect("write");
        });
        let api = http_api(&address, 5_000);
        let Backend::Http(backend) = &api.backend else { panic!("http") };
        let mut ctx = context();
        let response =
            proxy(&mut ctx, &client(), backend, &mut request_to(backend), GatewayFields::for_backend(backend), false)
                .await
                .expect("answered");
        assert_eq!(response.status(), 201);
        assert!(response.headers().contains_key("x-kept"));
        assert!(!response.headers().contains_key("x-hop") && !response.headers().contains_key("connection"));
        assert_eq!(ctx.upstream_status, Some(201));
        assert!(ctx.upstream_micros.is_some());
    }

    #[tokio::test]
    async fn a_silent_backend_is_a_gateway_timeout_whose_address_stays_in_the_log() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("addr"));
        // Accepts and holds the connection until the test ends, never answering.
        let (_keep, held) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let (_socket, _) = listener.accept().await.expect("accept");
            let _ = held.await;
        });
        let api = http_api(&address, 50);
        let Backend::Http(backend) = &api.backend else { panic!("http") };
        let mut ctx = context();
        let error =
            proxy(&mut ctx, &client(), backend, &mut request_to(backend), GatewayFields::for_backend(backend), false)
                .await
                .expect_err("timeout");
        assert!(matches!(&error, GatewayError::GatewayTimeout(m) if m.contains("50 ms") && !m.contains("127.0.0.1")));
        assert!(ctx.upstream_error.as_deref().is_some_and(|e| e.contains("127.0.0.1")));
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_bad_gateway() {
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let api = http_api(&format!("http://127.0.0.1:{port}"), 5_000);
        let Backend::Http(backend) = &api.backend else { panic!("http") };
        let mut ctx = context();
        let error =
            proxy(&mut ctx, &client(), backend, &mut request_to(backend), GatewayFields::for_backend(backend), false)
                .await
                .expect_err("refused");
        assert!(matches!(error, GatewayError::BadGateway(_)), "{error:?}");
        assert!(ctx.upstream_error.is_some());
    }
}

/// Several targets: balancing, retries, ejection, limits, against real sockets.
#[cfg(test)]
mod targets {
    use super::*;
    use crate::compiled::{Backend, CompiledApi, Target};
    use crate::config::{Health, UpstreamSettings};
    use http::{HeaderMap, Method};
    use std::net::{IpAddr, Ipv4Addr};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A keep-alive backend answering every request with `status` and its own name, after
    /// `delay`; counts requests and connections.
    struct Fake {
        url: String,
        requests: Arc<AtomicUsize>,
        connections: Arc<AtomicUsize>,
        /// Requests whose head held one `Host`, this fake's own address.
        own_host: Arc<AtomicUsize>,
        /// Every byte received, on all connections.
        received: Arc<std::sync::Mutex<Vec<u8>>>,
        task: tokio::task::JoinHandle<()>,
    }

    async fn fake(name: &'static str, status: u16, delay: Duration) -> Fake {
        fake_at("127.0.0.1:0".parse().expect("addr"), name, status, delay).await
    }

    /// The same on `address` (a killed one's port again). Aborting `task` kills the listener
    /// and every connection.
    async fn fake_at(address: std::net::SocketAddr, name: &'static str, status: u16, delay: Duration) -> Fake {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_reuseaddr(true).expect("reuse");
        socket.bind(address).expect("bind");
        let listener = socket.listen(128).expect("listen");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (requests, connections) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (counted, opened) = (requests.clone(), connections.clone());
        let own_host = Arc::new(AtomicUsize::new(0));
        let host_line = format!("\r\nhost: {}\r\n", listener.local_addr().expect("addr"));
        let hosted = own_host.clone();
        let received = Arc::new(std::sync::Mutex::new(Vec::new()));
        let heard = received.clone();
        let task = tokio::spawn(async move {
            let mut open = tokio::task::JoinSet::new();
            while let Ok((mut stream, _)) = listener.accept().await {
                opened.fetch_add(1, Ordering::SeqCst);
                let (counted, hosted, host_line) = (counted.clone(), hosted.clone(), host_line.clone());
                let heard = heard.clone();
                open.spawn(async move {
                    let mut pending = Vec::new();
                    let mut buf = [0u8; 4096];
                    loop {
                        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&pending[..end + 2]).to_ascii_lowercase();
                            if head.matches("\r\nhost: ").count() == 1 && head.contains(&host_line) {
                                hosted.fetch_add(1, Ordering::SeqCst);
                            }
                            pending.drain(..end + 4);
                            counted.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(delay).await;
                            let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n\r\n{name}", name.len());
                            if stream.write_all(answer.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => {
                                pending.extend_from_slice(&buf[..n]);
                                heard.lock().expect("lock").extend_from_slice(&buf[..n]);
                            }
                        }
                    }
                });
            }
        });
        Fake { url, requests, connections, own_host, received, task }
    }

    /// An address nothing listens on.
    fn closed_port() -> String {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        format!("http://127.0.0.1:{port}")
    }

    fn api(targets: &str, timeout_ms: u64) -> CompiledApi {
        api_with(targets, serde_json::json!({"path": "/", "timeout_ms": timeout_ms}))
    }

    /// An API of `targets` whose `backend.http` is `http`.
    fn api_with(targets: &str, http: serde_json::Value) -> CompiledApi {
        let spec: domain::api::ApiSpec = serde_json::from_value(serde_json::json!({
            "name": "p", "request": {"method": "ANY", "path": "/p"}, "backend": {"http": http}
        }))
        .expect("spec");
        let target = Target::Http(domain::Targets::parse(targets).expect("targets"));
        CompiledApi::compile(1, &spec.validate().expect("valid"), target).expect("compile")
    }

    fn client(settings: UpstreamSettings) -> Upstream {
        let tls = crate::upstream::tls_config(None).expect("tls");
        Upstream::with(tls, crate::guard::AddressGuard::default(), settings)
    }

    fn request(backend: &HttpBackend, method: Method, body: &'static str) -> Request<Body> {
        let mut request = Request::new(body::full(body));
        *request.method_mut() = method;
        *request.uri_mut() = format!("http://{}/", backend.origin.uri_authority).parse().expect("uri");
        request
    }

    async fn call(client: &Upstream, backend: &HttpBackend, method: Method) -> Result<(u16, String), GatewayError> {
        call_buffered(client, backend, method, false).await
    }

    /// A call whose body is in memory (`buffered`) or taken as streamed.
    async fn call_buffered(
        client: &Upstream,
        backend: &HttpBackend,
        method: Method,
        buffered: bool,
    ) -> Result<(u16, String), GatewayError> {
        let mut ctx =
            RequestContext::new(method.clone(), "/p", &HeaderMap::new(), &IpAddr::V4(Ipv4Addr::LOCALHOST).into());
        let body = if method == Method::POST { "payload" } else { "" };
        let response = proxy(
            &mut ctx,
            client,
            backend,
            &mut request(backend, method, body),
            GatewayFields::for_backend(backend),
            buffered,
        )
        .await?;
        let status = response.status().as_u16();
        let bytes = http_body_util::BodyExt::collect(response.into_body()).await.expect("body").to_bytes();
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }

    fn http(api: &CompiledApi) -> &HttpBackend {
        match &api.backend {
            Backend::Http(backend) => backend,
            _ => panic!("an HTTP backend"),
        }
    }

    #[tokio::test]
    async fn weighted_targets_share_the_requests_by_weight_each_with_its_own_host() {
        let (a, b) = (fake("a", 200, Duration::ZERO).await, fake("b", 200, Duration::ZERO).await);
        let api = api(&format!("{} weight=3, {}", a.url, b.url), 5_000);
        let client = client(UpstreamSettings::default());
        let mut seen = std::collections::HashMap::<String, usize>::new();
        for _ in 0..2_000 {
            let (status, body) = call(&client, http(&api), Method::GET).await.expect("answered");
            assert_eq!(status, 200);
            *seen.entry(body).or_default() += 1;
        }
        assert_eq!((seen["a"], seen["b"]), (1_500, 500));
        assert_eq!(a.requests.load(Ordering::SeqCst), 1_500);
        assert_eq!(a.connections.load(Ordering::SeqCst), 1, "kept alive");
        // Each target got one `Host`, its own.
        assert_eq!((a.own_host.load(Ordering::SeqCst), b.own_host.load(Ordering::SeqCst)), (1_500, 500));
    }

    #[tokio::test]
    async fn a_dead_target_costs_no_request_and_is_ejected() {
        let good = fake("good", 200, Duration::ZERO).await;
        let dead = closed_port();
        let api = api(&format!("{dead}, {}", good.url), 5_000);
        let client = client(UpstreamSettings::default());
        for method in [Method::GET, Method::POST, Method::GET, Method::POST, Method::GET, Method::GET] {
            let (status, body) = call(&client, http(&api), method).await.expect("retried on the good one");
            assert_eq!((status, body.as_str()), (200, "good"));
        }
        let peer = http(&api).targets.peers()[0].0.clone();
        assert_eq!(peer.state(), "ejected", "three connect failures in a row");
        assert_eq!(good.requests.load(Ordering::SeqCst), 6);
        // A POST the dead target refused went on whole, its body with it.
        let received = String::from_utf8_lossy(&good.received.lock().expect("lock")).into_owned();
        assert_eq!(received.matches("content-length: 7\r\n\r\npayload").count(), 2, "{received}");
    }

    #[tokio::test]
    async fn a_503_is_retried_for_an_idempotent_request_only() {
        let (sick, well) = (fake("sick", 503, Duration::ZERO).await, fake("well", 200, Duration::ZERO).await);
        let api = api(&format!("{}, {}", sick.url, well.url), 5_000);
        let settings = UpstreamSettings { health: Health { failures: 0, ..Health::default() }, ..Default::default() };
        let client = client(settings);
        let mut posts = Vec::new();
        for _ in 0..4 {
            assert_eq!(call(&client, http(&api), Method::GET).await.expect("get").1, "well");
            posts.push(call(&client, http(&api), Method::POST).await.expect("post").0);
        }
        // Turns alternate: the first GET falls on the sick one and, retried, gets the well
        // one; from then on each POST falls on the sick one, and its 503 is the caller's
        // answer (a POST is not sent twice), each GET on the well one.
        assert_eq!(posts, [503; 4]);
        assert_eq!(sick.requests.load(Ordering::SeqCst), 5, "the first GET and the 4 POSTs, each once");
        assert_eq!(well.requests.load(Ordering::SeqCst), 4, "the 4 GETs");
    }

    #[tokio::test]
    async fn an_api_that_opts_in_has_any_method_retried_when_its_body_is_in_memory() {
        let (sick, well) = (fake("sick", 503, Duration::ZERO).await, fake("well", 200, Duration::ZERO).await);
        let targets = format!("{}, {}", sick.url, well.url);
        let api = api_with(&targets, serde_json::json!({"path": "/", "retry_non_idempotent": true}));
        assert!(http(&api).retry_any_method);
        let settings = UpstreamSettings { health: Health { failures: 0, ..Health::default() }, ..Default::default() };
        let client = client(settings);
        let mut answers = Vec::new();
        for _ in 0..4 {
            answers.push(call_buffered(&client, http(&api), Method::POST, true).await.expect("post").1);
        }
        assert_eq!(answers, ["well"; 4], "each POST that met the sick target went on to the well one");
        assert_eq!(well.requests.load(Ordering::SeqCst), 4);
        // A body the gateway did not read cannot be sent twice, opted in or not.
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(call_buffered(&client, http(&api), Method::POST, false).await.expect("post").0);
        }
        assert_eq!(statuses.iter().filter(|s| **s == 503).count(), 2, "{statuses:?}");
    }

    #[tokio::test]
    async fn with_retries_off_a_dead_target_fails_its_share() {
        let good = fake("good", 200, Duration::ZERO).await;
        let api = api(&format!("{}, {}", closed_port(), good.url), 5_000);
        let settings = UpstreamSettings { retries: 0, ..Default::default() };
        let client = client(settings);
        let first = call(&client, http(&api), Method::GET).await;
        assert!(matches!(first, Err(GatewayError::BadGateway(_))), "{first:?}");
        assert_eq!(call(&client, http(&api), Method::GET).await.expect("second").1, "good");
    }

    #[tokio::test]
    async fn when_every_target_is_out_the_answer_is_no_healthy_upstream_at_once() {
        let api = api(&format!("{}, {}", closed_port(), closed_port()), 5_000);
        let settings =
            UpstreamSettings { health: Health { failures: 1, backoff: Duration::from_secs(60) }, ..Default::default() };
        let client = client(settings);
        let first = call(&client, http(&api), Method::GET).await;
        assert!(matches!(first, Err(GatewayError::BadGateway(_))), "{first:?}");
        let started = Instant::now();
        let then = call(&client, http(&api), Method::GET).await;
        assert!(matches!(then, Err(GatewayError::NoHealthyUpstream(_))), "{then:?}");
        assert!(started.elapsed() < Duration::from_secs(1), "refused without waiting");
    }

    #[tokio::test]
    async fn a_target_at_its_connection_limit_makes_requests_wait_then_busy() {
        let slow = fake("slow", 200, Duration::from_millis(300)).await;
        // Generous timeout: the second request waits for the one connection.
        let api = api(&format!("{} max_conns=1", slow.url), 5_000);
        let client = client(UpstreamSettings::default());
        let (one, two) = tokio::join!(call(&client, http(&api), Method::GET), call(&client, http(&api), Method::GET));
        assert_eq!((one.expect("one").1, two.expect("two").1), ("slow".to_owned(), "slow".to_owned()));
        assert_eq!(slow.connections.load(Ordering::SeqCst), 1, "never more than max_conns");
        // Short timeout: while a patient request holds the one connection for 300 ms, one
        // that waits for it gives up as UpstreamBusy at 150 ms. (Two short requests racing
        // each other's timers would be timing-dependent: whichever fires first frees the
        // connection.)
        let short = self::api(&format!("{} max_conns=1", slow.url), 150);
        let (held, waited) = tokio::join!(call(&client, http(&api), Method::GET), async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            call(&client, http(&short), Method::GET).await
        });
        assert_eq!(held.expect("the patient one is answered").1, "slow");
        assert_eq!(waited.expect_err("no connection came free").code(), "UpstreamBusy");
    }

    #[tokio::test]
    async fn a_target_that_black_holes_connections_is_skipped_after_the_connect_timeout() {
        // A listener whose accept queue is full: the kernel drops further SYNs, so a connect
        // neither succeeds nor fails.
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
        let address = socket.local_addr().expect("addr");
        let _hole = socket.listen(1).expect("listen");
        let mut fillers = Vec::new();
        for _ in 0..8 {
            if let Ok(Ok(stream)) =
                tokio::time::timeout(Duration::from_millis(100), tokio::net::TcpStream::connect(address)).await
            {
                fillers.push(stream);
            }
        }
        let good = fake("good", 200, Duration::ZERO).await;
        let api = api(&format!("http://{address}, {}", good.url), 5_000);
        let settings = UpstreamSettings { connect_timeout: Duration::from_millis(200), ..Default::default() };
        let client = client(settings);
        let started = Instant::now();
        for _ in 0..2 {
            assert_eq!(call(&client, http(&api), Method::GET).await.expect("answered").1, "good");
        }
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn a_target_killed_under_load_costs_no_request_and_returns_when_it_recovers() {
        let (a, b) = (fake("a", 200, Duration::ZERO).await, fake("b", 200, Duration::ZERO).await);
        let api = Arc::new(api(&format!("{}, {}", a.url, b.url), 5_000));
        let backoff = Duration::from_millis(200);
        let client = client(UpstreamSettings { health: Health { failures: 3, backoff }, ..Default::default() });
        // `n` concurrent requests; every one must be answered.
        let load = |n: usize| {
            let (client, api) = (client.clone(), api.clone());
            async move {
                let mut calls = tokio::task::JoinSet::new();
                for _ in 0..n {
                    let (client, api) = (client.clone(), api.clone());
                    calls.spawn(async move { call(&client, http(&api), Method::GET).await });
                }
                let mut bodies = Vec::new();
                while let Some(answer) = calls.join_next().await {
                    bodies.push(answer.expect("task").expect("every request answered").1);
                }
                bodies
            }
        };
        assert!(load(20).await.contains(&"a".to_owned()));
        a.task.abort();
        let _ = a.task.await;
        let during = load(200).await;
        assert!(during.iter().all(|body| body == "b"));
        let peer = http(&api).targets.peers()[0].0.clone();
        assert_eq!(peer.state(), "ejected");
        // Back on its port: after the back-off it takes its share again.
        let address = a.url.trim_start_matches("http://").parse().expect("addr");
        let again = fake_at(address, "a", 200, Duration::ZERO).await;
        tokio::time::sleep(backoff + Duration::from_millis(50)).await;
        let after = load(20).await;
        assert!(after.iter().filter(|body| *body == "a").count() >= 5, "{after:?}");
        assert_eq!(peer.state(), "healthy");
        again.task.abort();
    }
}
