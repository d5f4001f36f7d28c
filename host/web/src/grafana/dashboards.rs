//! The dashboard endpoints: stored dashboards (read-write) and plugin dashboards
//! (provisioned, read-only) side by side.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::store::{Provisioned, SaveCommand, Stored};
use super::{Dashboard, GrafanaState, S};
use crate::error::WebError;

/// Grafana's slug: lowercase, runs of other characters become one `-`.
pub(crate) fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// The id a plugin dashboard shows: stable (a hash of its uid) and out of the range stored
/// dashboards count in (they start at 1), so the two never collide in practice.
pub(crate) fn plugin_id(uid: &str) -> i64 {
    let h = xxhash_rust::xxh64::xxh64(uid.as_bytes(), 0) & ((1 << 40) - 1);
    (1 << 40) | h as i64
}

/// The plugin dashboards, one per uid.
async fn plugin_dashboards(st: &GrafanaState) -> Vec<Dashboard> {
    let Some(src) = st.opts.plugins.get() else {
        return Vec::new();
    };
    let mut out: Vec<Dashboard> = Vec::new();
    for d in src().await {
        // The runtime refuses a second plugin declaring a uid; this only guards the API's
        // own contract (one dashboard per uid) against another source.
        if out.iter().any(|e| e.uid == d.uid) {
            tracing::warn!(plugin = %d.plugin, uid = %d.uid, "dashboard uid already taken; skipped");
            continue;
        }
        out.push(d);
    }
    out
}

fn provisioned(list: &[Dashboard]) -> Vec<Provisioned<'_>> {
    list.iter().map(|d| Provisioned { uid: &d.uid }).collect()
}

/// Grafana's envelope `{dashboard, folderUid, overwrite, message}`, or (beyond Grafana) a
/// bare dashboard: an object with `title` or `panels` and no `dashboard` key.
fn save_command(body: &[u8]) -> Result<SaveCommand, WebError> {
    let Ok(Value::Object(mut doc)) = serde_json::from_slice::<Value>(body) else {
        return Err(WebError::BadRequest);
    };
    let bare =
        !doc.contains_key("dashboard") && (doc.contains_key("title") || doc.contains_key("panels"));
    if bare {
        return Ok(SaveCommand {
            dashboard: doc,
            ..SaveCommand::default()
        });
    }
    let dashboard = match doc.remove("dashboard") {
        Some(Value::Object(m)) => m,
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err(WebError::BadRequest),
    };
    let s = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    Ok(SaveCommand {
        dashboard,
        folder_uid: s("folderUid"),
        overwrite: doc
            .get("overwrite")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        message: s("message"),
    })
}

/// `POST /api/dashboards/db`.
pub(super) async fn save(State(st): S, body: Bytes) -> Response {
    let cmd = match save_command(&body) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let plugins = plugin_dashboards(&st).await;
    let st2 = st.clone();
    let saved =
        tokio::task::spawn_blocking(move || st2.opts.store.save(cmd, &provisioned(&plugins))).await;
    match saved {
        Ok(Ok(d)) => {
            let s = slug(&d.title);
            axum::Json(json!({
                "id": d.id,
                "slug": s,
                "status": "success",
                "uid": d.uid,
                "url": st.dashboard_url(&d.uid, &s),
                "version": d.version,
                "folderUid": d.folder_uid,
            }))
            .into_response()
        }
        Ok(Err(e)) => e.into_response(),
        Err(e) => WebError::Io {
            path: "dashboards".into(),
            source: std::io::Error::other(e.to_string()),
        }
        .into_response(),
    }
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `GET /api/dashboards/uid/<uid>`: the model with Grafana's `meta` block.
pub(super) async fn by_uid(State(st): S, Path(uid): Path<String>) -> Response {
    if let Some(d) = st.opts.store.get(&uid) {
        let s = slug(&d.title);
        return axum::Json(json!({
            "dashboard": &*d.model,
            "meta": {
                "type": "db",
                "canSave": true,
                "canEdit": true,
                "canAdmin": true,
                "canStar": false,
                "canDelete": true,
                "slug": s,
                "url": st.dashboard_url(&d.uid, &s),
                "expires": "0001-01-01T00:00:00Z",
                "created": rfc3339(d.created_ms),
                "updated": rfc3339(d.updated_ms),
                "updatedBy": "admin",
                "createdBy": "admin",
                "version": d.version,
                "hasAcl": false,
                "isFolder": false,
                "folderId": 0,
                "folderUid": d.folder_uid,
                "folderTitle": "General",
                "folderUrl": "",
                "provisioned": false,
                "provisionedExternalId": "",
            },
        }))
        .into_response();
    }
    let plugins = plugin_dashboards(&st).await;
    let Some(e) = plugins.into_iter().find(|e| e.uid == uid) else {
        return WebError::NotFound.into_response();
    };
    let s = slug(&e.title);
    /// The response, serialized straight from the shared model: no copy of it is made.
    #[derive(serde::Serialize)]
    struct ByUid<'a> {
        dashboard: WithId<'a>,
        meta: Value,
    }
    let version = e.model.get("version").and_then(Value::as_i64).unwrap_or(1);
    axum::Json(ByUid {
        dashboard: WithId {
            model: &e.model,
            id: plugin_id(&e.uid),
        },
        meta: json!({
            "type": "db",
            "canSave": false,
            "canEdit": false,
            "canAdmin": false,
            "canStar": false,
            "canDelete": false,
            "slug": s,
            "url": st.dashboard_url(&e.uid, &s),
            "expires": "0001-01-01T00:00:00Z",
            "version": version,
            "hasAcl": false,
            "isFolder": false,
            "folderId": 0,
            "folderUid": "",
            "folderTitle": "General",
            "folderUrl": "",
            "provisioned": true,
            "provisionedExternalId": format!("plugin:{}", e.plugin),
        }),
    })
    .into_response()
}

