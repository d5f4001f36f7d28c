//! Loading alertmanager.yml as `config.Load`/`LoadFile` do, in the same order of checks.

use std::path::{Path, PathBuf};

use serde_yaml::Value;
use sightline_config::yaml::{check_yaml_nesting, Seg};

use crate::error::{Error, Result};
use crate::global::{self, GlobalConfig};
use crate::inhibit::{self, InhibitRule};
use crate::receivers::{self, IntegrationConfig, Receiver};
use crate::route::{self, RouteConfig};
use crate::timeinterval::{self, NamedTimeInterval};
use crate::yamlx::{self, entries, Node, Src};

/// A loaded alertmanager.yml.
#[derive(Debug, Clone)]
pub struct Config {
    /// `global`, defaults filled in.
    pub global: GlobalConfig,
    /// The root of `route`.
    pub route: RouteConfig,
    /// `inhibit_rules`.
    pub inhibit_rules: Vec<InhibitRule>,
    /// `receivers`.
    pub receivers: Vec<Receiver>,
    /// `templates` (globs; relative ones joined to the file's directory by [`load_file`]).
    pub templates: Vec<String>,
    /// `mute_time_intervals` (deprecated) followed by `time_intervals`.
    pub time_intervals: Vec<NamedTimeInterval>,
}

const TOP_KEYS: &[&str] = &[
    "global",
    "route",
    "inhibit_rules",
    "receivers",
    "templates",
    "mute_time_intervals",
    "time_intervals",
    "tracing",
    "event_recorder",
];

/// Parses alertmanager.yml text; `source_name` prefixes error positions. Receiver settings
/// expand `$VAR`/`${VAR}` through `env` outside template text.
pub fn load_str(
    text: &str,
    source_name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config> {
    check_yaml_nesting(text, source_name).map_err(|e| Error::Invalid {
        source_name: source_name.to_string(),
        message: e.message(),
    })?;
    let src = Src {
        name: source_name,
        text,
    };
    let doc: Value = match serde_yaml::Deserializer::from_str(text).next() {
        None => Value::Null,
        Some(d) => serde::Deserialize::deserialize(d).map_err(|e: serde_yaml::Error| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((1, 1));
            Error::At {
                source_name: source_name.to_string(),
                line,
                column,
                message: e.to_string(),
            }
        })?,
    };
    if doc.is_null() {
        return Err(src.err(&[], "no route provided in config"));
    }
    let root = Node::root(&doc);
    let mut global = None;
    let mut route_cfg = None;
    let mut inhibit_rules = Vec::new();
    let mut parsed_receivers = Vec::new();
    let mut templates = Vec::new();
    let mut mute = Vec::new();
    let mut intervals = Vec::new();
    for (key, c) in entries(src, &root, "config.plain", TOP_KEYS)? {
        match key.as_str() {
            "global" if !c.is_null() => global = Some(global::parse(src, &c)?),
            "route" if !c.is_null() => route_cfg = Some(route::parse_route(src, &c)?),
            "global" | "route" => {}
            "inhibit_rules" => {
                for item in yamlx::list(src, &c, "common.InhibitRule")? {
                    inhibit_rules.push(inhibit::parse(src, &item)?);
                }
            }
            "receivers" => {
                for item in yamlx::list(src, &c, "config.Receiver")? {
                    parsed_receivers.push((
                        item.path.clone(),
                        receivers::parse_receiver(src, &item, env)?,
                    ));
                }
            }
            "templates" => templates = yamlx::string_list(src, &c)?,
            "mute_time_intervals" => {
                for item in yamlx::list(src, &c, "config.MuteTimeInterval")? {
                    mute.push((
                        item.path.clone(),
                        timeinterval::parse_named(src, &item, "mute time interval")?,
                    ));
                }
            }
            "time_intervals" => {
                for item in yamlx::list(src, &c, "config.TimeInterval")? {
                    intervals.push((
                        item.path.clone(),
                        timeinterval::parse_named(src, &item, "time interval")?,
                    ));
                }
            }
            // Tracing and the event recorder configure Alertmanager's own telemetry, which
            // Sightline does not have; they are accepted as Alertmanager accepts them.
            _ => {}
        }
    }
    let global = global.unwrap_or_default();
    global::check_exclusions(&global).map_err(|e| src.err(&[Seg::Key("global".into())], e))?;

    let mut names = std::collections::HashSet::new();
    let mut receivers_out = Vec::with_capacity(parsed_receivers.len());
    for (path, (mut rcv, pending)) in parsed_receivers {
        if names.contains(&rcv.name) {
            return Err(src.err(
                &path,
                format!("notification config name {:?} is not unique", rcv.name),
            ));
        }
        for (_, kind, index, ipath, entry) in pending {
            let kind = kind.as_str();
            let explicit = entry
                .as_ref()
                .and_then(|m| m.get("send_resolved"))
                .and_then(|v| match v {
                    Value::Bool(b) => Some(*b),
                    _ => None,
                });
            let was_null = entry.is_none();
            let mut settings =
                receivers::resolve(kind, entry, &global).map_err(|e| src.err(&ipath, e))?;
            settings.remove("send_resolved");
            let send_resolved = match explicit {
                Some(b) => b,
                // A null entry is Go's nil pointer: the zero value, for Alertmanager's kinds.
                None if was_null && receivers::is_alertmanager_kind(kind) => false,
                None => receivers::default_send_resolved(kind),
            };
            rcv.integrations.push(IntegrationConfig {
                kind: kind.to_string(),
                index,
                send_resolved,
                settings,
            });
        }
        names.insert(rcv.name.clone());
        receivers_out.push(rcv);
    }

    let Some(route_cfg) = route_cfg else {
        return Err(src.err(&[], "no routes provided"));
    };
    let rp = route_cfg.path.clone();
    if route_cfg.receiver.is_empty() {
        return Err(src.err(&rp, "root route must specify a default receiver"));
    }
    if route_cfg.has_matchers {
        return Err(src.err(&rp, "root route must not have any matchers"));
    }
    if !route_cfg.mute_time_intervals.is_empty() {
        return Err(src.err(&rp, "root route must not have any mute time intervals"));
    }
    if !route_cfg.active_time_intervals.is_empty() {
        return Err(src.err(&rp, "root route must not have any active time intervals"));
    }
    check_receivers(src, &route_cfg, &names)?;
    let mut ti_names = std::collections::HashSet::new();
    for (path, mt) in &mute {
        if !ti_names.insert(mt.name.clone()) {
            return Err(src.err(
                path,
                format!("mute time interval {:?} is not unique", mt.name),
            ));
        }
    }
    for (path, ti) in &intervals {
        if !ti_names.insert(ti.name.clone()) {
            return Err(src.err(path, format!("time interval {:?} is not unique", ti.name)));
        }
    }
    check_time_intervals(src, &route_cfg, &ti_names)?;
    if route_cfg.continue_matching {
        return Err(src.err(&rp, "cannot have continue in root route"));
    }
    Ok(Config {
        global,
        route: route_cfg,
        inhibit_rules,
        receivers: receivers_out,
        templates,
        time_intervals: mute.into_iter().chain(intervals).map(|(_, t)| t).collect(),
    })
}

