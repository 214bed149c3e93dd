//! `/groups/{group}/apis`: a group's working draft of APIs, in DESIGN.md's API JSON shape.

use crate::rest::error::{ApiError, ErrorBody, ValidationErrorBody};
use crate::rest::json::ApiJson;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use control::apis::{ApiPage, ApiQuery, ApiView};
use control::CurrentUser;
use domain::api::ApiSpec;

/// List a group's APIs: `?q=` searches names and paths, `page` (1-based) and `per_page`.
#[utoipa::path(get, path = "/groups/{group}/apis", tag = "apis", params(
    ("group" = String, Path),
    ("q" = Option<String>, Query, description = "part of a name or path"),
    ("page" = Option<u64>, Query),
    ("per_page" = Option<u64>, Query, description = "1-200, default 20"),
    ("sort" = Option<String>, Query, description = "`name` (default), `method`, `path` or `updated`"),
    ("desc" = Option<bool>, Query, description = "Z to A, newest first"),
), responses((status = 200, description = "`{items: [API], total, page, per_page}`"), (status = 404, body = ErrorBody)))]
pub async fn list_apis(
    State(state): State<AppState>,
    Path(group): Path<String>,
    Query(query): Query<ApiQuery>,
) -> Result<Json<ApiPage>, ApiError> {
    Ok(Json(state.control.list_apis(&group, &query).await?))
}

/// Add an API to the group's draft.
#[utoipa::path(post, path = "/groups/{group}/apis", tag = "apis", params(("group" = String, Path)), request_body(content = Object, description = "The API object (DESIGN.md)"), responses(
    (status = 201, description = "The API with its `id`"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn create_api(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(group): Path<String>,
    ApiJson(spec): ApiJson<ApiSpec>,
) -> Result<(StatusCode, Json<ApiView>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.control.create_api(&group, &spec, &user).await?)))
}

/// One API of the draft.
#[utoipa::path(get, path = "/groups/{group}/apis/{id}", tag = "apis", params(("group" = String, Path), ("id" = i32, Path)), responses(
    (status = 200, description = "The API"),
    (status = 404, body = ErrorBody),
))]
pub async fn get_api(
    State(state): State<AppState>,
    Path((group, id)): Path<(String, i32)>,
) -> Result<Json<ApiView>, ApiError> {
    Ok(Json(state.control.get_api(&group, id).await?))
}

/// Replace an API's definition in the draft.
#[utoipa::path(put, path = "/groups/{group}/apis/{id}", tag = "apis", params(("group" = String, Path), ("id" = i32, Path)), request_body(content = Object, description = "The API object"), responses(
    (status = 200, description = "The API"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn update_api(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((group, id)): Path<(String, i32)>,
    ApiJson(spec): ApiJson<ApiSpec>,
) -> Result<Json<ApiView>, ApiError> {
    Ok(Json(state.control.update_api(&group, id, &spec, &user).await?))
}

/// Remove an API from the draft.
#[utoipa::path(delete, path = "/groups/{group}/apis/{id}", tag = "apis", params(("group" = String, Path), ("id" = i32, Path)), responses(
    (status = 204, description = "Deleted"),
    (status = 404, body = ErrorBody),
))]
pub async fn delete_api(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((group, id)): Path<(String, i32)>,
) -> Result<StatusCode, ApiError> {
    state.control.delete_api(&group, id, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}
