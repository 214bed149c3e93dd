//! `/groups/{group}/versions` and `/groups/{group}/deployments`.

use crate::rest::error::{ApiError, ErrorBody, ValidationErrorBody};
use crate::rest::json::ApiJson;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use control::{ControlError, CurrentUser};
use domain::canary::{CanarySpec, CanaryView};
use domain::release::{
    ApiReleaseSpec, DeploymentEventView, DeploymentView, Diff, DraftReleaseSpec, LiveVersion, ReleaseSpec, VersionSpec,
    VersionView,
};
use domain::Environment;
use serde::Deserialize;

fn environment(raw: &str) -> Result<Environment, ApiError> {
    raw.parse().map_err(|e: domain::environment::UnknownEnvironment| ApiError(ControlError::NotFound(e.to_string())))
}

/// List a group's versions, newest first, each with its changes against its base.
#[utoipa::path(get, path = "/groups/{group}/versions", tag = "versions", params(("group" = String, Path)), responses((status = 200, description = "`[version]`")))]
pub async fn list_versions(
    State(state): State<AppState>,
    Path(group): Path<String>,
) -> Result<Json<Vec<VersionView>>, ApiError> {
    Ok(Json(state.control.list_versions(&group).await?))
}

/// Freeze the draft into a new version: `{label, description?}`.
#[utoipa::path(post, path = "/groups/{group}/versions", tag = "versions", params(("group" = String, Path)), request_body(content = Object, description = "`{label, description?}`"), responses(
    (status = 201, description = "The version"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn create_version(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(group): Path<String>,
    ApiJson(spec): ApiJson<VersionSpec>,
) -> Result<(StatusCode, Json<VersionView>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.control.create_version(&group, &spec, &user).await?)))
}

/// One version with its APIs.
#[utoipa::path(get, path = "/groups/{group}/versions/{label}", tag = "versions", params(("group" = String, Path), ("label" = String, Path)), responses(
    (status = 200, description = "The version with `apis`"),
    (status = 404, body = ErrorBody),
))]
pub async fn get_version(
    State(state): State<AppState>,
    Path((group, label)): Path<(String, String)>,
) -> Result<Json<VersionView>, ApiError> {
    Ok(Json(state.control.get_version(&group, &label).await?))
}

