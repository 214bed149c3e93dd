//! OpenAPI 3.1 export and OpenAPI 3.0/3.1 import.
//!
//! Export describes a group's draft, a version, or what is live in an environment: one
//! operation per API with its parameters, request body, response examples and security
//! (AppCode and the X-Ca signature), servers per environment, and the complete Gantry
//! definition in `x-gantry-api`, so that export → import into another group gives the same
//! APIs. Import reads JSON or YAML; operations with `x-gantry-api` come back exactly, others
//! are translated, and every construct Gantry cannot represent is listed, never dropped
//! silently. A dry run reports what would be added, overwritten and skipped.

use crate::releases::draft_apis;
use crate::users::Action;
use crate::{Control, ControlError, CurrentUser};
use domain::api::{
    ApiSpec, AppCodeLocation, AuthType, Clashes, Constraints, ParamLocation, ParamSpec, ParamType, ValidApi,
};
pub use domain::import::{ImportItem, ImportReport, Skipped};
use domain::release::VersionApi;
use domain::Environment;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// What to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The working draft.
    Draft,
    /// A version, by label.
    Version(String),
    /// What is live in an environment.
    Live(Environment),
}

impl Source {
    /// `draft`, `version:<label>`, or an environment (`test`, `pre`, `prod`).
    pub fn parse(raw: &str) -> Result<Source, ControlError> {
        match raw.trim() {
            "" | "draft" => Ok(Source::Draft),
            other => match other.strip_prefix("version:") {
                Some(label) => Ok(Source::Version(label.to_owned())),
                None => other
                    .parse()
                    .map(Source::Live)
                    .map_err(|_| ControlError::field("source", "must be draft, version:<label>, test, pre or prod")),
            },
        }
    }
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn schema_type(kind: ParamType) -> &'static str {
    match kind {
        ParamType::String => "string",
        ParamType::Int => "integer",
        ParamType::Number => "number",
        ParamType::Boolean => "boolean",
    }
}

fn param_schema(param: &ParamSpec) -> Value {
    let mut schema = Map::new();
    schema.insert("type".into(), json!(schema_type(param.kind)));
    let c = &param.constraints;
    if let Some(min) = c.min {
        schema.insert("minimum".into(), json!(min));
    }
    if let Some(max) = c.max {
        schema.insert("maximum".into(), json!(max));
    }
    if let Some(len) = c.max_length {
        schema.insert("maxLength".into(), json!(len));
    }
    if !c.enum_values.is_empty() {
        schema.insert("enum".into(), json!(c.enum_values));
    }
    if let Some(default) = &param.default {
        schema.insert("default".into(), json!(default));
    }
    Value::Object(schema)
}

/// An operation id from an API's name: letters and digits, words joined in camelCase.
pub fn operation_id(name: &str) -> String {
    let mut out = String::new();
    for (i, word) in name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).enumerate() {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            if i == 0 {
                out.push(first.to_ascii_lowercase());
            } else {
                out.push(first.to_ascii_uppercase());
            }
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "api");
    }
    out
}

