//! What the console and the REST API show: stored things with their ids and times. Built by
//! `control`, serialised to JSON for REST and across the server-function boundary.

use crate::api::ApiSpec;
use crate::group::GroupSpec;
use serde::{Deserialize, Serialize};

/// An API group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupView {
    /// Database id.
    pub id: i32,
    /// Unique name.
    pub name: String,
    /// DNS label the group answers on under the base domain.
    pub subdomain: String,
    /// Free text.
    pub description: String,
    /// How many APIs its draft has.
    pub api_count: u64,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl GroupView {
    /// The editable part.
    pub fn spec(&self) -> GroupSpec {
        GroupSpec { name: self.name.clone(), subdomain: self.subdomain.clone(), description: self.description.clone() }
    }
}

/// An API of a group's draft: the definition plus its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiView {
    /// Stable across versions.
    pub id: i32,
    /// The definition.
    #[serde(flatten)]
    pub spec: ApiSpec,
    /// Last change (RFC 3339).
    pub updated_at: String,
    /// Who made it.
    pub updated_by: String,
}

/// Search and paging of the API List.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApiQuery {
    /// Part of a name or path (case-insensitive); empty for all.
    pub q: String,
    /// 1-based page.
    pub page: u64,
    /// Rows per page (1-200).
    pub per_page: u64,
    /// The column the list is sorted by.
    pub sort: ApiSort,
    /// Z to A, newest first.
    pub desc: bool,
}

impl Default for ApiQuery {
    fn default() -> ApiQuery {
        ApiQuery { q: String::new(), page: 1, per_page: 20, sort: ApiSort::Name, desc: false }
    }
}

/// A column the API List sorts by (ties broken by name, then id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiSort {
    /// The API's name, case-insensitive.
    #[default]
    Name,
    /// The request method.
    Method,
    /// The request path.
    Path,
    /// The last change.
    Updated,
}

impl ApiSort {
    /// Every column.
    pub const ALL: [ApiSort; 4] = [ApiSort::Name, ApiSort::Method, ApiSort::Path, ApiSort::Updated];

    /// The name in URLs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiSort::Name => "name",
            ApiSort::Method => "method",
            ApiSort::Path => "path",
            ApiSort::Updated => "updated",
        }
    }

    /// Parses the name; anything else is `None`.
    pub fn parse(raw: &str) -> Option<ApiSort> {
        ApiSort::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// One page of the API List.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiPage {
    /// The APIs on this page, by name.
    pub items: Vec<ApiView>,
    /// How many APIs match in all.
    pub total: u64,
    /// This page (1-based).
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
}

impl ApiPage {
    /// How many pages there are (at least 1).
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.per_page.max(1)).max(1)
    }
}

/// An admin REST API token as listed: never the token itself, which is shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    /// Database id (what **Revoke** and `gantry token revoke --id` take).
    pub id: i32,
    /// The name it was given.
    pub name: String,
    /// The user it acts as.
    pub user: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last use, to the minute (RFC 3339); `None` if never used.
    pub last_used_at: Option<String>,
    /// When it stops working (RFC 3339); `None` for never.
    pub expires_at: Option<String>,
    /// Whether it has expired.
    pub expired: bool,
}

/// A token to create: a name and, optionally, days until it expires (1 to 3650).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenSpec {
    /// A name to recognise it by.
    pub name: String,
    /// Days until it expires; `None` for never.
    pub expires_in_days: Option<u32>,
}

/// A token just created: its listing and the token, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    /// The listing.
    #[serde(flatten)]
    pub view: TokenView,
    /// `gty_…`: the bearer token.
    pub token: String,
}
