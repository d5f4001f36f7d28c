//! Go's text/template, as Prometheus and Alertmanager use it, with their function maps.
//!
//! The crate knows nothing of rules, alerts or notifications: callers hand it template text,
//! data as [`Value`]s and, for Prometheus' `query`, a [`QueryFn`] callback. Parsing and
//! execution errors are worded as Go words them (`template: name:line:col: ...`), so users see
//! what Prometheus or Alertmanager would have shown them.
//!
//! Templates are user input: nesting, template calls, evaluation steps and output size are
//! bounded by [`Options`], and every failure is an [`Error`], never a panic.
//!
//! ```
//! use std::collections::BTreeMap;
//! use sightline_template::prometheus::{AlertContext, AlertTemplate};
//!
//! let labels = BTreeMap::from([("instance".to_string(), "web-1:9100".to_string())]);
//! let none = BTreeMap::new();
//! let summary = AlertTemplate::new("ServiceDown", "{{ $labels.instance }} down ({{ $value }})");
//! let ctx = AlertContext {
//!     labels: &labels,
//!     external_labels: &none,
//!     external_url: "http://prometheus:9090",
//!     value: 0.0,
//!     now: 0.0,
//!     query: None,
//! };
//! assert_eq!(summary.expand(&ctx).unwrap(), "web-1:9100 down (0)");
//! ```

mod ast;
mod exec;
mod funcs;
mod gofmt;
mod gostr;
mod gotime;
mod lex;
mod parse;
mod value;

pub mod alertmanager;
pub mod prometheus;

use std::collections::HashMap;
use std::sync::Arc;

pub use funcs::{html_escape, js_escape, query_escape};
pub use funcs::{want_str, Arity, Env, FuncError, FuncImpl, FuncMap, QueryFn};
pub use gotime::{Duration, Time};
pub use value::{Object, Sample, Value};

/// A template failure, worded as Go's text/template words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The text does not parse: `template: name:line: message`.
    #[error("{0}")]
    Parse(String),
    /// Execution failed: `template: name:line:col: executing "name" at <node>: message`.
    #[error("{0}")]
    Exec(String),
}

/// What a missing map key yields (Go's `missingkey` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// `<no value>` when printed (Go's default; Prometheus' alert templates).
    #[default]
    Default,
    /// The map's zero value: "" for string maps (Alertmanager).
    Zero,
    /// An execution error.
    Error,
}

/// Execution and parsing limits. Every limit ends in an [`Error`].
#[derive(Debug, Clone)]
pub struct Options {
    pub missing_key: MissingKey,
    /// Nesting of control structures and parentheses accepted by the parser.
    pub max_nesting: usize,
    /// Depth of `{{template}}` calls (Go: 100,000; recursion is what reaches it).
    pub max_call_depth: usize,
    /// Nodes, commands and loop iterations evaluated by one execution.
    pub max_steps: u64,
    /// Bytes one execution may write.
    pub max_output_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            missing_key: MissingKey::Default,
            max_nesting: 1_000,
            max_call_depth: 1_000,
            max_steps: 10_000_000,
            max_output_bytes: 16 << 20,
        }
    }
}

/// A set of named templates sharing a function map (Go's `*template.Template` with its
/// associated templates).
#[derive(Clone)]
pub struct Template {
    name: String,
    trees: HashMap<String, Arc<ast::Tree>>,
    funcs: Arc<FuncMap>,
    options: Options,
}

impl Template {
    /// An empty set whose main template is `name`.
    pub fn new(name: &str, funcs: Arc<FuncMap>) -> Self {
        Template {
            name: name.to_string(),
            trees: HashMap::new(),
            funcs,
            options: Options::default(),
        }
    }

    pub fn with_options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The main template's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Parses `text` as the main template (Go's `t.Parse`); its `define`s join the set,
    /// replacing same-named ones unless they are empty.
    pub fn parse(&mut self, text: &str) -> Result<(), Error> {
        let name = self.name.clone();
        self.parse_named(&name, text)
    }

    /// Parses `text` as the template `name` (Go's `t.New(name).Parse(text)`).
    pub fn parse_named(&mut self, name: &str, text: &str) -> Result<(), Error> {
        let funcs = self.funcs.clone();
        let has = move |f: &str| funcs.contains(f);
        let parsed = parse::parse(name, text, &has, self.options.max_nesting)
            .map_err(|e| Error::Parse(e.0))?;
        for tree in parsed.trees {
            if let Some(old) = self.trees.get(&tree.name) {
                // Go keeps an existing definition over a new empty one.
                if parse::is_empty(&tree.root) && !parse::is_empty(&old.root) {
                    continue;
                }
            }
            self.trees.insert(tree.name.clone(), Arc::new(tree));
        }
        Ok(())
    }

    /// Whether a template of this name is defined.
    pub fn has(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// Executes the main template on `data`.
    pub fn execute(&self, data: &Value, env: &Env<'_>) -> Result<String, Error> {
        self.execute_template(&self.name, data, env)
    }

    /// Executes the named template on `data` (Go's `ExecuteTemplate`).
    pub fn execute_template(
        &self,
        name: &str,
        data: &Value,
        env: &Env<'_>,
    ) -> Result<String, Error> {
        let Some(tree) = self.trees.get(name) else {
            if name == self.name {
                return Err(Error::Exec(format!(
                    "template: {name}: {} is an incomplete or empty template",
                    gofmt::quote(name)
                )));
            }
            return Err(Error::Exec(format!(
                "template: no template {} associated with template {}",
                gofmt::quote(name),
                gofmt::quote(&self.name)
            )));
        };
        let mut state = exec::State::new(self, None, env, tree, data.clone());
        state.run(data)?;
        Ok(state.out)
    }

    /// Parses `text` as the template `name` for one execution and runs it on `data`, without
    /// changing the set: its definitions shadow the set's for this run only. This is Go's
    /// `t.Clone()` + `New(name).Parse(text)` + `Execute`, minus the copy.
    pub fn execute_text(
        &self,
        name: &str,
        text: &str,
        data: &Value,
        env: &Env<'_>,
    ) -> Result<String, Error> {
        let funcs = self.funcs.clone();
        let has = move |f: &str| funcs.contains(f);
        let parsed = parse::parse(name, text, &has, self.options.max_nesting)
            .map_err(|e| Error::Parse(e.0))?;
        let mut overlay: HashMap<String, Arc<ast::Tree>> = HashMap::new();
        for tree in parsed.trees {
            if parse::is_empty(&tree.root) {
                if let Some(old) = self.trees.get(&tree.name) {
                    if !parse::is_empty(&old.root) && tree.name != name {
                        continue;
                    }
                }
            }
            overlay.insert(tree.name.clone(), Arc::new(tree));
        }
        let Some(tree) = overlay.get(name) else {
            return Err(Error::Exec(format!(
                "template: {name}: {} is an incomplete or empty template",
                gofmt::quote(name)
            )));
        };
        let mut state = exec::State::new(self, Some(&overlay), env, tree, data.clone());
        state.run(data)?;
        Ok(state.out)
    }
}

/// Templates and values cross threads (the rules engine evaluates groups on their own tasks).
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Template>();
    assert_send_sync::<Value>();
    assert_send_sync::<prometheus::AlertTemplate>();
};

/// Parses `text` with `funcs`, reporting only whether it parses (fuzzing, `check rules`).
pub fn check(name: &str, text: &str, funcs: &FuncMap) -> Result<(), Error> {
    let has = |f: &str| funcs.contains(f);
    parse::parse(name, text, &has, Options::default().max_nesting)
        .map(|_| ())
        .map_err(|e| Error::Parse(e.0))
}
