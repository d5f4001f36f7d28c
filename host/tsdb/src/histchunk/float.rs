//! Float histogram chunks: Prometheus' `FloatHistogramChunk`, `FloatHistogramAppender` and
//! `floatHistogramIterator`.

use std::sync::Arc;

use sightline_model::histogram::{CounterResetHint, FloatHistogram, Span};
use sightline_model::is_stale_nan;

use super::int::{custom_bounds_match, Appended};
use super::spans::{
    adjust_for_inserts, expand_spans_and_buckets, expand_spans_both_ways, insert, Insert,
};
use super::*;
use crate::error::{Error, Result};

/// Prometheus' `xorValue`: a value with its own leading/trailing-zero window.
#[derive(Debug, Clone, Copy)]
struct XorValue {
    value: f64,
    leading: u8,
    trailing: u8,
}

impl XorValue {
    fn fresh(value: f64) -> Self {
        XorValue {
            value,
            leading: 0xff,
            trailing: 0,
        }
    }
}

/// Prometheus' `FloatHistogramAppender` over an owned chunk.
#[derive(Debug, Clone)]
pub(crate) struct FloatHistAppender {
    b: BStream,
    schema: i32,
    z_threshold: f64,
    p_spans: Vec<Span>,
    n_spans: Vec<Span>,
    custom_values: Arc<[f64]>,
    t: i64,
    min_t: i64,
    t_delta: i64,
    sum: XorValue,
    cnt: XorValue,
    z_cnt: XorValue,
    p_buckets: Vec<XorValue>,
    n_buckets: Vec<XorValue>,
}

impl Default for FloatHistAppender {
    fn default() -> Self {
        Self::new()
    }
}

impl FloatHistAppender {
    pub(crate) fn new() -> Self {
        FloatHistAppender {
            b: BStream::new(new_chunk(ENCODING_FLOAT_HISTOGRAM)),
            schema: 0,
            z_threshold: 0.0,
            p_spans: Vec::new(),
            n_spans: Vec::new(),
            custom_values: Arc::from(Vec::new()),
            t: i64::MIN,
            min_t: i64::MIN,
            t_delta: 0,
            sum: XorValue::fresh(0.0),
            cnt: XorValue::fresh(0.0),
            z_cnt: XorValue::fresh(0.0),
            p_buckets: Vec::new(),
            n_buckets: Vec::new(),
        }
    }

    /// Resumes appending to a chunk (`FloatHistogramChunk.Appender`).
    pub(crate) fn resume(bytes: Vec<u8>) -> Result<Self> {
        check_header(&bytes, ENCODING_FLOAT_HISTOGRAM)?;
        if bytes.len() == HEADER {
            return Ok(Self::new());
        }
        let mut it = FloatHistIter::new(&bytes)?;
        let mut min_t = i64::MIN;
        while it.next(&bytes) {
            if min_t == i64::MIN {
                min_t = it.t;
            }
        }
        if let Some(e) = it.err.take() {
            return Err(e);
        }
        let zip = |v: &[f64], l: &[u8], t: &[u8]| {
            v.iter()
                .zip(l)
                .zip(t)
                .map(|((v, l), t)| XorValue {
                    value: *v,
                    leading: *l,
                    trailing: *t,
                })
                .collect::<Vec<_>>()
        };
        Ok(FloatHistAppender {
            p_buckets: zip(&it.p_buckets, &it.p_leading, &it.p_trailing),
            n_buckets: zip(&it.n_buckets, &it.n_leading, &it.n_trailing),
            b: BStream::resumed(bytes, it.br.bits_left()),
            schema: it.schema,
            z_threshold: it.z_threshold,
            p_spans: it.p_spans,
            n_spans: it.n_spans,
            custom_values: it.custom_values,
            t: it.t,
            min_t,
            t_delta: it.t_delta,
            sum: it.sum,
            cnt: it.cnt,
            z_cnt: it.z_cnt,
        })
    }

    pub(crate) fn len(&self) -> u16 {
        num_samples(&self.b.buf)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.b.buf
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.b.buf
    }

    pub(crate) fn min_t(&self) -> i64 {
        self.min_t
    }

    pub(crate) fn max_t(&self) -> i64 {
        self.t
    }

