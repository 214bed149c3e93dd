//! Traffic policies and their bindings: `policies` (name, type, configuration JSON) and
//! `policy_bindings` (a policy on one API, or `api_id = 0` the whole group, in one
//! environment; one policy of each type per API or group and environment).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000002_policies"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Policies::Table)
                .col(ColumnDef::new(Policies::Id).integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(Policies::Name).string().not_null().unique_key())
                .col(ColumnDef::new(Policies::PolicyType).string().not_null())
                .col(ColumnDef::new(Policies::Description).text().not_null().default(""))
                .col(ColumnDef::new(Policies::Config).json().not_null())
                .col(ColumnDef::new(Policies::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Policies::UpdatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Policies::UpdatedBy).string().not_null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PolicyBindings::Table)
                .col(ColumnDef::new(PolicyBindings::Id).integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(PolicyBindings::PolicyId).integer().not_null())
                .col(ColumnDef::new(PolicyBindings::PolicyType).string().not_null())
                .col(ColumnDef::new(PolicyBindings::GroupId).integer().not_null())
                .col(ColumnDef::new(PolicyBindings::ApiId).integer().not_null())
                .col(ColumnDef::new(PolicyBindings::Environment).string().not_null())
                .col(ColumnDef::new(PolicyBindings::CreatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(PolicyBindings::Table, PolicyBindings::PolicyId)
                        .to(Policies::Table, Policies::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(PolicyBindings::Table, PolicyBindings::GroupId)
                        .to(ApiGroups::Table, ApiGroups::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_policy_bindings")
                .table(PolicyBindings::Table)
                .col(PolicyBindings::PolicyType)
                .col(PolicyBindings::GroupId)
                .col(PolicyBindings::ApiId)
                .col(PolicyBindings::Environment)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PolicyBindings::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Policies::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Policies {
    Table,
    Id,
    Name,
    PolicyType,
    Description,
    Config,
    CreatedAt,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum PolicyBindings {
    Table,
    Id,
    PolicyId,
    PolicyType,
    GroupId,
    ApiId,
    Environment,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiGroups {
    Table,
    Id,
}
