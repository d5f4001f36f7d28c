//! `time_intervals:` and `mute_time_intervals:` (`timeinterval.TimeInterval`), parsed and
//! validated with Alertmanager's messages, and evaluated (`TimeInterval::contains`).

use serde_yaml::Value;

use crate::yamlx::{self, entries, Node, Src, R};

/// A named list of intervals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedTimeInterval {
    /// Its name.
    pub name: String,
    /// Its intervals (any of them matching makes the interval active).
    pub time_intervals: Vec<TimeInterval>,
}

/// One interval: every non-empty field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeInterval {
    /// `times`: minute-of-day ranges, end exclusive.
    pub times: Vec<(u32, u32)>,
    /// `weekdays`: 0 = Sunday.
    pub weekdays: Vec<(i32, i32)>,
    /// `days_of_month`: negative counts from the month's end.
    pub days_of_month: Vec<(i32, i32)>,
    /// `months`: 1 = January.
    pub months: Vec<(i32, i32)>,
    /// `years`.
    pub years: Vec<(i32, i32)>,
    /// `location`: an IANA zone name (default UTC).
    pub location: Option<String>,
}

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

pub(crate) fn parse_named(src: Src<'_>, n: &Node<'_>, what: &str) -> R<NamedTimeInterval> {
    let mut out = NamedTimeInterval {
        name: String::new(),
        time_intervals: Vec::new(),
    };
    for (key, c) in entries(src, n, "config.plain", &["name", "time_intervals"])? {
        match key.as_str() {
            "name" => out.name = yamlx::string(src, &c)?,
            _ => {
                for item in yamlx::list(src, &c, "timeinterval.TimeInterval")? {
                    out.time_intervals.push(parse_interval(src, &item)?);
                }
            }
        }
    }
    if out.name.is_empty() {
        return Err(src.err(&n.path, format!("missing name in {what}")));
    }
    Ok(out)
}

fn range_of(s: &str, member: &dyn Fn(&str) -> Result<i32, String>) -> Result<(i32, i32), String> {
    let s = s.to_lowercase();
    if s.contains(':') {
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() != 2 {
            return Err(format!("couldn't parse range {s}, invalid format"));
        }
        Ok((member(parts[0])?, member(parts[1])?))
    } else {
        let v = member(&s)?;
        Ok((v, v))
    }
}

fn atoi(s: &str) -> Result<i32, String> {
    s.parse::<i32>()
        .map_err(|_| format!("strconv.Atoi: parsing {s:?}: invalid syntax"))
}

fn parse_time(s: &str) -> Result<u32, String> {
    let valid = regex::Regex::new(r"^((([01][0-9])|(2[0-3])):[0-5][0-9])$|(^24:00$)")
        .map_err(|e| e.to_string())?;
    if !valid.is_match(s) {
        return Err(format!("couldn't parse timestamp {s}, invalid format"));
    }
    let (h, m) = s.split_once(':').unwrap_or(("0", "0"));
    Ok(h.parse::<u32>().unwrap_or(0) * 60 + m.parse::<u32>().unwrap_or(0))
}

