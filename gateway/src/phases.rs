//! The request lifecycle as named phases (DESIGN.md, "Gateway request lifecycle"), in the
//! spirit of Pingora's `ProxyHttp`: each phase is a plain function of the request context,
//! so it can be tested alone; [`crate::server`] runs them in order.
//!
//! 1. [`resolve`]: Host → group, stage → environment, no deployment → 404.
//! 2. [`route`]: method + path → API of the live version; 404 vs 405.
//! 3. [`mock`]: a Mock backend answers now (no authentication, as the seeds say).
//! 4. [`authenticate`]: `auth = app` APIs: AppCode or X-Ca signature (timestamp, nonce,
//!    HMAC), then the app's authorization for the API in this environment.
//! 5. [`validate`]: declared path, query and header parameters: required, type, constraints.
//! 6. [`upstream_request`]: the backend request: URL, mapped parameters, constants, system
//!    parameters, `X-Forwarded-*`, hop-by-hop headers and credentials removed.
//! 7. [`proxy`]: pooled keep-alive call (HTTP or HTTPS through rustls) with the API's
//!    timeout; 504 / 502.
//! 8. [`log`]: always runs.

use crate::apps::{AppCredential, AppTable, Grant};
use crate::body::{self, Body};
use crate::compiled::{Backend, CompiledApi, HttpBackend, Param, PathPart};
use crate::error::AuthFailure;
use crate::fields::Fields;
use crate::function::{FunctionCode, FunctionPool};
use crate::nonce::NonceStore;
use crate::signature::{self, SignatureMethod};
use crate::snapshot::{CompiledGroup, LiveDeployment, RouteMatch, Snapshot};
use crate::upstream::Upstream;
use crate::{Environment, GatewayError};
use domain::api::{AuthType, ParamLocation, RequestMode, SystemParam};
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, Response, Uri};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

/// Header names the phases use, parsed once (a `&str` name is parsed on every lookup).
pub mod names {
    use http::HeaderName;
    /// `X-Ca-Request-Id`, on every response and every backend request.
    pub const X_CA_REQUEST_ID: HeaderName = HeaderName::from_static("x-ca-request-id");
    /// `X-Ca-Stage`: the environment a request addresses.
    pub const X_CA_STAGE: HeaderName = HeaderName::from_static("x-ca-stage");
    /// `X-Forwarded-For`.
    pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
    /// `X-Forwarded-Proto`.
    pub const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
    /// `X-Forwarded-Host`.
    pub const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
}

/// The caller's address, and the same as a header value (made once per connection).
#[derive(Debug, Clone)]
pub struct Peer {
    /// The address.
    pub ip: IpAddr,
    /// The address as text, for `X-Forwarded-For` and the client-IP system parameter.
    pub header: HeaderValue,
}

impl From<IpAddr> for Peer {
    fn from(ip: IpAddr) -> Peer {
        let header = HeaderValue::from_str(&ip.to_string()).expect("an IP address is a valid header value");
        Peer { ip, header }
    }
}

/// A request id: a per-process random prefix and a counter, in hex (`prefix-counter`).
#[derive(Clone, Copy)]
pub struct RequestId([u8; 33]);

impl RequestId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits and a dash")
    }

    /// The id as a header value.
    pub fn header(&self) -> HeaderValue {
        HeaderValue::from_bytes(&self.0).expect("hex digits and a dash")
    }
}

impl std::ops::Deref for RequestId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Per-request state that phases read and fill in, and the log phase reports.
#[derive(Debug)]
pub struct RequestContext {
    /// Unique id, returned as `X-Ca-Request-Id` on every response.
    pub request_id: RequestId,
    /// When the gateway started on this request.
    pub started: Instant,
    /// The request's method.
    pub method: Method,
    /// The request's path (no query).
    pub path: String,
    /// The host the caller addressed, lower-case, without port.
    pub host: String,
    /// The caller's address.
    pub client: IpAddr,
    /// The same as a header value.
    pub client_header: HeaderValue,
    /// The group, once resolved.
    pub group: Option<Arc<CompiledGroup>>,
    /// The environment, once resolved.
    pub environment: Option<Environment>,
    /// The live version, once resolved.
    pub version: Option<String>,
    /// The API, once routed.
    pub api: Option<Arc<CompiledApi>>,
    /// Why the backend call failed, with the backend's address (log and trace only).
    pub upstream_error: Option<String>,
    /// The backend's status, when one answered.
    pub upstream_status: Option<u16>,
    /// How long the backend took to answer (response head).
    pub upstream_micros: Option<u64>,
    /// How the caller authenticated (`none`, `AppCode`, `Signature`), once checked.
    pub auth: Option<&'static str>,
    /// The calling app, once identified.
    pub app: Option<Arc<AppCredential>>,
    /// The server's StringToSign, when a signature did not match.
    pub string_to_sign: Option<String>,
    /// The phase running (or that refused the request), one of [`crate::debug::PHASES`].
    pub phase: &'static str,
    /// Notes for the Debug API's trace; `Some` only for requests with a valid debug token.
    pub debug: Option<Box<crate::debug::DebugNotes>>,
}

impl RequestContext {
    /// Starts the context for a request.
    pub fn new(method: Method, path: &str, headers: &HeaderMap, peer: &Peer) -> RequestContext {
        RequestContext {
            request_id: next_request_id(),
            started: Instant::now(),
            method,
            path: path.to_owned(),
            host: host_of(headers),
            client: peer.ip,
            client_header: peer.header.clone(),
            group: None,
            environment: None,
            version: None,
            api: None,
            upstream_error: None,
            upstream_status: None,
            upstream_micros: None,
            auth: None,
            app: None,
            string_to_sign: None,
            phase: "resolve",
            debug: None,
        }
    }
}

