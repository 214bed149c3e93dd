//! Who is calling: console sessions and REST bearer tokens.
//!
//! - [`console_guard`] wraps every console route: pages redirect to `/login` and server
//!   functions answer 401 unless the session holds a user; the user is then put in the
//!   request extensions for the handler.
//! - [`rest_guard`] does the same for `/api/admin/v1` with `Authorization: Bearer <token>` or
//!   the console session, answering 401 JSON.
//! - [`login`] and [`logout`] are plain form handlers, so login works before hydration.

use crate::rest::error::ApiError;
use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use control::{Control, ControlError, CurrentUser};
use serde::Deserialize;
use std::net::SocketAddr;
use tower_sessions::Session;

/// The session key holding the logged-in user's id.
const USER_ID: &str = "user_id";
/// The session key holding the user's credential stamp at login: a password reset changes
/// the user's stamp, which ends the session.
const STAMP: &str = "stamp";

/// Routes anyone may reach: the login page and form, and the browser bundle.
fn is_public(path: &str) -> bool {
    matches!(path, "/login" | "/auth/login" | "/favicon.ico" | "/favicon.svg") || path.starts_with("/pkg/")
}

async fn session_user(control: &Control, session: &Session) -> Result<Option<CurrentUser>, ControlError> {
    let read = |e: tower_sessions::session::Error| ControlError::Internal(format!("session: {e}"));
    let id = session.get::<i32>(USER_ID).await.map_err(read)?;
    match id {
        Some(id) => {
            let stamp = session.get::<String>(STAMP).await.map_err(read)?;
            control.session_user(id, stamp.as_deref()).await
        }
        None => Ok(None),
    }
}

