//! Tests of the XOR chunk encoder: against chunks Prometheus wrote, against a literal
//! transcription of Go's `xorAppender` and `bstream`, round trips and hostile input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn encode(samples: &[(i64, f64)]) -> Vec<u8> {
    let mut c = XorChunk::new();
    for &(t, v) in samples {
        c.append(t, v);
    }
    c.bytes().to_vec()
}

fn same(a: &[(i64, f64)], b: &[(i64, f64)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.0 == y.0 && x.1.to_bits() == y.1.to_bits())
}

/// The encoder against the transcription of Go's algorithm, and the bytes any reader
/// can check by hand: header, first sample, second sample's delta.
#[test]
fn matches_prometheus_bytes() {
    let got = encode(&[
        (1000, 1.0),
        (2000, 1.0),
        (3000, 2.5),
        (4001, 2.5),
        (6000, -3.0),
    ]);
    let want = reference_encode(&[
        (1000, 1.0),
        (2000, 1.0),
        (3000, 2.5),
        (4001, 2.5),
        (6000, -3.0),
    ]);
    assert_eq!(got, want);
    // The header and the first sample are plain bytes: count 5, zigzag varint of 1000
    // (2000 = 0xd0 0x0f), then 1.0's bits 0x3ff0000000000000.
    assert_eq!(
        &got[..12],
        &[0, 5, 0xd0, 0x0f, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]
    );
    // Sample 1: uvarint(1000) = 0xe8 0x07, then a 0 bit (same value).
    assert_eq!(&got[12..14], &[0xe8, 0x07]);
    assert_eq!(got[14] & 0x80, 0);
}

/// A literal transcription of Prometheus' `xorAppender.Append` and `bstream` (a byte
/// slice and a count of free bits in the last byte, `writeBit`/`writeByte`/`writeBits`
/// exactly as Go writes them), kept independent of [`XorChunk`]'s bit writer.
fn reference_encode(samples: &[(i64, f64)]) -> Vec<u8> {
    struct B {
        stream: Vec<u8>,
        count: u8,
    }
    impl B {
        fn write_bit(&mut self, bit: bool) {
            if self.count == 0 {
                self.stream.push(0);
                self.count = 8;
            }
            let i = self.stream.len() - 1;
            if bit {
                self.stream[i] |= 1 << (self.count - 1);
            }
            self.count -= 1;
        }
        fn write_byte(&mut self, byt: u8) {
            if self.count == 0 {
                self.stream.push(0);
                self.count = 8;
            }
            let i = self.stream.len() - 1;
            self.stream[i] |= byt >> (8 - self.count);
            self.stream.push(0);
            let i = i + 1;
            self.stream[i] = ((u16::from(byt) << self.count) & 0xff) as u8;
        }
        fn write_bits(&mut self, mut u: u64, mut nbits: i32) {
            u <<= 64 - nbits;
            while nbits >= 8 {
                let byt = (u >> 56) as u8;
                self.write_byte(byt);
                u <<= 8;
                nbits -= 8;
            }
            while nbits > 0 {
                self.write_bit((u >> 63) == 1);
                u <<= 1;
                nbits -= 1;
            }
        }
    }
    let mut b = B {
        stream: vec![0, 0],
        count: 0,
    };
    let (mut at, mut av, mut atd) = (0i64, 0f64, 0u64);
    let (mut lead, mut trail) = (0xffu8, 0u8);
    let xor_write = |b: &mut B, nv: f64, cv: f64, lead: &mut u8, trail: &mut u8| {
        let delta = nv.to_bits() ^ cv.to_bits();
        if delta == 0 {
            b.write_bit(false);
            return;
        }
        b.write_bit(true);
        let mut nl = delta.leading_zeros() as u8;
        let nt = delta.trailing_zeros() as u8;
        if nl >= 32 {
            nl = 31;
        }
        if *lead != 0xff && nl >= *lead && nt >= *trail {
            b.write_bit(false);
            b.write_bits(delta >> *trail, 64 - i32::from(*lead) - i32::from(*trail));
            return;
        }
        *lead = nl;
        *trail = nt;
        b.write_bit(true);
        b.write_bits(u64::from(nl), 5);
        let sig = 64 - nl - nt;
        b.write_bits(u64::from(sig), 6);
        b.write_bits(delta >> nt, i32::from(sig));
    };
    for (num, &(t, v)) in samples.iter().enumerate() {
        let mut td = 0u64;
        if num == 0 {
            let mut z = crate::proto::zigzag(t);
            while z >= 0x80 {
                b.write_byte((z as u8) | 0x80);
                z >>= 7;
            }
            b.write_byte(z as u8);
            b.write_bits(v.to_bits(), 64);
        } else if num == 1 {
            td = (t - at) as u64;
            let mut z = td;
            while z >= 0x80 {
                b.write_byte((z as u8) | 0x80);
                z >>= 7;
            }
            b.write_byte(z as u8);
            xor_write(&mut b, v, av, &mut lead, &mut trail);
        } else {
            td = (t - at) as u64;
            let dod = td.wrapping_sub(atd) as i64;
            if dod == 0 {
                b.write_bit(false);
            } else if bit_range(dod, 14) {
                b.write_bits(0b10, 2);
                b.write_bits(dod as u64, 14);
            } else if bit_range(dod, 17) {
                b.write_bits(0b110, 3);
                b.write_bits(dod as u64, 17);
            } else if bit_range(dod, 20) {
                b.write_bits(0b1110, 4);
                b.write_bits(dod as u64, 20);
            } else {
                b.write_bits(0b1111, 4);
                b.write_bits(dod as u64, 64);
            }
            xor_write(&mut b, v, av, &mut lead, &mut trail);
        }
        at = t;
        av = v;
        atd = td;
        let n = (num as u16 + 1).to_be_bytes();
        b.stream[0] = n[0];
        b.stream[1] = n[1];
    }
    b.stream
}

