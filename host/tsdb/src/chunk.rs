//! Compressed sample chunks: Gorilla-style delta-of-delta timestamps and XOR-ed floats.
//!
//! A chunk is a byte string. Byte 0 is the encoding ([`ENCODING_XOR`]); bytes 1..3 are the
//! sample count (big-endian u16); the rest is a bit stream, most significant bit first:
//!
//! - sample 0: the timestamp as a zigzag varint (byte-wise, through the bit writer), then the
//!   value's 64 raw bits;
//! - sample n > 0: the delta-of-delta of the timestamp (wrapping i64 arithmetic, previous delta
//!   0 for sample 1) in one of five buckets: `0` (dod = 0), `10` + 7 bits, `110` + 14 bits,
//!   `1110` + 20 bits, `1111` + 64 bits (smaller first buckets than Prometheus' 14/17/20 so
//!   the few milliseconds of scrape jitter cost 9 bits, not 16); then the value XOR-ed with
//!   the previous one: `0`
//!   (same bits), `10` + the meaningful bits inside the previous leading/trailing window, or
//!   `11` + 5 bits of leading zeros + 6 bits of meaningful-bit count (64 stored as 0) + bits.
//!
//! Values are compared and stored as raw bits, so every NaN payload (in particular the stale
//! marker) and `-0.0` round-trip exactly. A later encoding byte (e.g. native histograms) gets
//! its own appender and iterator; readers reject encodings they do not know.

use std::sync::Arc;

use sightline_model::{Sample, TimestampMs};

use crate::error::{Error, Result};

/// The float XOR encoding, version 1.
pub(crate) const ENCODING_XOR: u8 = 1;
/// Header size: encoding byte plus u16 sample count.
const HEADER: usize = 3;
/// Maximum samples in one chunk (the u16 count bounds it anyway).
pub(crate) const MAX_SAMPLES: u16 = 120;

/// Writes bits MSB first into a byte vector.
#[derive(Debug, Clone, Default)]
struct BitWriter {
    /// Number of bits still free in the last byte (0 means "start a new byte").
    free: u8,
}

impl BitWriter {
    fn write_bit(&mut self, buf: &mut Vec<u8>, bit: bool) {
        if self.free == 0 {
            buf.push(0);
            self.free = 8;
        }
        if bit {
            let last = buf.len() - 1;
            buf[last] |= 1 << (self.free - 1);
        }
        self.free -= 1;
    }

    /// Writes the low `n` bits of `v` (n <= 64), most significant first.
    fn write_bits(&mut self, buf: &mut Vec<u8>, v: u64, n: u8) {
        if n == 0 {
            return;
        }
        let v = if n == 64 { v } else { v & ((1u64 << n) - 1) };
        if n <= self.free {
            // Fits in the partly filled last byte.
            let last = buf.len() - 1;
            buf[last] |= (v << (self.free - n)) as u8;
            self.free -= n;
            return;
        }
        // Left-align the bits in a 128-bit word, fill the last byte, then append bytes.
        let mut w = u128::from(v) << (128 - u32::from(n));
        let mut rem = n;
        if self.free > 0 {
            let last = buf.len() - 1;
            buf[last] |= (w >> (128 - u32::from(self.free))) as u8;
            w <<= u32::from(self.free);
            rem -= self.free;
        }
        let whole = usize::from(rem / 8);
        let part = rem % 8;
        let bytes = w.to_be_bytes();
        buf.extend_from_slice(&bytes[..whole + usize::from(part > 0)]);
        self.free = if part > 0 { 8 - part } else { 0 };
    }
}

impl BitWriter {
    /// Writes `z` as a LEB128 varint, a byte at a time, into the bit stream.
    fn write_varint(&mut self, buf: &mut Vec<u8>, mut z: u64) {
        loop {
            let byte = (z & 0x7f) as u8;
            z >>= 7;
            if z == 0 {
                self.write_bits(buf, u64::from(byte), 8);
                return;
            }
            self.write_bits(buf, u64::from(byte | 0x80), 8);
        }
    }
}

/// Reads bits MSB first.
#[derive(Debug, Clone)]
struct BitReader {
    pos_bits: usize,
}

impl BitReader {
    #[inline(always)]
    fn read_bit(&mut self, buf: &[u8]) -> Option<bool> {
        let byte = *buf.get(self.pos_bits / 8)?;
        let bit = (byte >> (7 - (self.pos_bits % 8))) & 1 == 1;
        self.pos_bits += 1;
        Some(bit)
    }

    /// Reads `n <= 64` bits: through one 8-byte big-endian window when they fit in it (most
    /// reads are a few bits), else through a 16-byte one.
    #[inline(always)]
    fn read_bits(&mut self, buf: &[u8], n: u8) -> Option<u64> {
        if n == 0 {
            return Some(0);
        }
        let end = self.pos_bits + n as usize;
        if end > buf.len() * 8 {
            return None;
        }
        let byte = self.pos_bits / 8;
        let off = (self.pos_bits % 8) as u32;
        self.pos_bits = end;
        // Whole windows are one unaligned load; only the chunk's last bytes need the padded
        // copy (a copy of variable length is a call to memmove: 6 % of a heavy range query's
        // CPU when it ran on every read).
        if u32::from(n) + off <= 64 {
            if let Some(b) = buf.get(byte..byte + 8) {
                let w = u64::from_be_bytes(b.try_into().unwrap_or([0; 8]));
                return Some((w << off) >> (64 - u32::from(n)));
            }
        }
        let w = match buf.get(byte..byte + 16) {
            Some(b) => u128::from_be_bytes(b.try_into().unwrap_or([0; 16])),
            None => tail_window(&buf[byte..]),
        };
        Some(((w << off) >> (128 - u32::from(n))) as u64)
    }