/// A request id unique across restarts without a system call per request: a random
/// per-process prefix and a counter.
fn next_request_id() -> RequestId {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let prefix = *PREFIX.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut id = [b'-'; 33];
    for i in 0..16 {
        let shift = 60 - 4 * i;
        id[i] = HEX[((prefix >> shift) & 0xf) as usize];
        id[17 + i] = HEX[((counter >> shift) & 0xf) as usize];
    }
    RequestId(id)
}

/// The host a request addresses, lower-case and without port.
fn host_of(headers: &HeaderMap) -> String {
    let raw = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let without_port = if let Some(bracketed) = raw.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or(bracketed)
    } else {
        match raw.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => raw,
        }
    };
    without_port.to_ascii_lowercase()
}

/// Phase 1: finds the group by host and the environment by `X-Ca-Stage` (default
/// `RELEASE`) or by the custom domain's pin, and the deployment live there.
pub fn resolve(
    ctx: &mut RequestContext,
    snapshot: &Snapshot,
    headers: &HeaderMap,
) -> Result<Arc<LiveDeployment>, GatewayError> {
    let binding = snapshot
        .host(&ctx.host)
        .ok_or_else(|| GatewayError::NotFound(format!("no API group answers on host `{}`", ctx.host)))?;
    let environment = match binding.pinned {
        Some(env) => env,
        None => match headers.get(names::X_CA_STAGE) {
            None => Environment::Prod,
            Some(value) => {
                let stage = value.to_str().unwrap_or("");
                Environment::from_stage(stage).ok_or_else(|| {
                    GatewayError::BadStage(format!("X-Ca-Stage `{stage}` is not TEST, PRE or RELEASE"))
                })?
            }
        },
    };
    ctx.group = Some(binding.group.clone());
    ctx.environment = Some(environment);
    let deployment = binding.group.deployment(environment).cloned().ok_or_else(|| {
        GatewayError::NotFound(format!("nothing of group {} is live in {}", binding.group.name, environment.stage()))
    })?;
    ctx.version = Some(deployment.version.clone());
    Ok(deployment)
}

/// Path parameters by name, as matched.
pub type PathParams = Vec<(String, String)>;

/// Phase 2: matches method and path against the live version's APIs.
pub fn route(
    ctx: &mut RequestContext,
    deployment: &LiveDeployment,
) -> Result<(Arc<CompiledApi>, PathParams), GatewayError> {
    match deployment.route(&ctx.method, &ctx.path) {
        RouteMatch::Found(api, params) => {
            ctx.api = Some(api.clone());
            if let Backend::Offline(reason) = &api.backend {
                return Err(GatewayError::NotFound(format!(
                    "API `{}` is off-line in this environment: {reason}",
                    api.name
                )));
            }
            Ok((api.clone(), params))
        }
        RouteMatch::MethodNotAllowed(allowed) => Err(GatewayError::MethodNotAllowed(format!(
            "{} is not allowed on {}; allowed: {}",
            ctx.method,
            ctx.path,
            allowed.join(", ")
        ))),
        RouteMatch::NotFound => Err(GatewayError::NotFound(format!(
            "no API of version {} matches {} {}",
            deployment.version, ctx.method, ctx.path
        ))),
    }
}

/// Phase 3: the API's mock response, when its backend is Mock.
pub fn mock(api: &CompiledApi) -> Option<Response<Body>> {
    let Backend::Mock(mock) = &api.backend else { return None };
    let mut response = Response::new(body::full(mock.body.clone()));
    *response.status_mut() = mock.status;
    for (name, value) in &mock.headers {
        response.headers_mut().append(name.clone(), value.clone());
    }
    Some(response)
}

/// What the authenticate phase needs of a request.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    /// The request's headers.
    pub headers: &'a HeaderMap,
    /// Its query parameters (decoded).
    pub query: &'a [(String, String)],
    /// Its body, when it was read (a form body or a `Content-MD5` to check); `None` when it
    /// streams.
    pub body: Option<&'a [u8]>,
    /// The gateway's clock (epoch ms).
    pub now_ms: i64,
}

/// Whether the authenticate phase must see the body: a signed request to an `auth = app`
/// API whose body is a form (its fields are signed) or carries `Content-MD5`.
pub fn authenticate_reads_body(api: &CompiledApi, headers: &HeaderMap) -> bool {
    api.auth == AuthType::App
        && headers.contains_key(signature::X_CA_SIGNATURE)
        && (headers.contains_key(signature::CONTENT_MD5)
            || signature::is_form(headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("")))
}

fn appcode(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    (value.len() >= 8 && value[..8].eq_ignore_ascii_case("APPCODE ")).then(|| value[8..].trim())
}

/// How much of [`authenticate`] to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Everything that does not need the body: the app (by AppCode or AppKey), enabled and
    /// authorised, the timestamp, the nonce's presence and the signed-header rules. Run
    /// before a body is read, so only a caller who could be authorised makes the gateway
    /// buffer anything.
    BeforeBody,
    /// All of it: also `Content-MD5`, the signature itself, and the nonce recorded.
    Full,
}

