//! The API definition as JSON (DESIGN.md, "Domain" and "Admin REST API") and its rules.
//!
//! [`ApiSpec`] is the wire shape the console, the REST API and the importer submit. Text
//! fields stay text so that a bad value is reported as a field error, not a JSON error;
//! [`ApiSpec::validate`] checks every rule through the typed parsers ([`PathTemplate`],
//! [`BackendAddress`](crate::BackendAddress), [`HttpMethod`], …), collects every broken rule
//! with its JSON path, and returns a [`ValidApi`]: the normalised spec that is stored, with
//! what validation parsed, so the gateway compiles it without parsing its strings again.
//!
//! - [`params`]: declared frontend parameters, their types and constraints, and their rules.
//! - [`backend`]: the backend configuration (HTTP with mapping, constants and system
//!   parameters; Mock; Function) and its rules, one named step each.
//! - [`clashes`]: which of many APIs a new one clashes with (name or route), by lookup.

pub mod backend;
pub mod clashes;
pub mod params;

pub use backend::{
    BackendSpec, BackendType, ConstantLocation, ConstantSpec, FunctionSpec, HeaderSpec, HttpBackendSpec, MappingSpec,
    MockSpec, SystemParam, SystemParamSpec,
};
pub use clashes::Clashes;
pub use params::{Constraints, ParamLocation, ParamSpec, ParamType};

use crate::error::Errors;
use crate::names;
use crate::{FieldError, HttpMethod, PathTemplate};
use serde::{Deserialize, Serialize};

/// Who may call the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthType {
    /// Anyone.
    #[default]
    None,
    /// An authorized app, by AppCode or X-Ca signature.
    App,
}

/// Where an app-authenticated API takes an AppCode (Alibaba's "AppCode Authentication
/// (Header & Query)"): always the `Authorization: APPCODE <code>` header; and, unless the
/// API turns it off, the `AppCode` query parameter, which never reaches the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppCodeLocation {
    /// The header or the query parameter (the default).
    #[default]
    HeaderAndQuery,
    /// The header only: an `AppCode` query parameter is an ordinary parameter.
    Header,
}

impl AppCodeLocation {
    /// Whether this is the default (not written out).
    pub fn is_default(&self) -> bool {
        *self == AppCodeLocation::default()
    }
}

/// How the frontend request becomes the backend request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestMode {
    /// Forward everything (headers, query, body) as received.
    #[default]
    Passthrough,
    /// Forward only declared parameters, renamed and moved as mapped.
    Mapping,
}

/// Which listener callers may use (Alibaba's *Protocol*): plain HTTP, HTTPS, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiProtocol {
    /// Plain HTTP only.
    Http,
    /// HTTPS only: a plain-HTTP call is a 403 `HttpsRequired`.
    Https,
    /// Either (the default).
    #[default]
    Both,
}

impl ApiProtocol {
    /// The console's label.
    pub fn label(self) -> &'static str {
        match self {
            ApiProtocol::Http => "HTTP",
            ApiProtocol::Https => "HTTPS",
            ApiProtocol::Both => "HTTP and HTTPS",
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiProtocol::Http => "http",
            ApiProtocol::Https => "https",
            ApiProtocol::Both => "both",
        }
    }
}

/// The frontend request: what callers send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RequestSpec {
    /// `GET`, `POST`, … or `ANY`.
    pub method: String,
    /// Path template, e.g. `/pets/{petId}`.
    pub path: String,
    /// Pass-through or mapping.
    pub mode: RequestMode,
    /// HTTP, HTTPS or both.
    pub protocol: ApiProtocol,
    /// A WebSocket API: callers send an `Upgrade: websocket` GET, which is authenticated and
    /// validated like any call, then piped both ways to the backend.
    pub websocket: bool,
    /// Seconds a WebSocket may carry nothing either way before the gateway closes it
    /// (default 300).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub websocket_idle_s: Option<u32>,
    /// Declared parameters.
    pub params: Vec<ParamSpec>,
}

/// A WebSocket's idle timeout when the API names none.
pub const DEFAULT_WEBSOCKET_IDLE_S: u32 = 300;

impl Default for RequestSpec {
    fn default() -> RequestSpec {
        RequestSpec {
            method: "GET".into(),
            path: String::new(),
            mode: RequestMode::Passthrough,
            protocol: ApiProtocol::Both,
            websocket: false,
            websocket_idle_s: None,
            params: Vec::new(),
        }
    }
}

/// Response documentation (for docs and SDKs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponseSpec {
    /// Content type of a success.
    pub content_type: String,
    /// Example success body.
    pub success_example: String,
    /// Example error body.
    pub error_example: String,
}

impl Default for ResponseSpec {
    fn default() -> ResponseSpec {
        ResponseSpec {
            content_type: "application/json".into(),
            success_example: String::new(),
            error_example: String::new(),
        }
    }
}

