//! `policy_bindings`: a policy on one API (`api_id`) or, with `api_id = 0`, on every API of
//! the group, in one environment.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "policy_bindings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub policy_id: i32,
    pub policy_type: String,
    pub group_id: i32,
    pub api_id: i32,
    pub environment: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The environment it is bound in.
    pub fn environment(&self) -> Result<domain::Environment, crate::ControlError> {
        super::environment(&self.environment, "policy binding", self.id)
    }

    /// The API, or none for the whole group.
    pub fn api(&self) -> Option<i32> {
        (self.api_id != 0).then_some(self.api_id)
    }
}
