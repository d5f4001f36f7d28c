//! What Go's html/template removes from a template's own text and the host's `render-html`
//! (text rendering over HTML-escaped data) cannot: comments. html/template elides HTML
//! comments (`<!-- ... -->`) in text and, inside `<style>`, CSS comments (`/* ... */` and
//! `// ...` to the end of the line), so Alertmanager's `email.default.html`, which opens
//! with a licence comment and has commented CSS, arrives without them.
//!
//! Data values cannot start a comment here: the host escapes every `<` of them, and a value
//! inside `<style>` is not something the default template has. `<script>` (JavaScript
//! comments) is left alone: mail clients do not run it and the default has none.

/// `html` with the comments html/template would have elided.
pub fn elide_comments(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    loop {
        let next_comment = rest.find("<!--");
        let next_style = find_style_open(rest);
        match (next_comment, next_style) {
            (Some(c), s) if s.is_none_or(|s| c < s) => {
                out.push_str(&rest[..c]);
                match rest[c + 4..].find("-->") {
                    Some(end) => rest = &rest[c + 4 + end + 3..],
                    None => return out,
                }
            }
            (_, Some(s)) => {
                let Some(gt) = rest[s..].find('>') else {
                    out.push_str(rest);
                    return out;
                };
                out.push_str(&rest[..s + gt + 1]);
                rest = &rest[s + gt + 1..];
                let end = find_ascii_ci(rest, "</style").unwrap_or(rest.len());
                out.push_str(&elide_css_comments(&rest[..end]));
                rest = &rest[end..];
            }
            _ => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

/// Where a `<style` start tag begins (`<style>` or `<style ...>`), ASCII case-insensitive.
fn find_style_open(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = find_ascii_ci(&s[from..], "<style") {
        let at = from + i;
        match s.as_bytes().get(at + 6) {
            Some(b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/') => return Some(at),
            _ => from = at + 6,
        }
    }
    None
}

fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    hay.as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// CSS with its comments removed; quoted strings are kept whole, as html/template's CSS
/// states do.
fn elide_css_comments(css: &str) -> String {
    let b = css.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => {
                let mut j = i + 1;
                while j < b.len() && b[j] != q {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let end = (j + 1).min(b.len());
                out.extend_from_slice(&b[i..end]);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = match css[i + 2..].find("*/") {
                    Some(e) => i + 2 + e + 2,
                    None => b.len(),
                };
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                // The line end itself stays, as in html/template.
                i = css[i..]
                    .find(['\n', '\r', '\x0c'])
                    .map_or(b.len(), |e| i + e);
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    // Only whole ASCII sequences were removed, so the rest is still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_go_as_in_html_template() {
        assert_eq!(elide_comments("a<!-- x -->b<!--y-->c"), "abc");
        assert_eq!(
            elide_comments(
                "<style>\n/* top */\nbody { margin: 0; /* why */ }\n</style><p>/* kept */</p>"
            ),
            "<style>\n\nbody { margin: 0;  }\n</style><p>/* kept */</p>"
        );
        assert_eq!(
            elide_comments("<STYLE type=\"text/css\">a{b:\"/*s*/\"}// line\nc{}</STYLE>"),
            "<STYLE type=\"text/css\">a{b:\"/*s*/\"}\nc{}</STYLE>"
        );
        assert_eq!(elide_comments("&lt;!-- data --&gt;"), "&lt;!-- data --&gt;");
    }
}
