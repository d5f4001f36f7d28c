//! Bucket layout arithmetic of `histogram_meta.go`: walking spans, the inserts that turn one
//! layout into another, and applying them.

use sightline_model::histogram::Span;

/// `bucketIterator`: yields the global bucket indexes the spans cover.
struct BucketIter<'a> {
    spans: &'a [Span],
    span: usize,
    bucket: i64,
    idx: i64,
}

impl<'a> BucketIter<'a> {
    fn new(spans: &'a [Span]) -> Self {
        let mut idx = -1i64;
        if let Some(s) = spans.first() {
            idx += i64::from(s.offset);
        }
        BucketIter {
            spans,
            span: 0,
            bucket: -1,
            idx,
        }
    }

    fn next_idx(&mut self) -> Option<i64> {
        if self.span >= self.spans.len() {
            return None;
        }
        if self.bucket < i64::from(self.spans[self.span].length) - 1 {
            self.bucket += 1;
            self.idx += 1;
            return Some(self.idx);
        }
        while self.span + 1 < self.spans.len() {
            self.span += 1;
            self.idx += i64::from(self.spans[self.span].offset) + 1;
            self.bucket = 0;
            if self.spans[self.span].length == 0 {
                self.idx -= 1;
                continue;
            }
            return Some(self.idx);
        }
        None
    }
}

/// `Insert`: `num` new buckets before position `pos` of the old bucket list, the first of
/// them at global index `bucket_idx`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Insert {
    pub(crate) pos: usize,
    pub(crate) num: usize,
    pub(crate) bucket_idx: i64,
}

fn add_insert(inserts: &mut Vec<Insert>, insert: &mut Insert, other_idx: i64) {
    if insert.num == 0 {
        insert.bucket_idx = other_idx;
    } else if insert.bucket_idx + insert.num as i64 != other_idx {
        inserts.push(*insert);
        insert.num = 0;
        insert.bucket_idx = other_idx;
    }
    insert.num += 1;
}

/// `expandIntSpansAndBuckets` / `expandFloatSpansAndBuckets` on absolute counts: the
/// forward inserts (buckets of `b` missing in `a`) and backward inserts (empty buckets of
/// `a` missing in `b`), or `None` when `b` is a counter reset of `a` (a bucket decreased or
/// a non-empty bucket vanished).
pub(crate) fn expand_spans_and_buckets<T: PartialOrd + Copy + Default>(
    a: &[Span],
    b: &[Span],
    a_abs: &[T],
    b_abs: &[T],
) -> Option<(Vec<Insert>, Vec<Insert>)> {
    let mut ai = BucketIter::new(a);
    let mut bi = BucketIter::new(b);
    let (mut a_inserts, mut b_inserts) = (Vec::new(), Vec::new());
    let (mut a_inter, mut b_inter) = (Insert::default(), Insert::default());
    let mut a_idx = ai.next_idx();
    let mut b_idx = bi.next_idx();
    let (mut a_ci, mut b_ci) = (0usize, 0usize);
    let zero = T::default();
    loop {
        match (a_idx, b_idx) {
            (Some(x), Some(y)) => {
                let a_count = *a_abs.get(a_ci)?;
                let b_count = *b_abs.get(b_ci)?;
                if x == y {
                    if a_count > b_count {
                        return None;
                    }
                    if a_inter.num > 0 {
                        a_inserts.push(a_inter);
                        a_inter.num = 0;
                    }
                    a_idx = ai.next_idx();
                    a_inter.pos += 1;
                    a_ci += 1;
                    if b_inter.num > 0 {
                        b_inserts.push(b_inter);
                        b_inter.num = 0;
                    }
                    b_idx = bi.next_idx();
                    b_inter.pos += 1;
                    b_ci += 1;
                } else if x < y {
                    if a_count != zero {
                        return None;
                    }
                    add_insert(&mut b_inserts, &mut b_inter, x);
                    if a_inter.num > 0 {
                        a_inserts.push(a_inter);
                        a_inter.num = 0;
                    }
                    a_idx = ai.next_idx();
                    a_inter.pos += 1;
                    a_ci += 1;
                } else {
                    add_insert(&mut a_inserts, &mut a_inter, y);
                    if b_inter.num > 0 {
                        b_inserts.push(b_inter);
                        b_inter.num = 0;
                    }
                    b_idx = bi.next_idx();
                    b_inter.pos += 1;
                    b_ci += 1;
                }
            }
            (Some(x), None) => {
                if *a_abs.get(a_ci)? != zero {
                    return None;
                }
                add_insert(&mut b_inserts, &mut b_inter, x);
                if a_inter.num > 0 {
                    a_inserts.push(a_inter);
                    a_inter.num = 0;
                }
                a_idx = ai.next_idx();
                a_inter.pos += 1;
                a_ci += 1;
            }
            (None, Some(y)) => {
                add_insert(&mut a_inserts, &mut a_inter, y);
                if b_inter.num > 0 {
                    b_inserts.push(b_inter);
                    b_inter.num = 0;
                }
                b_idx = bi.next_idx();
                b_inter.pos += 1;
                b_ci += 1;
            }
            (None, None) => {
                if a_inter.num > 0 {
                    a_inserts.push(a_inter);
                }
                if b_inter.num > 0 {
                    b_inserts.push(b_inter);
                }
                return Some((a_inserts, b_inserts));
            }
        }
    }
}

fn add_bucket(merged: &mut Vec<Span>, last: &mut i64, b: i64) {
    let mut offset = b - *last - 1;
    if offset == 0 && !merged.is_empty() {
        if let Some(s) = merged.last_mut() {
            s.length += 1;
        }
    } else {
        if merged.is_empty() {
            offset += 1;
        }
        merged.push(Span {
            offset: offset as i32,
            length: 1,
        });
    }
    *last = b;
}

