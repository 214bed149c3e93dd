//! The Backend Services page: a frame for now; its issue fills it in.

use leptos::prelude::*;
use leptos_meta::Title;

/// The Backend Services page.
#[component]
pub fn BackendServicesPage() -> impl IntoView {
    view! {
        <Title text="Backend Services · Gantry" />
        <h1>"Backend Services"</h1>
        <p class="muted">"Backend services with one URL per environment: not available yet."</p>
    }
}
