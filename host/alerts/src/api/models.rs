//! API v2's JSON as Alertmanager 0.25's go-swagger models print and read it.
//!
//! Printing: go-swagger generates struct fields in name order and, for `allOf` models, prints
//! the model's own fields before the embedded ones (`GettableAlert`: `annotations` ...
//! `updatedAt`, then `generatorURL`, `labels`). Label sets are Go maps, printed in key order.
//! Times are `strfmt.DateTime` (three fraction digits).
//!
//! Reading: bodies are decoded into `serde_json::Value` and checked by hand so that the
//! errors come in go-swagger's order and words: decoding errors answer 400
//! `{"code":400,"message":"parsing alerts body from \"\" failed, because ..."}`, schema
//! violations 422 with go-swagger's codes (602 required, 601 format, 612 too few items).

use serde::Serialize;
use serde_json::Value;

use crate::alert::{fingerprint_hex, parse_rfc3339, rfc3339_millis, Alert};
use crate::api::backend::{ApiAlert, ApiAlertStatus, ApiMatcher, ApiSilence, ApiStatus};
use crate::matchers::{go_quote, LabelSet};

/// `{"name": ...}`.
#[derive(Debug, Serialize)]
pub(crate) struct ReceiverJson<'a> {
    pub(crate) name: &'a str,
}

/// `AlertStatus`.
#[derive(Debug, Serialize)]
pub(crate) struct AlertStatusJson<'a> {
    #[serde(rename = "inhibitedBy")]
    inhibited_by: &'a [String],
    #[serde(rename = "silencedBy")]
    silenced_by: &'a [String],
    state: &'static str,
}

/// `GettableAlert`.
#[derive(Debug, Serialize)]
pub(crate) struct GettableAlert<'a> {
    annotations: &'a LabelSet,
    #[serde(rename = "endsAt")]
    ends_at: String,
    fingerprint: String,
    receivers: Vec<ReceiverJson<'a>>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    status: AlertStatusJson<'a>,
    #[serde(rename = "updatedAt")]
    updated_at: String,
    #[serde(rename = "generatorURL", skip_serializing_if = "str::is_empty")]
    generator_url: &'a str,
    labels: &'a LabelSet,
}

/// `strfmt.DateTime` of an optional time (Go's zero time when absent).
pub(crate) fn date_time(ms: Option<i64>) -> String {
    match ms {
        Some(ms) => rfc3339_millis(ms),
        None => "0001-01-01T00:00:00.000Z".to_string(),
    }
}

impl<'a> GettableAlert<'a> {
    /// `AlertToOpenAPIAlert`.
    pub(crate) fn new(
        alert: &'a Alert,
        status: &'a ApiAlertStatus,
        receivers: &'a [String],
    ) -> GettableAlert<'a> {
        GettableAlert {
            annotations: &alert.annotations,
            ends_at: date_time(alert.ends_at),
            fingerprint: fingerprint_hex(alert.fingerprint()),
            receivers: receivers.iter().map(|r| ReceiverJson { name: r }).collect(),
            starts_at: rfc3339_millis(alert.starts_at),
            status: AlertStatusJson {
                inhibited_by: &status.inhibited_by,
                silenced_by: &status.silenced_by,
                state: status.state.as_str(),
            },
            updated_at: rfc3339_millis(alert.updated_at),
            generator_url: &alert.generator_url,
            labels: &alert.labels,
        }
    }

    /// From the backend's alert with its own receivers.
    pub(crate) fn from_api(a: &'a ApiAlert) -> GettableAlert<'a> {
        GettableAlert::new(&a.alert, &a.status, &a.receivers)
    }
}

/// `AlertGroup`.
#[derive(Debug, Serialize)]
pub(crate) struct AlertGroupJson<'a> {
    pub(crate) alerts: Vec<GettableAlert<'a>>,
    pub(crate) labels: &'a LabelSet,
    pub(crate) receiver: ReceiverJson<'a>,
}

/// `Matcher`.
#[derive(Debug, Serialize)]
struct MatcherJson<'a> {
    #[serde(rename = "isEqual")]
    is_equal: bool,
    #[serde(rename = "isRegex")]
    is_regex: bool,
    name: &'a str,
    value: &'a str,
}

