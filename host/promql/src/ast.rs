//! The PromQL syntax tree and its pretty-printer (Prometheus' `String()` forms).

use std::fmt;

use sightline_model::{format_duration, MatchOp, Matcher};

use crate::stack::guard;

/// A byte range inside the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PosRange {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// The type an expression evaluates to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// A scalar.
    Scalar,
    /// A string.
    String,
    /// An instant vector.
    Vector,
    /// A range vector.
    Matrix,
}

impl ValueType {
    /// Prometheus' name for the type, as used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Scalar => "scalar",
            ValueType::String => "string",
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
        }
    }
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
    /// `atan2`
    Atan2,
    /// `==`
    Eql,
    /// `!=`
    Neq,
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `</`: a histogram without its observations above the bound.
    TrimUpper,
    /// `>/`: a histogram without its observations below the bound.
    TrimLower,
    /// `and`
    And,
    /// `or`
    Or,
    /// `unless`
    Unless,
}

impl BinOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
            BinOp::Atan2 => "atan2",
            BinOp::Eql => "==",
            BinOp::Neq => "!=",
            BinOp::Lt => "<",
            BinOp::Lte => "<=",
            BinOp::Gt => ">",
            BinOp::Gte => ">=",
            BinOp::TrimUpper => "</",
            BinOp::TrimLower => ">/",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Unless => "unless",
        }
    }

    /// Whether this is a comparison operator.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eql | BinOp::Neq | BinOp::Lt | BinOp::Lte | BinOp::Gt | BinOp::Gte
        )
    }

    /// Whether this is a set operator.
    pub fn is_set(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or | BinOp::Unless)
    }

    pub(crate) fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And | BinOp::Unless => 2,
            BinOp::Eql
            | BinOp::Neq
            | BinOp::Lt
            | BinOp::Lte
            | BinOp::Gt
            | BinOp::Gte
            | BinOp::TrimUpper
            | BinOp::TrimLower => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Atan2 => 5,
            BinOp::Pow => 6,
        }
    }
}

/// Vector matching cardinality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Card {
    /// One-to-one.
    OneToOne,
    /// `group_left`.
    ManyToOne,
    /// `group_right`.
    OneToMany,
    /// Set operators.
    ManyToMany,
}

/// `bool`, `on`/`ignoring`, `group_*` and `fill*` modifiers of a binary expression.
#[derive(Debug, Clone, PartialEq)]
pub struct BinModifiers {
    /// `bool` was given.
    pub return_bool: bool,
    /// The cardinality.
    pub card: Card,
    /// `on` (true) or `ignoring` (false) was given.
    pub on: bool,
    /// Whether an `on`/`ignoring` clause is present.
    pub has_matching: bool,
    /// The `on`/`ignoring` labels.
    pub matching: Vec<String>,
    /// The `group_left`/`group_right` labels.
    pub include: Vec<String>,
    /// `fill_left(v)` / `fill(v)`.
    pub fill_left: Option<f64>,
    /// `fill_right(v)` / `fill(v)`.
    pub fill_right: Option<f64>,
}

/// Printed after the operator, each with a leading space, in one place for the plain and the
/// pretty printer (which once forgot the `fill*` modifiers).
impl fmt::Display for BinModifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.return_bool {
            f.write_str(" bool")?;
        }
        if self.has_matching && (self.on || !self.matching.is_empty()) {
            write!(
                f,
                " {} ({})",
                if self.on { "on" } else { "ignoring" },
                fmt_label_list(&self.matching)
            )?;
            match self.card {
                Card::ManyToOne => write!(f, " group_left ({})", fmt_label_list(&self.include))?,
                Card::OneToMany => write!(f, " group_right ({})", fmt_label_list(&self.include))?,
                _ => {}
            }
        }
        match (self.fill_left, self.fill_right) {
            (Some(l), Some(r)) if l.to_bits() == r.to_bits() => {
                write!(f, " fill ({})", fmt_number(l))
            }
            (l, r) => {
                if let Some(l) = l {
                    write!(f, " fill_left ({})", fmt_number(l))?;
                }
                if let Some(r) = r {
                    write!(f, " fill_right ({})", fmt_number(r))?;
                }
                Ok(())
            }
        }
    }
}

