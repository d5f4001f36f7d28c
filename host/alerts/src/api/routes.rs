//! Sightline's routing-tree endpoints for the web UI, beside the other API v2 extensions:
//! `GET /api/v2/routes` (the tree as JSON, each node's options resolved as the dispatcher
//! uses them) and `GET /api/v2/routes/test?labels={a="b",c="d"}` (the routes a label set
//! takes: the same nodes, in the same order, as `amtool config routes test` prints). Errors
//! take Alertmanager's handler shape: a JSON string.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde::Serialize;

use super::filters::Query;
use super::{call, json_ok, text_error, Backend};
use crate::matchers::{parse_matcher, parse_matchers, LabelSet, MatchType};
use crate::route::RouteTree;

/// One node of the tree.
#[derive(Serialize)]
struct RouteJson {
    /// Child positions from the root (`[]` is the root, `[1, 0]` its second child's first).
    path: Vec<usize>,
    /// `Route.ID()`, as the alert groups' `groupKey`s name routes.
    id: String,
    receiver: String,
    /// Each matcher as Alertmanager prints it (`severity="page"`).
    matchers: Vec<String>,
    group_by: Vec<String>,
    group_by_all: bool,
    group_wait: String,
    group_interval: String,
    repeat_interval: String,
    #[serde(rename = "continue")]
    continue_matching: bool,
    mute_time_intervals: Vec<String>,
    active_time_intervals: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    routes: Option<Vec<RouteJson>>,
}

fn path_of(tree: &RouteTree, mut id: usize) -> Vec<usize> {
    let mut path = Vec::new();
    while let Some(parent) = tree.node(id).parent {
        let pos = tree
            .node(parent)
            .routes
            .iter()
            .position(|c| *c == id)
            .unwrap_or(0);
        path.push(pos);
        id = parent;
    }
    path.reverse();
    path
}

fn node_json(tree: &RouteTree, id: usize, with_children: bool) -> RouteJson {
    let r = tree.node(id);
    let d = |v: std::time::Duration| sightline_model::format_duration(v);
    RouteJson {
        path: path_of(tree, id),
        id: tree.id(id),
        receiver: r.opts.receiver.clone(),
        matchers: r.matchers.0.iter().map(|m| m.to_string()).collect(),
        group_by: r.opts.group_by.clone(),
        group_by_all: r.opts.group_by_all,
        group_wait: d(r.opts.group_wait),
        group_interval: d(r.opts.group_interval),
        repeat_interval: d(r.opts.repeat_interval),
        continue_matching: r.continue_matching,
        mute_time_intervals: r.opts.mute_time_intervals.clone(),
        active_time_intervals: r.opts.active_time_intervals.clone(),
        routes: with_children.then(|| r.routes.iter().map(|c| node_json(tree, *c, true)).collect()),
    }
}

/// `GET /api/v2/routes`.
pub(super) async fn get_routes(State(b): State<Backend>) -> Response {
    match call(&b, |b| b.route_tree()).await {
        Ok(Some(tree)) => json_ok(&node_json(&tree, tree.root(), true)),
        Ok(None) => text_error(404, "no routing tree"),
        Err(r) => r,
    }
}

/// The label set of `labels={a="b",...}` (or repeated `label=a=b`): equality matchers only,
/// with amtool's message otherwise.
fn label_set(q: &Query) -> Result<LabelSet, String> {
    let mut matchers = Vec::new();
    for l in q.all("labels") {
        if l.trim().is_empty() {
            continue;
        }
        matchers.extend(parse_matchers(&l).map_err(|e| format!("Failed to parse labels: {e}"))?);
    }
    for l in q.all("label") {
        matchers.push(parse_matcher(&l).map_err(|e| format!("Failed to parse labels: {e}"))?);
    }
    let mut ls = LabelSet::new();
    for m in matchers {
        if m.kind != MatchType::Equal {
            return Err(
                "Failed to parse labels: labels must be specified as key=value pairs".into(),
            );
        }
        ls.insert(m.name, m.value);
    }
    Ok(ls)
}

#[derive(Serialize)]
struct TestJson {
    /// The label set tested.
    labels: LabelSet,
    /// The receivers in match order, as amtool prints them (joined by `,`).
    receivers: Vec<String>,
    /// The matched routes, in match order, without their children.
    routes: Vec<RouteJson>,
}

/// `GET /api/v2/routes/test`.
pub(super) async fn test_routes(State(b): State<Backend>, RawQuery(q): RawQuery) -> Response {
    let ls = match label_set(&Query::parse(q.as_deref())) {
        Ok(ls) => ls,
        Err(e) => return text_error(400, &e),
    };
    match call(&b, |b| b.route_tree()).await {
        Ok(Some(tree)) => {
            let matched = tree.matches(&ls);
            json_ok(&TestJson {
                receivers: matched
                    .iter()
                    .map(|id| tree.node(*id).opts.receiver.clone())
                    .collect(),
                routes: matched
                    .iter()
                    .map(|id| node_json(&tree, *id, false))
                    .collect(),
                labels: ls,
            })
        }
        Ok(None) => text_error(404, "no routing tree"),
        Err(r) => r,
    }
}
