//! Cluster mode: `config_changes`, what each `config_revision` changed (written in the same
//! transaction as the bump, so a gateway node that follows the log recompiles only that),
//! and `nodes`, every running Gantry process with its role and the revision it serves.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000004_cluster"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ConfigChanges::Table)
                .col(ColumnDef::new(ConfigChanges::Revision).big_integer().not_null().primary_key())
                .col(ColumnDef::new(ConfigChanges::Changes).text().not_null())
                .col(ColumnDef::new(ConfigChanges::CreatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Nodes::Table)
                .col(ColumnDef::new(Nodes::Id).string().not_null().primary_key())
                .col(ColumnDef::new(Nodes::Role).string().not_null())
                .col(ColumnDef::new(Nodes::Address).string().not_null())
                .col(ColumnDef::new(Nodes::Version).string().not_null())
                .col(ColumnDef::new(Nodes::StartedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Nodes::AppliedRevision).big_integer().not_null())
                .col(ColumnDef::new(Nodes::LastHeartbeat).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Nodes::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(ConfigChanges::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum ConfigChanges {
    Table,
    Revision,
    Changes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Nodes {
    Table,
    Id,
    Role,
    Address,
    Version,
    StartedAt,
    AppliedRevision,
    LastHeartbeat,
}
