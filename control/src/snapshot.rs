//! Compiles what is live into the gateway's [`gateway::Snapshot`] and swaps it in.
//!
//! After a release, switch or off-line commits, only the changed group is recompiled; the
//! other groups' compiled routers are shared (`Arc`) with the previous snapshot. Swaps are
//! serialised by a lock so two concurrent releases cannot publish a snapshot that misses the
//! other's change.

use crate::entity::{api_group, config_revision, custom_domain, deployment, version};
use crate::services::{service_of, ServiceDirectory};
use crate::{Control, ControlError};
use domain::api::{ApiSpec, BackendType};
use domain::release::{DeployBackend, VersionApi};
use domain::{BackendAddress, Environment};
use gateway::compiled::{CompiledApi, Target};
use gateway::snapshot::{CompiledGroup, HostBinding, LiveDeployment};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::sync::Arc;

/// Where one API of a deployment in `env` goes.
pub fn target_of(spec: &ApiSpec, backend: &DeployBackend, services: &ServiceDirectory, env: Environment) -> Target {
    if let Some(service) = service_of(spec, backend) {
        return services.resolve(service, env);
    }
    if spec.backend.unified {
        return match backend {
            DeployBackend::Mock => Target::Mock,
            DeployBackend::Http { address } => match BackendAddress::parse(address) {
                Ok(address) => Target::Http(address),
                Err(e) => Target::Unavailable(format!("release address: {e}")),
            },
            DeployBackend::Service { .. } => unreachable!("resolved above"),
        };
    }
    match spec.backend.kind {
        BackendType::Mock => Target::Mock,
        BackendType::Function => {
            let timeout = spec.backend.function.timeout_ms.unwrap_or(domain::backend::DEFAULT_FUNCTION_TIMEOUT_MS);
            Target::Function(Arc::new(gateway::function::FunctionCode::new(
                &spec.backend.function.code,
                std::time::Duration::from_millis(timeout),
            )))
        }
        BackendType::Http => match spec.backend.http.address.as_deref().map(BackendAddress::parse) {
            Some(Ok(address)) => Target::Http(address),
            Some(Err(e)) => Target::Unavailable(format!("backend address: {e}")),
            None => Target::Unavailable("no backend address or service".into()),
        },
    }
}

/// Compiled deployments by what they were compiled from (version, environment, release
/// backend, backend services). Versions never change, so switching back and forth between
/// two versions compiles each once; a service change makes a new key.
#[derive(Debug, Clone, Default)]
pub struct CompiledCache(Arc<std::sync::Mutex<std::collections::HashMap<String, Arc<LiveDeployment>>>>);

impl CompiledCache {
    const LIMIT: usize = 64;

    fn get(&self, key: &str) -> Option<Arc<LiveDeployment>> {
        self.0.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: String, deployment: Arc<LiveDeployment>) {
        if let Ok(mut cache) = self.0.lock() {
            if cache.len() >= Self::LIMIT {
                cache.clear();
            }
            cache.insert(key, deployment);
        }
    }
}

impl Control {
    /// The current `config_revision` (bumped by every change to what is live).
    pub async fn config_revision(&self) -> Result<i64, ControlError> {
        let row = config_revision::Entity::find_by_id(1).one(self.db()).await?;
        Ok(row.map(|r| r.revision).unwrap_or(0))
    }

    /// Compiles what the group has live; a group with nothing live compiles too, so its host
    /// answers "nothing of group … is live in TEST" rather than "no group answers".
    async fn compile_group(&self, group: &api_group::Model) -> Result<Arc<CompiledGroup>, ControlError> {
        let live = deployment::Entity::find().filter(deployment::Column::GroupId.eq(group.id)).all(self.db()).await?;
        let mut deployments: [Option<Arc<LiveDeployment>>; 3] = [None, None, None];
        let services = self.service_directory(self.db()).await?;
        for d in live {
            let env: Environment = d.environment.parse().map_err(|e| ControlError::Internal(format!("{e}")))?;
            let key = format!("{}|{}|{}|{services:?}", d.version_id, env.as_str(), d.backend);
            if let Some(compiled) = self.compiled.get(&key) {
                deployments[env.index()] = Some(compiled);
                continue;
            }
            let version = version::Entity::find_by_id(d.version_id)
                .one(self.db())
                .await?
                .ok_or_else(|| ControlError::Internal(format!("deployment {} points at a missing version", d.id)))?;
            let apis: Vec<VersionApi> = serde_json::from_value(version.snapshot)
                .map_err(|e| ControlError::Internal(format!("version {}: {e}", version.label)))?;
            let backend: DeployBackend = serde_json::from_value(d.backend)
                .map_err(|e| ControlError::Internal(format!("deployment backend: {e}")))?;
            let compiled = apis
                .iter()
                .map(|api| CompiledApi::compile(api.id, &api.spec, target_of(&api.spec, &backend, &services, env)))
                .collect::<Result<Vec<_>, String>>()
                .map_err(|e| ControlError::Internal(format!("compiling version {}: {e}", version.label)))?;
            let router = LiveDeployment::new(version.label.clone(), compiled)
                .map_err(|e| ControlError::Internal(format!("routing version {}: {e}", version.label)))?;
            let router = Arc::new(router);
            self.compiled.put(key, router.clone());
            deployments[env.index()] = Some(router);
        }
        Ok(Arc::new(CompiledGroup { id: group.id, name: group.name.clone(), deployments }))
    }

    /// Binds the group's subdomain and custom domains in `snapshot`.
    async fn bind_group(&self, snapshot: &mut gateway::Snapshot, group: &api_group::Model) -> Result<(), ControlError> {
        let compiled = self.compile_group(group).await?;
        let subdomain = format!("{}.{}", group.subdomain, self.base_domain);
        snapshot.bind_host(&subdomain, HostBinding { group: compiled.clone(), pinned: None });
        let domains =
            custom_domain::Entity::find().filter(custom_domain::Column::GroupId.eq(group.id)).all(self.db()).await?;
        for domain in domains {
            let pinned = domain.environment.as_deref().and_then(|e| e.parse::<Environment>().ok());
            snapshot.bind_host(&domain.host, HostBinding { group: compiled.clone(), pinned });
        }
        Ok(())
    }

    /// Recompiles every group and swaps the result in (start-up).
    pub async fn refresh_gateway(&self) -> Result<(), ControlError> {
        let _guard = self.gateway_lock.lock().await;
        let revision = self.config_revision().await?;
        let mut snapshot = gateway::Snapshot::empty(revision);
        snapshot.set_apps(self.compile_apps().await?);
        for group in api_group::Entity::find().all(self.db()).await? {
            self.bind_group(&mut snapshot, &group).await?;
        }
        self.snapshots.swap(snapshot);
        Ok(())
    }

    /// Recompiles one group and swaps it in, sharing every other group.
    pub(crate) async fn refresh_group(&self, group_id: i32) -> Result<(), ControlError> {
        let _guard = self.gateway_lock.lock().await;
        let revision = self.config_revision().await?;
        let mut snapshot = self.snapshots.current().without_group(group_id, revision);
        if let Some(group) = api_group::Entity::find_by_id(group_id).one(self.db()).await? {
            self.bind_group(&mut snapshot, &group).await?;
        }
        self.snapshots.swap(snapshot);
        Ok(())
    }
}
