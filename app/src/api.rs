//! Server functions: the console's calls into `control`. Each one extracts what it needs
//! from the request context, calls a service, and maps the error; no logic lives here.
//! The session check happens before any of them runs (the server's login middleware).
//!
//! Every one returns `Result<T, ConsoleError>`: a control error converts with `?`
//! ([`ConsoleError`]'s `From`), so field errors reach the form beside their fields and a
//! refusal reaches the page's banner, with the status the REST API gives.

pub use crate::error::ConsoleError;
use domain::api::ApiSpec;
use domain::app::{AppSpec, AppView, AuthorizationView, AuthorizeSpec, Credential};
use domain::debug::{DebugRequest, DebugResult};
use domain::group::{CertificateUpload, CertificateView, DefaultCertificateView, DomainSpec, GroupSpec};
use domain::import::ImportReport;
use domain::policy::{BindingSpec, BindingView, PolicySpec, PolicyView};
use domain::release::{
    DeployBackend, DeploymentEventView, DeploymentView, Diff, LiveVersion, VersionSpec, VersionView,
};
use domain::service::{ServiceEvent, ServiceSpec, ServiceUrlSpec, ServiceView};
use domain::views::{ApiPage, ApiView, GroupView, NewToken, TokenSpec, TokenView};
use domain::Environment;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The most recent requests this node's gateway served that match `query`, newest first.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn access_log(query: domain::access::AccessQuery) -> Result<domain::access::AccessLogView, ConsoleError> {
    Ok(ssr::control()?.access_log(&query).await?)
}

/// An API's charts over a range: the points, and the requests and latency charts as SVG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiCharts {
    pub api: String,
    pub stats: domain::stats::StatsView,
    pub requests_svg: String,
    pub latency_svg: String,
    /// Requests and p99 per version (empty when one version answered).
    pub versions_svg: String,
    pub version_latency_svg: String,
}

/// `/groups/:group/apis/:id/monitoring`: one API's requests, 4xx/5xx and latency
/// percentiles, with the releases and switches of the range as markers.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn api_monitor(group: String, api: i32, query: domain::stats::StatsQuery) -> Result<ApiCharts, ConsoleError> {
    let control = ssr::control()?;
    let name = control.get_api(&group, api).await?.spec.name;
    let query = domain::stats::StatsQuery { api: Some(api.to_string()), ..query };
    let stats = control.stats(&group, &query).await?;
    Ok(ApiCharts {
        api: name,
        requests_svg: crate::charts::requests_chart(&stats, (880, 260)),
        latency_svg: crate::charts::latency_chart(&stats, (880, 260)),
        versions_svg: crate::charts::versions_chart(&stats, (880, 240)),
        version_latency_svg: crate::charts::version_latency_chart(&stats, (880, 240)),
        stats,
    })
}

/// A group's charts over a range: its requests and error rate, and every API's totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupCharts {
    pub overview: domain::stats::GroupOverview,
    pub requests_svg: String,
    pub errors_svg: String,
    /// Requests per version (empty when one version answered).
    pub versions_svg: String,
}

/// `/groups/:group/monitoring`: the group's traffic and its APIs by traffic and by p99.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn group_monitor(group: String, query: domain::stats::StatsQuery) -> Result<GroupCharts, ConsoleError> {
    let overview = ssr::control()?.group_overview(&group, &query).await?;
    Ok(GroupCharts {
        requests_svg: crate::charts::requests_chart(&overview.stats, (880, 240)),
        errors_svg: crate::charts::error_rate_chart(&overview.stats, (880, 200)),
        versions_svg: crate::charts::versions_chart(&overview.stats, (880, 240)),
        overview,
    })
}

/// One environment's requests over the last 24 hours, as a sparkline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sparkline {
    pub env: Environment,
    pub requests: u64,
    pub svg: String,
}

/// Deployment Management's sparklines: each environment's last 24 hours.
#[server]
pub async fn deployment_sparklines(group: String) -> Result<Vec<Sparkline>, ConsoleError> {
    let control = ssr::control()?;
    let mut lines = Vec::new();
    for env in Environment::ALL {
        let query = domain::stats::StatsQuery { env: Some(env.as_str().into()), api: None, range: Some("24h".into()) };
        let stats = control.stats(&group, &query).await?;
        lines.push(Sparkline {
            env,
            requests: stats.total_requests(),
            svg: crate::charts::sparkline(&stats, (220, 36)),
        });
    }
    Ok(lines)
}

