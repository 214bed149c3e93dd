//! The Release dialog (from the API List, with a new version frozen from the draft, or from a
//! row of the Version Modification List, with that version) and the Switch Version and
//! Off-line dialogs of Deployment Management.

use crate::api::{diff_versions, list_versions, release, take_offline, ReleaseVersion};
use crate::components::{bind, on_done, opts, Dialog, Errors, FormButtons, OtherErrors, SelectField, TextField};
use domain::release::{DeployBackend, DeploymentView, VersionSpec};
use domain::Environment;
use leptos::prelude::*;

/// Whether the user may release the group to at least one environment (the **Release**
/// buttons show only then).
pub fn may_release(group: Memo<String>) -> Callback<domain::roles::Me, bool> {
    Callback::new(move |me: domain::roles::Me| {
        let group = group.get_untracked();
        Environment::ALL.into_iter().any(|env| me.may_deploy(&group, env))
    })
}

/// The environments as the selects list them.
pub const ENVIRONMENTS: [(&str, &str); 3] = [("test", "Test"), ("pre", "Pre-release"), ("prod", "Production")];

#[derive(Clone, Debug, PartialEq)]
struct Form {
    new_version: bool,
    label: String,
    description: String,
    existing: String,
    environment: String,
    backend: String,
    address: String,
    service: String,
    note: String,
}

/// The Release dialog. `version` preselects an existing version; `closed` is told whether
/// something was released.
#[component]
pub fn ReleaseDialog(group: String, version: Option<String>, closed: Callback<bool>) -> impl IntoView {
    let versions = Resource::new(
        {
            let group = group.clone();
            move || group.clone()
        },
        list_versions,
    );
    let form = RwSignal::new(Form {
        new_version: version.is_none(),
        label: String::new(),
        description: String::new(),
        existing: version.clone().unwrap_or_default(),
        environment: "test".into(),
        backend: "mock".into(),
        address: String::new(),
        service: String::new(),
        note: String::new(),
    });
    let services = Resource::new(|| (), |_| crate::api::list_services());
    let errors: Errors = RwSignal::new(Vec::new());
    let submit = Action::new(move |(group, form): &(String, Form)| {
        let version = if form.new_version {
            ReleaseVersion::New(VersionSpec { label: form.label.clone(), description: form.description.clone() })
        } else {
            ReleaseVersion::Existing(form.existing.clone())
        };
        let backend = match form.backend.as_str() {
            "http" => DeployBackend::Http { address: form.address.clone() },
            "service" => DeployBackend::Service { service: form.service.clone() },
            _ => DeployBackend::Mock,
        };
        let environment = form.environment.parse::<Environment>().unwrap_or(Environment::Test);
        release(group.clone(), environment, version, backend, form.note.clone())
    });
    on_done(submit, move |outcome| match outcome {
        Ok(_) => closed.run(true),
        Err(error) => errors.set(error.field_errors()),
    });
    let choose = move |new: bool| form.update(|f| f.new_version = new);
    view! {
        <Dialog title="Release">
            <form on:submit=move |ev| {
                ev.prevent_default();
                submit.dispatch((group.clone(), form.get_untracked()));
            }>
                <fieldset class="backend-type">
                    <legend>"Version"</legend>
                    <span class="radio">
                        <input type="radio" name="release-version" id="release-new" prop:checked=move || form.with(|f| f.new_version) on:change=move |_| choose(true) />
                        <label for="release-new">"New version from the draft"</label>
                    </span>
                    <span class="radio">
                        <input type="radio" name="release-version" id="release-existing" prop:checked=move || form.with(|f| !f.new_version) on:change=move |_| choose(false) />
                        <label for="release-existing">"Existing version"</label>
                    </span>
                </fieldset>
                <Show
                    when=move || form.with(|f| f.new_version)
                    fallback=move || view! {
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                let mut options = opts(&[("", "Choose a version")]);
                                if let Ok(list) = versions.await {
                                    options.extend(list.into_iter().map(|v| (v.label.clone(), v.label)));
                                }
                                view! { <SelectField label="Version" id="release-existing-version" field="version" errors options bound=bind(form, |f| f.existing.clone(), |f, v| f.existing = v) /> }
                            })}
                        </Transition>
                    }
                >
                    <div class="row">
                        <TextField label="Version label" id="release-label" field="label" errors placeholder="1.0.0" bound=bind(form, |f| f.label.clone(), |f, v| f.label = v) />
                        <TextField label="Version description" id="release-description" field="description" errors bound=bind(form, |f| f.description.clone(), |f, v| f.description = v) />
                    </div>
                </Show>
                <div class="row">
                    <SelectField label="Environment" id="release-environment" field="environment" errors options=opts(&ENVIRONMENTS) bound=bind(form, |f| f.environment.clone(), |f, v| f.environment = v) />
                    <SelectField label="Backend" id="release-backend" field="backend" errors options=opts(&[("mock", "Mock"), ("http", "HTTP/HTTPS"), ("service", "Backend service")]) bound=bind(form, |f| f.backend.clone(), |f, v| f.backend = v) />
                </div>
                <p class="hint">"The backend applies to APIs under unified configuration; others keep their own."</p>
                <Show when=move || form.with(|f| f.backend == "http")>
                    <TextField label="Backend address" id="release-address" field="backend.address" errors placeholder="http://10.0.0.5:8080" bound=bind(form, |f| f.address.clone(), |f, v| f.address = v) />
                </Show>
                <Show when=move || form.with(|f| f.backend == "service")>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let mut choices = vec![(String::new(), "Choose a backend service".to_owned())];
                            choices.extend(services.await.unwrap_or_default().into_iter().map(|s| {
                                let text = format!("{} ({})", s.name, s.kind.label());
                                (s.name, text)
                            }));
                            view! { <SelectField label="Backend service" id="release-service" field="backend.service" errors options=choices bound=bind(form, |f| f.service.clone(), |f, v| f.service = v) /> }
                        })}
                    </Transition>
                </Show>
                <TextField label="Note" id="release-note" field="note" errors bound=bind(form, |f| f.note.clone(), |f, v| f.note = v) />
                <OtherErrors errors shown=vec!["label".into(), "description".into(), "environment".into(), "backend".into(), "backend.address".into(), "backend.service".into(), "note".into()] />
                <FormButtons submit="Release" disabled=Signal::derive(move || submit.pending().get()) cancel=Callback::new(move |()| closed.run(false)) />
            </form>
        </Dialog>
    }
}

