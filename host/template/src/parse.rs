//! The parser: Go's text/template/parse/parse.go, recursive descent over the token list.
//!
//! Nesting (control structures and parenthesised pipelines) is counted and bounded, so hostile
//! input gets a positioned error instead of a deep stack.

use std::sync::Arc;

use crate::ast::{Arg, Branch, Command, Node, Number, Pipe, Tree};
use crate::lex::{lex, Tok, Token};

/// A parse failure, already in Go's words (`template: name:line: message`).
pub(crate) struct ParseError(pub(crate) String);

type PResult<T> = Result<T, ParseError>;

/// What parsing one text yields: the top-level tree plus every `define`d or `block` tree.
pub(crate) struct Parsed {
    pub(crate) trees: Vec<Tree>,
}

pub(crate) struct Parser<'a> {
    toks: Vec<Token<'a>>,
    i: usize,
    /// The line of the last token read, as Go's errors report it.
    line: usize,
    parse_name: &'a str,
    text: Arc<str>,
    has_func: &'a dyn Fn(&str) -> bool,
    vars: Vec<String>,
    range_depth: usize,
    /// The line of the `{{` of the action being parsed, for "started at" in lexer errors.
    action_line: usize,
    depth: usize,
    max_depth: usize,
    trees: Vec<Tree>,
}

/// Parses `text` as the template `name`, checking function names with `has_func`.
pub(crate) fn parse(
    name: &str,
    text: &str,
    has_func: &dyn Fn(&str) -> bool,
    max_depth: usize,
) -> Result<Parsed, ParseError> {
    let shared: Arc<str> = Arc::from(text);
    let mut p = Parser {
        toks: lex(text),
        i: 0,
        line: 1,
        parse_name: name,
        text: shared.clone(),
        has_func,
        vars: vec!["$".to_string()],
        range_depth: 0,
        action_line: 0,
        depth: 0,
        max_depth,
        trees: Vec::new(),
    };
    let root = p.parse_top()?;
    let mut trees = std::mem::take(&mut p.trees);
    add_tree(
        &mut trees,
        Tree {
            name: name.to_string(),
            parse_name: name.to_string(),
            text: shared,
            root,
        },
        &p,
    )?;
    Ok(Parsed { trees })
}

/// Go's `(*Tree).add`: an empty definition never replaces a non-empty one; two non-empty
/// definitions of one name in a single parse are an error.
fn add_tree(trees: &mut Vec<Tree>, t: Tree, p: &Parser<'_>) -> PResult<()> {
    if let Some(existing) = trees.iter_mut().find(|e| e.name == t.name) {
        if is_empty(&existing.root) {
            *existing = t;
            return Ok(());
        }
        if !is_empty(&t.root) {
            return Err(p.err(format!(
                "template: multiple definition of template {}",
                crate::gofmt::quote(&t.name)
            )));
        }
        return Ok(());
    }
    trees.push(t);
    Ok(())
}

/// Go's `IsEmptyTree`: only whitespace text (and comments, which we drop).
pub(crate) fn is_empty(list: &[Node]) -> bool {
    list.iter().all(|n| match n {
        Node::Text(t) => t.trim_matches([' ', '\t', '\r', '\n']).is_empty(),
        _ => false,
    })
}

/// What `text_or_action` found: a node, or the `{{end}}`/`{{else}}` that closes a list.
enum Item {
    Node(Node),
    End,
    /// `{{else}}`; `chained` when it is `{{else if` / `{{else with` (the keyword is next).
    Else,
}

impl<'a> Parser<'a> {
    fn err(&self, msg: String) -> ParseError {
        ParseError(format!(
            "template: {}:{}: {}",
            self.parse_name, self.line, msg
        ))
    }

