//! Versions and releases: version labels, the backend a release picks for unified APIs, and
//! the field-level diff between two sets of APIs.

use crate::api::ApiSpec;
use crate::error::Errors;
use crate::{names, Environment, FieldError, Targets};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A version label that follows the rules: 1-32 of letters, digits, `.`, `_`, `-`, starting
/// with a letter or digit (`1.0.0`, `2026-11-rc1`). Only [`VersionLabel::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VersionLabel(String);

impl VersionLabel {
    /// Parses a label (surrounding spaces trimmed), naming the rule it breaks.
    pub fn parse(raw: &str) -> Result<VersionLabel, String> {
        let label = raw.trim();
        if label.is_empty() {
            return Err("is required".into());
        }
        if label.len() > 32 {
            return Err("must be at most 32 characters".into());
        }
        if !label.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
            return Err("must start with a letter or digit".into());
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            return Err("may contain only letters, digits, '.', '_' and '-'".into());
        }
        Ok(VersionLabel(label.to_owned()))
    }

    /// The label.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<VersionLabel> for String {
    fn from(label: VersionLabel) -> String {
        label.0
    }
}

impl std::fmt::Display for VersionLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new version, as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct VersionSpec {
    /// Unique in the group, e.g. `1.0.0`.
    pub label: String,
    /// What changed.
    pub description: String,
}

impl VersionSpec {
    /// Checks the label and description.
    pub fn validate(&self) -> Result<VersionSpec, Vec<FieldError>> {
        let mut errors = Errors::default();
        let label = errors.check("label", VersionLabel::parse(&self.label).map(String::from));
        let description = errors.check("description", names::text(&self.description, 500));
        match (label, description) {
            (Some(label), Some(description)) => errors.finish(VersionSpec { label, description }),
            _ => errors.finish(self.clone()),
        }
    }
}

/// Where a release sends the APIs under unified configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum DeployBackend {
    /// Each API answers with its mock response.
    Mock,
    /// An HTTP/HTTPS address (`http(s)://host[:port]`) or several weighted targets.
    Http {
        /// The address, or the targets' canonical text ([`crate::targets`]).
        #[serde(with = "crate::targets::text_or_list")]
        address: String,
    },
    /// A backend service's URL for the environment.
    Service {
        /// The service's name.
        service: String,
    },
}

impl DeployBackend {
    /// Checks the address of an HTTP backend; field errors are under `backend.`.
    pub fn validate(&self) -> Result<DeployBackend, Vec<FieldError>> {
        match self {
            DeployBackend::Http { address } => Targets::parse(address)
                .map(|t| DeployBackend::Http { address: t.to_string() })
                .map_err(|m| vec![FieldError::new("backend.address", m)]),
            DeployBackend::Service { service } => names::param_name(service)
                .map(|service| DeployBackend::Service { service })
                .map_err(|m| vec![FieldError::new("backend.service", m)]),
            DeployBackend::Mock => Ok(DeployBackend::Mock),
        }
    }

    /// How the console shows it.
    pub fn describe(&self) -> String {
        match self {
            DeployBackend::Mock => "Mock".into(),
            DeployBackend::Http { address } => address.clone(),
            DeployBackend::Service { service } => format!("service {service}"),
        }
    }
}

/// A release or switch, as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseSpec {
    /// The label of the version to make live.
    pub version: String,
    /// Where unified APIs go.
    pub backend: DeployBackend,
    /// Why.
    #[serde(default)]
    pub note: String,
}

/// A release of one API (`POST /groups/{group}/apis/{id}/release/{env}`): a new version made
/// of what is live in the environment with this API's draft in place of its live copy.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ApiReleaseSpec {
    /// The new version's label; empty or absent for `{live}-api{id}`.
    pub label: Option<String>,
    /// Where unified APIs go; absent for the live deployment's backend (required when
    /// nothing is live there).
    pub backend: Option<DeployBackend>,
    /// Why.
    pub note: String,
}

/// A release of the draft: frozen into a new version first, then made live, as one step
/// (the console's "Release" with a new version; `POST /groups/{group}/deployments/{env}/draft`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftReleaseSpec {
    /// The new version.
    pub version: VersionSpec,
    /// Where unified APIs go.
    pub backend: DeployBackend,
    /// Why.
    #[serde(default)]
    pub note: String,
}

/// What is live in one environment: the version and its APIs (the Debug API and the docs
/// pick from these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveVersion {
    /// Where.
    pub environment: Environment,
    /// The live version's label.
    pub version: String,
    /// Its APIs.
    pub apis: Vec<VersionApi>,
}

/// One API of a version: its stable id and definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionApi {
    /// The draft API's id.
    pub id: i32,
    /// Its definition when frozen.
    pub spec: ApiSpec,
}

