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
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// Anything else that is our fault.
    #[error("internal error: {0}")]
    Internal(String),
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