/// A duration that may be an expression (`5m`, `1h+30m`, `step()`).
#[derive(Debug, PartialEq)]
pub enum DurExpr {
    /// A duration literal in milliseconds.
    Lit(i64),
    /// A number of seconds.
    Num(f64),
    /// `step()`.
    Step,
    /// `range()`.
    Range,
    /// A negation.
    Neg(Box<DurExpr>),
    /// Parentheses.
    Paren(Box<DurExpr>),
    /// An arithmetic operation.
    Bin(BinOp, Box<DurExpr>, Box<DurExpr>),
    /// `min_of(a, b)` (true) or `max_of(a, b)` (false).
    MinMax(bool, Box<DurExpr>, Box<DurExpr>),
}

impl DurExpr {
    /// Evaluates to seconds given the query step and range (milliseconds).
    pub(crate) fn seconds(&self, step_ms: i64, range_ms: i64) -> f64 {
        guard(|| self.seconds_inner(step_ms, range_ms))
    }

    fn seconds_inner(&self, step_ms: i64, range_ms: i64) -> f64 {
        match self {
            DurExpr::Lit(ms) => *ms as f64 / 1000.0,
            DurExpr::Num(v) => *v,
            DurExpr::Step => step_ms as f64 / 1000.0,
            DurExpr::Range => range_ms as f64 / 1000.0,
            DurExpr::Neg(e) => -e.seconds(step_ms, range_ms),
            DurExpr::Paren(e) => e.seconds(step_ms, range_ms),
            DurExpr::Bin(op, a, b) => {
                let (a, b) = (a.seconds(step_ms, range_ms), b.seconds(step_ms, range_ms));
                match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => a / b,
                    BinOp::Mod => a % b,
                    BinOp::Pow => a.powf(b),
                    _ => f64::NAN,
                }
            }
            DurExpr::MinMax(min, a, b) => {
                let (a, b) = (a.seconds(step_ms, range_ms), b.seconds(step_ms, range_ms));
                if *min {
                    a.min(b)
                } else {
                    a.max(b)
                }
            }
        }
    }

    /// Evaluates to milliseconds.
    pub(crate) fn millis(&self, step_ms: i64, range_ms: i64) -> i64 {
        match self {
            DurExpr::Lit(ms) => *ms,
            _ => (self.seconds(step_ms, range_ms) * 1000.0).round() as i64,
        }
    }
}

fn fmt_ms(ms: i64) -> String {
    if ms < 0 {
        format!(
            "-{}",
            format_duration(std::time::Duration::from_millis(ms.unsigned_abs()))
        )
    } else {
        format_duration(std::time::Duration::from_millis(ms as u64))
    }
}

impl fmt::Display for DurExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        guard(|| self.fmt_inner(f))
    }
}

impl DurExpr {
    fn fmt_inner(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurExpr::Lit(ms) => f.write_str(&fmt_ms(*ms)),
            DurExpr::Num(v) => f.write_str(&fmt_number(*v)),
            DurExpr::Step => f.write_str("step()"),
            DurExpr::Range => f.write_str("range()"),
            DurExpr::Neg(e) => write!(f, "-{e}"),
            DurExpr::Paren(e) => write!(f, "({e})"),
            DurExpr::Bin(op, a, b) => write!(f, "{a} {} {b}", op.as_str()),
            DurExpr::MinMax(min, a, b) => {
                write!(f, "{}({a}, {b})", if *min { "min_of" } else { "max_of" })
            }
        }
    }
}

/// The `@` modifier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AtModifier {
    /// `@ <timestamp>` in milliseconds.
    Time(i64),
    /// `@ start()`.
    Start,
    /// `@ end()`.
    End,
}