/// The OpenAPI operation of one API.
fn operation(spec: &ApiSpec) -> Value {
    let mut op = Map::new();
    op.insert("operationId".into(), json!(operation_id(&spec.name)));
    op.insert("summary".into(), json!(spec.name));
    if !spec.description.is_empty() {
        op.insert("description".into(), json!(spec.description));
    }
    let mut parameters = Vec::new();
    let mut body: Vec<&ParamSpec> = Vec::new();
    for param in &spec.request.params {
        match param.location {
            ParamLocation::Form | ParamLocation::Body => body.push(param),
            location => parameters.push(json!({
                "name": param.name,
                "in": location.as_str(),
                "required": param.required || location == ParamLocation::Path,
                "description": param.description,
                "schema": param_schema(param),
            })),
        }
    }
    op.insert("parameters".into(), Value::Array(parameters));
    if !body.is_empty() {
        let media = if body.iter().any(|p| p.location == ParamLocation::Form) {
            "application/x-www-form-urlencoded"
        } else {
            "application/json"
        };
        let properties: Map<String, Value> = body.iter().map(|p| (p.name.clone(), param_schema(p))).collect();
        let required: Vec<&str> = body.iter().filter(|p| p.required).map(|p| p.name.as_str()).collect();
        op.insert(
            "requestBody".into(),
            json!({"content": {media: {"schema": {"type": "object", "properties": properties, "required": required}}}}),
        );
    }
    let content_type =
        if spec.response.content_type.is_empty() { "application/json" } else { &spec.response.content_type };
    let example = |text: &str| -> Value {
        serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.to_owned()))
    };
    let mut success = json!({"description": "Success"});
    if !spec.response.success_example.is_empty() {
        success["content"] = json!({content_type: {"example": example(&spec.response.success_example)}});
    }
    let mut failure = json!({"description": "Error: `{code, message, request_id}` with X-Ca-Error-Code"});
    if !spec.response.error_example.is_empty() {
        failure["content"] = json!({content_type: {"example": example(&spec.response.error_example)}});
    }
    op.insert("responses".into(), json!({"200": success, "default": failure}));
    let security = match spec.auth {
        AuthType::App if spec.appcode == AppCodeLocation::HeaderAndQuery => {
            json!([{"AppCode": []}, {"AppCodeQuery": []}, {"XCaSignature": []}])
        }
        AuthType::App => json!([{"AppCode": []}, {"XCaSignature": []}]),
        AuthType::None => json!([]),
    };
    op.insert("security".into(), security);
    op.insert("x-gantry-api".into(), serde_json::to_value(spec).unwrap_or(Value::Null));
    Value::Object(op)
}

impl Control {
    pub(crate) async fn source_apis(
        &self,
        group: &str,
        source: &Source,
    ) -> Result<(String, Vec<VersionApi>), ControlError> {
        let found = self.find_group(group).await?;
        match source {
            Source::Draft => Ok(("draft".into(), draft_apis(self.db(), found.id).await?)),
            Source::Version(label) => {
                let version = self.get_version(group, label).await?;
                Ok((version.label, version.apis))
            }
            Source::Live(env) => {
                let live = self.list_deployments(group).await?;
                let deployment = live.into_iter().find(|d| d.environment == *env).ok_or_else(|| {
                    ControlError::field("source", format!("group `{group}` has nothing released in {}", env.label()))
                })?;
                let version = self.get_version(group, &deployment.version).await?;
                Ok((version.label, version.apis))
            }
        }
    }

    /// The group's base URL on the gateway (`http://{subdomain}.{base_domain}[:port]`).
    pub(crate) fn group_url(&self, subdomain: &str) -> String {
        let port = self.gateway_addr.map(|a| a.port()).filter(|p| *p != 80);
        format!("http://{subdomain}.{}{}", self.base_domain, port.map(|p| format!(":{p}")).unwrap_or_default())
    }

    /// The group's address on the HTTPS listener (port 443 left out).
    pub(crate) fn group_https_url(&self, subdomain: &str) -> String {
        let port = self.gateway_tls_addr.map(|a| a.port()).unwrap_or(8443);
        let port = if port == 443 { String::new() } else { format!(":{port}") };
        format!("https://{subdomain}.{}{port}", self.base_domain)
    }

    /// The OpenAPI 3.1 document of a group's draft, version or live version.
    pub async fn export_openapi(&self, group: &str, source: &Source) -> Result<Value, ControlError> {
        let found = self.find_group(group).await?;
        let (label, apis) = self.source_apis(group, source).await?;
        let base = self.group_url(&found.subdomain);
        let servers: Vec<Value> = Environment::ALL
            .into_iter()
            .map(|env| {
                json!({"url": base, "description": format!("{} (send X-Ca-Stage: {})", env.label(), env.stage()),
                       "x-gantry-stage": env.stage()})
            })
            .collect();
        let mut paths = Map::new();
        for api in &apis {
            let method = api.spec.request.method.to_ascii_lowercase();
            let method = if method == "any" { "get".to_owned() } else { method };
            let entry = paths.entry(api.spec.request.path.clone()).or_insert_with(|| json!({}));
            entry[method.as_str()] = operation(&api.spec);
        }
        Ok(json!({
            "openapi": "3.1.0",
            "info": {"title": found.name, "version": label, "description": found.description},
            "servers": servers,
            "paths": paths,
            "components": {"securitySchemes": {
                "AppCode": {"type": "apiKey", "in": "header", "name": "Authorization",
                            "description": "`APPCODE <app code>` of an app authorized for the API in the environment"},
                "AppCodeQuery": {"type": "apiKey", "in": "query", "name": "AppCode",
                                 "description": "the app code as `?AppCode=` (APIs that accept it there; never passed to the backend)"},
                "XCaSignature": {"type": "apiKey", "in": "header", "name": "X-Ca-Signature",
                                 "description": "HMAC signature with X-Ca-Key, X-Ca-Timestamp, X-Ca-Nonce, X-Ca-Signature-Method and X-Ca-Signature-Headers (Alibaba Cloud API Gateway compatible)"},
            }},
            "x-gantry-group": {"name": found.name, "subdomain": found.subdomain},
        }))
    }

