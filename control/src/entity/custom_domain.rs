//! `custom_domains`: extra host names of a group, optionally pinned to an environment.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "custom_domains")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub group_id: i32,
    #[sea_orm(unique)]
    pub host: String,
    pub environment: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The environment the host is pinned to, if any.
    pub fn pinned(&self) -> Result<Option<domain::Environment>, crate::ControlError> {
        self.environment.as_deref().map(|raw| super::environment(raw, "custom domain", self.id)).transpose()
    }
}