/// `SilenceStatus`.
#[derive(Debug, Serialize)]
struct SilenceStatusJson {
    state: &'static str,
}

/// `GettableSilence`, plus Sightline's `untilResolved` when set.
#[derive(Debug, Serialize)]
pub(crate) struct GettableSilence<'a> {
    id: &'a str,
    status: SilenceStatusJson,
    #[serde(rename = "updatedAt")]
    updated_at: String,
    comment: &'a str,
    #[serde(rename = "createdBy")]
    created_by: &'a str,
    #[serde(rename = "endsAt")]
    ends_at: String,
    matchers: Vec<MatcherJson<'a>>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    #[serde(rename = "untilResolved", skip_serializing_if = "is_false")]
    until_resolved: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl<'a> GettableSilence<'a> {
    /// `GettableSilenceFromProto`.
    pub(crate) fn new(s: &'a ApiSilence) -> GettableSilence<'a> {
        GettableSilence {
            id: &s.id,
            status: SilenceStatusJson {
                state: s.state.as_str(),
            },
            updated_at: rfc3339_millis(s.updated_at),
            comment: &s.comment,
            created_by: &s.created_by,
            ends_at: rfc3339_millis(s.ends_at),
            matchers: s
                .matchers
                .iter()
                .map(|m| MatcherJson {
                    is_equal: m.is_equal,
                    is_regex: m.is_regex,
                    name: &m.name,
                    value: &m.value,
                })
                .collect(),
            starts_at: rfc3339_millis(s.starts_at),
            until_resolved: s.until_resolved,
        }
    }
}

/// `AlertmanagerStatus` with clustering off, as Alertmanager prints it when started with an
/// empty `--cluster.listen-address` (`{"peers":[],"status":"disabled"}`, no name).
pub(crate) fn status_json(s: &ApiStatus) -> Value {
    serde_json::json!({
        "cluster": {"peers": [], "status": "disabled"},
        "config": {"original": s.config_original},
        "uptime": rfc3339_millis(s.uptime_ms),
        "versionInfo": {
            "branch": s.version.branch,
            "buildDate": s.version.build_date,
            "buildUser": s.version.build_user,
            "goVersion": s.version.go_version,
            "revision": s.version.revision,
            "version": s.version.version,
        },
    })
}

/// go-swagger's own error answer, `{"code":..,"message":..}` (no trailing newline), for
/// bodies that do not decode or break the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApiError {
    /// go-swagger's framework errors.
    Swagger {
        status: u16,
        code: u16,
        message: String,
    },
}

impl ApiError {
    pub(crate) fn parse(what: &str, msg: String) -> ApiError {
        ApiError::Swagger {
            status: 400,
            code: 400,
            message: format!("parsing {what} body from \"\" failed, because {msg}"),
        }
    }
    pub(crate) fn required(name: &str) -> ApiError {
        ApiError::Swagger {
            status: 422,
            code: 602,
            message: format!("{name} in body is required"),
        }
    }
}

/// Go's name for a JSON value's kind in `json: cannot unmarshal X into ...`.
fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `json: cannot unmarshal <kind> into Go struct field <owner>.<field> of type <ty>`.
fn type_error(v: &Value, owner: &str, field: &str, ty: &str) -> String {
    format!(
        "json: cannot unmarshal {} into Go struct field {owner}.{field} of type {ty}",
        go_kind(v)
    )
}

/// Decodes a body into a JSON value; `Ok(None)` for an empty body. Go's decoder reports a
/// truncated document as `unexpected EOF`.
pub(crate) fn decode_body(body: &[u8]) -> Result<Option<Value>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    // `json.Decoder.Decode` reads the first value and ignores what follows it.
    let first = serde_json::Deserializer::from_slice(body)
        .into_iter::<Value>()
        .next();
    match first {
        Some(Ok(v)) => Ok(Some(v)),
        Some(Err(e)) if e.is_eof() => Err("unexpected EOF".to_string()),
        // serde's words differ from Go's; Go's scanner is reproduced for syntax errors.
        Some(Err(e)) => Err(super::gojson::syntax_error(body).unwrap_or_else(|| e.to_string())),
        None => Ok(None),
    }
}

