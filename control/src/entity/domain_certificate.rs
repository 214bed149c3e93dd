//! `domain_certificates`: a custom domain's certificate (PEM chain, sealed private key, and
//! the facts the console shows).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "domain_certificates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub domain_id: i32,
    #[sea_orm(unique)]
    pub host: String,
    pub cert_pem: String,
    /// `control::secrets` output; never leaves the control plane.
    pub key_sealed: String,
    pub subject: String,
    pub issuer: String,
    /// JSON array of strings.
    pub sans: String,
    pub not_before: DateTimeUtc,
    pub not_after: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub updated_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
