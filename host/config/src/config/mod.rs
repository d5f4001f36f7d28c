//! The typed configuration and its two-stage loading: raw `serde` structs (every key known,
//! values validated where they are read) → typed structs with Prometheus' defaults, then the
//! checks that span blocks (inheritance from `global`, unique job names), located with
//! [`crate::de::locate`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};
use sightline_model::Labels;

use crate::de::{self, scalar_with, Dur, Seg, Str};
use crate::error::{Error, Result};
use crate::relabel::{NameValidation, RelabelConfig};
use crate::target::TargetGroup;

mod alerting;
mod global;
mod otlp;
mod remote;
mod scrape;
mod storage;

pub use alerting::{AlertingConfig, AlertmanagerConfig};
use global::{validate_protocols, FallbackProtocol, SchemeName, ESCAPING_SCHEMES};
pub use global::{GlobalConfig, Scheme, ScrapeProtocol};
pub use otlp::{OtlpConfig, TRANSLATION_STRATEGIES};
use remote::REMOTE_RESERVED_HEADERS;
pub use remote::{MetadataConfig, QueueConfig, RemoteReadConfig, RemoteWriteConfig};
use scrape::PartialScrape;
pub use scrape::{FileSdConfig, ScrapeConfig};
use storage::RawStorage;
pub use storage::{StorageConfig, TracingConfig};

/// A rule file or scrape config file pattern (`*` only in the last path element).
struct RulePath(String);

impl<'de> Deserialize<'de> for RulePath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a file path", |s| {
            if is_rule_path(s) {
                Ok(RulePath(s.to_string()))
            } else {
                Err(format!("invalid rule file path {s:?}"))
            }
        })
    }
}

struct ScrapeFilePath(String);

impl<'de> Deserialize<'de> for ScrapeFilePath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a file path", |s| {
            if is_rule_path(s) {
                Ok(ScrapeFilePath(s.to_string()))
            } else {
                Err(format!("invalid scrape config file path {s:?}"))
            }
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    global: Option<GlobalConfig>,
    alerting: Option<AlertingConfig>,
    rule_files: Option<Vec<RulePath>>,
    scrape_config_files: Option<Vec<ScrapeFilePath>>,
    scrape_configs: Option<Vec<Option<PartialScrape>>>,
    storage: Option<RawStorage>,
    remote_write: Option<Vec<Option<RemoteWriteConfig>>>,
    remote_read: Option<Vec<Option<RemoteReadConfig>>>,
    // Accepted as Prometheus accepts them, and ignored: Sightline has no Go runtime to tune.
    tracing: Option<TracingConfig>,
    otlp: Option<OtlpConfig>,
    #[allow(dead_code)]
    runtime: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScrapeConfigFile {
    scrape_configs: Option<Vec<Option<PartialScrape>>>,
}

/// A loaded, validated `prometheus.yml`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Config {
    /// The `global` block.
    pub global: GlobalConfig,
    /// The `alerting` block.
    #[serde(skip_serializing_if = "is_default_alerting")]
    pub alerting: AlertingConfig,
    /// Rule file patterns; [`crate::load_file`] makes relative ones relative to the config
    /// file's directory, as Prometheus does.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rule_files: Vec<String>,
    /// Patterns of files holding more `scrape_configs` (already merged into `scrape_configs` by
    /// [`crate::load_file`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scrape_config_files: Vec<String>,
    /// The scrape jobs, in file order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scrape_configs: Vec<ScrapeConfig>,
    /// The `storage` block.
    #[serde(skip)]
    pub storage: StorageConfig,
    /// `remote_write` endpoints.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remote_write: Vec<RemoteWriteConfig>,
    /// `remote_read` endpoints.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remote_read: Vec<RemoteReadConfig>,
    /// The `tracing` block, if any (validated, not acted upon).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing: Option<TracingConfig>,
    /// The `otlp` block (the OTLP receiver's translation).
    pub otlp: OtlpConfig,
}

fn is_default_alerting(a: &AlertingConfig) -> bool {
    a.alertmanagers.is_empty() && a.alert_relabel_configs.is_empty()
}