/// A label set field: a JSON object of strings (`null` or absent: `None`).
fn label_set(v: Option<&Value>, owner: &str, field: &str) -> Result<Option<LabelSet>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => {
            let mut out = LabelSet::new();
            for (k, v) in m {
                match v {
                    Value::String(s) => {
                        out.insert(k.clone(), s.clone());
                    }
                    // Go leaves a null map value at the element's zero value.
                    Value::Null => {
                        out.insert(k.clone(), String::new());
                    }
                    other => return Err(type_error(other, owner, field, "string")),
                }
            }
            Ok(Some(out))
        }
        Some(other) => Err(type_error(other, owner, field, "models.LabelSet")),
    }
}

fn string_field(v: Option<&Value>, owner: &str, field: &str) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(type_error(other, owner, field, "string")),
    }
}

fn bool_field(v: Option<&Value>, owner: &str, field: &str) -> Result<Option<bool>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(type_error(other, owner, field, "bool")),
    }
}

/// A member of a JSON object as Go's decoder finds a struct field: the name matched without
/// regard to case, the last match winning.
fn field<'a>(o: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    o.iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// `strfmt.ParseDateTime`: RFC 3339 (any fraction, `Z` or an offset with or without a colon)
/// and the ISO 8601 forms go-openapi also accepts (`2006-01-02T15:04:05`, `2006-01-02T15:04Z`,
/// `2006-01-02T15:04`, `2006-01-02 15:04:05`; a time without a zone is UTC). Go's zero time
/// gives `None`.
pub(crate) fn parse_strfmt_date_time(s: &str) -> Result<Option<i64>, String> {
    if let Ok(t) = parse_rfc3339(s) {
        return Ok(t);
    }
    let zero = |ms: i64| (ms > -62_135_596_800_000).then_some(ms);
    if let Ok(t) = chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Ok(zero(t.timestamp_millis()));
    }
    for layout in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%MZ",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, layout) {
            return Ok(zero(t.and_utc().timestamp_millis()));
        }
    }
    // Go reports the last layout it tried.
    Err(format!(
        "parsing time {} as \"2006-01-02 15:04:05\": cannot parse {} as \"2006\"",
        go_quote(s),
        go_quote(s)
    ))
}

/// A `strfmt.DateTime` (or Go `time.Time`) field: `Ok(None)` when absent, null or Go's zero
/// time (amtool sends `0001-01-01T00:00:00.000Z` for "not given").
fn time_field(
    v: Option<&Value>,
    owner: &str,
    name: &str,
    parse: TimeParser,
) -> Result<Option<i64>, String> {
    match string_field(v, owner, name)? {
        None => Ok(None),
        Some(s) => parse(&s),
    }
}

/// How a time field is read: API v2's `strfmt.DateTime` or v1's Go `time.Time` (RFC 3339).
pub(crate) type TimeParser = fn(&str) -> Result<Option<i64>, String>;

/// Go's `time.Time` JSON: RFC 3339 only.
pub(crate) fn parse_go_time(s: &str) -> Result<Option<i64>, String> {
    parse_rfc3339(s).map_err(|_| {
        format!(
            "parsing time {} as \"\\\"2006-01-02T15:04:05Z07:00\\\"\": cannot parse {} as \"2006\"",
            go_quote(&format!("\"{s}\"")),
            go_quote(&format!("{s}\""))
        )
    })
}

/// One alert as posted, before Alertmanager's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PostedAlert {
    pub(crate) labels: Option<LabelSet>,
    pub(crate) annotations: LabelSet,
    pub(crate) starts_at: Option<i64>,
    pub(crate) ends_at: Option<i64>,
    pub(crate) generator_url: String,
}

/// Decodes one posted alert (v1 and v2 share the field names).
pub(crate) fn posted_alert(
    v: &Value,
    go_type: &str,
    parse_time: TimeParser,
) -> Result<PostedAlert, String> {
    let o = match v {
        Value::Object(o) => o,
        Value::Null => {
            return Ok(PostedAlert {
                labels: None,
                annotations: LabelSet::new(),
                starts_at: None,
                ends_at: None,
                generator_url: String::new(),
            })
        }
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type {go_type}",
                go_kind(other)
            ))
        }
    };
    Ok(PostedAlert {
        labels: label_set(field(o, "labels"), "Alert", "labels")?,
        annotations: label_set(field(o, "annotations"), "PostableAlert", "annotations")?
            .unwrap_or_default(),
        starts_at: time_field(
            field(o, "startsAt"),
            "PostableAlert",
            "startsAt",
            parse_time,
        )?,
        ends_at: time_field(field(o, "endsAt"), "PostableAlert", "endsAt", parse_time)?,
        generator_url: string_field(field(o, "generatorURL"), "Alert", "generatorURL")?
            .unwrap_or_default(),
    })
}