    /// Reads a LEB128 varint written by [`BitWriter::write_varint`].
    fn read_varint(&mut self, buf: &[u8]) -> Option<u64> {
        let mut z: u64 = 0;
        let mut shift = 0u32;
        loop {
            let byte = self.read_bits(buf, 8)? as u8;
            if shift >= 64 {
                return None;
            }
            z |= u64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                return Some(z);
            }
        }
    }
}

/// The last (fewer than 16) bytes of a chunk as a big-endian window, zero-padded.
#[cold]
#[inline(never)]
fn tail_window(rest: &[u8]) -> u128 {
    let mut tmp = [0u8; 16];
    let n = rest.len().min(16);
    tmp[..n].copy_from_slice(&rest[..n]);
    u128::from_be_bytes(tmp)
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// The value of a `bits`-bit delta-of-delta bucket. The writer's range is Prometheus'
/// asymmetric `-(2^(bits-1) - 1) ..= 2^(bits-1)` (see [`fits`]), so, as in Prometheus, a
/// field above `2^(bits-1)` is negative and `2^(bits-1)` itself is positive. (Plain sign
/// extension read that one value as `-2^(bits-1)`: a delta-of-delta of exactly +64 ms came
/// back as -64 ms. Found by the chunk fuzzer; every chunk ever written decodes right with
/// this rule, since the writer never stores `-2^(bits-1)` in that bucket.)
fn bucket_value(v: u64, bits: u8) -> i64 {
    if v > 1 << (bits - 1) {
        v as i64 - (1i64 << bits)
    } else {
        v as i64
    }
}

fn fits(v: i64, bits: u8) -> bool {
    let lim = 1i64 << (bits - 1);
    // Prometheus' bucket test: -(2^(n-1)-1) <= v <= 2^(n-1).
    v >= -(lim - 1) && v <= lim
}

/// Incremental XOR chunk encoder. The bytes live in `buf`; the rest is the state needed to
/// append the next sample.
///
/// `buf` always extends at least [`PAD`] zeroed bytes past the last written bit, so a write
/// of up to 57 bits is one 64-bit read-modify-write, and one sample's fields are gathered
/// into as few such writes as fit (usually one). Bit-at-a-time writes were ≈ 10 % of ingest
/// CPU. The encoding is byte-for-byte the one [`BitWriter`] produces (tested against it).
#[derive(Debug, Clone)]
pub(crate) struct XorAppender {
    buf: Vec<u8>,
    /// Bits written, header included.
    bits: usize,
    count: u16,
    first_t: TimestampMs,
    t: TimestampMs,
    delta: i64,
    v_bits: u64,
    leading: u8,
    trailing: u8,
}

/// Zeroed bytes kept past the written bits.
const PAD: usize = 8;

/// Bits gathered for one [`XorAppender::put`]: at most 57, so that with up to 7 bits already
/// used in the current byte they fit one 64-bit word.
#[derive(Default)]
struct Gather {
    v: u64,
    n: u32,
}

impl Default for XorAppender {
    fn default() -> Self {
        XorAppender::new()
    }
}

impl XorAppender {
    /// An empty chunk.
    pub(crate) fn new() -> Self {
        let mut buf = vec![0; 32];
        buf[0] = ENCODING_XOR;
        XorAppender {
            buf,
            bits: 24,
            count: 0,
            first_t: 0,
            t: 0,
            delta: 0,
            v_bits: 0,
            leading: 0xff,
            trailing: 0,
        }
    }

    /// Rebuilds an appender that continues `chunk` (used when a persisted open chunk is reloaded).
    pub(crate) fn from_chunk(chunk: &[u8]) -> Result<Self> {
        XorAppender::resume(chunk.to_vec())
    }

    /// Continues the chunk in `bytes` without re-encoding it: one decoding pass recovers the
    /// encoder state (last timestamp, delta, value, XOR window, bit position).
    pub(crate) fn resume(bytes: Vec<u8>) -> Result<Self> {
        let mut it = ChunkIter::new(&bytes[..])?;
        let mut first_t = 0;
        while let Some(s) = it.next_sample() {
            if it.read == 1 {
                first_t = s.t;
            }
        }
        if let Some(e) = it.error() {
            return Err(e);
        }
        if it.read == 0 {
            return Ok(XorAppender::new());
        }
        let pos = it.br.pos_bits;
        let (count, t, delta, v_bits) = (it.read, it.t, it.delta, it.v_bits);
        let (leading, trailing) = if it.window {
            (it.leading, it.trailing)
        } else {
            (0xff, 0)
        };
        let mut buf = bytes;
        buf.truncate(pos.div_ceil(8));
        // Writes OR bits in: whatever follows the last sample in its byte must be zero.
        if pos % 8 != 0 {
            if let Some(last) = buf.last_mut() {
                *last &= !(0xffu8 >> (pos % 8));
            }
        }
        buf.resize(buf.len() + PAD, 0);
        Ok(XorAppender {
            buf,
            bits: pos,
            count,
            first_t,
            t,
            delta,
            v_bits,
            leading,
            trailing,
        })
    }

    pub(crate) fn len(&self) -> u16 {
        self.count
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub(crate) fn min_t(&self) -> TimestampMs {
        self.first_t
    }

    pub(crate) fn max_t(&self) -> TimestampMs {
        self.t
    }

    /// The encoded bytes so far (a complete, readable chunk).
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf[..self.bits.div_ceil(8)]
    }

    /// Heap bytes held by this appender.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Releases the padding and spare capacity (called when a chunk is closed).
    pub(crate) fn into_bytes(mut self) -> Vec<u8> {
        self.buf.truncate(self.bits.div_ceil(8));
        self.buf.shrink_to_fit();
        self.buf
    }

    /// Asks the CPU to bring the bytes the next append writes into cache. The appender calls
    /// this when it checks a sample's order, so by the time the commit appends (after the
    /// WAL write) the line is there: the write to a cold chunk tail was ≈ 90 % of append's
    /// cost in the ingest profile (one heap buffer per series, touched once a scrape).
    #[inline]
    pub(crate) fn prefetch_tail(&self) {
        #[cfg(target_arch = "x86_64")]
        {
            let p = self.buf.as_ptr().wrapping_add(self.bits >> 3);
            // SAFETY: a prefetch is only a hint: it never faults and reads nothing the
            // program sees, whatever the address (and this one is inside `buf`).
            #[allow(unsafe_code)]
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
            }
        }
    }

    /// Writes the low `n` bits of `v` (n <= 57, the rest of `v` zero) at the bit position.
    #[inline]
    fn put(&mut self, v: u64, n: u32) {
        if n == 0 {
            return;
        }
        let byte = self.bits >> 3;
        let off = (self.bits & 7) as u32;
        if self.buf.len() < byte + PAD {
            // Doubling, as `Vec::push` would.
            let len = (byte + PAD).max(self.buf.len() * 2);
            self.buf.resize(len, 0);
        }
        let word = &mut self.buf[byte..byte + PAD];
        let mut w = [0u8; PAD];
        w.copy_from_slice(word);
        let w = u64::from_be_bytes(w) | (v << (64 - off - n));
        word.copy_from_slice(&w.to_be_bytes());
        self.bits += n as usize;
    }

    /// Adds the low `n` bits of `v` (n <= 64) to `g`, writing `g` out first when they would
    /// not fit.
    #[inline]
    fn gather(&mut self, g: &mut Gather, v: u64, n: u32) {
        if n > 32 {
            self.gather32(g, v >> 32, n - 32);
            self.gather32(g, v, 32);
        } else {
            self.gather32(g, v, n);
        }
    }

    #[inline]
    fn gather32(&mut self, g: &mut Gather, v: u64, n: u32) {
        if n == 0 {
            return;
        }
        let v = v & (u64::MAX >> (64 - n));
        if g.n + n > 57 {
            self.put(g.v, g.n);
            *g = Gather::default();
        }
        g.v = (g.v << n) | v;
        g.n += n;
    }

    /// Appends one sample. The caller enforces ordering; the encoding itself round-trips any
    /// sequence of timestamps (wrapping arithmetic) up to `u16::MAX` samples.
    pub(crate) fn append(&mut self, t: TimestampMs, v: f64) {
        let vb = v.to_bits();
        let mut g = Gather::default();
        if self.count == 0 {
            // Once a chunk: the first timestamp as a zigzag varint, each byte as 8 bits.
            let mut varint = Vec::with_capacity(10);
            crate::enc::put_varint(&mut varint, t);
            for b in varint {
                self.gather(&mut g, u64::from(b), 8);
            }
            self.gather(&mut g, vb, 64);
            self.first_t = t;
            self.delta = 0;
        } else {
            let delta = t.wrapping_sub(self.t);
            let dod = delta.wrapping_sub(self.delta);
            let d = dod as u64;
            if dod == 0 {
                self.gather(&mut g, 0, 1);
            } else if fits(dod, 7) {
                self.gather(&mut g, (0b10 << 7) | (d & 0x7f), 9);
            } else if fits(dod, 14) {
                self.gather(&mut g, (0b110 << 14) | (d & 0x3fff), 17);
            } else if fits(dod, 20) {
                self.gather(&mut g, (0b1110 << 20) | (d & 0xf_ffff), 24);
            } else {
                self.gather(&mut g, 0b1111, 4);
                self.gather(&mut g, d, 64);
            }
            self.delta = delta;
            let x = vb ^ self.v_bits;
            if x == 0 {
                self.gather(&mut g, 0, 1);
            } else {
                let leading = (x.leading_zeros() as u8).min(31);
                let trailing = x.trailing_zeros() as u8;
                if self.leading != 0xff && leading >= self.leading && trailing >= self.trailing {
                    self.gather(&mut g, 0b10, 2);
                    let sig = 64 - self.leading - self.trailing;
                    self.gather(&mut g, x >> self.trailing, u32::from(sig));
                } else {
                    self.leading = leading;
                    self.trailing = trailing;
                    let sig = 64 - leading - trailing;
                    // Control bits, leading zeros (5 bits), meaningful bits (6 bits; 0
                    // stands for 64, which does not fit).
                    let head = (0b11 << 11) | (u64::from(leading) << 6) | u64::from(sig & 63);
                    self.gather(&mut g, head, 13);
                    self.gather(&mut g, x >> trailing, u32::from(sig));
                }
            }
        }
        self.put(g.v, g.n);
        self.t = t;
        self.v_bits = vb;
        self.count += 1;
        let c = self.count.to_be_bytes();
        self.buf[1] = c[0];
        self.buf[2] = c[1];
    }
}

