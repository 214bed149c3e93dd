//! Declarative configuration: **export** what Gantry holds as one document with every
//! collection keyed by name (so it is sorted and stable, and a diff names things, not
//! positions), **diff** a document against what Gantry holds now, and **apply** one in a
//! single transaction ([`apply`]).
//!
//! The document: groups (subdomain, description, custom domains, the draft's APIs, version
//! labels, what is live per environment), backend services (URL per environment), policies
//! (configuration and bindings) and apps (metadata and authorizations; AppKey, AppSecret and
//! AppCode only when asked for). Serialised as YAML by the edges; its JSON Schema is
//! [`schema`].
//!
//! A document written with `--group G` says `scope: G`: diff and apply then leave every other
//! group alone (backend services, policies and apps are always whole).

mod apply;

pub use apply::{ApplyScope, ConfigApplied};

use crate::{Control, ControlError};
use domain::api::ApiSpec;
use domain::release::{DeployBackend, FieldChange};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The format's version, the document's first key.
pub const FORMAT: u32 = 1;

/// Everything Gantry is configured with.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigDocument {
    /// The format's version ([`FORMAT`]).
    pub gantry: u32,
    /// The one group this document describes (`export --group`); absent: every group, and
    /// applying it deletes the groups it does not have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default)]
    pub groups: BTreeMap<String, GroupConfig>,
    #[serde(default)]
    pub backend_services: BTreeMap<String, ServiceConfig>,
    #[serde(default)]
    pub policies: BTreeMap<String, PolicyConfig>,
    #[serde(default)]
    pub apps: BTreeMap<String, AppConfig>,
}

/// One group.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    pub subdomain: String,
    #[serde(default)]
    pub description: String,
    /// Custom domains: host → the environment it is pinned to (`null`: by `X-Ca-Stage`).
    #[serde(default)]
    pub domains: BTreeMap<String, Option<String>>,
    /// The draft's APIs by name.
    #[serde(default)]
    pub apis: BTreeMap<String, ApiSpec>,
    /// Version labels, oldest first.
    #[serde(default)]
    pub versions: Vec<String>,
    /// What is live: environment (`test`, `pre`, `prod`) → version and backend.
    #[serde(default)]
    pub deployments: BTreeMap<String, DeploymentConfig>,
}

/// What one environment serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentConfig {
    pub version: String,
    pub backend: DeployBackend,
    #[serde(default)]
    pub note: String,
}

/// One backend service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub description: String,
    /// Environment → URL (one address, or a list of weighted targets).
    #[serde(default, with = "domain::targets::text_or_list::map")]
    pub urls: BTreeMap<String, String>,
}

/// One policy and where it is bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub description: String,
    pub config: serde_json::Value,
    /// Sorted by group, API (absent: the whole group) and environment.
    #[serde(default)]
    pub bindings: Vec<BindingConfig>,
}

/// A policy on a group or one of its APIs in one environment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingConfig {
    pub group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    pub environment: String,
}

/// One app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    #[serde(default)]
    pub description: String,
    pub enabled: bool,
    /// Sorted by group, API and environment.
    #[serde(default)]
    pub authorizations: Vec<AuthorizationConfig>,
    /// Only with `--with-secrets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Credentials>,
}

/// An app may call an API of a group in an environment (until `expires_at`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationConfig {
    pub group: String,
    pub api: String,
    pub environment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// An app's credentials (secrets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub app_key: String,
    pub app_secret: String,
    pub app_code: String,
}

/// What to export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportOptions {
    /// Only this group (and the services, policies and apps it uses are still all listed).
    pub group: Option<String>,
    /// Include apps' AppKey, AppSecret and AppCode.
    pub with_secrets: bool,
}

/// What a document would change: one line per field, by JSON path
/// (`groups.petstore.apis.Hello.backend.mock.body`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigDiff {
    pub different: bool,
    pub changes: Vec<FieldChange>,
}

