//! Applying a document (`gantry config apply`, `POST /config/apply`): make Gantry hold what
//! the document says, in **one transaction**, or change nothing.
//!
//! The steps are the ordinary services (create, update, delete, release, …), run by a
//! [`Control`] whose database handle is the document's transaction ([`crate::db::Db::Apply`]):
//! each service's own transaction becomes a savepoint inside it, its reads see the earlier
//! steps, and it checks the user's role and writes its audit event as it always does. What
//! the steps would recompile is collected and done once, after the commit. A step that fails
//! (a role, a rule, a reference to nothing) fails the whole file, with the document path of
//! what failed; so does a file whose result would not export back to exactly itself (a value
//! Gantry stores differently, versions in an order that cannot be made), so `diff` after a
//! successful `apply` is always clean.
//!
//! Order: backend services and their URLs, policies, groups and their domains, apps; then
//! what goes away is unbound (authorizations, policy bindings) before the draft's APIs
//! change; then versions are frozen (from the draft as the file leaves it), deployments
//! released or taken off-line, dropped versions deleted; then new authorizations and
//! bindings; last, whole groups (taken off-line first), apps, policies, service URLs and
//! services the file no longer has.

use super::{AppConfig, ConfigDiff, ConfigDocument, ExportOptions, GroupConfig, FORMAT};
use crate::db::Db;
use crate::revision::Refresh;
use crate::{Control, ControlError, CurrentUser, Environment, FieldError};
use domain::release::FieldChange;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The transaction a document is applied in, and what its steps asked to recompile.
#[derive(Debug)]
pub struct ApplyScope {
    pub(crate) txn: sea_orm::DatabaseTransaction,
    refreshes: Mutex<Vec<Refresh>>,
}

impl ApplyScope {
    /// A step committed its savepoint: recompile `changes` when the whole file commits.
    pub(crate) fn defer(&self, changes: Vec<Refresh>) {
        let mut pending = self.refreshes.lock().unwrap_or_else(|p| p.into_inner());
        for change in changes {
            if !pending.contains(&change) {
                pending.push(change);
            }
        }
    }
}

/// What applying a document did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigApplied {
    /// Whether anything changed (false: the file already matched).
    pub applied: bool,
    /// What changed, one line per field (as `diff` would have said).
    pub changes: Vec<FieldChange>,
    /// The configuration revision after the change.
    pub revision: i64,
}

/// The most remaining differences a refusal lists.
const LISTED: usize = 10;

impl Control {
    /// Makes Gantry hold what `document` says, as `actor`, in one transaction: see the
    /// module's documentation. A refusal changes nothing.
    pub async fn apply_config(
        &self,
        document: &ConfigDocument,
        actor: &CurrentUser,
    ) -> Result<ConfigApplied, ControlError> {
        actor.require(crate::users::Action::ApplyConfig)?;
        check_document(document)?;
        if matches!(self.db(), Db::Apply(_)) {
            return Err(ControlError::Internal("a configuration is already being applied here".into()));
        }
        let scope = Arc::new(ApplyScope { txn: self.begin_write().await?, refreshes: Mutex::default() });
        let inside = Control {
            db: Db::Apply(scope.clone()),
            // Caches keyed by row id must not keep what a rolled-back file wrote.
            compiled: Default::default(),
            parsed_versions: Default::default(),
            ..self.clone()
        };
        let outcome = inside.apply_steps(document, actor).await;
        drop(inside);
        let scope = Arc::try_unwrap(scope)
            .map_err(|_| ControlError::Internal("the configuration's transaction is still in use".into()))?;
        // On an error `scope` is dropped here, which rolls every step back.
        let diff = outcome?;
        if !diff.different {
            return Ok(ConfigApplied { applied: false, changes: Vec::new(), revision: self.config_revision().await? });
        }
        let fields: Vec<&str> = diff.changes.iter().map(|c| c.field.as_str()).take(200).collect();
        let summary = serde_json::json!({"changes": diff.changes.len(), "fields": fields});
        crate::audit::record(&scope.txn, actor, "config.apply", "config", "", None::<&()>, Some(&summary)).await?;
        let refreshes = scope.refreshes.into_inner().unwrap_or_else(|p| p.into_inner());
        let revision = self.commit_changes(scope.txn, refreshes).await?;
        Ok(ConfigApplied { applied: true, changes: diff.changes, revision })
    }

