//! `/backend-services`: backend services and their per-environment URLs.

use crate::rest::error::{env_path, ApiError, ErrorBody, ValidationErrorBody};
use crate::rest::json::ApiJson;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use control::CurrentUser;
use domain::service::{ServiceEvent, ServicePatch, ServiceSpec, ServiceUrlSpec, ServiceView};
use serde::Serialize;

/// Every backend service.
#[derive(Debug, Serialize)]
pub struct ServiceList {
    items: Vec<ServiceView>,
    total: usize,
}

/// List backend services with their URLs and users.
#[utoipa::path(get, path = "/backend-services", tag = "backend-services", responses((status = 200, description = "`{items: [service], total}`")))]
pub async fn list_services(State(state): State<AppState>) -> Result<Json<ServiceList>, ApiError> {
    let items = state.control.list_services().await?;
    Ok(Json(ServiceList { total: items.len(), items }))
}

/// Create a backend service: `{name, type: "http"|"mock", description?}`.
#[utoipa::path(post, path = "/backend-services", tag = "backend-services", request_body(content = Object, description = "`{name, type, description?}`"), responses(
    (status = 201, description = "The service"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn create_service(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiJson(spec): ApiJson<ServiceSpec>,
) -> Result<(StatusCode, Json<ServiceView>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.control.create_service(&spec, &user).await?)))
}

/// One backend service: URLs per environment, the live APIs using each, the draft APIs using it.
#[utoipa::path(get, path = "/backend-services/{name}", tag = "backend-services", params(("name" = String, Path)), responses(
    (status = 200, description = "The service"),
    (status = 404, body = ErrorBody),
))]
pub async fn get_service(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ServiceView>, ApiError> {
    Ok(Json(state.control.get_service(&name).await?))
}

/// Change a service's name or description: `{name?, description?}`; a different `type` is a 422.
#[utoipa::path(patch, path = "/backend-services/{name}", tag = "backend-services", params(("name" = String, Path)), request_body(content = Object, description = "`{name?, description?, type?}`"), responses(
    (status = 200, description = "The service"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn update_service(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(name): Path<String>,
    ApiJson(patch): ApiJson<ServicePatch>,
) -> Result<Json<ServiceView>, ApiError> {
    Ok(Json(state.control.update_service(&name, &patch, &user).await?))
}

/// Delete a service nothing uses (409 otherwise).
#[utoipa::path(delete, path = "/backend-services/{name}", tag = "backend-services", params(("name" = String, Path)), responses(
    (status = 204, description = "Deleted"),
    (status = 409, body = ErrorBody),
))]
pub async fn delete_service(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.control.delete_service(&name, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set an environment's URL: `{url}`. Live APIs using the service there follow at once.
#[utoipa::path(put, path = "/backend-services/{name}/environments/{env}", tag = "backend-services", params(("name" = String, Path), ("env" = String, Path)), request_body(content = Object, description = "`{url}`"), responses(
    (status = 200, description = "The service"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn set_url(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((name, env)): Path<(String, String)>,
    ApiJson(spec): ApiJson<ServiceUrlSpec>,
) -> Result<Json<ServiceView>, ApiError> {
    Ok(Json(state.control.set_service_url(&name, env_path(&env)?, &spec, &user).await?))
}

/// Delete an environment's URL: live APIs using the service there go off-line there.
#[utoipa::path(delete, path = "/backend-services/{name}/environments/{env}", tag = "backend-services", params(("name" = String, Path), ("env" = String, Path)), responses(
    (status = 200, description = "The service"),
    (status = 404, body = ErrorBody),
))]
pub async fn delete_url(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((name, env)): Path<(String, String)>,
) -> Result<Json<ServiceView>, ApiError> {
    Ok(Json(state.control.delete_service_url(&name, env_path(&env)?, &user).await?))
}

/// The service's changes (URLs before and after), newest first.
#[utoipa::path(get, path = "/backend-services/{name}/history", tag = "backend-services", params(("name" = String, Path)), responses((status = 200, description = "`[event]`")))]
pub async fn history(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Vec<ServiceEvent>>, ApiError> {
    Ok(Json(state.control.service_history(&name).await?))
}
