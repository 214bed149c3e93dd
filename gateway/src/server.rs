//! The gateway listener: accepts connections, runs the phases for each request, and on
//! shutdown stops accepting and lets requests in flight finish.

use crate::body::{self, Body};
use crate::compiled::CompiledApi;
use crate::context::{names, Peer, Phase, Present, RequestContext};
use crate::debug;
use crate::fields::{self, Fields};
use crate::function::FunctionPool;
use crate::phases::{self, Dispatch, Handler};
use crate::shared::SharedState;
use crate::snapshot::SnapshotHandle;
use crate::upstream::{self, Upstream};
use crate::{GatewayConfig, GatewayError, Metrics};
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::service::service_fn;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Per-request size limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest body, in bytes.
    pub body: u64,
    /// Largest sum of header lines, in bytes.
    pub headers: usize,
    /// Longest pause between body bytes.
    pub body_idle: Duration,
}

/// The pooled client for backends.
pub fn upstream_client(config: &GatewayConfig) -> std::io::Result<Upstream> {
    let tls = upstream::tls_config(config.upstream_ca_file.as_deref())?;
    Ok(Upstream::with(tls, config.blocked_backends.clone(), config.upstream.clone()))
}

/// Serves the gateway on `listener` (plain HTTP/1.1) and, with `tls`, on its HTTPS listener
/// (SNI picks each custom domain's certificate, else the default one given; ALPN `h2` or
/// `http/1.1`) until `shutdown` resolves, then drains connections.
pub async fn serve(
    listener: TcpListener,
    tls: Option<(TcpListener, Arc<rustls::sign::CertifiedKey>)>,
    snapshots: SnapshotHandle,
    metrics: Metrics,
    config: GatewayConfig,
    state: Arc<SharedState>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let client = upstream_client(&config)?;
    // Aborted when the gateway stops.
    let checks = config.upstream.check.clone().map(|check| {
        let checking = crate::peer::run_checks(client.clone(), check);
        tokio_util::task::AbortOnDropHandle::new(tokio::spawn(checking))
    });
    let discovery = match &config.upstream.dns {
        Some(dns) => {
            let resolver = crate::discovery::resolver(dns).map_err(std::io::Error::other)?;
            Some(tokio_util::task::AbortOnDropHandle::new(tokio::spawn(crate::discovery::run(resolver))))
        }
        None => None,
    };
    let limits =
        Limits { body: config.max_body_bytes, headers: config.max_header_bytes, body_idle: config.body_timeout };
    let body_budget = body::BodyBudget::new(config.body_buffer_bytes);
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let functions = FunctionPool::new(workers, config.function_queue);
    let trusted_proxies = Arc::new(config.trusted_proxies.clone());
    let shared = Arc::new(Shared {
        snapshots: snapshots.clone(),
        client,
        metrics,
        limits,
        state,
        functions,
        body_budget,
        trusted_proxies,
        version_header: config.version_header,
    });
    let listening = crate::listener::Listening {
        max_connections: config.max_connections,
        max_header_bytes: config.max_header_bytes,
        timeouts: crate::listener::Timeouts { head: config.header_timeout, idle: config.idle_timeout },
    };
    let service = |tls: bool| {
        let shared = shared.clone();
        move |peer: std::net::SocketAddr| {
            let shared = shared.clone();
            let peer = Peer::new(peer.ip(), tls);
            service_fn(move |request| {
                let shared = shared.clone();
                let peer = peer.clone();
                async move { Ok::<_, Infallible>(handle(request.map(body::stream), &shared, &peer).await) }
            })
        }
    };
    let stop = tokio_util::sync::CancellationToken::new();
    let gantry_http1 = {
        let shared = shared.clone();
        let upgrades = service(false);
        let settings =
            crate::h1::server::Settings { max_head: listening.max_header_bytes, timeouts: listening.timeouts };
        move |stream, address: std::net::SocketAddr, closing: tokio_util::sync::CancellationToken| {
            let shared = shared.clone();
            let hyper_service = upgrades(address);
            async move {
                let peer = Peer { raw_heads: true, ..Peer::new(address.ip(), false) };
                let handler = |request, present| handle_noted(request, present, &shared, &peer);
                let fallback =
                    |rewind| crate::listener::serve_hyper_http1(rewind, listening, hyper_service, closing.clone());
                crate::h1::server::serve(stream, settings, closing.clone(), handler, fallback).await;
            }
        }
    };
    let plain = async {
        match config.http1 {
            crate::config::Http1Server::Hyper => {
                crate::listener::serve(listener, listening, None, service(false), stop.clone().cancelled_owned()).await
            }
            crate::config::Http1Server::Gantry => {
                crate::listener::accept(listener, listening, stop.clone().cancelled_owned(), gantry_http1).await
            }
        }
    };
    let secure = async {
        let Some((listener, default)) = tls else { return Ok(()) };
        let resolver = Arc::new(crate::tls::SniResolver::new(snapshots, default));
        let tls_config = crate::tls::server_config(resolver).map_err(std::io::Error::other)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(tls_config);
        match config.http1 {
            crate::config::Http1Server::Hyper => {
                let stop = stop.clone().cancelled_owned();
                crate::listener::serve(listener, listening, Some(acceptor), service(true), stop).await
            }
            crate::config::Http1Server::Gantry => {
                // ALPN `h2` goes to hyper; HTTP/1.1 over TLS is served as on the plain listener.
                let shared = shared.clone();
                let hyper_services = service(true);
                let settings =
                    crate::h1::server::Settings { max_head: listening.max_header_bytes, timeouts: listening.timeouts };
                let connection = move |stream,
                                       address: std::net::SocketAddr,
                                       closing: tokio_util::sync::CancellationToken| {
                    let shared = shared.clone();
                    let hyper_service = hyper_services(address);
                    let acceptor = acceptor.clone();
                    async move {
                        let limit = listening.timeouts.head;
                        let Some(stream) = crate::listener::handshake(&acceptor, stream, limit).await else { return };
                        if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                            return crate::listener::serve_hyper_http2(stream, listening, hyper_service, closing).await;
                        }
                        let peer = Peer { raw_heads: true, ..Peer::new(address.ip(), true) };
                        let handler = |request, present| handle_noted(request, present, &shared, &peer);
                        let fallback = |rewind| {
                            crate::listener::serve_hyper_http1(rewind, listening, hyper_service, closing.clone())
                        };
                        crate::h1::server::serve(stream, settings, closing.clone(), handler, fallback).await;
                    }
                };
                crate::listener::accept(listener, listening, stop.clone().cancelled_owned(), connection).await
            }
        }
    };
    let stopping = async {
        shutdown.await;
        stop.cancel();
    };
    let (plain, secure, ()) = tokio::join!(plain, secure, stopping);
    drop((checks, discovery));
    plain.and(secure)
}