/// A dashboard model with Grafana's `id` in place of its own.
pub(crate) struct WithId<'a> {
    pub(crate) model: &'a Value,
    pub(crate) id: i64,
}

impl serde::Serialize for WithId<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Value::Object(fields) = self.model else {
            return self.model.serialize(s);
        };
        let mut map = s.serialize_map(None)?;
        for (k, v) in fields.iter().filter(|(k, _)| k.as_str() != "id") {
            map.serialize_entry(k, v)?;
        }
        map.serialize_entry("id", &self.id)?;
        map.end()
    }
}

/// `DELETE /api/dashboards/uid/<uid>`.
pub(super) async fn delete(State(st): S, Path(uid): Path<String>) -> Response {
    let plugins = plugin_dashboards(&st).await;
    let st2 = st.clone();
    let r =
        tokio::task::spawn_blocking(move || st2.opts.store.delete(&uid, &provisioned(&plugins)))
            .await;
    match r {
        Ok(Ok(d)) => axum::Json(json!({
            "id": d.id,
            "message": format!("Dashboard {} deleted", d.title),
            "title": d.title,
        }))
        .into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(e) => WebError::Io {
            path: "dashboards".into(),
            source: std::io::Error::other(e.to_string()),
        }
        .into_response(),
    }
}

/// One search hit.
struct Hit {
    id: i64,
    uid: String,
    title: String,
    tags: Vec<String>,
    folder_uid: String,
}

impl From<&Stored> for Hit {
    fn from(d: &Stored) -> Hit {
        Hit {
            id: d.id,
            uid: d.uid.clone(),
            title: d.title.clone(),
            tags: d.tags.clone(),
            folder_uid: d.folder_uid.clone(),
        }
    }
}

