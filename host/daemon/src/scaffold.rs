//! `sightline plugin new KIND NAME`: writes a plugin crate that builds as it is (Rust, the
//! plugin SDK, contract 0.2): Cargo.toml (a `cdylib`, its own workspace, the SDK by path),
//! src/lib.rs (the kind's trait and export macro, the logic in a pure function with a
//! native unit test), the `NAME.toml` manifest and a README with the build and
//! `sightline plugin test` commands.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::ValueEnum;

/// The kinds of plugin `plugin new` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Kind {
    /// An exporter: samples for each scrape target.
    Exporter,
    /// A receiver: delivers alert notifications.
    Receiver,
    /// A PromQL function.
    QueryFunction,
    /// A Grafana dashboard.
    Dashboard,
}

/// The SDK of the checkout this binary was built from.
const BUILT_FROM_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdk");

pub(crate) fn run(kind: Kind, name: &str, dir: Option<PathBuf>, sdk: Option<PathBuf>) -> ExitCode {
    match scaffold(kind, name, dir, sdk) {
        Ok(dir) => {
            println!(
                "created {} ({kind:?} plugin {name}); build it with:\n  cd {} && cargo build --release --target wasm32-wasip2",
                dir.display(),
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sightline: plugin new: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Names cargo refuses as package names (Rust keywords and the standard crates).
const RESERVED: &[&str] = &[
    "abstract",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "crate",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
    "std",
    "core",
    "alloc",
    "test",
    "proc-macro",
];

fn valid_name(name: &str) -> bool {
    !RESERVED.contains(&name)
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
}

fn scaffold(
    kind: Kind,
    name: &str,
    dir: Option<PathBuf>,
    sdk: Option<PathBuf>,
) -> anyhow::Result<PathBuf> {
    if !valid_name(name) {
        bail!(
            "invalid name {name:?}: use lower-case letters, digits and '-', starting with a letter"
        );
    }
    let sdk = match sdk {
        Some(p) => p,
        None => {
            let p = PathBuf::from(BUILT_FROM_SDK);
            if !p.join("Cargo.toml").is_file() {
                bail!(
                    "the plugin SDK is not at {} (where this binary was built from); pass --sdk-path <sightline checkout>/sdk",
                    p.display()
                );
            }
            p
        }
    };
    if !sdk.join("Cargo.toml").is_file() {
        bail!("--sdk-path {}: no Cargo.toml there (expected the sdk/ directory of a Sightline checkout)", sdk.display());
    }
    let sdk = sdk
        .canonicalize()
        .with_context(|| format!("--sdk-path {}", sdk.display()))?;
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    if dir.exists()
        && std::fs::read_dir(&dir)
            .with_context(|| format!("{}", dir.display()))?
            .next()
            .is_some()
    {
        bail!("{} exists and is not empty", dir.display());
    }
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("creating {}", dir.display()))?;
    let snake = name.replace('-', "_");
    let sdk_text = sdk
        .to_string_lossy()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    let files = [
        ("Cargo.toml", cargo_toml(name, &sdk_text)),
        ("src/lib.rs", lib_rs(kind, name, &snake)),
        (&format!("{name}.toml") as &str, manifest(kind)),
        ("README.md", readme(kind, name, &snake)),
        (".gitignore", "/target\n".to_string()),
    ];
    for (file, text) in files {
        write(&dir.join(file), &text)?;
    }
    // Sample input for `sightline plugin test`, as the README shows it.
    match kind {
        Kind::Receiver => write(&dir.join("group.json"), GROUP_JSON)?,
        Kind::QueryFunction => write(&dir.join("args.json"), ARGS_JSON)?,
        Kind::Exporter | Kind::Dashboard => {}
    }
    Ok(dir)
}

/// An alert group as Alertmanager's webhook payload, the input of a receiver's `plugin test`.
pub(crate) const GROUP_JSON: &str = r#"{"receiver":"team","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Down","instance":"db-1"},"annotations":{"summary":"db-1 is down"},"startsAt":"2026-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus/graph","fingerprint":"0123456789abcdef"}],"groupLabels":{"alertname":"Down"},"commonLabels":{"alertname":"Down","instance":"db-1"},"commonAnnotations":{"summary":"db-1 is down"},"externalURL":"http://localhost:9090","version":"4","groupKey":"{}:{alertname=\"Down\"}","truncatedAlerts":0}
"#;

/// Arguments of a query function's `plugin test`: one series at 21.
pub(crate) const ARGS_JSON: &str = r#"{"args": [{"vector": [{"labels": {"__name__": "x", "job": "a"}, "points": [[1000, 21]]}]}], "eval_time_ms": 1000}
"#;

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn cargo_toml(name: &str, sdk: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
sightline-sdk = {{ path = "{sdk}" }}

# Its own workspace, so it builds wherever it is created.
[workspace]

[profile.release]
opt-level = "s"
strip = true
"#
    )
}

fn lib_rs(kind: Kind, name: &str, snake: &str) -> String {
    let body = match kind {
        Kind::Exporter => EXPORTER,
        Kind::Receiver => RECEIVER,
        Kind::QueryFunction => QUERY_FUNCTION,
        Kind::Dashboard => DASHBOARD,
    };
    body.replace("@NAME@", name).replace("@SNAKE@", snake)
}

const EXPORTER: &str = r##"//! @NAME@: a Sightline exporter plugin (contract 0.2).
use sightline_sdk::{Exporter, MetricFamily, MetricType, Target};

struct Plugin;

/// The families for one target: pure, so it is unit-tested natively.
fn families(target: &Target) -> Vec<MetricFamily> {
    let mut up = MetricFamily::new(
        "@SNAKE@_up",
        "Whether the target answered.",
        MetricType::Gauge,
    );
    up.push(&[("address", &target.address)], 1.0);
    vec![up]
}

impl Exporter for Plugin {
    fn collect(target: &Target) -> Result<Vec<MetricFamily>, String> {
        Ok(families(target))
    }
}

sightline_sdk::export_exporter!(Plugin);

#[cfg(test)]
mod tests {
    #[test]
    fn one_family_per_target() {
        let t = sightline_sdk::Target {
            address: "db:5432".into(),
            params: vec![],
            labels: vec![],
            timeout_ms: 1000,
        };
        let f = super::families(&t);
        assert_eq!(f[0].name, "@SNAKE@_up");
        assert_eq!(f[0].samples[0].labels[0].value, "db:5432");
    }
}
"##;

const RECEIVER: &str = r##"//! @NAME@: a Sightline receiver plugin (contract 0.2).
use sightline_sdk::template::Renderer;
use sightline_sdk::{http, json, Notification, NotifyError, Receiver, Settings};

struct Plugin;

/// The request body: pure (the host renders templates in `notify`, a stand-in in tests).
fn body(n: &Notification, settings: &Settings, t: &Renderer) -> Result<String, NotifyError> {
    let text = settings
        .opt_text("text")?
        .unwrap_or_else(|| r#"{{ template "__subject" . }}"#.into());
    let text = t.text(&text);
    t.finish()?;
    let mut o = json::Object::new();
    o.str("status", n.status.as_str()).str("text", &text);
    Ok(json::encoded(o))
}

impl Receiver for Plugin {
    fn notify(n: &Notification, settings: &Settings) -> Result<(), NotifyError> {
        let url = settings.require_text("url")?;
        let resp = http::post_json(&url, &body(n, settings, &Renderer::host())?, &[])?;
        http::Retrier::DEFAULT.check(resp)?;
        Ok(())
    }
}

sightline_sdk::export_receiver!(Plugin);

#[cfg(test)]
mod tests {
    use sightline_sdk::{settings::Tree, template::Renderer, AlertStatus, Notification, Settings};

    #[test]
    fn body_has_the_rendered_text() {
        let n = Notification {
            receiver: "r".into(),
            status: AlertStatus::Firing,
            group_key: "k".into(),
            group_labels: vec![],
            common_labels: vec![],
            common_annotations: vec![],
            external_url: String::new(),
            alerts: vec![],
            truncated_alerts: 0,
        };
        let s = Settings::new(Tree::Map(vec![(
            "text".into(),
            Tree::Text("{{ .Status }} <now>".into()),
        )]));
        let t = Renderer::new(|s: &str| Ok(s.replace("{{ .Status }}", "firing")));
        let body = super::body(&n, &s, &t).unwrap();
        assert_eq!(
            body,
            "{\"status\":\"firing\",\"text\":\"firing \\u003cnow\\u003e\"}\n"
        );
    }
}
"##;

const QUERY_FUNCTION: &str = r##"//! @NAME@: a Sightline query-function plugin (contract 0.2): `@SNAKE@(v instant-vector)`.
use sightline_sdk::{CallMode, QueryFunction, Signature, Value, ValueType};

struct Plugin;

/// The function on one value: pure, so it is unit-tested natively.
fn apply(x: f64) -> f64 {
    x * 2.0
}

impl QueryFunction for Plugin {
    fn describe() -> Signature {
        Signature {
            name: "@SNAKE@".into(),
            arg_types: vec![ValueType::InstantVector],
            optional_args: 0,
            return_type: ValueType::InstantVector,
            mode: CallMode::PerVector,
        }
    }

    fn call(args: Vec<Value>, _eval_time_ms: i64) -> Result<Value, String> {
        let Some(Value::Vector(mut series)) = args.into_iter().next() else {
            return Err("@SNAKE@ expects an instant vector".into());
        };
        for s in &mut series {
            s.labels.retain(|l| l.name != "__name__");
            s.points.iter_mut().for_each(|p| p.value = apply(p.value));
        }
        Ok(Value::Vector(series))
    }
}

sightline_sdk::export_query_function!(Plugin);

#[cfg(test)]
mod tests {
    #[test]
    fn doubles() {
        assert_eq!(super::apply(21.0), 42.0);
    }
}
"##;

const DASHBOARD: &str = r##"//! @NAME@: a Sightline dashboard plugin (contract 0.2).
use sightline_sdk::Dashboard;

struct Plugin;

/// The Grafana dashboard model: pure, so it is unit-tested natively.
fn model() -> String {
    let panel =
        r#"{"type": "timeseries", "title": "Targets up", "targets": [{"expr": "sum(up)"}]}"#;
    format!(
        r#"{{"uid": "@NAME@", "title": "@NAME@", "schemaVersion": 36, "panels": [{panel}]}}"#
    )
}

impl Dashboard for Plugin {
    fn dashboard() -> Result<String, String> {
        Ok(model())
    }
}

sightline_sdk::export_dashboard!(Plugin);

#[cfg(test)]
mod tests {
    #[test]
    fn model_names_its_uid() {
        assert!(super::model().starts_with(r#"{"uid": "@NAME@""#));
    }
}
"##;

fn manifest(kind: Kind) -> String {
    match kind {
        Kind::Receiver => "# Capabilities: POST to the URL of the receiver's `url` setting, nowhere else.\nkind = \"receiver\"\n\n[http]\nallow_config_url_keys = [\"url\"]\n\n[limits]\nmemory = \"16MiB\"\ntimeout = \"10s\"\n".to_string(),
        Kind::Exporter => "# Capabilities: none beyond logging, config and the clock (grant more here).\nkind = \"exporter\"\n\n[limits]\nmemory = \"16MiB\"\ntimeout = \"5s\"\n".to_string(),
        Kind::QueryFunction => "# Capabilities: none.\nkind = \"query-function\"\n\n[limits]\nmemory = \"16MiB\"\ntimeout = \"1s\"\n".to_string(),
        Kind::Dashboard => "# Capabilities: none.\nkind = \"dashboard\"\n\n[limits]\nmemory = \"16MiB\"\ntimeout = \"1s\"\n".to_string(),
    }
}

fn readme(kind: Kind, name: &str, snake: &str) -> String {
    let try_it = match kind {
        Kind::Receiver => format!(
            "sightline plugin test {name}.wasm --input group.json --config url=http://127.0.0.1:9/hook   # group.json: Alertmanager's webhook payload; requests are recorded, not sent"
        ),
        Kind::QueryFunction => format!("sightline plugin test {name}.wasm --input args.json"),
        _ => format!("sightline plugin test {name}.wasm"),
    };
    format!(
        "# {name}\n\nA Sightline {kind:?} plugin (plugin contract 0.2, `sightline-sdk`), written by\n`sightline plugin new`.\n\n```sh\ncargo test                                          # the unit test, natively\ncargo build --release --target wasm32-wasip2\ncp target/wasm32-wasip2/release/{snake}.wasm {name}.wasm\n{try_it}\n```\n\nInstall: copy `{name}.wasm` and `{name}.toml` (its capabilities and limits) into the\ndaemon's plugins directory (`--plugins.dir`); it is loaded on the next scan.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(valid_name("my-exporter2"));
        for bad in ["", "My", "1x", "a_b", "a-", "../x", "type", "test"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn writes_every_file_and_refuses_a_non_empty_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("hello");
        let sdk = PathBuf::from(BUILT_FROM_SDK);
        scaffold(
            Kind::Receiver,
            "hello",
            Some(dir.clone()),
            Some(sdk.clone()),
        )
        .unwrap();
        for f in ["Cargo.toml", "src/lib.rs", "hello.toml", "README.md"] {
            assert!(dir.join(f).is_file(), "{f}");
        }
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        assert!(lib.contains("export_receiver!(Plugin)"));
        assert!(!lib.contains("@NAME@"));
        let e = scaffold(Kind::Receiver, "hello", Some(dir), Some(sdk)).unwrap_err();
        assert!(e.to_string().contains("not empty"), "{e}");
        let e = scaffold(
            Kind::Exporter,
            "x",
            Some(tmp.path().join("y")),
            Some(tmp.path().into()),
        )
        .unwrap_err();
        assert!(e.to_string().contains("--sdk-path"), "{e}");
    }
}
