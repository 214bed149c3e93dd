//! The Apps page: a frame for now; its issue fills it in.

use leptos::prelude::*;
use leptos_meta::Title;

/// The Apps page.
#[component]
pub fn AppsPage() -> impl IntoView {
    view! {
        <Title text="Apps · Gantry" />
        <h1>"Apps"</h1>
        <p class="muted">"Apps (AppKey, AppSecret, AppCode) and their authorizations: not available yet."</p>
    }
}
