//! The lexer: Go's text/template/parse/lex.go, as a function from text to tokens.
//!
//! Lexing everything up front (rather than Go's goroutine-fed channel) keeps the parser's
//! look-ahead a slice index. An error becomes the last token, as in Go.

use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    Error,
    Eof,
    Text,
    LeftDelim,
    RightDelim,
    Comment,
    Space,
    Bool,
    Char,
    CharConstant,
    Declare,
    Assign,
    Dot,
    Field,
    Identifier,
    LeftParen,
    RightParen,
    Number,
    Pipe,
    RawString,
    String,
    Variable,
    // Keywords, which print as <name>.
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

/// A token borrows its text from the input (only error messages are owned), so lexing
/// allocates one vector, not a string per token.
#[derive(Debug, Clone)]
pub(crate) struct Token<'a> {
    pub(crate) typ: Tok,
    pub(crate) pos: usize,
    /// The token's text (for text tokens, after trimming; for errors, the message).
    pub(crate) val: Cow<'a, str>,
    pub(crate) line: usize,
}

impl Token<'_> {
    /// Go's `item.String()`, as parse errors quote tokens.
    pub(crate) fn describe(&self) -> String {
        match self.typ {
            Tok::Eof => "EOF".to_string(),
            Tok::Error => self.val.to_string(),
            Tok::Block
            | Tok::Break
            | Tok::Continue
            | Tok::Define
            | Tok::Else
            | Tok::End
            | Tok::If
            | Tok::Nil
            | Tok::Range
            | Tok::Template
            | Tok::With => format!("<{}>", self.val),
            _ if self.val.chars().count() > 10 => {
                let short: String = self.val.chars().take(10).collect();
                format!("{}...", crate::gofmt::quote(&short))
            }
            _ => crate::gofmt::quote(&self.val),
        }
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    line: usize,
    start_line: usize,
    paren_depth: usize,
    out: Vec<Token<'a>>,
}

