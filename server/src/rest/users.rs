//! `/users`: admins list, create and change users (role, groups, disabled, password).

use crate::rest::error::{ApiError, ErrorBody, ValidationErrorBody};
use crate::rest::json::ApiJson;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use control::users::{NewUserSpec, UserPatch, UserView};
use control::CurrentUser;
use serde::Serialize;

/// Every user.
#[derive(Debug, Serialize)]
pub struct UserList {
    items: Vec<UserView>,
    total: usize,
}

/// List users: `{items: [{username, role, groups, disabled, created_at}], total}`.
#[utoipa::path(get, path = "/users", tag = "users", responses(
    (status = 200, description = "`{items: [user], total}`"),
    (status = 403, body = ErrorBody),
))]
pub async fn list_users(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Result<Json<UserList>, ApiError> {
    let items = state.control.list_users(&user).await?;
    Ok(Json(UserList { total: items.len(), items }))
}

/// Create a user: `{username, password, role: "admin"|"developer"|"viewer", groups?}`
/// (`groups`: a developer's groups; left out or `null`, every group).
#[utoipa::path(post, path = "/users", tag = "users", request_body(content = Object, description = "`{username, password, role, groups?}`"), responses(
    (status = 201, description = "The user"),
    (status = 403, body = ErrorBody),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn create_user(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiJson(spec): ApiJson<NewUserSpec>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.control.add_user(&spec, &user).await?)))
}

/// Change a user: `{role?, groups?, disabled?, password?}`. Disabling or a new password ends
/// the user's sessions; a disabled user's tokens stop working. The last enabled admin cannot
/// be demoted or disabled (409).
#[utoipa::path(patch, path = "/users/{username}", tag = "users", params(("username" = String, Path)), request_body(content = Object, description = "`{role?, groups?, disabled?, password?}`"), responses(
    (status = 200, description = "The user"),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, body = ErrorBody),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn update_user(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(username): Path<String>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(state.control.update_user(&username, &patch, &user).await?))
}
