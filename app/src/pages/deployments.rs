//! Deployment Management: per environment the live version and backend, Switch Version and
//! Off-line (or Request Release where Production needs an admin's approval), the canary
//! beside it (Start Canary, Adjust Canary, Promote, Roll Back), the release requests, the
//! history below.

use crate::api::list_deployments;
use crate::components::{Changes, IfAllowed};
use crate::pages::approvals::{ReleaseRequests, RequestDialog};
use crate::pages::canary::{CanaryDecisionDialog, CanaryDialog};
use crate::pages::domains::CustomDomains;
use crate::pages::group::group_param;
use crate::pages::release::{OfflineDialog, SwitchDialog};
use domain::release::DeploymentView;
use domain::roles::Me;
use domain::Environment;
use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq)]
enum Dialogs {
    None,
    Switch(DeploymentView),
    Offline(DeploymentView),
    /// Request Release (Production, for users who may not change it directly).
    Request,
    /// Start Canary, or Adjust Canary when one runs.
    Canary(DeploymentView),
    /// Promote (`true`) or Roll Back the canary.
    Decide(DeploymentView, bool),
}

fn when(at: &str) -> String {
    at.get(..19).unwrap_or(at).replace('T', " ")
}

/// `/groups/:group/deployments`
#[component]
pub fn DeploymentsTab() -> impl IntoView {
    let group = group_param();
    // Switch Version and Off-line dialogs.
    let changes = Changes::new();
    let data = Resource::new(move || (group.get(), changes.seen()), |(group, _)| list_deployments(group));
    let dialog = RwSignal::new(Dialogs::None);
    let closed = Callback::new(move |done: bool| {
        dialog.set(Dialogs::None);
        if done {
            changes.made();
        }
    });
    view! {
        <h2>"Deployment Management"</h2>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((live, history)) => view! {
                        <div class="environments">
                            {Environment::ALL.into_iter().map(|env| {
                                let current = live.iter().find(|d| d.environment == env).cloned();
                                environment_card(&group.get_untracked(), env, current, dialog)
                            }).collect_view()}
                        </div>
                        <h3>"History"</h3>
                        {if history.is_empty() {
                            view! { <p class="empty">"Nothing released yet."</p> }.into_any()
                        } else {
                            view! {
                                <table class="grid" aria-label="History">
                                    <thead><tr><th>"When"</th><th>"Action"</th><th>"Environment"</th><th>"From"</th><th>"To"</th><th>"Backend"</th><th>"Note"</th><th>"By"</th></tr></thead>
                                    <tbody>
                                        {history.into_iter().map(|e| view! {
                                            <tr>
                                                <td>{when(&e.at)}</td>
                                                <td>{e.action.clone()}</td>
                                                <td>{e.environment.label()}</td>
                                                <td>{e.from_version.clone().unwrap_or_else(|| "-".into())}</td>
                                                <td>{e.to_version.clone().unwrap_or_else(|| "-".into())}</td>
                                                <td>{e.backend.as_ref().map(|b| b.describe()).unwrap_or_else(|| "-".into())}</td>
                                                <td>{e.note.clone()}</td>
                                                <td>{e.actor.clone()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                    }.into_any(),
                    Err(error) => view! { <p class="error">{error.message()}</p> }.into_any(),
                }
            })}
        </Transition>
        <ReleaseRequests group changes />
        <TrafficSparklines group />
        <PoliciesInForce group />
        <CustomDomains group />
        {move || match dialog.get() {
            Dialogs::None => ().into_any(),
            Dialogs::Switch(live) => view! { <SwitchDialog group=group.get_untracked() live closed /> }.into_any(),
            Dialogs::Offline(live) => view! { <OfflineDialog group=group.get_untracked() live closed /> }.into_any(),
            Dialogs::Request => view! { <RequestDialog group=group.get_untracked() closed /> }.into_any(),
            Dialogs::Canary(live) => view! { <CanaryDialog group=group.get_untracked() live closed /> }.into_any(),
            Dialogs::Decide(live, promote) => {
                view! { <CanaryDecisionDialog group=group.get_untracked() live promote closed /> }.into_any()
            }
        }}
    }
}

fn environment_card(
    group: &str,
    env: Environment,
    live: Option<DeploymentView>,
    dialog: RwSignal<Dialogs>,
) -> impl IntoView {
    let group = group.to_owned();
    let may_request = {
        let group = group.clone();
        Callback::new(move |me: Me| me.may_request(&group, env))
    };
    let may_deploy = Callback::new(move |me: Me| me.may_deploy(&group, env));
    let heading = format!("env-{}", env.as_str());
    let body = match live {
        None => view! { <p class="muted">"Not released."</p> }.into_any(),
        Some(d) => {
            let (for_switch, for_offline, for_canary) = (d.clone(), d.clone(), d.clone());
            view! {
                <dl>
                    <dt>"Version"</dt><dd class="live-version">{d.version.clone()}</dd>
                    <dt>"Backend"</dt><dd>{d.backend.describe()}</dd>
                    <dt>"Released"</dt><dd>{format!("{} by {}", when(&d.released_at), d.released_by)}</dd>
                    <dt>"Note"</dt><dd>{d.note.clone()}</dd>
                </dl>
                {(!d.offline.is_empty()).then(|| view! {
                    <div class="offline-apis" role="note">
                        <strong>"Off-line APIs"</strong>
                        <ul class="plain">
                            {d.offline.iter().map(|o| view! { <li>{format!("{}: {}", o.api, o.reason)}</li> }).collect_view()}
                        </ul>
                    </div>
                })}
                <IfAllowed when=may_deploy>
                    <div class="card-buttons">
                        <button on:click={
                            let live = for_switch.clone();
                            move |_| dialog.set(Dialogs::Switch(live.clone()))
                        }>"Switch Version"</button>
                        {for_canary.canary.is_none().then(|| {
                            let live = for_canary.clone();
                            view! { <button on:click=move |_| dialog.set(Dialogs::Canary(live.clone()))>"Start Canary"</button> }
                        })}
                        <button class="danger" on:click={
                            let live = for_offline.clone();
                            move |_| dialog.set(Dialogs::Offline(live.clone()))
                        }>"Off-line"</button>
                    </div>
                </IfAllowed>
                {d.canary.clone().map(|canary| {
                    let live = d.clone();
                    view! {
                        <div class="canary" role="group" aria-label=format!("Canary in {}", env.label())>
                            <dl>
                                <dt>"Canary"</dt><dd class="canary-version">{canary.version.clone()}</dd>
                                <dt>"Takes"</dt><dd>{canary.describe()}</dd>
                                <dt>"Canary backend"</dt><dd>{canary.backend.describe()}</dd>
                                <dt>"Since"</dt><dd>{format!("{} by {}", when(&canary.started_at), canary.started_by)}</dd>
                            </dl>
                            <IfAllowed when=may_deploy>
                                {
                                    let (adjust, promote, rollback) = (live.clone(), live.clone(), live.clone());
                                    view! {
                                        <div class="card-buttons">
                                            <button on:click=move |_| dialog.set(Dialogs::Canary(adjust.clone()))>"Adjust Canary"</button>
                                            <button class="primary" on:click=move |_| dialog.set(Dialogs::Decide(promote.clone(), true))>"Promote"</button>
                                            <button class="danger" on:click=move |_| dialog.set(Dialogs::Decide(rollback.clone(), false))>"Roll Back"</button>
                                        </div>
                                    }
                                }
                            </IfAllowed>
                        </div>
                    }
                })}
            }.into_any()
        }
    };
    let labelledby = heading.clone();
    view! {
        <section class="card environment" aria-labelledby=labelledby>
            <h3 id=heading>{env.label()}</h3>
            <p class="muted stage">{format!("X-Ca-Stage: {}", env.stage())}</p>
            {body}
            <IfAllowed when=may_request>
                <div class="card-buttons">
                    <button on:click=move |_| dialog.set(Dialogs::Request)>"Request Release"</button>
                </div>
            </IfAllowed>
        </section>
    }
}

/// Each environment's requests over the last 24 hours, as a sparkline (the Monitoring tab
/// has the charts).
#[component]
fn TrafficSparklines(group: Memo<String>) -> impl IntoView {
    let lines = Resource::new(move || group.get(), crate::api::deployment_sparklines);
    view! {
        <h3>"Traffic (last 24 hours)"</h3>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match lines.await {
                    Ok(lines) => view! {
                        <ul class="plain sparklines" aria-label="Traffic per environment">
                            {lines.into_iter().map(|line| view! {
                                <li class="sparkline" data-env=line.env.as_str()>
                                    <span class="sparkline-env">{line.env.label()}</span>
                                    <span class="sparkline-svg" inner_html=line.svg></span>
                                    <span class="muted">{format!("{} requests", line.requests)}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                        <p><a href=format!("/groups/{}/monitoring", group.get_untracked())>"Open Monitoring"</a></p>
                    }.into_any(),
                    Err(error) => view! { <p class="error">{error.message()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The traffic policies bound in the group, per environment (bound and unbound on the
/// Policies pages; they apply without a release).
#[component]
fn PoliciesInForce(group: Memo<String>) -> impl IntoView {
    let bindings = Resource::new(move || group.get(), crate::api::group_policies);
    view! {
        <h3>"Policies in force"</h3>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match bindings.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted">"No traffic policy is bound in this group (see " <a href="/policies">"Policies"</a> ")."</p>
                    }.into_any(),
                    Ok(mut list) => {
                        list.sort_by(|a, b| (a.env, &a.policy).cmp(&(b.env, &b.policy)));
                        view! {
                            <table class="grid" aria-label="Policies in force">
                                <thead><tr><th>"Environment"</th><th>"Policy"</th><th>"Type"</th><th>"Applies to"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|b| view! {
                                        <tr>
                                            <td>{b.env.label()}</td>
                                            <td><a href=format!("/policies/{}", b.policy)>{b.policy.clone()}</a></td>
                                            <td>{b.kind.label()}</td>
                                            <td>{b.api_name.clone().unwrap_or_else(|| "All APIs of the group".into())}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                    Err(error) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}
