//! OpenMetrics' semantic rules: the checks that go beyond the line grammar.
//!
//! The parser feeds every descriptor and sample through [`OmState`], which tracks the
//! current metric family, its metric point groups and, for histograms, the running bucket
//! state. Families are claimed (for the clashing-names rule) and checked as a whole when they
//! end, so those errors surface on the line that starts the next family or on `# EOF`.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use sightline_model::MetricType;

use crate::lex;

/// The part of a sample name after its family name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Suffix {
    None,
    Total,
    Created,
    Count,
    Sum,
    Bucket,
    GCount,
    GSum,
    Info,
}

impl Suffix {
    fn as_str(self) -> &'static str {
        match self {
            Suffix::None => "",
            Suffix::Total => "_total",
            Suffix::Created => "_created",
            Suffix::Count => "_count",
            Suffix::Sum => "_sum",
            Suffix::Bucket => "_bucket",
            Suffix::GCount => "_gcount",
            Suffix::GSum => "_gsum",
            Suffix::Info => "_info",
        }
    }
}

/// The sample names a family of each type may contain, as suffixes of the family name.
fn allowed_suffixes(t: MetricType) -> &'static [Suffix] {
    match t {
        MetricType::Counter => &[Suffix::Total, Suffix::Created],
        MetricType::Summary => &[Suffix::None, Suffix::Count, Suffix::Sum, Suffix::Created],
        MetricType::Histogram => &[Suffix::Count, Suffix::Sum, Suffix::Bucket, Suffix::Created],
        MetricType::GaugeHistogram => &[Suffix::GCount, Suffix::GSum, Suffix::Bucket],
        MetricType::Info => &[Suffix::Info],
        MetricType::Gauge | MetricType::StateSet | MetricType::Unknown => &[Suffix::None],
    }
}

/// Which label a sample line's scan must set aside: it is excluded from the metric point
/// group and its value is checked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Special<'a> {
    None,
    /// Info families have a single group: labels do not matter.
    IgnoreAll,
    Label(&'a [u8]),
}

/// How a sample name was classified against the current family.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Classified<'a> {
    pub(crate) metric_type: MetricType,
    pub(crate) suffix: Suffix,
    pub(crate) special: Special<'a>,
}

/// What the validator needs to know about one parsed sample line.
pub(crate) struct SampleFacts<'s> {
    pub(crate) value: f64,
    pub(crate) ts_secs: Option<f64>,
    pub(crate) group_hash: u64,
    /// The unescaped value of the special label, if present.
    pub(crate) special_value: Option<&'s str>,
    pub(crate) has_exemplar: bool,
}

/// A descriptor line.
pub(crate) enum Meta<'a> {
    Help,
    Type(MetricType),
    Unit(&'a str),
}

struct Family<'a> {
    name: &'a str,
    metric_type: Option<MetricType>,
    help: bool,
    unit: Option<&'a str>,
    has_samples: bool,
    group: Option<u64>,
    group_ts: Option<f64>,
}

impl Family<'_> {
    fn typ(&self) -> MetricType {
        self.metric_type.unwrap_or(MetricType::Unknown)
    }
}

/// Running state of one histogram metric point (one group at one timestamp).
#[derive(Default)]
struct Hist {
    key: Option<(u64, Option<u64>)>,
    count: Option<f64>,
    bucket: Option<f64>,
    value: f64,
    negative_buckets: bool,
    has_sum: bool,
    has_gsum: bool,
    negative_gsum: bool,
}

impl Hist {
    fn check(&self, name: &str) -> Result<(), String> {
        if self.bucket != Some(f64::INFINITY) {
            return Err(format!("histogram {name} has no +Inf bucket"));
        }
        if let Some(c) = self.count {
            if c != self.value {
                return Err(format!(
                    "histogram {name}: count {c} does not match the +Inf bucket {}",
                    self.value
                ));
            }
        }
        if self.has_sum && self.count.is_none() {
            return Err(format!("histogram {name} has _sum but no _count"));
        }
        if self.has_gsum && self.count.is_none() {
            return Err(format!("gauge histogram {name} has _gsum but no _gcount"));
        }
        if !(self.has_sum || self.has_gsum) && self.count.is_some() {
            return Err(format!(
                "histogram {name} has _count/_gcount but no _sum/_gsum"
            ));
        }
        if self.negative_buckets && self.has_sum {
            return Err(format!("histogram {name} has negative buckets and a _sum"));
        }
        if !self.negative_buckets && self.negative_gsum {
            return Err(format!(
                "gauge histogram {name} has a negative _gsum but no negative buckets"
            ));
        }
        Ok(())
    }
}

/// A hasher for keys that already are good 64-bit hashes (the group hashes).
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used for group hashes; fold anything else in for completeness.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The OpenMetrics validator's state for one exposition.
#[derive(Default)]
pub(crate) struct OmState<'a> {
    family: Option<Family<'a>>,
    claimed: HashSet<String>,
    seen_groups: HashSet<u64, BuildHasherDefault<PreHashed>>,
    hist: Hist,
}

