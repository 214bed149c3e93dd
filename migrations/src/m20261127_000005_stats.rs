//! Traffic over time for the console's charts: `stats_minutes` (per node, minute, group,
//! API, environment and version: requests by status class, upstream failures, bytes and a
//! latency sketch), `stats_hours` (the same rolled up per hour, kept longer) and
//! `backend_minutes` (per node, minute and backend origin: calls and failures). Each node
//! writes only its own rows; readers sum over nodes.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000005_stats"
    }
}

fn series_table(table: Stats) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(ColumnDef::new(Stats::Node).string().not_null())
        .col(ColumnDef::new(Stats::Start).big_integer().not_null())
        .col(ColumnDef::new(Stats::GroupId).integer().not_null())
        .col(ColumnDef::new(Stats::ApiId).integer().not_null())
        .col(ColumnDef::new(Stats::Environment).string().not_null())
        .col(ColumnDef::new(Stats::Version).string().not_null())
        .col(ColumnDef::new(Stats::Requests).big_integer().not_null())
        .col(ColumnDef::new(Stats::Status2xx).big_integer().not_null())
        .col(ColumnDef::new(Stats::Status3xx).big_integer().not_null())
        .col(ColumnDef::new(Stats::Status4xx).big_integer().not_null())
        .col(ColumnDef::new(Stats::Status5xx).big_integer().not_null())
        .col(ColumnDef::new(Stats::UpstreamErrors).big_integer().not_null())
        .col(ColumnDef::new(Stats::Timeouts).big_integer().not_null())
        .col(ColumnDef::new(Stats::BytesOut).big_integer().not_null())
        .col(ColumnDef::new(Stats::Latency).text().not_null())
        .primary_key(
            Index::create()
                .col(Stats::Node)
                .col(Stats::Start)
                .col(Stats::GroupId)
                .col(Stats::ApiId)
                .col(Stats::Environment)
                .col(Stats::Version),
        )
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, index) in
            [(Stats::StatsMinutes, "idx_stats_minutes_group"), (Stats::StatsHours, "idx_stats_hours_group")]
        {
            m.create_table(series_table(table)).await?;
            m.create_index(Index::create().name(index).table(table).col(Stats::GroupId).col(Stats::Start).to_owned())
                .await?;
        }
        m.create_index(
            Index::create().name("idx_stats_minutes_start").table(Stats::StatsMinutes).col(Stats::Start).to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(BackendMinutes::Table)
                .col(ColumnDef::new(BackendMinutes::Node).string().not_null())
                .col(ColumnDef::new(BackendMinutes::Start).big_integer().not_null())
                .col(ColumnDef::new(BackendMinutes::Origin).string().not_null())
                .col(ColumnDef::new(BackendMinutes::Requests).big_integer().not_null())
                .col(ColumnDef::new(BackendMinutes::UpstreamErrors).big_integer().not_null())
                .col(ColumnDef::new(BackendMinutes::Timeouts).big_integer().not_null())
                .primary_key(
                    Index::create().col(BackendMinutes::Node).col(BackendMinutes::Start).col(BackendMinutes::Origin),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_backend_minutes_start")
                .table(BackendMinutes::Table)
                .col(BackendMinutes::Start)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(BackendMinutes::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Stats::StatsHours).to_owned()).await?;
        m.drop_table(Table::drop().table(Stats::StatsMinutes).to_owned()).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Stats {
    StatsMinutes,
    StatsHours,
    Node,
    Start,
    GroupId,
    ApiId,
    Environment,
    Version,
    Requests,
    #[sea_orm(iden = "status_2xx")]
    Status2xx,
    #[sea_orm(iden = "status_3xx")]
    Status3xx,
    #[sea_orm(iden = "status_4xx")]
    Status4xx,
    #[sea_orm(iden = "status_5xx")]
    Status5xx,
    UpstreamErrors,
    Timeouts,
    BytesOut,
    Latency,
}

#[derive(DeriveIden)]
enum BackendMinutes {
    Table,
    Node,
    Start,
    Origin,
    Requests,
    UpstreamErrors,
    Timeouts,
}