/// Requires a logged-in user on every console route but the public ones.
pub async fn console_guard(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let user = match session_user(&state.control, &session).await {
        Ok(user) => user,
        Err(error) => return ApiError::from(error).into_response(),
    };
    match user {
        Some(_) if path == "/login" => Redirect::to("/groups").into_response(),
        Some(user) => {
            let user = with_address(user, &request);
            request.extensions_mut().insert(user);
            next.run(request).await
        }
        None if is_public(&path) => next.run(request).await,
        // Server functions are called by the page's code, not navigated to: say 401.
        None if path.starts_with("/api/") => ApiError::from(ControlError::Unauthenticated).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

/// The user with the address its request came from (the audit log records it).
fn with_address(user: CurrentUser, request: &Request) -> CurrentUser {
    let address = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|peer| peer.0.ip().to_string());
    CurrentUser { address, ..user }
}

fn bearer_token(request: &Request) -> Option<&str> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Requires a valid bearer token or console session on the admin REST API.
pub async fn rest_guard(State(state): State<AppState>, session: Session, mut request: Request, next: Next) -> Response {
    let user = match bearer_token(&request) {
        Some(token) => state.control.authenticate_token(token).await.map(Some),
        None => session_user(&state.control, &session).await,
    };
    match user {
        Ok(Some(user)) => {
            let user = with_address(user, &request);
            request.extensions_mut().insert(user);
            next.run(request).await
        }
        Ok(None) | Err(ControlError::Unauthenticated) => ApiError::from(ControlError::Unauthenticated).into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// Refuses (403) a cross-site request that would change something with the browser's
/// session cookie: a `POST`, `PUT`, `PATCH` or `DELETE` (server functions, form posts, REST
/// calls) whose `Sec-Fetch-Site` is not `same-origin` or `none`, or whose `Origin` is not the
/// console's own (`null` included). `SameSite=Strict` already keeps the cookie off most
/// cross-site requests; this also covers a site on the same registrable domain (a group
/// served by the gateway under the console's domain is "same-site", not "same-origin").
/// Requests that carry a bearer token are not driven by a browser's cookie and pass.
pub async fn same_origin_writes(request: Request, next: Next) -> Response {
    let writes =
        !matches!(*request.method(), axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS);
    if writes && !has_bearer_token(request.headers()) {
        if let Err(reason) = same_origin(request.headers()) {
            tracing::warn!(reason, path = %request.uri().path(), "cross-site write refused");
            return ApiError::from(ControlError::Forbidden(format!("cross-site request refused: {reason}")))
                .into_response();
        }
    }
    next.run(request).await
}

fn has_bearer_token(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "))
}

/// Whether a request's browser headers say it comes from the console's own pages. A client
/// that sends neither header is not a browser (or a very old one) and cannot be made to
/// carry the cookie by another site.
fn same_origin(headers: &axum::http::HeaderMap) -> Result<(), String> {
    let text = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    if let Some(site) = text("sec-fetch-site") {
        if site != "same-origin" && site != "none" {
            return Err(format!("Sec-Fetch-Site is `{site}`"));
        }
    }
    if let Some(origin) = text("origin") {
        // Behind a reverse proxy the console's public host is `X-Forwarded-Host` (a page on
        // another site cannot add that header to a cookie-carrying request without a CORS
        // preflight, which the console never grants).
        let host = text("host").unwrap_or_default();
        let forwarded = text("x-forwarded-host");
        let authority = origin.split_once("://").map(|(_, rest)| rest.trim_end_matches('/')).unwrap_or("");
        let ours = authority == host || forwarded.as_deref() == Some(authority);
        if origin == "null" || authority.is_empty() || !ours {
            return Err(format!("Origin `{origin}` is not this console ({host})"));
        }
    }
    Ok(())
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

/// `POST /auth/login`: on success a new session and the API Groups page; otherwise back to
/// the login page with a message that does not say which part was wrong.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Response {
    match state.control.login(&form.username, &form.password, peer.ip()).await {
        Ok(user) => {
            // A new id on login: a session id planted before login is worth nothing after.
            let stamp = match state.control.session_stamp(user.id).await {
                Ok(stamp) => stamp.unwrap_or_default(),
                Err(error) => return ApiError::from(error).into_response(),
            };
            let stored = async {
                session.cycle_id().await?;
                session.insert(USER_ID, user.id).await?;
                session.insert(STAMP, stamp).await
            };
            match stored.await {
                Ok(()) => Redirect::to("/groups").into_response(),
                Err(error) => ApiError::from(ControlError::Internal(format!("session: {error}"))).into_response(),
            }
        }
        Err(ControlError::InvalidCredentials | ControlError::Validation(_)) => {
            Redirect::to(&failed_login_location(&form.username)).into_response()
        }
        // Said only after the right password: it tells nothing to someone guessing.
        Err(ControlError::Forbidden(_)) => Redirect::to(&login_location("disabled", &form.username)).into_response(),
        Err(ControlError::TooManyAttempts { retry_after_s }) => too_many_attempts(&form.username, retry_after_s),
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// 429 with `Retry-After`, as a page a person reads: how long to wait, and the way back to
/// the form with the username kept.
fn too_many_attempts(username: &str, retry_after_s: u64) -> Response {
    let back = failed_login_location(username).replacen("error=1&", "", 1);
    let back = back.replace('&', "&amp;").replace('"', "&quot;");
    let page = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Too many attempts - Gantry</title></head>\
         <body><h1>Too many sign-in attempts</h1><p>Too many failed sign-ins for this user or from this \
         address. Try again in {retry_after_s} seconds.</p><p><a href=\"{back}\">Back to sign in</a></p></body></html>"
    );
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(axum::http::header::RETRY_AFTER, retry_after_s.to_string())],
        axum::response::Html(page),
    )
        .into_response()
}

/// Back to the login page after a failed attempt, with the username kept in the form (cut to
/// the longest a username may be, so the address stays short).
fn failed_login_location(username: &str) -> String {
    login_location("1", username)
}

/// The login page with `error` (`1`: wrong credentials; `disabled`: the user is disabled).
fn login_location(error: &str, username: &str) -> String {
    let kept: String = username.chars().take(MAX_KEPT_USERNAME).collect();
    let base = "/login?";
    form_urlencoded::Serializer::for_suffix(String::from(base), base.len())
        .append_pair("error", error)
        .append_pair("username", &kept)
        .finish()
}

/// The longest username a failed login puts back into the form.
const MAX_KEPT_USERNAME: usize = 64;

/// `POST /auth/logout`: ends the session.
pub async fn logout(session: Session) -> Response {
    match session.flush().await {
        Ok(()) => Redirect::to("/login").into_response(),
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(serde_json::json!({"code": "InternalError", "message": error.to_string()})),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderMap;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(n, v)| (axum::http::HeaderName::from_static(n), v.parse().expect("value"))).collect()
    }

    #[test]
    fn only_the_consoles_own_pages_may_write_with_its_cookie() {
        let host = ("host", "localhost:3000");
        assert!(super::same_origin(&headers(&[host, ("origin", "http://localhost:3000")])).is_ok());
        assert!(super::same_origin(&headers(&[host, ("sec-fetch-site", "same-origin")])).is_ok());
        assert!(super::same_origin(&headers(&[host])).is_ok(), "not a browser");
        for (name, value) in [
            ("origin", "http://evil.localhost:9999"),
            ("origin", "http://petstore.localhost:3000"),
            ("origin", "null"),
            ("origin", "http://localhost:3000.evil.com"),
            ("sec-fetch-site", "same-site"),
            ("sec-fetch-site", "cross-site"),
        ] {
            assert!(super::same_origin(&headers(&[host, (name, value)])).is_err(), "{name}: {value}");
        }
    }
    #[test]
    fn a_failed_login_keeps_the_username_encoded() {
        assert_eq!(super::failed_login_location("ad min&x=1"), "/login?error=1&username=ad+min%26x%3D1");
        assert_eq!(super::failed_login_location(&"é".repeat(100)).matches("%C3%A9").count(), 64);
    }
}
