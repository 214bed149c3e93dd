//! A canary in Deployment Management: **Start Canary** / **Adjust Canary** (a second
//! version and its backend, taking a share of the callers or only those a rule matches,
//! sticky or not), **Promote** (it becomes the environment's version) and **Roll Back**.

use crate::api::{list_versions, promote_canary, rollback_canary, set_canary};
use crate::components::{bind, on_done, opts, Dialog, Errors, FormButtons, OtherErrors, SelectField, TextField};
use domain::canary::{CanaryMatch, CanarySpec};
use domain::release::{DeployBackend, DeploymentView};
use domain::FieldError;
use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq)]
struct Form {
    version: String,
    /// `same` (the live version's backend), `mock` or `http`.
    backend: String,
    address: String,
    weight: String,
    /// `everyone`, `app`, `header` or `ip`.
    rule: String,
    app: String,
    header_name: String,
    header_value: String,
    ip: String,
    sticky: bool,
    note: String,
}

impl Form {
    fn of(live: &DeploymentView) -> Form {
        let mut form = Form {
            version: String::new(),
            backend: "same".into(),
            address: String::new(),
            weight: "10".into(),
            rule: "everyone".into(),
            app: String::new(),
            header_name: String::new(),
            header_value: String::new(),
            ip: String::new(),
            sticky: false,
            note: String::new(),
        };
        if let Some(canary) = &live.canary {
            form.version = canary.version.clone();
            form.weight = canary.weight.to_string();
            form.sticky = canary.sticky;
            form.note = canary.note.clone();
            if canary.backend != live.backend {
                match &canary.backend {
                    DeployBackend::Http { address } => {
                        form.backend = "http".into();
                        form.address = address.clone();
                    }
                    DeployBackend::Mock => form.backend = "mock".into(),
                    DeployBackend::Service { .. } => {}
                }
            }
            match &canary.rule {
                None => {}
                Some(CanaryMatch::App(app)) => (form.rule, form.app) = ("app".into(), app.clone()),
                Some(CanaryMatch::Header { name, value }) => {
                    (form.rule, form.header_name, form.header_value) = ("header".into(), name.clone(), value.clone())
                }
                Some(CanaryMatch::Ip(range)) => (form.rule, form.ip) = ("ip".into(), range.clone()),
            }
        }
        form
    }

    /// The spec to send, or the field that does not parse here.
    fn spec(&self, live: &DeploymentView) -> Result<CanarySpec, FieldError> {
        let weight = match self.weight.trim() {
            "" => None,
            raw => Some(
                raw.trim_end_matches('%')
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| FieldError::new("weight", "must be a number of percent, such as 10 or 0.5"))?,
            ),
        };
        let backend = match self.backend.as_str() {
            "mock" => DeployBackend::Mock,
            "http" => DeployBackend::Http { address: self.address.clone() },
            _ => live.backend.clone(),
        };
        let rule = match self.rule.as_str() {
            "app" => Some(CanaryMatch::App(self.app.clone())),
            "header" => Some(CanaryMatch::Header { name: self.header_name.clone(), value: self.header_value.clone() }),
            "ip" => Some(CanaryMatch::Ip(self.ip.clone())),
            _ => None,
        };
        Ok(CanarySpec {
            version: self.version.clone(),
            backend,
            weight,
            rule,
            sticky: self.sticky,
            note: self.note.clone(),
        })
    }
}

