//! Gantry's domain types: values that can only be built through a parser that enforces their
//! rules ("parse, don't validate"). The console (also in the browser), the REST API and the
//! importer all go through them, so all three report the same error for the same mistake.
//! No I/O lives here.
//!
//! # Layout
//! - [`access`]: the access log's lines and filter, as `GET /access-log` shows them.
//! - [`audit`]: the audit log's rows (with their field-level diff), filter and CSV form.
//! - [`approval`]: Production changes awaiting an admin's approval, and their decisions.
//! - [`app`]: apps (AppKey, AppSecret, AppCode) and their authorizations.
//! - [`cluster`]: roles of a process, nodes and roll-outs as the console shows them.
//! - [`debug`]: the Debug API's request, result and the gateway's trace.
//! - [`environment`]: Test, Pre-release, Production and the `X-Ca-Stage` header.
//! - [`error`]: [`FieldError`], a rule broken by one field, named by its JSON path.
//! - [`names`]: group names, subdomains (DNS labels), API names, parameter and header names.
//! - [`import`]: the report of an OpenAPI import (added, overwritten, skipped, unsupported).
//! - [`method`]: HTTP methods, including `ANY`.
//! - [`path`]: [`PathTemplate`] (`/pets/{petId}`) and route conflicts.
//! - [`policy`]: traffic policies (throttling, IP access control, CORS), their bindings,
//!   address ranges and origin patterns.
//! - [`backend`]: [`BackendAddress`] and the bounds of timeouts and mock statuses.
//! - [`canary`]: canary releases: the spec (weight, match rule, sticky) and the view.
//! - [`api`]: the API definition as JSON ([`api::ApiSpec`]) and its validation.
//! - [`group`]: the API group as JSON and its validation.
//! - [`release`]: version labels, release backends, diffs, and the views of versions and
//!   deployments.
//! - [`roles`]: admin, developer and viewer, scopes of groups, and the one rule of who may do
//!   what ([`roles::Grant::allows`]), shared by the services, the REST guard and the console.
//! - [`service`]: backend services (a URL per environment) and their users.
//! - [`targets`]: a backend as one address or several weighted targets, in one canonical
//!   text (a list on the wire).
//! - [`stats`]: traffic over time (per minute, latency sketches), chart ranges and the
//!   views of charts, group overviews and backend health.
//! - [`views`]: stored things as the console and REST show them (with ids and times).

pub mod access;
pub mod api;
pub mod app;
pub mod approval;
pub mod audit;
pub mod backend;
pub mod canary;
pub mod cluster;
pub mod debug;
pub mod environment;
pub mod error;
pub mod group;
pub mod import;
pub mod method;
pub mod names;
pub mod path;
pub mod policy;
pub mod release;
pub mod roles;
pub mod service;
pub mod stats;
pub mod targets;
pub mod views;

pub use backend::BackendAddress;
pub use environment::Environment;
pub use error::FieldError;
pub use method::HttpMethod;
pub use path::PathTemplate;
pub use targets::Targets;
