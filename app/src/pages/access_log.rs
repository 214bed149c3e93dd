//! The Access Log page: the most recent requests this node's gateway served, newest first,
//! filtered by request id, group, API, environment, status, app, client IP and time (a plain GET
//! form: it works before hydration and the filter is in the address). Each line of a live
//! API links to the Debug API with its group, environment and API chosen.

use crate::api::access_log;
use domain::access::{AccessLine, AccessQuery};
use domain::Environment;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/access-log`
#[component]
pub fn AccessLogPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.get();
        AccessQuery {
            request_id: q.get("request_id"),
            group: q.get("group"),
            api: q.get("api"),
            env: q.get("env"),
            status: q.get("status"),
            app: q.get("app"),
            client_ip: q.get("client_ip"),
            from: q.get("from"),
            to: q.get("to"),
            limit: q.get("limit"),
        }
    });
    let lines = Resource::new(move || filter.get(), access_log);
    let value = move |field: fn(&AccessQuery) -> &Option<String>| field(&filter.get()).clone().unwrap_or_default();
    let text_field = move |id: &'static str, label: &'static str, field: fn(&AccessQuery) -> &Option<String>| {
        view! {
            <div class="field">
                <label for=format!("access-{id}")>{label}</label>
                <input id=format!("access-{id}") name=id value=move || value(field) />
            </div>
        }
    };

    view! {
        <Title text="Access Log · Gantry" />
        <div class="page-head">
            <h1>"Access Log"</h1>
        </div>
        <p class="hint">
            "The most recent requests the gateway answered (up to 100,000 per gateway node, every live node searched, newest first). A caller's "
            <code>"X-Ca-Request-Id"</code> " finds its request."
        </p>
        <form method="get" action="/access-log" class="filters" aria-label="Filter">
            <div class="field-row">
                {text_field("request_id", "Request ID", |q| &q.request_id)}
                {text_field("group", "Group", |q| &q.group)}
                {text_field("api", "API", |q| &q.api)}
                <div class="field">
                    <label for="access-env">"Environment"</label>
                    <select id="access-env" name="env">
                        <option value="">"Any"</option>
                        {Environment::ALL
                            .into_iter()
                            .map(|e| {
                                view! {
                                    <option value=e.as_str() selected=move || value(|q| &q.env) == e.as_str()>
                                        {e.label()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
                {text_field("status", "Status", |q| &q.status)}
                {text_field("app", "App", |q| &q.app)}
                {text_field("client_ip", "Client IP", |q| &q.client_ip)}
                <div class="field">
                    <label for="access-from">"From (UTC)"</label>
                    <input id="access-from" name="from" type="datetime-local" value=move || value(|q| &q.from) />
                </div>
                <div class="field">
                    <label for="access-to">"To (UTC)"</label>
                    <input id="access-to" name="to" type="datetime-local" value=move || value(|q| &q.to) />
                </div>
            </div>
            <button type="submit" class="primary">"Search"</button>
        </form>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match lines.await {
                    Ok(found) => {
                        let missing = (!found.unreachable.is_empty()).then(|| view! {
                            <p class="warning" role="note">
                                {format!("These gateway nodes did not answer; their requests are missing: {}", found.unreachable.join(", "))}
                            </p>
                        });
                        let rows = found.items;
                        let table = if rows.is_empty() {
                            view! { <p class="empty">"No requests match."</p> }.into_any()
                        } else {
                            view! { <AccessTable rows /> }.into_any()
                        };
                        view! { {missing} {table} }.into_any()
                    }
                    Err(error) => view! { <p class="error" role="alert">{error.message()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AccessTable(rows: Vec<AccessLine>) -> impl IntoView {
    view! {
        <table class="grid" aria-label="Requests">
            <thead>
                <tr>
                    <th>"Time"</th>
                    <th>"Request ID"</th>
                    <th>"Group"</th>
                    <th>"API"</th>
                    <th>"Environment"</th>
                    <th>"Method"</th>
                    <th>"Path"</th>
                    <th>"Status"</th>
                    <th>"Latency (ms)"</th>
                    <th>"App"</th>
                    <th>"Client IP"</th>
                    <th>"Node"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|line| {
                        let debug = match (&line.group, line.env, line.api_id) {
                            (Some(group), Some(env), Some(api)) => Some(format!(
                                "/debug?group={}&env={}&api={api}",
                                percent(group),
                                env.as_str()
                            )),
                            _ => None,
                        };
                        let class = if line.status >= 500 { "status bad" } else if line.status >= 400 { "status warn" } else { "status ok" };
                        view! {
                            <tr>
                                <td>{line.time.replace('T', " ").trim_end_matches('Z').to_owned()}</td>
                                <td><code>{line.request_id.clone()}</code></td>
                                <td>{line.group.clone().unwrap_or_else(|| "-".into())}</td>
                                <td>{line.api.clone().unwrap_or_else(|| "-".into())}</td>
                                <td>{line.env.map(|e| e.label()).unwrap_or("-")}</td>
                                <td>{line.method.clone()}</td>
                                <td><code>{line.path.clone()}</code></td>
                                <td><span class=class>{line.status}</span></td>
                                <td>{format!("{:.2}", line.latency_ms)}</td>
                                <td>{line.app.clone().unwrap_or_else(|| "-".into())}</td>
                                <td>{line.client_ip.clone()}</td>
                                <td class="muted">{line.node.clone().unwrap_or_else(|| "-".into())}</td>
                                <td class="actions">
                                    {debug.map(|href| view! { <a href=href>"Open in Debug API"</a> })}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// A query-string value, percent-encoded.
fn percent(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