/// Phase 4: for `auth = app` APIs, the caller proves it is an app, by AppCode or X-Ca
/// signature, and the app must be enabled and authorized for the API in this environment.
pub fn authenticate(
    ctx: &mut RequestContext,
    api: &CompiledApi,
    apps: &AppTable,
    nonces: &NonceStore,
    request: Credentials<'_>,
    check: Check,
) -> Result<(), GatewayError> {
    if api.auth != AuthType::App {
        ctx.auth = Some("none");
        return Ok(());
    }
    let headers = request.headers;
    // A signed request's nonce, recorded only once the app is known to be enabled and
    // authorised: a disabled or unauthorised app must not be able to fill the store.
    let mut replay: Option<SignedNonce<'_>> = None;
    let app = if let Some(code) = appcode(headers) {
        ctx.auth = Some("AppCode");
        apps.by_code(code).ok_or_else(|| GatewayError::Auth(AuthFailure::InvalidAppCode, "Invalid AppCode".into()))?
    } else if let Some(key) = headers.get(signature::X_CA_KEY) {
        ctx.auth = Some("Signature");
        let key = key.to_str().unwrap_or("");
        let app = apps
            .by_key(key)
            .ok_or_else(|| GatewayError::Auth(AuthFailure::InvalidAppKey, format!("Invalid AppKey `{key}`")))?;
        replay = check_signature(ctx, app, request, check)?;
        app
    } else {
        return Err(GatewayError::Auth(
            AuthFailure::MissingCredentials,
            "this API needs an app: send `Authorization: APPCODE <code>` or sign the request (X-Ca-Key, X-Ca-Signature)"
                .into(),
        ));
    };
    ctx.app = Some(app.clone());
    if !app.enabled {
        return Err(GatewayError::Auth(AuthFailure::AppDisabled, format!("app `{}` is disabled", app.name)));
    }
    let env = ctx.environment.unwrap_or(Environment::Prod);
    match app.grant(api.id, env) {
        Grant::None => {
            return Err(GatewayError::Auth(
                AuthFailure::Unauthorized,
                format!("app `{}` is not authorized for API `{}` in {}", app.name, api.name, env.label()),
            ))
        }
        Grant::Until(Some(expires)) if expires <= request.now_ms => {
            return Err(GatewayError::Auth(
                AuthFailure::AuthorizationExpired,
                format!("app `{}`'s authorization for API `{}` in {} has expired", app.name, api.name, env.label()),
            ))
        }
        Grant::Until(_) => {}
    }
    if let Some(SignedNonce { nonce, timestamp }) = replay {
        if !nonces.first_use(app.id, nonce, timestamp + signature::MAX_SKEW_MS, request.now_ms) {
            return Err(GatewayError::Auth(
                AuthFailure::InvalidNonce,
                format!("X-Ca-Nonce `{nonce}` was already used"),
            ));
        }
    }
    Ok(())
}

/// The nonce of a request whose signature was verified, and its timestamp.
#[derive(Debug, Clone, Copy)]
struct SignedNonce<'a> {
    nonce: &'a str,
    timestamp: i64,
}

/// Verifies an X-Ca signature; returns the nonce to record once the app may call.
/// `X-Ca-Timestamp` and `X-Ca-Nonce` must be among the signed headers: unsigned, a captured
/// signature would replay forever with a fresh timestamp and nonce.
fn check_signature<'a>(
    ctx: &mut RequestContext,
    app: &AppCredential,
    request: Credentials<'a>,
    check: Check,
) -> Result<Option<SignedNonce<'a>>, GatewayError> {
    let headers = request.headers;
    let text = |name: HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let fail = |failure: AuthFailure, message: String| Err(GatewayError::Auth(failure, message));
    let Some(given) = text(signature::X_CA_SIGNATURE) else {
        return fail(AuthFailure::MissingCredentials, "X-Ca-Key needs an X-Ca-Signature".into());
    };
    let method = SignatureMethod::parse(text(signature::X_CA_SIGNATURE_METHOD))
        .map_err(|message| GatewayError::Auth(AuthFailure::InvalidSignature, message))?;
    let timestamp = text(signature::X_CA_TIMESTAMP).and_then(|t| t.trim().parse::<i64>().ok());
    let Some(timestamp) = timestamp.filter(|t| request.now_ms.abs_diff(*t) <= signature::MAX_SKEW_MS.unsigned_abs())
    else {
        return fail(
            AuthFailure::InvalidTimestamp,
            "X-Ca-Timestamp must be the time of the request in epoch milliseconds, within 15 minutes".into(),
        );
    };
    let form = signature::is_form(text(header::CONTENT_TYPE).unwrap_or(""));
    let mut params = request.query.to_vec();
    if let (true, Some(body)) = (form, request.body) {
        params.extend(form_urlencoded::parse(body).into_owned());
    }
    let Some(nonce) = text(signature::X_CA_NONCE).map(str::trim).filter(|n| !n.is_empty()) else {
        return fail(AuthFailure::InvalidNonce, "X-Ca-Nonce is required (a value unique within 15 minutes)".into());
    };
    let signed = signature::signed_header_names(headers);
    for (required, shown) in [(signature::X_CA_TIMESTAMP, "X-Ca-Timestamp"), (signature::X_CA_NONCE, "X-Ca-Nonce")] {
        if !signed.iter().any(|name| name == required.as_str()) {
            return fail(
                AuthFailure::InvalidSignature,
                format!("{shown} must be signed: list it in X-Ca-Signature-Headers"),
            );
        }
    }
    // The StringToSign must tell requests apart: a header given twice signs only its first
    // value (a backend may read the other), and a decoded `&`, or `=` in a name, in a
    // parameter makes two different queries sign alike (`a=1%26b%3D2` and `a=1&b=2`).
    let lines = [header::ACCEPT, signature::CONTENT_MD5, header::CONTENT_TYPE, header::DATE];
    let repeated = lines
        .iter()
        .map(|name| name.as_str())
        .chain(signed.iter().map(String::as_str))
        .find(|name| headers.get_all(*name).iter().nth(1).is_some());
    if let Some(name) = repeated {
        return fail(AuthFailure::InvalidSignature, format!("the signed header `{name}` is given more than once"));
    }
    if let Some((key, _)) = params.iter().find(|(k, v)| k.contains(['&', '=']) || v.contains('&')) {
        return fail(
            AuthFailure::InvalidSignature,
            format!(
                "the signed parameter `{key}` holds `&` (or `=` in its name), which the signature cannot tell apart"
            ),
        );
    }
    if check == Check::BeforeBody {
        return Ok(None);
    }
    if let (Some(md5), Some(body)) = (text(signature::CONTENT_MD5), request.body) {
        if !form && md5.trim() != signature::content_md5(body) {
            return fail(AuthFailure::InvalidContentMd5, "Content-MD5 does not match the body".into());
        }
    }
    let server = signature::string_to_sign(ctx.method.as_str(), headers, &signed, &ctx.path, &params);
    if !app.secret_key.verify(method, &server, given) {
        ctx.string_to_sign = Some(server.clone());
        return fail(AuthFailure::InvalidSignature, format!("Invalid Signature, Server StringToSign:`{server}`"));
    }
    Ok(Some(SignedNonce { nonce, timestamp }))
}

