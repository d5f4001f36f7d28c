//! End-to-end tests of the `sightline` binary: each test starts the real daemon on a free
//! loopback port with its own data directory, talks HTTP to it, and stops it. Every wait is
//! bounded; every process is killed on drop.

// Test support code panics on purpose: a failed setup step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod alertmanager;
mod am_support;
mod budgets;
mod check;
mod contract_v02;
mod dashboards;
mod deep;
mod federate;
mod heavy;
mod hostile_mix;
mod http_config;
mod lang_plugins;
mod native_histogram_scrape;
mod native_histograms;
mod node_exporter_parity;
mod otlp;
mod plugin_new;
mod plugin_output;
mod plugins;
mod procfs;
mod query;
mod remote_auth;
mod remote_read;
mod remote_write;
mod remote_write_out;
mod rules;
mod secrets;
mod seed_alerting;
mod serve;
mod sidebyside;
mod slo;
mod smtp_sink;
mod support;
mod tools;
mod ui;
mod ui_env;
mod ui_native;
mod web;
mod web_ui;