impl Control {
    /// Everything Gantry holds, as a document (`gantry config export`).
    pub async fn export_config(&self, options: &ExportOptions) -> Result<ConfigDocument, ControlError> {
        let mut document = ConfigDocument { gantry: FORMAT, scope: options.group.clone(), ..Default::default() };
        for group in self.list_groups().await? {
            if options.group.as_ref().is_some_and(|only| *only != group.name) {
                continue;
            }
            let mut config = GroupConfig {
                subdomain: group.subdomain.clone(),
                description: group.description.clone(),
                ..Default::default()
            };
            for domain in self.list_domains(&group.name).await? {
                config.domains.insert(domain.host, domain.environment.map(|e| e.as_str().to_owned()));
            }
            for api in self.draft_apis(&group.name).await? {
                config.apis.insert(api.spec.name.clone(), api.spec);
            }
            let mut versions = self.list_versions(&group.name).await?;
            versions.reverse();
            config.versions = versions.into_iter().map(|v| v.label).collect();
            for live in self.list_deployments(&group.name).await? {
                let deployment = DeploymentConfig { version: live.version, backend: live.backend, note: live.note };
                config.deployments.insert(live.environment.as_str().to_owned(), deployment);
            }
            document.groups.insert(group.name, config);
        }
        for service in self.list_services().await? {
            let urls =
                service.environments.iter().filter_map(|e| Some((e.env.as_str().to_owned(), e.url.clone()?))).collect();
            let kind =
                serde_json::to_value(service.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            document
                .backend_services
                .insert(service.name, ServiceConfig { kind, description: service.description, urls });
        }
        for policy in self.list_policies().await? {
            let mut bindings: Vec<BindingConfig> = policy
                .bindings
                .iter()
                .map(|b| BindingConfig {
                    group: b.group.clone(),
                    api: b.api_name.clone(),
                    environment: b.env.as_str().to_owned(),
                })
                .collect();
            bindings.sort();
            let kind =
                serde_json::to_value(policy.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            let config = PolicyConfig { kind, description: policy.description, config: policy.config, bindings };
            document.policies.insert(policy.name, config);
        }
        for app in self.list_apps().await? {
            let mut authorizations: Vec<AuthorizationConfig> = self
                .list_authorizations(&app.name)
                .await?
                .into_iter()
                .map(|a| AuthorizationConfig {
                    group: a.group,
                    api: a.api_name,
                    environment: a.env.as_str().to_owned(),
                    expires_at: a.expires_at,
                })
                .collect();
            authorizations.sort();
            let credentials = if options.with_secrets {
                let full = self.get_app(&app.name, true).await?;
                Some(Credentials {
                    app_key: full.app_key,
                    app_secret: full.app_secret.unwrap_or_default(),
                    app_code: full.app_code.unwrap_or_default(),
                })
            } else {
                None
            };
            let config = AppConfig { description: app.description, enabled: app.enabled, authorizations, credentials };
            document.apps.insert(app.name, config);
        }
        Ok(document)
    }

    /// What `document` would change against what Gantry holds now (`gantry config diff`): the
    /// export of the same scope compared field by field. Secrets are compared only when the
    /// document carries them.
    pub async fn diff_config(&self, document: &ConfigDocument) -> Result<ConfigDiff, ControlError> {
        if document.gantry != FORMAT {
            return Err(ControlError::field("gantry", format!("must be {FORMAT}, the format this Gantry reads")));
        }
        let with_secrets = document.apps.values().any(|a| a.credentials.is_some());
        let current = self.export_config(&ExportOptions { group: document.scope.clone(), with_secrets }).await?;
        let as_json = |d: &ConfigDocument| serde_json::to_value(d).map_err(|e| ControlError::Internal(e.to_string()));
        let changes = domain::release::json_changes(&as_json(&current)?, &as_json(document)?);
        Ok(ConfigDiff { different: !changes.is_empty(), changes })
    }
}

/// The JSON Schema of the document (`gantry config schema`).
pub fn schema() -> serde_json::Value {
    use serde_json::json;
    let env = json!({"enum": ["test", "pre", "prod"]});
    let strict = |properties: serde_json::Value, required: &[&str]| json!({"type": "object", "additionalProperties": false, "required": required, "properties": properties});
    let named = |value: serde_json::Value| json!({"type": "object", "additionalProperties": value});
    // One address, or several weighted targets (as a list, or as text: `url weight=N, …`).
    let address = json!({"oneOf": [
        {"type": "string"},
        {"type": "array", "minItems": 1, "maxItems": domain::targets::MAX_TARGETS, "items": strict(
            json!({"url": {"type": "string"}, "weight": {"type": "integer", "minimum": 1, "maximum": domain::targets::MAX_WEIGHT},
                   "max_conns": {"type": "integer", "minimum": 1, "maximum": domain::targets::MAX_CONNS}}),
            &["url"],
        )}
    ]});
    let backend = json!({
        "oneOf": [
            {"type": "object", "required": ["type"], "properties": {"type": {"const": "mock"}}},
            {"type": "object", "required": ["type", "address"], "properties": {"type": {"const": "http"}, "address": address.clone()}},
            {"type": "object", "required": ["type", "service"], "properties": {"type": {"const": "service"}, "service": {"type": "string"}}}
        ]
    });
    let deployment = strict(
        json!({"version": {"type": "string"}, "backend": backend, "note": {"type": "string"}}),
        &["version", "backend"],
    );
    let group = strict(
        json!({
            "subdomain": {"type": "string"},
            "description": {"type": "string"},
            "domains": named(json!({"oneOf": [env.clone(), {"type": "null"}]})),
            "apis": named(json!({"type": "object", "description": "an API as the admin REST API takes it (name, request, backend, …)"})),
            "versions": {"type": "array", "items": {"type": "string"}},
            "deployments": {"type": "object", "additionalProperties": false, "properties": {"test": deployment.clone(), "pre": deployment.clone(), "prod": deployment}}
        }),
        &["subdomain"],
    );
    let service = strict(
        json!({"type": {"enum": ["http", "mock"]}, "description": {"type": "string"}, "urls": {"type": "object", "additionalProperties": false, "properties": {"test": address.clone(), "pre": address.clone(), "prod": address}}}),
        &["type"],
    );
    let binding = strict(
        json!({"group": {"type": "string"}, "api": {"type": "string"}, "environment": env.clone()}),
        &["group", "environment"],
    );
    let policy = strict(
        json!({"type": {"enum": ["throttling", "ip_access", "cors"]}, "description": {"type": "string"}, "config": {"type": "object"}, "bindings": {"type": "array", "items": binding}}),
        &["type", "config"],
    );
    let authorization = strict(
        json!({"group": {"type": "string"}, "api": {"type": "string"}, "environment": env, "expires_at": {"type": "string", "format": "date-time"}}),
        &["group", "api", "environment"],
    );
    let credentials = strict(
        json!({"app_key": {"type": "string"}, "app_secret": {"type": "string"}, "app_code": {"type": "string"}}),
        &["app_key", "app_secret", "app_code"],
    );
    let app = strict(
        json!({"description": {"type": "string"}, "enabled": {"type": "boolean"}, "authorizations": {"type": "array", "items": authorization}, "credentials": credentials}),
        &["enabled"],
    );
    let mut document = strict(
        json!({
            "gantry": {"const": FORMAT},
            "scope": {"type": "string", "description": "the one group the file describes (export --group); other groups are left alone"},
            "groups": named(group),
            "backend_services": named(service),
            "policies": named(policy),
            "apps": named(app)
        }),
        &["gantry"],
    );
    document["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    document["title"] = json!("Gantry configuration");
    document
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    use serde_json::json;

    fn from<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
        serde_json::from_value(value).expect("spec")
    }

    /// A group with an API, two versions, one live; a service; a bound policy; an authorized app.
    async fn populated() -> (Control, tempfile::TempDir) {
        let (control, dir) = testing::control().await;
        let admin = testing::admin();
        control.create_group(&from(json!({"name": "petstore", "subdomain": "pets"})), &admin).await.expect("group");
        let api = control
            .create_api(
                "petstore",
                &from(json!({"name": "Hello", "request": {"method": "GET", "path": "/hello"}})),
                &admin,
            )
            .await
            .expect("api");
        control.create_version("petstore", &from(json!({"label": "1.0.0"})), &admin).await.expect("v1");
        control.create_version("petstore", &from(json!({"label": "1.1.0"})), &admin).await.expect("v2");
        let release = domain::release::ReleaseSpec {
            version: "1.0.0".into(),
            backend: DeployBackend::Mock,
            note: "first".into(),
        };
        control.release("petstore", domain::Environment::Test, &release, &admin).await.expect("release");
        control.create_service(&from(json!({"name": "orders", "type": "http"})), &admin).await.expect("service");
        let url = from(json!({"url": "http://127.0.0.1:9001"}));
        control.set_service_url("orders", domain::Environment::Test, &url, &admin).await.expect("url");
        let policy = json!({"name": "slow", "type": "throttling", "config": {"unit": "minute", "api_limit": 10}});
        control.create_policy(&from(policy), &admin).await.expect("policy");
        control.bind_policy("slow", &from(json!({"group": "petstore", "env": "test"})), &admin).await.expect("bind");
        control.create_app(&from(json!({"name": "web"})), &admin).await.expect("app");
        let grant = json!({"group": "petstore", "apis": [api.id], "env": "test"});
        control.authorize("web", &from(grant), &admin).await.expect("authorize");
        (control, dir)
    }

    #[tokio::test]
    async fn the_export_holds_everything_by_name_and_secrets_only_when_asked() {
        let (control, _dir) = populated().await;
        let document = control.export_config(&ExportOptions::default()).await.expect("export");
        let group = &document.groups["petstore"];
        assert_eq!(group.subdomain, "pets");
        assert_eq!(group.apis["Hello"].request.path, "/hello");
        assert_eq!(group.versions, ["1.0.0", "1.1.0"]);
        assert_eq!(group.deployments["test"].version, "1.0.0");
        assert_eq!(document.backend_services["orders"].urls["test"], "http://127.0.0.1:9001");
        assert_eq!(
            document.policies["slow"].bindings,
            [BindingConfig { group: "petstore".into(), api: None, environment: "test".into() }]
        );
        assert_eq!(document.apps["web"].authorizations[0].api, "Hello");
        assert!(document.apps["web"].credentials.is_none());
        let secret = control.get_app("web", true).await.expect("app").app_secret.expect("secret");
        assert!(!serde_json::to_string(&document).expect("json").contains(&secret), "no secret by default");
        let with = control.export_config(&ExportOptions { group: None, with_secrets: true }).await.expect("export");
        assert_eq!(with.apps["web"].credentials.as_ref().map(|c| c.app_secret.clone()), Some(secret));
        let only = control.export_config(&ExportOptions { group: Some("nosuch".into()), with_secrets: false }).await;
        assert!(only.expect("export").groups.is_empty());
        // Every top-level key the export writes is in the schema, which refuses others.
        let schema = schema();
        for key in serde_json::to_value(&document).expect("json").as_object().expect("object").keys() {
            assert!(schema["properties"].get(key).is_some(), "{key} in the schema");
        }
        assert_eq!(schema["additionalProperties"], json!(false));
    }

    #[tokio::test]
    async fn a_diff_names_each_changed_field_and_an_unchanged_file_has_none() {
        let (control, _dir) = populated().await;
        let mut document = control.export_config(&ExportOptions::default()).await.expect("export");
        assert_eq!(
            control.diff_config(&document).await.expect("diff"),
            ConfigDiff { different: false, changes: vec![] }
        );
        document.groups.get_mut("petstore").expect("group").description = "now described".into();
        document.backend_services.remove("orders");
        let diff = control.diff_config(&document).await.expect("diff");
        assert!(diff.different);
        let fields: Vec<_> = diff.changes.iter().map(|c| c.field.as_str()).collect();
        assert!(fields.contains(&"groups.petstore.description"), "{fields:?}");
        assert!(fields.iter().any(|f| f.starts_with("backend_services.orders")), "{fields:?}");
        document.gantry = 2;
        let refused = control.diff_config(&document).await.expect_err("format");
        assert!(refused.to_string().contains("gantry"), "{refused}");
    }

    /// How many APIs the gateway serves on petstore's Test.
    fn served(control: &Control) -> Option<usize> {
        let snapshot = control.snapshots().current();
        let host = snapshot.host("pets.localhost")?;
        host.group.deployment(domain::Environment::Test).map(|d| d.api_count())
    }

    fn json_of(document: &ConfigDocument) -> String {
        serde_json::to_string_pretty(document).expect("json")
    }

    async fn audit_count(control: &Control) -> u64 {
        use sea_orm::{EntityTrait, PaginatorTrait};
        crate::entity::audit_event::Entity::find().count(control.pool()).await.expect("count")
    }

    #[tokio::test]
    async fn export_then_apply_on_an_empty_instance_exports_the_same_document() {
        let (source, _a) = populated().await;
        // An expiring authorization and a disabled app travel too.
        let grant = json!({"group": "petstore", "apis": [source.draft_ids("petstore").await.expect("ids")["Hello"]],
            "env": "pre", "expires_at": "2031-05-01T00:00:00Z"});
        source.authorize("web", &from(grant), &testing::admin()).await.expect("authorize");
        source.create_app(&from(json!({"name": "old"})), &testing::admin()).await.expect("app");
        let off = domain::app::AppPatch { enabled: Some(false), ..Default::default() };
        source.update_app("old", &off, &testing::admin()).await.expect("disable");
        for with_secrets in [false, true] {
            let options = ExportOptions { group: None, with_secrets };
            let exported = source.export_config(&options).await.expect("export");
            let (target, _b) = testing::control().await;
            let applied = target.apply_config(&exported, &testing::admin()).await.expect("apply");
            assert!(applied.applied && !applied.changes.is_empty());
            let again = target.export_config(&options).await.expect("export again");
            assert_eq!(json_of(&again), json_of(&exported), "with_secrets: {with_secrets}");
            // What is live is served at once: the group's Test deployment is in the snapshot.
            assert_eq!(served(&target), Some(1), "the gateway serves the applied release");
            // A second apply finds nothing to do and writes nothing.
            let before = audit_count(&target).await;
            let second = target.apply_config(&exported, &testing::admin()).await.expect("apply again");
            assert!(!second.applied && second.changes.is_empty());
            assert_eq!(audit_count(&target).await, before);
        }
    }

    #[tokio::test]
    async fn a_file_refused_partway_changes_nothing() {
        let (control, _dir) = populated().await;
        let original = control.export_config(&ExportOptions::default()).await.expect("export");
        let revision = control.config_revision().await.expect("revision");
        let audits = audit_count(&control).await;
        let mut document = original.clone();
        let group = document.groups.get_mut("petstore").expect("group");
        // Early steps that would succeed: a description, a new API, a new service.
        group.description = "changed".into();
        let mut extra = group.apis["Hello"].clone();
        extra.name = "Extra".into();
        extra.request.path = "/extra".into();
        group.apis.insert("Extra".into(), extra);
        group.versions.push("2.0.0".into());
        document.backend_services.insert(
            "billing".into(),
            ServiceConfig { kind: "http".into(), description: String::new(), urls: BTreeMap::new() },
        );
        // A late step that fails: Pre-release serves a version that does not exist.
        let missing = DeploymentConfig { version: "9.9.9".into(), backend: DeployBackend::Mock, note: String::new() };
        document.groups.get_mut("petstore").expect("group").deployments.insert("pre".into(), missing);
        let refused = control.apply_config(&document, &testing::admin()).await.expect_err("refused");
        assert!(refused.to_string().contains("groups.petstore.deployments.pre"), "{refused}");
        assert_eq!(
            json_of(&control.export_config(&ExportOptions::default()).await.expect("export")),
            json_of(&original)
        );
        assert_eq!(control.config_revision().await.expect("revision"), revision);
        assert_eq!(audit_count(&control).await, audits, "no audit event of a rolled-back file");
        // A developer of another group is refused at the first step it may not take.
        let scoped = crate::CurrentUser {
            grant: crate::users::Grant { role: crate::users::Role::Developer, groups: Some(vec!["other".into()]) },
            ..testing::admin()
        };
        let mut changed = original.clone();
        changed.groups.get_mut("petstore").expect("group").description = "changed".into();
        let forbidden = control.apply_config(&changed, &scoped).await.expect_err("forbidden");
        assert!(matches!(forbidden, ControlError::Forbidden(ref m) if m.starts_with("groups.petstore")), "{forbidden}");
        assert_eq!(
            json_of(&control.export_config(&ExportOptions::default()).await.expect("export")),
            json_of(&original)
        );
        // ...while an unchanged file is no change at all for it; a viewer applies nothing.
        assert!(!control.apply_config(&original, &scoped).await.expect("no-op").applied);
        let viewer = crate::CurrentUser {
            grant: crate::users::Grant { role: crate::users::Role::Viewer, groups: None },
            ..testing::admin()
        };
        let refused = control.apply_config(&original, &viewer).await.expect_err("viewer");
        assert!(matches!(refused, ControlError::Forbidden(_)), "{refused}");
    }

    #[tokio::test]
    async fn apply_removes_what_the_file_drops_and_a_scoped_file_leaves_other_groups_alone() {
        let (control, _dir) = populated().await;
        let admin = testing::admin();
        control.create_group(&from(json!({"name": "other", "subdomain": "other"})), &admin).await.expect("group");
        let scoped = control
            .export_config(&ExportOptions { group: Some("petstore".into()), with_secrets: false })
            .await
            .expect("export");
        assert_eq!(scoped.scope.as_deref(), Some("petstore"));
        let mut document = scoped.clone();
        let group = document.groups.get_mut("petstore").expect("group");
        group.deployments.clear();
        group.versions = vec!["1.1.0".into()];
        group.apis.clear();
        document.apps.clear();
        document.policies.clear();
        document.backend_services.clear();
        control.apply_config(&document, &admin).await.expect("apply");
        let after = control.export_config(&ExportOptions::default()).await.expect("export");
        assert!(after.groups.contains_key("other"), "a scoped file leaves other groups alone");
        let petstore = &after.groups["petstore"];
        assert!(petstore.deployments.is_empty() && petstore.apis.is_empty());
        assert_eq!(petstore.versions, ["1.1.0"]);
        assert!(after.apps.is_empty() && after.policies.is_empty() && after.backend_services.is_empty());
        assert_eq!(served(&control), None, "taken off-line");
        // A whole-instance file without `petstore` deletes it.
        let mut whole = control.export_config(&ExportOptions::default()).await.expect("export");
        whole.groups.remove("petstore");
        control.apply_config(&whole, &admin).await.expect("apply");
        let groups: Vec<_> = control.list_groups().await.expect("groups").into_iter().map(|g| g.name).collect();
        assert_eq!(groups, ["other"]);
        // A scoped file holding another group is refused before anything runs.
        let mut wrong = scoped;
        wrong.groups.insert("third".into(), GroupConfig { subdomain: "third".into(), ..Default::default() });
        let refused = control.apply_config(&wrong, &admin).await.expect_err("refused");
        assert!(refused.to_string().contains("groups"), "{refused}");
    }

    #[tokio::test]
    async fn a_file_that_cannot_be_reproduced_exactly_is_refused_with_the_fields() {
        let (control, _dir) = populated().await;
        let original = control.export_config(&ExportOptions::default()).await.expect("export");
        let mut document = original.clone();
        // Versions are frozen in order: an existing pair cannot be reordered.
        document.groups.get_mut("petstore").expect("group").versions.reverse();
        let refused = control.apply_config(&document, &testing::admin()).await.expect_err("refused");
        assert!(matches!(refused, ControlError::Conflict(_)), "{refused}");
        assert!(refused.to_string().contains("groups.petstore.versions"), "{refused}");
        // An API whose name is not its key, and an environment that does not exist.
        let mut document = original.clone();
        let group = document.groups.get_mut("petstore").expect("group");
        let hello = group.apis.remove("Hello").expect("api");
        group.apis.insert("Renamed".into(), hello);
        group.deployments.insert(
            "production".into(),
            DeploymentConfig { version: "1.0.0".into(), backend: DeployBackend::Mock, note: String::new() },
        );
        let refused = control.apply_config(&document, &testing::admin()).await.expect_err("refused");
        let text = refused.to_string();
        assert!(text.contains("groups.petstore.apis.Renamed.name"), "{text}");
        assert!(text.contains("groups.petstore.deployments.production"), "{text}");
        assert_eq!(
            json_of(&control.export_config(&ExportOptions::default()).await.expect("export")),
            json_of(&original)
        );
    }
}