/// An instant vector selector.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VectorSelector {
    /// The metric name, if given outside the braces.
    pub name: Option<String>,
    /// Every matcher, including the name matcher.
    pub matchers: Vec<Matcher>,
    /// `offset`.
    pub offset: Option<DurExpr>,
    /// `@`.
    pub at: Option<AtModifier>,
    /// `anchored` range modifier.
    pub anchored: bool,
    /// `smoothed` range modifier.
    pub smoothed: bool,
    /// Position in the query.
    pub pos: PosRange,
}

/// An aggregation.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateExpr {
    /// The operator name (`sum`, `topk`, ...).
    pub op: String,
    /// The aggregated expression.
    pub expr: Box<Expr>,
    /// The parameter of `topk`, `quantile`, ...
    pub param: Option<Box<Expr>>,
    /// `by`/`without` labels.
    pub grouping: Vec<String>,
    /// `without` was given.
    pub without: bool,
    /// A grouping clause was given.
    pub has_grouping: bool,
    /// Position in the query.
    pub pos: PosRange,
}

/// A PromQL expression. `Clone` and `Drop` work on trees of any depth (see
/// [`crate::stack`]); the derived `PartialEq` and `Debug` are for tests.
#[derive(Debug, PartialEq)]
pub enum Expr {
    /// A number.
    Number {
        /// The value.
        v: f64,
        /// Position.
        pos: PosRange,
    },
    /// A string.
    Str {
        /// The value.
        s: String,
        /// Position.
        pos: PosRange,
    },
    /// An instant vector selector.
    Vector(VectorSelector),
    /// A range vector selector.
    Matrix {
        /// The selector.
        vs: VectorSelector,
        /// The range.
        range: DurExpr,
        /// Position.
        pos: PosRange,
    },
    /// A subquery.
    Subquery {
        /// The inner expression.
        expr: Box<Expr>,
        /// The range.
        range: DurExpr,
        /// The resolution (default when `None`).
        step: Option<DurExpr>,
        /// `offset`.
        offset: Option<DurExpr>,
        /// `@`.
        at: Option<AtModifier>,
        /// Position.
        pos: PosRange,
    },
    /// Parentheses.
    Paren {
        /// The inner expression.
        expr: Box<Expr>,
        /// Position.
        pos: PosRange,
    },
    /// Unary minus or plus.
    Unary {
        /// Minus (true) or plus.
        neg: bool,
        /// The operand.
        expr: Box<Expr>,
        /// Position.
        pos: PosRange,
    },
    /// A binary operation.
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
        /// Modifiers.
        mods: BinModifiers,
        /// Position.
        pos: PosRange,
    },
    /// An aggregation.
    Aggregate(AggregateExpr),
    /// A function call.
    Call {
        /// The function name.
        func: String,
        /// The arguments.
        args: Vec<Expr>,
        /// Position.
        pos: PosRange,
    },
}

impl Expr {
    /// The expression's position.
    pub fn pos(&self) -> PosRange {
        match self {
            Expr::Number { pos, .. }
            | Expr::Str { pos, .. }
            | Expr::Matrix { pos, .. }
            | Expr::Subquery { pos, .. }
            | Expr::Paren { pos, .. }
            | Expr::Unary { pos, .. }
            | Expr::Binary { pos, .. }
            | Expr::Call { pos, .. } => *pos,
            Expr::Vector(vs) => vs.pos,
            Expr::Aggregate(a) => a.pos,
        }
    }

    /// The type this expression evaluates to.
    pub fn value_type(&self, reg: &crate::FunctionRegistry) -> ValueType {
        let mut e = self;
        loop {
            return match e {
                // Parentheses and signs pass their operand's type through: a loop, not a
                // recursion.
                Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => {
                    e = expr;
                    continue;
                }
                Expr::Number { .. } => ValueType::Scalar,
                Expr::Str { .. } => ValueType::String,
                Expr::Vector(_) | Expr::Aggregate(_) => ValueType::Vector,
                Expr::Matrix { .. } | Expr::Subquery { .. } => ValueType::Matrix,
                Expr::Binary { op, .. } if op.is_set() => ValueType::Vector,
                Expr::Binary { lhs, rhs, .. } => guard(|| {
                    if lhs.value_type(reg) == ValueType::Scalar
                        && rhs.value_type(reg) == ValueType::Scalar
                    {
                        ValueType::Scalar
                    } else {
                        ValueType::Vector
                    }
                }),
                Expr::Call { func, .. } => reg
                    .get(func)
                    .map(|f| f.return_type)
                    .unwrap_or(ValueType::Vector),
            };
        }
    }
}