/// `expandSpansBothWays` (gauge histograms): forward and backward inserts and the union of
/// both layouts.
pub(crate) fn expand_spans_both_ways(
    a: &[Span],
    b: &[Span],
) -> (Vec<Insert>, Vec<Insert>, Vec<Span>) {
    let mut ai = BucketIter::new(a);
    let mut bi = BucketIter::new(b);
    let (mut f_inserts, mut b_inserts, mut merged) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = 0i64;
    let (mut f_inter, mut b_inter) = (Insert::default(), Insert::default());
    let mut av = ai.next_idx();
    let mut bv = bi.next_idx();
    loop {
        match (av, bv) {
            (Some(x), Some(y)) => {
                if x == y {
                    if f_inter.num > 0 {
                        f_inserts.push(f_inter);
                        f_inter.num = 0;
                    }
                    if b_inter.num > 0 {
                        b_inserts.push(b_inter);
                        b_inter.num = 0;
                    }
                    add_bucket(&mut merged, &mut last, x);
                    av = ai.next_idx();
                    bv = bi.next_idx();
                    f_inter.pos += 1;
                    b_inter.pos += 1;
                } else if x < y {
                    b_inter.num += 1;
                    if f_inter.num > 0 {
                        f_inserts.push(f_inter);
                        f_inter.num = 0;
                    }
                    add_bucket(&mut merged, &mut last, x);
                    f_inter.pos += 1;
                    av = ai.next_idx();
                } else {
                    f_inter.num += 1;
                    if b_inter.num > 0 {
                        b_inserts.push(b_inter);
                        b_inter.num = 0;
                    }
                    add_bucket(&mut merged, &mut last, y);
                    b_inter.pos += 1;
                    bv = bi.next_idx();
                }
            }
            (Some(x), None) => {
                b_inter.num += 1;
                add_bucket(&mut merged, &mut last, x);
                av = ai.next_idx();
            }
            (None, Some(y)) => {
                f_inter.num += 1;
                add_bucket(&mut merged, &mut last, y);
                bv = bi.next_idx();
            }
            (None, None) => {
                if f_inter.num > 0 {
                    f_inserts.push(f_inter);
                }
                if b_inter.num > 0 {
                    b_inserts.push(b_inter);
                }
                return (f_inserts, b_inserts, merged);
            }
        }
    }
}

/// A bucket count type `insert` works on.
pub(crate) trait BucketValue:
    Copy + Default + std::ops::Add<Output = Self> + std::ops::Neg<Output = Self>
{
}
impl BucketValue for i64 {}
impl BucketValue for f64 {}

/// `insert`: `input` with zero buckets added per `inserts` into a list of `out_len` buckets.
/// With `deltas` the input is delta-encoded, so the inserted buckets keep the later ones'
/// absolute counts.
pub(crate) fn insert<T: BucketValue>(
    input: &[T],
    out_len: usize,
    inserts: &[Insert],
    deltas: bool,
) -> Vec<T> {
    let mut out = vec![T::default(); out_len];
    let mut oi = 0usize;
    let mut v = T::default();
    let mut ii = 0usize;
    let put = |out: &mut Vec<T>, oi: &mut usize, x: T| {
        if let Some(slot) = out.get_mut(*oi) {
            *slot = x;
        }
        *oi += 1;
    };
    for (i, &d) in input.iter().enumerate() {
        if ii >= inserts.len() || i != inserts[ii].pos {
            put(&mut out, &mut oi, d);
            v = v + d;
            continue;
        }
        let mut first = true;
        while ii < inserts.len() && i == inserts[ii].pos {
            if deltas && first {
                put(&mut out, &mut oi, -v);
                first = false;
            } else {
                put(&mut out, &mut oi, T::default());
            }
            for _ in 1..inserts[ii].num {
                put(&mut out, &mut oi, T::default());
            }
            ii += 1;
        }
        if deltas {
            put(&mut out, &mut oi, d + v);
        } else {
            put(&mut out, &mut oi, d);
        }
        v = v + d;
    }
    while ii < inserts.len() {
        if deltas {
            put(&mut out, &mut oi, -v);
        } else {
            put(&mut out, &mut oi, T::default());
        }
        for _ in 1..inserts[ii].num {
            put(&mut out, &mut oi, T::default());
        }
        ii += 1;
        v = T::default();
    }
    out
}

/// `adjustForInserts`: the spans of `spans` with the buckets of `inserts` added.
pub(crate) fn adjust_for_inserts(spans: &[Span], inserts: &[Insert]) -> Vec<Span> {
    if inserts.is_empty() {
        return spans.to_vec();
    }
    let mut it = BucketIter::new(spans);
    let mut merged = Vec::new();
    let mut last = 0i64;
    let mut i = 0usize;
    let mut insert_idx = inserts[0].bucket_idx;
    let mut insert_num = inserts[0].num;
    let consume = |i: &mut usize, idx: &mut i64, num: &mut usize| {
        *num -= 1;
        if *num == 0 {
            *i += 1;
            if let Some(x) = inserts.get(*i) {
                *idx = x.bucket_idx;
                *num = x.num;
            }
        } else {
            *idx += 1;
        }
    };
    let mut bucket = it.next_idx();
    while let Some(b) = bucket {
        if i < inserts.len() && insert_idx < b {
            add_bucket(&mut merged, &mut last, insert_idx);
            consume(&mut i, &mut insert_idx, &mut insert_num);
        } else {
            add_bucket(&mut merged, &mut last, b);
            bucket = it.next_idx();
        }
    }
    while i < inserts.len() {
        add_bucket(&mut merged, &mut last, insert_idx);
        consume(&mut i, &mut insert_idx, &mut insert_num);
    }
    merged
}
