//! The line-oriented parser behind [`crate::parse`].

use sightline_model::MetricType;

use crate::lex::{self, as_str};
use crate::om::{Classified, Meta, OmState, SampleFacts, Special};
use crate::{Entry, Exemplar, Format, ParseError, SeriesEntry};

/// An error inside one line: byte offset in the line (0-based) and message.
type LineError = (usize, String);
type LineResult<T> = std::result::Result<T, LineError>;

/// Label sets up to this size are checked for duplicate names by a linear scan.
const LINEAR_DUP_CHECK: usize = 16;

/// Longest exemplar label set, in code points of names and values, OpenMetrics allows.
const MAX_EXEMPLAR_RUNES: usize = 128;

/// Iterator over the entries of an exposition; see [`crate::parse`] and the crate docs.
///
/// After the first `Err` it returns `None`.
pub struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
    line: usize,
    format: Format,
    utf8_valid_up_to: usize,
    /// The valid UTF-8 prefix of `buf` (all of it, normally): slicing it is O(1).
    text: &'a str,
    done: bool,
    eof_seen: bool,
    text_family: Option<(&'a str, MetricType)>,
    om: OmState<'a>,
    names: Vec<&'a [u8]>,
    /// Used instead of `names` for duplicate detection once a label set is large, so a
    /// hostile line cannot make the check quadratic.
    names_set: std::collections::HashSet<&'a [u8]>,
    scratch: Vec<u8>,
}

impl std::fmt::Debug for Parser<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parser")
            .field("format", &self.format)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

/// The result of scanning a label block.
struct LabelScan<'a> {
    /// Bytes between the braces.
    block: &'a [u8],
    /// Offset just past the closing brace.
    end: usize,
    hash: u64,
    special: Option<(&'a [u8], bool)>,
    runes: usize,
}

#[derive(Clone, Copy)]
struct ScanOpts<'s> {
    strict: bool,
    hash: bool,
    special: Special<'s>,
    count_runes: bool,
}

fn describe(line: &[u8], i: usize) -> String {
    match line.get(i) {
        None => "end of line".to_string(),
        Some(_) => {
            let end = (i + 16).min(line.len());
            format!("{:?}", String::from_utf8_lossy(&line[i..end]))
        }
    }
}

#[inline]
fn skip_ws(line: &[u8], mut i: usize) -> usize {
    while i < line.len() && (line[i] == b' ' || line[i] == b'\t') {
        i += 1;
    }
    i
}

#[inline]
fn token_end(line: &[u8], i: usize, tabs: bool) -> usize {
    let rest = &line[i..];
    let p = if tabs {
        memchr::memchr2(b' ', b'\t', rest)
    } else {
        memchr::memchr(b' ', rest)
    };
    p.map_or(line.len(), |p| i + p)
}

fn parse_metric_type(s: &[u8], om: bool) -> Option<MetricType> {
    Some(match s {
        b"counter" => MetricType::Counter,
        b"gauge" => MetricType::Gauge,
        b"histogram" => MetricType::Histogram,
        b"summary" => MetricType::Summary,
        b"untyped" if !om => MetricType::Unknown,
        b"unknown" => MetricType::Unknown,
        b"gaugehistogram" => MetricType::GaugeHistogram,
        b"stateset" => MetricType::StateSet,
        b"info" => MetricType::Info,
        _ => return None,
    })
}

impl<'a> Parser<'a> {
    pub(crate) fn new(buf: &'a [u8], format: Format) -> Self {
        let (utf8_valid_up_to, text) = match std::str::from_utf8(buf) {
            Ok(s) => (buf.len(), s),
            Err(e) => (
                e.valid_up_to(),
                std::str::from_utf8(&buf[..e.valid_up_to()]).unwrap_or_default(),
            ),
        };
        Parser {
            buf,
            pos: 0,
            line: 1,
            format,
            utf8_valid_up_to,
            text,
            done: false,
            eof_seen: false,
            text_family: None,
            om: OmState::default(),
            names: Vec::new(),
            names_set: std::collections::HashSet::new(),
            scratch: Vec::new(),
        }
    }

