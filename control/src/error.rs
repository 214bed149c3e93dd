//! The control plane's error policy.
//!
//! Every service returns [`ControlError`]. Its variants are the outcomes an edge must tell
//! apart: bad input (field-level, 422), not found (404), conflict (409), bad credentials
//! (401), and internal faults (500, logged, never shown in detail). The console and the REST
//! API map them the same way, so both show the same message for the same mistake.

pub use domain::FieldError;

/// What a control-plane service can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The input broke one or more rules.
    #[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Validation(Vec<FieldError>),
    /// The named thing does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The change conflicts with the current state (a name taken, a version deployed, …).
    #[error("{0}")]
    Conflict(String),
    /// Username or password wrong; deliberately says no more.
    #[error("invalid username or password")]
    InvalidCredentials,
    /// No valid session or token.
    #[error("authentication required")]
    Unauthenticated,
    /// Too many failed logins for this user or from this address; try again later.
    #[error("too many failed logins; try again in {retry_after_s} s")]
    TooManyAttempts {
        /// Seconds until the next attempt is admitted.
        retry_after_s: u64,
    },
    /// A cross-site request to the console; refused.
    #[error("{0}")]
    Forbidden(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(sea_orm::DbErr),
    /// Something Gantry depends on does not answer (the cluster's Redis).
    #[error("{0}")]
    Unavailable(String),
    /// Anything else that is our fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sea_orm::DbErr> for ControlError {
    /// A unique key that another request took between a check and an insert is a conflict
    /// the user can act on, not an internal fault.
    fn from(error: sea_orm::DbErr) -> ControlError {
        match error.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(detail)) => ControlError::Conflict(unique_message(&detail)),
            _ => ControlError::Database(error),
        }
    }
}

/// "an app with this name already exists" from SQLite's `UNIQUE constraint failed:
/// apps.name` or Postgres' `duplicate key value violates unique constraint "apps_name_key"`.
fn unique_message(detail: &str) -> String {
    let what = detail
        .split_once("failed:")
        .map(|(_, columns)| columns.trim().to_owned())
        .or_else(|| detail.split('"').nth(1).map(str::to_owned))
        .unwrap_or_default();
    // The last column of a composite key names the thing (`versions.group_id, versions.label`).
    let last = what.rsplit(',').next().unwrap_or_default().trim();
    let (table, column) = last.split_once('.').unwrap_or(("", last));
    let table = table.trim_end_matches('s').replace('_', " ");
    let column = column.replace('_', " ");
    if table.is_empty() {
        format!("this already exists ({what}): another change made it first")
    } else {
        let article = if table.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        format!("{article} {table} with this {column} already exists: another change made it first")
    }
}

impl ControlError {
    /// A validation error for one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ControlError {
        ControlError::Validation(vec![FieldError::new(field, message)])
    }

    /// The HTTP status the edges answer with.
    pub fn status_code(&self) -> u16 {
        match self {
            ControlError::Validation(_) => 422,
            ControlError::NotFound(_) => 404,
            ControlError::Conflict(_) => 409,
            ControlError::InvalidCredentials | ControlError::Unauthenticated => 401,
            ControlError::TooManyAttempts { .. } => 429,
            ControlError::Forbidden(_) => 403,
            ControlError::Unavailable(_) => 503,
            ControlError::Database(_) | ControlError::Internal(_) => 500,
        }
    }

    /// A stable machine-readable code for JSON error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            ControlError::Validation(_) => "ValidationFailed",
            ControlError::NotFound(_) => "NotFound",
            ControlError::Conflict(_) => "Conflict",
            ControlError::InvalidCredentials => "InvalidCredentials",
            ControlError::Unauthenticated => "Unauthorized",
            ControlError::TooManyAttempts { .. } => "TooManyRequests",
            ControlError::Forbidden(_) => "Forbidden",
            ControlError::Unavailable(_) => "ServiceUnavailable",
            ControlError::Database(_) | ControlError::Internal(_) => "InternalError",
        }
    }

    /// The message safe to show a user: internal details stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            ControlError::Database(_) | ControlError::Internal(_) => {
                tracing::error!(error = %self, "internal error");
                "internal error; see the server log".to_owned()
            }
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unique_violations_say_what_is_taken() {
        assert_eq!(
            super::unique_message("UNIQUE constraint failed: apps.name"),
            "an app with this name already exists: another change made it first"
        );
        assert_eq!(
            super::unique_message("UNIQUE constraint failed: versions.group_id, versions.label"),
            "a version with this label already exists: another change made it first"
        );
    }
}
