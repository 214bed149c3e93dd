//! Integration tests: the real server on port 0 with a fresh data dir per test.

mod access_log;
mod approvals;
mod apps;
mod audit;
mod auth;
mod cluster;
mod concurrent;
mod config;
mod debug;
mod docs;
mod functions;
mod gateway;
mod groups;
mod helpers;
mod hostile;
mod https;
mod lifecycle;
mod load;
mod policies;
mod redis_down;
mod releases;
mod rest;
mod roles;
mod services;
mod stats;
mod websocket;
