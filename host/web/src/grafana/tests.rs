#![allow(clippy::disallowed_methods)] // Test code reads and writes files directly.

use super::dashboards::{plugin_id, slug, WithId};
use super::*;
use axum::body::Body;
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::metrics::WebMetrics;

/// The seed's "Service Health" dashboard exactly as its setup script posts it.
const SEED: &str = include_str!("../../tests/data/service-health.json");

struct Fx {
    dir: tempfile::TempDir,
    router: Router,
}

fn plugin_source() -> DashboardSource {
    Arc::new(|| {
        Box::pin(async {
            vec![Dashboard {
                plugin: "dashboard-node".into(),
                uid: "node".into(),
                title: "Node".into(),
                tags: vec!["node".into()],
                model: Arc::new(json!({"uid": "node", "title": "Node", "id": 7, "panels": []})),
            }]
        })
    })
}

fn router_in(dir: &std::path::Path) -> Router {
    let store = DashboardStore::open(dir.join("dashboards"), WebMetrics::unregistered()).unwrap();
    grafana_router(GrafanaOptions {
        store: Arc::new(store),
        plugins: {
            let slot = PluginDashboards::new();
            slot.set(plugin_source());
            slot
        },
        external_url: "http://example.com/sub".into(),
        base_path: "/sub/".into(),
        version: "1.2.3".into(),
        commit: "abc".into(),
    })
}

fn fixture() -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let router = router_in(dir.path());
    Fx { dir, router }
}

async fn call(r: &Router, method: &str, uri: &str, body: Option<Value>) -> (u16, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(match body {
            Some(b) => Body::from(b.to_string()),
            None => Body::empty(),
        })
        .unwrap();
    let resp = r.clone().oneshot(req).await.unwrap();
    let code = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn health_and_datasources() {
    let f = fixture();
    let (code, v) = call(&f.router, "GET", "/api/health", None).await;
    assert_eq!(code, 200);
    assert_eq!(
        v,
        json!({"commit": "abc", "database": "ok", "version": "1.2.3"})
    );
    // The seed's body.
    let seed = json!({"name": "Prometheus", "type": "prometheus", "url": "http://prometheus:9090",
                      "access": "proxy", "isDefault": true});
    let (code, v) = call(&f.router, "POST", "/api/datasources", Some(seed.clone())).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["message"], "Datasource added");
    assert_eq!(v["name"], "Prometheus");
    assert_eq!(v["id"], 2);
    assert_eq!(v["datasource"]["url"], "http://prometheus:9090");
    assert_eq!(v["datasource"]["isDefault"], false);
    let (code, v) = call(&f.router, "POST", "/api/datasources", Some(seed)).await;
    assert_eq!(code, 409);
    assert_eq!(
        v["message"],
        "data source with the same name already exists"
    );
    let (code, _) = call(
        &f.router,
        "POST",
        "/api/datasources",
        Some(json!({"type": "x"})),
    )
    .await;
    assert_eq!(code, 400);
    let (_, v) = call(&f.router, "GET", "/api/datasources", None).await;
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["name"], "Sightline");
    assert_eq!(list[0]["isDefault"], true);
    assert_eq!(list[0]["url"], "http://example.com/sub");
    assert_eq!(list[1]["name"], "Prometheus");
}

