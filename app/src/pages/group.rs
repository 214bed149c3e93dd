//! A group's page: its name and domain, and the tabs API List, Version Modification List,
//! Deployment Management, SDK & Docs and Monitoring.

use crate::api::get_group;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::use_params_map;

/// The group named in the URL (`/groups/:group/…`).
pub fn group_param() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("group").unwrap_or_default())
}

/// `/groups/:group/…`: the header and tabs around the selected tab.
#[component]
pub fn GroupFrame() -> impl IntoView {
    let group = group_param();
    let details = Resource::new(move || group.get(), get_group);
    let tab = move |suffix: &'static str| move || format!("/groups/{}{suffix}", group.get());
    view! {
        <Title text=move || format!("{} · Gantry", group.get()) />
        <p class="crumbs">
            <a href="/groups">"API Groups"</a>
            " / "
        </p>
        <div class="page-head">
            <h1>{move || group.get()}</h1>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    details.await.ok().map(|g| view! { <span class="muted">"Subdomain: " <code>{g.subdomain}</code></span> })
                })}
            </Transition>
        </div>
        <nav class="tabs" aria-label="Group">
            <A href=tab("") exact=true>"API List"</A>
            <A href=tab("/versions") exact=true>"Version Modification List"</A>
            <A href=tab("/deployments") exact=true>"Deployment Management"</A>
            <A href=tab("/docs") exact=true>"SDK & Docs"</A>
            <A href=tab("/monitoring") exact=true>"Monitoring"</A>
        </nav>
        <Outlet />
    }
}
