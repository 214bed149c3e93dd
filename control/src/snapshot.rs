//! Compiles what is live into the gateway's [`gateway::Snapshot`] and swaps it in.
//!
//! After a release, switch or off-line commits, only the changed group is recompiled; the
//! other groups' compiled routers are shared (`Arc`) with the previous snapshot. Swaps are
//! serialised by a lock so two concurrent releases cannot publish a snapshot that misses the
//! other's change.

use crate::entity::{api_group, canary, custom_domain, deployment, version};
use crate::resolve::target_of;
use crate::{Control, ControlError};
use domain::canary::CanaryMatch;
use gateway::compiled::CompiledApi;
use gateway::snapshot::{Canary, CanaryRule, CompiledGroup, HostBinding, LiveDeployment};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::sync::Arc;

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
    /// Compiles what the group has live, and its canaries; a group with nothing live
    /// compiles too, so its host answers "nothing of group … is live in TEST" rather than
    /// "no group answers".
    async fn compile_group(&self, group: &api_group::Model) -> Result<Arc<CompiledGroup>, ControlError> {
        let live = deployment::Entity::find().filter(deployment::Column::GroupId.eq(group.id)).all(self.db()).await?;
        let mut deployments: [Option<Arc<LiveDeployment>>; 3] = [None, None, None];
        let mut canaries: [Option<Arc<Canary>>; 3] = [None, None, None];
        let services = self.service_directory(self.db()).await?;
        for d in live {
            let env = d.environment()?;
            deployments[env.index()] = Some(self.compile_live(d.version_id, env, &d.backend, &services).await?);
        }
        for c in canary::Entity::find().filter(canary::Column::GroupId.eq(group.id)).all(self.db()).await? {
            let env = c.environment()?;
            let served = self.compile_live(c.version_id, env, &c.backend, &services).await?;
            let rule = match c.rule()? {
                None => CanaryRule::Everyone,
                Some(CanaryMatch::App(name)) => CanaryRule::App(name),
                Some(CanaryMatch::Header { name, value }) => {
                    match (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_str(&value)) {
                        (Ok(name), Ok(value)) => CanaryRule::Header(name, value),
                        _ => return Err(crate::entity::unreadable("canary", c.id, "header rule")),
                    }
                }
                Some(CanaryMatch::Ip(range)) => CanaryRule::Ip(
                    domain::policy::IpRange::parse(&range).map_err(|e| crate::entity::unreadable("canary", c.id, e))?,
                ),
            };
            let parts = domain::canary::parts(c.weight);
            canaries[env.index()] = Some(Arc::new(Canary::new(served, parts, rule, c.sticky)));
        }
        let label = gateway::access_log::Label::of(group.id, &group.name);
        Ok(Arc::new(CompiledGroup { id: group.id, name: group.name.as_str().into(), label, deployments, canaries }))
    }

    /// Compiles a version for an environment with a release backend (cached by all three and
    /// the backend services).
    async fn compile_live(
        &self,
        version_id: i32,
        env: domain::Environment,
        backend_json: &serde_json::Value,
        services: &crate::resolve::ServiceDirectory,
    ) -> Result<Arc<LiveDeployment>, ControlError> {
        let key = format!("{}|{}|{}|{services:?}", version_id, env.as_str(), backend_json);
        if let Some(compiled) = self.compiled.get(&key) {
            return Ok(compiled);
        }
        let version = version::Entity::find_by_id(version_id)
            .one(self.db())
            .await?
            .ok_or_else(|| ControlError::Internal(format!("version {version_id} is live but missing")))?;
        let apis = version.apis()?;
        let backend: domain::release::DeployBackend = crate::entity::json(backend_json, "release backend", version_id)?;
        // A frozen API was valid when saved; validating again gives the parsed form the
        // gateway compiles (and refuses, rather than serves, a row damaged since).
        let compiled = apis
            .iter()
            .map(|api| {
                let valid = api.spec.validate().map_err(|errors| {
                    format!("API {}: {}", api.id, errors.first().map(|e| e.message.as_str()).unwrap_or_default())
                })?;
                CompiledApi::compile(api.id, &valid, target_of(&api.spec, &backend, services, env))
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| ControlError::Internal(format!("compiling version {}: {e}", version.label)))?;
        let router = LiveDeployment::new(version.label.clone(), compiled)
            .map_err(|e| ControlError::Internal(format!("routing version {}: {e}", version.label)))?;
        let router = Arc::new(router);
        self.compiled.put(key, router.clone());
        Ok(router)
    }

    /// Binds the group's subdomain and custom domains in `snapshot`.
    async fn bind_group(&self, snapshot: &mut gateway::Snapshot, group: &api_group::Model) -> Result<(), ControlError> {
        let compiled = self.compile_group(group).await?;
        let subdomain = format!("{}.{}", group.subdomain, self.base_domain);
        snapshot.bind_host(&subdomain, HostBinding { group: compiled.clone(), pinned: None });
        let domains =
            custom_domain::Entity::find().filter(custom_domain::Column::GroupId.eq(group.id)).all(self.db()).await?;
        for domain in domains {
            let pinned = domain.pinned().ok().flatten();
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
        snapshot.set_policies(self.compile_policies().await?);
        snapshot.set_certificates(self.compile_certificates().await?);
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
