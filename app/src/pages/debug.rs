//! The Debug API page: a frame for now; its issue fills it in.

use leptos::prelude::*;
use leptos_meta::Title;

/// The Debug API page.
#[component]
pub fn DebugPage() -> impl IntoView {
    view! {
        <Title text="Debug API · Gantry" />
        <h1>"Debug API"</h1>
        <p class="muted">"Calling a released API through the gateway: not available yet."</p>
    }
}
