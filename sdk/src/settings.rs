//! A receiver's settings: its alertmanager.yml entry (one `slack_configs` item, say) as a
//! tree, read with typed getters whose errors name the setting's path.
//!
//! The host hands the entry over as a WIT `document` (a flattened tree) after filling in
//! Alertmanager's defaults and `global` values and reading `*_file` secrets; template text is
//! not rendered yet. Getters follow Go's zero values: a setting left out (or `null`) reads as
//! `""`, `false`, `0` or an empty list, as an Alertmanager notifier sees it. A scalar read as
//! text gives its YAML spelling (`priority: 1` reads as `"1"`, as Go's YAML decoder gives a
//! string field).
//!
//! ```
//! use sightline_sdk::settings::{Settings, Tree};
//!
//! let s = Settings::new(Tree::Map(vec![
//!     ("channel".into(), Tree::Text("#ops".into())),
//!     ("fields".into(), Tree::List(vec![Tree::Map(vec![
//!         ("title".into(), Tree::Text("Instance".into())),
//!         ("short".into(), Tree::Bool(true)),
//!     ])])),
//! ]));
//! assert_eq!(s.text("channel").unwrap(), "#ops");
//! assert_eq!(s.text("username").unwrap(), "");
//! let fields = s.list("fields").unwrap();
//! assert_eq!(fields[0].opt_bool("short").unwrap(), Some(true));
//! assert_eq!(s.path("fields[0].title").unwrap().as_text().unwrap(), "Instance");
//! let e = s.bool("channel").unwrap_err();
//! assert_eq!(e.to_string(), "setting `channel`: expected a boolean, found text \"#ops\"");
//! ```

use crate::{Document, Node};

/// One value of the settings tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Tree {
    /// YAML `null` (or a key with no value).
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Integer(i64),
    /// A number that is not an integer.
    Number(f64),
    /// A string.
    Text(String),
    /// A list.
    List(Vec<Tree>),
    /// A map, keys in the source's order.
    Map(Vec<(String, Tree)>),
}

impl Tree {
    fn describe(&self) -> String {
        match self {
            Tree::Null => "null".into(),
            Tree::Bool(b) => format!("boolean {b}"),
            Tree::Integer(i) => format!("integer {i}"),
            Tree::Number(n) => format!("number {n}"),
            Tree::Text(t) => {
                let short: String = t.chars().take(40).collect();
                format!("text {short:?}")
            }
            Tree::List(_) => "a list".into(),
            Tree::Map(_) => "a map".into(),
        }
    }
}