fn parse_interval(src: Src<'_>, n: &Node<'_>) -> R<TimeInterval> {
    let mut ti = TimeInterval::default();
    let keys = [
        "times",
        "weekdays",
        "days_of_month",
        "months",
        "years",
        "location",
    ];
    for (key, c) in entries(src, n, "timeinterval.TimeInterval", &keys)? {
        let items = if key == "location" {
            Vec::new()
        } else {
            yamlx::list(src, &c, &key)?
        };
        for item in &items {
            let e = |m: String| src.err(&item.path, m);
            match key.as_str() {
                "times" => {
                    let mut start = String::new();
                    let mut end = String::new();
                    for (k, v) in entries(
                        src,
                        item,
                        "timeinterval.yamlTimeRange",
                        &["start_time", "end_time"],
                    )? {
                        let s = yamlx::string(src, &v)?;
                        if k == "start_time" {
                            start = s;
                        } else {
                            end = s;
                        }
                    }
                    if start.is_empty() || end.is_empty() {
                        return Err(e("both start and end times must be provided".into()));
                    }
                    let (a, b) = (parse_time(&start).map_err(e)?, parse_time(&end).map_err(e)?);
                    if a >= b {
                        return Err(e(
                            "start time cannot be equal or greater than end time".into()
                        ));
                    }
                    ti.times.push((a, b));
                }
                "weekdays" => {
                    let s = yamlx::string(src, item)?;
                    let member = |x: &str| {
                        WEEKDAYS
                            .iter()
                            .position(|d| *d == x)
                            .map(|p| p as i32)
                            .ok_or_else(|| format!("{x} is not a valid weekday"))
                    };
                    let r = range_of(&s, &member).map_err(e)?;
                    if r.0 > r.1 {
                        return Err(e("start day cannot be before end day".into()));
                    }
                    ti.weekdays.push(r);
                }
                "days_of_month" => {
                    let s = yamlx::string(src, item)?;
                    let (b, en) = range_of(&s, &atoi).map_err(e)?;
                    for v in [b, en] {
                        if v == 0 || !(-31..=31).contains(&v) {
                            return Err(e(format!(
                                "{v} is not a valid day of the month: out of range"
                            )));
                        }
                    }
                    if b < 0 && en > 0 {
                        return Err(e("end day must be negative if start day is negative".into()));
                    }
                    let cb = if b < 0 { 28 + b } else { b };
                    let ce = if en < 0 { 28 + en } else { en };
                    if cb > ce {
                        return Err(e(format!("end day {en} is always before start day {b}")));
                    }
                    ti.days_of_month.push((b, en));
                }
                "months" => {
                    let s = yamlx::string(src, item)?;
                    let member = |x: &str| match MONTHS.iter().position(|m| *m == x) {
                        Some(p) => Ok(p as i32 + 1),
                        None => x
                            .parse::<i32>()
                            .map_err(|_| format!("{x} is not a valid month")),
                    };
                    let r = range_of(&s, &member).map_err(e)?;
                    if r.0 > r.1 {
                        let name = |i: i32| MONTHS.get((i - 1) as usize).copied().unwrap_or("");
                        return Err(e(format!(
                            "end month {} is before start month {}",
                            name(r.1),
                            name(r.0)
                        )));
                    }
                    ti.months.push(r);
                }
                _ => {
                    let s = yamlx::string(src, item)?;
                    let r = range_of(&s, &atoi).map_err(e)?;
                    if r.0 > r.1 {
                        return Err(e(format!("end year {} is before start year {}", r.1, r.0)));
                    }
                    ti.years.push(r);
                }
            }
        }
        if key == "location" && !matches!(c.v, Value::Null) {
            let s = yamlx::string(src, &c)?;
            if !zone_exists(&s) {
                return Err(src.err(&c.path, format!("unknown time zone {s}")));
            }
            ti.location = Some(s);
        }
    }
    Ok(ti)
}

/// Go's `time.LoadLocation` on Unix: `UTC`, `Local`, or a file of the zone database.
fn zone_exists(name: &str) -> bool {
    if name.is_empty() || name == "UTC" || name == "Local" {
        return true;
    }
    if name.contains("..") || name.starts_with('/') || name.contains('\\') {
        return false;
    }
    let dirs = std::env::var("ZONEINFO").ok().into_iter().chain([
        "/usr/share/zoneinfo".to_string(),
        "/usr/share/lib/zoneinfo".to_string(),
        "/usr/lib/locale/TZ".to_string(),
    ]);
    for d in dirs {
        if std::path::Path::new(&d).join(name).is_file() {
            return true;
        }
    }
    false
}

/// A moment's calendar fields in an interval's location.
struct Civil {
    year: i32,
    month: i32,
    day: i32,
    weekday: i32,
    minute_of_day: u32,
    days_in_month: i32,
}

fn civil<Tz: chrono::TimeZone>(t: chrono::DateTime<Tz>) -> Civil {
    use chrono::{Datelike, Timelike};
    let (y, m) = (t.year(), t.month());
    let next = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let days_in_month = match (
        chrono::NaiveDate::from_ymd_opt(y, m, 1),
        chrono::NaiveDate::from_ymd_opt(next.0, next.1, 1),
    ) {
        (Some(a), Some(b)) => (b - a).num_days() as i32,
        _ => 31,
    };
    Civil {
        year: y,
        month: m as i32,
        day: t.day() as i32,
        weekday: t.weekday().num_days_from_sunday() as i32,
        minute_of_day: t.hour() * 60 + t.minute(),
        days_in_month,
    }
}

