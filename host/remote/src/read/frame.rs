//! The framing of streamed remote read (`storage/remote/chunked.go` of Prometheus 2.42): each
//! `ChunkedReadResponse` message is preceded by its length as a uvarint and its CRC-32
//! (Castagnoli) as a big-endian `u32`.

/// CRC-32C (Castagnoli) of `data`, as Go's `crc32.Checksum(data,
/// crc32.MakeTable(crc32.Castagnoli))`, with the CPU's CRC instruction where it has one.
pub fn crc32c(data: &[u8]) -> u32 {
    crc32c::crc32c(data)
}

/// Frames one message: uvarint length, big-endian CRC-32C, the message.
pub fn frame(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 14);
    let mut n = msg.len() as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out.extend_from_slice(&crc32c(msg).to_be_bytes());
    out.extend_from_slice(msg);
    out
}

/// Why a stream of frames could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// Byte offset of the frame in the stream.
    pub offset: usize,
    /// What was wrong.
    pub reason: String,
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "chunked stream: {} at byte {}", self.reason, self.offset)
    }
}

/// Splits a whole streamed body into its messages, checking each checksum, refusing frames
/// over `size_limit` bytes (as Prometheus' `ChunkedReader`).
pub fn split_frames(body: &[u8], size_limit: usize) -> Result<Vec<&[u8]>, FrameError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let start = pos;
        let err = |reason: String| FrameError {
            offset: start,
            reason,
        };
        let mut size = 0u64;
        let mut shift = 0;
        loop {
            let b = *body
                .get(pos)
                .ok_or_else(|| err("unexpected end of frame length".into()))?;
            pos += 1;
            if shift >= 63 && b > 1 {
                return Err(err("frame length overflows 64 bits".into()));
            }
            size |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b < 0x80 {
                break;
            }
        }
        if size > size_limit as u64 {
            return Err(err(format!(
                "message size exceeded the limit {size_limit} bytes; got: {size} bytes"
            )));
        }
        let size = size as usize;
        let crc = body
            .get(pos..pos + 4)
            .ok_or_else(|| err("unexpected end of frame checksum".into()))?;
        let crc = u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]);
        pos += 4;
        let msg = body
            .get(pos..pos + size)
            .ok_or_else(|| err("unexpected end of frame".into()))?;
        pos += size;
        if crc32c(msg) != crc {
            return Err(err("corrupted frame; checksum mismatch".into()));
        }
        out.push(msg);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crc32c_bytewise(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    0x82F6_3B78 ^ (crc >> 1)
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn crc32c_check_values() {
        // The standard check value of CRC-32C, and Go's value for an empty input.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 131 % 251) as u8).collect();
        for n in [0, 1, 7, 8, 9, 15, 16, 17, 999, 1000] {
            assert_eq!(crc32c(&data[..n]), crc32c_bytewise(&data[..n]), "{n}");
        }
    }

    #[test]
    fn frames_round_trip_and_are_checked() {
        let a = vec![7u8; 300];
        let b = b"x".to_vec();
        let mut body = frame(&a);
        // 300 = 0xac 0x02 as a uvarint, then the big-endian checksum.
        assert_eq!(&body[..2], &[0xac, 0x02]);
        assert_eq!(&body[2..6], &crc32c(&a).to_be_bytes());
        body.extend(frame(&b));
        assert_eq!(split_frames(&body, 1 << 20).unwrap(), vec![&a[..], &b[..]]);
        // A limit below the first frame.
        let e = split_frames(&body, 299).unwrap_err();
        assert!(e.reason.contains("exceeded the limit 299"), "{e}");
        // A flipped byte in the second message.
        let last = body.len() - 1;
        body[last] ^= 1;
        let e = split_frames(&body, 1 << 20).unwrap_err();
        assert_eq!(e.offset, 306);
        assert!(e.reason.contains("checksum mismatch"));
        // Every truncation is an error, never a panic.
        for n in 1..body.len() {
            let _ = split_frames(&body[..n], 1 << 20);
        }
        assert!(split_frames(&body[..5], 1 << 20).is_err());
    }
}
