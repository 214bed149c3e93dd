//! `/debug`: the Debug API's REST twin.

use crate::rest::error::{ApiError, ValidationErrorBody};
use crate::rest::json::ApiJson;
use crate::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use control::CurrentUser;
use domain::debug::{DebugRequest, DebugResult};

/// Call a live API through the real gateway and get the request sent, the response, the
/// timings and the gateway's trace: `{group, env, api (name or id), app?, params, headers?, body?}`.
#[utoipa::path(post, path = "/debug", tag = "debug", request_body(content = Object, description = "`{group, env, api, app?, params: {name: value}, headers?: {name: value}, body?}`"), responses(
    (status = 200, description = "`{request, response, timings, trace, client_string_to_sign}`"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn debug(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiJson(request): ApiJson<DebugRequest>,
) -> Result<Json<DebugResult>, ApiError> {
    Ok(Json(state.control.debug(&request, &user).await?))
}
