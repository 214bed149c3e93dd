//! `canaries`: a second version live beside an environment's deployment (at most one per
//! group and environment), with its share of traffic in percent (`weight`), the rule of the
//! callers it takes (`rule`, JSON, null for everyone) and sticky routing. A group's canaries
//! go with it; a version a canary serves cannot be deleted (the service refuses first).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000001_canaries"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Canaries::Table)
                .col(ColumnDef::new(Canaries::Id).integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(Canaries::GroupId).integer().not_null())
                .col(ColumnDef::new(Canaries::Environment).string().not_null())
                .col(ColumnDef::new(Canaries::VersionId).integer().not_null())
                .col(ColumnDef::new(Canaries::Backend).json().not_null())
                .col(ColumnDef::new(Canaries::Weight).double().not_null())
                .col(ColumnDef::new(Canaries::Rule).json().null())
                .col(ColumnDef::new(Canaries::Sticky).boolean().not_null().default(false))
                .col(ColumnDef::new(Canaries::Note).text().not_null().default(""))
                .col(ColumnDef::new(Canaries::StartedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Canaries::StartedBy).string().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Canaries::Table, Canaries::GroupId)
                        .to(ApiGroups::Table, ApiGroups::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_canaries_group_environment")
                .table(Canaries::Table)
                .col(Canaries::GroupId)
                .col(Canaries::Environment)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Canaries::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Canaries {
    Table,
    Id,
    GroupId,
    Environment,
    VersionId,
    Backend,
    Weight,
    Rule,
    Sticky,
    Note,
    StartedAt,
    StartedBy,
}

#[derive(DeriveIden)]
enum ApiGroups {
    Table,
    Id,
}