/// Why a setting could not be read; names the setting's path (`fields[0].short`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsError {
    /// The setting's path from the entry's root.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "settings: {}", self.message)
        } else {
            write!(f, "setting `{}`: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for SettingsError {}

/// A receiver's settings: the root of the tree (a map).
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    root: Tree,
}

impl Default for Settings {
    fn default() -> Self {
        Settings::new(Tree::Map(Vec::new()))
    }
}

impl Settings {
    /// Settings over `root`.
    pub fn new(root: Tree) -> Self {
        Settings { root }
    }

    /// The tree of a WIT `document` (`nodes[0]` the root; children after their parent; an
    /// empty document is an empty map). A malformed document is an error, never a panic.
    pub fn from_document(doc: &Document) -> Result<Self, SettingsError> {
        if doc.nodes.is_empty() {
            return Ok(Settings::default());
        }
        let mut budget = MAX_VISITS;
        Ok(Settings::new(node_tree(&doc.nodes, 0, 0, &mut budget)?))
    }

    /// The root as a [`Setting`], to use a getter not forwarded here.
    pub fn root(&self) -> Setting<'_> {
        Setting {
            tree: &self.root,
            path: String::new(),
        }
    }

    /// The setting `key` of the root map, if present.
    pub fn get(&self, key: &str) -> Option<Setting<'_>> {
        self.root().get(key)
    }

    /// The setting at `path` (`details.firing`, `fields[0].title`), if present.
    pub fn path(&self, path: &str) -> Option<Setting<'_>> {
        self.root().path(path)
    }

    /// `key` as text; `""` when left out (see [`Setting::text`]).
    pub fn text(&self, key: &str) -> Result<String, SettingsError> {
        self.root().text(key)
    }

    /// `key` as text, `None` when left out or `null`.
    pub fn opt_text(&self, key: &str) -> Result<Option<String>, SettingsError> {
        self.root().opt_text(key)
    }

    /// `key` as non-empty text, or an error saying it is required.
    pub fn require_text(&self, key: &str) -> Result<String, SettingsError> {
        self.root().require_text(key)
    }

    /// `key` as a boolean; `false` when left out.
    pub fn bool(&self, key: &str) -> Result<bool, SettingsError> {
        self.root().bool(key)
    }

    /// `key` as a boolean, `None` when left out or `null`.
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, SettingsError> {
        self.root().opt_bool(key)
    }

    /// `key` as an integer; `0` when left out.
    pub fn int(&self, key: &str) -> Result<i64, SettingsError> {
        self.root().int(key)
    }

    /// `key` as a list; empty when left out.
    pub fn list(&self, key: &str) -> Result<Vec<Setting<'_>>, SettingsError> {
        self.root().list(key)
    }

    /// `key` as a list of text; empty when left out.
    pub fn strings(&self, key: &str) -> Result<Vec<String>, SettingsError> {
        self.root().strings(key)
    }

    /// `key` as a map's entries in order; empty when left out.
    pub fn entries(&self, key: &str) -> Result<Vec<(String, Setting<'_>)>, SettingsError> {
        self.root().entries(key)
    }

    /// `key` as a map of text values in order (Go's `map[string]string`); empty when left
    /// out.
    pub fn string_map(&self, key: &str) -> Result<Vec<(String, String)>, SettingsError> {
        self.root().string_map(key)
    }
}

/// Depth of a settings document beyond which it is refused (YAML anchors cannot make the
/// WIT document deep; this only bounds the recursion on hostile input).
const MAX_DEPTH: usize = 128;
/// Nodes visited at most while building the tree: a node may be shared by several parents,
/// and sharing must not multiply the work without bound.
const MAX_VISITS: usize = 1 << 20;

fn node_tree(
    nodes: &[Node],
    i: usize,
    depth: usize,
    budget: &mut usize,
) -> Result<Tree, SettingsError> {
    let bad = |message: String| SettingsError {
        path: String::new(),
        message,
    };
    if depth > MAX_DEPTH {
        return Err(bad(format!("document deeper than {MAX_DEPTH} levels")));
    }
    if *budget == 0 {
        return Err(bad(format!(
            "document expands to more than {MAX_VISITS} nodes"
        )));
    }
    *budget -= 1;
    let node = nodes
        .get(i)
        .ok_or_else(|| bad(format!("document refers to node {i} of {}", nodes.len())))?;
    let mut child = |c: u32| -> Result<Tree, SettingsError> {
        let c = c as usize;
        if c <= i {
            return Err(bad(format!("node {i} refers back to node {c}")));
        }
        node_tree(nodes, c, depth + 1, budget)
    };
    Ok(match node {
        Node::Null => Tree::Null,
        Node::Boolean(b) => Tree::Bool(*b),
        Node::Integer(n) => Tree::Integer(*n),
        Node::Number(n) => Tree::Number(*n),
        Node::Text(t) => Tree::Text(t.clone()),
        Node::List(items) => Tree::List(items.iter().map(|c| child(*c)).collect::<Result<_, _>>()?),
        Node::Map(entries) => Tree::Map(
            entries
                .iter()
                .map(|(k, c)| Ok((k.clone(), child(*c)?)))
                .collect::<Result<_, SettingsError>>()?,
        ),
    })
}

/// One node of the settings tree with its path, borrowed from [`Settings`].
#[derive(Clone, Debug)]
pub struct Setting<'a> {
    tree: &'a Tree,
    path: String,
}

impl<'a> Setting<'a> {
    /// The setting's path from the root (`fields[0].title`).
    pub fn path_name(&self) -> &str {
        &self.path
    }

