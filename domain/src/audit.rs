//! The audit log as `GET /audit` and the Audit Log page show it: who changed what, when, from
//! which address, in which group, with the field-level diff of the change; and the filter,
//! parsed from the query string.

use crate::access::{query_text, query_window};
use crate::error::FieldError;
use crate::release::FieldChange;
use serde::{Deserialize, Serialize};

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditItem {
    pub id: i32,
    /// RFC 3339.
    pub time: String,
    pub user: String,
    /// The client address the change came from (`null` for changes made before it was kept,
    /// or from the command line).
    pub address: Option<String>,
    /// `api.update`, `deployment.release`, …
    pub action: String,
    /// The group it happened in, when it belongs to one.
    pub group: Option<String>,
    /// What was changed: `{kind} {id}` (`api petstore/3`, `app web`).
    pub target: String,
    /// The fields that changed, by JSON path (secrets are never recorded).
    pub diff: Vec<FieldChange>,
}

/// One page of changes, newest first, and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub items: Vec<AuditItem>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// `GET /audit`'s query string, before it is parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub user: Option<String>,
    pub group: Option<String>,
    /// A kind of change: `api` (every `api.*`) or an action (`api.update`).
    pub action: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

/// What to look for; every field set must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub user: Option<String>,
    pub group: Option<String>,
    pub action: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// From 1.
    pub page: u64,
    /// 1–500.
    pub per_page: u64,
}

/// Rows per page unless asked.
pub const DEFAULT_PER_PAGE: u64 = 50;
/// The most rows an export holds.
pub const EXPORT_LIMIT: u64 = 100_000;

impl AuditQuery {
    /// The filter, or every field that is wrong, named.
    pub fn parse(&self) -> Result<AuditFilter, Vec<FieldError>> {
        let mut errors = Vec::new();
        let text = query_text;
        let user = text("user", &self.user, &mut errors);
        let group = text("group", &self.group, &mut errors);
        let action = text("action", &self.action, &mut errors);
        if let Some(action) = &action {
            if !action.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_') {
                errors.push(FieldError::new("action", "a kind such as `api` or an action such as `api.update`"));
            }
        }
        let (from_ms, to_ms) = query_window(&self.from, &self.to, &mut errors);
        let mut number =
            |field: &str, value: &Option<String>, default: u64, max: u64| match text(field, value, &mut errors) {
                None => default,
                Some(raw) => match raw.parse::<u64>() {
                    Ok(n) if (1..=max).contains(&n) => n,
                    _ => {
                        errors.push(FieldError::new(field, format!("a number from 1 to {max}")));
                        default
                    }
                },
            };
        let page = number("page", &self.page, 1, 1_000_000);
        let per_page = number("per_page", &self.per_page, DEFAULT_PER_PAGE, 500);
        if errors.is_empty() {
            Ok(AuditFilter { user, group, action, from_ms, to_ms, page, per_page })
        } else {
            Err(errors)
        }
    }
}

/// The CSV header of an export.
pub const CSV_HEADER: &str = "time,user,address,action,group,target,diff";

impl AuditItem {
    /// One CSV line (RFC 4180 quoting); the diff as `field: old -> new` joined by `; `.
    pub fn csv_line(&self) -> String {
        let diff: Vec<String> = self
            .diff
            .iter()
            .map(|c| {
                format!(
                    "{}: {} -> {}",
                    c.field,
                    c.old.as_deref().unwrap_or("(none)"),
                    c.new.as_deref().unwrap_or("(none)")
                )
            })
            .collect();
        [
            self.time.as_str(),
            self.user.as_str(),
            self.address.as_deref().unwrap_or(""),
            self.action.as_str(),
            self.group.as_deref().unwrap_or(""),
            self.target.as_str(),
            &diff.join("; "),
        ]
        .iter()
        .map(|field| csv_field(field))
        .collect::<Vec<_>>()
        .join(",")
    }
}

/// A CSV field, quoted when it needs to be; a leading `=`, `+`, `-` or `@` is prefixed with
/// `'` so a spreadsheet does not run it as a formula (a group name is user input).
fn csv_field(raw: &str) -> String {
    let safe = if raw.starts_with(['=', '+', '-', '@']) { format!("'{raw}") } else { raw.to_owned() };
    if safe.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_every_wrong_field_is_named() {
        let q = AuditQuery {
            user: Some("alice".into()),
            action: Some("api".into()),
            from: Some("2026-11-27T00:00".into()),
            page: Some("2".into()),
            ..Default::default()
        };
        let filter = q.parse().expect("valid");
        assert_eq!((filter.page, filter.per_page, filter.action.as_deref()), (2, DEFAULT_PER_PAGE, Some("api")));
        assert!(filter.from_ms.is_some());
        let wrong = AuditQuery {
            action: Some("DROP TABLE".into()),
            from: Some("later".into()),
            page: Some("0".into()),
            per_page: Some("501".into()),
            ..Default::default()
        };
        let fields: Vec<String> = wrong.parse().expect_err("invalid").into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["action", "from", "page", "per_page"]);
    }

    #[test]
    fn csv_lines_quote_and_defuse_formulas() {
        let item = AuditItem {
            id: 1,
            time: "2026-11-27T21:50:00+00:00".into(),
            user: "admin".into(),
            address: Some("127.0.0.1".into()),
            action: "group.update".into(),
            group: Some("=HYPERLINK(\"x\")".into()),
            target: "group a,b".into(),
            diff: vec![FieldChange {
                field: "description".into(),
                old: Some("\"a\"".into()),
                new: Some("\"b\"".into()),
            }],
        };
        assert_eq!(
            item.csv_line(),
            "2026-11-27T21:50:00+00:00,admin,127.0.0.1,group.update,\"'=HYPERLINK(\"\"x\"\")\",\"group a,b\",\"description: \"\"a\"\" -> \"\"b\"\"\""
        );
    }
}
