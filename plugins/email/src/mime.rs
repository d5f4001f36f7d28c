//! The message Alertmanager 0.25's email notifier writes (`notify/email/email.go`), byte for
//! byte but for the `Date`, the `Message-Id` and the multipart boundary: headers in the order
//! given, each value Q-encoded as Go's `mime.QEncoding.Encode("utf-8", v)`, then `Message-Id`
//! (unless a header sets it), `Date` (RFC 1123 with a numeric zone), the multipart/alternative
//! `Content-Type` (with Go's two spaces), `MIME-Version`, and the text and HTML parts in
//! quoted-printable as Go's `mime/quotedprintable` writes it.

/// Quoted-printable as Go's `quotedprintable.Writer` writes `body` in one `Write` and a
/// `Close`: lines of at most 76 characters with `=` soft breaks, line ends as CRLF, trailing
/// spaces and tabs of a line encoded.
pub fn quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut w = QpWriter::default();
    for &b in body {
        let plain = (b'!'..=b'~').contains(&b) && b != b'=';
        if plain || b == b' ' || b == b'\t' || b == b'\n' || b == b'\r' {
            w.write(b);
        } else {
            w.encode(b);
        }
    }
    w.check_last_byte();
    w.flush();
    w.out
}

const LINE_MAX: usize = 76;
const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";

#[derive(Default)]
struct QpWriter {
    out: Vec<u8>,
    line: Vec<u8>,
    cr: bool,
}

impl QpWriter {
    fn write(&mut self, b: u8) {
        if b == b'\n' || b == b'\r' {
            // A CRLF (or a lone CR or LF) is one hard line break.
            if self.cr && b == b'\n' {
                self.cr = false;
                return;
            }
            if b == b'\r' {
                self.cr = true;
            }
            self.check_last_byte();
            self.insert_crlf();
            return;
        }
        if self.line.len() == LINE_MAX - 1 {
            self.insert_soft_line_break();
        }
        self.line.push(b);
        self.cr = false;
    }

    fn encode(&mut self, b: u8) {
        if LINE_MAX - 1 - self.line.len() < 3 {
            self.insert_soft_line_break();
        }
        self.line.extend_from_slice(&[
            b'=',
            UPPER_HEX[(b >> 4) as usize],
            UPPER_HEX[(b & 0x0f) as usize],
        ]);
    }

    /// A space or tab may not end an encoded line.
    fn check_last_byte(&mut self) {
        if let Some(&b) = self.line.last() {
            if b == b' ' || b == b'\t' {
                self.line.pop();
                self.encode(b);
            }
        }
    }

    fn insert_soft_line_break(&mut self) {
        self.line.push(b'=');
        self.insert_crlf();
    }

    fn insert_crlf(&mut self) {
        self.line.extend_from_slice(b"\r\n");
        self.flush();
    }

    fn flush(&mut self) {
        self.out.append(&mut self.line);
    }
}

/// A header value as Go's `mime.QEncoding.Encode("utf-8", v)`: unchanged when it is printable
/// ASCII (tabs allowed), else RFC 2047 encoded-words of at most 75 characters, never splitting
/// a character.
pub fn q_encode(v: &str) -> String {
    if !v.chars().any(|c| !(' '..='~').contains(&c) && c != '\t') {
        return v.to_string();
    }
    const OPEN: &str = "=?utf-8?q?";
    // Go counts with "=?UTF-8?q?", the same length.
    const MAX_CONTENT: usize = 75 - OPEN.len() - 2;
    let mut out = String::from(OPEN);
    let mut current = 0;
    for ch in v.chars() {
        let mut buf = [0u8; 4];
        let bytes = ch.encode_utf8(&mut buf).as_bytes();
        let safe = bytes.len() == 1 && {
            let b = bytes[0];
            (b' '..=b'~').contains(&b) && b != b'=' && b != b'?' && b != b'_'
        };
        let enc_len = if safe { 1 } else { 3 * bytes.len() };
        if current + enc_len > MAX_CONTENT {
            out.push_str("?= ");
            out.push_str(OPEN);
            current = 0;
        }
        for &b in bytes {
            match b {
                b' ' => out.push('_'),
                b'!'..=b'~' if b != b'=' && b != b'?' && b != b'_' => out.push(b as char),
                _ => {
                    out.push('=');
                    out.push(UPPER_HEX[(b >> 4) as usize] as char);
                    out.push(UPPER_HEX[(b & 0x0f) as usize] as char);
                }
            }
        }
        current += enc_len;
    }
    out.push_str("?=");
    out
}

/// What goes into one message.
pub struct Message<'a> {
    /// Header names (canonical, as Alertmanager stores them) and rendered values, in the
    /// order to write them.
    pub headers: &'a [(String, String)],
    /// `<unixnano.random@hostname>`, used unless a header sets `Message-Id`.
    pub message_id: String,
    /// Milliseconds since the epoch, for `Date`.
    pub now_ms: i64,
    /// 60 hexadecimal digits, as Go's `multipart.Writer`'s random boundary.
    pub boundary: String,
    /// The rendered text part, when the config has `text`.
    pub text: Option<&'a str>,
    /// The rendered HTML part, when the config has `html`.
    pub html: Option<&'a str>,
}

