//! alertmanager.yml as Alertmanager reads it: every integration kind, defaults, positions of
//! errors, `$VAR` expansion outside template text, secrets kept out of `Debug`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

use sightline_alerts::{load_str, Config};

fn env(k: &str) -> Option<String> {
    match k {
        "HOOK" => Some("https://hooks.test/s3cr3t".into()),
        "KEY" => Some("k3y-s3cr3t".into()),
        _ => None,
    }
}

fn load(y: &str) -> Result<Config, String> {
    load_str(y, "am.yml", &env).map_err(|e| e.to_string())
}

const EVERY_KIND: &str = r#"
global:
  smtp_smarthost: 'localhost:25'
  smtp_from: 'am@example.org'
  opsgenie_api_key: og
  victorops_api_key: vo
  wechat_api_secret: wc
  wechat_api_corp_id: corp
  jira_api_url: 'https://jira.example.org'
route:
  receiver: all
receivers:
  - name: all
    discord_configs: [{webhook_url: 'https://discord.test/x'}]
    email_configs: [{to: 'ops@example.org', headers: {subject: hi}}]
    incidentio_configs: [{url: 'https://incident.test/x', alert_source_token: t}]
    pagerduty_configs: [{routing_key: '$KEY', details: {a: b}, links: [{href: 'https://x', text: x}]}]
    slack_configs:
      - api_url: '${HOOK}'
        title: '{{ $x := .Status }}{{ $x }} $KEY'
        fields: [{title: t, value: v, short: true}]
        actions: [{type: button, text: go, url: 'https://x'}]
      - app_token: xoxb-1
    webhook_configs: [{url: 'http://127.0.0.1:9/{{ .GroupKey }}', max_alerts: 3, timeout: 10s}]
    opsgenie_configs: [{responders: [{name: n, type: team}]}]
    wechat_configs: [{message_type: markdown}]
    pushover_configs: [{user_key: u, token: t, retry: 2m}]
    victorops_configs: [{routing_key: r}]
    sns_configs: [{topic_arn: 'arn:aws:sns:x', sigv4: {region: us-east-1}}]
    telegram_configs: [{bot_token: b, chat_id: 42, parse_mode: MarkdownV2}]
    webex_configs: [{room_id: r, http_config: {authorization: {credentials: c}}}]
    msteams_configs: [{webhook_url: 'https://teams.test/x'}]
    msteamsv2_configs: [{webhook_url: 'https://teams.test/y'}]
    jira_configs: [{project: P, issue_type: Bug, summary: {template: s, enable_update: false}, description: d}]
    rocketchat_configs: [{token_id: i, token: t, channel: '#c'}]
    mattermost_configs: [{webhook_url: 'https://mm.test/x', priority: {priority: urgent}}]
"#;

