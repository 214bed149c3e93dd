//! `nodes`: a running Gantry process (its role, where it serves, the revision it has applied
//! and when it last said so).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "nodes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub role: String,
    pub address: String,
    pub version: String,
    pub started_at: DateTimeUtc,
    pub applied_revision: i64,
    pub last_heartbeat: DateTimeUtc,
    /// A gateway node's admin address (`GET /access-log`), when it has one.
    pub admin_address: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
