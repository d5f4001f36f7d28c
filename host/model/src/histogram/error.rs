//! Errors of histogram operations, carrying Prometheus' exact messages.
//!
//! Go wraps a handful of sentinel errors (`histogram.ErrHistogram…`) with context
//! (`fmt.Errorf("positive side: %w", …)`) and callers test them with `errors.Is`. Here the
//! sentinel is the [`HistogramErrorKind`] and the wrapped text is the message, so a caller can
//! both match on the kind and quote the message verbatim (PromQL annotations do).

use super::{CUSTOM_BUCKETS_SCHEMA, EXPONENTIAL_SCHEMA_MAX, EXPONENTIAL_SCHEMA_MIN};

/// The smallest schema that is known but must be reduced to a supported one.
pub const EXPONENTIAL_SCHEMA_MIN_RESERVED: i32 = -9;
/// The largest schema that is known but must be reduced to a supported one.
pub const EXPONENTIAL_SCHEMA_MAX_RESERVED: i32 = 52;

/// Which of Prometheus' sentinel errors an error wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistogramErrorKind {
    /// `ErrHistogramCountNotBigEnough`.
    CountNotBigEnough,
    /// `ErrHistogramCountMismatch`.
    CountMismatch,
    /// `ErrHistogramNegativeCount`.
    NegativeCount,
    /// `ErrHistogramNegativeBucketCount`.
    NegativeBucketCount,
    /// `ErrHistogramSpanNegativeOffset`.
    SpanNegativeOffset,
    /// `ErrHistogramSpansBucketsMismatch`.
    SpansBucketsMismatch,
    /// `ErrHistogramCustomBucketsMismatch`.
    CustomBucketsMismatch,
    /// `ErrHistogramCustomBucketsInvalid`.
    CustomBucketsInvalid,
    /// `ErrHistogramCustomBucketsInfinite`.
    CustomBucketsInfinite,
    /// `ErrHistogramCustomBucketsNaN`.
    CustomBucketsNaN,
    /// `ErrHistogramsIncompatibleSchema`.
    IncompatibleSchema,
    /// `ErrHistogramCustomBucketsZeroCount`.
    CustomBucketsZeroCount,
    /// `ErrHistogramCustomBucketsZeroThresh`.
    CustomBucketsZeroThresh,
    /// `ErrHistogramCustomBucketsNegSpans`.
    CustomBucketsNegSpans,
    /// `ErrHistogramCustomBucketsNegBuckets`.
    CustomBucketsNegBuckets,
    /// `ErrHistogramExpSchemaCustomBounds`.
    ExpSchemaCustomBounds,
    /// `ErrHistogramsInvalidSchema`.
    InvalidSchema,
    /// `ErrHistogramsUnknownSchema`.
    UnknownSchema,
    /// A misuse that Go reports with a plain `errors.New` (or a panic), e.g. reducing the
    /// resolution of a histogram with custom buckets.
    Usage,
}

impl HistogramErrorKind {
    /// The sentinel's own message, as Go prints it.
    pub fn base_message(self) -> String {
        use HistogramErrorKind::*;
        let s = match self {
            CountNotBigEnough => "histogram's observation count should be at least the number of observations found in the buckets",
            CountMismatch => "histogram's observation count should equal the number of observations found in the buckets (in absence of NaN)",
            NegativeCount => "histogram's observation count is negative",
            NegativeBucketCount => "histogram has a bucket whose observation count is negative",
            SpanNegativeOffset => "histogram has a span whose offset is negative",
            SpansBucketsMismatch => "histogram spans specify different number of buckets than provided",
            CustomBucketsMismatch => "histogram custom bounds are too few",
            CustomBucketsInvalid => "histogram custom bounds must be in strictly increasing order",
            CustomBucketsInfinite => "histogram custom bounds must be finite",
            CustomBucketsNaN => "histogram custom bounds must not be NaN",
            IncompatibleSchema => "cannot apply this operation on histograms with a mix of exponential and custom bucket schemas",
            CustomBucketsZeroCount => "custom buckets: must have zero count of 0",
            CustomBucketsZeroThresh => "custom buckets: must have zero threshold of 0",
            CustomBucketsNegSpans => "custom buckets: must not have negative spans",
            CustomBucketsNegBuckets => "custom buckets: must not have negative buckets",
            ExpSchemaCustomBounds => "histogram with exponential schema must not have custom bounds",
            InvalidSchema => {
                return format!(
                    "histogram has an invalid schema, which must be between {EXPONENTIAL_SCHEMA_MIN} and {EXPONENTIAL_SCHEMA_MAX} for exponential buckets, or {CUSTOM_BUCKETS_SCHEMA} for custom buckets"
                )
            }
            UnknownSchema => {
                return format!(
                    "histogram has an unknown schema, which must be between {EXPONENTIAL_SCHEMA_MIN_RESERVED} and {EXPONENTIAL_SCHEMA_MAX_RESERVED} for exponential buckets, or {CUSTOM_BUCKETS_SCHEMA} for custom buckets"
                )
            }
            Usage => "invalid histogram operation",
        };
        s.to_string()
    }
}

/// An error of a histogram operation: its sentinel kind and Go's full message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HistogramError {
    kind: HistogramErrorKind,
    message: String,
}

impl HistogramError {
    /// The bare sentinel error (Go returns these unwrapped in places).
    pub fn new(kind: HistogramErrorKind) -> Self {
        HistogramError {
            kind,
            message: kind.base_message(),
        }
    }

    /// The sentinel wrapped with a context: `fmt.Errorf("<context>: %w", sentinel)`.
    pub fn wrapped(kind: HistogramErrorKind, context: impl std::fmt::Display) -> Self {
        HistogramError {
            kind,
            message: format!("{context}: {}", kind.base_message()),
        }
    }

    /// A misuse error with a free message (Go's `errors.New`).
    pub fn usage(message: impl Into<String>) -> Self {
        HistogramError {
            kind: HistogramErrorKind::Usage,
            message: message.into(),
        }
    }

    /// `InvalidSchemaError(s)`.
    pub fn invalid_schema(schema: i32) -> Self {
        let kind = HistogramErrorKind::InvalidSchema;
        HistogramError {
            kind,
            message: format!("{}, got schema {schema}", kind.base_message()),
        }
    }

    /// `UnknownSchemaError(s)`.
    pub fn unknown_schema(schema: i32) -> Self {
        let kind = HistogramErrorKind::UnknownSchema;
        HistogramError {
            kind,
            message: format!("{}, got schema {schema}", kind.base_message()),
        }
    }

    /// Prefixes the message with another context (a second `%w` wrap), keeping the kind.
    pub fn context(mut self, context: impl std::fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// Which sentinel this error wraps (Go's `errors.Is`).
    pub fn kind(&self) -> HistogramErrorKind {
        self.kind
    }

    /// The full message.
    pub fn message(&self) -> &str {
        &self.message
    }
}
