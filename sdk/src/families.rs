//! Building metric families, and reading an exporter's target.

use crate::{
    Bucket, HistogramValue, Label, MetricFamily, MetricType, Quantile, Sample, SummaryValue, Target,
};

impl Label {
    /// A label pair.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Label {
            name: name.into(),
            value: value.into(),
        }
    }
}

fn labels(pairs: &[(&str, &str)]) -> Vec<Label> {
    pairs.iter().map(|(n, v)| Label::new(*n, *v)).collect()
}

impl MetricFamily {
    /// An empty family.
    pub fn new(name: impl Into<String>, help: impl Into<String>, metric_type: MetricType) -> Self {
        MetricFamily {
            name: name.into(),
            help: help.into(),
            type_: metric_type,
            unit: String::new(),
            samples: Vec::new(),
        }
    }

    /// Sets the unit (e.g. `bytes`, `seconds`).
    pub fn with_unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = unit.into();
        self
    }

    /// Adds a counter, gauge or untyped sample.
    pub fn push(&mut self, labels_: &[(&str, &str)], value: f64) -> &mut Self {
        self.samples.push(Sample {
            labels: labels(labels_),
            value,
            timestamp_ms: None,
            histogram: None,
            summary: None,
        });
        self
    }

    /// Adds a histogram sample: `(upper_bound, cumulative_count)` buckets.
    pub fn push_histogram(
        &mut self,
        labels_: &[(&str, &str)],
        buckets: &[(f64, f64)],
        sum: f64,
        count: f64,
    ) -> &mut Self {
        let buckets = buckets
            .iter()
            .map(|(le, c)| Bucket {
                upper_bound: *le,
                cumulative_count: *c,
            })
            .collect();
        self.samples.push(Sample {
            labels: labels(labels_),
            value: 0.0,
            timestamp_ms: None,
            histogram: Some(HistogramValue {
                buckets,
                sum,
                count,
            }),
            summary: None,
        });
        self
    }

    /// Adds a summary sample: `(quantile, value)` pairs.
    pub fn push_summary(
        &mut self,
        labels_: &[(&str, &str)],
        quantiles: &[(f64, f64)],
        sum: f64,
        count: f64,
    ) -> &mut Self {
        let quantiles = quantiles
            .iter()
            .map(|(q, v)| Quantile {
                quantile: *q,
                value: *v,
            })
            .collect();
        self.samples.push(Sample {
            labels: labels(labels_),
            value: 0.0,
            timestamp_ms: None,
            histogram: None,
            summary: Some(SummaryValue {
                quantiles,
                sum,
                count,
            }),
        });
        self
    }
}

impl Target {
    /// The first value of URL parameter `name` (the job's `params`, overridden by a
    /// `__param_<name>` target label), if set.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, values)| values.first())
            .map(String::as_str)
    }

    /// Every value of URL parameter `name`.
    pub fn params(&self, name: &str) -> &[String] {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, values)| values.as_slice())
            .unwrap_or(&[])
    }

    /// The value of the target label `name` (`job`, `instance`, ...), if set.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.value.as_str())
    }

    /// The scrape timeout in seconds.
    pub fn timeout_seconds(&self) -> f64 {
        self.timeout_ms as f64 / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_targets() {
        let mut f = MetricFamily::new("x_total", "X.", MetricType::Counter).with_unit("bytes");
        f.push(&[("a", "1")], 2.0)
            .push_histogram(&[], &[(0.5, 1.0)], 0.3, 1.0)
            .push_summary(&[], &[(0.9, 3.0)], 3.0, 1.0);
        assert_eq!(f.samples.len(), 3);
        assert_eq!(f.samples[0].labels, vec![Label::new("a", "1")]);
        assert_eq!(f.unit, "bytes");
        let t = Target {
            address: "db:5432".into(),
            params: vec![("module".into(), vec!["a".into(), "b".into()])],
            labels: vec![Label::new("job", "db")],
            timeout_ms: 500,
        };
        assert_eq!(t.param("module"), Some("a"));
        assert_eq!(t.params("module").len(), 2);
        assert_eq!(t.params("other").len(), 0);
        assert_eq!(t.label("job"), Some("db"));
        assert_eq!(t.timeout_seconds(), 0.5);
    }
}