#[tokio::test]
async fn the_seeds_bare_dashboard_saves_and_reads_back() {
    let f = fixture();
    let body: Value = serde_json::from_str(SEED).unwrap();
    let (code, v) = call(&f.router, "POST", "/api/dashboards/db", Some(body.clone())).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["status"], "success");
    assert_eq!(v["version"], 1);
    assert_eq!(v["id"], 1);
    assert_eq!(v["slug"], "service-health");
    let uid = v["uid"].as_str().unwrap().to_string();
    assert!((9..=14).contains(&uid.len()), "{uid}");
    assert_eq!(v["url"], format!("/sub/d/{uid}/service-health"));

    let (code, v) = call(
        &f.router,
        "GET",
        &format!("/api/dashboards/uid/{uid}"),
        None,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(v["dashboard"]["panels"].as_array().unwrap().len(), 4);
    assert_eq!(
        v["dashboard"]["panels"][1]["targets"][0]["expr"],
        body["panels"][1]["targets"][0]["expr"]
    );
    assert_eq!(v["dashboard"]["uid"], uid.as_str());
    assert_eq!(v["dashboard"]["version"], 1);
    assert_eq!(v["meta"]["canSave"], true);
    assert_eq!(v["meta"]["provisioned"], false);
    assert_eq!(v["meta"]["slug"], "service-health");
    assert_eq!(v["meta"]["url"], format!("/sub/d/{uid}/service-health"));

    // Posting the same bare body again: the same title, no uid → name-exists.
    let (code, v) = call(&f.router, "POST", "/api/dashboards/db", Some(body)).await;
    assert_eq!(code, 412);
    assert_eq!(v["status"], "name-exists");

    // Search lists it beside the plugin's, sorted by title.
    let (_, v) = call(&f.router, "GET", "/api/search?type=dash-db", None).await;
    let titles: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Node", "Service Health"]);
    assert_eq!(v[1]["uri"], "db/service-health");
    assert_eq!(v[1]["type"], "dash-db");
    assert_eq!(v[1]["isStarred"], false);
    assert_eq!(v[0]["id"], plugin_id("node"));
    let (_, v) = call(&f.router, "GET", "/api/search?query=HEALTH", None).await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    let (_, v) = call(&f.router, "GET", "/api/search?tag=node", None).await;
    assert_eq!(v[0]["uid"], "node");
    let (_, v) = call(
        &f.router,
        "GET",
        &format!("/api/search?dashboardUIDs={uid}"),
        None,
    )
    .await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    let (_, v) = call(&f.router, "GET", "/api/search?limit=1", None).await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    let (_, v) = call(&f.router, "GET", "/api/search?type=dash-folder", None).await;
    assert_eq!(v, json!([]));
}

#[tokio::test]
async fn versions_overwrite_and_conflicts_as_grafana() {
    let f = fixture();
    let r = &f.router;
    let post = |d: Value| call(r, "POST", "/api/dashboards/db", Some(d));
    let (code, v) = post(json!({"dashboard": {"uid": "u1", "title": "A"}, "message": "m"})).await;
    assert_eq!((code, v["version"].clone()), (200, json!(1)), "{v}");
    assert_eq!(v["uid"], "u1");
    // The stored version: accepted, bumped.
    let (code, v) = post(json!({"dashboard": {"uid": "u1", "title": "A", "version": 1}})).await;
    assert_eq!((code, v["version"].clone()), (200, json!(2)));
    // Stale: 412 unless overwrite.
    let (code, v) = post(json!({"dashboard": {"uid": "u1", "title": "A", "version": 1}})).await;
    assert_eq!(code, 412);
    assert_eq!(
        v,
        json!({"message": "The dashboard has been changed by someone else", "status": "version-mismatch"})
    );
    let (code, v) =
        post(json!({"dashboard": {"uid": "u1", "title": "A2"}, "overwrite": true})).await;
    assert_eq!(
        (code, v["version"].clone(), v["id"].clone()),
        (200, json!(3), json!(1))
    );
    // Same title, other uid: name-exists; with overwrite it takes the other one over.
    let (code, v) = post(json!({"dashboard": {"uid": "u2", "title": "A2"}})).await;
    assert_eq!((code, v["status"].clone()), (412, json!("name-exists")));
    let (code, v) = post(json!({"dashboard": {"title": "A2"}, "overwrite": true})).await;
    assert_eq!(
        (code, v["uid"].clone(), v["version"].clone()),
        (200, json!("u1"), json!(4))
    );
    // Another folder may hold the title.
    let (code, v) =
        post(json!({"dashboard": {"uid": "u3", "title": "A2"}, "folderUid": "f"})).await;
    assert_eq!((code, v["id"].clone()), (200, json!(2)));
    // By id: unknown → 404; known → that dashboard.
    let (code, v) = post(json!({"dashboard": {"id": 99, "title": "Z"}})).await;
    assert_eq!(
        (code, v),
        (
            404,
            json!({"message": "Dashboard not found", "status": "not-found"})
        )
    );
    let (code, v) = post(json!({"dashboard": {"title": "M"}, "message": "x".repeat(501)})).await;
    assert_eq!(
        (code, v["message"].clone()),
        (400, json!("message too long, max 500 characters"))
    );
    let (code, v) =
        post(json!({"dashboard": {"id": 2, "title": "B", "version": 1}, "folderUid": "f"})).await;
    assert_eq!((code, v["uid"].clone()), (200, json!("u3")));
    // Bad input.
    for (body, msg) in [
        (
            json!({"dashboard": {"title": "  "}}),
            "Dashboard title cannot be empty",
        ),
        (json!({"dashboard": {}}), "Dashboard title cannot be empty"),
        (
            json!({"dashboard": {"uid": "a/b", "title": "T"}}),
            "uid contains illegal characters",
        ),
        (
            json!({"dashboard": {"uid": "x".repeat(41), "title": "T"}}),
            "uid too long, max 40 characters",
        ),
    ] {
        let (code, v) = post(body).await;
        assert_eq!((code, v["message"].clone()), (400, json!(msg)));
        if msg.starts_with("Dashboard title") {
            assert_eq!(v["status"], "empty-name");
        }
    }
    let req = Request::builder()
        .method("POST")
        .uri("/api/dashboards/db")
        .body(Body::from("not json"))
        .unwrap();
    assert_eq!(r.clone().oneshot(req).await.unwrap().status(), 400);
}

