//! `deployment_events`: the history of releases, switches and off-lines.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deployment_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub group_id: i32,
    pub environment: String,
    pub action: String,
    pub from_version_id: Option<i32>,
    pub to_version_id: Option<i32>,
    pub backend: Option<Json>,
    pub note: String,
    pub actor: String,
    pub at: DateTimeUtc,
    /// The labels, kept when the versions are deleted.
    pub from_version_label: Option<String>,
    pub to_version_label: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The environment it is about.
    pub fn environment(&self) -> Result<domain::Environment, crate::ControlError> {
        super::environment(&self.environment, "deployment event", self.id)
    }

    /// The release backend it set, if any.
    pub fn backend(&self) -> Result<Option<domain::release::DeployBackend>, crate::ControlError> {
        self.backend.as_ref().map(|json| super::json(json, "deployment event", self.id)).transpose()
    }
}
