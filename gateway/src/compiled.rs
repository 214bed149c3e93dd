//! An API compiled for serving: its route, its parameters, and the backend it goes to, with
//! every header name and value parsed once here instead of on each request.
//!
//! What a request reads of its API is in one allocation, the `Arc<CompiledApi>`: names are
//! [`Name`]s (inline), the parameters, path parameters and backend path parts are inline
//! arrays for the usual few, and the HTTP backend is not boxed. With 10,000 APIs live the
//! APIs cannot all stay in the cache, and each further allocation a request reads would be a
//! miss of its own (`bench/results/scale_cache.md`); what is left outside are the shared
//! [`Balancer`] and [`Origin`] and the traffic counters' slots.

use crate::balancer::Balancer;
use crate::name::Name;
use crate::peer::Origin;
use bytes::Bytes;
use domain::api::ValidApi;
use domain::api::{AuthType, ConstantLocation, Constraints, ParamLocation, ParamType, RequestMode, SystemParam};
use domain::path::Segment;
use domain::{BackendAddress, HttpMethod, Targets};
use http::{HeaderName, HeaderValue, Method, StatusCode};
use smallvec::SmallVec;
use std::sync::Arc;
use std::time::Duration;

/// Where an API's requests go, as decided by `control` (the release's backend for unified
/// APIs, the API's own otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Answer with the API's mock response.
    Mock,
    /// Call this address, or these weighted targets.
    Http(Targets),
    /// Refuse with 503 and this reason (e.g. a backend kind this gateway cannot run).
    Unavailable(String),
    /// Off-line in this environment (its backend service has no URL here): 404 with this
    /// reason, before any other phase.
    Offline(String),
    /// Run this function.
    Function(std::sync::Arc<crate::function::FunctionCode>),
}

/// A declared parameter: 40 bytes, so the usual one or two sit in the API's lines a request
/// reads anyway.
#[derive(Debug, Clone)]
pub struct Param {
    /// Name where it travels (headers lower-case).
    pub name: Name,
    /// Where it travels.
    pub location: ParamLocation,
    /// Its type.
    pub kind: ParamType,
    /// Whether it must be present.
    pub required: bool,
    /// Its default and allowed values, when it has either (boxed: most parameters have
    /// neither, and a request reads the parameter's other fields from the API's allocation).
    rules: Option<Box<Rules>>,
}

/// What few parameters have: a default, allowed values.
#[derive(Debug, Clone)]
struct Rules {
    default: Option<Box<str>>,
    constraints: Constraints,
}

impl Param {
    /// A parameter; its rules are boxed only when it has a default or constraints.
    pub fn new(
        name: Name,
        location: ParamLocation,
        kind: ParamType,
        required: bool,
        default: Option<&str>,
        constraints: &Constraints,
    ) -> Param {
        let rules = (default.is_some() || *constraints != Constraints::default())
            .then(|| Box::new(Rules { default: default.map(Box::from), constraints: constraints.clone() }));
        Param { name, location, kind, required, rules }
    }

    /// Used when absent.
    pub fn default(&self) -> Option<&str> {
        self.rules.as_ref().and_then(|rules| rules.default.as_deref())
    }

    /// Checks a value against the parameter's type and constraints.
    pub fn check_value(&self, value: &str) -> Result<(), String> {
        self.kind.check_value(value)?;
        match &self.rules {
            Some(rules) => rules.constraints.check_value(self.kind, value),
            None => Ok(()),
        }
    }
}

/// Part of a backend path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPart {
    /// Copied as is.
    Literal(Name),
    /// The value of this parameter (frontend name or mapping target), percent-encoded.
    Param(Name),
}

/// A frontend parameter sent under another name or location.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Frontend parameter name.
    pub param: String,
    /// Backend name.
    pub name: String,
    /// Backend location.
    pub location: ParamLocation,
}

