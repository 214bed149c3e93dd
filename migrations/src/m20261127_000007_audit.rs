//! The audit log as the console shows it: `audit_events.address` (the client address of the
//! change) and `audit_events.group_name` (the group it happened in, for filtering), and
//! `deployment_events.from_version_label` / `to_version_label`, so the deployment history
//! keeps the version it named after that version is deleted (filled from `versions` for the
//! rows already there).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000007_audit"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [AuditEvents::Address, AuditEvents::GroupName] {
            m.alter_table(
                Table::alter().table(AuditEvents::Table).add_column(ColumnDef::new(column).string().null()).to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create().name("idx_audit_events_at").table(AuditEvents::Table).col(AuditEvents::At).to_owned(),
        )
        .await?;
        for column in [DeploymentEvents::FromVersionLabel, DeploymentEvents::ToVersionLabel] {
            m.alter_table(
                Table::alter()
                    .table(DeploymentEvents::Table)
                    .add_column(ColumnDef::new(column).string().null())
                    .to_owned(),
            )
            .await?;
        }
        let db = m.get_connection();
        for (label, id) in [("from_version_label", "from_version_id"), ("to_version_label", "to_version_id")] {
            db.execute_unprepared(&format!(
                "UPDATE deployment_events SET {label} = (SELECT label FROM versions WHERE versions.id = deployment_events.{id}) \
                 WHERE {id} IS NOT NULL"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [DeploymentEvents::FromVersionLabel, DeploymentEvents::ToVersionLabel] {
            m.alter_table(Table::alter().table(DeploymentEvents::Table).drop_column(column).to_owned()).await?;
        }
        m.drop_index(Index::drop().name("idx_audit_events_at").table(AuditEvents::Table).to_owned()).await?;
        for column in [AuditEvents::Address, AuditEvents::GroupName] {
            m.alter_table(Table::alter().table(AuditEvents::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditEvents {
    Table,
    Address,
    GroupName,
    At,
}

#[derive(DeriveIden, Clone, Copy)]
enum DeploymentEvents {
    Table,
    FromVersionLabel,
    ToVersionLabel,
}
