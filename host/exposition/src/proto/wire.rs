//! Protobuf wire format, by hand: the primitives the `io.prometheus.client` messages need.
//!
//! Decoding walks a message's fields and hands each to the caller with the absolute byte
//! offset of its tag, so every error names where in the body it happened. Unknown fields
//! are skipped (protobuf's forward compatibility); groups (wire types 3 and 4, deprecated)
//! are errors. Nothing here indexes without a bounds check: hostile input ends as a
//! [`ParseError`], never a panic.

use crate::ParseError;

/// One field's value as it is on the wire.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    /// The bytes and the absolute offset of their first byte.
    Bytes(&'a [u8], usize),
    /// Skipped: no field of these messages is a fixed32.
    Fixed32,
}

pub(crate) type R<T> = std::result::Result<T, ParseError>;

/// A positioned error of the protobuf format: `line` 0 and the byte offset as `column`.
pub(crate) fn err(at: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line: 0,
        column: at,
        message: message.into(),
    }
}

/// Reads a varint at `*pos`; at most 10 bytes, and the 10th may only carry one bit.
pub(crate) fn varint(buf: &[u8], pos: &mut usize, base: usize) -> R<u64> {
    let start = *pos;
    let mut v: u64 = 0;
    for i in 0..10 {
        let Some(&b) = buf.get(*pos) else {
            return Err(err(base + start, "unexpected end of varint"));
        };
        *pos += 1;
        if i == 9 && b > 1 {
            return Err(err(base + start, "varint overflows 64 bits"));
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Ok(v);
        }
    }
    Err(err(base + start, "varint overflows 64 bits"))
}

fn take<'a>(buf: &'a [u8], pos: &mut usize, n: u64, base: usize) -> R<&'a [u8]> {
    let start = *pos;
    let left = buf.len() - start;
    let n = usize::try_from(n)
        .ok()
        .filter(|&n| n <= left)
        .ok_or_else(|| {
            err(
                base + start,
                format!("field of {n} bytes runs past the end of its message ({left} bytes left)"),
            )
        })?;
    *pos = start + n;
    Ok(&buf[start..start + n])
}

/// Calls `f(field_number, value, offset_of_tag)` for every field of the message in `buf`,
/// whose first byte is at absolute offset `base`.
pub(crate) fn fields<'a>(
    buf: &'a [u8],
    base: usize,
    mut f: impl FnMut(u32, Value<'a>, usize) -> R<()>,
) -> R<()> {
    let mut pos = 0;
    while pos < buf.len() {
        let at = base + pos;
        let key = varint(buf, &mut pos, base)?;
        let field = key >> 3;
        if field == 0 || field > u64::from(u32::MAX >> 3) {
            return Err(err(at, format!("illegal field number {field}")));
        }
        let field = field as u32;
        let value = match key & 7 {
            0 => Value::Varint(varint(buf, &mut pos, base)?),
            1 => Value::Fixed64(u64::from_le_bytes(le8(take(buf, &mut pos, 8, base)?))),
            2 => {
                let n = varint(buf, &mut pos, base)?;
                let off = base + pos;
                Value::Bytes(take(buf, &mut pos, n, base)?, off)
            }
            5 => {
                take(buf, &mut pos, 4, base)?;
                Value::Fixed32
            }
            w => return Err(err(at, format!("illegal wire type {w} for field {field}"))),
        };
        f(field, value, at)?;
    }
    Ok(())
}

fn le8(b: &[u8]) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    a
}

fn wrong(at: usize, field: &str, want: &str) -> ParseError {
    err(
        at,
        format!("wrong wire type for field {field}, want {want}"),
    )
}