/// Reads the sample count and validates the encoding byte.
pub(crate) fn chunk_len(chunk: &[u8]) -> Result<u16> {
    match chunk {
        [ENCODING_XOR, a, b, ..] => Ok(u16::from_be_bytes([*a, *b])),
        [ENCODING_DECIMAL, a, b, _, _, _, ..] => Ok(u16::from_be_bytes([*a, *b])),
        [crate::histchunk::ENCODING_HISTOGRAM | crate::histchunk::ENCODING_FLOAT_HISTOGRAM, a, b, _, ..] => {
            Ok(u16::from_be_bytes([*a, *b]))
        }
        [enc, _, _, ..] => Err(Error::Corrupt(format!("unknown chunk encoding {enc}"))),
        _ => Err(Error::Corrupt("chunk shorter than its header".into())),
    }
}

/// Iterates a chunk's samples. Owns its bytes so query results can outlive locks.
#[derive(Debug, Clone)]
pub(crate) struct ChunkIter<B: AsRef<[u8]>> {
    data: B,
    br: BitReader,
    /// Samples in the chunk (cut to those read when decoding fails).
    len: u16,
    /// Samples returned so far. (One counter a sample: `remaining` beside `read` was updated
    /// as one 8-byte load and a 4-byte store, and the next sample's load could not be served
    /// from that store: a quarter of the decoder's samples in a profile sat on it.)
    read: u16,
    t: TimestampMs,
    delta: i64,
    v_bits: u64,
    leading: u8,
    trailing: u8,
    err: Option<String>,
    /// Whether a leading/trailing window was read (the encoder's "no window yet" state).
    window: bool,
    /// Column readers of a decimal chunk (`None` for XOR chunks).
    dec: Option<DecimalState>,
}