/// The declared parameters' values after validation (defaults filled in), by location.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Values {
    /// `(location, name, value)` of every declared parameter that has a value.
    pub declared: Vec<(ParamLocation, String, String)>,
}

impl Values {
    fn get(&self, name: &str) -> Option<&str> {
        self.declared.iter().find(|(_, n, _)| n == name).map(|(_, _, v)| v.as_str())
    }
}

/// Parses a query string into decoded pairs.
pub fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

fn check(param: &Param, value: &str) -> Result<(), GatewayError> {
    param.kind.check_value(value).and_then(|_| param.constraints.check_value(param.kind, value)).map_err(|message| {
        GatewayError::InvalidParameter(format!("{} parameter `{}`: {message}", param.location.as_str(), param.name))
    })
}

/// Phase 5: checks the declared parameters: path, query, header, and (when the API declares
/// them, so its body was read) form and JSON body fields.
pub fn validate(
    api: &CompiledApi,
    path_params: &[(String, String)],
    query: &[(String, String)],
    headers: &HeaderMap,
    fields: Option<&Fields>,
) -> Result<Values, GatewayError> {
    let mut values = Values::default();
    for (name, value) in path_params {
        if let Some(param) = api.params.iter().find(|p| p.location == ParamLocation::Path && &p.name == name) {
            check(param, value)?;
        }
        values.declared.push((ParamLocation::Path, name.clone(), value.clone()));
    }
    let body_declared = api.params.iter().any(|p| matches!(p.location, ParamLocation::Form | ParamLocation::Body));
    if body_declared && fields.is_some_and(Fields::unreadable) {
        return Err(GatewayError::UnsupportedMediaType(
            "this API reads body parameters: send application/x-www-form-urlencoded or application/json".into(),
        ));
    }
    for param in api.params.iter().filter(|p| p.location != ParamLocation::Path) {
        // A parameter given twice would be checked once and forwarded twice (a backend may
        // read the other copy): refused.
        let given = match param.location {
            ParamLocation::Query => query.iter().filter(|(k, _)| k == &param.name).count(),
            ParamLocation::Header => headers.get_all(param.name.as_str()).iter().count(),
            location => fields.map_or(0, |f| f.count(location, &param.name)),
        };
        if given > 1 {
            return Err(GatewayError::InvalidParameter(format!(
                "{} parameter `{}` is given {given} times; send it once",
                param.location.as_str(),
                param.name
            )));
        }
        let found = match param.location {
            ParamLocation::Query => query.iter().find(|(k, _)| k == &param.name).map(|(_, v)| v.clone()),
            ParamLocation::Header => headers.get(param.name.as_str()).and_then(|v| v.to_str().ok()).map(str::to_owned),
            location => fields.and_then(|f| f.get(location, &param.name)),
        };
        match found.or_else(|| param.default.clone()) {
            Some(value) => {
                check(param, &value)?;
                values.declared.push((param.location, param.name.clone(), value));
            }
            None if param.required => {
                return Err(GatewayError::InvalidParameter(format!(
                    "{} parameter `{}` is required",
                    param.location.as_str(),
                    param.name
                )))
            }
            None => {}
        }
    }
    Ok(values)
}

/// Whether `name` describes one connection and is never forwarded (RFC 9110 §7.6.1). One
/// string match: comparing `HeaderName`s one by one costs more.
fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "proxy-authorization"
    )
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

/// Removes the caller's gateway credentials: an AppCode and the X-Ca signature headers; and
/// `X-Ca-Key` unless a verified signature made it the calling app's key (sent beside an
/// AppCode, or to an anonymous API, it is only a claim).
fn strip_credentials(headers: &mut HeaderMap, signed: bool) {
    if appcode(headers).is_some() {
        headers.remove(header::AUTHORIZATION);
    }
    let remove: Vec<HeaderName> = headers
        .keys()
        .filter(|n| n.as_str().starts_with("x-ca-signature") || (!signed && *n == signature::X_CA_KEY))
        .cloned()
        .collect();
    for name in remove {
        headers.remove(name);
    }
}

/// Characters escaped in a path segment (also by clients that build gateway URLs): besides
/// what a segment cannot hold, `/` and `\` (no added segments), `;` (no Tomcat/Spring path
/// parameters) and `%` (no double decoding).
pub const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b';')
    .add(b'\\')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%');

