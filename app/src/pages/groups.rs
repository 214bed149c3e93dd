//! The API Groups page. (Create, edit and delete arrive with the API definitions issue.)

use crate::api::list_groups;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/groups`
#[component]
pub fn GroupsPage() -> impl IntoView {
    let groups = Resource::new(|| (), |_| list_groups());
    view! {
        <Title text="API Groups · Gantry" />
        <h1>"API Groups"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match groups.await {
                    Ok(rows) if rows.is_empty() => {
                        view! { <p class="empty">"No API groups yet."</p> }.into_any()
                    }
                    Ok(rows) => {
                        view! {
                            <table class="grid">
                                <thead>
                                    <tr>
                                        <th>"Name"</th>
                                        <th>"Subdomain"</th>
                                        <th>"Description"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows
                                        .into_iter()
                                        .map(|g| {
                                            view! {
                                                <tr>
                                                    <td>{g.name}</td>
                                                    <td>{g.subdomain}</td>
                                                    <td>{g.description}</td>
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
        </Suspense>
    }
}
