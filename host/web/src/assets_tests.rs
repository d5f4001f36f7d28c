#![allow(clippy::disallowed_methods)] // Test code reads and writes files directly.

use super::*;
use axum::http::HeaderValue;
use http_body_util::BodyExt;
use std::io::Read as _;
use tower::ServiceExt;

async fn get(router: &Router, uri: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, Vec<u8>) {
    let mut req = Request::builder().uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let code = resp.status().as_u16();
    let h = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (code, h, body)
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A UI of three files, independent of what `ui/` holds.
static TABLE: &[(&str, &[u8])] = &[
    (
        "index.html",
        b"<!doctype html><html><head><base href=\"/\"><link rel=\"stylesheet\" \
          href=\"css/app.css\"><script type=\"module\" src=\"js/app.js\"></script></head></html>\n",
    ),
    ("js/app.js", include_bytes!("../tests/data/app.js")),
    ("css/app.css", b"body { color: black; }\n"),
];

const APP_JS: &[u8] = include_bytes!("../tests/data/app.js");

fn embedded(base: &str) -> Router {
    router_over(
        UiOptions {
            base_path: base.into(),
            dev_dir: None,
        },
        WebMetrics::unregistered(),
        TABLE,
    )
}

#[test]
fn every_ui_file_is_embedded() {
    let mut on_disk = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    fn walk(root: &Path, d: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            if name.starts_with('.') || name.ends_with('~') {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_str().unwrap();
                out.push(rel.replace('\\', "/"));
            }
        }
    }
    walk(&root, &root, &mut on_disk);
    on_disk.sort();
    let table: Vec<String> = EMBEDDED.iter().map(|(p, _)| p.to_string()).collect();
    assert_eq!(table, on_disk);
    assert!(table.contains(&"index.html".to_string()));
}

#[tokio::test]
async fn index_has_the_base_and_is_no_cache() {
    for (base, want) in [("/", "/"), ("/foo/bar", "/foo/bar/"), ("/x/", "/x/")] {
        let r = embedded(base);
        for path in [
            "/",
            "/index.html",
            "/d/abc/service-health",
            "/graph",
            "/nope/deeper",
        ] {
            let (code, h, body) = get(&r, path, &[]).await;
            assert_eq!(code, 200, "{path}");
            assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
            assert_eq!(h[header::CACHE_CONTROL], "no-cache");
            let html = String::from_utf8(body).unwrap();
            assert!(
                html.contains(&format!("<base href=\"{want}\">")),
                "{base} {path}: {html}"
            );
            assert!(!html.contains("<base href=\"/\">") || want == "/");
        }
    }
}

