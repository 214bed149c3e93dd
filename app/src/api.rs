//! Server functions: the console's calls into `control`. Each one extracts what it needs
//! from the request context, calls a service, and maps the error; no logic lives here.
//! The session check happens before any of them runs (the server's login middleware).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// An API group as the API Groups list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    /// Unique name.
    pub name: String,
    /// DNS label under the base domain.
    pub subdomain: String,
    /// Free text.
    pub description: String,
}

/// The logged-in user's name.
#[server]
pub async fn whoami() -> Result<String, ServerFnError> {
    Ok(ssr::current_user()?.username)
}

/// Every API group.
#[server]
pub async fn list_groups() -> Result<Vec<GroupRow>, ServerFnError> {
    let groups = ssr::control()?.list_groups().await.map_err(ssr::server_error)?;
    Ok(groups
        .into_iter()
        .map(|g| GroupRow { name: g.name, subdomain: g.subdomain, description: g.description })
        .collect())
}

/// Server-only helpers for the functions above.
#[cfg(feature = "ssr")]
pub mod ssr {
    use control::{Control, ControlError, CurrentUser};
    use leptos::prelude::*;

    /// The control service the server put into the Leptos context.
    pub fn control() -> Result<Control, ServerFnError> {
        use_context::<Control>().ok_or_else(|| ServerFnError::new("the control service is not in context"))
    }

    /// The user the login middleware attached to this request.
    pub fn current_user() -> Result<CurrentUser, ServerFnError> {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
            .ok_or_else(|| ServerFnError::new("not logged in"))
    }

    /// A control error as the console shows it.
    pub fn server_error(error: ControlError) -> ServerFnError {
        ServerFnError::new(error.public_message())
    }
}
