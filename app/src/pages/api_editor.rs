//! The API editor (`/groups/:group/apis/new` and `/groups/:group/apis/:id`): basic
//! information, the request with its parameters, the backend request (path, method, timeout,
//! mapping, constants, system parameters), the mock response and the response docs. Errors
//! appear beside their fields and what the user typed stays. An existing API's page has the
//! tabs **Definition** (this editor) and **Policies** ([`super::api_policies`]).

use crate::api::{get_api, save_api};
use crate::components::{
    bind, edits_group, edits_shared, on_done, opts, Bound, Changes, Errors, IfAllowed, OtherErrors, SelectField,
    TextField,
};
use crate::pages::advanced_config::optional_number;
use crate::pages::api_authorize::AuthorizeApiDialog;
use crate::pages::api_policies::ApiTabs;
use crate::pages::group::group_param;
use domain::api::{
    ApiProtocol, ApiSpec, AppCodeLocation, AuthType, ConstantLocation, ConstantSpec, HeaderSpec, MappingSpec,
    ParamLocation, ParamSpec, ParamType, RequestMode, SystemParam, SystemParamSpec,
};
use domain::HttpMethod;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

const LOCATIONS: [(&str, &str); 5] =
    [("path", "Path"), ("query", "Query"), ("header", "Header"), ("form", "Form"), ("body", "JSON body")];
const TYPES: [(&str, &str); 4] = [("string", "String"), ("int", "Int"), ("number", "Number"), ("boolean", "Boolean")];

fn methods(with_default: bool) -> Vec<(&'static str, &'static str)> {
    let mut options: Vec<_> = HttpMethod::ALL
        .into_iter()
        .filter(|m| !with_default || *m != HttpMethod::Any)
        .map(|m| (m.as_str(), m.as_str()))
        .collect();
    if with_default {
        options.insert(0, ("", "Same as request"));
    }
    options
}

