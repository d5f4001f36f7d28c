//! Lock-free metric primitives and the registry that gathers them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;
use sightline_model::{format_go_float, Labels, MetricType};

use crate::{Family, FamilySample};

/// Prometheus' default histogram buckets.
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default)]
struct AtomicF64(AtomicU64);

impl AtomicF64 {
    fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
    fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }
    fn add(&self, d: f64) {
        let mut cur = self.0.load(Ordering::Relaxed);
        loop {
            let new = (f64::from_bits(cur) + d).to_bits();
            match self
                .0
                .compare_exchange_weak(cur, new, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(x) => cur = x,
            }
        }
    }
}

/// A monotonically increasing counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicF64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.add(1.0);
    }
    /// Adds `v`; negative values are ignored (counters never go down).
    pub fn inc_by(&self, v: f64) {
        if v > 0.0 {
            self.0.add(v);
        }
    }
    /// Current value.
    pub fn get(&self) -> f64 {
        self.0.get()
    }
}

/// A value that goes up and down.
#[derive(Debug, Default)]
pub struct Gauge(AtomicF64);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: f64) {
        self.0.set(v);
    }
    /// Adds `v` (may be negative).
    pub fn add(&self, v: f64) {
        self.0.add(v);
    }
    /// Current value.
    pub fn get(&self) -> f64 {
        self.0.get()
    }
}

/// A classic cumulative histogram.
#[derive(Debug)]
pub struct Histogram {
    bounds: Arc<[f64]>,
    counts: Box<[AtomicU64]>,
    sum: AtomicF64,
    count: AtomicU64,
}

impl Histogram {
    /// A histogram with the given upper bounds (sorted ascending, `+Inf` implied).
    pub fn new(bounds: &[f64]) -> Self {
        Histogram::with_shared_bounds(bounds.into())
    }

    fn with_shared_bounds(bounds: Arc<[f64]>) -> Self {
        let counts = (0..bounds.len()).map(|_| AtomicU64::new(0)).collect();
        Histogram {
            bounds,
            counts,
            sum: AtomicF64::default(),
            count: AtomicU64::new(0),
        }
    }