/// `GET /api/search`: `query` (title substring, case-insensitive), `tag` (repeatable, all
/// must be present), `type` (`dash-folder` lists nothing: there are no folders),
/// `dashboardUIDs` and `dashboardIds` (repeatable or comma-separated), `limit` (default
/// 1000); sorted by title as Grafana sorts.
pub(super) async fn search(State(st): S, RawQuery(q): RawQuery) -> Response {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let all = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(',').map(str::trim).map(str::to_string))
            .filter(|v| !v.is_empty())
            .collect()
    };
    let last = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    if last("type").as_deref() == Some("dash-folder") {
        return axum::Json(json!([])).into_response();
    }
    let query = last("query").unwrap_or_default().to_lowercase();
    let tags = all("tag");
    let uids = all("dashboardUIDs");
    let ids: Vec<i64> = all("dashboardIds")
        .iter()
        .filter_map(|i| i.parse().ok())
        .collect();
    let limit = last("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(1000);
    let mut hits: Vec<Hit> = st.opts.store.list().iter().map(Hit::from).collect();
    for d in plugin_dashboards(&st).await {
        if hits.iter().any(|h| h.uid == d.uid) {
            continue;
        }
        hits.push(Hit {
            id: plugin_id(&d.uid),
            uid: d.uid,
            title: d.title,
            tags: d.tags,
            folder_uid: String::new(),
        });
    }
    hits.retain(|h| {
        h.title.to_lowercase().contains(&query)
            && tags.iter().all(|t| h.tags.contains(t))
            && (uids.is_empty() || uids.contains(&h.uid))
            && (ids.is_empty() || ids.contains(&h.id))
    });
    hits.sort_by(|a, b| {
        a.title
            .to_lowercase()
            .cmp(&b.title.to_lowercase())
            .then_with(|| a.uid.cmp(&b.uid))
    });
    hits.truncate(limit);
    let list: Vec<Value> = hits
        .into_iter()
        .map(|h| {
            let s = slug(&h.title);
            let mut item = json!({
                "id": h.id,
                "uid": h.uid,
                "title": h.title,
                "uri": format!("db/{s}"),
                "url": st.dashboard_url(&h.uid, &s),
                "slug": "",
                "type": "dash-db",
                "tags": h.tags,
                "isStarred": false,
                "sortMeta": 0,
            });
            if !h.folder_uid.is_empty() {
                item["folderUid"] = json!(h.folder_uid);
            }
            item
        })
        .collect();
    axum::Json(Value::Array(list)).into_response()
}

/// One entry of the version list, in Grafana 9's shape.
fn version_entry(uid: &str, doc: &Value) -> Map<String, Value> {
    let version = doc["version"].as_i64().unwrap_or(0);
    let mut m = Map::new();
    m.insert("id".into(), json!(version));
    m.insert("dashboardId".into(), doc["id"].clone());
    m.insert("dashboardUid".into(), json!(uid));
    m.insert("parentVersion".into(), json!((version - 1).max(0)));
    m.insert("restoredFrom".into(), json!(0));
    m.insert("version".into(), json!(version));
    m.insert(
        "created".into(),
        json!(rfc3339(doc["updated"].as_i64().unwrap_or(0))),
    );
    m.insert("createdBy".into(), json!("admin"));
    m.insert("message".into(), doc["message"].clone());
    m
}

/// Reads the versions of a stored dashboard off the async workers; `Err` is the answer for
/// a dashboard that is not stored (a plugin's has no history: an empty list).
async fn versions_of(st: &GrafanaState, uid: &str) -> Result<Vec<Value>, Response> {
    let store = st.opts.store.clone();
    let u = uid.to_string();
    match tokio::task::spawn_blocking(move || store.versions(&u)).await {
        Ok(Some(v)) => Ok(v),
        Ok(None) => {
            if plugin_dashboards(st).await.iter().any(|d| d.uid == uid) {
                Ok(Vec::new())
            } else {
                Err(WebError::NotFound.into_response())
            }
        }
        Err(e) => Err(WebError::Io {
            path: "dashboards".into(),
            source: std::io::Error::other(e.to_string()),
        }
        .into_response()),
    }
}

/// `GET /api/dashboards/uid/<uid>/versions` (Grafana 9's array, newest first; `limit`).
pub(super) async fn versions(
    State(st): S,
    Path(uid): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let limit = url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "limit")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    match versions_of(&st, &uid).await {
        Ok(list) => axum::Json(Value::Array(
            list.iter()
                .take(limit)
                .map(|d| Value::Object(version_entry(&uid, d)))
                .collect(),
        ))
        .into_response(),
        Err(r) => r,
    }
}

/// `GET /api/dashboards/uid/<uid>/versions/<version>`: the entry with the model as `data`.
pub(super) async fn version(State(st): S, Path((uid, version)): Path<(String, i64)>) -> Response {
    match versions_of(&st, &uid).await {
        Ok(list) => match list.iter().find(|d| d["version"].as_i64() == Some(version)) {
            Some(doc) => {
                let mut m = version_entry(&uid, doc);
                m.insert("data".into(), doc["dashboard"].clone());
                axum::Json(Value::Object(m)).into_response()
            }
            None => (
                axum::http::StatusCode::NOT_FOUND,
                axum::Json(json!({"message": "Dashboard version not found"})),
            )
                .into_response(),
        },
        Err(r) => r,
    }
}
