//! The Apps pages: the list with **Create App**, and one app's page with its credentials
//! (the AppSecret hidden until **Reveal**; **Reset Secret**, **Reset AppCode**, **Disable**)
//! and its authorizations (**Authorize** APIs of a group in an environment, **Revoke**).

use crate::api::{
    authorize, create_app, get_app, list_apis, list_apps, list_authorizations, list_groups, reset_credential, revoke,
    set_app_enabled, ConsoleError,
};
use crate::components::{
    bind, edits_shared, on_done, opts, Confirm, DetailHead, Dialog, Errors, FieldMessage, FormButtons, IfAllowed,
    OtherErrors, SelectField, TextField,
};
use crate::list::{page_of, Arranged, ListState, Listed, Pager, SearchBox, SortHeader, SortKey};
use domain::app::{AppSpec, AppView, AuthorizationView, AuthorizeSpec, Credential};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

impl Listed for AppView {
    fn text(&self) -> String {
        format!("{} {} {}", self.name, self.app_key, self.description)
    }

    fn key(&self, column: &str) -> Option<SortKey> {
        Some(match column {
            "name" => SortKey::text(&self.name),
            "status" => SortKey::Number(i64::from(self.enabled)),
            "authorizations" => SortKey::Number(self.authorizations as i64),
            _ => return None,
        })
    }
}

