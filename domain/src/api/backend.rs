//! The backend configuration: the API's own HTTP(S) backend (address or backend service,
//! path, method, timeout, parameter mapping, constants, system parameters), its Mock
//! response or its Function, and the rules each follows, checked in named steps.

use super::params::{ParamLocation, ParamSpec};
use crate::backend;
use crate::error::Errors;
use crate::names;
use crate::targets::Targets;
use crate::{HttpMethod, PathTemplate};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Which kind of backend an API with its own (non-unified) configuration uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendType {
    /// An HTTP/HTTPS service.
    #[default]
    Http,
    /// A fixed response.
    Mock,
    /// User JavaScript run by the gateway.
    Function,
}

impl BackendType {
    /// The label the console shows.
    pub fn label(self) -> &'static str {
        match self {
            BackendType::Http => "HTTP/HTTPS",
            BackendType::Mock => "Mock",
            BackendType::Function => "Function",
        }
    }
}

/// A frontend parameter sent to the backend under another name or in another place.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MappingSpec {
    /// The frontend parameter's name.
    pub param: String,
    /// Its name at the backend.
    pub name: String,
    /// Where it travels to the backend.
    #[serde(rename = "in")]
    pub location: ParamLocation,
}

/// Where a constant goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConstantLocation {
    /// A header, e.g. a fixed `host`.
    #[default]
    Header,
    /// A query parameter.
    Query,
    /// A `{name}` segment of the backend path.
    Path,
    /// A field of the body: a form field, or a string field of a JSON object body.
    Form,
}

impl ConstantLocation {
    /// Every location, in the order the editor offers them.
    pub const ALL: [ConstantLocation; 4] =
        [ConstantLocation::Header, ConstantLocation::Query, ConstantLocation::Path, ConstantLocation::Form];

    /// The JSON name (also the word in error messages).
    pub fn as_str(self) -> &'static str {
        match self {
            ConstantLocation::Header => "header",
            ConstantLocation::Query => "query",
            ConstantLocation::Path => "path",
            ConstantLocation::Form => "form",
        }
    }

    /// Parses the JSON name.
    pub fn parse(raw: &str) -> Option<ConstantLocation> {
        ConstantLocation::ALL.into_iter().find(|l| l.as_str() == raw)
    }

    /// The parameter location whose naming rules apply (and whose mappings it may collide with).
    fn param_location(self) -> ParamLocation {
        match self {
            ConstantLocation::Header => ParamLocation::Header,
            ConstantLocation::Query => ParamLocation::Query,
            ConstantLocation::Path => ParamLocation::Path,
            ConstantLocation::Form => ParamLocation::Form,
        }
    }
}

/// A fixed value always sent to the backend.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ConstantSpec {
    /// Header, query, path segment or body field name.
    pub name: String,
    /// Where it goes.
    #[serde(rename = "in")]
    pub location: ConstantLocation,
    /// The value.
    pub value: String,
    /// Why it is there.
    pub description: String,
}

/// A value the gateway knows and can pass to the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemParam {
    /// The caller's IP address.
    #[default]
    ClientIp,
    /// The gateway's request id.
    RequestId,
    /// The calling app's AppKey (for `auth = app`).
    AppKey,
}

/// A system parameter sent to the backend as a header.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SystemParamSpec {
    /// Which value.
    pub param: SystemParam,
    /// The backend header that carries it.
    pub name: String,
}

/// The backend request: where and how the gateway calls the backend.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpBackendSpec {
    /// `http(s)://host[:port]`, or several weighted targets ([`crate::targets`]), when the
    /// API picks its own backend.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::targets::text_or_list::option")]
    pub address: Option<String>,
    /// A backend service's name instead of an address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Backend path template; the frontend path when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Backend method; the frontend method when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Backend timeout in ms; 10 s when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// The backend may be sent a request again whatever its method (a POST whose handler
    /// is idempotent, say): the gateway then reads the request body before the first
    /// attempt (within the body limit and buffer budget), and a connection failure or a
    /// 502/503/504 from one target is retried on another with the same body. Off by default:
    /// otherwise only idempotent methods without a body are sent twice.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub retry_non_idempotent: bool,
    /// Renames and moves of frontend parameters.
    pub mapping: Vec<MappingSpec>,
    /// Fixed headers and query parameters.
    pub constants: Vec<ConstantSpec>,
    /// Gateway values sent as headers.
    pub system: Vec<SystemParamSpec>,
}