/// Whether `lhs` is the literal +Inf as the base of `^`. It is written `Inf` there, not
/// `+Inf` as elsewhere (Prometheus' form): `^` binds tighter than a sign, so `+Inf ^ 2` reads
/// back as `+(Inf ^ 2)`, another tree (found by the `roundtrip` fuzz target).
fn is_inf_pow_base(op: BinOp, lhs: &Expr) -> bool {
    op == BinOp::Pow && matches!(lhs, Expr::Number { v, .. } if *v == f64::INFINITY)
}

/// Formats a float as Go's `strconv.FormatFloat(v, 'f', -1, 64)` (with `+Inf`).
pub(crate) fn fmt_number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

/// Go's `%q` of a string (bytes that were not UTF-8 in a literal spelled `\xNN` again).
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => match crate::lexer::raw_byte(c) {
                Some(b) => out.push_str(&format!("\\x{b:02x}")),
                None => out.push(c),
            },
        }
    }
    out.push('"');
    out
}

fn fmt_at_offset(
    f: &mut fmt::Formatter<'_>,
    at: &Option<AtModifier>,
    offset: &Option<DurExpr>,
) -> fmt::Result {
    match at {
        Some(AtModifier::Time(ms)) => write!(f, " @ {:.3}", *ms as f64 / 1000.0)?,
        Some(AtModifier::Start) => f.write_str(" @ start()")?,
        Some(AtModifier::End) => f.write_str(" @ end()")?,
        None => {}
    }
    match offset {
        Some(DurExpr::Lit(0)) | None => {}
        Some(d) => write!(f, " offset {d}")?,
    }
    Ok(())
}

/// A label name as Prometheus prints it: bare when it is a valid legacy name, else quoted.
fn fmt_label_name(n: &str) -> String {
    if sightline_model::is_valid_label_name(n) {
        n.to_string()
    } else {
        go_quote(n)
    }
}

fn fmt_label_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| fmt_label_name(n))
        .collect::<Vec<_>>()
        .join(", ")
}

impl VectorSelector {
    fn fmt_selector(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bare_name = self
            .name
            .as_deref()
            .filter(|n| sightline_model::is_valid_metric_name(n));
        let mut parts: Vec<String> = Vec::new();
        if let (Some(n), None) = (&self.name, bare_name) {
            parts.push(go_quote(n));
        }
        for m in &self.matchers {
            if self.name.is_some()
                && m.name == "__name__"
                && m.op == MatchOp::Equal
                && Some(m.value.as_str()) == self.name.as_deref()
            {
                continue;
            }
            parts.push(format!(
                "{}{}{}",
                fmt_label_name(&m.name),
                m.op.as_str(),
                go_quote(&m.value)
            ));
        }
        if let Some(n) = bare_name {
            f.write_str(n)?;
        }
        if !parts.is_empty() || bare_name.is_none() {
            write!(f, "{{{}}}", parts.join(", "))?;
        }
        Ok(())
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        guard(|| self.fmt_inner(f))
    }
}