    /// Imports an OpenAPI 3.0/3.1 document (JSON or YAML) into the group's draft; with
    /// `dry_run` nothing changes and the report says what would happen.
    pub async fn import_openapi(
        &self,
        group: &str,
        text: &str,
        dry_run: bool,
        actor: &CurrentUser,
    ) -> Result<ImportReport, ControlError> {
        actor.require(Action::EditGroup(group))?;
        let found = self.find_group(group).await?;
        let document = parse_document(text)?;
        let version = document.get("openapi").and_then(Value::as_str).unwrap_or("");
        if !(version.starts_with("3.0") || version.starts_with("3.1")) {
            return Err(ControlError::field("document", "must be an OpenAPI 3.0 or 3.1 document (`openapi: 3.x`)"));
        }
        let mut report = ImportReport::default();
        let planned = plan(&document, &mut report);
        let draft = draft_apis(self.db(), found.id).await?;
        // The draft looked up by name, by route as written, and by what clashes (a scan of
        // the draft per operation made an import quadratic: `domain::api::clashes`).
        let mut by_name: HashMap<&str, usize> = HashMap::new();
        let mut by_route: HashMap<(&str, &str), usize> = HashMap::new();
        let mut draft_clashes: Clashes<usize> = Clashes::new();
        for (index, api) in draft.iter().enumerate() {
            by_name.entry(&api.spec.name).or_insert(index);
            by_route.entry((&api.spec.request.method, &api.spec.request.path)).or_insert(index);
            draft_clashes.add(index, &api.spec.name, api.spec.method(), &api.spec.request.path);
        }
        let mut actions: Vec<(Option<i32>, ValidApi)> = Vec::new();
        let mut action_clashes: Clashes<usize> = Clashes::new();
        // Draft APIs already overwritten, and by which action: a second operation that would
        // overwrite the same one (one by name, one by method and path) is skipped.
        let mut overwritten: HashMap<usize, usize> = HashMap::new();
        for (operation, spec) in planned {
            let spec = match spec.validate() {
                Ok(spec) => spec,
                Err(errors) => {
                    let reason =
                        errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
                    report.skip.push(Skipped { operation, reason });
                    continue;
                }
            };
            // The draft API it overwrites: the first with its name or its method and path.
            let existing = [
                by_name.get(spec.name.as_str()),
                by_route.get(&(spec.request.method.as_str(), spec.request.path.as_str())),
            ]
            .into_iter()
            .flatten()
            .min()
            .copied();
            // Conflicts are found here, so the dry run shows them and the import applies all
            // it listed or nothing: with another API of this document, or with a draft API
            // that this one does not overwrite.
            if let Some((index, &action)) = existing.and_then(|index| Some((index, overwritten.get(&index)?))) {
                let (api, by) = (&draft[index].spec, actions[action].1.spec());
                report.skip.push(Skipped {
                    operation,
                    reason: format!(
                        "would overwrite API `{}` ({} {}), which `{}` ({} {}) earlier in the document overwrites",
                        api.name, api.request.method, api.request.path, by.name, by.request.method, by.request.path
                    ),
                });
                continue;
            }
            let (name, method, path) = (&spec.name, spec.method(), &spec.request.path);
            let clash = match action_clashes.first(name, method, path, None) {
                Some(action) => Some(actions[action].1.spec()),
                None => draft_clashes.first(name, method, path, existing).map(|index| &draft[index].spec),
            };
            if let Some(other) = clash {
                report.skip.push(Skipped {
                    operation,
                    reason: format!(
                        "conflicts with API `{}` ({} {}): same name, or both would match the same requests",
                        other.name, other.request.method, other.request.path
                    ),
                });
                continue;
            }
            let item = ImportItem {
                name: spec.name.clone(),
                route: format!("{} {}", spec.request.method, spec.request.path),
                details: details(&spec),
                warnings: existing.map(|index| weakens(&draft[index].spec, &spec)).unwrap_or_default(),
            };
            action_clashes.add(actions.len(), &spec.name, spec.method(), &spec.request.path);
            if let Some(index) = existing {
                overwritten.insert(index, actions.len());
            }
            match existing {
                Some(index) => {
                    report.overwrite.push(item);
                    actions.push((Some(draft[index].id), spec));
                }
                None => {
                    report.add.push(item);
                    actions.push((None, spec));
                }
            }
        }
        // Function code is checked before anything is written, by dry runs too.
        for (_, spec) in &actions {
            crate::apis::check_function_code(spec).map_err(|error| named(spec, error))?;
        }
        if dry_run {
            return Ok(report);
        }
        // All or nothing: one transaction, and the first API that does not fit (a name or
        // route another API of the draft or of this document has) refuses the whole import.
        // They are checked together against the draft as the transaction sees it (another
        // writer may have changed it since the plan), reading it once.
        let txn = self.begin_write().await?;
        let writes: Vec<(Option<i32>, &ApiSpec)> = actions.iter().map(|(id, spec)| (*id, spec.spec())).collect();
        if let Err((at, error)) = crate::apis::check_apis_fit(&txn, found.id, &writes).await {
            return Err(match at.and_then(|at| actions.get(at)) {
                Some((_, spec)) => named(spec, error),
                None => error,
            });
        }
        for (id, spec) in &actions {
            let fit = crate::apis::Fit::CheckedTogether;
            let done = match id {
                Some(id) => crate::apis::replace_api(&txn, &found, *id, spec, actor, fit).await.map(|_| ()),
                None => crate::apis::insert_api(&txn, &found, spec, actor, fit).await.map(|_| ()),
            };
            done.map_err(|error| named(spec, error))?;
        }
        txn.commit().await?;
        report.applied = true;
        Ok(report)
    }
}