impl<B: AsRef<[u8]>> ChunkIter<B> {
    pub(crate) fn new(data: B) -> Result<Self> {
        let len = chunk_len(data.as_ref())?;
        let dec = match data.as_ref() {
            [ENCODING_DECIMAL, _, _, k, o1, o2, ..] => {
                let Some(&scale) = POW10.get(usize::from(*k)) else {
                    return Err(Error::Corrupt(format!("decimal chunk with scale {k}")));
                };
                let values_at = DECIMAL_HEADER * 8 + usize::from(u16::from_be_bytes([*o1, *o2]));
                Some(DecimalState {
                    times: ColumnReader::new(DECIMAL_HEADER * 8),
                    values: ColumnReader::new(values_at),
                    scale,
                })
            }
            _ => None,
        };
        Ok(ChunkIter {
            data,
            dec,
            br: BitReader {
                pos_bits: HEADER * 8,
            },
            len,
            read: 0,
            t: 0,
            delta: 0,
            v_bits: 0,
            leading: 0,
            trailing: 0,
            err: None,
            window: false,
        })
    }

    /// A decoding error met so far (a truncated or corrupt chunk ends iteration early).
    pub(crate) fn error(&self) -> Option<Error> {
        self.err.as_ref().map(|e| Error::Corrupt(e.clone()))
    }

    fn decode_next(&mut self) -> Option<Sample> {
        let buf = self.data.as_ref();
        if let Some(d) = &mut self.dec {
            let t = d.times.next(buf, self.read)?;
            let n = d.values.next(buf, self.read)?;
            self.t = t;
            return Some(Sample {
                t,
                v: unscale(n, d.scale),
            });
        }
        let br = &mut self.br;
        if self.read == 0 {
            self.t = unzigzag(br.read_varint(buf)?);
            self.v_bits = br.read_bits(buf, 64)?;
        } else {
            let mut prefix = 0u8;
            while prefix < 4 {
                if !br.read_bit(buf)? {
                    break;
                }
                prefix += 1;
            }
            let dod = match prefix {
                0 => 0,
                1 => bucket_value(br.read_bits(buf, 7)?, 7),
                2 => bucket_value(br.read_bits(buf, 14)?, 14),
                3 => bucket_value(br.read_bits(buf, 20)?, 20),
                _ => br.read_bits(buf, 64)? as i64,
            };
            self.delta = self.delta.wrapping_add(dod);
            self.t = self.t.wrapping_add(self.delta);
            if br.read_bit(buf)? {
                if br.read_bit(buf)? {
                    self.window = true;
                    self.leading = br.read_bits(buf, 5)? as u8;
                    let mut sig = br.read_bits(buf, 6)? as u8;
                    if sig == 0 {
                        sig = 64;
                    }
                    if self.leading + sig > 64 {
                        return None;
                    }
                    self.trailing = 64 - self.leading - sig;
                }
                let sig = 64 - self.leading - self.trailing;
                let bits = br.read_bits(buf, sig)?;
                self.v_bits ^= if self.trailing >= 64 {
                    0
                } else {
                    bits << self.trailing
                };
            }
        }
        Some(Sample {
            t: self.t,
            v: f64::from_bits(self.v_bits),
        })
    }

    pub(crate) fn next_sample(&mut self) -> Option<Sample> {
        // A decoding error cuts `len` to `read`, so this is also the check for one.
        if self.read >= self.len {
            return None;
        }
        match self.decode_next() {
            Some(s) => {
                self.read += 1;
                Some(s)
            }
            None => {
                self.err = Some(format!("chunk truncated after {} samples", self.read));
                self.len = self.read;
                None
            }
        }
    }

    /// Advances to the first sample with `t >= min_t`.
    #[cfg(test)]
    pub(crate) fn seek(&mut self, min_t: TimestampMs) -> Option<Sample> {
        loop {
            let s = self.next_sample()?;
            if s.t >= min_t {
                return Some(s);
            }
        }
    }
}

// ---- Decimal chunks (encoding 2) ----
//
// Most stored values are integers (counters, bucket counts, byte gauges) or decimals with a
// few digits (`_sum`s, seconds, ratios printed by exporters). Such a chunk is stored as two
// integer columns, timestamps and `value × 10^k`, each in the smaller of a delta-of-delta
// and a frame-of-reference code; a steady counter then costs a few bits a sample where XOR needs 15–30. A chunk qualifies
// only if every value round-trips bit for bit (`n as f64 / 10^k == v`), so NaN, ±Inf, -0.0
// and values beyond 2^53 keep the XOR encoding. Head chunks are always XOR (they grow by
// appends); finished chunks are re-encoded when they are persisted.

/// A finished chunk with its first and last timestamp: `(min_t, max_t, bytes)`.
pub(crate) type ChunkTuple = (TimestampMs, TimestampMs, Arc<[u8]>);

/// Decimal-scaled integer columns, version 1.
pub(crate) const ENCODING_DECIMAL: u8 = 2;
/// Encoding, count (u16), scale exponent k, bit offset of the value column (u16).
const DECIMAL_HEADER: usize = 6;
/// Largest scale exponent tried.
const MAX_SCALE: usize = 12;
/// Exact powers of ten (all below 2^53).
const POW10: [f64; MAX_SCALE + 1] = [
    1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
];
/// Integers up to 2^53 are exact in an f64.
const EXACT_INT: f64 = 9_007_199_254_740_992.0;