impl Config {
    /// The effective configuration as YAML, defaults filled in and every secret shown as
    /// `<secret>` (what `/api/v1/status/config` returns).
    pub fn redacted_yaml(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            cfg: &'a Config,
            #[serde(skip_serializing_if = "Option::is_none")]
            storage: Option<OutStorage<'a>>,
        }
        #[derive(Serialize)]
        struct OutStorage<'a> {
            tsdb: OutTsdb<'a>,
        }
        #[derive(Serialize)]
        struct OutTsdb<'a> {
            #[serde(serialize_with = "crate::ser::dur")]
            out_of_order_time_window: &'a Duration,
        }
        let storage = (self.storage != StorageConfig::default()).then_some(OutStorage {
            tsdb: OutTsdb {
                out_of_order_time_window: &self.storage.out_of_order_time_window,
            },
        });
        serde_yaml::to_string(&Out { cfg: self, storage })
            .unwrap_or_else(|e| format!("<error creating config string: {e}>"))
    }

    /// Joins every relative file path with `dir` (Prometheus' `SetDirectory`).
    pub fn set_directory(&mut self, dir: &Path) {
        let j = |p: &mut Option<String>| {
            if let Some(s) = p {
                *s = join_dir(dir, s);
            }
        };
        j(&mut self.global.query_log_file);
        j(&mut self.global.scrape_failure_log_file);
        for f in &mut self.rule_files {
            *f = join_dir(dir, f);
        }
        for f in &mut self.scrape_config_files {
            *f = join_dir(dir, f);
        }
        for s in &mut self.scrape_configs {
            s.set_directory(dir);
        }
        for a in &mut self.alerting.alertmanagers {
            a.http.set_directory(dir);
            for f in &mut a.file_sd_configs {
                for p in &mut f.files {
                    *p = join_dir(dir, p);
                }
            }
        }
        for r in &mut self.remote_write {
            r.http.set_directory(dir);
        }
        for r in &mut self.remote_read {
            r.http.set_directory(dir);
        }
        if let Some(t) = &mut self.tracing {
            j(&mut t.tls_config.ca_file);
            j(&mut t.tls_config.cert_file);
            j(&mut t.tls_config.key_file);
        }
    }

    /// Loads `scrape_config_files` and appends their jobs, as Prometheus' `GetScrapeConfigs`.
    pub(crate) fn load_scrape_config_files(&mut self) -> Result<()> {
        let mut names: BTreeMap<String, String> = self
            .scrape_configs
            .iter()
            .map(|s| (s.job_name.clone(), "main config file".to_string()))
            .collect();
        for pat in self.scrape_config_files.clone() {
            let paths = glob::glob(&pat).map_err(|e| Error::Invalid {
                source_name: pat.clone(),
                message: format!("error retrieving scrape config files for {pat:?}: {e}"),
            })?;
            let mut files: Vec<PathBuf> = paths.filter_map(|p| p.ok()).collect();
            files.sort();
            for file in files {
                let name = file.display().to_string();
                let src = std::fs::read_to_string(&file).map_err(|e| Error::Io {
                    path: file.clone(),
                    source: e,
                })?;
                let raw: Option<RawScrapeConfigFile> = first_document(&src, &name)?;
                let list = raw.and_then(|r| r.scrape_configs).unwrap_or_default();
                for (i, p) in list.into_iter().enumerate() {
                    let at = |mut rel: Vec<Seg>, msg: String| {
                        let mut path: Vec<Seg> = vec!["scrape_configs".into(), i.into()];
                        path.append(&mut rel);
                        de::error_at(&name, &src, &path, msg)
                    };
                    let Some(p) = p else {
                        return Err(at(vec![], "empty or null scrape config section".into()));
                    };
                    let mut s = p.finish(&self.global).map_err(|(rel, msg)| at(rel, msg))?;
                    if let Some(first) = names.get(&s.job_name) {
                        return Err(at(
                            vec!["job_name".into()],
                            format!("found multiple scrape configs with job name {:?}, first found in {first}", s.job_name),
                        ));
                    }
                    names.insert(s.job_name.clone(), format!("{name:?}"));
                    if let Some(dir) = file.parent() {
                        s.set_directory(dir);
                    }
                    self.scrape_configs.push(s);
                }
            }
        }
        Ok(())
    }
}

/// Go's `os.Expand` with Prometheus' mapping: `$NAME` and `${NAME}` become the variable's value
/// (empty when unset or empty), `$$` stays `$`; malformed `${` forms are dropped as in Go.
pub(crate) fn expand_env(s: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let map = |name: &str| -> String {
        if name == "$" {
            return "$".to_string();
        }
        lookup(name).unwrap_or_default()
    };
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut j = 0;
    while j < b.len() {
        if b[j] == b'$' && j + 1 < b.len() {
            out.push_str(&s[i..j]);
            let (name, w) = shell_name(&s[j + 1..]);
            if name.is_empty() && w > 0 {
                // Invalid syntax: Go eats the characters.
            } else if name.is_empty() {
                out.push('$');
            } else {
                out.push_str(&map(name));
            }
            j += w;
            i = j + 1;
        }
        j += 1;
    }
    out.push_str(&s[i.min(s.len())..]);
    out
}

fn is_shell_special(c: u8) -> bool {
    matches!(
        c,
        b'*' | b'#' | b'$' | b'@' | b'!' | b'?' | b'-' | b'0'..=b'9'
    )
}

