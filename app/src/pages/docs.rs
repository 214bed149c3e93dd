//! The group's **SDK & Docs** tab: for each environment with a deployment, the docs of the
//! live version (shown here, downloadable as Markdown and HTML), its OpenAPI document (JSON,
//! YAML) and the Python and TypeScript SDKs; and **Import OpenAPI** into the draft with a
//! preview first.

use crate::api::{docs_html, import_openapi, live_apis, ConsoleError};
use crate::components::on_done;
use crate::pages::group::group_param;
use domain::import::ImportReport;
use domain::Environment;
use leptos::prelude::*;

/// `/groups/:group/docs`
#[component]
pub fn DocsTab() -> impl IntoView {
    let group = group_param();
    let live = Resource::new(move || group.get(), live_apis);
    let shown = RwSignal::new(None::<Environment>);
    let docs = Resource::new(
        move || (group.get(), shown.get()),
        |(group, env)| async move {
            match env {
                Some(env) => docs_html(group, env).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <h2>"SDK & Docs"</h2>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let environments = live.await.unwrap_or_default();
                if environments.is_empty() {
                    return view! { <p class="empty">"Nothing is released yet: SDKs and docs describe what is live."</p> }.into_any();
                }
                let group = group.get_untracked();
                environments
                    .into_iter()
                    .map(|domain::release::LiveVersion { environment: env, version, apis }| {
                        let rest = format!("/api/admin/v1/groups/{group}");
                        let e = env.as_str();
                        let label = format!("{} (version {version}, {} APIs)", env.label(), apis.len());
                        view! {
                            <section class="card environment-docs" aria-label=env.label()>
                                <h3>{label}</h3>
                                <div class="downloads">
                                    <a href=format!("{rest}/docs/{e}?format=markdown") download>"Docs (Markdown)"</a>
                                    <a href=format!("{rest}/docs/{e}?format=html") download>"Docs (HTML)"</a>
                                    <a href=format!("{rest}/openapi?source={e}&format=json") download>"OpenAPI (JSON)"</a>
                                    <a href=format!("{rest}/openapi?source={e}&format=yaml") download>"OpenAPI (YAML)"</a>
                                    <a href=format!("{rest}/sdk/{e}/python") download>"Python SDK"</a>
                                    <a href=format!("{rest}/sdk/{e}/typescript") download>"TypeScript SDK"</a>
                                </div>
                                <button on:click=move |_| shown.set(if shown.get_untracked() == Some(env) { None } else { Some(env) })>
                                    {move || if shown.get() == Some(env) { "Hide Docs" } else { "Show Docs" }}
                                </button>
                            </section>
                        }
                    })
                    .collect_view()
                    .into_any()
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match docs.await {
                    Ok(Some(html)) => view! { <article class="card docs" aria-label="Docs" inner_html=html></article> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <p class="error">{error.message()}</p> }.into_any(),
                }
            })}
        </Transition>
        <ImportOpenApi />
    }
}

/// **Import OpenAPI**: upload or paste a document, **Preview**, then **Import**.
#[component]
fn ImportOpenApi() -> impl IntoView {
    let group = group_param();
    let document = RwSignal::new(String::new());
    let report = RwSignal::new(None::<ImportReport>);
    let failure = RwSignal::new(None::<String>);
    let run = Action::new(move |(group, document, dry_run): &(String, String, bool)| {
        import_openapi(group.clone(), document.clone(), *dry_run)
    });
    on_done(run, move |outcome| match outcome {
        Ok(r) => {
            failure.set(None);
            report.set(Some(r));
        }
        Err(error) => {
            if matches!(error, ConsoleError::Invalid(_)) {
                report.set(None);
            }
            failure.set(Some(error.message()));
        }
    });
    let on_file = move |ev: leptos::ev::Event| read_file(ev, document);
    view! {
        <section class="card import" aria-label="Import OpenAPI">
            <h3>"Import OpenAPI"</h3>
            <p class="hint">"An OpenAPI 3.0 or 3.1 document (JSON or YAML) into this group's draft. Preview first: nothing changes until you import."</p>
            <div class="field">
                <label for="import-file">"Upload file"</label>
                <input id="import-file" type="file" accept=".json,.yaml,.yml" on:change=on_file />
            </div>
            <div class="field">
                <label for="import-document">"OpenAPI document"</label>
                <textarea
                    id="import-document"
                    class="code"
                    rows="8"
                    prop:value=move || document.get()
                    on:input=move |ev| {
                        document.set(event_target_value(&ev));
                        report.set(None);
                    }
                ></textarea>
            </div>
            {move || failure.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <div class="card-buttons">
                <button on:click=move |_| {
                    run.dispatch((group.get_untracked(), document.get_untracked(), true));
                }>"Preview"</button>
                <button
                    class="primary"
                    disabled=move || !report.get().is_some_and(|r| !r.applied)
                    on:click=move |_| {
                        run.dispatch((group.get_untracked(), document.get_untracked(), false));
                    }
                >
                    "Import"
                </button>
            </div>
            {move || report.get().map(|r| view! { <ImportPreview report=r /> })}
        </section>
    }
}

#[cfg(feature = "hydrate")]
fn read_file(ev: leptos::ev::Event, document: RwSignal<String>) {
    use wasm_bindgen::JsCast;
    let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
    let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
    leptos::task::spawn_local(async move {
        if let Ok(text) = wasm_bindgen_futures::JsFuture::from(file.text()).await {
            document.set(text.as_string().unwrap_or_default());
        }
    });
}

#[cfg(not(feature = "hydrate"))]
fn read_file(_ev: leptos::ev::Event, _document: RwSignal<String>) {}

/// What an import would do (or did).
#[component]
fn ImportPreview(report: ImportReport) -> impl IntoView {
    let heading = if report.applied { "Imported" } else { "Preview" };
    let rows = |items: Vec<domain::import::ImportItem>, what: &'static str| {
        items
            .into_iter()
            .map(move |i| {
                let notes = i.details.join("; ");
                let warnings = i.warnings.join("; ");
                view! {
                    <tr>
                        <td>{what}</td>
                        <td>{i.name}</td>
                        <td><code>{i.route}</code></td>
                        <td>
                            {notes}
                            {(!warnings.is_empty()).then(|| view! { <strong class="error" role="alert">{format!(" Warning: {warnings}")}</strong> })}
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="import-preview" aria-label=heading role="region">
            <h4>{format!("{heading}: {} to add, {} to overwrite, {} skipped, {} unsupported", report.add.len(), report.overwrite.len(), report.skip.len(), report.unsupported.len())}</h4>
            <table class="grid">
                <thead><tr><th>"Action"</th><th>"API"</th><th>"Route"</th><th>"Notes"</th></tr></thead>
                <tbody>
                    {rows(report.add, "add")}
                    {rows(report.overwrite, "overwrite")}
                    {report.skip.into_iter().map(|s| view! { <tr><td>"skip"</td><td>{s.operation}</td><td></td><td>{s.reason}</td></tr> }).collect_view()}
                </tbody>
            </table>
            {(!report.unsupported.is_empty()).then(|| view! {
                <h4>"Not representable in Gantry"</h4>
                <ul class="unsupported">{report.unsupported.into_iter().map(|u| view! { <li>{u}</li> }).collect_view()}</ul>
            })}
        </div>
    }
}
