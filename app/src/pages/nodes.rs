//! The Gateway Nodes page: every node of the cluster (role, address, version), the
//! configuration revision it serves against the current one, its last heartbeat, and
//! whether it is **In sync**, **Behind** (drift) or **Stale** (no heartbeat: stopped, cut off
//! or hung). **Refresh** reads them again.

use crate::api::list_nodes;
use domain::cluster::NodeView;
use leptos::prelude::*;
use leptos_meta::Title;

/// What the Status column says of a node.
fn status(node: &NodeView) -> (&'static str, &'static str) {
    if node.stale {
        ("Stale", "status bad")
    } else if node.lag > 0 {
        ("Behind", "status warn")
    } else {
        ("In sync", "status ok")
    }
}

/// `/nodes`
#[component]
pub fn NodesPage() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let nodes = Resource::new(move || refresh.get(), |_| list_nodes());
    view! {
        <Title text="Gateway Nodes · Gantry" />
        <div class="page-head">
            <h1>"Gateway Nodes"</h1>
            <button on:click=move |_| refresh.update(|n| *n += 1)>"Refresh"</button>
        </div>
        <p class="hint">
            "Every Gantry process on this database. A node applies each committed change (release, switch, off-line, apps, policies, services, domains) and says which configuration revision it serves; one that has not said so for a few seconds is stale."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match nodes.await {
                    Ok(view) => {
                        let current = view.current_revision;
                        view! {
                            <p>
                                "Current revision: " <strong data-testid="current-revision">{current}</strong>
                                " · stale after " {view.stale_after_s} " s without a heartbeat"
                            </p>
                            <table class="grid" aria-label="Nodes">
                                <thead>
                                    <tr>
                                        <th>"Node"</th>
                                        <th>"Role"</th>
                                        <th>"Address"</th>
                                        <th>"Version"</th>
                                        <th>"Applied Revision"</th>
                                        <th>"Lag"</th>
                                        <th>"Last Heartbeat"</th>
                                        <th>"Status"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {view
                                        .items
                                        .into_iter()
                                        .map(|node| {
                                            let (label, class) = status(&node);
                                            view! {
                                                <tr>
                                                    <td><code>{node.id.clone()}</code></td>
                                                    <td>{node.role.as_str()}</td>
                                                    <td>{node.address.clone()}</td>
                                                    <td>{node.version.clone()}</td>
                                                    <td>{node.applied_revision}</td>
                                                    <td>{node.lag}</td>
                                                    <td>{node.last_heartbeat.chars().take(19).collect::<String>().replace('T', " ")}</td>
                                                    <td><span class=class>{label}</span></td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}
