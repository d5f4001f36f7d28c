//! Writing expositions.

use sightline_model::{format_go_float, format_timestamp_secs, Labels, MetricType};

use crate::Format;

/// Writes metric families in the text format 0.0.4 or OpenMetrics 1.0.
///
/// Call [`Encoder::family`] once per family, then [`Encoder::sample`] for each of its
/// samples, and [`Encoder::finish`] at the end (which adds `# EOF` for OpenMetrics).
///
/// Counter naming follows the Go client: pass the family name with its `_total` suffix
/// (`http_requests_total`). The text format writes it unchanged; OpenMetrics writes the
/// metadata for the name without `_total` and appends `_total` to a counter sample whose
/// name lacks it. The text format has no UNIT line, so the unit is only written for
/// OpenMetrics, where it must be a suffix of the family name. Types the text format does not
/// know (gauge histogram, info, state set, unknown) are written as `untyped` there.
///
/// The encoder escapes HELP text and label values and formats numbers as Go does; it does
/// not validate names or the OpenMetrics family rules, which are the caller's contract.
#[derive(Debug)]
pub struct Encoder {
    format: Format,
    out: Vec<u8>,
    family: String,
    counter_base: Option<String>,
}

impl Encoder {
    /// An encoder writing `format` into a new buffer.
    pub fn new(format: Format) -> Self {
        Encoder::with_buffer(format, Vec::new())
    }

    /// An encoder appending to `out`.
    pub fn with_buffer(format: Format, out: Vec<u8>) -> Self {
        Encoder {
            format,
            out,
            family: String::new(),
            counter_base: None,
        }
    }

    /// Starts a family: writes its HELP (when not empty), TYPE and, for OpenMetrics, UNIT
    /// (when not empty).
    pub fn family(
        &mut self,
        name: &str,
        metric_type: MetricType,
        help: &str,
        unit: &str,
    ) -> &mut Self {
        let om = self.format == Format::OpenMetrics;
        let meta_name = if om && metric_type == MetricType::Counter {
            name.strip_suffix("_total").unwrap_or(name)
        } else {
            name
        };
        self.family.clear();
        self.family.push_str(meta_name);
        self.counter_base =
            (om && metric_type == MetricType::Counter).then(|| meta_name.to_string());
        if !help.is_empty() {
            self.out.extend_from_slice(b"# HELP ");
            self.out.extend_from_slice(meta_name.as_bytes());
            self.out.push(b' ');
            escape_into(&mut self.out, help, om);
            self.out.push(b'\n');
        }
        let t = match (metric_type, om) {
            (MetricType::Unknown, true) => "unknown",
            (
                MetricType::GaugeHistogram
                | MetricType::Info
                | MetricType::StateSet
                | MetricType::Unknown,
                false,
            ) => "untyped",
            (t, _) => t.as_str(),
        };
        self.out.extend_from_slice(b"# TYPE ");
        self.out.extend_from_slice(meta_name.as_bytes());
        self.out.push(b' ');
        self.out.extend_from_slice(t.as_bytes());
        self.out.push(b'\n');
        if om && !unit.is_empty() {
            self.out.extend_from_slice(b"# UNIT ");
            self.out.extend_from_slice(meta_name.as_bytes());
            self.out.push(b' ');
            self.out.extend_from_slice(unit.as_bytes());
            self.out.push(b'\n');
        }
        self
    }

    /// Writes one sample with labels in the given order.
    pub fn sample(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        value: f64,
        timestamp_ms: Option<i64>,
    ) -> &mut Self {
        self.sample_iter(name, labels.iter().copied(), value, timestamp_ms)
    }

    /// Writes one sample with the labels of `labels` (`__name__`, if present, is skipped).
    pub fn sample_labels(
        &mut self,
        name: &str,
        labels: &Labels,
        value: f64,
        timestamp_ms: Option<i64>,
    ) -> &mut Self {
        let it = labels
            .iter()
            .filter(|l| l.name != sightline_model::METRIC_NAME)
            .map(|l| (l.name.as_str(), l.value.as_str()));
        self.sample_iter(name, it, value, timestamp_ms)
    }

    fn sample_iter<'l>(
        &mut self,
        name: &str,
        labels: impl Iterator<Item = (&'l str, &'l str)>,
        value: f64,
        timestamp_ms: Option<i64>,
    ) -> &mut Self {
        self.out.extend_from_slice(name.as_bytes());
        if self.counter_base.as_deref() == Some(name) {
            self.out.extend_from_slice(b"_total");
        }
        let mut first = true;
        for (n, v) in labels {
            self.out.push(if first { b'{' } else { b',' });
            first = false;
            self.out.extend_from_slice(n.as_bytes());
            self.out.extend_from_slice(b"=\"");
            escape_into(&mut self.out, v, true);
            self.out.push(b'"');
        }
        if !first {
            self.out.push(b'}');
        }
        self.out.push(b' ');
        self.out
            .extend_from_slice(format_go_float(value).as_bytes());
        if let Some(t) = timestamp_ms {
            self.out.push(b' ');
            let s = match self.format {
                Format::PromText => t.to_string(),
                Format::OpenMetrics => format_timestamp_secs(t),
            };
            self.out.extend_from_slice(s.as_bytes());
        }
        self.out.push(b'\n');
        self
    }

    /// The name the current family's metadata was written under.
    pub fn current_family(&self) -> &str {
        &self.family
    }

    /// Ends the exposition (adding `# EOF` for OpenMetrics) and returns the bytes.
    pub fn finish(mut self) -> Vec<u8> {
        if self.format == Format::OpenMetrics {
            self.out.extend_from_slice(b"# EOF\n");
        }
        self.out
    }
}

/// Escapes `\` and newline, and `"` when `quote`.
fn escape_into(out: &mut Vec<u8>, s: &str, quote: bool) {
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'"' if quote => out.extend_from_slice(b"\\\""),
            _ => out.push(b),
        }
    }
}
