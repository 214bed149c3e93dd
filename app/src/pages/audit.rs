//! The Audit Log page: every change, newest first, with who made it, from which address, in
//! which group and the fields it changed; filtered by user, group, kind of change and time
//! (a plain GET form: the filter is in the address), paged, and exported as CSV or JSON
//! lines through the REST API's `GET /audit/export`.

use crate::api::audit_log;
use domain::audit::{AuditItem, AuditQuery};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The kinds of change the filter offers (`api` matches every `api.*` action).
const KINDS: [(&str, &str); 8] = [
    ("group", "Groups"),
    ("api", "APIs"),
    ("version", "Versions"),
    ("deployment", "Releases, switches, off-lines"),
    ("domain", "Custom domains"),
    ("service", "Backend services"),
    ("app", "Apps"),
    ("policy", "Policies"),
];

fn encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The filter as a query string (without the page), for paging and export links.
fn filter_string(q: &AuditQuery) -> String {
    [("user", &q.user), ("group", &q.group), ("action", &q.action), ("from", &q.from), ("to", &q.to)]
        .iter()
        .filter_map(|(name, value)| value.as_deref().filter(|v| !v.is_empty()).map(|v| format!("{name}={}", encode(v))))
        .collect::<Vec<_>>()
        .join("&")
}

/// `/audit`
#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.get();
        AuditQuery {
            user: q.get("user"),
            group: q.get("group"),
            action: q.get("action"),
            from: q.get("from"),
            to: q.get("to"),
            page: q.get("page"),
            per_page: q.get("per_page"),
        }
    });
    let page = Resource::new(move || filter.get(), audit_log);
    let value = move |field: fn(&AuditQuery) -> &Option<String>| field(&filter.get()).clone().unwrap_or_default();
    let text_field =
        move |id: &'static str, label: &'static str, kind: &'static str, field: fn(&AuditQuery) -> &Option<String>| {
            view! {
                <div class="field">
                    <label for=format!("audit-{id}")>{label}</label>
                    <input id=format!("audit-{id}") name=id type=kind value=move || value(field) />
                </div>
            }
        };
    view! {
        <Title text="Audit Log · Gantry" />
        <div class="page-head">
            <h1>"Audit Log"</h1>
        </div>
        <p class="hint">"Every change made through the console, the REST API or the command line: who, when, from which address, and the fields it changed. Rows are never changed or deleted."</p>
        <form method="get" action="/audit" class="filters" aria-label="Filter">
            <div class="field-row">
                {text_field("user", "User", "text", |q| &q.user)}
                {text_field("group", "Group", "text", |q| &q.group)}
                <div class="field">
                    <label for="audit-action">"Kind of change"</label>
                    <select id="audit-action" name="action">
                        <option value="">"Any"</option>
                        {KINDS
                            .into_iter()
                            .map(|(kind, label)| view! { <option value=kind selected=move || value(|q| &q.action) == kind>{label}</option> })
                            .collect_view()}
                    </select>
                </div>
                {text_field("from", "From (UTC)", "datetime-local", |q| &q.from)}
                {text_field("to", "To (UTC)", "datetime-local", |q| &q.to)}
            </div>
            <button type="submit" class="primary">"Search"</button>
        </form>
        <p class="exports">
            <a href=move || format!("/api/admin/v1/audit/export?{}&format=csv", filter_string(&filter.get())) download="audit.csv">"Export CSV"</a>
            " · "
            <a href=move || format!("/api/admin/v1/audit/export?{}&format=jsonl", filter_string(&filter.get())) download="audit.jsonl">"Export JSON lines"</a>
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(found) if found.items.is_empty() => view! { <p class="empty">"No changes match."</p> }.into_any(),
                    Ok(found) => {
                        let base = filter_string(&filter.get_untracked());
                        let last = found.total.div_ceil(found.per_page).max(1);
                        let link = move |page: u64| {
                            let base = base.clone();
                            if base.is_empty() { format!("/audit?page={page}") } else { format!("/audit?{base}&page={page}") }
                        };
                        let (newer, older) = (found.page > 1, found.page < last);
                        view! {
                            <p class="muted">{format!("{} changes · page {} of {last}", found.total, found.page)}</p>
                            <AuditTable rows=found.items />
                            <nav class="pager" aria-label="Pages">
                                {newer.then(|| view! { <a href=link(found.page - 1)>"Newer"</a> })}
                                {older.then(|| view! { <a href=link(found.page + 1)>"Older"</a> })}
                            </nav>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <p class="error" role="alert">{error.message()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditTable(rows: Vec<AuditItem>) -> impl IntoView {
    view! {
        <table class="grid" aria-label="Changes">
            <thead>
                <tr>
                    <th>"Time"</th>
                    <th>"User"</th>
                    <th>"Address"</th>
                    <th>"Action"</th>
                    <th>"Group"</th>
                    <th>"Target"</th>
                    <th>"Changes"</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|item| {
                        view! {
                            <tr>
                                <td>{item.time.get(..19).unwrap_or(&item.time).replace('T', " ")}</td>
                                <td>{item.user.clone()}</td>
                                <td>{item.address.clone().unwrap_or_else(|| "-".into())}</td>
                                <td><code>{item.action.clone()}</code></td>
                                <td>{item.group.clone().unwrap_or_else(|| "-".into())}</td>
                                <td>{item.target.clone()}</td>
                                <td>
                                    <ul class="plain diff">
                                        {item
                                            .diff
                                            .iter()
                                            .take(20)
                                            .map(|c| {
                                                view! {
                                                    <li>
                                                        <code>{c.field.clone()}</code>
                                                        ": "
                                                        <span class="old">{c.old.clone().unwrap_or_else(|| "(none)".into())}</span>
                                                        " → "
                                                        <span class="new">{c.new.clone().unwrap_or_else(|| "(none)".into())}</span>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                        {(item.diff.len() > 20).then(|| view! { <li class="muted">{format!("… {} more fields", item.diff.len() - 20)}</li> })}
                                    </ul>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