    /// The format being parsed.
    pub fn format(&self) -> Format {
        self.format
    }

    fn err(&mut self, line: usize, (col, message): LineError) -> Option<crate::Result<Entry<'a>>> {
        self.done = true;
        Some(Err(ParseError {
            line,
            column: col + 1,
            message,
        }))
    }

    /// The ASCII name at absolute offsets `start..end`, without re-validating UTF-8.
    #[inline]
    fn name_at(&self, start: usize, end: usize) -> &'a str {
        match self.text.get(start..end) {
            Some(s) => s,
            None => as_str(self.buf.get(start..end).unwrap_or_default()),
        }
    }

    /// Checks that `s` (at absolute offset `abs`) is UTF-8, cheaply when the whole buffer is.
    #[inline]
    fn check_utf8(&self, abs: usize, s: &[u8], what: &str, col: usize) -> LineResult<()> {
        if abs + s.len() > self.utf8_valid_up_to && std::str::from_utf8(s).is_err() {
            return Err((col, format!("invalid UTF-8 in {what}")));
        }
        Ok(())
    }

    /// Takes the next line: (line number, absolute start, bytes without the newline, whether
    /// a newline ended it).
    #[inline]
    fn take_line(&mut self) -> (usize, usize, &'a [u8], bool) {
        let start = self.pos;
        let rest = &self.buf[start..];
        let (line, lf) = match memchr::memchr(b'\n', rest) {
            Some(p) => {
                self.pos = start + p + 1;
                (&rest[..p], true)
            }
            None => {
                self.pos = self.buf.len();
                (rest, false)
            }
        };
        let n = self.line;
        self.line += 1;
        (n, start, line, lf)
    }

    fn scan_labels(
        &mut self,
        line: &'a [u8],
        abs: usize,
        open: usize,
        o: ScanOpts<'_>,
    ) -> LineResult<LabelScan<'a>> {
        let ws = |i: usize| if o.strict { i } else { skip_ws(line, i) };
        self.names.clear();
        let mut hash = 0u64;
        let mut special = None;
        let mut runes = 0;
        let mut i = ws(open + 1);
        if line.get(i) == Some(&b'}') {
            return Ok(LabelScan {
                block: &line[open + 1..i],
                end: i + 1,
                hash,
                special,
                runes,
            });
        }
        loop {
            let n = lex::label_name_len(&line[i..]);
            if n == 0 {
                return Err((i, format!("expected label name, got {}", describe(line, i))));
            }
            let name = &line[i..i + n];
            let dup = if self.names.len() < LINEAR_DUP_CHECK {
                self.names.contains(&name)
            } else {
                if self.names.len() == LINEAR_DUP_CHECK {
                    self.names_set.clear();
                    self.names_set.extend(self.names.iter().copied());
                }
                !self.names_set.insert(name)
            };
            if dup || name == b"__name__" {
                return Err((i, format!("duplicate label name {:?}", as_str(name))));
            }
            self.names.push(name);
            i = ws(i + n);
            if line.get(i) != Some(&b'=') {
                return Err((
                    i,
                    format!("expected '=' after label name, got {}", describe(line, i)),
                ));
            }
            i = ws(i + 1);
            if line.get(i) != Some(&b'"') {
                return Err((
                    i,
                    format!("expected quoted label value, got {}", describe(line, i)),
                ));
            }
            let vstart = i + 1;
            i = vstart;
            let mut escaped = false;
            let mut escapes = 0;
            loop {
                match memchr::memchr2(b'"', b'\\', &line[i..]) {
                    Some(p) if line[i + p] == b'\\' => {
                        escaped = true;
                        match line.get(i + p + 1) {
                            Some(b'\\' | b'"' | b'n') => escapes += 1,
                            Some(_) => {}
                            None => {
                                return Err((vstart - 1, "unterminated label value".to_string()))
                            }
                        }
                        i += p + 2;
                    }
                    Some(p) => {
                        i += p;
                        break;
                    }
                    None => return Err((vstart - 1, "unterminated label value".to_string())),
                }
            }
            let value = &line[vstart..i];
            self.check_utf8(abs + vstart, value, "label value", vstart)?;
            i += 1;
            if o.count_runes {
                runes += name.len() + value.iter().filter(|&&b| b & 0xC0 != 0x80).count() - escapes;
            }
            if o.hash {
                match o.special {
                    Special::Label(s) if s == name => special = Some((value, escaped)),
                    Special::IgnoreAll => {}
                    _ => {
                        let h = if escaped {
                            self.scratch.clear();
                            lex::unescape_into(value, true, &mut self.scratch);
                            lex::hash_pair(name, &self.scratch)
                        } else {
                            lex::hash_pair(name, value)
                        };
                        hash = hash.wrapping_add(h);
                    }
                }
            }
            i = ws(i);
            match line.get(i) {
                Some(b',') => {
                    i = ws(i + 1);
                    if !o.strict && line.get(i) == Some(&b'}') {
                        return Ok(LabelScan {
                            block: &line[open + 1..i],
                            end: i + 1,
                            hash,
                            special,
                            runes,
                        });
                    }
                }
                Some(b'}') => {
                    return Ok(LabelScan {
                        block: &line[open + 1..i],
                        end: i + 1,
                        hash,
                        special,
                        runes,
                    });
                }
                _ => {
                    return Err((
                        i,
                        format!(
                            "expected ',' or '}}' after label value, got {}",
                            describe(line, i)
                        ),
                    ))
                }
            }
        }
    }

    // ----- Prometheus text format 0.0.4 -----

    fn next_text(&mut self, known: Option<&[u8]>) -> Option<crate::Result<Entry<'a>>> {
        loop {
            if self.pos >= self.buf.len() {
                self.done = true;
                return None;
            }
            let (n, abs, mut line, _) = self.take_line();
            if let Some(l) = line.strip_suffix(b"\r") {
                line = l;
            }
            let i = skip_ws(line, 0);
            if i == line.len() {
                continue;
            }
            let r = if line[i] == b'#' {
                self.text_comment(line, abs, i)
            } else {
                self.text_sample(line, abs, i, known)
            };
            return match r {
                Ok(e) => Some(Ok(e)),
                Err(e) => self.err(n, e),
            };
        }
    }

    fn text_comment(&mut self, line: &'a [u8], abs: usize, hash: usize) -> LineResult<Entry<'a>> {
        let mut i = hash + 1;
        if i >= line.len() || !(line[i] == b' ' || line[i] == b'\t') {
            return Ok(Entry::Comment);
        }
        i = skip_ws(line, i);
        let rest = &line[i..];
        let is_help = rest.starts_with(b"HELP");
        if !(is_help || rest.starts_with(b"TYPE")) || !matches!(rest.get(4), Some(b' ' | b'\t')) {
            return Ok(Entry::Comment);
        }
        let kw = if is_help { "HELP" } else { "TYPE" };
        i = skip_ws(line, i + 4);
        let n = lex::metric_name_len(&line[i..]);
        if n == 0 {
            return Err((
                i,
                format!("expected metric name after {kw}, got {}", describe(line, i)),
            ));
        }
        let name = self.name_at(abs + i, abs + i + n);
        i += n;
        if i < line.len() && !(line[i] == b' ' || line[i] == b'\t') {
            return Err((i, format!("invalid metric name in {kw} line")));
        }
        i = skip_ws(line, i);
        let text = &line[i..];
        if is_help {
            self.check_utf8(abs + i, text, "HELP text", i)?;
            return Ok(Entry::Help {
                name,
                help: lex::unescape(text, false),
            });
        }
        let mut t = text;
        while let Some((&last, head)) = t.split_last() {
            if last == b' ' || last == b'\t' {
                t = head;
            } else {
                break;
            }
        }
        let Some(metric_type) = parse_metric_type(t, false) else {
            return Err((
                i,
                format!("invalid metric type {:?}", String::from_utf8_lossy(t)),
            ));
        };
        self.text_family = Some((name, metric_type));
        Ok(Entry::Type { name, metric_type })
    }

    fn text_type_of(&self, name: &str) -> MetricType {
        let Some((fam, t)) = self.text_family else {
            return MetricType::Unknown;
        };
        if name == fam {
            return t;
        }
        let Some(rest) = name.strip_prefix(fam) else {
            return MetricType::Unknown;
        };
        let ok = match t {
            MetricType::Histogram => matches!(rest, "_bucket" | "_sum" | "_count" | "_created"),
            MetricType::GaugeHistogram => matches!(rest, "_bucket" | "_gsum" | "_gcount"),
            MetricType::Summary => matches!(rest, "_sum" | "_count" | "_created"),
            MetricType::Counter => matches!(rest, "_total" | "_created"),
            MetricType::Info => rest == "_info",
            _ => false,
        };
        if ok {
            t
        } else {
            MetricType::Unknown
        }
    }

    fn text_sample(
        &mut self,
        line: &'a [u8],
        abs: usize,
        start: usize,
        known: Option<&[u8]>,
    ) -> LineResult<Entry<'a>> {
        let n = lex::metric_name_len(&line[start..]);
        if n == 0 {
            return Err((
                start,
                format!("invalid metric name, got {}", describe(line, start)),
            ));
        }
        let name_end = start + n;
        let name = self.name_at(abs + start, abs + name_end);
        let mut i = skip_ws(line, name_end);
        let mut block: &'a [u8] = &[];
        let raw_end;
        if line.get(i) == Some(&b'{') {
            // A line that starts with a series accepted before: its label block scans to the
            // same result, so it is not scanned again (see `next_expecting`). The length
            // checks only keep a misused `known` from slicing out of bounds.
            let known = known.filter(|k| {
                k.len() >= i - start + 2 && k.last() == Some(&b'}') && line[start..].starts_with(k)
            });
            if let Some(k) = known {
                raw_end = start + k.len();
                block = &line[i + 1..raw_end - 1];
            } else {
                let opts = ScanOpts {
                    strict: false,
                    hash: false,
                    special: Special::None,
                    count_runes: false,
                };
                let s = self.scan_labels(line, abs, i, opts)?;
                block = s.block;
                raw_end = s.end;
            }
            i = skip_ws(line, raw_end);
        } else {
            raw_end = name_end;
            if i == name_end && i < line.len() {
                return Err((
                    i,
                    format!("invalid metric name, got {}", describe(line, start)),
                ));
            }
        }
        let vend = token_end(line, i, true);
        if vend == i {
            return Err((i, "expected value after metric".to_string()));
        }
        let Some(value) = lex::parse_number(&line[i..vend]) else {
            return Err((
                i,
                format!(
                    "invalid value {:?}",
                    String::from_utf8_lossy(&line[i..vend])
                ),
            ));
        };
        i = skip_ws(line, vend);
        let mut timestamp_ms = None;
        if i < line.len() {
            let tend = token_end(line, i, true);
            let Some(t) = lex::parse_text_timestamp(&line[i..tend]) else {
                return Err((
                    i,
                    format!(
                        "invalid timestamp {:?}",
                        String::from_utf8_lossy(&line[i..tend])
                    ),
                ));
            };
            timestamp_ms = Some(t);
            i = skip_ws(line, tend);
            if i < line.len() {
                return Err((
                    i,
                    format!(
                        "expected timestamp or new record, got {}",
                        describe(line, i)
                    ),
                ));
            }
        }
        Ok(Entry::Series(SeriesEntry {
            raw: &line[start..raw_end],
            name,
            value,
            timestamp_ms,
            exemplar: None,
            metric_type: self.text_type_of(name),
            label_block: block,
        }))
    }

    // ----- OpenMetrics 1.0 -----

    fn next_om(&mut self) -> Option<crate::Result<Entry<'a>>> {
        if self.eof_seen {
            if self.pos < self.buf.len() {
                let n = self.line;
                return self.err(n, (0, "unexpected data after # EOF".to_string()));
            }
            self.done = true;
            return None;
        }
        if self.pos >= self.buf.len() {
            let n = self.line;
            return self.err(n, (0, "unexpected end of input: missing # EOF".to_string()));
        }
        let (n, abs, line, _) = self.take_line();
        let r = if line.is_empty() {
            Err((0, "unexpected blank line".to_string()))
        } else if line[0] == b'#' {
            self.om_descriptor(line, abs)
        } else {
            self.om_sample(line, abs)
        };
        match r {
            Ok(e) => Some(Ok(e)),
            Err(e) => self.err(n, e),
        }
    }

    fn om_descriptor(&mut self, line: &'a [u8], abs: usize) -> LineResult<Entry<'a>> {
        if line == b"# EOF" {
            self.om.finish().map_err(|m| (0, m))?;
            self.eof_seen = true;
            return Ok(Entry::Eof);
        }
        let kw = match line.get(..7) {
            Some(b"# HELP ") => 0,
            Some(b"# TYPE ") => 1,
            Some(b"# UNIT ") => 2,
            _ => {
                return Err((
                    0,
                    "invalid line: expected sample, # HELP, # TYPE, # UNIT or # EOF".to_string(),
                ));
            }
        };
        let n = lex::metric_name_len(&line[7..]);
        if n == 0 {
            return Err((
                7,
                format!("expected metric name, got {}", describe(line, 7)),
            ));
        }
        let name = self.name_at(abs + 7, abs + 7 + n);
        let i = 7 + n;
        if line.get(i) != Some(&b' ') {
            return Err((
                i,
                format!(
                    "expected space after metric name, got {}",
                    describe(line, i)
                ),
            ));
        }
        let text = &line[i + 1..];
        let (entry, meta) = match kw {
            0 => {
                self.check_utf8(abs + i + 1, text, "HELP text", i + 1)?;
                (
                    Entry::Help {
                        name,
                        help: lex::unescape(text, true),
                    },
                    Meta::Help,
                )
            }
            1 => {
                let Some(metric_type) = parse_metric_type(text, true) else {
                    return Err((
                        i + 1,
                        format!("invalid metric type {:?}", String::from_utf8_lossy(text)),
                    ));
                };
                (Entry::Type { name, metric_type }, Meta::Type(metric_type))
            }
            _ => {
                if !lex::all_name_chars(text) {
                    return Err((
                        i + 1,
                        format!("invalid unit {:?}", String::from_utf8_lossy(text)),
                    ));
                }
                let unit = as_str(text);
                (Entry::Unit { name, unit }, Meta::Unit(unit))
            }
        };
        self.om.handle_meta(name, meta).map_err(|m| (0, m))?;
        Ok(entry)
    }

    fn om_sample(&mut self, line: &'a [u8], abs: usize) -> LineResult<Entry<'a>> {
        let n = lex::metric_name_len(line);
        if n == 0 {
            return Err((0, format!("invalid metric name, got {}", describe(line, 0))));
        }
        let name = self.name_at(abs, abs + n);
        let class: Classified<'a> = self.om.classify(name).map_err(|m| (0, m))?;
        let mut i = n;
        let mut block: &'a [u8] = &[];
        let mut hash = 0;
        let mut special = None;
        if line.get(i) == Some(&b'{') {
            let opts = ScanOpts {
                strict: true,
                hash: true,
                special: class.special,
                count_runes: false,
            };
            let s = self.scan_labels(line, abs, i, opts)?;
            block = s.block;
            hash = s.hash;
            special = s.special;
            i = s.end;
        }
        let raw = &line[..i];
        if line.get(i) != Some(&b' ') {
            return Err((
                i,
                format!("expected space before value, got {}", describe(line, i)),
            ));
        }
        i += 1;
        let vend = token_end(line, i, false);
        let Some(value) = lex::parse_number(&line[i..vend]) else {
            return Err((
                i,
                format!(
                    "invalid value {:?}",
                    String::from_utf8_lossy(&line[i..vend])
                ),
            ));
        };
        i = vend;
        let mut ts = None;
        let mut exemplar = None;
        if i < line.len() {
            i += 1;
            if line.get(i) != Some(&b'#') {
                let tend = token_end(line, i, false);
                let Some(t) = lex::parse_om_timestamp(&line[i..tend]) else {
                    return Err((
                        i,
                        format!(
                            "invalid timestamp {:?}",
                            String::from_utf8_lossy(&line[i..tend])
                        ),
                    ));
                };
                ts = Some(t);
                i = tend;
                if i < line.len() {
                    i += 1;
                    if line.get(i) != Some(&b'#') {
                        return Err((
                            i,
                            format!(
                                "expected exemplar or end of line, got {}",
                                describe(line, i)
                            ),
                        ));
                    }
                }
            }
            if i < line.len() {
                exemplar = Some(self.om_exemplar(line, abs, i)?);
            }
        }
        let special_value = special.map(|(v, escaped)| {
            if escaped {
                lex::unescape_label_value(v)
            } else {
                as_str(v).into()
            }
        });
        let facts = SampleFacts {
            value,
            ts_secs: ts.map(|t| t.1),
            group_hash: hash,
            special_value: special_value.as_deref(),
            has_exemplar: exemplar.is_some(),
        };
        self.om.sample(&class, &facts).map_err(|m| (0, m))?;
        Ok(Entry::Series(SeriesEntry {
            raw,
            name,
            value,
            timestamp_ms: ts.map(|t| t.0),
            exemplar,
            metric_type: class.metric_type,
            label_block: block,
        }))
    }

    /// Parses ` # {labels} value [timestamp]` starting at the `#` at `i`, through the end of
    /// the line.
    fn om_exemplar(
        &mut self,
        line: &'a [u8],
        abs: usize,
        mut i: usize,
    ) -> LineResult<Exemplar<'a>> {
        if line.get(i + 1) != Some(&b' ') || line.get(i + 2) != Some(&b'{') {
            return Err((i, "expected \"# {\" to start an exemplar".to_string()));
        }
        let opts = ScanOpts {
            strict: true,
            hash: false,
            special: Special::None,
            count_runes: true,
        };
        let s = self.scan_labels(line, abs, i + 2, opts)?;
        if s.runes > MAX_EXEMPLAR_RUNES {
            return Err((
                i + 2,
                format!(
                    "exemplar labels have {} code points, more than {MAX_EXEMPLAR_RUNES}",
                    s.runes
                ),
            ));
        }
        i = s.end;
        if line.get(i) != Some(&b' ') {
            return Err((
                i,
                format!(
                    "expected space after exemplar labels, got {}",
                    describe(line, i)
                ),
            ));
        }
        i += 1;
        let vend = token_end(line, i, false);
        let Some(value) = lex::parse_number(&line[i..vend]) else {
            return Err((
                i,
                format!(
                    "invalid exemplar value {:?}",
                    String::from_utf8_lossy(&line[i..vend])
                ),
            ));
        };
        i = vend;
        let mut timestamp_ms = None;
        if i < line.len() {
            i += 1;
            let t = &line[i..];
            let Some((ms, _)) = lex::parse_om_timestamp(t) else {
                return Err((
                    i,
                    format!(
                        "invalid exemplar timestamp {:?}",
                        String::from_utf8_lossy(t)
                    ),
                ));
            };
            timestamp_ms = Some(ms);
        }
        Ok(Exemplar {
            value,
            timestamp_ms,
            label_block: s.block,
        })
    }
}

impl<'a> Parser<'a> {
    /// [`Iterator::next`], told the series the caller expects on the next sample line: the
    /// `raw` of a series this parser accepted in the same format before (a scraper keeps the
    /// previous body's). A text-format line starting with exactly those bytes skips the
    /// label block's validation, which those bytes already passed; everything after them
    /// (value, timestamp) is parsed as usual, and any other line is parsed in full. Entries
    /// are the same as `next` returns. OpenMetrics ignores `known`: its checks depend on the
    /// lines around a sample, not on the line alone.
    ///
    /// `known` that was never accepted (or was accepted in the other format) can let an
    /// invalid label block through; it never causes a panic.
    pub fn next_expecting(&mut self, known: Option<&[u8]>) -> Option<crate::Result<Entry<'a>>> {
        if self.done {
            return None;
        }
        match self.format {
            Format::PromText => self.next_text(known),
            Format::OpenMetrics => self.next_om(),
        }
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = crate::Result<Entry<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_expecting(None)
    }
}

impl std::iter::FusedIterator for Parser<'_> {}
