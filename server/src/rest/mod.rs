//! The admin REST API at `/api/admin/v1`: JSON in and out, described by an OpenAPI document
//! generated from these handlers (`/api/admin/v1/openapi.json`). Handlers are thin: they
//! call the same `control` services as the console. The role every endpoint requires is
//! one table, [`roles::RULES`], enforced before a handler runs and stated in the document.

mod access_log;
mod apis;
mod approvals;
mod apps;
mod audit;
mod config;
mod debug;
mod docs;
pub mod error;
mod groups;
mod health;
mod json;
mod nodes;
mod policies;
mod releases;
pub mod roles;
mod services;
mod stats;
mod tokens;
mod users;

use crate::{auth, AppState};
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use axum::{Json, Router};
use roles::RequiredRoles;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The OpenAPI description of the admin API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Gantry admin API", description = "Manage API groups, versions, deployments, backend services and apps."),
    servers((url = "/api/admin/v1")),
    paths(
        health::get_health,
        nodes::list_nodes,
        access_log::access_log,
        audit::audit,
        audit::export,
        stats::group_stats,
        stats::api_traffic,
        stats::backend_health,
        get_openapi,
        groups::list_groups,
        groups::create_group,
        groups::get_group,
        groups::update_group,
        groups::delete_group,
        groups::list_domains,
        groups::put_certificate,
        groups::get_certificate,
        groups::delete_certificate,
        groups::add_domain,
        groups::remove_domain,
        apis::list_apis,
        apis::create_api,
        apis::get_api,
        apis::update_api,
        apis::delete_api,
        releases::list_versions,
        releases::create_version,
        releases::get_version,
        releases::delete_version,
        releases::diff_version,
        releases::list_deployments,
        releases::deployment_history,
        releases::release_version,
        releases::release_draft,
        releases::release_api,
        releases::live_apis,
        releases::take_offline,
        releases::get_canary,
        releases::set_canary,
        releases::promote_canary,
        releases::rollback_canary,
        approvals::request_change,
        approvals::list_requests,
        approvals::approve,
        approvals::reject,
        approvals::withdraw,
        apps::list_apps,
        apps::create_app,
        apps::get_app,
        apps::update_app,
        apps::delete_app,
        apps::reset_secret,
        apps::reset_code,
        apps::list_authorizations,
        apps::authorize,
        apps::revoke,
        apps::api_authorizations,
        apps::authorize_apps,
        policies::list_policies,
        policies::create_policy,
        policies::get_policy,
        policies::update_policy,
        policies::delete_policy,
        policies::list_bindings,
        policies::bind,
        policies::unbind,
        policies::group_bindings,
        debug::debug,
        services::list_services,
        services::create_service,
        services::get_service,
        services::update_service,
        services::delete_service,
        services::set_url,
        services::delete_url,
        services::history,
        docs::export_openapi,
        docs::docs,
        docs::sdk,
        docs::import,
        config::export,
        config::diff,
        config::apply,
        tokens::list_tokens,
        tokens::create_token,
        tokens::revoke_token,
        users::list_users,
        users::create_user,
        users::update_user,
    ),
    components(schemas(health::Health, error::ErrorBody, error::ValidationErrorBody, error::FieldErrorBody)),
    modifiers(&BearerAuth, &RequiredRoles),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "The OpenAPI document")))]
