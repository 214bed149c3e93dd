//! The Policies pages: the list with **Create Policy** (Throttling, IP access control, CORS),
//! and one policy's page with its configuration (**Edit**, **Delete**) and where it is bound
//! (**Bind** to an API or a whole group in an environment, **Unbind**). A binding takes effect
//! on the gateway's next request, without a release.

use crate::api::{
    bind_policy, delete_policy, get_policy, list_apis, list_groups, list_policies, save_policy, unbind_policy,
};
use crate::components::{
    bind, edits_shared, on_done, opts, DetailHead, Dialog, Errors, FormButtons, IfAllowed, OtherErrors, SelectField,
    TextField,
};
use crate::list::{page_of, Arranged, ListState, Listed, Pager, SearchBox, SortHeader, SortKey};
use domain::policy::{BindingSpec, PolicySpec, PolicyType, PolicyView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::{json, Value};

/// The policy form: every type's fields as text, turned into a [`PolicySpec`] on submit.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyForm {
    /// Name.
    pub name: String,
    /// `throttling`, `ip_access` or `cors`.
    pub kind: String,
    /// Description.
    pub description: String,
    /// Throttling: `second`, `minute`, `hour`, `day`.
    pub unit: String,
    /// Throttling: limits as typed (empty: none).
    pub api_limit: String,
    /// Throttling.
    pub app_limit: String,
    /// Throttling.
    pub ip_limit: String,
    /// Throttling: `web=50, cli=10`.
    pub special_apps: String,
    /// IP access: `allow` or `deny`.
    pub mode: String,
    /// IP access: one address or range per line.
    pub cidrs: String,
    /// IP access: an allow list for one app.
    pub app: String,
    /// CORS: one origin per line.
    pub origins: String,
    /// CORS: comma-separated.
    pub methods: String,
    /// CORS: comma-separated.
    pub headers: String,
    /// CORS: comma-separated.
    pub expose: String,
    /// CORS.
    pub credentials: bool,
    /// CORS: seconds.
    pub max_age: String,
}

impl Default for PolicyForm {
    fn default() -> PolicyForm {
        PolicyForm {
            name: String::new(),
            kind: "throttling".into(),
            description: String::new(),
            unit: "second".into(),
            api_limit: String::new(),
            app_limit: String::new(),
            ip_limit: String::new(),
            special_apps: String::new(),
            mode: "allow".into(),
            cidrs: String::new(),
            app: String::new(),
            origins: String::new(),
            methods: String::new(),
            headers: String::new(),
            expose: String::new(),
            credentials: false,
            max_age: String::new(),
        }
    }
}

/// A number as typed: a JSON number, nothing when empty, or the text (which the server
/// refuses with the field's name).
fn number(raw: &str) -> Value {
    let raw = raw.trim();
    if raw.is_empty() {
        Value::Null
    } else {
        raw.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::from(raw))
    }
}

