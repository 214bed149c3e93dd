//! Backend services: one backend with a URL per environment, used by APIs (their own HTTP
//! configuration names the service) and by releases (`{type: "service", service}` for the
//! unified APIs).
//!
//! Changing an environment's URL recompiles, in the same way as a release, every group with
//! a live API that uses the service there; deleting it takes those APIs off-line there (they
//! compile to [`Target::Offline`], a 404 naming the reason). Each change is one transaction
//! with its audit event (URL before and after) and a `config_revision` bump.

use crate::entity::{api, api_group, audit_event, backend_service, backend_service_url, deployment, version};
use crate::resolve::{service_of, ServiceDirectory};
use crate::revision::Refresh;
use crate::users::Action;
use crate::{audit, Control, ControlError, CurrentUser};
use chrono::Utc;
use domain::api::ApiSpec;
use domain::release::DeployBackend;
use domain::service::{
    ServiceEnvironment, ServiceEvent, ServiceKind, ServicePatch, ServiceSpec, ServiceUrlSpec, ServiceUser, ServiceView,
};
use domain::Environment;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use std::collections::{BTreeSet, HashMap};

fn kind_of(model: &backend_service::Model) -> Result<ServiceKind, ControlError> {
    ServiceKind::parse(&model.kind).map_err(ControlError::Internal)
}

fn route(spec: &ApiSpec) -> String {
    format!("{} {}", spec.request.method, spec.request.path)
}

impl Control {
    /// Every service's type and URLs.
    pub(crate) async fn service_directory(&self, db: &impl ConnectionTrait) -> Result<ServiceDirectory, ControlError> {
        let services = backend_service::Entity::find().all(db).await?;
        let urls = backend_service_url::Entity::find().all(db).await?;
        let mut directory = std::collections::BTreeMap::new();
        for service in services {
            let mut per_env: [Option<String>; 3] = [None, None, None];
            for url in urls.iter().filter(|u| u.service_id == service.id) {
                if let Ok(env) = url.environment() {
                    per_env[env.index()] = Some(url.url.clone());
                }
            }
            directory.insert(service.name.clone(), (kind_of(&service)?, per_env));
        }
        Ok(ServiceDirectory::new(directory))
    }

