//! Request parameters as Go's `r.Form`: the query string merged with a form-encoded POST body,
//! repeated keys kept in order; plus Prometheus' time and duration parsing.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};

use crate::ApiError;

/// Merged request parameters.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params(Vec<(String, String)>);

/// Extracts the merged parameters; a body that cannot be read is a 400 `bad_data`.
impl<S: Send + Sync> axum::extract::FromRequest<S> for Params {
    type Rejection = axum::response::Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let (method, uri, headers) = (
            req.method().clone(),
            req.uri().clone(),
            req.headers().clone(),
        );
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            // A body over the limit is 413, as the HTTP layer answers for a declared length.
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                return crate::routes::too_large();
            }
            ApiError::bad_data(format!("error parsing form values: {e}")).into_response()
        })?;
        Ok(Params::from_parts(&method, &uri, &headers, &body))
    }
}

impl Params {
    pub(crate) fn from_parts(
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Params {
        let mut v: Vec<(String, String)> = Vec::new();
        // Go's ParseForm puts body values before query values.
        let is_form = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|c| c.to_str().ok())
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
        if (method == Method::POST || method == Method::PUT) && is_form {
            v.extend(url::form_urlencoded::parse(body).into_owned());
        }
        if let Some(q) = uri.query() {
            v.extend(url::form_urlencoded::parse(q.as_bytes()).into_owned());
        }
        Params(v)
    }

    /// The first value of `key` (Go's `FormValue`).
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All values of `key`.
    pub(crate) fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `limit`: non-negative integer, 0 or absent = unlimited.
    pub(crate) fn limit(&self) -> Result<usize, ApiError> {
        match self.get("limit") {
            None | Some("") => Ok(0),
            Some(s) => {
                let n: i64 = s.parse().map_err(|_| {
                    ApiError::bad_data(format!(
                        "invalid parameter \"limit\": cannot parse {s:?} to a valid limit"
                    ))
                })?;
                if n < 0 {
                    return Err(ApiError::bad_data("limit must be non-negative"));
                }
                Ok(n as usize)
            }
        }
    }
}

/// Prometheus' MinTime / MaxTime (ms) used for "unbounded".
pub(crate) const MIN_TIME_MS: i64 = i64::MIN / 1_000_000 / 2;
pub(crate) const MAX_TIME_MS: i64 = i64::MAX / 1_000_000 / 2;

/// Parses `<rfc3339 | unix_timestamp>` into milliseconds (float seconds rounded to ms).
pub(crate) fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        if f.is_finite() {
            let secs = f.trunc();
            let frac = ((f - secs) * 1000.0).round();
            return Ok(secs as i64 * 1000 + frac as i64);
        }
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    // Clients use the RFC3339 rendering of Go's min/max times to mean "unbounded".
    match s {
        "-292273086-05-16T16:47:06Z" => return Ok(MIN_TIME_MS),
        "292277025-08-18T07:12:54.999999999Z" => return Ok(MAX_TIME_MS),
        _ => {}
    }
    Err(format!("cannot parse {s:?} to a valid timestamp"))
}

/// Parses `<duration>`: float seconds or a Prometheus duration string, into milliseconds.
pub(crate) fn parse_duration_ms(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        let ms = f * 1000.0;
        if !ms.is_finite() || ms >= i64::MAX as f64 || ms <= i64::MIN as f64 {
            return Err(format!(
                "cannot parse {s:?} to a valid duration. It overflows int64"
            ));
        }
        return Ok(ms.round() as i64);
    }
    sightline_model::parse_duration(s)
        .map(|d| d.as_millis() as i64)
        .map_err(|_| format!("cannot parse {s:?} to a valid duration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1435781451.781").unwrap(), 1_435_781_451_781);
        assert_eq!(parse_time("1435781451").unwrap(), 1_435_781_451_000);
        assert_eq!(
            parse_time("2015-07-01T20:10:51.781Z").unwrap(),
            1_435_781_451_781
        );
        assert_eq!(
            parse_time("2015-07-01T22:10:51+02:00").unwrap(),
            1_435_781_451_000
        );
        assert!(parse_time("x")
            .unwrap_err()
            .contains("cannot parse \"x\" to a valid timestamp"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("15").unwrap(), 15_000);
        assert_eq!(parse_duration_ms("0.5").unwrap(), 500);
        assert_eq!(parse_duration_ms("1h30m").unwrap(), 5_400_000);
        assert!(parse_duration_ms("1.5m").is_err());
    }
}