fn check_receivers(
    src: Src<'_>,
    r: &RouteConfig,
    names: &std::collections::HashSet<String>,
) -> Result<()> {
    for c in &r.routes {
        check_receivers(src, c, names)?;
    }
    if !r.receiver.is_empty() && !names.contains(&r.receiver) {
        return Err(src.err(
            &r.path,
            format!("undefined receiver {:?} used in route", r.receiver),
        ));
    }
    Ok(())
}

fn check_time_intervals(
    src: Src<'_>,
    r: &RouteConfig,
    names: &std::collections::HashSet<String>,
) -> Result<()> {
    for c in &r.routes {
        check_time_intervals(src, c, names)?;
    }
    for t in r.active_time_intervals.iter().chain(&r.mute_time_intervals) {
        if !names.contains(t) {
            return Err(src.err(
                &r.path,
                format!("undefined time interval {t:?} used in route"),
            ));
        }
    }
    Ok(())
}

/// Reads and loads a file with the process environment; relative `templates` globs are
/// joined to the file's directory, as `LoadFile` does.
pub fn load_file(path: impl AsRef<Path>) -> Result<Config> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut cfg = load_str(&text, &path.display().to_string(), &|k| {
        std::env::var(k).ok()
    })?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    for t in &mut cfg.templates {
        if !t.is_empty() && !Path::new(t.as_str()).is_absolute() {
            *t = dir.join(t.as_str()).display().to_string();
        }
    }
    Ok(cfg)
}

/// Reads the template files `globs` name and parses them after `default.tmpl`, as
/// `template.FromGlobs` does.
pub fn load_templates(
    globs: &[String],
) -> std::result::Result<sightline_template::Template, String> {
    let mut files: Vec<(String, String)> = Vec::new();
    for g in globs {
        let paths = glob::glob(g).map_err(|e| format!("invalid template glob {g:?}: {e}"))?;
        for p in paths {
            let p: PathBuf = p.map_err(|e| e.to_string())?;
            let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push((name, text));
        }
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    sightline_template::alertmanager::from_texts(&refs, sightline_template::Options::default())
        .map_err(|e| e.to_string())
}
