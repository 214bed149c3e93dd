//! Custom domains' certificates: `domain_certificates`, one per custom domain, with the PEM
//! chain, the private key sealed with the instance's secret key (`control::secrets`), and
//! what the console shows (subject, issuer, SANs, validity).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000003_certificates"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(DomainCertificates::Table)
                .col(ColumnDef::new(DomainCertificates::Id).integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(DomainCertificates::DomainId).integer().not_null().unique_key())
                .col(ColumnDef::new(DomainCertificates::Host).string().not_null().unique_key())
                .col(ColumnDef::new(DomainCertificates::CertPem).text().not_null())
                .col(ColumnDef::new(DomainCertificates::KeySealed).text().not_null())
                .col(ColumnDef::new(DomainCertificates::Subject).text().not_null())
                .col(ColumnDef::new(DomainCertificates::Issuer).text().not_null())
                .col(ColumnDef::new(DomainCertificates::Sans).text().not_null())
                .col(ColumnDef::new(DomainCertificates::NotBefore).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(DomainCertificates::NotAfter).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(DomainCertificates::UpdatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(DomainCertificates::UpdatedBy).string().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(DomainCertificates::Table, DomainCertificates::DomainId)
                        .to(CustomDomains::Table, CustomDomains::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(DomainCertificates::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum DomainCertificates {
    Table,
    Id,
    DomainId,
    Host,
    CertPem,
    KeySealed,
    Subject,
    Issuer,
    Sans,
    NotBefore,
    NotAfter,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum CustomDomains {
    Table,
    Id,
}
