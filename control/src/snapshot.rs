//! Compiles what is live into the gateway's [`gateway::Snapshot`].
//!
//! Deployments arrive with the release issue; until then the compiled snapshot carries only
//! the current `config_revision` and serves nothing.

use crate::entity::config_revision;
use crate::{Control, ControlError};
use sea_orm::EntityTrait;

impl Control {
    /// The current `config_revision` (bumped by every change to what is live).
    pub async fn config_revision(&self) -> Result<i64, ControlError> {
        let row = config_revision::Entity::find_by_id(1).one(self.db()).await?;
        Ok(row.map(|r| r.revision).unwrap_or(0))
    }

    /// Builds the snapshot of everything live now.
    pub async fn compile_snapshot(&self) -> Result<gateway::Snapshot, ControlError> {
        Ok(gateway::Snapshot::empty(self.config_revision().await?))
    }
}