/// The complete message, CRLF line ends, as Alertmanager writes it after `DATA`.
pub fn build(m: &Message<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in m.headers {
        out.extend_from_slice(format!("{name}: {}\r\n", q_encode(value)).as_bytes());
    }
    if !m.headers.iter().any(|(n, _)| n == "Message-Id") {
        out.extend_from_slice(format!("Message-Id: {}\r\n", m.message_id).as_bytes());
    }
    out.extend_from_slice(format!("Date: {}\r\n", sightline_sdk::rfc1123z(m.now_ms)).as_bytes());
    out.extend_from_slice(
        format!(
            "Content-Type: multipart/alternative;  boundary={}\r\n",
            m.boundary
        )
        .as_bytes(),
    );
    out.extend_from_slice(b"MIME-Version: 1.0\r\n\r\n");
    let mut first = true;
    for (ctype, body) in [("text/plain", m.text), ("text/html", m.html)] {
        let Some(body) = body else { continue };
        let sep = if first { "" } else { "\r\n" };
        first = false;
        // Go's multipart writer sorts the part's header keys.
        out.extend_from_slice(
            format!(
                "{sep}--{}\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: {ctype}; charset=UTF-8\r\n\r\n",
                m.boundary
            )
            .as_bytes(),
        );
        out.extend_from_slice(&quoted_printable(body.as_bytes()));
    }
    out.extend_from_slice(format!("\r\n--{}--\r\n", m.boundary).as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cases from Go's `mime/quotedprintable` writer tests (TestWriter, non-binary).
    #[test]
    fn quoted_printable_matches_go() {
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("foo bar", "foo bar"),
            ("foo bar=", "foo bar=3D"),
            ("foo bar\r", "foo bar\r\n"),
            ("foo bar\r\r", "foo bar\r\n\r\n"),
            ("foo bar\n", "foo bar\r\n"),
            ("foo bar\r\n", "foo bar\r\n"),
            ("foo bar\r\r\n", "foo bar\r\n\r\n"),
            ("foo bar ", "foo bar=20"),
            ("foo bar\t", "foo bar=09"),
            ("foo bar  ", "foo bar =20"),
            ("foo bar \n", "foo bar=20\r\n"),
            ("foo bar \r", "foo bar=20\r\n"),
            ("foo bar \r\n", "foo bar=20\r\n"),
            ("foo bar  \n", "foo bar =20\r\n"),
            ("foo bar  \n ", "foo bar =20\r\n=20"),
            ("¡Hola Señor!", "=C2=A1Hola Se=C3=B1or!"),
            (
                "\t !\"#$%&'()*+,-./ :;<>?@[\\]^_`{|}~",
                "\t !\"#$%&'()*+,-./ :;<>?@[\\]^_`{|}~",
            ),
            ("Foo Bar", "Foo Bar"),
            (
                "0123456789012345678901234567890123456789012345678901234567890123456789012345",
                "012345678901234567890123456789012345678901234567890123456789012345678901234=\r\n5",
            ),
            (
                "foo bar foo bar foo bar foo bar foo bar foo bar foo bar foo bar foo bar foo=",
                "foo bar foo bar foo bar foo bar foo bar foo bar foo bar foo bar foo bar foo=\r\n=3D",
            ),
        ];
        for (input, want) in cases {
            let got = String::from_utf8(quoted_printable(input.as_bytes())).unwrap();
            assert_eq!(&got, want, "{input:?}");
        }
    }

    /// Cases from Go's `mime` encoded-word tests (TestEncodeWord, Q encoding, utf-8).
    #[test]
    fn q_encoding_matches_go() {
        assert_eq!(q_encode("[FIRING:1] Disk full"), "[FIRING:1] Disk full");
        assert_eq!(
            q_encode("¡Hola, señor!"),
            "=?utf-8?q?=C2=A1Hola,_se=C3=B1or!?="
        );
        assert_eq!(q_encode("a\tb"), "a\tb");
        let long = "Hello ".repeat(10) + "é";
        let enc = q_encode(&long);
        for word in enc.split(' ') {
            assert!(word.len() <= 75, "{word}");
        }
    }

    #[test]
    fn message_layout() {
        let headers = vec![
            ("From".to_string(), "am@example.com".to_string()),
            ("Subject".to_string(), "[FIRING:1] x".to_string()),
        ];
        let m = Message {
            headers: &headers,
            message_id: "<1.2@host>".into(),
            now_ms: 0,
            boundary: "b".into(),
            text: Some("hi"),
            html: Some("<p>x</p>"),
        };
        let got = String::from_utf8(build(&m)).unwrap();
        assert_eq!(
            got,
            "From: am@example.com\r\nSubject: [FIRING:1] x\r\nMessage-Id: <1.2@host>\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\nContent-Type: multipart/alternative;  boundary=b\r\nMIME-Version: 1.0\r\n\r\n--b\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhi\r\n--b\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>x</p>\r\n--b--\r\n"
        );
    }
}