    /// The value.
    pub fn tree(&self) -> &'a Tree {
        self.tree
    }

    /// Whether the value is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.tree, Tree::Null)
    }

    fn error(&self, message: String) -> SettingsError {
        SettingsError {
            path: self.path.clone(),
            message,
        }
    }

    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The entry `key` of this map, if present (a non-map has no entries).
    pub fn get(&self, key: &str) -> Option<Setting<'a>> {
        let Tree::Map(entries) = self.tree else {
            return None;
        };
        entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| Setting {
                tree: v,
                path: self.child_path(key),
            })
    }

    /// The item `i` of this list, if present.
    pub fn index(&self, i: usize) -> Option<Setting<'a>> {
        let Tree::List(items) = self.tree else {
            return None;
        };
        items.get(i).map(|v| Setting {
            tree: v,
            path: format!("{}[{i}]", self.path),
        })
    }

    /// The setting at `path` below this one: keys separated by `.`, list items as `[i]`.
    pub fn path(&self, path: &str) -> Option<Setting<'a>> {
        let mut at = self.clone();
        for part in path.split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(b) => (&part[..b], &part[b..]),
                None => (part, ""),
            };
            if !key.is_empty() {
                at = at.get(key)?;
            }
            while let Some(r) = rest.strip_prefix('[') {
                let (num, after) = r.split_once(']')?;
                at = at.index(num.parse().ok()?)?;
                rest = after;
            }
        }
        Some(at)
    }

    /// This value as text: text as is, booleans and numbers in their YAML spelling, `null`
    /// as `""`; a list or map is an error.
    pub fn as_text(&self) -> Result<String, SettingsError> {
        match self.tree {
            Tree::Null => Ok(String::new()),
            Tree::Text(t) => Ok(t.clone()),
            Tree::Bool(b) => Ok(b.to_string()),
            Tree::Integer(i) => Ok(i.to_string()),
            Tree::Number(n) => Ok(n.to_string()),
            other => Err(self.error(format!("expected text, found {}", other.describe()))),
        }
    }

    /// This value as a boolean (`true`/`false`, also written as text).
    pub fn as_bool(&self) -> Result<bool, SettingsError> {
        match self.tree {
            Tree::Null => Ok(false),
            Tree::Bool(b) => Ok(*b),
            Tree::Text(t) if t == "true" => Ok(true),
            Tree::Text(t) if t == "false" => Ok(false),
            other => Err(self.error(format!("expected a boolean, found {}", other.describe()))),
        }
    }

    /// This value as an integer (also written as text).
    pub fn as_int(&self) -> Result<i64, SettingsError> {
        match self.tree {
            Tree::Null => Ok(0),
            Tree::Integer(i) => Ok(*i),
            Tree::Text(t) if t.trim().parse::<i64>().is_ok() => Ok(t.trim().parse().unwrap_or(0)),
            other => Err(self.error(format!("expected an integer, found {}", other.describe()))),
        }
    }

    /// This value as a list's items (`null` is empty).
    pub fn as_list(&self) -> Result<Vec<Setting<'a>>, SettingsError> {
        match self.tree {
            Tree::Null => Ok(Vec::new()),
            Tree::List(items) => Ok((0..items.len()).filter_map(|i| self.index(i)).collect()),
            other => Err(self.error(format!("expected a list, found {}", other.describe()))),
        }
    }

    /// This value as a map's entries in order (`null` is empty).
    pub fn as_entries(&self) -> Result<Vec<(String, Setting<'a>)>, SettingsError> {
        match self.tree {
            Tree::Null => Ok(Vec::new()),
            Tree::Map(entries) => Ok(entries
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        Setting {
                            tree: v,
                            path: self.child_path(k),
                        },
                    )
                })
                .collect()),
            other => Err(self.error(format!("expected a map, found {}", other.describe()))),
        }
    }

    /// Entry `key` as text; `""` when left out.
    pub fn text(&self, key: &str) -> Result<String, SettingsError> {
        Ok(self.opt_text(key)?.unwrap_or_default())
    }

    /// Entry `key` as text, `None` when left out or `null`.
    pub fn opt_text(&self, key: &str) -> Result<Option<String>, SettingsError> {
        match self.get(key) {
            None => Ok(None),
            Some(s) if s.is_null() => Ok(None),
            Some(s) => s.as_text().map(Some),
        }
    }

    /// Entry `key` as non-empty text, or an error saying it is required.
    pub fn require_text(&self, key: &str) -> Result<String, SettingsError> {
        match self.text(key)? {
            t if t.is_empty() => Err(SettingsError {
                path: self.child_path(key),
                message: "is required".into(),
            }),
            t => Ok(t),
        }
    }

    /// Entry `key` as a boolean; `false` when left out.
    pub fn bool(&self, key: &str) -> Result<bool, SettingsError> {
        Ok(self.opt_bool(key)?.unwrap_or(false))
    }

    /// Entry `key` as a boolean, `None` when left out or `null` (Go's `*bool`).
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, SettingsError> {
        match self.get(key) {
            None => Ok(None),
            Some(s) if s.is_null() => Ok(None),
            Some(s) => s.as_bool().map(Some),
        }
    }

    /// Entry `key` as an integer; `0` when left out.
    pub fn int(&self, key: &str) -> Result<i64, SettingsError> {
        self.get(key).map_or(Ok(0), |s| s.as_int())
    }

    /// Entry `key` as a list; empty when left out.
    pub fn list(&self, key: &str) -> Result<Vec<Setting<'a>>, SettingsError> {
        self.get(key).map_or(Ok(Vec::new()), |s| s.as_list())
    }

    /// Entry `key` as a list of text; empty when left out.
    pub fn strings(&self, key: &str) -> Result<Vec<String>, SettingsError> {
        self.list(key)?.iter().map(Setting::as_text).collect()
    }

    /// Entry `key` as a map's entries in order; empty when left out.
    pub fn entries(&self, key: &str) -> Result<Vec<(String, Setting<'a>)>, SettingsError> {
        self.get(key).map_or(Ok(Vec::new()), |s| s.as_entries())
    }

    /// Entry `key` as a map of text values in order; empty when left out.
    pub fn string_map(&self, key: &str) -> Result<Vec<(String, String)>, SettingsError> {
        self.entries(key)?
            .into_iter()
            .map(|(k, v)| Ok((k, v.as_text()?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(nodes: Vec<Node>) -> Document {
        Document { nodes }
    }

    #[test]
    fn documents_become_trees() {
        let d = doc(vec![
            Node::Map(vec![("a".into(), 1), ("l".into(), 2), ("d".into(), 5)]),
            Node::Integer(3),
            Node::List(vec![3, 4]),
            Node::Text("x".into()),
            Node::Boolean(true),
            Node::Map(vec![("k".into(), 6)]),
            Node::Null,
        ]);
        let s = Settings::from_document(&d).unwrap();
        assert_eq!(s.text("a").unwrap(), "3");
        assert_eq!(s.int("a").unwrap(), 3);
        assert_eq!(s.strings("l").unwrap(), vec!["x", "true"]);
        assert_eq!(s.string_map("d").unwrap(), vec![("k".into(), "".into())]);
        assert_eq!(s.opt_text("missing").unwrap(), None);
        assert!(s.path("l[1]").unwrap().as_bool().unwrap());
        assert_eq!(s.path("d.k").unwrap().path_name(), "d.k");
        assert!(s.path("l[7]").is_none());
        assert_eq!(
            s.require_text("missing").unwrap_err().to_string(),
            "setting `missing`: is required"
        );
        assert_eq!(
            s.list("a").unwrap_err().to_string(),
            "setting `a`: expected a list, found integer 3"
        );
        assert_eq!(
            Settings::from_document(&doc(vec![])).unwrap(),
            Settings::default()
        );
    }

    #[test]
    fn malformed_documents_are_errors() {
        for nodes in [
            vec![Node::List(vec![0])],
            vec![Node::List(vec![5])],
            vec![Node::Map(vec![("a".into(), 1)]), Node::List(vec![0])],
        ] {
            assert!(Settings::from_document(&doc(nodes)).is_err());
        }
    }
}
