//! The `route:` tree: its configuration (`config.Route`) and the routing tree Alertmanager
//! builds from it (`dispatch/route.go`): option inheritance, depth-first matching with
//! `continue`, and the `Key()`/`ID()` strings that name aggregation groups.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_yaml::Value;

use crate::matchers::{parse_matchers, LabelSet, MatchType, Matcher, Matchers};
use crate::yamlx::{self, entries, Node, Src, R};

/// One `route:` node as configured.
#[derive(Debug, Clone, Default)]
pub struct RouteConfig {
    /// `receiver` (empty: inherited).
    pub receiver: String,
    /// `group_by` without `...`; `None` when not given (inherited).
    pub group_by: Option<Vec<String>>,
    /// `group_by: ['...']`.
    pub group_by_all: bool,
    /// `match`, `match_re` and `matchers` together, sorted as Alertmanager sorts them.
    pub matchers: Matchers,
    /// `mute_time_intervals`.
    pub mute_time_intervals: Vec<String>,
    /// `active_time_intervals`.
    pub active_time_intervals: Vec<String>,
    /// `continue`.
    pub continue_matching: bool,
    /// `routes`.
    pub routes: Vec<RouteConfig>,
    /// `group_wait`.
    pub group_wait: Option<Duration>,
    /// `group_interval`.
    pub group_interval: Option<Duration>,
    /// `repeat_interval`.
    pub repeat_interval: Option<Duration>,
    /// `labels`, inherited by child routes.
    pub labels: BTreeMap<String, String>,
    /// Whether any of `match`, `match_re`, `matchers` was given (the root may have none).
    pub(crate) has_matchers: bool,
    /// Where the route is in the file, for errors found after parsing.
    pub(crate) path: Vec<sightline_config::yaml::Seg>,
}

/// Prometheus' classic label names (`model.LabelNameRE`).
pub(crate) fn is_classic_label_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Alertmanager's default (UTF-8) label name validity: non-empty.
pub(crate) fn is_valid_label_name(s: &str) -> bool {
    !s.is_empty()
}

/// `match:` (equality) pairs, label names checked the classic way.
pub(crate) fn parse_match(src: Src<'_>, n: &Node<'_>) -> R<Vec<Matcher>> {
    let mut out = Vec::new();
    for (k, v, path) in yamlx::string_map(src, n)? {
        if !is_classic_label_name(&k) {
            return Err(src.err(&path, format!("invalid label name {k:?}")));
        }
        out.push(
            Matcher::new(MatchType::Equal, &k, &v).map_err(|e| src.err(&path, e.to_string()))?,
        );
    }
    Ok(out)
}

/// `match_re:` pairs: the regex is anchored when read and that anchored text is the matcher's
/// value, as `Regexp.String()` hands it to `labels.NewMatcher`.
pub(crate) fn parse_match_re(src: Src<'_>, n: &Node<'_>) -> R<Vec<Matcher>> {
    let m = match n.v {
        Value::Null => return Ok(Vec::new()),
        Value::Mapping(m) => m,
        other => {
            return Err(src.err(
                &n.path,
                format!(
                    "cannot unmarshal {} into config.MatchRegexps",
                    yamlx::kind_name(other)
                ),
            ))
        }
    };
    let mut out = Vec::new();
    for (k, v) in m {
        let key = yamlx::scalar_text(k).unwrap_or_default();
        let c = n.child(key.as_str(), v);
        if v.is_null() {
            if !is_classic_label_name(&key) {
                return Err(src.err(&c.path, format!("invalid label name {key:?}")));
            }
            return Err(src.err(&c.path, format!("invalid regexp value for {key:?}")));
        }
        let re = yamlx::string(src, &c)?;
        let anchored = format!("^(?:{re})$");
        regex::Regex::new(&anchored)
            .map_err(|e| src.err(&c.path, format!("error parsing regexp: {e}")))?;
        if !is_classic_label_name(&key) {
            return Err(src.err(&c.path, format!("invalid label name {key:?}")));
        }
        out.push(
            Matcher::new(MatchType::Regexp, &key, &anchored)
                .map_err(|e| src.err(&c.path, e.to_string()))?,
        );
    }
    Ok(out)
}

/// `matchers:` strings, each parsed in Alertmanager's fallback mode.
pub(crate) fn parse_matcher_list(src: Src<'_>, n: &Node<'_>) -> R<Vec<Matcher>> {
    let mut out = Vec::new();
    for item in yamlx::list(src, n, "string")? {
        let line = yamlx::string(src, &item)?;
        out.extend(parse_matchers(&line).map_err(|e| src.err(&item.path, e.to_string()))?);
    }
    Ok(out)
}