/// How to call an HTTP backend.
///
/// `repr(C)`: the fields every request reads come first, in few cache lines (see
/// [`CompiledApi`]).
#[derive(Debug, Clone)]
#[repr(C)]
pub struct HttpBackend {
    /// The first target's `host:port` as a request needs it; shared by every API on it.
    pub origin: Arc<Origin>,
    /// The targets, their health and pools, and the turn order.
    pub targets: Arc<Balancer>,
    /// Mapping, constants and system parameters, when the API has any (boxed: most have
    /// none, and the rest of the backend is read from the API's own allocation).
    pub shaping: Option<Box<Shaping>>,
    /// Time allowed for the backend's response head, in milliseconds (validated in
    /// `domain`; [`HttpBackend::timeout`]).
    timeout_ms: u32,
    /// Whether a request of any method may go to another target after a failure or a
    /// 502/503/504 (the API's `backend.http.retry_non_idempotent`): its body is then read
    /// before the first attempt, so it can be sent again.
    pub retry_any_method: bool,
    /// Whether the first target is called over TLS (its address' scheme, read per request).
    pub tls: bool,
    /// Backend method (one byte: [`HttpBackend::method`] makes it an `http` one); the
    /// request's when `None`.
    method: Option<HttpMethod>,
    /// Backend path template.
    pub path: SmallVec<[PathPart; 4]>,
    /// The first target's address (the only one, for a single address).
    pub address: BackendAddress,
}

/// What an API adds to or moves in its backend request besides the path.
#[derive(Debug, Clone)]
pub struct Shaping {
    /// Renames and moves.
    pub mapping: Vec<Mapping>,
    /// Fixed headers.
    pub constant_headers: Vec<(HeaderName, HeaderValue)>,
    /// Fixed query parameters (a caller's own of the same name is dropped).
    pub constant_query: Vec<(String, String)>,
    /// Fixed values of `{name}` segments of the backend path.
    pub constant_path: Vec<(String, String)>,
    /// Fixed body fields: form fields, or string fields of a JSON object (a caller's own of
    /// the same name is dropped). An API with any has its body read as fields.
    pub constant_fields: Vec<(String, String)>,
    /// Gateway values as headers.
    pub system: Vec<(SystemParam, HeaderName)>,
}

impl Shaping {
    fn is_empty(&self) -> bool {
        self.mapping.is_empty()
            && self.constant_headers.is_empty()
            && self.constant_query.is_empty()
            && self.constant_path.is_empty()
            && self.constant_fields.is_empty()
            && self.system.is_empty()
    }
}

impl HttpBackend {
    fn shaping(&self) -> &Shaping {
        static NONE: Shaping = Shaping {
            mapping: Vec::new(),
            constant_headers: Vec::new(),
            constant_query: Vec::new(),
            constant_path: Vec::new(),
            constant_fields: Vec::new(),
            system: Vec::new(),
        };
        self.shaping.as_deref().unwrap_or(&NONE)
    }

    /// Renames and moves.
    pub fn mapping(&self) -> &[Mapping] {
        &self.shaping().mapping
    }

    /// Fixed headers.
    pub fn constant_headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.shaping().constant_headers
    }

    /// Fixed query parameters (a caller's own of the same name is dropped).
    pub fn constant_query(&self) -> &[(String, String)] {
        &self.shaping().constant_query
    }

    /// Fixed values of `{name}` segments of the backend path.
    pub fn constant_path(&self) -> &[(String, String)] {
        &self.shaping().constant_path
    }

    /// Fixed body fields (form fields, or string fields of a JSON object).
    pub fn constant_fields(&self) -> &[(String, String)] {
        &self.shaping().constant_fields
    }

    /// Gateway values as headers.
    pub fn system(&self) -> &[(SystemParam, HeaderName)] {
        &self.shaping().system
    }

    /// Backend method; the request's when `None`.
    pub fn method(&self) -> Option<Method> {
        self.method.and_then(http_method)
    }

    /// Time allowed for the backend's response head.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(u64::from(self.timeout_ms))
    }

    /// Whether a failed attempt may go on to another target: retries are on (`retries`,
    /// the gateway's setting) and the backend has another target.
    pub fn resends(&self, retries: u32) -> bool {
        retries > 0 && self.targets.several()
    }

    /// Whether a request's body is kept to send again: the API opts in to retrying any
    /// method and [`HttpBackend::resends`].
    pub fn keeps_bodies(&self, retries: u32) -> bool {
        self.retry_any_method && self.resends(retries)
    }
}

/// A fixed response.
#[derive(Debug, Clone)]
pub struct MockResponse {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Body.
    pub body: Bytes,
}

/// What serves the API.
// Large by design: the HTTP backend is kept in the API's own allocation (see the top).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Backend {
    /// A fixed response.
    Mock(MockResponse),
    /// An HTTP backend, inline: a request reads it from the API's own allocation.
    Http(HttpBackend),
    /// Nothing can serve it; 503 with this reason.
    Unavailable(String),
    /// Off-line here; 404 with this reason.
    Offline(String),
    /// User JavaScript, run by the function pool.
    Function(std::sync::Arc<crate::function::FunctionCode>),
}

