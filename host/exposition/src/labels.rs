//! Lazy decoding of an already validated label block.

use std::borrow::Cow;

use crate::lex;

/// Iterator over the `(name, value)` pairs of a label block, in the order they were written,
/// with values unescaped. Created by [`crate::SeriesEntry::labels`] and
/// [`crate::Exemplar::labels`]; it only walks bytes the parser has already validated, so it
/// never fails (a malformed block, impossible by construction, simply ends the iteration).
#[derive(Debug, Clone)]
pub struct LabelIter<'a> {
    rest: &'a [u8],
}

impl<'a> LabelIter<'a> {
    pub(crate) fn new(block: &'a [u8]) -> Self {
        LabelIter { rest: block }
    }
}

fn skip_ws_commas(b: &[u8]) -> usize {
    b.iter()
        .take_while(|&&c| c == b' ' || c == b'\t' || c == b',')
        .count()
}

fn skip_ws(b: &[u8]) -> usize {
    b.iter().take_while(|&&c| c == b' ' || c == b'\t').count()
}

impl<'a> Iterator for LabelIter<'a> {
    type Item = (&'a str, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.rest;
        let mut i = skip_ws_commas(b);
        let n = lex::label_name_len(&b[i..]);
        if n == 0 {
            self.rest = &[];
            return None;
        }
        let name = &b[i..i + n];
        i += n;
        i += skip_ws(&b[i..]);
        if b.get(i) != Some(&b'=') {
            self.rest = &[];
            return None;
        }
        i += 1;
        i += skip_ws(&b[i..]);
        if b.get(i) != Some(&b'"') {
            self.rest = &[];
            return None;
        }
        i += 1;
        let start = i;
        loop {
            match memchr::memchr2(b'"', b'\\', &b[i..]) {
                Some(p) if b[i + p] == b'\\' => i += p + 2,
                Some(p) => {
                    i += p;
                    break;
                }
                None => {
                    self.rest = &[];
                    return None;
                }
            }
        }
        let Some(value) = b.get(start..i) else {
            self.rest = &[];
            return None;
        };
        self.rest = b.get(i + 1..).unwrap_or_default();
        Some((lex::as_str(name), lex::unescape_label_value(value)))
    }
}