/// An API definition, as submitted and stored.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ApiSpec {
    /// Unique in its group.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Who may call it.
    pub auth: AuthType,
    /// Where an AppCode is taken from (apps' APIs only).
    #[serde(skip_serializing_if = "AppCodeLocation::is_default")]
    pub appcode: AppCodeLocation,
    /// The frontend request.
    pub request: RequestSpec,
    /// The backend.
    pub backend: BackendSpec,
    /// Response docs.
    pub response: ResponseSpec,
}

impl ApiSpec {
    /// The frontend method (valid specs only; `ANY` for an invalid one).
    pub fn method(&self) -> HttpMethod {
        HttpMethod::stored(&self.request.method)
    }

    /// What a caller fills in: the declared parameters, then every parameter of the path
    /// template that is not declared (a required string in the path). A path parameter is
    /// always sent, declared or not, so a form built from this never lacks a field for one.
    pub fn caller_params(&self) -> Vec<ParamSpec> {
        let mut params = self.request.params.clone();
        if let Ok(template) = PathTemplate::parse(&self.request.path) {
            for name in template.params() {
                let declared = params.iter().any(|p| p.location == ParamLocation::Path && p.name == name);
                if !declared {
                    params.push(ParamSpec {
                        name: name.to_owned(),
                        location: ParamLocation::Path,
                        required: true,
                        ..ParamSpec::default()
                    });
                }
            }
        }
        params
    }

    /// Whether a request could match both APIs: overlapping methods and paths a router
    /// could not tell apart.
    pub fn route_conflicts(&self, other: &ApiSpec) -> bool {
        let (Ok(a), Ok(b)) = (PathTemplate::parse(&self.request.path), PathTemplate::parse(&other.request.path)) else {
            return false;
        };
        self.method().overlaps(other.method()) && a.conflicts_with(&b)
    }

    /// Checks every rule; returns the normalised spec, with what was parsed, or every broken
    /// rule.
    pub fn validate(&self) -> Result<ValidApi, Vec<FieldError>> {
        let mut errors = Errors::default();
        let mut spec = self.clone();
        if let Some(name) = errors.check("name", names::api_name(&self.name)) {
            spec.name = name;
        }
        if let Some(text) = errors.check("description", names::text(&self.description, 500)) {
            spec.description = text;
        }
        let method = errors.check("request.method", HttpMethod::parse(&self.request.method));
        if let Some(method) = method {
            spec.request.method = method.as_str().to_owned();
        }
        let template = errors.check("request.path", PathTemplate::parse(&self.request.path));
        if let Some(template) = &template {
            spec.request.path = template.as_str().to_owned();
        }
        params::validate_params(&mut spec.request.params, template.as_ref(), method, &mut errors);
        if self.request.websocket {
            if method.is_some_and(|m| m != HttpMethod::Get) {
                errors.add("request.method", "a WebSocket API is called with GET (the upgrade request)");
            }
            if !self.backend.unified && self.backend.kind != BackendType::Http {
                errors.add("backend.type", "a WebSocket API needs an HTTP backend");
            }
        }
        match self.request.websocket_idle_s {
            Some(s) if !(1..=86_400).contains(&s) => {
                errors.add("request.websocket_idle_s", "must be between 1 and 86400 seconds")
            }
            Some(_) if !self.request.websocket => spec.request.websocket_idle_s = None,
            _ => {}
        }
        let backend =
            backend::validate_backend(&mut spec.backend, &spec.request.params, template.as_ref(), &mut errors);
        if let Some(text) = errors.check("response.content_type", names::text(&self.response.content_type, 100)) {
            spec.response.content_type = text;
        }
        match (errors.into_vec(), method, template) {
            (errors, Some(method), Some(path)) if errors.is_empty() => {
                Ok(ValidApi { spec, method, path, backend_path: backend.path, backend_method: backend.method })
            }
            (errors, _, _) => Err(errors),
        }
    }
}

/// An API definition that follows every rule, with what validation parsed: the frontend
/// method and path template, the backend path template and method. Only
/// [`ApiSpec::validate`] makes one, so a `ValidApi` is never unchecked; it reads as the
/// normalised [`ApiSpec`] (`Deref`), which is what is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidApi {
    spec: ApiSpec,
    method: HttpMethod,
    path: PathTemplate,
    backend_path: Option<PathTemplate>,
    backend_method: Option<HttpMethod>,
}

impl ValidApi {
    /// The normalised definition.
    pub fn spec(&self) -> &ApiSpec {
        &self.spec
    }

    /// The normalised definition, to store.
    pub fn into_spec(self) -> ApiSpec {
        self.spec
    }

    /// The frontend method (`Any` matches every method).
    pub fn method(&self) -> HttpMethod {
        self.method
    }

    /// The frontend path template.
    pub fn path(&self) -> &PathTemplate {
        &self.path
    }

    /// The backend path template: the API's own, or the frontend path when it sets none.
    pub fn backend_path(&self) -> &PathTemplate {
        self.backend_path.as_ref().unwrap_or(&self.path)
    }

