//! The Backend Services pages: the list with **Create Backend Service**, and one service's
//! page with tabs **Draft**, **Test**, **Pre-release** and **Production**. An environment's
//! tab shows its URL and the live APIs that use it; **Set URL** / **Change URL** and
//! **Delete URL** first list the APIs they affect.

use crate::api::{
    create_service, delete_service, delete_service_url, get_service, list_services, service_history, set_service_url,
    update_service,
};
use crate::components::{
    bind, edits_shared, on_done, opts, DetailHead, Dialog, Errors, FormButtons, IfAllowed, OtherErrors, SelectField,
    TextField,
};
use crate::list::{page_of, Arranged, ListState, Listed, Pager, SearchBox, SortHeader, SortKey};
use domain::service::{ServiceKind, ServicePatch, ServiceSpec, ServiceUrlSpec, ServiceUser, ServiceView};
use domain::Environment;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

impl Listed for ServiceView {
    fn text(&self) -> String {
        let urls: Vec<&str> = self.environments.iter().filter_map(|e| e.url.as_deref()).collect();
        format!("{} {} {}", self.name, self.description, urls.join(" "))
    }

    fn key(&self, column: &str) -> Option<SortKey> {
        Some(match column {
            "name" => SortKey::text(&self.name),
            "type" => SortKey::text(self.kind.label()),
            _ => return None,
        })
    }
}

