//! Integer histogram chunks: Prometheus' `HistogramChunk`, `HistogramAppender` and
//! `histogramIterator`.

use std::sync::Arc;

use sightline_model::histogram::{CounterResetHint, FloatHistogram, Histogram, Span};
use sightline_model::is_stale_nan;

use super::spans::{
    adjust_for_inserts, expand_spans_and_buckets, expand_spans_both_ways, insert, Insert,
};
use super::*;
use crate::error::{Error, Result};

/// What appending a histogram did to the chunk.
#[derive(Debug)]
pub(crate) enum Appended<A> {
    /// Appended to this chunk (possibly after recoding it in place to a wider layout).
    Same,
    /// Does not fit this chunk: here is a new chunk holding only the sample; this one is
    /// unchanged and complete.
    New(A),
}

/// Prometheus' `HistogramAppender` over an owned chunk.
#[derive(Debug, Clone)]
pub(crate) struct HistAppender {
    b: BStream,
    schema: i32,
    z_threshold: f64,
    p_spans: Vec<Span>,
    n_spans: Vec<Span>,
    custom_values: Arc<[f64]>,
    t: i64,
    min_t: i64,
    cnt: u64,
    z_cnt: u64,
    t_delta: i64,
    cnt_delta: i64,
    z_cnt_delta: i64,
    p_buckets: Vec<i64>,
    n_buckets: Vec<i64>,
    p_buckets_delta: Vec<i64>,
    n_buckets_delta: Vec<i64>,
    sum: f64,
    leading: u8,
    trailing: u8,
}

impl Default for HistAppender {
    fn default() -> Self {
        Self::new()
    }
}

fn abs_counts(deltas: &[i64]) -> Vec<i64> {
    let mut cur = 0i64;
    deltas
        .iter()
        .map(|d| {
            cur = cur.wrapping_add(*d);
            cur
        })
        .collect()
}

impl HistAppender {
    /// An empty chunk.
    pub(crate) fn new() -> Self {
        HistAppender {
            b: BStream::new(new_chunk(ENCODING_HISTOGRAM)),
            schema: 0,
            z_threshold: 0.0,
            p_spans: Vec::new(),
            n_spans: Vec::new(),
            custom_values: Arc::from(Vec::new()),
            t: i64::MIN,
            min_t: i64::MIN,
            cnt: 0,
            z_cnt: 0,
            t_delta: 0,
            cnt_delta: 0,
            z_cnt_delta: 0,
            p_buckets: Vec::new(),
            n_buckets: Vec::new(),
            p_buckets_delta: Vec::new(),
            n_buckets_delta: Vec::new(),
            sum: 0.0,
            leading: 0xff,
            trailing: 0,
        }
    }