/// The element type go-swagger decodes each posted alert into, as Go names it in errors.
const POSTABLE_ALERT_GO_TYPE: &str = "struct { Annotations models.LabelSet \"json:\\\"annotations,omitempty\\\"\"; EndsAt strfmt.DateTime \"json:\\\"endsAt,omitempty\\\"\"; StartsAt strfmt.DateTime \"json:\\\"startsAt,omitempty\\\"\" }";

/// Decodes and schema-checks `POST /api/v2/alerts`'s body (`PostableAlerts`).
pub(crate) fn postable_alerts(body: &[u8]) -> Result<Vec<PostedAlert>, ApiError> {
    let v = match decode_body(body) {
        Ok(Some(v)) => v,
        Ok(None) => return Err(ApiError::required("alerts")),
        Err(e) => return Err(ApiError::parse("alerts", e)),
    };
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => {
            return Err(ApiError::parse(
                "alerts",
                format!(
                    "json: cannot unmarshal {} into Go value of type models.PostableAlerts",
                    go_kind(&other)
                ),
            ))
        }
    };
    let alerts = items
        .iter()
        .map(|i| posted_alert(i, POSTABLE_ALERT_GO_TYPE, parse_strfmt_date_time))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::parse("alerts", e))?;
    // The schema: `generatorURL` is a URI, `labels` is required; the first failure is
    // answered, in element order.
    for (i, a) in alerts.iter().enumerate() {
        if !a.generator_url.is_empty() && !go_parses_url(&a.generator_url) {
            return Err(ApiError::Swagger {
                status: 422,
                code: 601,
                message: format!(
                    "{i}.generatorURL in body must be of type uri: {}",
                    go_quote(&a.generator_url)
                ),
            });
        }
        if a.labels.is_none() {
            return Err(ApiError::required(&format!("{i}.labels")));
        }
    }
    Ok(alerts)
}

/// Whether Go's `url.Parse` accepts `s` (strfmt's `uri` format): no control characters,
/// well-formed `%` escapes, and a scheme or a first path segment without a colon.
fn go_parses_url(s: &str) -> bool {
    if s.chars().any(|c| (c as u32) < 0x20 || c as u32 == 0x7f) {
        return false;
    }
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok = b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    // `getScheme`: a leading colon is "missing protocol scheme"; a colon after a valid
    // scheme is a scheme; otherwise a colon in the first segment is an error.
    let before_fragment = s.split(['#', '?']).next().unwrap_or("");
    match before_fragment.find(':') {
        None => true,
        Some(0) => false,
        Some(pos) => {
            let scheme = &before_fragment[..pos];
            let valid_scheme = scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            valid_scheme || before_fragment[..pos].contains('/')
        }
    }
}

/// `model.LabelName.IsValid` (Prometheus names: `[a-zA-Z_][a-zA-Z0-9_]*`).
pub(crate) fn valid_label_name(n: &str) -> bool {
    !n.is_empty()
        && n.bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_alphabetic() || b == b'_' || (b.is_ascii_digit() && i > 0))
}

/// `LabelSet.Validate`'s message for the first invalid name (Go's map order is random; we
/// take name order).
fn invalid_name(ls: &LabelSet) -> Option<String> {
    ls.keys()
        .find(|k| !valid_label_name(k))
        .map(|k| format!("invalid name {}", go_quote(k)))
}

/// Posted alerts after Alertmanager's defaults and validation.
#[derive(Debug, Default)]
pub(crate) struct Completed {
    /// The valid alerts.
    pub(crate) valid: Vec<Alert>,
    /// The others' errors, in order.
    pub(crate) errors: Vec<String>,
    /// How many were firing and resolved (counted before validation, as Alertmanager does).
    pub(crate) firing: usize,
    pub(crate) resolved: usize,
}

