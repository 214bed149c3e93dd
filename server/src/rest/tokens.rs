//! Admin REST API tokens: list (never the tokens themselves), create (the token is in the
//! answer, once), revoke.

use crate::rest::error::{ApiError, ErrorBody, ValidationErrorBody};
use crate::rest::json::ApiJson;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use control::tokens::{NewToken, TokenSpec, TokenView};
use control::CurrentUser;

/// The tokens the caller may see (an admin: everybody's; anyone else: its own): name, user,
/// created, last used, expiry.
#[utoipa::path(get, path = "/tokens", tag = "tokens", responses((status = 200, description = "`[token]`, without the tokens themselves")))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    Ok(Json(state.control.tokens_of(&user).await?))
}

/// Create a token acting as the caller: `{name, expires_in_days?}`; the answer's `token` is
/// shown this once.
#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body(content = Object, description = "`{name, expires_in_days?}` (1 to 3650 days; left out: never)"), responses(
    (status = 201, description = "The token (`token`) and its listing"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn create_token(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiJson(spec): ApiJson<TokenSpec>,
) -> Result<(StatusCode, Json<NewToken>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.control.issue_token_as(&spec, &user).await?)))
}

/// Revoke a token (an admin: any; anyone else: its own): it stops working at once.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens", params(("id" = i32, Path)), responses(
    (status = 204, description = "Revoked"),
    (status = 404, body = ErrorBody),
))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i32>,
) -> Result<StatusCode, ApiError> {
    state.control.revoke_token_as(id, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}