/// The integer `n` with `n / 10^k == v` bit for bit, if there is one within 2^53.
fn scaled(v: f64, k: usize) -> Option<i64> {
    let s = v * POW10[k];
    if !s.is_finite() || s.abs() > EXACT_INT {
        return None;
    }
    let n = s.round() as i64;
    // Exactly what the reader computes (so -0.0, whose integer is 0, does not qualify).
    (unscale(n, POW10[k]).to_bits() == v.to_bits()).then_some(n)
}

/// `n / scale` as decimal chunks store it (`scale` a power of ten; 1 is exact).
fn unscale(n: i64, scale: f64) -> f64 {
    if scale == 1.0 {
        n as f64
    } else {
        n as f64 / scale
    }
}

/// Writes an integer column: the first item as a zigzag varint, then (from two items on) one
/// mode bit and the rest of the items in that mode, whichever is smaller:
///
/// - `0`, delta-of-delta: the first delta as a zigzag varint, then 6 bits (`w` − 1) and for
///   each further item its delta-of-delta (wrapping) as `0` (zero), `10` + `w` bits of
///   zigzag(dod), or `11` + 6 bits (length − 1) + that many bits of zigzag(dod);
/// - `1`, frame of reference: the smallest delta as a zigzag varint, 7 bits `w` (0..=64),
///   then every delta minus the smallest in `w` bits (a fixed interval costs nothing).
fn write_column(bw: &mut BitWriter, buf: &mut Vec<u8>, xs: &[i64]) {
    let Some(&x0) = xs.first() else {
        return;
    };
    bw.write_varint(buf, zigzag(x0));
    if xs.len() < 2 {
        return;
    }
    let deltas: Vec<i64> = xs.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
    let min = deltas.iter().copied().min().unwrap_or(0);
    let for_width = deltas
        .iter()
        .map(|d| 64 - (d.wrapping_sub(min) as u64).leading_zeros())
        .max()
        .unwrap_or(0) as u8;
    let for_cost = u64::from(for_width) * deltas.len() as u64;
    let dods: Vec<u64> = deltas
        .windows(2)
        .map(|w| zigzag(w[1].wrapping_sub(w[0])))
        .collect();
    // counts[b]: dods needing exactly b bits (b = 0 for zero).
    let mut counts = [0u64; 65];
    for &z in &dods {
        counts[(64 - z.leading_zeros()) as usize] += 1;
    }
    // cost(w) = zeros + (dods of ≤ w bits) × (2 + w) + Σ over longer ones of (8 + bits);
    // only widths that occur can be best. One pass from the top keeps the running sums.
    let mut best = (u64::MAX, 1u8);
    let (mut longer_cost, mut at_most) = (0u64, dods.len() as u64 - counts[0]);
    for w in (1..=64u64).rev() {
        let n = counts[w as usize];
        if n > 0 {
            let cost = counts[0] + at_most * (2 + w) + longer_cost;
            if cost <= best.0 {
                best = (cost, w as u8);
            }
        }
        at_most -= n;
        longer_cost += n * (8 + w);
    }
    if best.0 == u64::MAX {
        best = (counts[0], 1);
    }
    let dod_cost = best.0 + 6 + varint_bits(zigzag(deltas[0]));
    if for_cost + 7 + varint_bits(zigzag(min)) <= dod_cost {
        bw.write_bit(buf, true);
        bw.write_varint(buf, zigzag(min));
        bw.write_bits(buf, u64::from(for_width), 7);
        for d in deltas {
            bw.write_bits(buf, d.wrapping_sub(min) as u64, for_width);
        }
        return;
    }
    bw.write_bit(buf, false);
    bw.write_varint(buf, zigzag(deltas[0]));
    let w = best.1;
    bw.write_bits(buf, u64::from(w - 1), 6);
    for z in dods {
        let b = (64 - z.leading_zeros()) as u8;
        if b == 0 {
            bw.write_bit(buf, false);
        } else if b <= w {
            bw.write_bits(buf, 0b10, 2);
            bw.write_bits(buf, z, w);
        } else {
            bw.write_bits(buf, 0b11, 2);
            bw.write_bits(buf, u64::from(b - 1), 6);
            bw.write_bits(buf, z, b);
        }
    }
}

/// Bits a LEB128 varint of `z` takes.
fn varint_bits(z: u64) -> u64 {
    let significant = u64::from(64 - z.leading_zeros()).max(1);
    significant.div_ceil(7) * 8
}

/// Reads a column written by [`write_column`] one item at a time.
#[derive(Debug, Clone)]
struct ColumnReader {
    br: BitReader,
    /// Frame-of-reference mode (else delta-of-delta).
    frame: bool,
    width: u8,
    x: i64,
    /// The previous delta (delta-of-delta mode) or the smallest delta (frame mode).
    delta: i64,
}

impl ColumnReader {
    fn new(pos_bits: usize) -> Self {
        ColumnReader {
            br: BitReader { pos_bits },
            frame: false,
            width: 0,
            x: 0,
            delta: 0,
        }
    }

