//! **Publish** from the API (its API List row and its page): one API's draft goes live in
//! an environment beside what is live there, as a new version labelled automatically
//! (`Control::release_api`); the rest of the draft stays unreleased.

use crate::api::release_api;
use crate::components::{bind, on_done, opts, Dialog, Errors, FormButtons, OtherErrors, SelectField, TextField};
use crate::pages::release::ENVIRONMENTS;
use domain::release::{ApiReleaseSpec, DeployBackend};
use domain::Environment;
use leptos::prelude::*;

/// What the dialog's fields hold.
#[derive(Clone, Debug, PartialEq)]
struct Form {
    env: String,
    label: String,
    /// `live` (the live deployment's backend), `mock` or `http`.
    backend: String,
    address: String,
    note: String,
}

impl Form {
    fn spec(&self) -> ApiReleaseSpec {
        let backend = match self.backend.as_str() {
            "mock" => Some(DeployBackend::Mock),
            "http" => Some(DeployBackend::Http { address: self.address.trim().to_owned() }),
            _ => None,
        };
        let label = Some(self.label.trim().to_owned()).filter(|l| !l.is_empty());
        ApiReleaseSpec { label, backend, note: self.note.clone() }
    }
}

/// The dialog ("Publish", Alibaba's word for releasing one API: "Release" is the group's);
/// `closed` is told whether the API was released.
#[component]
pub fn ReleaseApiDialog(group: String, api_id: i32, api_name: String, closed: Callback<bool>) -> impl IntoView {
    let form = RwSignal::new(Form {
        env: "test".into(),
        label: String::new(),
        backend: "live".into(),
        address: String::new(),
        note: String::new(),
    });
    let errors: Errors = RwSignal::new(Vec::new());
    let done = RwSignal::new(None::<String>);
    let save = Action::new(move |(group, env, spec): &(String, Environment, ApiReleaseSpec)| {
        release_api(group.clone(), api_id, *env, spec.clone())
    });
    on_done(save, move |outcome| match outcome {
        Ok(deployment) => {
            done.set(Some(format!("Version {} is live in {}.", deployment.version, deployment.environment.label())))
        }
        Err(error) => errors.set(error.field_errors()),
    });
    view! {
        <Dialog title=format!("Publish {api_name}")>
            {move || match done.get() {
                Some(message) => view! {
                    <p role="status">{message}</p>
                    <div class="dialog-buttons">
                        <button class="primary" type="button" on:click=move |_| closed.run(true)>"Close"</button>
                    </div>
                }.into_any(),
                None => {
                    let group = group.clone();
                    view! {
                    <p class="hint">
                        "Only this API's draft goes live, beside the APIs already live there; the rest of the draft stays as it is. "
                        "A new version records it, labelled after the live one unless you give a label."
                    </p>
                    <form on:submit=move |ev| {
                        ev.prevent_default();
                        let f = form.get_untracked();
                        let env = f.env.parse::<Environment>().unwrap_or(Environment::Test);
                        save.dispatch((group.clone(), env, f.spec()));
                    }>
                        <SelectField label="Environment" id="api-release-env" field="env" errors options=opts(&ENVIRONMENTS) bound=bind(form, |f| f.env.clone(), |f, v| f.env = v) />
                        <TextField label="Version label (optional)" id="api-release-label" field="label" errors placeholder="automatic" bound=bind(form, |f| f.label.clone(), |f, v| f.label = v) />
                        <SelectField
                            label="Backend"
                            id="api-release-backend"
                            field="backend"
                            errors
                            options=opts(&[("live", "As live now"), ("mock", "Mock"), ("http", "HTTP/HTTPS address")])
                            bound=bind(form, |f| f.backend.clone(), |f, v| f.backend = v)
                        />
                        <Show when=move || form.with(|f| f.backend == "http")>
                            <TextField label="Backend address" id="api-release-address" field="backend.address" errors placeholder="http://10.0.0.5:8080" bound=bind(form, |f| f.address.clone(), |f, v| f.address = v) />
                        </Show>
                        <TextField label="Note" id="api-release-note" field="note" errors bound=bind(form, |f| f.note.clone(), |f, v| f.note = v) />
                        <OtherErrors errors shown=vec!["env".into(), "label".into(), "backend".into(), "backend.address".into(), "note".into()] />
                        <FormButtons submit="Publish" disabled=Signal::derive(move || save.pending().get()) cancel=Callback::new(move |()| closed.run(false)) />
                    </form>
                    }.into_any()
                }
            }}
        </Dialog>
    }
}

/// The API page's **Publish** button and its dialog (shown to those who may release the group
/// somewhere).
#[component]
pub fn PublishButton(group: String, api_id: i32, api_name: String) -> impl IntoView {
    let open = RwSignal::new(false);
    let closed = Callback::new(move |_: bool| open.set(false));
    let group_memo = Memo::new({
        let group = group.clone();
        move |_| group.clone()
    });
    view! {
        <crate::components::IfAllowed when=crate::pages::release::may_release(group_memo)>
            <div class="toolbar-buttons">
                <button on:click=move |_| open.set(true)>"Publish"</button>
            </div>
        </crate::components::IfAllowed>
        {move || open.get().then(|| view! { <ReleaseApiDialog group=group.clone() api_id api_name=api_name.clone() closed /> })}
    }
}
