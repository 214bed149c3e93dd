//! Custom domains of a group (shown under Deployment Management): extra host names callers
//! use, each optionally pinned to one environment so no `X-Ca-Stage` header is needed.

use crate::api::{add_domain, list_domains, remove_domain};
use crate::components::{bind, on_done, opts, Errors, OtherErrors, SelectField, TextField};
use domain::group::DomainSpec;
use domain::Environment;
use leptos::prelude::*;

/// The Custom domains section of a group.
#[component]
pub fn CustomDomains(group: Memo<String>) -> impl IntoView {
    let form = RwSignal::new((String::new(), String::new()));
    let errors: Errors = RwSignal::new(Vec::new());
    let failure = RwSignal::new(None::<String>);
    let add = Action::new(move |(group, host, env): &(String, String, String)| {
        let spec = DomainSpec { host: host.clone(), environment: env.parse::<Environment>().ok(), certificate: None };
        add_domain(group.clone(), spec)
    });
    on_done(add, move |outcome| match outcome {
        Ok(_) => {
            errors.set(Vec::new());
            form.set((String::new(), String::new()));
        }
        Err(error) => errors.set(error.field_errors()),
    });
    let remove = Action::new(move |(group, host): &(String, String)| remove_domain(group.clone(), host.clone()));
    on_done(remove, move |outcome| failure.set(outcome.err().map(|error| error.message())));
    let domains = Resource::new(
        move || (group.get(), add.version().get(), remove.version().get()),
        |(group, _, _)| list_domains(group),
    );
    let environments =
        opts(&[("", "Any (X-Ca-Stage)"), ("test", "Test"), ("pre", "Pre-release"), ("prod", "Production")]);
    view! {
        <h3>"Custom domains"</h3>
        {move || failure.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match domains.await {
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No custom domains."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="grid" aria-label="Custom domains">
                            <thead><tr><th>"Host"</th><th>"Environment"</th><th>"Actions"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|d| {
                                    let host = d.host.clone();
                                    view! {
                                        <tr>
                                            <td><code>{d.host.clone()}</code></td>
                                            <td>{d.environment.map(|e| e.label()).unwrap_or("Any (X-Ca-Stage)")}</td>
                                            <td class="actions">
                                                <button class="danger" on:click=move |_| { remove.dispatch((group.get_untracked(), host.clone())); }>"Remove"</button>
                                            </td>
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
        <form class="inline-form" on:submit=move |ev| {
            ev.prevent_default();
            let (host, env) = form.get_untracked();
            add.dispatch((group.get_untracked(), host, env));
        }>
            <div class="row">
                <TextField label="Host" id="domain-host" field="host" errors placeholder="api.example.com" bound=bind(form, |f| f.0.clone(), |f, v| f.0 = v) />
                <SelectField label="Domain environment" id="domain-environment" field="environment" errors options=environments bound=bind(form, |f| f.1.clone(), |f, v| f.1 = v) />
            </div>
            <OtherErrors errors shown=vec!["host".into(), "environment".into()] />
            <button type="submit" disabled=move || add.pending().get()>"Add Domain"</button>
        </form>
    }
}
