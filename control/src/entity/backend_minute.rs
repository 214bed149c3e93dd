//! `backend_minutes`: one node's calls to one backend origin in one minute.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backend_minutes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub node: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub start: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub origin: String,
    pub requests: i64,
    pub upstream_errors: i64,
    pub timeouts: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