/// `/backend-services`
#[component]
pub fn BackendServicesPage() -> impl IntoView {
    let list = ListState::from_url();
    let creating = RwSignal::new(false);
    let form = RwSignal::new((ServiceSpec::default(), "http".to_owned()));
    let errors: Errors = RwSignal::new(Vec::new());
    let save = Action::new(move |spec: &ServiceSpec| create_service(spec.clone()));
    on_done(save, move |outcome| match outcome {
        Ok(_) => creating.set(false),
        Err(error) => errors.set(error.field_errors()),
    });
    let services = Resource::new(move || save.version().get(), |_| list_services());
    let url_of = |s: &ServiceView, env: Environment| match &s.environments[env.index()].url {
        None => "-".to_owned(),
        Some(url) if url.is_empty() => "configured".to_owned(),
        Some(url) => url.clone(),
    };

    view! {
        <Title text="Backend Services · Gantry" />
        <div class="page-head">
            <h1>"Backend Services"</h1>
            <IfAllowed when=Callback::new(|me: domain::roles::Me| me.grant.allows(domain::roles::Action::EditShared))>
                <button
                    class="primary"
                    on:click=move |_| {
                        errors.set(Vec::new());
                        form.set((ServiceSpec::default(), "http".into()));
                        creating.set(true);
                    }
                >
                    "Create Backend Service"
                </button>
            </IfAllowed>
        </div>
        <p class="hint">
            "A backend service holds one URL per environment. APIs (Advanced Configuration) and releases refer to it by name; changing a URL changes every live API that uses it there, with no re-release."
        </p>
        <div class="toolbar">
            <SearchBox state=list id="service-search" placeholder="Name, description or URL" />
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match services.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="empty">"No backend services yet: Create Backend Service names a backend once, with a URL per environment, for APIs and releases to use."</p> }.into_any(),
                    Ok(rows) => {
                        let Arranged { rows, page, pages, total } = match page_of(rows, &list.get(), "No backend service matches the search.") {
                            Ok(shown) => shown,
                            Err(empty) => return empty,
                        };
                        view! {
                        <table class="grid" aria-label="Backend services">
                            <thead>
                                <tr>
                                    <SortHeader state=list column="name" label="Name" />
                                    <SortHeader state=list column="type" label="Type" />
                                    <th>"Test"</th>
                                    <th>"Pre-release"</th>
                                    <th>"Production"</th>
                                    <th>"Description"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows.into_iter().map(|s| {
                                    let href = format!("/backend-services/{}", s.name);
                                    view! {
                                        <tr>
                                            <td><a href=href>{s.name.clone()}</a></td>
                                            <td>{s.kind.label()}</td>
                                            <td>{url_of(&s, Environment::Test)}</td>
                                            <td>{url_of(&s, Environment::Pre)}</td>
                                            <td>{url_of(&s, Environment::Prod)}</td>
                                            <td>{s.description.clone()}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <Pager state=list page pages total noun="services" />
                    }.into_any()
                    }
                    Err(error) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <BackendHealthTable services />
        <Show when=move || creating.get()>
            <Dialog title="Create Backend Service">
                <form on:submit=move |ev| {
                    ev.prevent_default();
                    let (mut spec, kind) = form.get_untracked();
                    spec.kind = ServiceKind::parse(&kind).unwrap_or_default();
                    save.dispatch(spec);
                }>
                    <TextField label="Name" id="service-name" field="name" errors bound=bind(form, |f| f.0.name.clone(), |f, v| f.0.name = v) />
                    <SelectField
                        label="Type"
                        id="service-type"
                        field="type"
                        errors
                        options=opts(&[("http", "HTTP/HTTPS"), ("mock", "Mock")])
                        bound=bind(form, |f| f.1.clone(), |f, v| f.1 = v)
                    />
                    <p class="hint">"The type cannot change after creation."</p>
                    <TextField label="Description" id="service-description" field="description" errors multiline=true bound=bind(form, |f| f.0.description.clone(), |f, v| f.0.description = v) />
                    <OtherErrors errors shown=vec!["name".into(), "type".into(), "description".into()] />
                    <FormButtons submit="Create" disabled=Signal::derive(move || save.pending().get()) cancel=Callback::new(move |()| creating.set(false)) />
                </form>
            </Dialog>
        </Show>
    }
}

/// Each backend origin's calls and failures over the last 15 minutes, with the services
/// whose URLs point at it and its state on this node (ejected by failures, down by the
/// active health check).
#[component]
fn BackendHealthTable(services: Resource<Result<Vec<ServiceView>, crate::api::ConsoleError>>) -> impl IntoView {
    let health = Resource::new(|| (), |_| crate::api::backend_health());
    view! {
        <h2>"Backend health (last 15 minutes)"</h2>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let services = services.await.unwrap_or_default();
                match health.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="empty">"No backend calls in the last 15 minutes, and no target served."</p> }.into_any(),
                    Ok(rows) => view! {
                        <table class="grid" aria-label="Backend health">
                            <thead>
                                <tr>
                                    <th>"Backend"</th>
                                    <th>"Services"</th>
                                    <th>"Calls"</th>
                                    <th>"Errors"</th>
                                    <th>"Timeouts"</th>
                                    <th>"Failed"</th>
                                    <th>"State"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows.into_iter().map(|h| {
                                    let users: Vec<String> = services
                                        .iter()
                                        .filter(|s| s.environments.iter().any(|e| {
                                            // One address or several targets: any of them.
                                            e.url.as_deref().and_then(|url| domain::Targets::parse(url).ok()).is_some_and(|targets| {
                                                targets.targets().iter().any(|t| {
                                                    domain::stats::origin_of(&t.address.to_string()).as_deref() == Some(h.origin.as_str())
                                                })
                                            })
                                        }))
                                        .map(|s| s.name.clone())
                                        .collect();
                                    let share = h.failure_share();
                                    let out = matches!(h.state.as_deref(), Some("ejected" | "down"));
                                    let state = match h.state.as_deref() {
                                        Some("ejected") => "Ejected (failures)",
                                        Some("down") => "Down (health check)",
                                        Some(_) => "Healthy",
                                        None => "-",
                                    };
                                    view! {
                                        <tr class={if share >= 0.05 || out { "unhealthy" } else { "" }}>
                                            <td><code>{h.origin.clone()}</code></td>
                                            <td>{if users.is_empty() { "-".to_owned() } else { users.join(", ") }}</td>
                                            <td>{h.requests}</td>
                                            <td>{h.upstream_errors}</td>
                                            <td>{h.timeouts}</td>
                                            <td>{format!("{:.1} %", share * 100.0)}</td>
                                            <td>{state}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <p class="error">{error.message()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Which tab of a service's page is open.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Tab {
    Draft,
    Env(Environment),
}

/// What the service page is asking about.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Asking {
    None,
    SetUrl(Environment),
    DeleteUrl(Environment),
    Edit,
    Delete,
}

fn users_table(users: Vec<ServiceUser>, empty: &'static str) -> AnyView {
    if users.is_empty() {
        return view! { <p class="empty">{empty}</p> }.into_any();
    }
    view! {
        <table class="grid" aria-label="APIs using this service">
            <thead>
                <tr>
                    <th>"Group"</th>
                    <th>"API"</th>
                    <th>"Route"</th>
                    <th>"Version"</th>
                    <th>"Uses it through"</th>
                </tr>
            </thead>
            <tbody>
                {users.into_iter().map(|u| { let link = u.link(); view! {
                    <tr>
                        <td>{u.group}</td>
                        <td>{u.api_name}</td>
                        <td><code>{u.route}</code></td>
                        <td>{u.version.unwrap_or_else(|| "draft".into())}</td>
                        <td>{link}</td>
                    </tr>
                }}).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// `/backend-services/:name`
#[component]
pub fn BackendServicePage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let tab = RwSignal::new(Tab::Env(Environment::Test));
    let asking = RwSignal::new(Asking::None);
    let url = RwSignal::new(ServiceUrlSpec::default());
    let errors: Errors = RwSignal::new(Vec::new());
    let failure = RwSignal::new(None::<String>);

    let save = Action::new(move |(name, env, spec): &(String, Environment, ServiceUrlSpec)| {
        set_service_url(name.clone(), *env, spec.clone())
    });
    on_done(save, move |outcome| match outcome {
        Ok(_) => asking.set(Asking::None),
        Err(error) => errors.set(error.field_errors()),
    });
    let remove = Action::new(move |(name, env): &(String, Environment)| delete_service_url(name.clone(), *env));
    on_done(remove, move |outcome| match outcome {
        Ok(_) => asking.set(Asking::None),
        Err(error) => failure.set(Some(error.message())),
    });
    // Edit Service (name, description) and Delete Service: both leave this page's address.
    let patch = RwSignal::new(ServicePatch::default());
    let navigate = leptos_router::hooks::use_navigate();
    let edit = Action::new(move |(name, patch): &(String, ServicePatch)| update_service(name.clone(), patch.clone()));
    let to_renamed = navigate.clone();
    on_done(edit, move |outcome| match outcome {
        Ok(view) => {
            asking.set(Asking::None);
            to_renamed(&format!("/backend-services/{}", view.name), Default::default());
        }
        Err(error) => errors.set(error.field_errors()),
    });
    let drop_service = Action::new(move |name: &String| delete_service(name.clone()));
    on_done(drop_service, move |outcome| match outcome {
        Ok(()) => navigate("/backend-services", Default::default()),
        Err(error) => failure.set(Some(error.message())),
    });
    let changes = move || (save.version().get(), remove.version().get(), edit.version().get());
    let service = Resource::new(move || (name.get(), changes()), |(name, _)| get_service(name));
    let history = Resource::new(move || (name.get(), changes()), |(name, _)| service_history(name));

    let tabs = move || {
        let mut all = vec![(Tab::Draft, "Draft")];
        all.extend(Environment::ALL.into_iter().map(|e| (Tab::Env(e), e.label())));
        all.into_iter()
            .map(|(t, label)| {
                view! {
                    <button role="tab" aria-selected=move || (tab.get() == t).to_string() on:click=move |_| tab.set(t)>
                        {label}
                    </button>
                }
            })
            .collect_view()
    };

    let body = move |s: ServiceView| {
        match tab.get() {
        Tab::Draft => view! {
            <section role="tabpanel" aria-label="Draft">
                <p class="hint">"Draft APIs, in any group, that use this service: by their own configuration, or as unified APIs of a group released with this service."</p>
                {users_table(s.draft, "No draft API uses this service.")}
            </section>
        }
        .into_any(),
        Tab::Env(env) => {
            let current = s.environments[env.index()].clone();
            let configured = current.url.is_some();
            let shown = match &current.url {
                None => format!("No URL in {}: APIs that use this service there are off-line.", env.label()),
                Some(u) if u.is_empty() => "Configured (Mock).".to_owned(),
                Some(u) => u.clone(),
            };
            let kind = s.kind;
            let current_url = current.url.clone();
            view! {
                <section role="tabpanel" aria-label=env.label()>
                    <p>
                        <strong>"URL: "</strong>
                        <code data-testid="service-url">{shown}</code>
                    </p>
                    <IfAllowed when=edits_shared()>
                        {
                            let current_url = current_url.clone();
                            view! {
                            <div class="card-buttons">
                                <button
                                    class="primary"
                                    on:click=move |_| {
                                        errors.set(Vec::new());
                                        url.set(ServiceUrlSpec { url: if kind == ServiceKind::Mock { String::new() } else { current_url.clone().unwrap_or_default() } });
                                        asking.set(Asking::SetUrl(env));
                                    }
                                >
                                    {if configured { "Change URL" } else { "Set URL" }}
                                </button>
                                {configured.then(|| view! {
                                    <button class="danger" on:click=move |_| asking.set(Asking::DeleteUrl(env))>"Delete URL"</button>
                                })}
                            </div>
                            }
                        }
                    </IfAllowed>
                    <h3>{format!("Live APIs in {}", env.label())}</h3>
                    {users_table(current.apis, "No live API uses this service here.")}
                </section>
            }
            .into_any()
        }
    }
    };

    let dialog = move |s: ServiceView| {
        match asking.get() {
        Asking::None => ().into_any(),
        Asking::SetUrl(env) => {
            let affected = s.environments[env.index()].apis.clone();
            let title = if s.environments[env.index()].url.is_some() { "Change URL" } else { "Set URL" };
            let count = affected.len();
            let names = affected.iter().map(|a| format!("{} / {}", a.group, a.api_name)).collect::<Vec<_>>().join(", ");
            let kind = s.kind;
            view! {
                <Dialog title=title>
                    <form on:submit=move |ev| {
                        ev.prevent_default();
                        save.dispatch((name.get_untracked(), env, url.get_untracked()));
                    }>
                        <p>{format!("Applies at once, with no re-release, to {count} live API(s) in {}", env.label())}
                            {(count > 0).then(|| format!(": {names}."))}</p>
                        {(kind == ServiceKind::Http).then(|| view! {
                            <TextField label="URL" id="service-url" field="url" errors placeholder="http://10.0.0.5:8080" bound=bind(url, |u| u.url.clone(), |u, v| u.url = v) />
                            <p class="hint">"One address, or several targets sharing the traffic by weight: "
                                <code>"http://10.0.0.5:8080 weight=3, http://10.0.0.6:8080"</code>
                                " (also max_conns=N per target)."</p>
                        })}
                        <OtherErrors errors shown=vec!["url".into()] />
                        <FormButtons submit="Save" disabled=Signal::derive(move || save.pending().get()) cancel=Callback::new(move |()| asking.set(Asking::None)) />
                    </form>
                </Dialog>
            }
            .into_any()
        }
        Asking::Edit => view! {
            <Dialog title="Edit Service">
                <form on:submit=move |ev| {
                    ev.prevent_default();
                    edit.dispatch((name.get_untracked(), patch.get_untracked()));
                }>
                    <TextField label="Name" id="service-name" field="name" errors bound=bind(patch, |p| p.name.clone().unwrap_or_default(), |p, v| p.name = Some(v)) />
                    <TextField label="Description" id="service-description" field="description" errors bound=bind(patch, |p| p.description.clone().unwrap_or_default(), |p, v| p.description = Some(v)) />
                    <p class="hint">"A service that APIs or releases use keeps its name: they refer to it by name."</p>
                    <OtherErrors errors shown=vec!["name".into(), "description".into()] />
                    <FormButtons submit="Save" disabled=Signal::derive(move || edit.pending().get()) cancel=Callback::new(move |()| asking.set(Asking::None)) />
                </form>
            </Dialog>
        }
        .into_any(),
        Asking::Delete => {
            let users = s.draft.len() + s.environments.iter().map(|e| e.apis.len()).sum::<usize>();
            view! {
                <Dialog title="Delete Service">
                    <p>{format!("Delete backend service {}? Its URLs and history go with it.", s.name)}</p>
                    {(users > 0).then(|| view! {
                        <p class="error">{format!("{users} API(s) use it: it cannot be deleted until none does.")}</p>
                    })}
                    {move || failure.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                    <div class="dialog-buttons">
                        <button type="button" on:click=move |_| { failure.set(None); asking.set(Asking::None); }>"Cancel"</button>
                        <button class="danger" disabled=move || drop_service.pending().get() on:click=move |_| { drop_service.dispatch(name.get_untracked()); }>"Delete"</button>
                    </div>
                </Dialog>
            }
            .into_any()
        }
        Asking::DeleteUrl(env) => {
            let affected = s.environments[env.index()].apis.clone();
            view! {
                <Dialog title="Delete URL">
                    <p>{format!("Delete the {} URL? These APIs go off-line in {} (404) until a URL is set again:", env.label(), env.label())}</p>
                    <ul class="plain">
                        {affected.iter().map(|a| view! { <li>{format!("{} / {} ({})", a.group, a.api_name, a.route)}</li> }).collect_view()}
                        {affected.is_empty().then(|| view! { <li class="muted">"none"</li> })}
                    </ul>
                    <div class="dialog-buttons">
                        <button type="button" on:click=move |_| asking.set(Asking::None)>"Cancel"</button>
                        <button class="danger" on:click=move |_| { remove.dispatch((name.get_untracked(), env)); }>"Delete"</button>
                    </div>
                </Dialog>
            }
            .into_any()
        }
    }
    };

    view! {
        <DetailHead section="Backend Services" href="/backend-services" name failure />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match service.await {
                    Ok(s) => {
                        let (for_body, for_dialog) = (s.clone(), s.clone());
                        let (current_name, current_description) = (s.name.clone(), s.description.clone());
                        view! {
                            <p class="muted">{format!("{} · {}", s.kind.label(), s.description)}</p>
                            <IfAllowed when=edits_shared()>
                                <div class="card-buttons">
                                    <button on:click={
                                        let (current_name, current_description) = (current_name.clone(), current_description.clone());
                                        move |_| {
                                            errors.set(Vec::new());
                                            patch.set(ServicePatch { name: Some(current_name.clone()), description: Some(current_description.clone()), kind: None });
                                            asking.set(Asking::Edit);
                                        }
                                    }>"Edit Service"</button>
                                    <button class="danger" on:click=move |_| { failure.set(None); asking.set(Asking::Delete); }>"Delete Service"</button>
                                </div>
                            </IfAllowed>
                            <div role="tablist" aria-label="Environments">{tabs}</div>
                            {move || body(for_body.clone())}
                            {move || dialog(for_dialog.clone())}
                        }
                        .into_any()
                    }
                    Err(error) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <h2>"History"</h2>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let events = history.await.unwrap_or_default();
                view! {
                    <table class="grid" aria-label="History">
                        <thead>
                            <tr>
                                <th>"When"</th>
                                <th>"Change"</th>
                                <th>"Environment"</th>
                                <th>"Before"</th>
                                <th>"After"</th>
                                <th>"By"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {events.into_iter().map(|e| view! {
                                <tr>
                                    <td>{e.at}</td>
                                    <td>{e.action}</td>
                                    <td>{e.env.map(|e| e.label()).unwrap_or("-")}</td>
                                    <td>{e.before.unwrap_or_default()}</td>
                                    <td>{e.after.unwrap_or_default()}</td>
                                    <td>{e.actor}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }
            })}
        </Transition>
    }
}
