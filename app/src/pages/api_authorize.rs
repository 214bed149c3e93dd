//! **Authorize** from the API (its API List row and its page): pick the environment, the
//! apps and an optional expiry; all of them are authorized in one transaction, or none.

use crate::api::{authorize_apps, list_apps};
use crate::components::{bind, on_done, opts, Dialog, Errors, FieldMessage, FormButtons, OtherErrors, SelectField};
use domain::app::ApiAuthorizeSpec;
use leptos::prelude::*;

/// The dialog; `closed` is told whether something was authorized.
#[component]
pub fn AuthorizeApiDialog(group: String, api_id: i32, api_name: String, closed: Callback<bool>) -> impl IntoView {
    let apps = Resource::new(|| (), |_| list_apps());
    let form = RwSignal::new(ApiAuthorizeSpec { apps: Vec::new(), env: "test".into(), expires_at: None });
    let expires = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(Vec::new());
    let save = Action::new(move |(group, spec): &(String, ApiAuthorizeSpec)| {
        authorize_apps(group.clone(), api_id, spec.clone())
    });
    on_done(save, move |outcome| match outcome {
        Ok(_) => closed.run(true),
        Err(error) => errors.set(error.field_errors()),
    });
    view! {
        <Dialog title=format!("Authorize {api_name}")>
            <form on:submit=move |ev| {
                ev.prevent_default();
                let mut spec = form.get_untracked();
                let until = expires.get_untracked();
                spec.expires_at = (!until.trim().is_empty()).then_some(until);
                save.dispatch((group.clone(), spec));
            }>
                <SelectField
                    label="Environment"
                    id="api-authorize-env"
                    field="env"
                    errors
                    options=opts(&[("test", "Test"), ("pre", "Pre-release"), ("prod", "Production")])
                    bound=bind(form, |f| f.env.clone(), |f, v| f.env = v)
                />
                <fieldset class="field" aria-describedby="api-authorize-apps-error">
                    <legend>"Apps"</legend>
                    <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            let rows = apps.await.unwrap_or_default();
                            if rows.is_empty() {
                                return view! { <p class="muted">"No apps yet: create one under " <a href="/apps">"Apps"</a> "."</p> }.into_any();
                            }
                            rows.into_iter()
                                .map(|app| {
                                    let name = app.name.clone();
                                    let input_id = format!("api-authorize-app-{}", app.id);
                                    let label_for = input_id.clone();
                                    let checked = name.clone();
                                    view! {
                                        <div class="checkbox">
                                            <input
                                                type="checkbox"
                                                id=input_id
                                                prop:checked=move || form.with(|f| f.apps.contains(&checked))
                                                on:change=move |ev| {
                                                    let on = event_target_checked(&ev);
                                                    let name = name.clone();
                                                    form.update(|f| {
                                                        f.apps.retain(|a| *a != name);
                                                        if on {
                                                            f.apps.push(name);
                                                        }
                                                    });
                                                }
                                            />
                                            <label for=label_for>{app.name.clone()}</label>
                                        </div>
                                    }
                                })
                                .collect_view()
                                .into_any()
                        })}
                    </Transition>
                    <FieldMessage errors field="apps" id="api-authorize-apps" />
                </fieldset>
                <div class="field">
                    <label for="api-authorize-expires">"Expires at (UTC, optional)"</label>
                    <input
                        id="api-authorize-expires"
                        type="datetime-local"
                        aria-describedby="api-authorize-expires-error"
                        prop:value=move || expires.get()
                        on:input=move |ev| expires.set(event_target_value(&ev))
                    />
                    <FieldMessage errors field="expires_at" id="api-authorize-expires" />
                </div>
                <OtherErrors errors shown=vec!["env".into(), "apps".into(), "expires_at".into()] />
                <FormButtons submit="Authorize" disabled=Signal::derive(move || save.pending().get()) cancel=Callback::new(move |()| closed.run(false)) />
            </form>
        </Dialog>
    }
}