/// Each backend origin's calls and failures over the last 15 minutes.
#[server]
pub async fn backend_health() -> Result<Vec<domain::stats::BackendHealth>, ConsoleError> {
    Ok(ssr::control()?.backend_health(15).await?)
}

/// One page of the audit log, newest first.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn audit_log(query: domain::audit::AuditQuery) -> Result<domain::audit::AuditPage, ConsoleError> {
    Ok(ssr::control()?.audit(&query).await?)
}

/// Every node of the cluster, with its applied revision and whether it is stale.
#[server]
pub async fn list_nodes() -> Result<domain::cluster::NodesView, ConsoleError> {
    Ok(ssr::control()?.nodes().await?)
}

/// Every admin REST API token (never the tokens themselves).
#[server]
pub async fn list_tokens() -> Result<Vec<TokenView>, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.tokens_of(&user).await?)
}

/// Creates a token acting as the logged-in user; the answer holds it, once.
#[server]
pub async fn create_token(spec: TokenSpec) -> Result<NewToken, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.issue_token_as(&spec, &user).await?)
}

/// Revokes a token; it stops working at once.
#[server]
pub async fn revoke_token(id: i32) -> Result<(), ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.revoke_token_as(id, &user).await?)
}

/// The logged-in user's name and role.
#[server]
pub async fn whoami() -> Result<domain::roles::Me, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(domain::roles::Me {
        username: user.username,
        grant: user.grant,
        production_approval: control.production_approval(),
    })
}

/// Asks for a Production change (an admin other than the requester approves it). JSON: the
/// backend is an enum.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn request_release(
    group: String,
    spec: domain::approval::RequestSpec,
) -> Result<domain::approval::ReleaseRequestView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.request_change(&group, Environment::Prod, &spec, &user).await?)
}

/// A group's release requests, newest first, pending ones with the diff against live.
#[server]
pub async fn list_release_requests(group: String) -> Result<Vec<domain::approval::ReleaseRequestView>, ConsoleError> {
    let query = control::approvals::RequestQuery { status: None, group: Some(group) };
    Ok(ssr::control()?.list_requests(&query).await?)
}

/// What an admin or the requester does with a pending request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestDecision {
    Approve,
    Reject,
    Withdraw,
}

/// Approves (making the change), rejects or withdraws a pending request.
#[server]
pub async fn decide_request(
    id: i32,
    decision: RequestDecision,
    note: String,
) -> Result<domain::approval::ReleaseRequestView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    let why = domain::approval::Decision { note };
    Ok(match decision {
        RequestDecision::Approve => control.approve_request(id, &why, &user).await?,
        RequestDecision::Reject => control.reject_request(id, &why, &user).await?,
        RequestDecision::Withdraw => control.withdraw_request(id, &user).await?,
    })
}

/// Every user (admins only).
#[server]
pub async fn list_users() -> Result<Vec<domain::roles::UserView>, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.list_users(&user).await?)
}

/// Creates a user (admins only). JSON: a scope is a list or `null`.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn create_user(spec: domain::roles::NewUserSpec) -> Result<domain::roles::UserView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.add_user(&spec, &user).await?)
}

/// Changes a user's role, groups, disabled flag or password (admins only). JSON: `groups`
/// sent as `null` differs from `groups` left out.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn update_user(
    username: String,
    patch: domain::roles::UserPatch,
) -> Result<domain::roles::UserView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.update_user(&username, &patch, &user).await?)
}

/// Every API group.
#[server]
pub async fn list_groups() -> Result<Vec<GroupView>, ConsoleError> {
    Ok(ssr::control()?.list_groups().await?)
}

/// One API group.
#[server]
pub async fn get_group(name: String) -> Result<GroupView, ConsoleError> {
    Ok(ssr::control()?.get_group(&name).await?)
}

/// Creates a group (`original` empty) or edits the group named `original`.
#[server]
pub async fn save_group(original: Option<String>, spec: GroupSpec) -> Result<GroupView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(match original {
        Some(name) => control.update_group(&name, &spec, &user).await?,
        None => control.create_group(&spec, &user).await?,
    })
}