/// `/groups/:group/apis/:id` (`new` to create).
#[component]
pub fn ApiEditorPage() -> impl IntoView {
    let group = group_param();
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|id| id.parse::<i32>().ok()));
    let loaded = Resource::new(
        move || (group.get(), id.get()),
        |(group, id)| async move {
            match id {
                Some(id) => get_api(group, id).await.map(|api| Some(api.spec)),
                None => Ok(None),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match loaded.await {
                    Ok(spec) => {
                        let creating = spec.is_none();
                        let initial = spec.unwrap_or_else(|| ApiSpec {
                            request: domain::api::RequestSpec { path: "/".into(), ..Default::default() },
                            ..Default::default()
                        });
                        let name = initial.name.clone();
                        let apps = id.get_untracked().map(|id| view! { <AuthorizedApps group=group.get_untracked() id name /> });
                        let tabs = id.get_untracked().map(|id| view! { <ApiTabs group=group.get_untracked() id /> });
                        let publish = id.get_untracked().map(|id| {
                            view! { <crate::pages::api_release::PublishButton group=group.get_untracked() api_id=id api_name=initial.name.clone() /> }
                        });
                        view! {
                            {tabs}
                            {publish}
                            <ApiForm group=group.get_untracked() id=id.get_untracked() initial creating />
                            {apps}
                        }
                            .into_any()
                    }
                    Err(error) => view! { <p class="error">{error.message()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ApiForm(group: String, id: Option<i32>, initial: ApiSpec, creating: bool) -> impl IntoView {
    let spec = RwSignal::new(initial);
    let errors: Errors = RwSignal::new(Vec::new());
    let list = format!("/groups/{group}");
    let navigate = use_navigate();
    let save = Action::new({
        let group = group.clone();
        move |spec: &ApiSpec| save_api(group.clone(), id, spec.clone())
    });
    on_done(save, {
        let list = list.clone();
        move |outcome| match outcome {
            Ok(_) => navigate(&list, Default::default()),
            Err(error) => errors.set(error.field_errors()),
        }
    });
    let shown = vec![
        "name",
        "description",
        "auth",
        "appcode",
        "request.method",
        "request.path",
        "request.mode",
        "request.protocol",
        "request.websocket_idle_s",
        "request.params",
        "backend.http.path",
        "backend.http.method",
        "backend.http.timeout_ms",
        "backend.http.mapping",
        "backend.http.constants",
        "backend.http.system",
        "backend.mock.status",
        "backend.mock.body",
        "response.content_type",
        "response.success_example",
        "response.error_example",
    ];
    view! {
        <h2>{if creating { "Create API" } else { "Edit API" }}</h2>
        <form class="editor" on:submit=move |ev| {
            ev.prevent_default();
            save.dispatch(spec.get_untracked());
        }>
            <section>
                <h3>"Basic information"</h3>
                <div class="row">
                    <TextField label="Name" id="api-name" field="name" errors bound=bind(spec, |s| s.name.clone(), |s, v| s.name = v) />
                    <SelectField
                        label="Authentication"
                        id="api-auth"
                        field="auth"
                        errors
                        options=opts(&[("none", "None"), ("app", "App (AppCode or signature)")])
                        bound=bind(spec, |s| if s.auth == AuthType::App { "app".into() } else { "none".into() }, |s, v| s.auth = if v == "app" { AuthType::App } else { AuthType::None })
                    />
                    <Show when=move || spec.with(|s| s.auth == AuthType::App)>
                        <SelectField
                            label="AppCode location"
                            id="api-appcode"
                            field="appcode"
                            errors
                            options=opts(&[("header_and_query", "Header or query (?AppCode=…)"), ("header", "Header only (Authorization: APPCODE …)")])
                            bound=bind(spec, |s| if s.appcode == AppCodeLocation::Header { "header".into() } else { "header_and_query".into() }, |s, v| s.appcode = if v == "header" { AppCodeLocation::Header } else { AppCodeLocation::HeaderAndQuery })
                        />
                    </Show>
                </div>
                <TextField label="Description" id="api-description" field="description" errors multiline=true bound=bind(spec, |s| s.description.clone(), |s, v| s.description = v) />
            </section>
            <section>
                <h3>"Request"</h3>
                <div class="row">
                    <SelectField label="Method" id="request-method" field="request.method" errors options=opts(&methods(false)) bound=bind(spec, |s| s.request.method.to_uppercase(), |s, v| s.request.method = v) />
                    <TextField label="Path" id="request-path" field="request.path" errors placeholder="/pets/{petId}" bound=bind(spec, |s| s.request.path.clone(), |s, v| s.request.path = v) />
                    <SelectField
                        label="Mode"
                        id="request-mode"
                        field="request.mode"
                        errors
                        options=opts(&[("passthrough", "Pass-through"), ("mapping", "Mapping")])
                        bound=bind(spec, |s| if s.request.mode == RequestMode::Mapping { "mapping".into() } else { "passthrough".into() }, |s, v| s.request.mode = if v == "mapping" { RequestMode::Mapping } else { RequestMode::Passthrough })
                    />
                    <SelectField
                        label="Protocol"
                        id="request-protocol"
                        field="request.protocol"
                        errors
                        options=opts(&[("both", "HTTP and HTTPS"), ("https", "HTTPS"), ("http", "HTTP")])
                        bound=bind(spec, |s| s.request.protocol.as_str().to_owned(), |s, v| s.request.protocol = match v.as_str() { "https" => ApiProtocol::Https, "http" => ApiProtocol::Http, _ => ApiProtocol::Both })
                    />
                </div>
                <div class="checkbox">
                    <input
                        type="checkbox"
                        id="request-websocket"
                        prop:checked=move || spec.with(|s| s.request.websocket)
                        on:change=move |ev| spec.update(|s| s.request.websocket = event_target_checked(&ev))
                    />
                    <label for="request-websocket">"WebSocket API (callers upgrade a GET; the gateway pipes both ways)"</label>
                </div>
                <Show when=move || spec.with(|s| s.request.websocket)>
                    <TextField
                        label="WebSocket idle timeout (s)"
                        id="request-websocket-idle"
                        field="request.websocket_idle_s"
                        errors
                        number=true
                        placeholder="300"
                        bound=bind(spec, |s| s.request.websocket_idle_s.map(|n| n.to_string()).unwrap_or_default(), |s, v| s.request.websocket_idle_s = optional_number(&v).map(|n| u32::try_from(n).unwrap_or(u32::MAX)))
                    />
                </Show>
                <h4>"Parameters"</h4>
                <Rows
                    count=Signal::derive(move || spec.with(|s| s.request.params.len()))
                    add_label="Add parameter"
                    add=Callback::new(move |()| spec.update(|s| s.request.params.push(ParamSpec::default())))
                    row=move |i| view! { <ParamRow spec errors i /> }.into_any()
                />
            </section>
            <section>
                <h3>"Backend request"</h3>
                <div class="row">
                    <TextField label="Backend path" id="backend-path" field="backend.http.path" errors placeholder="same as the request path" bound=bind(spec, |s| s.backend.http.path.clone().unwrap_or_default(), |s, v| s.backend.http.path = Some(v).filter(|v| !v.trim().is_empty())) />
                    <SelectField label="Backend method" id="backend-method" field="backend.http.method" errors options=opts(&methods(true)) bound=bind(spec, |s| s.backend.http.method.clone().unwrap_or_default(), |s, v| s.backend.http.method = Some(v).filter(|v| !v.is_empty())) />
                    <TextField label="Timeout (ms)" id="backend-timeout" field="backend.http.timeout_ms" errors number=true placeholder="10000" bound=bind(spec, |s| s.backend.http.timeout_ms.map(|t| t.to_string()).unwrap_or_default(), |s, v| s.backend.http.timeout_ms = optional_number(&v)) />
                </div>
                <div class="checkbox">
                    <input
                        type="checkbox"
                        id="backend-retry"
                        aria-describedby="backend-retry-help"
                        prop:checked=move || spec.with(|s| s.backend.http.retry_non_idempotent)
                        on:change=move |ev| spec.update(|s| s.backend.http.retry_non_idempotent = event_target_checked(&ev))
                    />
                    <label for="backend-retry">"Retry non-idempotent methods on another target"</label>
                </div>
                <p class="hint" id="backend-retry-help">
                    "When a target fails or answers 502, 503 or 504, a POST or PATCH goes to another target too. The gateway reads the request body first to send it again. Turn this on only when the backend's handlers are safe to repeat."
                </p>
                <h4>"Parameter mapping"</h4>
                <Rows
                    count=Signal::derive(move || spec.with(|s| s.backend.http.mapping.len()))
                    add_label="Add mapping"
                    add=Callback::new(move |()| spec.update(|s| s.backend.http.mapping.push(MappingSpec::default())))
                    row=move |i| view! { <MappingRow spec errors i /> }.into_any()
                />
                <h4>"Constant parameters"</h4>
                <Rows
                    count=Signal::derive(move || spec.with(|s| s.backend.http.constants.len()))
                    add_label="Add constant"
                    add=Callback::new(move |()| spec.update(|s| s.backend.http.constants.push(ConstantSpec::default())))
                    row=move |i| view! { <ConstantRow spec errors i /> }.into_any()
                />
                <h4>"System parameters"</h4>
                <Rows
                    count=Signal::derive(move || spec.with(|s| s.backend.http.system.len()))
                    add_label="Add system parameter"
                    add=Callback::new(move |()| spec.update(|s| s.backend.http.system.push(SystemParamSpec::default())))
                    row=move |i| view! { <SystemRow spec errors i /> }.into_any()
                />
            </section>
            <section>
                <h3>"Mock response"</h3>
                <p class="hint">"Served when the API's backend is Mock (its own, or the group release's)."</p>
                <div class="row">
                    <TextField label="Mock status" id="mock-status" field="backend.mock.status" errors number=true bound=bind(spec, |s| s.backend.mock.status.to_string(), |s, v| s.backend.mock.status = v.trim().parse().unwrap_or(0)) />
                </div>
                <TextField label="Mock response body" id="mock-body" field="backend.mock.body" errors multiline=true code=true bound=bind(spec, |s| s.backend.mock.body.clone(), |s, v| s.backend.mock.body = v) />
                <h4>"Mock response headers"</h4>
                <Rows
                    count=Signal::derive(move || spec.with(|s| s.backend.mock.headers.len()))
                    add_label="Add mock header"
                    add=Callback::new(move |()| spec.update(|s| s.backend.mock.headers.push(HeaderSpec::default())))
                    row=move |i| view! { <MockHeaderRow spec errors i /> }.into_any()
                />
            </section>
            <section>
                <h3>"Response docs"</h3>
                <TextField label="Content type" id="response-content-type" field="response.content_type" errors bound=bind(spec, |s| s.response.content_type.clone(), |s, v| s.response.content_type = v) />
                <TextField label="Success example" id="response-success" field="response.success_example" errors multiline=true code=true bound=bind(spec, |s| s.response.success_example.clone(), |s, v| s.response.success_example = v) />
                <TextField label="Error example" id="response-error" field="response.error_example" errors multiline=true code=true bound=bind(spec, |s| s.response.error_example.clone(), |s, v| s.response.error_example = v) />
            </section>
            <OtherErrors errors shown=shown.into_iter().map(String::from).collect() />
            <div class="form-buttons">
                <a class="button" href=list>"Cancel"</a>
                <IfAllowed when=edits_group({ let group = group.clone(); move || group.clone() })>
                    <button type="submit" class="primary" disabled=move || save.pending().get()>
                        "Save"
                    </button>
                </IfAllowed>
            </div>
        </form>
    }
}

/// A list of rows with an Add button below; rows re-render when the count changes (only
/// then: typing in a row changes the spec, not the count, and keeps the row and its focus).
#[component]
fn Rows(
    count: Signal<usize>,
    add_label: &'static str,
    add: Callback<()>,
    row: impl Fn(usize) -> AnyView + Send + Sync + 'static,
) -> impl IntoView {
    let count = Memo::new(move |_| count.get());
    view! {
        <div class="rows">
            {move || (0..count.get()).map(&row).collect_view()}
            <button type="button" on:click=move |_| add.run(())>
                {add_label}
            </button>
        </div>
    }
}

/// A compact input inside a row: no visible label, an accessible one.
#[component]
fn Cell(
    #[prop(into)] label: String,
    #[prop(into)] id: String,
    bound: Bound,
    #[prop(optional, into)] placeholder: String,
) -> impl IntoView {
    let Bound { value, set } = bound;
    view! {
        <input
            id=id
            aria-label=label
            placeholder=placeholder
            prop:value=move || value.get()
            on:input=move |ev| set(event_target_value(&ev))
        />
    }
}

#[component]
fn Choice(#[prop(into)] label: String, bound: Bound, options: Vec<(&'static str, &'static str)>) -> impl IntoView {
    let Bound { value, set } = bound;
    let current = value.clone();
    view! {
        <select aria-label=label prop:value=move || current.get() on:change=move |ev| set(event_target_value(&ev))>
            {options
                .into_iter()
                .map(|(v, text)| {
                    let value = value.clone();
                    view! { <option value=v selected=move || value.get() == v>{text}</option> }
                })
                .collect_view()}
        </select>
    }
}

/// Every error of one row (fields under `prefix`).
#[component]
fn RowErrors(errors: Errors, prefix: String) -> impl IntoView {
    move || {
        errors.with(|all| {
            all.iter()
                .filter(|e| e.field.starts_with(&prefix))
                .map(|e| view! { <span class="field-error">{e.message.clone()}</span> })
                .collect_view()
        })
    }
}

fn remove_button(label: String, remove: impl Fn() + 'static) -> impl IntoView {
    view! {
        <button type="button" class="link-danger" aria-label=label on:click=move |_| remove()>
            "Remove"
        </button>
    }
}

#[component]
fn ParamRow(spec: RwSignal<ApiSpec>, errors: Errors, i: usize) -> impl IntoView {
    let n = i + 1;
    let get = move |s: &ApiSpec| s.request.params.get(i).cloned().unwrap_or_default();
    let set = move |s: &mut ApiSpec, f: &dyn Fn(&mut ParamSpec)| {
        if let Some(p) = s.request.params.get_mut(i) {
            f(p)
        }
    };
    view! {
        <div class="param-row">
            <Cell label=format!("Parameter {n} name") id=format!("param-{i}-name") placeholder="name" bound=bind(spec, move |s| get(s).name, move |s, v| set(s, &|p| p.name = v.clone())) />
            <Choice label=format!("Parameter {n} location") options=LOCATIONS.to_vec() bound=bind(spec, move |s| get(s).location.as_str().into(), move |s, v| set(s, &|p| p.location = ParamLocation::parse(&v).unwrap_or_default())) />
            <Choice label=format!("Parameter {n} type") options=TYPES.to_vec() bound=bind(spec, move |s| get(s).kind.as_str().into(), move |s, v| set(s, &|p| p.kind = ParamType::parse(&v).unwrap_or_default())) />
            <label class="inline">
                <input
                    type="checkbox"
                    aria-label=format!("Parameter {n} required")
                    prop:checked=move || spec.with(|s| get(s).required)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        spec.update(|s| set(s, &|p| p.required = on))
                    }
                />
                "Required"
            </label>
            <Cell label=format!("Parameter {n} default") id=format!("param-{i}-default") placeholder="default" bound=bind(spec, move |s| get(s).default.unwrap_or_default(), move |s, v| set(s, &|p| p.default = Some(v.clone()).filter(|v| !v.is_empty()))) />
            <Cell label=format!("Parameter {n} description") id=format!("param-{i}-description") placeholder="description" bound=bind(spec, move |s| get(s).description, move |s, v| set(s, &|p| p.description = v.clone())) />
            {remove_button(format!("Remove parameter {n}"), move || spec.update(|s| { if i < s.request.params.len() { s.request.params.remove(i); } }))}
            <RowErrors errors prefix=format!("request.params[{i}].") />
        </div>
    }
}

#[component]
fn MappingRow(spec: RwSignal<ApiSpec>, errors: Errors, i: usize) -> impl IntoView {
    let n = i + 1;
    let get = move |s: &ApiSpec| s.backend.http.mapping.get(i).cloned().unwrap_or_default();
    let set = move |s: &mut ApiSpec, f: &dyn Fn(&mut MappingSpec)| {
        if let Some(m) = s.backend.http.mapping.get_mut(i) {
            f(m)
        }
    };
    view! {
        <div class="param-row">
            <Cell label=format!("Mapping {n} parameter") id=format!("mapping-{i}-param") placeholder="request parameter" bound=bind(spec, move |s| get(s).param, move |s, v| set(s, &|m| m.param = v.clone())) />
            <span class="arrow">"→"</span>
            <Cell label=format!("Mapping {n} backend name") id=format!("mapping-{i}-name") placeholder="backend name" bound=bind(spec, move |s| get(s).name, move |s, v| set(s, &|m| m.name = v.clone())) />
            <Choice label=format!("Mapping {n} backend location") options=LOCATIONS.to_vec() bound=bind(spec, move |s| get(s).location.as_str().into(), move |s, v| set(s, &|m| m.location = ParamLocation::parse(&v).unwrap_or_default())) />
            {remove_button(format!("Remove mapping {n}"), move || spec.update(|s| { if i < s.backend.http.mapping.len() { s.backend.http.mapping.remove(i); } }))}
            <RowErrors errors prefix=format!("backend.http.mapping[{i}].") />
        </div>
    }
}

#[component]
fn ConstantRow(spec: RwSignal<ApiSpec>, errors: Errors, i: usize) -> impl IntoView {
    let n = i + 1;
    let get = move |s: &ApiSpec| s.backend.http.constants.get(i).cloned().unwrap_or_default();
    let set = move |s: &mut ApiSpec, f: &dyn Fn(&mut ConstantSpec)| {
        if let Some(c) = s.backend.http.constants.get_mut(i) {
            f(c)
        }
    };
    let options: Vec<(&'static str, &'static str)> =
        vec![("header", "Header"), ("query", "Query"), ("path", "Path"), ("form", "Form body")];
    view! {
        <div class="param-row">
            <Cell label=format!("Constant {n} name") id=format!("constant-{i}-name") placeholder="name" bound=bind(spec, move |s| get(s).name, move |s, v| set(s, &|c| c.name = v.clone())) />
            <Choice label=format!("Constant {n} location") options bound=bind(spec, move |s| get(s).location.as_str().into(), move |s, v| set(s, &|c| c.location = ConstantLocation::parse(&v).unwrap_or_default())) />
            <Cell label=format!("Constant {n} value") id=format!("constant-{i}-value") placeholder="value" bound=bind(spec, move |s| get(s).value, move |s, v| set(s, &|c| c.value = v.clone())) />
            <Cell label=format!("Constant {n} description") id=format!("constant-{i}-description") placeholder="why it is there" bound=bind(spec, move |s| get(s).description, move |s, v| set(s, &|c| c.description = v.clone())) />
            {remove_button(format!("Remove constant {n}"), move || spec.update(|s| { if i < s.backend.http.constants.len() { s.backend.http.constants.remove(i); } }))}
            <RowErrors errors prefix=format!("backend.http.constants[{i}].") />
        </div>
    }
}

#[component]
fn MockHeaderRow(spec: RwSignal<ApiSpec>, errors: Errors, i: usize) -> impl IntoView {
    let n = i + 1;
    let get = move |s: &ApiSpec| s.backend.mock.headers.get(i).cloned().unwrap_or_default();
    let set = move |s: &mut ApiSpec, f: &dyn Fn(&mut HeaderSpec)| {
        if let Some(h) = s.backend.mock.headers.get_mut(i) {
            f(h)
        }
    };
    view! {
        <div class="param-row">
            <Cell label=format!("Mock header {n} name") id=format!("mock-header-{i}-name") placeholder="X-Example" bound=bind(spec, move |s| get(s).name, move |s, v| set(s, &|h| h.name = v.clone())) />
            <Cell label=format!("Mock header {n} value") id=format!("mock-header-{i}-value") placeholder="value" bound=bind(spec, move |s| get(s).value, move |s, v| set(s, &|h| h.value = v.clone())) />
            {remove_button(format!("Remove mock header {n}"), move || spec.update(|s| { if i < s.backend.mock.headers.len() { s.backend.mock.headers.remove(i); } }))}
            <RowErrors errors prefix=format!("backend.mock.headers[{i}].") />
        </div>
    }
}

#[component]
fn SystemRow(spec: RwSignal<ApiSpec>, errors: Errors, i: usize) -> impl IntoView {
    let n = i + 1;
    let get = move |s: &ApiSpec| s.backend.http.system.get(i).cloned().unwrap_or_default();
    let set = move |s: &mut ApiSpec, f: &dyn Fn(&mut SystemParamSpec)| {
        if let Some(p) = s.backend.http.system.get_mut(i) {
            f(p)
        }
    };
    let name = |p: SystemParam| match p {
        SystemParam::ClientIp => "client_ip",
        SystemParam::RequestId => "request_id",
        SystemParam::AppKey => "app_key",
    };
    let parse = |v: &str| match v {
        "request_id" => SystemParam::RequestId,
        "app_key" => SystemParam::AppKey,
        _ => SystemParam::ClientIp,
    };
    view! {
        <div class="param-row">
            <Choice label=format!("System parameter {n}") options=vec![("client_ip", "Client IP"), ("request_id", "Request ID"), ("app_key", "App key")] bound=bind(spec, move |s| name(get(s).param).into(), move |s, v| set(s, &|p| p.param = parse(&v))) />
            <span class="arrow">"→ header"</span>
            <Cell label=format!("System parameter {n} header") id=format!("system-{i}-name") placeholder="X-Client-IP" bound=bind(spec, move |s| get(s).name, move |s, v| set(s, &|p| p.name = v.clone())) />
            {remove_button(format!("Remove system parameter {n}"), move || spec.update(|s| { if i < s.backend.http.system.len() { s.backend.http.system.remove(i); } }))}
            <RowErrors errors prefix=format!("backend.http.system[{i}].") />
        </div>
    }
}

/// The apps authorized to call this API, per environment: **Authorize** more (the dialog
/// of the API List's row), **Revoke** one.
#[component]
fn AuthorizedApps(group: String, id: i32, name: String) -> impl IntoView {
    let changes = Changes::new();
    let grants = Resource::new(
        {
            let group = group.clone();
            move || (group.clone(), id, changes.seen())
        },
        |(group, id, _)| crate::api::api_authorizations(group, id),
    );
    let asking = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let revoke = Action::new(|(app, grant): &(String, i32)| crate::api::revoke(app.clone(), *grant));
    // The authorization whose Revoke is being confirmed: (app, id, environment).
    let revoking = RwSignal::new(None::<(String, i32, &'static str)>);
    let api_name = name.clone();
    on_done(revoke, move |outcome| match outcome {
        Ok(()) => {
            revoking.set(None);
            failure.set(None);
            changes.made();
        }
        Err(error) => failure.set(Some(error.message())),
    });
    let closed = Callback::new(move |done: bool| {
        asking.set(false);
        if done {
            changes.made();
        }
    });
    view! {
        <section class="card" aria-label="Authorized Apps">
            <div class="page-head">
                <h2>"Authorized Apps"</h2>
                <IfAllowed when=edits_shared()>
                    <button on:click=move |_| asking.set(true)>"Authorize"</button>
                </IfAllowed>
            </div>
            {move || failure.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match grants.await {
                        Ok(rows) if rows.is_empty() => {
                            view! { <p class="empty">"No app is authorized: use Authorize to let apps call it."</p> }.into_any()
                        }
                        Ok(rows) => {
                            view! {
                                <ul class="plain">
                                    {rows
                                        .into_iter()
                                        .map(|grant| {
                                            let href = format!("/apps/{}", grant.app);
                                            let until = grant.expires_at.clone().map(|at| format!(" until {at}")).unwrap_or_default();
                                            let label = format!("Revoke {} in {}", grant.app, grant.env.label());
                                            let (app, grant_id, env) = (grant.app.clone(), grant.id, grant.env.label());
                                            view! {
                                                <li>
                                                    <a href=href>{grant.app.clone()}</a>
                                                    " · " {grant.env.label()} {until}
                                                    {grant.expired.then_some(" (expired)")}
                                                    " "
                                                    <IfAllowed when=edits_shared()>
                                                        {
                                                            let (app, label) = (app.clone(), label.clone());
                                                            view! {
                                                                <button class="link-danger" aria-label=label on:click=move |_| revoking.set(Some((app.clone(), grant_id, env)))>"Revoke"</button>
                                                            }
                                                        }
                                                    </IfAllowed>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
                        }
                        Err(error) => view! { <p class="error">{error.message()}</p> }.into_any(),
                    }
                })}
            </Transition>
            {move || {
                let (group, name) = (group.clone(), name.clone());
                asking.get().then(|| view! { <AuthorizeApiDialog group api_id=id api_name=name closed /> })
            }}
            {move || revoking.get().map(|(app, grant_id, env)| {
                let message = format!("Stop app {app} calling {api_name} in {env}? Its requests get 403 from the next one.");
                view! {
                    <crate::components::Confirm
                        title="Revoke Authorization"
                        message
                        confirm="Revoke"
                        yes=Callback::new(move |()| { revoke.dispatch((app.clone(), grant_id)); })
                        no=Callback::new(move |()| revoking.set(None))
                    />
                }
            })}
        </section>
    }
}