    /// Records one observation.
    pub fn observe(&self, v: f64) {
        let i = self.bounds.partition_point(|b| *b < v);
        if let Some(c) = self.counts.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.sum.add(v);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Total number of observations.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Sum of observations.
    pub fn sum(&self) -> f64 {
        self.sum.get()
    }

    fn samples(&self, base: &Labels, out: &mut Vec<FamilySample>) {
        let mut cum = 0u64;
        for (b, c) in self.bounds.iter().zip(self.counts.iter()) {
            cum += c.load(Ordering::Relaxed);
            let mut lb = base.builder();
            lb.set("le", format_go_float(*b));
            out.push(FamilySample {
                suffix: "_bucket",
                labels: lb.build(),
                value: cum as f64,
            });
        }
        let count = self.count();
        let mut lb = base.builder();
        lb.set("le", "+Inf");
        out.push(FamilySample {
            suffix: "_bucket",
            labels: lb.build(),
            value: count as f64,
        });
        out.push(FamilySample {
            suffix: "_sum",
            labels: base.clone(),
            value: self.sum(),
        });
        out.push(FamilySample {
            suffix: "_count",
            labels: base.clone(),
            value: count as f64,
        });
    }
}

/// A family of metrics keyed by the values of fixed label names.
#[derive(Debug)]
struct Vector<T> {
    label_names: Vec<&'static str>,
    children: RwLock<BTreeMap<Vec<String>, Arc<T>>>,
}

impl<T> Vector<T> {
    fn new(label_names: &[&'static str]) -> Self {
        Vector {
            label_names: label_names.to_vec(),
            children: RwLock::new(BTreeMap::new()),
        }
    }

    fn with(&self, values: &[&str], make: impl FnOnce() -> T) -> Arc<T> {
        debug_assert_eq!(values.len(), self.label_names.len(), "label arity mismatch");
        let key: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        if let Some(c) = self.children.read().get(&key) {
            return c.clone();
        }
        self.children
            .write()
            .entry(key)
            .or_insert_with(|| Arc::new(make()))
            .clone()
    }

    fn remove(&self, values: &[&str]) {
        let key: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        self.children.write().remove(&key);
    }

    fn each(&self, mut f: impl FnMut(Labels, &T)) {
        for (vals, c) in self.children.read().iter() {
            let labels = Labels::from_pairs(
                self.label_names
                    .iter()
                    .copied()
                    .zip(vals.iter().map(String::as_str)),
            );
            f(labels, c);
        }
    }
}

/// Counters keyed by label values.
#[derive(Debug)]
pub struct CounterVec(Vector<Counter>);

impl CounterVec {
    /// The child for `values` (one per label name, in order), created on first use.
    pub fn with(&self, values: &[&str]) -> Arc<Counter> {
        self.0.with(values, Counter::default)
    }
    /// Removes a child.
    pub fn remove(&self, values: &[&str]) {
        self.0.remove(values)
    }
}

/// Gauges keyed by label values.
#[derive(Debug)]
pub struct GaugeVec(Vector<Gauge>);

impl GaugeVec {
    /// The child for `values`, created on first use.
    pub fn with(&self, values: &[&str]) -> Arc<Gauge> {
        self.0.with(values, Gauge::default)
    }
    /// Removes a child.
    pub fn remove(&self, values: &[&str]) {
        self.0.remove(values)
    }
}

/// Histograms keyed by label values.
#[derive(Debug)]
pub struct HistogramVec {
    inner: Vector<Histogram>,
    bounds: Arc<[f64]>,
}

impl HistogramVec {
    /// The child for `values`, created on first use.
    pub fn with(&self, values: &[&str]) -> Arc<Histogram> {
        let b = self.bounds.clone();
        self.inner.with(values, || Histogram::with_shared_bounds(b))
    }
    /// Removes a child.
    pub fn remove(&self, values: &[&str]) {
        self.inner.remove(values)
    }
}

enum Metric {
    Counter(Arc<Counter>),
    Gauge(Arc<Gauge>),
    Histogram(Arc<Histogram>),
    CounterVec(Arc<CounterVec>),
    GaugeVec(Arc<GaugeVec>),
    HistogramVec(Arc<HistogramVec>),
    Callback(Box<dyn Fn() -> Vec<Family> + Send + Sync>),
}

struct Entry {
    name: &'static str,
    help: &'static str,
    metric: Metric,
}

/// A set of registered metrics. Registration returns the handle the subsystem keeps;
/// [`Registry::gather`] snapshots all of them.
#[derive(Default)]
pub struct Registry {
    entries: RwLock<Vec<Entry>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("n_entries", &self.entries.read().len())
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    fn push(&self, name: &'static str, help: &'static str, metric: Metric) {
        self.entries.write().push(Entry { name, help, metric });
    }

    /// Registers a counter (`name` without `_total`).
    pub fn counter(&self, name: &'static str, help: &'static str) -> Arc<Counter> {
        let c = Arc::new(Counter::default());
        self.push(name, help, Metric::Counter(c.clone()));
        c
    }

    /// Registers a gauge.
    pub fn gauge(&self, name: &'static str, help: &'static str) -> Arc<Gauge> {
        let g = Arc::new(Gauge::default());
        self.push(name, help, Metric::Gauge(g.clone()));
        g
    }

    /// Registers a histogram.
    pub fn histogram(
        &self,
        name: &'static str,
        help: &'static str,
        bounds: &[f64],
    ) -> Arc<Histogram> {
        let h = Arc::new(Histogram::new(bounds));
        self.push(name, help, Metric::Histogram(h.clone()));
        h
    }

