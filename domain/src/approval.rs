//! Production changes that need an admin's approval: the request a developer (or an admin)
//! sends, the decision, and the request as the console and `GET /release-requests` show it,
//! with the diff of the requested version against what is live.

use crate::environment::Environment;
use crate::release::{DeployBackend, Diff};
use serde::{Deserialize, Serialize};

/// `POST /groups/{group}/deployments/{env}/requests`: a release or switch to `version` with
/// `backend`, or, with `offline: true`, taking the environment off-line.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RequestSpec {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub backend: Option<DeployBackend>,
    #[serde(default)]
    pub offline: bool,
    #[serde(default)]
    pub note: String,
}

/// `POST /release-requests/{id}/approve|reject`: why.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Decision {
    #[serde(default)]
    pub note: String,
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestStatus {
    Pending,
    Approved,
    Rejected,
    Withdrawn,
}

impl RequestStatus {
    /// The stored and JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Rejected => "rejected",
            RequestStatus::Withdrawn => "withdrawn",
        }
    }

    /// Parses a stored or queried name.
    pub fn parse(raw: &str) -> Result<RequestStatus, String> {
        [RequestStatus::Pending, RequestStatus::Approved, RequestStatus::Rejected, RequestStatus::Withdrawn]
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| format!("must be pending, approved, rejected or withdrawn, not `{}`", raw.escape_debug()))
    }

    /// How the console shows it.
    pub fn label(self) -> &'static str {
        match self {
            RequestStatus::Pending => "Pending",
            RequestStatus::Approved => "Approved",
            RequestStatus::Rejected => "Rejected",
            RequestStatus::Withdrawn => "Withdrawn",
        }
    }
}

/// A request as shown: what it asks, who asked and decided, and (while pending) what is live
/// now and how the requested version differs from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRequestView {
    pub id: i32,
    pub group: String,
    pub environment: Environment,
    /// `release` or `offline`.
    pub kind: String,
    pub version: Option<String>,
    pub backend: Option<DeployBackend>,
    pub note: String,
    pub status: RequestStatus,
    pub requested_by: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: String,
    /// The version live in the environment now (pending requests only).
    pub live_version: Option<String>,
    /// The requested version against the live one (pending release requests only).
    pub diff: Option<Diff>,
}

impl ReleaseRequestView {
    /// One line for lists: "Release 1.1.0 (Mock)" or "Off-line".
    pub fn describe(&self) -> String {
        match (&self.version, &self.backend) {
            (Some(version), Some(backend)) => format!("Release {version} ({})", backend.describe()),
            _ => "Off-line".to_owned(),
        }
    }
}
