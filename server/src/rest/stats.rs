//! Traffic over time: `GET /groups/{group}/stats` (one API's or the group's points and the
//! deployment markers), `GET /groups/{group}/stats/apis` (every API's totals) and
//! `GET /backend-health` (each backend origin's recent calls and failures).

use crate::rest::error::ApiError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::Json;
use domain::stats::{ApiTraffic, BackendHealth, StatsQuery, StatsView};
use serde::{Deserialize, Serialize};

/// A group's or an API's traffic: `?env=test|pre|prod|all&api={id}&range=1h|24h|7d` →
/// `{range, env, api, bucket_seconds, buckets: [{start, start_unix, requests, status_2xx,
/// status_3xx, status_4xx, status_5xx, upstream_errors, timeouts, bytes_out, p50_ms, p95_ms,
/// p99_ms}], events: [{time, time_unix, env, action, version}], versions: [{version,
/// requests, status_5xx, p99_ms, points: [{requests, status_5xx, p99_ms}]}]}` (`api`
/// absent: the whole group; `env` absent: every environment; `range` absent: `1h`;
/// `versions`: each version that answered, most requests first, `points` aligned with
/// `buckets`, past 6 the rest summed as `other versions`). Points are 1 minute (1h),
/// 15 minutes (24h) or 1 hour (7d), summed over every gateway node; percentiles are within
/// 1 % of the true values.
#[utoipa::path(get, path = "/groups/{group}/stats", tag = "observability", responses(
    (status = 200, description = "`{buckets, events}`"),
    (status = 404, body = crate::rest::error::ErrorBody),
    (status = 422, body = crate::rest::error::ValidationErrorBody),
))]
pub async fn group_stats(
    State(state): State<AppState>,
    Path(group): Path<String>,
    Query(query): Query<StatsQuery>,
) -> Result<Json<StatsView>, ApiError> {
    Ok(Json(state.control.stats(&group, &query).await?))
}

/// Every API's totals over the range.
#[derive(Debug, Serialize)]
pub struct ApiTrafficList {
    /// Most requests first; `api_id: null` counts requests no API matched.
    pub items: Vec<ApiTraffic>,
}

/// Every API's traffic over the range: `?env=&range=` → `{items: [{api_id, api, requests,
/// status_4xx, status_5xx, error_rate, p99_ms}]}`.
#[utoipa::path(get, path = "/groups/{group}/stats/apis", tag = "observability", responses(
    (status = 200, description = "`{items}`, most requests first"),
    (status = 404, body = crate::rest::error::ErrorBody),
    (status = 422, body = crate::rest::error::ValidationErrorBody),
))]
pub async fn api_traffic(
    State(state): State<AppState>,
    Path(group): Path<String>,
    Query(query): Query<StatsQuery>,
) -> Result<Json<ApiTrafficList>, ApiError> {
    Ok(Json(ApiTrafficList { items: state.control.group_overview(&group, &query).await?.apis }))
}

/// `GET /backend-health`'s query.
#[derive(Debug, Deserialize)]
pub struct HealthQuery {
    /// 1–60, default 15.
    pub minutes: Option<String>,
}

/// Each backend origin's calls.
#[derive(Debug, Serialize)]
pub struct BackendHealthList {
    pub items: Vec<BackendHealth>,
}

/// Each backend origin's calls over the last minutes: `?minutes=15` → `{items: [{origin,
/// minutes, requests, upstream_errors, timeouts}]}`.
#[utoipa::path(get, path = "/backend-health", tag = "observability", responses(
    (status = 200, description = "`{items}`"),
    (status = 422, body = crate::rest::error::ValidationErrorBody),
))]
pub async fn backend_health(
    State(state): State<AppState>,
    Query(query): Query<HealthQuery>,
) -> Result<Json<BackendHealthList>, ApiError> {
    let minutes = match query.minutes.as_deref().map(str::trim) {
        None | Some("") => 15,
        Some(raw) => raw
            .parse::<u32>()
            .map_err(|_| control::ControlError::field("minutes", "a number of minutes from 1 to 60"))?,
    };
    Ok(Json(BackendHealthList { items: state.control.backend_health(minutes).await? }))
}
