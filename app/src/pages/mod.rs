//! One module per console page.

pub mod apps;
pub mod backend_services;
pub mod debug;
pub mod groups;
pub mod login;
