//! Go's `time.Time` and `time.Duration` as templates see them: `String()`, `Format(layout)`
//! and the `.Unix`-style methods Alertmanager templates call.

use std::sync::Arc;

use crate::value::{Object, Value};

/// An instant with a fixed zone (Go's `time.Time`; only fixed offsets, no zone database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Time {
    /// Seconds since the Unix epoch.
    pub secs: i64,
    /// Nanoseconds within the second, 0..1e9.
    pub nanos: u32,
    /// Offset east of UTC in seconds.
    pub offset: i32,
    /// The zone's abbreviation, as `MST` prints it.
    pub zone: Arc<str>,
}

impl Time {
    /// A UTC time from nanoseconds since the epoch.
    pub fn from_unix_nanos(n: i64) -> Time {
        Time {
            secs: n.div_euclid(1_000_000_000),
            nanos: n.rem_euclid(1_000_000_000) as u32,
            offset: 0,
            zone: Arc::from("UTC"),
        }
    }

    /// A UTC time from milliseconds since the epoch.
    pub fn from_unix_millis(ms: i64) -> Time {
        Self::from_unix_nanos(ms.saturating_mul(1_000_000))
    }

    /// Go's zero time, 0001-01-01 00:00:00 UTC.
    pub fn zero() -> Time {
        Time {
            secs: -62_135_596_800,
            nanos: 0,
            offset: 0,
            zone: Arc::from("UTC"),
        }
    }

    fn local_secs(&self) -> i64 {
        self.secs + self.offset as i64
    }

    fn civil(&self) -> (i64, u32, u32, u32, u32, u32) {
        let s = self.local_secs();
        let days = s.div_euclid(86_400);
        let sod = s.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (
            y,
            m,
            d,
            (sod / 3600) as u32,
            ((sod / 60) % 60) as u32,
            (sod % 60) as u32,
        )
    }

    fn weekday(&self) -> usize {
        // 1970-01-01 was a Thursday (4).
        (self.local_secs().div_euclid(86_400) + 4).rem_euclid(7) as usize
    }

    fn year_day(&self) -> u32 {
        let (y, _, _, _, _, _) = self.civil();
        let jan1 = days_from_civil(y, 1, 1);
        (self.local_secs().div_euclid(86_400) - jan1 + 1) as u32
    }

    /// Go's `Time.Format(layout)`.
    pub fn format(&self, layout: &str) -> String {
        let mut out = String::with_capacity(layout.len() + 10);
        let (year, month, day, hour, min, sec) = self.civil();
        let b = layout.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let rest = &layout[i..];
            let take = |p: &str| rest.starts_with(p);
            let (adv, text): (usize, String) = if take("January") {
                (7, MONTHS[month as usize - 1].to_string())
            } else if take("Jan") {
                (3, MONTHS[month as usize - 1][..3].to_string())
            } else if take("Monday") {
                (6, DAYS[self.weekday()].to_string())
            } else if take("Mon") {
                (3, DAYS[self.weekday()][..3].to_string())
            } else if take("MST") {
                (3, self.zone_name())
            } else if take("2006") {
                (4, format!("{year:04}"))
            } else if take("002") {
                (3, format!("{:03}", self.year_day()))
            } else if take("01") {
                (2, format!("{month:02}"))
            } else if take("02") {
                (2, format!("{day:02}"))
            } else if take("03") {
                (2, format!("{:02}", hour12(hour)))
            } else if take("04") {
                (2, format!("{min:02}"))
            } else if take("05") {
                (2, format!("{sec:02}"))
            } else if take("06") {
                (2, format!("{:02}", year.rem_euclid(100)))
            } else if take("15") {
                (2, format!("{hour:02}"))
            } else if take("__2") {
                (3, format!("{:>3}", self.year_day()))
            } else if take("_2") {
                (2, format!("{day:>2}"))
            } else if take("1") {
                (1, month.to_string())
            } else if take("2") {
                (1, day.to_string())
            } else if take("3") {
                (1, hour12(hour).to_string())
            } else if take("4") {
                (1, min.to_string())
            } else if take("5") {
                (1, sec.to_string())
            } else if take("PM") {
                (2, if hour >= 12 { "PM" } else { "AM" }.to_string())
            } else if take("pm") {
                (2, if hour >= 12 { "pm" } else { "am" }.to_string())
            } else if let Some((n, text)) = self.zone_chunk(rest) {
                (n, text)
            } else if let Some((n, text)) = self.frac_chunk(rest) {
                (n, text)
            } else {
                let c = rest.chars().next().unwrap_or(' ');
                (c.len_utf8(), c.to_string())
            };
            out.push_str(&text);
            i += adv;
        }
        out
    }

    fn zone_name(&self) -> String {
        if !self.zone.is_empty() {
            return self.zone.to_string();
        }
        // Go prints an unnamed zone as its offset, -0700 style.
        let (sign, h, m, _) = self.offset_parts();
        format!("{sign}{h:02}{m:02}")
    }

    fn offset_parts(&self) -> (char, i32, i32, i32) {
        let o = self.offset;
        let sign = if o < 0 { '-' } else { '+' };
        let a = o.abs();
        (sign, a / 3600, (a / 60) % 60, a % 60)
    }

    fn zone_chunk(&self, rest: &str) -> Option<(usize, String)> {
        let z = rest.starts_with('Z');
        if !(z || rest.starts_with('-')) {
            return None;
        }
        let body = &rest[1..];
        let (sign, h, m, s) = self.offset_parts();
        let forms: [(&str, usize); 5] = [
            ("070000", 0),
            ("07:00:00", 1),
            ("0700", 2),
            ("07:00", 3),
            ("07", 4),
        ];
        for (p, kind) in forms {
            if body.starts_with(p) {
                if z && self.offset == 0 {
                    return Some((1 + p.len(), "Z".to_string()));
                }
                let text = match kind {
                    0 => format!("{sign}{h:02}{m:02}{s:02}"),
                    1 => format!("{sign}{h:02}:{m:02}:{s:02}"),
                    2 => format!("{sign}{h:02}{m:02}"),
                    3 => format!("{sign}{h:02}:{m:02}"),
                    _ => format!("{sign}{h:02}"),
                };
                return Some((1 + p.len(), text));
            }
        }
        None
    }

    fn frac_chunk(&self, rest: &str) -> Option<(usize, String)> {
        let b = rest.as_bytes();
        if b.len() < 2 || !(b[0] == b'.' || b[0] == b',') || !(b[1] == b'0' || b[1] == b'9') {
            return None;
        }
        let digit = b[1];
        let mut j = 1;
        while j < b.len() && b[j] == digit {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return None;
        }
        let n = (j - 1).min(9);
        let frac = format!("{:09}", self.nanos);
        let mut digits = frac[..n].to_string();
        if digit == b'9' {
            while digits.ends_with('0') {
                digits.pop();
            }
            if digits.is_empty() {
                return Some((j, String::new()));
            }
        }
        Some((j, format!("{}{}", b[0] as char, digits)))
    }

    /// Go's `Time.String()`: `2006-01-02 15:04:05.999999999 -0700 MST`.
    pub fn go_string(&self) -> String {
        self.format("2006-01-02 15:04:05.999999999 -0700 MST")
    }
}

