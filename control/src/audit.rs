//! The audit trail: one row per change, written in the same transaction as the change.

use crate::entity::audit_event;
use crate::{ControlError, CurrentUser};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::Serialize;

/// Records that `actor` did `action` to `kind`/`id`, with the value before and after.
pub(crate) async fn record(
    db: &impl ConnectionTrait,
    actor: &CurrentUser,
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
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

fn json(value: Option<&impl Serialize>) -> Result<Option<serde_json::Value>, ControlError> {
    value.map(serde_json::to_value).transpose().map_err(|e| ControlError::Internal(format!("audit value: {e}")))
}
