//! What an OpenAPI import does: the dry-run preview and the report of an applied import.

use serde::{Deserialize, Serialize};

/// One API an import would add or overwrite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportItem {
    /// The API's name.
    pub name: String,
    /// `GET /pets/{petId}`.
    pub route: String,
    /// What the document decides for the API beyond its shape: who may call it and where it
    /// sends requests (`auth: none`, `backend: function, 120 bytes of code`…).
    #[serde(default)]
    pub details: Vec<String>,
    /// What an overwrite would weaken or replace in the existing API (its authentication
    /// dropped, its backend changed): shown before anything is applied.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// An operation an import leaves out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// `GET /pets/{petId}` (or the operation's name).
    pub operation: String,
    /// Why.
    pub reason: String,
}

/// What an import does (dry run) or did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImportReport {
    /// New APIs.
    pub add: Vec<ImportItem>,
    /// Draft APIs replaced (same method and path, or same name).
    pub overwrite: Vec<ImportItem>,
    /// Operations not imported.
    pub skip: Vec<Skipped>,
    /// Constructs of the document Gantry cannot represent (the rest of the operation is
    /// imported).
    pub unsupported: Vec<String>,
    /// Whether the changes were made (`false` for a dry run).
    pub applied: bool,
}
