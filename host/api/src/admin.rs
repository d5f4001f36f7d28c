//! `/api/v1/status/tsdb` and the admin API (`/api/v1/admin/tsdb/*`, behind
//! `--web.enable-admin-api` as in Prometheus).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use sightline_model::Matcher;

use crate::params::{parse_time, Params};
use crate::routes::ApiState;
use crate::{ApiError, ErrorType};

/// The storage engine's status and admin operations, as the API needs them.
pub trait StorageAdmin: Send + Sync {
    /// Cardinality statistics, each list at most `limit` long.
    fn status(&self, limit: usize) -> TsdbStatus;
    /// Tombstones every series matching any of the matcher sets over `[start, end]`.
    fn delete_series(
        &self,
        matchers: &[Vec<Matcher>],
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<(), String>;
    /// Rewrites data without deleted samples.
    fn clean_tombstones(&self) -> Result<(), String>;
    /// Writes a snapshot and returns its directory name.
    fn snapshot(&self, skip_head: bool) -> Result<String, String>;
}

/// `/api/v1/status/tsdb` data.
#[derive(Debug, Clone, Default)]
pub struct TsdbStatus {
    /// Head series.
    pub num_series: u64,
    /// Head label pairs.
    pub num_label_pairs: u64,
    /// Head chunks.
    pub chunk_count: u64,
    /// Oldest head sample (ms).
    pub min_time: i64,
    /// Newest head sample (ms).
    pub max_time: i64,
    /// Top metric names by series.
    pub series_count_by_metric_name: Vec<(String, u64)>,
    /// Top label names by distinct values.
    pub label_value_count_by_label_name: Vec<(String, u64)>,
    /// Top label names by value bytes.
    pub memory_in_bytes_by_label_name: Vec<(String, u64)>,
    /// Top `name=value` pairs by series.
    pub series_count_by_label_value_pair: Vec<(String, u64)>,
}

type S = State<Arc<ApiState>>;

fn pairs(v: &[(String, u64)]) -> Value {
    Value::Array(
        v.iter()
            .map(|(n, c)| json!({"name": n, "value": c}))
            .collect(),
    )
}

pub(crate) async fn status_tsdb(State(st): S, p: Params) -> Response {
    let limit = match p.get("limit") {
        None | Some("") => 10,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=10_000).contains(&n) => n,
            _ => {
                return ApiError::bad_data("limit must be a positive number <= 10000")
                    .into_response()
            }
        },
    };
    let Some(admin) = st.storage_admin.clone() else {
        return ApiError::new(ErrorType::Unavailable, "TSDB not ready").into_response();
    };
    let s = match tokio::task::spawn_blocking(move || admin.status(limit)).await {
        Ok(s) => s,
        Err(e) => return ApiError::internal(e.to_string()).into_response(),
    };
    let data = json!({
        "headStats": {
            "numSeries": s.num_series,
            "numLabelPairs": s.num_label_pairs,
            "chunkCount": s.chunk_count,
            "minTime": s.min_time,
            "maxTime": s.max_time,
        },
        "seriesCountByMetricName": pairs(&s.series_count_by_metric_name),
        "labelValueCountByLabelName": pairs(&s.label_value_count_by_label_name),
        "memoryInBytesByLabelName": pairs(&s.memory_in_bytes_by_label_name),
        "seriesCountByLabelValuePair": pairs(&s.series_count_by_label_value_pair),
    });
    axum::Json(json!({"status": "success", "data": data})).into_response()
}

fn admin(st: &ApiState) -> Result<Arc<dyn StorageAdmin>, ApiError> {
    if !st.admin_enabled {
        return Err(ApiError::new(ErrorType::Unavailable, "admin APIs disabled"));
    }
    st.storage_admin
        .clone()
        .ok_or_else(|| ApiError::new(ErrorType::Unavailable, "TSDB not ready"))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(ApiError::internal)
}

pub(crate) async fn delete_series(State(st): S, p: Params) -> Response {
    let r = async {
        let a = admin(&st)?;
        let sels = p.all("match[]");
        if sels.is_empty() {
            return Err(ApiError::bad_data("no match[] parameter provided"));
        }
        let mut sets = Vec::new();
        for s in sels {
            sets.push(
                sightline_promql::parse_selector(s)
                    .map_err(|e| ApiError::bad_data(e.to_string()))?,
            );
        }
        let t = |name: &str| -> Result<Option<i64>, ApiError> {
            match p.get(name) {
                None | Some("") => Ok(None),
                Some(s) => parse_time(s)
                    .map(Some)
                    .map_err(|e| ApiError::bad_data(format!("invalid parameter {name:?}: {e}"))),
            }
        };
        let (start, end) = (t("start")?, t("end")?);
        blocking(move || a.delete_series(&sets, start, end)).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    };
    r.await.unwrap_or_else(IntoResponse::into_response)
}

pub(crate) async fn clean_tombstones(State(st): S) -> Response {
    let r = async {
        let a = admin(&st)?;
        blocking(move || a.clean_tombstones()).await?;
        Ok::<_, ApiError>(StatusCode::NO_CONTENT.into_response())
    };
    r.await.unwrap_or_else(IntoResponse::into_response)
}

pub(crate) async fn snapshot(State(st): S, p: Params) -> Response {
    let r = async {
        let a = admin(&st)?;
        let skip_head = match p.get("skip_head") {
            None | Some("") => false,
            Some(s) => s.parse::<bool>().map_err(|_| {
                ApiError::bad_data(format!(
                    "unable to parse boolean 'skip_head' argument: {s:?}"
                ))
            })?,
        };
        let name = blocking(move || a.snapshot(skip_head)).await?;
        Ok::<_, ApiError>(
            axum::Json(json!({"status": "success", "data": {"name": name}})).into_response(),
        )
    };
    r.await.unwrap_or_else(IntoResponse::into_response)
}