#[test]
fn every_integration_kind_parses_with_alertmanagers_defaults() {
    let cfg = load(EVERY_KIND).unwrap();
    let r = &cfg.receivers[0];
    let kinds: Vec<&str> = r.integrations.iter().map(|i| i.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "discord",
            "email",
            "incidentio",
            "pagerduty",
            "slack",
            "slack",
            "webhook",
            "opsgenie",
            "wechat",
            "pushover",
            "victorops",
            "sns",
            "telegram",
            "webex",
            "msteams",
            "msteamsv2",
            "jira",
            "rocketchat",
            "mattermost"
        ]
    );
    assert_eq!(
        sightline_alerts::integration_kinds().count(),
        18,
        "every kind of config.Receiver"
    );
    let get = |kind: &str| r.integrations.iter().find(|i| i.kind == kind).unwrap();
    // send_resolved defaults per kind, as Alertmanager's Default*Config.
    for (kind, want) in [
        ("email", false),
        ("slack", false),
        ("wechat", false),
        ("rocketchat", false),
        ("pagerduty", true),
        ("webhook", true),
        ("opsgenie", true),
        ("mattermost", true),
        ("jira", true),
    ] {
        assert_eq!(get(kind).send_resolved, want, "{kind}");
    }
    // Global URLs and keys are inherited.
    let s = |kind: &str, k: &str| {
        get(kind)
            .flat_settings()
            .get(k)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        s("pagerduty", "url"),
        "https://events.pagerduty.com/v2/enqueue"
    );
    assert_eq!(s("opsgenie", "api_url"), "https://api.opsgenie.com/");
    assert_eq!(s("opsgenie", "api_key"), "og");
    assert_eq!(
        s("victorops", "api_url"),
        "https://alert.victorops.com/integrations/generic/20131114/alert/"
    );
    assert_eq!(s("telegram", "api_url"), "https://api.telegram.org");
    assert_eq!(s("webex", "api_url"), "https://webexapis.com/v1/messages");
    assert_eq!(s("rocketchat", "api_url"), "https://open.rocket.chat/");
    assert_eq!(s("wechat", "corp_id"), "corp");
    assert_eq!(s("email", "smarthost"), "localhost:25");
    assert_eq!(s("email", "hello"), "localhost");
    assert_eq!(s("email", "require_tls"), "true");
    assert_eq!(s("jira", "api_url"), "https://jira.example.org");
    // A Slack app token becomes a Bearer authorization and the API URL the app URL.
    let app = &r
        .integrations
        .iter()
        .filter(|i| i.kind == "slack")
        .nth(1)
        .unwrap()
        .flat_settings();
    assert_eq!(app["http_config.authorization.type"], "Bearer");
    assert_eq!(app["http_config.authorization.credentials"], "xoxb-1");
    assert_eq!(app["api_url"], "https://slack.com/api/chat.postMessage");
    // `$VAR` expands outside template text only.
    assert_eq!(s("slack", "api_url"), "https://hooks.test/s3cr3t");
    assert_eq!(
        s("slack", "title"),
        "{{ $x := .Status }}{{ $x }} k3y-s3cr3t"
    );
    assert_eq!(s("pagerduty", "routing_key"), "k3y-s3cr3t");
    // Defaults of the root route and global.
    assert_eq!(cfg.global.resolve_timeout.as_secs(), 300);
    // Secrets stay out of Debug.
    let debug = format!("{cfg:?}");
    for secret in ["s3cr3t", "xoxb-1", "og", "k3y"] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
}

#[test]
fn invalid_configs_fail_with_alertmanagers_message_at_file_line_col() {
    let base = "route:\n  receiver: r\nreceivers:\n  - name: r\n";
    for (yaml, want) in [
        (
            format!("{base}    slack_configs:\n      - api_url: 'https://x'\n        bogus: 1\n"),
            "am.yml:7:16: field bogus not found in type config.plain",
        ),
        (
            format!("{base}    webhook_configs:\n      - {{}}\n"),
            "am.yml:6:9: one of url or url_file must be configured",
        ),
        (
            format!("{base}    pagerduty_configs:\n      - url: 'ftp://x'\n        service_key: k\n"),
            "am.yml:6:14: unsupported scheme \"ftp\" for URL",
        ),
        (
            "route:\n  receiver: r\n  group_wait: 5x\nreceivers:\n  - name: r\n".to_string(),
            "am.yml:3:15: not a valid duration string: \"5x\"",
        ),
        (
            "route:\n  receiver: nope\nreceivers:\n  - name: r\n".to_string(),
            "undefined receiver \"nope\" used in route",
        ),
        (
            "route:\n  receiver: r\n  routes:\n    - matchers: ['a=~\"(\"']\nreceivers:\n  - name: r\n".to_string(),
            "am.yml:4:18:",
        ),
        (
            "route:\n  receiver: r\n  group_by: ['...', a]\nreceivers:\n  - name: r\n".to_string(),
            "cannot have wildcard group_by (`...`) and other labels at the same time",
        ),
        (
            "route:\n  receiver: r\n  group_interval: 0s\nreceivers:\n  - name: r\n".to_string(),
            "group_interval cannot be zero",
        ),
        (
            "route:\n  receiver: r\n  continue: true\nreceivers:\n  - name: r\n".to_string(),
            "cannot have continue in root route",
        ),
        (
            "route:\n  receiver: r\n  match: {a: b}\nreceivers:\n  - name: r\n".to_string(),
            "root route must not have any matchers",
        ),
        (
            "route:\n  receiver: r\n  routes: [{mute_time_intervals: [x]}]\nreceivers:\n  - name: r\n".to_string(),
            "undefined time interval \"x\" used in route",
        ),
        (
            "route: {receiver: r}\nreceivers: [{name: r}, {name: r}]\n".to_string(),
            "notification config name \"r\" is not unique",
        ),
        (
            "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals:\n  - name: t\n    time_intervals: [{times: [{start_time: '10:00', end_time: '09:00'}]}]\n".to_string(),
            "start time cannot be equal or greater than end time",
        ),
        (
            "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals:\n  - name: t\n    time_intervals: [{location: 'Mars/Olympus'}]\n".to_string(),
            "unknown time zone Mars/Olympus",
        ),
        (
            "route: {receiver: r}\nreceivers: [{name: r}]\ninhibit_rules: [{equal: ['']}]\n".to_string(),
            "invalid label name \"\" in equal list",
        ),
        (
            format!("{base}    slack_configs: [{{api_url: '$UNSET'}}]\n"),
            "am.yml:5:31: environment variable \"UNSET\" is not set",
        ),
        (String::new(), "no route provided in config"),
        ("receivers: []\n".to_string(), "no routes provided"),
        ("route: {}\n".to_string(), "root route must specify a default receiver"),
        ("bogus: 1\nroute: {receiver: r}\n".to_string(), "am.yml:1:8: field bogus not found"),
    ] {
        let err = load(&yaml).expect_err(&yaml);
        assert!(err.contains(want), "{yaml}\n=> {err}\nwant {want}");
    }
}