impl Expr {
    fn fmt_inner(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number { v, .. } => f.write_str(&fmt_number(*v)),
            Expr::Str { s, .. } => f.write_str(&go_quote(s)),
            Expr::Vector(vs) => {
                vs.fmt_selector(f)?;
                fmt_at_offset(f, &vs.at, &vs.offset)?;
                if vs.anchored {
                    f.write_str(" anchored")?;
                }
                if vs.smoothed {
                    f.write_str(" smoothed")?;
                }
                Ok(())
            }
            Expr::Matrix { vs, range, .. } => {
                vs.fmt_selector(f)?;
                write!(f, "[{range}]")?;
                fmt_at_offset(f, &vs.at, &vs.offset)?;
                if vs.anchored {
                    f.write_str(" anchored")?;
                }
                if vs.smoothed {
                    f.write_str(" smoothed")?;
                }
                Ok(())
            }
            Expr::Subquery {
                expr,
                range,
                step,
                offset,
                at,
                ..
            } => {
                write!(f, "{expr}[{range}:")?;
                if let Some(s) = step {
                    write!(f, "{s}")?;
                }
                f.write_str("]")?;
                fmt_at_offset(f, at, offset)
            }
            Expr::Paren { expr, .. } => write!(f, "({expr})"),
            Expr::Unary { neg, expr, .. } => write!(f, "{}{expr}", if *neg { "-" } else { "+" }),
            Expr::Binary {
                op, lhs, rhs, mods, ..
            } => {
                if is_inf_pow_base(*op, lhs) {
                    write!(f, "Inf {}{mods} {rhs}", op.as_str())
                } else {
                    write!(f, "{lhs} {}{mods} {rhs}", op.as_str())
                }
            }
            Expr::Aggregate(a) => {
                f.write_str(&a.op)?;
                if a.without {
                    write!(f, " without ({}) ", fmt_label_list(&a.grouping))?;
                } else if !a.grouping.is_empty() {
                    write!(f, " by ({}) ", fmt_label_list(&a.grouping))?;
                }
                f.write_str("(")?;
                if let Some(p) = &a.param {
                    write!(f, "{p}, ")?;
                }
                write!(f, "{})", a.expr)
            }
            Expr::Call { func, args, .. } => {
                write!(f, "{func}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Prometheus' line limit before the prettifier splits an expression.
const MAX_LINE: usize = 100;

impl Expr {
    /// Formats the expression as Prometheus' `/api/v1/format_query` does (`parser.Prettify`):
    /// expressions longer than 100 characters are split over indented lines.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.pretty_into(0, true, &mut out);
        out
    }

    /// Appends the pretty form at `level` to `out`, without its leading indentation unless
    /// `lead` (a sign writes its operand right after itself). Writing into one buffer keeps
    /// the cost to the size of the output; returning a string per node would copy each
    /// subtree once per level above it.
    fn pretty_into(&self, level: usize, lead: bool, out: &mut String) {
        guard(|| self.pretty_node(level, lead, out))
    }

    fn pretty_node(&self, level: usize, lead: bool, out: &mut String) {
        let indent = |out: &mut String, level: usize| {
            for _ in 0..level {
                out.push_str("  ");
            }
        };
        let split = longer_than(self, MAX_LINE);
        match self {
            Expr::Binary {
                op, lhs, rhs, mods, ..
            } if split => {
                if is_inf_pow_base(*op, lhs) {
                    if lead {
                        indent(out, level + 1);
                    }
                    out.push_str("Inf");
                } else {
                    lhs.pretty_into(level + 1, lead, out);
                }
                out.push('\n');
                indent(out, level);
                out.push_str(op.as_str());
                out.push_str(&mods.to_string());
                out.push('\n');
                rhs.pretty_into(level + 1, true, out);
            }
            Expr::Subquery {
                expr,
                range,
                step,
                offset,
                at,
                ..
            } if split => {
                expr.pretty_into(level, lead, out);
                out.push_str(&format!("[{range}:"));
                if let Some(st) = step {
                    out.push_str(&st.to_string());
                }
                out.push(']');
                out.push_str(&AtOffset(at, offset).to_string());
            }
            _ => {
                if lead {
                    indent(out, level);
                }
                match self {
                    Expr::Call { func, args, .. } if split => {
                        out.push_str(func);
                        out.push_str("(\n");
                        for (i, a) in args.iter().enumerate() {
                            if i > 0 {
                                out.push_str(",\n");
                            }
                            a.pretty_into(level + 1, true, out);
                        }
                        out.push('\n');
                        indent(out, level);
                        out.push(')');
                    }
                    Expr::Paren { expr, .. } if split => {
                        out.push_str("(\n");
                        expr.pretty_into(level + 1, true, out);
                        out.push('\n');
                        indent(out, level);
                        out.push(')');
                    }
                    Expr::Aggregate(a) if split => {
                        out.push_str(&a.op);
                        if a.without {
                            out.push_str(&format!(" without ({}) ", fmt_label_list(&a.grouping)));
                        } else if !a.grouping.is_empty() {
                            out.push_str(&format!(" by ({}) ", fmt_label_list(&a.grouping)));
                        }
                        out.push_str("(\n");
                        if let Some(p) = &a.param {
                            p.pretty_into(level + 1, true, out);
                            out.push_str(",\n");
                        }
                        a.expr.pretty_into(level + 1, true, out);
                        out.push('\n');
                        indent(out, level);
                        out.push(')');
                    }
                    Expr::Unary { neg, expr, .. } => {
                        out.push(if *neg { '-' } else { '+' });
                        expr.pretty_into(level, false, out);
                    }
                    _ => {
                        use fmt::Write;
                        let _ = write!(out, "{self}");
                    }
                }
            }
        }
    }

    /// Calls `f` with each direct subexpression.
    fn for_each_child<'a>(&'a self, mut f: impl FnMut(&'a Expr)) {
        match self {
            Expr::Paren { expr, .. } | Expr::Unary { expr, .. } | Expr::Subquery { expr, .. } => {
                f(expr)
            }
            Expr::Binary { lhs, rhs, .. } => {
                f(lhs);
                f(rhs);
            }
            Expr::Aggregate(a) => {
                if let Some(p) = &a.param {
                    f(p);
                }
                f(&a.expr);
            }
            Expr::Call { args, .. } => args.iter().for_each(f),
            Expr::Number { .. } | Expr::Str { .. } | Expr::Vector(_) | Expr::Matrix { .. } => {}
        }
    }

    /// [`Expr::for_each_child`], mutably.
    fn for_each_child_mut(&mut self, mut f: impl FnMut(&mut Expr)) {
        match self {
            Expr::Paren { expr, .. } | Expr::Unary { expr, .. } | Expr::Subquery { expr, .. } => {
                f(expr)
            }
            Expr::Binary { lhs, rhs, .. } => {
                f(lhs);
                f(rhs);
            }
            Expr::Aggregate(a) => {
                if let Some(p) = &mut a.param {
                    f(p);
                }
                f(&mut a.expr);
            }
            Expr::Call { args, .. } => args.iter_mut().for_each(f),
            Expr::Number { .. } | Expr::Str { .. } | Expr::Vector(_) | Expr::Matrix { .. } => {}
        }
    }
}

/// Whether `e` prints to more than `n` bytes. Every node prints at least one byte, so a tree
/// of more than `n` nodes is longer (found by visiting at most `n + 1` of them); a smaller
/// one is printed and measured.
fn longer_than(e: &Expr, n: usize) -> bool {
    let mut seen = 0usize;
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        seen += 1;
        if seen > n {
            return true;
        }
        x.for_each_child(|c| stack.push(c));
    }
    e.to_string().len() > n
}

struct AtOffset<'a>(&'a Option<AtModifier>, &'a Option<DurExpr>);

impl fmt::Display for AtOffset<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_at_offset(f, self.0, self.1)
    }
}

