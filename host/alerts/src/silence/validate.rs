//! Alertmanager 0.25's silence rules as pure functions: validation with its messages
//! (`validateSilence`, `ValidateMatcher`), which edits may change a silence in place
//! (`canUpdate`), the API's request checks (`postSilencesHandler`) and UUID v4 ids.

use crate::error::{Error, Result};
use crate::matchers::{go_quote, MatchType, Matcher};

use super::{Silence, SilenceState, ZERO_TIME_MS};

/// One matcher of a silence as the API receives it, not yet compiled, so that an invalid one
/// is reported with Alertmanager's message and position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatcherSpec {
    /// The operator.
    pub kind: MatchType,
    /// The label name.
    pub name: String,
    /// The value or the regular expression's source.
    pub value: String,
}

/// Whether a time is Go's zero time (the API's way of saying "not set").
pub(crate) fn is_zero(ms: i64) -> bool {
    ms <= ZERO_TIME_MS
}

/// `ValidateMatcher`: a legacy label name, and for the regex kinds a pattern Go's `regexp`
/// compiles. Label values need no check: a Rust string is always valid UTF-8.
fn validate_matcher(kind: MatchType, name: &str, value: &str) -> std::result::Result<(), String> {
    if !sightline_model::is_valid_label_name(name) {
        return Err(format!("invalid label name {}", go_quote(name)));
    }
    if matches!(kind, MatchType::Regexp | MatchType::NotRegexp) {
        // Alertmanager compiles the pattern unanchored; `Matcher::new` compiles it wrapped in
        // `^(?:...)$`, which accepts some patterns (`a)|(b`) Go refuses, so check both.
        if let Err(e) = regex::Regex::new(value) {
            return Err(format!(
                "invalid regular expression {}: error parsing regexp: {}",
                go_quote(value),
                go_regex_error(value, &e.to_string())
            ));
        }
    }
    Ok(())
}

/// Go's `regexp` error text for a pattern the regex crate refused, for the common errors
/// (`missing closing ): `((``), otherwise the regex crate's own one-line message. The regex
/// crate's errors are several lines: the pattern, a caret line under the offending span and
/// `error: ...`.
pub(crate) fn go_regex_error(pattern: &str, rust: &str) -> String {
    let lines: Vec<&str> = rust.lines().collect();
    let message = lines
        .iter()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error:"))
        .map(str::trim)
        .unwrap_or_else(|| lines.first().copied().unwrap_or_default());
    // The caret line is indented like the pattern line above it.
    let span = lines
        .iter()
        .position(|l| l.trim() == pattern)
        .and_then(|i| {
            let indent = lines[i].len() - lines[i].trim_start().len();
            let carets = lines.get(i + 1)?;
            let start = carets.find('^')?.checked_sub(indent)?;
            let len = carets.trim().len();
            Some((start, len))
        });
    let frag = |from: usize, len: Option<usize>| -> Option<&str> {
        let rest = pattern.get(from..)?;
        match len {
            Some(n) => rest.get(..n),
            None => Some(rest),
        }
    };
    let go = match (message, span) {
        ("unclosed group", _) => Some(("missing closing )", Some(pattern))),
        ("unopened group", _) => Some(("unexpected )", Some(pattern))),
        ("unclosed character class", Some((start, _))) => {
            Some(("missing closing ]", frag(start, None)))
        }
        ("repetition operator missing expression", Some((start, len))) => Some((
            "missing argument to repetition operator",
            frag(start, Some(len)),
        )),
        (m, Some((start, len))) if m.starts_with("invalid repetition count range") => {
            Some(("invalid repeat count", frag(start, Some(len))))
        }
        _ => None,
    };
    match go {
        Some((code, Some(expr))) => format!("{code}: `{expr}`"),
        _ => message.to_string(),
    }
}

/// `matchesEmpty`: whether a matcher accepts an absent label.
fn matches_empty(m: &Matcher) -> bool {
    match m.kind {
        MatchType::Equal => m.value.is_empty(),
        MatchType::Regexp => m.matches(""),
        MatchType::NotEqual | MatchType::NotRegexp => false,
    }
}

