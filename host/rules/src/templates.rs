//! The rules' [`Expander`] over the template crate: Prometheus' alert templates
//! (`__alert_<rule>`, with `$labels`, `$externalLabels`, `$externalURL`, `$value` and
//! Prometheus' functions, `query` among them).
//!
//! Prometheus parses a template again for every alert of every evaluation; here each distinct
//! `(rule, text)` is parsed once and kept (the set is bounded by the loaded rules; the cache
//! is dropped whole if it ever grows past [`MAX_CACHED`] entries).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use parking_lot::Mutex;
use sightline_template::prometheus::{AlertContext, AlertTemplate};

use crate::rule::{ExpandContext, Expander};

/// Most parsed templates kept.
pub const MAX_CACHED: usize = 100_000;

/// Expands alert templates with the template crate.
#[derive(Default)]
pub struct TemplateExpander {
    cache: Mutex<HashMap<(String, String), Arc<AlertTemplate>>>,
}

impl TemplateExpander {
    /// An expander with an empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn parsed(&self, rule: &str, text: &str) -> Arc<AlertTemplate> {
        let mut cache = self.cache.lock();
        if let Some(t) = cache.get(&(rule.to_string(), text.to_string())) {
            return t.clone();
        }
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        let t = Arc::new(AlertTemplate::new(rule, text));
        cache.insert((rule.to_string(), text.to_string()), t.clone());
        t
    }
}

/// Adapts the rules' query function to the template crate's.
struct Query<'a>(&'a crate::rule::QueryFn, i64);

impl sightline_template::QueryFn for Query<'_> {
    fn query(&self, q: &str) -> Result<Vec<sightline_template::Sample>, String> {
        let res = (self.0)(q, self.1)?;
        Ok(res
            .into_iter()
            .map(|s| sightline_template::Sample {
                labels: s
                    .labels
                    .iter()
                    .map(|l| (l.name.to_string(), l.value.to_string()))
                    .collect(),
                value: s.v,
            })
            .collect())
    }
}

fn map(l: &sightline_model::Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|l| (l.name.to_string(), l.value.to_string()))
        .collect()
}

impl Expander for TemplateExpander {
    fn expand(&self, rule: &str, text: &str, ctx: &ExpandContext<'_>) -> String {
        // Most labels and annotations have no template at all.
        if !text.contains("{{") {
            return text.to_string();
        }
        let t = self.parsed(rule, text);
        let (labels, external) = (map(ctx.labels), map(ctx.external_labels));
        let query = Query(ctx.query, ctx.t_ms);
        let actx = AlertContext {
            labels: &labels,
            external_labels: &external,
            external_url: ctx.external_url,
            value: ctx.value,
            now: ctx.t_ms as f64 / 1000.0,
            query: Some(&query),
        };
        match t.expand(&actx) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(rule, "expanding alert template failed: {e}");
                format!("<error expanding template: {e}>")
            }
        }
    }
}

/// Checks a label or annotation template of an alerting rule as `promtool check rules`
/// does: the error is Prometheus' (`template: __alert_X:1: undefined variable "$label"`).
pub fn check_template(rule: &str, text: &str) -> Result<(), String> {
    match AlertTemplate::new(rule, text).parse_error() {
        None => Ok(()),
        Some(e) => Err(e.to_string()),
    }
}