/// The largest document an import reads, in bytes.
pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;
/// The most values (mappings, sequences, scalars) a YAML document may make, aliases
/// expanded: far more than a real API description has, far less than an alias bomb makes.
pub const MAX_IMPORT_NODES: usize = 200_000;
/// The deepest nesting an imported document may have.
pub const MAX_IMPORT_DEPTH: usize = 64;

/// Parses an untrusted JSON or YAML document within limits of size, depth and (for YAML)
/// the values its aliases may expand to, so that a small document cannot make a huge value
/// (a "billion laughs" alias bomb). A refused document is a 422 naming the limit.
pub fn parse_document(text: &str) -> Result<Value, ControlError> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(ControlError::field(
            "document",
            format!("is {} bytes; an import may be at most {MAX_IMPORT_BYTES} bytes", text.len()),
        ));
    }
    // serde_json refuses nesting deeper than 128 by itself; JSON has no aliases.
    if let Ok(document) = serde_json::from_str::<Value>(text) {
        return Ok(document);
    }
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_nodes: MAX_IMPORT_NODES,
            max_depth: MAX_IMPORT_DEPTH,
            max_documents: 1,
            max_total_scalar_bytes: MAX_IMPORT_BYTES,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_IMPORT_NODES,
            max_replay_stack_depth: 16,
        },
    };
    serde_saphyr::from_str_with_options::<Value>(text, options).map_err(|error| {
        let message = error.to_string();
        let limit = if message.contains("budget") || message.contains("limit") || message.contains("exceed") {
            format!(
                " (an import may make at most {MAX_IMPORT_NODES} values, aliases expanded, nested at most \
                 {MAX_IMPORT_DEPTH} deep)"
            )
        } else {
            String::new()
        };
        let first = message.lines().next().unwrap_or_default();
        ControlError::field("document", format!("is neither JSON nor YAML within limits: {first}{limit}"))
    })
}