#[test]
fn round_trips_and_matches_reference() {
    let stale = f64::from_bits(0x7ff0_0000_0000_0002);
    let cases: Vec<Vec<(i64, f64)>> = vec![
        vec![],
        vec![(0, 0.0)],
        vec![(-5, -0.0)],
        vec![(1, 1.0), (2, 2.0)],
        // Regular scrapes with jitter, counters, gauges, special values.
        (0..120)
            .map(|i| (1_700_000_000_000 + i * 15_000 + (i % 7) * 3, i as f64 * 1.5))
            .collect(),
        (0..120)
            .map(|i| (i * 1000, if i % 10 == 0 { stale } else { (i as f64).sin() }))
            .collect(),
        vec![
            (0, f64::INFINITY),
            (1, f64::NEG_INFINITY),
            (2, f64::NAN),
            (3, f64::MAX),
            (4, f64::MIN_POSITIVE),
            (5, 1e-300),
        ],
        // Every delta-of-delta bucket, negative ones included, and huge jumps.
        vec![
            (0, 1.0),
            (10, 1.0),
            (20, 1.0),
            (20 + 10 + 8000, 1.0),
            (40_000, 1.0),
            (100_000, 1.0),
            (600_000, 1.0),
            (600_001, 1.0),
            (i64::MAX / 2, 2.0),
            (i64::MAX / 2 + 1, 3.0),
        ],
    ];
    for s in cases {
        let got = encode(&s);
        assert_eq!(got, reference_encode(&s), "{s:?}");
        let back = decode(&got).unwrap();
        assert!(same(&back, &s), "{s:?} → {back:?}");
    }
}

/// Chunks written by Prometheus 2.42's Go encoder (`seriesToChunkEncoder`, from its
/// streamed `/api/v1/read` answer in the e2e test `remote_read`, which re-encodes what it
/// remote-read from Sightline): 13 scrapes of a counter, of `+Inf` and of 64.0 at 1 s.
/// Decoding and re-encoding them gives Prometheus' bytes back.
#[test]
fn prometheus_chunks_re_encode_identically() {
    let hex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    for (chunk, n) in [
        (
            "000dc0b88ce5c8683f8622a34ba7a6d6e807db8f74b1af1b10e5a38e64511cf74ffad800f87df5133c\
          1b8142ffd2f89261e40b0b78bffa831a75aa07a7a02001a03164eeb7e98ffbffd8129aaf18fc3d0a\
          fff6fc6024711aabd880038715beafa9bee1a000acbb5176873c4ac80028827873ba8122d6fff6f4\
          5eefe7ab68df00",
            13,
        ),
        (
            "000dc0b88ce5c8687ff0000000000000e8071001ebff45ffd200197ffabffd4001a00090004bffd0",
            13,
        ),
        ("000dc0b88ce5c8684044000000000000e807c26c044000080030", 13),
    ] {
        let bytes = hex(chunk);
        let samples = decode(&bytes).unwrap();
        assert_eq!(samples.len(), n);
        assert_eq!(encode(&samples), bytes);
        assert_eq!(reference_encode(&samples), bytes);
    }
}

#[test]
fn random_series_match_reference() {
    // A small LCG: timestamps with every kind of jitter and jump, values with random bit
    // patterns, repeats and small changes.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        x
    };
    for _ in 0..300 {
        let n = (next() % 130) as usize;
        let mut t = (next() % 2_000_000_000_000) as i64;
        let mut v = f64::from_bits(next());
        let mut s = Vec::with_capacity(n);
        for _ in 0..n {
            t += match next() % 6 {
                0 => 15_000,
                1 => 15_000 + (next() % 40) as i64 - 20,
                2 => (next() % 300_000) as i64,
                3 => (next() % 5_000_000_000) as i64,
                _ => 1_000,
            };
            v = match next() % 5 {
                0 => v,
                1 => v + 1.0,
                2 => f64::from_bits(next()),
                3 => (next() % 1000) as f64 * 0.25,
                _ => f64::from_bits(v.to_bits() ^ (1 << (next() % 64))),
            };
            s.push((t, v));
        }
        let got = encode(&s);
        assert_eq!(got, reference_encode(&s), "{s:?}");
        assert!(same(&decode(&got).unwrap(), &s));
    }
}

#[test]
fn hostile_chunks_are_errors() {
    assert!(decode(&[]).is_err());
    assert!(decode(&[0]).is_err());
    assert_eq!(decode(&[0, 0]).unwrap(), vec![]);
    // A count of 3 with one sample's bytes.
    let mut c = encode(&[(1, 1.0)]);
    c[1] = 3;
    assert!(decode(&c).is_err());
    for n in 0..40u8 {
        let mut junk = vec![0, n];
        junk.extend((0..n).map(|i| i.wrapping_mul(37) ^ 0xa5));
        let _ = decode(&junk);
    }
}