/// Phase 6: the backend request, as the API's definition shapes it.
pub fn upstream_request(
    ctx: &RequestContext,
    api: &CompiledApi,
    backend: &HttpBackend,
    request: Request<Body>,
    query: Vec<(String, String)>,
    values: &Values,
    fields: Option<Fields>,
) -> Result<Request<Body>, GatewayError> {
    let (parts, mut body) = request.into_parts();
    let declared = |location: ParamLocation, name: &str| {
        api.params.iter().any(|p| p.location == location && p.name.eq_ignore_ascii_case(name))
    };
    let mapped_from = |location: ParamLocation, name: &str| {
        backend.mapping.iter().any(|m| {
            api.params.iter().any(|p| p.location == location && p.name == m.param) && m.param.eq_ignore_ascii_case(name)
        })
    };

    // Query: everything (pass-through) or the declared parameters (mapping), minus what is
    // mapped elsewhere, plus mapped and constant parameters.
    let mut out_query: Vec<(String, String)> = match api.mode {
        RequestMode::Passthrough => query,
        RequestMode::Mapping => values
            .declared
            .iter()
            .filter(|(l, _, _)| *l == ParamLocation::Query)
            .map(|(_, n, v)| (n.clone(), v.clone()))
            .collect(),
    };
    out_query.retain(|(k, _)| !mapped_from(ParamLocation::Query, k));

    // Headers, the same way. Room for the gateway's own headers up front: one allocation
    // rather than a rehash for each.
    let mut headers = parts.headers;
    headers.reserve(6 + backend.system.len() + backend.constant_headers.len());
    strip_hop_by_hop(&mut headers);
    strip_credentials(&mut headers, ctx.auth == Some("Signature"));
    let original_host = headers.remove(header::HOST);
    if api.mode == RequestMode::Mapping {
        let keep: Vec<HeaderName> = headers
            .keys()
            .filter(|n| {
                declared(ParamLocation::Header, n.as_str())
                    || *n == header::CONTENT_TYPE
                    || *n == header::CONTENT_LENGTH
                    || *n == header::ACCEPT
            })
            .cloned()
            .collect();
        let mut kept = HeaderMap::new();
        for name in keep {
            for value in headers.get_all(&name) {
                kept.append(name.clone(), value.clone());
            }
        }
        headers = kept;
    }
    let mapped_headers: Vec<HeaderName> =
        headers.keys().filter(|n| mapped_from(ParamLocation::Header, n.as_str())).cloned().collect();
    for name in mapped_headers {
        headers.remove(name);
    }

    // Body fields, when the body was read: everything (pass-through) or the declared fields
    // (mapping), minus what is mapped elsewhere.
    let mut fields = fields.map(|mut fields| {
        fields.retain(|name| {
            let declared_here = declared(ParamLocation::Form, name) || declared(ParamLocation::Body, name);
            let mapped_away = mapped_from(ParamLocation::Form, name) || mapped_from(ParamLocation::Body, name);
            (api.mode == RequestMode::Passthrough || declared_here) && !mapped_away
        });
        fields
    });

    // Mapped values go to their backend name and place.
    let mut path_values: Vec<(String, String)> = Vec::new();
    for mapping in &backend.mapping {
        let Some(value) = values.get(&mapping.param) else { continue };
        match mapping.location {
            ParamLocation::Path => path_values.push((mapping.name.clone(), value.to_owned())),
            ParamLocation::Query => out_query.push((mapping.name.clone(), value.to_owned())),
            ParamLocation::Header => {
                if let (Ok(name), Ok(value)) =
                    (HeaderName::from_bytes(mapping.name.as_bytes()), HeaderValue::from_str(value))
                {
                    headers.insert(name, value);
                }
            }
            location @ (ParamLocation::Form | ParamLocation::Body) => {
                if let Some(fields) = fields.as_mut() {
                    fields.insert(location, &mapping.name, value);
                }
            }
        }
    }
    out_query.extend(backend.constant_query.iter().cloned());

    // The path, with parameters filled in.
    let mut path = String::new();
    for part in &backend.path {
        path.push('/');
        match part {
            PathPart::Literal(literal) => path.push_str(literal),
            PathPart::Param(name) => {
                let value = path_values
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
                    .or_else(|| values.get(name))
                    .ok_or_else(|| {
                        GatewayError::InvalidParameter(format!("no value for backend path parameter `{name}`"))
                    })?;
                crate::path::backend_segment(name, value).map_err(GatewayError::InvalidPath)?;
                path.extend(utf8_percent_encode(value, SEGMENT));
            }
        }
    }
    if path.is_empty() {
        path.push('/');
    }
    if !out_query.is_empty() {
        path.push('?');
        let start = path.len();
        form_urlencoded::Serializer::for_suffix(&mut path, start).extend_pairs(&out_query).finish();
    }
    let mut uri = http::uri::Parts::default();
    uri.scheme = Some(if backend.address.tls { http::uri::Scheme::HTTPS } else { http::uri::Scheme::HTTP });
    uri.authority = Some(backend.origin.uri_authority.clone());
    uri.path_and_query = Some(
        http::uri::PathAndQuery::from_maybe_shared(bytes::Bytes::from(path))
            .map_err(|e| GatewayError::BadGateway(format!("backend URL: {e}")))?,
    );
    let uri = Uri::from_parts(uri).map_err(|e| GatewayError::BadGateway(format!("backend URL: {e}")))?;

    // Gateway headers.
    for (name, value) in &backend.constant_headers {
        headers.insert(name.clone(), value.clone());
    }
    for (param, name) in &backend.system {
        let value = match param {
            SystemParam::ClientIp => Some(ctx.client_header.clone()),
            SystemParam::RequestId => Some(ctx.request_id.header()),
            SystemParam::AppKey => ctx.app.as_ref().and_then(|app| HeaderValue::from_str(&app.key).ok()),
        };
        // Without a value (no app called) the caller's own header of that name is dropped: the
        // backend trusts this header to come from the gateway.
        match value {
            Some(value) => headers.insert(name.clone(), value),
            None => headers.remove(name),
        };
    }
    let forwarded_for = match headers.get(names::X_FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
        Some(previous) => HeaderValue::from_str(&format!("{previous}, {}", ctx.client)).ok(),
        None => Some(ctx.client_header.clone()),
    };
    if let Some(value) = forwarded_for {
        headers.insert(names::X_FORWARDED_FOR, value);
    }
    headers.insert(names::X_FORWARDED_PROTO, HeaderValue::from_static("http"));
    if let Some(host) = original_host {
        headers.insert(names::X_FORWARDED_HOST, host);
    }
    headers.insert(names::X_CA_REQUEST_ID, ctx.request_id.header());
    if !headers.contains_key(header::HOST) {
        headers.insert(header::HOST, backend.origin.host_header.clone());
    }

    if let Some(fields) = fields {
        let (rebuilt, content_type, length) = fields.into_body();
        body = rebuilt;
        headers.remove(header::TRANSFER_ENCODING);
        if let Some(content_type) = content_type {
            headers.insert(header::CONTENT_TYPE, content_type);
        }
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }

    let method = backend.method.clone().unwrap_or(parts.method);
    let mut upstream = Request::new(body);
    *upstream.method_mut() = method;
    *upstream.uri_mut() = uri;
    *upstream.headers_mut() = headers;
    Ok(upstream)
}