fn hour12(h: u32) -> u32 {
    match h % 12 {
        0 => 12,
        x => x,
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Object for Time {
    fn type_name(&self) -> &str {
        "time.Time"
    }
    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let no_args = |v: Value| {
            if args.is_empty() {
                Ok(v)
            } else {
                Err(format!(
                    "wrong number of args for {name}: want 0 got {}",
                    args.len()
                ))
            }
        };
        Some(match name {
            "Unix" => no_args(Value::Int(self.secs)),
            "UnixMilli" => no_args(Value::Int(
                self.secs * 1000 + (self.nanos / 1_000_000) as i64,
            )),
            "UnixNano" => no_args(Value::Int(
                self.secs.saturating_mul(1_000_000_000) + self.nanos as i64,
            )),
            "String" => no_args(Value::from(self.go_string())),
            "UTC" => no_args(Value::Object(Arc::new(Time {
                offset: 0,
                zone: Arc::from("UTC"),
                ..self.clone()
            }))),
            "IsZero" => no_args(Value::Bool(
                self.secs == Time::zero().secs && self.nanos == 0,
            )),
            "Year" => no_args(Value::Int(self.civil().0)),
            "Format" => match args {
                [Value::Str(layout)] => Ok(Value::from(self.format(layout))),
                _ => Err("Format takes one string".to_string()),
            },
            _ => return None,
        })
    }
    fn format(&self, out: &mut String) {
        out.push_str(&self.go_string());
    }
    fn is_stringer(&self) -> bool {
        true
    }
    fn as_time(&self) -> Option<&Time> {
        Some(self)
    }
}

/// Go's `time.Duration`: nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration(pub i64);

/// Writes `v / 10^prec` fraction digits, trailing zeros dropped (Go's `fmtFrac`).
fn frac(v: u64, prec: u32) -> (String, u64) {
    let div = 10u64.pow(prec);
    let f = v % div;
    if f == 0 {
        return (String::new(), v / div);
    }
    let mut s = format!("{:0width$}", f, width = prec as usize);
    while s.ends_with('0') {
        s.pop();
    }
    (format!(".{s}"), v / div)
}

impl Duration {
    /// Go's `Duration.String()`: `1h1m1s`, `1.5s`, `100ms`, `0s`.
    pub fn go_string(&self) -> String {
        let neg = self.0 < 0;
        let u = self.0.unsigned_abs();
        let mut s = String::new();
        if u < 1_000_000_000 {
            if u == 0 {
                return "0s".to_string();
            }
            let (prec, unit) = if u < 1_000 {
                (0, "ns")
            } else if u < 1_000_000 {
                (3, "µs")
            } else {
                (6, "ms")
            };
            let (f, i) = frac(u, prec);
            s.push_str(&format!("{i}{f}{unit}"));
        } else {
            let (f, secs) = frac(u, 9);
            let mins = secs / 60;
            let hours = mins / 60;
            if hours > 0 {
                s.push_str(&format!("{hours}h{}m", mins % 60));
            } else if mins > 0 {
                s.push_str(&format!("{mins}m"));
            }
            s.push_str(&format!("{}{f}s", secs % 60));
        }
        if neg {
            s.insert(0, '-');
        }
        s
    }

    pub fn seconds(&self) -> f64 {
        self.0 as f64 / 1e9
    }
}

impl Object for Duration {
    fn type_name(&self) -> &str {
        "time.Duration"
    }
    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if !args.is_empty() {
            return None;
        }
        Some(Ok(match name {
            "Seconds" => Value::Float(self.seconds()),
            "Minutes" => Value::Float(self.0 as f64 / 6e10),
            "Hours" => Value::Float(self.0 as f64 / 3.6e12),
            "Milliseconds" => Value::Int(self.0 / 1_000_000),
            "Nanoseconds" => Value::Int(self.0),
            "String" => Value::from(self.go_string()),
            _ => return None,
        }))
    }
    fn format(&self, out: &mut String) {
        out.push_str(&self.go_string());
    }
    fn is_stringer(&self) -> bool {
        true
    }
    fn as_duration(&self) -> Option<Duration> {
        Some(*self)
    }
}
