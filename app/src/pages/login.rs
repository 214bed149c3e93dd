//! The login page. The form posts to `/auth/login` (a plain axum handler), so it works before
//! the page hydrates; a failed attempt comes back with `?error=1&username=…` (`error=disabled`
//! for a disabled user who gave the right password).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/login`
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let failed = move || query.read().get("error").is_some();
    let disabled = move || query.read().get("error").as_deref() == Some("disabled");
    // A failed attempt comes back with the username it tried, so only the password is retyped.
    let username = move || query.read().get("username").unwrap_or_default();
    view! {
        <Title text="Log in · Gantry" />
        <main class="login">
            <form class="card login-card" method="post" action="/auth/login">
                <h1>"Gantry"</h1>
                <p class="muted">"Log in to the console"</p>
                <Show when=failed>
                    <p class="error" role="alert">
                        {move || {
                            if disabled() {
                                "This user is disabled: ask an admin to enable it."
                            } else {
                                "Invalid username or password."
                            }
                        }}
                    </p>
                </Show>
                <label for="username">"Username"</label>
                <input
                    id="username"
                    name="username"
                    type="text"
                    autocomplete="username"
                    required
                    value=username
                    autofocus=move || !failed()
                />
                <label for="password">"Password"</label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                    autofocus=failed
                />
                <button type="submit" class="primary">
                    "Log in"
                </button>
            </form>
        </main>
    }
}
