//! `inhibit_rules:` (`config.InhibitRule`) and their evaluation (`inhibit.Inhibitor.Mutes`)
//! as a pure function over the firing alerts.

use crate::matchers::{LabelSet, Matcher, Matchers};
use crate::route::{
    is_classic_label_name, is_valid_label_name, parse_match, parse_match_re, parse_matcher_list,
};
use crate::yamlx::{self, entries, Node, Src, R};

/// One inhibition rule.
#[derive(Debug, Clone, Default)]
pub struct InhibitRule {
    /// `name` (optional).
    pub name: String,
    /// `source_match`, `source_match_re` and `source_matchers` together.
    pub source_matchers: Matchers,
    /// `target_match`, `target_match_re` and `target_matchers` together.
    pub target_matchers: Matchers,
    /// `equal`: labels whose values must be the same on source and target.
    pub equal: Vec<String>,
}

const KEYS: &[&str] = &[
    "name",
    "source_match",
    "source_match_re",
    "source_matchers",
    "target_match",
    "target_match_re",
    "target_matchers",
    "equal",
];

pub(crate) fn parse(src: Src<'_>, n: &Node<'_>) -> R<InhibitRule> {
    let mut r = InhibitRule::default();
    let (mut src_m, mut tgt_m): (Vec<Matcher>, Vec<Matcher>) = (Vec::new(), Vec::new());
    for (key, c) in entries(src, n, "common.plain", KEYS)? {
        match key.as_str() {
            "name" => r.name = yamlx::string(src, &c)?,
            "source_match" => src_m.extend(parse_match(src, &c)?),
            "source_match_re" => src_m.extend(parse_match_re(src, &c)?),
            "source_matchers" => {
                let mut ms = Matchers(parse_matcher_list(src, &c)?);
                ms.sort();
                src_m.extend(ms.0);
            }
            "target_match" => tgt_m.extend(parse_match(src, &c)?),
            "target_match_re" => tgt_m.extend(parse_match_re(src, &c)?),
            "target_matchers" => {
                let mut ms = Matchers(parse_matcher_list(src, &c)?);
                ms.sort();
                tgt_m.extend(ms.0);
            }
            _ => {
                for (i, l) in yamlx::string_list(src, &c)?.into_iter().enumerate() {
                    if !is_valid_label_name(&l) {
                        return Err(src.err(
                            &c.child(i, c.v).path,
                            format!("invalid label name {l:?} in equal list"),
                        ));
                    }
                    r.equal.push(l);
                }
            }
        }
    }
    let _ = is_classic_label_name;
    r.source_matchers = Matchers(src_m);
    r.target_matchers = Matchers(tgt_m);
    Ok(r)
}

impl InhibitRule {
    /// Whether this rule mutes `target` given the currently firing (unresolved) alerts, as
    /// Alertmanager 0.25's `hasEqual` decides: some firing alert matches the source matchers
    /// and has the same values (absent reads as empty) for every `equal` label; when the
    /// target itself matches the source matchers, a source alert that also matches the target
    /// matchers does not count (an alert never inhibits itself or its twins).
    pub fn mutes(&self, firing: &[LabelSet], target: &LabelSet) -> bool {
        if !self.target_matchers.matches(target) {
            return false;
        }
        let two_sided = self.source_matchers.matches(target);
        let get = |ls: &LabelSet, k: &str| ls.get(k).cloned().unwrap_or_default();
        firing.iter().any(|a| {
            self.source_matchers.matches(a)
                && self.equal.iter().all(|n| get(a, n) == get(target, n))
                && !(two_sided && self.target_matchers.matches(a))
        })
    }
}

/// The index of the first rule that mutes `target`, if any (`Inhibitor.Mutes`).
pub fn inhibited_by(
    rules: &[InhibitRule],
    firing: &[LabelSet],
    target: &LabelSet,
) -> Option<usize> {
    rules.iter().position(|r| r.mutes(firing, target))
}