#[tokio::test]
async fn plugin_dashboards_are_read_only() {
    let f = fixture();
    let r = &f.router;
    let (code, v) = call(
        r,
        "POST",
        "/api/dashboards/db",
        Some(json!({"dashboard": {"uid": "node", "title": "Mine"}, "overwrite": true})),
    )
    .await;
    assert_eq!(
        (code, v["message"].clone()),
        (400, json!("Cannot save provisioned dashboard"))
    );
    let (code, v) = call(
        r,
        "POST",
        "/api/dashboards/db",
        Some(json!({"title": "Node"})),
    )
    .await;
    // A plugin's title does not block a stored dashboard's (the seed's "Service Health").
    assert_eq!(code, 200, "{v}");
    let (code, v) = call(r, "DELETE", "/api/dashboards/uid/node", None).await;
    assert_eq!(
        (code, v["message"].clone()),
        (400, json!("provisioned dashboard cannot be deleted"))
    );
    let (code, v) = call(r, "GET", "/api/dashboards/uid/node", None).await;
    assert_eq!(code, 200);
    assert_eq!(v["meta"]["provisioned"], true);
    assert_eq!(v["meta"]["canSave"], false);
    assert_eq!(v["dashboard"]["id"], plugin_id("node"));
    let (code, v) = call(r, "GET", "/api/dashboards/uid/none", None).await;
    assert_eq!((code, v), (404, json!({"message": "Dashboard not found"})));
}

#[tokio::test]
async fn deletes_and_survives_a_restart_skipping_a_corrupt_file() {
    let f = fixture();
    let post = |d: Value| call(&f.router, "POST", "/api/dashboards/db", Some(d));
    post(json!({"dashboard": {"uid": "keep", "title": "Keep", "tags": ["t"]}})).await;
    post(json!({"dashboard": {"uid": "keep", "title": "Keep", "version": 1, "tags": ["t"]}})).await;
    post(json!({"dashboard": {"uid": "gone", "title": "Gone"}})).await;
    let (code, v) = call(&f.router, "DELETE", "/api/dashboards/uid/gone", None).await;
    assert_eq!(code, 200);
    assert_eq!(
        v,
        json!({"id": 2, "message": "Dashboard Gone deleted", "title": "Gone"})
    );
    let (code, _) = call(&f.router, "DELETE", "/api/dashboards/uid/gone", None).await;
    assert_eq!(code, 404);

    let dir = f.dir.path().join("dashboards");
    std::fs::write(dir.join("broken.json"), b"{\"uid\": \"broken\", \"dash").unwrap();
    std::fs::write(dir.join("half.json.tmp"), b"{").unwrap();
    std::fs::write(
        dir.join("other.json"),
        b"{\"uid\":\"mismatch\",\"id\":5,\"version\":1,\"dashboard\":{\"title\":\"x\"}}",
    )
    .unwrap();
    let r = router_in(f.dir.path());
    let (code, v) = call(&r, "GET", "/api/dashboards/uid/keep", None).await;
    assert_eq!(code, 200);
    assert_eq!(v["dashboard"]["version"], 2);
    assert_eq!(v["meta"]["version"], 2);
    assert_eq!(v["dashboard"]["tags"], json!(["t"]));
    let (_, v) = call(&r, "GET", "/api/search", None).await;
    let uids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids, ["keep", "node"]);
    assert!(
        !dir.join("half.json.tmp").exists(),
        "an unfinished save is removed"
    );
    // Ids continue after the highest stored one.
    let (_, v) = call(
        &r,
        "POST",
        "/api/dashboards/db",
        Some(json!({"title": "New"})),
    )
    .await;
    assert_eq!(v["id"], 2);
}