/// Compiles matchers received over the API, failing with Alertmanager's message for the
/// first invalid one (`silence invalid: invalid label matcher 1: invalid label name "0a"`).
pub fn build_matchers(specs: &[MatcherSpec]) -> Result<Vec<Matcher>> {
    specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let invalid = |why: String| {
                Error::SilenceInvalid(format!("silence invalid: invalid label matcher {i}: {why}"))
            };
            validate_matcher(s.kind, &s.name, &s.value).map_err(invalid)?;
            Matcher::new(s.kind, &s.name, &s.value).map_err(|e| {
                invalid(format!(
                    "invalid regular expression {}: {}",
                    go_quote(&s.value),
                    e.message().lines().next().unwrap_or_default()
                ))
            })
        })
        .collect()
}

/// `validateSilence`, with the messages Alertmanager wraps in `silence invalid: `.
pub(crate) fn validate(s: &Silence) -> std::result::Result<(), String> {
    if s.id.is_empty() {
        return Err("ID missing".into());
    }
    if s.matchers.is_empty() {
        return Err("at least one matcher required".into());
    }
    let mut all_match_empty = true;
    for (i, m) in s.matchers.iter().enumerate() {
        validate_matcher(m.kind, &m.name, &m.value)
            .map_err(|e| format!("invalid label matcher {i}: {e}"))?;
        all_match_empty = all_match_empty && matches_empty(m);
    }
    if all_match_empty {
        return Err("at least one matcher must not match the empty string".into());
    }
    if is_zero(s.starts_at) {
        return Err("invalid zero start timestamp".into());
    }
    if is_zero(s.ends_at) {
        return Err("invalid zero end timestamp".into());
    }
    if s.ends_at < s.starts_at {
        return Err("end time must not be before start time".into());
    }
    if is_zero(s.updated_at) {
        return Err("invalid zero update timestamp".into());
    }
    Ok(())
}

/// `canUpdate`: whether `a` may become `b` without rewriting history. Matchers must be the
/// same (in order); an active silence keeps its start (compared in whole seconds, as
/// Alertmanager compares `Unix()`) and may not end before now; a pending one may not start
/// before now; an expired one never changes.
pub(crate) fn can_update(a: &Silence, b: &Silence, now_ms: i64) -> bool {
    if a.matchers != b.matchers {
        return false;
    }
    match a.state(now_ms) {
        SilenceState::Active => {
            b.starts_at.div_euclid(1000) == a.starts_at.div_euclid(1000) && b.ends_at >= now_ms
        }
        SilenceState::Pending => b.starts_at >= now_ms,
        SilenceState::Expired => false,
    }
}

/// The checks `postSilencesHandler` makes before `Set`, with its messages.
pub(crate) fn check_post(starts_at: i64, ends_at: i64, now_ms: i64) -> Result<()> {
    if starts_at >= ends_at {
        return Err(Error::SilenceInvalid(
            "Failed to create silence: start time must be before end time".into(),
        ));
    }
    if ends_at < now_ms {
        return Err(Error::SilenceInvalid(
            "Failed to create silence: end time can't be in the past".into(),
        ));
    }
    Ok(())
}

/// A random (version 4) UUID in its canonical text form, as `gofrs/uuid.NewV4` makes.
pub(crate) fn new_uuid() -> Result<String> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b)
        .map_err(|e| Error::SilenceInvalid(format!("generate uuid: {e}")))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4() {
        let a = new_uuid().unwrap();
        let b = new_uuid().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!("89ab".contains(&a[19..20]));
    }

    #[test]
    fn regex_errors_read_as_gos() {
        // Each expectation is what Alertmanager 0.25 answered to the same POST.
        let cases = [
            ("((", "missing closing ): `((`"),
            ("a)|(b", "unexpected ): `a)|(b`"),
            ("[a", "missing closing ]: `[a`"),
            ("x[a", "missing closing ]: `[a`"),
            ("*a", "missing argument to repetition operator: `*`"),
            ("x{2,1}", "invalid repeat count: `{2,1}`"),
        ];
        for (pattern, want) in cases {
            let e = build_matchers(&[MatcherSpec {
                kind: MatchType::Regexp,
                name: "a".into(),
                value: pattern.into(),
            }])
            .unwrap_err()
            .to_string();
            assert_eq!(
                e,
                format!(
                    "silence invalid: invalid label matcher 0: invalid regular expression {}: error parsing regexp: {want}",
                    go_quote(pattern)
                )
            );
        }
        // Others keep the regex crate's message, on one line.
        let e = build_matchers(&[MatcherSpec {
            kind: MatchType::Regexp,
            name: "a".into(),
            value: "\\p{Foo}".into(),
        }])
        .unwrap_err()
        .to_string();
        assert!(
            e.ends_with("error parsing regexp: Unicode property not found"),
            "{e}"
        );
    }
}