/// Go's `getShellName`: the variable name after `$` and how many bytes it spans.
fn shell_name(s: &str) -> (&str, usize) {
    let b = s.as_bytes();
    if b[0] == b'{' {
        if b.len() > 2 && is_shell_special(b[1]) && b[2] == b'}' {
            return (&s[1..2], 3);
        }
        for i in 1..b.len() {
            if b[i] == b'}' {
                if i == 1 {
                    return ("", 2);
                }
                return (&s[1..i], i + 1);
            }
        }
        return ("", 1);
    }
    if is_shell_special(b[0]) {
        return (&s[0..1], 1);
    }
    let n = b
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count();
    (&s[..n], n)
}

/// Prometheus' `config.JoinDir`: relative paths are joined with `dir`; empty stays empty.
pub(crate) fn join_dir(dir: &Path, p: &str) -> String {
    if p.is_empty() || Path::new(p).is_absolute() {
        return p.to_string();
    }
    dir.join(p).display().to_string()
}

/// Deserializes the first YAML document of `src` (later ones are ignored, as Go's yaml.v2
/// does); an empty source yields `None`.
pub(crate) fn first_document<T: serde::de::DeserializeOwned>(
    src: &str,
    name: &str,
) -> Result<Option<T>> {
    de::check_yaml_nesting(src, name)?;
    match serde_yaml::Deserializer::from_str(src).next() {
        None => Ok(None),
        Some(doc) => Option::<T>::deserialize(doc).map_err(|e| de::yaml_error(name, &e)),
    }
}

/// Parses and validates a configuration held in memory (no directory is applied).
pub(crate) fn parse(src: &str, name: &str) -> Result<Config> {
    let Some(raw) = first_document::<RawConfig>(src, name)? else {
        return Ok(Config::default());
    };
    let mut global = raw.global.unwrap_or_default();
    // Prometheus expands environment variables in external label values after loading.
    global.external_labels = Labels::from_pairs(global.external_labels.iter().map(|l| {
        let v = expand_env(&l.value, |name| std::env::var(name).ok());
        (l.name.clone(), v)
    }));
    let scheme = NameValidation::from_scheme(&global.metric_name_validation_scheme);
    let otlp = raw.otlp.unwrap_or_default();
    if otlp.allows_utf8() && global.metric_name_validation_scheme == "legacy" {
        return Err(de::error_at(
            name,
            src,
            &["otlp".into(), "translation_strategy".into()],
            format!(
                "OTLP translation strategy {:?} is not allowed when UTF8 is disabled",
                otlp.translation_strategy
            ),
        ));
    }
    let mut alerting = raw.alerting.unwrap_or_default();
    let alerting_err = |rel: Vec<Seg>, msg: String| {
        let mut p: Vec<Seg> = vec!["alerting".into()];
        p.extend(rel);
        de::error_at(name, src, &p, msg)
    };
    apply_name_validation(
        &mut alerting.alert_relabel_configs,
        scheme,
        "alert_relabel_configs",
    )
    .map_err(|(rel, msg)| alerting_err(rel, msg))?;
    for (k, am) in alerting.alertmanagers.iter_mut().enumerate() {
        for (list, key) in [
            (&mut am.relabel_configs, "relabel_configs"),
            (&mut am.alert_relabel_configs, "alert_relabel_configs"),
        ] {
            apply_name_validation(list, scheme, key).map_err(|(rel, msg)| {
                let mut p: Vec<Seg> = vec!["alertmanagers".into(), k.into()];
                p.extend(rel);
                alerting_err(p, msg)
            })?;
        }
    }
    let mut scrape_configs = Vec::new();
    let mut seen: BTreeMap<String, ()> = BTreeMap::new();
    for (i, p) in raw
        .scrape_configs
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let at = |mut rel: Vec<Seg>, msg: String| {
            let mut path: Vec<Seg> = vec!["scrape_configs".into(), i.into()];
            path.append(&mut rel);
            de::error_at(name, src, &path, msg)
        };
        let Some(p) = p else {
            return Err(at(vec![], "empty or null scrape config section".into()));
        };
        let s = p.finish(&global).map_err(|(rel, msg)| at(rel, msg))?;
        if seen.insert(s.job_name.clone(), ()).is_some() {
            return Err(at(
                vec!["job_name".into()],
                format!(
                    "found multiple scrape configs with job name {:?}",
                    s.job_name
                ),
            ));
        }
        scrape_configs.push(s);
    }
    let mut remote_write = Vec::new();
    for (path, mut r) in named_sections(
        raw.remote_write,
        "remote_write",
        "remote write",
        |r| &r.name,
        name,
        src,
    )? {
        let scheme = NameValidation::from_scheme(&global.metric_name_validation_scheme);
        apply_name_validation(
            &mut r.write_relabel_configs,
            scheme,
            "write_relabel_configs",
        )
        .map_err(|(rel, msg)| {
            let mut p = path.clone();
            p.extend(rel);
            de::error_at(name, src, &p, msg)
        })?;
        remote_write.push(r);
    }
    let remote_read = named_sections(
        raw.remote_read,
        "remote_read",
        "remote read",
        |r| &r.name,
        name,
        src,
    )?
    .into_iter()
    .map(|(_, r)| r)
    .collect();
    Ok(Config {
        global,
        alerting,
        rule_files: raw
            .rule_files
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.0)
            .collect(),
        scrape_config_files: raw
            .scrape_config_files
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.0)
            .collect(),
        scrape_configs,
        storage: raw
            .storage
            .map(storage::RawStorage::into_config)
            .unwrap_or_default(),
        remote_write,
        remote_read,
        tracing: raw.tracing,
        otlp,
    })
}

