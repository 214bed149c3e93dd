//! [`ConsoleError`]: the one error every server function returns, so each page handles a
//! call's outcome the same way: field errors beside their fields, a refusal in a banner,
//! anything else as "failed".

use domain::FieldError;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Why a console call did not succeed. Nothing changed in any case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsoleError {
    /// The input broke rules; each message belongs beside its field (422).
    Invalid(Vec<FieldError>),
    /// A refusal the user can act on: not found, a conflict such as "still live", a
    /// cross-site request (404, 409, 403).
    Refused(String),
    /// The call failed: a server fault (its details are in the server log), the network, or
    /// a session that ended.
    Failed(String),
}

impl ConsoleError {
    /// The error as one line, for a banner.
    pub fn message(&self) -> String {
        match self {
            ConsoleError::Invalid(errors) => {
                errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
            }
            ConsoleError::Refused(message) | ConsoleError::Failed(message) => message.clone(),
        }
    }

    /// The error as a form shows it: field errors as they are, anything else under `form`.
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            ConsoleError::Invalid(errors) => errors.clone(),
            other => vec![FieldError::new("form", other.message())],
        }
    }
}

impl std::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl FromServerFnError for ConsoleError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> ConsoleError {
        let message = match error {
            ServerFnErrorErr::ServerError(message) => message,
            ServerFnErrorErr::Request(message) => format!("the console could not reach the server: {message}"),
            other => other.to_string(),
        };
        ConsoleError::Failed(message)
    }
}

/// On the server, a control error becomes the console's, and the server function's response
/// gets the same HTTP status the REST API gives (the browser decodes any 4xx or 5xx as the
/// error): 422 for invalid input, 404 / 409 / 403 for refusals, 500 for faults.
#[cfg(feature = "ssr")]
impl From<control::ControlError> for ConsoleError {
    fn from(error: control::ControlError) -> ConsoleError {
        use control::ControlError;
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = http::StatusCode::from_u16(error.status_code()) {
                response.set_status(status);
            }
        }
        match error {
            ControlError::Validation(errors) => ConsoleError::Invalid(errors),
            refusal @ (ControlError::NotFound(_) | ControlError::Conflict(_) | ControlError::Forbidden(_)) => {
                ConsoleError::Refused(refusal.public_message())
            }
            other => ConsoleError::Failed(other.public_message()),
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use control::ControlError;

    #[test]
    fn control_errors_map_to_what_the_user_can_do_about_them() {
        let invalid = ConsoleError::from(ControlError::field("name", "is required"));
        assert_eq!(invalid.field_errors(), [FieldError::new("name", "is required")]);
        assert!(
            matches!(ConsoleError::from(ControlError::NotFound("group `x`".into())), ConsoleError::Refused(m) if m == "group `x` not found")
        );
        assert!(matches!(ConsoleError::from(ControlError::Conflict("still live".into())), ConsoleError::Refused(_)));
        let fault = ConsoleError::from(ControlError::Internal("secret detail".into()));
        assert_eq!(fault, ConsoleError::Failed("internal error; see the server log".into()));
        assert_eq!(fault.field_errors()[0].field, "form");
    }

    #[test]
    fn transport_failures_are_failures_and_round_trip_as_json() {
        let failed = ConsoleError::from_server_fn_error(ServerFnErrorErr::Request("offline".into()));
        assert!(matches!(&failed, ConsoleError::Failed(m) if m.contains("offline")));
        let invalid = ConsoleError::Invalid(vec![FieldError::new("label", "taken")]);
        assert_eq!(ConsoleError::de(invalid.ser()), invalid);
    }
}
