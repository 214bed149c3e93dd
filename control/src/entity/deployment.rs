//! `deployments`: what is live in each (group, environment); at most one row each.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deployments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub group_id: i32,
    pub environment: String,
    pub version_id: i32,
    pub backend: Json,
    pub released_at: DateTimeUtc,
    pub released_by: String,
    pub note: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The environment it is live in.
    pub fn environment(&self) -> Result<domain::Environment, crate::ControlError> {
        super::environment(&self.environment, "deployment", self.id)
    }

    /// The release backend of the unified APIs.
    pub fn backend(&self) -> Result<domain::release::DeployBackend, crate::ControlError> {
        super::json(&self.backend, "deployment", self.id)
    }
}