#[tokio::test]
async fn files_are_gzipped_etagged_and_revalidated() {
    let r = embedded("/");
    let raw = APP_JS.to_vec();
    let (code, h, body) = get(&r, "/js/app.js", &[]).await;
    assert_eq!(code, 200);
    assert_eq!(body, raw);
    assert_eq!(h[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert!(h.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(h[header::CACHE_CONTROL], "no-cache");
    let etag = h[header::ETAG].to_str().unwrap().to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong: {etag}"
    );

    let (code, h, gz) = get(&r, "/js/app.js", &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(code, 200);
    assert_eq!(h[header::CONTENT_ENCODING], "gzip");
    assert_eq!(h[header::VARY], "Accept-Encoding");
    assert!(gz.len() < raw.len());
    assert_eq!(gunzip(&gz), raw);
    let gz_etag = h[header::ETAG].to_str().unwrap().to_string();
    assert_ne!(gz_etag, etag, "each representation has its own tag");

    // Either tag revalidates; a refused gzip gets identity.
    for tag in [&etag, &gz_etag] {
        let (code, h, body) = get(&r, "/js/app.js", &[("if-none-match", tag)]).await;
        assert_eq!(code, 304);
        assert!(body.is_empty());
        assert_eq!(h[header::ETAG].to_str().unwrap(), etag);
    }
    let (code, _, _) = get(&r, "/js/app.js", &[("if-none-match", "\"other\"")]).await;
    assert_eq!(code, 200);
    let (_, h, _) = get(
        &r,
        "/js/app.js",
        &[("accept-encoding", "gzip;q=0, deflate")],
    )
    .await;
    assert!(h.get(header::CONTENT_ENCODING).is_none());

    // The hash-addressed URL is immutable; a stale hash is not.
    let hash = etag.trim_matches('"');
    let (_, h, _) = get(&r, &format!("/js/app.js?v={hash}"), &[]).await;
    assert_eq!(h[header::CACHE_CONTROL], IMMUTABLE);
    let (_, h, _) = get(&r, "/js/app.js?v=0000", &[]).await;
    assert_eq!(h[header::CACHE_CONTROL], "no-cache");

    // index.html too: gzip, and 304 on its tag.
    let (_, h, _) = get(&r, "/alerts", &[("accept-encoding", "gzip")]).await;
    assert_eq!(h[header::CONTENT_ENCODING], "gzip");
    let tag = h[header::ETAG].to_str().unwrap().to_string();
    let (code, _, _) = get(&r, "/silences?new=1", &[("if-none-match", &tag)]).await;
    assert_eq!(code, 304);
    // The index refers to the files by their hash, and maps every module to it.
    let (_, _, body) = get(&r, "/", &[]).await;
    let html = String::from_utf8(body).unwrap();
    assert!(
        html.contains(&format!("src=\"js/app.js?v={hash}\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!("\"./js/app.js\":\"./js/app.js?v={hash}\"")),
        "{html}"
    );
    // A missing file under a directory of files is 404, not the app.
    assert_eq!(get(&r, "/js/missing.js", &[]).await.0, 404);
    assert_eq!(get(&r, "/css", &[]).await.0, 404);
    let (code, _, body) = get(&r, "/api/dashboards/uid/x/nope", &[]).await;
    assert_eq!(
        (code, body.as_slice()),
        (404, &br#"{"message":"Not found"}"#[..])
    );
}

#[test]
fn index_references_become_hash_addressed() {
    let raw = "<html><head><base href=\"/\"><link rel=\"stylesheet\" href=\"css/app.css\">\
               <script type=\"module\" src=\"js/app.js\"></script></head></html>";
    let html = render_index(
        raw,
        "/p/",
        &[
            ("css/app.css", "c1"),
            ("js/app.js", "a1"),
            ("js/lib/api.js", "b2"),
        ],
    );
    assert!(html.contains("<base href=\"/p/\">"), "{html}");
    assert!(html.contains("href=\"css/app.css?v=c1\""), "{html}");
    assert!(html.contains("src=\"js/app.js?v=a1\""), "{html}");
    let map_start = html.find("<script type=\"importmap\">").unwrap();
    let base_at = html.find("<base").unwrap();
    assert!(base_at < map_start, "the import map follows the base");
    let open = "<script type=\"importmap\">".len();
    let json = &html[map_start + open..html[map_start..].find("</script>").unwrap() + map_start];
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(v["imports"]["./js/lib/api.js"], "./js/lib/api.js?v=b2");
    assert!(v["imports"].get("./css/app.css").is_none());
    // No base tag: served unchanged.
    assert_eq!(render_index("<html></html>", "/p/", &[]), "<html></html>");
}

#[tokio::test]
async fn missing_files_under_asset_dirs_are_404_and_other_methods_405() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("js")).unwrap();
    std::fs::write(dir.path().join("js/app.js"), "export default 1;\n").unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<html><base href=\"/\">dev</html>",
    )
    .unwrap();
    let r = ui_router(
        UiOptions {
            base_path: "/ext/".into(),
            dev_dir: Some(dir.path().to_path_buf()),
        },
        WebMetrics::unregistered(),
    );
    assert_eq!(get(&r, "/js/missing.js", &[]).await.0, 404);
    assert_eq!(get(&r, "/js/../index.html", &[]).await.0, 404);
    let (code, h, body) = get(&r, "/js/app.js", &[]).await;
    assert_eq!(code, 200);
    assert_eq!(h[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert_eq!(h[header::CACHE_CONTROL], "no-store");
    assert_eq!(body, b"export default 1;\n");
    let (code, _, body) = get(&r, "/targets", &[]).await;
    assert_eq!(code, 200);
    assert_eq!(body, b"<html><base href=\"/ext/\">dev</html>");
    // Read on each request: an edit shows at once.
    std::fs::write(dir.path().join("js/app.js"), "export default 2;\n").unwrap();
    assert_eq!(get(&r, "/js/app.js", &[]).await.2, b"export default 2;\n");

    let req = Request::builder()
        .method("POST")
        .uri("/")
        .body(Body::empty())
        .unwrap();
    let resp = r.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        resp.headers()[header::ALLOW],
        HeaderValue::from_static("GET, HEAD")
    );
}

#[test]
fn accept_encoding_parsing() {
    let h = |v: &str| {
        let mut m = HeaderMap::new();
        m.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        accepts_gzip(&m)
    };
    assert!(h("gzip"));
    assert!(h("deflate, gzip;q=0.5"));
    assert!(h("*"));
    assert!(!h("gzip;q=0"));
    assert!(!h("*, gzip;q=0"));
    assert!(!h("br"));
    assert!(!accepts_gzip(&HeaderMap::new()));
}

#[test]
fn base_normalization() {
    assert_eq!(normalize_base(""), "/");
    assert_eq!(normalize_base("/"), "/");
    assert_eq!(normalize_base("/a/b"), "/a/b/");
    assert_eq!(normalize_base("a/b/"), "/a/b/");
}

/// Compressing at startup costs little: measured on a synthetic 620 KiB of JavaScript-like
/// text (more than the UI holds), printed for the record.
#[test]
fn startup_compression_cost() {
    let text: String = (0..12_000)
        .map(|i| format!("export function f{i}(a, b) {{ return a + b * {i}; }}\n"))
        .collect();
    let started = std::time::Instant::now();
    let a = Asset::new("big.js", Bytes::from(text.clone()));
    let took = started.elapsed();
    let gz = a.gzip.unwrap();
    eprintln!(
        "gzip best of {} bytes -> {} bytes in {took:?}",
        text.len(),
        gz.len()
    );
    assert_eq!(gunzip(&gz), text.as_bytes());
}