    async fn find_service(
        &self,
        db: &impl ConnectionTrait,
        name: &str,
    ) -> Result<backend_service::Model, ControlError> {
        backend_service::Entity::find()
            .filter(backend_service::Column::Name.eq(name.trim()))
            .one(db)
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("backend service `{}`", name.trim())))
    }

    /// Live APIs, per environment, that use service `name`, and the groups they are in.
    pub(crate) async fn live_users(&self, name: &str) -> Result<(Vec<Vec<ServiceUser>>, BTreeSet<i32>), ControlError> {
        let mut users = vec![Vec::new(), Vec::new(), Vec::new()];
        let mut groups = BTreeSet::new();
        let group_names: HashMap<i32, String> =
            api_group::Entity::find().all(self.db()).await?.into_iter().map(|g| (g.id, g.name)).collect();
        // Deployments and canaries alike: (group, environment, version, backend).
        let mut serving = Vec::new();
        for live in deployment::Entity::find().all(self.db()).await? {
            let Ok(env) = live.environment() else { continue };
            serving.push((live.group_id, env, live.version_id, live.backend()?));
        }
        for canary in crate::entity::canary::Entity::find().all(self.db()).await? {
            let Ok(env) = canary.environment() else { continue };
            serving.push((canary.group_id, env, canary.version_id, canary.backend()?));
        }
        for (group_id, env, version_id, backend) in serving {
            let Some(frozen) = version::Entity::find_by_id(version_id).one(self.db()).await? else { continue };
            let apis = frozen.apis()?;
            for api in apis.iter().filter(|a| service_of(&a.spec, &backend) == Some(name)) {
                groups.insert(group_id);
                users[env.index()].push(ServiceUser {
                    group: group_names.get(&group_id).cloned().unwrap_or_default(),
                    api_id: api.id,
                    api_name: api.spec.name.clone(),
                    route: route(&api.spec),
                    version: Some(frozen.label.clone()),
                    through_release: if api.spec.backend.unified { vec![env] } else { Vec::new() },
                });
            }
        }
        Ok((users, groups))
    }

    /// Draft APIs (any group) that use service `name`: those whose own configuration names
    /// it, and unified ones whose group is released (or has a canary) with the service as
    /// its backend in some environment, which the next release of the draft would keep.
    async fn draft_users(&self, name: &str) -> Result<Vec<ServiceUser>, ControlError> {
        let group_names: HashMap<i32, String> =
            api_group::Entity::find().all(self.db()).await?.into_iter().map(|g| (g.id, g.name)).collect();
        // Per group, the environments whose release or canary names the service.
        let mut released: HashMap<i32, BTreeSet<Environment>> = HashMap::new();
        let named = |backend: &DeployBackend| matches!(backend, DeployBackend::Service { service } if service == name);
        for live in deployment::Entity::find().all(self.db()).await? {
            if let (Ok(env), true) = (live.environment(), named(&live.backend()?)) {
                released.entry(live.group_id).or_default().insert(env);
            }
        }
        for canary in crate::entity::canary::Entity::find().all(self.db()).await? {
            if let (Ok(env), true) = (canary.environment(), named(&canary.backend()?)) {
                released.entry(canary.group_id).or_default().insert(env);
            }
        }
        let mut users = Vec::new();
        for model in api::Entity::find().order_by_asc(api::Column::Id).all(self.db()).await? {
            let spec = model.spec()?;
            let through_release: Vec<Environment> = match released.get(&model.group_id) {
                Some(envs) if spec.backend.unified => envs.iter().copied().collect(),
                _ => Vec::new(),
            };
            if !through_release.is_empty() || service_of(&spec, &DeployBackend::Mock) == Some(name) {
                users.push(ServiceUser {
                    group: group_names.get(&model.group_id).cloned().unwrap_or_default(),
                    api_id: model.id,
                    api_name: spec.name.clone(),
                    route: route(&spec),
                    version: None,
                    through_release,
                });
            }
        }
        Ok(users)
    }

    async fn service_view(&self, model: backend_service::Model) -> Result<ServiceView, ControlError> {
        let urls = backend_service_url::Entity::find()
            .filter(backend_service_url::Column::ServiceId.eq(model.id))
            .all(self.db())
            .await?;
        let (mut live, _) = self.live_users(&model.name).await?;
        let environments = Environment::ALL
            .into_iter()
            .map(|env| ServiceEnvironment {
                env,
                url: urls.iter().find(|u| u.environment == env.as_str()).map(|u| u.url.clone()),
                apis: std::mem::take(&mut live[env.index()]),
            })
            .collect();
        Ok(ServiceView {
            id: model.id,
            kind: kind_of(&model)?,
            draft: self.draft_users(&model.name).await?,
            name: model.name,
            description: model.description,
            environments,
            created_at: model.created_at.to_rfc3339(),
        })
    }

    /// Every backend service, by name, with its URLs and users.
    pub async fn list_services(&self) -> Result<Vec<ServiceView>, ControlError> {
        let mut views = Vec::new();
        for model in backend_service::Entity::find().order_by_asc(backend_service::Column::Name).all(self.db()).await? {
            views.push(self.service_view(model).await?);
        }
        Ok(views)
    }

    /// One backend service.
    pub async fn get_service(&self, name: &str) -> Result<ServiceView, ControlError> {
        let model = self.find_service(self.db(), name).await?;
        self.service_view(model).await
    }

    /// Creates a backend service (no URLs yet).
    pub async fn create_service(&self, spec: &ServiceSpec, actor: &CurrentUser) -> Result<ServiceView, ControlError> {
        actor.require(Action::EditShared)?;
        let spec = spec.validate().map_err(ControlError::Validation)?;
        let txn = self.begin_write().await?;
        if backend_service::Entity::find()
            .filter(backend_service::Column::Name.eq(&spec.name))
            .one(&txn)
            .await?
            .is_some()
        {
            return Err(ControlError::field("name", format!("a backend service named `{}` already exists", spec.name)));
        }
        let now = Utc::now();
        let model = backend_service::ActiveModel {
            name: Set(spec.name.clone()),
            kind: Set(spec.kind.as_str().to_owned()),
            description: Set(spec.description.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            actor,
            "service.create",
            "backend_service",
            &model.id.to_string(),
            None::<&()>,
            Some(&spec),
        )
        .await?;
        txn.commit().await?;
        self.service_view(model).await
    }

    /// Renames or describes a service; changing its type is refused. A rename is refused while
    /// anything uses the service (APIs and releases refer to it by name).
    pub async fn update_service(
        &self,
        name: &str,
        patch: &ServicePatch,
        actor: &CurrentUser,
    ) -> Result<ServiceView, ControlError> {
        actor.require(Action::EditShared)?;
        let before = self.find_service(self.db(), name).await?;
        let kind = kind_of(&before)?;
        if let Some(asked) = patch.kind.as_deref() {
            if ServiceKind::parse(asked).ok() != Some(kind) {
                return Err(ControlError::field(
                    "type",
                    format!("the type of a backend service cannot change after creation (it is {})", kind.label()),
                ));
            }
        }
        let spec = ServiceSpec {
            name: patch.name.clone().unwrap_or_else(|| before.name.clone()),
            kind,
            description: patch.description.clone().unwrap_or_else(|| before.description.clone()),
        }
        .validate()
        .map_err(ControlError::Validation)?;
        if spec.name != before.name {
            let (live, _) = self.live_users(&before.name).await?;
            if live.iter().any(|l| !l.is_empty()) || !self.draft_users(&before.name).await?.is_empty() {
                return Err(ControlError::field("name", "a backend service in use cannot be renamed"));
            }
        }
        let txn = self.begin_write().await?;
        if spec.name != before.name
            && backend_service::Entity::find()
                .filter(backend_service::Column::Name.eq(&spec.name))
                .one(&txn)
                .await?
                .is_some()
        {
            return Err(ControlError::field("name", format!("a backend service named `{}` already exists", spec.name)));
        }
        let mut active: backend_service::ActiveModel = before.clone().into();
        active.name = Set(spec.name.clone());
        active.description = Set(spec.description.clone());
        active.updated_at = Set(Utc::now());
        let after = active.update(&txn).await?;
        let old = ServiceSpec { name: before.name, kind, description: before.description };
        audit::record(&txn, actor, "service.update", "backend_service", &after.id.to_string(), Some(&old), Some(&spec))
            .await?;
        txn.commit().await?;
        self.service_view(after).await
    }

    /// Deletes a service nothing uses.
    pub async fn delete_service(&self, name: &str, actor: &CurrentUser) -> Result<(), ControlError> {
        actor.require(Action::EditShared)?;
        let model = self.find_service(self.db(), name).await?;
        let (live, _) = self.live_users(&model.name).await?;
        let draft = self.draft_users(&model.name).await?;
        if live.iter().any(|l| !l.is_empty()) || !draft.is_empty() {
            return Err(ControlError::Conflict(format!(
                "backend service `{}` is in use by {} live and {} draft API(s)",
                model.name,
                live.iter().map(Vec::len).sum::<usize>(),
                draft.len()
            )));
        }
        let txn = self.begin_write().await?;
        backend_service::Entity::delete_by_id(model.id).exec(&txn).await?;
        let id = model.id.to_string();
        audit::record(
            &txn,
            actor,
            "service.delete",
            "backend_service",
            &id,
            Some(&serde_json::json!({"name": model.name})),
            None::<&()>,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Sets (creates or changes) a service's URL in `env`. Every live API that uses the
    /// service there follows at once, with no re-release.
    pub async fn set_service_url(
        &self,
        name: &str,
        env: Environment,
        spec: &ServiceUrlSpec,
        actor: &CurrentUser,
    ) -> Result<ServiceView, ControlError> {
        actor.require(Action::EditShared)?;
        let model = self.find_service(self.db(), name).await?;
        let url = spec.validate(kind_of(&model)?).map_err(ControlError::Validation)?;
        let txn = self.begin_write().await?;
        let current = backend_service_url::Entity::find()
            .filter(backend_service_url::Column::ServiceId.eq(model.id))
            .filter(backend_service_url::Column::Environment.eq(env.as_str()))
            .one(&txn)
            .await?;
        let before = current.as_ref().map(|c| c.url.clone());
        match current {
            Some(row) => {
                let mut active: backend_service_url::ActiveModel = row.into();
                active.url = Set(url.clone());
                active.updated_at = Set(Utc::now());
                active.update(&txn).await?;
            }
            None => {
                backend_service_url::ActiveModel {
                    service_id: Set(model.id),
                    environment: Set(env.as_str().to_owned()),
                    url: Set(url.clone()),
                    updated_at: Set(Utc::now()),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
        }
        let event = |url: Option<String>| url.map(|url| serde_json::json!({"env": env, "url": url}));
        let id = model.id.to_string();
        audit::record(
            &txn,
            actor,
            "service.set_url",
            "backend_service",
            &id,
            event(before).as_ref(),
            event(Some(url)).as_ref(),
        )
        .await?;
        self.commit_live(txn, Refresh::ServiceUsers(model.name.clone())).await?;
        self.service_view(model).await
    }

    /// Deletes a service's URL in `env`: every live API that uses the service there goes
    /// off-line there (404), the other APIs of the same deployments keep serving.
    pub async fn delete_service_url(
        &self,
        name: &str,
        env: Environment,
        actor: &CurrentUser,
    ) -> Result<ServiceView, ControlError> {
        actor.require(Action::EditShared)?;
        let model = self.find_service(self.db(), name).await?;
        let txn = self.begin_write().await?;
        let row = backend_service_url::Entity::find()
            .filter(backend_service_url::Column::ServiceId.eq(model.id))
            .filter(backend_service_url::Column::Environment.eq(env.as_str()))
            .one(&txn)
            .await?
            .ok_or_else(|| {
                ControlError::NotFound(format!("a {} URL of backend service `{}`", env.label(), model.name))
            })?;
        backend_service_url::Entity::delete_by_id(row.id).exec(&txn).await?;
        let before = serde_json::json!({"env": env, "url": row.url});
        audit::record(
            &txn,
            actor,
            "service.delete_url",
            "backend_service",
            &model.id.to_string(),
            Some(&before),
            None::<&()>,
        )
        .await?;
        self.commit_live(txn, Refresh::ServiceUsers(model.name.clone())).await?;
        self.service_view(model).await
    }

    /// URL changes of a service, newest first.
    pub async fn service_history(&self, name: &str) -> Result<Vec<ServiceEvent>, ControlError> {
        let model = self.find_service(self.db(), name).await?;
        let events = audit_event::Entity::find()
            .filter(audit_event::Column::EntityKind.eq("backend_service"))
            .filter(audit_event::Column::EntityId.eq(model.id.to_string()))
            .order_by_desc(audit_event::Column::Id)
            .all(self.db())
            .await?;
        let field = |value: &Option<serde_json::Value>, key: &str| {
            value.as_ref().and_then(|v| v.get(key)).and_then(|v| v.as_str()).map(str::to_owned)
        };
        Ok(events
            .into_iter()
            .map(|e| ServiceEvent {
                action: e.action.trim_start_matches("service.").to_owned(),
                env: field(&e.before, "env").or_else(|| field(&e.after, "env")).and_then(|env| env.parse().ok()),
                before: field(&e.before, "url"),
                after: field(&e.after, "url"),
                actor: e.actor,
                at: e.at.to_rfc3339(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{admin, control};
    use domain::group::GroupSpec;
    use domain::release::ReleaseSpec;

    fn field(error: ControlError) -> String {
        match error {
            ControlError::Validation(errors) => errors.iter().map(|e| e.field.clone()).collect::<Vec<_>>().join(","),
            other => panic!("expected a validation error, got {other}"),
        }
    }

    fn target(control: &Control, env: Environment) -> Option<String> {
        let snapshot = control.snapshots().current();
        let live = snapshot.host("petstore.localhost")?.group.deployment(env)?.clone();
        match live.route(&http::Method::GET, "/pets") {
            gateway::snapshot::RouteMatch::Found(api, _) => Some(match &api.backend {
                gateway::compiled::Backend::Http(http) => format!("http {}", http.address.host()),
                gateway::compiled::Backend::Offline(reason) => format!("Offline: {reason}"),
                other => format!("{other:?}"),
            }),
            _ => None,
        }
    }

    #[tokio::test]
    async fn a_url_change_reaches_the_gateway_without_a_release_and_types_never_change() {
        let (control, _dir) = control().await;
        let spec = ServiceSpec { name: "pets".into(), kind: ServiceKind::Http, description: String::new() };
        control.create_service(&spec, &admin()).await.expect("service");
        let patch = ServicePatch { kind: Some("mock".into()), ..Default::default() };
        assert_eq!(field(control.update_service("pets", &patch, &admin()).await.expect_err("type")), "type");
        let bad = ServiceUrlSpec { url: "pets.internal".into() };
        assert_eq!(
            field(control.set_service_url("pets", Environment::Test, &bad, &admin()).await.expect_err("url")),
            "url"
        );

        let url = |u: &str| ServiceUrlSpec { url: u.into() };
        control.set_service_url("pets", Environment::Test, &url("http://10.0.0.1:81"), &admin()).await.expect("url");
        let group = GroupSpec { name: "petstore".into(), subdomain: "petstore".into(), description: String::new() };
        control.create_group(&group, &admin()).await.expect("group");
        let api: ApiSpec = serde_json::from_value(serde_json::json!({
            "name": "Pets", "request": {"method": "GET", "path": "/pets"},
            "backend": {"unified": false, "type": "http", "http": {"service": "pets"}}
        }))
        .expect("spec");
        control.create_api("petstore", &api, &admin()).await.expect("api");
        control
            .create_version(
                "petstore",
                &domain::release::VersionSpec { label: "1".into(), description: String::new() },
                &admin(),
            )
            .await
            .expect("v1");
        let release = ReleaseSpec { version: "1".into(), backend: DeployBackend::Mock, note: String::new() };
        control.release("petstore", Environment::Test, &release, &admin()).await.expect("release");
        assert!(target(&control, Environment::Test).expect("live").contains("10.0.0.1"));

        // Production has no URL: the release is refused, naming the service and the API.
        match control.release("petstore", Environment::Prod, &release, &admin()).await {
            Err(ControlError::Validation(errors)) => {
                assert!(errors[0].message.contains("`pets`") && errors[0].message.contains("`Pets`"), "{errors:?}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }

        let revision = control.config_revision().await.expect("revision");
        control.set_service_url("pets", Environment::Test, &url("http://10.0.0.2:82"), &admin()).await.expect("change");
        assert_eq!(control.config_revision().await.expect("revision"), revision + 1);
        assert!(target(&control, Environment::Test).expect("live").contains("10.0.0.2"), "no re-release needed");
        let view = control.get_service("pets").await.expect("view");
        assert_eq!(view.environments[0].apis.len(), 1);
        assert_eq!(view.draft.len(), 1);

        control.delete_service_url("pets", Environment::Test, &admin()).await.expect("delete");
        assert!(target(&control, Environment::Test).expect("routed").contains("Offline"));
        let history = control.service_history("pets").await.expect("history");
        assert_eq!(history[0].action, "delete_url");
        assert_eq!(history[1].before.as_deref(), Some("http://10.0.0.1:81"));
        assert_eq!(history[1].after.as_deref(), Some("http://10.0.0.2:82"));
        assert!(matches!(control.delete_service("pets", &admin()).await, Err(ControlError::Conflict(_))));
    }
}
