//! Small building blocks the pages share: labelled fields that show their validation error,
//! dialogs, and a way to bind a field of a larger value to an input.

use crate::error::ConsoleError;
use domain::FieldError;
use leptos::prelude::*;
use leptos_meta::Title;

/// The field errors a form currently shows.
pub type Errors = RwSignal<Vec<FieldError>>;

/// A readable, writable view of one text field inside a larger value.
///
/// Both halves are reference-counted closures over the larger value's signal, not values
/// owned by the reactive arena of the view that shows the field. When a change re-renders
/// the part of a form that holds a field (a different backend type, a section shown or
/// hidden), the same change has already scheduled the old field's effects; they may run
/// once more after its view was disposed. An arena-owned derived signal would be gone by
/// then, and reading it panics ("Tried to access a reactive value that has already been
/// disposed"), which in the release bundle (`panic = "abort"`) kills the page.
#[derive(Clone)]
pub struct Bound {
    /// The current text.
    pub value: ArcSignal<String>,
    /// Writes new text.
    pub set: SetText,
}

/// Writes the text of a [`Bound`] field.
pub type SetText = std::sync::Arc<dyn Fn(String) + Send + Sync>;

/// Binds the text at `get`/`set` inside `state` to an input.
pub fn bind<T: Send + Sync + 'static>(
    state: RwSignal<T>,
    get: impl Fn(&T) -> String + Send + Sync + 'static,
    set: impl Fn(&mut T, String) + Send + Sync + 'static,
) -> Bound {
    Bound {
        value: ArcSignal::derive(move || state.try_with(|s| get(s)).unwrap_or_default()),
        set: std::sync::Arc::new(move |v| {
            state.try_update(|s| set(s, v));
        }),
    }
}

/// The id of the element that describes `id`'s error.
fn error_id(id: &str) -> String {
    format!("{id}-error")
}

/// The message for `field`, if the form has one.
///
/// An input for a list (`config.cidrs`, one item per line) also shows its items' errors
/// (`config.cidrs[1]`), the same rule [`OtherErrors`] uses to leave them out.
pub fn message_for(errors: Errors, field: &str) -> Option<String> {
    let item = format!("{field}[");
    errors.with(|all| {
        let mine: Vec<&str> =
            all.iter().filter(|e| e.field == field || e.field.starts_with(&item)).map(|e| e.message.as_str()).collect();
        (!mine.is_empty()).then(|| mine.join("; "))
    })
}

/// The error under a field; referenced by the field's `aria-describedby`.
#[component]
pub fn FieldMessage(errors: Errors, #[prop(into)] field: String, #[prop(into)] id: String) -> impl IntoView {
    let id = error_id(&id);
    move || {
        message_for(errors, &field).map(|message| view! { <span class="field-error" id=id.clone()>{message}</span> })
    }
}

