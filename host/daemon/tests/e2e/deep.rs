//! Issue 13: no request ends the process. Every deeply nested query shape, at 1,000 levels
//! (answered, as Prometheus answers it) and at 100,000 (rejected with `bad_data`), goes to
//! every endpoint that parses PromQL; after each request the daemon is alive and
//! `/-/healthy` answers within 2 s.

use std::time::{Duration, Instant};

use crate::support::{http_get, http_request, urlencode, Daemon};

/// A shape's name and a builder of the query nested `n` levels deep.
type Shape = (&'static str, fn(usize) -> String);

fn shapes() -> Vec<Shape> {
    vec![
        ("parentheses", |n| {
            format!("{}up{}", "(".repeat(n), ")".repeat(n))
        }),
        ("power chain", |n| format!("{}1", "2^".repeat(n))),
        ("negated parentheses", |n| {
            format!("{}up{}", "-(".repeat(n), ")".repeat(n))
        }),
        ("unary minus", |n| format!("{}up", "-".repeat(n))),
        ("abs", |n| {
            format!("{}up{}", "abs(".repeat(n), ")".repeat(n))
        }),
        ("sum", |n| {
            format!("{}up{}", "sum(".repeat(n), ")".repeat(n))
        }),
        ("or chain", |n| format!("{}up", "up or ".repeat(n))),
        ("and chain", |n| format!("{}up", "up and ".repeat(n))),
        ("plus chain", |n| format!("{}up", "up + ".repeat(n))),
        ("subquery nesting", |n| {
            format!("{}up{}", "max_over_time(".repeat(n), "[1m:])".repeat(n))
        }),
        ("duration chain", |n| {
            format!("up offset ({}0s)", "0s + ".repeat(n))
        }),
        ("subquery suffixes", |n| format!("up{}", "[1m:]".repeat(n))),
    ]
}

/// The endpoints that parse PromQL, each as (method, path, body) for a query `q`.
fn requests(q: &str) -> Vec<(&'static str, String, String)> {
    let e = urlencode(q);
    let now = 1_700_000_000;
    vec![
        ("POST", "/api/v1/query".into(), format!("query={e}")),
        (
            "POST",
            "/api/v1/query_range".into(),
            format!("query={e}&start={}&end={now}&step=60", now - 600),
        ),
        ("POST", "/api/v1/format_query".into(), format!("query={e}")),
        (
            "POST",
            "/api/v1/query_exemplars".into(),
            format!("query={e}"),
        ),
        ("POST", "/api/v1/series".into(), format!("match[]={e}")),
        ("POST", "/api/v1/labels".into(), format!("match[]={e}")),
        (
            "GET",
            format!("/api/v1/label/__name__/values?match[]={e}"),
            String::new(),
        ),
    ]
}

fn assert_alive(d: &mut Daemon, what: &str) {
    if let Ok(Some(st)) = d.child.try_wait() {
        panic!("the daemon exited ({st}) after {what}");
    }
    let t = Instant::now();
    let (code, _) =
        http_get(&d.addr, "/-/healthy").unwrap_or_else(|e| panic!("/-/healthy after {what}: {e}"));
    assert_eq!(code, 200, "/-/healthy after {what}");
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "/-/healthy took {:?} after {what}",
        t.elapsed()
    );
}

#[test]
fn deep_queries_never_end_the_process() {
    let mut d = Daemon::start(None, &[]);
    for (name, build) in shapes() {
        for depth in [1_000, 100_000] {
            let q = build(depth);
            for (method, path, body) in requests(&q) {
                let what = format!(
                    "{name} at {depth} levels to {method} {}",
                    &path[..24.min(path.len())]
                );
                let (code, text) = http_request(
                    &d.addr,
                    method,
                    &path,
                    &[("Content-Type", "application/x-www-form-urlencoded")],
                    body.as_bytes(),
                )
                .unwrap_or_else(|e| panic!("{what}: {e}"));
                let query_like = path.contains("/query") || path.contains("/format_query");
                match (depth, query_like) {
                    // Answered as Prometheus answers it, except the shapes that are type
                    // errors whatever their depth.
                    (1_000, true) if name != "subquery suffixes" => {
                        assert_eq!(code, 200, "{what}: {text}")
                    }
                    // Past the nesting limit: Prometheus' bad_data with a position. A GET
                    // whose URL is too big for the header limit is refused before parsing.
                    (100_000, _) if method == "GET" => {
                        assert!([400, 414, 431].contains(&code), "{what}: {code}")
                    }
                    (100_000, _) => {
                        assert_eq!(code, 400, "{what}: {text}");
                        assert!(
                            text.contains("\"errorType\":\"bad_data\""),
                            "{what}: {text}"
                        );
                    }
                    _ => assert_eq!(code, 400, "{what}: {text}"),
                }
                if depth == 100_000
                    && code == 400
                    && name != "subquery suffixes"
                    && method == "POST"
                {
                    assert!(text.contains("nested too deeply"), "{what}: {text}");
                }
                assert_alive(&mut d, &what);
            }
        }
    }
}
