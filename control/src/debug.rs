//! The Debug API: call any live API through the real gateway and see what happened.
//!
//! [`Control::debug`] looks up the API in the version live in the environment, builds the
//! request from the given parameter values (path, query, header, form or JSON body), signs it
//! with the app's secret when the API needs an app, adds a one-time debug token, and sends it
//! to the gateway's own listener over loopback: not a simulation. The gateway answers as it
//! would anyone, plus the trace of its phases (only because of the token).

use crate::entity::{deployment, version};
use crate::resolve::target_of;
use crate::users::Action;
use crate::CurrentUser;
use crate::{Control, ControlError, FieldError};
use bytes::Bytes;
use domain::api::{ApiSpec, AuthType, ParamLocation};
use domain::debug::{DebugRequest, DebugResult, ReceivedResponse, SentRequest, Timings};
use domain::path::Segment;
use domain::release::{DeployBackend, VersionApi};
use domain::{Environment, PathTemplate};
use gateway::compiled::Target;
use gateway::phases::SEGMENT;
use gateway::signature::{SignatureMethod, Signer, Unsigned};
use http::{HeaderMap, HeaderName, HeaderValue, Request};
use percent_encoding::utf8_percent_encode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::time::{Duration, Instant};

/// The request a debug call sends, before signing.
struct Built {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: String,
}

/// Builds the request for `spec` from the values given; every missing required parameter
/// and bad header is reported under `params.<name>` / `headers.<name>`.
fn build(spec: &ApiSpec, request: &DebugRequest) -> Result<Built, ControlError> {
    let mut errors = Vec::new();
    let value = |name: &str| request.params.get(name).map(|v| v.as_str()).filter(|v| !v.is_empty());
    let template = PathTemplate::parse(&spec.request.path).map_err(|e| ControlError::Internal(e.to_string()))?;
    let mut path = String::new();
    for segment in template.segments() {
        path.push('/');
        match segment {
            Segment::Literal(literal) => path.push_str(literal),
            Segment::Param(name) => match value(name) {
                Some(v) => path.extend(utf8_percent_encode(v, SEGMENT)),
                None => errors.push(FieldError::new(format!("params.{name}"), "is required (path parameter)")),
            },
        }
    }
    if path.is_empty() {
        path.push('/');
    }
    let mut query = Vec::new();
    let mut headers = HeaderMap::new();
    let mut form = Vec::new();
    let mut json = serde_json::Map::new();
    for param in spec.request.params.iter().filter(|p| p.location != ParamLocation::Path) {
        let Some(v) = value(&param.name) else {
            if param.required && param.default.is_none() {
                errors.push(FieldError::new(format!("params.{}", param.name), "is required"));
            }
            continue;
        };
        match param.location {
            ParamLocation::Query => query.push((param.name.clone(), v.to_owned())),
            ParamLocation::Header => match (HeaderName::from_bytes(param.name.as_bytes()), HeaderValue::from_str(v)) {
                (Ok(name), Ok(v)) => {
                    headers.insert(name, v);
                }
                _ => errors.push(FieldError::new(format!("params.{}", param.name), "is not a valid header value")),
            },
            ParamLocation::Form => form.push((param.name.clone(), v.to_owned())),
            ParamLocation::Body => {
                json.insert(param.name.clone(), serde_json::Value::String(v.to_owned()));
            }
            ParamLocation::Path => {}
        }
    }
    for (name, v) in &request.headers {
        if name.trim().is_empty() {
            continue;
        }
        match (HeaderName::from_bytes(name.trim().as_bytes()), HeaderValue::from_str(v.trim())) {
            (Ok(name), Ok(v)) => {
                headers.insert(name, v);
            }
            _ => errors.push(FieldError::new(format!("headers.{name}"), "is not a valid header")),
        }
    }
    if !errors.is_empty() {
        return Err(ControlError::Validation(errors));
    }
    let body = match (&request.body, form.is_empty(), json.is_empty()) {
        (Some(raw), _, _) if !raw.is_empty() => raw.clone(),
        (_, false, _) => {
            headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
            form_urlencoded::Serializer::new(String::new()).extend_pairs(&form).finish()
        }
        (_, _, false) => {
            headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            serde_json::Value::Object(json).to_string()
        }
        _ => String::new(),
    };
    let method = match spec.request.method.to_ascii_uppercase().as_str() {
        "ANY" => "GET".to_owned(),
        other => other.to_owned(),
    };
    headers.entry(http::header::ACCEPT).or_insert(HeaderValue::from_static("*/*"));
    Ok(Built { method, path, query, headers, body })
}