/// A labelled text input (or textarea) bound to a value, with its error below it.
#[component]
pub fn TextField(
    #[prop(into)] label: String,
    #[prop(into)] id: String,
    #[prop(into)] field: String,
    errors: Errors,
    bound: Bound,
    #[prop(optional, into)] placeholder: String,
    #[prop(optional)] multiline: bool,
    #[prop(optional)] code: bool,
    #[prop(optional)] number: bool,
    #[prop(optional)] password: bool,
) -> impl IntoView {
    let Bound { value, set } = bound;
    let (value_lines, set_tab) = (value.clone(), set.clone());
    let invalid = {
        let field = field.clone();
        move || message_for(errors, &field).is_some().to_string()
    };
    let describedby = error_id(&id);
    let input = if multiline && code {
        // A code editor: line numbers beside a textarea that grows with its text (so the two
        // never scroll apart), no wrapping, Tab indents.
        let lines = move || value_lines.with(|v| v.split('\n').count()).max(12);
        let gutter_lines = lines.clone();
        view! {
            <div class="code-editor">
                <pre class="gutter" aria-hidden="true">
                    {move || (1..=gutter_lines()).map(|n| n.to_string()).collect::<Vec<_>>().join("\n")}
                </pre>
                <textarea
                    id=id.clone()
                    class="code"
                    rows=move || lines().to_string()
                    wrap="off"
                    spellcheck="false"
                    placeholder=placeholder.clone()
                    aria-invalid=invalid.clone()
                    aria-describedby=describedby.clone()
                    prop:value=move || value.get()
                    on:input=move |ev| set(event_target_value(&ev))
                    on:keydown=move |ev| insert_tab(&ev, &set_tab)
                ></textarea>
            </div>
        }
        .into_any()
    } else if multiline {
        view! {
            <textarea
                id=id.clone()
                class:code=code
                rows=if code { 12 } else { 5 }
                spellcheck="false"
                placeholder=placeholder
                aria-invalid=invalid
                aria-describedby=describedby
                prop:value=move || value.get()
                on:input=move |ev| set(event_target_value(&ev))
                on:keydown=move |ev| {
                    if code {
                        insert_tab(&ev, &set_tab)
                    }
                }
            ></textarea>
        }
        .into_any()
    } else {
        view! {
            <input
                id=id.clone()
                type=if number {
                    "number"
                } else if password {
                    "password"
                } else {
                    "text"
                }
                placeholder=placeholder
                aria-invalid=invalid
                aria-describedby=describedby
                prop:value=move || value.get()
                on:input=move |ev| set(event_target_value(&ev))
            />
        }
        .into_any()
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            {input}
            <FieldMessage errors field id />
        </div>
    }
}

/// In a code field the Tab key indents instead of leaving the field.
#[cfg(feature = "hydrate")]
fn insert_tab(ev: &leptos::ev::KeyboardEvent, set: &SetText) {
    use wasm_bindgen::JsCast;
    if ev.key() != "Tab" {
        return;
    }
    let Some(area) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok()) else { return };
    ev.prevent_default();
    let text = area.value();
    let start = area.selection_start().ok().flatten().unwrap_or(0) as usize;
    let end = area.selection_end().ok().flatten().unwrap_or(0) as usize;
    // Selection offsets count UTF-16 units; convert to a char boundary.
    let to_byte = |units: usize| {
        let mut seen = 0;
        text.char_indices()
            .find(|(_, c)| {
                let before = seen;
                seen += c.len_utf16();
                before >= units
            })
            .map(|(i, _)| i)
            .unwrap_or(text.len())
    };
    let (a, b) = (to_byte(start), to_byte(end));
    let updated = format!("{}    {}", &text[..a], &text[b..]);
    area.set_value(&updated);
    let cursor = (start + 4) as u32;
    let _ = area.set_selection_range(cursor, cursor);
    set(updated);
}

#[cfg(not(feature = "hydrate"))]
fn insert_tab(_ev: &leptos::ev::KeyboardEvent, _set: &SetText) {}

