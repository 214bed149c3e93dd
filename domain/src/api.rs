//! The API definition as JSON (DESIGN.md, "Domain" and "Admin REST API") and its rules.
//!
//! [`ApiSpec`] is the wire shape the console, the REST API and the importer submit. Text
//! fields stay text so that a bad value is reported as a field error, not a JSON error;
//! [`ApiSpec::validate`] checks every rule through the typed parsers ([`PathTemplate`],
//! [`BackendAddress`], [`HttpMethod`], …), collects every broken rule with its JSON path, and
//! returns the normalised spec that is stored.

use crate::backend::{self, BackendAddress};
use crate::error::Errors;
use crate::names;
use crate::{FieldError, HttpMethod, PathTemplate};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

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

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamLocation {
    /// A `{name}` segment of the path.
    Path,
    /// The query string.
    #[default]
    Query,
    /// A request header.
    Header,
    /// A field of a form body (`application/x-www-form-urlencoded`).
    Form,
    /// A top-level field of a JSON body.
    Body,
}

impl ParamLocation {
    /// Every location.
    pub const ALL: [ParamLocation; 5] =
        [ParamLocation::Path, ParamLocation::Query, ParamLocation::Header, ParamLocation::Form, ParamLocation::Body];

    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamLocation::Path => "path",
            ParamLocation::Query => "query",
            ParamLocation::Header => "header",
            ParamLocation::Form => "form",
            ParamLocation::Body => "body",
        }
    }

    /// Parses the JSON name.
    pub fn parse(raw: &str) -> Option<ParamLocation> {
        ParamLocation::ALL.into_iter().find(|l| l.as_str() == raw)
    }

    fn check_name(self, raw: &str) -> Result<String, String> {
        match self {
            ParamLocation::Header => names::header_name(raw),
            _ => names::param_name(raw),
        }
    }
}

/// A parameter's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// Any text.
    #[default]
    String,
    /// A whole number (64-bit).
    Int,
    /// A decimal number.
    Number,
    /// `true` or `false`.
    Boolean,
}

impl ParamType {
    /// Every type.
    pub const ALL: [ParamType; 4] = [ParamType::String, ParamType::Int, ParamType::Number, ParamType::Boolean];

    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Int => "int",
            ParamType::Number => "number",
            ParamType::Boolean => "boolean",
        }
    }

    /// Parses the JSON name.
    pub fn parse(raw: &str) -> Option<ParamType> {
        ParamType::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    /// Checks that `value` is of this type; numbers come back as `f64` for range checks.
    pub fn check_value(self, value: &str) -> Result<Option<f64>, String> {
        match self {
            ParamType::String => Ok(None),
            ParamType::Int => value
                .trim()
                .parse::<i64>()
                .map(|v| Some(v as f64))
                .map_err(|_| format!("`{value}` is not a whole number")),
            ParamType::Number => value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(Some)
                .ok_or_else(|| format!("`{value}` is not a number")),
            ParamType::Boolean => match value.trim() {
                "true" | "false" => Ok(None),
                _ => Err(format!("`{value}` is not true or false")),
            },
        }
    }
}

/// Simple constraints on a parameter's value.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Constraints {
    /// Smallest allowed value (int and number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest allowed value (int and number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Longest allowed text, in characters (string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// The only allowed values, when not empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub enum_values: Vec<String>,
}

impl Constraints {
    /// Checks a value (already known to be of type `kind`) against the constraints.
    pub fn check_value(&self, kind: ParamType, value: &str) -> Result<(), String> {
        if !self.enum_values.is_empty() && !self.enum_values.iter().any(|v| v == value) {
            return Err(format!("`{value}` is not one of {}", self.enum_values.join(", ")));
        }
        if let Some(number) = kind.check_value(value)? {
            if self.min.is_some_and(|min| number < min) {
                return Err(format!("{value} is less than the minimum {}", self.min.unwrap_or_default()));
            }
            if self.max.is_some_and(|max| number > max) {
                return Err(format!("{value} is more than the maximum {}", self.max.unwrap_or_default()));
            }
        }
        if self.max_length.is_some_and(|max| value.chars().count() > max as usize) {
            return Err(format!("is longer than {} characters", self.max_length.unwrap_or_default()));
        }
        Ok(())
    }
}

/// A declared frontend parameter.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ParamSpec {
    /// Its name where it travels (header names are case-insensitive).
    pub name: String,
    /// Where it travels.
    #[serde(rename = "in")]
    pub location: ParamLocation,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// Whether a request without it is refused (path parameters always are).
    pub required: bool,
    /// Used when the caller leaves it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// For the docs and the debug form.
    pub description: String,
    /// Allowed values.
    pub constraints: Constraints,
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
    /// Declared parameters.
    pub params: Vec<ParamSpec>,
}

impl Default for RequestSpec {
    fn default() -> RequestSpec {
        RequestSpec { method: "GET".into(), path: String::new(), mode: RequestMode::Passthrough, params: Vec::new() }
    }
}

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
}

