//! The initial schema: every table of the domain in DESIGN.md.
//!
//! Times are `timestamp with time zone` (UTC), structured values (API definitions, version
//! snapshots, deployment backends, audit before/after) are JSON. Names that users pick are
//! unique where the domain says so; child rows go with their parent (`ON DELETE CASCADE`)
//! except a deployed version, which cannot be deleted while a deployment points at it.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000001_initial"
    }
}

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).integer().not_null().auto_increment().primary_key().to_owned()
}
fn text<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).string().not_null().to_owned()
}
fn text_or_empty<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).text().not_null().default("").to_owned()
}
fn text_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).string().null().to_owned()
}
fn int<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).integer().not_null().to_owned()
}
fn int_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).integer().null().to_owned()
}
fn time<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().to_owned()
}
fn time_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().to_owned()
}
fn json<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).json().not_null().to_owned()
}
fn json_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).json().null().to_owned()
}
fn fk(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).on_delete(on_delete).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(id(Users::Id))
                .col(text(Users::Username).unique_key())
                .col(text(Users::PasswordHash))
                .col(time(Users::CreatedAt))
                .col(time(Users::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApiTokens::Table)
                .col(id(ApiTokens::Id))
                .col(text(ApiTokens::Name))
                .col(text(ApiTokens::TokenHash).unique_key())
                .col(int(ApiTokens::UserId))
                .col(time(ApiTokens::CreatedAt))
                .col(time_null(ApiTokens::LastUsedAt))
                .foreign_key(&mut fk((ApiTokens::Table, ApiTokens::UserId), (Users::Table, Users::Id), Cascade))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(ColumnDef::new(Sessions::Id).string().not_null().primary_key())
                .col(ColumnDef::new(Sessions::Data).blob().not_null())
                .col(time(Sessions::ExpiryDate))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("idx_sessions_expiry").table(Sessions::Table).col(Sessions::ExpiryDate).to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApiGroups::Table)
                .col(id(ApiGroups::Id))
                .col(text(ApiGroups::Name).unique_key())
                .col(text(ApiGroups::Subdomain).unique_key())
                .col(text_or_empty(ApiGroups::Description))
                .col(time(ApiGroups::CreatedAt))
                .col(time(ApiGroups::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(CustomDomains::Table)
                .col(id(CustomDomains::Id))
                .col(int(CustomDomains::GroupId))
                .col(text(CustomDomains::Host).unique_key())
                .col(text_null(CustomDomains::Environment))
                .col(time(CustomDomains::CreatedAt))
                .foreign_key(&mut fk(
                    (CustomDomains::Table, CustomDomains::GroupId),
                    (ApiGroups::Table, ApiGroups::Id),
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Apis::Table)
                .col(id(Apis::Id))
                .col(int(Apis::GroupId))
                .col(text(Apis::Name))
                .col(text(Apis::Method))
                .col(text(Apis::Path))
                .col(json(Apis::Definition))
                .col(time(Apis::CreatedAt))
                .col(time(Apis::UpdatedAt))
                .col(text(Apis::UpdatedBy))
                .foreign_key(&mut fk((Apis::Table, Apis::GroupId), (ApiGroups::Table, ApiGroups::Id), Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_apis_group_name")
                .table(Apis::Table)
                .col(Apis::GroupId)
                .col(Apis::Name)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Versions::Table)
                .col(id(Versions::Id))
                .col(int(Versions::GroupId))
                .col(text(Versions::Label))
                .col(text_or_empty(Versions::Description))
                .col(text(Versions::ContentHash))
                .col(json(Versions::Snapshot))
                .col(int_null(Versions::BaseVersionId))
                .col(time(Versions::CreatedAt))
                .col(text(Versions::CreatedBy))
                .foreign_key(&mut fk((Versions::Table, Versions::GroupId), (ApiGroups::Table, ApiGroups::Id), Cascade))
                .foreign_key(&mut fk(
                    (Versions::Table, Versions::BaseVersionId),
                    (Versions::Table, Versions::Id),
                    SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_versions_group_label")
                .table(Versions::Table)
                .col(Versions::GroupId)
                .col(Versions::Label)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(BackendServices::Table)
                .col(id(BackendServices::Id))
                .col(text(BackendServices::Name).unique_key())
                .col(text(BackendServices::Kind))
                .col(text_or_empty(BackendServices::Description))
                .col(time(BackendServices::CreatedAt))
                .col(time(BackendServices::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(BackendServiceUrls::Table)
                .col(id(BackendServiceUrls::Id))
                .col(int(BackendServiceUrls::ServiceId))
                .col(text(BackendServiceUrls::Environment))
                .col(text(BackendServiceUrls::Url))
                .col(time(BackendServiceUrls::UpdatedAt))
                .foreign_key(&mut fk(
                    (BackendServiceUrls::Table, BackendServiceUrls::ServiceId),
                    (BackendServices::Table, BackendServices::Id),
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_backend_service_urls_env")
                .table(BackendServiceUrls::Table)
                .col(BackendServiceUrls::ServiceId)
                .col(BackendServiceUrls::Environment)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Deployments::Table)
                .col(id(Deployments::Id))
                .col(int(Deployments::GroupId))
                .col(text(Deployments::Environment))
                .col(int(Deployments::VersionId))
                .col(json(Deployments::Backend))
                .col(time(Deployments::ReleasedAt))
                .col(text(Deployments::ReleasedBy))
                .col(text_or_empty(Deployments::Note))
                .foreign_key(&mut fk(
                    (Deployments::Table, Deployments::GroupId),
                    (ApiGroups::Table, ApiGroups::Id),
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    (Deployments::Table, Deployments::VersionId),
                    (Versions::Table, Versions::Id),
                    Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_deployments_group_env")
                .table(Deployments::Table)
                .col(Deployments::GroupId)
                .col(Deployments::Environment)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(DeploymentEvents::Table)
                .col(id(DeploymentEvents::Id))
                .col(int(DeploymentEvents::GroupId))
                .col(text(DeploymentEvents::Environment))
                .col(text(DeploymentEvents::Action))
                .col(int_null(DeploymentEvents::FromVersionId))
                .col(int_null(DeploymentEvents::ToVersionId))
                .col(json_null(DeploymentEvents::Backend))
                .col(text_or_empty(DeploymentEvents::Note))
                .col(text(DeploymentEvents::Actor))
                .col(time(DeploymentEvents::At))
                .foreign_key(&mut fk(
                    (DeploymentEvents::Table, DeploymentEvents::GroupId),
                    (ApiGroups::Table, ApiGroups::Id),
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Apps::Table)
                .col(id(Apps::Id))
                .col(text(Apps::Name).unique_key())
                .col(text_or_empty(Apps::Description))
                .col(text(Apps::AppKey).unique_key())
                .col(text(Apps::AppSecret))
                .col(text(Apps::AppCode).unique_key())
                .col(ColumnDef::new(Apps::Enabled).boolean().not_null().default(true))
                .col(time(Apps::CreatedAt))
                .col(time(Apps::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Authorizations::Table)
                .col(id(Authorizations::Id))
                .col(int(Authorizations::AppId))
                .col(int(Authorizations::ApiId))
                .col(text(Authorizations::Environment))
                .col(time_null(Authorizations::ExpiresAt))
                .col(time(Authorizations::CreatedAt))
                .foreign_key(&mut fk((Authorizations::Table, Authorizations::AppId), (Apps::Table, Apps::Id), Cascade))
                .foreign_key(&mut fk((Authorizations::Table, Authorizations::ApiId), (Apis::Table, Apis::Id), Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_authorizations")
                .table(Authorizations::Table)
                .col(Authorizations::AppId)
                .col(Authorizations::ApiId)
                .col(Authorizations::Environment)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditEvents::Table)
                .col(id(AuditEvents::Id))
                .col(text(AuditEvents::Actor))
                .col(text(AuditEvents::Action))
                .col(text(AuditEvents::EntityKind))
                .col(text(AuditEvents::EntityId))
                .col(json_null(AuditEvents::Before))
                .col(json_null(AuditEvents::After))
                .col(time(AuditEvents::At))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ConfigRevision::Table)
                .col(ColumnDef::new(ConfigRevision::Id).integer().not_null().primary_key())
                .col(ColumnDef::new(ConfigRevision::Revision).big_integer().not_null().default(0))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(ConfigRevision::Table)
                .columns([ConfigRevision::Id, ConfigRevision::Revision])
                .values_panic([1.into(), 0.into()])
                .to_owned(),
        )
        .await?;

        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Children before parents, so foreign keys never dangle.
        let tables: [DynIden; 15] = [
            ConfigRevision::Table.into_iden(),
            AuditEvents::Table.into_iden(),
            Authorizations::Table.into_iden(),
            Apps::Table.into_iden(),
            DeploymentEvents::Table.into_iden(),
            Deployments::Table.into_iden(),
            BackendServiceUrls::Table.into_iden(),
            BackendServices::Table.into_iden(),
            Versions::Table.into_iden(),
            Apis::Table.into_iden(),
            CustomDomains::Table.into_iden(),
            ApiGroups::Table.into_iden(),
            Sessions::Table.into_iden(),
            ApiTokens::Table.into_iden(),
            Users::Table.into_iden(),
        ];
        for table in tables {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    PasswordHash,
    CreatedAt,
    UpdatedAt,
}
#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    Name,
    TokenHash,
    UserId,
    CreatedAt,
    LastUsedAt,
}
#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    Data,
    ExpiryDate,
}
#[derive(DeriveIden)]
enum ApiGroups {
    Table,
    Id,
    Name,
    Subdomain,
    Description,
    CreatedAt,
    UpdatedAt,
}
#[derive(DeriveIden)]
enum CustomDomains {
    Table,
    Id,
    GroupId,
    Host,
    Environment,
    CreatedAt,
}
#[derive(DeriveIden)]
enum Apis {
    Table,
    Id,
    GroupId,
    Name,
    Method,
    Path,
    Definition,
    CreatedAt,
    UpdatedAt,
    UpdatedBy,
}
#[derive(DeriveIden)]
enum Versions {
    Table,
    Id,
    GroupId,
    Label,
    Description,
    ContentHash,
    Snapshot,
    BaseVersionId,
    CreatedAt,
    CreatedBy,
}
#[derive(DeriveIden)]
enum BackendServices {
    Table,
    Id,
    Name,
    Kind,
    Description,
    CreatedAt,
    UpdatedAt,
}
#[derive(DeriveIden)]
enum BackendServiceUrls {
    Table,
    Id,
    ServiceId,
    Environment,
    Url,
    UpdatedAt,
}
#[derive(DeriveIden)]
enum Deployments {
    Table,
    Id,
    GroupId,
    Environment,
    VersionId,
    Backend,
    ReleasedAt,
    ReleasedBy,
    Note,
}
#[derive(DeriveIden)]
enum DeploymentEvents {
    Table,
    Id,
    GroupId,
    Environment,
    Action,
    FromVersionId,
    ToVersionId,
    Backend,
    Note,
    Actor,
    At,
}
#[derive(DeriveIden)]
enum Apps {
    Table,
    Id,
    Name,
    Description,
    AppKey,
    AppSecret,
    AppCode,
    Enabled,
    CreatedAt,
    UpdatedAt,
}
#[derive(DeriveIden)]
enum Authorizations {
    Table,
    Id,
    AppId,
    ApiId,
    Environment,
    ExpiresAt,
    CreatedAt,
}
#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    Actor,
    Action,
    EntityKind,
    EntityId,
    Before,
    After,
    At,
}
#[derive(DeriveIden)]
enum ConfigRevision {
    Table,
    Id,
    Revision,
}
