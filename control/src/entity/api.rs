//! `apis`: a group's working draft, one row per API; `definition` is the `ApiSpec` JSON.
//! `method` and `path` are copies kept for search and conflict checks.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "apis")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub group_id: i32,
    pub name: String,
    pub method: String,
    pub path: String,
    pub definition: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub updated_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The API's definition.
    pub fn spec(&self) -> Result<domain::api::ApiSpec, crate::ControlError> {
        super::json(&self.definition, "API", self.id)
    }
}
