//! Tapeline's integration tests: one test binary (it links once), one module per area.
//! Every `backend_tests!` test runs against a fresh SQLite file and a fresh PostgreSQL
//! schema, through the real router (`common::TestApp`); `binary` drives the real
//! `tapeline` executable.

#[macro_use]
mod common;

mod account_data;
mod accounts;
mod admin;
mod apikeys;
mod fair_use;
mod http_policy;
mod key_cache;
mod binary;
mod curated;
mod metrics;
mod openapi;
mod patterns;
mod permissions;
mod refusals;
mod render_hang;
mod rotation;
mod sets;
mod sets_pages;
mod shared_limits;
mod storage;
mod usage;
