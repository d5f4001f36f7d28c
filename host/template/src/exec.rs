//! The executor: Go's text/template/exec.go over our value model.
//!
//! Every recursive step enters through `stacker::maybe_grow`, so depth is bounded by the
//! configured limits (nesting at parse time, template calls and steps here), never by the
//! thread's stack.

use std::collections::HashMap;
use std::sync::Arc;

use crate::ast::{Arg, Branch, Command, Node, Pipe, Tree};
use crate::funcs::{Arity, Env, FuncError};
use crate::value::Value;
use crate::{Error, MissingKey, Template};

/// The node execution is at, for error messages (Go's `state.at`).
#[derive(Clone, Copy)]
enum At<'a> {
    None,
    Node(&'a Node),
    Pipe(&'a Pipe),
    Cmd(&'a Command),
    Arg(&'a Arg),
}

/// What a list of nodes asks its enclosing `range` to do.
enum Flow {
    Normal,
    Break,
    Continue,
}

type R<T> = Result<T, Error>;

pub(crate) struct State<'a> {
    tmpl: &'a Template,
    /// Templates parsed for this execution only; they shadow the set's (Alertmanager's
    /// `ExecuteTextString` parses into a clone of the set, which this avoids copying).
    overlay: Option<&'a HashMap<String, Arc<Tree>>>,
    env: &'a Env<'a>,
    /// The template being executed (its name) and the tree it lives in.
    tree: &'a Tree,
    at: At<'a>,
    vars: Vec<(&'a str, Value)>,
    pub(crate) out: String,
    depth: usize,
    steps: u64,
}

const RED_ZONE: usize = 64 * 1024;
const STACK_SEGMENT: usize = 1024 * 1024;

impl<'a> State<'a> {
    pub(crate) fn new(
        tmpl: &'a Template,
        overlay: Option<&'a HashMap<String, Arc<Tree>>>,
        env: &'a Env<'a>,
        tree: &'a Tree,
        dot: Value,
    ) -> Self {
        State {
            tmpl,
            overlay,
            env,
            tree,
            at: At::None,
            vars: vec![("$", dot)],
            out: String::new(),
            depth: 0,
            steps: 0,
        }
    }

    pub(crate) fn run(&mut self, dot: &Value) -> R<()> {
        let root: &'a [Node] = &self.tree.root;
        self.walk_list(dot, root).map(|_| ())
    }

    /// Go's `state.errorf`: `template: loc: executing "name" at <ctx>: msg`. Current Go quotes
    /// the whole node (older releases cut it at 20 bytes).
    fn errorf(&self, msg: impl Into<String>) -> Error {
        let msg = msg.into();
        let name = crate::gofmt::quote(&self.tree.name);
        let (pos, ctx) = match self.at {
            At::None => {
                return Error::Exec(format!("template: {}: {}", self.tree.name, msg));
            }
            At::Node(n) => (node_pos(n), n.to_string()),
            At::Pipe(p) => (p.pos, p.to_string()),
            At::Cmd(c) => (c.pos, c.to_string()),
            At::Arg(a) => (a.pos(), a.to_string()),
        };
        Error::Exec(format!(
            "template: {}: executing {} at <{}>: {}",
            self.tree.location(pos),
            name,
            ctx,
            msg
        ))
    }

    fn step(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps > self.tmpl.options.max_steps {
            return Err(self.errorf(format!(
                "exceeded the limit of {} evaluation steps",
                self.tmpl.options.max_steps
            )));
        }
        Ok(())
    }

    fn write(&mut self, s: &str) -> R<()> {
        if self.out.len() + s.len() > self.tmpl.options.max_output_bytes {
            return Err(self.errorf(format!(
                "output exceeds the limit of {} bytes",
                self.tmpl.options.max_output_bytes
            )));
        }
        self.out.push_str(s);
        Ok(())
    }

    fn walk_list(&mut self, dot: &Value, list: &'a [Node]) -> R<Flow> {
        for n in list {
            match self.walk(dot, n)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Value, node: &'a Node) -> R<Flow> {
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || self.walk_inner(dot, node))
    }

    fn walk_inner(&mut self, dot: &Value, node: &'a Node) -> R<Flow> {
        self.step()?;
        self.at = At::Node(node);
        match node {
            Node::Text(t) => self.write(t)?,
            Node::Action { pipe, .. } => {
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at = At::Node(node);
                    let start = self.out.len();
                    crate::gofmt::write_value(&mut self.out, &v);
                    if self.out.len() > self.tmpl.options.max_output_bytes {
                        self.out.truncate(start);
                        return Err(self.errorf(format!(
                            "output exceeds the limit of {} bytes",
                            self.tmpl.options.max_output_bytes
                        )));
                    }
                }
            }
            Node::If(b) => return self.walk_if_or_with(false, dot, b),
            Node::With(b) => return self.walk_if_or_with(true, dot, b),
            Node::Range(b) => return self.walk_range(dot, node, b),
            Node::Template { name, pipe, .. } => {
                self.walk_template(dot, node, name, pipe.as_ref())?
            }
            Node::Break { .. } => return Ok(Flow::Break),
            Node::Continue { .. } => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn walk_if_or_with(&mut self, with: bool, dot: &Value, b: &'a Branch) -> R<Flow> {
        let mark = self.vars.len();
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let flow = if val.is_true() {
            if with {
                self.walk_list(&val, &b.list)
            } else {
                self.walk_list(dot, &b.list)
            }
        } else if let Some(e) = &b.else_list {
            self.walk_list(dot, e)
        } else {
            Ok(Flow::Normal)
        };
        self.vars.truncate(mark);
        flow
    }

    fn walk_range(&mut self, dot: &Value, node: &'a Node, b: &'a Branch) -> R<Flow> {
        self.at = At::Node(node);
        let mark = self.vars.len();
        let val = self.eval_pipeline(dot, &b.pipe)?.plain();
        let inner = self.vars.len();
        let ndecl = b.pipe.decl.len();
        let mut ran = false;
        let iterate = |s: &mut Self, index: Value, elem: Value| -> R<bool> {
            s.step()?;
            if ndecl > 0 {
                let n = s.vars.len();
                s.vars[n - 1].1 = elem.clone();
            }
            if ndecl > 1 {
                let n = s.vars.len();
                s.vars[n - 2].1 = index;
            }
            let flow = s.walk_list(&elem, &b.list)?;
            s.vars.truncate(inner);
            Ok(matches!(flow, Flow::Break))
        };
        match &val {
            Value::List(l) => {
                for (i, e) in l.iter().enumerate() {
                    ran = true;
                    if iterate(self, Value::Int(i as i64), e.clone())? {
                        break;
                    }
                }
            }
            Value::Map(m) => {
                for (k, e) in m.iter() {
                    ran = true;
                    if iterate(self, Value::from(k.as_str()), e.clone())? {
                        break;
                    }
                }
            }
            Value::StrMap(m) => {
                for (k, e) in m.iter() {
                    ran = true;
                    if iterate(self, Value::from(k.as_str()), Value::from(e.as_str()))? {
                        break;
                    }
                }
            }
            Value::Int(n) => {
                if ndecl > 1 {
                    return Err(self.errorf(format!(
                        "can't use {n} to iterate over more than one variable"
                    )));
                }
                for i in 0..*n {
                    ran = true;
                    if iterate(self, Value::Int(i), Value::Int(i))? {
                        break;
                    }
                }
            }
            Value::NoValue | Value::Nil => {}
            other => {
                let mut s = String::new();
                crate::gofmt::write_value(&mut s, other);
                return Err(self.errorf(format!("range can't iterate over {s}")));
            }
        }
        let flow = if !ran {
            match &b.else_list {
                Some(e) => self.walk_list(dot, e).map(|_| Flow::Normal),
                None => Ok(Flow::Normal),
            }
        } else {
            Ok(Flow::Normal)
        };
        self.vars.truncate(mark);
        flow
    }

    fn walk_template(
        &mut self,
        dot: &Value,
        node: &'a Node,
        name: &str,
        pipe: Option<&'a Pipe>,
    ) -> R<()> {
        self.at = At::Node(node);
        let found = self
            .overlay
            .and_then(|o| o.get(name))
            .or_else(|| self.tmpl.trees.get(name));
        let Some(tree) = found else {
            return Err(self.errorf(format!(
                "template {} not defined",
                crate::gofmt::quote(name)
            )));
        };
        if self.depth >= self.tmpl.options.max_call_depth {
            return Err(self.errorf(format!(
                "exceeded maximum template depth ({})",
                self.tmpl.options.max_call_depth
            )));
        }
        let new_dot = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Value::NoValue,
        };
        let tree: &'a Tree = tree;
        // No dynamic scoping: the called template sees only $.
        let saved_vars = std::mem::replace(&mut self.vars, vec![("$", new_dot.clone())]);
        let saved_tree = std::mem::replace(&mut self.tree, tree);
        self.depth += 1;
        let res = self.walk_list(&new_dot, &tree.root);
        self.depth -= 1;
        self.tree = saved_tree;
        self.vars = saved_vars;
        res.map(|_| ())
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &'a Pipe) -> R<Value> {
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || {
            self.at = At::Pipe(pipe);
            let mut value: Option<Value> = None;
            for cmd in &pipe.cmds {
                self.step()?;
                value = Some(self.eval_command(dot, cmd, value)?);
            }
            let value = value.unwrap_or_default();
            for name in &pipe.decl {
                if pipe.is_assign {
                    self.set_var(name, value.clone())?;
                } else {
                    self.vars.push((name.as_str(), value.clone()));
                }
            }
            Ok(value)
        })
    }

    fn set_var(&mut self, name: &str, v: Value) -> R<()> {
        for slot in self.vars.iter_mut().rev() {
            if slot.0 == name {
                slot.1 = v;
                return Ok(());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn var_value(&self, name: &str) -> R<Value> {
        for slot in self.vars.iter().rev() {
            if slot.0 == name {
                return Ok(slot.1.clone());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn not_a_function(&self, args: &[Arg], final_: &Option<Value>) -> R<()> {
        if args.len() > 1 || final_.is_some() {
            return Err(self.errorf(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Value, cmd: &'a Command, final_: Option<Value>) -> R<Value> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { idents, .. } => {
                self.at = At::Arg(first);
                self.eval_field_chain(dot, dot.clone(), idents, &cmd.args, final_)
            }
            Arg::Chain { node, fields, .. } => {
                self.at = At::Arg(first);
                // As Go, errors on the fields report the node the receiver came from.
                let recv = self.eval_arg(dot, node)?;
                self.eval_field_chain(dot, recv, fields, &cmd.args, final_)
            }
            Arg::Ident { name, .. } => {
                self.eval_function(dot, first, name, Some(cmd), &cmd.args, final_)
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &final_)?;
                self.eval_pipeline(dot, p)
            }
            Arg::Variable { idents, .. } => {
                self.at = At::Arg(first);
                let v = self.var_value(&idents[0])?;
                if idents.len() == 1 {
                    self.not_a_function(&cmd.args, &final_)?;
                    return Ok(v);
                }
                self.eval_field_chain(dot, v, &idents[1..], &cmd.args, final_)
            }
            _ => {
                self.at = At::Arg(first);
                self.not_a_function(&cmd.args, &final_)?;
                self.literal(dot, first)
            }
        }
    }

    fn literal(&self, dot: &Value, a: &Arg) -> R<Value> {
        Ok(match a {
            Arg::Bool { val, .. } => Value::Bool(*val),
            Arg::Dot { .. } => dot.clone(),
            Arg::Nil { .. } => return Err(self.errorf("nil is not a command")),
            Arg::Number { text, num, .. } => {
                if num.prefer_float {
                    if let Some(f) = num.float {
                        return Ok(Value::Float(f));
                    }
                }
                match num.int {
                    Some(i) => Value::Int(i),
                    None => return Err(self.errorf(format!("{text} overflows int"))),
                }
            }
            Arg::String { text, .. } => Value::from(text.as_str()),
            _ => {
                return Err(self.errorf(format!(
                    "can't evaluate command {}",
                    crate::gofmt::quote(&a.to_string())
                )))
            }
        })
    }

    fn eval_field_chain(
        &mut self,
        dot: &Value,
        mut recv: Value,
        idents: &'a [String],
        args: &'a [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        let n = idents.len();
        for id in &idents[..n - 1] {
            recv = self.eval_field(dot, id, &[], None, recv)?;
        }
        self.eval_field(dot, &idents[n - 1], args, final_, recv)
    }

    fn eval_field(
        &mut self,
        dot: &Value,
        name: &str,
        args: &'a [Arg],
        final_: Option<Value>,
        recv: Value,
    ) -> R<Value> {
        let has_args = args.len() > 1 || final_.is_some();
        match &recv {
            Value::NoValue => {
                if self.tmpl.options.missing_key == MissingKey::Error {
                    return Err(self.errorf(format!(
                        "nil data; no entry for key {}",
                        crate::gofmt::quote(name)
                    )));
                }
                return Ok(Value::NoValue);
            }
            Value::Nil => {
                return Err(self.errorf(format!("nil pointer evaluating interface {{}}.{name}")));
            }
            Value::Object(o) => {
                let at = self.at;
                let mut argv = Vec::new();
                if args.len() > 1 {
                    for a in &args[1..] {
                        argv.push(self.eval_arg(dot, a)?);
                    }
                }
                if let Some(f) = &final_ {
                    argv.push(f.clone());
                }
                self.at = at;
                if let Some(res) = o.method(name, &argv) {
                    return res.map_err(|e| self.errorf(format!("error calling {name}: {e}")));
                }
                if let Some(v) = o.field(name) {
                    if has_args {
                        return Err(self.errorf(format!(
                            "{name} has arguments but cannot be invoked as function"
                        )));
                    }
                    return Ok(v);
                }
                if let Some(u) = o.underlying() {
                    if matches!(u, Value::Map(_) | Value::StrMap(_)) {
                        return self.map_field(name, has_args, &u);
                    }
                }
            }
            Value::Map(_) | Value::StrMap(_) => return self.map_field(name, has_args, &recv),
            _ => {}
        }
        Err(self.errorf(format!(
            "can't evaluate field {name} in type {}",
            recv.type_name()
        )))
    }

    fn map_field(&self, name: &str, has_args: bool, m: &Value) -> R<Value> {
        if has_args {
            return Err(self.errorf(format!("{name} is not a method but has arguments")));
        }
        let found = match m {
            Value::Map(m) => m.get(name).cloned(),
            Value::StrMap(m) => m.get(name).map(|s| Value::from(s.as_str())),
            _ => None,
        };
        if let Some(v) = found {
            return Ok(v);
        }
        match self.tmpl.options.missing_key {
            MissingKey::Default => Ok(Value::NoValue),
            MissingKey::Zero => Ok(match m {
                Value::StrMap(_) => Value::from(""),
                _ => Value::Nil,
            }),
            MissingKey::Error => Err(self.errorf(format!(
                "map has no entry for key {}",
                crate::gofmt::quote(name)
            ))),
        }
    }

    fn eval_arg(&mut self, dot: &Value, a: &'a Arg) -> R<Value> {
        self.at = At::Arg(a);
        match a {
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { .. } => Ok(Value::Nil),
            Arg::Field { idents, .. } => {
                self.eval_field_chain(dot, dot.clone(), idents, std::slice::from_ref(a), None)
            }
            Arg::Variable { idents, .. } => {
                let v = self.var_value(&idents[0])?;
                if idents.len() == 1 {
                    return Ok(v);
                }
                self.eval_field_chain(dot, v, &idents[1..], &[], None)
            }
            Arg::Pipe(p) => self.eval_pipeline(dot, p),
            Arg::Ident { name, .. } => self.eval_function(dot, a, name, None, &[], None),
            Arg::Chain { node, fields, .. } => {
                let recv = self.eval_arg(dot, node)?;
                self.eval_field_chain(dot, recv, fields, &[], None)
            }
            _ => self.literal(dot, a),
        }
    }

    fn eval_function(
        &mut self,
        dot: &Value,
        ident: &'a Arg,
        name: &str,
        cmd: Option<&'a Command>,
        args: &'a [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        self.at = At::Arg(ident);
        let Some(func) = self.tmpl.funcs.get(name) else {
            return Err(self.errorf(format!(
                "{} is not a defined function",
                crate::gofmt::quote(name)
            )));
        };
        let given = args.len().saturating_sub(1);
        let num_in = given + usize::from(final_.is_some());
        match func.arity {
            Arity::AtLeast(n) if num_in < n => {
                return Err(self.errorf(format!(
                    "wrong number of args for {name}: want at least {n} got {given}"
                )))
            }
            Arity::Exact(n) if num_in != n => {
                return Err(self.errorf(format!(
                    "wrong number of args for {name}: want {n} got {num_in}"
                )))
            }
            _ => {}
        }
        let rest: &'a [Arg] = if args.is_empty() { args } else { &args[1..] };
        // and/or evaluate their arguments lazily and stop at the deciding one (Go ≥ 1.18).
        if func.short_circuit.is_some() {
            let is_or = func.short_circuit == Some(true);
            let mut v = Value::NoValue;
            for a in rest {
                v = self.eval_arg(dot, a)?;
                if v.is_true() == is_or {
                    return Ok(v);
                }
            }
            if let Some(f) = final_ {
                v = f;
            }
            return Ok(v);
        }
        let mut argv = Vec::with_capacity(num_in);
        for a in rest {
            argv.push(self.eval_arg(dot, a)?);
        }
        if let Some(f) = final_ {
            argv.push(f);
        }
        match (func.f)(self.env, &argv) {
            Ok(v) => Ok(v),
            Err(FuncError::Call(msg)) => {
                if let Some(c) = cmd {
                    self.at = At::Cmd(c);
                } else {
                    self.at = At::Arg(ident);
                }
                Err(self.errorf(format!("error calling {name}: {msg}")))
            }
            Err(FuncError::Type(msg)) => Err(self.errorf(msg)),
            Err(FuncError::Arg { index, want }) => {
                let got = argv.get(index).map_or("<nil>", Value::type_name);
                let wrong = format!("wrong type for value; expected {want}; got {got}");
                let Some(node) = rest.get(index) else {
                    // The piped value: Go's validateType.
                    return Err(self.errorf(wrong));
                };
                self.at = At::Arg(node);
                // A literal argument meets a typed parameter in Go's evalArg.
                let msg = match node {
                    Arg::String { .. } | Arg::Number { .. } | Arg::Bool { .. } => {
                        format!("expected {want}; found {node}")
                    }
                    Arg::Nil { .. } => format!("cannot assign nil to {want}"),
                    _ => wrong,
                };
                Err(self.errorf(msg))
            }
        }
    }
}

fn node_pos(n: &Node) -> usize {
    match n {
        Node::Text(_) => 0,
        Node::Action { pos, .. }
        | Node::Template { pos, .. }
        | Node::Break { pos }
        | Node::Continue { pos } => *pos,
        Node::If(b) | Node::With(b) | Node::Range(b) => b.pos,
    }
}
