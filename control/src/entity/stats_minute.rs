//! `stats_minutes`: one node's traffic in one minute for one group, API (`-1`: no API matched),
//! environment and version (`domain::stats::Counts`, the latency sketch encoded).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stats_minutes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub node: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub start: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub api_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub environment: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: String,
    pub requests: i64,
    #[sea_orm(column_name = "status_2xx")]
    pub status_2xx: i64,
    #[sea_orm(column_name = "status_3xx")]
    pub status_3xx: i64,
    #[sea_orm(column_name = "status_4xx")]
    pub status_4xx: i64,
    #[sea_orm(column_name = "status_5xx")]
    pub status_5xx: i64,
    pub upstream_errors: i64,
    pub timeouts: i64,
    pub bytes_out: i64,
    pub latency: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