/// Delete a version; 409 while it is live.
#[utoipa::path(delete, path = "/groups/{group}/versions/{label}", tag = "versions", params(("group" = String, Path), ("label" = String, Path)), responses(
    (status = 204, description = "Deleted"),
    (status = 409, body = ErrorBody),
))]
pub async fn delete_version(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((group, label)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.control.delete_version(&group, &label, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?against=`: a version label or an environment (`test`, `pre`, `prod`).
#[derive(Debug, Deserialize)]
pub struct DiffQuery {
    against: String,
}

/// What the version changes relative to another version or to what is live in an
/// environment.
#[utoipa::path(get, path = "/groups/{group}/versions/{label}/diff", tag = "versions", params(("group" = String, Path), ("label" = String, Path), ("against" = String, Query, description = "a version label or test|pre|prod")), responses(
    (status = 200, description = "`{added, removed, changed: [{id, name, fields: [{field, old, new}]}]}`"),
))]
pub async fn diff_version(
    State(state): State<AppState>,
    Path((group, label)): Path<(String, String)>,
    Query(query): Query<DiffQuery>,
) -> Result<Json<Diff>, ApiError> {
    Ok(Json(state.control.diff_versions(&group, &query.against, &label).await?))
}

/// What is live in each environment.
#[utoipa::path(get, path = "/groups/{group}/deployments", tag = "deployments", params(("group" = String, Path)), responses((status = 200, description = "`[deployment]`")))]
pub async fn list_deployments(
    State(state): State<AppState>,
    Path(group): Path<String>,
) -> Result<Json<Vec<DeploymentView>>, ApiError> {
    Ok(Json(state.control.list_deployments(&group).await?))
}

/// The deployment history, newest first.
#[utoipa::path(get, path = "/groups/{group}/deployments/history", tag = "deployments", params(("group" = String, Path)), responses((status = 200, description = "`[event]`")))]
pub async fn deployment_history(
    State(state): State<AppState>,
    Path(group): Path<String>,
) -> Result<Json<Vec<DeploymentEventView>>, ApiError> {
    Ok(Json(state.control.deployment_history(&group).await?))
}

/// Release or switch: `{version, backend: {type: "mock"} | {type: "http", address}, note?}`.
#[utoipa::path(put, path = "/groups/{group}/deployments/{env}", tag = "deployments", params(("group" = String, Path), ("env" = String, Path, description = "test, pre or prod")), request_body(content = Object, description = "`{version, backend, note?}`"), responses(
    (status = 200, description = "The deployment"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn release_version(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((group, env)): Path<(String, String)>,
    ApiJson(spec): ApiJson<ReleaseSpec>,
) -> Result<Json<DeploymentView>, ApiError> {
    Ok(Json(state.control.release(&group, environment(&env)?, &spec, &user).await?))
}

/// Release the draft: freeze it into a new version and make that live, as one step. A
/// release that would be refused leaves no version behind.
#[utoipa::path(post, path = "/groups/{group}/deployments/{env}/draft", tag = "deployments", params(("group" = String, Path), ("env" = String, Path, description = "test, pre or prod")), request_body(content = Object, description = "`{version: {label, description?}, backend, note?}`"), responses(
    (status = 200, description = "The deployment"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn release_draft(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((group, env)): Path<(String, String)>,
    ApiJson(spec): ApiJson<DraftReleaseSpec>,
) -> Result<Json<DeploymentView>, ApiError> {
    let env = environment(&env)?;
    Ok(Json(state.control.release_draft(&group, env, &spec.version, &spec.backend, &spec.note, &user).await?))
}

/// Release one API: a new version made of what is live in the environment with this API's
/// draft in place of its live copy (labelled `{live}-api{id}` unless `label` is given),
/// released with the live backend unless `backend` is given. The rest of the draft stays
/// unreleased.
#[utoipa::path(post, path = "/groups/{group}/apis/{id}/release/{env}", tag = "deployments", params(("group" = String, Path), ("id" = i32, Path), ("env" = String, Path, description = "test, pre or prod")), request_body(content = Object, description = "`{label?, backend?, note?}`"), responses(
    (status = 200, description = "The deployment"),
    (status = 404, body = ErrorBody),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn release_api(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((group, id, env)): Path<(String, i32, String)>,
    ApiJson(spec): ApiJson<ApiReleaseSpec>,
) -> Result<Json<DeploymentView>, ApiError> {
    let env = environment(&env)?;
    Ok(Json(state.control.release_api(&group, id, env, &spec, &user).await?))
}

/// What is live in each environment: the version and its APIs.
#[utoipa::path(get, path = "/groups/{group}/live", tag = "deployments", params(("group" = String, Path)), responses((status = 200, description = "`[{environment, version, apis}]`")))]
pub async fn live_apis(
    State(state): State<AppState>,
    Path(group): Path<String>,
) -> Result<Json<Vec<LiveVersion>>, ApiError> {
    Ok(Json(state.control.live_apis(&group).await?))
}

/// Take the group off-line in an environment.
#[utoipa::path(delete, path = "/groups/{group}/deployments/{env}", tag = "deployments", params(("group" = String, Path), ("env" = String, Path)), responses(
    (status = 204, description = "Off-line"),
    (status = 404, body = ErrorBody),
))]
pub async fn take_offline(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((group, env)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.control.take_offline(&group, environment(&env)?, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The canary running in an environment.
#[utoipa::path(get, path = "/groups/{group}/deployments/{env}/canary", tag = "deployments", params(("group" = String, Path), ("env" = String, Path)), responses(
    (status = 200, description = "`{environment, version, backend, weight, match, sticky, started_at, started_by, note}`"),
    (status = 404, body = ErrorBody),
))]
pub async fn get_canary(
    State(state): State<AppState>,
    Path((group, env)): Path<(String, String)>,
) -> Result<Json<CanaryView>, ApiError> {
    Ok(Json(state.control.get_canary(&group, environment(&env)?).await?))
}

/// Start a canary beside what is live, or change it: `{version, backend, weight?, match?,
/// sticky?, note?}` (`weight` in percent, 0.1–99; `match`: `{"app": …}`, `{"header":
/// {"name", "value"}}` or `{"ip": "10.0.0.0/8"}`, with which the weight is optional, 100 by
/// default).
#[utoipa::path(put, path = "/groups/{group}/deployments/{env}/canary", tag = "deployments", params(("group" = String, Path), ("env" = String, Path)), request_body(content = Object, description = "`{version, backend, weight?, match?, sticky?, note?}`"), responses(
    (status = 200, description = "The canary"),
    (status = 409, body = ErrorBody),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn set_canary(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((group, env)): Path<(String, String)>,
    ApiJson(spec): ApiJson<CanarySpec>,
) -> Result<Json<CanaryView>, ApiError> {
    Ok(Json(state.control.set_canary(&group, environment(&env)?, &spec, &user).await?))
}

/// Promote the canary: it becomes the environment's version (one transaction).
#[utoipa::path(post, path = "/groups/{group}/deployments/{env}/canary/promote", tag = "deployments", params(("group" = String, Path), ("env" = String, Path)), responses(
    (status = 200, description = "The deployment"),
    (status = 404, body = ErrorBody),
))]
pub async fn promote_canary(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((group, env)): Path<(String, String)>,
) -> Result<Json<DeploymentView>, ApiError> {
    Ok(Json(state.control.promote_canary(&group, environment(&env)?, &user).await?))
}

/// Roll the canary back: every caller gets the environment's version again.
#[utoipa::path(delete, path = "/groups/{group}/deployments/{env}/canary", tag = "deployments", params(("group" = String, Path), ("env" = String, Path)), responses(
    (status = 204, description = "Rolled back"),
    (status = 404, body = ErrorBody),
))]
pub async fn rollback_canary(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((group, env)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.control.rollback_canary(&group, environment(&env)?, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}