/// One changed field: its JSON path, and its value before and after (JSON text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// JSON path, e.g. `backend.mock.body`.
    pub field: String,
    /// Before (JSON), absent when the field is new.
    pub old: Option<String>,
    /// After (JSON), absent when the field is gone.
    pub new: Option<String>,
}

/// An API present on both sides with different definitions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiChange {
    /// API id.
    pub id: i32,
    /// Its name (after).
    pub name: String,
    /// The fields that differ.
    pub fields: Vec<FieldChange>,
}

/// What one side adds, removes and changes relative to the other.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Diff {
    /// `(id, name)` of APIs only on the new side.
    pub added: Vec<(i32, String)>,
    /// `(id, name)` of APIs only on the old side.
    pub removed: Vec<(i32, String)>,
    /// APIs on both sides that differ.
    pub changed: Vec<ApiChange>,
}

impl Diff {
    /// Whether the sides are the same.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// `+added ~changed -removed`, for lists.
    pub fn summary(&self) -> String {
        format!("+{} ~{} -{}", self.added.len(), self.changed.len(), self.removed.len())
    }

    /// Compares two sets of APIs by id, field by field.
    pub fn between(old: &[VersionApi], new: &[VersionApi]) -> Diff {
        let old_by_id: BTreeMap<i32, &VersionApi> = old.iter().map(|a| (a.id, a)).collect();
        let new_by_id: BTreeMap<i32, &VersionApi> = new.iter().map(|a| (a.id, a)).collect();
        let mut diff = Diff::default();
        for (id, api) in &new_by_id {
            match old_by_id.get(id) {
                None => diff.added.push((*id, api.spec.name.clone())),
                Some(before) => {
                    let fields = field_changes(&before.spec, &api.spec);
                    if !fields.is_empty() {
                        diff.changed.push(ApiChange { id: *id, name: api.spec.name.clone(), fields });
                    }
                }
            }
        }
        for (id, api) in &old_by_id {
            if !new_by_id.contains_key(id) {
                diff.removed.push((*id, api.spec.name.clone()));
            }
        }
        diff
    }
}

fn flatten(prefix: String, value: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten(path, value, out);
            }
        }
        serde_json::Value::Array(items) if !items.is_empty() => {
            for (i, value) in items.iter().enumerate() {
                flatten(format!("{prefix}[{i}]"), value, out);
            }
        }
        other => {
            out.insert(prefix, other.to_string());
        }
    }
}

/// The fields that differ between two definitions, by JSON path.
pub fn field_changes(old: &ApiSpec, new: &ApiSpec) -> Vec<FieldChange> {
    json_changes(&serde_json::to_value(old).unwrap_or_default(), &serde_json::to_value(new).unwrap_or_default())
}

/// The fields that differ between two JSON values, by JSON path (`null` on one side: every
/// field of the other is added or removed). The version diff and the audit log use it.
pub fn json_changes(old: &serde_json::Value, new: &serde_json::Value) -> Vec<FieldChange> {
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    if !old.is_null() {
        flatten(String::new(), old, &mut a);
    }
    if !new.is_null() {
        flatten(String::new(), new, &mut b);
    }
    let mut changes = Vec::new();
    for (field, value) in &b {
        if a.get(field) != Some(value) {
            changes.push(FieldChange { field: field.clone(), old: a.get(field).cloned(), new: Some(value.clone()) });
        }
    }
    for (field, value) in &a {
        if !b.contains_key(field) {
            changes.push(FieldChange { field: field.clone(), old: Some(value.clone()), new: None });
        }
    }
    changes.sort_by(|x, y| x.field.cmp(&y.field));
    changes
}

/// A version as the Version Modification List shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionView {
    /// Label.
    pub label: String,
    /// Description.
    pub description: String,
    /// SHA-256 of the frozen APIs.
    pub content_hash: String,
    /// The version it was frozen after (the group's previous newest), if any.
    pub base: Option<String>,
    /// When (RFC 3339).
    pub created_at: String,
    /// Who.
    pub created_by: String,
    /// How many APIs it has.
    pub api_count: usize,
    /// Environments it is live in.
    pub live_in: Vec<Environment>,
    /// What changed against `base` (everything added when there is none).
    pub changes: Diff,
    /// The APIs (only when one version is asked for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apis: Vec<VersionApi>,
}

/// What is live in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentView {
    /// Where.
    pub environment: Environment,
    /// Which version.
    pub version: String,
    /// Where unified APIs go.
    pub backend: DeployBackend,
    /// When (RFC 3339).
    pub released_at: String,
    /// Who.
    pub released_by: String,
    /// Why.
    pub note: String,
    /// APIs of the version that are off-line here, with the reason (a backend service
    /// without a URL in this environment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offline: Vec<OfflineApi>,
    /// In the answer to a release or switch: which live gateway nodes serve it already and
    /// which had not applied it when the wait ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<crate::cluster::Rollout>,
    /// The canary running beside it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanaryView>,
}

