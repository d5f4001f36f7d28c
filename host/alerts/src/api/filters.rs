//! Query parameters, filters and orderings of API v2, as Alertmanager 0.25 applies them.

use std::cmp::Ordering;

use crate::api::backend::{ApiAlert, ApiAlertState, ApiAlertStatus, ApiSilence, ApiSilenceState};
use crate::matchers::{parse_filter_matchers, LabelSet, MatchType, Matcher};

/// A decoded query string: `(name, value)` pairs in order, repeated names kept.
#[derive(Debug, Default)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Query {
        Query(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Every value of `name` (go-swagger's `collectionFormat: multi`).
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The last non-empty value of `name`, as go-swagger binds a single parameter (an empty
    /// value counts as absent).
    pub(crate) fn last(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A boolean parameter as `swag.ConvertBool` reads it: `true`, `yes`, `ok`, `y`, `on`,
    /// `selected`, `checked`, `t`, `enabled` (any case) are true, anything else false;
    /// absent or empty gives the default.
    pub(crate) fn bool(&self, name: &str, default: bool) -> bool {
        match self.last(name) {
            None => default,
            Some(v) => matches!(
                v.to_ascii_lowercase().as_str(),
                "true" | "yes" | "ok" | "y" | "on" | "selected" | "checked" | "t" | "enabled"
            ),
        }
    }
}

/// The parameters `GET /api/v2/alerts` and `/alerts/groups` share.
#[derive(Debug)]
pub(crate) struct AlertParams {
    pub(crate) matchers: Vec<Matcher>,
    pub(crate) receiver: Option<regex::Regex>,
    pub(crate) active: bool,
    pub(crate) silenced: bool,
    pub(crate) inhibited: bool,
}

impl AlertParams {
    /// Parses them with Alertmanager's errors (the filter first, then the receiver). The
    /// `unprocessed` parameter is accepted and, as in Alertmanager 0.25, has no effect.
    pub(crate) fn parse(q: &Query) -> Result<AlertParams, String> {
        let matchers = parse_filter_matchers(&q.all("filter")).map_err(|e| e.message())?;
        let receiver = match q.last("receiver") {
            None => None,
            Some(r) => {
                let anchored = format!("^(?:{r})$");
                Some(regex::Regex::new(&anchored).map_err(|e| {
                    format!(
                        "failed to parse receiver param: error parsing regexp: {}",
                        crate::silence::go_regex_error(&anchored, &e.to_string())
                    )
                })?)
            }
        };
        Ok(AlertParams {
            matchers,
            receiver,
            active: q.bool("active", true),
            silenced: q.bool("silenced", true),
            inhibited: q.bool("inhibited", true),
        })
    }

    /// `alertFilter`: not resolved, the state flags, and the label filter.
    pub(crate) fn keeps(&self, a: &ApiAlert, now_ms: i64) -> bool {
        if matches!(a.alert.ends_at, Some(e) if e < now_ms) {
            return false;
        }
        let s: &ApiAlertStatus = &a.status;
        if !self.active && s.state == ApiAlertState::Active {
            return false;
        }
        if !self.silenced && !s.silenced_by.is_empty() {
            return false;
        }
        if !self.inhibited && !s.inhibited_by.is_empty() {
            return false;
        }
        match_filter_labels(&self.matchers, &a.alert.labels)
    }

    /// Whether a receiver name passes the receiver filter.
    pub(crate) fn receiver_ok(&self, name: &str) -> bool {
        self.receiver.as_ref().is_none_or(|re| re.is_match(name))
    }
}

/// `matchFilterLabels`: an empty-valued equality matcher holds on an absent label, an
/// empty-valued negative matcher holds on a present one.
pub(crate) fn match_filter_labels(matchers: &[Matcher], ls: &LabelSet) -> bool {
    matchers.iter().all(|m| {
        let v = ls.get(&m.name);
        match m.kind {
            MatchType::NotRegexp | MatchType::NotEqual => {
                (m.value.is_empty() && v.is_some()) || m.matches(v.map_or("", String::as_str))
            }
            MatchType::Equal | MatchType::Regexp => {
                (m.value.is_empty() && v.is_none()) || m.matches(v.map_or("", String::as_str))
            }
        }
    })
}

/// `CheckSilenceMatchesFilterLabels`: every filter matcher equals (name, type, value) one of
/// the silence's matchers.
pub(crate) fn silence_matches_filter(s: &ApiSilence, filter: &[Matcher]) -> bool {
    filter.iter().all(|f| {
        s.matchers
            .iter()
            .any(|m| m.name == f.name && m.kind() == f.kind && m.value == f.value)
    })
}

/// `SortSilences`: active first (soonest end first), then pending (soonest start first),
/// then expired (most recent end first).
pub(crate) fn sort_silences(sils: &mut [ApiSilence]) {
    let rank = |s: ApiSilenceState| match s {
        ApiSilenceState::Active => 1,
        ApiSilenceState::Pending => 2,
        ApiSilenceState::Expired => 3,
    };
    sils.sort_by(|a, b| {
        rank(a.state)
            .cmp(&rank(b.state))
            .then_with(|| match a.state {
                ApiSilenceState::Active => a.ends_at.cmp(&b.ends_at),
                ApiSilenceState::Pending => a.starts_at.cmp(&b.starts_at),
                ApiSilenceState::Expired => b.ends_at.cmp(&a.ends_at),
            })
    });
}

/// `model.LabelSet.Before`: fewer labels first; then, over the union of names in order,
/// the first difference (a missing name sorts first).
pub(crate) fn labels_cmp(a: &LabelSet, b: &LabelSet) -> Ordering {
    if a.len() != b.len() {
        return a.len().cmp(&b.len());
    }
    let mut names: Vec<&String> = a.keys().chain(b.keys()).collect();
    names.sort();
    for n in names {
        match (a.get(n), b.get(n)) {
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => {}
        }
    }
    Ordering::Equal
}

/// `types.AlertSlice`'s order: by `job`, then `instance` (an alert without the label after
/// those with it), then the label sets.
pub(crate) fn alert_slice_cmp(a: &LabelSet, b: &LabelSet) -> Ordering {
    for key in ["job", "instance"] {
        match (a.get(key), b.get(key)) {
            (None, None) => continue,
            (None, Some(_)) => return Ordering::Greater,
            (Some(_), None) => return Ordering::Less,
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => {}
        }
    }
    labels_cmp(a, b)
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
    fn label_set_order_is_prometheus_before() {
        assert_eq!(
            labels_cmp(&ls(&[("z", "1")]), &ls(&[("a", "1"), ("b", "1")])),
            Ordering::Less
        );
        assert_eq!(
            labels_cmp(&ls(&[("a", "1")]), &ls(&[("b", "1")])),
            Ordering::Greater
        );
        assert_eq!(
            labels_cmp(&ls(&[("a", "1")]), &ls(&[("a", "2")])),
            Ordering::Less
        );
        assert_eq!(
            labels_cmp(&ls(&[("a", "1")]), &ls(&[("a", "1")])),
            Ordering::Equal
        );
    }

    #[test]
    fn alert_slice_orders_by_job_then_instance() {
        let a = ls(&[("job", "b"), ("x", "1")]);
        let b = ls(&[("job", "a"), ("x", "2"), ("y", "1")]);
        let c = ls(&[("x", "0")]);
        assert_eq!(alert_slice_cmp(&a, &b), Ordering::Greater);
        assert_eq!(alert_slice_cmp(&a, &c), Ordering::Less);
        assert_eq!(alert_slice_cmp(&c, &a), Ordering::Greater);
    }

    #[test]
    fn empty_filter_values_as_alertmanager() {
        let m = |s: &str| parse_filter_matchers(&[s.to_string()]).unwrap();
        let with = ls(&[("a", "1")]);
        let without = ls(&[("b", "1")]);
        assert!(match_filter_labels(&m("a=\"\""), &without));
        assert!(!match_filter_labels(&m("a=\"\""), &with));
        assert!(match_filter_labels(&m("a!=\"\""), &with));
        assert!(!match_filter_labels(&m("a!=\"\""), &without));
        assert!(match_filter_labels(&m("a=~\"1|2\""), &with));
    }

    #[test]
    fn booleans_as_swag_reads_them() {
        let q = Query::parse(Some("a=yes&b=0&c=&d=TRUE&d=false"));
        assert!(q.bool("a", false));
        assert!(!q.bool("b", true));
        assert!(q.bool("c", true));
        assert!(!q.bool("d", true));
        assert!(q.bool("missing", true));
    }
}