impl Control {
    /// Finds the API a debug call names in the version live in its environment.
    async fn live_api(
        &self,
        request: &DebugRequest,
    ) -> Result<(String, Environment, VersionApi, DeployBackend), ControlError> {
        let env: Environment = request
            .env
            .parse()
            .map_err(|e: domain::environment::UnknownEnvironment| ControlError::field("env", e.to_string()))?;
        let group = self
            .find_group(request.group.trim())
            .await
            .map_err(|_| ControlError::field("group", format!("no API group is named `{}`", request.group.trim())))?;
        let live = deployment::Entity::find()
            .filter(deployment::Column::GroupId.eq(group.id))
            .filter(deployment::Column::Environment.eq(env.as_str()))
            .one(self.db())
            .await?
            .ok_or_else(|| {
                ControlError::field("env", format!("group `{}` has nothing released in {}", group.name, env.label()))
            })?;
        let side = request.side.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let canary = match side {
            None | Some("stable") => None,
            Some("canary") => Some(
                crate::entity::canary::Entity::find()
                    .filter(crate::entity::canary::Column::GroupId.eq(group.id))
                    .filter(crate::entity::canary::Column::Environment.eq(env.as_str()))
                    .one(self.db())
                    .await?
                    .ok_or_else(|| ControlError::field("side", format!("no canary runs in {}", env.label())))?,
            ),
            Some(other) => {
                return Err(ControlError::field("side", format!("`{other}` is not a side: use canary or stable")))
            }
        };
        let (version_id, backend) = match &canary {
            Some(canary) => (canary.version_id, canary.backend()?),
            None => (live.version_id, live.backend()?),
        };
        let frozen = version::Entity::find_by_id(version_id)
            .one(self.db())
            .await?
            .ok_or_else(|| ControlError::Internal("a deployment points at a missing version".into()))?;
        let apis = frozen.apis()?;
        let wanted = request.api.trim();
        let api = apis.into_iter().find(|a| a.id.to_string() == wanted || a.spec.name == wanted).ok_or_else(|| {
            ControlError::field(
                "api",
                format!("version {} live in {} has no API `{wanted}`", frozen.label, env.label()),
            )
        })?;
        Ok((group.subdomain, env, api, backend))
    }

