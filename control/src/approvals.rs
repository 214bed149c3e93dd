//! Guarded Production changes. A developer of a group (or an admin) *requests* a release,
//! switch or off-line of Production; an admin other than the requester *approves* it (the
//! change is then made in the same transaction that marks the request approved, with one
//! audit row for the approval and one for the deployment) or *rejects* it; the requester may
//! *withdraw* it while pending.
//!
//! With `GANTRY_PRODUCTION_APPROVAL` on, a request is the only way to change Production
//! (admins included: four eyes); without it, admins change Production directly and
//! developers may still ask them through a request.

use crate::entity::{api_group, release_request};
use crate::releases::PreparedRelease;
use crate::revision::Refresh;
use crate::users::Action;
use crate::{audit, Control, ControlError, CurrentUser};
use domain::approval::{Decision, ReleaseRequestView, RequestSpec, RequestStatus};
use domain::release::ReleaseSpec;
use domain::Environment;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use std::collections::HashMap;

/// The most requests one listing returns.
const LIST_LIMIT: u64 = 200;

/// What `GET /release-requests` filters on.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RequestQuery {
    pub status: Option<String>,
    pub group: Option<String>,
}

fn status_of(model: &release_request::Model) -> Result<RequestStatus, ControlError> {
    RequestStatus::parse(&model.status).map_err(|why| crate::entity::unreadable("release request", model.id, why))
}

impl Control {
    /// Refuses a direct change of Production when changes there need approval.
    pub(crate) fn approval_gate(&self, env: Environment) -> Result<(), ControlError> {
        if self.production_approval() && env == Environment::Prod {
            return Err(ControlError::Forbidden(
                "Production changes need an approved request here: use Request Release \
                 (POST /groups/{group}/deployments/prod/requests), then another admin approves it"
                    .to_owned(),
            ));
        }
        Ok(())
    }