#[tokio::test]
async fn cors_as_the_api() {
    let f = fixture();
    let req = Request::builder()
        .method("OPTIONS")
        .uri("/api/dashboards/db")
        .header("origin", "http://x")
        .body(Body::empty())
        .unwrap();
    let resp = f.router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
}

#[test]
fn model_is_served_with_the_given_id() {
    let model = json!({"uid": "u", "id": 99, "title": "T"});
    let text = serde_json::to_string(&WithId {
        model: &model,
        id: 3,
    })
    .unwrap();
    let back: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back, json!({"uid": "u", "id": 3, "title": "T"}));
}

#[test]
fn slugs_as_grafana_makes_them() {
    assert_eq!(slug("Node Exporter / Full"), "node-exporter-full");
    assert_eq!(slug("  HTTP  errors!! "), "http-errors");
}

#[tokio::test]
async fn versions_are_kept_listed_and_pruned() {
    let f = fixture();
    let r = &f.router;
    for v in 0..22 {
        let (code, _) = call(
            r,
            "POST",
            "/api/dashboards/db",
            Some(json!({"dashboard": {"uid": "h", "title": format!("T{v}"), "version": v}, "message": format!("m{v}")})),
        )
        .await;
        assert_eq!(code, 200);
    }
    let (code, v) = call(r, "GET", "/api/dashboards/uid/h/versions", None).await;
    assert_eq!(code, 200);
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 20, "Grafana keeps 20");
    assert_eq!(list[0]["version"], 22);
    assert_eq!(list[0]["message"], "m21");
    assert_eq!(list[0]["parentVersion"], 21);
    assert_eq!(list[0]["dashboardUid"], "h");
    assert_eq!(list[19]["version"], 3);
    let (_, v) = call(r, "GET", "/api/dashboards/uid/h/versions?limit=2", None).await;
    assert_eq!(v.as_array().unwrap().len(), 2);
    let (code, v) = call(r, "GET", "/api/dashboards/uid/h/versions/5", None).await;
    assert_eq!(code, 200);
    assert_eq!(v["data"]["title"], "T4");
    assert_eq!(v["data"]["version"], 5);
    let (code, _) = call(r, "GET", "/api/dashboards/uid/h/versions/1", None).await;
    assert_eq!(code, 404);
    let (code, v) = call(r, "GET", "/api/dashboards/uid/node/versions", None).await;
    assert_eq!((code, v), (200, json!([])));
    let (code, _) = call(r, "GET", "/api/dashboards/uid/none/versions", None).await;
    assert_eq!(code, 404);
    // Deleted and saved anew: a fresh history.
    call(r, "DELETE", "/api/dashboards/uid/h", None).await;
    let (code, _) = call(r, "GET", "/api/dashboards/uid/h/versions", None).await;
    assert_eq!(code, 404);
    call(
        r,
        "POST",
        "/api/dashboards/db",
        Some(json!({"dashboard": {"uid": "h", "title": "New"}})),
    )
    .await;
    let (_, v) = call(r, "GET", "/api/dashboards/uid/h/versions", None).await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    // The history directory does not confuse loading.
    let r2 = router_in(f.dir.path());
    let (code, v) = call(&r2, "GET", "/api/dashboards/uid/h", None).await;
    assert_eq!((code, v["dashboard"]["title"].clone()), (200, json!("New")));
}
