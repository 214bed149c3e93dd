//! Server functions: the console's calls into `control`. Each one extracts what it needs
//! from the request context, calls a service, and maps the error; no logic lives here.
//! The session check happens before any of them runs (the server's login middleware).
//!
//! Saving returns [`Saved`]: either the saved thing or the field errors of the same
//! validation the REST API uses, so forms can show each message beside its field.

use domain::api::ApiSpec;
use domain::app::{AppSpec, AppView, AuthorizationView, AuthorizeSpec, Credential};
use domain::debug::{DebugRequest, DebugResult};
use domain::group::{DomainSpec, GroupSpec};
use domain::import::ImportReport;
use domain::release::{DeployBackend, DeploymentEventView, DeploymentView, Diff, VersionApi, VersionSpec, VersionView};
use domain::service::{ServiceEvent, ServiceSpec, ServiceUrlSpec, ServiceView};
use domain::views::{ApiPage, ApiView, GroupView, NewToken, TokenSpec, TokenView};
use domain::{Environment, FieldError};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The outcome of a save: the saved value, or what is wrong with the input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Saved<T> {
    /// Stored.
    Ok(T),
    /// Refused; nothing changed.
    Invalid(Vec<FieldError>),
}

/// Every admin REST API token (never the tokens themselves).
#[server]
pub async fn list_tokens() -> Result<Vec<TokenView>, ServerFnError> {
    ssr::control()?.list_tokens().await.map_err(ssr::server_error)
}

/// Creates a token acting as the logged-in user; the answer holds it, once.
#[server]
pub async fn create_token(spec: TokenSpec) -> Result<Saved<NewToken>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    ssr::saved(control.issue_token(&spec, &user.username).await)
}

/// Revokes a token; it stops working at once.
#[server]
pub async fn revoke_token(id: i32) -> Result<Result<(), String>, ServerFnError> {
    ssr::refused(ssr::control()?.revoke_token(id).await)
}

/// The logged-in user's name.
#[server]
pub async fn whoami() -> Result<String, ServerFnError> {
    Ok(ssr::current_user()?.username)
}

/// Every API group.
#[server]
pub async fn list_groups() -> Result<Vec<GroupView>, ServerFnError> {
    ssr::control()?.list_groups().await.map_err(ssr::server_error)
}

/// One API group.
#[server]
pub async fn get_group(name: String) -> Result<GroupView, ServerFnError> {
    ssr::control()?.get_group(&name).await.map_err(ssr::server_error)
}

/// Creates a group (`original` empty) or edits the group named `original`.
#[server]
pub async fn save_group(original: Option<String>, spec: GroupSpec) -> Result<Saved<GroupView>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    ssr::saved(match original {
        Some(name) => control.update_group(&name, &spec, &user).await,
        None => control.create_group(&spec, &user).await,
    })
}

/// Deletes a group (refused while it is live somewhere).
#[server]
pub async fn delete_group(name: String) -> Result<Result<(), String>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    ssr::refused(control.delete_group(&name, &user).await)
}

/// One page of a group's APIs matching `q`.
#[server]
pub async fn list_apis(group: String, q: String, page: u64, per_page: u64) -> Result<ApiPage, ServerFnError> {
    let query = domain::views::ApiQuery { q, page, per_page };
    ssr::control()?.list_apis(&group, &query).await.map_err(ssr::server_error)
}

/// One API of a group's draft.
#[server]
pub async fn get_api(group: String, id: i32) -> Result<ApiView, ServerFnError> {
    ssr::control()?.get_api(&group, id).await.map_err(ssr::server_error)
}

/// Creates (`id` empty) or replaces an API of the draft.
#[server]
pub async fn save_api(group: String, id: Option<i32>, spec: ApiSpec) -> Result<Saved<ApiView>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    ssr::saved(match id {
        Some(id) => control.update_api(&group, id, &spec, &user).await,
        None => control.create_api(&group, &spec, &user).await,
    })
}

/// Removes an API from the draft.
#[server]
pub async fn delete_api(group: String, id: i32) -> Result<Result<(), String>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    ssr::refused(control.delete_api(&group, id, &user).await)
}

/// Which version a release makes live.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ReleaseVersion {
    /// Freeze the draft into a new version first.
    New(VersionSpec),
    /// An existing version, by label.
    Existing(String),
}

