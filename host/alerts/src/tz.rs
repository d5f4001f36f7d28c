//! Time zone offsets from the system's zone database (TZif files), as Go's
//! `time.LoadLocation` reads them, for evaluating `time_intervals` with a `location`.
//!
//! Only the transition table is used: moments after the last transition take its offset.
//! Debian's zone files are "fat" (transitions written out to 2037), so that covers the
//! present; the POSIX rule string in the footer is not interpreted.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// A parsed zone: transition times (Unix seconds) and the UTC offset from each on.
#[derive(Debug)]
pub(crate) struct Zone {
    transitions: Vec<(i64, i32)>,
    initial: i32,
}

impl Zone {
    /// The UTC offset in seconds at `t` (Unix seconds).
    pub(crate) fn offset_at(&self, t: i64) -> i32 {
        match self.transitions.partition_point(|(at, _)| *at <= t) {
            0 => self.initial,
            i => self.transitions[i - 1].1,
        }
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Parses a TZif file (version 1, or the 64-bit block of version 2 and later).
pub(crate) fn parse(b: &[u8]) -> Option<Zone> {
    if b.get(..4)? != b"TZif" {
        return None;
    }
    let counts = |at: usize| -> Option<[usize; 6]> {
        let mut c = [0usize; 6];
        for (i, v) in c.iter_mut().enumerate() {
            *v = be32(b, at + 20 + 4 * i)? as usize;
        }
        Some(c)
    };
    let [isut, isstd, leap, timecnt, typecnt, charcnt] = counts(0)?;
    let v1_len = 44 + timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut;
    let (base, size) = if b[4] >= b'2' { (v1_len, 8) } else { (0, 4) };
    let [_, _, _, timecnt, typecnt, _] = counts(base)?;
    let times_at = base + 44;
    let idx_at = times_at + timecnt * size;
    let types_at = idx_at + timecnt;
    let mut types = Vec::with_capacity(typecnt);
    for i in 0..typecnt {
        let off = be32(b, types_at + 6 * i)? as i32;
        let dst = *b.get(types_at + 6 * i + 4)? != 0;
        types.push((off, dst));
    }
    let mut transitions = Vec::with_capacity(timecnt);
    for i in 0..timecnt {
        let at = if size == 8 {
            i64::from_be_bytes(
                b.get(times_at + 8 * i..times_at + 8 * i + 8)?
                    .try_into()
                    .ok()?,
            )
        } else {
            i64::from(be32(b, times_at + 4 * i)? as i32)
        };
        let ty = *b.get(idx_at + i)? as usize;
        transitions.push((at, types.get(ty)?.0));
    }
    // Before the first transition Go uses the first standard-time type.
    let initial = types
        .iter()
        .find(|(_, dst)| !dst)
        .or(types.first())
        .map_or(0, |t| t.0);
    Some(Zone {
        transitions,
        initial,
    })
}

fn load(name: &str) -> Option<Zone> {
    if name.contains("..") || name.starts_with('/') || name.contains('\\') {
        return None;
    }
    let dirs = std::env::var("ZONEINFO").ok().into_iter().chain([
        "/usr/share/zoneinfo".to_string(),
        "/usr/share/lib/zoneinfo".to_string(),
        "/usr/lib/locale/TZ".to_string(),
    ]);
    for d in dirs {
        let p = PathBuf::from(d).join(name);
        if let Ok(b) = std::fs::read(&p) {
            return parse(&b);
        }
    }
    None
}

/// The zone named `name`, read once and cached; `None` when it cannot be read.
pub(crate) fn zone(name: &str) -> Option<Arc<Zone>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Arc<Zone>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
    c.entry(name.to_string())
        .or_insert_with(|| load(name).map(Arc::new))
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn berlin_has_summer_time() {
        if !std::path::Path::new("/usr/share/zoneinfo/Europe/Berlin").exists() {
            // No zone database on this machine: nothing to check.
            return;
        }
        let z = zone("Europe/Berlin").unwrap();
        // 2024-01-15T12:00:00Z and 2024-07-15T12:00:00Z.
        assert_eq!(z.offset_at(1_705_320_000), 3600);
        assert_eq!(z.offset_at(1_721_044_800), 7200);
    }
}
