//! `canaries`: a second version beside an environment's deployment; at most one per
//! (group, environment).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "canaries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub group_id: i32,
    pub environment: String,
    pub version_id: i32,
    pub backend: Json,
    /// Percent.
    pub weight: f64,
    pub rule: Option<Json>,
    pub sticky: bool,
    pub note: String,
    pub started_at: DateTimeUtc,
    pub started_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The environment it runs in.
    pub fn environment(&self) -> Result<domain::Environment, crate::ControlError> {
        super::environment(&self.environment, "canary", self.id)
    }

    /// The release backend of its unified APIs.
    pub fn backend(&self) -> Result<domain::release::DeployBackend, crate::ControlError> {
        super::json(&self.backend, "canary", self.id)
    }

    /// Who it takes (`None`: everyone).
    pub fn rule(&self) -> Result<Option<domain::canary::CanaryMatch>, crate::ControlError> {
        self.rule.as_ref().map(|json| super::json(json, "canary", self.id)).transpose()
    }
}
