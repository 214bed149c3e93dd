//! The request lifecycle as named phases (DESIGN.md, "Gateway request lifecycle"), in the
//! spirit of Pingora's `ProxyHttp`: each phase is a plain function of the request context and
//! the snapshot, so it can be tested alone.
//!
//! 1. [`resolve`]: Host → group, stage → environment, no deployment → 404.
//! 2. [`route`]: method + path → API of the live version.
//! 3. mock short-cut, 4. authenticate, 5. validate, 6. upstream request, 7. proxy: arrive with
//!    the gateway and apps issues.
//! 8. [`log`]: always runs.

use crate::snapshot::{CompiledGroup, LiveDeployment, Snapshot};
use crate::{Environment, GatewayError};
use http::{header, HeaderMap, Method, StatusCode};
use std::sync::Arc;
use std::time::Instant;

/// Per-request state that phases read and fill in, and the log phase reports.
#[derive(Debug)]
pub struct RequestContext {
    /// Unique id, returned as `X-Ca-Request-Id` on every response.
    pub request_id: String,
    /// When the gateway started on this request.
    pub started: Instant,
    /// The request's method.
    pub method: Method,
    /// The request's path (no query).
    pub path: String,
    /// The host the caller addressed, lower-case, without port.
    pub host: String,
    /// The group, once resolved.
    pub group: Option<Arc<CompiledGroup>>,
    /// The environment, once resolved.
    pub environment: Option<Environment>,
}

impl RequestContext {
    /// Starts the context for a request.
    pub fn new(method: Method, path: &str, headers: &HeaderMap) -> RequestContext {
        RequestContext {
            request_id: uuid::Uuid::new_v4().to_string(),
            started: Instant::now(),
            method,
            path: path.to_owned(),
            host: host_of(headers),
            group: None,
            environment: None,
        }
    }
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
        None => match headers.get("x-ca-stage") {
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
    binding.group.deployment(environment).cloned().ok_or_else(|| {
        GatewayError::NotFound(format!(
            "group `{}` has nothing released in {}",
            binding.group.name,
            environment.label()
        ))
    })
}

/// The API a request matched. It has no values yet: compiled routes arrive with the gateway
/// issue, and until then no request can match.
#[derive(Debug)]
pub enum MatchedApi {}

/// Phase 2: matches method and path against the live version's APIs.
pub fn route(ctx: &RequestContext, deployment: &LiveDeployment) -> Result<MatchedApi, GatewayError> {
    Err(GatewayError::NotFound(format!("no API of version {} matches {} {}", deployment.version, ctx.method, ctx.path)))
}

/// Phase 8: one structured access-log line per request, whatever happened.
pub fn log(ctx: &RequestContext, status: StatusCode) {
    tracing::info!(
        target: "gantry::access",
        request_id = %ctx.request_id,
        method = %ctx.method,
        host = %ctx.host,
        path = %ctx.path,
        group = ctx.group.as_ref().map(|g| g.name.as_str()).unwrap_or("-"),
        environment = ctx.environment.map(Environment::as_str).unwrap_or("-"),
        status = status.as_u16(),
        micros = ctx.started.elapsed().as_micros() as u64,
        "request"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::HostBinding;
    use http::HeaderValue;

    fn snapshot_with_test_deployment() -> Snapshot {
        let group = Arc::new(CompiledGroup {
            name: "petstore".into(),
            deployments: [Some(Arc::new(LiveDeployment { version: "1.0.0".into() })), None, None],
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
        let mut ctx = RequestContext::new(Method::GET, "/pets/1", &headers);
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
}