    pub(crate) fn header(&self) -> u8 {
        counter_reset_header(&self.b.buf)
    }

    pub(crate) fn set_header(&mut self, h: u8) {
        set_counter_reset_header(&mut self.b.buf, h);
    }

    /// `appendable`: inserts, whether `h` fits, whether it is a counter reset.
    #[allow(clippy::type_complexity)]
    pub(crate) fn appendable(
        &self,
        h: &FloatHistogram,
    ) -> (
        Vec<Insert>,
        Vec<Insert>,
        Vec<Insert>,
        Vec<Insert>,
        bool,
        bool,
    ) {
        let ret = |ok, reset| (Vec::new(), Vec::new(), Vec::new(), Vec::new(), ok, reset);
        if !self.is_empty() && self.header() == GAUGE_TYPE {
            return ret(false, false);
        }
        if h.counter_reset_hint == CounterResetHint::CounterReset {
            return ret(false, true);
        }
        if is_stale_nan(h.sum) {
            return ret(true, false);
        }
        if is_stale_nan(self.sum.value) {
            return ret(false, false);
        }
        if h.count < self.cnt.value {
            return ret(false, true);
        }
        if h.schema != self.schema || h.zero_threshold != self.z_threshold {
            return ret(false, false);
        }
        if sightline_model::histogram::is_custom_buckets(h.schema)
            && !custom_bounds_match(&h.custom_values, &self.custom_values)
        {
            return ret(false, true);
        }
        if h.zero_count < self.z_cnt.value {
            return ret(false, true);
        }
        // The common case, the same layout: only a decreasing bucket (a reset) matters.
        if self.p_spans == h.positive_spans && self.n_spans == h.negative_spans {
            // Go's `aCount > bCount` is false for NaN: a NaN count is not a reset.
            let grows = |a: &[XorValue], b: &[f64]| {
                a.iter()
                    .zip(b)
                    .all(|(x, y)| x.value.partial_cmp(y) != Some(std::cmp::Ordering::Greater))
            };
            if grows(&self.p_buckets, &h.positive_buckets)
                && grows(&self.n_buckets, &h.negative_buckets)
            {
                return ret(true, false);
            }
            return ret(false, true);
        }
        let pa: Vec<f64> = self.p_buckets.iter().map(|x| x.value).collect();
        let Some((pf, pb)) =
            expand_spans_and_buckets(&self.p_spans, &h.positive_spans, &pa, &h.positive_buckets)
        else {
            return ret(false, true);
        };
        let na: Vec<f64> = self.n_buckets.iter().map(|x| x.value).collect();
        let Some((nf, nb)) =
            expand_spans_and_buckets(&self.n_spans, &h.negative_spans, &na, &h.negative_buckets)
        else {
            return ret(false, true);
        };
        (pf, nf, pb, nb, true, false)
    }

    #[allow(clippy::type_complexity)]
    fn appendable_gauge(
        &self,
        h: &FloatHistogram,
    ) -> (
        Vec<Insert>,
        Vec<Insert>,
        Vec<Insert>,
        Vec<Insert>,
        Vec<Span>,
        Vec<Span>,
        bool,
    ) {
        let no = |ok| {
            (
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                ok,
            )
        };
        if !self.is_empty() && self.header() != GAUGE_TYPE {
            return no(false);
        }
        if is_stale_nan(h.sum) {
            return no(true);
        }
        if is_stale_nan(self.sum.value) {
            return no(false);
        }
        if h.schema != self.schema || h.zero_threshold != self.z_threshold {
            return no(false);
        }
        if sightline_model::histogram::is_custom_buckets(h.schema)
            && !custom_bounds_match(&h.custom_values, &self.custom_values)
        {
            return no(false);
        }
        let (pf, pb, pm) = expand_spans_both_ways(&self.p_spans, &h.positive_spans);
        let (nf, nb, nm) = expand_spans_both_ways(&self.n_spans, &h.negative_spans);
        (pf, nf, pb, nb, pm, nm, true)
    }

