//! Exposition formats: parsing and writing the Prometheus text format 0.0.4 and
//! OpenMetrics 1.0 text, and parsing (and, for tests and fixtures, writing) Prometheus'
//! protobuf exposition ([`proto`]), native histograms included; [`nhcb`] converts classic
//! histograms to native histograms with custom buckets.
//!
//! This crate owns the "parse" step of a scrape and the "write" step of `/metrics`: bytes in,
//! entries out, and entries in, bytes out. It knows nothing of HTTP, targets, relabelling or
//! storage; it does no IO, holds no global state, and never panics on bad input.
//!
//! # Parsing
//!
//! [`parse`] returns a [`Parser`], an iterator of [`Entry`] borrowing from the input buffer:
//!
//! ```
//! use sightline_exposition::{parse, Entry, Format};
//! use sightline_model::LabelsBuilder;
//!
//! let body = b"# TYPE http_requests counter\nhttp_requests_total{code=\"200\"} 1027 1395066363000\n";
//! let mut b = LabelsBuilder::new();
//! for entry in parse(body, Format::PromText) {
//!     match entry.expect("valid input") {
//!         Entry::Series(s) => {
//!             assert_eq!(s.raw, b"http_requests_total{code=\"200\"}");
//!             assert_eq!((s.value, s.timestamp_ms), (1027.0, Some(1395066363000)));
//!             b.clear();
//!             s.labels_into(&mut b);
//!             assert_eq!(b.build().to_string(), r#"{__name__="http_requests_total", code="200"}"#);
//!         }
//!         Entry::Type { name, metric_type } => assert_eq!((name, metric_type.as_str()), ("http_requests", "counter")),
//!         _ => {}
//!     }
//! }
//! ```
//!
//! Design points:
//!
//! - **Zero-copy.** Names, the identity bytes [`SeriesEntry::raw`] and label blocks are slices
//!   of the input. Labels are decoded lazily ([`SeriesEntry::labels`],
//!   [`SeriesEntry::labels_into`]); a value is copied only when it contains an escape. A
//!   scraper can therefore look `raw` up in a series cache and decode labels only on a miss.
//! - **Errors end the stream.** The first malformed line yields `Err(ParseError)` with a
//!   1-based line and byte column, after which the iterator returns `None`. Entries yielded
//!   before the error were valid on their own; a scraper should treat the whole scrape as
//!   failed, as Prometheus does.
//! - **Text 0.0.4 is lenient** like Prometheus' parser: blank lines, `#` comments, HELP
//!   anywhere, missing TYPE, whitespace between tokens, a trailing comma in label sets, an
//!   optional integer millisecond timestamp, `\r\n` line ends.
//! - **OpenMetrics is strict**: the ABNF of the 1.0 specification plus its semantic rules
//!   (`# EOF` last, metric families not interleaved, no clashing names, metadata before
//!   samples, counter/histogram/summary/info/stateset value and label rules, bucket order and
//!   `+Inf`, timestamp ordering within a metric point group, exemplars only on counters'
//!   `_total` and histogram buckets and at most 128 code points of labels, UNIT matching the
//!   name suffix). Some of these checks can only run when a family ends, so their error is
//!   reported on the line that starts the next family (or on `# EOF`). OpenMetrics
//!   timestamps are seconds; they are converted to milliseconds, truncating.
//!
//! # Writing
//!
//! [`Encoder`] writes metric families in either format, escaping as each format requires and
//! formatting numbers as Go (and so Prometheus) does.

mod encode;
mod error;
mod labels;
mod lex;
pub mod nhcb;
mod om;
mod parser;
pub mod proto;

use std::borrow::Cow;

pub use encode::Encoder;
pub use error::{ParseError, Result};
pub use labels::LabelIter;
pub use parser::Parser;
use sightline_model::{LabelsBuilder, MetricType, METRIC_NAME};

/// The `Accept` header a scraper should send: OpenMetrics 1.0 preferred, text 0.0.4 as the
/// fallback (the order Prometheus uses).
pub const SCRAPE_ACCEPT_HEADER: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// The media type a scrape's `Content-Type` announces, which picks the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// `text/plain` (the text format).
    PromText,
    /// `application/openmetrics-text`.
    OpenMetrics,
    /// `application/vnd.google.protobuf` (delimited `MetricFamily` messages).
    Protobuf,
}

