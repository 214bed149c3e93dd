//! Gantry's database schema, as sea-orm-migration migrations.
//!
//! # Layout
//! - `m20261122_000001_initial`: the whole domain of DESIGN.md (users, tokens, sessions,
//!   groups, custom domains, API drafts, versions, deployments and their events, backend
//!   services and their per-environment URLs, apps, authorizations, audit events and the
//!   config revision counter).
//! - `m20261127_000001_token_expiry`: `api_tokens.expires_at`.
//! - `m20261127_000002_policies`: traffic policies and their bindings.
//! - `m20261127_000003_certificates`: custom domains' certificates (keys sealed).
//! - `m20261127_000004_cluster`: the change log (`config_changes`) and the node registry.
//! - `m20261127_000005_stats`: traffic per minute and hour (charts) and per backend origin.
//! - `m20261127_000006_node_admin`: a gateway node's admin address (its access log).
//! - `m20261127_000007_audit`: the audit log's address and group; the deployment history's
//!   version labels.
//! - `m20261201_000001_roles`: users' roles, group scopes and the disabled flag.
//! - `m20261201_000002_release_requests`: Production changes awaiting an admin's approval.
//! - `m20261202_000001_canaries`: canary versions beside an environment's deployment.
//!
//! Migrations run at start-up and through `gantry migrate`. Each one has `up` and `down`;
//! they are written with sea-query so the same code creates the schema on SQLite and Postgres.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_initial;
mod m20261127_000001_token_expiry;
mod m20261127_000002_policies;
mod m20261127_000003_certificates;
mod m20261127_000004_cluster;
mod m20261127_000005_stats;
mod m20261127_000006_node_admin;
mod m20261127_000007_audit;
mod m20261201_000001_roles;
mod m20261201_000002_release_requests;
mod m20261202_000001_canaries;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial::Migration),
            Box::new(m20261127_000001_token_expiry::Migration),
            Box::new(m20261127_000002_policies::Migration),
            Box::new(m20261127_000003_certificates::Migration),
            Box::new(m20261127_000004_cluster::Migration),
            Box::new(m20261127_000005_stats::Migration),
            Box::new(m20261127_000006_node_admin::Migration),
            Box::new(m20261127_000007_audit::Migration),
            Box::new(m20261201_000001_roles::Migration),
            Box::new(m20261201_000002_release_requests::Migration),
            Box::new(m20261202_000001_canaries::Migration),
        ]
    }
}
