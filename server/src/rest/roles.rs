//! The role each admin REST endpoint requires: one table, [`RULES`], that
//!
//! - [`role_guard`] enforces on every matched route before a body is read (so a viewer's
//!   write is a 403, never a 422 that reveals what a valid body would be), judging the
//!   group and environment named in the path with [`domain::roles::Grant::allows`];
//! - [`RequiredRoles`] writes into the OpenAPI document (each operation's `x-gantry-role`
//!   and a sentence in its description);
//! - the tests check against the OpenAPI document, so an endpoint without a rule fails them.
//!
//! What only the body tells (the Debug API's environment, `?reveal=true`, whose token is
//! revoked) is judged by the control service, which checks every change again itself: the
//! console's server functions reach the same services without this guard.

use crate::rest::error::ApiError;
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use control::users::Action;
use control::{ControlError, CurrentUser, Environment};

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Any user (reads; what the service narrows further says so in its description).
    Anyone,
    /// A developer whose scope holds the path's `{group}`, or an admin.
    EditGroup,
    /// A developer of every group, or an admin.
    CreateGroup,
    /// As [`Rule::EditGroup`] for the path's `{env}`; Production: admins only.
    Deploy,
    /// A developer of every group, or an admin (apps, backend services, policies).
    EditShared,
    /// A developer whose scope holds the path's `{group}`, or an admin: asking for a change.
    RequestDeploy,
    /// A developer of any scope, or an admin (a configuration file: the service checks
    /// each change in it against the user's role).
    Developer,
    /// Admins only.
    Admin,
}

impl Rule {
    /// How the OpenAPI document states it.
    pub fn describe(self) -> &'static str {
        match self {
            Rule::Anyone => "viewer",
            Rule::EditGroup | Rule::RequestDeploy => "developer (of this group)",
            Rule::CreateGroup | Rule::EditShared => "developer (of every group)",
            Rule::Deploy => "developer (of this group) for test and pre; admin for prod",
            Rule::Developer => "developer",
            Rule::Admin => "admin",
        }
    }
}

use Rule::*;

