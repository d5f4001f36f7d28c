//! Chunks of any encoding, float or native histogram: decoding for reads, and decoding and
//! re-encoding for the paths that rewrite samples (deletes, overlapping compaction).

use std::sync::Arc;

use sightline_model::histogram::{FloatHistogram, Histogram};
use sightline_model::{stale_nan, Sample, TimestampMs};

use crate::chunk::{self, ChunkTuple, MAX_SAMPLES};
use crate::error::{Error, Result};
use crate::histchunk::{
    FloatHistAppender, FloatHistIter, HistAppender, HistIter, ENCODING_FLOAT_HISTOGRAM,
    ENCODING_HISTOGRAM,
};

/// A histogram sample's value, as appended (and as WAL readers see it).
#[derive(Debug, Clone, PartialEq)]
pub enum HistValue {
    /// Integer counts.
    Int(Histogram),
    /// Float counts.
    Float(FloatHistogram),
}

impl HistValue {
    pub(crate) fn is_stale(&self) -> bool {
        match self {
            HistValue::Int(h) => h.is_stale(),
            HistValue::Float(h) => h.is_stale(),
        }
    }

    /// The float histogram a reader gets.
    pub(crate) fn to_float(&self) -> FloatHistogram {
        match self {
            HistValue::Int(h) => h.to_float(),
            HistValue::Float(h) => h.clone(),
        }
    }
}

/// A sample of any kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AnyValue {
    F(f64),
    H(HistValue),
}

/// A sample of any kind with its timestamp.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AnySample {
    pub(crate) t: TimestampMs,
    pub(crate) v: AnyValue,
}

/// A sample as a reader gets it: a stale histogram is a float stale marker.
pub(crate) type ReadSample = (Sample, Option<Arc<FloatHistogram>>);

/// Whether a chunk holds histograms.
pub(crate) fn is_histogram_chunk(c: &[u8]) -> bool {
    matches!(
        c.first(),
        Some(&ENCODING_HISTOGRAM | &ENCODING_FLOAT_HISTOGRAM)
    )
}

/// Decodes a chunk of any encoding.
pub(crate) fn decode_any(c: &[u8]) -> Result<Vec<AnySample>> {
    match c.first() {
        Some(&ENCODING_HISTOGRAM) => {
            let mut it = HistIter::new(c)?;
            let mut out = Vec::with_capacity(usize::from(it.num_total()));
            while it.next(c) {
                out.push(AnySample {
                    t: it.t,
                    v: AnyValue::H(HistValue::Int(it.at_histogram())),
                });
            }
            match it.err.take() {
                Some(e) => Err(e),
                None => Ok(out),
            }
        }
        Some(&ENCODING_FLOAT_HISTOGRAM) => {
            let mut it = FloatHistIter::new(c)?;
            let mut out = Vec::with_capacity(usize::from(it.num_total()));
            while it.next(c) {
                out.push(AnySample {
                    t: it.t,
                    v: AnyValue::H(HistValue::Float(it.at_float_histogram())),
                });
            }
            match it.err.take() {
                Some(e) => Err(e),
                None => Ok(out),
            }
        }
        _ => Ok(chunk::decode_all(c)?
            .into_iter()
            .map(|s| AnySample {
                t: s.t,
                v: AnyValue::F(s.v),
            })
            .collect()),
    }
}

/// What a reader gets for one sample.
pub(crate) fn to_read(s: AnySample) -> ReadSample {
    match s.v {
        AnyValue::F(v) => (Sample { t: s.t, v }, None),
        AnyValue::H(h) if h.is_stale() => (
            Sample {
                t: s.t,
                v: stale_nan(),
            },
            None,
        ),
        AnyValue::H(h) => (Sample { t: s.t, v: 0.0 }, Some(Arc::new(h.to_float()))),
    }
}

/// Decodes a chunk for a reader.
pub(crate) fn decode_read(c: &[u8]) -> Result<Vec<ReadSample>> {
    Ok(decode_any(c)?.into_iter().map(to_read).collect())
}

/// Open histogram chunk of either kind.
#[derive(Debug, Clone)]
pub(crate) enum HistOpen {
    Int(HistAppender),
    Float(FloatHistAppender),
}

impl HistOpen {
    pub(crate) fn for_value(v: &HistValue) -> Self {
        match v {
            HistValue::Int(_) => HistOpen::Int(HistAppender::new()),
            HistValue::Float(_) => HistOpen::Float(FloatHistAppender::new()),
        }
    }

    pub(crate) fn resume(bytes: Vec<u8>) -> Result<Self> {
        match bytes.first() {
            Some(&ENCODING_HISTOGRAM) => Ok(HistOpen::Int(HistAppender::resume(bytes)?)),
            _ => Ok(HistOpen::Float(FloatHistAppender::resume(bytes)?)),
        }
    }