/// Phase 7: sends the request over the pooled client; the response body streams back.
pub async fn proxy(
    ctx: &mut RequestContext,
    upstream: &Upstream,
    backend: &HttpBackend,
    request: Request<Body>,
) -> Result<Response<Body>, GatewayError> {
    let started = Instant::now();
    // The caller learns what failed; the backend's address and the OS or TLS error text go
    // to the access log and the Debug API trace only.
    let response = match tokio::time::timeout(backend.timeout, upstream.send(backend, request)).await {
        Err(_) => {
            let ms = backend.timeout.as_millis();
            ctx.upstream_error = Some(format!("{} did not answer within {ms} ms", backend.address));
            return Err(GatewayError::GatewayTimeout(format!("the backend did not answer within {ms} ms")));
        }
        Ok(Err(error)) => {
            ctx.upstream_error = Some(format!("{}: {}", backend.address, error.detail));
            return Err(GatewayError::BadGateway(error.kind.public_message().into()));
        }
        Ok(Ok(response)) => response,
    };
    ctx.upstream_micros = Some(started.elapsed().as_micros() as u64);
    ctx.upstream_status = Some(response.status().as_u16());
    let mut response = response;
    strip_hop_by_hop(response.headers_mut());
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
        params.insert(name.clone(), serde_json::Value::String(value.clone()));
    }
    let mut query_object = serde_json::Map::new();
    for (name, value) in query {
        query_object.entry(name.clone()).or_insert_with(|| serde_json::Value::String(value.clone()));
    }
    let mut visible = request.headers().clone();
    strip_credentials(&mut visible, ctx.auth == Some("Signature"));
    let mut headers = serde_json::Map::new();
    for (name, value) in &visible {
        if let Ok(value) = value.to_str() {
            headers.entry(name.as_str().to_owned()).or_insert_with(|| serde_json::Value::String(value.to_owned()));
        }
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    // `req.json` is parsed from `body` in the sandbox, and only if the function reads it.
    let argument = serde_json::json!({
        "method": ctx.method.as_str(), "path": ctx.path, "params": params, "query": query_object,
        "headers": headers, "body": text,
    });
    if let Some(notes) = ctx.debug.as_mut() {
        notes.upstream = Some(domain::debug::UpstreamTrace {
            method: "FUNCTION".into(),
            url: format!(
                "function {} (code {})",
                ctx.api.as_ref().map(|a| a.name.as_str()).unwrap_or("-"),
                &code.hash[..12]
            ),
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

/// Phase 8: one structured access-log line per request, whatever happened. `bytes` is the
/// response body's size when known up front (streamed bodies of unknown length log `-1`).
pub fn log(ctx: &RequestContext, status: http::StatusCode, bytes: Option<u64>) {
    tracing::info!(
        target: "gantry::access",
        request_id = %ctx.request_id,
        client = %ctx.client,
        method = %ctx.method,
        host = %ctx.host,
        path = %ctx.path,
        group = ctx.group.as_ref().map(|g| g.name.as_str()).unwrap_or("-"),
        environment = ctx.environment.map(Environment::as_str).unwrap_or("-"),
        version = ctx.version.as_deref().unwrap_or("-"),
        api = ctx.api.as_ref().map(|a| a.name.as_str()).unwrap_or("-"),
        status = status.as_u16(),
        bytes = bytes.map(|b| b as i64).unwrap_or(-1),
        upstream_status = ctx.upstream_status.unwrap_or(0),
        upstream_micros = ctx.upstream_micros.unwrap_or(0),
        upstream_error = ctx.upstream_error.as_deref().unwrap_or("-"),
        micros = ctx.started.elapsed().as_micros() as u64,
        "request"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiled::Target;
    use crate::snapshot::HostBinding;
    use domain::api::ApiSpec;
    use std::net::Ipv4Addr;

    const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

    fn compiled(spec: serde_json::Value, target: Target) -> CompiledApi {
        let spec: ApiSpec = serde_json::from_value(spec).expect("spec");
        CompiledApi::compile(1, &spec.validate().expect("valid"), target).expect("compile")
    }

    fn snapshot_with_test_deployment() -> Snapshot {
        let group = Arc::new(CompiledGroup {
            id: 1,
            name: "petstore".into(),
            deployments: [Some(Arc::new(LiveDeployment::empty("1.0.0"))), None, None],
        });
        let mut snapshot = Snapshot::empty(1);
        snapshot.bind_host("petstore.localhost", HostBinding { group: group.clone(), pinned: None });
        snapshot.bind_host("pets.example.com", HostBinding { group, pinned: Some(Environment::Test) });
        snapshot
    }

    fn headers(host: &str, stage: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).expect("host"));
        if let Some(stage) = stage {
            headers.insert("x-ca-stage", HeaderValue::from_str(stage).expect("stage"));
        }
        headers
    }

    fn resolve_for(host: &str, stage: Option<&str>) -> Result<Arc<LiveDeployment>, GatewayError> {
        let headers = headers(host, stage);
        let mut ctx = RequestContext::new(Method::GET, "/pets/1", &headers, &CLIENT.into());
        resolve(&mut ctx, &snapshot_with_test_deployment(), &headers)
    }

    #[test]
    fn host_port_is_ignored_and_case_folded() {
        assert_eq!(host_of(&headers("PetStore.localhost:8080", None)), "petstore.localhost");
        assert_eq!(host_of(&headers("[::1]:8080", None)), "::1");
    }

    #[test]
    fn stage_picks_the_environment() {
        assert_eq!(resolve_for("petstore.localhost:8080", Some("TEST")).expect("live").version, "1.0.0");
        assert!(matches!(resolve_for("petstore.localhost", None), Err(GatewayError::NotFound(_))));
        assert!(matches!(resolve_for("petstore.localhost", Some("BETA")), Err(GatewayError::BadStage(_))));
    }

    #[test]
    fn a_pinned_custom_domain_ignores_the_stage_header() {
        assert!(resolve_for("pets.example.com", Some("RELEASE")).is_ok());
    }

    #[test]
    fn an_unknown_host_is_not_found() {
        assert!(matches!(resolve_for("nobody.localhost", None), Err(GatewayError::NotFound(_))));
    }

    #[test]
    fn validation_checks_required_type_constraints_and_fills_defaults() {
        let api = compiled(
            serde_json::json!({"name": "list", "request": {"method": "GET", "path": "/pets/{id}", "params": [
                {"name": "id", "in": "path", "type": "int"},
                {"name": "limit", "in": "query", "type": "int", "default": "10", "constraints": {"min": 1, "max": 100}},
                {"name": "x-tenant", "in": "header", "required": true}
            ]}}),
            Target::Mock,
        );
        let mut headers = HeaderMap::new();
        headers.insert("x-tenant", HeaderValue::from_static("acme"));
        let path = vec![("id".to_owned(), "7".to_owned())];
        let values = validate(&api, &path, &[], &headers, None).expect("valid");
        assert!(values.declared.contains(&(ParamLocation::Query, "limit".into(), "10".into())));
        let bad_limit = validate(&api, &path, &[("limit".into(), "500".into())], &headers, None).expect_err("max");
        assert!(bad_limit.message().contains("limit"), "{}", bad_limit.message());
        let bad_id = validate(&api, &[("id".into(), "seven".into())], &[], &headers, None).expect_err("int");
        assert!(bad_id.message().contains("`id`"));
        let missing = validate(&api, &path, &[], &HeaderMap::new(), None).expect_err("required");
        assert!(
            missing.message().contains("x-tenant is required") || missing.message().contains("`x-tenant` is required")
        );
    }

    fn upstream_for(api: &CompiledApi, path: &str, query: &str, headers: HeaderMap) -> Request<Body> {
        let Backend::Http(backend) = &api.backend else { panic!("http") };
        let mut ctx = RequestContext::new(Method::GET, path, &headers, &CLIENT.into());
        let deployment = LiveDeployment::new("1", vec![api.clone()]).expect("router");
        let (api, path_params) = route(&mut ctx, &deployment).expect("route");
        let query = parse_query(Some(query));
        let values = validate(&api, &path_params, &query, &headers, None).expect("valid");
        let mut request = Request::new(body::full(""));
        *request.headers_mut() = headers;
        upstream_request(&ctx, &api, backend, request, query, &values, None).expect("upstream")
    }

    #[test]
    fn mapping_renames_moves_and_adds_constants_and_system_params() {
        let api = compiled(
            serde_json::json!({"name": "get", "request": {"method": "GET", "path": "/pets/{petId}", "mode": "mapping", "params": [
                {"name": "petId", "in": "path", "type": "int"},
                {"name": "verbose", "in": "query", "type": "boolean"},
                {"name": "x-tenant", "in": "header"}
            ]}, "backend": {"http": {
                "path": "/v2/pet/{id}",
                "mapping": [{"param": "petId", "name": "id", "in": "path"}, {"param": "x-tenant", "name": "tenant", "in": "query"}],
                "constants": [{"name": "host", "in": "header", "value": "pets.internal"}, {"name": "source", "in": "query", "value": "gantry"}],
                "system": [{"param": "client_ip", "name": "x-client-ip"}]
            }}}),
            Target::Http(domain::BackendAddress::parse("http://10.1.2.3:9000").expect("address")),
        );
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("petstore.localhost:8080"));
        headers.insert("x-tenant", HeaderValue::from_static("acme"));
        headers.insert("x-undeclared", HeaderValue::from_static("dropped in mapping mode"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("APPCODE secret"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive, x-hop"));
        headers.insert("x-hop", HeaderValue::from_static("1"));
        let request = upstream_for(&api, "/pets/42", "verbose=true&other=1", headers);
        assert_eq!(request.uri().to_string(), "http://10.1.2.3:9000/v2/pet/42?verbose=true&tenant=acme&source=gantry");
        let h = request.headers();
        assert_eq!(h["host"], "pets.internal");
        assert_eq!(h["x-client-ip"], "192.0.2.1");
        assert_eq!(h["x-forwarded-for"], "192.0.2.1");
        assert_eq!(h["x-forwarded-host"], "petstore.localhost:8080");
        for gone in ["x-undeclared", "authorization", "x-tenant", "connection", "x-hop"] {
            assert!(!h.contains_key(gone), "{gone} should not reach the backend");
        }
    }

    #[test]
    fn passthrough_forwards_everything_but_hop_by_hop_and_credentials() {
        let api = compiled(
            serde_json::json!({"name": "any", "request": {"method": "GET", "path": "/files/{name}"},
                "backend": {"http": {"path": "/static/{name}"}}}),
            Target::Http(domain::BackendAddress::parse("http://backend").expect("address")),
        );
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("petstore.localhost"));
        headers.insert("x-custom", HeaderValue::from_static("kept"));
        headers.insert("x-ca-signature", HeaderValue::from_static("sig"));
        headers.insert("x-forwarded-for", HeaderValue::from_static("198.51.100.9"));
        let request = upstream_for(&api, "/files/a%20b", "q=1&q=2", headers);
        assert_eq!(request.uri().to_string(), "http://backend/static/a%20b?q=1&q=2");
        let h = request.headers();
        assert_eq!(h["x-custom"], "kept");
        assert_eq!(h["host"], "backend");
        assert_eq!(h["x-forwarded-for"], "198.51.100.9, 192.0.2.1");
        assert!(!h.contains_key("x-ca-signature"));
    }

    #[test]
    fn hop_by_hop_headers_and_those_connection_names_are_removed() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("close, X-Hop"));
        headers.append(header::CONNECTION, HeaderValue::from_static("x-other-hop"));
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert(header::TE, HeaderValue::from_static("trailers"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert("x-hop", HeaderValue::from_static("1"));
        headers.insert("x-other-hop", HeaderValue::from_static("2"));
        headers.insert("x-kept", HeaderValue::from_static("3"));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        strip_hop_by_hop(&mut headers);
        let mut left: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["content-type", "x-kept"]);

        let mut plain = HeaderMap::new();
        plain.insert("x-kept", HeaderValue::from_static("3"));
        strip_hop_by_hop(&mut plain);
        assert_eq!(plain.len(), 1);
    }

    #[test]
    fn mock_answers_with_the_defined_response() {
        let api = compiled(
            serde_json::json!({"name": "hello", "request": {"method": "GET", "path": "/hello"},
                "backend": {"mock": {"status": 201, "body": "{\"hello\":\"world\"}", "headers": [{"name": "X-Mock", "value": "yes"}]}}}),
            Target::Mock,
        );
        let response = mock(&api).expect("mock");
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["x-mock"], "yes");
        assert_eq!(response.headers()["content-type"], "application/json; charset=utf-8");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::compiled::Target;
    use domain::api::ApiSpec;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn api() -> CompiledApi {
        let spec: ApiSpec = serde_json::from_value(serde_json::json!({
            "name": "m", "request": {"method": "GET", "path": "/items/{id}", "mode": "mapping", "params": [
                {"name": "id", "in": "path"}, {"name": "q", "in": "query"}, {"name": "x-h", "in": "header"}
            ]},
            "backend": {"http": {"path": "/v1/{item}", "mapping": [
                {"param": "id", "name": "item", "in": "path"}, {"param": "q", "name": "x-q", "in": "header"},
                {"param": "x-h", "name": "h", "in": "query"}
            ]}}
        }))
        .expect("spec");
        CompiledApi::compile(
            1,
            &spec.validate().expect("valid"),
            Target::Http(domain::BackendAddress::parse("http://b").expect("a")),
        )
        .expect("compile")
    }

    proptest! {
        /// Arbitrary parameter values never panic the mapping, always give a valid URI, and a
        /// path value survives percent-encoding.
        #[test]
        fn mapping_arbitrary_values(id in "[^/]{1,20}", q in ".{0,20}", h in "[ -~]{0,20}") {
            let api = api();
            let Backend::Http(backend) = &api.backend else { unreachable!() };
            let mut headers = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(&h) {
                headers.insert("x-h", value);
            }
            let ctx = RequestContext::new(Method::GET, "/x", &headers, &IpAddr::V4(Ipv4Addr::LOCALHOST).into());
            let query = vec![("q".to_owned(), q)];
            let path = vec![("id".to_owned(), id.clone())];
            let values = validate(&api, &path, &query, &headers, None).expect("no constraints");
            let mut request = Request::new(body::full(""));
            *request.headers_mut() = headers;
            if let Ok(upstream) = upstream_request(&ctx, &api, backend, request, query, &values, None) {
                let encoded = upstream.uri().path().trim_start_matches("/v1/").to_owned();
                let decoded = percent_encoding::percent_decode_str(&encoded).decode_utf8_lossy().into_owned();
                prop_assert_eq!(decoded, id);
            }
        }
    }
}