/// Lexes the whole input. The last token is `Eof` or `Error`.
pub(crate) fn lex(input: &str) -> Vec<Token<'_>> {
    let mut l = Lexer {
        input,
        pos: 0,
        start: 0,
        line: 1,
        start_line: 1,
        paren_depth: 0,
        out: Vec::new(),
    };
    let mut in_action = false;
    loop {
        let res = if in_action {
            l.inside_action()
        } else {
            l.text()
        };
        match res {
            Ok(Some(next_in_action)) => in_action = next_in_action,
            Ok(None) => {
                l.emit(Tok::Eof);
                break;
            }
            Err(msg) => {
                l.out.push(Token {
                    typ: Tok::Error,
                    pos: l.start,
                    val: Cow::Owned(msg),
                    line: l.start_line,
                });
                break;
            }
        }
    }
    l.out
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn emit(&mut self, typ: Tok) {
        let val = &self.input[self.start..self.pos];
        self.out.push(Token {
            typ,
            pos: self.start,
            val: Cow::Borrowed(val),
            line: self.start_line,
        });
        self.ignore();
    }

    /// Skips the pending input, counting its newlines.
    fn ignore(&mut self) {
        self.line += self.input[self.start..self.pos].matches('\n').count();
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn has_left_trim(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() >= 2 && b[0] == b'-' && is_space(b[1])
    }

    fn has_right_trim(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() >= 2 && is_space(b[0]) && b[1] == b'-'
    }

    /// Whether the input is at `}}` or ` -}}`, and whether it is the trimming form.
    fn at_right_delim(&self) -> (bool, bool) {
        let r = self.rest();
        if Self::has_right_trim(r) && r[2..].starts_with("}}") {
            return (true, true);
        }
        (r.starts_with("}}"), false)
    }

    /// Text up to the next `{{`. Returns whether an action follows.
    fn text(&mut self) -> Result<Option<bool>, String> {
        if let Some(x) = self.rest().find("{{") {
            let delim_pos = self.pos + x;
            let after = &self.input[delim_pos + 2..];
            let trim = Self::has_left_trim(after);
            let mut end = delim_pos;
            if trim {
                end = self.input[self.start..delim_pos]
                    .trim_end_matches([' ', '\t', '\r', '\n'])
                    .len()
                    + self.start;
            }
            self.pos = end;
            if self.pos > self.start {
                self.emit(Tok::Text);
            }
            self.pos = delim_pos;
            self.ignore();
            self.left_delim(trim)
        } else {
            self.pos = self.input.len();
            if self.pos > self.start {
                self.emit(Tok::Text);
            }
            Ok(None)
        }
    }

    fn left_delim(&mut self, trim: bool) -> Result<Option<bool>, String> {
        self.pos += 2;
        let after_marker = if trim { 2 } else { 0 };
        if self.input[self.pos + after_marker..].starts_with("/*") {
            self.pos += after_marker;
            self.ignore();
            return self.comment();
        }
        self.emit(Tok::LeftDelim);
        self.pos += after_marker;
        self.ignore();
        self.paren_depth = 0;
        Ok(Some(true))
    }

    fn comment(&mut self) -> Result<Option<bool>, String> {
        self.pos += 2;
        let Some(x) = self.rest().find("*/") else {
            return Err("unclosed comment".to_string());
        };
        self.pos += x + 2;
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return Err("comment ends before closing delimiter".to_string());
        }
        self.emit(Tok::Comment);
        if trim {
            self.pos += 2;
        }
        self.pos += 2;
        if trim {
            self.pos += self.left_trim_len();
        }
        self.ignore();
        Ok(Some(false))
    }

    fn left_trim_len(&self) -> usize {
        let r = self.rest();
        r.len() - r.trim_start_matches([' ', '\t', '\r', '\n']).len()
    }

    fn right_delim(&mut self, trim: bool) -> Result<Option<bool>, String> {
        if trim {
            self.pos += 2;
            self.ignore();
        }
        self.pos += 2;
        self.emit(Tok::RightDelim);
        if trim {
            self.pos += self.left_trim_len();
            self.ignore();
        }
        Ok(Some(false))
    }

    fn inside_action(&mut self) -> Result<Option<bool>, String> {
        let (delim, trim) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return self.right_delim(trim);
            }
            return Err("unclosed left paren".to_string());
        }
        let Some(c) = self.next() else {
            return Err("unclosed action".to_string());
        };
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                self.pos -= 1;
                return self.space();
            }
            '=' => self.emit(Tok::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return Err("expected :=".to_string());
                }
                self.emit(Tok::Declare);
            }
            '|' => self.emit(Tok::Pipe),
            '"' => self.quote()?,
            '`' => self.raw_quote()?,
            '$' => self.field_or_variable(Tok::Variable)?,
            '\'' => self.char_constant()?,
            '.' => {
                if self.peek().is_some_and(|c| !c.is_ascii_digit()) {
                    self.field_or_variable(Tok::Field)?;
                } else {
                    self.pos -= 1;
                    self.number()?;
                }
            }
            '+' | '-' | '0'..='9' => {
                self.pos -= 1;
                self.number()?;
            }
            c if is_alnum(c) => {
                self.pos -= c.len_utf8();
                self.identifier()?;
            }
            '(' => {
                self.emit(Tok::LeftParen);
                self.paren_depth += 1;
            }
            ')' => {
                // Go's synchronous lexer replaces the paren item with the error.
                if self.paren_depth == 0 {
                    return Err("unexpected right paren".to_string());
                }
                self.emit(Tok::RightParen);
                self.paren_depth -= 1;
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(Tok::Char),
            c => {
                return Err(format!(
                    "unrecognized character in action: {}",
                    crate::gofmt::rune_u(c)
                ))
            }
        }
        Ok(Some(true))
    }

    fn space(&mut self) -> Result<Option<bool>, String> {
        let mut n = 0;
        while self.rest().as_bytes().first().is_some_and(|&c| is_space(c)) {
            self.pos += 1;
            n += 1;
        }
        // A space followed by "-}}" belongs to the trim marker.
        let before = &self.input[self.pos - 1..];
        if Self::has_right_trim(before) && before[2..].starts_with("}}") {
            self.pos -= 1;
            if n == 1 {
                return self.right_delim(true);
            }
        }
        self.emit(Tok::Space);
        Ok(Some(true))
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(' ' | '\t' | '\r' | '\n' | '.' | ',' | '|' | ':' | ')' | '(') => true,
            Some(_) => self.rest().starts_with("}}"),
        }
    }

    fn bad_char(&mut self) -> String {
        let c = self.peek().unwrap_or('\u{0}');
        format!("bad character {}", crate::gofmt::rune_u(c))
    }

    fn identifier(&mut self) -> Result<(), String> {
        while self.peek().is_some_and(is_alnum) {
            self.next();
        }
        if !self.at_terminator() {
            return Err(self.bad_char());
        }
        let word = &self.input[self.start..self.pos];
        let typ = match word {
            "block" => Tok::Block,
            "break" => Tok::Break,
            "continue" => Tok::Continue,
            "define" => Tok::Define,
            "else" => Tok::Else,
            "end" => Tok::End,
            "if" => Tok::If,
            "range" => Tok::Range,
            "nil" => Tok::Nil,
            "template" => Tok::Template,
            "with" => Tok::With,
            "true" | "false" => Tok::Bool,
            _ => Tok::Identifier,
        };
        self.emit(typ);
        Ok(())
    }

    fn field_or_variable(&mut self, typ: Tok) -> Result<(), String> {
        if self.at_terminator() {
            self.emit(if typ == Tok::Variable {
                Tok::Variable
            } else {
                Tok::Dot
            });
            return Ok(());
        }
        while self.peek().is_some_and(is_alnum) {
            self.next();
        }
        if !self.at_terminator() {
            return Err(self.bad_char());
        }
        self.emit(typ);
        Ok(())
    }

    fn char_constant(&mut self) -> Result<(), String> {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some('\n') | None => return Err("unterminated character constant".into()),
                    Some(_) => {}
                },
                None | Some('\n') => return Err("unterminated character constant".into()),
                Some('\'') => break,
                Some(_) => {}
            }
        }
        self.emit(Tok::CharConstant);
        Ok(())
    }

    fn accept(&mut self, set: &str) -> bool {
        if let Some(c) = self.peek() {
            if set.contains(c) {
                self.pos += c.len_utf8();
                return true;
            }
        }
        false
    }

    fn accept_run(&mut self, set: &str) {
        while self.accept(set) {}
    }

    fn number(&mut self) -> Result<(), String> {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alnum) {
            self.next();
            return Err(format!(
                "bad number syntax: {}",
                crate::gofmt::quote(&self.input[self.start..self.pos])
            ));
        }
        self.emit(Tok::Number);
        Ok(())
    }

    fn quote(&mut self) -> Result<(), String> {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some('\n') | None => return Err("unterminated quoted string".into()),
                    Some(_) => {}
                },
                None | Some('\n') => return Err("unterminated quoted string".into()),
                Some('"') => break,
                Some(_) => {}
            }
        }
        self.emit(Tok::String);
        Ok(())
    }

    fn raw_quote(&mut self) -> Result<(), String> {
        match self.rest().find('`') {
            Some(x) => {
                self.pos += x + 1;
                self.emit(Tok::RawString);
                Ok(())
            }
            None => Err("unterminated raw quoted string".into()),
        }
    }
}
