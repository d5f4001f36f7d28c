//! `amtool config routes show` and `amtool config routes test`, with amtool's output: the
//! tree drawn as `xlab/treeprint` draws it.

use crate::matchers::{parse_matcher, LabelSet, MatchType};
use crate::route::RouteTree;

/// A node of a printed tree.
struct Branch {
    text: String,
    children: Vec<Branch>,
}

/// treeprint's rendering: the root `.`, then `├── `/`└── ` edges and `│` (followed by two
/// no-break spaces, as treeprint writes them) or blank indentation per level.
fn render(root: &[Branch]) -> String {
    fn walk(out: &mut String, items: &[Branch], prefix: &str) {
        for (i, b) in items.iter().enumerate() {
            let last = i + 1 == items.len();
            out.push_str(prefix);
            out.push_str(if last { "└── " } else { "├── " });
            out.push_str(&b.text);
            out.push('\n');
            let next = format!("{prefix}{}", if last { "    " } else { "│\u{a0}\u{a0} " });
            walk(out, &b.children, &next);
        }
    }
    let mut out = String::from(".\n");
    walk(&mut out, root, "");
    out
}

fn slug(tree: &RouteTree, id: usize, show_continue: bool, show_receiver: bool) -> String {
    let r = tree.node(id);
    let mut s = if r.matchers.is_empty() {
        "default-route".to_string()
    } else {
        r.matchers.to_string()
    };
    if r.continue_matching && show_continue {
        s.push_str("  continue: true");
    }
    if show_receiver {
        s.push_str("  receiver: ");
        s.push_str(&r.opts.receiver);
    }
    s
}

fn full(tree: &RouteTree, id: usize) -> Branch {
    Branch {
        text: slug(tree, id, true, true),
        children: tree
            .node(id)
            .routes
            .iter()
            .map(|c| full(tree, *c))
            .collect(),
    }
}

/// `amtool config routes show`'s output.
pub fn routes_show(tree: &RouteTree) -> String {
    format!("Routing tree:\n{}\n", render(&[full(tree, tree.root())]))
}

fn matching(tree: &RouteTree, id: usize, ls: &LabelSet) -> Branch {
    let mut children = Vec::new();
    for &c in &tree.node(id).routes {
        if tree.node(c).matchers.matches(ls) {
            children.push(matching(tree, c, ls));
            if !tree.node(c).continue_matching {
                break;
            }
        }
    }
    let text = slug(tree, id, false, children.is_empty());
    Branch { text, children }
}

/// What `routes test` printed and its exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutesTestOutcome {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit code.
    pub code: u8,
}

/// `amtool config routes test [--tree] [--verify.receivers=R] LABEL=VALUE...`.
pub fn routes_test(
    tree: &RouteTree,
    labels: &[String],
    verify_receivers: Option<&str>,
    show_tree: bool,
) -> RoutesTestOutcome {
    let mut ls = LabelSet::new();
    for l in labels {
        match parse_matcher(l) {
            Ok(m) if m.kind == MatchType::Equal => {
                ls.insert(m.name, m.value);
            }
            Ok(_) => {
                return RoutesTestOutcome {
                    stdout: String::new(),
                    stderr: "Failed to parse labels: labels must be specified as key=value pairs\n"
                        .into(),
                    code: 1,
                }
            }
            Err(e) => {
                return RoutesTestOutcome {
                    stdout: String::new(),
                    stderr: format!("Failed to parse labels: {e}\n"),
                    code: 1,
                }
            }
        }
    }
    let mut stdout = String::new();
    if show_tree {
        stdout.push_str("Matching routes:\n");
        stdout.push_str(&render(&[matching(tree, tree.root(), &ls)]));
        stdout.push_str("\n\n");
    }
    let receivers: Vec<&str> = tree
        .matches(&ls)
        .into_iter()
        .map(|id| tree.node(id).opts.receiver.as_str())
        .collect();
    let slug = receivers.join(",");
    stdout.push_str(&slug);
    stdout.push('\n');
    let mut code = 0;
    if let Some(want) = verify_receivers.filter(|w| !w.is_empty()) {
        if want != slug {
            stdout.push_str("WARNING: Expected receivers did not match resolved receivers.\n");
            code = 1;
        }
    }
    RoutesTestOutcome {
        stdout,
        stderr: String::new(),
        code,
    }
}
