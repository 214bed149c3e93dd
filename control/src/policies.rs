//! Traffic policies (throttling, IP access control, CORS) and their bindings to an API or a
//! whole group in one environment. A change to a bound policy, a binding or an unbinding
//! takes effect on the next request without a release: each commits with its audit event and
//! a `config_revision` bump, then the gateway's policy table is recompiled and swapped in
//! (`Refresh::Policies`), every group shared.

use crate::entity::{api, api_group, policy, policy_binding};
use crate::revision::Refresh;
use crate::users::Action;
use crate::{audit, Control, ControlError, CurrentUser};
use chrono::Utc;
use domain::policy::{BindingSpec, BindingView, PolicySpec, PolicyType, PolicyView};
use domain::Environment;
use gateway::policy::{Bound, CompiledPolicy, PolicyTable};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use std::collections::HashMap;
use std::sync::Arc;

impl Control {
    async fn find_policy(&self, db: &impl ConnectionTrait, name: &str) -> Result<policy::Model, ControlError> {
        policy::Entity::find()
            .filter(policy::Column::Name.eq(name.trim()))
            .one(db)
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("policy `{}`", name.trim())))
    }

    /// Every binding of `policy_id` (or of every policy), as the console shows them.
    async fn binding_views(&self, policy_id: Option<i32>) -> Result<Vec<BindingView>, ControlError> {
        let mut query = policy_binding::Entity::find().order_by_asc(policy_binding::Column::Id);
        if let Some(id) = policy_id {
            query = query.filter(policy_binding::Column::PolicyId.eq(id));
        }
        let rows = query.all(self.db()).await?;
        let groups: HashMap<i32, String> =
            api_group::Entity::find().all(self.db()).await?.into_iter().map(|g| (g.id, g.name)).collect();
        let names: HashMap<i32, (String, String)> =
            policy::Entity::find().all(self.db()).await?.into_iter().map(|p| (p.id, (p.name, p.policy_type))).collect();
        let api_ids: Vec<i32> = rows.iter().filter_map(policy_binding::Model::api).collect();
        let apis: HashMap<i32, String> = if api_ids.is_empty() {
            HashMap::new()
        } else {
            api::Entity::find()
                .filter(api::Column::Id.is_in(api_ids))
                .all(self.db())
                .await?
                .into_iter()
                .map(|a| (a.id, a.name))
                .collect()
        };
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            let Some((name, kind)) = names.get(&row.policy_id) else { continue };
            views.push(BindingView {
                id: row.id,
                policy: name.clone(),
                kind: PolicyType::parse(kind).map_err(ControlError::Internal)?,
                group: groups.get(&row.group_id).cloned().unwrap_or_default(),
                api: row.api(),
                api_name: row.api().and_then(|id| apis.get(&id).cloned()),
                env: row.environment()?,
            });
        }
        Ok(views)
    }

    fn policy_view(model: &policy::Model, bindings: Vec<BindingView>) -> Result<PolicyView, ControlError> {
        Ok(PolicyView {
            name: model.name.clone(),
            kind: PolicyType::parse(&model.policy_type).map_err(ControlError::Internal)?,
            description: model.description.clone(),
            config: model.config.clone(),
            bindings,
            updated_at: model.updated_at.to_rfc3339(),
        })
    }

    /// Every policy with its bindings, by name.
    pub async fn list_policies(&self) -> Result<Vec<PolicyView>, ControlError> {
        let models = policy::Entity::find().order_by_asc(policy::Column::Name).all(self.db()).await?;
        let mut bindings = self.binding_views(None).await?;
        models
            .iter()
            .map(|m| {
                let (mine, rest): (Vec<_>, Vec<_>) =
                    std::mem::take(&mut bindings).into_iter().partition(|b| b.policy == m.name);
                bindings = rest;
                Self::policy_view(m, mine)
            })
            .collect()
    }

    /// One policy with its bindings.
    pub async fn get_policy(&self, name: &str) -> Result<PolicyView, ControlError> {
        let model = self.find_policy(self.db(), name).await?;
        Self::policy_view(&model, self.binding_views(Some(model.id)).await?)
    }

    /// Creates a policy (bound nowhere yet).
    pub async fn create_policy(&self, spec: &PolicySpec, actor: &CurrentUser) -> Result<PolicyView, ControlError> {
        actor.require(Action::EditShared)?;
        let valid = spec.validate().map_err(ControlError::Validation)?;
        let spec = valid.spec;
        let txn = self.begin_write().await?;
        if policy::Entity::find().filter(policy::Column::Name.eq(&spec.name)).one(&txn).await?.is_some() {
            return Err(ControlError::field("name", format!("a policy named `{}` already exists", spec.name)));
        }
        let now = Utc::now();
        let model = policy::ActiveModel {
            name: Set(spec.name.clone()),
            policy_type: Set(spec.kind.as_str().to_owned()),
            description: Set(spec.description.clone()),
            config: Set(spec.config.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            updated_by: Set(actor.username.clone()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::record(&txn, actor, "policy.create", "policy", &spec.name, None::<&PolicySpec>, Some(&spec)).await?;
        txn.commit().await?;
        Self::policy_view(&model, Vec::new())
    }

    /// Replaces a policy's description and configuration (its type stays); where it is
    /// bound, the next request follows the new configuration.
    pub async fn update_policy(
        &self,
        name: &str,
        spec: &PolicySpec,
        actor: &CurrentUser,
    ) -> Result<PolicyView, ControlError> {
        actor.require(Action::EditShared)?;
        let valid = spec.validate().map_err(ControlError::Validation)?;
        let spec = valid.spec;
        let txn = self.begin_write().await?;
        let before = self.find_policy(&txn, name).await?;
        if before.policy_type != spec.kind.as_str() {
            return Err(ControlError::field(
                "type",
                format!("a policy's type cannot change (it is {})", before.policy_type),
            ));
        }
        if spec.name != before.name {
            return Err(ControlError::field("name", "a policy cannot be renamed"));
        }
        let mut active: policy::ActiveModel = before.clone().into();
        active.description = Set(spec.description.clone());
        active.config = Set(spec.config.clone());
        active.updated_at = Set(Utc::now());
        active.updated_by = Set(actor.username.clone());
        let model = active.update(&txn).await?;
        let old = serde_json::json!({"description": before.description, "config": before.config});
        audit::record(&txn, actor, "policy.update", "policy", &spec.name, Some(&old), Some(&spec)).await?;
        self.commit_live(txn, Refresh::Policies).await?;
        Self::policy_view(&model, self.binding_views(Some(model.id)).await?)
    }

    /// Deletes a policy and its bindings (the console asks first when it is bound).
    pub async fn delete_policy(&self, name: &str, actor: &CurrentUser) -> Result<(), ControlError> {
        actor.require(Action::EditShared)?;
        let txn = self.begin_write().await?;
        let model = self.find_policy(&txn, name).await?;
        policy_binding::Entity::delete_many().filter(policy_binding::Column::PolicyId.eq(model.id)).exec(&txn).await?;
        policy::Entity::delete_by_id(model.id).exec(&txn).await?;
        let before = serde_json::json!({"type": model.policy_type, "config": model.config});
        audit::record(&txn, actor, "policy.delete", "policy", &model.name, Some(&before), None::<&()>).await?;
        self.commit_live(txn, Refresh::Policies).await
    }

    /// Binds a policy to an API of a group, or the whole group, in one environment; at most
    /// one policy of each type per API (or group) and environment.
    pub async fn bind_policy(
        &self,
        name: &str,
        spec: &BindingSpec,
        actor: &CurrentUser,
    ) -> Result<BindingView, ControlError> {
        actor.require(Action::EditShared)?;
        let env: Environment = spec
            .env
            .trim()
            .parse()
            .map_err(|e: domain::environment::UnknownEnvironment| ControlError::field("env", e.to_string()))?;
        let txn = self.begin_write().await?;
        let model = self.find_policy(&txn, name).await?;
        let group = api_group::Entity::find()
            .filter(api_group::Column::Name.eq(spec.group.trim()))
            .one(&txn)
            .await?
            .ok_or_else(|| ControlError::field("group", format!("there is no group `{}`", spec.group.trim())))?;
        if let Some(id) = spec.api {
            let found = api::Entity::find_by_id(id).one(&txn).await?.filter(|a| a.group_id == group.id);
            if found.is_none() {
                return Err(ControlError::field("api", format!("group `{}` has no API {id}", group.name)));
            }
        }
        let taken = policy_binding::Entity::find()
            .filter(policy_binding::Column::PolicyType.eq(&model.policy_type))
            .filter(policy_binding::Column::GroupId.eq(group.id))
            .filter(policy_binding::Column::ApiId.eq(spec.api.unwrap_or(0)))
            .filter(policy_binding::Column::Environment.eq(env.as_str()))
            .one(&txn)
            .await?;
        if let Some(other) = taken {
            let holder =
                policy::Entity::find_by_id(other.policy_id).one(&txn).await?.map(|p| p.name).unwrap_or_default();
            let target = spec.api.map(|id| format!("API {id}")).unwrap_or_else(|| format!("group `{}`", group.name));
            return Err(ControlError::Conflict(format!(
                "{target} already has the {} policy `{holder}` in {}: unbind it first",
                model.policy_type,
                env.label()
            )));
        }
        let row = policy_binding::ActiveModel {
            policy_id: Set(model.id),
            policy_type: Set(model.policy_type.clone()),
            group_id: Set(group.id),
            api_id: Set(spec.api.unwrap_or(0)),
            environment: Set(env.as_str().to_owned()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::record_in(&txn, actor, Some(&group.name), "policy.bind", "policy", &model.name, None::<&()>, Some(spec))
            .await?;
        self.commit_live(txn, Refresh::Policies).await?;
        self.binding_views(Some(model.id))
            .await?
            .into_iter()
            .find(|b| b.id == row.id)
            .ok_or_else(|| ControlError::Internal("a binding just made is gone".into()))
    }

    /// A policy's bindings.
    pub async fn policy_bindings(&self, name: &str) -> Result<Vec<BindingView>, ControlError> {
        let model = self.find_policy(self.db(), name).await?;
        self.binding_views(Some(model.id)).await
    }

    /// The policies bound in a group (to it or to its APIs), for the API page and Deployment
    /// Management.
    pub async fn group_bindings(&self, group: &str) -> Result<Vec<BindingView>, ControlError> {
        let group = self.find_group(group).await?;
        Ok(self.binding_views(None).await?.into_iter().filter(|b| b.group == group.name).collect())
    }

    /// Removes one binding; the next request no longer follows the policy there.
    pub async fn unbind_policy(&self, name: &str, id: i32, actor: &CurrentUser) -> Result<(), ControlError> {
        actor.require(Action::EditShared)?;
        let txn = self.begin_write().await?;
        let model = self.find_policy(&txn, name).await?;
        let found = policy_binding::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .filter(|b| b.policy_id == model.id)
            .ok_or_else(|| ControlError::NotFound(format!("binding {id} of policy `{}`", model.name)))?;
        policy_binding::Entity::delete_by_id(found.id).exec(&txn).await?;
        let before = serde_json::json!({"group": found.group_id, "api": found.api(), "env": found.environment});
        audit::record(&txn, actor, "policy.unbind", "policy", &model.name, Some(&before), None::<&()>).await?;
        self.commit_live(txn, Refresh::Policies).await
    }

    /// The gateway's view of every binding.
    pub(crate) async fn compile_policies(&self) -> Result<PolicyTable, ControlError> {
        let mut compiled: HashMap<i32, Arc<CompiledPolicy>> = HashMap::new();
        for model in policy::Entity::find().all(self.db()).await? {
            let valid = model.valid()?;
            compiled.insert(
                model.id,
                Arc::new(CompiledPolicy { id: model.id, name: model.name.clone(), rule: valid.rule }),
            );
        }
        let mut bound = Vec::new();
        for row in policy_binding::Entity::find().all(self.db()).await? {
            let Some(policy) = compiled.get(&row.policy_id) else { continue };
            bound.push(Bound { group: row.group_id, api: row.api(), env: row.environment()?, policy: policy.clone() });
        }
        Ok(PolicyTable::new(bound))
    }

    /// Recompiles the policy table and swaps it in, sharing every group.
    pub(crate) async fn refresh_policies(&self) -> Result<(), ControlError> {
        let _guard = self.gateway_lock.lock().await;
        let revision = self.config_revision().await?;
        let policies = self.compile_policies().await?;
        let snapshot = self.snapshots.current().with_policies(policies, revision);
        self.snapshots.swap(snapshot);
        Ok(())
    }
}
