//! The Gantry console: Leptos pages rendered on the server and hydrated in the browser, and
//! the server functions they call.
//!
//! # Layout
//! - [`shell`] and [`App`] (`layout`): the HTML document, the router and the console frame
//!   (top bar with navigation and the current user, the page below).
//! - [`api`]: `#[server]` functions. Each is a few lines that call one `control` service;
//!   server-only helpers sit in `api::ssr`.
//! - [`error`]: [`error::ConsoleError`], the one error type of every server function.
//! - [`components`]: labelled fields with their errors, selects, dialogs, and
//!   [`components::on_done`], the one way a page reacts to a finished call.
//! - [`list`]: search, sort and paging of list pages, kept in the URL.
//! - [`pages`]: one module per page.
//! - `charts` (server only): SVG line charts and sparklines drawn with `plotters`.
//!
//! Built with `ssr` into the `gantry` binary, and with `hydrate` into the browser bundle by
//! cargo-leptos.

#![recursion_limit = "512"]

pub mod api;
#[cfg(feature = "ssr")]
pub mod charts;
pub mod components;
pub mod error;
mod layout;
pub mod list;
pub mod pages;

pub use layout::{shell, App};

/// The browser entry point: attaches the client to the server-rendered HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