    /// Runs every step inside the file's transaction; the diff it started from.
    async fn apply_steps(&self, document: &ConfigDocument, actor: &CurrentUser) -> Result<ConfigDiff, ControlError> {
        let before = self.diff_config(document).await?;
        if !before.different {
            return Ok(before);
        }
        let options = ExportOptions { group: document.scope.clone(), with_secrets: false };
        let current = self.export_config(&options).await?;
        let steps = Steps { control: self, actor, want: document, have: &current };
        steps.run().await?;
        let after = self.diff_config(document).await?;
        if after.different {
            let listed: Vec<String> = after
                .changes
                .iter()
                .take(LISTED)
                .map(|c| {
                    let now = c.old.as_deref().unwrap_or("nothing");
                    let file = c.new.as_deref().unwrap_or("nothing");
                    format!("{}: Gantry holds {now}, the file says {file}", c.field)
                })
                .collect();
            return Err(ControlError::Conflict(format!(
                "the file cannot be applied exactly ({} field(s) would still differ; write them as \
                 `gantry config export` does): {}",
                after.changes.len(),
                listed.join("; ")
            )));
        }
        Ok(before)
    }
}

/// Checks what the services cannot see: the format, the environments named in keys and
/// values, and that each API's name is its key.
fn check_document(document: &ConfigDocument) -> Result<(), ControlError> {
    let mut errors = Vec::new();
    if document.gantry != FORMAT {
        errors.push(FieldError::new("gantry", format!("must be {FORMAT}, the format this Gantry reads")));
    }
    if let Some(scope) = &document.scope {
        if document.groups.keys().any(|g| g != scope) {
            errors.push(FieldError::new("groups", format!("a file scoped to `{scope}` holds only that group")));
        }
    }
    let mut env = |field: String, value: &str| {
        if value.parse::<Environment>().map(|e| e.as_str() != value).unwrap_or(true) {
            errors.push(FieldError::new(field, format!("`{value}` is not an environment: use test, pre or prod")));
        }
    };
    for (name, group) in &document.groups {
        for (host, pinned) in &group.domains {
            if let Some(pinned) = pinned {
                env(format!("groups.{name}.domains.{host}"), pinned);
            }
        }
        for key in group.deployments.keys() {
            env(format!("groups.{name}.deployments.{key}"), key);
        }
    }
    for (name, service) in &document.backend_services {
        for key in service.urls.keys() {
            env(format!("backend_services.{name}.urls.{key}"), key);
        }
    }
    for (name, policy) in &document.policies {
        for (i, binding) in policy.bindings.iter().enumerate() {
            env(format!("policies.{name}.bindings[{i}].environment"), &binding.environment);
        }
    }
    for (name, app) in &document.apps {
        for (i, grant) in app.authorizations.iter().enumerate() {
            env(format!("apps.{name}.authorizations[{i}].environment"), &grant.environment);
        }
    }
    for (name, group) in &document.groups {
        for (key, api) in &group.apis {
            if api.name != *key {
                errors.push(FieldError::new(
                    format!("groups.{name}.apis.{key}.name"),
                    format!("must be `{key}`, the API's key (`{}` here)", api.name),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ControlError::Validation(errors))
    }
}

/// Says which part of the file a step's error is about.
trait At<T> {
    fn at(self, path: &str) -> Result<T, ControlError>;
}

impl<T> At<T> for Result<T, ControlError> {
    fn at(self, path: &str) -> Result<T, ControlError> {
        self.map_err(|error| match error {
            ControlError::Validation(errors) => ControlError::Validation(
                errors.into_iter().map(|e| FieldError::new(format!("{path}.{}", e.field), e.message)).collect(),
            ),
            // A reference to something that does not exist is a mistake in the file.
            ControlError::NotFound(what) => ControlError::field(path, format!("{what} does not exist")),
            ControlError::Conflict(message) => ControlError::Conflict(format!("{path}: {message}")),
            ControlError::Forbidden(message) => ControlError::Forbidden(format!("{path}: {message}")),
            other => other,
        })
    }
}

fn env(value: &str) -> Environment {
    // `check_document` refused anything else.
    value.parse().unwrap_or(Environment::Test)
}

fn parse_kind<T: serde::de::DeserializeOwned>(path: &str, kind: &str) -> Result<T, ControlError> {
    serde_json::from_value(serde_json::Value::String(kind.to_owned()))
        .map_err(|_| ControlError::field(format!("{path}.type"), format!("`{kind}` is not a type Gantry knows")))
}

struct Steps<'a> {
    control: &'a Control,
    actor: &'a CurrentUser,
    want: &'a ConfigDocument,
    have: &'a ConfigDocument,
}

impl Steps<'_> {
    async fn run(&self) -> Result<(), ControlError> {
        self.services().await?;
        self.policies().await?;
        for (name, want) in &self.want.groups {
            self.group(name, want).await?;
        }
        for (name, want) in &self.want.apps {
            self.app(name, want).await?;
        }
        self.unbind().await?;
        for (name, want) in &self.want.groups {
            self.draft_and_deployments(name, want).await?;
        }
        self.bind().await?;
        self.remove().await
    }

    /// Creates and updates backend services and sets their URLs.
    async fn services(&self) -> Result<(), ControlError> {
        let (control, actor) = (self.control, self.actor);
        for (name, want) in &self.want.backend_services {
            let at = format!("backend_services.{name}");
            let kind: domain::service::ServiceKind = parse_kind(&at, &want.kind)?;
            let have = self.have.backend_services.get(name);
            match have {
                None => {
                    let spec = domain::service::ServiceSpec {
                        name: name.clone(),
                        kind,
                        description: want.description.clone(),
                    };
                    control.create_service(&spec, actor).await.at(&at)?;
                }
                Some(have) if have.kind != want.kind || have.description != want.description => {
                    let patch = domain::service::ServicePatch {
                        name: None,
                        description: Some(want.description.clone()),
                        kind: Some(want.kind.clone()),
                    };
                    control.update_service(name, &patch, actor).await.at(&at)?;
                }
                Some(_) => {}
            }
            for (key, url) in &want.urls {
                if have.and_then(|h| h.urls.get(key)) != Some(url) {
                    let spec = domain::service::ServiceUrlSpec { url: url.clone() };
                    control.set_service_url(name, env(key), &spec, actor).await.at(&format!("{at}.urls.{key}"))?;
                }
            }
        }
        Ok(())
    }

    /// Creates and updates policies (bindings come later).
    async fn policies(&self) -> Result<(), ControlError> {
        for (name, want) in &self.want.policies {
            let at = format!("policies.{name}");
            let spec = domain::policy::PolicySpec {
                name: name.clone(),
                kind: parse_kind(&at, &want.kind)?,
                description: want.description.clone(),
                config: want.config.clone(),
            };
            match self.have.policies.get(name) {
                None => {
                    self.control.create_policy(&spec, self.actor).await.at(&at)?;
                }
                Some(have)
                    if have.kind != want.kind || have.description != want.description || have.config != want.config =>
                {
                    self.control.update_policy(name, &spec, self.actor).await.at(&at)?;
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Creates or updates a group and its custom domains.
    async fn group(&self, name: &str, want: &GroupConfig) -> Result<(), ControlError> {
        let (control, actor) = (self.control, self.actor);
        let at = format!("groups.{name}");
        let spec = domain::group::GroupSpec {
            name: name.to_owned(),
            subdomain: want.subdomain.clone(),
            description: want.description.clone(),
        };
        let empty = GroupConfig::default();
        let have = match self.have.groups.get(name) {
            None => {
                control.create_group(&spec, actor).await.at(&at)?;
                &empty
            }
            Some(have) => {
                if have.subdomain != want.subdomain || have.description != want.description {
                    control.update_group(name, &spec, actor).await.at(&at)?;
                }
                have
            }
        };
        let certified: Vec<String> = match self.have.groups.contains_key(name) {
            true => control
                .list_domains(name)
                .await?
                .into_iter()
                .filter(|d| d.certificate.is_some())
                .map(|d| d.host)
                .collect(),
            false => Vec::new(),
        };
        for (host, pinned) in &have.domains {
            if want.domains.get(host) == Some(pinned) {
                continue;
            }
            let path = format!("{at}.domains.{host}");
            if want.domains.contains_key(host) && certified.contains(host) {
                return Err(ControlError::field(
                    path,
                    "this domain has a certificate: change its environment in the console (removing it here would drop the certificate)",
                ));
            }
            control.remove_domain(name, host, actor).await.at(&path)?;
        }
        for (host, pinned) in &want.domains {
            if have.domains.get(host) != Some(pinned) {
                let spec = domain::group::DomainSpec {
                    host: host.clone(),
                    environment: pinned.as_deref().map(env),
                    certificate: None,
                };
                control.add_domain(name, &spec, actor).await.at(&format!("{at}.domains.{host}"))?;
            }
        }
        Ok(())
    }

    /// Creates or updates an app and sets its credentials when the file carries them.
    async fn app(&self, name: &str, want: &AppConfig) -> Result<(), ControlError> {
        let (control, actor) = (self.control, self.actor);
        let at = format!("apps.{name}");
        let patch = domain::app::AppPatch {
            name: None,
            description: Some(want.description.clone()),
            enabled: Some(want.enabled),
        };
        match self.have.apps.get(name) {
            None => {
                let spec = domain::app::AppSpec { name: name.to_owned(), description: want.description.clone() };
                control.create_app(&spec, actor).await.at(&at)?;
                if !want.enabled {
                    control.update_app(name, &patch, actor).await.at(&at)?;
                }
            }
            Some(have) if have.description != want.description || have.enabled != want.enabled => {
                control.update_app(name, &patch, actor).await.at(&at)?;
            }
            Some(_) => {}
        }
        if let Some(credentials) = &want.credentials {
            let current = control.get_app(name, true).await?;
            let same = current.app_key == credentials.app_key
                && current.app_secret.as_deref() == Some(credentials.app_secret.as_str())
                && current.app_code.as_deref() == Some(credentials.app_code.as_str());
            if !same {
                control.set_credentials(name, credentials, actor).await.at(&format!("{at}.credentials"))?;
            }
        }
        Ok(())
    }

    /// Revokes the authorizations and removes the policy bindings the file does not have.
    async fn unbind(&self) -> Result<(), ControlError> {
        let (control, actor) = (self.control, self.actor);
        for (name, have) in &self.have.apps {
            let wanted = self.want.apps.get(name).map(|a| a.authorizations.as_slice()).unwrap_or_default();
            let held = control.list_authorizations(name).await?;
            for grant in &have.authorizations {
                let kept = wanted
                    .iter()
                    .any(|w| w.group == grant.group && w.api == grant.api && w.environment == grant.environment);
                if kept {
                    continue;
                }
                let found = held
                    .iter()
                    .find(|h| h.group == grant.group && h.api_name == grant.api && h.env.as_str() == grant.environment);
                if let Some(found) = found {
                    control.revoke(name, found.id, actor).await.at(&format!("apps.{name}.authorizations"))?;
                }
            }
        }
        for (name, have) in &self.have.policies {
            let wanted = self.want.policies.get(name).map(|p| p.bindings.as_slice()).unwrap_or_default();
            let held = control.policy_bindings(name).await?;
            for binding in have.bindings.iter().filter(|b| !wanted.contains(b)) {
                let found = held.iter().find(|h| {
                    h.group == binding.group && h.api_name == binding.api && h.env.as_str() == binding.environment
                });
                if let Some(found) = found {
                    control.unbind_policy(name, found.id, actor).await.at(&format!("policies.{name}.bindings"))?;
                }
            }
        }
        Ok(())
    }

    /// The draft's APIs, then versions, deployments and dropped versions of one group.
    async fn draft_and_deployments(&self, name: &str, want: &GroupConfig) -> Result<(), ControlError> {
        let (control, actor) = (self.control, self.actor);
        let at = format!("groups.{name}");
        let empty = GroupConfig::default();
        let have = self.have.groups.get(name).unwrap_or(&empty);
        let ids = control.draft_ids(name).await?;
        for api in have.apis.keys().filter(|api| !want.apis.contains_key(*api)) {
            if let Some(id) = ids.get(api) {
                control.delete_api(name, *id, actor).await.at(&format!("{at}.apis.{api}"))?;
            }
        }
        for (api, spec) in &want.apis {
            let path = format!("{at}.apis.{api}");
            match (have.apis.get(api), ids.get(api)) {
                (Some(current), Some(id)) if current != spec => {
                    control.update_api(name, *id, spec, actor).await.at(&path)?;
                }
                (Some(_), Some(_)) => {}
                _ => {
                    control.create_api(name, spec, actor).await.at(&path)?;
                }
            }
        }
        for label in want.versions.iter().filter(|l| !have.versions.contains(l)) {
            let spec = domain::release::VersionSpec { label: label.clone(), description: String::new() };
            control.create_version(name, &spec, actor).await.at(&format!("{at}.versions"))?;
        }
        for environment in Environment::ALL {
            let key = environment.as_str();
            let path = format!("{at}.deployments.{key}");
            match (have.deployments.get(key), want.deployments.get(key)) {
                (current, Some(wanted)) if current != Some(wanted) => {
                    let spec = domain::release::ReleaseSpec {
                        version: wanted.version.clone(),
                        backend: wanted.backend.clone(),
                        note: wanted.note.clone(),
                    };
                    control.release(name, environment, &spec, actor).await.at(&path)?;
                }
                (Some(_), None) => {
                    control.take_offline(name, environment, actor).await.at(&path)?;
                }
                _ => {}
            }
        }
        for label in have.versions.iter().filter(|l| !want.versions.contains(l)) {
            control.delete_version(name, label, actor).await.at(&format!("{at}.versions"))?;
        }
        Ok(())
    }

    /// Grants the authorizations and binds the policies the file adds (or whose expiry it
    /// changes).
    async fn bind(&self) -> Result<(), ControlError> {
        let (control, actor) = (self.control, self.actor);
        let mut ids: BTreeMap<String, BTreeMap<String, i32>> = BTreeMap::new();
        for (name, want) in &self.want.apps {
            let have = self.have.apps.get(name).map(|a| a.authorizations.as_slice()).unwrap_or_default();
            for (i, grant) in want.authorizations.iter().enumerate() {
                if have.contains(grant) {
                    continue;
                }
                let path = format!("apps.{name}.authorizations[{i}]");
                let id = api_id(control, &mut ids, &grant.group, &grant.api).await.at(&path)?;
                let spec = domain::app::AuthorizeSpec {
                    group: grant.group.clone(),
                    apis: vec![id],
                    env: grant.environment.clone(),
                    expires_at: grant.expires_at.clone(),
                };
                control.authorize(name, &spec, actor).await.at(&path)?;
            }
        }
        for (name, want) in &self.want.policies {
            let have = self.have.policies.get(name).map(|p| p.bindings.as_slice()).unwrap_or_default();
            for (i, binding) in want.bindings.iter().enumerate() {
                if have.contains(binding) {
                    continue;
                }
                let path = format!("policies.{name}.bindings[{i}]");
                let api = match &binding.api {
                    Some(api) => Some(api_id(control, &mut ids, &binding.group, api).await.at(&path)?),
                    None => None,
                };
                let spec =
                    domain::policy::BindingSpec { group: binding.group.clone(), api, env: binding.environment.clone() };
                control.bind_policy(name, &spec, actor).await.at(&path)?;
            }
        }
        Ok(())
    }

    /// Deletes the groups (off-line first), apps, policies, service URLs and services the
    /// file no longer has.
    async fn remove(&self) -> Result<(), ControlError> {
        let (control, actor) = (self.control, self.actor);
        if self.want.scope.is_none() {
            for (name, have) in self.have.groups.iter().filter(|(g, _)| !self.want.groups.contains_key(*g)) {
                let at = format!("groups.{name}");
                for key in have.deployments.keys() {
                    control.take_offline(name, env(key), actor).await.at(&at)?;
                }
                control.delete_group(name, actor).await.at(&at)?;
            }
        }
        for name in self.have.apps.keys().filter(|a| !self.want.apps.contains_key(*a)) {
            control.delete_app(name, actor).await.at(&format!("apps.{name}"))?;
        }
        for name in self.have.policies.keys().filter(|p| !self.want.policies.contains_key(*p)) {
            control.delete_policy(name, actor).await.at(&format!("policies.{name}"))?;
        }
        for (name, have) in &self.have.backend_services {
            let at = format!("backend_services.{name}");
            let Some(want) = self.want.backend_services.get(name) else {
                control.delete_service(name, actor).await.at(&at)?;
                continue;
            };
            for key in have.urls.keys().filter(|k| !want.urls.contains_key(*k)) {
                control.delete_service_url(name, env(key), actor).await.at(&format!("{at}.urls.{key}"))?;
            }
        }
        Ok(())
    }
}

/// The draft API `api` of `group`, by name (each group's names read once).
async fn api_id(
    control: &Control,
    ids: &mut BTreeMap<String, BTreeMap<String, i32>>,
    group: &str,
    api: &str,
) -> Result<i32, ControlError> {
    if !ids.contains_key(group) {
        ids.insert(group.to_owned(), control.draft_ids(group).await?);
    }
    ids.get(group)
        .and_then(|names| names.get(api))
        .copied()
        .ok_or_else(|| ControlError::NotFound(format!("API `{api}` of group `{group}`")))
}

impl Control {
    /// Every API of a group's draft.
    pub(crate) async fn draft_apis(&self, group: &str) -> Result<Vec<domain::views::ApiView>, ControlError> {
        let mut all = Vec::new();
        let mut page = 1;
        loop {
            let query = domain::views::ApiQuery { page, per_page: 100, ..Default::default() };
            let found = self.list_apis(group, &query).await?;
            let seen = found.items.len();
            all.extend(found.items);
            if seen == 0 || page * 100 >= found.total {
                return Ok(all);
            }
            page += 1;
        }
    }

    /// The draft's API ids by name.
    pub(crate) async fn draft_ids(&self, group: &str) -> Result<BTreeMap<String, i32>, ControlError> {
        Ok(self.draft_apis(group).await?.into_iter().map(|a| (a.spec.name, a.id)).collect())
    }
}
