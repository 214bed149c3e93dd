//! `GET /access-log`: the most recent requests this node's gateway served (a ring of
//! 100,000 lines per node), newest first, filtered by the query string.

use crate::rest::error::ApiError;
use crate::AppState;
use axum::extract::{Query, State};
use axum::Json;
use domain::access::{AccessLine, AccessQuery};
use serde::Serialize;

/// The lines found.
#[derive(Debug, Serialize)]
pub struct AccessLogView {
    pub items: Vec<AccessLine>,
}

/// Recent requests: `?request_id=&group=&api=&env=&status=&app=&client_ip=&limit=` (status:
/// `404` or a class such as `5xx`; limit 1–1000, default 100) → `{items: [{time, request_id,
/// group, api, api_id, env, method, path, status, latency_ms, app, client_ip}]}`.
#[utoipa::path(get, path = "/access-log", tag = "observability", responses(
    (status = 200, description = "`{items}`, newest first"),
    (status = 422, body = crate::rest::error::ValidationErrorBody),
))]
pub async fn access_log(
    State(state): State<AppState>,
    Query(query): Query<AccessQuery>,
) -> Result<Json<AccessLogView>, ApiError> {
    Ok(Json(AccessLogView { items: state.control.access_log(&query)? }))
}