impl<'a> Value<'a> {
    pub(crate) fn uint64(self, at: usize, name: &str) -> R<u64> {
        match self {
            Value::Varint(v) => Ok(v),
            _ => Err(wrong(at, name, "varint")),
        }
    }
    pub(crate) fn int64(self, at: usize, name: &str) -> R<i64> {
        self.uint64(at, name).map(|v| v as i64)
    }
    /// `int32` and enums: protobuf keeps the low 32 bits.
    pub(crate) fn int32(self, at: usize, name: &str) -> R<i32> {
        self.uint64(at, name).map(|v| v as i32)
    }
    pub(crate) fn uint32(self, at: usize, name: &str) -> R<u32> {
        self.uint64(at, name).map(|v| v as u32)
    }
    pub(crate) fn sint32(self, at: usize, name: &str) -> R<i32> {
        self.uint64(at, name).map(|v| unzigzag(v) as i32)
    }
    pub(crate) fn double(self, at: usize, name: &str) -> R<f64> {
        match self {
            Value::Fixed64(v) => Ok(f64::from_bits(v)),
            _ => Err(wrong(at, name, "fixed64")),
        }
    }
    /// A sub-message: its bytes and their absolute offset.
    pub(crate) fn message(self, at: usize, name: &str) -> R<(&'a [u8], usize)> {
        match self {
            Value::Bytes(b, off) => Ok((b, off)),
            _ => Err(wrong(at, name, "length-delimited")),
        }
    }
    /// A string, borrowed; invalid UTF-8 is an error at the first bad byte.
    pub(crate) fn str(self, at: usize, name: &str) -> R<&'a str> {
        let (b, off) = self.message(at, name)?;
        std::str::from_utf8(b)
            .map_err(|e| err(off + e.valid_up_to(), format!("{name} is not valid UTF-8")))
    }

    /// A repeated zigzag varint field (`sint64`), packed or not.
    pub(crate) fn packed_sint64(self, at: usize, name: &str, out: &mut Vec<i64>) -> R<()> {
        match self {
            Value::Varint(v) => {
                out.push(unzigzag(v));
                Ok(())
            }
            Value::Bytes(b, off) => {
                let mut pos = 0;
                while pos < b.len() {
                    out.push(unzigzag(varint(b, &mut pos, off)?));
                }
                Ok(())
            }
            _ => Err(wrong(at, name, "varint or packed")),
        }
    }

    /// A repeated double field, packed or not.
    pub(crate) fn packed_doubles(self, at: usize, name: &str, out: &mut Vec<f64>) -> R<()> {
        match self {
            Value::Fixed64(v) => {
                out.push(f64::from_bits(v));
                Ok(())
            }
            Value::Bytes(b, off) => {
                if b.len() % 8 != 0 {
                    return Err(err(
                        off,
                        format!("packed {name} of {} bytes, not a multiple of 8", b.len()),
                    ));
                }
                out.extend(
                    b.chunks_exact(8)
                        .map(|c| f64::from_bits(u64::from_le_bytes(le8(c)))),
                );
                Ok(())
            }
            _ => Err(wrong(at, name, "fixed64 or packed")),
        }
    }
}

pub(crate) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Encoding: proto3 rules (scalar fields at their default are left out), packed repeated
/// scalars, sub-messages length-prefixed.
#[derive(Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }
    fn key(&mut self, field: u32, wire: u8) {
        self.varint((u64::from(field) << 3) | u64::from(wire));
    }
    pub(crate) fn uint64(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.key(field, 0);
            self.varint(v);
        }
    }
    pub(crate) fn int64(&mut self, field: u32, v: i64) {
        self.uint64(field, v as u64);
    }
    /// `int32` and enums: negative values take ten bytes, as protobuf's sign extension.
    pub(crate) fn int32(&mut self, field: u32, v: i32) {
        self.uint64(field, i64::from(v) as u64);
    }
    pub(crate) fn sint32(&mut self, field: u32, v: i32) {
        self.uint64(field, zigzag(i64::from(v)));
    }
    /// Doubles are written unless they are +0.0 (NaN, stale markers included, are kept).
    pub(crate) fn double(&mut self, field: u32, v: f64) {
        if v.to_bits() != 0 {
            self.key(field, 1);
            self.buf.extend_from_slice(&v.to_bits().to_le_bytes());
        }
    }
    pub(crate) fn bytes(&mut self, field: u32, b: &[u8]) {
        self.key(field, 2);
        self.varint(b.len() as u64);
        self.buf.extend_from_slice(b);
    }
    pub(crate) fn string(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }
    /// A sub-message, always written (an empty one too: repeated elements must stay).
    pub(crate) fn message(&mut self, field: u32, f: impl FnOnce(&mut Writer)) {
        let mut w = Writer::default();
        f(&mut w);
        self.bytes(field, &w.buf);
    }
    pub(crate) fn packed_sint64(&mut self, field: u32, vs: &[i64]) {
        let mut w = Writer::default();
        for &v in vs {
            w.varint(zigzag(v));
        }
        if !w.buf.is_empty() {
            self.bytes(field, &w.buf);
        }
    }
    pub(crate) fn packed_doubles(&mut self, field: u32, vs: &[f64]) {
        if !vs.is_empty() {
            self.key(field, 2);
            self.varint((vs.len() * 8) as u64);
            for v in vs {
                self.buf.extend_from_slice(&v.to_bits().to_le_bytes());
            }
        }
    }
}
