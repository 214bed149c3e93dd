//! `/apps`: apps, their credentials and their authorizations.

use crate::rest::error::{ApiError, ErrorBody, ValidationErrorBody};
use crate::rest::json::ApiJson;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use control::CurrentUser;
use domain::app::{AppPatch, AppSpec, AppView, AuthorizationView, AuthorizeSpec, Credential};
use serde::{Deserialize, Serialize};

/// Every app (secrets left out).
#[derive(Debug, Serialize)]
pub struct AppList {
    items: Vec<AppView>,
    total: usize,
}

/// List apps.
#[utoipa::path(get, path = "/apps", tag = "apps", responses((status = 200, description = "`{items: [app], total}` without AppSecrets and AppCodes")))]
pub async fn list_apps(State(state): State<AppState>) -> Result<Json<AppList>, ApiError> {
    let items = state.control.list_apps().await?;
    Ok(Json(AppList { total: items.len(), items }))
}

/// Create an app: `{name, description?}` → `{id, name, app_key, app_secret, app_code, …}`.
#[utoipa::path(post, path = "/apps", tag = "apps", request_body(content = Object, description = "`{name, description?}`"), responses(
    (status = 201, description = "The app with its AppKey, AppSecret and AppCode"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn create_app(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiJson(spec): ApiJson<AppSpec>,
) -> Result<(StatusCode, Json<AppView>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.control.create_app(&spec, &user).await?)))
}

/// `?reveal=true` includes the AppSecret and the AppCode.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Reveal {
    reveal: bool,
}

/// One app; `?reveal=true` includes its AppSecret and AppCode.
#[utoipa::path(get, path = "/apps/{app}", tag = "apps", params(("app" = String, Path), ("reveal" = Option<bool>, Query)), responses(
    (status = 200, description = "The app"),
    (status = 404, body = ErrorBody),
))]
pub async fn get_app(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(app): Path<String>,
    Query(reveal): Query<Reveal>,
) -> Result<Json<AppView>, ApiError> {
    Ok(Json(if reveal.reveal {
        state.control.reveal_app(&app, &user).await
    } else {
        state.control.get_app(&app, false).await
    }?))
}

/// Change an app's name or description, or enable / disable it: `{name?, description?, enabled?}`.
#[utoipa::path(patch, path = "/apps/{app}", tag = "apps", params(("app" = String, Path)), request_body(content = Object, description = "`{name?, description?, enabled?}`"), responses(
    (status = 200, description = "The app"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn update_app(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(app): Path<String>,
    ApiJson(patch): ApiJson<AppPatch>,
) -> Result<Json<AppView>, ApiError> {
    Ok(Json(state.control.update_app(&app, &patch, &user).await?))
}

/// Delete an app and its authorizations.
#[utoipa::path(delete, path = "/apps/{app}", tag = "apps", params(("app" = String, Path)), responses((status = 204, description = "Deleted")))]
pub async fn delete_app(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(app): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.control.delete_app(&app, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace the AppSecret; the old one stops working at once. Answers with the new secret.
#[utoipa::path(post, path = "/apps/{app}/reset-secret", tag = "apps", params(("app" = String, Path)), responses((status = 200, description = "The app with its new AppSecret")))]
pub async fn reset_secret(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(app): Path<String>,
) -> Result<Json<AppView>, ApiError> {
    Ok(Json(state.control.reset_credential(&app, Credential::Secret, &user).await?))
}

/// Replace the AppCode; the old one stops working at once.
#[utoipa::path(post, path = "/apps/{app}/reset-code", tag = "apps", params(("app" = String, Path)), responses((status = 200, description = "The app with its new AppCode")))]
pub async fn reset_code(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(app): Path<String>,
) -> Result<Json<AppView>, ApiError> {
    Ok(Json(state.control.reset_credential(&app, Credential::Code, &user).await?))
}

/// An app's authorizations.
#[utoipa::path(get, path = "/apps/{app}/authorizations", tag = "apps", params(("app" = String, Path)), responses((status = 200, description = "`[authorization]`")))]
pub async fn list_authorizations(
    State(state): State<AppState>,
    Path(app): Path<String>,
) -> Result<Json<Vec<AuthorizationView>>, ApiError> {
    Ok(Json(state.control.list_authorizations(&app).await?))
}

/// Authorize an app for APIs of a group in an environment: `{group, apis: [id…], env, expires_at?}`.
#[utoipa::path(post, path = "/apps/{app}/authorizations", tag = "apps", params(("app" = String, Path)), request_body(content = Object, description = "`{group, apis: [id…], env, expires_at?}`"), responses(
    (status = 201, description = "The app's authorizations"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn authorize(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(app): Path<String>,
    ApiJson(spec): ApiJson<AuthorizeSpec>,
) -> Result<(StatusCode, Json<Vec<AuthorizationView>>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.control.authorize(&app, &spec, &user).await?)))
}

/// Revoke one authorization.
#[utoipa::path(delete, path = "/apps/{app}/authorizations/{id}", tag = "apps", params(("app" = String, Path), ("id" = i32, Path)), responses(
    (status = 204, description = "Revoked"),
    (status = 404, body = ErrorBody),
))]
pub async fn revoke(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((app, id)): Path<(String, i32)>,
) -> Result<StatusCode, ApiError> {
    state.control.revoke(&app, id, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The apps authorized for one API.
#[utoipa::path(get, path = "/groups/{group}/apis/{id}/authorizations", tag = "apps", params(("group" = String, Path), ("id" = i32, Path)), responses((status = 200, description = "`[authorization]`")))]
pub async fn api_authorizations(
    State(state): State<AppState>,
    Path((group, id)): Path<(String, i32)>,
) -> Result<Json<Vec<AuthorizationView>>, ApiError> {
    Ok(Json(state.control.api_authorizations(&group, id).await?))
}

/// Authorize apps for one API in one environment, in one transaction: `{apps: [name],
/// env, expires_at?}` (every app must exist, or none is authorized).
#[utoipa::path(post, path = "/groups/{group}/apis/{id}/authorizations", tag = "apps", params(("group" = String, Path), ("id" = i32, Path)), request_body(content = Object, description = "`{apps, env, expires_at?}`"), responses(
    (status = 200, description = "The API's authorizations: `[authorization]`"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn authorize_apps(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((group, id)): Path<(String, i32)>,
    ApiJson(spec): ApiJson<domain::app::ApiAuthorizeSpec>,
) -> Result<Json<Vec<AuthorizationView>>, ApiError> {
    Ok(Json(state.control.authorize_apps(&group, id, &spec, &user).await?))
}