/// An API ready to serve.
///
/// `repr(C)`: with 10,000 APIs live each line of an API a request reads is a cache miss, so
/// the fields are in the order a request reads them, the small ones first, and those no
/// request reads (its name, for errors and traces; the backend's address; the template as
/// written and its segments) last. Methods are kept as one byte each (an `http::Method` is
/// 24), timeouts as integers, and a parameter's rare default and constraints are boxed, so
/// a request to an API with a path parameter and a two-part backend path reads five lines
/// from the `Arc`'s counts on (a test keeps it so).
#[derive(Debug, Clone)]
#[repr(C)]
pub struct CompiledApi {
    /// Frontend method; `Any` matches any ([`CompiledApi::answers`], [`CompiledApi::method`]).
    method: HttpMethod,
    /// Who may call it.
    pub auth: AuthType,
    /// An app's API takes an AppCode from the `AppCode` query parameter too.
    pub appcode_in_query: bool,
    /// Pass-through or mapping.
    pub mode: RequestMode,
    /// Over HTTP, HTTPS or both.
    pub protocol: domain::api::ApiProtocol,
    /// Stable id.
    pub id: i32,
    /// A WebSocket API: its idle timeout in seconds ([`CompiledApi::websocket`]).
    websocket_idle_s: Option<std::num::NonZeroU32>,
    /// The id and name as the access log's lines name the API.
    pub label: crate::access_log::Label,
    /// Its traffic per minute and its requests by status (for the metrics too), found on
    /// its first request.
    pub stats: crate::stats::StatsSlot,
    /// Names of the path parameters, in order.
    pub path_params: SmallVec<[Name; 2]>,
    /// Declared parameters.
    pub params: SmallVec<[Param; 2]>,
    /// The backend.
    pub backend: Backend,
    /// Name, for errors and traces.
    pub name: Name,
    /// The frontend path template as written.
    pub path: String,
    segments: Vec<Segment>,
}

/// A definition's method as `http` spells it; `None` for `Any`.
fn http_method(method: HttpMethod) -> Option<Method> {
    Some(match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Any => return None,
    })
}

fn header(name: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("header `{name}`: {e}"))
}

fn value(raw: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(raw).map_err(|e| format!("header value `{raw}`: {e}"))
}

