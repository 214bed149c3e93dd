//! Custom domains of a group (shown under Deployment Management): extra host names callers
//! use, each optionally pinned to one environment so no `X-Ca-Stage` header is needed, and
//! each with its certificate for the HTTPS listener (**Upload Certificate**: paste the PEM
//! chain and private key; **Remove Certificate** and **Remove** ask first). Above the list, the default
//! certificate every other host gets, with a warning while it is self-signed.

use crate::api::{add_domain, default_certificate, list_domains, remove_certificate, remove_domain, set_certificate};
use crate::components::{
    bind, edits_group, on_done, opts, Dialog, Errors, FormButtons, IfAllowed, OtherErrors, SelectField, TextField,
};
use domain::group::{CertificateUpload, CertificateView, DomainSpec};
use domain::Environment;
use leptos::prelude::*;

#[derive(Clone)]
enum Asking {
    None,
    Upload(String),
    RemoveCertificate(String),
    RemoveDomain(String),
}

fn expiry(certificate: &CertificateView) -> String {
    let date = certificate.not_after.get(..10).unwrap_or(&certificate.not_after);
    if certificate.days_left < 0 {
        format!("expired {date}")
    } else {
        format!("expires {date} ({} days)", certificate.days_left)
    }
}

/// The Custom domains section of a group.
#[component]
pub fn CustomDomains(group: Memo<String>) -> impl IntoView {
    let form = RwSignal::new((String::new(), String::new()));
    let errors: Errors = RwSignal::new(Vec::new());
    let failure = RwSignal::new(None::<String>);
    let add = Action::new(move |(group, host, env): &(String, String, String)| {
        let spec = DomainSpec { host: host.clone(), environment: env.parse::<Environment>().ok(), certificate: None };
        add_domain(group.clone(), spec)
    });
    on_done(add, move |outcome| match outcome {
        Ok(_) => {
            errors.set(Vec::new());
            form.set((String::new(), String::new()));
        }
        Err(error) => errors.set(error.field_errors()),
    });
    let remove = Action::new(move |(group, host): &(String, String)| remove_domain(group.clone(), host.clone()));
    let asking = RwSignal::new(Asking::None);
    on_done(remove, move |outcome| {
        asking.set(Asking::None);
        failure.set(outcome.err().map(|error| error.message()))
    });
    let upload = RwSignal::new(CertificateUpload::default());
    let upload_errors: Errors = RwSignal::new(Vec::new());
    let save = Action::new(move |(group, host, upload): &(String, String, CertificateUpload)| {
        set_certificate(group.clone(), host.clone(), upload.clone())
    });
    on_done(save, move |outcome| match outcome {
        Ok(_) => {
            upload.set(CertificateUpload::default());
            asking.set(Asking::None);
        }
        Err(error) => upload_errors.set(error.field_errors()),
    });
    let drop_certificate =
        Action::new(move |(group, host): &(String, String)| remove_certificate(group.clone(), host.clone()));
    on_done(drop_certificate, move |outcome| {
        asking.set(Asking::None);
        failure.set(outcome.err().map(|error| error.message()));
    });
    let domains = Resource::new(
        move || {
            (
                group.get(),
                add.version().get(),
                remove.version().get(),
                save.version().get(),
                drop_certificate.version().get(),
            )
        },
        |(group, _, _, _, _)| list_domains(group),
    );
    let default = Resource::new(|| (), |_| default_certificate());
    let environments =
        opts(&[("", "Any (X-Ca-Stage)"), ("test", "Test"), ("pre", "Pre-release"), ("prod", "Production")]);
    view! {
        <h3>"Custom domains"</h3>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                default.await.ok().flatten().map(|d| {
                    let names = d.certificate.sans.join(", ");
                    let when = expiry(&d.certificate);
                    view! {
                        <p class="muted" data-testid="default-certificate">
                            "HTTPS: hosts without their own certificate get the default one (" {names} ", " {when} ")."
                        </p>
                        {d.self_signed.then(|| view! {
                            <p class="warning" data-testid="self-signed-warning">
                                "The default certificate is self-signed: browsers will warn. Set GANTRY_GATEWAY_TLS_CERT_FILE and GANTRY_GATEWAY_TLS_KEY_FILE, or upload a certificate for each custom domain."
                            </p>
                        })}
                    }
                })
            })}
        </Transition>
        {move || failure.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match domains.await {
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No custom domains."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="grid" aria-label="Custom domains">
                            <thead><tr><th>"Host"</th><th>"Environment"</th><th>"Certificate"</th><th>"Actions"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|d| {
                                    let host = d.host.clone();
                                    let (for_upload, for_removal) = (d.host.clone(), d.host.clone());
                                    let has_certificate = d.certificate.is_some();
                                    let certificate = match d.certificate.clone() {
                                        Some(c) => {
                                            let warning = c.expiring.then(|| view! { <strong class="warning">" Renew soon"</strong> });
                                            view! {
                                                <span title=format!("Subject: {}\nIssuer: {}", c.subject, c.issuer)>
                                                    {c.sans.join(", ")} " · " {expiry(&c)}
                                                </span>
                                                {warning}
                                            }.into_any()
                                        }
                                        None => view! { <span class="muted">"Default certificate"</span> }.into_any(),
                                    };
                                    view! {
                                        <tr>
                                            <td><code>{d.host.clone()}</code></td>
                                            <td>{d.environment.map(|e| e.label()).unwrap_or("Any (X-Ca-Stage)")}</td>
                                            <td>{certificate}</td>
                                            <td class="actions">
                                                <IfAllowed when=edits_group(move || group.get_untracked())>
                                                    {
                                                        let (for_upload, for_removal, host) = (for_upload.clone(), for_removal.clone(), host.clone());
                                                        view! {
                                                            <button on:click=move |_| { upload_errors.set(Vec::new()); asking.set(Asking::Upload(for_upload.clone())); }>"Upload Certificate"</button>
                                                            {has_certificate.then(|| view! {
                                                                <button on:click=move |_| asking.set(Asking::RemoveCertificate(for_removal.clone()))>"Remove Certificate"</button>
                                                            })}
                                                            <button class="danger" on:click=move |_| asking.set(Asking::RemoveDomain(host.clone()))>"Remove"</button>
                                                        }
                                                    }
                                                </IfAllowed>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <p class="error">{error.message()}</p> }.into_any(),
                }
            })}
        </Transition>
        <IfAllowed when=edits_group(move || group.get_untracked())>
            <form class="inline-form" on:submit=move |ev| {
                ev.prevent_default();
                let (host, env) = form.get_untracked();
                add.dispatch((group.get_untracked(), host, env));
            }>
                <div class="row">
                    <TextField label="Host" id="domain-host" field="host" errors placeholder="api.example.com" bound=bind(form, |f| f.0.clone(), |f, v| f.0 = v) />
                    <SelectField label="Domain environment" id="domain-environment" field="environment" errors options=environments.clone() bound=bind(form, |f| f.1.clone(), |f, v| f.1 = v) />
                </div>
                <OtherErrors errors shown=vec!["host".into(), "environment".into()] />
                <button type="submit" disabled=move || add.pending().get()>"Add Domain"</button>
            </form>
        </IfAllowed>
        {move || match asking.get() {
            Asking::None => ().into_any(),
            Asking::Upload(host) => {
                let title = format!("Certificate for {host}");
                view! {
                    <Dialog title="Upload Certificate">
                        <form on:submit=move |ev| {
                            ev.prevent_default();
                            save.dispatch((group.get_untracked(), host.clone(), upload.get_untracked()));
                        }>
                            <p class="muted">{title}</p>
                            <TextField label="Certificate chain (PEM)" id="certificate-pem" field="cert_pem" errors=upload_errors multiline=true code=true placeholder="-----BEGIN CERTIFICATE-----" bound=bind(upload, |u| u.cert_pem.clone(), |u, v| u.cert_pem = v) />
                            <TextField label="Private key (PEM)" id="certificate-key" field="key_pem" errors=upload_errors multiline=true code=true placeholder="-----BEGIN PRIVATE KEY-----" bound=bind(upload, |u| u.key_pem.clone(), |u, v| u.key_pem = v) />
                            <p class="hint">"The key is stored encrypted and never shown again. The next HTTPS handshake for this host uses the certificate."</p>
                            <OtherErrors errors=upload_errors shown=vec!["cert_pem".into(), "key_pem".into()] />
                            <FormButtons submit="Upload" disabled=Signal::derive(move || save.pending().get()) cancel=Callback::new(move |()| asking.set(Asking::None)) />
                        </form>
                    </Dialog>
                }.into_any()
            }
            Asking::RemoveDomain(host) => view! {
                <Dialog title="Remove Domain">
                    <p>{format!("Remove {host} from this group? Callers that use it get 404 from their next request; the group's own subdomain keeps working.")}</p>
                    <div class="dialog-buttons">
                        <button type="button" on:click=move |_| asking.set(Asking::None)>"Cancel"</button>
                        <button class="danger" disabled=move || remove.pending().get() on:click=move |_| { remove.dispatch((group.get_untracked(), host.clone())); }>"Remove"</button>
                    </div>
                </Dialog>
            }.into_any(),
            Asking::RemoveCertificate(host) => view! {
                <Dialog title="Remove Certificate">
                    <p>{format!("Remove the certificate of {host}? Its HTTPS callers get the default certificate from the next handshake.")}</p>
                    <div class="dialog-buttons">
                        <button type="button" on:click=move |_| asking.set(Asking::None)>"Cancel"</button>
                        <button class="danger" on:click=move |_| { drop_certificate.dispatch((group.get_untracked(), host.clone())); }>"Remove Certificate"</button>
                    </div>
                </Dialog>
            }.into_any(),
        }}
    }
}
