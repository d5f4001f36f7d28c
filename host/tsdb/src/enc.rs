//! Small binary encoding helpers shared by the WAL and the sled layout: LEB128 varints,
//! zigzag, length-prefixed strings and label sets.

use sightline_model::{ArcStr, Label, Labels};

use crate::error::{Error, Result};

pub(crate) fn put_uvarint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

pub(crate) fn put_varint(buf: &mut Vec<u8>, v: i64) {
    put_uvarint(buf, ((v << 1) ^ (v >> 63)) as u64);
}

pub(crate) fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_uvarint(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

/// Label count, then name and value of each label as length-prefixed strings.
pub(crate) fn put_labels(buf: &mut Vec<u8>, labels: &Labels) {
    put_uvarint(buf, labels.len() as u64);
    for l in labels {
        put_str(buf, &l.name);
        put_str(buf, &l.value);
    }
}

/// A cursor over encoded bytes.
pub(crate) struct Dec<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Dec<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Dec { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn err(&self, what: &str) -> Error {
        Error::Corrupt(format!("{what} at byte {}", self.pos))
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| self.err("unexpected end"))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn uvarint(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        let mut shift = 0;
        loop {
            let b = self.u8()?;
            if shift >= 64 {
                return Err(self.err("varint overflow"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    pub(crate) fn varint(&mut self) -> Result<i64> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    pub(crate) fn u64_le(&mut self) -> Result<u64> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| self.err("length overflow"))?;
        let b = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| self.err("unexpected end"))?;
        self.pos = end;
        Ok(b)
    }

    pub(crate) fn str(&mut self) -> Result<&'a str> {
        let n = self.uvarint()? as usize;
        let b = self.bytes(n)?;
        std::str::from_utf8(b).map_err(|_| self.err("invalid utf-8"))
    }

    pub(crate) fn labels(&mut self) -> Result<Labels> {
        let n = self.uvarint()? as usize;
        if n > 10_000 {
            return Err(self.err("implausible label count"));
        }
        let mut v: Vec<Label> = Vec::with_capacity(n);
        for _ in 0..n {
            let name = ArcStr::from(self.str()?);
            let value = ArcStr::from(self.str()?);
            if v.last().is_some_and(|l| l.name >= name) || value.is_empty() {
                return Err(self.err("labels not sorted or empty value"));
            }
            v.push(Label { name, value });
        }
        Ok(Labels::from_sorted_unchecked(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrips() {
        let mut b = Vec::new();
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            put_uvarint(&mut b, v);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            put_varint(&mut b, v);
        }
        let l = Labels::from_pairs([("a", "1"), ("b", "ü")]);
        put_labels(&mut b, &l);
        let mut d = Dec::new(&b);
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            assert_eq!(d.uvarint().unwrap(), v);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(d.varint().unwrap(), v);
        }
        assert_eq!(d.labels().unwrap(), l);
        assert!(d.is_empty());
        assert!(Dec::new(&[0xff, 0xff]).uvarint().is_err());
    }
}