/// A labelled `<select>` bound to a value.
#[component]
pub fn SelectField(
    #[prop(into)] label: String,
    #[prop(into)] id: String,
    #[prop(into)] field: String,
    errors: Errors,
    bound: Bound,
    options: Vec<(String, String)>,
) -> impl IntoView {
    let Bound { value, set } = bound;
    let describedby = error_id(&id);
    let current = value.clone();
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select
                id=id.clone()
                aria-describedby=describedby
                prop:value=move || current.get()
                on:change=move |ev| set(event_target_value(&ev))
            >
                {options
                    .into_iter()
                    .map(|(value_, text)| {
                        let selected = value_.clone();
                        let value = value.clone();
                        view! {
                            <option value=value_ selected=move || value.get() == selected>
                                {text}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <FieldMessage errors field id />
        </div>
    }
}

/// Asks before a destructive action: `message` says what it will affect, `confirm` is the
/// danger button's word; Cancel (or Escape) changes nothing.
#[component]
pub fn Confirm(
    #[prop(into)] title: String,
    #[prop(into)] message: String,
    confirm: &'static str,
    yes: Callback<()>,
    no: Callback<()>,
) -> impl IntoView {
    view! {
        <Dialog title>
            <p>{message}</p>
            <div class="dialog-buttons">
                <button type="button" on:click=move |_| no.run(())>"Cancel"</button>
                <button class="danger" on:click=move |_| yes.run(())>{confirm}</button>
            </div>
        </Dialog>
    }
}

/// A modal dialog with a title; `children` is its body. Modal for the keyboard too: the
/// first field takes the focus, Tab and Shift+Tab stay inside, Escape presses its Cancel
/// (or Close) button.
#[component]
pub fn Dialog(#[prop(into)] title: String, children: Children) -> impl IntoView {
    let heading = format!("dialog-{}", title.to_lowercase().replace(|c: char| !c.is_alphanumeric(), "-"));
    let labelledby = heading.clone();
    let node = NodeRef::<leptos::html::Div>::new();
    // Opened: the first field (or button) takes the focus, so a keyboard user starts in
    // the dialog, not behind it.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(dialog) = node.get() {
            if let Some(first) = dialog_focusables(&dialog).into_iter().next() {
                let _ = first.focus();
            }
        }
    });
    // Escape is Cancel; Tab and Shift+Tab stay inside the dialog (it is modal).
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        #[cfg(feature = "hydrate")]
        {
            let Some(dialog) = node.get() else { return };
            match ev.key().as_str() {
                "Escape" => {
                    let buttons = dialog_focusables(&dialog);
                    let cancel = buttons.iter().find(|b| {
                        b.tag_name().eq_ignore_ascii_case("button")
                            && matches!(b.text_content().as_deref().map(str::trim), Some("Cancel" | "Close"))
                    });
                    if let Some(cancel) = cancel {
                        ev.prevent_default();
                        cancel.click();
                    }
                }
                "Tab" => {
                    let all = dialog_focusables(&dialog);
                    let (Some(first), Some(last)) = (all.first(), all.last()) else { return };
                    let active = leptos::prelude::document().active_element();
                    let at = |e: &web_sys::HtmlElement| active.as_ref().is_some_and(|a| a == e.as_ref());
                    if ev.shift_key() && at(first) {
                        ev.prevent_default();
                        let _ = last.focus();
                    } else if !ev.shift_key() && at(last) {
                        ev.prevent_default();
                        let _ = first.focus();
                    }
                }
                _ => {}
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, node);
    };
    view! {
        <div class="overlay">
            <div class="dialog card" role="dialog" aria-modal="true" aria-labelledby=labelledby node_ref=node on:keydown=on_keydown>
                <h2 id=heading>{title}</h2>
                {children()}
            </div>
        </div>
    }
}

/// The fields, buttons and links of a dialog a keyboard can reach, in document order.
#[cfg(feature = "hydrate")]
fn dialog_focusables(dialog: &web_sys::HtmlDivElement) -> Vec<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast;
    let Ok(found) = dialog.query_selector_all("input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), button:not([disabled]), a[href]") else {
        return Vec::new();
    };
    (0..found.length())
        .filter_map(|i| found.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        .collect()
}

/// A form dialog's Cancel and submit buttons; the submit button is off while `disabled`.
#[component]
pub fn FormButtons(#[prop(into)] submit: String, disabled: Signal<bool>, cancel: Callback<()>) -> impl IntoView {
    view! {
        <div class="dialog-buttons">
            <button type="button" on:click=move |_| cancel.run(())>
                "Cancel"
            </button>
            <button type="submit" class="primary" disabled=move || disabled.get()>
                {submit}
            </button>
        </div>
    }
}

/// Errors whose field no input on the form shows, so none is lost.
#[component]
pub fn OtherErrors(errors: Errors, shown: Vec<String>) -> impl IntoView {
    move || {
        let rest: Vec<FieldError> = errors.with(|all| {
            all.iter()
                .filter(|e| !shown.iter().any(|s| e.field == *s || e.field.starts_with(&format!("{s}["))))
                .cloned()
                .collect()
        });
        (!rest.is_empty()).then(|| {
            view! {
                <div class="error" role="alert">
                    <ul>
                        {rest.into_iter().map(|e| view! { <li>{format!("{}: {}", e.field, e.message)}</li> }).collect_view()}
                    </ul>
                </div>
            }
        })
    }
}

