//! `policies`: traffic policies (throttling, IP access control, CORS) with their
//! configuration.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub policy_type: String,
    pub description: String,
    pub config: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub updated_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The policy as submitted, validated again (its parsed rule for the gateway).
    pub fn valid(&self) -> Result<domain::policy::ValidPolicy, crate::ControlError> {
        let kind = domain::policy::PolicyType::parse(&self.policy_type)
            .map_err(|e| super::unreadable("policy", self.id, e))?;
        let spec = domain::policy::PolicySpec {
            name: self.name.clone(),
            kind,
            description: self.description.clone(),
            config: self.config.clone(),
        };
        spec.validate().map_err(|errors| {
            super::unreadable("policy", self.id, errors.first().map(|e| e.message.clone()).unwrap_or_default())
        })
    }
}
