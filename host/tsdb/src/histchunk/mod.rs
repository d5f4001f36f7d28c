//! Native-histogram chunks: a byte-exact port of Prometheus' `tsdb/chunkenc` histogram
//! encodings (`bstream.go`, `varbit.go`, `histogram_meta.go`, `histogram.go`,
//! `float_histogram.go`), so remote read can pass chunks through and sizes compare exactly.
//!
//! Our chunk is one encoding byte ([`ENCODING_HISTOGRAM`] or [`ENCODING_FLOAT_HISTOGRAM`])
//! followed by Prometheus' chunk bytes: a big-endian u16 sample count (so bytes 1..3 are the
//! count, as in every Sightline chunk), the counter-reset header byte, then the bit stream.
//! Dropping byte 0 gives Prometheus' `EncHistogram` / `EncFloatHistogram` chunk.

mod float;
mod int;
mod spans;

pub(crate) use float::{FloatHistAppender, FloatHistIter};
pub(crate) use int::{Appended, HistAppender, HistIter};

use crate::error::{Error, Result};

/// Integer-count native histograms (Prometheus' `EncHistogram` after this byte).
pub(crate) const ENCODING_HISTOGRAM: u8 = 3;
/// Float-count native histograms (Prometheus' `EncFloatHistogram` after this byte).
pub(crate) const ENCODING_FLOAT_HISTOGRAM: u8 = 4;
/// Bytes before the bit stream: our encoding byte, Prometheus' u16 count and flag byte.
pub(crate) const HEADER: usize = 4;
/// Position of the counter-reset header byte.
const FLAG_POS: usize = 3;

/// Prometheus' `CounterResetHeader` (the top two bits of the flag byte).
pub(crate) const COUNTER_RESET: u8 = 0b1000_0000;
pub(crate) const NOT_COUNTER_RESET: u8 = 0b0100_0000;
pub(crate) const GAUGE_TYPE: u8 = 0b1100_0000;
pub(crate) const UNKNOWN_COUNTER_RESET: u8 = 0;
const HEADER_MASK: u8 = 0b1100_0000;

/// Prometheus' `TargetBytesPerHistogramChunk`.
pub(crate) const TARGET_BYTES: usize = 1024;
/// Prometheus' `MinSamplesPerHistogramChunk`.
pub(crate) const MIN_SAMPLES: u16 = 10;

/// A fresh chunk's bytes: encoding, zero count, unknown counter reset.
fn new_chunk(enc: u8) -> Vec<u8> {
    let mut b = Vec::with_capacity(128);
    b.extend_from_slice(&[enc, 0, 0, 0]);
    b
}

pub(crate) fn num_samples(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[1], b[2]])
}

fn set_num_samples(b: &mut [u8], n: u16) {
    b[1..3].copy_from_slice(&n.to_be_bytes());
}

pub(crate) fn counter_reset_header(b: &[u8]) -> u8 {
    b[FLAG_POS] & HEADER_MASK
}

fn set_counter_reset_header(b: &mut [u8], h: u8) {
    b[FLAG_POS] = (b[FLAG_POS] & !HEADER_MASK) | (h & HEADER_MASK);
}

/// Checks the header of a histogram chunk of encoding `enc`.
pub(crate) fn check_header(b: &[u8], enc: u8) -> Result<u16> {
    if b.len() < HEADER || b[0] != enc {
        return Err(Error::Corrupt(
            "histogram chunk shorter than its header".into(),
        ));
    }
    Ok(num_samples(b))
}

/// Prometheus' `bstream` writer: bits MSB first, `free` bits left in the last byte.
#[derive(Debug, Clone)]
pub(crate) struct BStream {
    pub(crate) buf: Vec<u8>,
    free: u8,
}

impl BStream {
    fn new(buf: Vec<u8>) -> Self {
        BStream { buf, free: 0 }
    }

    /// Continues a stream whose last `free` bits (of its last byte) are unwritten.
    fn resumed(buf: Vec<u8>, free: usize) -> Self {
        BStream {
            buf,
            free: free.min(7) as u8,
        }
    }

    fn write_bit(&mut self, bit: bool) {
        if self.free == 0 {
            self.buf.push(0);
            self.free = 8;
        }
        if bit {
            let i = self.buf.len() - 1;
            self.buf[i] |= 1 << (self.free - 1);
        }
        self.free -= 1;
    }

    fn write_byte(&mut self, byt: u8) {
        if self.free == 0 {
            self.buf.push(byt);
            return;
        }
        let i = self.buf.len() - 1;
        self.buf[i] |= byt >> (8 - self.free);
        self.buf.push(byt << self.free);
    }

