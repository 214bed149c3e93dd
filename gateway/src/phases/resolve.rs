//! Phases 1 to 3: which deployment, which API, and whether a mock answers at once.

use crate::body::{self, Body};
use crate::compiled::{Backend, CompiledApi, HttpBackend};
use crate::context::{names, RequestContext};
use crate::function::FunctionCode;
use crate::snapshot::{LiveDeployment, RouteMatch, Snapshot};
use crate::{Environment, GatewayError};
use domain::api::ApiProtocol;
use http::{HeaderMap, Response};
use std::sync::Arc;

/// Phase 1: finds the group by host and the environment by `X-Ca-Stage` (default
/// `RELEASE`) or by the custom domain's pin, and the deployment live there, or its canary
/// when the canary takes the request (or the Debug API asked for a side).
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
        None => match ctx.present.own().then(|| headers.get(names::X_CA_STAGE)).flatten() {
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
    let mut deployment = binding.group.deployment(environment).cloned().ok_or_else(|| {
        GatewayError::NotFound(format!("nothing of group {} is live in {}", binding.group.name, environment.stage()))
    })?;
    if let Some(canary) = binding.group.canary(environment) {
        let asked = ctx.debug.as_ref().and_then(|notes| notes.canary_side);
        if asked.unwrap_or_else(|| canary.takes(headers, ctx.caller, snapshot.apps())) {
            deployment = canary.deployment.clone();
            ctx.canary = true;
        }
    }
    ctx.version = Some(deployment.version.clone());
    ctx.version_header = deployment.version_header.clone();
    Ok(deployment)
}

/// Path parameters by name, as matched.
pub type PathParams = crate::snapshot::PathValues;

