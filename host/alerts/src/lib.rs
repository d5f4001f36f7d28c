//! `sightline-alerts`: the Alertmanager side of Sightline.
//!
//! What is here: alertmanager.yml read completely and validated as current Alertmanager does
//! ([`load_file`], [`load_str`]: `global` with its defaults, the `route` tree, `inhibit_rules`,
//! `receivers` with every integration kind, `time_intervals`, `templates`), the matcher
//! syntaxes ([`parse_matchers`]), the routing tree of `dispatch/route.go` ([`RouteTree`]),
//! inhibition and silence matching as pure functions ([`InhibitRule::mutes`],
//! [`silence_mutes`]), and `amtool check-config`'s and `amtool config routes`' output
//! ([`check_config_file`], [`routes_show`], [`routes_test`]).
//!
//! [`api`] is Alertmanager 0.25's HTTP API v2 as an axum router over a backend trait.
//!
//! What is not here yet: the dispatcher (aggregation groups and their timers), the silence
//! store, the notification log and delivery. This crate does no IO beyond reading the
//! configuration and the template files it names (the API only serves what its backend
//! gives it).

mod alert;
pub mod api;
mod check;
mod config;
mod error;
mod global;
mod inhibit;
mod matchers;
pub mod persist;
mod receivers;
mod route;
mod routes_cli;
mod schema;
mod timeinterval;
mod yamlx;

pub use alert::{
    fingerprint, fingerprint_hex, parse_rfc3339, rfc3339, rfc3339_millis, Alert, Fingerprint,
};
pub use check::check_config_file;
pub use config::{load_file, load_str, load_templates, Config};
pub use error::{Error, Result};
pub use global::GlobalConfig;
pub use inhibit::{inhibited_by, silence_mutes, InhibitRule};
pub use matchers::{
    parse_classic, parse_filter_matchers, parse_matcher, parse_matchers, parse_utf8, LabelSet,
    MatchType, Matcher, Matchers,
};
pub use receivers::{integration_kinds, IntegrationConfig, Receiver};
pub use route::{Route, RouteConfig, RouteOpts, RouteTree};
pub use routes_cli::{routes_show, routes_test, RoutesTestOutcome};
pub use timeinterval::{NamedTimeInterval, TimeInterval};