impl CompiledApi {
    /// Compiles a validated definition for `target`: the method and path templates come parsed
    /// from validation; what is left to do is turning names and values into `http` types.
    pub fn compile(id: i32, spec: &ValidApi, target: Target) -> Result<CompiledApi, String> {
        let template = spec.path();
        let params = spec
            .request
            .params
            .iter()
            .map(|p| {
                let required = p.required || p.location == ParamLocation::Path;
                Param::new(Name::from(&p.name), p.location, p.kind, required, p.default.as_deref(), &p.constraints)
            })
            .collect();
        let backend = match target {
            Target::Unavailable(reason) => Backend::Unavailable(reason),
            Target::Offline(reason) => Backend::Offline(reason),
            Target::Function(code) => Backend::Function(code),
            Target::Mock => {
                let mock = &spec.backend.mock;
                let mut headers = Vec::new();
                for h in &mock.headers {
                    headers.push((header(&h.name)?, value(&h.value)?));
                }
                let body = if mock.body.is_empty() {
                    Bytes::from(serde_json::json!({"api": spec.name, "mock": true}).to_string())
                } else {
                    Bytes::from(mock.body.clone())
                };
                if !headers.iter().any(|(n, _)| n == http::header::CONTENT_TYPE) {
                    let kind = if serde_json::from_slice::<serde_json::Value>(&body).is_ok() {
                        "application/json; charset=utf-8"
                    } else {
                        "text/plain; charset=utf-8"
                    };
                    headers.push((http::header::CONTENT_TYPE, HeaderValue::from_static(kind)));
                }
                let status = StatusCode::from_u16(mock.status).map_err(|e| e.to_string())?;
                Backend::Mock(MockResponse { status, headers, body })
            }
            Target::Http(targets) => {
                let http = &spec.backend.http;
                let path = spec
                    .backend_path()
                    .segments()
                    .iter()
                    .map(|s| match s {
                        Segment::Literal(l) => PathPart::Literal(Name::from(l)),
                        Segment::Param(p) => PathPart::Param(Name::from(p)),
                    })
                    .collect();
                let mut constant_headers = Vec::new();
                let mut constant_query = Vec::new();
                let mut constant_path = Vec::new();
                let mut constant_fields = Vec::new();
                for c in &http.constants {
                    match c.location {
                        ConstantLocation::Header => constant_headers.push((header(&c.name)?, value(&c.value)?)),
                        ConstantLocation::Query => constant_query.push((c.name.clone(), c.value.clone())),
                        ConstantLocation::Path => constant_path.push((c.name.clone(), c.value.clone())),
                        ConstantLocation::Form => constant_fields.push((c.name.clone(), c.value.clone())),
                    }
                }
                let mut system = Vec::new();
                for s in &http.system {
                    system.push((s.param, header(&s.name)?));
                }
                let targets = Balancer::intern(&targets)?;
                let (address, origin) = targets.first();
                let shaping = Shaping {
                    mapping: http
                        .mapping
                        .iter()
                        .map(|m| Mapping { param: m.param.clone(), name: m.name.clone(), location: m.location })
                        .collect(),
                    constant_headers,
                    constant_query,
                    constant_path,
                    constant_fields,
                    system,
                };
                Backend::Http(HttpBackend {
                    tls: address.is_tls(),
                    address: address.clone(),
                    origin: origin.clone(),
                    targets,
                    path,
                    // Never `Any`: validation refuses it for a backend method.
                    method: spec.backend_method(),
                    timeout_ms: u32::try_from(http.timeout_ms.unwrap_or(domain::backend::DEFAULT_TIMEOUT_MS))
                        .unwrap_or(u32::MAX),
                    retry_any_method: http.retry_non_idempotent,
                    shaping: (!shaping.is_empty()).then(|| Box::new(shaping)),
                })
            }
        };
        Ok(CompiledApi {
            id,
            name: spec.name.as_str().into(),
            label: crate::access_log::Label::of(id, &spec.name),
            method: spec.method(),
            path: template.as_str().to_owned(),
            path_params: template.params().map(Name::from).collect(),
            segments: template.segments().to_vec(),
            auth: spec.auth,
            appcode_in_query: spec.auth == AuthType::App
                && spec.appcode == domain::api::AppCodeLocation::HeaderAndQuery,
            mode: spec.request.mode,
            protocol: spec.request.protocol,
            websocket_idle_s: spec.request.websocket.then(|| {
                let idle = spec.request.websocket_idle_s.unwrap_or(domain::api::DEFAULT_WEBSOCKET_IDLE_S);
                std::num::NonZeroU32::new(idle).unwrap_or(std::num::NonZeroU32::MIN)
            }),
            params,
            backend,
            stats: crate::stats::StatsSlot::default(),
        })
    }

    /// Frontend method; `None` when it answers any.
    pub fn method(&self) -> Option<Method> {
        http_method(self.method)
    }

    /// Whether its own method is `method` (an API for any method answers only when no API
    /// of its path names the method: [`crate::snapshot::LiveDeployment::route`]).
    pub fn answers(&self, method: &Method) -> bool {
        http_method(self.method).is_some_and(|own| own == method)
    }

    /// Whether it answers any method.
    pub fn any_method(&self) -> bool {
        self.method == HttpMethod::Any
    }

    /// A WebSocket API's idle timeout (`None`: not a WebSocket API).
    pub fn websocket(&self) -> Option<std::time::Duration> {
        self.websocket_idle_s.map(|s| std::time::Duration::from_secs(u64::from(s.get())))
    }

    /// The path template's segments, for the router.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Measured on a compiled API in its `Arc`, from the counts on: where the fields a request
    /// reads end, and that the fields none reads lie after.
    #[test]
    fn a_request_reads_five_lines_of_its_api() {
        use std::mem::size_of;
        assert_eq!(size_of::<Param>(), 40);
        let api = Arc::new(http_api(
            "/items/{id}",
            "/v1/{id}",
            serde_json::json!([{"name": "id", "in": "path", "type": "int"}]),
            serde_json::json!([]),
        ));
        // The `Arc`'s two counts come before the API.
        let start = Arc::as_ptr(&api) as usize - 2 * size_of::<usize>();
        let at = |field: usize| field - start;
        let Backend::Http(http) = &api.backend else { panic!("http") };
        assert!(!http.path.spilled() && http.path.len() == 2);
        assert!(!api.params.spilled() && !api.path_params.spilled());
        // The last thing a request reads: the end of the backend path's second part.
        let end = at(http.path.as_ptr().wrapping_add(2) as usize);
        assert!(end <= 5 * 64, "a request reads up to byte {end} of its API");
        let read = [
            at(api.params.as_ptr().wrapping_add(1) as usize),
            at(api.path_params.as_ptr().wrapping_add(1) as usize),
            at(&api.stats as *const _ as usize),
            at(&api.label as *const _ as usize),
            at(&http.origin as *const _ as usize),
        ];
        assert!(read.iter().all(|&offset| offset < end), "{read:?} before {end}");
        for cold in [&api.name as *const _ as usize, &api.path as *const _ as usize, &http.address as *const _ as usize]
        {
            assert!(at(cold) >= end, "a field no request reads (at {}) sits among those it does", at(cold));
        }
    }