    fn next(&mut self) -> Token<'a> {
        let t = self.toks[self.i.min(self.toks.len() - 1)].clone();
        // Past the last token (EOF or an error) reads repeat it; backing up returns to it.
        if self.i < self.toks.len() {
            self.i += 1;
        }
        self.line = t.line;
        t
    }

    fn backup(&mut self, n: usize) {
        self.i -= n;
    }

    fn peek(&self) -> &Token<'a> {
        &self.toks[self.i.min(self.toks.len() - 1)]
    }

    fn next_non_space(&mut self) -> Token<'a> {
        loop {
            let t = self.next();
            if t.typ != Tok::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Token<'a> {
        let start = self.i;
        let t = self.next_non_space();
        // Go backs up one token, leaving skipped spaces consumed; keep that behaviour.
        let _ = start;
        self.backup(1);
        t
    }

    fn unexpected(&self, tok: &Token, context: &str) -> ParseError {
        if tok.typ == Tok::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != tok.line {
                extra = format!(
                    " in action started at {}:{}",
                    self.parse_name, self.action_line
                );
                if tok.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.err(format!("{}{}", tok.val, extra));
        }
        self.err(format!("unexpected {} in {}", tok.describe(), context))
    }

    fn expect(&mut self, typ: Tok, context: &str) -> PResult<Token<'a>> {
        let t = self.next_non_space();
        if t.typ != typ {
            return Err(self.unexpected(&t, context));
        }
        Ok(t)
    }

    /// Every nesting level of the parser comes through here: it bounds the depth and gives the
    /// recursion a fresh stack segment when the current one runs low.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        self.enter()?;
        let res = stacker::maybe_grow(64 * 1024, 1024 * 1024, || f(self));
        self.depth -= 1;
        res
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(self.err("max expression depth exceeded".to_string()));
        }
        Ok(())
    }

    fn parse_top(&mut self) -> PResult<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().typ != Tok::Eof {
            if self.peek().typ == Tok::LeftDelim {
                let save = self.i;
                self.next();
                if self.next_non_space().typ == Tok::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.i = save;
            }
            match self.text_or_action()? {
                Item::Node(n) => root.push(n),
                Item::End => return Err(self.err("unexpected {{end}}".to_string())),
                Item::Else => return Err(self.err("unexpected {{else}}".to_string())),
            }
        }
        // A trailing error token (lexer failure) surfaces here.
        if let Some(t) = self.toks.last() {
            if t.typ == Tok::Error {
                self.line = t.line;
                return Err(self.err(t.val.to_string()));
            }
        }
        Ok(root)
    }

    fn parse_definition(&mut self) -> PResult<()> {
        const CONTEXT: &str = "define clause";
        let t = self.next_non_space();
        let name = match t.typ {
            Tok::String | Tok::RawString => self.unquote(&t.val)?,
            _ => return Err(self.unexpected(&t, CONTEXT)),
        };
        self.expect(Tok::RightDelim, CONTEXT)?;
        // A definition starts with fresh variables: only $.
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let (root, end) = self.item_list()?;
        self.vars = saved_vars;
        if !matches!(end, Item::End) {
            return Err(self.err(format!("unexpected {{{{else}}}} in {CONTEXT}")));
        }
        let tree = Tree {
            name,
            parse_name: self.parse_name.to_string(),
            text: self.text.clone(),
            root,
        };
        let mut trees = std::mem::take(&mut self.trees);
        let res = add_tree(&mut trees, tree, self);
        self.trees = trees;
        res
    }

    fn item_list(&mut self) -> PResult<(Vec<Node>, Item)> {
        let mut list = Vec::new();
        while self.peek_non_space().typ != Tok::Eof {
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                end => return Ok((list, end)),
            }
        }
        if let Some(t) = self.toks.last() {
            if t.typ == Tok::Error {
                let t = t.clone();
                return Err(self.unexpected(&t, "input"));
            }
        }
        Err(self.err("unexpected EOF".to_string()))
    }

    fn text_or_action(&mut self) -> PResult<Item> {
        let t = self.next_non_space();
        match t.typ {
            Tok::Text => Ok(Item::Node(Node::Text(t.val.into_owned()))),
            Tok::LeftDelim => {
                self.action_line = t.line;
                let res = self.action();
                self.action_line = 0;
                res
            }
            Tok::Comment => {
                // Comments produce no output; keep the list free of them.
                Ok(Item::Node(Node::Text(String::new())))
            }
            _ => Err(self.unexpected(&t, "input")),
        }
    }

    fn action(&mut self) -> PResult<Item> {
        let t = self.next_non_space();
        match t.typ {
            Tok::Block => return self.block_control().map(Item::Node),
            Tok::Break | Tok::Continue => {
                let kw = if t.typ == Tok::Break {
                    "break"
                } else {
                    "continue"
                };
                let next = self.next_non_space();
                if next.typ != Tok::RightDelim {
                    return Err(self.unexpected(&next, &format!("{{{{{kw}}}}}")));
                }
                if self.range_depth == 0 {
                    return Err(self.err(format!("{{{{{kw}}}}} outside {{{{range}}}}")));
                }
                return Ok(Item::Node(if t.typ == Tok::Break {
                    Node::Break { pos: t.pos }
                } else {
                    Node::Continue { pos: t.pos }
                }));
            }
            Tok::Else => {
                let p = self.peek_non_space();
                if p.typ == Tok::If || p.typ == Tok::With {
                    return Ok(Item::Else);
                }
                self.expect(Tok::RightDelim, "else")?;
                return Ok(Item::Else);
            }
            Tok::End => {
                self.expect(Tok::RightDelim, "end")?;
                return Ok(Item::End);
            }
            Tok::If => return self.control("if").map(|b| Item::Node(Node::If(b))),
            Tok::Range => return self.control("range").map(|b| Item::Node(Node::Range(b))),
            Tok::With => return self.control("with").map(|b| Item::Node(Node::With(b))),
            Tok::Template => return self.template_control().map(Item::Node),
            _ => {}
        }
        self.backup(1);
        let pos = self.peek().pos;
        // Variables declared here persist until the enclosing {{end}}.
        let pipe = self.pipeline("command", Tok::RightDelim)?;
        Ok(Item::Node(Node::Action { pos, pipe }))
    }

    fn control(&mut self, context: &str) -> PResult<Branch> {
        self.nested(|p| p.control_inner(context))
    }

    fn control_inner(&mut self, context: &str) -> PResult<Branch> {
        let mark = self.vars.len();
        let pipe = self.pipeline(context, Tok::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let mut else_list = None;
        if let Item::Else = next {
            let p = self.peek().typ;
            if (context == "if" && p == Tok::If) || (context == "with" && p == Tok::With) {
                let kw = self.next();
                let nested = self.control(context)?;
                else_list = Some(vec![if kw.typ == Tok::If {
                    Node::If(nested)
                } else {
                    Node::With(nested)
                }]);
            } else {
                let (l, end) = self.item_list()?;
                if !matches!(end, Item::End) {
                    return Err(self.err("expected end; found {{else}}".to_string()));
                }
                else_list = Some(l);
            }
        }
        self.vars.truncate(mark);
        Ok(Branch {
            pos: pipe.pos,
            pipe,
            list,
            else_list,
        })
    }

    fn template_name(&mut self, t: &Token, context: &str) -> PResult<String> {
        match t.typ {
            Tok::String | Tok::RawString => self.unquote(&t.val),
            _ => Err(self.unexpected(t, context)),
        }
    }

    fn template_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "template clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, CONTEXT)?;
        let pipe = if self.next_non_space().typ != Tok::RightDelim {
            self.backup(1);
            Some(self.pipeline(CONTEXT, Tok::RightDelim)?)
        } else {
            None
        };
        Ok(Node::Template {
            pos: t.pos,
            name,
            pipe,
        })
    }

    fn block_control(&mut self) -> PResult<Node> {
        self.nested(Self::block_control_inner)
    }

    fn block_control_inner(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "block clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, Tok::RightDelim)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let saved_range = std::mem::replace(&mut self.range_depth, 0);
        let (root, end) = self.item_list()?;
        self.vars = saved_vars;
        self.range_depth = saved_range;
        if !matches!(end, Item::End) {
            return Err(self.err(format!("unexpected {{{{else}}}} in {CONTEXT}")));
        }
        let tree = Tree {
            name: name.clone(),
            parse_name: self.parse_name.to_string(),
            text: self.text.clone(),
            root,
        };
        let mut trees = std::mem::take(&mut self.trees);
        let res = add_tree(&mut trees, tree, self);
        self.trees = trees;
        res?;
        Ok(Node::Template {
            pos: t.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn pipeline(&mut self, context: &str, end: Tok) -> PResult<Pipe> {
        let pos = self.peek_non_space().pos;
        let mut pipe = Pipe {
            pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        loop {
            let v = self.peek_non_space();
            if v.typ != Tok::Variable {
                break;
            }
            let at_var = self.i;
            self.next();
            let after = self.peek().typ;
            let next = self.peek_non_space();
            match next.typ {
                Tok::Assign | Tok::Declare => {
                    pipe.is_assign = next.typ == Tok::Assign;
                    self.next_non_space();
                    pipe.decl.push(v.val.to_string());
                    self.vars.push(v.val.into_owned());
                    break;
                }
                Tok::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.val.to_string());
                    self.vars.push(v.val.into_owned());
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().typ {
                            Tok::Variable | Tok::RightDelim | Tok::RightParen => continue,
                            _ => {
                                return Err(
                                    self.err("range can only initialize variables".to_string())
                                )
                            }
                        }
                    }
                    return Err(self.err(format!("too many declarations in {context}")));
                }
                _ => {
                    let _ = after;
                    self.i = at_var;
                    break;
                }
            }
        }
        loop {
            let t = self.next_non_space();
            if t.typ == end {
                self.check_pipeline(&pipe, context)?;
                return Ok(pipe);
            }
            match t.typ {
                Tok::Bool
                | Tok::CharConstant
                | Tok::Dot
                | Tok::Field
                | Tok::Identifier
                | Tok::Number
                | Tok::Nil
                | Tok::RawString
                | Tok::String
                | Tok::Variable
                | Tok::LeftParen => {
                    self.backup(1);
                    let c = self.command()?;
                    pipe.cmds.push(c);
                }
                _ => return Err(self.unexpected(&t, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.err(format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args.first(),
                Some(
                    Arg::Bool { .. }
                        | Arg::Dot { .. }
                        | Arg::Nil { .. }
                        | Arg::Number { .. }
                        | Arg::String { .. }
                )
            ) {
                return Err(self.err(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Command> {
        let pos = self.peek_non_space().pos;
        let mut cmd = Command {
            pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let t = self.next();
            match t.typ {
                Tok::Space => continue,
                Tok::RightDelim | Tok::RightParen => self.backup(1),
                Tok::Pipe => {}
                _ => return Err(self.unexpected(&t, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.err("empty command".to_string()));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().typ != Tok::Field {
            return Ok(Some(node));
        }
        let chain_pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().typ == Tok::Field {
            let f = self.next();
            fields.push(f.val[1..].to_string());
        }
        // As Go: fields on a field or variable extend it (at the chain's position); on a
        // literal they are an error; otherwise they form a chain node.
        Ok(Some(match node {
            Arg::Field { mut idents, .. } => {
                idents.extend(fields);
                Arg::Field {
                    pos: chain_pos,
                    idents,
                }
            }
            Arg::Variable { mut idents, .. } => {
                idents.extend(fields);
                Arg::Variable {
                    pos: chain_pos,
                    idents,
                }
            }
            Arg::Bool { .. }
            | Arg::String { .. }
            | Arg::Number { .. }
            | Arg::Nil { .. }
            | Arg::Dot { .. } => {
                return Err(self.err(format!(
                    "unexpected . after term {}",
                    crate::gofmt::quote(&node.to_string())
                )))
            }
            other => Arg::Chain {
                pos: chain_pos,
                node: Box::new(other),
                fields,
            },
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let t = self.next_non_space();
        Ok(Some(match t.typ {
            Tok::Identifier => {
                if !(self.has_func)(&t.val) {
                    return Err(self.err(format!(
                        "function {} not defined",
                        crate::gofmt::quote(&t.val)
                    )));
                }
                Arg::Ident {
                    pos: t.pos,
                    name: t.val.into_owned(),
                }
            }
            Tok::Dot => Arg::Dot { pos: t.pos },
            Tok::Nil => Arg::Nil { pos: t.pos },
            Tok::Variable => {
                if !self.vars.iter().any(|v| *v == t.val) {
                    return Err(self.err(format!(
                        "undefined variable {}",
                        crate::gofmt::quote(&t.val)
                    )));
                }
                Arg::Variable {
                    pos: t.pos,
                    idents: vec![t.val.into_owned()],
                }
            }
            Tok::Field => Arg::Field {
                pos: t.pos,
                idents: vec![t.val[1..].to_string()],
            },
            Tok::Bool => Arg::Bool {
                pos: t.pos,
                val: t.val == "true",
            },
            Tok::CharConstant | Tok::Number => {
                let num = self.number(&t)?;
                Arg::Number {
                    pos: t.pos,
                    text: t.val.into_owned(),
                    num,
                }
            }
            Tok::LeftParen => {
                let p = self.nested(|p| p.pipeline("parenthesized pipeline", Tok::RightParen))?;
                Arg::Pipe(Box::new(p))
            }
            Tok::String | Tok::RawString => {
                let text = self.unquote(&t.val)?;
                Arg::String {
                    pos: t.pos,
                    quoted: t.val.into_owned(),
                    text,
                }
            }
            _ => {
                self.backup(1);
                return Ok(None);
            }
        }))
    }

    fn unquote(&self, quoted: &str) -> PResult<String> {
        crate::gostr::unquote(quoted).map_err(|e| self.err(e))
    }

    fn number(&self, t: &Token) -> PResult<Number> {
        crate::gostr::parse_number(&t.val, t.typ == Tok::CharConstant).map_err(|e| self.err(e))
    }
}