    /// `appendFloatHistogram`.
    fn append_raw(&mut self, num: u16, t: i64, h: &FloatHistogram) -> u16 {
        let stale_h;
        let h = if is_stale_nan(h.sum) {
            stale_h = FloatHistogram {
                sum: h.sum,
                ..FloatHistogram::default()
            };
            &stale_h
        } else {
            h
        };
        let mut t_delta = 0i64;
        if num == 0 {
            write_layout(
                &mut self.b,
                h.schema,
                h.zero_threshold,
                &h.positive_spans,
                &h.negative_spans,
                &h.custom_values,
            );
            self.schema = h.schema;
            self.z_threshold = h.zero_threshold;
            self.p_spans = h.positive_spans.clone();
            self.n_spans = h.negative_spans.clone();
            self.custom_values = h.custom_values.clone();
            self.p_buckets = h
                .positive_buckets
                .iter()
                .map(|v| XorValue::fresh(*v))
                .collect();
            self.n_buckets = h
                .negative_buckets
                .iter()
                .map(|v| XorValue::fresh(*v))
                .collect();
            put_varbit_int(&mut self.b, t);
            self.b.write_bits(h.count.to_bits(), 64);
            self.b.write_bits(h.zero_count.to_bits(), 64);
            self.b.write_bits(h.sum.to_bits(), 64);
            self.cnt.value = h.count;
            self.z_cnt.value = h.zero_count;
            self.sum.value = h.sum;
            for b in &h.positive_buckets {
                self.b.write_bits(b.to_bits(), 64);
            }
            for b in &h.negative_buckets {
                self.b.write_bits(b.to_bits(), 64);
            }
            self.min_t = t;
        } else {
            t_delta = t.wrapping_sub(self.t);
            put_varbit_int(&mut self.b, t_delta.wrapping_sub(self.t_delta));
            write_xor_value(&mut self.b, &mut self.cnt, h.count);
            write_xor_value(&mut self.b, &mut self.z_cnt, h.zero_count);
            write_xor_value(&mut self.b, &mut self.sum, h.sum);
            for (x, v) in self.p_buckets.iter_mut().zip(&h.positive_buckets) {
                write_xor_value(&mut self.b, x, *v);
            }
            for (x, v) in self.n_buckets.iter_mut().zip(&h.negative_buckets) {
                write_xor_value(&mut self.b, x, *v);
            }
        }
        self.t = t;
        self.t_delta = t_delta;
        num + 1
    }

    fn push(&mut self, t: i64, h: &FloatHistogram) {
        let n = self.append_raw(self.len(), t, h);
        set_num_samples(&mut self.b.buf, n);
    }

    fn recode(
        &self,
        p_ins: &[Insert],
        n_ins: &[Insert],
        p_spans: &[Span],
        n_spans: &[Span],
    ) -> Result<FloatHistAppender> {
        let bytes = &self.b.buf;
        let mut it = FloatHistIter::new(bytes)?;
        let mut happ = FloatHistAppender::new();
        let (np, nn) = (count_spans(p_spans), count_spans(n_spans));
        let mut num = 0u16;
        while it.next(bytes) {
            let (t, mut old) = (it.t, it.at_float_histogram());
            old.positive_spans = p_spans.to_vec();
            old.negative_spans = n_spans.to_vec();
            if !p_ins.is_empty() {
                old.positive_buckets = insert(&old.positive_buckets, np, p_ins, false);
            }
            if !n_ins.is_empty() {
                old.negative_buckets = insert(&old.negative_buckets, nn, n_ins, false);
            }
            num = happ.append_raw(num, t, &old);
        }
        if let Some(e) = it.err.take() {
            return Err(e);
        }
        set_num_samples(&mut happ.b.buf, num);
        happ.set_header(counter_reset_header(bytes));
        Ok(happ)
    }