/// Every endpoint, by method and path as the OpenAPI document names it.
pub const RULES: &[(&str, &str, Rule)] = &[
    ("GET", "/health", Anyone),
    ("GET", "/nodes", Anyone),
    ("GET", "/access-log", Anyone),
    ("GET", "/audit", Anyone),
    ("GET", "/audit/export", Anyone),
    ("GET", "/backend-health", Anyone),
    ("GET", "/groups/{group}/stats", Anyone),
    ("GET", "/groups/{group}/stats/apis", Anyone),
    ("GET", "/openapi.json", Anyone),
    ("GET", "/groups", Anyone),
    ("POST", "/groups", CreateGroup),
    ("GET", "/groups/{group}", Anyone),
    ("PUT", "/groups/{group}", EditGroup),
    ("DELETE", "/groups/{group}", EditGroup),
    ("GET", "/groups/{group}/domains", Anyone),
    ("POST", "/groups/{group}/domains", EditGroup),
    ("DELETE", "/groups/{group}/domains/{host}", EditGroup),
    ("GET", "/groups/{group}/domains/{host}/certificate", Anyone),
    ("PUT", "/groups/{group}/domains/{host}/certificate", EditGroup),
    ("DELETE", "/groups/{group}/domains/{host}/certificate", EditGroup),
    ("GET", "/groups/{group}/apis", Anyone),
    ("POST", "/groups/{group}/apis", EditGroup),
    ("GET", "/groups/{group}/apis/{id}", Anyone),
    ("PUT", "/groups/{group}/apis/{id}", EditGroup),
    ("DELETE", "/groups/{group}/apis/{id}", EditGroup),
    ("GET", "/groups/{group}/apis/{id}/authorizations", Anyone),
    ("POST", "/groups/{group}/apis/{id}/authorizations", EditShared),
    ("GET", "/groups/{group}/versions", Anyone),
    ("POST", "/groups/{group}/versions", EditGroup),
    ("GET", "/groups/{group}/versions/{label}", Anyone),
    ("DELETE", "/groups/{group}/versions/{label}", EditGroup),
    ("GET", "/groups/{group}/versions/{label}/diff", Anyone),
    ("GET", "/groups/{group}/deployments", Anyone),
    ("GET", "/groups/{group}/deployments/history", Anyone),
    ("PUT", "/groups/{group}/deployments/{env}", Deploy),
    ("DELETE", "/groups/{group}/deployments/{env}", Deploy),
    ("POST", "/groups/{group}/deployments/{env}/draft", Deploy),
    ("POST", "/groups/{group}/apis/{id}/release/{env}", Deploy),
    ("GET", "/groups/{group}/deployments/{env}/canary", Anyone),
    ("PUT", "/groups/{group}/deployments/{env}/canary", Deploy),
    ("DELETE", "/groups/{group}/deployments/{env}/canary", Deploy),
    ("POST", "/groups/{group}/deployments/{env}/canary/promote", Deploy),
    ("POST", "/groups/{group}/deployments/{env}/requests", RequestDeploy),
    ("GET", "/release-requests", Anyone),
    ("DELETE", "/release-requests/{id}", Anyone),
    ("POST", "/release-requests/{id}/approve", Admin),
    ("POST", "/release-requests/{id}/reject", Admin),
    ("GET", "/groups/{group}/live", Anyone),
    ("GET", "/groups/{group}/policies", Anyone),
    ("GET", "/groups/{group}/openapi", Anyone),
    ("GET", "/groups/{group}/docs/{env}", Anyone),
    ("GET", "/groups/{group}/sdk/{env}/{language}", Anyone),
    ("POST", "/groups/{group}/import", EditGroup),
    ("GET", "/policies", Anyone),
    ("POST", "/policies", EditShared),
    ("GET", "/policies/{name}", Anyone),
    ("PUT", "/policies/{name}", EditShared),
    ("DELETE", "/policies/{name}", EditShared),
    ("GET", "/policies/{name}/bindings", Anyone),
    ("POST", "/policies/{name}/bindings", EditShared),
    ("DELETE", "/policies/{name}/bindings/{id}", EditShared),
    ("GET", "/apps", Anyone),
    ("POST", "/apps", EditShared),
    ("GET", "/apps/{app}", Anyone),
    ("PATCH", "/apps/{app}", EditShared),
    ("DELETE", "/apps/{app}", EditShared),
    ("POST", "/apps/{app}/reset-secret", EditShared),
    ("POST", "/apps/{app}/reset-code", EditShared),
    ("GET", "/apps/{app}/authorizations", Anyone),
    ("POST", "/apps/{app}/authorizations", EditShared),
    ("DELETE", "/apps/{app}/authorizations/{id}", EditShared),
    ("POST", "/debug", Anyone),
    ("GET", "/backend-services", Anyone),
    ("POST", "/backend-services", EditShared),
    ("GET", "/backend-services/{name}", Anyone),
    ("PATCH", "/backend-services/{name}", EditShared),
    ("DELETE", "/backend-services/{name}", EditShared),
    ("GET", "/backend-services/{name}/history", Anyone),
    ("PUT", "/backend-services/{name}/environments/{env}", EditShared),
    ("DELETE", "/backend-services/{name}/environments/{env}", EditShared),
    ("GET", "/config/export", Anyone),
    ("POST", "/config/diff", Anyone),
    ("POST", "/config/apply", Developer),
    ("GET", "/tokens", Anyone),
    ("POST", "/tokens", Anyone),
    ("DELETE", "/tokens/{id}", Anyone),
    ("GET", "/users", Admin),
    ("POST", "/users", Admin),
    ("PATCH", "/users/{username}", Admin),
];

/// Extra words for the rules whose service narrows them.
fn narrowing(method: &str, path: &str) -> Option<&'static str> {
    match (method, path) {
        ("GET", "/apps/{app}") => Some("`?reveal=true` (the AppSecret and AppCode): developer"),
        ("POST", "/debug") => Some("a viewer may call Test only"),
        ("DELETE", "/release-requests/{id}") => Some("the requester or an admin"),
        ("GET", "/config/export") => Some("`?with_secrets=true`: developer"),
        ("POST", "/config/apply") => {
            Some("each change in the file is allowed by the user's role, or nothing is applied")
        }
        ("POST", "/release-requests/{id}/approve") => Some("not the requester"),
        ("GET" | "DELETE", p) if p.starts_with("/tokens") => {
            Some("an admin sees and revokes everybody's tokens, anyone else its own")
        }
        _ => None,
    }
}

/// The rule of `method` on the route `path` (an OpenAPI path, without `/api/admin/v1`).
pub fn rule(method: &Method, path: &str) -> Option<Rule> {
    let method = if *method == Method::HEAD { "GET" } else { method.as_str() };
    RULES.iter().find(|(m, p, _)| *m == method && *p == path).map(|(_, _, rule)| *rule)
}

/// The value of `{name}` in `path`, matched against the route `template`.
fn param<'a>(template: &str, path: &'a str, name: &str) -> Option<&'a str> {
    let wanted = format!("{{{name}}}");
    template.split('/').zip(path.split('/')).find(|(t, _)| *t == wanted).map(|(_, value)| value)
}