    /// The backend method, when the API sets one (otherwise the caller's method is used).
    pub fn backend_method(&self) -> Option<HttpMethod> {
        self.backend_method
    }
}

/// Serialised as the normalised [`ApiSpec`] it is (what is stored and audited). There is no
/// `Deserialize`: a stored spec becomes a `ValidApi` again only through validation.
impl Serialize for ValidApi {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.spec.serialize(serializer)
    }
}

impl std::ops::Deref for ValidApi {
    type Target = ApiSpec;

    fn deref(&self) -> &ApiSpec {
        &self.spec
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::ApiSpec;

    /// `GET /pets/{petId}` in mapping mode, to `/v2/pet/{id}` with a constant `Host`.
    pub fn pet_api() -> ApiSpec {
        serde_json::from_value(serde_json::json!({
            "name": "Get pet",
            "request": {
                "method": "get",
                "path": "/pets/{petId}",
                "mode": "mapping",
                "params": [
                    {"name": "petId", "in": "path", "type": "int"},
                    {"name": "verbose", "in": "query", "type": "boolean", "default": "false"}
                ]
            },
            "backend": {
                "http": {
                    "path": "/v2/pet/{id}",
                    "mapping": [{"param": "petId", "name": "id", "in": "path"}],
                    "constants": [{"name": "Host", "in": "header", "value": "pets.internal"}]
                }
            }
        }))
        .expect("json")
    }

    /// The fields `spec`'s validation names, in order.
    pub fn fields(spec: &ApiSpec) -> Vec<String> {
        spec.validate().expect_err("invalid").into_iter().map(|e| e.field).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{fields, pet_api};
    use super::*;

    #[test]
    fn caller_params_add_undeclared_path_parameters() {
        let mut spec = ApiSpec::default();
        spec.request.path = "/ping/{id}/x/{name}".into();
        spec.request.params.push(ParamSpec {
            name: "name".into(),
            location: ParamLocation::Path,
            kind: ParamType::Int,
            ..ParamSpec::default()
        });
        spec.request.params.push(ParamSpec {
            name: "q".into(),
            location: ParamLocation::Query,
            ..ParamSpec::default()
        });
        let params = spec.caller_params();
        let names: Vec<(&str, ParamLocation, bool)> =
            params.iter().map(|p| (p.name.as_str(), p.location, p.required)).collect();
        assert_eq!(
            names,
            vec![
                ("name", ParamLocation::Path, false),
                ("q", ParamLocation::Query, false),
                ("id", ParamLocation::Path, true)
            ]
        );
        assert_eq!(params[0].kind, ParamType::Int, "a declared path parameter keeps its declaration");
    }

    #[test]
    fn a_good_api_is_normalised() {
        let spec = pet_api().validate().expect("valid");
        assert_eq!(spec.request.method, "GET");
        assert!(spec.request.params[0].required, "path parameters are required");
        assert_eq!(spec.backend.http.constants[0].name, "host");
        assert!(spec.backend.unified, "unified by default");
        assert_eq!(spec.backend.summary(), "Unified");
    }

    #[test]
    fn a_bad_path_is_reported_at_request_path() {
        let mut spec = pet_api();
        spec.request.path = "pets/{id".into();
        assert!(fields(&spec).contains(&"request.path".to_owned()));
    }

    #[test]
    fn every_error_is_collected() {
        let mut spec = pet_api();
        spec.name = String::new();
        spec.request.method = "FETCH".into();
        spec.backend.mock.status = 700;
        let fields = fields(&spec);
        for field in ["name", "request.method", "backend.mock.status"] {
            assert!(fields.contains(&field.to_owned()), "{field} missing from {fields:?}");
        }
    }

    #[test]
    fn route_conflicts() {
        let a = pet_api();
        let mut b = pet_api();
        b.request.path = "/pets/{id}".into();
        assert!(a.route_conflicts(&b));
        b.request.method = "POST".into();
        assert!(!a.route_conflicts(&b));
        b.request.method = "ANY".into();
        assert!(a.route_conflicts(&b));
        b.request.path = "/pets/mine".into();
        assert!(!a.route_conflicts(&b));
    }

    #[test]
    fn a_valid_api_carries_what_was_parsed() {
        let valid = pet_api().validate().expect("valid");
        assert_eq!(valid.method(), HttpMethod::Get);
        assert_eq!(valid.path().as_str(), "/pets/{petId}");
        assert_eq!(valid.backend_path().as_str(), "/v2/pet/{id}");
        assert_eq!(valid.backend_method(), None);
        let mut own = pet_api();
        own.backend.http.path = None;
        own.backend.http.mapping.clear();
        own.backend.http.method = Some("post".into());
        let valid = own.validate().expect("valid");
        assert_eq!(valid.backend_path().as_str(), "/pets/{petId}", "no backend path: the frontend path");
        assert_eq!(valid.backend_method(), Some(HttpMethod::Post));
        assert_eq!(valid.into_spec().backend.http.method.as_deref(), Some("POST"), "stored normalised");
    }
}