/// Deletes a group (refused while it is live somewhere).
#[server]
pub async fn delete_group(name: String) -> Result<(), ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.delete_group(&name, &user).await?)
}

/// One page of a group's APIs matching `q`.
#[server]
pub async fn list_apis(
    group: String,
    q: String,
    page: u64,
    per_page: u64,
    sort: Option<String>,
    desc: bool,
) -> Result<ApiPage, ConsoleError> {
    // A column the list does not have (an edited URL) sorts by name.
    let sort = sort.as_deref().and_then(domain::views::ApiSort::parse).unwrap_or_default();
    let query = domain::views::ApiQuery { q, page, per_page, sort, desc };
    Ok(ssr::control()?.list_apis(&group, &query).await?)
}

/// One API of a group's draft.
#[server]
pub async fn get_api(group: String, id: i32) -> Result<ApiView, ConsoleError> {
    Ok(ssr::control()?.get_api(&group, id).await?)
}

/// Creates (`id` empty) or replaces an API of the draft.
// JSON: an address may be a list of targets, which a form encoding cannot carry.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn save_api(group: String, id: Option<i32>, spec: ApiSpec) -> Result<ApiView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(match id {
        Some(id) => control.update_api(&group, id, &spec, &user).await?,
        None => control.create_api(&group, &spec, &user).await?,
    })
}

/// Removes an API from the draft.
#[server]
pub async fn delete_api(group: String, id: i32) -> Result<(), ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.delete_api(&group, id, &user).await?)
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
pub async fn list_versions(group: String) -> Result<Vec<VersionView>, ConsoleError> {
    Ok(ssr::control()?.list_versions(&group).await?)
}

/// What is live in each environment, and the history.
#[server]
pub async fn list_deployments(group: String) -> Result<(Vec<DeploymentView>, Vec<DeploymentEventView>), ConsoleError> {
    let control = ssr::control()?;
    let live = control.list_deployments(&group).await?;
    let history = control.deployment_history(&group).await?;
    Ok((live, history))
}

/// What `to` changes relative to `from` (a version label or an environment).
#[server]
pub async fn diff_versions(group: String, from: String, to: String) -> Result<Diff, ConsoleError> {
    Ok(ssr::control()?.diff_versions(&group, &from, &to).await?)
}

/// Releases (or switches to) a version in an environment; with [`ReleaseVersion::New`] the
/// draft is frozen first.
// JSON: an address may be a list of targets, which a form encoding cannot carry.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn release(
    group: String,
    environment: Environment,
    version: ReleaseVersion,
    backend: DeployBackend,
    note: String,
) -> Result<DeploymentView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(match version {
        ReleaseVersion::New(spec) => control.release_draft(&group, environment, &spec, &backend, &note, &user).await?,
        ReleaseVersion::Existing(label) => {
            let spec = domain::release::ReleaseSpec { version: label, backend, note };
            control.release(&group, environment, &spec, &user).await?
        }
    })
}

/// Releases one API: what is live in `environment` with this API's draft in its place, as a
/// new version (`Control::release_api`).
#[server(input = leptos::server_fn::codec::Json)]
pub async fn release_api(
    group: String,
    id: i32,
    environment: Environment,
    spec: domain::release::ApiReleaseSpec,
) -> Result<DeploymentView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.release_api(&group, id, environment, &spec, &user).await?)
}

/// Starts a canary beside an environment's version, or changes it.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn set_canary(
    group: String,
    environment: Environment,
    spec: domain::canary::CanarySpec,
) -> Result<domain::canary::CanaryView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.set_canary(&group, environment, &spec, &user).await?)
}

/// Promotes an environment's canary: it becomes the environment's version.
#[server]
pub async fn promote_canary(group: String, environment: Environment) -> Result<DeploymentView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.promote_canary(&group, environment, &user).await?)
}

/// Rolls an environment's canary back.
#[server]
pub async fn rollback_canary(group: String, environment: Environment) -> Result<(), ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.rollback_canary(&group, environment, &user).await?)
}

/// Takes a group off-line in an environment.
#[server]
pub async fn take_offline(group: String, environment: Environment) -> Result<(), ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.take_offline(&group, environment, &user).await?)
}

/// A group's custom domains.
#[server]
pub async fn list_domains(group: String) -> Result<Vec<DomainSpec>, ConsoleError> {
    Ok(ssr::control()?.list_domains(&group).await?)
}

