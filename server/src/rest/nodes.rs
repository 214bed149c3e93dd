//! `GET /nodes`: every node of the cluster, the revision each has applied, and which are stale.

use crate::rest::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use domain::cluster::NodesView;

/// The cluster's nodes: `{current_revision, stale_after_s, items: [{id, role, address,
/// version, started_at, applied_revision, last_heartbeat, lag, stale}]}`.
#[utoipa::path(get, path = "/nodes", tag = "cluster", responses(
    (status = 200, description = "`{current_revision, stale_after_s, items}`"),
    (status = 401, body = crate::rest::error::ErrorBody),
))]
pub async fn list_nodes(State(state): State<AppState>) -> Result<Json<NodesView>, ApiError> {
    Ok(Json(state.control.nodes().await?))
}