/// A header of a mock response.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HeaderSpec {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: String,
}

/// A fixed response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MockSpec {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: Vec<HeaderSpec>,
    /// Response body; a default JSON body when empty.
    pub body: String,
}

impl Default for MockSpec {
    fn default() -> MockSpec {
        MockSpec { status: 200, headers: Vec::new(), body: String::new() }
    }
}

/// User JavaScript (DESIGN.md, "Functions").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FunctionSpec {
    /// Source code exporting `default function handler(req)`.
    pub code: String,
    /// CPU-time limit per call in ms; 3 s when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// The backend configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BackendSpec {
    /// *Unified configuration at the time of releasing groups*: the target comes from the
    /// release; otherwise `type` decides.
    pub unified: bool,
    /// The API's own backend kind (when not unified).
    #[serde(rename = "type")]
    pub kind: BackendType,
    /// The backend request (also shapes unified HTTP releases).
    pub http: HttpBackendSpec,
    /// The mock response.
    pub mock: MockSpec,
    /// The function.
    pub function: FunctionSpec,
}

impl Default for BackendSpec {
    fn default() -> BackendSpec {
        BackendSpec {
            unified: true,
            kind: BackendType::Http,
            http: HttpBackendSpec::default(),
            mock: MockSpec::default(),
            function: FunctionSpec::default(),
        }
    }
}

impl BackendSpec {
    /// What the API List shows in its Backend column.
    pub fn summary(&self) -> &'static str {
        if self.unified {
            "Unified"
        } else {
            match self.kind {
                BackendType::Http => "HTTP",
                BackendType::Mock => "Mock",
                BackendType::Function => "Function",
            }
        }
    }
}