impl MediaType {
    /// The media type of a `Content-Type` header value when it is one Prometheus scrapes
    /// (parameters ignored, as Prometheus' `extractMediaType` does); `None` for a blank,
    /// unparsable or unknown one.
    pub fn from_content_type(ct: &str) -> Option<MediaType> {
        let media = ct.split(';').next().unwrap_or_default().trim();
        if media.eq_ignore_ascii_case("text/plain") {
            Some(MediaType::PromText)
        } else if media.eq_ignore_ascii_case("application/openmetrics-text") {
            Some(MediaType::OpenMetrics)
        } else if media.eq_ignore_ascii_case("application/vnd.google.protobuf") {
            Some(MediaType::Protobuf)
        } else {
            None
        }
    }
}

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// The Prometheus text format, version 0.0.4.
    PromText,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

impl Format {
    /// The format announced by an HTTP `Content-Type`: OpenMetrics for
    /// `application/openmetrics-text`, the text format for anything else (including a
    /// missing or unknown type), as Prometheus does.
    pub fn from_content_type(ct: &str) -> Format {
        let media = ct.split(';').next().unwrap_or_default().trim();
        if media.eq_ignore_ascii_case("application/openmetrics-text") {
            Format::OpenMetrics
        } else {
            Format::PromText
        }
    }

    /// The `Content-Type` to serve this format with.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::PromText => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// Parses `buf` in `format`. See the [crate docs](crate) for the contract.
pub fn parse(buf: &[u8], format: Format) -> Parser<'_> {
    Parser::new(buf, format)
}

/// One item of an exposition.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    /// One sample line.
    Series(SeriesEntry<'a>),
    /// `# TYPE name type`. The text format's `untyped` is [`MetricType::Unknown`].
    Type {
        name: &'a str,
        metric_type: MetricType,
    },
    /// `# HELP name text`, unescaped.
    Help { name: &'a str, help: Cow<'a, str> },
    /// `# UNIT name unit` (OpenMetrics only).
    Unit { name: &'a str, unit: &'a str },
    /// A comment line of the text format; ignorable.
    Comment,
    /// OpenMetrics' closing `# EOF`; nothing follows it.
    Eof,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesEntry<'a> {
    /// The series identity as written: metric name and label block (through the closing
    /// brace), without value, timestamp or exemplar. Two lines with equal `raw` are the same
    /// series, so scrapers may key a cache on it (different spellings of one series merely
    /// miss the cache).
    pub raw: &'a [u8],
    /// The metric name.
    pub name: &'a str,
    /// The sample value.
    pub value: f64,
    /// The explicit timestamp in milliseconds since the epoch, if any. OpenMetrics' float
    /// seconds are converted (sub-millisecond digits truncated, out-of-range values
    /// saturated).
    pub timestamp_ms: Option<i64>,
    /// The exemplar (OpenMetrics only).
    pub exemplar: Option<Exemplar<'a>>,
    /// The type of the metric family this sample belongs to, `Unknown` if none was declared.
    pub metric_type: MetricType,
    /// The bytes between the braces, empty without labels.
    pub(crate) label_block: &'a [u8],
}

impl<'a> SeriesEntry<'a> {
    /// The labels (without `__name__`) in written order, values unescaped.
    pub fn labels(&self) -> LabelIter<'a> {
        LabelIter::new(self.label_block)
    }

    /// Pushes `__name__` and every label (unescaped) onto `b` without clearing it first.
    /// The parser has already rejected duplicate label names.
    pub fn labels_into(&self, b: &mut LabelsBuilder) {
        b.push_unchecked(METRIC_NAME, self.name);
        for (n, v) in self.labels() {
            b.push_unchecked(n, v);
        }
    }
}

/// An OpenMetrics exemplar: `# {labels} value [timestamp]` after a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar<'a> {
    /// The exemplar's value.
    pub value: f64,
    /// The exemplar's timestamp in milliseconds, if any.
    pub timestamp_ms: Option<i64>,
    pub(crate) label_block: &'a [u8],
}

impl<'a> Exemplar<'a> {
    /// The exemplar's labels, values unescaped.
    pub fn labels(&self) -> LabelIter<'a> {
        LabelIter::new(self.label_block)
    }

    /// Pushes the exemplar's labels onto `b`.
    pub fn labels_into(&self, b: &mut LabelsBuilder) {
        for (n, v) in self.labels() {
            b.push_unchecked(n, v);
        }
    }
}
