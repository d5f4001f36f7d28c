//! Prometheus' XOR chunk encoding (`tsdb/chunkenc/xor.go` and `bstream.go` of 2.42), which
//! streamed remote read sends. Sightline's own chunks (`host/tsdb/src/chunk.rs`) are not
//! byte-compatible (a three-byte header with an encoding byte, other delta-of-delta buckets,
//! and a delta-of-delta rather than a plain delta for the second sample), so the read
//! handler re-encodes samples into Prometheus chunks here.
//!
//! Layout: a big-endian `u16` sample count, then a bit stream, most significant bit first:
//! sample 0 is its timestamp as a zigzag varint and its value's 64 bits; sample 1 its
//! timestamp delta as a uvarint and its value XOR-ed with the previous one; later samples the
//! delta-of-delta of their timestamp in buckets of 0, 14, 17, 20 or 64 bits (`0`, `10`,
//! `110`, `1110`, `1111`) and the XOR-ed value: `0` (same bits), `10` + the meaningful bits
//! inside the previous leading/trailing window, or `11` + 5 bits of leading zeros (at most
//! 31) + 6 bits of meaningful-bit count (64 written as 0) + the bits.

/// The samples Prometheus' head puts in a chunk before it cuts a new one.
pub const SAMPLES_PER_CHUNK: usize = 120;

/// `prometheus.Chunk.Encoding.XOR`.
pub const ENCODING_XOR: i32 = 1;

/// A Prometheus XOR chunk being appended to.
#[derive(Debug, Clone)]
pub struct XorChunk {
    buf: Vec<u8>,
    /// Bits still free in the last byte of `buf` (0: the next bit starts a new byte).
    free: u8,
    count: u16,
    t: i64,
    v: u64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
    min_t: i64,
}

impl Default for XorChunk {
    fn default() -> Self {
        XorChunk::new()
    }
}

impl XorChunk {
    /// An empty chunk (two zero bytes).
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&[0, 0]);
        XorChunk {
            buf,
            free: 0,
            count: 0,
            t: 0,
            v: 0,
            t_delta: 0,
            leading: 0xff,
            trailing: 0,
            min_t: 0,
        }
    }

    /// Samples appended so far.
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    /// Whether nothing was appended.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The first sample's timestamp (0 when empty).
    pub fn min_t(&self) -> i64 {
        self.min_t
    }

    /// The last sample's timestamp (0 when empty).
    pub fn max_t(&self) -> i64 {
        self.t
    }

    /// The encoded chunk.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// `bstream.writeBit`.
    fn bit(&mut self, bit: bool) {
        if self.free == 0 {
            self.buf.push(0);
            self.free = 8;
        }
        if bit {
            if let Some(last) = self.buf.last_mut() {
                *last |= 1 << (self.free - 1);
            }
        }
        self.free -= 1;
    }

    /// Appends the low `n` bits of `v` (n <= 64) to the bit stream, most significant first:
    /// the bits `bstream.writeBits` writes, the partial last byte first, then whole bytes at
    /// once (Go writes them a byte at a time, and we did; that was a fifth of a streamed
    /// read's CPU).
    fn put(&mut self, v: u64, n: u8) {
        let mut n = u32::from(n);
        if n == 0 {
            return;
        }
        let v = if n == 64 { v } else { v & ((1u64 << n) - 1) };
        if self.free > 0 {
            let free = u32::from(self.free);
            let Some(last) = self.buf.last_mut() else {
                return;
            };
            if n <= free {
                *last |= (v << (free - n)) as u8;
                self.free -= n as u8;
                return;
            }
            // The top `free` of the `n` bits complete the last byte.
            *last |= (v >> (n - free)) as u8;
            n -= free;
            self.free = 0;
        }
        let aligned = v << (64 - n);
        let whole = n.div_ceil(8) as usize;
        self.buf.extend_from_slice(&aligned.to_be_bytes()[..whole]);
        self.free = ((8 - n % 8) % 8) as u8;
    }

    /// `bstream.writeBits`. Go writes whole bytes with `writeByte`, which always starts the
    /// next byte: when a write ends with a whole byte on a byte boundary, the stream carries a
    /// trailing zero byte (with 8 free bits), as Prometheus' chunks do.
    fn bits(&mut self, v: u64, n: u8) {
        self.put(v, n);
        if n >= 8 && n.is_multiple_of(8) && self.free == 0 {
            self.buf.push(0);
            self.free = 8;
        }
    }

    /// `bstream.writeByte`.
    fn byte(&mut self, b: u8) {
        self.bits(u64::from(b), 8);
    }

    fn uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.byte((v as u8) | 0x80);
            v >>= 7;
        }
        self.byte(v as u8);
    }

    /// Appends a sample; timestamps must not decrease (the caller's series iterator
    /// guarantees it). Values are kept as raw bits: stale markers survive.
    pub fn append(&mut self, t: i64, v: f64) {
        let vb = v.to_bits();
        let mut t_delta = 0u64;
        match self.count {
            0 => {
                self.uvarint(crate::proto::zigzag(t));
                self.bits(vb, 64);
                self.min_t = t;
            }
            1 => {
                t_delta = t.wrapping_sub(self.t) as u64;
                self.uvarint(t_delta);
                self.value(vb);
            }
            _ => {
                t_delta = t.wrapping_sub(self.t) as u64;
                let dod = t_delta.wrapping_sub(self.t_delta) as i64;
                if dod == 0 {
                    self.bit(false);
                } else if bit_range(dod, 14) {
                    self.bits(0b10, 2);
                    self.bits(dod as u64, 14);
                } else if bit_range(dod, 17) {
                    self.bits(0b110, 3);
                    self.bits(dod as u64, 17);
                } else if bit_range(dod, 20) {
                    self.bits(0b1110, 4);
                    self.bits(dod as u64, 20);
                } else {
                    self.bits(0b1111, 4);
                    self.bits(dod as u64, 64);
                }
                self.value(vb);
            }
        }
        self.t = t;
        self.v = vb;
        self.t_delta = t_delta;
        self.count = self.count.saturating_add(1);
        let c = self.count.to_be_bytes();
        self.buf[0] = c[0];
        self.buf[1] = c[1];
    }

    fn value(&mut self, vb: u64) {
        let delta = vb ^ self.v;
        if delta == 0 {
            self.bit(false);
            return;
        }
        let leading = (delta.leading_zeros() as u8).min(31);
        let trailing = delta.trailing_zeros() as u8;
        if self.leading != 0xff && leading >= self.leading && trailing >= self.trailing {
            // `1`, `0`, then the bits inside the window.
            self.put(0b10, 2);
            let sig = 64 - self.leading - self.trailing;
            self.bits(delta >> self.trailing, sig);
            return;
        }
        self.leading = leading;
        self.trailing = trailing;
        let sig = 64 - leading - trailing;
        // `1`, `1`, 5 bits of leading zeros, 6 of meaningful bits (64 is written as 0: it
        // does not fit). None of these Go writes is whole bytes, so one write does.
        self.put(
            (0b11 << 11) | (u64::from(leading) << 6) | u64::from(sig & 63),
            13,
        );
        self.bits(delta >> trailing, sig);
    }
}