/// An API of a live version that does not serve, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineApi {
    /// The API's name.
    pub api: String,
    /// Why it is off-line.
    pub reason: String,
}

/// One entry of the deployment history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentEventView {
    /// `release`, `switch` or `offline`.
    pub action: String,
    /// Where.
    pub environment: Environment,
    /// The version live before, if any.
    pub from_version: Option<String>,
    /// The version live after, if any.
    pub to_version: Option<String>,
    /// The backend after, if any.
    pub backend: Option<DeployBackend>,
    /// Why.
    pub note: String,
    /// Who.
    pub actor: String,
    /// When (RFC 3339).
    pub at: String,
}

/// Which callers a canary takes: `{"app": "web"}`, `{"header": {"name": "x-canary", "value":
/// "1"}}` or `{"ip": "10.0.0.0/8"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CanaryMatch {
    /// Calls that name this app (its AppKey in `X-Ca-Key`, or its AppCode).
    App(String),
    /// Calls that carry this header with exactly this value.
    Header {
        /// The header's name (case-insensitive).
        name: String,
        /// Its value (exact).
        value: String,
    },
    /// Calls from this client address range.
    Ip(String),
}

/// A canary as Deployment Management shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanaryView {
    /// Where.
    pub environment: Environment,
    /// The canary's version.
    pub version: String,
    /// Where its unified APIs go.
    pub backend: DeployBackend,
    /// Its share, in percent.
    pub weight: f64,
    /// Who it takes.
    #[serde(rename = "match")]
    pub rule: Option<CanaryMatch>,
    /// Sticky routing.
    pub sticky: bool,
    /// Since when (RFC 3339).
    pub started_at: String,
    /// Who started or last changed it.
    pub started_by: String,
    /// Why.
    pub note: String,
}

/// Weights are finite (validated), so equality is total.
impl Eq for CanaryView {}

impl CanaryView {
    /// "10 % of callers", "callers of app web", … as the console shows it.
    pub fn describe(&self) -> String {
        let share = if self.weight >= 100.0 { String::new() } else { format!("{} % of ", self.weight) };
        let who = match &self.rule {
            None => "callers".to_owned(),
            Some(CanaryMatch::App(app)) => format!("callers of app {app}"),
            Some(CanaryMatch::Header { name, value }) => format!("callers sending {name}: {value}"),
            Some(CanaryMatch::Ip(range)) => format!("callers from {range}"),
        };
        let sticky = if self.sticky { ", sticky" } else { "" };
        format!("{share}{who}{sticky}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(id: i32, name: &str, body: &str) -> VersionApi {
        let mut spec: ApiSpec =
            serde_json::from_value(serde_json::json!({"name": name, "request": {"method": "GET", "path": "/x"}}))
                .expect("spec");
        spec.backend.mock.body = body.into();
        VersionApi { id, spec }
    }

    #[test]
    fn labels() {
        let version_label = |raw: &str| VersionLabel::parse(raw).map(String::from);
        assert_eq!(version_label(" 1.0.0 "), Ok("1.0.0".into()));
        assert_eq!(VersionLabel::parse("2026-11_rc.1").map(|l| l.to_string()), Ok("2026-11_rc.1".into()));
        assert_eq!(VersionLabel::parse("-1").map_err(|e| e.contains("start")), Err(true));
        assert!(version_label("").is_err());
        assert!(version_label(".1").is_err());
        assert!(version_label("1 0").is_err());
        assert!(version_label(&"1".repeat(33)).is_err());
    }

    #[test]
    fn backends_validate_their_address() {
        let http = DeployBackend::Http { address: "http://pets.internal:8080/".into() };
        assert_eq!(http.validate(), Ok(DeployBackend::Http { address: "http://pets.internal:8080".into() }));
        let bad = DeployBackend::Http { address: "pets.internal".into() };
        assert_eq!(bad.validate().expect_err("no scheme")[0].field, "backend.address");
        let json: DeployBackend = serde_json::from_str(r#"{"type": "mock"}"#).expect("mock");
        assert_eq!(json, DeployBackend::Mock);
    }

    #[test]
    fn diffs_name_added_removed_and_changed_fields() {
        let old = vec![api(1, "a", "one"), api(2, "b", "")];
        let new = vec![api(1, "a", "two"), api(3, "c", "")];
        let diff = Diff::between(&old, &new);
        assert_eq!(diff.added, [(3, "c".to_owned())]);
        assert_eq!(diff.removed, [(2, "b".to_owned())]);
        assert_eq!(diff.changed.len(), 1);
        assert_eq!(diff.changed[0].fields[0].field, "backend.mock.body");
        assert_eq!(diff.changed[0].fields[0].old.as_deref(), Some("\"one\""));
        assert_eq!(diff.changed[0].fields[0].new.as_deref(), Some("\"two\""));
        assert_eq!(diff.summary(), "+1 ~1 -1");
        assert!(Diff::between(&new, &new).is_empty());
    }
}
