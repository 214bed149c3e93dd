//! `release_requests`: a Production change asked for by one user and approved or rejected by
//! an admin other than the requester (`status`: `pending`, `approved`, `rejected`,
//! `withdrawn`). A request names a version by label and the backend as a release does, or is
//! an off-line (`kind`). Requests of a deleted group go with it; the audit trail keeps them.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000002_release_requests"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ReleaseRequests::Table)
                .col(ColumnDef::new(ReleaseRequests::Id).integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(ReleaseRequests::GroupId).integer().not_null())
                .col(ColumnDef::new(ReleaseRequests::Environment).string().not_null())
                .col(ColumnDef::new(ReleaseRequests::Kind).string().not_null())
                .col(ColumnDef::new(ReleaseRequests::VersionLabel).string().null())
                .col(ColumnDef::new(ReleaseRequests::Backend).json().null())
                .col(ColumnDef::new(ReleaseRequests::Note).text().not_null().default(""))
                .col(ColumnDef::new(ReleaseRequests::Status).string().not_null())
                .col(ColumnDef::new(ReleaseRequests::RequestedBy).string().not_null())
                .col(ColumnDef::new(ReleaseRequests::RequestedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(ReleaseRequests::DecidedBy).string().null())
                .col(ColumnDef::new(ReleaseRequests::DecidedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(ReleaseRequests::DecisionNote).text().not_null().default(""))
                .foreign_key(
                    ForeignKey::create()
                        .from(ReleaseRequests::Table, ReleaseRequests::GroupId)
                        .to(ApiGroups::Table, ApiGroups::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_release_requests_status")
                .table(ReleaseRequests::Table)
                .col(ReleaseRequests::Status)
                .col(ReleaseRequests::GroupId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ReleaseRequests::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum ReleaseRequests {
    Table,
    Id,
    GroupId,
    Environment,
    Kind,
    VersionLabel,
    Backend,
    Note,
    Status,
    RequestedBy,
    RequestedAt,
    DecidedBy,
    DecidedAt,
    DecisionNote,
}

#[derive(DeriveIden)]
enum ApiGroups {
    Table,
    Id,
}
