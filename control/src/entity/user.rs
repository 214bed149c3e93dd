//! `users`: console and API users.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub username: String,
    /// PHC string of an argon2id hash.
    pub password_hash: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// `admin`, `developer` or `viewer` (read through [`Model::grant`]).
    pub role: String,
    /// A developer's groups as a JSON list; `NULL` for every group.
    pub groups: Option<String>,
    /// A disabled user cannot log in; its sessions and tokens stop working.
    pub disabled: bool,
}

impl Model {
    /// The stored role and scope, decoded one way (a damaged row is a 500 naming it).
    pub fn grant(&self) -> Result<domain::roles::Grant, crate::ControlError> {
        let unreadable =
            |why: String| crate::ControlError::Internal(format!("stored user {} is unreadable: {why}", self.id));
        let role = domain::roles::Role::parse(&self.role).map_err(unreadable)?;
        let groups = match &self.groups {
            None => None,
            Some(text) => Some(serde_json::from_str::<Vec<String>>(text).map_err(|e| unreadable(e.to_string()))?),
        };
        Ok(domain::roles::Grant { role, groups })
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