#[test]
fn secret_urls_stay_out_of_errors() {
    let e = load("route: {receiver: r}\nreceivers:\n- name: r\n  slack_configs: [{api_url: 'ftp://s3cr3t'}]\n")
        .unwrap_err();
    assert!(!e.contains("s3cr3t"), "{e}");
}

/// The inline cases of Alertmanager's `config_test.go` (their input and exact message).
/// Those that depend on the `compat` package's classic default (`-invalid-` as a `group_by`
/// or route label name) are left out: the alertmanager and amtool binaries run the fallback
/// mode, where any UTF-8 name is valid, and so does Sightline.
#[test]
fn alertmanagers_inline_config_tests() {
    let cases: &[(&str, &str)] = &[
        ("", "no route provided in config"),
        ("\nroute:\n   group_wait: 30s\n", "root route must specify a default receiver"),
        (
            "\nroute:\n    receiver: team-X\nreceivers:\n- name: 'team-X'\n- name: 'team-X'\n",
            "notification config name \"team-X\" is not unique",
        ),
        (
            "\nroute:\n    receiver: team-X\nreceivers:\n- name: 'team-Y'\n",
            "undefined receiver \"team-X\" used in route",
        ),
        (
            "\nroute:\n    receiver: team-X\n    routes:\n      - match:\n          foo: bar\n        routes:\n        - match:\n            foo: bar\n          receiver: nonexistent\nreceivers:\n- name: 'team-X'\n",
            "undefined receiver \"nonexistent\" used in route",
        ),
        ("\nroute:\nreceivers:\n- name: ''\n", "missing name in receiver"),
        (
            "\nroute:\n    receiver: team-X\nreceivers:\n- name: 'team-X'\n  labels:\n    name: 'different-name'\n",
            "receiver label \"name\" must match receiver name \"team-X\", got \"different-name\"",
        ),
        (
            "\nroute:\n    receiver: team-Y\n    routes:\n    -  match:\n        severity: critical\n       mute_time_intervals:\n       - business_hours\nreceivers:\n- name: 'team-Y'\n",
            "undefined time interval \"business_hours\" used in route",
        ),
        (
            "\nroute:\n    receiver: team-Y\n    routes:\n    -  match:\n        severity: critical\n       active_time_intervals:\n       - business_hours\nreceivers:\n- name: 'team-Y'\n",
            "undefined time interval \"business_hours\" used in route",
        ),
        (
            "\ntime_intervals:\n- name:\n  time_intervals:\n  - times:\n     - start_time: '09:00'\n       end_time: '17:00'\nreceivers:\n- name: 'team-X-mails'\nroute:\n  receiver: 'team-X-mails'\n  routes:\n  -  match:\n      severity: critical\n     mute_time_intervals:\n     - business_hours\n",
            "missing name in time interval",
        ),
        (
            "\nmute_time_intervals:\n- name: duplicate\n  time_intervals:\n  - times:\n     - start_time: '09:00'\n       end_time: '17:00'\n- name: duplicate\n  time_intervals:\n  - times:\n     - start_time: '10:00'\n       end_time: '14:00'\nreceivers:\n- name: 'team-X-mails'\nroute:\n  receiver: 'team-X-mails'\n  routes:\n  -  match:\n      severity: critical\n     mute_time_intervals:\n     - business_hours\n",
            "mute time interval \"duplicate\" is not unique",
        ),
        (
            "\nroute:\n  group_by: ['alertname', 'cluster', 'service', 'cluster']\nreceivers:\n- name: 'team-X-mails'\n",
            "duplicated label \"cluster\" in group_by",
        ),
        (
            "\nroute:\n  group_by: ['alertname', 'cluster', '...']\n  receiver: team-X-mails\nreceivers:\n- name: 'team-X-mails'\n",
            "cannot have wildcard group_by (`...`) and other labels at the same time",
        ),
        ("\nreceivers:\n- name: 'team-X-mails'\n", "no routes provided"),
        (
            "\nmute_time_intervals:\n- name: my_mute_time\n  time_intervals:\n  - times:\n     - start_time: '09:00'\n       end_time: '17:00'\nreceivers:\n- name: 'team-X-mails'\nroute:\n  receiver: 'team-X-mails'\n  mute_time_intervals:\n  - my_mute_time\n",
            "root route must not have any mute time intervals",
        ),
        (
            "\ntime_intervals:\n- name: my_active_time\n  time_intervals:\n  - times:\n     - start_time: '09:00'\n       end_time: '17:00'\nreceivers:\n- name: 'team-X-mails'\nroute:\n  receiver: 'team-X-mails'\n  active_time_intervals:\n  - my_active_time\n",
            "root route must not have any active time intervals",
        ),
        (
            "\nroute:\n  receiver: 'team-X'\n  match:\n    severity: critical\nreceivers:\n- name: 'team-X'\n",
            "root route must not have any matchers",
        ),
        (
            "\nroute:\n  receiver: 'team-X'\n  matchers:\n    - severity=critical\nreceivers:\n- name: 'team-X'\n",
            "root route must not have any matchers",
        ),
        (
            "\nroute:\n    receiver: team-X-mails\n    continue: true\nreceivers:\n- name: 'team-X-mails'\n",
            "cannot have continue in root route",
        ),
        (
            "\nroute:\n    receiver: team-X-mails\n    group_interval: 0s\nreceivers:\n- name: 'team-X-mails'\n",
            "group_interval cannot be zero",
        ),
        (
            "\nroute:\n    receiver: team-X-mails\n    repeat_interval: 0s\nreceivers:\n- name: 'team-X-mails'\n",
            "repeat_interval cannot be zero",
        ),
    ];
    for (yaml, want) in cases {
        let err = load_str(yaml, "am.yml", &|_| None).expect_err(yaml);
        assert_eq!(err.message(), *want, "{yaml}");
    }
    // Receiver labels: `name` added, user labels kept, UTF-8 names allowed; route labels
    // may hold templates.
    let cfg = load(
        "route:\n  receiver: team-X\n  labels: {team: x, severity: '{{ .GroupLabels.severity }}'}\nreceivers:\n- name: team-X\n  labels: {owning-team: a, kind: heartbeat}\n",
    )
    .unwrap();
    let l = &cfg.receivers[0].labels;
    assert_eq!(
        (
            l["name"].as_str(),
            l["owning-team"].as_str(),
            l["kind"].as_str()
        ),
        ("team-X", "a", "heartbeat")
    );
    // group_by: ['...'] and the default SMTP hello.
    let cfg = load("route: {receiver: r, group_by: ['...']}\nreceivers: [{name: r}]\n").unwrap();
    assert!(cfg.route.group_by_all && cfg.route.group_by.is_none());
    assert_eq!(cfg.global.str("smtp_hello"), Some("localhost"));
}

#[test]
fn http_config_oauth2_is_validated_as_prometheus_common() {
    let with = |oauth2: &str| {
        load(&format!(
            "route: {{receiver: r}}\nreceivers:\n  - name: r\n    webhook_configs:\n      - url: 'http://127.0.0.1:9/'\n        http_config: {{oauth2: {oauth2}}}\n"
        ))
        .unwrap_err()
    };
    for (oauth2, want) in [
        (
            "{token_url: 'http://t'}",
            "oauth2 client_id must be configured",
        ),
        (
            "{client_id: a, token_url: 'http://t'}",
            "either oauth2 client_secret or client_secret_file must be configured",
        ),
        (
            "{client_id: a, client_secret: b}",
            "oauth2 token_url must be configured",
        ),
        (
            "{client_id: a, client_secret: b, client_secret_file: f, token_url: 'http://t'}",
            "at most one of oauth2 client_secret & client_secret_file must be configured",
        ),
    ] {
        let err = with(oauth2);
        assert!(err.contains(want), "{oauth2}: {err}");
    }
}