    /// Sends a debug call through the gateway and returns the request, the response, the
    /// timings and the gateway's trace.
    /// A viewer may call Test only (judged once the environment is parsed).
    pub async fn debug(&self, request: &DebugRequest, actor: &CurrentUser) -> Result<DebugResult, ControlError> {
        let address =
            self.gateway_addr.ok_or_else(|| ControlError::Internal("the gateway's address is not known".into()))?;
        let (subdomain, env, api, backend) = self.live_api(request).await?;
        actor.require(Action::Debug(env))?;
        let mut built = build(&api.spec, request)?;
        let host = format!("{subdomain}.{}", self.base_domain);
        built.headers.insert(
            http::header::HOST,
            HeaderValue::from_str(&host).map_err(|e| ControlError::Internal(e.to_string()))?,
        );
        built.headers.insert("x-ca-stage", HeaderValue::from_static(env.stage()));

        let services = self.service_directory(self.db()).await?;
        let target = target_of(&api.spec, &backend, &services, env);
        if let Target::Http(address) = &target {
            self.backend_allowed(address).await.map_err(|reason| ControlError::field("api", reason))?;
        }
        let needs_app = api.spec.auth == AuthType::App && target != Target::Mock;
        let app_name = request.app.as_deref().map(str::trim).filter(|a| !a.is_empty());
        let client_string_to_sign = match (needs_app, app_name) {
            (true, None) => return Err(ControlError::field("app", "this API needs an app: pick one to sign with")),
            (true, Some(name)) => {
                let app = self.get_app(name, true).await.map_err(|e| match e {
                    ControlError::NotFound(_) => ControlError::field("app", format!("no app is named `{name}`")),
                    other => other,
                })?;
                let signer = Signer {
                    key: app.app_key,
                    secret: app.app_secret.unwrap_or_default(),
                    method: SignatureMethod::HmacSha256,
                };
                let nonce = crate::apps::random_hex(16);
                let unsigned = Unsigned {
                    method: &built.method,
                    path: &built.path,
                    query: &built.query,
                    body: built.body.as_bytes(),
                    timestamp_ms: chrono::Utc::now().timestamp_millis(),
                    nonce: &nonce,
                };
                Some(signer.sign(unsigned, &mut built.headers).map_err(|e| ControlError::field("headers", e))?)
            }
            (false, _) => None,
        };

        let mut uri = built.path.clone();
        if !built.query.is_empty() {
            uri.push('?');
            uri.push_str(&form_urlencoded::Serializer::new(String::new()).extend_pairs(&built.query).finish());
        }
        let sent = SentRequest {
            method: built.method.clone(),
            url: format!("http://{address}{uri}"),
            headers: built
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect(),
            body: built.body.clone(),
        };
        let mut outgoing = Request::new(Bytes::from(built.body));
        *outgoing.method_mut() =
            built.method.parse().map_err(|e: http::method::InvalidMethod| ControlError::Internal(e.to_string()))?;
        *outgoing.uri_mut() = uri.parse().map_err(|e: http::uri::InvalidUri| ControlError::Internal(e.to_string()))?;
        *outgoing.headers_mut() = built.headers;
        // `live_api` refused any other side already.
        if let Some(side) = request.side.as_deref().map(str::trim).filter(|s| matches!(*s, "canary" | "stable")) {
            outgoing.headers_mut().insert(
                gateway::debug::SIDE_HEADER,
                HeaderValue::from_static(if side == "canary" { "canary" } else { "stable" }),
            );
        }
        outgoing.headers_mut().insert(
            gateway::debug::TOKEN_HEADER,
            HeaderValue::from_str(
                &self.shared.issue_debug_token().await.map_err(|e| ControlError::Unavailable(e.to_string()))?,
            )
            .map_err(|e| ControlError::Internal(e.to_string()))?,
        );

        let started = Instant::now();
        let timeout = Duration::from_millis(api.spec.backend.http.timeout_ms.unwrap_or(10_000).max(1_000) + 5_000);
        let answer = gateway::debug::send(address, outgoing, timeout, self.debug_body_limit)
            .await
            .map_err(ControlError::Internal)?;
        let (parts, bytes, truncated) = (answer.parts, answer.body, answer.truncated);
        let total_ms = started.elapsed().as_secs_f64() * 1000.0;
        let trace = gateway::debug::read_trace(&parts.headers);
        let pretty = (!truncated)
            .then(|| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .flatten()
            .and_then(|v| serde_json::to_string_pretty(&v).ok());
        // The whole size when the gateway said it; what was read otherwise.
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let response = ReceivedResponse {
            status: parts.status.as_u16(),
            headers: parts
                .headers
                .iter()
                .filter(|(n, _)| *n != gateway::debug::TRACE_HEADER)
                .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect(),
            json: pretty.is_some(),
            body: pretty.unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned()),
            size: declared.unwrap_or(bytes.len() as u64),
            truncated,
        };
        let timings = Timings {
            total_ms,
            gateway_ms: trace.as_ref().map(|t| t.gateway_ms),
            upstream_ms: trace.as_ref().and_then(|t| t.upstream_ms),
        };
        Ok(DebugResult { request: sent, response, timings, trace, client_string_to_sign })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_built_from_the_declared_parameters_and_missing_ones_are_named() {
        let spec: ApiSpec = serde_json::from_value(serde_json::json!({
            "name": "Pet", "request": {"method": "POST", "path": "/pets/{petId}", "params": [
                {"name": "petId", "in": "path", "type": "int"},
                {"name": "q", "in": "query", "required": true},
                {"name": "x-tag", "in": "header"},
                {"name": "name", "in": "form", "required": true},
            ]}
        }))
        .expect("spec");
        let mut request = DebugRequest::default();
        let errors = match build(&spec, &request) {
            Err(ControlError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect::<Vec<_>>(),
            _ => panic!("missing parameters must be refused"),
        };
        assert_eq!(errors, ["params.petId", "params.q", "params.name"]);
        for (k, v) in [("petId", "4 2"), ("q", "a&b"), ("x-tag", "t"), ("name", "rex")] {
            request.params.insert(k.into(), v.into());
        }
        let built = build(&spec, &request).expect("built");
        assert_eq!((built.method.as_str(), built.path.as_str()), ("POST", "/pets/4%202"));
        assert_eq!(built.query, [("q".to_owned(), "a&b".to_owned())]);
        assert_eq!(built.headers["x-tag"], "t");
        assert_eq!(built.body, "name=rex");
        assert_eq!(built.headers["content-type"], "application/x-www-form-urlencoded");
    }
}
