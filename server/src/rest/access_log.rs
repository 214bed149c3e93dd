//! `GET /access-log`: the most recent requests the gateway served (a ring of 100,000 lines
//! per node; a console node merges every live gateway node's), newest first, filtered by
//! the query string.

use crate::rest::error::ApiError;
use crate::AppState;
use axum::extract::{Query, State};
use axum::Json;
use domain::access::{AccessLogView, AccessQuery};

/// Recent requests: `?request_id=&group=&api=&env=&status=&app=&client_ip=&from=&to=&limit=`
/// (status: `404` or a class such as `5xx`; from/to: RFC 3339, or a date and time without an
/// offset taken as UTC; limit 1–1000, default 100) → `{items: [{time, request_id,
/// group, api, api_id, env, method, path, status, latency_ms, app, client_ip, node}],
/// unreachable: [node ids whose lines could not be read]}`.
#[utoipa::path(get, path = "/access-log", tag = "observability", responses(
    (status = 200, description = "`{items}`, newest first"),
    (status = 422, body = crate::rest::error::ValidationErrorBody),
))]
pub async fn access_log(
    State(state): State<AppState>,
    Query(query): Query<AccessQuery>,
) -> Result<Json<AccessLogView>, ApiError> {
    Ok(Json(state.control.access_log(&query).await?))
}