async fn get_openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The REST routes, every one behind the token-or-session guard.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/health", get(health::get_health))
        .route("/nodes", get(nodes::list_nodes))
        .route("/access-log", get(access_log::access_log))
        .route("/audit", get(audit::audit))
        .route("/audit/export", get(audit::export))
        .route("/backend-health", get(stats::backend_health))
        .route("/groups/{group}/stats", get(stats::group_stats))
        .route("/groups/{group}/stats/apis", get(stats::api_traffic))
        .route("/openapi.json", get(get_openapi))
        .route("/groups", get(groups::list_groups).post(groups::create_group))
        .route("/groups/{group}", get(groups::get_group).put(groups::update_group).delete(groups::delete_group))
        .route("/groups/{group}/domains", get(groups::list_domains).post(groups::add_domain))
        .route("/groups/{group}/domains/{host}", axum::routing::delete(groups::remove_domain))
        .route(
            "/groups/{group}/domains/{host}/certificate",
            get(groups::get_certificate).put(groups::put_certificate).delete(groups::delete_certificate),
        )
        .route("/groups/{group}/apis", get(apis::list_apis).post(apis::create_api))
        .route("/groups/{group}/apis/{id}", get(apis::get_api).put(apis::update_api).delete(apis::delete_api))
        .route("/groups/{group}/versions", get(releases::list_versions).post(releases::create_version))
        .route("/groups/{group}/versions/{label}", get(releases::get_version).delete(releases::delete_version))
        .route("/groups/{group}/versions/{label}/diff", get(releases::diff_version))
        .route("/groups/{group}/deployments", get(releases::list_deployments))
        .route("/groups/{group}/deployments/history", get(releases::deployment_history))
        .route(
            "/groups/{group}/deployments/{env}",
            axum::routing::put(releases::release_version).delete(releases::take_offline),
        )
        .route("/groups/{group}/deployments/{env}/draft", axum::routing::post(releases::release_draft))
        .route("/groups/{group}/apis/{id}/release/{env}", axum::routing::post(releases::release_api))
        .route(
            "/groups/{group}/deployments/{env}/canary",
            get(releases::get_canary).put(releases::set_canary).delete(releases::rollback_canary),
        )
        .route("/groups/{group}/deployments/{env}/canary/promote", axum::routing::post(releases::promote_canary))
        .route("/groups/{group}/deployments/{env}/requests", axum::routing::post(approvals::request_change))
        .route("/release-requests", get(approvals::list_requests))
        .route("/release-requests/{id}", axum::routing::delete(approvals::withdraw))
        .route("/release-requests/{id}/approve", axum::routing::post(approvals::approve))
        .route("/release-requests/{id}/reject", axum::routing::post(approvals::reject))
        .route("/groups/{group}/live", get(releases::live_apis))
        .route("/groups/{group}/apis/{id}/authorizations", get(apps::api_authorizations).post(apps::authorize_apps))
        .route("/policies", get(policies::list_policies).post(policies::create_policy))
        .route(
            "/policies/{name}",
            get(policies::get_policy).put(policies::update_policy).delete(policies::delete_policy),
        )
        .route("/policies/{name}/bindings", get(policies::list_bindings).post(policies::bind))
        .route("/policies/{name}/bindings/{id}", axum::routing::delete(policies::unbind))
        .route("/groups/{group}/policies", get(policies::group_bindings))
        .route("/apps", get(apps::list_apps).post(apps::create_app))
        .route("/apps/{app}", get(apps::get_app).patch(apps::update_app).delete(apps::delete_app))
        .route("/apps/{app}/reset-secret", axum::routing::post(apps::reset_secret))
        .route("/apps/{app}/reset-code", axum::routing::post(apps::reset_code))
        .route("/apps/{app}/authorizations", get(apps::list_authorizations).post(apps::authorize))
        .route("/apps/{app}/authorizations/{id}", axum::routing::delete(apps::revoke))
        .route("/debug", axum::routing::post(debug::debug))
        .route("/groups/{group}/openapi", get(docs::export_openapi))
        .route("/groups/{group}/docs/{env}", get(docs::docs))
        .route("/groups/{group}/sdk/{env}/{language}", get(docs::sdk))
        .route("/groups/{group}/import", axum::routing::post(docs::import))
        .route("/backend-services", get(services::list_services).post(services::create_service))
        .route(
            "/backend-services/{name}",
            get(services::get_service).patch(services::update_service).delete(services::delete_service),
        )
        .route("/backend-services/{name}/history", get(services::history))
        .route(
            "/backend-services/{name}/environments/{env}",
            axum::routing::put(services::set_url).delete(services::delete_url),
        )
        .route("/config/export", get(config::export))
        .route("/config/diff", axum::routing::post(config::diff))
        .route("/config/apply", axum::routing::post(config::apply))
        .route("/tokens", get(tokens::list_tokens).post(tokens::create_token))
        .route("/tokens/{id}", axum::routing::delete(tokens::revoke_token))
        .route("/users", get(users::list_users).post(users::create_user))
        .route("/users/{username}", axum::routing::patch(users::update_user))
        // Inside the routes (it needs the matched path), after the guard that finds the user.
        .route_layer(axum::middleware::from_fn(roles::role_guard))
        .fallback(error::not_found)
        .layer(from_fn_with_state(state, auth::rest_guard))
        .layer(axum::middleware::from_fn(error::json_rejections))
}
