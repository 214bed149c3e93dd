//! `release_requests`: a Production change awaiting an admin's approval, and its outcome.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub group_id: i32,
    pub environment: String,
    /// `release` (a version with a backend) or `offline`.
    pub kind: String,
    pub version_label: Option<String>,
    pub backend: Option<Json>,
    pub note: String,
    /// `pending`, `approved`, `rejected` or `withdrawn`.
    pub status: String,
    pub requested_by: String,
    pub requested_at: DateTimeUtc,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    pub decision_note: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The environment it would change.
    pub fn environment(&self) -> Result<domain::Environment, crate::ControlError> {
        super::environment(&self.environment, "release request", self.id)
    }

    /// The backend a release request names.
    pub fn backend(&self) -> Result<Option<domain::release::DeployBackend>, crate::ControlError> {
        self.backend.as_ref().map(|b| super::json(b, "release request", self.id)).transpose()
    }
}
