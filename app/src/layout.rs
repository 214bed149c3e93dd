//! The HTML document, the routes, and the console frame around every page but login.

use crate::api::whoami;
use crate::components::IfAllowed;
use crate::pages::api_editor::ApiEditorPage;
use crate::pages::api_list::ApiListTab;
use crate::pages::api_policies::ApiPoliciesPage;
use crate::pages::deployments::DeploymentsTab;
use crate::pages::docs::DocsTab;
use crate::pages::group::GroupFrame;
use crate::pages::monitoring::{ApiMonitoringPage, GroupMonitoringTab};
use crate::pages::versions::VersionsTab;
use crate::pages::{
    access_log::AccessLogPage,
    apps::{AppPage, AppsPage},
    audit::AuditPage,
    backend_services::{BackendServicePage, BackendServicesPage},
    debug::DebugPage,
    groups::GroupsPage,
    login::LoginPage,
    nodes::NodesPage,
    policies::{PoliciesPage, PolicyPage},
    tokens::TokensPage,
    users::UsersPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Outlet, ParentRoute, Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

/// The whole HTML document the server renders.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The console application: routes and pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: `data-hydrated` tells people and tests that the page
    // is interactive.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    view! {
        <Stylesheet id="leptos" href="/pkg/gantry.css" />
        <Title text="Gantry" />
        <div id="gantry" data-hydrated=move || hydrated.get().to_string()>
            <Router>
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/login") view=LoginPage />
                    <ParentRoute path=path!("") view=ConsoleFrame>
                        <Route path=path!("/groups") view=GroupsPage />
                        <ParentRoute path=path!("/groups/:group") view=GroupFrame>
                            <Route path=path!("") view=ApiListTab />
                            <Route path=path!("versions") view=VersionsTab />
                            <Route path=path!("deployments") view=DeploymentsTab />
                            <Route path=path!("docs") view=DocsTab />
                            <Route path=path!("monitoring") view=GroupMonitoringTab ssr=SsrMode::Async />
                            <Route path=path!("apis/:id") view=ApiEditorPage />
                            <Route path=path!("apis/:id/policies") view=ApiPoliciesPage />
                            <Route path=path!("apis/:id/monitoring") view=ApiMonitoringPage ssr=SsrMode::Async />
                        </ParentRoute>
                        <Route path=path!("/backend-services") view=BackendServicesPage />
                        <Route path=path!("/backend-services/:name") view=BackendServicePage />
                        <Route path=path!("/apps") view=AppsPage />
                        <Route path=path!("/policies") view=PoliciesPage />
                        <Route path=path!("/policies/:name") view=PolicyPage />
                        <Route path=path!("/apps/:app") view=AppPage />
                        <Route path=path!("/debug") view=DebugPage />
                        <Route path=path!("/tokens") view=TokensPage />
                        <Route path=path!("/nodes") view=NodesPage />
                        <Route path=path!("/access-log") view=AccessLogPage />
                        <Route path=path!("/audit") view=AuditPage />
                        <Route path=path!("/users") view=UsersPage />
                    </ParentRoute>
                </Routes>
            </Router>
        </div>
    }
}

/// The top bar with the navigation and the current user, and the page below it.
#[component]
fn ConsoleFrame() -> impl IntoView {
    let user = Resource::new(|| (), |_| whoami());
    provide_context(crate::components::Me(user));
    let admin = Callback::new(|me: domain::roles::Me| me.grant.allows(domain::roles::Action::ManageUsers));
    view! {
        <header class="topbar">
            <a class="brand" href="/groups">
                "Gantry"
            </a>
            <nav aria-label="Main">
                <A href="/groups">"API Groups"</A>
                <A href="/backend-services">"Backend Services"</A>
                <A href="/apps">"Apps"</A>
                <A href="/policies">"Policies"</A>
                <A href="/debug">"Debug API"</A>
                <A href="/access-log">"Access Log"</A>
                <A href="/audit">"Audit Log"</A>
                <A href="/nodes">"Gateway Nodes"</A>
                <IfAllowed when=admin>
                    <A href="/users">"Users"</A>
                </IfAllowed>
            </nav>
            <div class="session">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        user.await.ok().map(|me| view! {
                            <span class="username">{me.username}</span>
                            <span class="role muted">{me.grant.role.label()}</span>
                        })
                    })}
                </Suspense>
                <A href="/tokens">"API Tokens"</A>
                <form method="post" action="/auth/logout">
                    <button type="submit" class="link">
                        "Log out"
                    </button>
                </form>
            </div>
        </header>
        <main class="content">
            <Outlet />
        </main>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <Title text="Not found · Gantry" />
        <main class="content">
            <h1>"Page not found"</h1>
            <p>
                <a href="/groups">"Back to API Groups"</a>
            </p>
        </main>
    }
}