/// What every request of the listener shares.
#[derive(Debug, Clone)]
pub struct Shared {
    /// The configuration served.
    pub snapshots: SnapshotHandle,
    /// The pooled backend connections.
    pub client: Upstream,
    /// Counters and histograms.
    pub metrics: Metrics,
    /// Size limits.
    pub limits: Limits,
    /// Nonces seen, debug tokens and throttling counters (in memory, or on Redis).
    pub state: Arc<SharedState>,
    /// Worker threads for Function backends.
    pub functions: FunctionPool,
    /// Request body bytes buffered at once, across connections.
    pub body_budget: body::BodyBudget,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<Vec<domain::policy::IpRange>>,
    /// Whether responses name the version that served them (`X-Ca-Version`).
    pub version_header: bool,
}

/// Runs the phases for one request (its body from hyper, boxed, or from
/// [`crate::h1::server`]).
pub async fn handle(request: Request<Body>, shared: &Shared, peer: &Peer) -> Response<Body> {
    // Not served by `crate::h1::server` (`peer.raw_heads` is false): the response's fields
    // are all in its map.
    handle_noted(Box::new(request), Present::ANY, shared, peer).await.0
}

/// [`handle`] for a request whose head was looked through: `present` says which kinds of
/// field it holds, and the phases skip looking for the others. A backend's fields come
/// beside the response as lines when `peer.raw_heads` let the proxy phase take them so.
/// The request comes boxed, as `crate::h1::server` parses it: moved down through the phases
/// as a pointer, not a quarter of a kilobyte at each step.
pub async fn handle_noted(
    mut request: Box<Request<Body>>,
    present: Present,
    shared: &Shared,
    peer: &Peer,
) -> crate::h1::Answer {
    let metrics = &shared.metrics;
    // HTTP/2 names the host in `:authority`; the phases (and backends) read `Host`.
    if request.version() == http::Version::HTTP_2 && !request.headers().contains_key(http::header::HOST) {
        if let Some(authority) = request.uri().authority().and_then(|a| http::HeaderValue::from_str(a.as_str()).ok()) {
            request.headers_mut().insert(http::header::HOST, authority);
        }
    }
    let snapshot = shared.snapshots.current();
    let mut ctx = RequestContext::new(request.method().clone(), request.uri().path(), request.headers(), peer);
    ctx.present = present;
    // A debug token never reaches a backend; a valid one turns the trace on.
    if let Some(token) = present.own().then(|| request.headers_mut().remove(debug::TOKEN_HEADER)).flatten() {
        let valid = match token.to_str() {
            Ok(token) => Box::pin(shared.state.consume_debug_token(token)).await,
            Err(_) => false,
        };
        if valid {
            ctx.debug = Some(Box::default());
        }
    }
    // Only a traced request may choose a canary's side; the header never reaches a backend.
    if let Some(side) = present.own().then(|| request.headers_mut().remove(debug::SIDE_HEADER)).flatten() {
        if let Some(notes) = ctx.debug.as_mut() {
            notes.canary_side = match side.as_bytes() {
                b"canary" => Some(true),
                b"stable" => Some(false),
                _ => None,
            };
        }
    }
    if !shared.trusted_proxies.is_empty() {
        let forwarded = request.headers().get(names::X_FORWARDED_FOR).and_then(|v| v.to_str().ok());
        ctx.caller = crate::policy::caller_address(ctx.client, forwarded, &shared.trusted_proxies);
    }
    let mut traced_error = None;
    let mut failure = None;
    let mut response = match run(&mut ctx, &snapshot, shared, request).await {
        Ok(response) => response,
        Err(error) => {
            if ctx.debug.is_some() {
                traced_error = Some(error.clone());
            }
            let group = ctx.group.as_ref().map(|g| &*g.name).unwrap_or("-");
            match error {
                GatewayError::BadGateway(_) => {
                    metrics.record_upstream_error(group, "bad_gateway");
                    failure = Some(domain::stats::UpstreamFailure::Error);
                }
                GatewayError::GatewayTimeout(_) => {
                    metrics.record_upstream_error(group, "timeout");
                    failure = Some(domain::stats::UpstreamFailure::Timeout);
                }
                _ => {}
            }
            error.into_response(&ctx.request_id)
        }
    };
    crate::h1::set_own_field(&mut response, ctx.raw_fields.as_mut(), names::X_CA_REQUEST_ID, ctx.request_id.as_bytes());
    if let (true, Some(version)) = (shared.version_header, ctx.version_header.as_ref()) {
        crate::h1::set_own_field(&mut response, ctx.raw_fields.as_mut(), names::X_CA_VERSION, version.as_bytes());
    }
    if let Some(bound) = ctx.policies.as_deref() {
        if let Some(quota) = &ctx.quota {
            phases::policies::rate_limit_headers(quota, response.headers_mut());
        }
        if let Some(cors) = bound.cors() {
            phases::policies::cors_headers(cors, ctx.origin.as_ref(), response.headers_mut());
        }
    }
    if let Some(notes) = ctx.debug.take() {
        debug::attach(&mut response, &debug::trace(&ctx, &notes, traced_error.as_ref()));
    }
    let bytes = hyper::body::Body::size_hint(response.body()).exact();
    phases::log(&ctx, response.status(), bytes);
    // Each clock is read once for the access log, the stats and the metrics.
    let elapsed = ctx.started.elapsed();
    let answered_ms = now_ms();
    metrics.access_log().record_at(answered_ms, phases::log::served(&ctx, response.status(), elapsed));
    if let Some(sample) = phases::log::sample(&ctx, response.status(), elapsed, bytes, failure) {
        metrics.stats().record_at(answered_ms.div_euclid(1000), sample);
    }
    let labels = crate::metrics::Labels {
        group: ctx.group.as_ref().map(|g| (g.id, &*g.name)).unwrap_or((-1, "-")),
        environment: ctx.environment.map(|e| (e.index() as u8, e.as_str())).unwrap_or((u8::MAX, "-")),
        api: ctx.api.as_ref().map(|a| (a.id, &*a.name)).unwrap_or((-1, "-")),
        version: ctx.version.as_deref().unwrap_or("-"),
    };
    metrics.record(labels, ctx.api.is_some(), response.status().as_u16(), elapsed);
    (response, ctx.raw_fields.take())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

/// The phases in order: each step either hands the next what it needs or ends the request
/// with an answer or an error, and `ctx.phase` names the phase a refusal came from.
async fn run(
    ctx: &mut RequestContext,
    snapshot: &crate::Snapshot,
    shared: &Shared,
    mut request: Box<Request<Body>>,
) -> Result<Response<Body>, GatewayError> {
    check_head(&request, shared.limits)?;
    // One spelling per path before anything compares it (routing, signatures).
    if let std::borrow::Cow::Owned(canonical) = crate::path::normalize(&ctx.path).map_err(GatewayError::InvalidPath)? {
        ctx.path = canonical.into();
    }
    let deployment = phases::resolve(ctx, snapshot, request.headers())?;

    ctx.phase = Phase::Route;
    if let Some(answer) = cors_preflight(ctx, snapshot, &deployment, request.headers()) {
        return Ok(answer);
    }
    let (api, path_params) = phases::route(ctx, &deployment)?;
    // A WebSocket API takes only upgrade requests; the caller's side of the socket is
    // claimed now, before the request is taken apart.
    let upgrade =
        match api.websocket() {
            Some(idle) if crate::websocket::is_upgrade(request.method(), request.version(), request.headers()) => {
                Some((hyper::upgrade::on(&mut *request), idle))
            }
            Some(_) => return Err(GatewayError::InvalidParameter(
                "this is a WebSocket API: send a GET with `Upgrade: websocket` and `Connection: upgrade` over HTTP/1.1"
                    .into(),
            )),
            None => None,
        };
    phases::policies::bound(ctx, snapshot.policies());
    if ctx.policies.as_deref().is_some_and(|bound| bound.cors.is_some()) {
        ctx.origin = request.headers().get(http::header::ORIGIN).cloned();
    }
    if let Some(notes) = ctx.debug.as_mut() {
        notes.path_params = path_params.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
    }

    ctx.phase = Phase::Mock;
    let backend = match phases::mock(&api)? {
        Dispatch::Answered(response) => {
            // A Mock API answers without authentication, but within its traffic policies.
            ctx.phase = Phase::Policies;
            policies(ctx, shared).await?;
            if let Some(notes) = ctx.debug.as_mut() {
                notes.mock = true;
            }
            return Ok(response);
        }
        Dispatch::Forward(handler) => handler,
    };

    ctx.phase = Phase::Authenticate;
    let query = phases::parse_query(request.uri().query());
    // The clock is read only for APIs that check timestamps and expiries.
    let now_ms = if api.auth == domain::api::AuthType::App { now_ms() } else { 0 };
    // Held until the request is answered: the buffered bytes live that long.
    let (body, _budget) = read_body(ctx, &api, &backend, snapshot, shared, &query, now_ms, &mut request).await?;
    let credentials = phases::Credentials { headers: request.headers(), query: &query, body: body.bytes(), now_ms };
    if let Some(replay) = phases::authenticate(ctx, &api, snapshot.apps(), credentials, phases::Check::Full)? {
        match Box::pin(shared.state.first_use(replay.app, &replay.nonce, replay.expires_ms, now_ms)).await {
            Ok(true) => {}
            Ok(false) => return Err(replay.refused()),
            Err(unavailable) => return Err(GatewayError::SharedStateUnavailable(unavailable.to_string())),
        }
    }

    ctx.phase = Phase::Policies;
    policies(ctx, shared).await?;

    ctx.phase = Phase::Validate;
    let mut values = phases::Values::default();
    phases::validate_into(&mut values, &api, path_params, &query, request.headers(), body.fields())?;
    if let Some(notes) = ctx.debug.as_mut() {
        notes.values =
            values.declared.iter().map(|(l, n, v)| (l.as_str().to_owned(), n.to_string(), v.to_string())).collect();
    }

    let backend = match backend {
        Handler::Http(backend) => backend,
        Handler::Function(code) => {
            ctx.phase = Phase::Proxy;
            let calling = phases::function(ctx, &shared.functions, code, &request, &query, &values, body.into_bytes());
            return Box::pin(calling).await;
        }
        Handler::Unavailable(reason) => return Err(GatewayError::Unavailable(reason.to_owned())),
    };

    ctx.phase = Phase::UpstreamRequest;
    let buffered = !matches!(body, RequestBody::Streamed);
    let fields = body.into_request(&mut request);
    let added = phases::upstream_request(ctx, &api, backend, &mut request, query, &values, fields)?;
    // The backend's request from here on (the caller's, rewritten in place).
    let upstream = &mut request;
    if ctx.debug.is_some() {
        // What the backend gets: the map's fields and the gateway's own.
        let mut sent = upstream.headers().clone();
        added.insert_into(ctx, &mut sent);
        let trace = domain::debug::UpstreamTrace {
            method: upstream.method().to_string(),
            url: upstream.uri().to_string(),
            headers: sent
                .iter()
                .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect(),
            body_bytes: hyper::body::Body::size_hint(upstream.body()).exact(),
        };
        if let Some(notes) = ctx.debug.as_mut() {
            notes.upstream = Some(trace);
        }
    }

    ctx.phase = Phase::Proxy;
    if let Some((caller, idle)) = upgrade {
        added.insert_into(ctx, upstream.headers_mut());
        crate::websocket::upgrade_headers(upstream.headers_mut());
        return Box::pin(crate::websocket::proxy(ctx, &shared.client, backend, *request, caller, idle)).await;
    }
    phases::proxy(ctx, &shared.client, backend, upstream, added, buffered).await
}

/// The policies phase, run only for an API that has policies. Its future (throttling
/// counters, maybe on Redis) is boxed: the phases' future, moved a few times per request,
/// would carry it otherwise. The same goes for the other waits off the usual path (debug
/// tokens, nonces, functions, WebSocket pipes).
async fn policies(ctx: &mut RequestContext, shared: &Shared) -> Result<(), GatewayError> {
    if ctx.policies.is_none() {
        return Ok(());
    }
    Box::pin(phases::policies(ctx, &shared.state)).await
}

/// A CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) for an
/// API with a CORS policy is answered here, whatever the API's own method; any other request
/// goes on to routing.
fn cors_preflight(
    ctx: &mut RequestContext,
    snapshot: &crate::Snapshot,
    deployment: &crate::snapshot::LiveDeployment,
    headers: &http::HeaderMap,
) -> Option<Response<Body>> {
    if snapshot.policies().is_empty() {
        return None;
    }
    use crate::snapshot::RouteMatch;
    let asked = phases::policies::preflight_method(&ctx.method, headers)?;
    // The API the preflight is about: the one for the asked method, or (for a method the
    // path does not have, answered without CORS headers) one the path has.
    let api = match deployment.route(&asked, &ctx.path) {
        RouteMatch::Found(api, _) => api.clone(),
        RouteMatch::MethodNotAllowed(allowed) => {
            let other = http::Method::from_bytes(allowed.first()?.as_bytes()).ok()?;
            match deployment.route(&other, &ctx.path) {
                RouteMatch::Found(api, _) => api.clone(),
                _ => return None,
            }
        }
        RouteMatch::NotFound => return None,
    };
    ctx.api = Some(api.clone());
    phases::policies::bound(ctx, snapshot.policies());
    let answer = phases::policies::preflight(ctx.policies.as_deref()?.cors()?, api.method().as_ref(), &asked, headers);
    // The answer is complete: no actual-request CORS headers are added to it.
    ctx.policies = None;
    Some(answer)
}

/// Refuses a request whose header lines together exceed the limit.
fn check_head(request: &Request<Body>, limits: Limits) -> Result<(), GatewayError> {
    let header_bytes: usize = request.headers().iter().map(|(n, v)| n.as_str().len() + v.len() + 4).sum();
    if header_bytes > limits.headers {
        return Err(GatewayError::HeadersTooLarge(format!(
            "the request headers are larger than {} bytes",
            limits.headers
        )));
    }
    Ok(())
}

/// How the request's body reaches the phases after authentication, as [`read_body`] decided.
#[derive(Debug)]
pub enum RequestBody {
    /// It streams to the backend as it arrives (cut off past the body limit).
    Streamed,
    /// It was read whole: a Function backend, a signed form or `Content-MD5` request, or an
    /// API that may send any request again.
    Buffered(bytes::Bytes),
    /// It was read whole and parsed into fields, because the API declares or maps them.
    Fields(Fields, bytes::Bytes),
}

impl RequestBody {
    /// The bytes read, for the signature check.
    fn bytes(&self) -> Option<&[u8]> {
        match self {
            RequestBody::Streamed => None,
            RequestBody::Buffered(bytes) | RequestBody::Fields(_, bytes) => Some(bytes),
        }
    }

    /// The parsed fields, for the validate phase.
    fn fields(&self) -> Option<&Fields> {
        match self {
            RequestBody::Fields(fields, _) => Some(fields),
            _ => None,
        }
    }

    /// The bytes read, for a function (empty for a streamed body: a function's is always read).
    fn into_bytes(self) -> bytes::Bytes {
        match self {
            RequestBody::Streamed => bytes::Bytes::new(),
            RequestBody::Buffered(bytes) | RequestBody::Fields(_, bytes) => bytes,
        }
    }

    /// The request for the upstream-request phase: its body put back, or the fields it is
    /// rebuilt from.
    fn into_request(self, request: &mut Request<Body>) -> Option<Fields> {
        match self {
            RequestBody::Streamed => None,
            RequestBody::Buffered(bytes) => {
                *request.body_mut() = body::full(bytes);
                None
            }
            RequestBody::Fields(fields, _) => Some(fields),
        }
    }
}

/// Between authenticate and validate: whether the body streams or is read. Only APIs with
/// body parameters or body mappings, Function backends, and signed form or `Content-MD5`
/// requests read it; and only a caller who passes every check that does not need the body
/// makes the gateway buffer anything, within the shared budget (returned: it is held until
/// the request is answered).
#[allow(clippy::too_many_arguments)]
async fn read_body(
    ctx: &mut RequestContext,
    api: &CompiledApi,
    backend: &Handler<'_>,
    snapshot: &crate::Snapshot,
    shared: &Shared,
    query: &[(String, String)],
    now_ms: i64,
    request: &mut Request<Body>,
) -> Result<(RequestBody, Option<tokio::sync::OwnedSemaphorePermit>), GatewayError> {
    let limits = shared.limits;
    let max_body = limits.body;
    let declared_length = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > max_body) {
        return Err(GatewayError::PayloadTooLarge(format!("the request body is larger than {max_body} bytes")));
    }
    let wants_fields = fields::needed(api);
    let is_function = matches!(backend, Handler::Function(_));
    // An API whose backend may be sent any request again keeps the body to send it again,
    // when there is one and another target to send it to.
    let replays = matches!(backend, Handler::Http(http) if http.keeps_bodies(shared.client.settings().retries))
        && !hyper::body::Body::is_end_stream(request.body());
    if !(wants_fields || is_function || replays || phases::authenticate_reads_body(api, request.headers())) {
        // A body without a length is cut off (and the backend call fails) past the limit.
        let incoming = std::mem::replace(request.body_mut(), body::empty());
        *request.body_mut() = body::limited(incoming, max_body, limits.body_idle);
        return Ok((RequestBody::Streamed, None));
    }
    let early = phases::Credentials { headers: request.headers(), query, body: None, now_ms };
    phases::authenticate(ctx, api, snapshot.apps(), early, phases::Check::BeforeBody)?;
    // What the body can be at most: its length when known (a request without a body, such
    // as most GETs, has length 0 and takes nothing), else the body limit.
    let most = hyper::body::Body::size_hint(request.body()).exact().or(declared_length).unwrap_or(max_body);
    let reservation = shared.body_budget.reserve(most.min(max_body))?;
    let incoming = std::mem::replace(request.body_mut(), body::empty());
    let watched = body::Progress::new(incoming, limits.body_idle);
    // Boxed: a `Collect` of a body type holding `dyn Error` kept in the phases' future made
    // rustc lose that error's `'static` when it checked the future is `Send`.
    let collecting: std::pin::Pin<Box<dyn Future<Output = _> + Send>> =
        Box::pin(http_body_util::Limited::new(watched, usize::try_from(max_body).unwrap_or(usize::MAX)).collect());
    let bytes = collecting
        .await
        .map_err(|error| match error.downcast_ref::<body::BodyTimeout>() {
            Some(timeout) => GatewayError::RequestTimeout(timeout.to_string()),
            None => GatewayError::PayloadTooLarge(format!("the request body is larger than {max_body} bytes")),
        })?
        .to_bytes();
    let body = if wants_fields {
        RequestBody::Fields(fields::parse(request.headers(), bytes.clone())?, bytes)
    } else {
        RequestBody::Buffered(bytes)
    };
    Ok((body, Some(reservation)))
}