const ROUTE_KEYS: &[&str] = &[
    "receiver",
    "group_by",
    "match",
    "match_re",
    "matchers",
    "mute_time_intervals",
    "active_time_intervals",
    "continue",
    "routes",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "labels",
];

pub(crate) fn parse_route(src: Src<'_>, n: &Node<'_>) -> R<RouteConfig> {
    let mut r = RouteConfig {
        path: n.path.clone(),
        ..RouteConfig::default()
    };
    let mut eq = Vec::new();
    let mut re = Vec::new();
    let mut ms = Vec::new();
    let mut group_by_node = None;
    for (key, c) in entries(src, n, "config.plain", ROUTE_KEYS)? {
        match key.as_str() {
            "receiver" => r.receiver = yamlx::string(src, &c)?,
            "group_by" => {
                if !c.is_null() {
                    r.group_by = Some(yamlx::string_list(src, &c)?);
                    group_by_node = Some(c.path.clone());
                }
            }
            "match" => eq = parse_match(src, &c)?,
            "match_re" => re = parse_match_re(src, &c)?,
            "matchers" => ms = parse_matcher_list(src, &c)?,
            "mute_time_intervals" => r.mute_time_intervals = yamlx::string_list(src, &c)?,
            "active_time_intervals" => r.active_time_intervals = yamlx::string_list(src, &c)?,
            "continue" => r.continue_matching = yamlx::boolean(src, &c)?,
            "routes" => {
                for child in yamlx::list(src, &c, "*config.Route")? {
                    r.routes.push(parse_route(src, &child)?);
                }
            }
            "group_wait" | "group_interval" | "repeat_interval" => {
                if !c.is_null() {
                    let d = yamlx::prom_duration(src, &c)?;
                    if d.is_zero() && key != "group_wait" {
                        return Err(src.err(&c.path, format!("{key} cannot be zero")));
                    }
                    match key.as_str() {
                        "group_wait" => r.group_wait = Some(d),
                        "group_interval" => r.group_interval = Some(d),
                        _ => r.repeat_interval = Some(d),
                    }
                }
            }
            _ => {
                for (k, v, path) in yamlx::string_map(src, &c)? {
                    if !is_valid_label_name(&k) {
                        return Err(
                            src.err(&path, format!("invalid label name {k:?} in route labels"))
                        );
                    }
                    r.labels.insert(k, v);
                }
            }
        }
    }
    r.has_matchers = !(eq.is_empty() && re.is_empty() && ms.is_empty());
    if let Some(list) = r.group_by.take() {
        let path = group_by_node.unwrap_or_default();
        let mut names = Vec::new();
        for l in list {
            if l == "..." {
                r.group_by_all = true;
            } else {
                if !is_valid_label_name(&l) {
                    return Err(
                        src.err(&path, format!("invalid label name {l:?} in group_by list"))
                    );
                }
                names.push(l);
            }
        }
        if !names.is_empty() && r.group_by_all {
            return Err(src.err(
                &path,
                "cannot have wildcard group_by (`...`) and other labels at the same time",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for l in &names {
            if !seen.insert(l) {
                return Err(src.err(&path, format!("duplicated label {l:?} in group_by")));
            }
        }
        // `group_by: ['...']` leaves Go's GroupBy nil: the route inherits nothing from it.
        if !(r.group_by_all && names.is_empty()) {
            r.group_by = Some(names);
        }
    }
    let mut all = Matchers(eq.into_iter().chain(re).chain(ms).collect());
    all.sort();
    r.matchers = all;
    Ok(r)
}

/// The routing options a node resolves to (`dispatch.RouteOpts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteOpts {
    /// The receiver.
    pub receiver: String,
    /// Labels to group by (sorted).
    pub group_by: Vec<String>,
    /// Group by all labels.
    pub group_by_all: bool,
    /// `group_wait` (default 30s).
    pub group_wait: Duration,
    /// `group_interval` (default 5m).
    pub group_interval: Duration,
    /// `repeat_interval` (default 4h).
    pub repeat_interval: Duration,
    /// Time intervals during which the route is muted.
    pub mute_time_intervals: Vec<String>,
    /// Time intervals outside of which the route is muted.
    pub active_time_intervals: Vec<String>,
    /// Labels merged from this route and its parents.
    pub labels: BTreeMap<String, String>,
}

impl Default for RouteOpts {
    fn default() -> Self {
        RouteOpts {
            receiver: String::new(),
            group_by: Vec::new(),
            group_by_all: false,
            group_wait: Duration::from_secs(30),
            group_interval: Duration::from_secs(300),
            repeat_interval: Duration::from_secs(4 * 3600),
            mute_time_intervals: Vec::new(),
            active_time_intervals: Vec::new(),
            labels: BTreeMap::new(),
        }
    }
}

/// One node of the routing tree.
#[derive(Debug, Clone)]
pub struct Route {
    /// Resolved options.
    pub opts: RouteOpts,
    /// Matchers an alert must satisfy.
    pub matchers: Matchers,
    /// Whether matching goes on to the next sibling after this one matched.
    pub continue_matching: bool,
    /// Children, in file order.
    pub routes: Vec<usize>,
    /// The parent node, `None` for the root.
    pub parent: Option<usize>,
    /// The index Alertmanager gives the node (children before their parent, post-order).
    pub idx: usize,
}

/// The routing tree: nodes in pre-order, the root first.
#[derive(Debug, Clone)]
pub struct RouteTree {
    nodes: Vec<Route>,
}

impl RouteTree {
    /// Builds the tree as `dispatch.NewRoute` does.
    pub fn new(root: &RouteConfig) -> RouteTree {
        let mut t = RouteTree { nodes: Vec::new() };
        let mut counter = 0;
        t.add(root, None, &mut counter);
        t
    }

    fn add(&mut self, cr: &RouteConfig, parent: Option<usize>, counter: &mut usize) -> usize {
        let mut opts = match parent {
            Some(p) => self.nodes[p].opts.clone(),
            None => RouteOpts::default(),
        };
        for (k, v) in &cr.labels {
            opts.labels.insert(k.clone(), v.clone());
        }
        if !cr.receiver.is_empty() {
            opts.receiver = cr.receiver.clone();
        }
        if let Some(g) = &cr.group_by {
            let mut g = g.clone();
            g.sort();
            opts.group_by = g;
            opts.group_by_all = false;
        } else if cr.group_by_all {
            opts.group_by_all = true;
        }
        if let Some(d) = cr.group_wait {
            opts.group_wait = d;
        }
        if let Some(d) = cr.group_interval {
            opts.group_interval = d;
        }
        if let Some(d) = cr.repeat_interval {
            opts.repeat_interval = d;
        }
        opts.mute_time_intervals = cr.mute_time_intervals.clone();
        opts.active_time_intervals = cr.active_time_intervals.clone();
        let id = self.nodes.len();
        self.nodes.push(Route {
            opts,
            matchers: cr.matchers.clone(),
            continue_matching: cr.continue_matching,
            routes: Vec::new(),
            parent,
            idx: 0,
        });
        for child in &cr.routes {
            let c = self.add(child, Some(id), counter);
            self.nodes[id].routes.push(c);
        }
        self.nodes[id].idx = *counter;
        *counter += 1;
        id
    }

    /// The root node's id (0).
    pub fn root(&self) -> usize {
        0
    }

    /// A node by id.
    pub fn node(&self, id: usize) -> &Route {
        &self.nodes[id]
    }

    /// Every node id in depth-first pre-order (`Route.Walk`).
    pub fn walk(&self) -> impl Iterator<Item = usize> + '_ {
        let mut stack = vec![0usize];
        std::iter::from_fn(move || {
            let id = stack.pop()?;
            stack.extend(self.nodes[id].routes.iter().rev());
            Some(id)
        })
    }

    /// The nodes an alert with `ls` is routed to (`Route.Match`), in order.
    pub fn matches(&self, ls: &LabelSet) -> Vec<usize> {
        self.match_from(0, ls)
    }

    fn match_from(&self, id: usize, ls: &LabelSet) -> Vec<usize> {
        let r = &self.nodes[id];
        if !r.matchers.matches(ls) {
            return Vec::new();
        }
        let mut all = Vec::new();
        for &c in &r.routes {
            let m = self.match_from(c, ls);
            let matched = !m.is_empty();
            all.extend(m);
            if matched && !self.nodes[c].continue_matching {
                break;
            }
        }
        if all.is_empty() {
            all.push(id);
        }
        all
    }

    /// `Route.Key()`: the matchers of the path from the root, `/`-joined.
    pub fn key(&self, id: usize) -> String {
        let r = &self.nodes[id];
        match r.parent {
            Some(p) => format!("{}/{}", self.key(p), r.matchers),
            None => r.matchers.to_string(),
        }
    }

    /// `Route.ID()`: like the key, with each node's index among its siblings.
    pub fn id(&self, id: usize) -> String {
        let r = &self.nodes[id];
        match r.parent {
            Some(p) => {
                let pos = self.nodes[p]
                    .routes
                    .iter()
                    .position(|c| *c == id)
                    .unwrap_or(0);
                format!("{}/{}/{pos}", self.id(p), r.matchers)
            }
            None => r.matchers.to_string(),
        }
    }

    /// The group labels of an alert on a route (`getGroupLabels`).
    pub fn group_labels(&self, id: usize, ls: &LabelSet) -> LabelSet {
        let o = &self.nodes[id].opts;
        ls.iter()
            .filter(|(k, _)| o.group_by_all || o.group_by.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}
