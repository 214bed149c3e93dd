//! The Debug API page: pick a group, an environment with a deployment, an API of the live
//! version and (for `auth = app` APIs) an app; fill in the form generated from the API's
//! parameters; **Send** goes through the real gateway. The result shows the request sent,
//! the response, timings, and the gateway's trace of every phase.

use crate::api::{api_authorizations, debug_call, list_apps, list_groups, live_apis};
use crate::components::{on_done, Errors};
use domain::api::{ApiSpec, AuthType};
use domain::debug::{first_difference, DebugRequest, DebugResult, DebugTrace};
use domain::release::VersionApi;
use domain::Environment;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/debug`
#[component]
pub fn DebugPage() -> impl IntoView {
    // `?group=…&env=…&api={id}` (the Access Log's links) chooses them up front.
    let asked = leptos_router::hooks::use_query_map().get_untracked();
    let group = RwSignal::new(asked.get("group").unwrap_or_default());
    let env = RwSignal::new(asked.get("env").unwrap_or_default());
    let api_id = RwSignal::new(asked.get("api").and_then(|id| id.parse::<i32>().ok()));
    let app = RwSignal::new(String::new());
    // With a canary running: force a side ("" lets the canary's share decide).
    let side = RwSignal::new(String::new());
    let values = RwSignal::new(std::collections::BTreeMap::<String, String>::new());
    let extra_headers = RwSignal::new(String::new());
    let raw_body = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(Vec::new());
    let result = RwSignal::new(None::<DebugResult>);

    let groups = Resource::new(|| (), |_| list_groups());
    let live = Resource::new(
        move || group.get(),
        |group| async move {
            if group.is_empty() {
                Ok(Vec::new())
            } else {
                live_apis(group).await
            }
        },
    );
    // What the live versions offer (environments, APIs, the chosen API's form) is drawn only
    // once the page is hydrated: the server renders the page before `live` resolves, so a
    // page loaded whole with `?group=…` would otherwise hydrate into options the server never
    // drew (a hydration panic). Effects run only in the browser, after hydration.
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let live_now = move || if mounted.get() { live.get() } else { None };
    let apps = Resource::new(|| (), |_| list_apps());
    let granted = Resource::new(
        move || (group.get(), api_id.get()),
        |(group, id)| async move {
            match id {
                Some(id) if !group.is_empty() => api_authorizations(group, id).await.unwrap_or_default(),
                _ => Vec::new(),
            }
        },
    );
    // Opened from an API (`?group=…&api=…` without `env`): the first environment where it is live.
    Effect::new(move |_| {
        let Some(Ok(all)) = live_now() else { return };
        if env.get_untracked().is_empty() {
            if let Some(id) = api_id.get_untracked() {
                if let Some(found) = all.iter().find(|l| l.apis.iter().any(|a| a.id == id)) {
                    env.set(found.environment.as_str().to_owned());
                }
            }
        }
    });
    // The chosen environment's APIs, and the chosen API.
    let env_apis = move || -> Vec<VersionApi> {
        let wanted = env.get();
        live_now()
            .and_then(Result::ok)
            .and_then(|all| all.into_iter().find(|live| live.environment.as_str() == wanted).map(|live| live.apis))
            .unwrap_or_default()
    };
    let chosen = Memo::new(move |_| {
        let id = api_id.get()?;
        env_apis().into_iter().find(|a| a.id == id).map(|a| a.spec)
    });

    let send = Action::new(move |request: &DebugRequest| debug_call(request.clone()));
    on_done(send, move |outcome| match outcome {
        Ok(answer) => {
            errors.set(Vec::new());
            result.set(Some(answer));
        }
        Err(error) => errors.set(error.field_errors()),
    });
    let on_send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(spec) = chosen.get_untracked() else {
            errors.set(vec![domain::FieldError::new("api", "pick an API")]);
            return;
        };
        let given = values.get_untracked();
        // Required parameters are flagged here, before anything is sent.
        let missing: Vec<domain::FieldError> = spec
            .caller_params()
            .iter()
            .filter(|p| (p.required || p.location == domain::api::ParamLocation::Path) && p.default.is_none())
            .filter(|p| given.get(&p.name).is_none_or(|v| v.trim().is_empty()))
            .map(|p| domain::FieldError::new(format!("params.{}", p.name), "is required"))
            .collect();
        if !missing.is_empty() {
            errors.set(missing);
            return;
        }
        let headers = extra_headers
            .get_untracked()
            .lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let body = raw_body.get_untracked();
        send.dispatch(DebugRequest {
            group: group.get_untracked(),
            env: env.get_untracked(),
            api: api_id.get_untracked().map(|id| id.to_string()).unwrap_or_default(),
            app: Some(app.get_untracked()).filter(|a| !a.is_empty()),
            params: given,
            headers,
            body: (!body.trim().is_empty()).then_some(body),
            side: Some(side.get_untracked()).filter(|s| !s.is_empty()),
        });
    };
    let message =
        move |field: &str| errors.with(|all| all.iter().find(|e| e.field == field).map(|e| e.message.clone()));

    // Built apart and type-erased: one view this deep overflows the compiler's query depth.
    let pickers = view! {
            <div class="field-row">
                <div class="field">
                    <label for="debug-group">"Group"</label>
                    <select
                        id="debug-group"
                        on:change=move |ev| {
                            group.set(event_target_value(&ev));
                            env.set(String::new());
                            api_id.set(None);
                            result.set(None);
                        }
                    >
                        <option value="">"Choose a group"</option>
                        <Transition>
                            {move || Suspend::new(async move {
                                groups
                                    .await
                                    .unwrap_or_default()
                                    .into_iter()
                                    .map(|g| {
                                        let name = g.name.clone();
                                        view! { <option value=g.name.clone() selected=move || group.get() == name>{g.name.clone()}</option> }
                                    })
                                    .collect_view()
                            })}
                        </Transition>
                    </select>
                </div>
                <div class="field">
                    <label for="debug-env">"Environment"</label>
                    <select
                        id="debug-env"
                        aria-describedby="debug-env-error"
                        prop:value=move || env.get()
                        on:change=move |ev| {
                            env.set(event_target_value(&ev));
                            api_id.set(None);
                        }
                    >
                        <option value="">"Choose an environment"</option>
                        {move || {
                            live_now()
                                .and_then(Result::ok)
                                .unwrap_or_default()
                                .into_iter()
                                .map(|domain::release::LiveVersion { environment: e, version, .. }| {
                                    view! {
                                        <option value=e.as_str() selected=move || env.get() == e.as_str()>
                                            {format!("{} (version {version})", e.label())}
                                        </option>
                                    }
                                })
                                .collect_view()
                        }}
                    </select>
                    {move || message("env").map(|m| view! { <span class="field-error" id="debug-env-error">{m}</span> })}
                </div>
                <div class="field">
                    <label for="debug-side">"Canary side"</label>
                    <select id="debug-side" aria-describedby="debug-side-error" prop:value=move || side.get() on:change=move |ev| side.set(event_target_value(&ev))>
                        <option value="">"As the canary's share decides"</option>
                        <option value="stable">"Stable version"</option>
                        <option value="canary">"Canary version"</option>
                    </select>
                    {move || message("side").map(|m| view! { <span class="field-error" id="debug-side-error">{m}</span> })}
                </div>
                <div class="field">
                    <label for="debug-api">"API"</label>
                    <select
                        id="debug-api"
                        aria-describedby="debug-api-error"
                        prop:value=move || api_id.get().map(|id| id.to_string()).unwrap_or_default()
                        on:change=move |ev| {
                            api_id.set(event_target_value(&ev).parse().ok());
                            let defaults = chosen
                                .get_untracked()
                                .map(|spec| {
                                    spec.request
                                        .params
                                        .iter()
                                        .filter_map(|p| p.default.clone().map(|d| (p.name.clone(), d)))
                                        .collect()
                                })
                                .unwrap_or_default();
                            values.set(defaults);
                            errors.set(Vec::new());
                        }
                    >
                        <option value="">"Choose an API"</option>
                        {move || {
                            env_apis()
                                .into_iter()
                                .map(|a| {
                                    let text = format!("{} · {} {}", a.spec.name, a.spec.request.method, a.spec.request.path);
                                    let id = a.id;
                                    view! { <option value=a.id.to_string() selected=move || api_id.get() == Some(id)>{text}</option> }
                                })
                                .collect_view()
                        }}
                    </select>
                    {move || message("api").map(|m| view! { <span class="field-error" id="debug-api-error">{m}</span> })}
                </div>
                <Show when=move || chosen.get().is_some_and(|s| s.auth == AuthType::App)>
                    <div class="field">
                        <label for="debug-app">"App"</label>
                        <select
                            id="debug-app"
                            aria-describedby="debug-app-error"
                            prop:value=move || app.get()
                            on:change=move |ev| app.set(event_target_value(&ev))
                        >
                            <option value="">"Choose an app"</option>
                            {move || {
                                let environment: Option<Environment> = env.get().parse().ok();
                                let authorized: Vec<String> = granted
                                    .get()
                                    .unwrap_or_default()
                                    .into_iter()
                                    .filter(|g| Some(g.env) == environment && !g.expired)
                                    .map(|g| g.app)
                                    .collect();
                                let mut all = apps.get().and_then(Result::ok).unwrap_or_default();
                                all.sort_by_key(|a| !authorized.contains(&a.name));
                                all.into_iter()
                                    .map(|a| {
                                        let text = if authorized.contains(&a.name) {
                                            format!("{} (authorized)", a.name)
                                        } else {
                                            format!("{} (not authorized here)", a.name)
                                        };
                                        view! { <option value=a.name.clone()>{text}</option> }
                                    })
                                    .collect_view()
                            }}
                        </select>
                        {move || message("app").map(|m| view! { <span class="field-error" id="debug-app-error">{m}</span> })}
                    </div>
                </Show>
            </div>
    }
    .into_any();
    let extras = view! {
            <div class="field">
                <label for="debug-headers">"Extra headers"</label>
                <textarea
                    id="debug-headers"
                    class="code"
                    rows="2"
                    placeholder="X-Custom: value"
                    prop:value=move || extra_headers.get()
                    on:input=move |ev| extra_headers.set(event_target_value(&ev))
                ></textarea>
            </div>
            <div class="field">
                <label for="debug-body">"Body"</label>
                <textarea
                    id="debug-body"
                    class="code"
                    rows="3"
                    placeholder="Optional raw body; otherwise built from form or body parameters"
                    prop:value=move || raw_body.get()
                    on:input=move |ev| raw_body.set(event_target_value(&ev))
                ></textarea>
            </div>
            {move || {
                // Every refusal is shown: at its field when the form has one, here otherwise.
                let shown = ["env", "api", "app"];
                let fields: Vec<String> = chosen
                    .with(|spec| spec.as_ref().map(|s| s.caller_params()).unwrap_or_default())
                    .into_iter()
                    .map(|p| format!("params.{}", p.name))
                    .collect();
                errors
                    .get()
                    .into_iter()
                    .filter(|e| !shown.contains(&e.field.as_str()) && !fields.contains(&e.field))
                    .map(|e| view! { <p class="error" role="alert">{format!("{}: {}", e.field, e.message)}</p> })
                    .collect_view()
            }}
    }
    .into_any();

    view! {
        <Title text="Debug API · Gantry" />
        <h1>"Debug API"</h1>
        <p class="hint">
            "Calls a released API through the real gateway, signed with the app's secret when the API needs an app, and shows what the gateway did with the request."
        </p>
        <form class="card debug-form" on:submit=on_send>
            {pickers}
            {move || chosen.get().map(|spec| view! { <ParamInputs spec values errors /> })}
            {extras}
            <div class="card-buttons">
                <button class="primary" type="submit" disabled=move || send.pending().get()>
                    "Send"
                </button>
            </div>
        </form>
        {move || result.get().map(|r| view! { <ResultPanel result=r /> })}
    }
}

/// One input per parameter the caller sends (declared ones, and path parameters of the
/// template even when undeclared), required ones marked, defaults filled in.
#[component]
fn ParamInputs(
    spec: ApiSpec,
    values: RwSignal<std::collections::BTreeMap<String, String>>,
    errors: Errors,
) -> impl IntoView {
    let params = spec.caller_params();
    if params.is_empty() {
        return view! { <p class="muted">"This API declares no parameters."</p> }.into_any();
    }
    view! {
        <fieldset class="field">
            <legend>"Parameters"</legend>
            {params
                .into_iter()
                .map(|p| {
                    let id = format!("debug-param-{}", p.name);
                    let error_id = format!("{id}-error");
                    let field = format!("params.{}", p.name);
                    let required = p.required || p.location == domain::api::ParamLocation::Path;
                    let (name_get, name_set) = (p.name.clone(), p.name.clone());
                    let placeholder = format!("{} · {}", p.location.as_str(), p.kind.as_str());
                    view! {
                        <div class="field">
                            <label for=id.clone()>
                                {p.name.clone()}
                                {required.then_some(view! { <span class="required" aria-hidden="true">" *"</span> })}
                            </label>
                            <input
                                id=id
                                aria-describedby=error_id.clone()
                                aria-required=required.to_string()
                                placeholder=placeholder
                                prop:value=move || values.with(|v| v.get(&name_get).cloned().unwrap_or_default())
                                on:input=move |ev| {
                                    let value = event_target_value(&ev);
                                    values.update(|v| {
                                        v.insert(name_set.clone(), value);
                                    })
                                }
                            />
                            {move || {
                                errors
                                    .with(|all| all.iter().find(|e| e.field == field).map(|e| e.message.clone()))
                                    .map(|m| view! { <span class="field-error" id=error_id.clone()>{m}</span> })
                            }}
                        </div>
                    }
                })
                .collect_view()}
        </fieldset>
    }
    .into_any()
}

fn header_rows(headers: Vec<(String, String)>) -> impl IntoView {
    headers
        .into_iter()
        .map(|(n, v)| {
            view! {
                <tr>
                    <th scope="row">{n}</th>
                    <td>
                        <code>{v}</code>
                    </td>
                </tr>
            }
        })
        .collect_view()
}

/// The request sent, the response, the timings and the trace.
#[component]
fn ResultPanel(result: DebugResult) -> impl IntoView {
    let DebugResult { request, response, timings, trace, client_string_to_sign } = result;
    let status_class = if response.status < 400 { "status ok" } else { "status bad" };
    let ms = |v: Option<f64>| v.map(|v| format!("{v:.1} ms")).unwrap_or_else(|| "-".into());
    let compare = trace
        .as_ref()
        .and_then(|t| t.server_string_to_sign.clone())
        .zip(client_string_to_sign.clone())
        .map(|(server, client)| view! { <StringToSignDiff client server /> });
    view! {
        <section class="card debug-result" aria-label="Response">
            <h2>"Response"</h2>
            <p>
                <span class=status_class data-testid="debug-status">
                    {response.status}
                </span>
                " · " {format!("{} bytes", response.size)} {response.json.then_some(" · JSON")}
                {response.truncated.then(|| format!(" · cut after {} bytes", response.body.len()))}
            </p>
            <table class="kv">
                <tbody>{header_rows(response.headers)}</tbody>
            </table>
            <pre class="code" data-testid="debug-response-body">{response.body}</pre>
        </section>
        <section class="card debug-result" aria-label="Timings">
            <h2>"Timings"</h2>
            <p>
                "Total " {format!("{:.1} ms", timings.total_ms)} " · gateway " {ms(timings.gateway_ms)}
                " · upstream " {ms(timings.upstream_ms)}
            </p>
        </section>
        {compare}
        {trace.map(|t| view! { <TraceView trace=t /> })}
        <section class="card debug-result" aria-label="Request">
            <h2>"Request"</h2>
            <p>
                <code>{format!("{} {}", request.method, request.url)}</code>
            </p>
            <table class="kv">
                <tbody>{header_rows(request.headers)}</tbody>
            </table>
            {(!request.body.is_empty()).then(|| view! { <pre class="code">{request.body.clone()}</pre> })}
            {client_string_to_sign.map(|s| view! {
                <p class="hint">"StringToSign (newlines shown as ⏎):"</p>
                <pre class="code">{s.replace('\n', "⏎\n")}</pre>
            })}
        </section>
    }
}

/// The gateway's trace: phases, resolution, auth, and the upstream request.
#[component]
fn TraceView(trace: DebugTrace) -> impl IntoView {
    let upstream = trace.upstream.clone();
    view! {
        <section class="card debug-result" aria-label="Trace">
            <h2>"Trace"</h2>
            <table class="grid">
                <thead>
                    <tr>
                        <th>"Phase"</th>
                        <th>"Outcome"</th>
                        <th>"Detail"</th>
                    </tr>
                </thead>
                <tbody>
                    {trace
                        .phases
                        .into_iter()
                        .map(|p| {
                            let class = format!("outcome {}", p.outcome.replace(' ', "-"));
                            view! {
                                <tr>
                                    <td>{p.name}</td>
                                    <td class=class>{p.outcome}</td>
                                    <td>{p.detail}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <table class="kv">
                <tbody>
                    <tr>
                        <th scope="row">"Request id"</th>
                        <td><code>{trace.request_id}</code></td>
                    </tr>
                    <tr>
                        <th scope="row">"Resolved"</th>
                        <td>
                            {format!(
                                "group {} · environment {} · version {}",
                                trace.group.unwrap_or_else(|| "-".into()),
                                trace.environment.unwrap_or_else(|| "-".into()),
                                trace.version.unwrap_or_else(|| "-".into()),
                            )}
                        </td>
                    </tr>
                    <tr>
                        <th scope="row">"Matched API"</th>
                        <td>{format!("{} ({})", trace.api.unwrap_or_else(|| "-".into()), trace.route.unwrap_or_default())}</td>
                    </tr>
                    <tr>
                        <th scope="row">"Mock short-cut"</th>
                        <td>{if trace.mock { "yes" } else { "no" }}</td>
                    </tr>
                    <tr>
                        <th scope="row">"Authentication"</th>
                        <td>
                            {format!(
                                "{}{}",
                                trace.auth.unwrap_or_else(|| "not reached".into()),
                                trace.app.map(|a| format!(" · app {a}")).unwrap_or_default(),
                            )}
                        </td>
                    </tr>
                    <tr>
                        <th scope="row">"Parameters"</th>
                        <td>
                            {trace
                                .values
                                .into_iter()
                                .map(|(l, n, v)| format!("{l} {n} = {v}"))
                                .collect::<Vec<_>>()
                                .join(", ")}
                        </td>
                    </tr>
                    <tr>
                        <th scope="row">"Upstream status"</th>
                        <td>
                            {trace.upstream_status.map(|s| s.to_string()).unwrap_or_else(|| "-".into())}
                            {trace.upstream_ms.map(|ms| format!(" in {ms:.1} ms"))}
                        </td>
                    </tr>
                    {trace.error.map(|(code, message)| view! {
                        <tr>
                            <th scope="row">"Refused"</th>
                            <td>{format!("{} in phase {}: {message}", code, trace.failed_phase.unwrap_or_default())}</td>
                        </tr>
                    })}
                </tbody>
            </table>
            {upstream.map(|u| view! {
                <h3>"Upstream request"</h3>
                <p>
                    <code data-testid="debug-upstream-url">{format!("{} {}", u.method, u.url)}</code>
                    {u.body_bytes.map(|b| format!(" · body {b} bytes"))}
                </p>
                <table class="kv" aria-label="Upstream headers">
                    <tbody>{header_rows(u.headers)}</tbody>
                </table>
            })}
        </section>
    }
}

/// The client's and the server's StringToSign side by side, the first differing line marked.
#[component]
fn StringToSignDiff(client: String, server: String) -> impl IntoView {
    let differs = first_difference(&client, &server);
    let lines = move |text: &str| {
        text.split('\n')
            .enumerate()
            .map(|(i, line)| {
                let marked = Some(i) == differs;
                view! {
                    <div class=if marked { "sts-line differs" } else { "sts-line" }>
                        {if line.is_empty() { "⏎".to_owned() } else { line.to_owned() }}
                        {marked.then_some(view! { <strong>" ← differs"</strong> })}
                    </div>
                }
            })
            .collect_view()
    };
    view! {
        <section class="card debug-result" aria-label="StringToSign">
            <h2>"StringToSign"</h2>
            <div class="sts">
                <div>
                    <h3>"Client (Debug API)"</h3>
                    <pre class="code">{lines(&client)}</pre>
                </div>
                <div>
                    <h3>"Server (gateway)"</h3>
                    <pre class="code">{lines(&server)}</pre>
                </div>
            </div>
        </section>
    }
}
