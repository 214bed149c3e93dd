//! Canary releases: **start or adjust** a second version beside an environment's deployment
//! (`PUT …/deployments/{env}/canary`), **promote** it (it becomes the environment's version,
//! one transaction, one audit event) or **roll it back** (removed). Each step is one
//! transaction with its deployment event (`canary.start`, `canary.adjust`,
//! `canary.promote`, `canary.rollback`) and audit event, and recompiles the group: the
//! gateway's snapshot swap is atomic, so requests in flight finish on what they started on
//! and none fails.
//!
//! The rules are a release's (the version must exist and every API be servable with the
//! backend, the SSRF guard included; Production is admins' and follows the approval
//! setting) plus: something must be live in the environment, the canary must differ from
//! it, and a rule's app must exist.

use crate::entity::{app, canary, deployment, deployment_event, version};
use crate::revision::Refresh;
use crate::users::Action;
use crate::{Control, ControlError, CurrentUser};
use domain::canary::{CanaryMatch, CanarySpec, CanaryView};
use domain::release::{DeploymentView, ReleaseSpec};
use domain::Environment;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

impl Control {
    /// The canaries running in a group.
    pub(crate) async fn group_canaries(&self, group_id: i32) -> Result<Vec<CanaryView>, ControlError> {
        let mut views = Vec::new();
        for model in canary::Entity::find().filter(canary::Column::GroupId.eq(group_id)).all(self.db()).await? {
            let label = version::Entity::find_by_id(model.version_id).one(self.db()).await?.map(|v| v.label);
            views.push(view(&model, label.unwrap_or_default())?);
        }
        views.sort_by_key(|v| v.environment);
        Ok(views)
    }

    /// `GET /groups/{group}/deployments/{env}/canary`.
    pub async fn get_canary(&self, group: &str, env: Environment) -> Result<CanaryView, ControlError> {
        let group = self.find_group(group).await?;
        self.group_canaries(group.id)
            .await?
            .into_iter()
            .find(|c| c.environment == env)
            .ok_or_else(|| ControlError::NotFound(format!("a canary of `{}` in {}", group.name, env.label())))
    }

    /// Starts a canary in `env`, or changes the one running (version, backend, weight, rule,
    /// stickiness).
    pub async fn set_canary(
        &self,
        group: &str,
        env: Environment,
        spec: &CanarySpec,
        actor: &CurrentUser,
    ) -> Result<CanaryView, ControlError> {
        actor.require(Action::Deploy(group, env))?;
        self.approval_gate(env)?;
        let valid = spec.validate().map_err(ControlError::Validation)?;
        let release =
            ReleaseSpec { version: spec.version.clone(), backend: spec.backend.clone(), note: spec.note.clone() };
        let prepared = self.prepare_release(group, env, &release).await?;
        let group = &prepared.group;
        let txn = self.begin_write().await?;
        if let Some(CanaryMatch::App(name)) = &valid.rule {
            if app::Entity::find().filter(app::Column::Name.eq(name)).one(&txn).await?.is_none() {
                return Err(ControlError::field("match.app", format!("there is no app named `{name}`")));
            }
        }
        let live = deployment::Entity::find()
            .filter(deployment::Column::GroupId.eq(group.id))
            .filter(deployment::Column::Environment.eq(env.as_str()))
            .one(&txn)
            .await?
            .ok_or_else(|| {
                ControlError::Conflict(format!(
                    "nothing of `{}` is live in {}: release a version first, then start a canary beside it",
                    group.name,
                    env.label()
                ))
            })?;
        let backend = serde_json::to_value(&prepared.backend).map_err(|e| ControlError::Internal(e.to_string()))?;
        if live.version_id == prepared.target_id && live.backend == backend {
            return Err(ControlError::field(
                "version",
                format!("{} serves `{}` with this backend already", env.label(), prepared.target_label),
            ));
        }
        let rule = valid
            .rule
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(|e| ControlError::Internal(e.to_string()))?;
        let current = canary::Entity::find()
            .filter(canary::Column::GroupId.eq(group.id))
            .filter(canary::Column::Environment.eq(env.as_str()))
            .one(&txn)
            .await?;
        let now = chrono::Utc::now();
        let before = match &current {
            Some(model) => Some(self.canary_summary(&txn, model).await?),
            None => None,
        };
        let action = if current.is_some() { "adjust" } else { "start" };
        let model = match current {
            Some(model) => {
                let mut active: canary::ActiveModel = model.into();
                active.version_id = Set(prepared.target_id);
                active.backend = Set(backend.clone());
                active.weight = Set(valid.weight);
                active.rule = Set(rule);
                active.sticky = Set(valid.sticky);
                active.note = Set(prepared.note.clone());
                active.started_by = Set(actor.username.clone());
                active.update(&txn).await?
            }
            None => {
                canary::ActiveModel {
                    group_id: Set(group.id),
                    environment: Set(env.as_str().to_owned()),
                    version_id: Set(prepared.target_id),
                    backend: Set(backend.clone()),
                    weight: Set(valid.weight),
                    rule: Set(rule),
                    sticky: Set(valid.sticky),
                    note: Set(prepared.note.clone()),
                    started_at: Set(now),
                    started_by: Set(actor.username.clone()),
                    ..Default::default()
                }
                .insert(&txn)
                .await?
            }
        };
        let view = view(&model, prepared.target_label.clone())?;
        let from_label = version::Entity::find_by_id(live.version_id).one(&txn).await?.map(|v| v.label);
        let step = format!("canary.{action}");
        self.canary_event(&txn, &model, &step, Some(live.version_id), from_label, Some(backend), actor).await?;
        let after = serde_json::json!({"version": view.version, "backend": view.backend, "weight": view.weight,
            "match": view.rule, "sticky": view.sticky, "note": view.note});
        crate::audit::record(
            &txn,
            actor,
            &format!("deployment.canary_{action}"),
            "deployment",
            &format!("{}/{}", group.name, env.as_str()),
            before.as_ref(),
            Some(&after),
        )
        .await?;
        self.commit_live(txn, Refresh::Group(group.id)).await?;
        Ok(view)
    }