/// An error of one imported API, saying which and that nothing was imported.
fn named(spec: &ApiSpec, error: ControlError) -> ControlError {
    let route = format!("{} {}", spec.request.method, spec.request.path);
    match error {
        ControlError::Validation(errors) => ControlError::Validation(
            errors
                .into_iter()
                .map(|e| {
                    domain::FieldError::new(
                        "document",
                        format!("`{route}` ({}): {}; nothing was imported", e.field, e.message),
                    )
                })
                .collect(),
        ),
        ControlError::Conflict(message) => {
            ControlError::Conflict(format!("`{route}`: {message}; nothing was imported"))
        }
        other => other,
    }
}

/// What an imported API decides beyond its shape: who may call it and where its requests go.
fn details(spec: &ApiSpec) -> Vec<String> {
    let backend = &spec.backend;
    let target = if backend.unified {
        "backend: as chosen at release".to_owned()
    } else {
        match backend.kind {
            domain::api::BackendType::Mock => "backend: mock".to_owned(),
            domain::api::BackendType::Function => {
                format!("backend: function, {} bytes of code", backend.function.code.len())
            }
            domain::api::BackendType::Http => match (&backend.http.service, &backend.http.address) {
                (Some(service), _) => format!("backend: service `{service}`"),
                (None, Some(address)) => format!("backend: {address}"),
                (None, None) => "backend: HTTP".to_owned(),
            },
        }
    };
    let auth = match spec.auth {
        AuthType::App => "auth: app",
        AuthType::None => "auth: none (anyone may call it)",
    };
    vec![auth.to_owned(), target]
}

/// What overwriting `before` with `after` would weaken or replace.
fn weakens(before: &ApiSpec, after: &ApiSpec) -> Vec<String> {
    let mut warnings = Vec::new();
    if before.auth == AuthType::App && after.auth == AuthType::None {
        warnings.push("drops app authentication: anyone could call it".to_owned());
    }
    let (old, new) = (details(before).pop(), details(after).pop());
    if old != new {
        warnings.push(format!(
            "replaces the backend ({} → {})",
            old.unwrap_or_default().trim_start_matches("backend: "),
            new.unwrap_or_default().trim_start_matches("backend: ")
        ));
    }
    warnings
}

/// Follows a local `$ref` (`#/components/...`).
fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    let mut current = value;
    for _ in 0..8 {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else { return current };
        let Some(pointer) = reference.strip_prefix('#') else { return current };
        match document.pointer(pointer) {
            Some(target) => current = target,
            None => return current,
        }
    }
    current
}

/// A parameter type and constraints from a schema; `None` when the schema is not a scalar.
fn scalar(schema: &Value) -> Option<(ParamType, Constraints, Option<String>)> {
    let kind = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("string"),
        _ => "string",
    };
    let kind = match kind {
        "string" => ParamType::String,
        "integer" => ParamType::Int,
        "number" => ParamType::Number,
        "boolean" => ParamType::Boolean,
        _ => return None,
    };
    let constraints = Constraints {
        min: schema.get("minimum").and_then(Value::as_f64),
        max: schema.get("maximum").and_then(Value::as_f64),
        max_length: schema.get("maxLength").and_then(Value::as_u64).map(|n| n as u32),
        enum_values: schema
            .get("enum")
            .and_then(Value::as_array)
            .map(|values| {
                values
                    .iter()
                    .filter(|v| !v.is_null())
                    .map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let default = schema.get("default").map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()));
    Some((kind, constraints, default))
}

