//! What the phases share about one request: its [`RequestContext`] (filled in phase by
//! phase, read by the log, the metrics and the Debug API's trace), the [`Phase`] it is in,
//! its [`RequestId`], the [`Peer`] that sent it, and the header [`names`] the phases use.

use crate::apps::AppCredential;
use crate::compiled::CompiledApi;
pub use crate::h1::Present;
use crate::name::Name;
pub use crate::request_id::RequestId;
use crate::snapshot::CompiledGroup;
use crate::Environment;
use domain::debug::UpstreamTrace;
use http::{header, HeaderMap, HeaderValue, Method};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

/// The steps of DESIGN.md's request lifecycle that can refuse a request, in order. The log
/// step always runs and is not one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Host → group, stage → environment, the live deployment.
    Resolve,
    /// Method and path → API.
    Route,
    /// A Mock backend answers here.
    Mock,
    /// AppCode or X-Ca signature, and the app's authorization.
    Authenticate,
    /// Traffic policies: IP access control and throttling.
    Policies,
    /// Declared parameters.
    Validate,
    /// The backend request is built.
    UpstreamRequest,
    /// The backend (or the function) is called.
    Proxy,
}

impl Phase {
    /// Every phase, in the order they run.
    pub const ALL: [Phase; 8] = [
        Phase::Resolve,
        Phase::Route,
        Phase::Mock,
        Phase::Authenticate,
        Phase::Policies,
        Phase::Validate,
        Phase::UpstreamRequest,
        Phase::Proxy,
    ];

    /// The phase's name in the Debug API's trace.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Resolve => "resolve",
            Phase::Route => "route",
            Phase::Mock => "mock",
            Phase::Authenticate => "authenticate",
            Phase::Policies => "policies",
            Phase::Validate => "validate",
            Phase::UpstreamRequest => "upstream request",
            Phase::Proxy => "proxy",
        }
    }
}

/// How a caller proved who it is (the authenticate phase's outcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// The API is anonymous (`auth = none`).
    None,
    /// `Authorization: APPCODE …`.
    AppCode,
    /// An X-Ca signature.
    Signature,
}

impl AuthMethod {
    /// The name the trace shows.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::AppCode => "AppCode",
            AuthMethod::Signature => "Signature",
        }
    }
}

/// What the phases note down for a traced request beyond [`RequestContext`]'s fields.
#[derive(Debug, Default)]
pub struct DebugNotes {
    /// Path parameters as matched.
    pub path_params: Vec<(String, String)>,
    /// Whether the mock short-cut answered.
    pub mock: bool,
    /// Declared parameters after validation.
    pub values: Vec<(String, String, String)>,
    /// The backend request.
    pub upstream: Option<UpstreamTrace>,
    /// What each traffic policy decided.
    pub policies: Vec<String>,
    /// The side of a canary the Debug API asked for (`Some(true)`: the canary).
    pub canary_side: Option<bool>,
}

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
    /// `X-Ca-Version`: the version that served a response.
    pub const X_CA_VERSION: HeaderName = HeaderName::from_static("x-ca-version");
}

/// The caller's address, the same as a header value, and whether the connection is TLS
/// (made once per connection).
#[derive(Debug, Clone)]
pub struct Peer {
    /// The address.
    pub ip: IpAddr,
    /// The address as text, for `X-Forwarded-For` and the client-IP system parameter.
    pub header: HeaderValue,
    /// Whether the caller came through the HTTPS listener.
    pub tls: bool,
    /// Whether the caller's connection is served by [`crate::h1::server`], which writes a
    /// backend's fields as they came ([`crate::h1::HeadForm::Raw`]).
    pub raw_heads: bool,
}

impl Peer {
    /// A caller at `ip`, over TLS or not.
    pub fn new(ip: IpAddr, tls: bool) -> Peer {
        let header = HeaderValue::from_str(&ip.to_string()).expect("an IP address is a valid header value");
        Peer { ip, header, tls, raw_heads: false }
    }
}

