//! Serialization helpers for [`crate::Config::redacted_yaml`].

use std::time::Duration;

use serde::ser::SerializeMap;
use serde::Serializer;
use sightline_model::Labels;

pub(crate) fn dur<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&sightline_model::format_duration(*d))
}

pub(crate) fn opt_url<S: Serializer>(u: &Option<url::Url>, s: S) -> Result<S::Ok, S::Error> {
    match u {
        Some(u) => url(u, s),
        None => s.serialize_none(),
    }
}

/// A URL as Prometheus prints a configured one: the userinfo password as `xxxxx`.
pub(crate) fn url<S: Serializer>(u: &url::Url, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::http::redact_url_passwords(u.as_str()))
}

/// A URL kept as written (`oauth2.token_url`), printed with its password redacted.
pub(crate) fn url_text<S: Serializer>(u: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::http::redact_url_passwords(u))
}

pub(crate) fn labels<S: Serializer>(l: &Labels, s: S) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(l.len()))?;
    for l in l {
        m.serialize_entry(&l.name, &l.value)?;
    }
    m.end()
}

pub(crate) fn bytes<S: Serializer>(b: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::de::format_bytes(*b))
}

pub(crate) fn is_zero(v: &u64) -> bool {
    *v == 0
}