/// Runs `done` with the outcome of each call of `action` once it finishes: the one way a
/// page reacts to a save, a delete or a release. Only calls that finish after this is set
/// up count, so a dialog that opens after an earlier failure does not show it again. (Lists
/// refetch by keying their resource on the action's `version()`, which counts finished
/// calls.)
pub fn on_done<I, T>(action: Action<I, Result<T, ConsoleError>>, done: impl Fn(Result<T, ConsoleError>) + 'static)
where
    I: Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    Effect::new(move |seen: Option<usize>| {
        let finished = action.version().get();
        let outcome = action.value().get();
        if let (Some(seen), Some(outcome)) = (seen, outcome) {
            if seen != finished {
                done(outcome);
            }
        }
        finished
    });
}

/// Changes a dialog made that the page's lists must show: the dialog owns its action, so
/// the page cannot key its resources on that action's `version()`; it keys them on
/// [`Changes::seen`] and the dialog's `closed` callback calls [`Changes::made`]. (A
/// `Trigger` would not do: a resource's source is a memo, and an unchanged key does not
/// refetch.)
#[derive(Clone, Copy, Debug)]
pub struct Changes(RwSignal<usize>);

impl Changes {
    /// No changes yet.
    pub fn new() -> Changes {
        Changes(RwSignal::new(0))
    }

    /// How many changes were made; a resource keyed on this refetches after each.
    pub fn seen(&self) -> usize {
        self.0.get()
    }

    /// Records a change.
    pub fn made(&self) {
        self.0.update(|n| *n += 1);
    }
}

impl Default for Changes {
    fn default() -> Changes {
        Changes::new()
    }
}

/// Select options from static pairs of value and text.
pub fn opts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(value, text)| ((*value).to_owned(), (*text).to_owned())).collect()
}

/// The head of a detail page: breadcrumb back to the list, the title, and a refusal if any.
#[component]
pub fn DetailHead(
    /// The list's label, e.g. `Apps`.
    section: &'static str,
    /// The list's path, e.g. `/apps`.
    href: &'static str,
    /// The thing's name.
    name: Memo<String>,
    /// A refusal to show.
    failure: RwSignal<Option<String>>,
) -> impl IntoView {
    view! {
        <Title text=move || format!("{} · {section} · Gantry", name.get()) />
        <p class="breadcrumb">
            <a href=href>{section}</a>
            " / "
            {move || name.get()}
        </p>
        <h1>{move || name.get()}</h1>
        {move || failure.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
    }
}

/// The logged-in user, loaded once by the console frame and read by [`IfAllowed`].
#[derive(Clone, Copy)]
pub struct Me(pub Resource<Result<domain::roles::Me, ConsoleError>>);

/// [`IfAllowed`]'s test for changing what every group shares (apps, backend services,
/// policies, bindings, authorizations).
pub fn edits_shared() -> Callback<domain::roles::Me, bool> {
    Callback::new(|me: domain::roles::Me| me.grant.allows(domain::roles::Action::EditShared))
}

/// [`IfAllowed`]'s test for changing the group `group` names (its settings, domains, draft).
pub fn edits_group(group: impl Fn() -> String + Send + Sync + 'static) -> Callback<domain::roles::Me, bool> {
    Callback::new(move |me: domain::roles::Me| me.grant.allows(domain::roles::Action::EditGroup(&group())))
}

/// Shows `children` only when the logged-in user passes `when`: the console hides what a
/// role cannot do (the services refuse it anyway, with a 403).
#[component]
pub fn IfAllowed(when: Callback<domain::roles::Me, bool>, children: ChildrenFn) -> impl IntoView {
    let me = use_context::<Me>();
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    let allowed = match me {
                        Some(me) => me.0.await.map(|me| when.run(me)).unwrap_or(false),
                        None => false,
                    };
                    allowed.then(|| children())
                })
            }}
        </Suspense>
    }
}