/// Phase 2: matches method and path against the live version's APIs.
pub fn route(
    ctx: &mut RequestContext,
    deployment: &LiveDeployment,
) -> Result<(Arc<CompiledApi>, PathParams), GatewayError> {
    match deployment.route(&ctx.method, &ctx.path) {
        RouteMatch::Found(api, params) => {
            ctx.api = Some(api.clone());
            if let Backend::Offline(reason) = &api.backend {
                return Err(offline(api, reason));
            }
            protocol_allowed(api, ctx.tls)?;
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

/// The API's protocol: an HTTPS-only API refuses plain HTTP (403 `HttpsRequired`, not a
/// redirect: a redirect would have already sent the request, credentials included, in the
/// clear), an HTTP-only one refuses TLS.
fn protocol_allowed(api: &CompiledApi, tls: bool) -> Result<(), GatewayError> {
    match (api.protocol, tls) {
        (ApiProtocol::Https, false) => {
            Err(GatewayError::HttpsRequired(format!("API `{}` is called over HTTPS only", api.name)))
        }
        (ApiProtocol::Http, true) => {
            Err(GatewayError::HttpRequired(format!("API `{}` is called over plain HTTP only", api.name)))
        }
        _ => Ok(()),
    }
}

fn offline(api: &CompiledApi, reason: &str) -> GatewayError {
    GatewayError::NotFound(format!("API `{}` is off-line in this environment: {reason}", api.name))
}

/// What the mock phase decided: the mock's answer, or what serves the request after the
/// authenticate and validate phases.
#[derive(Debug)]
pub enum Dispatch<'a> {
    /// The API's backend is Mock: this is the response.
    Answered(Response<Body>),
    /// The request goes on to authentication.
    Forward(Handler<'a>),
}

/// What answers a request that passed authentication and validation.
#[derive(Debug, Clone, Copy)]
pub enum Handler<'a> {
    /// An HTTP(S) backend.
    Http(&'a HttpBackend),
    /// A Function backend.
    Function(&'a Arc<FunctionCode>),
    /// The backend cannot be reached in this environment (503 once the caller is checked).
    Unavailable(&'a str),
}

/// Phase 3: a Mock backend answers now, before authentication (as the seeds say); any
/// other backend is named for the phases after.
pub fn mock(api: &CompiledApi) -> Result<Dispatch<'_>, GatewayError> {
    Ok(match &api.backend {
        Backend::Mock(mock) => {
            let mut response = Response::new(body::full(mock.body.clone()));
            *response.status_mut() = mock.status;
            for (name, value) in &mock.headers {
                response.headers_mut().append(name.clone(), value.clone());
            }
            Dispatch::Answered(response)
        }
        Backend::Http(backend) => Dispatch::Forward(Handler::Http(backend)),
        Backend::Function(code) => Dispatch::Forward(Handler::Function(code)),
        Backend::Unavailable(reason) => Dispatch::Forward(Handler::Unavailable(reason)),
        // The route phase refuses these already; the same refusal if it is ever called alone.
        Backend::Offline(reason) => return Err(offline(api, reason)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiled::Target;
    use crate::snapshot::{CompiledGroup, HostBinding};
    use http::{header, HeaderValue, Method};
    use std::net::{IpAddr, Ipv4Addr};

    const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

    fn snapshot_with_test_deployment() -> Snapshot {
        let group = Arc::new(CompiledGroup {
            id: 1,
            name: "petstore".into(),
            label: crate::access_log::Label::of(1, "petstore"),
            deployments: [Some(Arc::new(LiveDeployment::empty("1.0.0"))), None, None],
            canaries: [None, None, None],
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

    fn compiled(spec: serde_json::Value, target: Target) -> CompiledApi {
        let spec: domain::api::ApiSpec = serde_json::from_value(spec).expect("spec");
        CompiledApi::compile(1, &spec.validate().expect("valid"), target).expect("compile")
    }

    #[test]
    fn stage_picks_the_environment() {
        assert_eq!(resolve_for("petstore.localhost:8080", Some("TEST")).expect("live").version.as_ref(), "1.0.0");
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
    fn route_tells_not_found_from_method_not_allowed_and_refuses_off_line_apis() {
        let pets = compiled(
            serde_json::json!({"name": "pets", "request": {"method": "GET", "path": "/pets/{id}"}}),
            Target::Mock,
        );
        let gone = compiled(
            serde_json::json!({"name": "gone", "request": {"method": "GET", "path": "/gone"}}),
            Target::Offline("taken off-line".into()),
        );
        let deployment = LiveDeployment::new("1", vec![pets, gone]).expect("router");
        let route_of = |method: Method, path: &str| {
            let mut ctx = RequestContext::new(method, path, &HeaderMap::new(), &CLIENT.into());
            let routed = route(&mut ctx, &deployment).map(|(api, params)| (api.name.to_string(), params));
            (routed, ctx.api.map(|api| api.name.to_string()))
        };
        let (found, _) = route_of(Method::GET, "/pets/7");
        assert_eq!(found.expect("found"), ("pets".to_owned(), smallvec::smallvec![("id".into(), "7".into())]));
        assert!(matches!(route_of(Method::POST, "/pets/7").0, Err(GatewayError::MethodNotAllowed(_))));
        assert!(matches!(route_of(Method::GET, "/cats").0, Err(GatewayError::NotFound(_))));
        let (refused, noted) = route_of(Method::GET, "/gone");
        assert!(matches!(refused, Err(GatewayError::NotFound(m)) if m.contains("taken off-line")));
        assert_eq!(noted.as_deref(), Some("gone"), "the trace names the off-line API");
    }

    #[test]
    fn mock_answers_with_the_defined_response() {
        let api = compiled(
            serde_json::json!({"name": "hello", "request": {"method": "GET", "path": "/hello"},
                "backend": {"mock": {"status": 201, "body": "{\"hello\":\"world\"}", "headers": [{"name": "X-Mock", "value": "yes"}]}}}),
            Target::Mock,
        );
        let Ok(Dispatch::Answered(response)) = mock(&api) else { panic!("a mock answers") };
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["x-mock"], "yes");
        assert_eq!(response.headers()["content-type"], "application/json; charset=utf-8");
    }

    #[test]
    fn other_backends_are_named_for_the_later_phases() {
        let http = compiled(
            serde_json::json!({"name": "h", "request": {"method": "GET", "path": "/h"}, "backend": {"http": {"path": "/"}}}),
            Target::Http(domain::Targets::parse("http://backend").expect("address")),
        );
        assert!(matches!(mock(&http), Ok(Dispatch::Forward(Handler::Http(_)))));
        let offline = compiled(
            serde_json::json!({"name": "o", "request": {"method": "GET", "path": "/o"}}),
            Target::Offline("gone".into()),
        );
        assert!(matches!(mock(&offline), Err(GatewayError::NotFound(_))));
    }
}
