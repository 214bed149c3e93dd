//! SeaORM entities, one module per table of `migrations`. Tables whose services have not
//! landed yet get their entity with the issue that uses them.

pub mod api;
pub mod api_group;
pub mod api_token;
pub mod app;
pub mod audit_event;
pub mod authorization;
pub mod backend_service;
pub mod backend_service_url;
pub mod config_revision;
pub mod custom_domain;
pub mod deployment;
pub mod deployment_event;
pub mod session;
pub mod user;
pub mod version;
