//! Integration tests of the plugin runtime with real wasm components.

mod common;
mod first_party;
mod hostile;
mod kinds;
mod reload;