/// Dropping a tree takes its subtrees apart on a heap stack instead of recursing, so a tree
/// as deep as the parser allows drops on any thread's stack.
impl Drop for Expr {
    fn drop(&mut self) {
        let mut stack = Vec::new();
        self.take_children(&mut stack);
        while let Some(mut e) = stack.pop() {
            e.take_children(&mut stack);
        }
    }
}

impl Expr {
    /// Moves the children that have children of their own onto `stack`, leaving leaves.
    fn take_children(&mut self, stack: &mut Vec<Expr>) {
        self.for_each_child_mut(|e| {
            if e.has_children() {
                stack.push(std::mem::replace(e, Expr::leaf()));
            }
        });
    }

    fn has_children(&self) -> bool {
        !matches!(
            self,
            Expr::Number { .. } | Expr::Str { .. } | Expr::Vector(_) | Expr::Matrix { .. }
        )
    }

    fn leaf() -> Expr {
        Expr::Number {
            v: 0.0,
            pos: PosRange::default(),
        }
    }
}

impl Clone for Expr {
    fn clone(&self) -> Self {
        guard(|| match self {
            Expr::Number { v, pos } => Expr::Number { v: *v, pos: *pos },
            Expr::Str { s, pos } => Expr::Str {
                s: s.clone(),
                pos: *pos,
            },
            Expr::Vector(vs) => Expr::Vector(vs.clone()),
            Expr::Matrix { vs, range, pos } => Expr::Matrix {
                vs: vs.clone(),
                range: range.clone(),
                pos: *pos,
            },
            Expr::Subquery {
                expr,
                range,
                step,
                offset,
                at,
                pos,
            } => Expr::Subquery {
                expr: expr.clone(),
                range: range.clone(),
                step: step.clone(),
                offset: offset.clone(),
                at: *at,
                pos: *pos,
            },
            Expr::Paren { expr, pos } => Expr::Paren {
                expr: expr.clone(),
                pos: *pos,
            },
            Expr::Unary { neg, expr, pos } => Expr::Unary {
                neg: *neg,
                expr: expr.clone(),
                pos: *pos,
            },
            Expr::Binary {
                op,
                lhs,
                rhs,
                mods,
                pos,
            } => Expr::Binary {
                op: *op,
                lhs: lhs.clone(),
                rhs: rhs.clone(),
                mods: mods.clone(),
                pos: *pos,
            },
            Expr::Aggregate(a) => Expr::Aggregate(a.clone()),
            Expr::Call { func, args, pos } => Expr::Call {
                func: func.clone(),
                args: args.clone(),
                pos: *pos,
            },
        })
    }
}

