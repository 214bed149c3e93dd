//! `GET /health`.

use crate::rest::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The server's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the database answers.
    pub status: String,
    /// Gantry's version.
    pub version: String,
    /// The database's `config_revision`.
    pub config_revision: i64,
    /// The `config_revision` the gateway is serving.
    pub gateway_revision: i64,
}

/// Whether Gantry is up, and which configuration revision it serves.
#[utoipa::path(get, path = "/health", responses(
    (status = 200, body = Health),
    (status = 401, body = crate::rest::error::ErrorBody),
))]
pub async fn get_health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    Ok(Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        config_revision: state.control.config_revision().await?,
        gateway_revision: state.snapshots.current().revision,
    }))
}