/// Translates every operation into a spec (or takes its `x-gantry-api`), noting what is lost.
fn plan(document: &Value, report: &mut ImportReport) -> Vec<(String, ApiSpec)> {
    let mut out = Vec::new();
    let note = |report: &mut ImportReport, text: String| report.unsupported.push(text);
    let global_security = document.get("security").and_then(Value::as_array).is_some_and(|s| !s.is_empty());
    if document.get("webhooks").is_some_and(|w| w.as_object().is_some_and(|o| !o.is_empty())) {
        note(report, "webhooks: not imported (Gantry serves requests, it does not send them)".into());
    }
    if let Some(servers) = document.get("servers").and_then(Value::as_array) {
        if !servers.is_empty() && document.get("x-gantry-group").is_none() {
            note(
                report,
                format!(
                    "servers ({}): not imported; backends are chosen at release or in Advanced Configuration",
                    servers.len()
                ),
            );
        }
    }
    let Some(paths) = document.get("paths").and_then(Value::as_object) else { return out };
    for (path, item) in paths {
        let item = resolve(document, item);
        let shared: Vec<Value> = item.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
        if item.get("servers").is_some() {
            note(report, format!("{path}: path-level servers are not imported"));
        }
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let label = format!("{} {path}", method.to_ascii_uppercase());
            if method == "trace" {
                report.skip.push(Skipped { operation: label, reason: "TRACE is not a method Gantry routes".into() });
                continue;
            }
            if let Some(own) = op.get("x-gantry-api") {
                match serde_json::from_value::<ApiSpec>(own.clone()) {
                    Ok(spec) => out.push((label, spec)),
                    Err(e) => report.skip.push(Skipped { operation: label, reason: format!("x-gantry-api: {e}") }),
                }
                continue;
            }
            let name = op
                .get("summary")
                .or_else(|| op.get("operationId"))
                .and_then(Value::as_str)
                .map(|s| s.chars().take(64).collect::<String>())
                .unwrap_or_else(|| label.clone());
            let mut spec = ApiSpec { name, ..Default::default() };
            spec.description = op.get("description").and_then(Value::as_str).unwrap_or("").chars().take(500).collect();
            spec.request.method = method.to_ascii_uppercase();
            spec.request.path = path.clone();
            // Parameters: the operation's override the path item's of the same name and place.
            let mut params: Vec<&Value> = Vec::new();
            let own: Vec<Value> = op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
            for raw in own.iter().chain(shared.iter()) {
                let p = resolve(document, raw);
                let key = (p.get("name"), p.get("in"));
                if !params.iter().any(|q| (q.get("name"), q.get("in")) == key) {
                    params.push(p);
                }
            }
            for p in params {
                let pname = p.get("name").and_then(Value::as_str).unwrap_or("").to_owned();
                let location = match p.get("in").and_then(Value::as_str) {
                    Some("path") => ParamLocation::Path,
                    Some("query") => ParamLocation::Query,
                    Some("header") => ParamLocation::Header,
                    Some(other) => {
                        note(report, format!("{label}: {other} parameter `{pname}` is not supported and was left out"));
                        continue;
                    }
                    None => continue,
                };
                let schema =
                    p.get("schema").map(|s| resolve(document, s)).cloned().unwrap_or(json!({"type": "string"}));
                let (kind, constraints, default) = scalar(&schema).unwrap_or_else(|| {
                    note(report, format!("{label}: parameter `{pname}` has a non-scalar schema; imported as a string"));
                    (ParamType::String, Constraints::default(), None)
                });
                if p.get("style").is_some() || p.get("explode").is_some() || p.get("content").is_some() {
                    note(report, format!("{label}: parameter `{pname}`: style/explode/content are not kept"));
                }
                spec.request.params.push(ParamSpec {
                    name: pname,
                    location,
                    kind,
                    required: p.get("required").and_then(Value::as_bool).unwrap_or(false)
                        || location == ParamLocation::Path,
                    default,
                    description: p.get("description").and_then(Value::as_str).unwrap_or("").chars().take(500).collect(),
                    constraints,
                });
            }
            if let Some(body) = op.get("requestBody").map(|b| resolve(document, b)) {
                let content = body.get("content").and_then(Value::as_object).cloned().unwrap_or_default();
                let chosen = ["application/json", "application/x-www-form-urlencoded"]
                    .into_iter()
                    .find(|m| content.contains_key(*m));
                for media in content.keys().filter(|m| Some(m.as_str()) != chosen) {
                    note(
                        report,
                        format!("{label}: request body `{media}` is not described (the body still passes through)"),
                    );
                }
                if let Some(media) = chosen {
                    let location = if media == "application/json" { ParamLocation::Body } else { ParamLocation::Form };
                    let schema =
                        content[media].get("schema").map(|s| resolve(document, s)).cloned().unwrap_or(Value::Null);
                    let required: Vec<&str> = schema
                        .get("required")
                        .and_then(Value::as_array)
                        .map(|r| r.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    match schema.get("properties").and_then(Value::as_object) {
                        Some(properties) => {
                            for (field, property) in properties {
                                let property = resolve(document, property);
                                let (kind, constraints, default) = scalar(property).unwrap_or_else(|| {
                                    note(report, format!("{label}: body field `{field}` is an object or array; declared as a string, not validated"));
                                    (ParamType::String, Constraints::default(), None)
                                });
                                spec.request.params.push(ParamSpec {
                                    name: field.clone(),
                                    location,
                                    kind,
                                    required: required.contains(&field.as_str()),
                                    default,
                                    description: property
                                        .get("description")
                                        .and_then(Value::as_str)
                                        .unwrap_or("")
                                        .chars()
                                        .take(500)
                                        .collect(),
                                    constraints,
                                });
                            }
                        }
                        None if !schema.is_null() => {
                            note(report, format!("{label}: the {media} body is not an object with properties; it passes through undeclared"));
                        }
                        None => {}
                    }
                }
            }
            if let Some(responses) = op.get("responses").and_then(Value::as_object) {
                let success = responses.iter().find(|(code, _)| code.starts_with('2'));
                let status = success.and_then(|(code, _)| code.parse::<u16>().ok()).filter(|s| (200..300).contains(s));
                let success = success.map(|(_, r)| resolve(document, r));
                if let Some((media, content)) =
                    success.and_then(|r| r.get("content")).and_then(Value::as_object).and_then(|c| c.iter().next())
                {
                    spec.response.content_type = media.clone();
                    let example = content.get("example").or_else(|| {
                        content
                            .get("examples")
                            .and_then(Value::as_object)
                            .and_then(|e| e.values().next())
                            .and_then(|e| resolve(document, e).get("value"))
                    });
                    if let Some(example) = example {
                        let text = example
                            .as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| serde_json::to_string_pretty(example).unwrap_or_default());
                        spec.response.success_example = text.clone();
                        // The Mock answers with the example, its status and media type: an
                        // imported group released with Mock is a usable mock server at once.
                        spec.backend.mock.body = text;
                        spec.backend.mock.status = status.unwrap_or(200);
                        if domain::names::header_value(media).is_ok() && media.len() <= 200 {
                            spec.backend
                                .mock
                                .headers
                                .push(domain::api::HeaderSpec { name: "Content-Type".into(), value: media.clone() });
                        }
                    }
                }
            }
            if op.get("callbacks").is_some() {
                note(report, format!("{label}: callbacks are not supported"));
            }
            let security =
                op.get("security").and_then(Value::as_array).map(|s| !s.is_empty()).unwrap_or(global_security);
            if security {
                spec.auth = AuthType::App;
                note(
                    report,
                    format!("{label}: its security requirement became app authentication (AppCode or X-Ca signature)"),
                );
            }
            out.push((label, spec));
        }
    }
    out
}