/// A silence's matching (`silence.Silences` with `CalcSilenceState`): it mutes an alert
/// while `starts_at <= now < ends_at` (milliseconds) and every matcher holds.
pub fn silence_mutes(
    matchers: &Matchers,
    starts_at_ms: i64,
    ends_at_ms: i64,
    now_ms: i64,
    labels: &LabelSet,
) -> bool {
    starts_at_ms <= now_ms && now_ms < ends_at_ms && matchers.matches(labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matchers::parse_matchers;

    fn ls(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn rule(src: &str, tgt: &str, equal: &[&str]) -> InhibitRule {
        InhibitRule {
            name: String::new(),
            source_matchers: Matchers(parse_matchers(src).unwrap()),
            target_matchers: Matchers(parse_matchers(tgt).unwrap()),
            equal: equal.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn critical_inhibits_warning_of_the_same_cluster() {
        let r = rule(
            r#"severity="critical""#,
            r#"severity="warning""#,
            &["cluster"],
        );
        let firing = vec![ls(&[
            ("alertname", "Down"),
            ("severity", "critical"),
            ("cluster", "a"),
        ])];
        assert!(r.mutes(&firing, &ls(&[("severity", "warning"), ("cluster", "a")])));
        assert!(!r.mutes(&firing, &ls(&[("severity", "warning"), ("cluster", "b")])));
        // Absent on both sides counts as equal, absent on one side does not.
        let firing2 = vec![ls(&[("severity", "critical")])];
        assert!(r.mutes(&firing2, &ls(&[("severity", "warning")])));
        assert!(!r.mutes(&firing2, &ls(&[("severity", "warning"), ("cluster", "a")])));
        assert!(!r.mutes(&[], &ls(&[("severity", "warning")])));
        // The target must match the target matchers.
        assert!(!r.mutes(&firing, &ls(&[("severity", "info"), ("cluster", "a")])));
    }

    #[test]
    fn regex_matchers_are_anchored_and_two_sided_matches_excluded() {
        let r = rule(
            r#"alertname=~"Node.*""#,
            r#"alertname=~"Node.*""#,
            &["instance"],
        );
        let a = ls(&[("alertname", "NodeDown"), ("instance", "x")]);
        // An alert matching both sides does not inhibit itself (or a twin matching both).
        assert!(!r.mutes(std::slice::from_ref(&a), &a));
        let r = rule(r#"alertname=~"Down""#, r#"alertname!~"Down""#, &[]);
        assert!(!r.mutes(
            &[ls(&[("alertname", "NodeDown")])],
            &ls(&[("alertname", "X")])
        ));
        assert!(r.mutes(&[ls(&[("alertname", "Down")])], &ls(&[("alertname", "X")])));
        assert_eq!(
            inhibited_by(
                std::slice::from_ref(&r),
                &[ls(&[("alertname", "Down")])],
                &ls(&[("alertname", "X")])
            ),
            Some(0)
        );
    }

    #[test]
    fn silences_mute_between_start_and_end() {
        let m =
            Matchers(parse_matchers(r#"{job="api", env!="dev", instance=~"web-[0-9]+"}"#).unwrap());
        let alert = ls(&[("job", "api"), ("env", "prod"), ("instance", "web-12")]);
        assert!(silence_mutes(&m, 100, 200, 100, &alert));
        assert!(silence_mutes(&m, 100, 200, 199, &alert));
        assert!(
            !silence_mutes(&m, 100, 200, 200, &alert),
            "expired at ends_at"
        );
        assert!(
            !silence_mutes(&m, 100, 200, 99, &alert),
            "pending before starts_at"
        );
        assert!(!silence_mutes(
            &m,
            100,
            200,
            150,
            &ls(&[("job", "api"), ("env", "dev"), ("instance", "web-1")])
        ));
        assert!(!silence_mutes(
            &m,
            100,
            200,
            150,
            &ls(&[("job", "api"), ("instance", "xweb-1")])
        ));
    }
}