fn optional(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// What checking the backend parsed, kept in the [`ValidApi`](super::ValidApi).
#[derive(Debug, Default)]
pub(super) struct ParsedBackend {
    /// The backend path template, when it differs from the frontend path.
    pub path: Option<PathTemplate>,
    /// The backend method, when the API sets one.
    pub method: Option<HttpMethod>,
}

/// The backend's rules, one step each; every broken rule is recorded in `errors`.
pub(super) fn validate_backend(
    spec: &mut BackendSpec,
    params: &[ParamSpec],
    template: Option<&PathTemplate>,
    errors: &mut Errors,
) -> ParsedBackend {
    let declared = declared_params(params, template);
    let (unified, kind) = (spec.unified, spec.kind);
    let http = &mut spec.http;
    let method = check_target(http, unified, kind, errors);
    let targets = check_mapping(http, &declared, errors);
    let path = check_backend_path(http, &declared, template, errors);
    let constants = check_constants(http, &targets, &declared, path.as_ref().or(template), errors);
    check_system_params(http, &constants, errors);
    check_mock(&mut spec.mock, errors);
    check_function(&spec.function, unified, kind, errors);
    ParsedBackend { path, method }
}

/// Every name a caller's request can fill: declared parameters and path template segments.
fn declared_params(params: &[ParamSpec], template: Option<&PathTemplate>) -> HashSet<String> {
    params
        .iter()
        .map(|p| p.name.clone())
        .chain(template.into_iter().flat_map(|t| t.params().map(str::to_owned)))
        .collect()
}

/// Where the API's own HTTP backend is (an address or a backend service, not both), its
/// method (one method, not ANY) and its timeout.
fn check_target(
    http: &mut HttpBackendSpec,
    unified: bool,
    kind: BackendType,
    errors: &mut Errors,
) -> Option<HttpMethod> {
    http.address = match optional(&http.address) {
        Some(raw) => errors.check("backend.http.address", Targets::parse(raw)).map(|t| t.to_string()),
        None => None,
    };
    http.service = match optional(&http.service) {
        Some(raw) => errors.check("backend.http.service", names::param_name(raw)),
        None => None,
    };
    if http.address.is_some() && http.service.is_some() {
        errors.add("backend.http.service", "choose an address or a backend service, not both");
    }
    if !unified && kind == BackendType::Http && http.address.is_none() && http.service.is_none() && errors.is_empty() {
        errors.add("backend.http.address", "is required when the API uses its own HTTP/HTTPS backend");
    }
    let method = match optional(&http.method) {
        Some(raw) => match HttpMethod::parse(raw) {
            Ok(HttpMethod::Any) => {
                errors.add("backend.http.method", "the backend method must be a single method, not ANY");
                None
            }
            Ok(method) => Some(method),
            Err(message) => {
                errors.add("backend.http.method", message);
                None
            }
        },
        None => None,
    };
    http.method = method.map(|m| m.as_str().to_owned());
    if let Some(ms) = http.timeout_ms {
        errors.check("backend.http.timeout_ms", backend::timeout(ms, backend::TIMEOUT_MS));
    }
    method
}

/// Mapping: each declared frontend parameter at most once, to a valid, unique target.
/// Returns the targets as `(location, name)`.
fn check_mapping(
    http: &mut HttpBackendSpec,
    declared: &HashSet<String>,
    errors: &mut Errors,
) -> HashSet<(&'static str, String)> {
    let mut mapped_params = HashSet::new();
    let mut targets = HashSet::new();
    for (i, mapping) in http.mapping.iter_mut().enumerate() {
        let at = |field: &str| format!("backend.http.mapping[{i}].{field}");
        mapping.param = mapping.param.trim().to_owned();
        if !declared.contains(&mapping.param) {
            errors.add(at("param"), format!("`{}` is not a declared frontend parameter", mapping.param));
        } else if !mapped_params.insert(mapping.param.clone()) {
            errors.add(at("param"), format!("`{}` is mapped twice", mapping.param));
        }
        if let Some(name) = errors.check(at("name"), mapping.location.check_name(&mapping.name)) {
            if !targets.insert((mapping.location.as_str(), name.clone())) {
                errors.add(at("name"), format!("two parameters map to {} `{name}`", mapping.location.as_str()));
            }
            mapping.name = name;
        }
    }
    targets
}

/// Backend path: every `{x}` is a declared parameter or a mapping target in the path, and
/// every mapping into the path has its segment.
fn check_backend_path(
    http: &mut HttpBackendSpec,
    declared: &HashSet<String>,
    template: Option<&PathTemplate>,
    errors: &mut Errors,
) -> Option<PathTemplate> {
    let path_targets: HashSet<&str> = http
        .mapping
        .iter()
        .filter(|m| m.location == ParamLocation::Path)
        .map(|m| m.name.as_str())
        .chain(http.constants.iter().filter(|c| c.location == ConstantLocation::Path).map(|c| c.name.trim()))
        .collect();
    let backend_path = match optional(&http.path) {
        Some(raw) => errors.check("backend.http.path", PathTemplate::parse(raw)),
        None => None,
    };
    if let Some(path) = &backend_path {
        for name in path.params() {
            if !declared.contains(name) && !path_targets.contains(name) {
                errors.add(
                    "backend.http.path",
                    format!(
                        "`{{{name}}}` is neither a declared parameter, the target of a mapping nor a path constant"
                    ),
                );
            }
        }
    }
    let backend_path_params: HashSet<String> =
        backend_path.as_ref().or(template).map(|t| t.params().map(str::to_owned).collect()).unwrap_or_default();
    for (i, mapping) in http.mapping.iter().enumerate() {
        if mapping.location == ParamLocation::Path && !backend_path_params.contains(&mapping.name) {
            errors.add(
                format!("backend.http.mapping[{i}].name"),
                format!("the backend path has no `{{{}}}` segment", mapping.name),
            );
        }
    }
    http.path = backend_path.as_ref().map(|p| p.as_str().to_owned());
    backend_path
}

/// Constants: valid, unique, and not fighting a mapping or a caller's value for the same
/// place; a path constant needs its `{name}` segment in the backend path. Returns them as
/// `(location, name)`.
fn check_constants(
    http: &mut HttpBackendSpec,
    targets: &HashSet<(&'static str, String)>,
    declared: &HashSet<String>,
    backend_path: Option<&PathTemplate>,
    errors: &mut Errors,
) -> HashSet<(&'static str, String)> {
    let mut constants = HashSet::new();
    for (i, constant) in http.constants.iter_mut().enumerate() {
        let at = |field: &str| format!("backend.http.constants[{i}].{field}");
        let location = constant.location.as_str();
        if let Some(name) = errors.check(at("name"), constant.location.param_location().check_name(&constant.name)) {
            if !constants.insert((location, name.clone())) {
                errors.add(at("name"), format!("{location} `{name}` is set twice"));
            } else if targets.contains(&(location, name.clone())) {
                errors.add(at("name"), format!("{location} `{name}` is also the target of a mapping"));
            } else if constant.location == ConstantLocation::Path {
                if declared.contains(&name) {
                    errors.add(at("name"), format!("path `{{{name}}}` is also a request parameter: map one of them"));
                } else if !backend_path.is_some_and(|p| p.params().any(|p| p == name)) {
                    errors.add(at("name"), format!("the backend path has no `{{{name}}}` segment"));
                }
            }
            constant.name = name;
        }
        errors.check(at("value"), names::header_value(&constant.value));
        if constant.location == ConstantLocation::Path {
            let value = constant.value.as_str();
            if value.is_empty() || value == "." || value == ".." {
                errors
                    .add(at("value"), "a path constant needs a value that is a path segment (not empty, `.` or `..`)");
            }
        }
    }
    constants
}

/// System parameters: header names, each set once and not also a constant header.
fn check_system_params(http: &mut HttpBackendSpec, constants: &HashSet<(&'static str, String)>, errors: &mut Errors) {
    let mut system_names = HashSet::new();
    for (i, system) in http.system.iter_mut().enumerate() {
        let at = format!("backend.http.system[{i}].name");
        if let Some(name) = errors.check(at.clone(), names::header_name(&system.name)) {
            if !system_names.insert(name.clone()) || constants.contains(&("header", name.clone())) {
                errors.add(at, format!("header `{name}` is set twice"));
            }
            system.name = name;
        }
    }
}

/// The mock response: a real status, valid headers.
fn check_mock(mock: &mut MockSpec, errors: &mut Errors) {
    errors.check("backend.mock.status", backend::mock_status(mock.status));
    for (i, header) in mock.headers.iter_mut().enumerate() {
        if let Some(name) = errors.check(format!("backend.mock.headers[{i}].name"), names::header_name(&header.name)) {
            header.name = name;
        }
        errors.check(format!("backend.mock.headers[{i}].value"), names::header_value(&header.value));
    }
}

/// A Function backend has code; its time limit is within bounds.
fn check_function(function: &FunctionSpec, unified: bool, kind: BackendType, errors: &mut Errors) {
    if !unified && kind == BackendType::Function && function.code.trim().is_empty() {
        errors.add("backend.function.code", "is required for a Function backend");
    }
    if let Some(ms) = function.timeout_ms {
        errors.check("backend.function.timeout_ms", backend::timeout(ms, backend::FUNCTION_TIMEOUT_MS));
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{fields, pet_api};
    use super::*;

    #[test]
    fn backend_path_params_must_be_declared_or_mapped() {
        let mut spec = pet_api();
        spec.backend.http.path = Some("/v2/pet/{id}/{owner}".into());
        assert_eq!(fields(&spec), ["backend.http.path"]);
        let mut spec = pet_api();
        spec.backend.http.mapping.clear();
        assert_eq!(fields(&spec), ["backend.http.path"], "{{id}} is no longer mapped");
    }

    #[test]
    fn mappings_must_name_declared_params_once_and_fit_the_backend_path() {
        let mut spec = pet_api();
        spec.backend.http.mapping.push(MappingSpec {
            param: "nope".into(),
            name: "n".into(),
            location: ParamLocation::Query,
        });
        spec.backend.http.mapping.push(MappingSpec {
            param: "petId".into(),
            name: "pid".into(),
            location: ParamLocation::Query,
        });
        spec.backend.http.mapping.push(MappingSpec {
            param: "verbose".into(),
            name: "x".into(),
            location: ParamLocation::Path,
        });
        assert_eq!(
            fields(&spec),
            ["backend.http.mapping[1].param", "backend.http.mapping[2].param", "backend.http.mapping[3].name"]
        );
    }

    #[test]
    fn constants_must_be_unique_and_not_fight_mappings() {
        let mut spec = pet_api();
        spec.backend.http.mapping.push(MappingSpec {
            param: "verbose".into(),
            name: "v".into(),
            location: ParamLocation::Query,
        });
        spec.backend.http.constants.push(ConstantSpec { name: "HOST".into(), value: "x".into(), ..Default::default() });
        spec.backend.http.constants.push(ConstantSpec {
            name: "v".into(),
            location: ConstantLocation::Query,
            value: "1".into(),
            ..Default::default()
        });
        spec.backend.http.constants.push(ConstantSpec {
            name: "x-bad".into(),
            value: "a\nb".into(),
            ..Default::default()
        });
        assert_eq!(
            fields(&spec),
            ["backend.http.constants[1].name", "backend.http.constants[2].name", "backend.http.constants[3].value"]
        );
    }

    #[test]
    fn path_constants_fill_their_own_segment_and_form_constants_are_fields() {
        let constant = |name: &str, location, value: &str| ConstantSpec {
            name: name.into(),
            location,
            value: value.into(),
            description: "fixed".into(),
        };
        let mut spec = pet_api();
        spec.backend.http.path = Some("/v1/{tenant}/pets/{id}".into());
        spec.backend.http.constants.push(constant("tenant", ConstantLocation::Path, "acme"));
        spec.backend.http.constants.push(constant("source", ConstantLocation::Form, "gantry"));
        let valid = spec.validate().expect("a path constant fills {tenant}");
        assert_eq!(valid.backend.http.constants[1].location, ConstantLocation::Path);

        // No `{tenant}` segment without the constant.
        let mut without = spec.clone();
        without.backend.http.constants.remove(1);
        assert_eq!(fields(&without), ["backend.http.path"]);

        // A segment the path lacks, one the caller fills too, dot-segment and empty values, a
        // form field name that is not a name, and the same field twice.
        let mut bad = spec.clone();
        bad.backend.http.constants.push(constant("nowhere", ConstantLocation::Path, "x"));
        bad.backend.http.constants.push(constant("petId", ConstantLocation::Path, "1"));
        bad.backend.http.constants.push(constant("tenant", ConstantLocation::Path, "again"));
        bad.backend.http.constants.push(constant("source", ConstantLocation::Form, "twice"));
        bad.backend.http.constants.push(constant("a b", ConstantLocation::Form, "x"));
        assert_eq!(
            fields(&bad),
            [
                "backend.http.constants[3].name",
                "backend.http.constants[4].name",
                "backend.http.constants[5].name",
                "backend.http.constants[6].name",
                "backend.http.constants[7].name"
            ]
        );
        for value in ["", ".", ".."] {
            let mut dots = spec.clone();
            dots.backend.http.constants[1].value = value.into();
            assert_eq!(fields(&dots), ["backend.http.constants[1].value"], "{value:?}");
        }
        assert_eq!(ConstantLocation::parse("form"), Some(ConstantLocation::Form));
        assert_eq!(ConstantLocation::parse("body"), None);
    }

    #[test]
    fn own_backends_need_their_fields() {
        let mut spec = pet_api();
        spec.backend.unified = false;
        assert_eq!(fields(&spec), ["backend.http.address"]);
        spec.backend.http.address = Some("http://pets.internal:8080/".into());
        assert_eq!(spec.validate().expect("valid").backend.http.address.as_deref(), Some("http://pets.internal:8080"));
        spec.backend.http.service = Some("pets".into());
        assert_eq!(fields(&spec), ["backend.http.service"]);
        spec.backend.http.service = None;
        spec.backend.http.address = Some("pets.internal".into());
        assert_eq!(fields(&spec), ["backend.http.address"]);

        let mut spec = pet_api();
        spec.backend.unified = false;
        spec.backend.kind = BackendType::Function;
        assert_eq!(fields(&spec), ["backend.function.code"]);
        spec.backend.function.code = "export default function handler(req) { return {status: 200} }".into();
        spec.backend.function.timeout_ms = Some(60_000);
        assert_eq!(fields(&spec), ["backend.function.timeout_ms"]);

        let mut spec = pet_api();
        spec.backend.unified = false;
        spec.backend.kind = BackendType::Mock;
        assert!(spec.validate().is_ok(), "mock needs nothing more");
        assert_eq!(spec.backend.summary(), "Mock");
    }

    #[test]
    fn backend_method_timeout_and_mock_headers() {
        let mut spec = pet_api();
        spec.backend.http.method = Some("ANY".into());
        spec.backend.http.timeout_ms = Some(0);
        spec.backend.mock.headers.push(HeaderSpec { name: "bad name".into(), value: "v".into() });
        assert_eq!(fields(&spec), ["backend.http.method", "backend.http.timeout_ms", "backend.mock.headers[0].name"]);
    }

    #[test]
    fn system_params_are_header_names_set_once() {
        let mut spec = pet_api();
        spec.backend.http.system.push(SystemParamSpec { param: SystemParam::ClientIp, name: "X-Client-IP".into() });
        spec.backend.http.system.push(SystemParamSpec { param: SystemParam::RequestId, name: "x-client-ip".into() });
        assert_eq!(fields(&spec), ["backend.http.system[1].name"]);
    }
}