#[cfg(test)]
mod tests {

    /// A "billion laughs" document: nine levels of nine aliases make 9^9 values from 1 KB.
    fn alias_bomb() -> String {
        let mut yaml = String::from("openapi: 3.0.0\na0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n");
        for level in 1..10 {
            let previous = format!("*a{}", level - 1);
            yaml.push_str(&format!("a{level}: &a{level} [{}]\n", vec![previous; 9].join(", ")));
        }
        yaml
    }

    #[test]
    fn an_alias_bomb_is_refused_naming_the_limit() {
        let started = std::time::Instant::now();
        let error = parse_document(&alias_bomb()).expect_err("refused");
        let message = error.to_string();
        assert!(message.contains("document") && message.contains("200000 values"), "{message}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "refused at once, not after expanding");
    }

    #[test]
    fn documents_too_large_or_too_deep_are_refused() {
        let large = format!("openapi: 3.0.0\nx: \"{}\"\n", "a".repeat(MAX_IMPORT_BYTES));
        assert!(parse_document(&large).expect_err("too large").to_string().contains("at most 2097152 bytes"));
        let deep = format!("openapi: 3.0.0\nx: {}1{}\n", "[".repeat(100), "]".repeat(100));
        assert!(parse_document(&deep).is_err(), "100 levels deep");
        let fine = "openapi: 3.0.0\ninfo: &i {title: t}\nx: *i\n";
        assert_eq!(parse_document(fine).expect("a small alias is fine")["x"]["title"], "t");
    }
    use super::*;

    #[test]
    fn operation_ids_are_identifiers() {
        assert_eq!(operation_id("Get pet by id"), "getPetById");
        assert_eq!(operation_id("42 things"), "api42Things");
        assert_eq!(operation_id("--"), "api");
    }

    #[test]
    fn translated_operations_keep_parameters_and_list_what_is_lost() {
        let document = json!({
            "openapi": "3.0.3",
            "components": {"parameters": {"Limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}}},
            "paths": {"/pets/{petId}": {
                "parameters": [{"name": "petId", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "get": {"summary": "Get pet", "parameters": [{"$ref": "#/components/parameters/Limit"},
                        {"name": "session", "in": "cookie"}], "security": [{"key": []}]},
                "trace": {"summary": "Trace"},
            }},
        });
        let mut report = ImportReport::default();
        let planned = plan(&document, &mut report);
        assert_eq!(planned.len(), 1);
        let spec = &planned[0].1;
        assert_eq!((spec.name.as_str(), spec.auth), ("Get pet", AuthType::App));
        let params: Vec<_> = spec.request.params.iter().map(|p| (p.name.as_str(), p.location, p.kind)).collect();
        assert_eq!(
            params,
            [("limit", ParamLocation::Query, ParamType::Int), ("petId", ParamLocation::Path, ParamType::Int)]
        );
        assert_eq!(spec.request.params[0].constraints.max, Some(100.0));
        assert!(
            report.unsupported.iter().any(|u| u.contains("cookie parameter `session`")),
            "{:?}",
            report.unsupported
        );
        assert_eq!(report.skip[0].operation, "TRACE /pets/{petId}");
    }

    #[test]
    fn an_operations_example_becomes_its_mock_answer_and_a_hostile_media_type_is_left_out() {
        let document = json!({
            "openapi": "3.1.0",
            "paths": {
                "/pets": {"post": {"summary": "Add pet", "responses": {
                    "201": {"description": "made", "content": {"application/json": {"example": {"id": 7, "name": "Rex"}}}}}}},
                "/ping": {"get": {"summary": "Ping", "responses": {
                    "200": {"description": "ok", "content": {"text/plain\r\nx-evil: 1": {"example": "pong"}}}}}},
                "/bare": {"get": {"summary": "Bare", "responses": {"204": {"description": "none"}}}},
            },
        });
        let planned = plan(&document, &mut ImportReport::default());
        let by_name = |name: &str| planned.iter().map(|(_, s)| s).find(|s| s.name == name).expect(name).clone();
        let pet = by_name("Add pet");
        assert_eq!(pet.backend.mock.status, 201);
        assert_eq!(
            serde_json::from_str::<Value>(&pet.backend.mock.body).expect("json"),
            json!({"id": 7, "name": "Rex"})
        );
        assert_eq!(pet.backend.mock.headers.len(), 1);
        assert_eq!(
            (pet.backend.mock.headers[0].name.as_str(), pet.backend.mock.headers[0].value.as_str()),
            ("Content-Type", "application/json")
        );
        assert!(pet.clone().validate().is_ok(), "the imported mock is a valid definition");
        // A media type that could not be a header value is not made one; the API still imports.
        let ping = by_name("Ping");
        assert_eq!(ping.backend.mock.body, "pong");
        assert!(ping.backend.mock.headers.is_empty());
        assert!(ping.validate().is_ok());
        // No example: the default mock stays.
        let bare = by_name("Bare");
        assert_eq!((bare.backend.mock.body.as_str(), bare.backend.mock.status), ("", 200));
    }
}
