//! The API Groups page: the list, and dialogs to create, edit and delete a group.

use crate::api::{delete_group, list_groups, save_group};
use crate::components::{bind, edits_group, on_done, Dialog, Errors, FormButtons, IfAllowed, OtherErrors, TextField};
use crate::list::{page_of, Arranged, ListState, Listed, Pager, SearchBox, SortHeader, SortKey};
use domain::group::GroupSpec;
use domain::views::GroupView;
use leptos::prelude::*;
use leptos_meta::Title;

/// What the page is doing besides listing.
#[derive(Clone, Debug, PartialEq)]
enum Editing {
    None,
    /// Creating (`None`) or editing the named group.
    Form(Option<String>),
    /// Asking before deleting the named group.
    Delete(String),
}

impl Listed for GroupView {
    fn text(&self) -> String {
        format!("{} {} {}", self.name, self.subdomain, self.description)
    }

    fn key(&self, column: &str) -> Option<SortKey> {
        Some(match column {
            "name" => SortKey::text(&self.name),
            "subdomain" => SortKey::text(&self.subdomain),
            "apis" => SortKey::Number(self.api_count as i64),
            _ => return None,
        })
    }
}

/// `/groups`
#[component]
pub fn GroupsPage() -> impl IntoView {
    let list = ListState::from_url();
    let editing = RwSignal::new(Editing::None);
    let form = RwSignal::new(GroupSpec::default());
    let errors: Errors = RwSignal::new(Vec::new());
    let failure = RwSignal::new(None::<String>);

    let open_form = move |group: Option<GroupView>| {
        errors.set(Vec::new());
        form.set(group.as_ref().map(GroupView::spec).unwrap_or_default());
        editing.set(Editing::Form(group.map(|g| g.name)));
    };
    let save =
        Action::new(move |(original, spec): &(Option<String>, GroupSpec)| save_group(original.clone(), spec.clone()));
    on_done(save, move |outcome| match outcome {
        Ok(_) => editing.set(Editing::None),
        Err(error) => errors.set(error.field_errors()),
    });
    let remove = Action::new(move |name: &String| delete_group(name.clone()));
    on_done(remove, move |outcome| {
        editing.set(Editing::None);
        failure.set(outcome.err().map(|error| error.message()));
    });
    let groups = Resource::new(move || (save.version().get(), remove.version().get()), |_| list_groups());

    view! {
        <Title text="API Groups · Gantry" />
        <div class="page-head">
            <h1>"API Groups"</h1>
            <IfAllowed when=Callback::new(|me: domain::roles::Me| me.grant.allows(domain::roles::Action::CreateGroup))>
                <button class="primary" on:click=move |_| open_form(None)>
                    "Create Group"
                </button>
            </IfAllowed>
        </div>
        {move || failure.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        <div class="toolbar">
            <SearchBox state=list id="group-search" placeholder="Name, subdomain or description" />
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match groups.await {
                    Ok(rows) if rows.is_empty() => {
                        view! { <p class="empty">"No API groups yet: Create Group makes the first, then add APIs to it."</p> }.into_any()
                    }
                    Ok(rows) => {
                        let Arranged { rows, page, pages, total } = match page_of(rows, &list.get(), "No group matches the search.") {
                            Ok(shown) => shown,
                            Err(empty) => return empty,
                        };
                        view! {
                            <table class="grid" aria-label="API groups">
                                <thead>
                                    <tr>
                                        <SortHeader state=list column="name" label="Name" />
                                        <SortHeader state=list column="subdomain" label="Subdomain" />
                                        <SortHeader state=list column="apis" label="APIs" />
                                        <th>"Description"</th>
                                        <th>"Actions"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows
                                        .into_iter()
                                        .map(|group| {
                                            let href = format!("/groups/{}", group.name);
                                            let for_edit = group.clone();
                                            let name = group.name.clone();
                                            view! {
                                                <tr>
                                                    <td>
                                                        <a href=href>{group.name.clone()}</a>
                                                    </td>
                                                    <td>
                                                        <code>{group.subdomain.clone()}</code>
                                                    </td>
                                                    <td>{group.api_count}</td>
                                                    <td>{group.description.clone()}</td>
                                                    <td class="actions">
                                                        <IfAllowed when=edits_group({
                                                            let name = name.clone();
                                                            move || name.clone()
                                                        })>
                                                            {
                                                                let (for_edit, name) = (for_edit.clone(), name.clone());
                                                                view! {
                                                                    <button on:click=move |_| open_form(Some(for_edit.clone()))>
                                                                        "Edit"
                                                                    </button>
                                                                    <button
                                                                        class="danger"
                                                                        on:click=move |_| editing.set(Editing::Delete(name.clone()))
                                                                    >
                                                                        "Delete"
                                                                    </button>
                                                                }
                                                            }
                                                        </IfAllowed>
                                                    </td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                            <Pager state=list page pages total noun="groups" />
                        }
                            .into_any()
                    }
                    Err(error) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || match editing.get() {
            Editing::None => ().into_any(),
            Editing::Form(original) => {
                let title = if original.is_some() { "Edit Group" } else { "Create Group" };
                let submit_original = original.clone();
                view! {
                    <Dialog title=title>
                        <form on:submit=move |ev| {
                            ev.prevent_default();
                            save.dispatch((submit_original.clone(), form.get_untracked()));
                        }>
                            <TextField
                                label="Name"
                                id="group-name"
                                field="name"
                                errors
                                bound=bind(form, |f| f.name.clone(), |f, v| f.name = v)
                            />
                            <TextField
                                label="Subdomain"
                                id="group-subdomain"
                                field="subdomain"
                                errors
                                placeholder="petstore"
                                bound=bind(form, |f| f.subdomain.clone(), |f, v| f.subdomain = v)
                            />
                            <TextField
                                label="Description"
                                id="group-description"
                                field="description"
                                errors
                                multiline=true
                                bound=bind(form, |f| f.description.clone(), |f, v| f.description = v)
                            />
                            <OtherErrors errors shown=vec!["name".into(), "subdomain".into(), "description".into()] />
                            <FormButtons submit="Save" disabled=Signal::derive(move || save.pending().get()) cancel=Callback::new(move |()| editing.set(Editing::None)) />
                        </form>
                    </Dialog>
                }
                    .into_any()
            }
            Editing::Delete(name) => {
                let target = name.clone();
                view! {
                    <Dialog title="Delete Group">
                        <p>
                            "Delete group " <strong>{name.clone()}</strong>
                            " with its APIs, versions and history? This cannot be undone."
                        </p>
                        <div class="dialog-buttons">
                            <button type="button" on:click=move |_| editing.set(Editing::None)>
                                "Cancel"
                            </button>
                            <button
                                class="danger"
                                on:click=move |_| {
                                    remove.dispatch(target.clone());
                                }
                            >
                                "Delete"
                            </button>
                        </div>
                    </Dialog>
                }
                    .into_any()
            }
        }}
    }
}
