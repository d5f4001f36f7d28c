//! Metric, unit and label names from OTLP's, as `github.com/prometheus/otlptranslator` v1.0.0
//! (what Prometheus 3.9 uses) builds them: `MetricNamer`, `UnitNamer`, `LabelNamer`.

/// `otlp.translation_strategy` (Prometheus 3.9 accepts these four).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Names escaped to `[a-zA-Z0-9_:]`, with type and unit suffixes (the default).
    #[default]
    UnderscoreEscapingWithSuffixes,
    /// Names escaped, no suffixes.
    UnderscoreEscapingWithoutSuffixes,
    /// UTF-8 names kept, with suffixes.
    NoUtf8EscapingWithSuffixes,
    /// Names kept as they are.
    NoTranslation,
}

impl Strategy {
    /// Parses the configuration's spelling; the error is Prometheus'.
    pub fn parse(s: &str) -> Result<Strategy, String> {
        match s {
            "" | "UnderscoreEscapingWithSuffixes" => Ok(Strategy::UnderscoreEscapingWithSuffixes),
            "UnderscoreEscapingWithoutSuffixes" => Ok(Strategy::UnderscoreEscapingWithoutSuffixes),
            "NoUTF8EscapingWithSuffixes" => Ok(Strategy::NoUtf8EscapingWithSuffixes),
            "NoTranslation" => Ok(Strategy::NoTranslation),
            other => Err(format!("unsupported OTLP translation strategy {other:?}")),
        }
    }

    /// Whether names are escaped to the legacy character set.
    pub fn escapes(self) -> bool {
        matches!(
            self,
            Strategy::UnderscoreEscapingWithSuffixes | Strategy::UnderscoreEscapingWithoutSuffixes
        )
    }

    /// Whether type and unit suffixes are added.
    pub fn adds_suffixes(self) -> bool {
        matches!(
            self,
            Strategy::UnderscoreEscapingWithSuffixes | Strategy::NoUtf8EscapingWithSuffixes
        )
    }
}

/// otlptranslator's `MetricType`, as far as naming needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A gauge.
    Gauge,
    /// A monotonic sum.
    MonotonicCounter,
    /// A non-monotonic sum.
    NonMonotonicCounter,
    /// Histograms and summaries.
    Other,
}

fn unit_word(u: &str) -> &str {
    match u {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => "",
        "%" => "percent",
        other => other,
    }
}

fn per_unit_word(u: &str) -> &str {
    match u {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        other => other,
    }
}

/// `buildUnitSuffixes`: the main unit's word and `per_<unit>`; `{annotations}` give none.
fn unit_suffixes(unit: &str) -> (String, String) {
    let mut parts = unit.splitn(2, '/');
    let main = parts.next().unwrap_or_default().trim();
    let main = if !main.is_empty() && !main.contains(['{', '}']) {
        unit_word(main).to_string()
    } else {
        String::new()
    };
    let mut per = String::new();
    if let Some(p) = parts.next().filter(|p| !p.is_empty()) {
        let p = p.trim();
        if !p.is_empty() && !p.contains(['{', '}']) {
            per = per_unit_word(p).to_string();
        }
        if !per.is_empty() {
            per = format!("per_{per}");
        }
    }
    (main, per)
}

fn legacy_metric_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == ':'
}

fn collapse_underscores(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev = false;
    for c in s.chars() {
        if c == '_' {
            if !prev {
                out.push('_');
            }
            prev = true;
        } else {
            out.push(c);
            prev = false;
        }
    }
    out
}

fn clean_unit(u: &str) -> String {
    let mapped: String = u
        .chars()
        .map(|c| if legacy_metric_char(c) { c } else { '_' })
        .collect();
    let c = collapse_underscores(&mapped);
    c.strip_prefix('_').map(str::to_string).unwrap_or(c)
}

/// `UnitNamer{}.Build`: the unit as metadata records it (`seconds`, `bytes_per_second`).
pub fn unit_name(unit: &str, escape: bool) -> String {
    let (mut main, mut per) = unit_suffixes(unit);
    if escape {
        main = clean_unit(&main);
        per = clean_unit(&per);
    }
    let u = match (main.is_empty(), per.is_empty()) {
        (false, false) => format!("{main}_{per}"),
        (false, true) => main,
        _ => per,
    };
    let u = u.strip_prefix('_').unwrap_or(&u);
    u.strip_suffix('_').unwrap_or(u).to_string()
}

