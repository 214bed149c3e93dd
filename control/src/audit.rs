//! The audit trail: one row per change, written in the same transaction as the change, with
//! who made it, from which address and in which group; and the Audit Log that reads it
//! (`Control::audit`, `Control::audit_export`). Rows are append-only: nothing in Gantry
//! updates or deletes them (no service, no REST route, no console action).

use crate::entity::audit_event;
use crate::{Control, ControlError, CurrentUser};
use domain::audit::{AuditFilter, AuditItem, AuditPage, AuditQuery, EXPORT_LIMIT};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Set,
};
use serde::Serialize;

/// Records that `actor` did `action` to `kind`/`id`, with the value before and after. The
/// group is the target's own for groups, and the part before `/` of the ids of what lives in
/// a group (`petstore/3`); [`record_in`] names it for the rest.
pub(crate) async fn record(
    db: &impl ConnectionTrait,
    actor: &CurrentUser,
    action: &str,
    kind: &str,
    id: &str,
    before: Option<&impl Serialize>,
    after: Option<&impl Serialize>,
) -> Result<(), ControlError> {
    let group = match kind {
        "group" => Some(id),
        "api" | "version" | "deployment" => id.split_once('/').map(|(group, _)| group),
        _ => None,
    };
    record_in(db, actor, group, action, kind, id, before, after).await
}

/// [`record`] with the group named.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_in(
    db: &impl ConnectionTrait,
    actor: &CurrentUser,
    group: Option<&str>,
    action: &str,
    kind: &str,
    id: &str,
    before: Option<&impl Serialize>,
    after: Option<&impl Serialize>,
) -> Result<(), ControlError> {
    audit_event::ActiveModel {
        actor: Set(actor.username.clone()),
        action: Set(action.to_owned()),
        entity_kind: Set(kind.to_owned()),
        entity_id: Set(id.to_owned()),
        before: Set(json(before)?),
        after: Set(json(after)?),
        at: Set(chrono::Utc::now()),
        address: Set(actor.address.clone()),
        group_name: Set(group.map(str::to_owned)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

fn json(value: Option<&impl Serialize>) -> Result<Option<serde_json::Value>, ControlError> {
    value.map(serde_json::to_value).transpose().map_err(|e| ControlError::Internal(format!("audit value: {e}")))
}

fn item(row: audit_event::Model) -> AuditItem {
    let null = serde_json::Value::Null;
    let diff = domain::release::json_changes(row.before.as_ref().unwrap_or(&null), row.after.as_ref().unwrap_or(&null));
    AuditItem {
        id: row.id,
        time: row.at.to_rfc3339(),
        user: row.actor,
        address: row.address,
        action: row.action,
        group: row.group_name,
        target: format!("{} {}", row.entity_kind, row.entity_id),
        diff,
    }
}

fn filtered(filter: &AuditFilter) -> Select<audit_event::Entity> {
    use audit_event::Column as C;
    let mut query = audit_event::Entity::find();
    if let Some(user) = &filter.user {
        query = query.filter(C::Actor.eq(user.as_str()));
    }
    if let Some(group) = &filter.group {
        query = query.filter(C::GroupName.eq(group.as_str()));
    }
    if let Some(action) = &filter.action {
        // `api` is every `api.*`; `api.update` is that action.
        let kind = Condition::any().add(C::Action.eq(action.as_str())).add(C::Action.starts_with(format!("{action}.")));
        query = query.filter(kind);
    }
    let time = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    if let Some(from) = filter.from_ms {
        query = query.filter(C::At.gte(time(from)));
    }
    if let Some(to) = filter.to_ms {
        query = query.filter(C::At.lte(time(to)));
    }
    query.order_by_desc(C::At).order_by_desc(C::Id)
}

impl Control {
    /// `GET /audit`, the Audit Log page: one page of changes, newest first, and the total.
    pub async fn audit(&self, query: &AuditQuery) -> Result<AuditPage, ControlError> {
        let filter = query.parse().map_err(ControlError::Validation)?;
        let total = filtered(&filter).count(self.db()).await?;
        let rows =
            filtered(&filter).offset((filter.page - 1) * filter.per_page).limit(filter.per_page).all(self.db()).await?;
        Ok(AuditPage {
            items: rows.into_iter().map(item).collect(),
            total,
            page: filter.page,
            per_page: filter.per_page,
        })
    }

    /// Every change matching `query` (paging ignored), newest first, at most
    /// [`EXPORT_LIMIT`]: the CSV and JSON-lines exports.
    pub async fn audit_export(&self, query: &AuditQuery) -> Result<Vec<AuditItem>, ControlError> {
        let filter = query.parse().map_err(ControlError::Validation)?;
        let rows = filtered(&filter).limit(EXPORT_LIMIT).all(self.db()).await?;
        Ok(rows.into_iter().map(item).collect())
    }
}
