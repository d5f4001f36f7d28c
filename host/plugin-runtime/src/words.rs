//! What a guest says, made safe before it reaches a log line, an API answer or a terminal:
//! escaped (no control character, ANSI sequence or bidi override survives, so a guest can
//! not forge a log line or repaint a terminal), truncated with a mark, and rate-limited per
//! plugin (the guest's own `log` calls and the host's warnings about the plugin alike).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::error::Error;

/// Longest guest-controlled text kept in an error (the guest's own error string, the
/// trap's message with the guest's stderr, an invalid-output message quoting guest names).
pub const MAX_GUEST_ERROR: usize = 1024;
/// A trap's message also carries wasmtime's backtrace, host text worth keeping.
pub const MAX_TRAP_MESSAGE: usize = 4096;
/// Longest guest log message kept.
pub const MAX_LOG_MESSAGE: usize = 4096;

/// Room for the truncation mark beyond a sanitized text's `max`.
const MARK_ROOM: usize = 64;

/// Lines per second one plugin may put in the log, sustained (its own and the host's
/// warnings about it together).
pub const LOG_LINES_PER_SECOND: f64 = 20.0;
/// Lines one plugin may put in the log at once after a quiet period.
pub const LOG_LINES_BURST: f64 = 100.0;
/// A plugin that went quiet after being suppressed gets its summary line at the end of
/// a call at most this often; a talking one gets it with its next admitted line.
const SUMMARY_EVERY: Duration = Duration::from_secs(10);

/// Whether `c` must not reach a log line or a terminal as itself: control characters
/// (C0, DEL, C1), the Unicode line and paragraph separators, the bidi embeddings,
/// overrides, isolates and marks (which reorder what a reader sees), and the byte-order mark.
fn is_hazard(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// `s` with every hazardous character written as a visible escape (`\n`, `\r`, `\t`,
/// `\u{1b}`), cut to at most `max` bytes of escaped text at a character boundary. A cut
/// string ends with `… [truncated, <original length> bytes]`. Work and memory are
/// proportional to `max`, not to `s`.
pub fn sanitize(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    let mut buf = [0u8; 4];
    for c in s.chars() {
        let piece: std::borrow::Cow<'_, str> = if is_hazard(c) {
            match c {
                '\n' => "\\n".into(),
                '\r' => "\\r".into(),
                '\t' => "\\t".into(),
                _ => format!("\\u{{{:x}}}", u32::from(c)).into(),
            }
        } else {
            (&*c.encode_utf8(&mut buf)).into()
        };
        if out.len() + piece.len() > max {
            out.push_str(&format!("… [truncated, {} bytes]", s.len()));
            return out;
        }
        out.push_str(&piece);
    }
    out
}

/// Whether `s` would come out of [`sanitize`] unchanged (for any `max` at least its length).
pub fn is_clean(s: &str) -> bool {
    !s.chars().any(is_hazard)
}