/// Switch Version: pick another version for an environment, seeing its changes against the
/// live one; the backend stays.
#[component]
pub fn SwitchDialog(group: String, live: DeploymentView, closed: Callback<bool>) -> impl IntoView {
    let versions = Resource::new(
        {
            let group = group.clone();
            move || group.clone()
        },
        list_versions,
    );
    let chosen = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(Vec::new());
    let env = live.environment;
    let diff = Resource::new(
        {
            let group = group.clone();
            move || (group.clone(), chosen.get())
        },
        move |(group, to)| async move {
            if to.is_empty() {
                Ok(None)
            } else {
                diff_versions(group, env.as_str().to_owned(), to).await.map(Some)
            }
        },
    );
    let backend = live.backend.clone();
    let submit = Action::new(move |(group, label): &(String, String)| {
        release(group.clone(), env, ReleaseVersion::Existing(label.clone()), backend.clone(), "switch".into())
    });
    on_done(submit, move |outcome| match outcome {
        Ok(_) => closed.run(true),
        Err(error) => errors.set(error.field_errors()),
    });
    let current = live.version.clone();
    view! {
        <Dialog title="Switch Version">
            <form on:submit=move |ev| {
                ev.prevent_default();
                submit.dispatch((group.clone(), chosen.get_untracked()));
            }>
                <p>{format!("{} is serving version {}.", env.label(), live.version)}</p>
                <Transition fallback=|| ()>
                    {move || {
                        let current = current.clone();
                        Suspend::new(async move {
                            let mut options = opts(&[("", "Choose a version")]);
                            if let Ok(list) = versions.await {
                                options.extend(list.into_iter().filter(|v| v.label != current).map(|v| (v.label.clone(), v.label)));
                            }
                            view! { <SelectField label="Version" id="switch-version" field="version" errors options bound=bind(chosen, |c| c.clone(), |c, v| *c = v) /> }
                        })
                    }}
                </Transition>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        diff.await.ok().flatten().map(|d| view! {
                            <div class="diff">
                                <p class="muted">{format!("Against the live version: {}", d.summary())}</p>
                                <ul>
                                    {d.changed.into_iter().flat_map(|c| c.fields.into_iter().map(move |f| (c.name.clone(), f))).map(|(name, f)| view! {
                                        <li><code>{format!("{name}: {}", f.field)}</code></li>
                                    }).collect_view()}
                                </ul>
                            </div>
                        })
                    })}
                </Transition>
                <OtherErrors errors shown=vec!["version".into()] />
                <FormButtons submit="Switch" disabled=Signal::derive(move || submit.pending().get() || chosen.with(String::is_empty)) cancel=Callback::new(move |()| closed.run(false)) />
            </form>
        </Dialog>
    }
}

/// Off-line: asks first, then stops serving the group in the environment.
#[component]
pub fn OfflineDialog(group: String, live: DeploymentView, closed: Callback<bool>) -> impl IntoView {
    let env = live.environment;
    let failure = RwSignal::new(None::<String>);
    let submit = Action::new(move |group: &String| take_offline(group.clone(), env));
    on_done(submit, move |outcome| match outcome {
        Ok(()) => closed.run(true),
        Err(error) => failure.set(Some(error.message())),
    });
    view! {
        <Dialog title="Off-line">
            <p>{format!("Take {group} off-line in {}? Version {} stops being served at once.", env.label(), live.version)}</p>
            {move || failure.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <div class="dialog-buttons">
                <button type="button" on:click=move |_| closed.run(false)>"Cancel"</button>
                <button class="danger" on:click=move |_| { submit.dispatch(group.clone()); }>"Off-line"</button>
            </div>
        </Dialog>
    }
}
