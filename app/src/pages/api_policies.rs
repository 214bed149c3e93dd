//! An API's **Policies** tab (`/groups/:group/apis/:id/policies`): the traffic policies that
//! reach the API in each environment, its own bindings and its group's, with which one the
//! gateway follows; **Bind Policy** binds one to this API in an environment, **Unbind** (asking
//! first) removes one of the API's own. Group-wide bindings are changed on the policy's page.

use crate::api::{bind_policy, get_api, group_policies, list_policies, unbind_policy};
use crate::components::{
    bind, edits_shared, on_done, opts, Dialog, Errors, FormButtons, IfAllowed, OtherErrors, SelectField,
};
use crate::pages::group::group_param;
use domain::policy::{reaching_api, ApiBinding, BindingSpec};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

/// The tabs of an existing API's page: **Definition** (the editor), **Policies**,
/// **Monitoring**, and a **Debug API** link (the Debug page with this API chosen).
#[component]
pub fn ApiTabs(group: String, id: i32) -> impl IntoView {
    let base = format!("/groups/{group}/apis/{id}");
    view! {
        <nav class="tabs" aria-label="API">
            <A href=base.clone() exact=true>"Definition"</A>
            <A href=format!("{base}/policies") exact=true>"Policies"</A>
            <A href=format!("{base}/monitoring") exact=true>"Monitoring"</A>
            <a href=format!("/debug?group={group}&api={id}")>"Debug API"</a>
        </nav>
    }
}

#[derive(Clone)]
enum Asking {
    None,
    Bind,
    Unbind(String, i32, String),
}

/// `/groups/:group/apis/:id/policies`
#[component]
pub fn ApiPoliciesPage() -> impl IntoView {
    let group = group_param();
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|id| id.parse::<i32>().ok()).unwrap_or(0));
    let asking = RwSignal::new(Asking::None);
    let failure = RwSignal::new(None::<String>);
    let errors: Errors = RwSignal::new(Vec::new());
    // (policy name, environment) of the Bind Policy dialog.
    let choice = RwSignal::new((String::new(), "test".to_owned()));

    let attach = Action::new(move |(name, spec): &(String, BindingSpec)| bind_policy(name.clone(), spec.clone()));
    on_done(attach, move |outcome| match outcome {
        Ok(_) => asking.set(Asking::None),
        Err(error) => errors.set(error.field_errors()),
    });
    let detach = Action::new(move |(name, binding): &(String, i32)| unbind_policy(name.clone(), *binding));
    on_done(detach, move |outcome| {
        asking.set(Asking::None);
        failure.set(outcome.err().map(|error| error.message()));
    });
    let api = Resource::new(move || (group.get(), id.get()), |(group, id)| get_api(group, id));
    let reaching = Resource::new(
        move || (group.get(), id.get(), attach.version().get(), detach.version().get()),
        |(group, id, _, _)| async move { group_policies(group).await.map(|all| reaching_api(&all, id)) },
    );
    let policies = Resource::new(|| (), |_| list_policies());

    view! {
        {move || view! { <ApiTabs group=group.get() id=id.get() /> }}
        <div class="page-head">
            <h2>
                "Policies of "
                <Transition fallback=|| "this API">
                    {move || Suspend::new(async move { api.await.map(|a| a.spec.name).unwrap_or_else(|_| "this API".into()) })}
                </Transition>
            </h2>
            <IfAllowed when=edits_shared()>
                <button class="primary" on:click=move |_| { errors.set(Vec::new()); asking.set(Asking::Bind); }>"Bind Policy"</button>
            </IfAllowed>
        </div>
        <p class="hint">
            "A binding takes effect on the gateway's next request, without a release. "
            "This API's own binding wins over its group's of the same type in the same environment."
        </p>
        {move || failure.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match reaching.await {
                    Ok(rows) if rows.is_empty() => view! {
                        <p class="empty">"No policy reaches this API in any environment."</p>
                    }.into_any(),
                    Ok(rows) => view! {
                        <table class="grid" aria-label="Policies">
                            <thead><tr><th>"Environment"</th><th>"Type"</th><th>"Policy"</th><th>"Bound to"</th><th>"In force"</th><th></th></tr></thead>
                            <tbody>{rows.into_iter().map(|row| policy_row(row, asking)).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <p class="error">{error.message()}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || match asking.get() {
            Asking::None => ().into_any(),
            Asking::Unbind(policy, binding, env) => view! {
                <Dialog title="Unbind">
                    <p>{format!("Stop applying policy {policy} to this API in {env}? It takes effect at once.")}</p>
                    <div class="dialog-buttons">
                        <button type="button" on:click=move |_| asking.set(Asking::None)>"Cancel"</button>
                        <button class="danger" on:click={
                            let policy = policy.clone();
                            move |_| { detach.dispatch((policy.clone(), binding)); }
                        }>"Unbind"</button>
                    </div>
                </Dialog>
            }.into_any(),
            Asking::Bind => view! {
                <Dialog title="Bind Policy">
                    <form on:submit=move |ev| {
                        ev.prevent_default();
                        let (name, env) = choice.get_untracked();
                        if name.is_empty() {
                            errors.set(vec![domain::FieldError::new("policy", "choose a policy")]);
                            return;
                        }
                        let spec = BindingSpec { group: group.get_untracked(), api: Some(id.get_untracked()), env };
                        attach.dispatch((name, spec));
                    }>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                let mut options = vec![(String::new(), "Choose a policy".to_owned())];
                                options.extend(policies.await.unwrap_or_default().into_iter().map(|p| {
                                    let label = format!("{} ({})", p.name, p.kind.label());
                                    (p.name, label)
                                }));
                                view! { <SelectField label="Policy" id="api-bind-policy" field="policy" errors options bound=bind(choice, |c| c.0.clone(), |c, v| c.0 = v) /> }
                            })}
                        </Transition>
                        <SelectField label="Environment" id="api-bind-env" field="env" errors options=opts(&crate::pages::release::ENVIRONMENTS) bound=bind(choice, |c| c.1.clone(), |c, v| c.1 = v) />
                        <OtherErrors errors shown=vec!["policy".into(), "env".into()] />
                        <FormButtons submit="Bind" disabled=Signal::derive(move || attach.pending().get()) cancel=Callback::new(move |()| asking.set(Asking::None)) />
                    </form>
                </Dialog>
            }.into_any(),
        }}
    }
}

fn policy_row(row: ApiBinding, asking: RwSignal<Asking>) -> impl IntoView {
    let ApiBinding { binding, in_force } = row;
    let href = format!("/policies/{}", binding.policy);
    let env = binding.env.label();
    let action = match binding.api {
        Some(_) => {
            let (policy, id) = (binding.policy.clone(), binding.id);
            view! {
                <IfAllowed when=edits_shared()>
                    {
                        let policy = policy.clone();
                        view! { <button on:click=move |_| asking.set(Asking::Unbind(policy.clone(), id, env.to_owned()))>"Unbind"</button> }
                    }
                </IfAllowed>
            }
            .into_any()
        }
        None => view! { <a href=href.clone()>"Change on the policy's page"</a> }.into_any(),
    };
    view! {
        <tr>
            <td>{env}</td>
            <td>{binding.kind.label()}</td>
            <td><a href=href>{binding.policy.clone()}</a></td>
            <td>{if binding.api.is_some() { "This API" } else { "Whole group" }}</td>
            <td>{if in_force { "Yes" } else { "No: this API's own wins" }}</td>
            <td class="actions">{action}</td>
        </tr>
    }
}
