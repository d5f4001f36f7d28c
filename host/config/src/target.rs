//! Target groups (`static_configs`, file SD) and the assembly of a target's labels as
//! Prometheus' `scrape.PopulateLabels` does it.

use serde::{Deserialize, Deserializer};
use sightline_model::{parse_duration, Label, Labels, LabelsBuilder, INSTANCE_LABEL, JOB_LABEL};

use crate::config::ScrapeConfig;
use crate::de::{map_with, LabelMap, Str};
use crate::error::{Error, Result};
use crate::relabel::relabel_builder;

/// `__address__`: the host:port to scrape.
pub const ADDRESS_LABEL: &str = "__address__";
/// `__scheme__`: `http` or `https`.
pub const SCHEME_LABEL: &str = "__scheme__";
/// `__metrics_path__`: the HTTP path to scrape.
pub const METRICS_PATH_LABEL: &str = "__metrics_path__";
/// `__scrape_interval__`: the target's scrape interval.
pub const SCRAPE_INTERVAL_LABEL: &str = "__scrape_interval__";
/// `__scrape_timeout__`: the target's scrape timeout.
pub const SCRAPE_TIMEOUT_LABEL: &str = "__scrape_timeout__";
/// Prefix of the labels that carry URL parameters (`__param_<name>`).
pub const PARAM_LABEL_PREFIX: &str = "__param_";
/// Prefix of service-discovery metadata labels, removed after relabeling.
pub const META_LABEL_PREFIX: &str = "__meta_";
/// The label file SD sets to the file a group came from.
pub const FILEPATH_LABEL: &str = "__meta_filepath";

/// A group of targets sharing labels, as in Prometheus' `targetgroup.Group`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TargetGroup {
    /// One label set per target; static and file SD targets carry only `__address__`.
    pub targets: Vec<Labels>,
    /// Labels common to every target of the group.
    pub labels: Labels,
    /// Where the group came from (`"0"` for the first static group, `file:index` for file SD).
    pub source: String,
}

impl TargetGroup {
    /// The `__address__` of each target, in order.
    pub fn addresses(&self) -> impl Iterator<Item = &str> {
        self.targets.iter().map(|t| t.get_or_empty(ADDRESS_LABEL))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    targets: Option<Vec<Str>>,
    #[serde(default)]
    labels: Option<LabelMap>,
}

/// JSON file SD is decoded by Go's lenient `encoding/json`: unknown fields are ignored.
#[derive(Deserialize)]
struct RawGroupJson {
    #[serde(default)]
    targets: Option<Vec<Str>>,
    #[serde(default)]
    labels: Option<LabelMap>,
}

fn group_from(targets: Option<Vec<Str>>, labels: Option<LabelMap>) -> TargetGroup {
    let targets = targets
        .unwrap_or_default()
        .into_iter()
        .map(|t| Labels::from_sorted_unchecked(vec![Label::new(ADDRESS_LABEL, t.0)]))
        .collect();
    let labels = Labels::from_pairs(
        labels
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.0, v.0)),
    );
    TargetGroup {
        targets,
        labels,
        source: String::new(),
    }
}

impl<'de> Deserialize<'de> for TargetGroup {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_with(d, |r: RawGroup| Ok(group_from(r.targets, r.labels)))
    }
}

pub(crate) struct JsonGroup(pub(crate) TargetGroup);

impl<'de> Deserialize<'de> for JsonGroup {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawGroupJson::deserialize(d)?;
        Ok(JsonGroup(group_from(r.targets, r.labels)))
    }
}

/// The labels of one target before and after relabeling.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulatedTarget {
    /// The final target labels (`/api/v1/targets` `labels`), or `None` when relabeling dropped
    /// the target.
    pub labels: Option<Labels>,
    /// The labels before relabeling (`discoveredLabels`).
    pub discovered_labels: Labels,
}