/// Whether `x` fits the `nbits` bucket as Prometheus' `bitRange` defines it.
fn bit_range(x: i64, nbits: u8) -> bool {
    let half = 1i64 << (nbits - 1);
    -(half - 1) <= x && x <= half
}

/// Why a chunk could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkError {
    /// Byte offset in the chunk.
    pub offset: usize,
    /// What was wrong.
    pub reason: &'static str,
}

impl std::fmt::Display for ChunkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "xor chunk: {} at byte {}", self.reason, self.offset)
    }
}

struct BitReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    fn err(&self, reason: &'static str) -> ChunkError {
        ChunkError {
            offset: 2 + self.pos / 8,
            reason,
        }
    }
    fn bit(&mut self) -> Result<bool, ChunkError> {
        let b = self
            .buf
            .get(self.pos / 8)
            .ok_or_else(|| self.err("unexpected end of chunk"))?;
        let bit = b & (0x80 >> (self.pos % 8)) != 0;
        self.pos += 1;
        Ok(bit)
    }
    fn bits(&mut self, n: u8) -> Result<u64, ChunkError> {
        let mut v = 0u64;
        for _ in 0..n {
            v = (v << 1) | u64::from(self.bit()?);
        }
        Ok(v)
    }
    fn uvarint(&mut self) -> Result<u64, ChunkError> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.bits(8)?;
            if i == 9 && b > 1 {
                return Err(self.err("varint overflows 64 bits"));
            }
            v |= (b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(self.err("varint overflows 64 bits"))
    }
}

/// Decodes a Prometheus XOR chunk into `(timestamp, value)` pairs, as `xorIterator` reads it.
/// Hostile input ends as an error, never a panic.
pub fn decode(chunk: &[u8]) -> Result<Vec<(i64, f64)>, ChunkError> {
    let (head, rest) = match chunk {
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => {
            return Err(ChunkError {
                offset: 0,
                reason: "chunk shorter than its 2-byte header",
            })
        }
    };
    let mut r = BitReader { buf: rest, pos: 0 };
    let mut out = Vec::with_capacity(usize::from(head).min(rest.len() * 8));
    let (mut t, mut v, mut t_delta) = (0i64, 0u64, 0u64);
    let (mut leading, mut trailing) = (0u8, 0u8);
    for i in 0..head {
        match i {
            0 => {
                t = crate::proto::unzigzag(r.uvarint()?);
                v = r.bits(64)?;
            }
            _ => {
                if i == 1 {
                    t_delta = r.uvarint()?;
                } else {
                    let mut d = 0u8;
                    for _ in 0..4 {
                        d <<= 1;
                        if !r.bit()? {
                            break;
                        }
                        d |= 1;
                    }
                    let dod = match d {
                        0 => 0i64,
                        0b1111 => r.bits(64)? as i64,
                        _ => {
                            let sz = match d {
                                0b10 => 14,
                                0b110 => 17,
                                _ => 20,
                            };
                            let mut bits = r.bits(sz)?;
                            if bits > (1 << (sz - 1)) {
                                bits = bits.wrapping_sub(1 << sz);
                            }
                            bits as i64
                        }
                    };
                    t_delta = (t_delta as i64).wrapping_add(dod) as u64;
                }
                t = t.wrapping_add(t_delta as i64);
                if r.bit()? {
                    if r.bit()? {
                        leading = r.bits(5)? as u8;
                        let mut sig = r.bits(6)? as u8;
                        if sig == 0 {
                            sig = 64;
                        }
                        if u32::from(leading) + u32::from(sig) > 64 {
                            return Err(r.err("leading and meaningful bits over 64"));
                        }
                        trailing = 64 - leading - sig;
                    }
                    let sig = 64 - leading - trailing;
                    let bits = r.bits(sig)?;
                    v ^= if trailing >= 64 { 0 } else { bits << trailing };
                }
            }
        }
        out.push((t, f64::from_bits(v)));
    }
    Ok(out)
}

#[cfg(test)]
#[path = "xor_tests.rs"]
mod tests;