    /// `AppendFloatHistogram(prev, t, h, appendOnly=false)`.
    pub(crate) fn append(
        &mut self,
        prev: Option<&FloatHistAppender>,
        t: i64,
        h: &FloatHistogram,
    ) -> Result<Appended<FloatHistAppender>> {
        let n = self.len();
        if n == u16::MAX {
            return Err(Error::Corrupt("histogram chunk capacity exceeded".into()));
        }
        if n == 0 {
            self.push(t, h);
            if h.counter_reset_hint == CounterResetHint::Gauge {
                self.set_header(GAUGE_TYPE);
            } else if h.counter_reset_hint == CounterResetHint::CounterReset {
                self.set_header(COUNTER_RESET);
            } else if let Some(p) = prev {
                let reset = p.appendable(h).5;
                self.set_header(if reset {
                    COUNTER_RESET
                } else {
                    NOT_COUNTER_RESET
                });
            }
            return Ok(Appended::Same);
        }
        // Copied only when backward inserts change it.
        let mut h = std::borrow::Cow::Borrowed(h);
        if h.counter_reset_hint != CounterResetHint::Gauge {
            let (pf, nf, pb, nb, ok, reset) = self.appendable(&h);
            if !ok || reset {
                let mut happ = FloatHistAppender::new();
                if reset {
                    happ.set_header(COUNTER_RESET);
                }
                happ.push(t, &h);
                return Ok(Appended::New(happ));
            }
            if !pb.is_empty() || !nb.is_empty() {
                let hm = h.to_mut();
                if pf.is_empty() && nf.is_empty() {
                    hm.positive_spans = self.p_spans.clone();
                    hm.negative_spans = self.n_spans.clone();
                } else {
                    hm.positive_spans = adjust_for_inserts(&hm.positive_spans, &pb);
                    hm.negative_spans = adjust_for_inserts(&hm.negative_spans, &nb);
                }
                recode_float_histogram(hm, &pb, &nb);
            }
            if !pf.is_empty() || !nf.is_empty() {
                let mut happ = self.recode(&pf, &nf, &h.positive_spans, &h.negative_spans)?;
                happ.push(t, &h);
                *self = happ;
                return Ok(Appended::Same);
            }
            self.push(t, &h);
            return Ok(Appended::Same);
        }
        let (pf, nf, pb, nb, pm, nm, ok) = self.appendable_gauge(&h);
        if !ok {
            let mut happ = FloatHistAppender::new();
            happ.set_header(GAUGE_TYPE);
            happ.push(t, &h);
            return Ok(Appended::New(happ));
        }
        if !pb.is_empty() || !nb.is_empty() {
            let hm = h.to_mut();
            hm.positive_spans = pm;
            hm.negative_spans = nm;
            recode_float_histogram(hm, &pb, &nb);
        }
        if !pf.is_empty() || !nf.is_empty() {
            let mut happ = self.recode(&pf, &nf, &h.positive_spans, &h.negative_spans)?;
            happ.push(t, &h);
            *self = happ;
            return Ok(Appended::Same);
        }
        self.push(t, &h);
        Ok(Appended::Same)
    }
}

fn write_xor_value(b: &mut BStream, old: &mut XorValue, v: f64) {
    xor_write(b, v, old.value, &mut old.leading, &mut old.trailing);
    old.value = v;
}

fn recode_float_histogram(h: &mut FloatHistogram, pb: &[Insert], nb: &[Insert]) {
    if !pb.is_empty() {
        h.positive_buckets = insert(
            &h.positive_buckets,
            count_spans(&h.positive_spans),
            pb,
            false,
        );
    }
    if !nb.is_empty() {
        h.negative_buckets = insert(
            &h.negative_buckets,
            count_spans(&h.negative_spans),
            nb,
            false,
        );
    }
}

/// Prometheus' `floatHistogramIterator`.
#[derive(Debug)]
pub(crate) struct FloatHistIter {
    br: BReader,
    num_total: u16,
    num_read: u16,
    header: u8,
    schema: i32,
    z_threshold: f64,
    p_spans: Vec<Span>,
    n_spans: Vec<Span>,
    custom_values: Arc<[f64]>,
    pub(crate) t: i64,
    t_delta: i64,
    sum: XorValue,
    cnt: XorValue,
    z_cnt: XorValue,
    p_buckets: Vec<f64>,
    p_leading: Vec<u8>,
    p_trailing: Vec<u8>,
    n_buckets: Vec<f64>,
    n_leading: Vec<u8>,
    n_trailing: Vec<u8>,
    pub(crate) err: Option<Error>,
}

