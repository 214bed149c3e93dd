//! The Users page (admins): every user with role, groups and status; **Create User** and, per
//! row, **Edit** (role, groups, status, a new password). Other roles are told the page is
//! for admins (the server refuses them anyway).

use crate::api::{create_user, list_users, update_user};
use crate::components::{bind, on_done, opts, Dialog, Errors, FormButtons, OtherErrors, SelectField, TextField};
use crate::list::{page_of, Arranged, ListState, Listed, Pager, SearchBox, SortHeader, SortKey};
use domain::roles::{NewUserSpec, UserPatch, UserView};
use leptos::prelude::*;
use leptos_meta::Title;

impl Listed for UserView {
    fn text(&self) -> String {
        format!("{} {} {}", self.username, self.role.label(), self.groups.as_deref().unwrap_or_default().join(" "))
    }

    fn key(&self, column: &str) -> Option<SortKey> {
        Some(match column {
            "username" => SortKey::text(&self.username),
            "role" => SortKey::text(self.role.label()),
            "status" => SortKey::Number(i64::from(self.disabled)),
            "created" => SortKey::Text(self.created_at.clone()),
            _ => return None,
        })
    }
}

/// The dialog's fields as typed.
#[derive(Debug, Clone, Default, PartialEq)]
struct UserForm {
    username: String,
    password: String,
    role: String,
    /// Comma-separated group names; empty: every group.
    groups: String,
    /// `"enabled"` or `"disabled"`.
    status: String,
}

impl UserForm {
    fn new_user() -> UserForm {
        UserForm { role: "developer".into(), status: "enabled".into(), ..Default::default() }
    }

    fn editing(user: &UserView) -> UserForm {
        UserForm {
            username: user.username.clone(),
            password: String::new(),
            role: user.role.as_str().into(),
            groups: user.groups.as_ref().map(|g| g.join(", ")).unwrap_or_default(),
            status: if user.disabled { "disabled" } else { "enabled" }.into(),
        }
    }

    /// The scope typed: `None` (every group) when empty or when the role is not developer.
    fn scope(&self) -> Option<Vec<String>> {
        let names: Vec<String> =
            self.groups.split(',').map(str::trim).filter(|g| !g.is_empty()).map(str::to_owned).collect();
        (self.role == "developer" && !names.is_empty()).then_some(names)
    }

    fn spec(&self) -> NewUserSpec {
        NewUserSpec {
            username: self.username.clone(),
            password: self.password.clone(),
            role: self.role.clone(),
            groups: self.scope(),
        }
    }

