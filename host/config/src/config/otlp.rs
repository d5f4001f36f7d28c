//! The `otlp` block: how the OTLP receiver (`--web.enable-otlp-receiver`) translates, as
//! Prometheus 3.9's `OTLPConfig`, with its defaults and validation errors.

use serde::{Deserialize, Deserializer, Serialize};

use crate::de::{map_with, Str};

/// The translation strategies Prometheus 3.9 accepts.
pub const TRANSLATION_STRATEGIES: [&str; 4] = [
    "UnderscoreEscapingWithSuffixes",
    "UnderscoreEscapingWithoutSuffixes",
    "NoUTF8EscapingWithSuffixes",
    "NoTranslation",
];

/// The `otlp` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OtlpConfig {
    /// Promote every resource attribute to a label, except `ignore_resource_attributes`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub promote_all_resource_attributes: bool,
    /// Resource attributes promoted to labels.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub promote_resource_attributes: Vec<String>,
    /// Resource attributes not promoted when `promote_all_resource_attributes`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignore_resource_attributes: Vec<String>,
    /// One of [`TRANSLATION_STRATEGIES`]; `UnderscoreEscapingWithSuffixes` by default.
    pub translation_strategy: String,
    /// Keep `service.name`, `service.namespace` and `service.instance.id` on `target_info`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub keep_identifying_resource_attributes: bool,
    /// Parsed; native histograms with custom buckets need native histograms, which the store
    /// does not have yet, so histograms stay classic.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub convert_histograms_to_nhcb: bool,
    /// Scope name, version, schema URL and attributes as `otel_scope_*` labels.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub promote_scope_metadata: bool,
    /// `_x` label names become `key_x`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub label_name_underscore_sanitization: bool,
    /// Multiple underscores in label names are kept rather than collapsed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub label_name_preserve_multiple_underscores: bool,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            promote_all_resource_attributes: false,
            promote_resource_attributes: Vec::new(),
            ignore_resource_attributes: Vec::new(),
            translation_strategy: TRANSLATION_STRATEGIES[0].to_string(),
            keep_identifying_resource_attributes: false,
            convert_histograms_to_nhcb: false,
            promote_scope_metadata: false,
            label_name_underscore_sanitization: false,
            label_name_preserve_multiple_underscores: false,
        }
    }
}

impl OtlpConfig {
    /// Whether the strategy keeps UTF-8 names (refused under `metric_name_validation_scheme:
    /// legacy`, as Prometheus).
    pub fn allows_utf8(&self) -> bool {
        matches!(
            self.translation_strategy.as_str(),
            "NoUTF8EscapingWithSuffixes" | "NoTranslation"
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOtlp {
    promote_all_resource_attributes: Option<bool>,
    promote_resource_attributes: Option<Vec<Str>>,
    ignore_resource_attributes: Option<Vec<Str>>,
    translation_strategy: Option<Str>,
    keep_identifying_resource_attributes: Option<bool>,
    convert_histograms_to_nhcb: Option<bool>,
    promote_scope_metadata: Option<bool>,
    label_name_underscore_sanitization: Option<bool>,
    label_name_preserve_multiple_underscores: Option<bool>,
}

/// Prometheus' `sanitizeAttributes`: trimmed, none empty, none twice (every problem listed).
fn sanitize(attrs: Vec<Str>, adjective: &str) -> Result<Vec<String>, String> {
    let mut seen = std::collections::HashSet::new();
    let mut errs = Vec::new();
    let mut out = Vec::new();
    for a in attrs {
        let a = a.0.trim().to_string();
        if a.is_empty() {
            errs.push(format!("empty {adjective} OTel resource attribute"));
            continue;
        }
        if !seen.insert(a.clone()) {
            errs.push(format!(
                "duplicated {adjective} OTel resource attribute {a:?}"
            ));
            continue;
        }
        out.push(a);
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs.join("\n"))
    }
}

impl<'de> Deserialize<'de> for OtlpConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_with(d, |r: RawOtlp| {
            let def = OtlpConfig::default();
            let promote_all = r.promote_all_resource_attributes.unwrap_or(false);
            let promote = r.promote_resource_attributes.unwrap_or_default();
            let ignore = r.ignore_resource_attributes.unwrap_or_default();
            let (promote, ignore) = if promote_all {
                if !promote.is_empty() {
                    return Err("'promote_all_resource_attributes' and 'promote_resource_attributes' cannot be configured simultaneously".into());
                }
                let ignore = sanitize(ignore, "ignored")
                    .map_err(|e| format!("invalid 'ignore_resource_attributes': {e}"))?;
                (Vec::new(), ignore)
            } else {
                if !ignore.is_empty() {
                    return Err("'ignore_resource_attributes' cannot be configured unless 'promote_all_resource_attributes' is true".into());
                }
                let promote = sanitize(promote, "promoted")
                    .map_err(|e| format!("invalid 'promote_resource_attributes': {e}"))?;
                (promote, Vec::new())
            };
            let strategy = r
                .translation_strategy
                .map(|s| s.0)
                .filter(|s| !s.is_empty())
                .unwrap_or(def.translation_strategy);
            if !TRANSLATION_STRATEGIES.contains(&strategy.as_str()) {
                return Err(format!(
                    "unsupported OTLP translation strategy {strategy:?}"
                ));
            }
            Ok(OtlpConfig {
                promote_all_resource_attributes: promote_all,
                promote_resource_attributes: promote,
                ignore_resource_attributes: ignore,
                translation_strategy: strategy,
                keep_identifying_resource_attributes: r
                    .keep_identifying_resource_attributes
                    .unwrap_or(false),
                convert_histograms_to_nhcb: r.convert_histograms_to_nhcb.unwrap_or(false),
                promote_scope_metadata: r.promote_scope_metadata.unwrap_or(false),
                label_name_underscore_sanitization: r
                    .label_name_underscore_sanitization
                    .unwrap_or(false),
                label_name_preserve_multiple_underscores: r
                    .label_name_preserve_multiple_underscores
                    .unwrap_or(false),
            })
        })
    }
}
