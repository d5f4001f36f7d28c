//! The dashboards list, in the shapes of Grafana's HTTP API (`GET /api/search`,
//! `GET /api/dashboards/uid/<uid>`), fed by dashboard plugins. Plugin dashboards are
//! provisioned: read-only, identified by the model's `uid` (the plugin name when it has none).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::routes::ApiState;

/// Produces the model of every serving dashboard plugin.
pub type DashboardSource =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Vec<Dashboard>> + Send>> + Send + Sync>;

/// One dashboard: the model a plugin returned, parsed and validated once per loaded version
/// (the source shares it; requests never parse it again), with the fields the list shows.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// The plugin.
    pub plugin: String,
    /// The model's `uid` (the plugin name when it has none); unique among dashboards.
    pub uid: String,
    /// The model's title.
    pub title: String,
    /// The model's tags.
    pub tags: Vec<String>,
    /// The model, a JSON object whose `uid` is [`uid`](Self::uid).
    pub model: Arc<Value>,
}

/// Grafana's slug: lowercase, runs of other characters become one `-`.
fn slug(title: &str) -> String {
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

async fn entries(st: &ApiState) -> Vec<Dashboard> {
    let Some(src) = &st.dashboards else {
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
    out.sort_by_key(|e| e.title.to_lowercase());
    out
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct SearchParams {
    query: Option<String>,
    tag: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// `GET /api/search`: dashboards whose title contains `query` (case-insensitive) and that
/// carry `tag`; `type=dash-folder` lists no folders (there are none).
pub(crate) async fn search(
    State(st): State<Arc<ApiState>>,
    Query(p): Query<SearchParams>,
) -> Response {
    if p.kind.as_deref() == Some("dash-folder") {
        return axum::Json(json!([])).into_response();
    }
    let q = p.query.unwrap_or_default().to_lowercase();
    let list: Vec<Value> = entries(&st)
        .await
        .into_iter()
        .enumerate()
        .filter(|(_, e)| e.title.to_lowercase().contains(&q))
        .filter(|(_, e)| p.tag.as_ref().is_none_or(|t| e.tags.contains(t)))
        .map(|(i, e)| {
            let s = slug(&e.title);
            json!({
                "id": i + 1,
                "uid": e.uid,
                "title": e.title,
                "uri": format!("db/{s}"),
                "url": format!("/d/{}/{s}", e.uid),
                "slug": "",
                "type": "dash-db",
                "tags": e.tags,
                "isStarred": false,
                "sortMeta": 0,
            })
        })
        .collect();
    axum::Json(Value::Array(list)).into_response()
}

/// `GET /api/dashboards/uid/<uid>`: the model with Grafana's `meta` block.
pub(crate) async fn by_uid(State(st): State<Arc<ApiState>>, Path(uid): Path<String>) -> Response {
    let Some((i, e)) = entries(&st)
        .await
        .into_iter()
        .enumerate()
        .find(|(_, e)| e.uid == uid)
    else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "Dashboard not found"})),
        )
            .into_response();
    };
    let s = slug(&e.title);
    /// The response, serialized straight from the shared model: no copy of it is made.
    #[derive(serde::Serialize)]
    struct ByUid<'a> {
        dashboard: WithId<'a>,
        meta: Value,
    }
    axum::Json(ByUid {
        dashboard: WithId {
            model: &e.model,
            id: i + 1,
        },
        meta: json!({
            "type": "db",
            "canSave": false,
            "canEdit": false,
            "canAdmin": false,
            "canStar": false,
            "slug": s,
            "url": format!("/d/{}/{s}", e.uid),
            "provisioned": true,
            "provisionedExternalId": format!("plugin:{}", e.plugin),
            "folderId": 0,
            "folderUid": "",
            "folderTitle": "General",
        }),
    })
    .into_response()
}

/// A dashboard model with Grafana's `id` (the list position) in place of its own.
struct WithId<'a> {
    model: &'a Value,
    id: usize,
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

#[cfg(test)]
mod tests {
    use super::slug;

    /// The model is served with Grafana's `id` replacing its own, without copying it.
    #[test]
    fn model_is_served_with_the_list_position_as_id() {
        let model = serde_json::json!({"uid": "u", "id": 99, "title": "T"});
        let text = serde_json::to_string(&super::WithId {
            model: &model,
            id: 3,
        })
        .unwrap();
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, serde_json::json!({"uid": "u", "id": 3, "title": "T"}));
    }

    #[test]
    fn slugs_as_grafana_makes_them() {
        assert_eq!(slug("Node Exporter / Full"), "node-exporter-full");
        assert_eq!(slug("  HTTP  errors!! "), "http-errors");
    }
}