impl<'a> OmState<'a> {
    /// The type of the current family, as samples report it.
    pub(crate) fn handle_meta(&mut self, name: &'a str, meta: Meta<'a>) -> Result<(), String> {
        let same = self.family.as_ref().is_some_and(|f| f.name == name);
        if same {
            if self.family.as_ref().is_some_and(|f| f.has_samples) {
                return Err(format!("metadata for {name} after its samples"));
            }
        } else {
            self.close()?;
            self.start(name, None);
        }
        let Some(f) = self.family.as_mut() else {
            return Err("internal: no current family".to_string());
        };
        match meta {
            Meta::Help => {
                if f.help {
                    return Err(format!("second HELP for metric {name}"));
                }
                f.help = true;
            }
            Meta::Type(t) => {
                if f.metric_type.is_some() {
                    return Err(format!("second TYPE for metric {name}"));
                }
                f.metric_type = Some(t);
            }
            Meta::Unit(u) => {
                if f.unit.is_some() {
                    return Err(format!("second UNIT for metric {name}"));
                }
                f.unit = Some(u);
            }
        }
        Ok(())
    }

    fn start(&mut self, name: &'a str, metric_type: Option<MetricType>) {
        self.family = Some(Family {
            name,
            metric_type,
            help: false,
            unit: None,
            has_samples: false,
            group: None,
            group_ts: None,
        });
        self.seen_groups.clear();
        self.hist = Hist::default();
    }

    /// Ends the current family: claims its names and runs the whole-family checks.
    fn close(&mut self) -> Result<(), String> {
        let Some(f) = self.family.take() else {
            return Ok(());
        };
        let typ = f.typ();
        let mut claim = |s: &str| {
            let full = format!("{}{s}", f.name);
            if self.claimed.contains(&full) {
                return Err(format!(
                    "clashing name: {full} was already used by another metric family"
                ));
            }
            self.claimed.insert(full);
            Ok(())
        };
        let suffixes = allowed_suffixes(typ);
        if !suffixes.contains(&Suffix::None) {
            claim("")?;
        }
        for s in suffixes {
            claim(s.as_str())?;
        }
        if let Some(unit) = f.unit.filter(|u| !u.is_empty()) {
            let ok = f.name.len() > unit.len() + 1
                && f.name.ends_with(unit)
                && f.name.as_bytes()[f.name.len() - unit.len() - 1] == b'_';
            if !ok {
                return Err(format!(
                    "unit {unit:?} is not a suffix of metric name {}",
                    f.name
                ));
            }
            if matches!(typ, MetricType::Info | MetricType::StateSet) {
                return Err(format!(
                    "metric {} of type {} may not have a unit",
                    f.name,
                    typ.as_str()
                ));
            }
        }
        if matches!(typ, MetricType::Histogram | MetricType::GaugeHistogram)
            && self.hist.key.is_some()
        {
            self.hist.check(f.name)?;
        }
        Ok(())
    }

    /// Ends the exposition at `# EOF`.
    pub(crate) fn finish(&mut self) -> Result<(), String> {
        self.close()
    }

