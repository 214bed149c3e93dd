//! One module per console page.

pub mod access_log;
pub mod advanced_config;
pub mod api_authorize;
pub mod api_editor;
pub mod api_list;
pub mod api_policies;
pub mod api_release;
pub mod approvals;
pub mod apps;
pub mod audit;
pub mod backend_services;
pub mod canary;
pub mod debug;
pub mod deployments;
pub mod docs;
pub mod domains;
pub mod group;
pub mod groups;
pub mod login;
pub mod monitoring;
pub mod nodes;
pub mod policies;
pub mod release;
pub mod tokens;
pub mod users;
pub mod versions;