    /// Whether `v` is of this chunk's kind.
    pub(crate) fn same_kind(&self, v: &HistValue) -> bool {
        matches!(
            (self, v),
            (HistOpen::Int(_), HistValue::Int(_)) | (HistOpen::Float(_), HistValue::Float(_))
        )
    }

    pub(crate) fn len(&self) -> u16 {
        match self {
            HistOpen::Int(a) => a.len(),
            HistOpen::Float(a) => a.len(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            HistOpen::Int(a) => a.bytes(),
            HistOpen::Float(a) => a.bytes(),
        }
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        match self {
            HistOpen::Int(a) => a.into_bytes(),
            HistOpen::Float(a) => a.into_bytes(),
        }
    }

    pub(crate) fn min_t(&self) -> TimestampMs {
        match self {
            HistOpen::Int(a) => a.min_t(),
            HistOpen::Float(a) => a.min_t(),
        }
    }

    pub(crate) fn max_t(&self) -> TimestampMs {
        match self {
            HistOpen::Int(a) => a.max_t(),
            HistOpen::Float(a) => a.max_t(),
        }
    }

    /// Appends `v` (of this chunk's kind). `prev` is the chunk just closed for it, if any.
    /// Returns a new chunk when `v` cannot go into this one (this one is then complete).
    pub(crate) fn append(
        &mut self,
        prev: Option<&HistOpen>,
        t: TimestampMs,
        v: &HistValue,
    ) -> Result<Option<HistOpen>> {
        use crate::histchunk::Appended;
        match (self, v) {
            (HistOpen::Int(a), HistValue::Int(h)) => {
                let p = match prev {
                    Some(HistOpen::Int(p)) => Some(p),
                    _ => None,
                };
                Ok(match a.append(p, t, h)? {
                    Appended::Same => None,
                    Appended::New(n) => Some(HistOpen::Int(n)),
                })
            }
            (HistOpen::Float(a), HistValue::Float(h)) => {
                let p = match prev {
                    Some(HistOpen::Float(p)) => Some(p),
                    _ => None,
                };
                Ok(match a.append(p, t, h)? {
                    Appended::Same => None,
                    Appended::New(n) => Some(HistOpen::Float(n)),
                })
            }
            _ => Err(Error::InvalidArgument(
                "histogram kind does not match its chunk".into(),
            )),
        }
    }
}

/// Encodes samples (sorted by time) into chunks: floats in their smallest encoding, histograms
/// in Prometheus' encodings, a new chunk at every change of kind, every [`MAX_SAMPLES`]
/// samples and wherever the histogram appender asks for one. With `head`, float chunks are
/// XOR (what the head appends to and its checkpoint restores); else the smallest encoding.
pub(crate) fn encode_any(samples: &[AnySample], head: bool) -> Result<Vec<ChunkTuple>> {
    let floats_out = |f: &[Sample]| -> Vec<ChunkTuple> {
        if head {
            f.chunks(usize::from(MAX_SAMPLES))
                .zip(chunk::encode_chunks(f))
                .filter_map(|(src, c)| Some((src.first()?.t, src.last()?.t, Arc::from(c))))
                .collect()
        } else {
            chunk::encode_chunks_best(f)
        }
    };
    let mut out: Vec<ChunkTuple> = Vec::new();
    let mut floats: Vec<Sample> = Vec::new();
    let mut open: Option<HistOpen> = None;
    let flush_hist = |open: &mut Option<HistOpen>, out: &mut Vec<ChunkTuple>| {
        if let Some(o) = open.take() {
            if !o.is_empty() {
                out.push((o.min_t(), o.max_t(), Arc::from(o.into_bytes())));
            }
        }
    };
    for s in samples {
        match &s.v {
            AnyValue::F(v) => {
                flush_hist(&mut open, &mut out);
                floats.push(Sample { t: s.t, v: *v });
            }
            AnyValue::H(h) => {
                if !floats.is_empty() {
                    out.extend(floats_out(&floats));
                    floats.clear();
                }
                let mut prev = None;
                let needs_new = match &open {
                    None => true,
                    Some(o) => !o.same_kind(h) || o.len() >= MAX_SAMPLES,
                };
                if needs_new {
                    if let Some(o) = open.take() {
                        if o.same_kind(h) {
                            prev = Some(o.clone());
                        }
                        open = Some(o);
                        flush_hist(&mut open, &mut out);
                    }
                    open = Some(HistOpen::for_value(h));
                }
                if let Some(o) = open.as_mut() {
                    if let Some(n) = o.append(prev.as_ref(), s.t, h)? {
                        let full = std::mem::replace(o, n);
                        out.push((full.min_t(), full.max_t(), Arc::from(full.into_bytes())));
                    }
                }
            }
        }
    }
    flush_hist(&mut open, &mut out);
    if !floats.is_empty() {
        out.extend(floats_out(&floats));
    }
    Ok(out)
}
