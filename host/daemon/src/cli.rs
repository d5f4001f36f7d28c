//! Command-line interface. Flag names follow Prometheus (`--config.file`, `--web.listen-address`,
//! ...) so existing unit files and scripts keep working.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Sightline: metrics scraping, storage and PromQL in one daemon, extended by sandboxed
/// WebAssembly plugins. Compatible with Prometheus' configuration and HTTP API.
#[derive(Debug, Parser)]
#[command(name = "sightline", version, propagate_version = true)]
pub(crate) struct Cli {
    /// Only log messages with the given severity or above (default: info for `serve`, warn
    /// for the other commands, whose output is their result).
    #[arg(long = "log.level", value_enum, global = true)]
    pub(crate) log_level: Option<LogLevel>,
    /// Output format of log messages.
    #[arg(
        long = "log.format",
        value_enum,
        default_value = "logfmt",
        global = true
    )]
    pub(crate) log_format: LogFormat,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum LogFormat {
    Logfmt,
    Json,
}

// Parsed once per process; boxing `ServeArgs` would only make the code noisier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the daemon: scrape targets and exporter plugins, store samples, answer PromQL.
    Serve(ServeArgs),
    /// Validate configuration files like promtool (exit 0 valid, 1 invalid).
    #[command(subcommand)]
    Check(CheckCommand),
    /// Inspect and test WebAssembly plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Backfill historical data into the TSDB (the daemon must not be running on it).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Run a PromQL query against a running server and print the result.
    Query(QueryArgs),
    /// Run unit tests, like promtool (exit 0 when every test passes, 1 otherwise).
    #[command(subcommand)]
    Test(TestCommand),
    /// Show the rule groups of a running server (state, health, last evaluation, errors), or
    /// backfill recording rules over its history.
    Rules(RulesArgs),
    /// Show the alerts of a running server's alerting rules, or inspect an alertmanager.yml
    /// routing tree (`alerts routes show|test`, like `amtool config routes`).
    Alerts(AlertsArgs),
}

/// `sightline rules [--type alert|record]` or `sightline rules backfill ...`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct RulesArgs {
    #[command(subcommand)]
    pub(crate) command: Option<RulesCommand>,
    /// Only alerting (`alert`) or recording (`record`) rules.
    #[arg(long = "type")]
    pub(crate) rule_type: Option<String>,
    #[command(flatten)]
    pub(crate) common: QueryCommon,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Evaluate recording rules over past data on the running server and store the results
    /// (each rule up to its first live evaluation), instead of promtool's offline blocks.
    /// Needs the server's `--web.enable-admin-api`.
    Backfill {
        /// Start of the range (RFC 3339 or Unix seconds).
        #[arg(long)]
        start: String,
        /// End of the range (RFC 3339 or Unix seconds); default now.
        #[arg(long)]
        end: Option<String>,
        /// Only this rule group (repeatable).
        #[arg(long = "group")]
        groups: Vec<String>,
        /// Only this recording rule (repeatable).
        #[arg(long = "rule")]
        rules: Vec<String>,
        #[command(flatten)]
        common: QueryCommon,
    },
}

