//! [`AppState`]: what every console and REST handler may reach, built once at start-up.

use axum::extract::FromRef;
use control::Control;
use gateway::SnapshotHandle;
use leptos::config::LeptosOptions;

/// Everything a handler may need; cloned per request (all fields are cheap handles).
#[derive(Clone, Debug, FromRef)]
pub struct AppState {
    /// Where the browser bundle lives and what it is called.
    pub leptos_options: LeptosOptions,
    /// The control-plane services.
    pub control: Control,
    /// The gateway's live configuration.
    pub snapshots: SnapshotHandle,
    /// The gateway's request metrics (served at `/metrics`).
    pub metrics: gateway::Metrics,
}
