//! The alert as Alertmanager keeps it (`types.Alert`): labels, annotations, the time range
//! in which it fires, and its fingerprint.
//!
//! Times are Unix milliseconds. Go's zero `time.Time` (an alert posted without `endsAt`) is
//! `None`; [`rfc3339`] prints it as Go does (`0001-01-01T00:00:00Z`).

use serde::{Deserialize, Serialize};

use crate::matchers::LabelSet;

/// Alertmanager's alert fingerprint (`model.LabelSet.Fingerprint`): FNV-1a 64 over the
/// sorted label names and values, each followed by the separator byte 255.
pub type Fingerprint = u64;

const FNV_OFFSET: u64 = 14_695_981_039_346_656_037;
const FNV_PRIME: u64 = 1_099_511_628_211;

/// The fingerprint of a label set, as `model.LabelSet.Fingerprint` computes it.
pub fn fingerprint(ls: &LabelSet) -> Fingerprint {
    let mut h = FNV_OFFSET;
    let mut add = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(FNV_PRIME);
        }
    };
    // A `BTreeMap` iterates in name order, the order Go sorts the names into.
    for (name, value) in ls {
        add(name.as_bytes());
        add(&[255]);
        add(value.as_bytes());
        add(&[255]);
    }
    h
}

/// A fingerprint as Alertmanager prints it: 16 lower-case hex digits.
pub fn fingerprint_hex(fp: Fingerprint) -> String {
    format!("{fp:016x}")
}

/// One alert (`types.Alert`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Identifying labels.
    pub labels: LabelSet,
    /// Annotations.
    pub annotations: LabelSet,
    /// When it started firing (Unix ms).
    pub starts_at: i64,
    /// When it stops or stopped firing (Unix ms); `None` is Go's zero time.
    pub ends_at: Option<i64>,
    /// Link back to the rule that produced it.
    pub generator_url: String,
    /// When Alertmanager last received it (Unix ms).
    pub updated_at: i64,
    /// Whether `ends_at` was set by Alertmanager (`resolve_timeout`) rather than by the
    /// sender.
    pub timeout: bool,
}

impl Alert {
    /// Its fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        fingerprint(&self.labels)
    }

    /// Whether it is resolved at `now_ms` (`Alert.ResolvedAt`: an end time that has
    /// passed).
    pub fn resolved_at(&self, now_ms: i64) -> bool {
        matches!(self.ends_at, Some(e) if e <= now_ms)
    }

    /// `firing` or `resolved` at `now_ms`.
    pub fn status_at(&self, now_ms: i64) -> &'static str {
        if self.resolved_at(now_ms) {
            "resolved"
        } else {
            "firing"
        }
    }
}

/// Formats Unix milliseconds as Go's `time.Time` JSON (RFC 3339 with up to nanosecond
/// precision, trailing zeros trimmed); `None` is Go's zero time.
pub fn rfc3339(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "0001-01-01T00:00:00Z".to_string();
    };
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => {
            let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
            // Go's RFC3339Nano drops trailing zeros of the fraction, and the dot with them.
            let frac = format!("{:03}", ms.rem_euclid(1000));
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                format!("{base}Z")
            } else {
                format!("{base}.{frac}Z")
            }
        }
        None => "0001-01-01T00:00:00Z".to_string(),
    }
}

/// Formats Unix milliseconds as API v2's `strfmt.DateTime` (always three fraction
/// digits: `2006-01-02T15:04:05.000Z`).
pub fn rfc3339_millis(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        None => "0001-01-01T00:00:00.000Z".to_string(),
    }
}

/// Parses an RFC 3339 time into Unix milliseconds; Go's zero time gives `None`.
pub fn parse_rfc3339(s: &str) -> Result<Option<i64>, String> {
    let t =
        chrono::DateTime::parse_from_rfc3339(s).map_err(|e| format!("invalid time {s:?}: {e}"))?;
    let ms = t.timestamp_millis();
    // Go's zero time, 0001-01-01T00:00:00Z.
    if ms <= -62_135_596_800_000 {
        return Ok(None);
    }
    Ok(Some(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fingerprints_are_alertmanagers() {
        // Values from prometheus/common model/signature_test.go (TestLabelsToSignature,
        // the same hash over a map).
        assert_eq!(fingerprint(&LabelSet::new()), 14_695_981_039_346_656_037);
        assert_eq!(
            fingerprint(&ls(&[
                ("name", "garland, briggs"),
                ("fear", "love is not enough")
            ])),
            5_799_056_148_416_392_346
        );
        assert_eq!(
            fingerprint_hex(fingerprint(&LabelSet::new())),
            "cbf29ce484222325"
        );
    }

    #[test]
    fn times_print_as_go() {
        assert_eq!(rfc3339(None), "0001-01-01T00:00:00Z");
        assert_eq!(rfc3339(Some(0)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(Some(1_500)), "1970-01-01T00:00:01.5Z");
        assert_eq!(rfc3339_millis(1_500), "1970-01-01T00:00:01.500Z");
        assert_eq!(parse_rfc3339("0001-01-01T00:00:00Z").unwrap(), None);
        assert_eq!(
            parse_rfc3339("1970-01-01T00:00:01.5+00:00").unwrap(),
            Some(1_500)
        );
    }
}
