//! The Version Modification List: each version with its author, time, API count, where it
//! is live and what it changed against its base (expandable to the field diff), and a
//! Release button per row.

use crate::api::list_versions;
use crate::components::{Changes, IfAllowed};
use crate::list::{page_of, Arranged, ListState, Listed, Pager, SearchBox, SortHeader, SortKey};
use crate::pages::group::group_param;
use crate::pages::release::may_release;
use crate::pages::release::ReleaseDialog;
use domain::release::VersionView;
use leptos::prelude::*;

impl Listed for VersionView {
    fn text(&self) -> String {
        format!("{} {} {}", self.label, self.description, self.created_by)
    }

    fn key(&self, column: &str) -> Option<SortKey> {
        Some(match column {
            "version" => SortKey::text(&self.label),
            "created" => SortKey::Text(self.created_at.clone()),
            "apis" => SortKey::Number(self.api_count as i64),
            _ => return None,
        })
    }
}

/// `/groups/:group/versions`
#[component]
pub fn VersionsTab() -> impl IntoView {
    let group = group_param();
    let list = ListState::from_url();
    // The Release dialog.
    let changes = Changes::new();
    let versions = Resource::new(move || (group.get(), changes.seen()), |(group, _)| list_versions(group));
    let releasing = RwSignal::new(None::<String>);
    let closed = Callback::new(move |done: bool| {
        releasing.set(None);
        if done {
            changes.made();
        }
    });
    view! {
        <h2>"Version Modification List"</h2>
        <div class="toolbar">
            <SearchBox state=list id="version-search" placeholder="Label, description or author" />
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match versions.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"No versions yet. Release from the API List to freeze the draft into one."</p>
                    }.into_any(),
                    Ok(all) => {
                        let Arranged { rows, page, pages, total } = match page_of(all, &list.get(), "No version matches the search.") {
                            Ok(shown) => shown,
                            Err(empty) => return empty,
                        };
                        view! {
                        <table class="grid" aria-label="Versions">
                            <thead>
                                <tr>
                                    <SortHeader state=list column="version" label="Version" />
                                    <th>"Description"</th>
                                    <SortHeader state=list column="created" label="Created" />
                                    <SortHeader state=list column="apis" label="APIs" />
                                    <th>"Live in"</th>
                                    <th>"Changes"</th>
                                    <th>"Actions"</th>
                                </tr>
                            </thead>
                            <tbody>{rows.into_iter().map(|v| version_row(v, releasing)).collect_view()}</tbody>
                        </table>
                        <Pager state=list page pages total noun="versions" />
                    }.into_any()
                    }
                    Err(error) => view! { <p class="error">{error.message()}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || releasing.get().map(|label| view! { <ReleaseDialog group=group.get_untracked() version=Some(label) closed /> })}
    }
}

fn version_row(v: VersionView, releasing: RwSignal<Option<String>>) -> impl IntoView {
    let open = RwSignal::new(false);
    let label = v.label.clone();
    let live = v.live_in.iter().map(|e| e.label()).collect::<Vec<_>>().join(", ");
    let created = format!("{} by {}", v.created_at.get(..16).unwrap_or(&v.created_at).replace('T', " "), v.created_by);
    let base = v.base.clone().map(|b| format!(" against {b}")).unwrap_or_default();
    let changes = v.changes.clone();
    view! {
        <tr>
            <td><strong>{v.label.clone()}</strong></td>
            <td>{v.description.clone()}</td>
            <td>{created}</td>
            <td>{v.api_count}</td>
            <td>{if live.is_empty() { "-".to_owned() } else { live }}</td>
            <td>
                <span>{format!("{}{base}", v.changes.summary())}</span>
                " "
                <button class="link-button" on:click=move |_| open.update(|o| *o = !*o)>
                    {move || if open.get() { "Hide" } else { "Details" }}
                </button>
                <Show when=move || open.get()>
                    <ul class="changes">
                        {changes.added.iter().map(|(_, name)| view! { <li>{format!("added API {name}")}</li> }).collect_view()}
                        {changes.removed.iter().map(|(_, name)| view! { <li>{format!("removed API {name}")}</li> }).collect_view()}
                        {changes.changed.iter().flat_map(|c| {
                            let name = c.name.clone();
                            c.fields.iter().map(move |f| view! {
                                <li>
                                    {format!("{name}: ")}<code>{f.field.clone()}</code>
                                    {format!(" {} → {}", f.old.clone().unwrap_or_else(|| "(none)".into()), f.new.clone().unwrap_or_else(|| "(none)".into()))}
                                </li>
                            })
                        }).collect_view()}
                    </ul>
                </Show>
            </td>
            <td class="actions">
                <IfAllowed when=may_release(group_param())>
                    <button on:click={
                        let label = label.clone();
                        move |_| releasing.set(Some(label.clone()))
                    }>"Release"</button>
                </IfAllowed>
            </td>
        </tr>
    }
}
