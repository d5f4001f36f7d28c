//! Every metric name Sightline exposes about itself, in one place.
//!
//! Convention: `sightline_<subsystem>_<name>_<unit>[_total]`. Counter constants here omit the
//! `_total` suffix: the encoder adds it, as OpenMetrics requires.

// Scrape.
pub const SCRAPE_TARGETS: &str = "sightline_scrape_targets";
pub const SCRAPES: &str = "sightline_scrape_scrapes";
pub const SCRAPE_FAILURES: &str = "sightline_scrape_failures";
pub const SCRAPE_DURATION_SECONDS: &str = "sightline_scrape_duration_seconds";
pub const SCRAPE_SAMPLES: &str = "sightline_scrape_samples";
pub const SCRAPE_SAMPLE_LIMIT_EXCEEDED: &str = "sightline_scrape_sample_limit_exceeded";
pub const SCRAPE_SAMPLES_OUT_OF_ORDER: &str = "sightline_scrape_samples_out_of_order";
pub const SCRAPE_SAMPLES_DUPLICATE: &str = "sightline_scrape_samples_duplicate_timestamp";
pub const SCRAPE_SAMPLES_OUT_OF_BOUNDS: &str = "sightline_scrape_samples_out_of_bounds";
pub const SCRAPE_BODY_BYTES: &str = "sightline_scrape_body_bytes";

// Config.
pub const CONFIG_LAST_RELOAD_SUCCESSFUL: &str = "sightline_config_last_reload_successful";
pub const CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS: &str =
    "sightline_config_last_reload_success_timestamp_seconds";
pub const CONFIG_RELOADS: &str = "sightline_config_reloads";

// HTTP.
pub const HTTP_REQUESTS: &str = "sightline_http_requests";
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "sightline_http_request_duration_seconds";

// Rules (Prometheus' `prometheus_rule_*` under our prefix; label `rule_group` is `file;name`).
pub const RULE_EVALUATIONS: &str = "sightline_rule_evaluations";
pub const RULE_EVALUATION_FAILURES: &str = "sightline_rule_evaluation_failures";
pub const RULE_GROUP_ITERATIONS: &str = "sightline_rule_group_iterations";
pub const RULE_GROUP_ITERATIONS_MISSED: &str = "sightline_rule_group_iterations_missed";
pub const RULE_GROUP_ITERATIONS_CAUGHT_UP: &str = "sightline_rule_group_iterations_caught_up";
pub const RULE_GROUP_INTERVAL_SECONDS: &str = "sightline_rule_group_interval_seconds";
pub const RULE_GROUP_LAST_DURATION_SECONDS: &str = "sightline_rule_group_last_duration_seconds";
pub const RULE_GROUP_LAST_EVALUATION_TIMESTAMP_SECONDS: &str =
    "sightline_rule_group_last_evaluation_timestamp_seconds";
pub const RULE_GROUP_LAST_EVALUATION_SAMPLES: &str = "sightline_rule_group_last_evaluation_samples";
pub const RULE_GROUP_RULES: &str = "sightline_rule_group_rules";
pub const RULE_GROUP_DURATION_SECONDS: &str = "sightline_rule_group_duration_seconds";

// Notifications to Alertmanagers (Prometheus' `prometheus_notifications_*`).
pub const NOTIFICATIONS_LATENCY_SECONDS: &str = "sightline_notifications_latency_seconds";
pub const NOTIFICATIONS_ERRORS: &str = "sightline_notifications_errors";
pub const NOTIFICATIONS_SENT: &str = "sightline_notifications_sent";
pub const NOTIFICATIONS_DROPPED: &str = "sightline_notifications_dropped";
pub const NOTIFICATIONS_QUEUE_LENGTH: &str = "sightline_notifications_queue_length";
pub const NOTIFICATIONS_QUEUE_CAPACITY: &str = "sightline_notifications_queue_capacity";
pub const NOTIFICATIONS_ALERTMANAGERS_DISCOVERED: &str =
    "sightline_notifications_alertmanagers_discovered";

// Build.
pub const BUILD_INFO: &str = "sightline_build_info";

// Supervision.
pub const TASK_PANICS: &str = "sightline_task_panics";

// Alert manager engine (Alertmanager 0.25's `alertmanager_*` under our prefix).
pub const AM_NOTIFICATIONS: &str = "sightline_alertmanager_notifications";
pub const AM_NOTIFICATIONS_FAILED: &str = "sightline_alertmanager_notifications_failed";
pub const AM_NOTIFICATION_REQUESTS: &str = "sightline_alertmanager_notification_requests";
pub const AM_NOTIFICATION_REQUESTS_FAILED: &str =
    "sightline_alertmanager_notification_requests_failed";
pub const AM_NOTIFICATION_LATENCY_SECONDS: &str =
    "sightline_alertmanager_notification_latency_seconds";
pub const AM_ALERTS: &str = "sightline_alertmanager_alerts";
pub const AM_ALERTS_RECEIVED: &str = "sightline_alertmanager_alerts_received";
pub const AM_ALERTS_INVALID: &str = "sightline_alertmanager_alerts_invalid";
pub const AM_NFLOG_GC_DURATION_SECONDS: &str = "sightline_alertmanager_nflog_gc_duration_seconds";
pub const AM_NFLOG_SNAPSHOT_DURATION_SECONDS: &str =
    "sightline_alertmanager_nflog_snapshot_duration_seconds";
pub const AM_NFLOG_SNAPSHOT_SIZE_BYTES: &str = "sightline_alertmanager_nflog_snapshot_size_bytes";
pub const AM_NFLOG_QUERIES: &str = "sightline_alertmanager_nflog_queries";
pub const AM_NFLOG_QUERY_ERRORS: &str = "sightline_alertmanager_nflog_query_errors";
pub const AM_DISPATCHER_AGGREGATION_GROUPS: &str =
    "sightline_alertmanager_dispatcher_aggregation_groups";
pub const AM_DISPATCHER_ALERT_PROCESSING_DURATION_SECONDS: &str =
    "sightline_alertmanager_dispatcher_alert_processing_duration_seconds";
