//! Phase 6: the backend request, as the API's definition shapes it: URL, mapped parameters,
//! constants, system parameters, `X-Forwarded-*`; hop-by-hop headers and the caller's
//! credentials removed.

use super::auth::strip_credentials;
use super::validate::Values;
use crate::body::Body;
use crate::compiled::{CompiledApi, HttpBackend, PathPart};
use crate::context::{names, AuthMethod, RequestContext};
use crate::fields::Fields;
use crate::GatewayError;
use domain::api::{ParamLocation, RequestMode, SystemParam};
use http::{header, HeaderMap, HeaderName, HeaderValue, Request, Uri};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

pub use crate::h1::strip_hop_by_hop;

/// Room the caller's server leaves in the map it builds for what this phase may add
/// without a rehash (a mapped field, a constant, a rebuilt body's `Content-Type` and
/// `Content-Length`); the gateway's own fields are not in the map ([`GatewayFields`]).
pub const ADDED_HEADERS: usize = 2;

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

/// Phase 6: the backend request, as the API's definition shapes it: `request` becomes it
/// in place (no move of the request), and the gateway's own fields come back apart.
pub fn upstream_request(
    ctx: &RequestContext,
    api: &CompiledApi,
    backend: &HttpBackend,
    request: &mut Request<Body>,
    query: Vec<(String, String)>,
    values: &Values,
    fields: Option<Fields>,
) -> Result<GatewayFields, GatewayError> {
    let declared = |location: ParamLocation, name: &str| {
        api.params.iter().any(|p| p.location == location && p.name.eq_ignore_ascii_case(name))
    };
    let mapped_from = |location: ParamLocation, name: &str| {
        backend.mapping().iter().any(|m| {
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
            .map(|(_, n, v)| (n.to_string(), v.to_string()))
            .collect(),
    };
    out_query.retain(|(k, _)| !mapped_from(ParamLocation::Query, k));
    // An AppCode is a credential for the gateway, never the backend's, wherever it came in.
    if api.appcode_in_query {
        out_query.retain(|(k, _)| k != super::auth::APPCODE_QUERY);
    }

    // Headers, the same way. Room for the gateway's own headers up front: one allocation
    // rather than a rehash for each.
    let mut headers = std::mem::take(request.headers_mut());
    headers.reserve(ADDED_HEADERS + backend.system().len() + backend.constant_headers().len());
    // Only what the caller's head may hold is looked for (`ctx.present`).
    if ctx.present.hop_by_hop() {
        strip_hop_by_hop(&mut headers);
    }
    if ctx.present.own() || ctx.present.authorization() {
        strip_credentials(&mut headers, ctx.auth == Some(AuthMethod::Signature));
    }
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
    for mapping in backend.mapping() {
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
    // Constants win over whatever the caller sent in their place.
    if !backend.constant_query().is_empty() {
        out_query.retain(|(k, _)| !backend.constant_query().iter().any(|(name, _)| name == k));
        out_query.extend(backend.constant_query().iter().cloned());
    }
    path_values.extend(backend.constant_path().iter().cloned());
    if let Some(fields) = fields.as_mut() {
        for (name, value) in backend.constant_fields() {
            fields.set_constant(name, value)?;
        }
    }

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
    uri.scheme = Some(if backend.tls { http::uri::Scheme::HTTPS } else { http::uri::Scheme::HTTP });
    uri.authority = Some(backend.origin.uri_authority.clone());
    uri.path_and_query = Some(
        http::uri::PathAndQuery::from_maybe_shared(bytes::Bytes::from(path))
            .map_err(|e| GatewayError::BadGateway(format!("backend URL: {e}")))?,
    );
    let uri = Uri::from_parts(uri).map_err(|e| GatewayError::BadGateway(format!("backend URL: {e}")))?;

    // Gateway headers.
    for (name, value) in backend.constant_headers() {
        headers.insert(name.clone(), value.clone());
    }
    for (param, name) in backend.system() {
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
    let previous = ctx.present.forwarded().then(|| headers.get(names::X_FORWARDED_FOR)).flatten();
    let forwarded_for = match previous.and_then(|v| v.to_str().ok()) {
        Some(previous) => HeaderValue::from_str(&format!("{previous}, {}", ctx.client)).ok(),
        None => None,
    };
    // The gateway's own fields go as lines ahead of the map's (`GatewayFields`): none of the
    // same names may stay in the map, whoever put them there (the caller, or the API's
    // mapping, constants or system parameters).
    let configured =
        !backend.constant_headers().is_empty() || !backend.system().is_empty() || !backend.mapping().is_empty();
    if configured || ctx.present.forwarded() || ctx.present.own() {
        for name in [names::X_FORWARDED_FOR, names::X_FORWARDED_PROTO, names::X_FORWARDED_HOST, names::X_CA_REQUEST_ID]
        {
            headers.remove(name);
        }
    }
    // The caller's `Host` was taken out above: only the API's definition can have set one.
    let host = match configured && headers.contains_key(header::HOST) {
        true => None,
        false => Some(backend.origin.host_header.clone()),
    };
    let added = GatewayFields {
        host,
        forwarded_for,
        // What the caller used; a caller's own `X-Forwarded-Proto` is replaced, never passed on.
        proto: if ctx.tls { "https" } else { "http" },
        forwarded_host: original_host,
    };

    if let Some(fields) = fields {
        let (rebuilt, content_type, length) = fields.into_body();
        *request.body_mut() = rebuilt;
        headers.remove(header::TRANSFER_ENCODING);
        if let Some(content_type) = content_type {
            headers.insert(header::CONTENT_TYPE, content_type);
        }
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }

    if let Some(method) = backend.method() {
        *request.method_mut() = method;
    }
    *request.uri_mut() = uri;
    *request.version_mut() = http::Version::HTTP_11;
    *request.headers_mut() = headers;
    // Nothing the caller's server noted travels on to the backend's client.
    request.extensions_mut().clear();
    Ok(added)
}

/// The fields the gateway adds to every backend request, kept out of the request's map:
/// `crate::h1` writes them as lines ahead of the map's ([`GatewayFields::lines`]), with no
/// map insert each; [`GatewayFields::insert_into`] puts them in a map where one is needed
/// (hyper's client for WebSocket upgrades, the Debug API trace).
#[derive(Debug, Clone)]
pub struct GatewayFields {
    /// The backend's `Host`; `None` when the API's definition set one (it is in the map).
    pub host: Option<HeaderValue>,
    /// `X-Forwarded-For` when the caller sent one (it, then the caller's address); `None`:
    /// the caller's address alone.
    forwarded_for: Option<HeaderValue>,
    /// `X-Forwarded-Proto`: what the caller used.
    proto: &'static str,
    /// `X-Forwarded-Host`: the caller's `Host`.
    forwarded_host: Option<HeaderValue>,
}

/// The most lines [`GatewayFields::lines`] gives.
const GATEWAY_LINES: usize = 5;

impl GatewayFields {
    /// The fields as (name, value) lines for `crate::h1::Exchange::added`, the request id
    /// and the caller's address read from `ctx`; the first `n` entries of the array.
    pub fn lines<'a>(&'a self, ctx: &'a RequestContext) -> ([(&'static str, &'a [u8]); GATEWAY_LINES], usize) {
        let mut lines: [(&'static str, &'a [u8]); GATEWAY_LINES] = [("", &[]); GATEWAY_LINES];
        let mut n = 0;
        let mut push = |name: &'static str, value: &'a [u8]| {
            lines[n] = (name, value);
            n += 1;
        };
        if let Some(host) = &self.host {
            push("host", host.as_bytes());
        }
        push("x-forwarded-for", self.forwarded_for.as_ref().unwrap_or(&ctx.client_header).as_bytes());
        push("x-forwarded-proto", self.proto.as_bytes());
        if let Some(host) = &self.forwarded_host {
            push("x-forwarded-host", host.as_bytes());
        }
        push("x-ca-request-id", ctx.request_id.as_bytes());
        (lines, n)
    }

    /// The fields of a request to `backend` with nothing from the caller but its address
    /// (tests that call the proxy phase directly).
    #[cfg(test)]
    pub fn for_backend(backend: &HttpBackend) -> GatewayFields {
        GatewayFields {
            host: Some(backend.origin.host_header.clone()),
            forwarded_for: None,
            proto: "http",
            forwarded_host: None,
        }
    }

    /// The fields put in `headers`, replacing any of their names.
    pub fn insert_into(&self, ctx: &RequestContext, headers: &mut HeaderMap) {
        let (lines, n) = self.lines(ctx);
        for (name, value) in &lines[..n] {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body;
    use crate::compiled::{Backend, Target};
    use crate::phases::{parse_query, route, validate};
    use crate::snapshot::LiveDeployment;
    use http::Method;
    use std::net::{IpAddr, Ipv4Addr};

    const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

    fn compiled(spec: serde_json::Value, target: Target) -> CompiledApi {
        let spec: domain::api::ApiSpec = serde_json::from_value(spec).expect("spec");
        CompiledApi::compile(1, &spec.validate().expect("valid"), target).expect("compile")
    }

    fn upstream_for(api: &CompiledApi, path: &str, query: &str, headers: HeaderMap) -> Request<Body> {
        let Backend::Http(backend) = &api.backend else { panic!("http") };
        let mut ctx = RequestContext::new(Method::GET, path, &headers, &CLIENT.into());
        let deployment = LiveDeployment::new("1", vec![api.clone()]).expect("router");
        let (api, path_params) = route(&mut ctx, &deployment).expect("route");
        let query = parse_query(Some(query));
        let values = validate(&api, path_params, &query, &headers, None).expect("valid");
        let mut request = Request::new(body::full(""));
        *request.headers_mut() = headers;
        let added = upstream_request(&ctx, &api, backend, &mut request, query, &values, None).expect("upstream");
        // What the backend gets: the map's fields and the gateway's own lines.
        added.insert_into(&ctx, request.headers_mut());
        request
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
            Target::Http(domain::Targets::parse("http://10.1.2.3:9000").expect("address")),
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
            Target::Http(domain::Targets::parse("http://backend").expect("address")),
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
    fn a_callers_own_value_never_rides_beside_a_constant() {
        // Pass-through forwards the caller's query: a `source` of its own would reach the
        // backend before the constant, and a backend reading the first value would trust it.
        let api = compiled(
            serde_json::json!({"name": "any", "request": {"method": "GET", "path": "/files"},
                "backend": {"http": {"constants": [{"name": "source", "in": "query", "value": "gantry"}]}}}),
            Target::Http(domain::Targets::parse("http://backend").expect("address")),
        );
        let request = upstream_for(&api, "/files", "source=evil&q=1&source=worse", HeaderMap::new());
        assert_eq!(request.uri().to_string(), "http://backend/files?q=1&source=gantry");
    }

    #[test]
    fn path_and_form_constants_fill_their_segment_and_field() {
        let api = compiled(
            serde_json::json!({"name": "post", "request": {"method": "POST", "path": "/orders"},
            "backend": {"http": {"path": "/v1/{tenant}/orders", "constants": [
                {"name": "tenant", "in": "path", "value": "acme corp"},
                {"name": "channel", "in": "form", "value": "gateway"}
            ]}}}),
            Target::Http(domain::Targets::parse("http://backend").expect("address")),
        );
        assert!(crate::fields::needed(&api), "form constants need the body as fields");
        let Backend::Http(backend) = &api.backend else { panic!("http") };
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        let ctx = RequestContext::new(Method::POST, "/orders", &headers, &CLIENT.into());
        let values = validate(&api, Default::default(), &[], &headers, None).expect("valid");
        let fields = crate::fields::parse(&headers, bytes::Bytes::from("item=7&channel=forged")).expect("form");
        let mut request = Request::new(body::full(""));
        *request.method_mut() = Method::POST;
        *request.headers_mut() = headers.clone();
        upstream_request(&ctx, &api, backend, &mut request, Vec::new(), &values, Some(fields)).expect("upstream");
        let upstream = request;
        assert_eq!(upstream.uri().path(), "/v1/acme%20corp/orders");
        assert_eq!(upstream.headers()[header::CONTENT_LENGTH], "22");
        assert_eq!(body::in_memory(upstream.into_body()).expect("in memory"), "item=7&channel=gateway");

        // A body that is neither a form nor JSON cannot carry the field: refused, not sent
        // without it.
        let mut text = HeaderMap::new();
        text.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let fields = crate::fields::parse(&text, bytes::Bytes::from("hello")).expect("kept");
        let mut request = Request::new(body::full(""));
        *request.headers_mut() = text;
        let refused = upstream_request(&ctx, &api, backend, &mut request, Vec::new(), &values, Some(fields));
        assert!(matches!(refused, Err(GatewayError::UnsupportedMediaType(_))));
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
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::body;
    use crate::compiled::{Backend, Target};
    use crate::phases::validate;
    use domain::api::ApiSpec;
    use http::Method;
    use proptest::prelude::*;
    use std::net::IpAddr;
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
            Target::Http(domain::Targets::parse("http://b").expect("a")),
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
            let path: crate::snapshot::PathValues = smallvec::smallvec![("id".into(), id.as_str().into())];
            let values = validate(&api, path, &query, &headers, None).expect("no constraints");
            let mut request = Request::new(body::full(""));
            *request.headers_mut() = headers;
            if upstream_request(&ctx, &api, backend, &mut request, query, &values, None).is_ok() {
                let encoded = request.uri().path().trim_start_matches("/v1/").to_owned();
                let decoded = percent_encoding::percent_decode_str(&encoded).decode_utf8_lossy().into_owned();
                prop_assert_eq!(decoded, id);
            }
        }
    }
}