    /// Item number `index` (items are read in order).
    fn next(&mut self, buf: &[u8], index: u16) -> Option<i64> {
        let br = &mut self.br;
        if index == 0 {
            self.x = unzigzag(br.read_varint(buf)?);
            return Some(self.x);
        }
        if index == 1 {
            self.frame = br.read_bit(buf)?;
            self.delta = unzigzag(br.read_varint(buf)?);
            if self.frame {
                self.width = br.read_bits(buf, 7)? as u8;
                if self.width > 64 {
                    return None;
                }
            } else {
                self.x = self.x.wrapping_add(self.delta);
                return Some(self.x);
            }
        }
        if self.frame {
            let d = self
                .delta
                .wrapping_add(br.read_bits(buf, self.width)? as i64);
            self.x = self.x.wrapping_add(d);
            return Some(self.x);
        }
        if index == 2 {
            self.width = br.read_bits(buf, 6)? as u8 + 1;
        }
        let z = if !br.read_bit(buf)? {
            0
        } else if !br.read_bit(buf)? {
            br.read_bits(buf, self.width)?
        } else {
            let b = br.read_bits(buf, 6)? as u8 + 1;
            br.read_bits(buf, b)?
        };
        self.delta = self.delta.wrapping_add(unzigzag(z));
        self.x = self.x.wrapping_add(self.delta);
        Some(self.x)
    }
}

/// Decoding state of a decimal chunk.
#[derive(Debug, Clone)]
struct DecimalState {
    times: ColumnReader,
    values: ColumnReader,
    scale: f64,
}

/// Encodes samples as a decimal chunk, if every value is exactly a decimal of at most
/// [`MAX_SCALE`] digits within ±2^53 (and there are at most [`MAX_SAMPLES`] samples).
fn encode_decimal(samples: &[Sample]) -> Option<Vec<u8>> {
    if samples.is_empty() || samples.len() > usize::from(MAX_SAMPLES) {
        return None;
    }
    // The smallest k that every value needs; then every value must round-trip at that k.
    let mut k = 0;
    for s in samples {
        while scaled(s.v, k).is_none() {
            k += 1;
            if k > MAX_SCALE {
                return None;
            }
        }
    }
    let mut ns = Vec::with_capacity(samples.len());
    for s in samples {
        ns.push(scaled(s.v, k)?);
    }
    let ts: Vec<i64> = samples.iter().map(|s| s.t).collect();
    let mut buf = Vec::with_capacity(16 + samples.len());
    let count = (samples.len() as u16).to_be_bytes();
    buf.extend_from_slice(&[ENCODING_DECIMAL, count[0], count[1], k as u8, 0, 0]);
    let mut bw = BitWriter::default();
    write_column(&mut bw, &mut buf, &ts);
    // The value column starts on a fresh byte so its offset fits a u16 of bits.
    let off = u16::try_from((buf.len() - DECIMAL_HEADER) * 8).ok()?;
    buf[4..6].copy_from_slice(&off.to_be_bytes());
    let mut bw = BitWriter::default();
    write_column(&mut bw, &mut buf, &ns);
    Some(buf)
}

/// Encodes samples (sorted by time, at most [`MAX_SAMPLES`]) in the smaller of the XOR
/// and decimal encodings.
pub(crate) fn encode_best(samples: &[Sample]) -> Vec<u8> {
    let mut a = XorAppender::new();
    for s in samples {
        a.append(s.t, s.v);
    }
    let xor = a.into_bytes();
    match encode_decimal(samples) {
        Some(d) if d.len() < xor.len() => d,
        _ => xor,
    }
}

/// Re-encodes a finished chunk in its smallest encoding (returns it unchanged if that is
/// already the one, or if it does not decode).
pub(crate) fn compact(chunk: Arc<[u8]>) -> Arc<[u8]> {
    if chunk.first() != Some(&ENCODING_XOR) {
        return chunk;
    }
    let Ok(samples) = decode_all(&chunk) else {
        return chunk;
    };
    match encode_decimal(&samples) {
        Some(d) if d.len() < chunk.len() => Arc::from(d),
        _ => chunk,
    }
}

/// Encodes samples (sorted by time) into chunks of at most [`MAX_SAMPLES`], each in its
/// smallest encoding, with their time bounds (for persisted data; the head keeps XOR).
pub(crate) fn encode_chunks_best(samples: &[Sample]) -> Vec<ChunkTuple> {
    samples
        .chunks(MAX_SAMPLES as usize)
        .filter_map(|c| {
            let (first, last) = (c.first()?, c.last()?);
            Some((first.t, last.t, Arc::from(encode_best(c))))
        })
        .collect()
}