/// What a rule asks of the user for this request; `None` when nothing is to be checked here
/// (reads, and a path the handler will refuse anyway: an unknown environment is its 404).
fn action<'a>(rule: Rule, template: &str, path: &'a str) -> Option<Action<'a>> {
    match rule {
        Anyone => None,
        EditGroup => param(template, path, "group").map(Action::EditGroup),
        CreateGroup => Some(Action::CreateGroup),
        Deploy => {
            let group = param(template, path, "group")?;
            let env = param(template, path, "env")?.parse::<Environment>().ok()?;
            Some(Action::Deploy(group, env))
        }
        RequestDeploy => param(template, path, "group").map(Action::RequestDeploy),
        EditShared => Some(Action::EditShared),
        Developer => Some(Action::ApplyConfig),
        Admin => Some(Action::ManageUsers),
    }
}

/// The REST prefix the router is nested under.
const PREFIX: &str = "/api/admin/v1";

/// Refuses (403) a call the user's role does not allow, before its handler reads the body. A
/// matched route without a rule is refused for everyone but admins (and a test fails).
pub async fn role_guard(request: Request, next: Next) -> Response {
    let Some(user) = request.extensions().get::<CurrentUser>() else {
        return ApiError::from(ControlError::Unauthenticated).into_response();
    };
    let template = request.extensions().get::<MatchedPath>().map(|m| m.as_str()).unwrap_or_default();
    let template = template.strip_prefix(PREFIX).unwrap_or(template);
    let path = request.uri().path();
    let path = path.strip_prefix(PREFIX).unwrap_or(path);
    let verdict = match rule(request.method(), template) {
        Some(rule) => action(rule, template, path).map_or(Ok(()), |action| user.require(action)),
        None => {
            tracing::error!(method = %request.method(), template, "an admin REST route has no role rule");
            user.require(Action::ManageUsers)
        }
    };
    match verdict {
        Ok(()) => next.run(request).await,
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// Writes each operation's required role into the OpenAPI document.
pub struct RequiredRoles;

impl utoipa::Modify for RequiredRoles {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                ("GET", &mut item.get),
                ("PUT", &mut item.put),
                ("POST", &mut item.post),
                ("DELETE", &mut item.delete),
                ("PATCH", &mut item.patch),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation.as_mut() else { continue };
                let Some(rule) = rule(&Method::from_bytes(method.as_bytes()).expect("method"), path) else { continue };
                let mut sentence = format!("Required role: {}.", rule.describe());
                if let Some(more) = narrowing(method, path) {
                    sentence = format!("Required role: {}; {more}.", rule.describe());
                }
                operation.description = Some(match operation.description.take() {
                    Some(text) if !text.is_empty() => format!("{text}\n\n{sentence}"),
                    _ => sentence,
                });
                let role = utoipa::openapi::extensions::Extensions::from_iter([(
                    "x-gantry-role".to_owned(),
                    serde_json::Value::String(rule.describe().to_owned()),
                )]);
                operation.extensions.get_or_insert_with(Default::default).merge(role);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::OpenApi;

    /// Every operation the OpenAPI document lists has a rule, and every rule an operation.
    #[test]
    fn every_endpoint_has_exactly_one_role_rule() {
        let doc = crate::rest::ApiDoc::openapi();
        let mut documented = Vec::new();
        for (path, item) in &doc.paths.paths {
            let ops = [
                ("GET", &item.get),
                ("PUT", &item.put),
                ("POST", &item.post),
                ("DELETE", &item.delete),
                ("PATCH", &item.patch),
            ];
            for (method, op) in ops {
                if op.is_some() {
                    documented.push((method, path.as_str()));
                }
            }
        }
        for (method, path) in &documented {
            let rule = rule(&Method::from_bytes(method.as_bytes()).expect("method"), path);
            assert!(rule.is_some(), "{method} {path} has no role rule in rest::roles::RULES");
            let item = serde_json::to_value(&doc.paths.paths[*path]).expect("json");
            let stated = &item[method.to_lowercase()]["x-gantry-role"];
            assert_eq!(stated.as_str(), rule.map(Rule::describe), "{method} {path}: the document states its role");
        }
        for (method, path, _) in RULES {
            assert!(documented.contains(&(*method, *path)), "rule for {method} {path}, which is not documented");
            assert_eq!(RULES.iter().filter(|(m, p, _)| m == method && p == path).count(), 1, "{method} {path} twice");
        }
    }

    #[test]
    fn the_path_names_the_group_and_environment_judged() {
        let template = "/groups/{group}/deployments/{env}";
        assert_eq!(
            action(Deploy, template, "/groups/petstore/deployments/prod"),
            Some(Action::Deploy("petstore", Environment::Prod))
        );
        assert_eq!(action(Deploy, template, "/groups/petstore/deployments/moon"), None, "the handler's 404");
        assert_eq!(action(EditGroup, "/groups/{group}/apis/{id}", "/groups/a/apis/3"), Some(Action::EditGroup("a")));
        assert_eq!(action(Admin, "/users", "/users"), Some(Action::ManageUsers));
        assert_eq!(action(Anyone, "/groups", "/groups"), None);
    }
}
