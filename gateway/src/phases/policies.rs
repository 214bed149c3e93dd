//! Phase 5: the traffic policies bound to the API in this environment (`crate::policy`):
//! IP access control on the caller's address, then throttling (the app's or the address's
//! limit, then the API's). CORS is not a refusal: [`preflight`] answers a browser's `OPTIONS`
//! preflight, and [`cors_headers`] adds the response headers for an allowed origin.

use crate::body::{self, Body};
use crate::context::RequestContext;
use crate::policy::{ip_allowed, limits_for};
use crate::shared::SharedState;
use crate::GatewayError;
use domain::policy::{Cors, OriginPattern, PolicyRule};
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};

/// Checks IP access and throttling; notes the tightest quota in `ctx.quota` and what each
/// policy decided in the trace.
pub async fn policies(ctx: &mut RequestContext, shared: &SharedState) -> Result<(), GatewayError> {
    let Some(bound) = ctx.policies.clone() else { return Ok(()) };
    let (Some(api), Some(env)) = (ctx.api.clone(), ctx.environment) else { return Ok(()) };
    let caller_app = ctx.app.clone();
    let app = caller_app.as_ref().map(|app| (app.id, app.name.as_str()));
    if let Some(policy) = &bound.ip_access {
        if let PolicyRule::IpAccess(rule) = &policy.rule {
            let allowed = ip_allowed(rule, ctx.caller, app.map(|(_, name)| name));
            // Trace notes are formatted only for a traced request.
            if ctx.debug.is_some() {
                let verdict = if allowed { "allowed" } else { "refused" };
                note(ctx, format!("IP access `{}`: {} {verdict}", policy.name, ctx.caller));
            }
            if !allowed {
                return Err(GatewayError::IpDenied(format!("the address {} may not call this API", ctx.caller)));
            }
        }
    }
    if let Some(policy) = &bound.throttling {
        if let PolicyRule::Throttling(rule) = &policy.rule {
            for (scope, limit) in limits_for(rule, app, ctx.caller).into_iter().flatten() {
                let quota = shared.take(policy.id, api.id, env, scope, limit, rule.unit.millis()).await;
                if ctx.quota.is_none_or(|q| quota.remaining < q.remaining) {
                    ctx.quota = Some(quota);
                }
                if ctx.debug.is_some() {
                    note(ctx, format!("throttling `{}` ({scope:?}): {} of {limit} left", policy.name, quota.remaining));
                }
                if !quota.allowed {
                    return Err(GatewayError::Throttled(
                        format!("the limit of {limit} requests per {} is reached", unit_name(rule.unit)),
                        quota.reset_s.max(1),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn unit_name(unit: domain::policy::RateUnit) -> &'static str {
    match unit {
        domain::policy::RateUnit::Second => "second",
        domain::policy::RateUnit::Minute => "minute",
        domain::policy::RateUnit::Hour => "hour",
        domain::policy::RateUnit::Day => "day",
    }
}

fn note(ctx: &mut RequestContext, text: String) {
    if let Some(notes) = ctx.debug.as_mut() {
        notes.policies.push(text);
    }
}

/// The method a CORS preflight asks about: an `OPTIONS` request with `Origin` and
/// `Access-Control-Request-Method`.
pub fn preflight_method(method: &Method, headers: &HeaderMap) -> Option<Method> {
    if method != Method::OPTIONS || !headers.contains_key(header::ORIGIN) {
        return None;
    }
    let asked = headers.get(header::ACCESS_CONTROL_REQUEST_METHOD)?.to_str().ok()?;
    Method::from_bytes(asked.trim().as_bytes()).ok()
}

fn allowed_origin<'a>(cors: &Cors, origin: Option<&'a HeaderValue>) -> Option<&'a HeaderValue> {
    let origin = origin?;
    let text = origin.to_str().ok()?;
    cors.origins.iter().any(|pattern| pattern.matches(text)).then_some(origin)
}

/// The answer to a preflight for an API with `cors` whose own method is `api_method`
/// (`None`: any). A disallowed origin, method or header gets no CORS headers (the browser
/// then refuses the call).
pub fn preflight(cors: &Cors, api_method: Option<&Method>, asked: &Method, headers: &HeaderMap) -> Response<Body> {
    let mut response = Response::new(body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let out = response.headers_mut();
    out.insert(
        header::VARY,
        HeaderValue::from_static("Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
    );
    let Some(origin) = allowed_origin(cors, headers.get(header::ORIGIN)) else { return response };
    let method_ok = if cors.methods.is_empty() {
        api_method.is_none_or(|m| m == asked)
    } else {
        cors.methods.iter().any(|m| m == asked.as_str())
    };
    let asked_headers: Vec<String> = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect())
        .unwrap_or_default();
    let headers_ok = asked_headers.iter().all(|h| cors.headers.iter().any(|allowed| allowed == h));
    if !method_ok || !headers_ok {
        return response;
    }
    set_origin(out, cors, origin);
    if let Ok(value) = HeaderValue::from_str(asked.as_str()) {
        out.insert(header::ACCESS_CONTROL_ALLOW_METHODS, value);
    }
    if !asked_headers.is_empty() {
        if let Ok(value) = HeaderValue::from_str(&asked_headers.join(", ")) {
            out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, value);
        }
    }
    if let Some(max_age) = cors.max_age_s {
        out.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from(max_age));
    }
    response
}

fn set_origin(out: &mut HeaderMap, cors: &Cors, origin: &HeaderValue) {
    // `*` answers only when credentials are off and every origin is allowed; otherwise the
    // request's own origin, which makes the answer vary by origin.
    if !cors.credentials && cors.origins.contains(&OriginPattern::Any) {
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    } else {
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        out.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    if cors.credentials {
        out.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
    }
}

/// Adds the CORS response headers of an actual request from an allowed `origin`.
pub fn cors_headers(cors: &Cors, origin: Option<&HeaderValue>, out: &mut HeaderMap) {
    let Some(origin) = allowed_origin(cors, origin) else {
        out.append(header::VARY, HeaderValue::from_static("Origin"));
        return;
    };
    set_origin(out, cors, origin);
    if !cors.expose.is_empty() {
        if let Ok(value) = HeaderValue::from_str(&cors.expose.join(", ")) {
            out.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, value);
        }
    }
}

const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// The `RateLimit-*` headers of the IETF draft for a throttled API's response (the names
/// are constants: no parsing per response).
pub fn rate_limit_headers(quota: &crate::policy::Quota, out: &mut HeaderMap) {
    out.insert(RATELIMIT_LIMIT, HeaderValue::from(quota.limit));
    out.insert(RATELIMIT_REMAINING, HeaderValue::from(quota.remaining));
    out.insert(RATELIMIT_RESET, HeaderValue::from(quota.reset_s));
}

/// Looks up the policies for the routed API (none when nothing is bound anywhere).
pub fn bound(ctx: &mut RequestContext, table: &crate::policy::PolicyTable) {
    if table.is_empty() {
        return;
    }
    if let (Some(group), Some(api), Some(env)) = (ctx.group.as_ref(), ctx.api.as_ref(), ctx.environment) {
        ctx.policies = table.for_api(group.id, env, api.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(origins: &[&str], credentials: bool) -> Cors {
        Cors {
            origins: origins.iter().map(|o| OriginPattern::parse(o).expect("origin")).collect(),
            methods: vec![],
            headers: vec!["x-token".into()],
            expose: vec!["x-total".into()],
            credentials,
            max_age_s: Some(600),
        }
    }

    fn asking(origin: &str, method: &str, headers: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, HeaderValue::from_str(origin).expect("origin"));
        h.insert(header::ACCESS_CONTROL_REQUEST_METHOD, HeaderValue::from_str(method).expect("method"));
        if !headers.is_empty() {
            h.insert(header::ACCESS_CONTROL_REQUEST_HEADERS, HeaderValue::from_str(headers).expect("headers"));
        }
        h
    }

    #[test]
    fn a_preflight_from_an_allowed_origin_is_answered_with_what_it_asked() {
        let rule = cors(&["https://app.example.com", "https://*.example.org"], false);
        let r = preflight(&rule, Some(&Method::PUT), &Method::PUT, &asking("https://a.example.org", "PUT", "X-Token"));
        assert_eq!(r.status(), 204);
        let h = r.headers();
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://a.example.org");
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_METHODS], "PUT");
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_HEADERS], "x-token");
        assert_eq!(h[header::ACCESS_CONTROL_MAX_AGE], "600");
    }

    #[test]
    fn a_disallowed_origin_method_or_header_gets_no_cors_headers() {
        let rule = cors(&["https://app.example.com"], false);
        for (origin, method, headers) in [
            ("https://evil.example.com", "PUT", ""),
            ("https://app.example.com", "DELETE", ""),
            ("https://app.example.com", "PUT", "x-other"),
        ] {
            let r = preflight(
                &rule,
                Some(&Method::PUT),
                &Method::from_bytes(method.as_bytes()).expect("m"),
                &asking(origin, method, headers),
            );
            assert!(!r.headers().contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN), "{origin} {method} {headers}");
        }
    }

    #[test]
    fn credentials_never_go_with_a_star() {
        let mut out = HeaderMap::new();
        let origin = HeaderValue::from_static("https://app.example.com");
        cors_headers(&cors(&["*"], false), Some(&origin), &mut out);
        assert_eq!(out[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        let mut out = HeaderMap::new();
        cors_headers(&cors(&["https://app.example.com"], true), Some(&origin), &mut out);
        assert_eq!(out[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example.com");
        assert_eq!(out[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        assert_eq!(out[header::ACCESS_CONTROL_EXPOSE_HEADERS], "x-total");
    }

    #[test]
    fn only_options_with_origin_and_a_requested_method_is_a_preflight() {
        let headers = asking("https://a.com", "POST", "");
        assert_eq!(preflight_method(&Method::OPTIONS, &headers), Some(Method::POST));
        assert_eq!(preflight_method(&Method::GET, &headers), None);
        assert_eq!(preflight_method(&Method::OPTIONS, &HeaderMap::new()), None);
    }
}