/// Binds a custom domain to a group.
#[server]
pub async fn add_domain(group: String, spec: DomainSpec) -> Result<DomainSpec, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.add_domain(&group, &spec, &user).await?)
}

/// Sets (or replaces) a custom domain's certificate (JSON: PEM text must arrive as sent).
#[server(input = leptos::server_fn::codec::Json)]
pub async fn set_certificate(
    group: String,
    host: String,
    upload: CertificateUpload,
) -> Result<CertificateView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.set_certificate(&group, &host, &upload, &user).await?)
}

/// Removes a custom domain's certificate.
#[server]
pub async fn remove_certificate(group: String, host: String) -> Result<(), ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.remove_certificate(&group, &host, &user).await?)
}

/// The HTTPS listener's default certificate.
#[server]
pub async fn default_certificate() -> Result<Option<DefaultCertificateView>, ConsoleError> {
    ssr::current_user()?;
    Ok(ssr::control()?.default_certificate())
}

/// Unbinds a custom domain.
#[server]
pub async fn remove_domain(group: String, host: String) -> Result<(), ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.remove_domain(&group, &host, &user).await?)
}

/// Every app (secrets left out).
#[server]
pub async fn list_apps() -> Result<Vec<AppView>, ConsoleError> {
    Ok(ssr::control()?.list_apps().await?)
}

/// One app; its AppSecret only when `reveal` (the **Reveal** button).
#[server]
pub async fn get_app(name: String, reveal: bool) -> Result<AppView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(if reveal { control.reveal_app(&name, &user).await? } else { control.get_app(&name, false).await? })
}

/// Creates an app with fresh credentials.
#[server]
pub async fn create_app(spec: AppSpec) -> Result<AppView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.create_app(&spec, &user).await?)
}

/// Enables or disables an app.
#[server]
pub async fn set_app_enabled(name: String, enabled: bool) -> Result<AppView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    let patch = domain::app::AppPatch { enabled: Some(enabled), ..Default::default() };
    Ok(control.update_app(&name, &patch, &user).await?)
}

/// Replaces the AppSecret or the AppCode; the answer shows the new secret.
#[server]
pub async fn reset_credential(name: String, credential: Credential) -> Result<AppView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.reset_credential(&name, credential, &user).await?)
}

/// An app's authorizations.
#[server]
pub async fn list_authorizations(app: String) -> Result<Vec<AuthorizationView>, ConsoleError> {
    Ok(ssr::control()?.list_authorizations(&app).await?)
}

/// Authorizes an app for APIs of a group in an environment.
#[server]
pub async fn authorize(app: String, spec: AuthorizeSpec) -> Result<Vec<AuthorizationView>, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.authorize(&app, &spec, &user).await?)
}

/// Revokes one authorization.
#[server]
pub async fn revoke(app: String, id: i32) -> Result<(), ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.revoke(&app, id, &user).await?)
}

/// Authorizes apps for one API in one environment (one transaction).
#[server(input = leptos::server_fn::codec::Json)]
pub async fn authorize_apps(
    group: String,
    id: i32,
    spec: domain::app::ApiAuthorizeSpec,
) -> Result<Vec<AuthorizationView>, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.authorize_apps(&group, id, &spec, &user).await?)
}

/// The apps authorized for one API.
#[server]
pub async fn api_authorizations(group: String, id: i32) -> Result<Vec<AuthorizationView>, ConsoleError> {
    Ok(ssr::control()?.api_authorizations(&group, id).await?)
}

/// Sends a Debug API call through the real gateway.
#[server]
pub async fn debug_call(request: DebugRequest) -> Result<DebugResult, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.debug(&request, &user).await?)
}

/// What is live in a group: per environment, the version label and its APIs.
#[server]
pub async fn live_apis(group: String) -> Result<Vec<LiveVersion>, ConsoleError> {
    Ok(ssr::control()?.live_apis(&group).await?)
}

/// Every backend service, with URLs and users.
#[server]
pub async fn list_services() -> Result<Vec<ServiceView>, ConsoleError> {
    Ok(ssr::control()?.list_services().await?)
}

/// One backend service.
#[server]
pub async fn get_service(name: String) -> Result<ServiceView, ConsoleError> {
    Ok(ssr::control()?.get_service(&name).await?)
}

