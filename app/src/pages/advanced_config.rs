//! The Advanced Configuration dialog of the API List: whether the API follows the group's
//! release (*Unified configuration at the time of releasing groups*) or picks its own
//! backend: HTTP/HTTPS, Mock or Function.

use crate::api::save_api;
use crate::components::{bind, on_done, Dialog, Errors, FormButtons, OtherErrors, SelectField, TextField};
use domain::api::{ApiSpec, BackendType};
use domain::views::ApiView;
use leptos::prelude::*;

/// The dialog; `closed` is told whether something was saved.
#[component]
pub fn AdvancedConfiguration(group: String, api: ApiView, closed: Callback<bool>) -> impl IntoView {
    let spec = RwSignal::new(api.spec.clone());
    let services = Resource::new(|| (), |_| crate::api::list_services());
    let errors: Errors = RwSignal::new(Vec::new());
    let id = api.id;
    let save = Action::new(move |spec: &ApiSpec| save_api(group.clone(), Some(id), spec.clone()));
    on_done(save, move |outcome| match outcome {
        Ok(_) => closed.run(true),
        Err(error) => errors.set(error.field_errors()),
    });
    // Memos: the sections below re-render when these change, not at every keystroke in a
    // field (which would replace the field being typed in).
    let unified = Memo::new(move |_| spec.with(|s| s.backend.unified));
    let kind = Memo::new(move |_| spec.with(|s| s.backend.kind));
    let radio = move |value: BackendType, id: &'static str| {
        view! {
            <span class="radio">
                <input
                    type="radio"
                    name="backend-type"
                    id=id
                    prop:checked=move || kind.get() == value
                    on:change=move |_| spec.update(|s| s.backend.kind = value)
                />
                <label for=id>{value.label()}</label>
            </span>
        }
    };
    view! {
        <Dialog title="Advanced Configuration">
            <form on:submit=move |ev| {
                ev.prevent_default();
                save.dispatch(spec.get_untracked());
            }>
                <p class="muted">
                    {api.spec.name.clone()} " · " {api.spec.request.method.clone()} " "
                    <code>{api.spec.request.path.clone()}</code>
                </p>
                <div class="checkbox">
                    <input
                        type="checkbox"
                        id="backend-unified"
                        prop:checked=move || unified.get()
                        on:change=move |ev| spec.update(|s| s.backend.unified = event_target_checked(&ev))
                    />
                    <label for="backend-unified">"Unified configuration at the time of releasing groups"</label>
                </div>
                <p class="hint">
                    "Checked: the backend (Mock or an HTTP/HTTPS address) is chosen when the group is released. "
                    "Unchecked: this API uses the backend below."
                </p>
                <Show when=move || !unified.get()>
                    <fieldset class="backend-type">
                        <legend>"Backend type"</legend>
                        {radio(BackendType::Http, "backend-type-http")}
                        {radio(BackendType::Mock, "backend-type-mock")}
                        {radio(BackendType::Function, "backend-type-function")}
                    </fieldset>
                    {move || match kind.get() {
                        BackendType::Http => view! {
                            <TextField
                                label="Backend address"
                                id="backend-address"
                                field="backend.http.address"
                                errors
                                placeholder="https://api.example.com:8443"
                                bound=bind(spec, |s| s.backend.http.address.clone().unwrap_or_default(), |s, v| s.backend.http.address = Some(v).filter(|v| !v.trim().is_empty()))
                            />
                            <Transition fallback=|| ()>
                                {move || Suspend::new(async move {
                                    let mut choices = vec![(String::new(), "None: use the address".to_owned())];
                                    choices.extend(services.await.unwrap_or_default().into_iter().map(|s| {
                                        let text = format!("{} ({})", s.name, s.kind.label());
                                        (s.name, text)
                                    }));
                                    view! {
                                        <SelectField
                                            label="Backend service"
                                            id="backend-service"
                                            field="backend.http.service"
                                            errors
                                            options=choices
                                            bound=bind(spec, |s| s.backend.http.service.clone().unwrap_or_default(), |s, v| s.backend.http.service = Some(v).filter(|v| !v.trim().is_empty()))
                                        />
                                    }
                                })}
                            </Transition>
                        }
                        .into_any(),
                        BackendType::Mock => view! {
                            <TextField
                                label="Mock status"
                                id="mock-status"
                                field="backend.mock.status"
                                errors
                                number=true
                                bound=bind(spec, |s| s.backend.mock.status.to_string(), |s, v| s.backend.mock.status = v.trim().parse().unwrap_or(0))
                            />
                            <TextField
                                label="Mock response body"
                                id="mock-body"
                                field="backend.mock.body"
                                errors
                                multiline=true
                                code=true
                                bound=bind(spec, |s| s.backend.mock.body.clone(), |s, v| s.backend.mock.body = v)
                            />
                        }
                        .into_any(),
                        BackendType::Function => view! {
                            <TextField
                                label="Function code"
                                id="function-code"
                                field="backend.function.code"
                                errors
                                multiline=true
                                code=true
                                placeholder="export default function handler(req) {\n    return { status: 200, body: { hello: req.path } };\n}"
                                bound=bind(spec, |s| s.backend.function.code.clone(), |s, v| s.backend.function.code = v)
                            />
                            <TextField
                                label="Function timeout (ms)"
                                id="function-timeout"
                                field="backend.function.timeout_ms"
                                errors
                                number=true
                                bound=bind(spec, |s| s.backend.function.timeout_ms.map(|t| t.to_string()).unwrap_or_default(), |s, v| s.backend.function.timeout_ms = optional_number(&v))
                            />
                        }
                        .into_any(),
                    }}
                </Show>
                <OtherErrors errors shown=vec!["backend.http.address".into(), "backend.http.service".into(), "backend.mock.status".into(), "backend.mock.body".into(), "backend.function.code".into(), "backend.function.timeout_ms".into()] />
                <FormButtons submit="Save" disabled=Signal::derive(move || save.pending().get()) cancel=Callback::new(move |()| closed.run(false)) />
            </form>
        </Dialog>
    }
}

/// An optional number field: empty is unset, anything unparsable is 0 (which the
/// validation then reports).
pub fn optional_number(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    (!raw.is_empty()).then(|| raw.parse().unwrap_or(0))
}