/// A fixed value always sent to the backend.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ConstantSpec {
    /// Header or query name.
    pub name: String,
    /// Header or query.
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
    /// `http(s)://host[:port]`, when the API picks its own backend.
    #[serde(skip_serializing_if = "Option::is_none")]
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
        HttpMethod::parse(&self.request.method).unwrap_or(HttpMethod::Any)
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

    /// Checks every rule; returns the normalised spec or every broken rule.
    pub fn validate(&self) -> Result<ApiSpec, Vec<FieldError>> {
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
        validate_params(&mut spec, template.as_ref(), method, &mut errors);
        validate_backend(&mut spec, template.as_ref(), &mut errors);
        if let Some(text) = errors.check("response.content_type", names::text(&self.response.content_type, 100)) {
            spec.response.content_type = text;
        }
        errors.finish(spec)
    }
}

fn validate_params(
    spec: &mut ApiSpec,
    template: Option<&PathTemplate>,
    method: Option<HttpMethod>,
    errors: &mut Errors,
) {
    let mut seen = HashSet::new();
    let mut has_form = None;
    let mut has_body = None;
    for (i, param) in spec.request.params.iter_mut().enumerate() {
        let at = |field: &str| format!("request.params[{i}].{field}");
        let Some(name) = errors.check(at("name"), param.location.check_name(&param.name)) else { continue };
        param.name = name.clone();
        if !seen.insert((param.location, name.clone())) {
            errors.add(at("name"), format!("`{name}` is declared twice in {}", param.location.as_str()));
        }
        match param.location {
            ParamLocation::Path => {
                if template.is_some_and(|t| !t.params().any(|p| p == name)) {
                    errors.add(at("name"), format!("`{name}` is not a `{{{name}}}` segment of the path"));
                }
                param.required = true;
            }
            ParamLocation::Form => has_form = has_form.or(Some(i)),
            ParamLocation::Body => has_body = has_body.or(Some(i)),
            ParamLocation::Query | ParamLocation::Header => {}
        }
        if matches!(param.location, ParamLocation::Form | ParamLocation::Body)
            && matches!(method, Some(HttpMethod::Get | HttpMethod::Head))
        {
            errors.add(at("in"), "GET and HEAD requests have no body: use query or header");
        }
        let c = &param.constraints;
        if (c.min.is_some() || c.max.is_some()) && !matches!(param.kind, ParamType::Int | ParamType::Number) {
            errors.add(at("constraints"), "min and max apply to int and number parameters");
        }
        if let (Some(min), Some(max)) = (c.min, c.max) {
            if min > max {
                errors.add(at("constraints.min"), "must not be greater than max");
            }
        }
        if c.max_length.is_some() && param.kind != ParamType::String {
            errors.add(at("constraints.max_length"), "applies to string parameters");
        }
        for value in &c.enum_values {
            if let Err(message) = param.kind.check_value(value) {
                errors.add(at("constraints.enum_values"), message);
            }
        }
        if let Some(default) = param.default.as_deref().filter(|d| !d.is_empty()) {
            let checked =
                param.kind.check_value(default).and_then(|_| param.constraints.check_value(param.kind, default));
            if let Err(message) = checked {
                errors.add(at("default"), message);
            }
        } else {
            param.default = None;
        }
        if let Err(message) = names::text(&param.description, 500) {
            errors.add(at("description"), message);
        }
    }
    if let (Some(_), Some(body)) = (has_form, has_body) {
        errors.add(format!("request.params[{body}].in"), "an API takes form or JSON body parameters, not both");
    }
}