impl FloatHistIter {
    pub(crate) fn new(b: &[u8]) -> Result<Self> {
        let num_total = check_header(b, ENCODING_FLOAT_HISTOGRAM)?;
        let z = XorValue {
            value: 0.0,
            leading: 0,
            trailing: 0,
        };
        Ok(FloatHistIter {
            br: BReader::new(b.len()),
            num_total,
            num_read: 0,
            header: counter_reset_header(b),
            schema: 0,
            z_threshold: 0.0,
            p_spans: Vec::new(),
            n_spans: Vec::new(),
            custom_values: Arc::from(Vec::new()),
            t: i64::MIN,
            t_delta: 0,
            sum: z,
            cnt: z,
            z_cnt: z,
            p_buckets: Vec::new(),
            p_leading: Vec::new(),
            p_trailing: Vec::new(),
            n_buckets: Vec::new(),
            n_leading: Vec::new(),
            n_trailing: Vec::new(),
            err: None,
        })
    }

    pub(crate) fn num_total(&self) -> u16 {
        self.num_total
    }

    pub(crate) fn next(&mut self, b: &[u8]) -> bool {
        if self.err.is_some() || self.num_read == self.num_total {
            return false;
        }
        if self.decode(b).is_none() {
            self.err = Some(Error::Corrupt(format!(
                "float histogram chunk ends early or is corrupt at sample {}",
                self.num_read
            )));
            return false;
        }
        self.num_read += 1;
        true
    }

    fn decode(&mut self, b: &[u8]) -> Option<()> {
        let r = &mut self.br;
        if self.num_read == 0 {
            let l = read_layout(r, b)?;
            self.schema = l.schema;
            self.z_threshold = l.zero_threshold;
            let (np, nn) = (count_spans(&l.pos), count_spans(&l.neg));
            self.p_spans = l.pos;
            self.n_spans = l.neg;
            self.custom_values = l.custom_values;
            self.p_buckets = vec![0.0; np];
            self.p_leading = vec![0; np];
            self.p_trailing = vec![0; np];
            self.n_buckets = vec![0.0; nn];
            self.n_leading = vec![0; nn];
            self.n_trailing = vec![0; nn];
            self.t = read_varbit_int(r, b)?;
            self.cnt.value = f64::from_bits(r.read_bits(b, 64)?);
            self.z_cnt.value = f64::from_bits(r.read_bits(b, 64)?);
            self.sum.value = f64::from_bits(r.read_bits(b, 64)?);
            for x in self.p_buckets.iter_mut() {
                *x = f64::from_bits(r.read_bits(b, 64)?);
            }
            for x in self.n_buckets.iter_mut() {
                *x = f64::from_bits(r.read_bits(b, 64)?);
            }
            return Some(());
        }
        let t_dod = read_varbit_int(r, b)?;
        self.t_delta = self.t_delta.wrapping_add(t_dod);
        self.t = self.t.wrapping_add(self.t_delta);
        for x in [&mut self.cnt, &mut self.z_cnt, &mut self.sum] {
            xor_read(r, b, &mut x.value, &mut x.leading, &mut x.trailing)?;
        }
        if is_stale_nan(self.sum.value) {
            return Some(());
        }
        for i in 0..self.p_buckets.len() {
            xor_read(
                r,
                b,
                &mut self.p_buckets[i],
                &mut self.p_leading[i],
                &mut self.p_trailing[i],
            )?;
        }
        for i in 0..self.n_buckets.len() {
            xor_read(
                r,
                b,
                &mut self.n_buckets[i],
                &mut self.n_leading[i],
                &mut self.n_trailing[i],
            )?;
        }
        Some(())
    }

    pub(crate) fn is_stale(&self) -> bool {
        is_stale_nan(self.sum.value)
    }

    /// `AtFloatHistogram`.
    pub(crate) fn at_float_histogram(&self) -> FloatHistogram {
        if self.is_stale() {
            return FloatHistogram {
                sum: self.sum.value,
                ..FloatHistogram::default()
            };
        }
        FloatHistogram {
            counter_reset_hint: read_hint(self.header, self.num_read),
            schema: self.schema,
            zero_threshold: self.z_threshold,
            zero_count: self.z_cnt.value,
            count: self.cnt.value,
            sum: self.sum.value,
            positive_spans: self.p_spans.clone(),
            negative_spans: self.n_spans.clone(),
            positive_buckets: self.p_buckets.clone(),
            negative_buckets: self.n_buckets.clone(),
            custom_values: self.custom_values.clone(),
        }
    }
}
