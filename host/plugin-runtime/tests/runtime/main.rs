//! Integration tests of the plugin runtime with real wasm components.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod budgets;
mod common;
mod conflicts;
mod contract_v02;
mod first_party;
mod hostile;
mod kinds;
mod outbound;
mod output;
mod procfs;
mod reload;