    /// `POST /groups/{group}/deployments/{env}/requests`: asks for a Production change. The
    /// release is checked now as it would be on approval (and again then).
    pub async fn request_change(
        &self,
        group: &str,
        env: Environment,
        spec: &RequestSpec,
        actor: &CurrentUser,
    ) -> Result<ReleaseRequestView, ControlError> {
        actor.require(Action::RequestDeploy(group))?;
        if env != Environment::Prod {
            return Err(ControlError::field(
                "environment",
                "only Production changes are requested; release to Test and Pre-release directly",
            ));
        }
        let note = domain::names::text(&spec.note, 500).map_err(|m| ControlError::field("note", m))?;
        let found = self.find_group(group).await?;
        let (kind, version, backend) = if spec.offline {
            if spec.version.is_some() || spec.backend.is_some() {
                return Err(ControlError::field("offline", "an off-line request names no version or backend"));
            }
            if !self.list_deployments(group).await?.iter().any(|d| d.environment == env) {
                return Err(ControlError::Conflict(format!("group `{group}` is not live in {}", env.label())));
            }
            ("offline", None, None)
        } else {
            let mut missing = Vec::new();
            if spec.version.as_deref().is_none_or(|v| v.trim().is_empty()) {
                missing.push(domain::FieldError::new("version", "is required (or send \"offline\": true)"));
            }
            if spec.backend.is_none() {
                missing.push(domain::FieldError::new("backend", "is required"));
            }
            if !missing.is_empty() {
                return Err(ControlError::Validation(missing));
            }
            let release = ReleaseSpec {
                version: spec.version.clone().unwrap_or_default(),
                backend: spec.backend.clone().unwrap_or(domain::release::DeployBackend::Mock),
                note: note.clone(),
            };
            let prepared = self.prepare_release(group, env, &release).await?;
            ("release", Some(prepared.target_label), Some(prepared.backend))
        };
        let backend_json = backend
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(|e| ControlError::Internal(e.to_string()))?;
        let txn = self.begin_write().await?;
        let model = release_request::ActiveModel {
            group_id: Set(found.id),
            environment: Set(env.as_str().to_owned()),
            kind: Set(kind.to_owned()),
            version_label: Set(version),
            backend: Set(backend_json),
            note: Set(note),
            status: Set(RequestStatus::Pending.as_str().to_owned()),
            requested_by: Set(actor.username.clone()),
            requested_at: Set(chrono::Utc::now()),
            decided_by: Set(None),
            decided_at: Set(None),
            decision_note: Set(String::new()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let view = self.request_view(&model, &found.name, false).await?;
        let target = format!("{}/{}", found.name, model.id);
        audit::record_in(
            &txn,
            actor,
            Some(&found.name),
            "release_request.create",
            "release_request",
            &target,
            None::<&()>,
            Some(&view),
        )
        .await?;
        txn.commit().await?;
        self.request_view(&model, &found.name, true).await
    }

    /// `GET /release-requests`: requests newest first (at most 200), pending ones with what
    /// is live and the diff against it.
    pub async fn list_requests(&self, query: &RequestQuery) -> Result<Vec<ReleaseRequestView>, ControlError> {
        let mut select = release_request::Entity::find();
        if let Some(status) = query.status.as_deref().filter(|s| !s.is_empty()) {
            let status = RequestStatus::parse(status).map_err(|m| ControlError::field("status", m))?;
            select = select.filter(release_request::Column::Status.eq(status.as_str()));
        }
        if let Some(group) = query.group.as_deref().filter(|g| !g.is_empty()) {
            select = select.filter(release_request::Column::GroupId.eq(self.find_group(group).await?.id));
        }
        let rows = select.order_by_desc(release_request::Column::Id).limit(LIST_LIMIT).all(self.db()).await?;
        let groups: HashMap<i32, String> =
            api_group::Entity::find().all(self.db()).await?.into_iter().map(|g| (g.id, g.name)).collect();
        let mut views = Vec::with_capacity(rows.len());
        for row in &rows {
            let name = groups.get(&row.group_id).cloned().unwrap_or_default();
            views.push(self.request_view(row, &name, true).await?);
        }
        Ok(views)
    }

    /// `POST /release-requests/{id}/approve`: an admin other than the requester approves; the
    /// change is made in the same transaction (checked again first: a version deleted or a
    /// backend refused since the request is a 422 and the request stays pending).
    pub async fn approve_request(
        &self,
        id: i32,
        decision: &Decision,
        actor: &CurrentUser,
    ) -> Result<ReleaseRequestView, ControlError> {
        actor.require(Action::Approve)?;
        let note = domain::names::text(&decision.note, 500).map_err(|m| ControlError::field("note", m))?;
        let (model, group) = self.pending_request(id).await?;
        if model.requested_by == actor.username {
            return Err(ControlError::Forbidden("you may not approve your own request: another admin must".to_owned()));
        }
        let env = model.environment()?;
        let prepared: Option<PreparedRelease> = match (&model.version_label, model.backend()?) {
            (Some(version), Some(backend)) => {
                let by =
                    format!("{} (requested by {}, approved by {})", model.note, model.requested_by, actor.username);
                let spec =
                    ReleaseSpec { version: version.clone(), backend, note: by.trim().chars().take(500).collect() };
                Some(self.prepare_release(&group.name, env, &spec).await?)
            }
            _ => None,
        };
        let txn = self.begin_write().await?;
        let current = self.decide(&txn, id, RequestStatus::Approved, &note, actor).await?;
        match &prepared {
            Some(prepared) => {
                self.write_release(&txn, env, prepared, actor).await?;
            }
            None => self.write_offline(&txn, &group, env, actor).await?,
        }
        let view = self.request_view(&current, &group.name, false).await?;
        self.commit_changes(txn, vec![Refresh::Group(group.id)]).await?;
        Ok(view)
    }

    /// `POST /release-requests/{id}/reject`: an admin turns a pending request down.
    pub async fn reject_request(
        &self,
        id: i32,
        decision: &Decision,
        actor: &CurrentUser,
    ) -> Result<ReleaseRequestView, ControlError> {
        actor.require(Action::Approve)?;
        self.close_request(id, decision, RequestStatus::Rejected, actor).await
    }

    /// `DELETE /release-requests/{id}`: the requester (or an admin) withdraws a pending
    /// request.
    pub async fn withdraw_request(&self, id: i32, actor: &CurrentUser) -> Result<ReleaseRequestView, ControlError> {
        let (model, _) = self.pending_request(id).await?;
        if model.requested_by != actor.username && !actor.grant.allows(Action::Approve) {
            return Err(ControlError::Forbidden("only the requester or an admin may withdraw a request".to_owned()));
        }
        self.close_request(id, &Decision::default(), RequestStatus::Withdrawn, actor).await
    }

    async fn close_request(
        &self,
        id: i32,
        decision: &Decision,
        status: RequestStatus,
        actor: &CurrentUser,
    ) -> Result<ReleaseRequestView, ControlError> {
        let note = domain::names::text(&decision.note, 500).map_err(|m| ControlError::field("note", m))?;
        let (_, group) = self.pending_request(id).await?;
        let txn = self.begin_write().await?;
        let current = self.decide(&txn, id, status, &note, actor).await?;
        txn.commit().await?;
        self.request_view(&current, &group.name, false).await
    }

    /// A pending request and its group; any other state is a conflict naming it.
    async fn pending_request(&self, id: i32) -> Result<(release_request::Model, api_group::Model), ControlError> {
        let model = release_request::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("release request {id}")))?;
        let status = status_of(&model)?;
        if status != RequestStatus::Pending {
            return Err(ControlError::Conflict(format!("release request {id} is already {}", status.as_str())));
        }
        let group = api_group::Entity::find_by_id(model.group_id)
            .one(self.db())
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("the group of release request {id}")))?;
        Ok((model, group))
    }

    /// Marks a request decided inside `txn`, if it is still pending there (two admins
    /// deciding at once: the second is a conflict), with its audit row.
    async fn decide(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        id: i32,
        status: RequestStatus,
        note: &str,
        actor: &CurrentUser,
    ) -> Result<release_request::Model, ControlError> {
        let model = release_request::Entity::find_by_id(id)
            .one(txn)
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("release request {id}")))?;
        let was = status_of(&model)?;
        if was != RequestStatus::Pending {
            return Err(ControlError::Conflict(format!("release request {id} is already {}", was.as_str())));
        }
        let group = api_group::Entity::find_by_id(model.group_id).one(txn).await?.map(|g| g.name).unwrap_or_default();
        let mut active: release_request::ActiveModel = model.into();
        active.status = Set(status.as_str().to_owned());
        active.decided_by = Set(Some(actor.username.clone()));
        active.decided_at = Set(Some(chrono::Utc::now()));
        active.decision_note = Set(note.to_owned());
        let updated = active.update(txn).await?;
        let action = match status {
            RequestStatus::Approved => "release_request.approve",
            RequestStatus::Rejected => "release_request.reject",
            _ => "release_request.withdraw",
        };
        let before = serde_json::json!({"status": was.as_str()});
        let after = serde_json::json!({
            "status": status.as_str(),
            "requested_by": updated.requested_by,
            "version": updated.version_label,
            "note": note,
        });
        let target = format!("{group}/{id}");
        audit::record_in(txn, actor, Some(&group), action, "release_request", &target, Some(&before), Some(&after))
            .await?;
        Ok(updated)
    }

    /// A request as shown; with `live`, a pending one also carries what is live and the diff.
    async fn request_view(
        &self,
        model: &release_request::Model,
        group: &str,
        live: bool,
    ) -> Result<ReleaseRequestView, ControlError> {
        let status = status_of(model)?;
        let env = model.environment()?;
        let (mut live_version, mut diff) = (None, None);
        if live && status == RequestStatus::Pending {
            live_version =
                self.list_deployments(group).await?.into_iter().find(|d| d.environment == env).map(|d| d.version);
            if let (Some(_), Some(version)) = (&live_version, &model.version_label) {
                diff = self.diff_versions(group, env.as_str(), version).await.ok();
            }
        }
        Ok(ReleaseRequestView {
            id: model.id,
            group: group.to_owned(),
            environment: env,
            kind: model.kind.clone(),
            version: model.version_label.clone(),
            backend: model.backend()?,
            note: model.note.clone(),
            status,
            requested_by: model.requested_by.clone(),
            requested_at: model.requested_at.to_rfc3339(),
            decided_by: model.decided_by.clone(),
            decided_at: model.decided_at.map(|t| t.to_rfc3339()),
            decision_note: model.decision_note.clone(),
            live_version,
            diff,
        })
    }
}
