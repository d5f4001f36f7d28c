//! Cross-origin headers as Alertmanager 0.25 sends them: API v2 is wrapped in `rs/cors`'
//! default policy (any origin; GET, POST and HEAD; the headers Origin, Accept, Content-Type
//! and X-Requested-With), API v1 sets fixed headers on every answer (`setCORS`).

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

const ALLOWED_METHODS: [&str; 3] = ["GET", "POST", "HEAD"];
const ALLOWED_HEADERS: [&str; 4] = ["Origin", "Accept", "Content-Type", "X-Requested-With"];

/// Go's `http.CanonicalHeaderKey`: each dash-separated word capitalised.
fn canonical(h: &str) -> String {
    h.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn value(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `cors.Default().Handler` around API v2.
pub(super) async fn v2(req: Request, next: Next) -> Response {
    let origin = value(req.headers(), header::ORIGIN).filter(|o| !o.is_empty());
    let preflight_method =
        value(req.headers(), header::ACCESS_CONTROL_REQUEST_METHOD).filter(|m| !m.is_empty());
    if req.method() == Method::OPTIONS {
        if let Some(method) = preflight_method {
            return preflight(req.headers(), origin, &method);
        }
    }
    let method_allowed = ALLOWED_METHODS.contains(&req.method().as_str());
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if origin.is_some() && method_allowed {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    resp
}

/// `handlePreflight`: the answer is an empty 200; the allow headers only when the origin,
/// method and headers asked for are all allowed.
fn preflight(headers: &HeaderMap, origin: Option<String>, method: &str) -> Response {
    let mut resp = StatusCode::OK.into_response();
    let h = resp.headers_mut();
    for v in [
        "Origin",
        "Access-Control-Request-Method",
        "Access-Control-Request-Headers",
    ] {
        h.append(header::VARY, HeaderValue::from_static(v));
    }
    let method = method.to_ascii_uppercase();
    if origin.is_none() || !(method == "OPTIONS" || ALLOWED_METHODS.contains(&method.as_str())) {
        return resp;
    }
    let requested: Vec<String> = value(headers, header::ACCESS_CONTROL_REQUEST_HEADERS)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(canonical)
        .collect();
    if !requested
        .iter()
        .all(|r| ALLOWED_HEADERS.contains(&r.as_str()))
    {
        return resp;
    }
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if let Ok(v) = HeaderValue::from_str(&method) {
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, v);
    }
    if !requested.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&requested.join(", ")) {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
        }
    }
    resp
}

/// API v1's `setCORS` and the no-cache header its answers carry.
pub(super) fn v1_headers(resp: &mut Response) {
    let h = resp.headers_mut();
    for (name, v) in [
        (
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "Accept, Authorization, Content-Type, Origin",
        ),
        (
            header::ACCESS_CONTROL_ALLOW_METHODS,
            "GET, POST, DELETE, OPTIONS",
        ),
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        (header::ACCESS_CONTROL_EXPOSE_HEADERS, "Date"),
        (header::CACHE_CONTROL, "no-cache, no-store, must-revalidate"),
    ] {
        h.insert(name, HeaderValue::from_static(v));
    }
}

/// `OPTIONS /api/v1/...`: an empty 200 with v1's headers.
pub(super) async fn v1_options() -> Response {
    let mut resp = StatusCode::OK.into_response();
    v1_headers(&mut resp);
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_names_canonicalised_as_go() {
        assert_eq!(super::canonical("content-type"), "Content-Type");
        assert_eq!(super::canonical("X-REQUESTED-WITH"), "X-Requested-With");
    }
}
