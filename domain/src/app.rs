//! Apps (the identities that call `auth = app` APIs) and their authorizations.

use crate::error::Errors;
use crate::{names, Environment, FieldError};
use serde::{Deserialize, Serialize};

/// An app as submitted (create or edit).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AppSpec {
    /// Unique name (letters, digits, `_`, `-`; it appears in URLs).
    pub name: String,
    /// Free text.
    pub description: String,
}

impl AppSpec {
    /// Checks every rule; returns the normalised spec or every broken rule.
    pub fn validate(&self) -> Result<AppSpec, Vec<FieldError>> {
        let mut errors = Errors::default();
        let name = errors.check("name", names::group_name(&self.name));
        let description = errors.check("description", names::text(&self.description, 500));
        match (name, description) {
            (Some(name), Some(description)) => errors.finish(AppSpec { name, description }),
            _ => errors.finish(self.clone()),
        }
    }
}

/// A change to an app: only the fields given change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AppPatch {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Enable or disable (a disabled app is refused with 403 at once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// An app as the console and REST show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppView {
    /// Database id.
    pub id: i32,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// `X-Ca-Key`.
    pub app_key: String,
    /// The HMAC secret. The console leaves it out until the user reveals it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_secret: Option<String>,
    /// `Authorization: APPCODE …`, a bearer credential: like the secret, left out unless
    /// revealed (or just created or reset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_code: Option<String>,
    /// Whether it may call APIs.
    pub enabled: bool,
    /// How many authorizations it has.
    pub authorizations: u64,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

/// Which credential to replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    /// The AppSecret (signatures made with the old one fail at once).
    Secret,
    /// The AppCode (the old one fails at once).
    Code,
}

/// Authorizes an app for APIs of one group in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthorizeSpec {
    /// The group's name.
    pub group: String,
    /// API ids of that group.
    pub apis: Vec<i32>,
    /// `test`, `pre` or `prod`.
    pub env: String,
    /// Optional expiry: RFC 3339, or `YYYY-MM-DDTHH:MM[:SS]` read as UTC. Empty: never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// `POST /groups/{group}/apis/{id}/authorizations`: authorize apps for one API in one
/// environment (until `expires_at`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiAuthorizeSpec {
    /// The apps, by name (at least one).
    pub apps: Vec<String>,
    /// `test`, `pre` or `prod`.
    pub env: String,
    /// RFC 3339, or a date and time; absent: never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

impl ApiAuthorizeSpec {
    /// Checks the environment and that apps are named (at most 100 at once).
    pub fn validate(&self) -> Result<Environment, Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.apps.is_empty() {
            errors.push(FieldError::new("apps", "choose at least one app"));
        } else if self.apps.len() > 100 {
            errors.push(FieldError::new("apps", "at most 100 apps at once"));
        }
        let env = self.env.trim().parse::<Environment>().map_err(|e| FieldError::new("env", e.to_string()));
        match env {
            Ok(env) if errors.is_empty() => Ok(env),
            Ok(_) => Err(errors),
            Err(e) => {
                errors.push(e);
                Err(errors)
            }
        }
    }
}

impl AuthorizeSpec {
    /// Checks the fields that need no lookup; the environment parsed.
    pub fn validate(&self) -> Result<Environment, Vec<FieldError>> {
        let mut errors = Errors::default();
        if self.group.trim().is_empty() {
            errors.add("group", "is required");
        }
        if self.apis.is_empty() {
            errors.add("apis", "pick at least one API");
        }
        let env = errors.check("env", self.env.parse::<Environment>().map_err(|e| e.to_string()));
        match env {
            Some(env) => errors.finish(env),
            None => Err(errors.into_vec()),
        }
    }
}

/// One authorization: an app may call an API in an environment, until an optional expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationView {
    /// Database id (to revoke it).
    pub id: i32,
    /// The app's name.
    pub app: String,
    /// The group's name.
    pub group: String,
    /// The API's id.
    pub api_id: i32,
    /// The API's name.
    pub api_name: String,
    /// The API's method and path, for lists.
    pub api_route: String,
    /// The environment.
    pub env: Environment,
    /// Expiry (RFC 3339), if any.
    pub expires_at: Option<String>,
    /// Whether it has expired.
    pub expired: bool,
    /// When it was granted (RFC 3339).
    pub created_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_and_authorizations_name_their_bad_fields() {
        let fields = |errors: Vec<FieldError>| errors.into_iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(
            AppSpec { name: " web-1 ".into(), description: String::new() }.validate().expect("ok").name,
            "web-1"
        );
        assert_eq!(
            fields(AppSpec { name: "a b".into(), description: "x".repeat(501) }.validate().expect_err("bad")),
            ["name", "description"]
        );
        let spec = AuthorizeSpec { group: "g".into(), apis: vec![1], env: "test".into(), expires_at: None };
        assert_eq!(spec.validate(), Ok(Environment::Test));
        let bad = AuthorizeSpec { group: String::new(), apis: vec![], env: "qa".into(), expires_at: None };
        assert_eq!(fields(bad.validate().expect_err("bad")), ["group", "apis", "env"]);
    }
}
