//! Backend services: one backend, a URL per environment, shared by many APIs.

use crate::error::Errors;
use crate::{names, Environment, FieldError, Targets};
use serde::{Deserialize, Serialize};

/// What a backend service is; fixed after creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    /// An HTTP/HTTPS backend at the environment's URL.
    #[default]
    Http,
    /// The API's mock response (the environment only needs to be configured).
    Mock,
}

impl ServiceKind {
    /// `http` or `mock`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Http => "http",
            ServiceKind::Mock => "mock",
        }
    }

    /// Parses `http` or `mock`.
    pub fn parse(raw: &str) -> Result<ServiceKind, String> {
        match raw.trim() {
            "http" => Ok(ServiceKind::Http),
            "mock" => Ok(ServiceKind::Mock),
            other => Err(format!("`{other}` is not http or mock")),
        }
    }

    /// The label the console shows.
    pub fn label(self) -> &'static str {
        match self {
            ServiceKind::Http => "HTTP/HTTPS",
            ServiceKind::Mock => "Mock",
        }
    }
}

/// A backend service as submitted when created.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceSpec {
    /// Unique name (letters, digits, `_`, `-`, `.`); APIs and releases refer to it.
    pub name: String,
    /// `http` or `mock`; cannot change later.
    #[serde(rename = "type")]
    pub kind: ServiceKind,
    /// Free text.
    pub description: String,
}

impl ServiceSpec {
    /// Checks every rule; returns the normalised spec or every broken rule.
    pub fn validate(&self) -> Result<ServiceSpec, Vec<FieldError>> {
        let mut errors = Errors::default();
        let name = errors.check("name", names::param_name(&self.name));
        let description = errors.check("description", names::text(&self.description, 500));
        match (name, description) {
            (Some(name), Some(description)) => errors.finish(ServiceSpec { name, kind: self.kind, description }),
            _ => errors.finish(self.clone()),
        }
    }
}

/// A change to a backend service: name and description; the type cannot change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ServicePatch {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Refused unless it is the current type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// An environment's URL for a service (`{url}`; a Mock service takes none).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceUrlSpec {
    /// `http(s)://host[:port]`, or several weighted targets ([`crate::targets`]).
    #[serde(with = "crate::targets::text_or_list")]
    pub url: String,
}

impl ServiceUrlSpec {
    /// The URL as stored: checked as a backend address for HTTP services; empty for Mock.
    pub fn validate(&self, kind: ServiceKind) -> Result<String, Vec<FieldError>> {
        match kind {
            ServiceKind::Mock => Ok(String::new()),
            ServiceKind::Http => Targets::parse(&self.url)
                .map(|targets| targets.to_string())
                .map_err(|m| vec![FieldError::new("url", m)]),
        }
    }
}

/// An API that uses a service (in a draft or in a live version).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceUser {
    /// The group's name.
    pub group: String,
    /// The API's id.
    pub api_id: i32,
    /// The API's name.
    pub api_name: String,
    /// `GET /pets`.
    pub route: String,
    /// The live version (for live APIs).
    pub version: Option<String>,
    /// The environments whose group release (`{type: "service"}`) brings this unified API to
    /// the service; empty when the API's own configuration names it.
    #[serde(default)]
    pub through_release: Vec<Environment>,
}

impl ServiceUser {
    /// How the API reaches the service, as the console says it.
    pub fn link(&self) -> String {
        if self.through_release.is_empty() {
            return "Own configuration".into();
        }
        let envs: Vec<&str> = self.through_release.iter().map(|e| e.label()).collect();
        format!("Group release in {}", envs.join(", "))
    }
}

/// One environment of a service: its URL and the live APIs that use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEnvironment {
    /// Which environment.
    pub env: Environment,
    /// The URL (`Some("")` for a configured Mock service); `None` when not configured.
    #[serde(with = "crate::targets::text_or_list::option", default)]
    pub url: Option<String>,
    /// APIs live in this environment that use the service.
    pub apis: Vec<ServiceUser>,
}

/// A backend service as the console and REST show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceView {
    /// Database id.
    pub id: i32,
    /// Unique name.
    pub name: String,
    /// `http` or `mock`.
    #[serde(rename = "type")]
    pub kind: ServiceKind,
    /// Free text.
    pub description: String,
    /// Test, Pre-release and Production, in that order.
    pub environments: Vec<ServiceEnvironment>,
    /// Draft APIs (any group) that use it.
    pub draft: Vec<ServiceUser>,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

/// A change to a service's URL, as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEvent {
    /// `set_url`, `delete_url`, `create`, `update`.
    pub action: String,
    /// The environment, when the change is to one.
    pub env: Option<Environment>,
    /// The URL before.
    pub before: Option<String>,
    /// The URL after.
    pub after: Option<String>,
    /// Who.
    pub actor: String,
    /// When (RFC 3339).
    pub at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_and_urls_validate() {
        let spec = ServiceSpec { name: "pets.v1".into(), kind: ServiceKind::Http, description: String::new() };
        assert_eq!(spec.validate().expect("ok").name, "pets.v1");
        let bad = ServiceSpec { name: "pets v1".into(), ..spec };
        assert_eq!(bad.validate().expect_err("bad")[0].field, "name");
        let url = ServiceUrlSpec { url: "http://10.0.0.1:8080/".into() };
        assert_eq!(url.validate(ServiceKind::Http), Ok("http://10.0.0.1:8080".into()));
        assert_eq!(
            ServiceUrlSpec { url: "ftp://x".into() }.validate(ServiceKind::Http).expect_err("bad")[0].field,
            "url"
        );
        assert_eq!(ServiceUrlSpec::default().validate(ServiceKind::Mock), Ok(String::new()));
        assert!(ServiceKind::parse("grpc").is_err());
    }
}