impl TimeInterval {
    /// Whether the moment `now_ms` is inside the interval (`TimeInterval.ContainsTime`),
    /// evaluated in its `location`: `UTC` (the default), `Local` (the process' zone) or a
    /// zone of the system's database (read as Go reads it; see `tz.rs` for the limits).
    pub fn contains(&self, now_ms: i64) -> bool {
        let Some(utc) = chrono::DateTime::from_timestamp_millis(now_ms) else {
            return false;
        };
        let c = match self.location.as_deref() {
            None | Some("") | Some("UTC") => civil(utc),
            Some("Local") => civil(utc.with_timezone(&chrono::Local)),
            Some(name) => match crate::tz::zone(name) {
                Some(z) => {
                    let off = z.offset_at(now_ms.div_euclid(1000));
                    match chrono::FixedOffset::east_opt(off) {
                        Some(o) => civil(utc.with_timezone(&o)),
                        None => civil(utc),
                    }
                }
                None => {
                    tracing::warn!(location = %name, "time zone not readable, evaluating the time interval in UTC");
                    civil(utc)
                }
            },
        };
        self.contains_civil(&c)
    }

    fn contains_civil(&self, t: &Civil) -> bool {
        if !self.times.is_empty()
            && !self
                .times
                .iter()
                .any(|(s, e)| t.minute_of_day >= *s && t.minute_of_day < *e)
        {
            return false;
        }
        if !self.days_of_month.is_empty() {
            let dim = t.days_in_month;
            let in_range = self.days_of_month.iter().any(|(b, e)| {
                let begin = if *b < 0 { dim + b + 1 } else { *b };
                let end = if *e < 0 { dim + e + 1 } else { *e };
                // Skip a range that starts after the end of the month.
                if begin > dim {
                    return false;
                }
                let (begin, end) = (begin.clamp(-dim, dim), end.clamp(-dim, dim));
                t.day >= begin && t.day <= end
            });
            if !in_range {
                return false;
            }
        }
        if !self.months.is_empty()
            && !self
                .months
                .iter()
                .any(|(b, e)| t.month >= *b && t.month <= *e)
        {
            return false;
        }
        if !self.weekdays.is_empty()
            && !self
                .weekdays
                .iter()
                .any(|(b, e)| t.weekday >= *b && t.weekday <= *e)
        {
            return false;
        }
        if !self.years.is_empty() && !self.years.iter().any(|(b, e)| t.year >= *b && t.year <= *e) {
            return false;
        }
        true
    }
}

#[cfg(test)]
mod eval_tests {
    use super::*;

    #[test]
    fn intervals_contain_as_alertmanagers() {
        // 2024-01-31T10:30:00Z, a Wednesday.
        let t = chrono::DateTime::parse_from_rfc3339("2024-01-31T10:30:00Z")
            .unwrap()
            .timestamp_millis();
        let ti = |f: &dyn Fn(&mut TimeInterval)| {
            let mut x = TimeInterval::default();
            f(&mut x);
            x
        };
        assert!(TimeInterval::default().contains(t));
        assert!(ti(&|x| x.times = vec![(600, 660)]).contains(t));
        assert!(!ti(&|x| x.times = vec![(631, 660)]).contains(t));
        assert!(ti(&|x| x.weekdays = vec![(1, 5)]).contains(t));
        assert!(!ti(&|x| x.weekdays = vec![(6, 6)]).contains(t));
        assert!(ti(&|x| x.days_of_month = vec![(-1, -1)]).contains(t));
        assert!(!ti(&|x| x.days_of_month = vec![(1, 30)]).contains(t));
        assert!(ti(&|x| x.months = vec![(1, 3)]).contains(t));
        assert!(!ti(&|x| x.years = vec![(2025, 2026)]).contains(t));
        // 10:30Z is 19:30 in Tokyo (no summer time there), when the database is installed.
        if crate::tz::zone("Asia/Tokyo").is_some() {
            assert!(ti(&|x| {
                x.times = vec![(1170, 1180)];
                x.location = Some("Asia/Tokyo".into());
            })
            .contains(t));
        }
    }
}
