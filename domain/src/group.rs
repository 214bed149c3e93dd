//! The API group as JSON and its rules.

use crate::error::Errors;
use crate::{names, FieldError};
use serde::{Deserialize, Serialize};

/// A group as submitted (create or edit).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupSpec {
    /// Unique name.
    pub name: String,
    /// Unique DNS label: the group answers on `{subdomain}.{base_domain}`.
    pub subdomain: String,
    /// Free text.
    pub description: String,
}

impl GroupSpec {
    /// Checks every rule; returns the normalised spec or every broken rule.
    pub fn validate(&self) -> Result<GroupSpec, Vec<FieldError>> {
        let mut errors = Errors::default();
        let name = errors.check("name", names::group_name(&self.name));
        let subdomain = errors.check("subdomain", names::subdomain(&self.subdomain));
        let description = errors.check("description", names::text(&self.description, 500));
        match (name, subdomain, description) {
            (Some(name), Some(subdomain), Some(description)) => {
                errors.finish(GroupSpec { name, subdomain, description })
            }
            _ => errors.finish(self.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_validate_every_field() {
        let ok = GroupSpec { name: "petstore".into(), subdomain: "PetStore".into(), description: String::new() };
        assert_eq!(ok.validate().expect("valid").subdomain, "petstore");
        let bad = GroupSpec { name: "".into(), subdomain: "pet.store".into(), description: "x".repeat(501) };
        let fields: Vec<_> = bad.validate().expect_err("invalid").into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "subdomain", "description"]);
    }
}

/// A custom domain bound to a group, optionally pinned to one environment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DomainSpec {
    /// The host name callers use.
    pub host: String,
    /// When set, the host always serves this environment (no `X-Ca-Stage` needed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<crate::Environment>,
    /// Its certificate for the HTTPS listener, when it has one (shown, never submitted).
    #[serde(skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub certificate: Option<CertificateView>,
}

/// A certificate for a custom domain, as uploaded: the PEM chain (leaf first) and its PEM
/// private key (PKCS#8, PKCS#1 or SEC1).
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CertificateUpload {
    /// The chain.
    pub cert_pem: String,
    /// The private key; sealed at rest, never shown again.
    pub key_pem: String,
}

impl std::fmt::Debug for CertificateUpload {
    /// Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateUpload").field("cert_pem", &self.cert_pem.len()).finish_non_exhaustive()
    }
}

/// A custom domain's certificate as the console and REST show it (never the key).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CertificateView {
    /// The leaf's subject (RFC 4514).
    pub subject: String,
    /// The leaf's issuer.
    pub issuer: String,
    /// The DNS names and addresses the leaf covers.
    pub sans: Vec<String>,
    /// Start of validity (RFC 3339).
    pub not_before: String,
    /// End of validity (RFC 3339).
    pub not_after: String,
    /// Whole days until `not_after` (negative once past).
    pub days_left: i64,
    /// Fewer than 30 days left: the console warns.
    pub expiring: bool,
}

impl DomainSpec {
    /// Checks the host name.
    pub fn validate(&self) -> Result<DomainSpec, Vec<FieldError>> {
        names::host_name(&self.host)
            .map(|host| DomainSpec { host, environment: self.environment, certificate: None })
            .map_err(|m| vec![FieldError::new("host", m)])
    }
}
