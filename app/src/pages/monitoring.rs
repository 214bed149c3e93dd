//! The Monitoring pages: a group's traffic (requests and error rate, its APIs by traffic
//! and by p99) and one API's (requests, 4xx/5xx, p50/p95/p99 latency with the range's
//! releases and switches as markers), and on both, each version's traffic (a line per
//! version when two answered, as in a canary). Charts are SVG drawn on the server; the
//! range and environment pickers are a plain GET form, so the pages read the same before
//! hydration (their routes render with `SsrMode::Async`: the HTML holds the charts).

use crate::api::{api_monitor, group_monitor};
use crate::pages::api_policies::ApiTabs;
use crate::pages::group::group_param;
use domain::stats::{ApiTraffic, StatsQuery, StatsRange, StatsView, VersionSeries};
use domain::Environment;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The range and environment in the address (`?range=24h&env=prod`).
fn picked() -> Memo<StatsQuery> {
    let query = use_query_map();
    Memo::new(move |_| {
        let q = query.get();
        StatsQuery { env: q.get("env"), api: None, range: q.get("range") }
    })
}

/// The range and environment pickers.
#[component]
fn Pickers(action: String, picked: Memo<StatsQuery>) -> impl IntoView {
    let range = move || picked.get().range.unwrap_or_else(|| StatsRange::default().as_str().to_owned());
    let env = move || picked.get().env.unwrap_or_default();
    view! {
        <form method="get" action=action class="filters pickers" aria-label="Chart range">
            <div class="field-row">
                <div class="field">
                    <label for="monitor-range">"Time range"</label>
                    <select id="monitor-range" name="range">
                        {StatsRange::ALL
                            .into_iter()
                            .map(|r| view! { <option value=r.as_str() selected=move || range() == r.as_str()>{r.label()}</option> })
                            .collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="monitor-env">"Environment"</label>
                    <select id="monitor-env" name="env">
                        <option value="all" selected=move || env().is_empty() || env() == "all">"All environments"</option>
                        {Environment::ALL
                            .into_iter()
                            .map(|e| view! { <option value=e.as_str() selected=move || env() == e.as_str()>{e.label()}</option> })
                            .collect_view()}
                    </select>
                </div>
            </div>
            <button type="submit" class="primary">"Show"</button>
        </form>
    }
}

/// A chart as a labelled figure (the SVG comes from the server's `charts`).
#[component]
fn Chart(label: &'static str, caption: String, svg: String, points: usize) -> impl IntoView {
    view! {
        <figure class="chart" aria-label=label data-points=points.to_string()>
            <figcaption>{caption}</figcaption>
            <div class="chart-svg" inner_html=svg></div>
        </figure>
    }
}

fn step_name(view: &StatsView) -> &'static str {
    match view.bucket_seconds {
        60 => "per minute",
        900 => "per 15 minutes",
        _ => "per hour",
    }
}

fn ms(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into())
}