impl From<IpAddr> for Peer {
    /// A plain-HTTP caller.
    fn from(ip: IpAddr) -> Peer {
        Peer::new(ip, false)
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
    /// The request's path (no query); inline when short, as most are.
    pub path: Name,
    /// The host the caller addressed, lower-case, without port; inline when short.
    pub host: Name,
    /// Whether the caller came over TLS (the HTTPS listener).
    pub tls: bool,
    /// Whether the caller's side takes a backend's fields as lines ([`Peer::raw_heads`]).
    pub raw_heads: bool,
    /// Which kinds of field the caller's head holds (set by [`crate::server::handle`]).
    pub present: Present,
    /// The caller's address.
    pub client: IpAddr,
    /// The same as a header value.
    pub client_header: HeaderValue,
    /// The group, once resolved.
    pub group: Option<Arc<CompiledGroup>>,
    /// The environment, once resolved.
    pub environment: Option<Environment>,
    /// The version serving the request, once resolved (the canary's when it took it).
    pub version: Option<Arc<str>>,
    /// The same as an `X-Ca-Version` value.
    pub version_header: Option<HeaderValue>,
    /// Whether the environment's canary took the request.
    pub canary: bool,
    /// The API, once routed.
    pub api: Option<Arc<CompiledApi>>,
    /// Why the backend call failed, with the backend's address (log and trace only).
    pub upstream_error: Option<String>,
    /// The backend origin called (`scheme://authority`), for its health: the last target
    /// tried.
    pub backend: Option<Arc<str>>,
    /// Earlier attempts on other targets, each `target: why it failed` (log and trace only).
    pub retried: Vec<String>,
    /// The backend's status, when one answered.
    pub upstream_status: Option<u16>,
    /// How long the backend took to answer (response head).
    pub upstream_micros: Option<u64>,
    /// How the caller authenticated, once checked.
    pub auth: Option<AuthMethod>,
    /// The calling app, once identified.
    pub app: Option<Arc<AppCredential>>,
    /// The server's StringToSign, when a signature did not match.
    pub string_to_sign: Option<String>,
    /// The phase running (or that refused the request).
    pub phase: Phase,
    /// The address traffic policies judge: the peer, or the caller behind a trusted proxy.
    pub caller: IpAddr,
    /// The traffic policies in force for the routed API, if any are bound.
    pub policies: Option<Arc<crate::policy::ApiPolicies>>,
    /// The tightest throttling quota after this request, for the `RateLimit-*` headers.
    pub quota: Option<crate::policy::Quota>,
    /// The request's `Origin`, read only for an API with a CORS policy.
    pub origin: Option<HeaderValue>,
    /// Notes for the Debug API's trace; `Some` only for requests with a valid debug token.
    pub debug: Option<Box<DebugNotes>>,
    /// The backend's response fields as lines, when the proxy phase took them that way
    /// ([`crate::h1::HeadForm::Raw`]): they go out beside the response.
    pub raw_fields: Option<crate::h1::RawFields>,
}

impl RequestContext {
    /// Starts the context for a request, in the [`Phase::Resolve`] phase.
    pub fn new(method: Method, path: &str, headers: &HeaderMap, peer: &Peer) -> RequestContext {
        RequestContext {
            request_id: RequestId::next(),
            started: Instant::now(),
            method,
            path: Name::from(path),
            host: host_of(headers),
            tls: peer.tls,
            raw_heads: peer.raw_heads,
            present: Present::ANY,
            client: peer.ip,
            client_header: peer.header.clone(),
            group: None,
            environment: None,
            version: None,
            version_header: None,
            canary: false,
            api: None,
            upstream_error: None,
            backend: None,
            retried: Vec::new(),
            upstream_status: None,
            upstream_micros: None,
            auth: None,
            app: None,
            string_to_sign: None,
            phase: Phase::Resolve,
            caller: peer.ip,
            policies: None,
            quota: None,
            origin: None,
            debug: None,
            raw_fields: None,
        }
    }
}

/// The host a request addresses, lower-case and without port.
fn host_of(headers: &HeaderMap) -> Name {
    let raw = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let without_port = if let Some(bracketed) = raw.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or(bracketed)
    } else {
        // A byte search: `rsplit_once` with a `char` costs more on a short host.
        match raw.bytes().rposition(|b| b == b':') {
            Some(at) if raw[at + 1..].bytes().all(|b| b.is_ascii_digit()) => &raw[..at],
            _ => raw,
        }
    };
    Name::ascii_lowercase(without_port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).expect("host"));
        headers
    }

    #[test]
    fn host_port_is_ignored_and_case_folded() {
        assert_eq!(host_of(&headers("PetStore.localhost:8080")), "petstore.localhost");
        assert_eq!(host_of(&headers("[::1]:8080")), "::1");
        assert_eq!(host_of(&headers("odd:port")), "odd:port");
        assert_eq!(host_of(&HeaderMap::new()), "");
    }

    #[test]
    fn phases_are_listed_in_order_with_distinct_names() {
        let mut sorted = Phase::ALL;
        sorted.sort();
        assert_eq!(sorted, Phase::ALL);
        let names: std::collections::HashSet<_> = Phase::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(names.len(), Phase::ALL.len());
    }

    #[test]
    fn request_ids_are_unique_and_valid_headers() {
        let peer = Peer::from(IpAddr::from([192, 0, 2, 1]));
        let a = RequestContext::new(Method::GET, "/", &HeaderMap::new(), &peer);
        let b = RequestContext::new(Method::GET, "/", &HeaderMap::new(), &peer);
        assert_ne!(a.request_id.as_str(), b.request_id.as_str());
        assert_eq!(a.request_id.header().to_str().expect("ascii"), a.request_id.as_str());
        assert_eq!(a.phase, Phase::Resolve);
        assert_eq!(peer.header, "192.0.2.1");
    }
}