/// A group's versions, newest first.
#[server]
pub async fn list_versions(group: String) -> Result<Vec<VersionView>, ServerFnError> {
    ssr::control()?.list_versions(&group).await.map_err(ssr::server_error)
}

/// What is live in each environment, and the history.
#[server]
pub async fn list_deployments(group: String) -> Result<(Vec<DeploymentView>, Vec<DeploymentEventView>), ServerFnError> {
    let control = ssr::control()?;
    let live = control.list_deployments(&group).await.map_err(ssr::server_error)?;
    let history = control.deployment_history(&group).await.map_err(ssr::server_error)?;
    Ok((live, history))
}

/// What `to` changes relative to `from` (a version label or an environment).
#[server]
pub async fn diff_versions(group: String, from: String, to: String) -> Result<Diff, ServerFnError> {
    ssr::control()?.diff_versions(&group, &from, &to).await.map_err(ssr::server_error)
}

/// Releases (or switches to) a version in an environment; with [`ReleaseVersion::New`] the
/// draft is frozen first.
#[server]
pub async fn release(
    group: String,
    environment: Environment,
    version: ReleaseVersion,
    backend: DeployBackend,
    note: String,
) -> Result<Saved<DeploymentView>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    ssr::saved(match version {
        ReleaseVersion::New(spec) => control.release_draft(&group, environment, &spec, &backend, &note, &user).await,
        ReleaseVersion::Existing(label) => {
            let spec = domain::release::ReleaseSpec { version: label, backend, note };
            control.release(&group, environment, &spec, &user).await
        }
    })
}

/// Takes a group off-line in an environment.
#[server]
pub async fn take_offline(group: String, environment: Environment) -> Result<Result<(), String>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    ssr::refused(control.take_offline(&group, environment, &user).await)
}

/// A group's custom domains.
#[server]
pub async fn list_domains(group: String) -> Result<Vec<DomainSpec>, ServerFnError> {
    ssr::control()?.list_domains(&group).await.map_err(ssr::server_error)
}

/// Binds a custom domain to a group.
#[server]
pub async fn add_domain(group: String, spec: DomainSpec) -> Result<Saved<DomainSpec>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    ssr::saved(control.add_domain(&group, &spec, &user).await)
}

/// Unbinds a custom domain.
#[server]
pub async fn remove_domain(group: String, host: String) -> Result<Result<(), String>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    ssr::refused(control.remove_domain(&group, &host, &user).await)
}

/// Every app (secrets left out).
#[server]
pub async fn list_apps() -> Result<Vec<AppView>, ServerFnError> {
    ssr::control()?.list_apps().await.map_err(ssr::server_error)
}

/// One app; its AppSecret only when `reveal` (the **Reveal** button).
#[server]
pub async fn get_app(name: String, reveal: bool) -> Result<AppView, ServerFnError> {
    ssr::control()?.get_app(&name, reveal).await.map_err(ssr::server_error)
}

/// Creates an app with fresh credentials.
#[server]
pub async fn create_app(spec: AppSpec) -> Result<Saved<AppView>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    ssr::saved(control.create_app(&spec, &user).await)
}

/// Enables or disables an app.
#[server]
pub async fn set_app_enabled(name: String, enabled: bool) -> Result<Result<AppView, String>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    let patch = domain::app::AppPatch { enabled: Some(enabled), ..Default::default() };
    ssr::refused(control.update_app(&name, &patch, &user).await)
}

/// Replaces the AppSecret or the AppCode; the answer shows the new secret.
#[server]
pub async fn reset_credential(name: String, credential: Credential) -> Result<Result<AppView, String>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    ssr::refused(control.reset_credential(&name, credential, &user).await)
}

/// An app's authorizations.
#[server]
pub async fn list_authorizations(app: String) -> Result<Vec<AuthorizationView>, ServerFnError> {
    ssr::control()?.list_authorizations(&app).await.map_err(ssr::server_error)
}

/// Authorizes an app for APIs of a group in an environment.
#[server]
pub async fn authorize(app: String, spec: AuthorizeSpec) -> Result<Saved<Vec<AuthorizationView>>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    ssr::saved(control.authorize(&app, &spec, &user).await)
}

/// Revokes one authorization.
#[server]
pub async fn revoke(app: String, id: i32) -> Result<Result<(), String>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    ssr::refused(control.revoke(&app, id, &user).await)
}