fn list(raw: &str, separator: char) -> Vec<String> {
    raw.split(separator).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn joined(value: &Value, separator: &str) -> String {
    value.as_array().map(|items| items.iter().map(text).collect::<Vec<_>>().join(separator)).unwrap_or_default()
}

impl PolicyForm {
    /// The policy the form describes.
    pub fn to_spec(&self) -> PolicySpec {
        let kind = PolicyType::parse(&self.kind).unwrap_or(PolicyType::Throttling);
        let config = match kind {
            PolicyType::Throttling => {
                let special: Vec<Value> = list(&self.special_apps, ',')
                    .iter()
                    .map(|pair| match pair.split_once('=') {
                        Some((app, limit)) => json!({"app": app.trim(), "limit": number(limit)}),
                        None => json!({"app": pair, "limit": Value::Null}),
                    })
                    .collect();
                json!({"unit": self.unit, "api_limit": number(&self.api_limit), "app_limit": number(&self.app_limit),
                       "ip_limit": number(&self.ip_limit), "special_apps": special})
            }
            PolicyType::IpAccess => {
                let app = self.app.trim();
                json!({"mode": self.mode, "cidrs": list(&self.cidrs, '\n'), "app": (!app.is_empty()).then_some(app)})
            }
            PolicyType::Cors => json!({
                "allow_origins": list(&self.origins, '\n'), "allow_methods": list(&self.methods, ','),
                "allow_headers": list(&self.headers, ','), "expose_headers": list(&self.expose, ','),
                "allow_credentials": self.credentials, "max_age_s": number(&self.max_age),
            }),
        };
        PolicySpec { name: self.name.clone(), kind, description: self.description.clone(), config }
    }

    /// The form for editing `policy`.
    pub fn from_view(policy: &PolicyView) -> PolicyForm {
        let c = &policy.config;
        let special = c["special_apps"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|s| format!("{}={}", text(&s["app"]), text(&s["limit"])))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        PolicyForm {
            name: policy.name.clone(),
            kind: policy.kind.as_str().into(),
            description: policy.description.clone(),
            unit: if c["unit"].is_string() { text(&c["unit"]) } else { "second".into() },
            api_limit: text(&c["api_limit"]),
            app_limit: text(&c["app_limit"]),
            ip_limit: text(&c["ip_limit"]),
            special_apps: special,
            mode: if c["mode"].is_string() { text(&c["mode"]) } else { "allow".into() },
            cidrs: joined(&c["cidrs"], "\n"),
            app: text(&c["app"]),
            origins: joined(&c["allow_origins"], "\n"),
            methods: joined(&c["allow_methods"], ", "),
            headers: joined(&c["allow_headers"], ", "),
            expose: joined(&c["expose_headers"], ", "),
            credentials: c["allow_credentials"].as_bool().unwrap_or(false),
            max_age: text(&c["max_age_s"]),
        }
    }
}

/// One line saying what a policy does.
fn summary(policy: &PolicyView) -> String {
    let c = &policy.config;
    match policy.kind {
        PolicyType::Throttling => {
            let mut parts = Vec::new();
            for (key, who) in [("api_limit", "API"), ("app_limit", "per app"), ("ip_limit", "per address")] {
                if let Some(n) = c[key].as_u64() {
                    parts.push(format!("{n} {who}"));
                }
            }
            format!("{} per {}", parts.join(", "), text(&c["unit"]))
        }
        PolicyType::IpAccess => format!("{} {}", text(&c["mode"]), joined(&c["cidrs"], ", ")),
        PolicyType::Cors => format!("origins {}", joined(&c["allow_origins"], ", ")),
    }
}

const TYPES: [(&str, &str); 3] = [("throttling", "Throttling"), ("ip_access", "IP access control"), ("cors", "CORS")];

/// The form's fields for its type.
#[component]
fn PolicyFields(form: RwSignal<PolicyForm>, errors: Errors, editing: bool) -> impl IntoView {
    let kind = Memo::new(move |_| form.with(|f| f.kind.clone()));
    view! {
        {(!editing).then(|| view! {
            <TextField label="Name" id="policy-name" field="name" errors bound=bind(form, |f| f.name.clone(), |f, v| f.name = v) />
            <SelectField label="Type" id="policy-type" field="type" errors options=opts(&TYPES) bound=bind(form, |f| f.kind.clone(), |f, v| f.kind = v) />
        })}
        <TextField label="Description" id="policy-description" field="description" errors bound=bind(form, |f| f.description.clone(), |f, v| f.description = v) />
        {move || match kind.get().as_str() {
            "ip_access" => view! {
                <SelectField label="Mode" id="policy-mode" field="config.mode" errors options=opts(&[("allow", "Allow only these addresses"), ("deny", "Deny these addresses")]) bound=bind(form, |f| f.mode.clone(), |f, v| f.mode = v) />
                <TextField label="Addresses" id="policy-cidrs" field="config.cidrs" errors multiline=true placeholder="10.0.0.0/8" bound=bind(form, |f| f.cidrs.clone(), |f, v| f.cidrs = v) />
                <TextField label="Only for app" id="policy-app" field="config.app" errors bound=bind(form, |f| f.app.clone(), |f, v| f.app = v) />
            }.into_any(),
            "cors" => view! {
                <TextField label="Allowed origins" id="policy-origins" field="config.allow_origins" errors multiline=true placeholder="https://app.example.com" bound=bind(form, |f| f.origins.clone(), |f, v| f.origins = v) />
                <TextField label="Allowed methods" id="policy-methods" field="config.allow_methods" errors placeholder="GET, POST" bound=bind(form, |f| f.methods.clone(), |f, v| f.methods = v) />
                <TextField label="Allowed headers" id="policy-headers" field="config.allow_headers" errors bound=bind(form, |f| f.headers.clone(), |f, v| f.headers = v) />
                <TextField label="Exposed headers" id="policy-expose" field="config.expose_headers" errors bound=bind(form, |f| f.expose.clone(), |f, v| f.expose = v) />
                <div class="field checkbox">
                    <input type="checkbox" id="policy-credentials" prop:checked=move || form.with(|f| f.credentials) on:change=move |ev| { let on = event_target_checked(&ev); form.update(|f| f.credentials = on) } />
                    <label for="policy-credentials">"Allow credentials"</label>
                </div>
                <TextField label="Max age (seconds)" id="policy-max-age" field="config.max_age_s" errors bound=bind(form, |f| f.max_age.clone(), |f, v| f.max_age = v) />
            }.into_any(),
            _ => view! {
                <SelectField label="Unit" id="policy-unit" field="config.unit" errors options=opts(&[("second", "Second"), ("minute", "Minute"), ("hour", "Hour"), ("day", "Day")]) bound=bind(form, |f| f.unit.clone(), |f, v| f.unit = v) />
                <TextField label="API limit" id="policy-api-limit" field="config.api_limit" errors bound=bind(form, |f| f.api_limit.clone(), |f, v| f.api_limit = v) />
                <TextField label="App limit" id="policy-app-limit" field="config.app_limit" errors bound=bind(form, |f| f.app_limit.clone(), |f, v| f.app_limit = v) />
                <TextField label="Address limit" id="policy-ip-limit" field="config.ip_limit" errors bound=bind(form, |f| f.ip_limit.clone(), |f, v| f.ip_limit = v) />
                <TextField label="Special apps" id="policy-special" field="config.special_apps" errors placeholder="web=50, cli=10" bound=bind(form, |f| f.special_apps.clone(), |f, v| f.special_apps = v) />
            }.into_any(),
        }}
        <OtherErrors errors shown=vec!["name".into(), "type".into(), "description".into(), "config.mode".into(), "config.cidrs".into(), "config.app".into(), "config.allow_origins".into(), "config.allow_methods".into(), "config.allow_headers".into(), "config.expose_headers".into(), "config.max_age_s".into(), "config.unit".into(), "config.api_limit".into(), "config.app_limit".into(), "config.ip_limit".into(), "config.special_apps".into()] />
    }
}

impl Listed for PolicyView {
    fn text(&self) -> String {
        format!("{} {} {}", self.name, self.kind.label(), self.description)
    }

    fn key(&self, column: &str) -> Option<SortKey> {
        Some(match column {
            "name" => SortKey::text(&self.name),
            "type" => SortKey::text(self.kind.label()),
            "bindings" => SortKey::Number(self.bindings.len() as i64),
            _ => return None,
        })
    }
}

/// `/policies`
#[component]
pub fn PoliciesPage() -> impl IntoView {
    let list = ListState::from_url();
    let creating = RwSignal::new(false);
    let form = RwSignal::new(PolicyForm::default());
    let errors: Errors = RwSignal::new(Vec::new());
    let navigate = use_navigate();
    let save = Action::new(move |spec: &PolicySpec| save_policy(None, spec.clone()));
    on_done(save, move |outcome| match outcome {
        Ok(created) => navigate(&format!("/policies/{}", created.name), Default::default()),
        Err(error) => errors.set(error.field_errors()),
    });
    let policies = Resource::new(move || save.version().get(), |_| list_policies());
    view! {
        <Title text="Policies · Gantry" />
        <div class="page-head">
            <h1>"Policies"</h1>
            <IfAllowed when=Callback::new(|me: domain::roles::Me| me.grant.allows(domain::roles::Action::EditShared))>
                <button class="primary" on:click=move |_| { errors.set(Vec::new()); form.set(PolicyForm::default()); creating.set(true); }>
                    "Create Policy"
                </button>
            </IfAllowed>
        </div>
        <p class="hint">"Throttling, IP access control and CORS for APIs, bound per API or group and environment. A binding takes effect at once, without a release."</p>
        <div class="toolbar">
            <SearchBox state=list id="policy-search" placeholder="Name, type or description" />
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match policies.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="empty">"No policies yet: Create Policy sets a throttle, IP rule or CORS rule; then bind it to APIs or groups."</p> }.into_any(),
                    Ok(rows) => {
                        let Arranged { rows, page, pages, total } = match page_of(rows, &list.get(), "No policy matches the search.") {
                            Ok(shown) => shown,
                            Err(empty) => return empty,
                        };
                        view! {
                        <table class="grid" aria-label="Policies">
                            <thead><tr>
                                <SortHeader state=list column="name" label="Name" />
                                <SortHeader state=list column="type" label="Type" />
                                <th>"Rule"</th>
                                <SortHeader state=list column="bindings" label="Bindings" />
                                <th>"Description"</th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|p| {
                                    let href = format!("/policies/{}", p.name);
                                    let rule = summary(&p);
                                    view! {
                                        <tr>
                                            <td><a href=href>{p.name.clone()}</a></td>
                                            <td>{p.kind.label()}</td>
                                            <td>{rule}</td>
                                            <td>{p.bindings.len()}</td>
                                            <td>{p.description.clone()}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <Pager state=list page pages total noun="policies" />
                    }.into_any()
                    }
                    Err(error) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <Show when=move || creating.get()>
            <Dialog title="Create Policy">
                <form on:submit=move |ev| { ev.prevent_default(); save.dispatch(form.get_untracked().to_spec()); }>
                    <PolicyFields form errors editing=false />
                    <FormButtons submit="Create" disabled=Signal::derive(move || save.pending().get()) cancel=Callback::new(move |()| creating.set(false)) />
                </form>
            </Dialog>
        </Show>
    }
}

/// What the policy page is asking about.
#[derive(Clone, Debug, PartialEq)]
enum Asking {
    None,
    Edit,
    Delete,
    Bind,
    Unbind(i32, String),
}

/// `/policies/:name`
#[component]
pub fn PolicyPage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let asking = RwSignal::new(Asking::None);
    let failure = RwSignal::new(None::<String>);
    let form = RwSignal::new(PolicyForm::default());
    let errors: Errors = RwSignal::new(Vec::new());
    let binding = RwSignal::new(("".to_owned(), "".to_owned(), "test".to_owned()));
    let navigate = use_navigate();

    let save = Action::new(move |(name, spec): &(String, PolicySpec)| save_policy(Some(name.clone()), spec.clone()));
    on_done(save, move |outcome| match outcome {
        Ok(_) => asking.set(Asking::None),
        Err(error) => errors.set(error.field_errors()),
    });
    let remove = Action::new(move |name: &String| delete_policy(name.clone()));
    on_done(remove, move |outcome| match outcome {
        Ok(()) => navigate("/policies", Default::default()),
        Err(error) => {
            asking.set(Asking::None);
            failure.set(Some(error.message()));
        }
    });
    let attach = Action::new(move |(name, spec): &(String, BindingSpec)| bind_policy(name.clone(), spec.clone()));
    on_done(attach, move |outcome| match outcome {
        Ok(_) => asking.set(Asking::None),
        Err(error) => errors.set(error.field_errors()),
    });
    let detach = Action::new(move |(name, id): &(String, i32)| unbind_policy(name.clone(), *id));
    on_done(detach, move |outcome| {
        asking.set(Asking::None);
        failure.set(outcome.err().map(|error| error.message()));
    });
    let policy = Resource::new(
        move || (name.get(), save.version().get(), attach.version().get(), detach.version().get()),
        |(name, _, _, _)| get_policy(name),
    );
    let groups = Resource::new(|| (), |_| list_groups());
    let chosen_group = Memo::new(move |_| binding.with(|b| b.0.clone()));
    let apis = Resource::new(
        move || chosen_group.get(),
        |group| async move {
            if group.is_empty() {
                Ok(Vec::new())
            } else {
                list_apis(group, String::new(), 1, 200, None, false).await.map(|page| page.items)
            }
        },
    );

    view! {
        <DetailHead section="Policies" href="/policies" name failure />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match policy.await {
                    Ok(p) => {
                        let editable = p.clone();
                        let rule = summary(&p);
                        let bindings = p.bindings.clone();
                        view! {
                            <section class="card" aria-label="Configuration">
                                <dl>
                                    <dt>"Type"</dt><dd>{p.kind.label()}</dd>
                                    <dt>"Rule"</dt><dd data-testid="policy-rule">{rule}</dd>
                                    <dt>"Description"</dt><dd>{p.description.clone()}</dd>
                                </dl>
                                <IfAllowed when=edits_shared()>
                                    {
                                        let editable = editable.clone();
                                        view! {
                                            <div class="card-buttons">
                                                <button on:click=move |_| { errors.set(Vec::new()); form.set(PolicyForm::from_view(&editable)); asking.set(Asking::Edit); }>"Edit"</button>
                                                <button class="danger" on:click=move |_| asking.set(Asking::Delete)>"Delete"</button>
                                            </div>
                                        }
                                    }
                                </IfAllowed>
                            </section>
                            <div class="page-head">
                                <h2>"Bindings"</h2>
                                <IfAllowed when=edits_shared()>
                                    <button class="primary" on:click=move |_| { errors.set(Vec::new()); asking.set(Asking::Bind); }>"Bind"</button>
                                </IfAllowed>
                            </div>
                            {if bindings.is_empty() {
                                view! { <p class="empty">"Bound nowhere: this policy applies to no API yet."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="grid" aria-label="Bindings">
                                        <thead><tr><th>"Group"</th><th>"API"</th><th>"Environment"</th><th></th></tr></thead>
                                        <tbody>
                                            {bindings.into_iter().map(|b| {
                                                let api = b.api_name.clone().unwrap_or_else(|| "All APIs of the group".into());
                                                let label = format!("{} · {} · {}", b.group, api, b.env.label());
                                                let id = b.id;
                                                view! {
                                                    <tr>
                                                        <td>{b.group.clone()}</td>
                                                        <td>{api.clone()}</td>
                                                        <td>{b.env.label()}</td>
                                                        <td>
                                                            <IfAllowed when=edits_shared()>
                                                                {
                                                                    let label = label.clone();
                                                                    view! { <button on:click=move |_| asking.set(Asking::Unbind(id, label.clone()))>"Unbind"</button> }
                                                                }
                                                            </IfAllowed>
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                    Err(error) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || match asking.get() {
            Asking::None => ().into_any(),
            Asking::Edit => view! {
                <Dialog title="Edit Policy">
                    <form on:submit=move |ev| { ev.prevent_default(); save.dispatch((name.get_untracked(), form.get_untracked().to_spec())); }>
                        <PolicyFields form errors editing=true />
                        <FormButtons submit="Save" disabled=Signal::derive(move || save.pending().get()) cancel=Callback::new(move |()| asking.set(Asking::None)) />
                    </form>
                </Dialog>
            }.into_any(),
            Asking::Delete => view! {
                <Dialog title="Delete Policy">
                    <p>"Delete the policy and every binding it has? The APIs it is bound to stop following it at once."</p>
                    <div class="dialog-buttons">
                        <button type="button" on:click=move |_| asking.set(Asking::None)>"Cancel"</button>
                        <button class="danger" on:click=move |_| { remove.dispatch(name.get_untracked()); }>"Delete"</button>
                    </div>
                </Dialog>
            }.into_any(),
            Asking::Unbind(id, label) => view! {
                <Dialog title="Unbind">
                    <p>{format!("Stop applying this policy to {label}? It takes effect at once.")}</p>
                    <div class="dialog-buttons">
                        <button type="button" on:click=move |_| asking.set(Asking::None)>"Cancel"</button>
                        <button class="danger" on:click=move |_| { detach.dispatch((name.get_untracked(), id)); }>"Unbind"</button>
                    </div>
                </Dialog>
            }.into_any(),
            Asking::Bind => view! {
                <Dialog title="Bind">
                    <form on:submit=move |ev| {
                        ev.prevent_default();
                        let (group, api, env) = binding.get_untracked();
                        let spec = BindingSpec { group, api: api.parse().ok(), env };
                        attach.dispatch((name.get_untracked(), spec));
                    }>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                let mut choices = vec![(String::new(), "Choose a group".to_owned())];
                                choices.extend(groups.await.unwrap_or_default().into_iter().map(|g| (g.name.clone(), g.name)));
                                view! { <SelectField label="Group" id="bind-group" field="group" errors options=choices bound=bind(binding, |b| b.0.clone(), |b, v| { b.0 = v; b.1 = String::new(); }) /> }
                            })}
                        </Transition>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                let mut choices = vec![(String::new(), "All APIs of the group".to_owned())];
                                choices.extend(apis.await.unwrap_or_default().into_iter().map(|a| (a.id.to_string(), a.spec.name)));
                                view! { <SelectField label="API" id="bind-api" field="api" errors options=choices bound=bind(binding, |b| b.1.clone(), |b, v| b.1 = v) /> }
                            })}
                        </Transition>
                        <SelectField label="Environment" id="bind-env" field="env" errors options=opts(&crate::pages::release::ENVIRONMENTS) bound=bind(binding, |b| b.2.clone(), |b, v| b.2 = v) />
                        <OtherErrors errors shown=vec!["group".into(), "api".into(), "env".into()] />
                        <FormButtons submit="Bind" disabled=Signal::derive(move || attach.pending().get()) cancel=Callback::new(move |()| asking.set(Asking::None)) />
                    </form>
                </Dialog>
            }.into_any(),
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_round_trips_each_type_through_its_spec() {
        let throttling = PolicyForm {
            name: "five".into(),
            api_limit: "5".into(),
            special_apps: "web=50, cli = 10".into(),
            ..PolicyForm::default()
        };
        let spec = throttling.to_spec();
        assert_eq!(spec.config["api_limit"], 5);
        assert_eq!(spec.config["special_apps"], json!([{"app": "web", "limit": 50}, {"app": "cli", "limit": 10}]));
        assert!(spec.validate().is_ok());
        let view = PolicyView {
            name: "five".into(),
            kind: spec.kind,
            description: String::new(),
            config: spec.config.clone(),
            bindings: vec![],
            updated_at: String::new(),
        };
        assert_eq!(PolicyForm::from_view(&view).to_spec(), spec);

        let ip = PolicyForm {
            name: "office".into(),
            kind: "ip_access".into(),
            cidrs: "10.0.0.0/8\n\n::1/128".into(),
            ..PolicyForm::default()
        };
        assert_eq!(ip.to_spec().config["cidrs"], json!(["10.0.0.0/8", "::1/128"]));
        let cors = PolicyForm {
            name: "web".into(),
            kind: "cors".into(),
            origins: "https://a.com".into(),
            methods: "GET, post".into(),
            ..PolicyForm::default()
        };
        assert!(cors.to_spec().validate().is_ok());
        let bad = PolicyForm { name: "x".into(), api_limit: "lots".into(), ..PolicyForm::default() };
        assert_eq!(bad.to_spec().validate().expect_err("refused")[0].field, "config");
    }
}
