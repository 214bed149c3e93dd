//! The `gantry` binary's library: settings, the command line, the axum router that serves
//! the console and the admin REST API, and start-up and shutdown of console and gateway
//! together. Integration tests drive it through [`Application`].
//!
//! # Layout
//! - [`config`]: settings from flags and `GANTRY_*` environment variables.
//! - [`cli`]: `serve`, `migrate`, `admin create|reset-password`, `token create`,
//!   `config export|diff|schema`.
//! - [`config_file`]: the declarative configuration's YAML file and its change lines.
//! - [`startup`]: [`Application::build`] binds both listeners (port 0 works) and
//!   [`Application::run_until`] serves until shutdown, then drains.
//! - `auth`: login/logout handlers and the session and token guards.
//! - `rest`: the admin REST API and its OpenAPI document.
//! - `session_store`: tower-sessions records in Gantry's own database.
//! - `state`: [`AppState`], what every handler may reach.
//! - [`telemetry`]: structured logging.
//! - [`tls_setup`]: the secret key that seals private keys, and the HTTPS listener's
//!   default certificate.

// Leptos views are deeply nested types; the console's pages need more than the default.
#![recursion_limit = "512"]

mod auth;
pub mod cli;
pub mod config;
pub mod config_file;
mod rest;
mod session_store;
pub mod startup;
mod state;
pub mod telemetry;
pub mod tls_setup;

pub use startup::Application;
pub use state::AppState;