/// `MetricNamer.Build`: the Prometheus metric name of an OTLP metric.
pub fn metric_name(
    name: &str,
    unit: &str,
    kind: Kind,
    strategy: Strategy,
) -> Result<String, String> {
    if !strategy.escapes() {
        return Ok(utf8_metric_name(name, unit, kind, strategy.adds_suffixes()));
    }
    let out = if strategy.adds_suffixes() {
        normalize_name(name, unit, kind)
    } else {
        let joined = name
            .split(|c: char| !legacy_metric_char(c) && c != '_')
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("_");
        if joined.starts_with(|c: char| c.is_ascii_digit()) {
            format!("_{joined}")
        } else {
            joined
        }
    };
    if out.is_empty() {
        return Err(format!(
            "normalization for metric {name:?} resulted in empty name"
        ));
    }
    if out != name && out.chars().all(|c| c == '_') {
        return Err(format!(
            "normalization for metric {name:?} resulted in invalid name {out:?}"
        ));
    }
    Ok(out)
}

fn normalize_name(name: &str, unit: &str, kind: Kind) -> String {
    let mut tokens: Vec<String> = name
        .split(|c: char| !legacy_metric_char(c))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let (main, per) = unit_suffixes(unit);
    let (mut main, mut per) = (clean_unit(&main), clean_unit(&per));
    // addUnitTokens.
    if tokens.contains(&main) {
        main.clear();
    }
    if per == "per_" {
        per.clear();
    } else {
        per = per.strip_suffix('_').unwrap_or(&per).to_string();
        if tokens.contains(&per) {
            per.clear();
        }
    }
    if !per.is_empty() {
        main = main.strip_suffix('_').unwrap_or(&main).to_string();
    }
    if !main.is_empty() {
        tokens.push(main);
    }
    if !per.is_empty() {
        tokens.push(per);
    }
    if kind == Kind::MonotonicCounter {
        tokens.retain(|t| t != "total");
        tokens.push("total".into());
    }
    if unit == "1" && kind == Kind::Gauge {
        tokens.retain(|t| t != "ratio");
        tokens.push("ratio".into());
    }
    let joined = tokens.join("_");
    if joined.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{joined}")
    } else {
        joined
    }
}

fn trim_suffix_and_delimiter(name: &str, suffix: &str) -> String {
    if name.ends_with(suffix) && name.len() > suffix.len() + 1 {
        name[..name.len() - suffix.len() - 1].to_string()
    } else {
        name.to_string()
    }
}

/// `buildMetricName`: UTF-8 allowed, suffixes added with the deferred order of otlptranslator
/// (unit, then per-unit, then `_total`, then `_ratio`).
fn utf8_metric_name(input: &str, unit: &str, kind: Kind, suffixes: bool) -> String {
    let mut name = input.to_string();
    if !suffixes {
        return name;
    }
    let ratio = unit == "1" && kind == Kind::Gauge;
    if ratio {
        name = trim_suffix_and_delimiter(&name, "ratio");
    }
    let total = kind == Kind::MonotonicCounter;
    if total {
        name = trim_suffix_and_delimiter(&name, "total");
    }
    let (main, per) = unit_suffixes(unit);
    if !per.is_empty() {
        name = trim_suffix_and_delimiter(&name, &per);
    }
    if !main.is_empty() && !name.ends_with(&main) {
        name = format!("{name}_{main}");
    }
    if !per.is_empty() {
        name = format!("{name}_{per}");
    }
    if total {
        name.push_str("_total");
    }
    if ratio {
        name.push_str("_ratio");
    }
    name
}

/// otlptranslator's `LabelNamer` options.
#[derive(Debug, Clone, Copy, Default)]
pub struct LabelNamer {
    /// UTF-8 names kept.
    pub utf8: bool,
    /// `label_name_underscore_sanitization`: `_x` becomes `key_x`.
    pub underscore_sanitization: bool,
    /// `label_name_preserve_multiple_underscores`.
    pub preserve_multiple_underscores: bool,
}

impl LabelNamer {
    /// `LabelNamer.Build`.
    pub fn build(&self, label: &str) -> Result<String, String> {
        if label.is_empty() {
            return Err("label name is empty".into());
        }
        if self.utf8 {
            if label.chars().all(|c| c == '_') {
                return Err(format!("label name {label:?} contains only underscores"));
            }
            return Ok(label.to_string());
        }
        let mut n = sanitize_label(label, self.preserve_multiple_underscores);
        if n.starts_with(|c: char| c.is_ascii_digit()) {
            n = format!("key_{n}");
        } else if self.underscore_sanitization && n.starts_with('_') && !n.starts_with("__") {
            n = format!("key{n}");
        }
        if n.chars().all(|c| c == '_') {
            return Err(format!(
                "normalization for label name {label:?} resulted in invalid name {n:?}"
            ));
        }
        Ok(n)
    }
}

