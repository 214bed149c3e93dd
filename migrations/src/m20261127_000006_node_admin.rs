//! `nodes.admin_address`: where a gateway node answers `GET /access-log` (its admin
//! address), so a console node can search every gateway node's recent requests.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000006_node_admin"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Nodes::Table)
                .add_column(ColumnDef::new(Nodes::AdminAddress).string().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Nodes::Table).drop_column(Nodes::AdminAddress).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Nodes {
    Table,
    AdminAddress,
}