/// `sightline alerts [--state S]` or `sightline alerts routes ...`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct AlertsArgs {
    #[command(subcommand)]
    pub(crate) command: Option<AlertsCommand>,
    /// Only alerts in this state (`pending`, `firing`).
    #[arg(long)]
    pub(crate) state: Option<String>,
    #[command(flatten)]
    pub(crate) common: QueryCommon,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AlertsCommand {
    /// The notification history of a running server's alert manager: every notification
    /// sent or failed, newest first (`GET /api/v2/notifications`).
    History {
        /// Only this receiver.
        #[arg(long)]
        receiver: Option<String>,
        /// Only this aggregation group.
        #[arg(long = "group-key")]
        group_key: Option<String>,
        /// Only notifications with an alert matching this matcher (`alertname="Down"`;
        /// repeatable, all must match one alert).
        #[arg(long)]
        filter: Vec<String>,
        /// Only notifications since this long ago (e.g. `1h`).
        #[arg(long, value_parser = parse_prom_duration)]
        since: Option<std::time::Duration>,
        /// Only failed deliveries.
        #[arg(long)]
        failed: bool,
        /// At most this many entries.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[command(flatten)]
        common: QueryCommon,
    },
    /// Acknowledge a firing alert by fingerprint: it pages no one again until it resolves
    /// (a silence on exactly its labels that ends when the alert does).
    Ack {
        /// The alert's fingerprint (16 hex digits, as `GET /api/v2/alerts` shows it).
        fingerprint: String,
        /// Who acknowledges.
        #[arg(long, default_value = "sightline")]
        author: String,
        /// Why.
        #[arg(long, default_value = "acknowledged")]
        comment: String,
        #[command(flatten)]
        common: QueryCommon,
    },
    /// The routing tree of an alertmanager.yml, as `amtool config routes` shows and tests it.
    Routes {
        #[command(subcommand)]
        command: Option<RoutesCommand>,
        /// The alertmanager.yml whose routes to use; without it, the running server's
        /// (`--server`), as amtool reads Alertmanager's.
        #[arg(long = "config.file", global = true)]
        config_file: Option<PathBuf>,
        /// Base URL of the server whose configuration to use without `--config.file`.
        #[arg(long, global = true, default_value = "http://127.0.0.1:9090")]
        server: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RoutesCommand {
    /// Print the routing tree (the default).
    Show,
    /// Print the receivers a label set is routed to (in tree order, comma-separated).
    Test {
        /// Fail (exit 1) unless the resolved receivers are exactly this comma-separated list.
        #[arg(long = "verify.receivers")]
        verify_receivers: Option<String>,
        /// Also print the matching routes as a tree.
        #[arg(long)]
        tree: bool,
        /// Labels as `name=value`.
        labels: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TestCommand {
    /// Run rule unit tests in promtool's format (`rule_files`, `evaluation_interval`,
    /// `group_eval_order`, `tests` with `input_series`, `alert_rule_test` and
    /// `promql_expr_test`).
    Rules {
        /// Unit-test files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Run only test groups whose name matches one of these regular expressions
        /// (repeatable).
        #[arg(long)]
        run: Vec<String>,
        /// Ignore unknown fields in the rule files (the test files stay strict).
        #[arg(long = "ignore-unknown-fields")]
        ignore_unknown_fields: bool,
    },
}

/// `--lint` of `check rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LintMode {
    /// No linting.
    None,
    /// Report rules with the same name and labels.
    DuplicateRules,
    /// Every lint.
    All,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ImportCommand {
    /// Import an OpenMetrics text file (every sample with a timestamp, ending in `# EOF`),
    /// like `promtool tsdb create-blocks-from openmetrics`. Nothing is written unless the
    /// whole file imports.
    Openmetrics {
        /// The OpenMetrics file.
        file: PathBuf,
        /// Base path of the TSDB to import into.
        #[arg(long = "storage.tsdb.path", default_value = "data/")]
        storage_path: PathBuf,
    },
}

/// `sightline query EXPR` or `sightline query range EXPR --start --end --step`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct QueryArgs {
    #[command(subcommand)]
    pub(crate) range: Option<QueryRange>,
    /// The PromQL expression (instant query).
    pub(crate) expr: Option<String>,
    /// Evaluation time (RFC 3339 or Unix seconds); default now.
    #[arg(long)]
    pub(crate) time: Option<String>,
    #[command(flatten)]
    pub(crate) common: QueryCommon,
}

#[derive(Debug, Subcommand)]
pub(crate) enum QueryRange {
    /// Range query.
    Range {
        /// The PromQL expression.
        expr: String,
        /// Start time (RFC 3339 or Unix seconds).
        #[arg(long)]
        start: String,
        /// End time (RFC 3339 or Unix seconds).
        #[arg(long)]
        end: String,
        /// Resolution step (duration like 15s or float seconds).
        #[arg(long)]
        step: String,
        #[command(flatten)]
        common: QueryCommon,
    },
}

#[derive(Debug, Clone, Args)]
pub(crate) struct QueryCommon {
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:9090")]
    pub(crate) server: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    pub(crate) output: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// A readable table.
    Table,
    /// The API's JSON response.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PluginCommand {
    /// List the plugins of a directory: name, kind (WIT world), state, sha256, granted
    /// capabilities and load errors.
    List {
        /// Directory of plugin components.
        #[arg(long = "plugins.dir", default_value = "plugins/")]
        plugins_dir: PathBuf,
        #[command(flatten)]
        limits: PluginLimits,
    },
    /// Run one plugin in isolation, without network, and print its result as JSON: an
    /// exporter's samples, a receiver's recorded outbound HTTP requests, a query function's
    /// result or a dashboard's model. Exits non-zero with the plugin's error when it fails.
    Test {
        /// The plugin component; `<name>.toml` beside it grants capabilities.
        file: PathBuf,
        /// Input JSON: for a receiver, Alertmanager's webhook payload of the alert group; for a
        /// query function, `{"args": [...], "eval_time_ms": N}`.
        #[arg(long)]
        input: Option<PathBuf>,
        /// Plugin configuration overrides, `KEY=VALUE` (repeatable).
        #[arg(long = "config", value_parser = parse_kv)]
        config: Vec<(String, String)>,
        /// Canned HTTP responses for recorded requests, a JSON list of
        /// `{"url_prefix", "status", "headers", "body"}`. Default: 200 with an empty body.
        #[arg(long)]
        responses: Option<PathBuf>,
        #[command(flatten)]
        limits: PluginLimits,
    },
    /// Write a new plugin crate (Rust, the plugin SDK, contract 0.2) into `./NAME` (or
    /// `--dir`): Cargo.toml, src/lib.rs with a unit test, `NAME.toml` and a README with the
    /// build and `sightline plugin test` commands.
    New {
        /// What the plugin is.
        kind: crate::scaffold::Kind,
        /// The plugin's name: lower-case letters, digits and `-`, starting with a letter.
        name: String,
        /// Directory to create (default: `./NAME`); must not exist or be empty.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The SDK crate (`sdk/` of a Sightline checkout). Default: the `sdk/` of the
        /// checkout this binary was built from, when it still exists.
        #[arg(long = "sdk-path")]
        sdk_path: Option<PathBuf>,
    },
}

/// The daemon-wide ceilings of plugin manifests (`[limits]`), shared by `serve` and the
/// `plugin` commands so they accept and refuse the same manifests. The defaults are
/// `sightline_plugin_runtime::Ceilings::default()` (a test checks they agree).
#[derive(Debug, Clone, Args)]
pub(crate) struct PluginLimits {
    /// Largest memory limit a plugin manifest may grant (`limits.memory`) to one instance.
    #[arg(long = "plugins.max-memory", default_value = "1GiB", value_parser = parse_bytes)]
    pub(crate) max_memory: u64,
    /// Largest time limit a plugin manifest may grant (`limits.timeout`) to one call.
    #[arg(long = "plugins.max-timeout", default_value = "5m", value_parser = parse_prom_duration)]
    pub(crate) max_timeout: std::time::Duration,
    /// Largest output a plugin manifest may allow (`limits.max_output`) for one call.
    #[arg(long = "plugins.max-output", default_value = "256MiB", value_parser = parse_bytes)]
    pub(crate) max_output: u64,
    /// Largest number of concurrent calls of one plugin a manifest may allow
    /// (`limits.concurrency`, default 4); at most 32, a quarter of the runtime's 128
    /// instance slots.
    #[arg(long = "plugins.max-concurrency", default_value_t = 16)]
    pub(crate) max_concurrency: u32,
    /// Linear memory of all plugin instances together. A plugin growing past it fails that
    /// growth as its own memory-limit error.
    #[arg(long = "plugins.memory-ceiling", default_value = "2GiB", value_parser = parse_bytes)]
    pub(crate) memory_ceiling: u64,
}

impl PluginLimits {
    /// The runtime's ceilings, checked against each other.
    pub(crate) fn ceilings(&self) -> Result<sightline_plugin_runtime::Ceilings, String> {
        let c = sightline_plugin_runtime::Ceilings {
            max_memory_bytes: self.max_memory,
            max_timeout: self.max_timeout,
            max_output_bytes: usize::try_from(self.max_output)
                .map_err(|_| format!("--plugins.max-output={} is too large", self.max_output))?,
            max_concurrency: self.max_concurrency,
            memory_ceiling_bytes: self.memory_ceiling,
        };
        c.validate()?;
        Ok(c)
    }

    /// The flags as `/api/v1/status/flags` shows them.
    fn flags(&self) -> Vec<(String, String)> {
        let size = |b: u64| sightline_config::format_bytes(b);
        vec![
            ("plugins.max-memory".into(), size(self.max_memory)),
            (
                "plugins.max-timeout".into(),
                sightline_model::format_duration(self.max_timeout),
            ),
            ("plugins.max-output".into(), size(self.max_output)),
            (
                "plugins.max-concurrency".into(),
                self.max_concurrency.to_string(),
            ),
            ("plugins.memory-ceiling".into(), size(self.memory_ceiling)),
        ]
    }
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    sightline_plugin_runtime::cli::parse_config_flag(s).map_err(|e| e.to_string())
}

#[derive(Debug, Subcommand)]
pub(crate) enum CheckCommand {
    /// Check rule files (Prometheus' format): syntax, expressions, templates, duplicates.
    /// An SLO spec is checked as the rule file it generates (see `check slos`).
    Rules {
        /// Rule files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Linting checks to apply.
        #[arg(long, value_enum, default_value = "duplicate-rules")]
        lint: LintMode,
        /// Make lint errors exit with exit code 3.
        #[arg(long = "lint-fatal")]
        lint_fatal: bool,
    },
    /// Check SLO specs (Sloth's `prometheus/v1` spec, or a `slos:` block of
    /// `{target, query}` entries) and print what they generate: SLOs, recording rules,
    /// alerts. The same files load through `rule_files` like rule files.
    Slos {
        /// SLO spec files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write the generated rules of every file to this Prometheus rule file (to inspect
        /// them, or to hand them to Prometheus).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check prometheus.yml-format configuration files and what they reference.
    Config {
        /// Configuration files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Check alertmanager.yml files as `amtool check-config` does (same report, exit 1 on
    /// failure); with `--plugins.dir`, also that every `<name>_configs` is served by a
    /// receiver plugin `<name>`.
    Alertmanager {
        /// alertmanager.yml files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Plugins directory whose receiver plugins must serve the integrations.
        #[arg(long = "plugins.dir")]
        plugins_dir: Option<PathBuf>,
    },
}

/// Flags of `sightline serve`, named as Prometheus names them.
#[derive(Debug, Clone, Args)]
pub(crate) struct ServeArgs {
    /// Prometheus configuration file (prometheus.yml format). Default: an embedded
    /// configuration that scrapes Sightline itself and runs the node exporter plugin.
    #[arg(long = "config.file")]
    pub(crate) config_file: Option<PathBuf>,

    /// Alertmanager configuration file (alertmanager.yml format): runs the built-in alert
    /// manager (Alertmanager's API v2 under /api/v2, state in <storage.tsdb.path>/alertmanager),
    /// which gets the alerts of this server's rules in-process and any Prometheus' alerts over
    /// the API. Reloaded with the Prometheus configuration.
    #[arg(long = "alertmanager.config.file")]
    pub(crate) alertmanager_config_file: Option<PathBuf>,

    /// How long the built-in alert manager keeps expired silences and notification-log
    /// entries (Alertmanager's --data.retention).
    #[arg(long = "alertmanager.data.retention", default_value = "120h", value_parser = parse_prom_duration)]
    pub(crate) alertmanager_data_retention: std::time::Duration,

    /// How long the notification history (every notification sent or failed) is kept.
    #[arg(long = "alertmanager.history.retention", default_value = "7d", value_parser = parse_prom_duration)]
    pub(crate) alertmanager_history_retention: std::time::Duration,

    /// Receivers that also get the resolved notification of an alert that was notified as
    /// firing and then silenced (Alertmanager drops it; alertmanager#226). Repeatable or
    /// comma-separated receiver names.
    #[arg(
        long = "alertmanager.send-resolved-for-silenced",
        value_delimiter = ','
    )]
    pub(crate) alertmanager_resolved_for_silenced: Vec<String>,

    /// Most entries kept in the notification history; the oldest go first.
    #[arg(long = "alertmanager.history.max-entries", default_value_t = 100_000)]
    pub(crate) alertmanager_history_max_entries: usize,

    /// Base path for metrics storage.
    #[arg(long = "storage.tsdb.path", default_value = "data/")]
    pub(crate) storage_path: PathBuf,

    /// How long to retain samples in storage (Prometheus duration, e.g. 15d, 12h).
    #[arg(long = "storage.tsdb.retention.time", default_value = "15d", value_parser = parse_prom_duration)]
    pub(crate) retention_time: std::time::Duration,

    /// Maximum number of bytes that can be stored for blocks (e.g. 512MB, 10GB). 0 disables.
    #[arg(long = "storage.tsdb.retention.size", value_parser = parse_bytes)]
    pub(crate) retention_size: Option<u64>,

    /// When the WAL is fsynced: `always` (every commit; a power loss loses nothing
    /// acknowledged), `never` (left to the OS), or a duration such as `1s` (the default: a
    /// power loss may lose up to that much). A crash of the process alone never loses an
    /// acknowledged sample.
    #[arg(long = "storage.tsdb.wal-fsync", default_value = "1s")]
    pub(crate) wal_fsync: String,

    /// Compress WAL series and sample records (snappy, as Prometheus). Older WALs, compressed
    /// or not, are always readable.
    #[arg(long = "storage.tsdb.wal-compression", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub(crate) wal_compression: bool,

    /// Address to listen on for the web UI, API and telemetry.
    #[arg(long = "web.listen-address", default_value = "127.0.0.1:9090")]
    pub(crate) listen_address: String,

    /// Web configuration file (Prometheus' exporter-toolkit format): TLS, client
    /// certificates, basic auth with bcrypt hashes and extra response headers, applied to
    /// every endpoint. Re-read when it (or a file it names) changes.
    #[arg(long = "web.config.file")]
    pub(crate) web_config_file: Option<PathBuf>,

    /// The URL under which Sightline is externally reachable (for example, behind a reverse
    /// proxy). Its path is the default route prefix. Default: http://<hostname>:<port>/.
    #[arg(long = "web.external-url")]
    pub(crate) external_url: Option<String>,

    /// Prefix for the internal routes of web endpoints. Default: the path of
    /// --web.external-url.
    #[arg(long = "web.route-prefix")]
    pub(crate) route_prefix: Option<String>,

    /// Maximum number of simultaneous connections; further clients wait to be accepted.
    #[arg(long = "web.max-connections", default_value_t = 512)]
    pub(crate) max_connections: usize,

    /// Maximum duration before timing out read of the request (TLS handshake, headers and
    /// body), and closing idle connections.
    #[arg(long = "web.read-timeout", default_value = "5m", value_parser = parse_prom_duration)]
    pub(crate) read_timeout: std::time::Duration,

    /// Enable API endpoints for admin control actions (TSDB delete, snapshot).
    #[arg(long = "web.enable-admin-api")]
    pub(crate) enable_admin_api: bool,

    /// Enable API endpoint accepting remote write requests (`POST /api/v1/write`, remote
    /// write 1.0 and 2.0). Without it the endpoint answers 404, as in Prometheus.
    #[arg(long = "web.enable-remote-write-receiver")]
    pub(crate) enable_remote_write_receiver: bool,

    /// Enable API endpoint accepting OTLP metrics over HTTP (`POST /api/v1/otlp/v1/metrics`,
    /// protobuf or JSON). Delta temporality is converted to cumulative. Without it the
    /// endpoint answers 404, as in Prometheus.
    #[arg(long = "web.enable-otlp-receiver")]
    pub(crate) enable_otlp_receiver: bool,

    /// Enable shutdown and reload via HTTP requests (`POST /-/quit`, `POST /-/reload`).
    /// Without it they answer 403, as in Prometheus; SIGHUP still reloads.
    #[arg(long = "web.enable-lifecycle")]
    pub(crate) enable_lifecycle: bool,

    /// Directory of plugin components (`<name>.wasm` with optional `<name>.toml`), watched for
    /// changes.
    #[arg(long = "plugins.dir", default_value = "plugins/")]
    pub(crate) plugins_dir: PathBuf,

    #[command(flatten)]
    pub(crate) plugin_limits: PluginLimits,

    /// How long to wait on shutdown for the remote-write queues to deliver what the WAL
    /// holds; what is left is sent after the next start (the queues resume from the WAL).
    #[arg(long = "storage.remote.flush-deadline", default_value = "1m", value_parser = parse_prom_duration)]
    pub(crate) remote_flush_deadline: std::time::Duration,

    /// Maximum time a query may take before being aborted.
    #[arg(long = "query.timeout", default_value = "2m", value_parser = parse_prom_duration)]
    pub(crate) query_timeout: std::time::Duration,

    /// Maximum number of samples a single query can load into memory.
    #[arg(long = "query.max-samples", default_value_t = 50_000_000)]
    pub(crate) query_max_samples: usize,

    /// The maximum lookback duration for retrieving metrics during expression evaluations.
    #[arg(long = "query.lookback-delta", default_value = "5m", value_parser = parse_prom_duration)]
    pub(crate) query_lookback_delta: std::time::Duration,

    /// Maximum number of queries executed concurrently.
    #[arg(long = "query.max-concurrency", default_value_t = 20)]
    pub(crate) query_max_concurrency: usize,

    /// Threads one query may use for its per-series work on large selectors (0: the available
    /// cores). Sightline only: Prometheus evaluates each query on one core.
    #[arg(long = "query.parallelism", default_value_t = 0)]
    pub(crate) query_parallelism: usize,

    /// Maximum overall number of samples to return via the remote read interface
    /// (`POST /api/v1/read`), in a single query. 0 means no limit. This limit is ignored for
    /// streamed response types.
    #[arg(long = "storage.remote.read-sample-limit", default_value = "5e7", value_parser = parse_count)]
    pub(crate) remote_read_sample_limit: usize,

    /// Maximum number of concurrent remote read calls; further calls wait. 0 means no limit.
    #[arg(long = "storage.remote.read-concurrent-limit", default_value = "10", value_parser = parse_count)]
    pub(crate) remote_read_concurrent_limit: usize,

    /// Maximum number of bytes in a single frame for streaming remote read response types
    /// before marshalling. Note that client might have limit on frame size as well.
    #[arg(long = "storage.remote.read-max-bytes-in-frame", default_value = "1048576", value_parser = parse_count)]
    pub(crate) remote_read_max_bytes_in_frame: usize,

    /// Max time to tolerate an outage for restoring the "for" state of alerts.
    #[arg(long = "rules.alert.for-outage-tolerance", default_value = "1h", value_parser = parse_prom_duration)]
    pub(crate) for_outage_tolerance: std::time::Duration,

    /// Minimum duration between an alert and its restored "for" state. This is maintained
    /// only for alerts with a configured "for" time greater than the grace period.
    #[arg(long = "rules.alert.for-grace-period", default_value = "10m", value_parser = parse_prom_duration)]
    pub(crate) for_grace_period: std::time::Duration,

    /// Minimum amount of time to wait before resending an alert to Alertmanager.
    #[arg(long = "rules.alert.resend-delay", default_value = "1m", value_parser = parse_prom_duration)]
    pub(crate) resend_delay: std::time::Duration,

    /// How far back a rule group evaluates the iterations it missed (the daemon was down or
    /// the group slower than its interval), so recording rules have no gaps; 0 disables it
    /// (Prometheus' behaviour).
    #[arg(long = "rules.catch-up-window", default_value = "1h", value_parser = parse_prom_duration)]
    pub(crate) catch_up_window: std::time::Duration,

    /// How much history a recording rule that a reload adds is backfilled over, so its
    /// series does not start empty; 0 (the default) backfills nothing. `sightline rules
    /// backfill` backfills on demand.
    #[arg(long = "rules.backfill-new-rules", default_value = "0s", value_parser = parse_prom_duration)]
    pub(crate) backfill_new_rules: std::time::Duration,

    /// The capacity of the queue for pending Alertmanager notifications.
    #[arg(
        long = "alertmanager.notification-queue-capacity",
        default_value_t = 10000
    )]
    pub(crate) notification_queue_capacity: usize,
}

impl ServeArgs {
    /// Prometheus' `computeExternalURL`: the given URL with its path's trailing `/` removed,
    /// or `http://<hostname>:<listen port>/`.
    pub(crate) fn external_url(&self) -> Result<url::Url, String> {
        let raw = match &self.external_url {
            Some(u) if !u.is_empty() => u.clone(),
            _ => {
                let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .map(|h| h.trim().to_string())
                    .ok()
                    .filter(|h| !h.is_empty())
                    .unwrap_or_else(|| "localhost".to_string());
                let port = self
                    .listen_address
                    .rsplit_once(':')
                    .map(|(_, p)| p)
                    .ok_or_else(|| {
                        format!("--web.listen-address {:?} has no port", self.listen_address)
                    })?;
                format!("http://{host}:{port}/")
            }
        };
        let quoted = |c: char| raw.starts_with(c) || raw.ends_with(c);
        if quoted('"') || quoted('\'') {
            return Err("--web.external-url: URL must not begin or end with quotes".into());
        }
        let mut u = url::Url::parse(&raw).map_err(|e| {
            let raw = sightline_config::redact_url_passwords(&raw);
            format!("--web.external-url {raw:?}: {e}")
        })?;
        let path = u.path().trim_end_matches('/').to_string();
        u.set_path(&path);
        Ok(u)
    }

    /// The route prefix: `--web.route-prefix`, else the external URL's path; always `/` or
    /// `/a/b` (Prometheus trims slashes and puts one in front).
    pub(crate) fn route_prefix(&self) -> Result<String, String> {
        let p = match &self.route_prefix {
            Some(p) if !p.is_empty() => p.clone(),
            _ => self.external_url()?.path().to_string(),
        };
        Ok(format!("/{}", p.trim_matches('/')))
    }

    /// The flags as `/api/v1/status/flags` reports them: Prometheus' names, string values.
    /// The flags as `/api/v1/status/flags` shows them (URL passwords as `xxxxx`).
    pub(crate) fn as_flag_map(&self) -> Vec<(String, String)> {
        let d = sightline_model::format_duration;
        let opt = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        vec![
            ("config.file".into(), opt(&self.config_file)),
            (
                "rules.alert.for-outage-tolerance".into(),
                d(self.for_outage_tolerance),
            ),
            (
                "rules.alert.for-grace-period".into(),
                d(self.for_grace_period),
            ),
            ("rules.alert.resend-delay".into(), d(self.resend_delay)),
            ("rules.catch-up-window".into(), d(self.catch_up_window)),
            (
                "rules.backfill-new-rules".into(),
                d(self.backfill_new_rules),
            ),
            (
                "alertmanager.notification-queue-capacity".into(),
                self.notification_queue_capacity.to_string(),
            ),
            (
                "alertmanager.config.file".into(),
                opt(&self.alertmanager_config_file),
            ),
            (
                "alertmanager.data.retention".into(),
                d(self.alertmanager_data_retention),
            ),
            (
                "alertmanager.history.retention".into(),
                d(self.alertmanager_history_retention),
            ),
            (
                "alertmanager.send-resolved-for-silenced".into(),
                self.alertmanager_resolved_for_silenced.join(","),
            ),
            (
                "alertmanager.history.max-entries".into(),
                self.alertmanager_history_max_entries.to_string(),
            ),
            (
                "storage.tsdb.path".into(),
                self.storage_path.display().to_string(),
            ),
            ("storage.tsdb.retention.time".into(), d(self.retention_time)),
            (
                "storage.tsdb.retention.size".into(),
                self.retention_size
                    .map(|b| format!("{b}B"))
                    .unwrap_or_else(|| "0B".into()),
            ),
            ("storage.tsdb.wal-fsync".into(), self.wal_fsync.clone()),
            (
                "storage.tsdb.wal-compression".into(),
                self.wal_compression.to_string(),
            ),
            ("web.listen-address".into(), self.listen_address.clone()),
            ("web.config.file".into(), opt(&self.web_config_file)),
            (
                "web.external-url".into(),
                self.external_url.clone().unwrap_or_default(),
            ),
            (
                "web.route-prefix".into(),
                self.route_prefix().unwrap_or_default(),
            ),
            (
                "web.max-connections".into(),
                self.max_connections.to_string(),
            ),
            ("web.read-timeout".into(), d(self.read_timeout)),
            (
                "web.enable-admin-api".into(),
                self.enable_admin_api.to_string(),
            ),
            (
                "web.enable-lifecycle".into(),
                self.enable_lifecycle.to_string(),
            ),
            (
                "web.enable-remote-write-receiver".into(),
                self.enable_remote_write_receiver.to_string(),
            ),
            (
                "web.enable-otlp-receiver".into(),
                self.enable_otlp_receiver.to_string(),
            ),
            ("plugins.dir".into(), self.plugins_dir.display().to_string()),
        ]
        .into_iter()
        .chain(self.plugin_limits.flags())
        .chain([
            ("query.timeout".into(), d(self.query_timeout)),
            (
                "storage.remote.flush-deadline".into(),
                d(self.remote_flush_deadline),
            ),
            (
                "query.max-samples".into(),
                self.query_max_samples.to_string(),
            ),
            ("query.lookback-delta".into(), d(self.query_lookback_delta)),
            (
                "query.max-concurrency".into(),
                self.query_max_concurrency.to_string(),
            ),
            (
                "query.parallelism".into(),
                self.query_parallelism.to_string(),
            ),
            (
                "storage.remote.read-sample-limit".into(),
                self.remote_read_sample_limit.to_string(),
            ),
            (
                "storage.remote.read-concurrent-limit".into(),
                self.remote_read_concurrent_limit.to_string(),
            ),
            (
                "storage.remote.read-max-bytes-in-frame".into(),
                self.remote_read_max_bytes_in_frame.to_string(),
            ),
        ])
        // A URL flag (`--web.external-url`) may carry a password in its userinfo.
        .map(|(k, v)| (k, sightline_config::redact_url_passwords(&v).into_owned()))
        .collect()
    }
}

/// A count as Prometheus' integer flags take it: decimal, or in float notation (its default
/// remote-read sample limit is written `5e7`); not negative.
fn parse_count(s: &str) -> Result<usize, String> {
    if let Ok(n) = s.trim().parse::<usize>() {
        return Ok(n);
    }
    match s.trim().parse::<f64>() {
        Ok(f) if f >= 0.0 && f.fract() == 0.0 && f < usize::MAX as f64 => Ok(f as usize),
        _ => Err(format!("expected a non-negative integer, got {s:?}")),
    }
}

fn parse_prom_duration(s: &str) -> Result<std::time::Duration, String> {
    sightline_model::parse_duration(s).map_err(|e| e.to_string())
}

/// Prometheus' byte-size grammar: an integer with an optional unit B, KB, MB, GB, TB, PB, EB
/// (powers of 1024, as Prometheus' `units.Base2Bytes`).
pub(crate) fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("invalid size {s:?}"))?;
    let mult: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" | "KIB" => 1 << 10,
        "MB" | "MIB" => 1 << 20,
        "GB" | "GIB" => 1 << 30,
        "TB" | "TIB" => 1 << 40,
        "PB" | "PIB" => 1 << 50,
        "EB" | "EIB" => 1 << 60,
        _ => {
            return Err(format!(
                "invalid size unit in {s:?} (use B, KB, MB, GB, TB, PB, EB)"
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} overflows"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    /// issue 14: the ceilings flags default to the runtime's defaults, so `serve`, `plugin
    /// list` and `plugin test` hold manifests to the same limits; absurd flags stop startup.
    #[test]
    fn plugin_ceilings_default_to_the_runtimes() {
        let cli = Cli::try_parse_from(["sightline", "plugin", "list"]).unwrap();
        let Command::Plugin(PluginCommand::List { limits, .. }) = cli.command else {
            panic!("not plugin list");
        };
        assert_eq!(
            limits.ceilings().unwrap(),
            sightline_plugin_runtime::Ceilings::default()
        );
        let cli = Cli::try_parse_from([
            "sightline",
            "plugin",
            "list",
            "--plugins.max-concurrency=100",
        ])
        .unwrap();
        let Command::Plugin(PluginCommand::List { limits, .. }) = cli.command else {
            panic!("not plugin list");
        };
        assert!(limits
            .ceilings()
            .unwrap_err()
            .contains("--plugins.max-concurrency=100"));
    }

    #[test]
    fn bytes() {
        assert_eq!(parse_bytes("512MB").unwrap(), 512 << 20);
        assert_eq!(parse_bytes("10").unwrap(), 10);
        assert!(parse_bytes("1XB").is_err());
    }

    #[test]
    fn serve_defaults_match_prometheus() {
        let c = Cli::parse_from(["sightline", "serve"]);
        let Command::Serve(a) = c.command else {
            panic!("not serve")
        };
        let flags: std::collections::HashMap<_, _> = a.as_flag_map().into_iter().collect();
        assert_eq!(flags["storage.tsdb.retention.time"], "15d");
        assert_eq!(flags["query.lookback-delta"], "5m");
        assert_eq!(flags["query.timeout"], "2m");
        assert_eq!(flags["web.listen-address"], "127.0.0.1:9090");
        assert_eq!(flags["storage.tsdb.path"], "data/");
        assert_eq!(flags["web.max-connections"], "512");
        assert_eq!(flags["web.read-timeout"], "5m");
        assert_eq!(flags["web.route-prefix"], "/");
        assert_eq!(flags["web.enable-lifecycle"], "false");
        // As Prometheus 2.42 lists them.
        assert_eq!(flags["storage.remote.read-sample-limit"], "50000000");
        assert_eq!(flags["storage.remote.read-concurrent-limit"], "10");
        assert_eq!(flags["storage.remote.read-max-bytes-in-frame"], "1048576");
    }

    fn serve(args: &[&str]) -> ServeArgs {
        let c = Cli::parse_from(["sightline", "serve"].iter().chain(args));
        let Command::Serve(a) = c.command else {
            panic!("not serve")
        };
        a
    }

    #[test]
    fn route_prefix_follows_prometheus() {
        let a = serve(&["--web.external-url=http://example.com:1234/foo/bar/"]);
        assert_eq!(a.route_prefix().unwrap(), "/foo/bar");
        assert_eq!(
            a.external_url().unwrap().as_str(),
            "http://example.com:1234/foo/bar"
        );
        let a = serve(&[
            "--web.external-url=http://example.com/foo",
            "--web.route-prefix=baz/",
        ]);
        assert_eq!(a.route_prefix().unwrap(), "/baz");
        assert_eq!(serve(&[]).route_prefix().unwrap(), "/");
        assert!(serve(&["--web.external-url=\"http://x/\""])
            .external_url()
            .is_err());
    }
}
