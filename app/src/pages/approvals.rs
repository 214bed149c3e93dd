//! Release requests in Deployment Management: **Request Release** (a Production change for a
//! user who may not make it directly) and the group's **Release Requests**, each with what
//! it would change against the live version, and **Approve** / **Reject** for admins other
//! than the requester, **Withdraw** for the requester.

use crate::api::{decide_request, list_release_requests, list_versions, request_release, RequestDecision};
use crate::components::{
    bind, on_done, opts, Changes, Dialog, Errors, FormButtons, IfAllowed, OtherErrors, SelectField, TextField,
};
use domain::approval::{ReleaseRequestView, RequestSpec, RequestStatus};
use domain::release::DeployBackend;
use domain::roles::{Action as Access, Me};
use leptos::prelude::*;

#[derive(Clone, Debug, Default, PartialEq)]
struct Form {
    version: String,
    backend: String,
    address: String,
    service: String,
    note: String,
}

/// Request Release: a version of the group, its backend and a note, for Production.
#[component]
pub fn RequestDialog(group: String, closed: Callback<bool>) -> impl IntoView {
    let versions = Resource::new(
        {
            let group = group.clone();
            move || group.clone()
        },
        list_versions,
    );
    let services = Resource::new(|| (), |_| crate::api::list_services());
    let form = RwSignal::new(Form { backend: "mock".into(), ..Default::default() });
    let errors: Errors = RwSignal::new(Vec::new());
    let submit = Action::new(move |(group, form): &(String, Form)| {
        let backend = match form.backend.as_str() {
            "http" => DeployBackend::Http { address: form.address.clone() },
            "service" => DeployBackend::Service { service: form.service.clone() },
            _ => DeployBackend::Mock,
        };
        let spec = RequestSpec {
            version: (!form.version.is_empty()).then(|| form.version.clone()),
            backend: Some(backend),
            offline: false,
            note: form.note.clone(),
        };
        request_release(group.clone(), spec)
    });
    on_done(submit, move |outcome| match outcome {
        Ok(_) => closed.run(true),
        Err(error) => errors.set(error.field_errors()),
    });
    view! {
        <Dialog title="Request Release">
            <form on:submit=move |ev| {
                ev.prevent_default();
                submit.dispatch((group.clone(), form.get_untracked()));
            }>
                <p class="hint">"Production changes are made when an admin other than you approves the request."</p>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let mut options = opts(&[("", "Choose a version")]);
                        if let Ok(list) = versions.await {
                            options.extend(list.into_iter().map(|v| (v.label.clone(), v.label)));
                        }
                        view! { <SelectField label="Version" id="request-version" field="version" errors options bound=bind(form, |f| f.version.clone(), |f, v| f.version = v) /> }
                    })}
                </Transition>
                <SelectField label="Backend" id="request-backend" field="backend" errors options=opts(&[("mock", "Mock"), ("http", "HTTP/HTTPS"), ("service", "Backend service")]) bound=bind(form, |f| f.backend.clone(), |f, v| f.backend = v) />
                <Show when=move || form.with(|f| f.backend == "http")>
                    <TextField label="Backend address" id="request-address" field="backend.address" errors placeholder="http://10.0.0.5:8080" bound=bind(form, |f| f.address.clone(), |f, v| f.address = v) />
                </Show>
                <Show when=move || form.with(|f| f.backend == "service")>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let mut choices = vec![(String::new(), "Choose a backend service".to_owned())];
                            choices.extend(services.await.unwrap_or_default().into_iter().map(|s| (s.name.clone(), s.name)));
                            view! { <SelectField label="Backend service" id="request-service" field="backend.service" errors options=choices bound=bind(form, |f| f.service.clone(), |f, v| f.service = v) /> }
                        })}
                    </Transition>
                </Show>
                <TextField label="Note" id="request-note" field="note" errors bound=bind(form, |f| f.note.clone(), |f, v| f.note = v) />
                <OtherErrors errors shown=vec!["version".into(), "backend".into(), "backend.address".into(), "backend.service".into(), "note".into()] />
                <FormButtons submit="Request" disabled=Signal::derive(move || submit.pending().get()) cancel=Callback::new(move |()| closed.run(false)) />
            </form>
        </Dialog>
    }
}

/// The group's release requests; deciding one refreshes the page's lists through `changes`.
#[component]
pub fn ReleaseRequests(group: Memo<String>, changes: Changes) -> impl IntoView {
    let failure = RwSignal::new(None::<String>);
    let decide =
        Action::new(move |(id, decision): &(i32, RequestDecision)| decide_request(*id, *decision, String::new()));
    on_done(decide, move |outcome| match outcome {
        Ok(_) => {
            failure.set(None);
            changes.made();
        }
        Err(error) => failure.set(Some(error.message())),
    });
    let requests = Resource::new(move || (group.get(), changes.seen()), |(group, _)| list_release_requests(group));
    view! {
        <h3>"Release Requests"</h3>
        {move || failure.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match requests.await {
                    Ok(rows) if rows.is_empty() => view! {
                        <p class="empty">"No release requests. A Production change that needs an admin's approval starts with Request Release."</p>
                    }.into_any(),
                    Ok(rows) => view! {
                        <table class="grid" aria-label="Release requests">
                            <thead>
                                <tr>
                                    <th>"Request"</th>
                                    <th>"Environment"</th>
                                    <th>"Requested by"</th>
                                    <th>"Note"</th>
                                    <th>"Against live"</th>
                                    <th>"Status"</th>
                                    <th></th>
                                </tr>
                            </thead>
                            <tbody>{rows.into_iter().map(|r| request_row(r, decide)).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <p class="error">{error.message()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn request_row(
    request: ReleaseRequestView,
    decide: Action<(i32, RequestDecision), Result<ReleaseRequestView, crate::error::ConsoleError>>,
) -> impl IntoView {
    let id = request.id;
    let pending = request.status == RequestStatus::Pending;
    let against = match (&request.live_version, &request.diff) {
        (Some(live), Some(diff)) => format!("{live}: {}", diff.summary()),
        (Some(live), None) => format!("live: {live}"),
        (None, _) if pending => "nothing live yet".to_owned(),
        (None, _) => String::new(),
    };
    let status = match (&request.decided_by, request.status) {
        (Some(by), status) => format!("{} by {by}", status.label()),
        (None, status) => status.label().to_owned(),
    };
    let requester = request.requested_by.clone();
    let may_decide = {
        let requester = requester.clone();
        Callback::new(move |me: Me| pending && me.grant.allows(Access::Approve) && me.username != requester)
    };
    let may_withdraw = Callback::new(move |me: Me| pending && me.username == requester);
    let label = request.describe();
    view! {
        <tr>
            <td>{label.clone()}</td>
            <td>{request.environment.label()}</td>
            <td>{request.requested_by.clone()}</td>
            <td>{request.note.clone()}</td>
            <td>{against}</td>
            <td>{status}</td>
            <td class="actions">
                <IfAllowed when=may_decide>
                    <button class="primary" aria-label=format!("Approve {label}") on:click=move |_| { decide.dispatch((id, RequestDecision::Approve)); }>"Approve"</button>
                    <button class="danger" aria-label=format!("Reject {}", request.describe()) on:click=move |_| { decide.dispatch((id, RequestDecision::Reject)); }>"Reject"</button>
                </IfAllowed>
                <IfAllowed when=may_withdraw>
                    <button on:click=move |_| { decide.dispatch((id, RequestDecision::Withdraw)); }>"Withdraw"</button>
                </IfAllowed>
            </td>
        </tr>
    }
}
