//! `versions`: immutable, content-hashed snapshots of a group's APIs.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub group_id: i32,
    pub label: String,
    pub description: String,
    pub content_hash: String,
    /// `[VersionApi]` JSON.
    pub snapshot: Json,
    pub base_version_id: Option<i32>,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The frozen APIs.
    pub fn apis(&self) -> Result<Vec<domain::release::VersionApi>, crate::ControlError> {
        super::json(&self.snapshot, "version", &self.label)
    }
}
