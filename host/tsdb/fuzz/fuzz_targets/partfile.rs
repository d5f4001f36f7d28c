//! Any bytes as a partition file (after the magic): opening and reading it never panics.
//! The footer's section CRCs are recomputed from the (mutated) offsets, so the fuzzer gets
//! past the checksums into the symbol table and offset tables; records behind their own
//! CRC-32C are reached when a mutation keeps one intact.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sightline_tsdb::bench_support::{crc32c, read_partition_file};

const FOOTER: usize = 60;

fn fix_crcs(b: &mut [u8]) {
    if b.len() < 8 + FOOTER {
        return;
    }
    let f = b.len() - FOOTER;
    let off = |i: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[f + i * 8..f + i * 8 + 8]);
        u64::from_le_bytes(a) as usize
    };
    let (sym, series, ptable) = (off(0), off(1), off(3));
    if sym <= series && series <= f {
        let c = crc32c(&b[sym..series]);
        b[f + 48..f + 52].copy_from_slice(&c.to_le_bytes());
    }
    if ptable <= f {
        let c = crc32c(&b[ptable..f]);
        b[f + 52..f + 56].copy_from_slice(&c.to_le_bytes());
    }
    let c = crc32c(&b[f..f + 56]);
    b[f + 56..f + 60].copy_from_slice(&c.to_le_bytes());
}

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("sightline-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("0000000000000001");
    let mut bytes = b"SLPART01".to_vec();
    bytes.extend_from_slice(data);
    fix_crcs(&mut bytes);
    if std::fs::write(&path, &bytes).is_ok() {
        let _ = read_partition_file(&path);
    }
});
