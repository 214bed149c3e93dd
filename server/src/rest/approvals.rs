//! Production change requests: ask (`POST /groups/{group}/deployments/{env}/requests`),
//! list (`GET /release-requests`), approve, reject, withdraw.

use crate::rest::error::{env_path, ApiError, ErrorBody, ValidationErrorBody};
use crate::rest::json::ApiJson;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use control::approvals::RequestQuery;
use control::CurrentUser;
use domain::approval::{Decision, ReleaseRequestView, RequestSpec};
use serde::Serialize;

/// Requests, newest first.
#[derive(Debug, Serialize)]
pub struct RequestList {
    items: Vec<ReleaseRequestView>,
    total: usize,
}

/// Ask for a Production change: `{version, backend, note?}` (a release or switch) or
/// `{offline: true, note?}`; an admin other than the requester approves it.
#[utoipa::path(post, path = "/groups/{group}/deployments/{env}/requests", tag = "approvals", params(("group" = String, Path), ("env" = String, Path, description = "prod")), request_body(content = Object, description = "`{version, backend, note?}` or `{offline: true, note?}`"), responses(
    (status = 201, description = "The pending request, with the diff against what is live"),
    (status = 403, body = ErrorBody),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn request_change(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((group, env)): Path<(String, String)>,
    ApiJson(spec): ApiJson<RequestSpec>,
) -> Result<(StatusCode, Json<ReleaseRequestView>), ApiError> {
    let env = env_path(&env)?;
    Ok((StatusCode::CREATED, Json(state.control.request_change(&group, env, &spec, &user).await?)))
}

/// Requests, newest first (at most 200): `?status=pending|approved|rejected|withdrawn&group=`.
#[utoipa::path(get, path = "/release-requests", tag = "approvals", params(("status" = Option<String>, Query), ("group" = Option<String>, Query)), responses(
    (status = 200, description = "`{items: [request], total}`"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn list_requests(
    State(state): State<AppState>,
    Query(query): Query<RequestQuery>,
) -> Result<Json<RequestList>, ApiError> {
    let items = state.control.list_requests(&query).await?;
    Ok(Json(RequestList { total: items.len(), items }))
}

/// Approve a pending request (an admin other than the requester): the change is made in the
/// same transaction. `{note?}`.
#[utoipa::path(post, path = "/release-requests/{id}/approve", tag = "approvals", params(("id" = i32, Path)), request_body(content = Object, description = "`{note?}`"), responses(
    (status = 200, description = "The approved request"),
    (status = 403, body = ErrorBody),
    (status = 409, body = ErrorBody),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn approve(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i32>,
    ApiJson(decision): ApiJson<Decision>,
) -> Result<Json<ReleaseRequestView>, ApiError> {
    Ok(Json(state.control.approve_request(id, &decision, &user).await?))
}

/// Reject a pending request (an admin). `{note?}`.
#[utoipa::path(post, path = "/release-requests/{id}/reject", tag = "approvals", params(("id" = i32, Path)), request_body(content = Object, description = "`{note?}`"), responses(
    (status = 200, description = "The rejected request"),
    (status = 403, body = ErrorBody),
    (status = 409, body = ErrorBody),
))]
pub async fn reject(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i32>,
    ApiJson(decision): ApiJson<Decision>,
) -> Result<Json<ReleaseRequestView>, ApiError> {
    Ok(Json(state.control.reject_request(id, &decision, &user).await?))
}

/// Withdraw a pending request (its requester, or an admin).
#[utoipa::path(delete, path = "/release-requests/{id}", tag = "approvals", params(("id" = i32, Path)), responses(
    (status = 200, description = "The withdrawn request"),
    (status = 403, body = ErrorBody),
    (status = 409, body = ErrorBody),
))]
pub async fn withdraw(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i32>,
) -> Result<Json<ReleaseRequestView>, ApiError> {
    Ok(Json(state.control.withdraw_request(id, &user).await?))
}
