//! `backend_service_urls`: a backend service's URL in one environment.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backend_service_urls")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub service_id: i32,
    pub environment: String,
    pub url: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The environment it is about.
    pub fn environment(&self) -> Result<domain::Environment, crate::ControlError> {
        super::environment(&self.environment, "service URL", self.id)
    }
}