    /// Registers a counter vector.
    pub fn counter_vec(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[&'static str],
    ) -> Arc<CounterVec> {
        let v = Arc::new(CounterVec(Vector::new(labels)));
        self.push(name, help, Metric::CounterVec(v.clone()));
        v
    }

    /// Registers a gauge vector.
    pub fn gauge_vec(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[&'static str],
    ) -> Arc<GaugeVec> {
        let v = Arc::new(GaugeVec(Vector::new(labels)));
        self.push(name, help, Metric::GaugeVec(v.clone()));
        v
    }

    /// Registers a histogram vector.
    pub fn histogram_vec(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[&'static str],
        bounds: &[f64],
    ) -> Arc<HistogramVec> {
        let v = Arc::new(HistogramVec {
            inner: Vector::new(labels),
            bounds: bounds.into(),
        });
        self.push(name, help, Metric::HistogramVec(v.clone()));
        v
    }

    /// Registers a callback that produces whole families at gather time (for state owned
    /// elsewhere, e.g. storage statistics or plugin stats).
    pub fn register_callback(&self, f: impl Fn() -> Vec<Family> + Send + Sync + 'static) {
        self.push("", "", Metric::Callback(Box::new(f)));
    }

    /// Snapshots every registered metric, sorted by family name.
    pub fn gather(&self) -> Vec<Family> {
        let mut out = Vec::new();
        for e in self.entries.read().iter() {
            let fam = |t: MetricType, samples: Vec<FamilySample>| Family {
                name: e.name.to_string(),
                help: e.help.to_string(),
                metric_type: t,
                samples,
            };
            let one = |v: f64| {
                vec![FamilySample {
                    suffix: "",
                    labels: Labels::empty(),
                    value: v,
                }]
            };
            match &e.metric {
                Metric::Counter(c) => out.push(fam(MetricType::Counter, one(c.get()))),
                Metric::Gauge(g) => out.push(fam(MetricType::Gauge, one(g.get()))),
                Metric::Histogram(h) => {
                    let mut s = Vec::new();
                    h.samples(&Labels::empty(), &mut s);
                    out.push(fam(MetricType::Histogram, s));
                }
                Metric::CounterVec(v) => {
                    let mut s = Vec::new();
                    v.0.each(|labels, c| {
                        s.push(FamilySample {
                            suffix: "",
                            labels,
                            value: c.get(),
                        })
                    });
                    out.push(fam(MetricType::Counter, s));
                }
                Metric::GaugeVec(v) => {
                    let mut s = Vec::new();
                    v.0.each(|labels, g| {
                        s.push(FamilySample {
                            suffix: "",
                            labels,
                            value: g.get(),
                        })
                    });
                    out.push(fam(MetricType::Gauge, s));
                }
                Metric::HistogramVec(v) => {
                    let mut s = Vec::new();
                    v.inner.each(|labels, h| h.samples(&labels, &mut s));
                    out.push(fam(MetricType::Histogram, s));
                }
                Metric::Callback(f) => out.extend(f()),
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_and_vec() {
        let r = Registry::new();
        let c = r.counter("a", "help a");
        c.inc();
        c.inc_by(2.5);
        c.inc_by(-1.0);
        let v = r.counter_vec("b", "help b", &["job"]);
        v.with(&["x"]).inc();
        v.with(&["x"]).inc();
        v.with(&["y"]).inc();
        let g = r.gather();
        assert_eq!(g[0].samples[0].value, 3.5);
        assert_eq!(g[1].samples.len(), 2);
        assert_eq!(g[1].samples[0].labels.get("job"), Some("x"));
        assert_eq!(g[1].samples[0].value, 2.0);
    }

    #[test]
    fn histogram_is_cumulative() {
        let h = Histogram::new(&[1.0, 2.0]);
        h.observe(0.5);
        h.observe(1.0);
        h.observe(1.5);
        h.observe(10.0);
        let mut s = Vec::new();
        h.samples(&Labels::empty(), &mut s);
        let vals: Vec<f64> = s.iter().map(|x| x.value).collect();
        assert_eq!(vals, vec![2.0, 3.0, 4.0, 13.0, 4.0]);
        assert_eq!(s[0].labels.get("le"), Some("1"));
        assert_eq!(s[2].labels.get("le"), Some("+Inf"));
    }
}