    /// Resumes appending to a chunk (`HistogramChunk.Appender`): replays it to rebuild the state.
    pub(crate) fn resume(bytes: Vec<u8>) -> Result<Self> {
        check_header(&bytes, ENCODING_HISTOGRAM)?;
        if bytes.len() == HEADER {
            return Ok(Self::new());
        }
        let mut it = HistIter::new(&bytes)?;
        let mut min_t = i64::MIN;
        while it.next(&bytes) {
            if min_t == i64::MIN {
                min_t = it.t;
            }
        }
        if let Some(e) = it.err.take() {
            return Err(e);
        }
        Ok(HistAppender {
            b: BStream::resumed(bytes, it.br.bits_left()),
            schema: it.schema,
            z_threshold: it.z_threshold,
            p_spans: it.p_spans,
            n_spans: it.n_spans,
            custom_values: it.custom_values,
            t: it.t,
            min_t,
            cnt: it.cnt,
            z_cnt: it.z_cnt,
            t_delta: it.t_delta,
            cnt_delta: it.cnt_delta,
            z_cnt_delta: it.z_cnt_delta,
            p_buckets: it.p_buckets,
            n_buckets: it.n_buckets,
            p_buckets_delta: it.p_buckets_delta,
            n_buckets_delta: it.n_buckets_delta,
            sum: it.sum,
            leading: it.leading,
            trailing: it.trailing,
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

    /// `appendable`: forward and backward inserts, whether the sample fits this chunk, and
    /// the counter-reset header a new chunk for it would get.
    #[allow(clippy::type_complexity)]
    pub(crate) fn appendable(
        &self,
        h: &Histogram,
    ) -> (Vec<Insert>, Vec<Insert>, Vec<Insert>, Vec<Insert>, bool, u8) {
        let none = || (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let ret = |ok: bool, hint: u8| {
            let (a, b, c, d) = none();
            (a, b, c, d, ok, hint)
        };
        if !self.is_empty() && self.header() == GAUGE_TYPE {
            return ret(false, NOT_COUNTER_RESET);
        }
        if h.counter_reset_hint == CounterResetHint::CounterReset {
            return ret(false, COUNTER_RESET);
        }
        if is_stale_nan(h.sum) {
            return ret(true, NOT_COUNTER_RESET);
        }
        if is_stale_nan(self.sum) {
            return ret(false, UNKNOWN_COUNTER_RESET);
        }
        if h.count < self.cnt {
            return ret(false, COUNTER_RESET);
        }
        if h.schema != self.schema || h.zero_threshold != self.z_threshold {
            return ret(false, UNKNOWN_COUNTER_RESET);
        }
        if sightline_model::histogram::is_custom_buckets(h.schema)
            && !custom_bounds_match(&h.custom_values, &self.custom_values)
        {
            return ret(false, COUNTER_RESET);
        }
        if h.zero_count < self.z_cnt {
            return ret(false, COUNTER_RESET);
        }
        // The common case, the same layout: only a decreasing bucket (a reset) matters. As
        // `expandIntSpansAndBuckets` decides it, without building the absolute counts.
        if self.p_spans == h.positive_spans && self.n_spans == h.negative_spans {
            let grows = |a: &[i64], b: &[i64]| {
                let (mut x, mut y) = (0i64, 0i64);
                a.iter().zip(b).all(|(da, db)| {
                    x = x.wrapping_add(*da);
                    y = y.wrapping_add(*db);
                    x <= y
                })
            };
            if grows(&self.p_buckets, &h.positive_buckets)
                && grows(&self.n_buckets, &h.negative_buckets)
            {
                return ret(true, NOT_COUNTER_RESET);
            }
            return ret(false, COUNTER_RESET);
        }
        let Some((pf, pb)) = expand_spans_and_buckets(
            &self.p_spans,
            &h.positive_spans,
            &abs_counts(&self.p_buckets),
            &abs_counts(&h.positive_buckets),
        ) else {
            return ret(false, COUNTER_RESET);
        };
        let Some((nf, nb)) = expand_spans_and_buckets(
            &self.n_spans,
            &h.negative_spans,
            &abs_counts(&self.n_buckets),
            &abs_counts(&h.negative_buckets),
        ) else {
            return ret(false, COUNTER_RESET);
        };
        (pf, nf, pb, nb, true, NOT_COUNTER_RESET)
    }

    /// `appendHistogram`: writes one sample (no layout checks).
    fn append_raw(&mut self, num: u16, t: i64, h: &Histogram) -> u16 {
        let stale_h;
        let h = if is_stale_nan(h.sum) {
            stale_h = Histogram {
                sum: h.sum,
                ..Histogram::default()
            };
            &stale_h
        } else {
            h
        };
        let (mut t_delta, mut cnt_delta, mut z_cnt_delta) = (0i64, 0i64, 0i64);
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
            let (np, nn) = (
                count_spans(&h.positive_spans),
                count_spans(&h.negative_spans),
            );
            self.p_buckets = vec![0; np];
            self.p_buckets_delta = vec![0; np];
            self.n_buckets = vec![0; nn];
            self.n_buckets_delta = vec![0; nn];
            put_varbit_int(&mut self.b, t);
            put_varbit_uint(&mut self.b, h.count);
            put_varbit_uint(&mut self.b, h.zero_count);
            self.b.write_bits(h.sum.to_bits(), 64);
            for b in &h.positive_buckets {
                put_varbit_int(&mut self.b, *b);
            }
            for b in &h.negative_buckets {
                put_varbit_int(&mut self.b, *b);
            }
            self.min_t = t;
        } else {
            t_delta = t.wrapping_sub(self.t);
            cnt_delta = (h.count as i64).wrapping_sub(self.cnt as i64);
            z_cnt_delta = (h.zero_count as i64).wrapping_sub(self.z_cnt as i64);
            let t_dod = t_delta.wrapping_sub(self.t_delta);
            let (mut cnt_dod, mut z_cnt_dod) = (
                cnt_delta.wrapping_sub(self.cnt_delta),
                z_cnt_delta.wrapping_sub(self.z_cnt_delta),
            );
            if is_stale_nan(h.sum) {
                cnt_dod = 0;
                z_cnt_dod = 0;
            }
            put_varbit_int(&mut self.b, t_dod);
            put_varbit_int(&mut self.b, cnt_dod);
            put_varbit_int(&mut self.b, z_cnt_dod);
            xor_write(
                &mut self.b,
                h.sum,
                self.sum,
                &mut self.leading,
                &mut self.trailing,
            );
            for (i, b) in h.positive_buckets.iter().enumerate() {
                let delta = b.wrapping_sub(self.p_buckets[i]);
                put_varbit_int(&mut self.b, delta.wrapping_sub(self.p_buckets_delta[i]));
                self.p_buckets_delta[i] = delta;
            }
            for (i, b) in h.negative_buckets.iter().enumerate() {
                let delta = b.wrapping_sub(self.n_buckets[i]);
                put_varbit_int(&mut self.b, delta.wrapping_sub(self.n_buckets_delta[i]));
                self.n_buckets_delta[i] = delta;
            }
        }
        self.t = t;
        self.cnt = h.count;
        self.z_cnt = h.zero_count;
        self.t_delta = t_delta;
        self.cnt_delta = cnt_delta;
        self.z_cnt_delta = z_cnt_delta;
        let np = h.positive_buckets.len().min(self.p_buckets.len());
        self.p_buckets[..np].copy_from_slice(&h.positive_buckets[..np]);
        let nn = h.negative_buckets.len().min(self.n_buckets.len());
        self.n_buckets[..nn].copy_from_slice(&h.negative_buckets[..nn]);
        self.sum = h.sum;
        num + 1
    }

    fn push(&mut self, t: i64, h: &Histogram) {
        let n = self.append_raw(self.len(), t, h);
        set_num_samples(&mut self.b.buf, n);
    }

    /// `recode`: the chunk re-encoded with the forward inserts applied to every sample.
    fn recode(
        &self,
        p_ins: &[Insert],
        n_ins: &[Insert],
        p_spans: &[Span],
        n_spans: &[Span],
    ) -> Result<HistAppender> {
        let bytes = &self.b.buf;
        let mut it = HistIter::new(bytes)?;
        let mut happ = HistAppender::new();
        let (np, nn) = (count_spans(p_spans), count_spans(n_spans));
        let mut num = 0u16;
        while it.next(bytes) {
            let (t, mut old) = (it.t, it.at_histogram());
            old.positive_spans = p_spans.to_vec();
            old.negative_spans = n_spans.to_vec();
            if !p_ins.is_empty() {
                old.positive_buckets = insert(&old.positive_buckets, np, p_ins, true);
            }
            if !n_ins.is_empty() {
                old.negative_buckets = insert(&old.negative_buckets, nn, n_ins, true);
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

    /// `AppendHistogram(prev, t, h, appendOnly=false)`. `prev` is the previous chunk's
    /// appender when this (empty) chunk was just cut for it, so the new chunk's counter-reset
    /// header says whether `h` reset the counter.
    pub(crate) fn append(
        &mut self,
        prev: Option<&HistAppender>,
        t: i64,
        h: &Histogram,
    ) -> Result<Appended<HistAppender>> {
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
                let hint = p.appendable(h).5;
                self.set_header(hint);
            }
            return Ok(Appended::Same);
        }
        // Copied only when backward inserts change it.
        let mut h = std::borrow::Cow::Borrowed(h);
        if h.counter_reset_hint != CounterResetHint::Gauge {
            let (pf, nf, pb, nb, ok, hint) = self.appendable(&h);
            if !ok || hint != NOT_COUNTER_RESET {
                let mut happ = HistAppender::new();
                happ.set_header(hint);
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
                recode_histogram(hm, &pb, &nb);
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
            let mut happ = HistAppender::new();
            happ.set_header(GAUGE_TYPE);
            happ.push(t, &h);
            return Ok(Appended::New(happ));
        }
        if !pb.is_empty() || !nb.is_empty() {
            let hm = h.to_mut();
            hm.positive_spans = pm;
            hm.negative_spans = nm;
            recode_histogram(hm, &pb, &nb);
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

    #[allow(clippy::type_complexity)]
    fn appendable_gauge(
        &self,
        h: &Histogram,
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
        if is_stale_nan(self.sum) {
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
}

/// `recodeHistogram`: adds the backward inserts (empty buckets) to `h`'s delta buckets.
fn recode_histogram(h: &mut Histogram, pb: &[Insert], nb: &[Insert]) {
    if !pb.is_empty() {
        h.positive_buckets = insert(
            &h.positive_buckets,
            count_spans(&h.positive_spans),
            pb,
            true,
        );
    }
    if !nb.is_empty() {
        h.negative_buckets = insert(
            &h.negative_buckets,
            count_spans(&h.negative_spans),
            nb,
            true,
        );
    }
}

/// `CustomBucketBoundsMatch`.
pub(crate) fn custom_bounds_match(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Prometheus' `histogramIterator` over a chunk's bytes (passed to every call, so the
/// iterator does not borrow them).
#[derive(Debug)]
pub(crate) struct HistIter {
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
    cnt: u64,
    z_cnt: u64,
    t_delta: i64,
    cnt_delta: i64,
    z_cnt_delta: i64,
    p_buckets: Vec<i64>,
    n_buckets: Vec<i64>,
    p_buckets_delta: Vec<i64>,
    n_buckets_delta: Vec<i64>,
    sum: f64,
    leading: u8,
    trailing: u8,
    pub(crate) err: Option<Error>,
}

impl HistIter {
    pub(crate) fn new(b: &[u8]) -> Result<Self> {
        let num_total = check_header(b, ENCODING_HISTOGRAM)?;
        Ok(HistIter {
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
            cnt: 0,
            z_cnt: 0,
            t_delta: 0,
            cnt_delta: 0,
            z_cnt_delta: 0,
            p_buckets: Vec::new(),
            n_buckets: Vec::new(),
            p_buckets_delta: Vec::new(),
            n_buckets_delta: Vec::new(),
            sum: 0.0,
            leading: 0,
            trailing: 0,
            err: None,
        })
    }

    pub(crate) fn num_total(&self) -> u16 {
        self.num_total
    }

    /// Advances to the next sample; false at the end or on a decoding error (see `err`).
    pub(crate) fn next(&mut self, b: &[u8]) -> bool {
        if self.err.is_some() || self.num_read == self.num_total {
            return false;
        }
        if self.decode(b).is_none() {
            self.err = Some(Error::Corrupt(format!(
                "histogram chunk ends early or is corrupt at sample {}",
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
            self.p_buckets = vec![0; np];
            self.p_buckets_delta = vec![0; np];
            self.n_buckets = vec![0; nn];
            self.n_buckets_delta = vec![0; nn];
            self.t = read_varbit_int(r, b)?;
            self.cnt = read_varbit_uint(r, b)?;
            self.z_cnt = read_varbit_uint(r, b)?;
            self.sum = f64::from_bits(r.read_bits(b, 64)?);
            for x in self.p_buckets.iter_mut() {
                *x = read_varbit_int(r, b)?;
            }
            for x in self.n_buckets.iter_mut() {
                *x = read_varbit_int(r, b)?;
            }
            return Some(());
        }
        let t_dod = read_varbit_int(r, b)?;
        self.t_delta = self.t_delta.wrapping_add(t_dod);
        self.t = self.t.wrapping_add(self.t_delta);
        let cnt_dod = read_varbit_int(r, b)?;
        self.cnt_delta = self.cnt_delta.wrapping_add(cnt_dod);
        self.cnt = (self.cnt as i64).wrapping_add(self.cnt_delta) as u64;
        let z_dod = read_varbit_int(r, b)?;
        self.z_cnt_delta = self.z_cnt_delta.wrapping_add(z_dod);
        self.z_cnt = (self.z_cnt as i64).wrapping_add(self.z_cnt_delta) as u64;
        xor_read(r, b, &mut self.sum, &mut self.leading, &mut self.trailing)?;
        if is_stale_nan(self.sum) {
            return Some(());
        }
        for i in 0..self.p_buckets.len() {
            let dod = read_varbit_int(r, b)?;
            self.p_buckets_delta[i] = self.p_buckets_delta[i].wrapping_add(dod);
            self.p_buckets[i] = self.p_buckets[i].wrapping_add(self.p_buckets_delta[i]);
        }
        for i in 0..self.n_buckets.len() {
            let dod = read_varbit_int(r, b)?;
            self.n_buckets_delta[i] = self.n_buckets_delta[i].wrapping_add(dod);
            self.n_buckets[i] = self.n_buckets[i].wrapping_add(self.n_buckets_delta[i]);
        }
        Some(())
    }

    /// Whether the current sample is a stale marker.
    pub(crate) fn is_stale(&self) -> bool {
        is_stale_nan(self.sum)
    }

    /// `AtFloatHistogram`: the counts as floats, without an integer copy first.
    pub(crate) fn at_float_histogram(&self) -> FloatHistogram {
        if self.is_stale() {
            return FloatHistogram {
                sum: self.sum,
                ..FloatHistogram::default()
            };
        }
        let undelta = |d: &[i64]| {
            let mut cur = 0i64;
            d.iter()
                .map(|x| {
                    cur = cur.wrapping_add(*x);
                    cur as f64
                })
                .collect::<Vec<f64>>()
        };
        FloatHistogram {
            counter_reset_hint: read_hint(self.header, self.num_read),
            schema: self.schema,
            zero_threshold: self.z_threshold,
            zero_count: self.z_cnt as f64,
            count: self.cnt as f64,
            sum: self.sum,
            positive_spans: self.p_spans.clone(),
            negative_spans: self.n_spans.clone(),
            positive_buckets: undelta(&self.p_buckets),
            negative_buckets: undelta(&self.n_buckets),
            custom_values: self.custom_values.clone(),
        }
    }

    /// `AtHistogram`.
    pub(crate) fn at_histogram(&self) -> Histogram {
        if self.is_stale() {
            return Histogram {
                sum: self.sum,
                ..Histogram::default()
            };
        }
        Histogram {
            counter_reset_hint: read_hint(self.header, self.num_read),
            schema: self.schema,
            zero_threshold: self.z_threshold,
            zero_count: self.z_cnt,
            count: self.cnt,
            sum: self.sum,
            positive_spans: self.p_spans.clone(),
            negative_spans: self.n_spans.clone(),
            positive_buckets: self.p_buckets.clone(),
            negative_buckets: self.n_buckets.clone(),
            custom_values: self.custom_values.clone(),
        }
    }
}