/// Applies Alertmanager's defaults to posted alerts and validates them (`insertAlerts` /
/// `postAlertsHandler`).
pub(crate) fn complete_alerts(
    posted: Vec<PostedAlert>,
    now_ms: i64,
    resolve_timeout_ms: i64,
) -> Completed {
    let mut out = Completed {
        valid: Vec::with_capacity(posted.len()),
        ..Completed::default()
    };
    for p in posted {
        let mut labels = p.labels.unwrap_or_default();
        // `removeEmptyLabels`: an empty value is the same as no label.
        labels.retain(|_, v| !v.is_empty());
        let starts_at = p.starts_at.or(p.ends_at).unwrap_or(now_ms);
        let (ends_at, timeout) = match p.ends_at {
            Some(e) => (e, false),
            None => (now_ms + resolve_timeout_ms, true),
        };
        if ends_at > now_ms {
            out.firing += 1;
        } else {
            out.resolved += 1;
        }
        // `model.Alert.Validate`, in its order.
        let err = if ends_at < starts_at {
            Some("start time must be before end time".to_string())
        } else if let Some(e) = invalid_name(&labels) {
            Some(format!("invalid label set: {e}"))
        } else if labels.is_empty() {
            Some("at least one label pair required".to_string())
        } else {
            invalid_name(&p.annotations).map(|e| format!("invalid annotations: {e}"))
        };
        match err {
            Some(e) => out.errors.push(e),
            None => out.valid.push(Alert {
                labels,
                annotations: p.annotations,
                starts_at,
                ends_at: Some(ends_at),
                generator_url: p.generator_url,
                updated_at: now_ms,
                timeout,
            }),
        }
    }
    out
}

/// A posted silence after decoding and the schema's checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PostedSilence {
    pub(crate) id: String,
    pub(crate) matchers: Vec<ApiMatcher>,
    pub(crate) starts_at: i64,
    pub(crate) ends_at: i64,
    pub(crate) created_by: String,
    pub(crate) comment: String,
    pub(crate) until_resolved: bool,
}

