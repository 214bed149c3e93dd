//! Users' roles: `users.role` (`admin`, `developer` or `viewer`; users that existed before
//! roles stay admins), `users.groups` (a developer's scope as a JSON list, `NULL` for every
//! group) and `users.disabled` (a disabled user cannot log in; its sessions and tokens stop
//! working).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000001_roles"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        let column = |def: &mut ColumnDef| Table::alter().table(Users::Table).add_column(def.to_owned()).to_owned();
        m.alter_table(column(ColumnDef::new(Users::Role).string().not_null().default("admin"))).await?;
        m.alter_table(column(ColumnDef::new(Users::Groups).text().null())).await?;
        m.alter_table(column(ColumnDef::new(Users::Disabled).boolean().not_null().default(false))).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [Users::Disabled, Users::Groups, Users::Role] {
            m.alter_table(Table::alter().table(Users::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Role,
    Groups,
    Disabled,
}
