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

/// Reads bits MSB first.
#[derive(Debug, Clone)]
struct BitReader {
    pos_bits: usize,
}

impl BitReader {
    fn read_bit(&mut self, buf: &[u8]) -> Option<bool> {
        let byte = *buf.get(self.pos_bits / 8)?;
        let bit = (byte >> (7 - (self.pos_bits % 8))) & 1 == 1;
        self.pos_bits += 1;
        Some(bit)
    }

    /// Reads `n <= 64` bits through one 16-byte big-endian window.
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
        let mut tmp = [0u8; 16];
        let avail = (buf.len() - byte).min(16);
        tmp[..avail].copy_from_slice(&buf[byte..byte + avail]);
        let w = u128::from_be_bytes(tmp);
        self.pos_bits = end;
        Some(((w << off) >> (128 - u32::from(n))) as u64)
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Sign-extends the low `bits` bits of `v`.
fn sign_extend(v: u64, bits: u8) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

fn fits(v: i64, bits: u8) -> bool {
    let lim = 1i64 << (bits - 1);
    // Prometheus' bucket test: -(2^(n-1)-1) <= v <= 2^(n-1).
    v >= -(lim - 1) && v <= lim
}

/// Incremental XOR chunk encoder. The bytes live in `buf`; the rest is the state needed to
/// append the next sample.
#[derive(Debug, Clone)]
pub(crate) struct XorAppender {
    buf: Vec<u8>,
    bw: BitWriter,
    count: u16,
    first_t: TimestampMs,
    t: TimestampMs,
    delta: i64,
    v_bits: u64,
    leading: u8,
    trailing: u8,
}

impl Default for XorAppender {
    fn default() -> Self {
        XorAppender::new()
    }
}

impl XorAppender {
    /// An empty chunk.
    pub(crate) fn new() -> Self {
        let mut buf = Vec::with_capacity(32);
        buf.extend_from_slice(&[ENCODING_XOR, 0, 0]);
        XorAppender {
            buf,
            bw: BitWriter::default(),
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
        let free = if pos % 8 == 0 { 0 } else { 8 - (pos % 8) as u8 };
        Ok(XorAppender {
            buf,
            bw: BitWriter { free },
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
        &self.buf
    }

    /// Heap bytes held by this appender.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Releases spare capacity (called when a chunk is closed).
    pub(crate) fn into_bytes(mut self) -> Vec<u8> {
        self.buf.shrink_to_fit();
        self.buf
    }

    /// Appends one sample. The caller enforces ordering; the encoding itself round-trips any
    /// sequence of timestamps (wrapping arithmetic) up to `u16::MAX` samples.
    pub(crate) fn append(&mut self, t: TimestampMs, v: f64) {
        let vb = v.to_bits();
        let buf = &mut self.buf;
        if self.count == 0 {
            let mut z = zigzag(t);
            loop {
                let byte = (z & 0x7f) as u8;
                z >>= 7;
                if z == 0 {
                    self.bw.write_bits(buf, byte as u64, 8);
                    break;
                }
                self.bw.write_bits(buf, (byte | 0x80) as u64, 8);
            }
            self.bw.write_bits(buf, vb, 64);
            self.first_t = t;
            self.delta = 0;
        } else {
            let delta = t.wrapping_sub(self.t);
            let dod = delta.wrapping_sub(self.delta);
            if dod == 0 {
                self.bw.write_bit(buf, false);
            } else if fits(dod, 7) {
                self.bw.write_bits(buf, 0b10, 2);
                self.bw.write_bits(buf, dod as u64, 7);
            } else if fits(dod, 14) {
                self.bw.write_bits(buf, 0b110, 3);
                self.bw.write_bits(buf, dod as u64, 14);
            } else if fits(dod, 20) {
                self.bw.write_bits(buf, 0b1110, 4);
                self.bw.write_bits(buf, dod as u64, 20);
            } else {
                self.bw.write_bits(buf, 0b1111, 4);
                self.bw.write_bits(buf, dod as u64, 64);
            }
            self.delta = delta;
            let x = vb ^ self.v_bits;
            if x == 0 {
                self.bw.write_bit(buf, false);
            } else {
                let leading = (x.leading_zeros() as u8).min(31);
                let trailing = x.trailing_zeros() as u8;
                if self.leading != 0xff && leading >= self.leading && trailing >= self.trailing {
                    self.bw.write_bits(buf, 0b10, 2);
                    let sig = 64 - self.leading - self.trailing;
                    self.bw.write_bits(buf, x >> self.trailing, sig);
                } else {
                    self.leading = leading;
                    self.trailing = trailing;
                    self.bw.write_bits(buf, 0b11, 2);
                    self.bw.write_bits(buf, leading as u64, 5);
                    let sig = 64 - leading - trailing;
                    // 64 meaningful bits do not fit in 6 bits; 0 stands for 64.
                    self.bw.write_bits(buf, (sig & 63) as u64, 6);
                    self.bw.write_bits(buf, x >> trailing, sig);
                }
            }
        }
        self.t = t;
        self.v_bits = vb;
        self.count += 1;
        let c = self.count.to_be_bytes();
        buf[1] = c[0];
        buf[2] = c[1];
    }
}

/// Reads the sample count and validates the encoding byte.
pub(crate) fn chunk_len(chunk: &[u8]) -> Result<u16> {
    match chunk {
        [ENCODING_XOR, a, b, ..] => Ok(u16::from_be_bytes([*a, *b])),
        [enc, _, _, ..] => Err(Error::Corrupt(format!("unknown chunk encoding {enc}"))),
        _ => Err(Error::Corrupt("chunk shorter than its header".into())),
    }
}

/// Iterates a chunk's samples. Owns its bytes so query results can outlive locks.
#[derive(Debug, Clone)]
pub(crate) struct ChunkIter<B: AsRef<[u8]>> {
    data: B,
    br: BitReader,
    remaining: u16,
    read: u16,
    t: TimestampMs,
    delta: i64,
    v_bits: u64,
    leading: u8,
    trailing: u8,
    err: Option<String>,
    /// Whether a leading/trailing window was read (the encoder's "no window yet" state).
    window: bool,
}

impl<B: AsRef<[u8]>> ChunkIter<B> {
    pub(crate) fn new(data: B) -> Result<Self> {
        let remaining = chunk_len(data.as_ref())?;
        Ok(ChunkIter {
            data,
            br: BitReader {
                pos_bits: HEADER * 8,
            },
            remaining,
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
        let br = &mut self.br;
        if self.read == 0 {
            let mut z: u64 = 0;
            let mut shift = 0u32;
            loop {
                let byte = br.read_bits(buf, 8)? as u8;
                if shift >= 64 {
                    return None;
                }
                z |= ((byte & 0x7f) as u64) << shift;
                shift += 7;
                if byte & 0x80 == 0 {
                    break;
                }
            }
            self.t = unzigzag(z);
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
                1 => sign_extend(br.read_bits(buf, 7)?, 7),
                2 => sign_extend(br.read_bits(buf, 14)?, 14),
                3 => sign_extend(br.read_bits(buf, 20)?, 20),
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
        if self.remaining == 0 || self.err.is_some() {
            return None;
        }
        match self.decode_next() {
            Some(s) => {
                self.remaining -= 1;
                self.read += 1;
                Some(s)
            }
            None => {
                self.err = Some(format!("chunk truncated after {} samples", self.read));
                self.remaining = 0;
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

/// Decodes a whole chunk.
pub(crate) fn decode_all(chunk: &[u8]) -> Result<Vec<Sample>> {
    let mut it = ChunkIter::new(chunk)?;
    let mut out = Vec::with_capacity(it.remaining as usize);
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

    fn roundtrip(samples: &[(i64, f64)]) {
        let mut a = XorAppender::new();
        for &(t, v) in samples {
            a.append(t, v);
        }
        assert_eq!(a.len() as usize, samples.len());
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