    #[test]
    fn apis_on_one_address_share_one_origin() {
        let a = Origin::intern(false, "10.0.0.1:8080").expect("origin");
        let b = Origin::intern(false, "10.0.0.1:8080").expect("origin");
        let tls = Origin::intern(true, "10.0.0.1:8080").expect("origin");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &tls));
        assert_eq!((&*a.key, &*tls.key), ("http://10.0.0.1:8080", "https://10.0.0.1:8080"));
        assert_eq!(a.host_header, "10.0.0.1:8080");
        assert!(Origin::intern(false, "bad host:80").is_err());
    }

    fn http_api(
        path: &str,
        backend_path: &str,
        params: serde_json::Value,
        constants: serde_json::Value,
    ) -> CompiledApi {
        let spec: domain::api::ApiSpec = serde_json::from_value(serde_json::json!({
            "name": "items-by-id",
            "request": {"method": "GET", "path": path, "params": params},
            "backend": {"type": "http", "http": {"path": backend_path, "constants": constants}},
        }))
        .expect("spec");
        let target = Target::Http(domain::Targets::parse("http://10.0.0.1:8080").expect("address"));
        CompiledApi::compile(1, &spec.validate().expect("valid"), target).expect("compile")
    }

    /// What a request reads of a usual API (a name, a path parameter or two, a backend path
    /// of a few segments) is in the API's own allocation: nothing spilled to the heap.
    #[test]
    fn a_usual_apis_request_data_is_all_in_its_own_allocation() {
        let api = http_api(
            "/items/{group}/{id}",
            "/v1/items/{group}/{id}",
            serde_json::json!([{"name": "id", "in": "path", "type": "int"}, {"name": "group", "in": "path"}]),
            serde_json::json!([]),
        );
        assert!(api.name.is_inline());
        assert_eq!(api.path_params.as_slice(), [Name::from("group"), Name::from("id")]);
        assert!(!api.path_params.spilled() && api.path_params.iter().all(Name::is_inline));
        assert!(!api.params.spilled() && api.params.iter().all(|p| p.name.is_inline() && p.rules.is_none()));
        let Backend::Http(backend) = &api.backend else { panic!("http") };
        assert!(!backend.path.spilled(), "{:?}", backend.path);
        assert_eq!(backend.path.len(), 4);
        assert!(backend.shaping.is_none());
        assert!(backend.path.iter().all(|part| match part {
            PathPart::Literal(name) | PathPart::Param(name) => name.is_inline(),
        }));
    }

    /// An API past the usual sizes still compiles whole: its longer lists and names simply
    /// spill to the heap.
    #[test]
    fn a_larger_api_spills_and_keeps_every_part() {
        let long = "a-segment-longer-than-twenty-four-bytes";
        let api = http_api(
            &format!("/{long}/{{a}}/{{b}}/{{c}}"),
            &format!("/{long}/x/y/{{a}}/{{b}}/{{c}}"),
            serde_json::json!([
                {"name": "a", "in": "path", "type": "int", "constraints": {"max": 9}},
                {"name": "b", "in": "path"}, {"name": "c", "in": "path"}
            ]),
            serde_json::json!([{"name": "source", "in": "query", "value": "gantry"}]),
        );
        assert!(api.path_params.spilled() && api.params.spilled());
        assert_eq!(api.path_params.as_slice(), [Name::from("a"), Name::from("b"), Name::from("c")]);
        let Backend::Http(backend) = &api.backend else { panic!("http") };
        assert!(backend.path.spilled());
        assert_eq!(backend.path[0], PathPart::Literal(Name::from(long)));
        assert_eq!(backend.path.len(), 6);
        assert_eq!(backend.constant_query(), [("source".to_owned(), "gantry".to_owned())]);
        assert!(backend.mapping().is_empty() && backend.constant_headers().is_empty());
        assert!(api.params[0].check_value("9").is_ok());
        assert!(api.params[0].check_value("10").is_err(), "the constraint is kept");
        assert!(api.params[0].check_value("x").is_err(), "the type is checked");
    }
}