    /// Assigns a sample name to the current family or starts a new, untyped one.
    pub(crate) fn classify(&mut self, sample_name: &'a str) -> Result<Classified<'a>, String> {
        if let Some(f) = &self.family {
            if let Some(rest) = sample_name.strip_prefix(f.name) {
                let typ = f.typ();
                if let Some(&suffix) = allowed_suffixes(typ).iter().find(|s| s.as_str() == rest) {
                    let special = match (typ, suffix) {
                        (MetricType::Info, _) => Special::IgnoreAll,
                        (MetricType::Summary, Suffix::None) => Special::Label(b"quantile"),
                        (MetricType::StateSet, _) => Special::Label(f.name.as_bytes()),
                        (MetricType::Histogram | MetricType::GaugeHistogram, Suffix::Bucket) => {
                            Special::Label(b"le")
                        }
                        _ => Special::None,
                    };
                    return Ok(Classified {
                        metric_type: typ,
                        suffix,
                        special,
                    });
                }
            }
        }
        self.close()?;
        self.start(sample_name, Some(MetricType::Unknown));
        Ok(Classified {
            metric_type: MetricType::Unknown,
            suffix: Suffix::None,
            special: Special::None,
        })
    }

    /// Checks one sample of the current family (after [`OmState::classify`]).
    pub(crate) fn sample(&mut self, c: &Classified<'a>, s: &SampleFacts<'_>) -> Result<(), String> {
        let Some(f) = self.family.as_mut() else {
            return Err("internal: sample without a family".to_string());
        };
        let typ = c.metric_type;
        let name = f.name;
        let v = s.value;
        let mut le = None;
        match (typ, c.suffix) {
            (MetricType::StateSet, _) if s.special_value.is_none() => {
                return Err(format!("stateset sample without its {name} label"));
            }
            (MetricType::Histogram | MetricType::GaugeHistogram, Suffix::Bucket) => {
                let raw = s.special_value.unwrap_or("NaN");
                let b = lex::parse_number(raw.as_bytes()).filter(|b| !b.is_nan());
                match b {
                    Some(b) if b == f64::INFINITY && raw != "+Inf" => {
                        return Err(format!(
                            "invalid le label {raw:?}: +Inf must be written \"+Inf\""
                        ))
                    }
                    Some(b) => le = Some(b),
                    None => return Err(format!("invalid or missing le label on {name}_bucket")),
                }
            }
            (MetricType::Summary, Suffix::None) => {
                let raw = s.special_value.unwrap_or("-1");
                let ok =
                    lex::parse_number(raw.as_bytes()).is_some_and(|q| (0.0..=1.0).contains(&q));
                if !ok {
                    return Err(format!(
                        "invalid or missing quantile label on {name}: {raw:?}"
                    ));
                }
            }
            _ => {}
        }
        let integral = v.is_finite() && v.fract() == 0.0;
        if matches!(c.suffix, Suffix::Bucket | Suffix::Count | Suffix::GCount) && !integral {
            return Err(format!(
                "{name}{} value {v} is not an integer",
                c.suffix.as_str()
            ));
        }

        // Metric point groups: contiguous, and timestamps ordered within one.
        let g = s.group_hash;
        if let Some(cur) = f.group {
            if g != cur {
                if self.seen_groups.contains(&g) {
                    return Err(format!(
                        "samples of one metric point of {name} are not grouped together"
                    ));
                }
            } else {
                if s.ts_secs.is_some() != f.group_ts.is_some() {
                    return Err(format!(
                        "mix of samples with and without timestamp in one metric point of {name}"
                    ));
                }
                if let (Some(prev), Some(t)) = (f.group_ts, s.ts_secs) {
                    if prev > t && typ != MetricType::Info {
                        return Err(format!("timestamps went backwards in metric {name}"));
                    }
                }
            }
        }
        if f.group != Some(g) {
            self.seen_groups.insert(g);
        }
        f.group = Some(g);
        f.group_ts = s.ts_secs;

        match typ {
            MetricType::StateSet if v != 0.0 && v != 1.0 => {
                return Err(format!("stateset {name} value must be 0 or 1, got {v}"));
            }
            MetricType::Info if v != 1.0 => {
                return Err(format!("info {name} value must be 1, got {v}"))
            }
            MetricType::Summary if c.suffix == Suffix::None && v < 0.0 => {
                return Err(format!("summary {name} quantile value is negative"));
            }
            _ => {}
        }
        let counter_like = matches!(
            c.suffix,
            Suffix::Total
                | Suffix::Sum
                | Suffix::Count
                | Suffix::Bucket
                | Suffix::GCount
                | Suffix::GSum
        );
        if counter_like && v.is_nan() {
            return Err(format!("{name}{} value must not be NaN", c.suffix.as_str()));
        }
        if counter_like && c.suffix != Suffix::GSum && v < 0.0 {
            return Err(format!(
                "{name}{} value must not be negative",
                c.suffix.as_str()
            ));
        }
        if s.has_exemplar {
            let ok = match typ {
                MetricType::Histogram | MetricType::GaugeHistogram => c.suffix == Suffix::Bucket,
                MetricType::Counter => c.suffix == Suffix::Total,
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "exemplars are only allowed on counters' _total and histogram buckets, not on {name}{}",
                    c.suffix.as_str()
                ));
            }
        }

        if matches!(typ, MetricType::Histogram | MetricType::GaugeHistogram)
            && c.suffix != Suffix::None
        {
            let key = (g, s.ts_secs.map(f64::to_bits));
            if self.hist.key != Some(key) {
                if self.hist.key.is_some() {
                    self.hist.check(name)?;
                }
                self.hist = Hist {
                    key: Some(key),
                    ..Hist::default()
                };
            }
            let h = &mut self.hist;
            match c.suffix {
                Suffix::Bucket => {
                    let b = le.unwrap_or(f64::NAN);
                    if b < 0.0 {
                        h.negative_buckets = true;
                    }
                    if h.bucket.is_some_and(|prev| b <= prev) {
                        return Err(format!("histogram {name} buckets are out of order"));
                    }
                    if v < h.value {
                        return Err(format!("histogram {name} bucket values decrease"));
                    }
                    h.bucket = Some(b);
                    h.value = v;
                }
                Suffix::Count | Suffix::GCount => h.count = Some(v),
                Suffix::Sum => h.has_sum = true,
                Suffix::GSum => {
                    h.has_gsum = true;
                    if v < 0.0 {
                        h.negative_gsum = true;
                    }
                }
                _ => {}
            }
        }
        f.has_samples = true;
        Ok(())
    }
}