/// `/apps`
#[component]
pub fn AppsPage() -> impl IntoView {
    let list = ListState::from_url();
    let creating = RwSignal::new(false);
    let form = RwSignal::new(AppSpec::default());
    let errors: Errors = RwSignal::new(Vec::new());
    let save = Action::new(move |spec: &AppSpec| create_app(spec.clone()));
    on_done(save, move |outcome| match outcome {
        Ok(_) => creating.set(false),
        Err(error) => errors.set(error.field_errors()),
    });
    let apps = Resource::new(move || save.version().get(), |_| list_apps());

    view! {
        <Title text="Apps · Gantry" />
        <div class="page-head">
            <h1>"Apps"</h1>
            <IfAllowed when=Callback::new(|me: domain::roles::Me| me.grant.allows(domain::roles::Action::EditShared))>
                <button
                    class="primary"
                    on:click=move |_| {
                        errors.set(Vec::new());
                        form.set(AppSpec::default());
                        creating.set(true);
                    }
                >
                    "Create App"
                </button>
            </IfAllowed>
        </div>
        <p class="hint">
            "An app calls APIs whose authentication is App: with its AppCode, or by signing requests with its AppKey and AppSecret. It may call an API only where it is authorized."
        </p>
        <div class="toolbar">
            <SearchBox state=list id="app-search" placeholder="Name, AppKey or description" />
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match apps.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="empty">"No apps yet: Create App gives a caller its AppKey, AppSecret and AppCode; then authorize it for APIs."</p> }.into_any(),
                    Ok(rows) => {
                        let Arranged { rows, page, pages, total } = match page_of(rows, &list.get(), "No app matches the search.") {
                            Ok(shown) => shown,
                            Err(empty) => return empty,
                        };
                        view! {
                            <table class="grid" aria-label="Apps">
                                <thead>
                                    <tr>
                                        <SortHeader state=list column="name" label="Name" />
                                        <th>"AppKey"</th>
                                        <SortHeader state=list column="status" label="Status" />
                                        <SortHeader state=list column="authorizations" label="Authorizations" />
                                        <th>"Description"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows
                                        .into_iter()
                                        .map(|app| {
                                            let href = format!("/apps/{}", app.name);
                                            view! {
                                                <tr>
                                                    <td>
                                                        <a href=href>{app.name.clone()}</a>
                                                    </td>
                                                    <td>
                                                        <code>{app.app_key.clone()}</code>
                                                    </td>
                                                    <td>{if app.enabled { "Enabled" } else { "Disabled" }}</td>
                                                    <td>{app.authorizations}</td>
                                                    <td>{app.description.clone()}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                            <Pager state=list page pages total noun="apps" />
                        }
                            .into_any()
                    }
                    Err(error) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <Show when=move || creating.get()>
            <Dialog title="Create App">
                <form on:submit=move |ev| {
                    ev.prevent_default();
                    save.dispatch(form.get_untracked());
                }>
                    <TextField
                        label="Name"
                        id="app-name"
                        field="name"
                        errors
                        bound=bind(form, |f| f.name.clone(), |f, v| f.name = v)
                    />
                    <TextField
                        label="Description"
                        id="app-description"
                        field="description"
                        errors
                        multiline=true
                        bound=bind(form, |f| f.description.clone(), |f, v| f.description = v)
                    />
                    <OtherErrors errors shown=vec!["name".into(), "description".into()] />
                    <FormButtons
                        submit="Create"
                        disabled=Signal::derive(move || save.pending().get())
                        cancel=Callback::new(move |()| creating.set(false))
                    />
                </form>
            </Dialog>
        </Show>
    }
}

/// What the app page is asking about.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Asking {
    None,
    Reset(Credential),
    Authorize,
}

/// `/apps/:app`
#[component]
pub fn AppPage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("app").unwrap_or_default());
    // The secret and the AppCode, once revealed (or just reset); never part of the page
    // until asked for.
    let secret = RwSignal::new(None::<String>);
    let code = RwSignal::new(None::<String>);
    let asking = RwSignal::new(Asking::None);
    let failure = RwSignal::new(None::<String>);
    let refused = move |outcome: Result<_, ConsoleError>| failure.set(outcome.err().map(|error| error.message()));

    let reveal = Action::new(move |name: &String| get_app(name.clone(), true));
    on_done(reveal, move |outcome| match outcome {
        Ok(view) => {
            secret.set(view.app_secret);
            code.set(view.app_code);
        }
        Err(error) => failure.set(Some(error.message())),
    });
    let reset =
        Action::new(move |(name, credential): &(String, Credential)| reset_credential(name.clone(), *credential));
    on_done(reset, move |outcome| match outcome {
        Ok(view) => {
            asking.set(Asking::None);
            secret.set(view.app_secret);
            code.set(view.app_code);
        }
        Err(error) => failure.set(Some(error.message())),
    });
    let toggle = Action::new(move |(name, enabled): &(String, bool)| set_app_enabled(name.clone(), *enabled));
    on_done(toggle, move |outcome| refused(outcome.map(|_| ())));
    let remove = Action::new(move |(name, id): &(String, i32)| revoke(name.clone(), *id));
    // The authorization whose Revoke is being confirmed: (id, what it lets the app call).
    let revoking = RwSignal::new(None::<(i32, String)>);
    on_done(remove, move |outcome| {
        revoking.set(None);
        refused(outcome)
    });
    let grant = Action::new(move |(app, spec): &(String, AuthorizeSpec)| authorize(app.clone(), spec.clone()));
    on_done(grant, move |outcome| {
        if outcome.is_ok() {
            asking.set(Asking::None);
        }
    });
    // Every change refetches the app and its authorizations.
    let changes =
        move || (reset.version().get(), toggle.version().get(), remove.version().get(), grant.version().get());
    let app = Resource::new(move || (name.get(), changes()), |(name, _)| get_app(name, false));
    let grants = Resource::new(move || (name.get(), changes()), |(name, _)| list_authorizations(name));

    let credentials = move |app: AppView| {
        let enabled = app.enabled;
        view! {
            <section class="card app-credentials" aria-label="Credentials">
                <dl>
                    <dt>"AppKey"</dt>
                    <dd>
                        <code data-testid="app-key">{app.app_key.clone()}</code>
                    </dd>
                    <dt>"AppSecret"</dt>
                    <dd>
                        {move || match secret.get() {
                            Some(value) => view! { <code data-testid="app-secret">{value}</code> }.into_any(),
                            None => {
                                view! {
                                    <span class="muted" data-testid="app-secret">"••••••••"</span>
                                    " "
                                    <IfAllowed when=Callback::new(|me: domain::roles::Me| me.grant.allows(domain::roles::Action::RevealSecret))>
                                        <button on:click=move |_| {
                                            reveal.dispatch(name.get_untracked());
                                        }>"Reveal"</button>
                                    </IfAllowed>
                                }
                                    .into_any()
                            }
                        }}
                    </dd>
                    <dt>"AppCode"</dt>
                    <dd>
                        {move || match code.get() {
                            Some(value) => view! { <code data-testid="app-code">{value}</code> }.into_any(),
                            None => view! { <span class="muted" data-testid="app-code">"••••••••"</span> }.into_any(),
                        }}
                    </dd>
                    <dt>"Status"</dt>
                    <dd>{if enabled { "Enabled" } else { "Disabled" }}</dd>
                </dl>
                <IfAllowed when=edits_shared()>
                    <div class="card-buttons">
                        <button on:click=move |_| asking.set(Asking::Reset(Credential::Secret))>"Reset Secret"</button>
                        <button on:click=move |_| asking.set(Asking::Reset(Credential::Code))>"Reset AppCode"</button>
                        <button
                            class=if enabled { "danger" } else { "" }
                            on:click=move |_| {
                                toggle.dispatch((name.get_untracked(), !enabled));
                            }
                        >
                            {if enabled { "Disable" } else { "Enable" }}
                        </button>
                    </div>
                </IfAllowed>
            </section>
        }
    };

    view! {
        <DetailHead section="Apps" href="/apps" name failure />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match app.await {
                    Ok(app) => credentials(app).into_any(),
                    Err(error) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <div class="page-head">
            <h2>"Authorizations"</h2>
            <IfAllowed when=Callback::new(|me: domain::roles::Me| me.grant.allows(domain::roles::Action::EditShared))>
                <button class="primary" on:click=move |_| asking.set(Asking::Authorize)>
                    "Authorize"
                </button>
            </IfAllowed>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match grants.await {
                    Ok(rows) if rows.is_empty() => {
                        view! { <p class="empty">"This app may not call any API yet."</p> }.into_any()
                    }
                    Ok(rows) => {
                        view! {
                            <table class="grid" aria-label="Authorizations">
                                <thead>
                                    <tr>
                                        <th>"Group"</th>
                                        <th>"API"</th>
                                        <th>"Environment"</th>
                                        <th>"Expires"</th>
                                        <th>"Actions"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows
                                        .into_iter()
                                        .map(|grant| {
                                            let id = grant.id;
                                            let what = format!(
                                                "{} / {} ({}) in {}",
                                                grant.group,
                                                grant.api_name,
                                                grant.api_route,
                                                grant.env.label()
                                            );
                                            let expires = match (&grant.expires_at, grant.expired) {
                                                (None, _) => "Never".to_owned(),
                                                (Some(at), false) => at.clone(),
                                                (Some(at), true) => format!("{at} (expired)"),
                                            };
                                            view! {
                                                <tr>
                                                    <td>{grant.group.clone()}</td>
                                                    <td>
                                                        {grant.api_name.clone()} " "
                                                        <code>{grant.api_route.clone()}</code>
                                                    </td>
                                                    <td>{grant.env.label()}</td>
                                                    <td>{expires}</td>
                                                    <td class="actions">
                                                        <IfAllowed when=edits_shared()>
                                                            <button
                                                                class="danger"
                                                                on:click={
                                                                    let what = what.clone();
                                                                    move |_| revoking.set(Some((id, what.clone())))
                                                                }
                                                            >
                                                                "Revoke"
                                                            </button>
                                                        </IfAllowed>
                                                    </td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || revoking.get().map(|(id, what)| view! {
            <Confirm
                title="Revoke Authorization"
                message=format!("Stop this app calling {what}? Its requests get 403 from the next one; nothing else changes.")
                confirm="Revoke"
                yes=Callback::new(move |()| { remove.dispatch((name.get_untracked(), id)); })
                no=Callback::new(move |()| revoking.set(None))
            />
        })}
        {move || match asking.get() {
            Asking::None => ().into_any(),
            Asking::Reset(credential) => {
                let (title, what) = match credential {
                    Credential::Secret => ("Reset Secret", "AppSecret: requests signed with the old secret"),
                    Credential::Code => ("Reset AppCode", "AppCode: requests with the old code"),
                };
                view! {
                    <Dialog title=title>
                        <p>"Replace the " {what} " are refused at once."</p>
                        <div class="dialog-buttons">
                            <button type="button" on:click=move |_| asking.set(Asking::None)>
                                "Cancel"
                            </button>
                            <button
                                class="danger"
                                on:click=move |_| {
                                    reset.dispatch((name.get_untracked(), credential));
                                }
                            >
                                "Reset"
                            </button>
                        </div>
                    </Dialog>
                }
                    .into_any()
            }
            Asking::Authorize => {
                view! {
                    <AuthorizeDialog
                        app=name.get_untracked()
                        save=grant
                        cancel=Callback::new(move |()| asking.set(Asking::None))
                    />
                }
                    .into_any()
            }
        }}
    }
}

/// Authorizes the app for APIs of one group in one environment, with an optional expiry.
#[component]
fn AuthorizeDialog(
    app: String,
    save: Action<(String, AuthorizeSpec), Result<Vec<AuthorizationView>, ConsoleError>>,
    cancel: Callback<()>,
) -> impl IntoView {
    let form = RwSignal::new(AuthorizeSpec { env: "test".into(), ..Default::default() });
    let errors: Errors = RwSignal::new(Vec::new());
    let groups = Resource::new(|| (), |_| list_groups());
    let group = Memo::new(move |_| form.with(|f| f.group.clone()));
    let apis = Resource::new(
        move || group.get(),
        |group| async move {
            if group.is_empty() {
                Ok(Vec::new())
            } else {
                list_apis(group, String::new(), 1, 200, None, false).await.map(|page| page.items)
            }
        },
    );
    on_done(save, move |outcome| {
        if let Err(error) = outcome {
            errors.set(error.field_errors());
        }
    });
    let expires = RwSignal::new(String::new());

    view! {
        <Dialog title="Authorize">
            <form on:submit=move |ev| {
                ev.prevent_default();
                let mut spec = form.get_untracked();
                let until = expires.get_untracked();
                spec.expires_at = (!until.trim().is_empty()).then_some(until);
                save.dispatch((app.clone(), spec));
            }>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        let mut choices = vec![(String::new(), "Choose a group".to_owned())];
                        choices.extend(groups.await.unwrap_or_default().into_iter().map(|g| (g.name.clone(), g.name)));
                        view! {
                            <SelectField
                                label="Group"
                                id="authorize-group"
                                field="group"
                                errors
                                options=choices
                                bound=bind(form, |f| f.group.clone(), |f, v| {
                                    f.group = v;
                                    f.apis.clear();
                                })
                            />
                        }
                    })}
                </Transition>
                <SelectField
                    label="Environment"
                    id="authorize-env"
                    field="env"
                    errors
                    options=opts(&[("test", "Test"), ("pre", "Pre-release"), ("prod", "Production")])
                    bound=bind(form, |f| f.env.clone(), |f, v| f.env = v)
                />
                <fieldset class="field" aria-describedby="authorize-apis-error">
                    <legend>"APIs"</legend>
                    <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            let rows = apis.await.unwrap_or_default();
                            if rows.is_empty() {
                                return view! { <p class="muted">"Pick a group with APIs."</p> }.into_any();
                            }
                            rows.into_iter()
                                .map(|api| {
                                    let id = api.id;
                                    let input_id = format!("authorize-api-{id}");
                                    let label_for = input_id.clone();
                                    view! {
                                        <div class="checkbox">
                                            <input
                                                type="checkbox"
                                                id=input_id
                                                prop:checked=move || form.with(|f| f.apis.contains(&id))
                                                on:change=move |ev| {
                                                    let on = event_target_checked(&ev);
                                                    form.update(|f| {
                                                        f.apis.retain(|a| *a != id);
                                                        if on {
                                                            f.apis.push(id);
                                                        }
                                                    });
                                                }
                                            />
                                            <label for=label_for>
                                                {api.spec.name.clone()} " " <code>{api.spec.request.method.clone()} " " {api.spec.request.path.clone()}</code>
                                            </label>
                                        </div>
                                    }
                                })
                                .collect_view()
                                .into_any()
                        })}
                    </Transition>
                    <FieldMessage errors field="apis" id="authorize-apis" />
                </fieldset>
                <div class="field">
                    <label for="authorize-expires">"Expires at (UTC, optional)"</label>
                    <input
                        id="authorize-expires"
                        type="datetime-local"
                        aria-describedby="authorize-expires-error"
                        prop:value=move || expires.get()
                        on:input=move |ev| expires.set(event_target_value(&ev))
                    />
                    <FieldMessage errors field="expires_at" id="authorize-expires" />
                </div>
                <OtherErrors errors shown=vec!["group".into(), "env".into(), "apis".into(), "expires_at".into()] />
                <FormButtons
                    submit="Authorize"
                    disabled=Signal::derive(move || save.pending().get())
                    cancel=cancel
                />
            </form>
        </Dialog>
    }
}