fn sanitize_label(name: &str, preserve: bool) -> String {
    if preserve {
        return name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
    }
    let reserved = name.len() >= 4 && name.starts_with("__") && name.ends_with("__");
    let inner = if reserved {
        &name[2..name.len() - 2]
    } else {
        name
    };
    let mut out = String::with_capacity(inner.len());
    let mut prev = false;
    for c in inner.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
            prev = false;
        } else if !prev {
            out.push('_');
            prev = true;
        }
    }
    if reserved {
        format!("__{out}__")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Kind::*;
    use Strategy::*;

    fn n(name: &str, unit: &str, kind: Kind) -> String {
        metric_name(name, unit, kind, UnderscoreEscapingWithSuffixes).unwrap()
    }

    /// Cases from otlptranslator v1.0.0's metric_namer_test.go.
    #[test]
    fn metric_names_as_otlptranslator() {
        assert_eq!(
            n("system.filesystem.usage", "By", Gauge),
            "system_filesystem_usage_bytes"
        );
        assert_eq!(
            n("system.network.io", "By", MonotonicCounter),
            "system_network_io_bytes_total"
        );
        assert_eq!(n("ratio_metric", "1", Gauge), "metric_ratio");
        assert_eq!(n("requests", "1", MonotonicCounter), "requests_total");
        assert_eq!(n("active_users", "{users}", Gauge), "active_users");
        assert_eq!(n("speed", "m/s", Gauge), "speed_meters_per_second");
        assert_eq!(
            n("throughput", "By/s", MonotonicCounter),
            "throughput_bytes_per_second_total"
        );
        assert_eq!(n("temperature", "Cel", Gauge), "temperature_celsius");
        assert_eq!(
            n("http.server.duration", "ms", Other),
            "http_server_duration_milliseconds"
        );
        assert_eq!(n("foo_total", "", MonotonicCounter), "foo_total");
        assert_eq!(n("total_foo", "", MonotonicCounter), "foo_total");
        assert_eq!(n("foo.bar", "s", NonMonotonicCounter), "foo_bar_seconds");
        assert_eq!(n("2xx.requests", "", Gauge), "_2xx_requests");
        assert_eq!(n("uptime_seconds", "s", Gauge), "uptime_seconds");
        assert_eq!(n("foo", "{packet}/s", Gauge), "foo_per_second");
        assert_eq!(n("disk.io", "By/{op}", Gauge), "disk_io_bytes");
        assert!(metric_name("___", "", Gauge, UnderscoreEscapingWithSuffixes).is_err());
        assert_eq!(
            metric_name(
                "foo.bar",
                "s",
                MonotonicCounter,
                UnderscoreEscapingWithoutSuffixes
            )
            .unwrap(),
            "foo_bar"
        );
        assert_eq!(
            metric_name("foo.bar", "s", MonotonicCounter, NoUtf8EscapingWithSuffixes).unwrap(),
            "foo.bar_seconds_total"
        );
        assert_eq!(
            metric_name("foo.bar", "1", Gauge, NoUtf8EscapingWithSuffixes).unwrap(),
            "foo.bar_ratio"
        );
        assert_eq!(
            metric_name("foo.bar", "s", MonotonicCounter, NoTranslation).unwrap(),
            "foo.bar"
        );
    }

    #[test]
    fn units_as_otlptranslator() {
        assert_eq!(unit_name("s", true), "seconds");
        assert_eq!(unit_name("By/s", true), "bytes_per_second");
        assert_eq!(unit_name("1", true), "");
        assert_eq!(unit_name("{requests}", true), "");
        assert_eq!(unit_name("{req}/s", true), "per_second");
    }

    /// Cases from otlptranslator v1.0.0's label_namer_test.go.
    #[test]
    fn label_names_as_otlptranslator() {
        let ln = LabelNamer::default();
        assert_eq!(ln.build("label:with:colons").unwrap(), "label_with_colons");
        assert_eq!(
            ln.build("LabelWithCapitalLetters").unwrap(),
            "LabelWithCapitalLetters"
        );
        assert_eq!(
            ln.build("label!with&special$chars)").unwrap(),
            "label_with_special_chars_"
        );
        assert_eq!(
            ln.build("label_with_foreign_characters_字符").unwrap(),
            "label_with_foreign_characters_"
        );
        assert_eq!(ln.build("label.with.dots").unwrap(), "label_with_dots");
        assert_eq!(ln.build("123label").unwrap(), "key_123label");
        assert_eq!(
            ln.build("_label_starting_with_underscore").unwrap(),
            "_label_starting_with_underscore"
        );
        assert_eq!(ln.build("__name__").unwrap(), "__name__");
        assert_eq!(ln.build("a__b").unwrap(), "a_b");
        assert!(ln.build("").is_err());
        assert!(ln.build("___").is_err());
        let us = LabelNamer {
            underscore_sanitization: true,
            ..LabelNamer::default()
        };
        assert_eq!(us.build("_label").unwrap(), "key_label");
        let keep = LabelNamer {
            preserve_multiple_underscores: true,
            ..LabelNamer::default()
        };
        assert_eq!(keep.build("a__b").unwrap(), "a__b");
        let utf8 = LabelNamer {
            utf8: true,
            ..LabelNamer::default()
        };
        assert_eq!(utf8.build("http.method").unwrap(), "http.method");
    }
}