    /// Makes the canary the environment's version (its backend and note too) and removes
    /// it, in one transaction.
    pub async fn promote_canary(
        &self,
        group: &str,
        env: Environment,
        actor: &CurrentUser,
    ) -> Result<DeploymentView, ControlError> {
        actor.require(Action::Deploy(group, env))?;
        self.approval_gate(env)?;
        let running = self.get_canary(group, env).await?;
        let release = ReleaseSpec { version: running.version, backend: running.backend, note: running.note };
        let prepared = self.prepare_release(group, env, &release).await?;
        let txn = self.begin_write().await?;
        // Read again inside the write lock: a roll-back in between wins.
        let model = canary::Entity::find()
            .filter(canary::Column::GroupId.eq(prepared.group.id))
            .filter(canary::Column::Environment.eq(env.as_str()))
            .one(&txn)
            .await?
            .filter(|m| m.version_id == prepared.target_id)
            .ok_or_else(|| ControlError::Conflict("the canary changed meanwhile: look again and retry".into()))?;
        canary::Entity::delete_by_id(model.id).exec(&txn).await?;
        let view = self.write_release_as(&txn, env, &prepared, actor, true).await?;
        let revision = self.commit_changes(txn, vec![Refresh::Group(prepared.group.id)]).await?;
        Ok(DeploymentView { rollout: Some(self.rollout(revision).await), ..view })
    }

    /// Removes the canary: every caller gets the environment's version again. Allowed
    /// whatever the approval setting (it only undoes).
    pub async fn rollback_canary(
        &self,
        group: &str,
        env: Environment,
        actor: &CurrentUser,
    ) -> Result<(), ControlError> {
        actor.require(Action::Deploy(group, env))?;
        let group = self.find_group(group).await?;
        let txn = self.begin_write().await?;
        let model = canary::Entity::find()
            .filter(canary::Column::GroupId.eq(group.id))
            .filter(canary::Column::Environment.eq(env.as_str()))
            .one(&txn)
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("a canary of `{}` in {}", group.name, env.label())))?;
        let before = self.canary_summary(&txn, &model).await?;
        canary::Entity::delete_by_id(model.id).exec(&txn).await?;
        let label = version::Entity::find_by_id(model.version_id).one(&txn).await?.map(|v| v.label);
        self.canary_event(&txn, &model, "canary.rollback", Some(model.version_id), label, None, actor).await?;
        crate::audit::record(
            &txn,
            actor,
            "deployment.canary_rollback",
            "deployment",
            &format!("{}/{}", group.name, env.as_str()),
            Some(&before),
            None::<&()>,
        )
        .await?;
        self.commit_live(txn, Refresh::Group(group.id)).await
    }

    async fn canary_summary(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        model: &canary::Model,
    ) -> Result<serde_json::Value, ControlError> {
        let label = version::Entity::find_by_id(model.version_id).one(txn).await?.map(|v| v.label);
        Ok(serde_json::json!({"version": label, "backend": model.backend, "weight": model.weight,
            "match": model.rule, "sticky": model.sticky}))
    }

    #[allow(clippy::too_many_arguments)]
    /// A deployment history row for a canary step. For start and adjust, `from` is the live
    /// version and the row's target the canary; for a roll-back, `from` is the canary.
    async fn canary_event(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        model: &canary::Model,
        action: &str,
        from: Option<i32>,
        from_label: Option<String>,
        backend: Option<serde_json::Value>,
        actor: &CurrentUser,
    ) -> Result<(), ControlError> {
        let rollback = action == "canary.rollback";
        let to_label = if rollback {
            None
        } else {
            version::Entity::find_by_id(model.version_id).one(txn).await?.map(|v| v.label)
        };
        let weight = format!("{} %", model.weight);
        let note = if model.note.is_empty() || rollback { weight } else { format!("{weight}: {}", model.note) };
        deployment_event::ActiveModel {
            group_id: Set(model.group_id),
            environment: Set(model.environment.clone()),
            action: Set(action.to_owned()),
            from_version_id: Set(from),
            to_version_id: Set(if rollback { None } else { Some(model.version_id) }),
            backend: Set(backend),
            note: Set(note),
            actor: Set(actor.username.clone()),
            at: Set(chrono::Utc::now()),
            from_version_label: Set(from_label),
            to_version_label: Set(to_label),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        Ok(())
    }
}

fn view(model: &canary::Model, version: String) -> Result<CanaryView, ControlError> {
    Ok(CanaryView {
        environment: model.environment()?,
        version,
        backend: model.backend()?,
        weight: model.weight,
        rule: model.rule()?,
        sticky: model.sticky,
        started_at: model.started_at.to_rfc3339(),
        started_by: model.started_by.clone(),
        note: model.note.clone(),
    })
}