fn optional(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn validate_backend(spec: &mut ApiSpec, template: Option<&PathTemplate>, errors: &mut Errors) {
    let declared: HashSet<String> = spec
        .request
        .params
        .iter()
        .map(|p| p.name.clone())
        .chain(template.into_iter().flat_map(|t| t.params().map(str::to_owned)))
        .collect();
    let (unified, kind) = (spec.backend.unified, spec.backend.kind);
    let http = &mut spec.backend.http;

    http.address = match optional(&http.address) {
        Some(raw) => errors.check("backend.http.address", BackendAddress::parse(raw)).map(|a| a.to_string()),
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
    http.method = match optional(&http.method) {
        Some(raw) => match HttpMethod::parse(raw) {
            Ok(HttpMethod::Any) => {
                errors.add("backend.http.method", "the backend method must be a single method, not ANY");
                None
            }
            Ok(method) => Some(method.as_str().to_owned()),
            Err(message) => {
                errors.add("backend.http.method", message);
                None
            }
        },
        None => None,
    };
    if let Some(ms) = http.timeout_ms {
        errors.check("backend.http.timeout_ms", backend::timeout(ms, backend::TIMEOUT_MS));
    }

    // Mapping: each declared frontend parameter at most once, to a valid, unique target.
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

    // Backend path: every `{x}` is a frontend parameter or a mapping target in the path.
    let path_targets: HashSet<&str> =
        http.mapping.iter().filter(|m| m.location == ParamLocation::Path).map(|m| m.name.as_str()).collect();
    let backend_path = match optional(&http.path) {
        Some(raw) => errors.check("backend.http.path", PathTemplate::parse(raw)),
        None => None,
    };
    if let Some(path) = &backend_path {
        for name in path.params() {
            if !declared.contains(name) && !path_targets.contains(name) {
                errors.add(
                    "backend.http.path",
                    format!("`{{{name}}}` is neither a declared parameter nor the target of a mapping"),
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
    http.path = backend_path.map(|p| p.as_str().to_owned());

    // Constants: valid, unique, and not fighting a mapping for the same place.
    let mut constants = HashSet::new();
    for (i, constant) in http.constants.iter_mut().enumerate() {
        let at = |field: &str| format!("backend.http.constants[{i}].{field}");
        let (location, check): (&str, fn(&str) -> Result<String, String>) = match constant.location {
            ConstantLocation::Header => ("header", names::header_name),
            ConstantLocation::Query => ("query", names::param_name),
        };
        if let Some(name) = errors.check(at("name"), check(&constant.name)) {
            if !constants.insert((location, name.clone())) {
                errors.add(at("name"), format!("{location} `{name}` is set twice"));
            } else if targets.contains(&(location, name.clone())) {
                errors.add(at("name"), format!("{location} `{name}` is also the target of a mapping"));
            }
            constant.name = name;
        }
        errors.check(at("value"), names::header_value(&constant.value));
    }
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

    let mock = &mut spec.backend.mock;
    errors.check("backend.mock.status", backend::mock_status(mock.status));
    for (i, header) in mock.headers.iter_mut().enumerate() {
        if let Some(name) = errors.check(format!("backend.mock.headers[{i}].name"), names::header_name(&header.name)) {
            header.name = name;
        }
        errors.check(format!("backend.mock.headers[{i}].value"), names::header_value(&header.value));
    }

    let function = &spec.backend.function;
    if !unified && kind == BackendType::Function && function.code.trim().is_empty() {
        errors.add("backend.function.code", "is required for a Function backend");
    }
    if let Some(ms) = function.timeout_ms {
        errors.check("backend.function.timeout_ms", backend::timeout(ms, backend::FUNCTION_TIMEOUT_MS));
    }
}

#[cfg(test)]
mod tests {
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

    use super::*;

    fn pet_api() -> ApiSpec {
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

    fn fields(spec: &ApiSpec) -> Vec<String> {
        spec.validate().expect_err("invalid").into_iter().map(|e| e.field).collect()
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
    fn path_params_must_be_in_the_template_and_unique() {
        let mut spec = pet_api();
        spec.request.params.push(ParamSpec {
            name: "other".into(),
            location: ParamLocation::Path,
            ..Default::default()
        });
        spec.request.params.push(ParamSpec {
            name: "verbose".into(),
            location: ParamLocation::Query,
            ..Default::default()
        });
        assert_eq!(fields(&spec), ["request.params[2].name", "request.params[3].name"]);
    }

    #[test]
    fn defaults_must_fit_type_and_constraints() {
        let mut spec = pet_api();
        spec.request.params[1].default = Some("maybe".into());
        assert_eq!(fields(&spec), ["request.params[1].default"]);
        let mut spec = pet_api();
        spec.request.params.push(ParamSpec {
            name: "limit".into(),
            kind: ParamType::Int,
            default: Some("500".into()),
            constraints: Constraints { min: Some(1.0), max: Some(100.0), ..Default::default() },
            ..Default::default()
        });
        assert_eq!(fields(&spec), ["request.params[2].default"]);
    }

    #[test]
    fn constraints_must_suit_the_type() {
        let mut spec = pet_api();
        spec.request.params[1].constraints.min = Some(1.0);
        spec.request.params[1].constraints.max_length = Some(10);
        assert_eq!(fields(&spec), ["request.params[1].constraints", "request.params[1].constraints.max_length"]);
        let mut spec = pet_api();
        spec.request.params[0].constraints = Constraints { min: Some(5.0), max: Some(1.0), ..Default::default() };
        assert_eq!(fields(&spec), ["request.params[0].constraints.min"]);
    }

    #[test]
    fn get_has_no_body_and_form_and_body_do_not_mix() {
        let mut spec = pet_api();
        spec.request.params.push(ParamSpec { name: "x".into(), location: ParamLocation::Form, ..Default::default() });
        assert_eq!(fields(&spec), ["request.params[2].in"]);
        spec.request.method = "POST".into();
        spec.request.params.push(ParamSpec { name: "y".into(), location: ParamLocation::Body, ..Default::default() });
        assert_eq!(fields(&spec), ["request.params[3].in"]);
    }

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
}