/// Builds a target's labels as Prometheus 3's `PopulateLabels` does.
///
/// The discovered labels are the target's own labels, then the group's (the target's win), then
/// `job`, `__scrape_interval__`, `__scrape_timeout__`, `__metrics_path__`, `__scheme__` and the
/// first value of each `params` entry as `__param_<name>` where not already set. The scrape
/// config's `relabel_configs` are applied; a kept target must have a non-empty `__address__`
/// without `/`, a valid non-zero interval and timeout (timeout ≤ interval). `__meta_*` labels are
/// removed and `instance` defaults to `__address__`. No default port is added (Prometheus 3).
pub fn populate_labels(
    cfg: &ScrapeConfig,
    target: &Labels,
    group_labels: &Labels,
) -> Result<PopulatedTarget> {
    let mut b = LabelsBuilder::new();
    for l in target {
        b.set(l.name.clone(), l.value.clone());
    }
    for l in group_labels {
        if !target.has(&l.name) {
            b.set(l.name.clone(), l.value.clone());
        }
    }
    let interval = sightline_model::format_duration(cfg.scrape_interval);
    let timeout = sightline_model::format_duration(cfg.scrape_timeout);
    for (name, value) in [
        (JOB_LABEL, cfg.job_name.as_str()),
        (SCRAPE_INTERVAL_LABEL, interval.as_str()),
        (SCRAPE_TIMEOUT_LABEL, timeout.as_str()),
        (METRICS_PATH_LABEL, cfg.metrics_path.as_str()),
        (SCHEME_LABEL, cfg.scheme.as_str()),
    ] {
        if b.get(name).unwrap_or("").is_empty() {
            b.set(name, value);
        }
    }
    for (k, v) in &cfg.params {
        let name = format!("{PARAM_LABEL_PREFIX}{k}");
        if let Some(first) = v.first() {
            if b.get(&name).unwrap_or("").is_empty() {
                b.set(name, first.clone());
            }
        }
    }
    let discovered_labels = b.build();

    if !relabel_builder(&mut b, &cfg.relabel_configs) {
        return Ok(PopulatedTarget {
            labels: None,
            discovered_labels,
        });
    }
    let addr = b.get(ADDRESS_LABEL).unwrap_or("").to_string();
    if addr.is_empty() {
        return Err(Error::InvalidTarget("no address".into()));
    }
    check_target_address(&addr).map_err(Error::InvalidTarget)?;
    let interval = b.get(SCRAPE_INTERVAL_LABEL).unwrap_or("").to_string();
    let interval_d = parse_duration(&interval)
        .map_err(|e| Error::InvalidTarget(format!("error parsing scrape interval: {e}")))?;
    if interval_d.is_zero() {
        return Err(Error::InvalidTarget("scrape interval cannot be 0".into()));
    }
    let timeout = b.get(SCRAPE_TIMEOUT_LABEL).unwrap_or("").to_string();
    let timeout_d = parse_duration(&timeout)
        .map_err(|e| Error::InvalidTarget(format!("error parsing scrape timeout: {e}")))?;
    if timeout_d.is_zero() {
        return Err(Error::InvalidTarget("scrape timeout cannot be 0".into()));
    }
    if timeout_d > interval_d {
        return Err(Error::InvalidTarget(format!(
            "scrape timeout cannot be greater than scrape interval ({timeout:?} > {interval:?})"
        )));
    }
    b.retain(|l| !l.name.starts_with(META_LABEL_PREFIX));
    if b.get(INSTANCE_LABEL).unwrap_or("").is_empty() {
        b.set(INSTANCE_LABEL, addr);
    }
    Ok(PopulatedTarget {
        labels: Some(b.build()),
        discovered_labels,
    })
}

/// Prometheus' `CheckTargetAddress`: a scrape address must not look like a URL.
pub(crate) fn check_target_address(addr: &str) -> std::result::Result<(), String> {
    if addr.contains('/') {
        return Err(format!("{addr:?} is not a valid hostname"));
    }
    Ok(())
}

impl serde::Serialize for TargetGroup {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let n = 1 + usize::from(!self.labels.is_empty());
        let mut m = s.serialize_map(Some(n))?;
        let addrs: Vec<&str> = self.addresses().collect();
        m.serialize_entry("targets", &addrs)?;
        if !self.labels.is_empty() {
            let labels: std::collections::BTreeMap<&str, &str> = self
                .labels
                .iter()
                .map(|l| (l.name.as_str(), l.value.as_str()))
                .collect();
            m.serialize_entry("labels", &labels)?;
        }
        m.end()
    }
}

/// `__alerts_path__`: the path alerts are posted to on an Alertmanager.
pub const ALERTS_PATH_LABEL: &str = "__alerts_path__";

/// Builds an Alertmanager's labels as Prometheus' `AlertmanagerFromGroup` does: the target's
/// labels, `__scheme__` from the config, `__alerts_path__` = `path_prefix` + `/api/v2/alerts`, the
/// group's labels where the target has none, then the config's `relabel_configs`. A kept
/// Alertmanager must have an `__address__` without `/`; its push URL is
/// [`alertmanager_url`] of the final labels.
pub fn populate_alertmanager_labels(
    cfg: &crate::config::AlertmanagerConfig,
    target: &Labels,
    group_labels: &Labels,
) -> Result<PopulatedTarget> {
    let mut b = LabelsBuilder::new();
    for l in target {
        b.set(l.name.clone(), l.value.clone());
    }
    b.set(SCHEME_LABEL, cfg.scheme.as_str());
    b.set(
        ALERTS_PATH_LABEL,
        alerts_post_path(&cfg.path_prefix, &cfg.api_version),
    );
    for l in group_labels {
        if !target.has(&l.name) {
            b.set(l.name.clone(), l.value.clone());
        }
    }
    let discovered_labels = b.build();
    if !relabel_builder(&mut b, &cfg.relabel_configs) {
        return Ok(PopulatedTarget {
            labels: None,
            discovered_labels,
        });
    }
    check_target_address(b.get(ADDRESS_LABEL).unwrap_or("")).map_err(Error::InvalidTarget)?;
    Ok(PopulatedTarget {
        labels: Some(b.build()),
        discovered_labels,
    })
}

/// The push URL of an Alertmanager from its final labels: `<__scheme__>://<__address__><__alerts_path__>`.
pub fn alertmanager_url(labels: &Labels) -> String {
    format!(
        "{}://{}{}",
        labels.get_or_empty(SCHEME_LABEL),
        labels.get_or_empty(ADDRESS_LABEL),
        labels.get_or_empty(ALERTS_PATH_LABEL)
    )
}

/// Go's `path.Join("/", prefix, "/api/<v>/alerts")`: cleaned, rooted, no trailing slash.
fn alerts_post_path(prefix: &str, api_version: &str) -> String {
    let joined = format!("/{prefix}/api/{api_version}/alerts");
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_path_is_go_path_join() {
        assert_eq!(alerts_post_path("", "v2"), "/api/v2/alerts");
        assert_eq!(alerts_post_path("/prefix/", "v2"), "/prefix/api/v2/alerts");
        assert_eq!(alerts_post_path("a//b/../c", "v2"), "/a/c/api/v2/alerts");
    }
}
