//! The API List tab: search, paging, and per API Edit, Advanced Configuration and Delete.

use crate::api::{delete_api, list_apis};
use crate::components::{edits_shared, on_done, Changes, IfAllowed};
use crate::list::{ListState, Pager, SearchBox, SortHeader};
use crate::pages::advanced_config::AdvancedConfiguration;
use crate::pages::api_authorize::AuthorizeApiDialog;
use crate::pages::api_release::ReleaseApiDialog;
use crate::pages::group::group_param;
use crate::pages::release::may_release;
use crate::pages::release::ReleaseDialog;
use domain::roles::{Action as Access, Me};
use domain::views::ApiView;
use leptos::prelude::*;

/// Rows per page.
const PER_PAGE: u64 = 20;

#[derive(Clone, Debug, PartialEq)]
enum Dialogs {
    None,
    Release,
    Advanced(ApiView),
    Delete(ApiView),
    Authorize(ApiView),
    Publish(ApiView),
}

/// `/groups/:group`
#[component]
pub fn ApiListTab() -> impl IntoView {
    let group = group_param();
    let list = ListState::from_url();
    let dialog = RwSignal::new(Dialogs::None);
    let failure = RwSignal::new(None::<String>);
    let remove = Action::new(move |id: &i32| delete_api(group.get_untracked(), *id));
    on_done(remove, move |outcome| {
        dialog.set(Dialogs::None);
        failure.set(outcome.err().map(|error| error.message()));
    });
    // The Release and Advanced Configuration dialogs.
    let changes = Changes::new();
    let closed = Callback::new(move |saved: bool| {
        dialog.set(Dialogs::None);
        if saved {
            changes.made();
        }
    });
    let apis = Resource::new(
        move || (group.get(), list.get(), remove.version().get(), changes.seen()),
        |(group, query, _, _)| list_apis(group, query.q, query.page, PER_PAGE, query.sort, query.desc),
    );

    view! {
        <div class="toolbar">
            <SearchBox state=list id="api-search" placeholder="Name or path" />
            <div class="toolbar-buttons">
                <IfAllowed when=Callback::new(move |me: Me| me.grant.allows(Access::EditGroup(&group.get_untracked())))>
                    <a class="button" href=move || format!("/groups/{}/apis/new", group.get())>
                        "Create API"
                    </a>
                </IfAllowed>
                <IfAllowed when=may_release(group)>
                    <button class="primary" on:click=move |_| dialog.set(Dialogs::Release)>
                        "Release"
                    </button>
                </IfAllowed>
            </div>
        </div>
        {move || failure.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match apis.await {
                    Ok(result) if result.total == 0 => {
                        let text = if list.get_untracked().q.is_empty() {
                            "No APIs yet: Create API defines one, or Import OpenAPI brings a document's operations."
                        } else {
                            "No API matches the search: try part of a name or a path."
                        };
                        view! { <p class="empty">{text}</p> }.into_any()
                    }
                    Ok(result) => {
                        let pages = result.pages();
                        let current = result.page;
                        let total = result.total;
                        view! {
                            <table class="grid" aria-label="APIs">
                                <thead>
                                    <tr>
                                        <SortHeader state=list column="name" label="Name" />
                                        <SortHeader state=list column="method" label="Method" />
                                        <SortHeader state=list column="path" label="Path" />
                                        <th>"Auth"</th>
                                        <th>"Backend"</th>
                                        <SortHeader state=list column="updated" label="Last change" />
                                        <th>"Actions"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {result.items.into_iter().map(|api| api_row(api, group, dialog)).collect_view()}
                                </tbody>
                            </table>
                            <Pager state=list page=current pages total noun="APIs" />
                        }
                            .into_any()
                    }
                    Err(error) => view! { <p class="error">{error.message()}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || match dialog.get() {
            Dialogs::None => ().into_any(),
            Dialogs::Release => view! { <ReleaseDialog group=group.get_untracked() version=None closed /> }.into_any(),
            Dialogs::Advanced(api) => view! { <AdvancedConfiguration group=group.get_untracked() api closed /> }.into_any(),
            Dialogs::Publish(api) => {
                view! { <ReleaseApiDialog group=group.get_untracked() api_id=api.id api_name=api.spec.name.clone() closed /> }.into_any()
            }
            Dialogs::Authorize(api) => {
                view! { <AuthorizeApiDialog group=group.get_untracked() api_id=api.id api_name=api.spec.name.clone() closed /> }.into_any()
            }
            Dialogs::Delete(api) => {
                let id = api.id;
                view! {
                    <crate::components::Dialog title="Delete API">
                        <p>
                            "Delete API " <strong>{api.spec.name.clone()}</strong>
                            " from the draft? Released versions keep it."
                        </p>
                        <div class="dialog-buttons">
                            <button type="button" on:click=move |_| dialog.set(Dialogs::None)>
                                "Cancel"
                            </button>
                            <button class="danger" on:click=move |_| { remove.dispatch(id); }>
                                "Delete"
                            </button>
                        </div>
                    </crate::components::Dialog>
                }
                    .into_any()
            }
        }}
    }
}

fn api_row(api: ApiView, group: Memo<String>, dialog: RwSignal<Dialogs>) -> impl IntoView {
    let edit = format!("/groups/{}/apis/{}", group.get_untracked(), api.id);
    // The Debug page with the group and API chosen (the environment where it is live next).
    let debug = format!("/debug?group={}&api={}", group.get_untracked(), api.id);
    let auth = match api.spec.auth {
        domain::api::AuthType::None => "None",
        domain::api::AuthType::App => "App",
    };
    let changed = api.updated_at.get(..16).unwrap_or(&api.updated_at).replace('T', " ");
    let (for_advanced, for_delete, for_authorize, for_publish) = (api.clone(), api.clone(), api.clone(), api.clone());
    view! {
        <tr>
            <td>
                {api.spec.name.clone()}
                {(!api.spec.description.is_empty()).then(|| view! { <div class="muted description">{api.spec.description.clone()}</div> })}
            </td>
            <td>
                <span class="method">{api.spec.request.method.clone()}</span>
            </td>
            <td>
                <code>{api.spec.request.path.clone()}</code>
            </td>
            <td>{auth}</td>
            <td>{api.spec.backend.summary()}</td>
            <td title=api.updated_by.clone()>{changed}</td>
            <td class="actions">
                <a class="button" href=edit>
                    "Edit"
                </a>
                <a class="button" href=debug aria-label=format!("Debug API {}", api.spec.name)>
                    "Debug API"
                </a>
                <IfAllowed when=may_release(group)>
                    <button aria-label=format!("Publish {}", api.spec.name) on:click={
                        let api = for_publish.clone();
                        move |_| dialog.set(Dialogs::Publish(api.clone()))
                    }>"Publish"</button>
                </IfAllowed>
                <IfAllowed when=edits_shared()>
                    <button on:click={
                        let api = for_authorize.clone();
                        move |_| dialog.set(Dialogs::Authorize(api.clone()))
                    }>"Authorize"</button>
                </IfAllowed>
                <IfAllowed when=Callback::new(move |me: Me| me.grant.allows(Access::EditGroup(&group.get_untracked())))>
                    <button on:click={
                        let api = for_advanced.clone();
                        move |_| dialog.set(Dialogs::Advanced(api.clone()))
                    }>"Advanced Configuration"</button>
                    <button class="danger" on:click={
                        let api = for_delete.clone();
                        move |_| dialog.set(Dialogs::Delete(api.clone()))
                    }>"Delete"</button>
                </IfAllowed>
            </td>
        </tr>
    }
}