/// Decodes and schema-checks `POST /api/v2/silences`'s body (`PostableSilence`).
pub(crate) fn postable_silence(body: &[u8]) -> Result<PostedSilence, ApiError> {
    let v = match decode_body(body) {
        Ok(Some(Value::Null)) | Ok(None) => return Err(ApiError::required("silence")),
        Ok(Some(v)) => v,
        Err(e) => return Err(ApiError::parse("silence", e)),
    };
    let Value::Object(o) = &v else {
        return Err(ApiError::parse(
            "silence",
            format!(
                "json: cannot unmarshal {} into Go value of type struct {{ ID string \"json:\\\"id,omitempty\\\"\" }}",
                go_kind(&v)
            ),
        ));
    };
    let parse = |e: String| ApiError::parse("silence", e);
    let id = string_field(field(o, "id"), "PostableSilence", "id")
        .map_err(parse)?
        .unwrap_or_default();
    let comment = string_field(field(o, "comment"), "Silence", "comment").map_err(parse)?;
    let created_by = string_field(field(o, "createdBy"), "Silence", "createdBy").map_err(parse)?;
    let starts_at = time_field(
        field(o, "startsAt"),
        "Silence",
        "startsAt",
        parse_strfmt_date_time,
    )
    .map_err(parse)?;
    let ends_at = time_field(
        field(o, "endsAt"),
        "Silence",
        "endsAt",
        parse_strfmt_date_time,
    )
    .map_err(parse)?;
    let until_resolved = bool_field(
        field(o, "untilResolved"),
        "PostableSilence",
        "untilResolved",
    )
    .map_err(parse)?
    .unwrap_or(false);
    // Matchers: `null` or absent is "required"; each element's fields are checked below.
    type RawMatcher = (Option<String>, Option<String>, Option<bool>, Option<bool>);
    let matchers: Option<Vec<RawMatcher>> = match field(o, "matchers") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|m| match m {
                    Value::Object(m) => Ok((
                        string_field(field(m, "name"), "Matcher", "name")?,
                        string_field(field(m, "value"), "Matcher", "value")?,
                        bool_field(field(m, "isRegex"), "Matcher", "isRegex")?,
                        bool_field(field(m, "isEqual"), "Matcher", "isEqual")?,
                    )),
                    Value::Null => Ok((None, None, None, None)),
                    other => Err(format!(
                        "json: cannot unmarshal {} into Go struct field Silence.matchers of type models.Matcher",
                        go_kind(other)
                    )),
                })
                .collect::<Result<Vec<_>, String>>()
                .map_err(parse)?,
        ),
        Some(other) => {
            return Err(parse(type_error(
                other,
                "Silence",
                "matchers",
                "models.Matchers",
            )))
        }
    };
    // The schema, in go-swagger's field order: comment, createdBy, endsAt, matchers,
    // startsAt. A time of Go's zero value counts as given.
    let Some(comment) = comment else {
        return Err(ApiError::required("comment"));
    };
    let Some(created_by) = created_by else {
        return Err(ApiError::required("createdBy"));
    };
    if field(o, "endsAt").is_none_or(Value::is_null) {
        return Err(ApiError::required("endsAt"));
    }
    let Some(raw) = matchers else {
        return Err(ApiError::required("matchers"));
    };
    if raw.is_empty() {
        return Err(ApiError::Swagger {
            status: 422,
            code: 612,
            message: "matchers in body should have at least 1 items".into(),
        });
    }
    let mut out = Vec::with_capacity(raw.len());
    for (i, (name, value, is_regex, is_equal)) in raw.into_iter().enumerate() {
        let Some(is_regex) = is_regex else {
            return Err(ApiError::required(&format!("matchers.{i}.isRegex")));
        };
        let Some(name) = name else {
            return Err(ApiError::required(&format!("matchers.{i}.name")));
        };
        let Some(value) = value else {
            return Err(ApiError::required(&format!("matchers.{i}.value")));
        };
        out.push(ApiMatcher {
            name,
            value,
            is_regex,
            is_equal: is_equal.unwrap_or(true),
        });
    }
    if field(o, "startsAt").is_none_or(Value::is_null) {
        return Err(ApiError::required("startsAt"));
    }
    // Go's zero time where one was given as such.
    const GO_ZERO_MS: i64 = -62_135_596_800_000;
    Ok(PostedSilence {
        id,
        matchers: out,
        starts_at: starts_at.unwrap_or(GO_ZERO_MS),
        ends_at: ends_at.unwrap_or(GO_ZERO_MS),
        created_by,
        comment,
        until_resolved,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_as_go_parses_them() {
        assert!(go_parses_url("http://prom/graph?g0.expr=up"));
        assert!(go_parses_url("/relative/path"));
        assert!(go_parses_url("mailto:x@y"));
        assert!(!go_parses_url("::not a url"));
        assert!(!go_parses_url("a b:c"));
        assert!(!go_parses_url("http://x/%zz"));
        assert!(!go_parses_url("http://x/\n"));
    }

    #[test]
    fn date_times_as_strfmt_parses_them() {
        let ms = |s: &str| parse_strfmt_date_time(s).unwrap().unwrap();
        let base = ms("2026-12-05T01:02:03Z");
        assert_eq!(base, 1_796_432_523_000);
        assert_eq!(ms("2026-12-05T01:02:03.250Z"), base + 250);
        assert_eq!(ms("2026-12-05T02:02:03+01:00"), base);
        assert_eq!(ms("2026-12-05T02:02:03+0100"), base);
        assert_eq!(ms("2026-12-05T01:02:03"), base);
        assert_eq!(ms("2026-12-05 01:02:03"), base);
        assert_eq!(ms("2026-12-05T01:02Z"), base - 3000);
        assert_eq!(ms("2026-12-05T01:02"), base - 3000);
        assert_eq!(parse_strfmt_date_time("0001-01-01T00:00:00.000Z"), Ok(None));
        assert_eq!(
            parse_strfmt_date_time("yesterday").unwrap_err(),
            r#"parsing time "yesterday" as "2006-01-02 15:04:05": cannot parse "yesterday" as "2006""#
        );
    }

    #[test]
    fn label_names_as_prometheus_0_38() {
        assert!(valid_label_name("alertname"));
        assert!(valid_label_name("_a1"));
        assert!(!valid_label_name("0bad"));
        assert!(!valid_label_name("a:b"));
        assert!(!valid_label_name(""));
    }
}