/// Start Canary (or Adjust Canary when one runs).
#[component]
pub fn CanaryDialog(group: String, live: DeploymentView, closed: Callback<bool>) -> impl IntoView {
    let versions = Resource::new(
        {
            let group = group.clone();
            move || group.clone()
        },
        list_versions,
    );
    let env = live.environment;
    let title = if live.canary.is_some() { "Adjust Canary" } else { "Start Canary" };
    let form = RwSignal::new(Form::of(&live));
    let errors: Errors = RwSignal::new(Vec::new());
    let submit = Action::new(move |(group, spec): &(String, CanarySpec)| set_canary(group.clone(), env, spec.clone()));
    on_done(submit, move |outcome| match outcome {
        Ok(_) => closed.run(true),
        Err(error) => errors.set(error.field_errors()),
    });
    let serving = live.version.clone();
    let rules = opts(&[
        ("everyone", "A share of every caller"),
        ("app", "Callers of one app"),
        ("header", "Callers sending a header"),
        ("ip", "Callers from an address range"),
    ]);
    view! {
        <Dialog title=title>
            <form on:submit={
                let live = live.clone();
                move |ev| {
                    ev.prevent_default();
                    match form.get_untracked().spec(&live) {
                        Ok(spec) => {
                            submit.dispatch((group.clone(), spec));
                        }
                        Err(error) => errors.set(vec![error]),
                    }
                }
            }>
                <p>{format!("{} serves version {}; the canary answers the callers it takes.", env.label(), live.version)}</p>
                <Transition fallback=|| ()>
                    {move || {
                        let serving = serving.clone();
                        Suspend::new(async move {
                            let mut options = opts(&[("", "Choose a version")]);
                            if let Ok(list) = versions.await {
                                options.extend(list.into_iter().filter(|v| v.label != serving).map(|v| (v.label.clone(), v.label)));
                            }
                            view! { <SelectField label="Canary version" id="canary-version" field="version" errors options bound=bind(form, |f| f.version.clone(), |f, v| f.version = v) /> }
                        })
                    }}
                </Transition>
                <div class="row">
                    <SelectField label="Canary backend" id="canary-backend" field="backend" errors options=opts(&[("same", "Same as the live version"), ("mock", "Mock"), ("http", "HTTP/HTTPS")]) bound=bind(form, |f| f.backend.clone(), |f, v| f.backend = v) />
                    <Show when=move || form.with(|f| f.backend == "http")>
                        <TextField label="Canary backend address" id="canary-address" field="backend.address" errors placeholder="http://10.0.0.6:8080" bound=bind(form, |f| f.address.clone(), |f, v| f.address = v) />
                    </Show>
                </div>
                <div class="row">
                    <SelectField label="Callers" id="canary-rule" field="match" errors options=rules bound=bind(form, |f| f.rule.clone(), |f, v| f.rule = v) />
                    <TextField label="Share (%)" id="canary-weight" field="weight" errors placeholder="10" bound=bind(form, |f| f.weight.clone(), |f, v| f.weight = v) />
                </div>
                <Show when=move || form.with(|f| f.rule == "app")>
                    <TextField label="App" id="canary-app" field="match.app" errors placeholder="web" bound=bind(form, |f| f.app.clone(), |f, v| f.app = v) />
                </Show>
                <Show when=move || form.with(|f| f.rule == "header")>
                    <div class="row">
                        <TextField label="Header name" id="canary-header-name" field="match.header.name" errors placeholder="x-canary" bound=bind(form, |f| f.header_name.clone(), |f, v| f.header_name = v) />
                        <TextField label="Header value" id="canary-header-value" field="match.header.value" errors placeholder="1" bound=bind(form, |f| f.header_value.clone(), |f, v| f.header_value = v) />
                    </div>
                </Show>
                <Show when=move || form.with(|f| f.rule == "ip")>
                    <TextField label="Address range" id="canary-ip" field="match.ip" errors placeholder="10.0.0.0/8" bound=bind(form, |f| f.ip.clone(), |f, v| f.ip = v) />
                </Show>
                <p class="hint">"With a rule, the share applies to the callers it matches (leave 100 for all of them)."</p>
                <span class="checkbox">
                    <input type="checkbox" id="canary-sticky" prop:checked=move || form.with(|f| f.sticky) on:change=move |ev| form.update(|f| f.sticky = event_target_checked(&ev)) />
                    <label for="canary-sticky">"Sticky (the same caller always gets the same version)"</label>
                </span>
                <TextField label="Note" id="canary-note" field="note" errors bound=bind(form, |f| f.note.clone(), |f, v| f.note = v) />
                <OtherErrors errors shown=vec!["version".into(), "backend".into(), "backend.address".into(), "match".into(), "weight".into(), "match.app".into(), "match.header.name".into(), "match.header.value".into(), "match.ip".into(), "note".into()] />
                <FormButtons submit=if live.canary.is_some() { "Save" } else { "Start" } disabled=Signal::derive(move || submit.pending().get()) cancel=Callback::new(move |()| closed.run(false)) />
            </form>
        </Dialog>
    }
}

/// Promote or Roll Back: asks first, saying what changes for callers.
#[component]
pub fn CanaryDecisionDialog(
    group: String,
    live: DeploymentView,
    promote: bool,
    closed: Callback<bool>,
) -> impl IntoView {
    let env = live.environment;
    let failure = RwSignal::new(None::<String>);
    let submit = Action::new(move |group: &String| {
        let group = group.clone();
        async move {
            if promote {
                promote_canary(group, env).await.map(|_| ())
            } else {
                rollback_canary(group, env).await
            }
        }
    });
    on_done(submit, move |outcome| match outcome {
        Ok(()) => closed.run(true),
        Err(error) => failure.set(Some(error.message())),
    });
    let canary = live.canary.as_ref().map(|c| c.version.clone()).unwrap_or_default();
    let (title, text, button) = if promote {
        (
            "Promote Canary",
            format!("Every caller of {} gets version {canary} (it replaces {}).", env.label(), live.version),
            "Promote",
        )
    } else {
        (
            "Roll Back Canary",
            format!("Every caller of {} gets version {} again; {canary} stops serving.", env.label(), live.version),
            "Roll Back",
        )
    };
    view! {
        <Dialog title=title>
            <p>{text}</p>
            {move || failure.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <div class="form-buttons">
                <button type="button" on:click=move |_| closed.run(false)>"Cancel"</button>
                <button class=if promote { "primary" } else { "danger" } disabled=move || submit.pending().get() on:click=move |_| { submit.dispatch(group.clone()); }>{button}</button>
            </div>
        </Dialog>
    }
}
