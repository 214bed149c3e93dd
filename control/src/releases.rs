//! Versions, releases, switches and off-lines.
//!
//! A version freezes the draft into an immutable, content-hashed list of APIs. Release,
//! switch and off-line each run in **one database transaction** that changes the deployment,
//! records a deployment event and bumps `config_revision`; only after the commit is the
//! group recompiled and swapped into the gateway, so a failure at any step leaves the
//! previous deployment intact and served.

use crate::entity::{api, api_group, deployment, deployment_event, version};
use crate::resolve::{release_problems, target_of};
use crate::revision::Refresh;
use crate::users::Action;
use crate::{Control, ControlError, CurrentUser, FieldError};
use domain::release::{
    ApiReleaseSpec, DeployBackend, DeploymentEventView, DeploymentView, Diff, ReleaseSpec, VersionApi, VersionSpec,
    VersionView,
};
use domain::release::{LiveVersion, OfflineApi};
use domain::Environment;
use gateway::compiled::Target;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, ControlError> {
    serde_json::to_value(value).map_err(|e| ControlError::Internal(e.to_string()))
}

/// The group's draft as a version would freeze it.
pub(crate) async fn draft_apis(db: &impl ConnectionTrait, group_id: i32) -> Result<Vec<VersionApi>, ControlError> {
    let draft =
        api::Entity::find().filter(api::Column::GroupId.eq(group_id)).order_by_asc(api::Column::Id).all(db).await?;
    draft.into_iter().map(|m| Ok(VersionApi { id: m.id, spec: m.spec()? })).collect()
}

/// A release checked by [`Control::prepare_release`], ready to write.
pub(crate) struct PreparedRelease {
    pub(crate) group: api_group::Model,
    pub(crate) target_id: i32,
    pub(crate) target_label: String,
    pub(crate) backend: DeployBackend,
    pub(crate) note: String,
}

impl Control {
    async fn group_versions(&self, group_id: i32) -> Result<Vec<version::Model>, ControlError> {
        Ok(version::Entity::find()
            .filter(version::Column::GroupId.eq(group_id))
            .order_by_desc(version::Column::Id)
            .all(self.db())
            .await?)
    }