/// The apps authorized for one API.
#[server]
pub async fn api_authorizations(group: String, id: i32) -> Result<Vec<AuthorizationView>, ServerFnError> {
    ssr::control()?.api_authorizations(&group, id).await.map_err(ssr::server_error)
}

/// Sends a Debug API call through the real gateway.
#[server]
pub async fn debug_call(request: DebugRequest) -> Result<Saved<DebugResult>, ServerFnError> {
    ssr::saved(ssr::control()?.debug(&request).await)
}

/// What is live in a group: per environment, the version label and its APIs.
#[server]
pub async fn live_apis(group: String) -> Result<Vec<(Environment, String, Vec<VersionApi>)>, ServerFnError> {
    let control = ssr::control()?;
    let mut live = Vec::new();
    for deployment in control.list_deployments(&group).await.map_err(ssr::server_error)? {
        let version = control.get_version(&group, &deployment.version).await.map_err(ssr::server_error)?;
        live.push((deployment.environment, deployment.version, version.apis));
    }
    Ok(live)
}

/// Every backend service, with URLs and users.
#[server]
pub async fn list_services() -> Result<Vec<ServiceView>, ServerFnError> {
    ssr::control()?.list_services().await.map_err(ssr::server_error)
}

/// One backend service.
#[server]
pub async fn get_service(name: String) -> Result<ServiceView, ServerFnError> {
    ssr::control()?.get_service(&name).await.map_err(ssr::server_error)
}

/// A backend service's URL changes, newest first.
#[server]
pub async fn service_history(name: String) -> Result<Vec<ServiceEvent>, ServerFnError> {
    ssr::control()?.service_history(&name).await.map_err(ssr::server_error)
}

/// Creates a backend service.
#[server]
pub async fn create_service(spec: ServiceSpec) -> Result<Saved<ServiceView>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    ssr::saved(control.create_service(&spec, &user).await)
}

/// Sets a backend service's URL in an environment.
#[server]
pub async fn set_service_url(
    name: String,
    environment: Environment,
    spec: ServiceUrlSpec,
) -> Result<Saved<ServiceView>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    ssr::saved(control.set_service_url(&name, environment, &spec, &user).await)
}

/// Deletes a backend service's URL in an environment.
#[server]
pub async fn delete_service_url(
    name: String,
    environment: Environment,
) -> Result<Result<ServiceView, String>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    ssr::refused(control.delete_service_url(&name, environment, &user).await)
}

/// The HTML docs of what is live in an environment (the body of the downloadable page).
#[server]
pub async fn docs_html(group: String, environment: Environment) -> Result<String, ServerFnError> {
    let generated =
        ssr::control()?.generate(&group, environment, control::sdk::Artifact::Html).await.map_err(ssr::server_error)?;
    let body = generated.content.split("<body>").nth(1).and_then(|b| b.split("</body>").next()).unwrap_or_default();
    Ok(body.to_owned())
}

/// Imports an OpenAPI document into the group's draft (or previews it with `dry_run`).
#[server]
pub async fn import_openapi(
    group: String,
    document: String,
    dry_run: bool,
) -> Result<Saved<ImportReport>, ServerFnError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    ssr::saved(control.import_openapi(&group, &document, dry_run, &user).await)
}

/// Server-only helpers for the functions above.
#[cfg(feature = "ssr")]
pub mod ssr {
    use super::Saved;
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

    /// A refusal the user can act on (not found, conflict, invalid) becomes `Ok(Err(message))`,
    /// so it is shown, not logged as a server failure; other errors fail the call.
    pub fn refused<T>(result: Result<T, ControlError>) -> Result<Result<T, String>, ServerFnError> {
        match result {
            Ok(value) => Ok(Ok(value)),
            Err(error @ (ControlError::NotFound(_) | ControlError::Conflict(_) | ControlError::Validation(_))) => {
                Ok(Err(error.public_message()))
            }
            Err(error) => Err(server_error(error)),
        }
    }

    /// Validation errors become [`Saved::Invalid`]; other errors fail the call.
    pub fn saved<T>(result: Result<T, ControlError>) -> Result<Saved<T>, ServerFnError> {
        match result {
            Ok(value) => Ok(Saved::Ok(value)),
            Err(ControlError::Validation(errors)) => Ok(Saved::Invalid(errors)),
            Err(error) => Err(server_error(error)),
        }
    }
}