    fn patch(&self) -> UserPatch {
        UserPatch {
            role: Some(self.role.clone()),
            groups: Some(self.scope()),
            disabled: Some(self.status == "disabled"),
            password: (!self.password.is_empty()).then(|| self.password.clone()),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Editing {
    None,
    New,
    User(String),
}

const ROLES: &[(&str, &str)] = &[("admin", "Admin"), ("developer", "Developer"), ("viewer", "Viewer")];

/// `/users`
#[component]
pub fn UsersPage() -> impl IntoView {
    let list = ListState::from_url();
    let editing = RwSignal::new(Editing::None);
    let form = RwSignal::new(UserForm::new_user());
    let errors: Errors = RwSignal::new(Vec::new());
    let done = RwSignal::new(None::<String>);
    let create = Action::new(move |spec: &NewUserSpec| create_user(spec.clone()));
    let update = Action::new(move |(name, patch): &(String, UserPatch)| update_user(name.clone(), patch.clone()));
    let finished = move |outcome: Result<UserView, crate::error::ConsoleError>, verb: &'static str| match outcome {
        Ok(user) => {
            editing.set(Editing::None);
            done.set(Some(format!("User {} {verb}.", user.username)));
        }
        Err(error) => errors.set(error.field_errors()),
    };
    on_done(create, move |outcome| finished(outcome, "created"));
    on_done(update, move |outcome| finished(outcome, "saved"));
    let users = Resource::new(move || (create.version().get(), update.version().get()), |_| list_users());
    let open = move |next: Editing, with: UserForm| {
        errors.set(Vec::new());
        done.set(None);
        form.set(with);
        editing.set(next);
    };

    view! {
        <Title text="Users · Gantry" />
        <div class="page-head">
            <h1>"Users"</h1>
            <button class="primary" on:click=move |_| open(Editing::New, UserForm::new_user())>
                "Create User"
            </button>
        </div>
        <p class="hint">
            "Admins do everything, users included; developers build and release to Test and Pre-release "
            "(only in their groups, when scoped); viewers read, and debug on Test. Production is admins' alone."
        </p>
        {move || done.get().map(|message| view! { <p class="notice" role="status">{message}</p> })}
        <div class="toolbar">
            <SearchBox state=list id="user-search" placeholder="Username, role or group" />
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(rows) => {
                        let Arranged { rows, page, pages, total } = match page_of(rows, &list.get(), "No user matches the search.") {
                            Ok(shown) => shown,
                            Err(empty) => return empty,
                        };
                        view! {
                        <table class="grid" aria-label="Users">
                            <thead>
                                <tr>
                                    <SortHeader state=list column="username" label="Username" />
                                    <SortHeader state=list column="role" label="Role" />
                                    <th>"Groups"</th>
                                    <SortHeader state=list column="status" label="Status" />
                                    <SortHeader state=list column="created" label="Created" />
                                    <th>"Actions"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows.into_iter().map(|user| {
                                    let with = UserForm::editing(&user);
                                    let name = user.username.clone();
                                    view! {
                                        <tr>
                                            <td>{user.username.clone()}</td>
                                            <td>{user.role.label()}</td>
                                            <td>{user.groups.as_ref().map(|g| g.join(", ")).unwrap_or_else(|| "All groups".into())}</td>
                                            <td>{if user.disabled { "Disabled" } else { "Enabled" }}</td>
                                            <td>{user.created_at.chars().take(10).collect::<String>()}</td>
                                            <td class="actions">
                                                <button
                                                    aria-label=format!("Edit {name}")
                                                    on:click=move |_| open(Editing::User(name.clone()), with.clone())
                                                >
                                                    "Edit"
                                                </button>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <Pager state=list page pages total noun="users" />
                    }.into_any()
                    }
                    Err(error) => view! { <p class="error" role="alert">{error.message()}</p> }.into_any(),
                }
            })}
        </Transition>
        <Show when=move || editing.get() != Editing::None>
            {move || {
                let target = editing.get();
                let creating = target == Editing::New;
                let title = match &target {
                    Editing::User(name) => format!("Edit User {name}"),
                    _ => "Create User".to_owned(),
                };
                view! {
                    <Dialog title>
                        <form on:submit=move |ev| {
                            ev.prevent_default();
                            let typed = form.get_untracked();
                            match editing.get_untracked() {
                                Editing::User(name) => { update.dispatch((name, typed.patch())); }
                                _ => { create.dispatch(typed.spec()); }
                            }
                        }>
                            <Show when=move || creating>
                                <TextField label="Username" id="user-username" field="username" errors
                                    bound=bind(form, |f| f.username.clone(), |f, v| f.username = v) />
                            </Show>
                            <TextField
                                label=if creating { "Password" } else { "New password (leave empty to keep)" }
                                id="user-password" field="password" errors password=true
                                bound=bind(form, |f| f.password.clone(), |f, v| f.password = v) />
                            <SelectField label="Role" id="user-role" field="role" errors options=opts(ROLES)
                                bound=bind(form, |f| f.role.clone(), |f, v| f.role = v) />
                            <TextField label="Groups" id="user-groups" field="groups" errors
                                placeholder="petstore, orders (empty: every group)"
                                bound=bind(form, |f| f.groups.clone(), |f, v| f.groups = v) />
                            <Show when=move || !creating>
                                <SelectField label="Status" id="user-status" field="disabled" errors
                                    options=opts(&[("enabled", "Enabled"), ("disabled", "Disabled")])
                                    bound=bind(form, |f| f.status.clone(), |f, v| f.status = v) />
                            </Show>
                            <OtherErrors errors shown=vec!["username".into(), "password".into(), "role".into(), "groups".into(), "disabled".into()] />
                            <FormButtons
                                submit=if creating { "Create" } else { "Save" }
                                disabled=Signal::derive(move || create.pending().get() || update.pending().get())
                                cancel=Callback::new(move |()| editing.set(Editing::None))
                            />
                        </form>
                    </Dialog>
                }
            }}
        </Show>
    }
}
