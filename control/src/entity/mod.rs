//! SeaORM entities, one module per table of `migrations`. Tables whose services have not
//! landed yet get their entity with the issue that uses them.
//!
//! Columns that store JSON or an environment's name are read through typed accessors on
//! the row (`api::Model::spec`, `version::Model::apis`, `deployment::Model::backend`,
//! `…::Model::environment`), so every service decodes them one way and a damaged row is
//! reported one way: `stored <what> <id> is unreadable: <why>` (500).

pub mod api;
pub mod api_group;
pub mod api_token;
pub mod app;
pub mod audit_event;
pub mod authorization;
pub mod backend_minute;
pub mod backend_service;
pub mod backend_service_url;
pub mod canary;
pub mod config_change;
pub mod config_revision;
pub mod custom_domain;
pub mod deployment;
pub mod deployment_event;
pub mod domain_certificate;
pub mod node;
pub mod policy;
pub mod policy_binding;
pub mod release_request;
pub mod session;
pub mod stats_hour;
pub mod stats_minute;
pub mod user;
pub mod version;

use crate::ControlError;
use domain::Environment;

/// The error for a stored value that does not decode.
pub(crate) fn unreadable(what: &str, id: impl std::fmt::Display, why: impl std::fmt::Display) -> ControlError {
    ControlError::Internal(format!("stored {what} {id} is unreadable: {why}"))
}

/// A stored environment name.
pub(crate) fn environment(raw: &str, what: &str, id: i32) -> Result<Environment, ControlError> {
    raw.parse().map_err(|e| unreadable(what, id, e))
}

/// A stored JSON column as `T`, read from the borrowed value (no copy of a large document).
pub(crate) fn json<'a, T: serde::Deserialize<'a>>(
    value: &'a serde_json::Value,
    what: &str,
    id: impl std::fmt::Display,
) -> Result<T, ControlError> {
    T::deserialize(value).map_err(|e| unreadable(what, id, e))
}
