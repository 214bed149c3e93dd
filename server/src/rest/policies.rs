//! `/policies`: traffic policies (throttling, IP access control, CORS) and their bindings.

use crate::rest::error::{ApiError, ErrorBody, ValidationErrorBody};
use crate::rest::json::ApiJson;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use control::CurrentUser;
use domain::policy::{BindingSpec, BindingView, PolicySpec, PolicyView};

/// Every policy with its bindings.
#[utoipa::path(get, path = "/policies", tag = "policies", responses((status = 200, description = "`[policy]`, each with its `bindings`")))]
pub async fn list_policies(State(state): State<AppState>) -> Result<Json<Vec<PolicyView>>, ApiError> {
    Ok(Json(state.control.list_policies().await?))
}

/// Create a policy: `{name, type: throttling | ip_access | cors, description?, config}`.
#[utoipa::path(post, path = "/policies", tag = "policies", request_body(content = Object, description = "`{name, type, description?, config}`; `config` by type: throttling `{unit, api_limit?, app_limit?, ip_limit?, special_apps: [{app, limit}]}`, ip_access `{mode: allow | deny, cidrs, app?}`, cors `{allow_origins, allow_methods, allow_headers, expose_headers, allow_credentials, max_age_s?}`"), responses(
    (status = 201, description = "The policy"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn create_policy(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiJson(spec): ApiJson<PolicySpec>,
) -> Result<(StatusCode, Json<PolicyView>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.control.create_policy(&spec, &user).await?)))
}

/// One policy with its bindings.
#[utoipa::path(get, path = "/policies/{name}", tag = "policies", params(("name" = String, Path)), responses(
    (status = 200, description = "The policy"),
    (status = 404, body = ErrorBody),
))]
pub async fn get_policy(State(state): State<AppState>, Path(name): Path<String>) -> Result<Json<PolicyView>, ApiError> {
    Ok(Json(state.control.get_policy(&name).await?))
}

/// Replace a policy's description and configuration (name and type stay); bound APIs follow
/// it from the next request.
#[utoipa::path(put, path = "/policies/{name}", tag = "policies", params(("name" = String, Path)), request_body(content = Object, description = "`{name, type, description?, config}`"), responses(
    (status = 200, description = "The policy"),
    (status = 404, body = ErrorBody),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn update_policy(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(name): Path<String>,
    ApiJson(spec): ApiJson<PolicySpec>,
) -> Result<Json<PolicyView>, ApiError> {
    Ok(Json(state.control.update_policy(&name, &spec, &user).await?))
}

/// Delete a policy and its bindings.
#[utoipa::path(delete, path = "/policies/{name}", tag = "policies", params(("name" = String, Path)), responses(
    (status = 204, description = "Deleted"),
    (status = 404, body = ErrorBody),
))]
pub async fn delete_policy(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.control.delete_policy(&name, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A policy's bindings.
#[utoipa::path(get, path = "/policies/{name}/bindings", tag = "policies", params(("name" = String, Path)), responses(
    (status = 200, description = "`[binding]`"),
    (status = 404, body = ErrorBody),
))]
pub async fn list_bindings(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Vec<BindingView>>, ApiError> {
    Ok(Json(state.control.policy_bindings(&name).await?))
}

/// Bind a policy: `{group, api?, env}` (`api` absent: every API of the group); it applies
/// from the next request, without a release.
#[utoipa::path(post, path = "/policies/{name}/bindings", tag = "policies", params(("name" = String, Path)), request_body(content = Object, description = "`{group, api?, env: test | pre | prod}`"), responses(
    (status = 201, description = "The binding"),
    (status = 409, body = ErrorBody),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn bind(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(name): Path<String>,
    ApiJson(spec): ApiJson<BindingSpec>,
) -> Result<(StatusCode, Json<BindingView>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.control.bind_policy(&name, &spec, &user).await?)))
}

/// Remove one binding.
#[utoipa::path(delete, path = "/policies/{name}/bindings/{id}", tag = "policies", params(("name" = String, Path), ("id" = i32, Path)), responses(
    (status = 204, description = "Unbound"),
    (status = 404, body = ErrorBody),
))]
pub async fn unbind(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((name, id)): Path<(String, i32)>,
) -> Result<StatusCode, ApiError> {
    state.control.unbind_policy(&name, id, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The policies bound in a group (to the group or to its APIs), per environment.
#[utoipa::path(get, path = "/groups/{group}/policies", tag = "policies", params(("group" = String, Path)), responses(
    (status = 200, description = "`[binding]`"),
    (status = 404, body = ErrorBody),
))]
pub async fn group_bindings(
    State(state): State<AppState>,
    Path(group): Path<String>,
) -> Result<Json<Vec<BindingView>>, ApiError> {
    Ok(Json(state.control.group_bindings(&group).await?))
}