impl Clone for DurExpr {
    fn clone(&self) -> Self {
        guard(|| match self {
            DurExpr::Lit(ms) => DurExpr::Lit(*ms),
            DurExpr::Num(v) => DurExpr::Num(*v),
            DurExpr::Step => DurExpr::Step,
            DurExpr::Range => DurExpr::Range,
            DurExpr::Neg(e) => DurExpr::Neg(e.clone()),
            DurExpr::Paren(e) => DurExpr::Paren(e.clone()),
            DurExpr::Bin(op, a, b) => DurExpr::Bin(*op, a.clone(), b.clone()),
            DurExpr::MinMax(min, a, b) => DurExpr::MinMax(*min, a.clone(), b.clone()),
        })
    }
}

/// Like [`Expr`]'s: a duration expression as deep as the parser allows drops without
/// recursing.
impl Drop for DurExpr {
    fn drop(&mut self) {
        let mut stack = Vec::new();
        let take = |d: &mut DurExpr, stack: &mut Vec<DurExpr>| {
            let mut push = |b: &mut Box<DurExpr>| {
                if matches!(
                    **b,
                    DurExpr::Neg(_) | DurExpr::Paren(_) | DurExpr::Bin(..) | DurExpr::MinMax(..)
                ) {
                    stack.push(std::mem::replace(&mut **b, DurExpr::Lit(0)));
                }
            };
            match d {
                DurExpr::Neg(e) | DurExpr::Paren(e) => push(e),
                DurExpr::Bin(_, a, b) | DurExpr::MinMax(_, a, b) => {
                    push(a);
                    push(b);
                }
                DurExpr::Lit(_) | DurExpr::Num(_) | DurExpr::Step | DurExpr::Range => {}
            }
        };
        take(self, &mut stack);
        while let Some(mut d) = stack.pop() {
            take(&mut d, &mut stack);
        }
    }
}
