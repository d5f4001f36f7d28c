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
//! The engine: the alert store ([`AlertStore`]), the [`Marker`], the [`Dispatcher`] with its
//! aggregation groups and notification pipeline (inhibition, time intervals, silences
//! through a [`Silencer`], dedup against the [`NotificationLog`], retries), delivery through
//! [`Integration`]s the caller provides, outcomes to an [`OutcomeSink`], and the template data
//! ([`TemplateData`]). State files are written crash-safely ([`persist`]).
//!
//! The silence store ([`Silences`]: Alertmanager 0.25's semantics, until-resolved silences
//! and acknowledgements), the notification history ([`History`]) and API v2 ([`api`]).

mod alert;
pub mod api;
mod check;
mod clock;
mod config;
mod data;
mod defaults;
mod dispatch;
mod error;
mod global;
mod history;
mod inhibit;
mod marker;
mod matchers;
mod metrics;
mod nflog;
pub mod persist;
mod pipeline;
mod plugin_kinds;
mod receivers;
mod redact;
mod route;
mod routes_cli;
mod schema;
mod silence;
mod store;
mod timeinterval;
mod tz;
mod yamlx;

pub use alert::{
    fingerprint, fingerprint_hex, parse_rfc3339, rfc3339, rfc3339_millis, Alert, Fingerprint,
};
pub use check::check_config_file;
pub use clock::{Clock, SystemClock};
pub use config::{load_file, load_str, load_templates, Config};
pub use data::{DataAlert, TemplateData};
pub use defaults::{render_settings, template_defaults, with_defaults};
pub use dispatch::{Dispatcher, DispatcherDeps, DispatcherOptions, GroupSnapshot};
pub use error::{Error, Result};
pub use global::GlobalConfig;
pub use history::{History, HistoryAlert, HistoryEntry, HistoryQuery};
pub use inhibit::{inhibited_by, silence_mutes, InhibitRule};
pub use marker::{AlertState, AlertStatus, Marker};
pub use matchers::{
    parse_classic, parse_filter_matchers, parse_matcher, parse_matchers, parse_utf8, LabelSet,
    MatchType, Matcher, Matchers,
};
pub use metrics::Metrics;
pub use nflog::{NflogEntry, NflogReceiver, NotificationLog};
pub use pipeline::{
    BoxFuture, Integration, Integrations, NoOutcomes, NoSilences, Notification,
    NotificationOutcome, NotifyError, OutcomeAlert, OutcomeSink, ReceiverOptions, Silencer,
};
pub use plugin_kinds::{check_plugin_kinds, nearest_kind, plugin_integrations};
pub use receivers::{
    flatten_settings, integration_kinds, is_alertmanager_kind, IntegrationConfig, Receiver,
};
pub use redact::redacted_config;
pub use route::{Route, RouteConfig, RouteOpts, RouteTree};
pub use routes_cli::{routes_show, routes_test, RoutesTestOutcome};
pub use silence::{
    build_matchers, MatcherSpec, Silence, SilenceQuery, SilenceRequest, SilenceState, Silences,
    UNTIL_RESOLVED_END_MS, ZERO_TIME_MS,
};
pub use store::{validate, AlertStore, PostedAlert};
pub use timeinterval::{NamedTimeInterval, TimeInterval};
