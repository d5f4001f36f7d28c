//! A recursive-descent / precedence-climbing PromQL parser with Prometheus' type checks and
//! error messages.

use sightline_model::{MatchOp, Matcher};

use crate::ast::{
    AggregateExpr, AtModifier, BinModifiers, BinOp, Card, DurExpr, Expr, PosRange, ValueType,
    VectorSelector,
};
use crate::error::ParseError;
use crate::functions::FunctionRegistry;
use crate::lexer::{error_at, lex, Tok, Token};
use crate::stack::{guard, MAX_DEPTH};

/// Aggregation operators.
pub(crate) const AGGREGATORS: &[&str] = &[
    "sum",
    "avg",
    "count",
    "min",
    "max",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "count_values",
    "quantile",
    "limitk",
    "limit_ratio",
];

fn agg_has_param(op: &str) -> bool {
    matches!(
        op,
        "topk" | "bottomk" | "count_values" | "quantile" | "limitk" | "limit_ratio"
    )
}

struct Parser<'a> {
    input: &'a str,
    toks: Vec<Token>,
    i: usize,
    reg: &'a FunctionRegistry,
    allow_empty_selector: bool,
    /// Nesting so far: recursive descents plus the operators of enclosing chains (see
    /// [`crate::stack`]).
    depth: usize,
}

type PResult<T> = Result<T, ParseError>;

/// Parses `input` with the given function registry.
pub(crate) fn parse_with(input: &str, reg: &FunctionRegistry) -> PResult<Expr> {
    let toks = lex(input)?;
    let mut p = Parser {
        input,
        toks,
        i: 0,
        reg,
        allow_empty_selector: false,
        depth: 0,
    };
    if matches!(p.peek(), Tok::Eof) {
        return Err(error_at(input, 0, 0, "no expression found in input"));
    }
    let e = p.parse_expr(0)?;
    if !matches!(p.peek(), Tok::Eof) {
        let t = p.cur().clone();
        return Err(p.err_tok(&t, ""));
    }
    Ok(e)
}

/// Prometheus' `parser.ParseMetricSelector` (its grammar's `START_METRIC_SELECTOR`): one
/// vector selector and nothing else. Unlike [`parse_selector`] it accepts a selector whose
/// matchers all match the empty string (`{}`, `{a=""}`), as `/federate` does, and anything
/// after the selector (`[5m]`, `(`) is reported as the unexpected token Prometheus names.
pub(crate) fn parse_metric_selector(input: &str, reg: &FunctionRegistry) -> PResult<Vec<Matcher>> {
    let toks = lex(input)?;
    let mut p = Parser {
        input,
        toks,
        i: 0,
        reg,
        allow_empty_selector: true,
        depth: 0,
    };
    let t = p.cur().clone();
    let mut e = match &t.tok {
        Tok::LBrace => p.parse_selector_rest(None, t.start)?,
        Tok::Ident(name) => {
            let name = name.clone();
            p.next();
            p.parse_selector_rest(Some(name), t.start)?
        }
        Tok::Eof => return Err(p.err(t.start, t.end, "unexpected end of input")),
        _ => return Err(p.err_tok(&t, "")),
    };
    if !matches!(p.peek(), Tok::Eof) {
        let t = p.cur().clone();
        return Err(p.err_tok(&t, ""));
    }
    match &mut e {
        Expr::Vector(vs) => Ok(std::mem::take(&mut vs.matchers)),
        other => Err(error_at(
            input,
            other.pos().start,
            other.pos().end,
            "expected type vector selector",
        )),
    }
}

/// Parses a series selector (`foo{a="b"}`) as used by `match[]`.
pub(crate) fn parse_selector(input: &str, reg: &FunctionRegistry) -> PResult<Vec<Matcher>> {
    let mut e = parse_with(input, reg)?;
    match &mut e {
        Expr::Vector(vs) if vs.offset.is_none() && vs.at.is_none() => {
            Ok(std::mem::take(&mut vs.matchers))
        }
        other => Err(error_at(
            input,
            other.pos().start,
            other.pos().end,
            "expected type vector selector",
        )),
    }
}

