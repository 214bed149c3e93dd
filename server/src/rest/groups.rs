//! `/groups`: API groups.

use crate::rest::error::{ApiError, ErrorBody, ValidationErrorBody};
use crate::rest::json::ApiJson;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use control::groups::GroupView;
use control::CurrentUser;
use domain::group::{DomainSpec, GroupSpec};
use serde::Serialize;

/// Every group.
#[derive(Debug, Serialize)]
pub struct GroupList {
    items: Vec<GroupView>,
    total: usize,
}

/// List API groups.
#[utoipa::path(get, path = "/groups", tag = "groups", responses((status = 200, description = "`{items: [group], total}`")))]
pub async fn list_groups(State(state): State<AppState>) -> Result<Json<GroupList>, ApiError> {
    let items = state.control.list_groups().await?;
    Ok(Json(GroupList { total: items.len(), items }))
}

/// Create an API group: `{name, subdomain, description?}`.
#[utoipa::path(post, path = "/groups", tag = "groups", request_body(content = Object, description = "`{name, subdomain, description?}`"), responses(
    (status = 201, description = "The group"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn create_group(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiJson(spec): ApiJson<GroupSpec>,
) -> Result<(StatusCode, Json<GroupView>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.control.create_group(&spec, &user).await?)))
}

/// One API group.
#[utoipa::path(get, path = "/groups/{group}", tag = "groups", params(("group" = String, Path)), responses(
    (status = 200, description = "The group"),
    (status = 404, body = ErrorBody),
))]
pub async fn get_group(State(state): State<AppState>, Path(group): Path<String>) -> Result<Json<GroupView>, ApiError> {
    Ok(Json(state.control.get_group(&group).await?))
}

/// Change an API group's name, subdomain or description.
#[utoipa::path(put, path = "/groups/{group}", tag = "groups", params(("group" = String, Path)), request_body(content = Object, description = "`{name, subdomain, description?}`"), responses(
    (status = 200, description = "The group"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn update_group(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(group): Path<String>,
    ApiJson(spec): ApiJson<GroupSpec>,
) -> Result<Json<GroupView>, ApiError> {
    Ok(Json(state.control.update_group(&group, &spec, &user).await?))
}

/// Delete an API group; refused (409) while it is live in an environment.
#[utoipa::path(delete, path = "/groups/{group}", tag = "groups", params(("group" = String, Path)), responses(
    (status = 204, description = "Deleted"),
    (status = 409, body = ErrorBody),
))]
pub async fn delete_group(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(group): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.control.delete_group(&group, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A group's custom domains.
#[utoipa::path(get, path = "/groups/{group}/domains", tag = "groups", params(("group" = String, Path)), responses((status = 200, description = "`[{host, environment?}]`")))]
pub async fn list_domains(
    State(state): State<AppState>,
    Path(group): Path<String>,
) -> Result<Json<Vec<DomainSpec>>, ApiError> {
    Ok(Json(state.control.list_domains(&group).await?))
}

/// Bind a custom domain: `{host, environment?}` (`environment` pins it to test, pre or prod).
#[utoipa::path(post, path = "/groups/{group}/domains", tag = "groups", params(("group" = String, Path)), request_body(content = Object, description = "`{host, environment?}`"), responses(
    (status = 201, description = "The domain"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn add_domain(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(group): Path<String>,
    ApiJson(spec): ApiJson<DomainSpec>,
) -> Result<(StatusCode, Json<DomainSpec>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.control.add_domain(&group, &spec, &user).await?)))
}

/// Unbind a custom domain.
#[utoipa::path(delete, path = "/groups/{group}/domains/{host}", tag = "groups", params(("group" = String, Path), ("host" = String, Path)), responses(
    (status = 204, description = "Removed"),
    (status = 404, body = ErrorBody),
))]
pub async fn remove_domain(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((group, host)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.control.remove_domain(&group, &host, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set (or replace) a custom domain's certificate for the HTTPS listener:
/// `{cert_pem, key_pem}` (PEM chain, leaf first; PEM private key). The key must be the
/// leaf's, the leaf valid now and covering the host. The key is sealed at rest and never
/// shown again; the next handshake for the host uses the certificate.
#[utoipa::path(put, path = "/groups/{group}/domains/{host}/certificate", tag = "groups", params(("group" = String, Path), ("host" = String, Path)), request_body(content = Object, description = "`{cert_pem, key_pem}`"), responses(
    (status = 200, description = "`{subject, issuer, sans, not_before, not_after, days_left, expiring}`"),
    (status = 404, body = ErrorBody),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn put_certificate(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((group, host)): Path<(String, String)>,
    ApiJson(upload): ApiJson<domain::group::CertificateUpload>,
) -> Result<Json<domain::group::CertificateView>, ApiError> {
    Ok(Json(state.control.set_certificate(&group, &host, &upload, &user).await?))
}

/// A custom domain's certificate (never its key).
#[utoipa::path(get, path = "/groups/{group}/domains/{host}/certificate", tag = "groups", params(("group" = String, Path), ("host" = String, Path)), responses(
    (status = 200, description = "`{subject, issuer, sans, not_before, not_after, days_left, expiring}`"),
    (status = 404, body = ErrorBody),
))]
pub async fn get_certificate(
    State(state): State<AppState>,
    Path((group, host)): Path<(String, String)>,
) -> Result<Json<domain::group::CertificateView>, ApiError> {
    Ok(Json(state.control.get_certificate(&group, &host).await?))
}

/// Remove a custom domain's certificate (its handshakes get the default certificate).
#[utoipa::path(delete, path = "/groups/{group}/domains/{host}/certificate", tag = "groups", params(("group" = String, Path), ("host" = String, Path)), responses(
    (status = 204, description = "Removed"),
    (status = 404, body = ErrorBody),
))]
pub async fn delete_certificate(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((group, host)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.control.remove_certificate(&group, &host, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}