/// A backend service's URL changes, newest first.
#[server]
pub async fn service_history(name: String) -> Result<Vec<ServiceEvent>, ConsoleError> {
    Ok(ssr::control()?.service_history(&name).await?)
}

/// Creates a backend service.
#[server]
pub async fn create_service(spec: ServiceSpec) -> Result<ServiceView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.create_service(&spec, &user).await?)
}

/// Renames or describes a backend service (a rename only while nothing uses it).
#[server(input = leptos::server_fn::codec::Json)]
pub async fn update_service(name: String, patch: domain::service::ServicePatch) -> Result<ServiceView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.update_service(&name, &patch, &user).await?)
}

/// Deletes a backend service nothing uses.
#[server]
pub async fn delete_service(name: String) -> Result<(), ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.delete_service(&name, &user).await?)
}

/// Sets a backend service's URL in an environment.
// JSON: an address may be a list of targets, which a form encoding cannot carry.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn set_service_url(
    name: String,
    environment: Environment,
    spec: ServiceUrlSpec,
) -> Result<ServiceView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.set_service_url(&name, environment, &spec, &user).await?)
}

/// Deletes a backend service's URL in an environment.
#[server]
pub async fn delete_service_url(name: String, environment: Environment) -> Result<ServiceView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.delete_service_url(&name, environment, &user).await?)
}

/// The HTML docs of what is live in an environment (the body of the downloadable page).
#[server]
pub async fn docs_html(group: String, environment: Environment) -> Result<String, ConsoleError> {
    let generated = ssr::control()?.generate(&group, environment, control::sdk::Artifact::Html).await?;
    let body = generated.content.split("<body>").nth(1).and_then(|b| b.split("</body>").next()).unwrap_or_default();
    Ok(body.to_owned())
}

/// Imports an OpenAPI document into the group's draft (or previews it with `dry_run`).
#[server]
pub async fn import_openapi(group: String, document: String, dry_run: bool) -> Result<ImportReport, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.import_openapi(&group, &document, dry_run, &user).await?)
}

/// Every traffic policy with its bindings.
#[server]
pub async fn list_policies() -> Result<Vec<PolicyView>, ConsoleError> {
    Ok(ssr::control()?.list_policies().await?)
}

/// One traffic policy with its bindings.
#[server]
pub async fn get_policy(name: String) -> Result<PolicyView, ConsoleError> {
    Ok(ssr::control()?.get_policy(&name).await?)
}

/// Creates a policy (`original` empty) or replaces the configuration of policy `original`.
/// Sent as JSON: the configuration is free-form JSON, whose numbers a URL-encoded form would
/// turn into strings.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn save_policy(original: Option<String>, spec: PolicySpec) -> Result<PolicyView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(match original {
        Some(name) => control.update_policy(&name, &spec, &user).await?,
        None => control.create_policy(&spec, &user).await?,
    })
}

/// Deletes a policy and its bindings.
#[server]
pub async fn delete_policy(name: String) -> Result<(), ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.delete_policy(&name, &user).await?)
}

/// Binds a policy to an API or a whole group in one environment.
#[server]
pub async fn bind_policy(name: String, spec: BindingSpec) -> Result<BindingView, ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.bind_policy(&name, &spec, &user).await?)
}

/// Removes one binding of a policy.
#[server]
pub async fn unbind_policy(name: String, id: i32) -> Result<(), ConsoleError> {
    let (control, user) = (ssr::control()?, ssr::current_user()?);
    Ok(control.unbind_policy(&name, id, &user).await?)
}

/// The policies bound in a group (to it or its APIs).
#[server]
pub async fn group_policies(group: String) -> Result<Vec<BindingView>, ConsoleError> {
    Ok(ssr::control()?.group_bindings(&group).await?)
}

/// Server-only helpers for the functions above.
#[cfg(feature = "ssr")]
pub mod ssr {
    use super::ConsoleError;
    use control::{Control, CurrentUser};
    use leptos::prelude::*;

    /// The control service the server put into the Leptos context.
    pub fn control() -> Result<Control, ConsoleError> {
        use_context::<Control>().ok_or_else(|| ConsoleError::Failed("the control service is not in context".into()))
    }

    /// The user the login middleware attached to this request.
    pub fn current_user() -> Result<CurrentUser, ConsoleError> {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
            .ok_or_else(|| ConsoleError::Failed("not logged in".into()))
    }
}