/// Decodes a whole chunk.
pub(crate) fn decode_all(chunk: &[u8]) -> Result<Vec<Sample>> {
    let mut it = ChunkIter::new(chunk)?;
    let mut out = Vec::with_capacity(usize::from(it.len));
    while let Some(s) = it.next_sample() {
        out.push(s);
    }
    match it.error() {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Encodes samples (sorted by time) into chunks of at most [`MAX_SAMPLES`].
pub(crate) fn encode_chunks(samples: &[Sample]) -> Vec<Vec<u8>> {
    samples
        .chunks(MAX_SAMPLES as usize)
        .map(|c| {
            let mut a = XorAppender::new();
            for s in c {
                a.append(s.t, s.v);
            }
            a.into_bytes()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_model::{stale_nan, STALE_NAN_BITS};

    /// Every width at every bit position of buffers of every length up to 24 bytes, against a
    /// bit-at-a-time reading: the 8-byte window, the 16-byte one and the padded tail agree.
    #[test]
    fn read_bits_matches_reading_bit_by_bit() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let bytes: Vec<u8> = (0..24)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for len in 0..=bytes.len() {
            let buf = &bytes[..len];
            for pos in 0..=len * 8 {
                for n in 0..=64u8 {
                    let mut r = BitReader { pos_bits: pos };
                    let got = r.read_bits(buf, n);
                    let want = (pos + n as usize <= len * 8).then(|| {
                        (pos..pos + n as usize).fold(0u64, |acc, i| {
                            (acc << 1) | u64::from((buf[i / 8] >> (7 - i % 8)) & 1)
                        })
                    });
                    assert_eq!(got, want, "len {len}, bit {pos}, width {n}");
                    if want.is_some() {
                        assert_eq!(r.pos_bits, pos + n as usize);
                    }
                }
            }
        }
    }

    /// The XOR encoder as first written, a field at a time through [`BitWriter`]: the
    /// encoding every stored chunk has.
    fn reference_xor(samples: &[(i64, f64)]) -> Vec<u8> {
        let mut buf = vec![ENCODING_XOR, 0, 0];
        let mut bw = BitWriter::default();
        let (mut prev_t, mut prev_delta, mut prev_v) = (0i64, 0i64, 0u64);
        let (mut lead, mut trail) = (0xffu8, 0u8);
        for (i, &(t, v)) in samples.iter().enumerate() {
            let vb = v.to_bits();
            if i == 0 {
                bw.write_varint(&mut buf, zigzag(t));
                bw.write_bits(&mut buf, vb, 64);
                prev_delta = 0;
            } else {
                let delta = t.wrapping_sub(prev_t);
                let dod = delta.wrapping_sub(prev_delta);
                if dod == 0 {
                    bw.write_bit(&mut buf, false);
                } else {
                    let (ctl, n, bits) = if fits(dod, 7) {
                        (0b10, 2, 7)
                    } else if fits(dod, 14) {
                        (0b110, 3, 14)
                    } else if fits(dod, 20) {
                        (0b1110, 4, 20)
                    } else {
                        (0b1111, 4, 64)
                    };
                    bw.write_bits(&mut buf, ctl, n);
                    bw.write_bits(&mut buf, dod as u64, bits);
                }
                prev_delta = delta;
                let x = vb ^ prev_v;
                if x == 0 {
                    bw.write_bit(&mut buf, false);
                } else {
                    let l = (x.leading_zeros() as u8).min(31);
                    let tz = x.trailing_zeros() as u8;
                    if lead != 0xff && l >= lead && tz >= trail {
                        bw.write_bits(&mut buf, 0b10, 2);
                        bw.write_bits(&mut buf, x >> trail, 64 - lead - trail);
                    } else {
                        (lead, trail) = (l, tz);
                        bw.write_bits(&mut buf, 0b11, 2);
                        bw.write_bits(&mut buf, u64::from(l), 5);
                        let sig = 64 - l - tz;
                        bw.write_bits(&mut buf, u64::from(sig & 63), 6);
                        bw.write_bits(&mut buf, x >> tz, sig);
                    }
                }
            }
            prev_t = t;
            prev_v = vb;
        }
        buf[1..3].copy_from_slice(&(samples.len() as u16).to_be_bytes());
        buf
    }

    fn roundtrip(samples: &[(i64, f64)]) {
        let mut a = XorAppender::new();
        for &(t, v) in samples {
            a.append(t, v);
        }
        assert_eq!(a.len() as usize, samples.len());
        assert_eq!(a.bytes(), &reference_xor(samples)[..], "{samples:?}");
        // Resuming anywhere and appending the rest gives the same bytes.
        if samples.len() > 1 {
            let cut = samples.len() / 2;
            let mut h = XorAppender::new();
            for &(t, v) in &samples[..cut] {
                h.append(t, v);
            }
            let mut r = XorAppender::from_chunk(h.bytes()).unwrap();
            for &(t, v) in &samples[cut..] {
                r.append(t, v);
            }
            assert_eq!(r.bytes(), a.bytes());
            assert_eq!(r.clone().into_bytes(), a.bytes());
        }
        let got = decode_all(a.bytes()).unwrap();
        assert_eq!(got.len(), samples.len());
        for (g, &(t, v)) in got.iter().zip(samples) {
            assert_eq!(g.t, t);
            assert_eq!(g.v.to_bits(), v.to_bits(), "value bits at t={t}");
        }
        // Continuing from persisted bytes gives the same encoding.
        if !samples.is_empty() {
            let b = XorAppender::from_chunk(a.bytes()).unwrap();
            assert_eq!(b.bytes(), a.bytes());
        }
    }

    #[test]
    fn edge_cases() {
        let cases: Vec<Vec<(i64, f64)>> = vec![
            vec![],
            vec![(0, 0.0)],
            vec![(1000, 1.0), (2000, 1.0), (3000, 1.0)],
            vec![
                (1, f64::NAN),
                (2, stale_nan()),
                (3, -0.0),
                (4, 0.0),
                (5, f64::INFINITY),
                (6, f64::NEG_INFINITY),
            ],
            vec![
                (-5_000_000, 1.5),
                (-4_000_000, -2.5),
                (-1, 3.25),
                (0, 1e300),
                (1, f64::MIN_POSITIVE),
            ],
            vec![(i64::MIN, 1.0), (0, 2.0), (i64::MAX, 3.0)],
            vec![
                (0, 1.0),
                (1 << 40, 2.0),
                ((1 << 40) + 1, 3.0),
                (1 << 41, f64::from_bits(1)),
            ],
            vec![
                (10, f64::from_bits(u64::MAX)),
                (20, f64::from_bits(1)),
                (30, f64::from_bits(1 << 63)),
            ],
            vec![(5, 1.0), (5, 2.0), (4, 3.0)],
        ];
        for c in &cases {
            roundtrip(c);
        }
    }

    #[test]
    fn bucket_edges_roundtrip() {
        // Delta-of-deltas at both ends of every bucket, in particular +2^(k-1), which
        // plain sign extension decoded as -2^(k-1).
        for k in [7u32, 14, 20] {
            let lim = 1i64 << (k - 1);
            for dod in [lim, lim - 1, -(lim - 1), -lim, lim + 1, -(lim + 1)] {
                roundtrip(&[(0, 1.0), (1000, 2.0), (2000 + dod, 3.0), (3000 + dod, 4.0)]);
            }
        }
    }

    #[test]
    fn stale_marker_bits_are_exact() {
        let mut a = XorAppender::new();
        a.append(1, 1.0);
        a.append(2, stale_nan());
        a.append(3, f64::NAN);
        let got = decode_all(a.bytes()).unwrap();
        assert_eq!(got[1].v.to_bits(), STALE_NAN_BITS);
        assert_eq!(got[2].v.to_bits(), f64::NAN.to_bits());
    }

    #[test]
    fn property_roundtrip_fixed_seed() {
        let mut rng = fastrand::Rng::with_seed(0x5eed);
        for _ in 0..500 {
            let n = rng.usize(1..=120);
            let mut t = rng.i64(-1 << 50..1 << 50);
            let mut v = rng.f64() * 100.0;
            let mut s = Vec::with_capacity(n);
            for _ in 0..n {
                s.push((t, v));
                t = t.wrapping_add(match rng.u8(0..4) {
                    0 => 15_000,
                    1 => rng.i64(0..20_000),
                    2 => rng.i64(0..1 << 30),
                    _ => rng.i64(i64::MIN / 4..i64::MAX / 4),
                });
                v = match rng.u8(0..6) {
                    0 => v,
                    1 => v + 1.0,
                    2 => f64::from_bits(rng.u64(..)),
                    3 => stale_nan(),
                    4 => rng.f64() * 1e6,
                    _ => -v,
                };
            }
            roundtrip(&s);
        }
    }

    fn best_roundtrip(samples: &[(i64, f64)]) -> Vec<u8> {
        let s: Vec<Sample> = samples.iter().map(|&(t, v)| Sample { t, v }).collect();
        let c = encode_best(&s);
        let got = decode_all(&c).unwrap();
        assert_eq!(got.len(), s.len());
        for (g, w) in got.iter().zip(&s) {
            assert_eq!(g.t, w.t);
            assert_eq!(g.v.to_bits(), w.v.to_bits(), "value bits at t={}", w.t);
        }
        let xor = encode_chunks(&s).pop().unwrap_or_default();
        assert!(c.len() <= xor.len().max(1));
        if !s.is_empty() {
            assert_eq!(&*compact(Arc::from(xor)), &c[..]);
        }
        c
    }

    #[test]
    fn decimal_chunks_roundtrip_exactly() {
        let cases: Vec<Vec<(i64, f64)>> = vec![
            vec![(0, 1.0)],
            vec![(0, 1.0), (1, 2.0)],
            vec![(1000, 0.1), (2000, 0.2), (3000, 0.30000000000000004)],
            vec![(1, -0.0), (2, 0.0), (3, 1.0)],
            vec![(1, 1.0), (2, f64::NAN), (3, 3.0)],
            vec![(1, 9_007_199_254_740_992.0), (2, 9_007_199_254_740_993.0)],
            vec![(1, -12.5), (2, 1e-12), (3, -3.000001)],
            vec![(i64::MIN, 1.0), (0, 2.0), (i64::MAX, 3.0)],
            vec![(5, 1.0), (5, 2.0), (4, 3.0)],
            vec![(0, 1e15), (1, -1e15), (2, 1.5e15)],
            vec![(0, 4503599627370497.5), (1, 0.5)],
        ];
        for c in &cases {
            best_roundtrip(c);
        }
        let mut rng = fastrand::Rng::with_seed(0xdec1);
        for _ in 0..2000 {
            let n = rng.usize(1..=120);
            let digits = rng.u32(0..=8);
            let mut t = rng.i64(-1 << 45..1 << 45);
            let mut x = rng.i64(-1 << 40..1 << 40);
            let mut s = Vec::with_capacity(n);
            for _ in 0..n {
                s.push((t, x as f64 / 10f64.powi(digits as i32)));
                t = t.wrapping_add(match rng.u8(0..4) {
                    0 => 15_000,
                    1 => 15_000 + rng.i64(-3..=3),
                    2 => rng.i64(0..1 << 30),
                    _ => rng.i64(i64::MIN / 4..i64::MAX / 4),
                });
                x = x.wrapping_add(match rng.u8(0..5) {
                    0 => 0,
                    1 => rng.i64(0..100),
                    2 => rng.i64(-1 << 20..1 << 20),
                    3 => rng.i64(-1 << 50..1 << 50),
                    _ => 1,
                });
            }
            best_roundtrip(&s);
        }
    }

    #[test]
    fn counters_compress_far_below_xor() {
        // A counter growing by 20 ± 5 per 15 s scrape with a few ms of jitter.
        let mut rng = fastrand::Rng::with_seed(7);
        let mut v = 1_234_567.0;
        let s: Vec<(i64, f64)> = (0..120)
            .map(|i| {
                v += 20.0 + rng.i64(-5..=5) as f64;
                (1_700_000_000_000 + i * 15_000 + rng.i64(-2..=2), v)
            })
            .collect();
        let best = best_roundtrip(&s);
        assert_eq!(best[0], ENCODING_DECIMAL);
        assert!(best.len() <= 120 * 12 / 8, "{} bytes", best.len());
    }

    #[test]
    fn regular_series_compress_well() {
        let mut a = XorAppender::new();
        for i in 0..120 {
            a.append(1_700_000_000_000 + i * 15_000, 42.0);
        }
        // 120 samples of a constant gauge at a fixed interval: two bits per sample plus the first two samples.
        assert!(a.bytes().len() <= 56, "{} bytes", a.bytes().len());
    }

    #[test]
    fn seek_and_truncation() {
        let mut a = XorAppender::new();
        for i in 0..100 {
            a.append(i * 10, i as f64);
        }
        let mut it = ChunkIter::new(a.bytes().to_vec()).unwrap();
        assert_eq!(it.seek(455), Some(Sample { t: 460, v: 46.0 }));
        assert_eq!(it.next_sample(), Some(Sample { t: 470, v: 47.0 }));
        assert_eq!(it.seek(10_000), None);
        let bytes = a.bytes();
        let cut = &bytes[..bytes.len() / 2];
        assert!(decode_all(cut).is_err());
        assert!(decode_all(&[9, 0, 1, 0]).is_err());
        assert!(decode_all(&[1]).is_err());
    }
}