// Helpers shared by the block modules.

/// The entries of a list of named sections (`remote_write`, `remote_read`) with their paths:
/// a null entry or a name used twice is an error at its position, as in Prometheus.
fn named_sections<T>(
    list: Option<Vec<Option<T>>>,
    key: &str,
    what: &str,
    name_of: impl Fn(&T) -> &str,
    name: &str,
    src: &str,
) -> Result<Vec<(Vec<Seg>, T)>> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (i, r) in list.unwrap_or_default().into_iter().enumerate() {
        let path: Vec<Seg> = vec![key.into(), i.into()];
        let Some(r) = r else {
            return Err(de::error_at(
                name,
                src,
                &path,
                format!("empty or null {what} config section"),
            ));
        };
        let n = name_of(&r);
        if !n.is_empty() && !seen.insert(n.to_string()) {
            let mut p = path.clone();
            p.push("name".into());
            return Err(de::error_at(
                name,
                src,
                &p,
                format!("found multiple {what} configs with job name {n:?}"),
            ));
        }
        out.push((path, r));
    }
    Ok(out)
}

fn nz(d: Option<Dur>) -> Option<Duration> {
    d.map(|d| d.0).filter(|d| !d.is_zero())
}

fn nonempty(s: Option<Str>) -> Option<String> {
    s.map(|s| s.0).filter(|s| !s.is_empty())
}

fn nz_u64(v: Option<u64>) -> Option<u64> {
    v.filter(|v| *v != 0)
}

/// Sets the name validation scheme of `list` and re-checks the names; errors carry the path of
/// the offending rule relative to the block that holds `list` under `key`.
fn apply_name_validation(
    list: &mut [RelabelConfig],
    scheme: NameValidation,
    key: &str,
) -> Result<(), (Vec<Seg>, String)> {
    for (j, r) in list.iter_mut().enumerate() {
        r.name_validation = scheme;
        r.validate_names()
            .map_err(|e| (vec![Seg::from(key), Seg::from(j)], e))?;
    }
    Ok(())
}

/// A relabel list whose null entries are an error with Prometheus' message for that list.
fn relabel_list(
    v: Option<Vec<Option<RelabelConfig>>>,
    null_msg: &str,
) -> Result<Vec<RelabelConfig>, String> {
    v.unwrap_or_default()
        .into_iter()
        .map(|r| r.ok_or_else(|| null_msg.to_string()))
        .collect()
}

/// Static target groups; a null group is an error, the others get their index as source.
fn static_groups(v: Option<Vec<Option<TargetGroup>>>) -> Result<Vec<TargetGroup>, String> {
    v.unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let mut g = g.ok_or("empty or null section in static_configs")?;
            g.source = i.to_string();
            Ok(g)
        })
        .collect()
}

/// `^[^*]*(\*[^/]*)?$`: a wildcard may appear only in the last path element, once.
fn is_rule_path(s: &str) -> bool {
    match s.find('*') {
        None => true,
        Some(i) => !s[i + 1..].contains('*') && !s[i + 1..].contains('/'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_env_matches_go_os_expand() {
        let env = |n: &str| match n {
            "HOST" => Some("h1".to_string()),
            "1" => Some("one".to_string()),
            _ => None,
        };
        for (input, want) in [
            ("plain", "plain"),
            ("$HOST", "h1"),
            ("${HOST}-x", "h1-x"),
            ("$HOST.x", "h1.x"),
            ("$MISSING", ""),
            ("a$$b", "a$b"),
            ("cost: 5$", "cost: 5$"),
            ("${}", ""),
            ("${HOST", "HOST"),
            ("$1x", "onex"),
            ("${1}", "one"),
            ("$-", ""),
            ("é$HOSTé", "éh1é"),
            ("$é", "$é"),
        ] {
            assert_eq!(expand_env(input, env), want, "{input}");
        }
    }
}