/// `json` (serde_json's output) with the characters JSON leaves raw but a terminal acts on
/// (C1 controls, bidi overrides, line separators) written as `\uXXXX` escapes. Such
/// characters can only occur inside JSON strings, where the escape means the same
/// character, so the document's value is unchanged.
pub fn escape_json_for_terminal(json: String) -> String {
    if !json.chars().any(|c| is_hazard(c) && c != '\n' && c != '\t') {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_hazard(c) && c != '\n' && c != '\t' {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `e` with every message that can carry guest text sanitized and bounded, so that every
/// consumer (log lines, `last_error` in the API, the CLI's table) gets the safe form.
/// Host-made variants without guest text pass through.
pub fn bound_error(e: Error) -> Error {
    // Text already made safe (by `sanitize` where the error was made) is left as it is,
    // its truncation mark included.
    let fix = |m: String, max: usize| {
        if m.len() <= max + MARK_ROOM && is_clean(&m) {
            m
        } else {
            sanitize(&m, max)
        }
    };
    let name = |n: String| fix(n, MAX_GUEST_ERROR);
    match e {
        Error::Plugin { name: n, message } => Error::Plugin {
            name: name(n),
            message: fix(message, MAX_GUEST_ERROR),
        },
        Error::Trapped { name: n, message } => Error::Trapped {
            name: name(n),
            message: fix(message, MAX_TRAP_MESSAGE),
        },
        Error::InvalidOutput { name: n, message } => Error::InvalidOutput {
            name: name(n),
            message: fix(message, MAX_GUEST_ERROR),
        },
        Error::Compile { name: n, message } => Error::Compile {
            name: name(n),
            message: fix(message, MAX_TRAP_MESSAGE),
        },
        Error::Link { name: n, message } => Error::Link {
            name: name(n),
            message: fix(message, MAX_TRAP_MESSAGE),
        },
        Error::LoadFailed { name: n, message } => Error::LoadFailed {
            name: name(n),
            message: fix(message, MAX_TRAP_MESSAGE),
        },
        Error::Manifest { path, message } => Error::Manifest {
            path,
            message: fix(message, MAX_TRAP_MESSAGE),
        },
        other => other,
    }
}

/// One plugin's share of the log: a token bucket of [`LOG_LINES_PER_SECOND`] with a burst
/// of [`LOG_LINES_BURST`]. It lives with the plugin's statistics, so it holds across calls
/// and reloads. Lines it refuses are counted (`sightline_plugin_log_lines_suppressed_total`)
/// and summarised in one line ("suppressed N log lines from plugin X").
#[derive(Debug)]
pub struct LogGate {
    state: Mutex<GateState>,
    suppressed_total: AtomicU64,
}

#[derive(Debug)]
struct GateState {
    tokens: f64,
    last_refill: Instant,
    pending: u64,
    last_summary: Instant,
}

impl Default for LogGate {
    fn default() -> Self {
        let now = Instant::now();
        LogGate {
            state: Mutex::new(GateState {
                tokens: LOG_LINES_BURST,
                last_refill: now,
                pending: 0,
                last_summary: now,
            }),
            suppressed_total: AtomicU64::new(0),
        }
    }
}

impl LogGate {
    /// Whether one more line about `plugin` may be logged now. Before admitting a line
    /// after suppressed ones, it logs the summary of what it suppressed.
    pub fn admit(&self, plugin: &str) -> bool {
        let pending = {
            let mut s = self.state.lock();
            let now = Instant::now();
            let elapsed = now.saturating_duration_since(s.last_refill).as_secs_f64();
            s.tokens = (s.tokens + elapsed * LOG_LINES_PER_SECOND).min(LOG_LINES_BURST);
            s.last_refill = now;
            if s.tokens < 1.0 {
                s.pending += 1;
                self.suppressed_total.fetch_add(1, Ordering::Relaxed);
                return false;
            }
            s.tokens -= 1.0;
            if s.pending > 0 {
                s.last_summary = now;
            }
            std::mem::take(&mut s.pending)
        };
        summary(plugin, pending);
        true
    }

    /// Logs the summary of suppressed lines if some are pending and the last summary is
    /// [`SUMMARY_EVERY`] old (called at the end of each call, so a plugin that went quiet
    /// still gets its count in the log).
    pub fn flush(&self, plugin: &str) {
        let pending = {
            let mut s = self.state.lock();
            if s.pending == 0 || s.last_summary.elapsed() < SUMMARY_EVERY {
                return;
            }
            s.last_summary = Instant::now();
            std::mem::take(&mut s.pending)
        };
        summary(plugin, pending);
    }

    /// Counts a line refused by another limit (the per-call cap on a guest's messages),
    /// so that the counter and the summary tell all that was dropped.
    pub fn refuse(&self) {
        self.state.lock().pending += 1;
        self.suppressed_total.fetch_add(1, Ordering::Relaxed);
    }

    /// Lines refused so far.
    pub fn suppressed(&self) -> u64 {
        self.suppressed_total.load(Ordering::Relaxed)
    }
}

fn summary(plugin: &str, pending: u64) {
    if pending > 0 {
        let plugin = sanitize(plugin, MAX_GUEST_ERROR);
        tracing::warn!(
            plugin = %plugin,
            suppressed = pending,
            "suppressed {pending} log lines from plugin {plugin:?} (more than {LOG_LINES_PER_SECOND} per second)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_forges_lines_or_repaints_terminals() {
        let cases = [
            ("plain text", "plain text"),
            ("a\nlevel=error", "a\\nlevel=error"),
            ("cr\r\n", "cr\\r\\n"),
            ("tab\t", "tab\\t"),
            ("\u{1b}[31mred", "\\u{1b}[31mred"),
            ("c1\u{9b}", "c1\\u{9b}"),
            ("del\u{7f}", "del\\u{7f}"),
            ("bidi\u{202e}txt", "bidi\\u{202e}txt"),
            ("iso\u{2066}x\u{2069}", "iso\\u{2066}x\\u{2069}"),
            ("ls\u{2028}", "ls\\u{2028}"),
            ("émoji 🦀", "émoji 🦀"),
        ];
        for (input, want) in cases {
            assert_eq!(sanitize(input, 1000), want, "{input:?}");
            assert_eq!(is_clean(input), input == want, "{input:?}");
        }
    }

    #[test]
    fn truncation_is_marked_and_respects_char_boundaries() {
        let s = "é".repeat(1000);
        let out = sanitize(&s, 101);
        assert!(out.starts_with(&"é".repeat(50)), "{out}");
        assert!(out.ends_with("… [truncated, 2000 bytes]"), "{out}");
        assert!(!out.contains('\u{fffd}'));
        let out = sanitize(&"a".repeat(10), 10);
        assert_eq!(out, "a".repeat(10));
        // An escape is never cut in half.
        let out = sanitize("abc\u{1b}", 6);
        assert_eq!(out, "abc… [truncated, 4 bytes]");
        // 50 MB in, a bounded line out.
        let big = "x".repeat(50 << 20);
        let out = sanitize(&big, MAX_GUEST_ERROR);
        assert!(out.len() < MAX_GUEST_ERROR + 64);
        assert!(out.ends_with("[truncated, 52428800 bytes]"));
    }

    #[test]
    fn json_keeps_its_value_and_loses_terminal_controls() {
        let v = serde_json::json!({"a": "x\u{202e}y\u{9b}z\n", "b": ["\u{1b}"]});
        let text = escape_json_for_terminal(serde_json::to_string_pretty(&v).unwrap());
        assert!(text.chars().all(|c| !is_hazard(c) || c == '\n'), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn bounded_errors() {
        let e = bound_error(Error::Plugin {
            name: "p".into(),
            message: format!("x\nlevel=error {}", "y".repeat(1 << 20)),
        });
        let text = e.to_string();
        assert!(!text.contains('\n'));
        assert!(text.len() < 2 * MAX_GUEST_ERROR, "{}", text.len());
        assert!(text.contains("[truncated, "));
    }

    #[test]
    fn gate_admits_the_burst_then_the_rate() {
        let g = LogGate::default();
        let admitted = (0..1_000).filter(|_| g.admit("p")).count();
        // The burst, plus what trickled in while the loop ran.
        assert!((100..=110).contains(&admitted), "{admitted}");
        assert_eq!(g.suppressed(), 1_000 - admitted as u64);
    }
}