    /// A version's id and label, without reading its (possibly large) snapshot.
    async fn find_version_id(&self, group_id: i32, label: &str) -> Result<(i32, String), ControlError> {
        version::Entity::find()
            .select_only()
            .columns([version::Column::Id, version::Column::Label])
            .filter(version::Column::GroupId.eq(group_id))
            .filter(version::Column::Label.eq(label))
            .into_tuple::<(i32, String)>()
            .one(self.db())
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("version `{label}`")))
    }

    /// A version's APIs, parsed once: versions never change, so they are cached by id.
    pub(crate) async fn version_apis(&self, id: i32) -> Result<Arc<Vec<VersionApi>>, ControlError> {
        if let Some(apis) = self.parsed_versions.lock().ok().and_then(|cache| cache.get(&id).cloned()) {
            return Ok(apis);
        }
        let model = version::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or_else(|| ControlError::Internal(format!("version {id} is missing")))?;
        let apis = Arc::new(model.apis()?);
        if let Ok(mut cache) = self.parsed_versions.lock() {
            if cache.len() >= 16 {
                cache.clear();
            }
            cache.insert(id, apis.clone());
        }
        Ok(apis)
    }

    async fn find_version(&self, group_id: i32, label: &str) -> Result<version::Model, ControlError> {
        version::Entity::find()
            .filter(version::Column::GroupId.eq(group_id))
            .filter(version::Column::Label.eq(label))
            .one(self.db())
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("version `{label}`")))
    }

    async fn live_versions(&self, group_id: i32) -> Result<Vec<deployment::Model>, ControlError> {
        Ok(deployment::Entity::find().filter(deployment::Column::GroupId.eq(group_id)).all(self.db()).await?)
    }

    fn version_view(
        model: &version::Model,
        apis: Vec<VersionApi>,
        base: Option<(&str, &[VersionApi])>,
        live: &[deployment::Model],
        with_apis: bool,
    ) -> Result<VersionView, ControlError> {
        let mut live_in: Vec<Environment> = live
            .iter()
            .filter(|d| d.version_id == model.id)
            .map(deployment::Model::environment)
            .collect::<Result<_, _>>()?;
        live_in.sort();
        Ok(VersionView {
            label: model.label.clone(),
            description: model.description.clone(),
            content_hash: model.content_hash.clone(),
            base: base.map(|(label, _)| label.to_owned()),
            created_at: model.created_at.to_rfc3339(),
            created_by: model.created_by.clone(),
            api_count: apis.len(),
            live_in,
            changes: Diff::between(base.map(|(_, apis)| apis).unwrap_or(&[]), &apis),
            apis: if with_apis { apis } else { Vec::new() },
        })
    }

    /// Freezes the group's draft into a new version.
    pub async fn create_version(
        &self,
        group: &str,
        spec: &VersionSpec,
        actor: &CurrentUser,
    ) -> Result<VersionView, ControlError> {
        self.freeze(group, spec, None, actor).await
    }

    /// Freezes `apis`, or the draft when `None` (read in the same transaction), into a new
    /// version of the group.
    async fn freeze(
        &self,
        group: &str,
        spec: &VersionSpec,
        apis: Option<Vec<VersionApi>>,
        actor: &CurrentUser,
    ) -> Result<VersionView, ControlError> {
        actor.require(Action::EditGroup(group))?;
        let group = self.find_group(group).await?;
        let spec = spec.validate().map_err(ControlError::Validation)?;
        let txn = self.begin_write().await?;
        let taken = version::Entity::find()
            .filter(version::Column::GroupId.eq(group.id))
            .filter(version::Column::Label.eq(&spec.label))
            .one(&txn)
            .await?;
        if taken.is_some() {
            return Err(ControlError::field("label", format!("version `{}` already exists in this group", spec.label)));
        }
        let apis = match apis {
            Some(apis) => apis,
            None => draft_apis(&txn, group.id).await?,
        };
        if apis.is_empty() {
            return Err(ControlError::field("label", "the draft has no APIs to freeze"));
        }
        let snapshot = to_json(&apis)?;
        let hash = hex::encode(Sha256::digest(snapshot.to_string().as_bytes()));
        let base = version::Entity::find()
            .filter(version::Column::GroupId.eq(group.id))
            .order_by_desc(version::Column::Id)
            .one(&txn)
            .await?;
        let model = version::ActiveModel {
            group_id: Set(group.id),
            label: Set(spec.label.clone()),
            description: Set(spec.description.clone()),
            content_hash: Set(hash),
            snapshot: Set(snapshot),
            base_version_id: Set(base.as_ref().map(|b| b.id)),
            created_at: Set(chrono::Utc::now()),
            created_by: Set(actor.username.clone()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        crate::audit::record(
            &txn,
            actor,
            "version.create",
            "version",
            &format!("{}/{}", group.name, spec.label),
            None::<&()>,
            Some(&spec),
        )
        .await?;
        txn.commit().await?;
        let base_apis = base.as_ref().map(version::Model::apis).transpose()?;
        let base_ref = base.as_ref().zip(base_apis.as_deref()).map(|(b, apis)| (b.label.as_str(), apis));
        Self::version_view(&model, apis, base_ref, &[], false)
    }

    /// The group's versions, newest first, each with its changes against its base.
    pub async fn list_versions(&self, group: &str) -> Result<Vec<VersionView>, ControlError> {
        let group = self.find_group(group).await?;
        let models = self.group_versions(group.id).await?;
        let live = self.live_versions(group.id).await?;
        let parsed: HashMap<i32, Vec<VersionApi>> =
            models.iter().map(|m| Ok((m.id, m.apis()?))).collect::<Result<_, ControlError>>()?;
        let labels: HashMap<i32, &str> = models.iter().map(|m| (m.id, m.label.as_str())).collect();
        models
            .iter()
            .map(|m| {
                let base = m.base_version_id.and_then(|b| Some((*labels.get(&b)?, parsed.get(&b)?.as_slice())));
                Self::version_view(m, parsed[&m.id].clone(), base, &live, false)
            })
            .collect()
    }

    /// One version with its APIs.
    pub async fn get_version(&self, group: &str, label: &str) -> Result<VersionView, ControlError> {
        let group = self.find_group(group).await?;
        let model = self.find_version(group.id, label).await?;
        let base = match model.base_version_id {
            Some(id) => version::Entity::find_by_id(id).one(self.db()).await?,
            None => None,
        };
        let base_apis = base.as_ref().map(version::Model::apis).transpose()?;
        let live = self.live_versions(group.id).await?;
        let base_ref = base.as_ref().zip(base_apis.as_deref()).map(|(b, apis)| (b.label.as_str(), apis));
        Self::version_view(&model, model.apis()?, base_ref, &live, true)
    }

    /// What `to` changes relative to `from` (a version label, or an environment's live
    /// version when `from` is `test`, `pre` or `prod` and no version has that label).
    pub async fn diff_versions(&self, group: &str, from: &str, to: &str) -> Result<Diff, ControlError> {
        let group = self.find_group(group).await?;
        let side = |label: &str| {
            let label = label.to_owned();
            async move {
                match self.find_version(group.id, &label).await {
                    Ok(model) => model.apis(),
                    Err(ControlError::NotFound(_)) if label.parse::<Environment>().is_ok() => {
                        let live = self.live_versions(group.id).await?;
                        match live.iter().find(|d| d.environment == label) {
                            Some(d) => match version::Entity::find_by_id(d.version_id).one(self.db()).await? {
                                Some(model) => model.apis(),
                                None => Ok(Vec::new()),
                            },
                            None => Ok(Vec::new()),
                        }
                    }
                    Err(error) => Err(error),
                }
            }
        };
        Ok(Diff::between(&side(from).await?, &side(to).await?))
    }

    /// What is live in each environment of the group.
    pub async fn list_deployments(&self, group: &str) -> Result<Vec<DeploymentView>, ControlError> {
        let group = self.find_group(group).await?;
        let labels: HashMap<i32, String> =
            self.group_versions(group.id).await?.into_iter().map(|v| (v.id, v.label)).collect();
        let services = self.service_directory(self.db()).await?;
        let mut views = Vec::new();
        for d in self.live_versions(group.id).await? {
            let env = d.environment()?;
            let backend = d.backend()?;
            let mut offline = Vec::new();
            if let Some(frozen) = version::Entity::find_by_id(d.version_id).one(self.db()).await? {
                for api in frozen.apis()? {
                    if let Target::Offline(reason) = target_of(&api.spec, &backend, &services, env) {
                        offline.push(OfflineApi { api: api.spec.name, reason });
                    }
                }
            }
            views.push(DeploymentView {
                environment: env,
                version: labels.get(&d.version_id).cloned().unwrap_or_default(),
                backend,
                released_at: d.released_at.to_rfc3339(),
                released_by: d.released_by,
                note: d.note,
                offline,
                rollout: None,
                canary: None,
            });
        }
        for canary in self.group_canaries(group.id).await? {
            if let Some(view) = views.iter_mut().find(|v| v.environment == canary.environment) {
                view.canary = Some(canary);
            }
        }
        views.sort_by_key(|v| v.environment);
        Ok(views)
    }

    /// The group's deployment history, newest first.
    pub async fn deployment_history(&self, group: &str) -> Result<Vec<DeploymentEventView>, ControlError> {
        let group = self.find_group(group).await?;
        let labels: HashMap<i32, String> =
            self.group_versions(group.id).await?.into_iter().map(|v| (v.id, v.label)).collect();
        let events = deployment_event::Entity::find()
            .filter(deployment_event::Column::GroupId.eq(group.id))
            .order_by_desc(deployment_event::Column::Id)
            .all(self.db())
            .await?;
        events
            .into_iter()
            .map(|e| {
                let (environment, backend) = (e.environment()?, e.backend()?);
                Ok(DeploymentEventView {
                    action: e.action,
                    environment,
                    // The label kept with the event; the version's own for older rows.
                    from_version: e
                        .from_version_label
                        .or_else(|| e.from_version_id.and_then(|id| labels.get(&id).cloned())),
                    to_version: e.to_version_label.or_else(|| e.to_version_id.and_then(|id| labels.get(&id).cloned())),
                    backend,
                    note: e.note,
                    actor: e.actor,
                    at: e.at.to_rfc3339(),
                })
            })
            .collect()
    }

    /// Makes `spec.version` live in `env` (a release, or a switch when something is live),
    /// in one transaction, then swaps the gateway's snapshot.
    pub async fn release(
        &self,
        group: &str,
        env: Environment,
        spec: &ReleaseSpec,
        actor: &CurrentUser,
    ) -> Result<DeploymentView, ControlError> {
        actor.require(Action::Deploy(group, env))?;
        self.approval_gate(env)?;
        let prepared = self.prepare_release(group, env, spec).await?;
        let txn = self.begin_write().await?;
        let mut view = self.write_release(&txn, env, &prepared, actor).await?;
        let revision = self.commit_changes(txn, vec![Refresh::Group(prepared.group.id)]).await?;
        view.rollout = Some(self.rollout(revision).await);
        Ok(view)
    }

    /// Checks a release without writing: the group, the backend, the note, the version and
    /// whether every API can be served (the SSRF guard included).
    pub(crate) async fn prepare_release(
        &self,
        group: &str,
        env: Environment,
        spec: &ReleaseSpec,
    ) -> Result<PreparedRelease, ControlError> {
        let group = self.find_group(group).await?;
        let backend = spec.backend.validate().map_err(ControlError::Validation)?;
        let note = domain::names::text(&spec.note, 500).map_err(|m| ControlError::field("note", m))?;
        let target = self.find_version_id(group.id, spec.version.trim()).await.map_err(|e| match e {
            ControlError::NotFound(_) => ControlError::field(
                "version",
                format!("group `{}` has no version `{}`", group.name, spec.version.trim()),
            ),
            other => other,
        })?;
        let services = self.service_directory(self.db()).await?;
        let (target_id, target_label) = target;
        let apis = self.version_apis(target_id).await?;
        let mut problems = release_problems(&apis, &backend, &services, env);
        let field = match backend {
            DeployBackend::Http { .. } => "backend.address",
            DeployBackend::Service { .. } => "backend.service",
            DeployBackend::Mock => "version",
        };
        for api in apis.iter() {
            if let Target::Http(address) = target_of(&api.spec, &backend, &services, env) {
                if let Err(reason) = self.backend_allowed(&address).await {
                    problems.push(FieldError::new(field, format!("API `{}`: {reason}", api.spec.name)));
                }
            }
        }
        if !problems.is_empty() {
            return Err(ControlError::Validation(problems));
        }

        Ok(PreparedRelease { group, target_id, target_label, backend, note })
    }

    /// Writes a prepared release in `txn`: the deployment, its history event and the audit
    /// row. The caller commits (and may write more in the same transaction).
    pub(crate) async fn write_release(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        env: Environment,
        prepared: &PreparedRelease,
        actor: &CurrentUser,
    ) -> Result<DeploymentView, ControlError> {
        self.write_release_as(txn, env, prepared, actor, false).await
    }

    /// [`Control::write_release`], recorded as a canary's promotion when `promote`.
    pub(crate) async fn write_release_as(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        env: Environment,
        prepared: &PreparedRelease,
        actor: &CurrentUser,
        promote: bool,
    ) -> Result<DeploymentView, ControlError> {
        let now = chrono::Utc::now();
        let (group, target_id, target_label, backend, note) = (
            &prepared.group,
            prepared.target_id,
            prepared.target_label.clone(),
            prepared.backend.clone(),
            prepared.note.clone(),
        );
        let current = deployment::Entity::find()
            .filter(deployment::Column::GroupId.eq(group.id))
            .filter(deployment::Column::Environment.eq(env.as_str()))
            .one(txn)
            .await?;
        let from = current.as_ref().map(|d| d.version_id);
        let from_label = match from {
            Some(id) => version::Entity::find_by_id(id).one(txn).await?.map(|v| v.label),
            None => None,
        };
        let before = current.as_ref().map(|d| serde_json::json!({"version": from_label, "backend": d.backend}));
        let backend_json = to_json(&backend)?;
        match current {
            Some(model) => {
                let mut active: deployment::ActiveModel = model.into();
                active.version_id = Set(target_id);
                active.backend = Set(backend_json.clone());
                active.released_at = Set(now);
                active.released_by = Set(actor.username.clone());
                active.note = Set(note.clone());
                active.update(txn).await?;
            }
            None => {
                deployment::ActiveModel {
                    group_id: Set(group.id),
                    environment: Set(env.as_str().to_owned()),
                    version_id: Set(target_id),
                    backend: Set(backend_json.clone()),
                    released_at: Set(now),
                    released_by: Set(actor.username.clone()),
                    note: Set(note.clone()),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
            }
        }
        deployment_event::ActiveModel {
            group_id: Set(group.id),
            environment: Set(env.as_str().to_owned()),
            action: Set(match (promote, from.is_some()) {
                (true, _) => "canary.promote",
                (false, true) => "switch",
                (false, false) => "release",
            }
            .to_owned()),
            from_version_id: Set(from),
            to_version_id: Set(Some(target_id)),
            backend: Set(Some(backend_json.clone())),
            note: Set(note.clone()),
            actor: Set(actor.username.clone()),
            at: Set(now),
            from_version_label: Set(from_label),
            to_version_label: Set(Some(target_label.clone())),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let after = serde_json::json!({"version": target_label, "backend": backend_json, "note": note});
        crate::audit::record(
            txn,
            actor,
            match (promote, from.is_some()) {
                (true, _) => "deployment.canary_promote",
                (false, true) => "deployment.switch",
                (false, false) => "deployment.release",
            },
            "deployment",
            &format!("{}/{}", group.name, env.as_str()),
            before.as_ref(),
            Some(&after),
        )
        .await?;
        Ok(DeploymentView {
            environment: env,
            version: target_label,
            backend,
            released_at: now.to_rfc3339(),
            released_by: actor.username.clone(),
            note,
            offline: Vec::new(),
            rollout: None,
            canary: None,
        })
    }

    /// What is live in each environment of the group: the version and its APIs.
    pub async fn live_apis(&self, group: &str) -> Result<Vec<LiveVersion>, ControlError> {
        let mut live = Vec::new();
        for deployment in self.list_deployments(group).await? {
            let version = self.get_version(group, &deployment.version).await?;
            live.push(LiveVersion {
                environment: deployment.environment,
                version: deployment.version,
                apis: version.apis,
            });
        }
        Ok(live)
    }

    /// Freezes the draft into a new version and releases it, after checking everything both
    /// steps need, so a release that would be refused leaves no version behind.
    pub async fn release_draft(
        &self,
        group: &str,
        env: Environment,
        version: &VersionSpec,
        backend: &DeployBackend,
        note: &str,
        actor: &CurrentUser,
    ) -> Result<DeploymentView, ControlError> {
        actor.require(Action::Deploy(group, env))?;
        self.approval_gate(env)?;
        let found = self.find_group(group).await?;
        let mut errors = Vec::new();
        if let Err(found) = version.validate() {
            errors.extend(found);
        }
        match backend.validate() {
            Ok(backend) => {
                let services = self.service_directory(self.db()).await?;
                errors.extend(release_problems(&draft_apis(self.db(), found.id).await?, &backend, &services, env))
            }
            Err(found) => errors.extend(found),
        }
        if let Err(message) = domain::names::text(note, 500) {
            errors.push(FieldError::new("note", message));
        }
        if !errors.is_empty() {
            return Err(ControlError::Validation(errors));
        }
        self.freeze_and_release(&found, env, version, None, backend, note, actor).await
    }

    /// Freezes `apis` (the draft when `None`) into version `version` and releases it; a
    /// refused release takes the version away again.
    #[allow(clippy::too_many_arguments)]
    async fn freeze_and_release(
        &self,
        found: &api_group::Model,
        env: Environment,
        version: &VersionSpec,
        apis: Option<Vec<VersionApi>>,
        backend: &DeployBackend,
        note: &str,
        actor: &CurrentUser,
    ) -> Result<DeploymentView, ControlError> {
        let group = found.name.as_str();
        let created = self.freeze(group, version, apis, actor).await?;
        let spec = ReleaseSpec { version: created.label.clone(), backend: backend.clone(), note: note.to_owned() };
        match self.release(group, env, &spec, actor).await {
            Ok(view) => Ok(view),
            Err(error) => {
                // The version was made for this release only: refused (a check that needs
                // the network, a concurrent change), it goes too, so nothing is left behind.
                if let Err(cleanup) = self.discard_version(found.id, &created.label).await {
                    tracing::warn!(error = %cleanup, version = %created.label, "could not remove the unreleased version");
                }
                Err(error)
            }
        }
    }

    /// Releases one API to `env` (Alibaba's per-API publish) as a group version: what is live
    /// there with this API's draft in place of its live copy (or added), frozen under the
    /// given label or `{live}-api{id}` (`-2`, `-3`… when taken), released with the live
    /// deployment's backend unless another is given. Nothing live there: the version holds
    /// this API alone and the backend must be given. The other live APIs are not touched, so
    /// the rest of the draft stays unreleased; the version's diff shows exactly this API.
    pub async fn release_api(
        &self,
        group: &str,
        api_id: i32,
        env: Environment,
        spec: &ApiReleaseSpec,
        actor: &CurrentUser,
    ) -> Result<DeploymentView, ControlError> {
        actor.require(Action::Deploy(group, env))?;
        self.approval_gate(env)?;
        let found = self.find_group(group).await?;
        let draft = crate::apis::find_api_in(self.db(), found.id, api_id).await?;
        let draft = VersionApi { id: draft.id, spec: draft.spec()? };
        let live = deployment::Entity::find()
            .filter(deployment::Column::GroupId.eq(found.id))
            .filter(deployment::Column::Environment.eq(env.as_str()))
            .one(self.db())
            .await?;
        let (mut apis, live_backend, live_label) = match &live {
            Some(live) => {
                let frozen = version::Entity::find_by_id(live.version_id)
                    .one(self.db())
                    .await?
                    .ok_or_else(|| ControlError::Internal("a live deployment without its version".into()))?;
                (frozen.apis()?, Some(live.backend()?), Some(frozen.label))
            }
            None => (Vec::new(), None, None),
        };
        let mut errors = Vec::new();
        let backend = match spec.backend.clone().or(live_backend) {
            Some(backend) => backend,
            None => {
                errors.push(FieldError::new(
                    "backend",
                    format!("nothing is live in {}: choose where unified APIs go", env.label()),
                ));
                DeployBackend::Mock
            }
        };
        // The API's live copy goes; its draft must fit beside the other live APIs.
        apis.retain(|a| a.id != api_id);
        for other in &apis {
            if other.spec.name == draft.spec.name || other.spec.route_conflicts(&draft.spec) {
                errors.push(FieldError::new(
                    "api",
                    format!(
                        "`{}` ({} {}) clashes with live API `{}` ({} {}): release the group instead",
                        draft.spec.name,
                        draft.spec.request.method,
                        draft.spec.request.path,
                        other.spec.name,
                        other.spec.request.method,
                        other.spec.request.path
                    ),
                ));
            }
        }
        apis.push(draft.clone());
        apis.sort_by_key(|a| a.id);
        let label = match spec.label.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            Some(label) => label.to_owned(),
            None => self.free_label(found.id, live_label.as_deref(), api_id).await?,
        };
        let description = match &live_label {
            Some(live) => format!("{live} with API `{}` from the draft", draft.spec.name),
            None => format!("API `{}` from the draft", draft.spec.name),
        };
        let version = VersionSpec { label, description: description.chars().take(500).collect() };
        if let Err(found) = version.validate() {
            errors.extend(found);
        }
        match backend.validate() {
            Ok(backend) => {
                let services = self.service_directory(self.db()).await?;
                errors.extend(release_problems(&apis, &backend, &services, env))
            }
            Err(found) => errors.extend(found),
        }
        if let Err(message) = domain::names::text(&spec.note, 500) {
            errors.push(FieldError::new("note", message));
        }
        if !errors.is_empty() {
            return Err(ControlError::Validation(errors));
        }
        self.freeze_and_release(&found, env, &version, Some(apis), &backend, &spec.note, actor).await
    }

    /// `{live}-api{id}`, or with `-2`, `-3`… when taken; `api{id}` (and on) when that would be
    /// too long for a label.
    async fn free_label(&self, group_id: i32, live: Option<&str>, api_id: i32) -> Result<String, ControlError> {
        let taken: std::collections::HashSet<String> =
            self.group_versions(group_id).await?.into_iter().map(|v| v.label).collect();
        // Publishing the same API again counts on from the earlier label (`1-api7` then
        // `1-api7-2`), rather than growing it (`1-api7-api7`).
        let own = format!("-api{api_id}");
        let base = live.map(|live| match live.rfind(&own) {
            Some(at) => {
                let rest = &live[at + own.len()..];
                let counted = rest.is_empty()
                    || rest.strip_prefix('-').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
                if counted {
                    &live[..at]
                } else {
                    live
                }
            }
            None => live,
        });
        let stem = match base {
            Some(base) if base.len() + own.len() + "-999".len() <= 32 => format!("{base}{own}"),
            _ => format!("api{api_id}"),
        };
        let mut label = stem.clone();
        let mut n = 1;
        while taken.contains(&label) {
            n += 1;
            label = format!("{stem}-{n}");
        }
        Ok(label)
    }

    /// Removes a version no deployment uses, without an audit event: for a version made by
    /// [`Control::release_draft`] whose release was refused.
    async fn discard_version(&self, group_id: i32, label: &str) -> Result<(), ControlError> {
        let txn = self.begin_write().await?;
        let model = version::Entity::find()
            .filter(version::Column::GroupId.eq(group_id))
            .filter(version::Column::Label.eq(label))
            .one(&txn)
            .await?;
        if let Some(model) = model {
            let live = deployment::Entity::find()
                .filter(deployment::Column::VersionId.eq(model.id))
                .one(&txn)
                .await?
                .is_some();
            if !live {
                version::Entity::delete_by_id(model.id).exec(&txn).await?;
            }
        }
        txn.commit().await?;
        Ok(())
    }

    /// Takes the group off-line in `env`, in one transaction, then swaps the snapshot.
    pub async fn take_offline(&self, group: &str, env: Environment, actor: &CurrentUser) -> Result<(), ControlError> {
        actor.require(Action::Deploy(group, env))?;
        self.approval_gate(env)?;
        let group = self.find_group(group).await?;
        let txn = self.begin_write().await?;
        self.write_offline(&txn, &group, env, actor).await?;
        self.commit_live(txn, Refresh::Group(group.id)).await
    }

    /// Writes an off-line in `txn`: the deployment removed, its history event and the audit
    /// row. The caller commits.
    pub(crate) async fn write_offline(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        group: &api_group::Model,
        env: Environment,
        actor: &CurrentUser,
    ) -> Result<(), ControlError> {
        let current = deployment::Entity::find()
            .filter(deployment::Column::GroupId.eq(group.id))
            .filter(deployment::Column::Environment.eq(env.as_str()))
            .one(txn)
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("a deployment of `{}` in {}", group.name, env.label())))?;
        deployment::Entity::delete_by_id(current.id).exec(txn).await?;
        // Nothing is served here any more, a canary included.
        crate::entity::canary::Entity::delete_many()
            .filter(crate::entity::canary::Column::GroupId.eq(group.id))
            .filter(crate::entity::canary::Column::Environment.eq(env.as_str()))
            .exec(txn)
            .await?;
        let from_label = version::Entity::find_by_id(current.version_id).one(txn).await?.map(|v| v.label);
        let before = serde_json::json!({"version": from_label, "backend": current.backend});
        deployment_event::ActiveModel {
            group_id: Set(group.id),
            environment: Set(env.as_str().to_owned()),
            action: Set("offline".to_owned()),
            from_version_id: Set(Some(current.version_id)),
            to_version_id: Set(None),
            backend: Set(None),
            note: Set(String::new()),
            actor: Set(actor.username.clone()),
            at: Set(chrono::Utc::now()),
            from_version_label: Set(from_label),
            to_version_label: Set(None),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        crate::audit::record(
            txn,
            actor,
            "deployment.offline",
            "deployment",
            &format!("{}/{}", group.name, env.as_str()),
            Some(&before),
            None::<&()>,
        )
        .await?;
        Ok(())
    }

    /// Deletes a version; refused while it is live.
    pub async fn delete_version(&self, group: &str, label: &str, actor: &CurrentUser) -> Result<(), ControlError> {
        actor.require(Action::EditGroup(group))?;
        let group = self.find_group(group).await?;
        let model = self.find_version(group.id, label).await?;
        let txn = self.begin_write().await?;
        let live = deployment::Entity::find().filter(deployment::Column::VersionId.eq(model.id)).all(&txn).await?;
        if let Some(d) = live.first() {
            let env = d.environment()?;
            return Err(ControlError::Conflict(format!(
                "version `{label}` is live in {}; switch or take it off-line first",
                env.label()
            )));
        }
        let canaries = crate::entity::canary::Entity::find()
            .filter(crate::entity::canary::Column::VersionId.eq(model.id))
            .all(&txn)
            .await?;
        if let Some(c) = canaries.first() {
            return Err(ControlError::Conflict(format!(
                "version `{label}` is the canary in {}; promote or roll it back first",
                c.environment()?.label()
            )));
        }
        version::Entity::delete_by_id(model.id).exec(&txn).await?;
        crate::audit::record(
            &txn,
            actor,
            "version.delete",
            "version",
            &format!("{}/{label}", group.name),
            None::<&()>,
            None::<&()>,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{admin, control};
    use domain::api::{ApiSpec, BackendType};
    use domain::group::GroupSpec;
    use sea_orm::Statement;

    async fn with_api(body: &str) -> (Control, tempfile::TempDir, i32) {
        let (control, dir) = control().await;
        let group = GroupSpec { name: "petstore".into(), subdomain: "petstore".into(), description: String::new() };
        control.create_group(&group, &admin()).await.expect("group");
        let spec: ApiSpec = serde_json::from_value(serde_json::json!({
            "name": "Hello", "request": {"method": "GET", "path": "/hello"}, "backend": {"mock": {"body": body}}
        }))
        .expect("spec");
        let api = control.create_api("petstore", &spec, &admin()).await.expect("api");
        (control, dir, api.id)
    }

    /// Versions 1.0.0 (mock body `one`) and 2.0.0 (mock body `two`) of one API.
    async fn with_two_versions() -> (Control, tempfile::TempDir) {
        let (control, dir, id) = with_api("one").await;
        control.create_version("petstore", &version("1.0.0"), &admin()).await.expect("v1");
        let mut changed = control.get_api("petstore", id).await.expect("api").spec;
        changed.backend.mock.body = "two".into();
        control.update_api("petstore", id, &changed, &admin()).await.expect("edit");
        control.create_version("petstore", &version("2.0.0"), &admin()).await.expect("v2");
        (control, dir)
    }

    fn version(label: &str) -> VersionSpec {
        VersionSpec { label: label.into(), description: String::new() }
    }

    fn release_spec(version: &str, backend: DeployBackend) -> ReleaseSpec {
        ReleaseSpec { version: version.into(), backend, note: "test".into() }
    }

    fn live_version(control: &Control, env: Environment) -> Option<String> {
        let snapshot = control.snapshots().current();
        let binding = snapshot.host("petstore.localhost")?;
        binding.group.deployment(env).map(|d| d.version.to_string())
    }

    #[tokio::test]
    async fn versions_freeze_the_draft_with_unique_labels() {
        let (control, _dir, id) = with_api("one").await;
        let first = control.create_version("petstore", &version("1.0.0"), &admin()).await.expect("freeze");
        assert_eq!((first.api_count, first.changes.added.len()), (1, 1));
        let duplicate = control.create_version("petstore", &version("1.0.0"), &admin()).await.expect_err("dup");
        assert!(matches!(duplicate, ControlError::Validation(ref e) if e[0].field == "label"));

        let mut changed = control.get_api("petstore", id).await.expect("api").spec;
        changed.backend.mock.body = "two".into();
        control.update_api("petstore", id, &changed, &admin()).await.expect("edit draft");
        let second = control.create_version("petstore", &version("1.1.0"), &admin()).await.expect("freeze");
        assert_eq!(second.base.as_deref(), Some("1.0.0"));
        assert_eq!(second.changes.changed[0].fields[0].field, "backend.mock.body");
        assert_ne!(first.content_hash, second.content_hash);

        let listed = control.list_versions("petstore").await.expect("list");
        assert_eq!(listed.iter().map(|v| v.label.as_str()).collect::<Vec<_>>(), ["1.1.0", "1.0.0"]);
        let diff = control.diff_versions("petstore", "1.1.0", "1.0.0").await.expect("diff");
        assert_eq!(diff.changed[0].fields[0].new.as_deref(), Some("\"one\""));
    }

    #[tokio::test]
    async fn an_empty_draft_cannot_be_frozen() {
        let (control, _dir) = control().await;
        let group = GroupSpec { name: "empty".into(), subdomain: "empty".into(), description: String::new() };
        control.create_group(&group, &admin()).await.expect("group");
        let refused = control.create_version("empty", &version("1"), &admin()).await.expect_err("empty draft");
        assert!(
            matches!(&refused, ControlError::Validation(e) if e[0].field == "label" && e[0].message == "the draft has no APIs to freeze"),
            "{refused:?}"
        );
        assert!(control.list_versions("empty").await.expect("versions").is_empty());
    }

    #[tokio::test]
    async fn release_switch_and_offline_change_the_gateway_and_the_history() {
        let (control, _dir) = with_two_versions().await;
        let revision = control.config_revision().await.expect("revision");

        control
            .release("petstore", Environment::Test, &release_spec("1.0.0", DeployBackend::Mock), &admin())
            .await
            .expect("release");
        assert_eq!(live_version(&control, Environment::Test).as_deref(), Some("1.0.0"));
        assert_eq!(live_version(&control, Environment::Prod), None);
        control
            .release("petstore", Environment::Test, &release_spec("2.0.0", DeployBackend::Mock), &admin())
            .await
            .expect("switch");
        assert_eq!(live_version(&control, Environment::Test).as_deref(), Some("2.0.0"));
        control.take_offline("petstore", Environment::Test, &admin()).await.expect("offline");
        assert_eq!(live_version(&control, Environment::Test), None);
        assert_eq!(control.config_revision().await.expect("revision"), revision + 3);
        assert_eq!(control.snapshots().current().revision, revision + 3);

        let history = control.deployment_history("petstore").await.expect("history");
        let actions: Vec<_> =
            history.iter().map(|e| (e.action.as_str(), e.from_version.as_deref(), e.to_version.as_deref())).collect();
        assert_eq!(
            actions,
            [
                ("offline", Some("2.0.0"), None),
                ("switch", Some("1.0.0"), Some("2.0.0")),
                ("release", None, Some("1.0.0"))
            ]
        );
    }

    #[tokio::test]
    async fn bad_releases_change_nothing() {
        let (control, _dir, _) = with_api("one").await;
        control.create_version("petstore", &version("1.0.0"), &admin()).await.expect("v1");
        // Creating the group was a change to what is served; the refused releases are not.
        let before = control.config_revision().await.expect("revision");
        let bad_address = release_spec("1.0.0", DeployBackend::Http { address: "not-an-address".into() });
        let error = control.release("petstore", Environment::Test, &bad_address, &admin()).await.expect_err("address");
        assert!(matches!(error, ControlError::Validation(ref e) if e[0].field == "backend.address"), "{error:?}");
        let missing =
            control.release("petstore", Environment::Test, &release_spec("9.9.9", DeployBackend::Mock), &admin()).await;
        assert!(matches!(missing, Err(ControlError::Validation(ref e)) if e[0].field == "version"));
        assert!(control.list_deployments("petstore").await.expect("list").is_empty());
        assert_eq!(control.config_revision().await.expect("revision"), before);
    }

    #[tokio::test]
    async fn a_refused_release_of_the_draft_leaves_no_version_behind() {
        let (control, _dir, _) = with_api("one").await;
        let bad = DeployBackend::Http { address: "nope".into() };
        let error = control.release_draft("petstore", Environment::Test, &version("1.0.0"), &bad, "", &admin()).await;
        assert!(matches!(error, Err(ControlError::Validation(ref e)) if e[0].field == "backend.address"));
        assert!(control.list_versions("petstore").await.expect("list").is_empty());
        control
            .release_draft("petstore", Environment::Test, &version("1.0.0"), &DeployBackend::Mock, "", &admin())
            .await
            .expect("release");
        assert_eq!(live_version(&control, Environment::Test).as_deref(), Some("1.0.0"));
    }

    #[tokio::test]
    async fn a_release_of_the_draft_refused_after_its_version_was_made_leaves_no_version() {
        let (control, _dir, _) = with_api("one").await;
        let guard = gateway::guard::AddressGuard::parse("127.0.0.0/8").expect("guard");
        let control = control.with_backend_guard(guard);
        // Valid as an address, refused only by the guard, which release() checks.
        let blocked = DeployBackend::Http { address: "http://127.0.0.1:9".into() };
        let error =
            control.release_draft("petstore", Environment::Test, &version("1.0.0"), &blocked, "", &admin()).await;
        assert!(matches!(error, Err(ControlError::Validation(ref e)) if e[0].message.contains("blocked range")));
        assert!(control.list_versions("petstore").await.expect("list").is_empty(), "no orphan version");
    }

    #[tokio::test]
    async fn a_failure_after_the_first_write_rolls_the_whole_release_back() {
        let (control, _dir) = with_two_versions().await;
        control
            .release("petstore", Environment::Test, &release_spec("1.0.0", DeployBackend::Mock), &admin())
            .await
            .expect("release");
        let revision = control.config_revision().await.expect("revision");

        // The deployment row is written first; the event insert then fails.
        let db = control.db();
        db.execute_raw(Statement::from_string(db.get_database_backend(), "DROP TABLE deployment_events".to_owned()))
            .await
            .expect("drop");
        let failed =
            control.release("petstore", Environment::Test, &release_spec("2.0.0", DeployBackend::Mock), &admin()).await;
        assert!(matches!(failed, Err(ControlError::Database(_))), "{failed:?}");
        let live = control.list_deployments("petstore").await.expect("list");
        assert_eq!(live[0].version, "1.0.0", "the previous deployment is intact");
        assert_eq!(control.config_revision().await.expect("revision"), revision);
        assert_eq!(live_version(&control, Environment::Test).as_deref(), Some("1.0.0"));
    }

    #[tokio::test]
    async fn a_live_version_cannot_be_deleted_and_functions_that_do_not_compile_are_refused() {
        let (control, _dir, id) = with_api("one").await;
        control.create_version("petstore", &version("1.0.0"), &admin()).await.expect("v1");
        control
            .release("petstore", Environment::Prod, &release_spec("1.0.0", DeployBackend::Mock), &admin())
            .await
            .expect("release");
        assert!(matches!(control.delete_version("petstore", "1.0.0", &admin()).await, Err(ControlError::Conflict(_))));

        // Saving refuses code that does not compile, naming the line.
        let mut function = control.get_api("petstore", id).await.expect("api").spec;
        function.backend.unified = false;
        function.backend.kind = BackendType::Function;
        function.backend.function.code = "export default function handler() {\n  return {status: };\n}".into();
        match control.update_api("petstore", id, &function, &admin()).await {
            Err(ControlError::Validation(e)) => {
                assert_eq!(e[0].field, "backend.function.code");
                assert!(e[0].message.starts_with("line 2, column"), "{}", e[0].message);
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        function.backend.function.code = "export default function handler() { return {status: 200} }".into();
        control.update_api("petstore", id, &function, &admin()).await.expect("edit");
        control.create_version("petstore", &version("2.0.0"), &admin()).await.expect("v2");
        control
            .release("petstore", Environment::Test, &release_spec("2.0.0", DeployBackend::Mock), &admin())
            .await
            .expect("a function that compiles is released");

        // A version whose function no longer compiles (stored before the check existed) is refused.
        control.create_version("petstore", &version("3.0.0"), &admin()).await.expect("v3");
        let broken = r#"UPDATE versions SET snapshot = replace(snapshot, 'return {status: 200}', 'return {status: ') WHERE label = '3.0.0'"#;
        control.db().execute_unprepared(broken).await.expect("corrupt");
        let refused =
            control.release("petstore", Environment::Prod, &release_spec("3.0.0", DeployBackend::Mock), &admin()).await;
        assert!(
            matches!(refused, Err(ControlError::Validation(ref e)) if e[0].message.contains("does not compile")),
            "{refused:?}"
        );
        assert_eq!(live_version(&control, Environment::Prod).as_deref(), Some("1.0.0"));
    }
}