/// The versions that answered in the range: a line each on the version charts (drawn when
/// two or more answered, as during a canary), and their totals as a table.
fn by_version(view: &StatsView, charts: Vec<(&'static str, String, String)>) -> impl IntoView {
    let versions = view.versions.clone();
    let total = view.total_requests().max(1) as f64;
    let points = view.buckets.iter().filter(|b| b.requests > 0).count();
    (!versions.is_empty()).then(move || {
        view! {
            <h3>"By version"</h3>
            {charts
                .into_iter()
                .filter(|(_, _, svg)| !svg.is_empty())
                .map(|(label, caption, svg)| view! { <Chart label caption svg points /> })
                .collect_view()}
            <table class="grid" aria-label="Traffic by version">
                <thead>
                    <tr>
                        <th>"Version"</th>
                        <th>"Requests"</th>
                        <th>"Share"</th>
                        <th>"5xx"</th>
                        <th>"p99 (ms)"</th>
                    </tr>
                </thead>
                <tbody>
                    {versions
                        .into_iter()
                        .map(|v: VersionSeries| {
                            let name = if v.version == domain::stats::NO_VERSION { "(no version live)".to_owned() } else { v.version.clone() };
                            view! {
                                <tr>
                                    <td>{name}</td>
                                    <td>{v.requests}</td>
                                    <td>{format!("{:.1} %", 100.0 * v.requests as f64 / total)}</td>
                                    <td>{v.status_5xx}</td>
                                    <td>{ms(v.p99_ms)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        }
    })
}

/// The deployments of the range, as text beside the markers.
fn events_list(view: &StatsView) -> impl IntoView {
    let events = view.events.clone();
    (!events.is_empty()).then(|| {
        view! {
            <ul class="plain events" aria-label="Deployments in range">
                {events
                    .into_iter()
                    .map(|e| {
                        let what = match &e.version {
                            Some(v) => format!("{} of {v}", e.action),
                            None => e.action.clone(),
                        };
                        view! { <li>{format!("{} · {} · {what}", e.time.get(..16).unwrap_or(&e.time).replace('T', " "), e.env.label())}</li> }
                    })
                    .collect_view()}
            </ul>
        }
    })
}

/// `/groups/:group/monitoring`
#[component]
pub fn GroupMonitoringTab() -> impl IntoView {
    let group = group_param();
    let picked = picked();
    let data = Resource::new(move || (group.get(), picked.get()), |(group, query)| group_monitor(group, query));
    view! {
        <h2>"Monitoring"</h2>
        <Pickers action=format!("/groups/{}/monitoring", group.get_untracked()) picked />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(m) => {
                        let stats = &m.overview.stats;
                        let points = stats.buckets.iter().filter(|b| b.requests > 0).count();
                        let step = step_name(stats);
                        let slowest = m.overview.slowest(5);
                        view! {
                            <p class="muted">{format!("{} requests in range. Times in UTC.", stats.total_requests())}</p>
                            <Chart label="Requests" caption=format!("Requests, 4xx and 5xx {step}") svg=m.requests_svg.clone() points />
                            <Chart label="Error rate" caption=format!("Share of 5xx answers {step}") svg=m.errors_svg.clone() points />
                            {events_list(stats)}
                            {by_version(stats, vec![("Requests by version", format!("Requests per version {step}"), m.versions_svg.clone())])}
                            <h3>"Top APIs by traffic"</h3>
                            {traffic_table("Top APIs by traffic", group.get_untracked(), m.overview.apis.clone())}
                            <h3>"Slowest APIs (p99)"</h3>
                            {traffic_table("Slowest APIs", group.get_untracked(), slowest)}
                        }
                            .into_any()
                    }
                    Err(error) => view! { <p class="error" role="alert">{error.message()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn traffic_table(label: &'static str, group: String, apis: Vec<ApiTraffic>) -> AnyView {
    if apis.is_empty() {
        return view! { <p class="empty">"No traffic in this range."</p> }.into_any();
    }
    view! {
        <table class="grid" aria-label=label>
            <thead>
                <tr>
                    <th>"API"</th>
                    <th>"Requests"</th>
                    <th>"4xx"</th>
                    <th>"5xx"</th>
                    <th>"Error rate"</th>
                    <th>"p99 (ms)"</th>
                </tr>
            </thead>
            <tbody>
                {apis
                    .into_iter()
                    .map(|a| {
                        let name = match a.api_id {
                            Some(id) => view! { <a href=format!("/groups/{group}/apis/{id}/monitoring")>{a.api.clone()}</a> }.into_any(),
                            None => view! { <span class="muted">{a.api.clone()}</span> }.into_any(),
                        };
                        view! {
                            <tr>
                                <td>{name}</td>
                                <td>{a.requests}</td>
                                <td>{a.status_4xx}</td>
                                <td>{a.status_5xx}</td>
                                <td>{format!("{:.1} %", a.error_rate * 100.0)}</td>
                                <td>{ms(a.p99_ms)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// `/groups/:group/apis/:id/monitoring`
#[component]
pub fn ApiMonitoringPage() -> impl IntoView {
    let group = group_param();
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|id| id.parse::<i32>().ok()).unwrap_or(0));
    let picked = picked();
    let data = Resource::new(
        move || (group.get(), id.get(), picked.get()),
        |(group, id, query)| api_monitor(group, id, query),
    );
    view! {
        <ApiTabs group=group.get_untracked() id=id.get_untracked() />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(m) => {
                        let stats = &m.stats;
                        let points = stats.buckets.iter().filter(|b| b.requests > 0).count();
                        let step = step_name(stats);
                        let total = stats.total_requests();
                        let sum = |f: fn(&domain::stats::StatsBucket) -> u64| stats.buckets.iter().map(f).sum::<u64>();
                        let (c4, c5) = (sum(|b| b.status_4xx), sum(|b| b.status_5xx));
                        view! {
                            <Title text=format!("Monitoring · {} · Gantry", m.api) />
                            <h2>{format!("Monitoring: {}", m.api)}</h2>
                            <Pickers action=format!("/groups/{}/apis/{}/monitoring", group.get_untracked(), id.get_untracked()) picked />
                            <dl class="totals">
                                <dt>"Requests"</dt><dd>{total}</dd>
                                <dt>"4xx"</dt><dd>{c4}</dd>
                                <dt>"5xx"</dt><dd>{c5}</dd>
                            </dl>
                            <p class="muted">"Times in UTC. Purple lines mark releases, switches and off-lines."</p>
                            <Chart label="Requests" caption=format!("Requests, 4xx and 5xx {step}") svg=m.requests_svg.clone() points />
                            <Chart label="Latency" caption=format!("Latency p50, p95 and p99 (ms) {step}") svg=m.latency_svg.clone() points />
                            {events_list(stats)}
                            {by_version(stats, vec![
                                ("Requests by version", format!("Requests per version {step}"), m.versions_svg.clone()),
                                ("Latency by version", format!("Latency p99 (ms) per version {step}"), m.version_latency_svg.clone()),
                            ])}
                        }
                            .into_any()
                    }
                    Err(error) => view! { <p class="error" role="alert">{error.message()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