impl<'a> Parser<'a> {
    fn cur(&self) -> &Token {
        &self.toks[self.i.min(self.toks.len() - 1)]
    }
    fn peek(&self) -> &Tok {
        &self.cur().tok
    }
    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.i + n).min(self.toks.len() - 1)].tok
    }
    fn next(&mut self) -> Token {
        let t = self.cur().clone();
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        }
        t
    }
    fn prev_end(&self) -> usize {
        if self.i == 0 {
            0
        } else {
            self.toks[self.i - 1].end
        }
    }
    fn err(&self, start: usize, end: usize, msg: impl Into<String>) -> ParseError {
        error_at(self.input, start, end, msg)
    }
    fn err_tok(&self, t: &Token, ctx: &str) -> ParseError {
        let mut msg = format!("unexpected {}", t.tok.describe());
        if !ctx.is_empty() {
            msg.push_str(" in ");
            msg.push_str(ctx);
        }
        self.err(t.start, t.end, msg)
    }
    fn expect(&mut self, want: Tok, ctx: &str) -> PResult<Token> {
        let t = self.next();
        if std::mem::discriminant(&t.tok) == std::mem::discriminant(&want) {
            Ok(t)
        } else {
            let mut e = self.err_tok(&t, ctx);
            e.msg.push_str(&format!(", expected {}", want.describe()));
            Err(e)
        }
    }
    fn is_ident(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s.eq_ignore_ascii_case(word))
    }

    fn peek_binop(&self) -> Option<BinOp> {
        Some(match self.peek() {
            Tok::Add => BinOp::Add,
            Tok::Sub => BinOp::Sub,
            Tok::Mul => BinOp::Mul,
            Tok::Div => BinOp::Div,
            Tok::Mod => BinOp::Mod,
            Tok::Pow => BinOp::Pow,
            Tok::EqlC => BinOp::Eql,
            Tok::Neq => BinOp::Neq,
            Tok::Lt => BinOp::Lt,
            Tok::Lte => BinOp::Lte,
            Tok::Gt => BinOp::Gt,
            Tok::Gte => BinOp::Gte,
            Tok::TrimUpper => BinOp::TrimUpper,
            Tok::TrimLower => BinOp::TrimLower,
            Tok::Ident(s) => match s.to_ascii_lowercase().as_str() {
                "and" => BinOp::And,
                "or" => BinOp::Or,
                "unless" => BinOp::Unless,
                "atan2" => BinOp::Atan2,
                _ => return None,
            },
            _ => return None,
        })
    }

    fn vt(&self, e: &Expr) -> ValueType {
        e.value_type(self.reg)
    }

    /// Counts one level of nesting; an error at the current token past [`MAX_DEPTH`].
    fn deeper(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let t = self.cur().clone();
            return Err(self.err(
                t.start,
                t.end,
                format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        Ok(())
    }

    fn parse_expr(&mut self, min_prec: u8) -> PResult<Expr> {
        let depth = self.depth;
        let r = self
            .deeper()
            .and_then(|()| guard(|| self.parse_expr_inner(min_prec)));
        self.depth = depth;
        r
    }

    fn parse_expr_inner(&mut self, min_prec: u8) -> PResult<Expr> {
        let mut lhs = self.parse_unary()?;
        // The type of `lhs` once it is a binary expression built here: a long chain must not
        // recompute it from the whole left spine at every operator.
        let mut lt = None;
        while let Some(op) = self.peek_binop() {
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            // Each operator of a chain nests the left side one level deeper.
            self.deeper()?;
            self.next();
            let mods = self.parse_bin_modifiers(op)?;
            let next_min = if op == BinOp::Pow { prec } else { prec + 1 };
            if matches!(self.peek(), Tok::Eof) {
                let t = self.cur().clone();
                return Err(self.err_tok(&t, ""));
            }
            let rhs = self.parse_expr(next_min)?;
            let l = lt.unwrap_or_else(|| self.vt(&lhs));
            let r = self.vt(&rhs);
            lhs = self.make_binary(op, (lhs, l), (rhs, r), mods)?;
            lt = Some(if l == ValueType::Scalar && r == ValueType::Scalar {
                ValueType::Scalar
            } else {
                ValueType::Vector
            });
        }
        Ok(lhs)
    }

    fn make_binary(
        &self,
        op: BinOp,
        (lhs, lt): (Expr, ValueType),
        (rhs, rt): (Expr, ValueType),
        mut mods: BinModifiers,
    ) -> PResult<Expr> {
        let pos = PosRange {
            start: lhs.pos().start,
            end: rhs.pos().end,
        };
        let bad = |msg: String| error_at(self.input, pos.start, pos.end, msg);
        if mods.return_bool && !op.is_comparison() {
            return Err(bad(
                "bool modifier can only be used on comparison operators".into(),
            ));
        }
        if op.is_comparison()
            && !mods.return_bool
            && lt == ValueType::Scalar
            && rt == ValueType::Scalar
        {
            return Err(bad(
                "comparisons between scalars must use BOOL modifier".into()
            ));
        }
        for t in [lt, rt] {
            if t != ValueType::Scalar && t != ValueType::Vector {
                return Err(bad(
                    "binary expression must contain only scalar and instant vector types".into(),
                ));
            }
        }
        if op.is_set() {
            if lt == ValueType::Scalar || rt == ValueType::Scalar {
                return Err(bad(format!(
                    "set operator {:?} not allowed in binary scalar expression",
                    op.as_str()
                )));
            }
            if matches!(mods.card, Card::ManyToOne | Card::OneToMany) {
                return Err(bad(format!(
                    "no grouping allowed for {:?} operation",
                    op.as_str()
                )));
            }
            mods.card = Card::ManyToMany;
        }
        if (lt == ValueType::Scalar || rt == ValueType::Scalar) && mods.has_matching {
            return Err(bad(
                "vector matching only allowed between instant vectors".into()
            ));
        }
        if mods.on {
            for l in &mods.include {
                if mods.matching.contains(l) {
                    return Err(bad(format!(
                        "label {l:?} must not occur in ON and GROUP clause at once"
                    )));
                }
            }
        }
        Ok(Expr::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
            mods,
            pos,
        })
    }

    fn parse_bin_modifiers(&mut self, op: BinOp) -> PResult<BinModifiers> {
        let mut m = BinModifiers {
            return_bool: false,
            card: if op.is_set() {
                Card::ManyToMany
            } else {
                Card::OneToOne
            },
            on: false,
            has_matching: false,
            matching: vec![],
            include: vec![],
            fill_left: None,
            fill_right: None,
        };
        if self.is_ident("bool") {
            self.next();
            m.return_bool = true;
        }
        if self.is_ident("on") || self.is_ident("ignoring") {
            m.on = self.is_ident("on");
            self.next();
            m.has_matching = true;
            m.matching = self.parse_label_list()?;
            if self.is_ident("group_left") || self.is_ident("group_right") {
                m.card = if self.is_ident("group_left") {
                    Card::ManyToOne
                } else {
                    Card::OneToMany
                };
                self.next();
                if matches!(self.peek(), Tok::LParen) {
                    m.include = self.parse_label_list()?;
                }
            }
        }
        loop {
            let which = if self.is_ident("fill") {
                0
            } else if self.is_ident("fill_left") {
                1
            } else if self.is_ident("fill_right") {
                2
            } else {
                break;
            };
            if !matches!(self.peek_at(1), Tok::LParen) {
                break;
            }
            self.next();
            self.next();
            let neg = if matches!(self.peek(), Tok::Sub) {
                self.next();
                true
            } else {
                if matches!(self.peek(), Tok::Add) {
                    self.next();
                }
                false
            };
            let t = self.next();
            let v = match t.tok {
                Tok::Number(v) => v,
                _ => return Err(self.err_tok(&t, "fill modifier")),
            };
            let v = if neg { -v } else { v };
            self.expect(Tok::RParen, "fill modifier")?;
            match which {
                0 => {
                    m.fill_left = Some(v);
                    m.fill_right = Some(v);
                }
                1 => m.fill_left = Some(v),
                _ => m.fill_right = Some(v),
            }
        }
        Ok(m)
    }

    fn parse_label_name(&mut self, ctx: &str) -> PResult<String> {
        let t = self.next();
        match t.tok {
            Tok::Ident(s) => Ok(s),
            Tok::Str(s) => Ok(s),
            _ => Err(self.err_tok(&t, ctx)),
        }
    }

    fn parse_label_list(&mut self) -> PResult<Vec<String>> {
        self.expect(Tok::LParen, "grouping opts")?;
        let mut out = Vec::new();
        loop {
            if matches!(self.peek(), Tok::RParen) {
                self.next();
                break;
            }
            let t = self.cur().clone();
            let name = self.parse_label_name("grouping opts")?;
            if !matches!(t.tok, Tok::Str(_)) && !sightline_model::is_valid_label_name(&name) {
                return Err(self.err(t.start, t.end, format!("invalid label name {name:?}")));
            }
            out.push(name);
            match self.peek() {
                Tok::Comma => {
                    self.next();
                }
                Tok::RParen => {}
                _ => {
                    let t = self.cur().clone();
                    let mut e = self.err_tok(&t, "grouping opts");
                    e.msg.push_str(", expected \",\" or \")\"");
                    return Err(e);
                }
            }
        }
        Ok(out)
    }

    fn parse_unary(&mut self) -> PResult<Expr> {
        if matches!(self.peek(), Tok::Sub | Tok::Add) {
            let t = self.next();
            let neg = matches!(t.tok, Tok::Sub);
            let e = self.parse_expr(BinOp::Pow.precedence())?;
            let pos = PosRange {
                start: t.start,
                end: e.pos().end,
            };
            if let Expr::Number { v, .. } = e {
                return Ok(Expr::Number {
                    v: if neg { -v } else { v },
                    pos,
                });
            }
            let vt = self.vt(&e);
            if vt != ValueType::Scalar && vt != ValueType::Vector {
                return Err(self.err(
                    pos.start,
                    pos.end,
                    format!("unary expression only allowed on expressions of type scalar or instant vector, got {:?}", vt.name()),
                ));
            }
            return Ok(Expr::Unary {
                neg,
                expr: Box::new(e),
                pos,
            });
        }
        let e = self.parse_primary()?;
        self.parse_postfix(e)
    }

    fn parse_postfix(&mut self, mut e: Expr) -> PResult<Expr> {
        loop {
            match self.peek().clone() {
                Tok::LBracket => {
                    // `x[1m:][1m:]...` wraps subquery in subquery without recursing.
                    self.deeper()?;
                    e = self.parse_range_suffix(e)?;
                }
                Tok::Ident(w) if w.eq_ignore_ascii_case("offset") => {
                    let t = self.next();
                    let d = self.parse_offset_dur()?;
                    let end = self.prev_end();
                    e = self.set_offset(e, d, t.start, end)?;
                }
                Tok::At => {
                    let t = self.next();
                    let at = self.parse_at()?;
                    let end = self.prev_end();
                    e = self.set_at(e, at, t.start, end)?;
                }
                Tok::Ident(w)
                    if (w == "anchored" || w == "smoothed") && matches!(e, Expr::Vector(_)) =>
                {
                    let t = self.next();
                    if let Expr::Vector(vs) = &mut e {
                        if w == "anchored" {
                            vs.anchored = true;
                        } else {
                            vs.smoothed = true;
                        }
                        if vs.anchored && vs.smoothed {
                            return Err(self.err(
                                t.start,
                                t.end,
                                "anchored and smoothed modifiers cannot be used together",
                            ));
                        }
                        vs.pos.end = t.end;
                    }
                }
                Tok::Ident(w)
                    if (w == "anchored" || w == "smoothed") && matches!(e, Expr::Matrix { .. }) =>
                {
                    let t = self.next();
                    if let Expr::Matrix { vs, pos, .. } = &mut e {
                        if w == "anchored" {
                            vs.anchored = true;
                        } else {
                            vs.smoothed = true;
                        }
                        if vs.anchored && vs.smoothed {
                            return Err(self.err(
                                t.start,
                                t.end,
                                "anchored and smoothed modifiers cannot be used together",
                            ));
                        }
                        pos.end = t.end;
                    }
                }
                _ => return Ok(e),
            }
        }
    }

    fn set_offset(&self, mut e: Expr, d: DurExpr, start: usize, end: usize) -> PResult<Expr> {
        let msg = "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery";
        let dup = "offset may not be set multiple times";
        match &mut e {
            Expr::Vector(vs) => {
                if vs.offset.is_some() {
                    return Err(self.err(start, end, dup));
                }
                vs.offset = Some(d);
                vs.pos.end = end;
            }
            Expr::Matrix { vs, pos, .. } => {
                if vs.offset.is_some() {
                    return Err(self.err(start, end, dup));
                }
                vs.offset = Some(d);
                pos.end = end;
            }
            Expr::Subquery { offset, pos, .. } => {
                if offset.is_some() {
                    return Err(self.err(start, end, dup));
                }
                *offset = Some(d);
                pos.end = end;
            }
            _ => return Err(self.err(start, end, msg)),
        }
        Ok(e)
    }

    fn set_at(&self, mut e: Expr, at: AtModifier, start: usize, end: usize) -> PResult<Expr> {
        let msg = "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery";
        let dup = "@ <timestamp> may not be set multiple times";
        match &mut e {
            Expr::Vector(vs) => {
                if vs.at.is_some() {
                    return Err(self.err(start, end, dup));
                }
                vs.at = Some(at);
                vs.pos.end = end;
            }
            Expr::Matrix { vs, pos, .. } => {
                if vs.at.is_some() {
                    return Err(self.err(start, end, dup));
                }
                vs.at = Some(at);
                pos.end = end;
            }
            Expr::Subquery { at: old, pos, .. } => {
                if old.is_some() {
                    return Err(self.err(start, end, dup));
                }
                *old = Some(at);
                pos.end = end;
            }
            _ => return Err(self.err(start, end, msg)),
        }
        Ok(e)
    }

    fn parse_at(&mut self) -> PResult<AtModifier> {
        if self.is_ident("start") || self.is_ident("end") {
            let is_start = self.is_ident("start");
            self.next();
            self.expect(Tok::LParen, "@ modifier")?;
            self.expect(Tok::RParen, "@ modifier")?;
            return Ok(if is_start {
                AtModifier::Start
            } else {
                AtModifier::End
            });
        }
        let neg = match self.peek() {
            Tok::Sub => {
                self.next();
                true
            }
            Tok::Add => {
                self.next();
                false
            }
            _ => false,
        };
        let t = self.next();
        let v = match t.tok {
            Tok::Number(v) => v,
            Tok::Duration(ms) => ms as f64 / 1000.0,
            _ => {
                let mut e = self.err_tok(&t, "@ modifier");
                e.msg = format!("unexpected {} in @, expected timestamp", t.tok.describe());
                return Err(e);
            }
        };
        let v = if neg { -v } else { v };
        if !v.is_finite() || (v * 1000.0).abs() > i64::MAX as f64 {
            return Err(self.err(t.start, t.end, "timestamp out of bounds for @ modifier"));
        }
        Ok(AtModifier::Time((v * 1000.0).round() as i64))
    }

    /// After `offset`: a signed atom, or a parenthesised duration expression.
    fn parse_offset_dur(&mut self) -> PResult<DurExpr> {
        let d = match self.peek() {
            Tok::Sub => {
                self.next();
                DurExpr::Neg(Box::new(self.parse_dur_atom()?))
            }
            Tok::Add => {
                self.next();
                self.parse_dur_atom()?
            }
            _ => self.parse_dur_atom()?,
        };
        Ok(literal_duration(d))
    }

    fn parse_dur_atom(&mut self) -> PResult<DurExpr> {
        let t = self.next();
        match &t.tok {
            Tok::Duration(ms) => Ok(DurExpr::Lit(*ms)),
            Tok::Number(v) => Ok(DurExpr::Num(*v)),
            Tok::LParen => {
                let e = self.parse_dur_expr(0)?;
                self.expect(Tok::RParen, "duration expression")?;
                Ok(DurExpr::Paren(Box::new(e)))
            }
            Tok::Ident(w) => {
                let lw = w.to_ascii_lowercase();
                match lw.as_str() {
                    "step" | "range" => {
                        self.expect(Tok::LParen, "duration expression")?;
                        self.expect(Tok::RParen, "duration expression")?;
                        Ok(if lw == "step" {
                            DurExpr::Step
                        } else {
                            DurExpr::Range
                        })
                    }
                    "min_of" | "max_of" => {
                        self.expect(Tok::LParen, "duration expression")?;
                        let a = self.parse_dur_expr(0)?;
                        self.expect(Tok::Comma, "duration expression")?;
                        let b = self.parse_dur_expr(0)?;
                        self.expect(Tok::RParen, "duration expression")?;
                        Ok(DurExpr::MinMax(lw == "min_of", Box::new(a), Box::new(b)))
                    }
                    _ => Err(self.err_tok(&t, "duration expression")),
                }
            }
            _ => Err(self.err_tok(&t, "duration expression")),
        }
    }

    fn parse_dur_expr(&mut self, min_prec: u8) -> PResult<DurExpr> {
        let depth = self.depth;
        let r = self
            .deeper()
            .and_then(|()| guard(|| self.parse_dur_expr_inner(min_prec)));
        self.depth = depth;
        r
    }

    fn parse_dur_expr_inner(&mut self, min_prec: u8) -> PResult<DurExpr> {
        let mut lhs = match self.peek() {
            Tok::Sub => {
                self.next();
                DurExpr::Neg(Box::new(self.parse_dur_expr(BinOp::Pow.precedence())?))
            }
            Tok::Add => {
                self.next();
                self.parse_dur_expr(BinOp::Pow.precedence())?
            }
            _ => self.parse_dur_atom()?,
        };
        loop {
            let op = match self.peek() {
                Tok::Add => BinOp::Add,
                Tok::Sub => BinOp::Sub,
                Tok::Mul => BinOp::Mul,
                Tok::Div => BinOp::Div,
                Tok::Mod => BinOp::Mod,
                Tok::Pow => BinOp::Pow,
                _ => break,
            };
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            self.deeper()?;
            self.next();
            let next_min = if op == BinOp::Pow { prec } else { prec + 1 };
            let rhs = self.parse_dur_expr(next_min)?;
            lhs = DurExpr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn parse_range_suffix(&mut self, e: Expr) -> PResult<Expr> {
        let lb = self.next();
        let range = literal_duration(self.parse_dur_expr(0)?);
        let range_end = self.prev_end();
        if let DurExpr::Lit(ms) = range {
            if ms <= 0 {
                return Err(self.err(lb.end, range_end, "duration must be greater than 0"));
            }
        }
        if matches!(self.peek(), Tok::Colon) {
            self.next();
            let step = if matches!(self.peek(), Tok::RBracket) {
                None
            } else {
                let s = literal_duration(self.parse_dur_expr(0)?);
                if let DurExpr::Lit(ms) = s {
                    if ms <= 0 {
                        return Err(self.err(
                            lb.end,
                            self.prev_end(),
                            "duration must be greater than 0",
                        ));
                    }
                }
                Some(s)
            };
            let rb = self.expect(Tok::RBracket, "subquery selector")?;
            let vt = self.vt(&e);
            if vt != ValueType::Vector {
                return Err(self.err(
                    e.pos().start,
                    rb.end,
                    format!(
                        "subquery is only allowed on instant vector, got {} instead",
                        vt.name()
                    ),
                ));
            }
            let pos = PosRange {
                start: e.pos().start,
                end: rb.end,
            };
            return Ok(Expr::Subquery {
                expr: Box::new(e),
                range,
                step,
                offset: None,
                at: None,
                pos,
            });
        }
        let rb = self.next();
        if !matches!(rb.tok, Tok::RBracket) {
            let mut er = self.err_tok(&rb, "matrix selector");
            er.msg = format!(
                "unexpected {} in subquery or range selector, expected \":\" or \"]\"",
                rb.tok.describe()
            );
            return Err(er);
        }
        let mut e = e;
        match &mut e {
            Expr::Vector(vs) => {
                if vs.offset.is_some() || vs.at.is_some() {
                    return Err(self.err(
                        vs.pos.start,
                        rb.end,
                        "no offset or @ modifiers allowed before range",
                    ));
                }
                let pos = PosRange {
                    start: vs.pos.start,
                    end: rb.end,
                };
                let vs = std::mem::take(vs);
                Ok(Expr::Matrix { vs, range, pos })
            }
            other => Err(self.err(
                other.pos().start,
                rb.end,
                "ranges only allowed for vector selectors",
            )),
        }
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        let t = self.cur().clone();
        match &t.tok {
            Tok::Number(v) => {
                self.next();
                Ok(Expr::Number {
                    v: *v,
                    pos: PosRange {
                        start: t.start,
                        end: t.end,
                    },
                })
            }
            Tok::Duration(ms) => {
                self.next();
                Ok(Expr::Number {
                    v: *ms as f64 / 1000.0,
                    pos: PosRange {
                        start: t.start,
                        end: t.end,
                    },
                })
            }
            Tok::Str(s) => {
                self.next();
                Ok(Expr::Str {
                    s: s.clone(),
                    pos: PosRange {
                        start: t.start,
                        end: t.end,
                    },
                })
            }
            Tok::LParen => {
                self.next();
                let e = self.parse_expr(0)?;
                let r = self.expect(Tok::RParen, "paren expression")?;
                Ok(Expr::Paren {
                    expr: Box::new(e),
                    pos: PosRange {
                        start: t.start,
                        end: r.end,
                    },
                })
            }
            Tok::LBrace => self.parse_selector_rest(None, t.start),
            Tok::Ident(name) => {
                let name = name.clone();
                let lname = name.to_ascii_lowercase();
                let next = self.peek_at(1).clone();
                if AGGREGATORS.contains(&lname.as_str())
                    && (matches!(next, Tok::LParen)
                        || matches!(&next, Tok::Ident(w) if w.eq_ignore_ascii_case("by") || w.eq_ignore_ascii_case("without")))
                {
                    return self.parse_aggregate(lname, t.start);
                }
                if matches!(next, Tok::LParen) {
                    return self.parse_call(name, t.start);
                }
                self.next();
                self.parse_selector_rest(Some(name), t.start)
            }
            Tok::Eof => Err(self.err(t.start, t.end, "unexpected end of input")),
            _ => Err(self.err_tok(&t, "")),
        }
    }

    fn parse_call(&mut self, name: String, start: usize) -> PResult<Expr> {
        let name_tok = self.next();
        let def = match self.reg.get(&name) {
            Some(d) => d.clone(),
            None => {
                return Err(self.err(
                    name_tok.start,
                    name_tok.end,
                    format!("unknown function with name {name:?}"),
                ));
            }
        };
        self.expect(Tok::LParen, "function call")?;
        let mut args = Vec::new();
        loop {
            if matches!(self.peek(), Tok::RParen) {
                break;
            }
            let saved = self.allow_empty_selector;
            self.allow_empty_selector = name == "info" && args.len() == 1;
            let a = self.parse_expr(0);
            self.allow_empty_selector = saved;
            args.push(a?);
            match self.peek() {
                Tok::Comma => {
                    self.next();
                }
                Tok::RParen => {}
                _ => {
                    let t = self.cur().clone();
                    let mut e = self.err_tok(&t, "function call");
                    e.msg = format!(
                        "unexpected {} in function call, expected \",\" or \")\"",
                        t.tok.describe()
                    );
                    return Err(e);
                }
            }
        }
        let r = self.next();
        let pos = PosRange { start, end: r.end };
        let n = args.len();
        let min = def.arg_types.len().saturating_sub(def.optional);
        let max = if def.variadic {
            usize::MAX
        } else {
            def.arg_types.len()
        };
        if n < min || n > max {
            let msg = if def.optional == 0 && !def.variadic {
                format!(
                    "expected {} argument(s) in call to {:?}, got {}",
                    min, name, n
                )
            } else if n < min {
                format!(
                    "expected at least {} argument(s) in call to {:?}, got {}",
                    min, name, n
                )
            } else {
                format!(
                    "expected at most {} argument(s) in call to {:?}, got {}",
                    max, name, n
                )
            };
            return Err(self.err(pos.start, pos.end, msg));
        }
        for (i, a) in args.iter().enumerate() {
            let Some(&want) = def
                .arg_types
                .get(i.min(def.arg_types.len().saturating_sub(1)))
            else {
                return Err(self.err(
                    pos.start,
                    pos.end,
                    format!("expected 0 argument(s) in call to {name:?}, got {n}"),
                ));
            };
            let got = self.vt(a);
            if got != want {
                return Err(self.err(
                    a.pos().start,
                    a.pos().end,
                    format!(
                        "expected type {} in call to function {:?}, got {}",
                        want.name(),
                        name,
                        got.name()
                    ),
                ));
            }
        }
        Ok(Expr::Call {
            func: name,
            args,
            pos,
        })
    }

    fn parse_aggregate(&mut self, op: String, start: usize) -> PResult<Expr> {
        self.next();
        let mut grouping = Vec::new();
        let mut without = false;
        let mut has_grouping = false;
        if self.is_ident("by") || self.is_ident("without") {
            without = self.is_ident("without");
            self.next();
            grouping = self.parse_label_list()?;
            has_grouping = true;
        }
        self.expect(Tok::LParen, "aggregation")?;
        let mut args = Vec::new();
        loop {
            if matches!(self.peek(), Tok::RParen) {
                break;
            }
            args.push(self.parse_expr(0)?);
            match self.peek() {
                Tok::Comma => {
                    self.next();
                }
                Tok::RParen => {}
                _ => {
                    let t = self.cur().clone();
                    let mut e = self.err_tok(&t, "aggregation");
                    e.msg = format!(
                        "unexpected {} in aggregation, expected \",\" or \")\"",
                        t.tok.describe()
                    );
                    return Err(e);
                }
            }
        }
        let r = self.next();
        let mut end = r.end;
        if self.is_ident("by") || self.is_ident("without") {
            if has_grouping {
                let t = self.cur().clone();
                return Err(self.err_tok(&t, "aggregation"));
            }
            without = self.is_ident("without");
            self.next();
            grouping = self.parse_label_list()?;
            has_grouping = true;
            end = self.prev_end();
        }
        let pos = PosRange { start, end };
        let want = if agg_has_param(&op) { 2 } else { 1 };
        if args.len() != want {
            if args.is_empty() {
                return Err(self.err(r.start, r.end, "unexpected \")\" in aggregation"));
            }
            return Err(self.err(
                pos.start,
                pos.end,
                format!("wrong number of arguments for aggregate expression provided, expected {want}, got {}", args.len()),
            ));
        }
        let param = if args.len() == 2 {
            Some(args.remove(0))
        } else {
            None
        };
        let Some(expr) = args.pop() else {
            return Err(self.err(r.start, r.end, "unexpected \")\" in aggregation"));
        };
        let et = self.vt(&expr);
        if et != ValueType::Vector {
            return Err(self.err(
                expr.pos().start,
                expr.pos().end,
                format!(
                    "expected type instant vector in aggregation expression, got {}",
                    et.name()
                ),
            ));
        }
        if let Some(p) = &param {
            let pt = self.vt(p);
            let want = if op == "count_values" {
                ValueType::String
            } else {
                ValueType::Scalar
            };
            if pt != want {
                return Err(self.err(
                    p.pos().start,
                    p.pos().end,
                    format!(
                        "expected type {} in aggregation parameter, got {}",
                        want.name(),
                        pt.name()
                    ),
                ));
            }
        }
        Ok(Expr::Aggregate(AggregateExpr {
            op,
            expr: Box::new(expr),
            param: param.map(Box::new),
            grouping,
            without,
            has_grouping,
            pos,
        }))
    }

    fn parse_selector_rest(&mut self, name: Option<String>, start: usize) -> PResult<Expr> {
        let mut matchers = Vec::new();
        let mut metric_name = name.clone();
        let mut end = self.prev_end();
        if matches!(self.peek(), Tok::LBrace) {
            self.next();
            loop {
                if matches!(self.peek(), Tok::RBrace) {
                    break;
                }
                let lt = self.cur().clone();
                let lname = self.parse_label_name("label matching")?;
                let is_quoted = matches!(lt.tok, Tok::Str(_));
                if is_quoted && matches!(self.peek(), Tok::Comma | Tok::RBrace) {
                    // A quoted metric name inside the braces.
                    if metric_name.is_some() {
                        return Err(self.err(
                            lt.start,
                            lt.end,
                            format!(
                                "metric name must not be set twice: {:?} or {:?}",
                                metric_name.unwrap_or_default(),
                                lname
                            ),
                        ));
                    }
                    metric_name = Some(lname.clone());
                    matchers.push(Matcher::equal("__name__", lname));
                } else {
                    let opt = self.next();
                    let op = match opt.tok {
                        Tok::Assign => MatchOp::Equal,
                        Tok::Neq => MatchOp::NotEqual,
                        Tok::EqlRegex => MatchOp::RegexMatch,
                        Tok::NeqRegex => MatchOp::RegexNoMatch,
                        _ => {
                            let mut e = self.err_tok(&opt, "label matching");
                            e.msg = format!(
                                "unexpected {} in label matching, expected label matching operator",
                                opt.tok.describe()
                            );
                            return Err(e);
                        }
                    };
                    let vt = self.next();
                    let val = match vt.tok {
                        Tok::Str(s) => s,
                        _ => {
                            let mut e = self.err_tok(&vt, "label matching");
                            e.msg = format!(
                                "unexpected {} in label matching, expected string",
                                vt.tok.describe()
                            );
                            return Err(e);
                        }
                    };
                    let m = Matcher::new(op, lname.clone(), val)
                        .map_err(|e| self.err(lt.start, vt.end, format!("{e}")))?;
                    if lname == "__name__" && op == MatchOp::Equal && name.is_some() {
                        return Err(self.err(
                            lt.start,
                            vt.end,
                            format!(
                                "metric name must not be set twice: {:?} or {:?}",
                                name.clone().unwrap_or_default(),
                                m.value
                            ),
                        ));
                    }
                    matchers.push(m);
                }
                match self.peek() {
                    Tok::Comma => {
                        self.next();
                    }
                    Tok::RBrace => {}
                    _ => {
                        let t = self.cur().clone();
                        let mut e = self.err_tok(&t, "label matching");
                        e.msg = format!(
                            "unexpected {} in label matching, expected \",\" or \"}}\"",
                            t.tok.describe()
                        );
                        return Err(e);
                    }
                }
            }
            let r = self.next();
            end = r.end;
        }
        if let Some(n) = &name {
            matchers.insert(0, Matcher::equal("__name__", n.clone()));
        }
        if !self.allow_empty_selector && !matchers.iter().any(|m| !m.matches_empty()) {
            return Err(self.err(
                start,
                end,
                "vector selector must contain at least one non-empty matcher",
            ));
        }
        Ok(Expr::Vector(VectorSelector {
            name: metric_name,
            matchers,
            offset: None,
            at: None,
            anchored: false,
            smoothed: false,
            pos: PosRange { start, end },
        }))
    }
}

/// A plain number of seconds (or its negation) becomes a duration literal, which prints as
/// Prometheus prints it (`foo[30]` is `foo[30s]`); real expressions stay as written.
fn literal_duration(d: DurExpr) -> DurExpr {
    let secs_to_ms = |v: f64| (v * 1000.0).round() as i64;
    match &d {
        DurExpr::Num(v) if v.is_finite() => DurExpr::Lit(secs_to_ms(*v)),
        DurExpr::Neg(inner) => match **inner {
            DurExpr::Num(v) if v.is_finite() => DurExpr::Lit(-secs_to_ms(v)),
            DurExpr::Lit(ms) => DurExpr::Lit(-ms),
            _ => d,
        },
        _ => d,
    }
}