    /// Writes the low `n` bits of `u` (n ≤ 64), most significant first: the bits Go's
    /// `writeBits` writes, a byte's worth at a time instead of one by one.
    fn write_bits(&mut self, u: u64, n: u32) {
        let mut n = n.min(64);
        while n > 0 {
            if self.free == 0 {
                self.buf.push(0);
                self.free = 8;
            }
            let take = n.min(u32::from(self.free));
            let bits = (u >> (n - take)) & ((1u64 << take) - 1);
            let i = self.buf.len() - 1;
            self.buf[i] |= (bits as u8) << (u32::from(self.free) - take);
            self.free -= take as u8;
            n -= take;
        }
    }
}

/// Prometheus' `bstreamReader`: reads the stream after the header.
#[derive(Debug, Clone)]
pub(crate) struct BReader {
    pos: usize,
    end: usize,
}

impl BReader {
    fn new(total_len: usize) -> Self {
        BReader {
            pos: HEADER * 8,
            end: total_len * 8,
        }
    }

    /// Bits after the read position (after a full read: the unused bits of the last byte).
    fn bits_left(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    fn read_bit(&mut self, b: &[u8]) -> Option<bool> {
        if self.pos >= self.end {
            return None;
        }
        let bit = (b[self.pos / 8] >> (7 - (self.pos % 8))) & 1 == 1;
        self.pos += 1;
        Some(bit)
    }

    fn read_bits(&mut self, b: &[u8], n: u32) -> Option<u64> {
        if n == 0 {
            return Some(0);
        }
        let end = self.pos + n as usize;
        if end > self.end {
            return None;
        }
        let byte = self.pos / 8;
        let off = (self.pos % 8) as u32;
        // Most fields (varbit payloads, prefixes) fit one 8-byte window.
        if off + n <= 64 {
            if let Some(w) = b.get(byte..byte + 8) {
                let mut a = [0u8; 8];
                a.copy_from_slice(w);
                self.pos = end;
                return Some((u64::from_be_bytes(a) << off) >> (64 - n));
            }
        }
        let mut tmp = [0u8; 16];
        let avail = (b.len() - byte).min(16);
        tmp[..avail].copy_from_slice(&b[byte..byte + avail]);
        let w = u128::from_be_bytes(tmp);
        self.pos = end;
        Some(((w << off) >> (128 - n)) as u64)
    }

    fn read_byte(&mut self, b: &[u8]) -> Option<u8> {
        self.read_bits(b, 8).map(|v| v as u8)
    }
}

/// Prometheus' `bitRange`: whether `x` fits the asymmetric `nbits` range.
fn bit_range(x: i64, nbits: u32) -> bool {
    -((1i64 << (nbits - 1)) - 1) <= x && x <= 1i64 << (nbits - 1)
}

/// The varbit buckets: (prefix, prefix bits, payload bits).
const VARBIT: [(u64, u32, u32); 7] = [
    (0b10, 2, 3),
    (0b110, 3, 6),
    (0b1110, 4, 9),
    (0b11110, 5, 12),
    (0b111110, 6, 18),
    (0b1111110, 7, 25),
    (0b11111110, 8, 56),
];

/// `putVarbitInt`.
pub(crate) fn put_varbit_int(b: &mut BStream, v: i64) {
    if v == 0 {
        b.write_bit(false);
        return;
    }
    for (p, pn, n) in VARBIT {
        if bit_range(v, n) {
            b.write_bits(p, pn);
            b.write_bits(v as u64, n);
            return;
        }
    }
    b.write_bits(0xff, 8);
    b.write_bits(v as u64, 64);
}

/// `putVarbitUint`.
pub(crate) fn put_varbit_uint(b: &mut BStream, v: u64) {
    if v == 0 {
        b.write_bit(false);
        return;
    }
    for (p, pn, n) in VARBIT {
        if v.leading_zeros() >= 64 - n {
            b.write_bits(p, pn);
            b.write_bits(v, n);
            return;
        }
    }
    b.write_bits(0xff, 8);
    b.write_bits(v, 64);
}

/// Reads a varbit prefix: the payload size (0 for the value 0, 64 for the 9-byte form). The
/// prefix is up to eight `1` bits ended by a `0` (none after eight): all read in one peek.
fn read_varbit_size(r: &mut BReader, b: &[u8]) -> Option<u32> {
    let avail = r.bits_left().min(8) as u32;
    if avail == 0 {
        return None;
    }
    let save = r.pos;
    let w = (r.read_bits(b, avail)? << (8 - avail)) as u8;
    let ones = (!w).leading_zeros().min(8);
    if ones < 8 && ones >= avail {
        // The terminating zero is past the end.
        return None;
    }
    r.pos = save + (ones + u32::from(ones < 8)) as usize;
    Some(match ones {
        0 => 0,
        1 => 3,
        2 => 6,
        3 => 9,
        4 => 12,
        5 => 18,
        6 => 25,
        7 => 56,
        _ => 64,
    })
}

/// `readVarbitInt`.
pub(crate) fn read_varbit_int(r: &mut BReader, b: &[u8]) -> Option<i64> {
    let sz = read_varbit_size(r, b)?;
    match sz {
        0 => Some(0),
        64 => Some(r.read_bits(b, 64)? as i64),
        _ => {
            let mut bits = r.read_bits(b, sz)?;
            if bits > 1 << (sz - 1) {
                bits = bits.wrapping_sub(1 << sz);
            }
            Some(bits as i64)
        }
    }
}

/// `readVarbitUint`.
pub(crate) fn read_varbit_uint(r: &mut BReader, b: &[u8]) -> Option<u64> {
    let sz = read_varbit_size(r, b)?;
    match sz {
        0 => Some(0),
        _ => r.read_bits(b, sz),
    }
}

/// `xorWrite`: `new` XOR `cur` with the leading/trailing-zero window of Gorilla.
pub(crate) fn xor_write(b: &mut BStream, new: f64, cur: f64, leading: &mut u8, trailing: &mut u8) {
    let delta = new.to_bits() ^ cur.to_bits();
    if delta == 0 {
        b.write_bit(false);
        return;
    }
    b.write_bit(true);
    let mut new_leading = delta.leading_zeros() as u8;
    let new_trailing = delta.trailing_zeros() as u8;
    if new_leading >= 32 {
        new_leading = 31;
    }
    if *leading != 0xff && new_leading >= *leading && new_trailing >= *trailing {
        b.write_bit(false);
        b.write_bits(
            delta >> *trailing,
            64 - u32::from(*leading) - u32::from(*trailing),
        );
        return;
    }
    *leading = new_leading;
    *trailing = new_trailing;
    b.write_bit(true);
    b.write_bits(u64::from(new_leading), 5);
    let sigbits = 64 - u32::from(new_leading) - u32::from(new_trailing);
    b.write_bits(u64::from(sigbits), 6);
    b.write_bits(delta >> new_trailing, sigbits);
}

/// `xorRead`.
pub(crate) fn xor_read(
    r: &mut BReader,
    b: &[u8],
    value: &mut f64,
    leading: &mut u8,
    trailing: &mut u8,
) -> Option<()> {
    if !r.read_bit(b)? {
        return Some(());
    }
    let mbits;
    if !r.read_bit(b)? {
        mbits = 64u32.checked_sub(u32::from(*leading) + u32::from(*trailing))?;
    } else {
        let l = r.read_bits(b, 5)? as u8;
        let mut m = r.read_bits(b, 6)? as u32;
        if m == 0 {
            m = 64;
        }
        let t = 64u32.checked_sub(u32::from(l) + m)?;
        *leading = l;
        *trailing = t as u8;
        mbits = m;
    }
    let bits = r.read_bits(b, mbits)?;
    let shifted = if *trailing >= 64 {
        0
    } else {
        bits << *trailing
    };
    *value = f64::from_bits(value.to_bits() ^ shifted);
    Some(())
}

/// The layout every histogram chunk starts with (`writeHistogramChunkLayout`).
pub(crate) fn write_layout(
    b: &mut BStream,
    schema: i32,
    zero_threshold: f64,
    pos: &[sightline_model::histogram::Span],
    neg: &[sightline_model::histogram::Span],
    custom_values: &[f64],
) {
    put_zero_threshold(b, zero_threshold);
    put_varbit_int(b, i64::from(schema));
    put_layout_spans(b, pos);
    put_layout_spans(b, neg);
    if sightline_model::histogram::is_custom_buckets(schema) {
        put_varbit_uint(b, custom_values.len() as u64);
        for v in custom_values {
            put_custom_bound(b, *v);
        }
    }
}

/// What [`read_layout`] returns.
pub(crate) struct Layout {
    pub(crate) schema: i32,
    pub(crate) zero_threshold: f64,
    pub(crate) pos: Vec<sightline_model::histogram::Span>,
    pub(crate) neg: Vec<sightline_model::histogram::Span>,
    pub(crate) custom_values: std::sync::Arc<[f64]>,
}

/// `readHistogramChunkLayout`, rejecting unknown schemas (`IsKnownSchema`).
pub(crate) fn read_layout(r: &mut BReader, b: &[u8]) -> Option<Layout> {
    let zero_threshold = read_zero_threshold(r, b)?;
    let schema = i32::try_from(read_varbit_int(r, b)?).ok()?;
    let pos = read_layout_spans(r, b)?;
    let neg = read_layout_spans(r, b)?;
    let mut custom = Vec::new();
    if sightline_model::histogram::is_custom_buckets(schema) {
        let n = read_varbit_uint(r, b)?;
        for _ in 0..n {
            custom.push(read_custom_bound(r, b)?);
        }
    } else if !sightline_model::histogram::is_exponential_schema(schema) {
        return None;
    }
    Some(Layout {
        schema,
        zero_threshold,
        pos,
        neg,
        custom_values: custom.into(),
    })
}

fn put_layout_spans(b: &mut BStream, spans: &[sightline_model::histogram::Span]) {
    put_varbit_uint(b, spans.len() as u64);
    for s in spans {
        put_varbit_uint(b, u64::from(s.length));
        put_varbit_int(b, i64::from(s.offset));
    }
}

fn read_layout_spans(r: &mut BReader, b: &[u8]) -> Option<Vec<sightline_model::histogram::Span>> {
    let n = read_varbit_uint(r, b)?;
    let mut out = Vec::new();
    let mut total: u64 = 0;
    for _ in 0..n {
        let length = read_varbit_uint(r, b)? as u32;
        let offset = read_varbit_int(r, b)? as i32;
        // Each bucket costs at least one bit later; more buckets than bits is a corrupt chunk
        // (and would make the decoder allocate without bound).
        total += u64::from(length);
        if total > (r.end as u64) {
            return None;
        }
        out.push(sightline_model::histogram::Span { offset, length });
    }
    Some(out)
}

fn put_zero_threshold(b: &mut BStream, threshold: f64) {
    if threshold == 0.0 {
        b.write_byte(0);
        return;
    }
    let (frac, exp) = frexp(threshold);
    if frac != 0.5 || !(-242..=11).contains(&exp) {
        b.write_byte(255);
        b.write_bits(threshold.to_bits(), 64);
        return;
    }
    b.write_byte((exp + 243) as u8);
}

fn read_zero_threshold(r: &mut BReader, b: &[u8]) -> Option<f64> {
    match r.read_byte(b)? {
        0 => Some(0.0),
        255 => Some(f64::from_bits(r.read_bits(b, 64)?)),
        x => Some(0.5 * 2f64.powi(i32::from(x) - 243)),
    }
}

/// Go's `math.Frexp` for finite non-zero values: `f = frac × 2^exp`, `0.5 ≤ |frac| < 1`.
fn frexp(f: f64) -> (f64, i32) {
    if f == 0.0 || !f.is_finite() {
        return (f, 0);
    }
    let (mut f, mut exp) = (f, 0i32);
    if f.abs() < f64::MIN_POSITIVE {
        f *= (1u64 << 52) as f64;
        exp = -52;
    }
    let bits = f.to_bits();
    exp += ((bits >> 52) & 0x7ff) as i32 - 1022;
    let frac = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (frac, exp)
}

fn put_custom_bound(b: &mut BStream, f: f64) {
    let tf = f * 1000.0;
    let whole = {
        // Go: uint(math.Round(in*1000)); a negative float converts to a huge uint.
        let r = (f * 1000.0).round();
        let i = if r < 0.0 { u64::MAX } else { r as u64 };
        (i as f64) / 1000.0 == f
    };
    if !(0.0..=33_554_430.0).contains(&tf) || !whole {
        b.write_bit(false);
        b.write_bits(f.to_bits(), 64);
        return;
    }
    put_varbit_uint(b, tf.round() as u64 + 1);
}

fn read_custom_bound(r: &mut BReader, b: &[u8]) -> Option<f64> {
    match read_varbit_uint(r, b)? {
        0 => Some(f64::from_bits(r.read_bits(b, 64)?)),
        x => Some((x - 1) as f64 / 1000.0),
    }
}

/// Prometheus' `counterResetHint(crh, numRead)`: what a read sample's hint is.
pub(crate) fn read_hint(header: u8, num_read: u16) -> sightline_model::histogram::CounterResetHint {
    use sightline_model::histogram::CounterResetHint;
    if header == GAUGE_TYPE {
        CounterResetHint::Gauge
    } else if num_read > 1 {
        CounterResetHint::NotCounterReset
    } else {
        CounterResetHint::Unknown
    }
}

/// Number of buckets the spans describe.
pub(crate) fn count_spans(spans: &[sightline_model::histogram::Span]) -> usize {
    spans.iter().map(|s| s.length as usize).sum()
}

#[cfg(test)]
mod tests;
