//! The API Tokens page (under the user menu): the admin REST API's bearer tokens, with
//! **Create Token** (the token is shown once) and **Revoke**.

use crate::api::{create_token, list_tokens, revoke_token};
use crate::components::{bind, on_done, opts, Dialog, Errors, FormButtons, OtherErrors, SelectField, TextField};
use crate::list::{page_of, Arranged, ListState, Listed, Pager, SearchBox, SortHeader, SortKey};
use domain::views::TokenSpec;
use domain::views::TokenView;
use leptos::prelude::*;
use leptos_meta::Title;

impl Listed for TokenView {
    fn text(&self) -> String {
        format!("{} {}", self.name, self.user)
    }

    fn key(&self, column: &str) -> Option<SortKey> {
        Some(match column {
            "name" => SortKey::text(&self.name),
            "user" => SortKey::text(&self.user),
            // RFC 3339 times in UTC sort as text.
            "created" => SortKey::Text(self.created_at.clone()),
            "used" => SortKey::Text(self.last_used_at.clone().unwrap_or_default()),
            _ => return None,
        })
    }
}

/// `/tokens`
#[component]
pub fn TokensPage() -> impl IntoView {
    let list = ListState::from_url();
    let creating = RwSignal::new(false);
    // The token whose Revoke is being confirmed: (id, name).
    let revoking = RwSignal::new(None::<(i32, String)>);
    let form = RwSignal::new(TokenSpec::default());
    let errors: Errors = RwSignal::new(Vec::new());
    // The token just created: shown once, until the page is left.
    let created = RwSignal::new(None::<String>);
    let failure = RwSignal::new(None::<String>);
    let save = Action::new(move |spec: &TokenSpec| create_token(spec.clone()));
    on_done(save, move |outcome| match outcome {
        Ok(new) => {
            creating.set(false);
            created.set(Some(new.token));
        }
        Err(error) => errors.set(error.field_errors()),
    });
    let revoke = Action::new(move |id: &i32| revoke_token(*id));
    on_done(revoke, move |outcome| {
        revoking.set(None);
        failure.set(outcome.err().map(|error| error.message()))
    });
    let tokens = Resource::new(move || (save.version().get(), revoke.version().get()), |_| list_tokens());

    view! {
        <Title text="API Tokens · Gantry" />
        <div class="page-head">
            <h1>"API Tokens"</h1>
            <button
                class="primary"
                on:click=move |_| {
                    errors.set(Vec::new());
                    form.set(TokenSpec::default());
                    creating.set(true);
                }
            >
                "Create Token"
            </button>
        </div>
        <p class="hint">
            "Bearer tokens for the admin REST API (" <code>"Authorization: Bearer gty_…"</code>
            "). A token is shown once, when it is created; revoking it stops it at once."
        </p>
        {move || created.get().map(|token| view! {
            <div class="card" role="status" aria-label="New token">
                <p>"Copy this token now; it will not be shown again:"</p>
                <code data-testid="new-token">{token}</code>
            </div>
        })}
        {move || failure.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        <div class="toolbar">
            <SearchBox state=list id="token-search" placeholder="Name or user" />
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="empty">"No tokens yet: Create Token gives a script or CI job its own credential for the REST API."</p> }.into_any(),
                    Ok(rows) => {
                        let Arranged { rows, page, pages, total } = match page_of(rows, &list.get(), "No token matches the search.") {
                            Ok(shown) => shown,
                            Err(empty) => return empty,
                        };
                        view! {
                            <table class="grid" aria-label="Tokens">
                                <thead>
                                    <tr>
                                        <SortHeader state=list column="name" label="Name" />
                                        <SortHeader state=list column="user" label="User" />
                                        <SortHeader state=list column="created" label="Created" />
                                        <SortHeader state=list column="used" label="Last used" />
                                        <th>"Expires"</th>
                                        <th>"Actions"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows
                                        .into_iter()
                                        .map(|token| {
                                            let id = token.id;
                                            let name = token.name.clone();
                                            let expires = match (&token.expires_at, token.expired) {
                                                (_, true) => "Expired".to_owned(),
                                                (Some(at), false) => at.chars().take(10).collect(),
                                                (None, false) => "Never".to_owned(),
                                            };
                                            view! {
                                                <tr>
                                                    <td>{token.name.clone()}</td>
                                                    <td>{token.user.clone()}</td>
                                                    <td>{token.created_at.chars().take(16).collect::<String>().replace('T', " ")}</td>
                                                    <td>
                                                        {token
                                                            .last_used_at
                                                            .clone()
                                                            .map(|t| t.chars().take(16).collect::<String>().replace('T', " "))
                                                            .unwrap_or_else(|| "Never".to_owned())}
                                                    </td>
                                                    <td>{expires}</td>
                                                    <td class="actions">
                                                        <button class="danger" on:click=move |_| revoking.set(Some((id, name.clone())))>"Revoke"</button>
                                                    </td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                            <Pager state=list page pages total noun="tokens" />
                        }
                            .into_any()
                    }
                    Err(error) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || revoking.get().map(|(id, name)| view! {
            <Dialog title="Revoke Token">
                <p>
                    "Revoke token " <strong>{name}</strong>
                    "? Every script or job that uses it gets 401 from its next request. This cannot be undone."
                </p>
                <div class="dialog-buttons">
                    <button type="button" on:click=move |_| revoking.set(None)>"Cancel"</button>
                    <button class="danger" disabled=move || revoke.pending().get() on:click=move |_| {
                        revoke.dispatch(id);
                    }>"Revoke"</button>
                </div>
            </Dialog>
        })}
        <Show when=move || creating.get()>
            <Dialog title="Create Token">
                <form on:submit=move |ev| {
                    ev.prevent_default();
                    save.dispatch(form.get_untracked());
                }>
                    <TextField
                        label="Name"
                        id="token-name"
                        field="name"
                        errors
                        bound=bind(form, |f| f.name.clone(), |f, v| f.name = v)
                    />
                    <SelectField
                        label="Expires"
                        id="token-expires"
                        field="expires_in_days"
                        errors
                        options=opts(&[("", "Never"), ("7", "In 7 days"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")])
                        bound=bind(form, |f| f.expires_in_days.map(|d| d.to_string()).unwrap_or_default(), |f, v| {
                            f.expires_in_days = v.parse().ok();
                        })
                    />
                    <OtherErrors errors shown=vec!["name".into(), "expires_in_days".into()] />
                    <FormButtons
                        submit="Create"
                        disabled=Signal::derive(move || save.pending().get())
                        cancel=Callback::new(move |()| creating.set(false))
                    />
                </form>
            </Dialog>
        </Show>
    }
}
