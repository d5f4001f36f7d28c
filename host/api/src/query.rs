//! The query side of API v1: `/query`, `/query_range`, `/series`, `/labels`,
//! `/label/<name>/values`, `/metadata`, `/format_query`, `/query_exemplars`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use sightline_model::{Labels, Matcher};
use sightline_promql::{Engine, QueryOptions, QueryResult};

use crate::costs::Placement;
use crate::dto;
use crate::params::{parse_duration_ms, parse_time, Params, MAX_TIME_MS, MIN_TIME_MS};
use crate::routes::ApiState;
use crate::{ApiError, ErrorType};

type S = State<Arc<ApiState>>;

fn envelope(data: Value, warnings: &[String], infos: &[String]) -> Response {
    let mut m = Map::new();
    m.insert("status".into(), json!("success"));
    m.insert("data".into(), data);
    if !warnings.is_empty() {
        m.insert(
            "warnings".into(),
            json!(warnings.iter().take(10).collect::<Vec<_>>()),
        );
    }
    if !infos.is_empty() {
        m.insert(
            "infos".into(),
            json!(infos.iter().take(10).collect::<Vec<_>>()),
        );
    }
    axum::Json(Value::Object(m)).into_response()
}

fn time_param(p: &Params, name: &str, default: i64) -> Result<i64, ApiError> {
    match p.get(name) {
        None | Some("") => Ok(default),
        Some(s) => parse_time(s)
            .map_err(|e| ApiError::bad_data(format!("invalid parameter {name:?}: {e}"))),
    }
}

/// A time parameter the request must carry (`start`, `end` of a range query).
fn required_time(p: &Params, name: &str) -> Result<i64, ApiError> {
    match p.get(name) {
        Some(s) => parse_time(s)
            .map_err(|e| ApiError::bad_data(format!("invalid parameter {name:?}: {e}"))),
        None => Err(ApiError::bad_data(format!(
            "invalid parameter {name:?}: cannot parse \"\" to a valid timestamp"
        ))),
    }
}

fn duration_param(p: &Params, name: &str) -> Result<Option<Duration>, ApiError> {
    match p.get(name) {
        None | Some("") => Ok(None),
        Some(s) => {
            let ms = parse_duration_ms(s)
                .map_err(|e| ApiError::bad_data(format!("invalid parameter {name:?}: {e}")))?;
            Ok(Some(Duration::from_millis(ms.max(0) as u64)))
        }
    }
}

fn promql_error(e: sightline_promql::Error) -> ApiError {
    let kind = match e.error_type() {
        "bad_data" => ErrorType::BadData,
        "timeout" => ErrorType::Timeout,
        "canceled" => ErrorType::Canceled,
        "internal" => ErrorType::Internal,
        _ => ErrorType::Execution,
    };
    let message = match &e {
        sightline_promql::Error::Parse(_) => format!("invalid parameter \"query\": {e}"),
        _ => e.to_string(),
    };
    ApiError::new(kind, message)
}

/// Waits for one of the `--query.max-concurrency` slots (an error response once the engine
/// shuts down).
async fn query_slot(st: &ApiState) -> Result<tokio::sync::OwnedSemaphorePermit, Response> {
    st.query_slots.clone().acquire_owned().await.map_err(|_| {
        ApiError::new(ErrorType::Unavailable, "query engine is shutting down").into_response()
    })
}

/// Runs a request's work in one of the `--query.max-concurrency` slots on a blocking thread:
/// parsing, storage reads and rendering never run on the async workers. The slot is held by
/// the work itself, so a client that goes away does not free it while the work still runs.
async fn in_query_slot(
    st: &Arc<ApiState>,
    f: impl FnOnce(&ApiState) -> Result<Response, ApiError> + Send + 'static,
) -> Response {
    let permit = match query_slot(st).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let st2 = st.clone();
    let res = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f(&st2)
    })
    .await;
    match res {
        Ok(r) => r.unwrap_or_else(IntoResponse::into_response),
        Err(e) => ApiError::internal(format!("query task failed: {e}")).into_response(),
    }
}

/// Evaluates a query and renders its success envelope (rendering is part of a query's
/// memory). The value comes back beside the response, for the caller to free when it
/// chooses.
fn evaluate<F>(
    st: &ApiState,
    limit: usize,
    stats: bool,
    arrived: Instant,
    f: &F,
    opts: &QueryOptions<'_>,
) -> sightline_promql::Result<(Response, QueryResult)>
where
    F: Fn(&ApiState, &QueryOptions<'_>) -> sightline_promql::Result<QueryResult>,
{
    let queue = arrived.elapsed();
    let res = f(st, opts)?;
    let timings = stats.then(|| crate::render::RequestTimings {
        queue,
        total: arrived.elapsed(),
    });
    let body = crate::render::query_success(&res, limit, timings.as_ref());
    let response = (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    Ok((response, res))
}

/// Whether a query's value or leftovers are large enough to free after its answer is sent.
fn large(value: Option<&QueryResult>, deferred: &sightline_promql::Deferred) -> bool {
    deferred.is_large()
        || value.is_some_and(|v| series_count(&v.value) >= sightline_promql::FREE_ELSEWHERE_MIN)
}

/// Runs a query in a query slot and renders its success envelope there too.
///
/// Where it runs depends on what the same query cost the last time ([`crate::QueryCosts`]):
/// a tiny one on this async worker itself, with a timeout of
/// [`crate::costs::ON_WORKER_BUDGET`]; a cheap one on this thread inside `block_in_place`
/// (the worker's other tasks move to another thread first), with a timeout of
/// [`crate::costs::INLINE_BUDGET`]. One that runs past its budget, and every other query,
/// runs on a blocking thread. There the query is canceled if this future is dropped (the
/// client went away); at shutdown (`ApiState::running`) every kind is.
///
/// When the evaluation left large leftovers ([`sightline_promql::defer_frees`]) or the
/// value is large, the response is handed over as soon as it is rendered, and the value
/// and the leftovers are freed afterwards on the same blocking thread, outside the query
/// slot: a heavy query's memory is freed by the thread that allocated it while its answer
/// travels, not by another thread beside the next query (issue 21: the small query right
/// after a heavy one, BENCHMARKS.md session 20).
async fn run_query<F>(st: &Arc<ApiState>, limit: usize, stats: bool, key: u64, f: F) -> Response
where
    F: Fn(&ApiState, &QueryOptions<'_>) -> sightline_promql::Result<QueryResult> + Send + 'static,
{
    let arrived = Instant::now();
    let running = st.running.start();
    let cancel = running.flag();
    let permit = match query_slot(st).await {
        Ok(p) => p,
        Err(r) => {
            running.finish();
            return r;
        }
    };
    // The timeout of a query that is run again after an inline attempt counts from the
    // attempt's start.
    let mut started = None;
    // Inline queries need a multi-thread runtime (`block_in_place`, and other workers to
    // take queued tasks meanwhile); on any other every query goes to a blocking thread.
    let multi_thread = tokio::runtime::Handle::current().runtime_flavor()
        == tokio::runtime::RuntimeFlavor::MultiThread;
    let placement = if multi_thread {
        st.query_costs.placement(key)
    } else {
        Placement::Blocking
    };
    if placement != Placement::Blocking {
        let on_worker = placement == Placement::Worker;
        let began = Instant::now();
        let opts = QueryOptions {
            cancel: Some(&*cancel),
            timeout: Some(if on_worker {
                crate::costs::ON_WORKER_BUDGET
            } else {
                crate::costs::INLINE_BUDGET
            }),
            started: Some(began),
            ..Default::default()
        };
        // The cost remembered is the query's own (evaluation and rendering), timed inside
        // `block_in_place`: the thread start-or-wake that precedes it is what the placement
        // costs, not the query. Counted in, it kept a query whose one run was slow on the
        // inline path (≈ 0.1 ms a run more than on the worker) as long as the query's own
        // cost stayed within that handoff of the worker's limit (BENCHMARKS.md, session 28).
        let run = || {
            let t = Instant::now();
            let out =
                sightline_promql::defer_frees(|| evaluate(st, limit, stats, arrived, &f, &opts));
            (out, t.elapsed())
        };
        let ((out, deferred), cost) = if on_worker {
            run()
        } else {
            tokio::task::block_in_place(run)
        };
        st.query_costs.record(key, cost);
        match out {
            Err(sightline_promql::Error::Timeout(_)) => {
                st.query_costs.count_over_budget();
                free_elsewhere(None, deferred);
                started = Some(began);
            }
            out => {
                st.query_costs.count_inline(on_worker);
                drop(permit);
                running.finish();
                let (response, value) = match out {
                    Ok((response, value)) => (response, Some(value)),
                    Err(e) => (promql_error(e).into_response(), None),
                };
                if large(value.as_ref(), &deferred) {
                    free_elsewhere(value, deferred);
                }
                return response;
            }
        }
    }
    let st2 = st.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<Response>();
    let task = tokio::task::spawn_blocking(move || {
        let began = Instant::now();
        let opts = QueryOptions {
            cancel: Some(&*cancel),
            started,
            ..Default::default()
        };
        let (out, deferred) =
            sightline_promql::defer_frees(|| evaluate(&st2, limit, stats, arrived, &f, &opts));
        st2.query_costs.record(key, began.elapsed());
        let (response, value) = match out {
            Ok((response, value)) => (response, Some(value)),
            Err(e) => (promql_error(e).into_response(), None),
        };
        if large(value.as_ref(), &deferred) {
            drop(permit);
            let _ = tx.send(response);
            drop(value);
            drop(deferred);
        } else {
            // A small query frees first, as any small task, so its thread is idle again
            // before the client's next request. Answering first made small queries at 10 k
            // series slower (BENCHMARKS.md, session 20; the likely cause, not measured: the
            // next request found the thread still busy and ran on another one).
            drop(value);
            drop(deferred);
            drop(permit);
            let _ = tx.send(response);
        }
    });
    let res = match rx.await {
        Ok(r) => r,
        // The sender went away without a response: the task panicked.
        Err(_) => match task.await {
            Err(e) => ApiError::internal(format!("query task failed: {e}")).into_response(),
            Ok(()) => ApiError::internal("query task ended without an answer").into_response(),
        },
    };
    running.finish();
    res
}

/// Frees what an inline query left on a blocking thread, off the request's thread.
fn free_elsewhere(value: Option<QueryResult>, deferred: sightline_promql::Deferred) {
    drop(tokio::task::spawn_blocking(move || {
        drop(value);
        drop(deferred);
    }));
}

fn series_count(v: &sightline_promql::Value) -> usize {
    match v {
        sightline_promql::Value::Vector(v) => v.len(),
        sightline_promql::Value::Matrix(m) => m.len(),
        _ => 0,
    }
}

/// The engine for one request: the shared one, or a copy with the request's `timeout`
/// (capped by `--query.timeout`) and `lookback_delta` overrides.
fn engine_for(st: &ApiState, p: &Params) -> Result<Engine, ApiError> {
    let timeout = duration_param(p, "timeout")?;
    let lookback = duration_param(p, "lookback_delta")?.filter(|l| !l.is_zero());
    let engine = st.engine.read().clone();
    if timeout.is_none() && lookback.is_none() {
        return Ok(engine);
    }
    let mut o = engine.options().clone();
    if let Some(t) = timeout {
        o.timeout = o.timeout.min(t);
    }
    if let Some(l) = lookback {
        o.lookback_delta = l;
    }
    Ok(Engine::with_registry(o, engine.registry().clone()))
}

/// Prometheus adds the `stats` object when the `stats` parameter is set to anything.
fn wants_stats(p: &Params) -> bool {
    p.get("stats").is_some_and(|v| !v.is_empty())
}

pub(crate) async fn query(State(st): S, p: Params) -> Response {
    query_inner(&st, &p)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn query_inner(st: &Arc<ApiState>, p: &Params) -> Result<Response, ApiError> {
    let limit = p.limit()?;
    let t = time_param(p, "time", sightline_model::now_ms())?;
    let q = p.get("query").unwrap_or("").to_string();
    let engine = engine_for(st, p)?;
    let key = st.query_costs.key(&q, 0, 0);
    Ok(run_query(st, limit, wants_stats(p), key, move |s, opts| {
        engine.query_with(s.storage.as_ref(), &q, (t, t, 0), opts)
    })
    .await)
}

pub(crate) async fn query_range(State(st): S, p: Params) -> Response {
    query_range_inner(&st, &p)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn query_range_inner(st: &Arc<ApiState>, p: &Params) -> Result<Response, ApiError> {
    let limit = p.limit()?;
    let start = required_time(p, "start")?;
    let end = required_time(p, "end")?;
    if end < start {
        return Err(ApiError::bad_data(
            "end timestamp must not be before start time",
        ));
    }
    let step = match p.get("step") {
        Some(s) => parse_duration_ms(s)
            .map_err(|e| ApiError::bad_data(format!("invalid parameter \"step\": {e}")))?,
        None => {
            return Err(ApiError::bad_data(
                "invalid parameter \"step\": cannot parse \"\" to a valid duration",
            ))
        }
    };
    if step <= 0 {
        return Err(ApiError::bad_data(
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if (end - start) / step > 11000 {
        return Err(ApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    let q = p.get("query").unwrap_or("").to_string();
    let engine = engine_for(st, p)?;
    let key = st.query_costs.key(&q, end - start, step);
    Ok(run_query(st, limit, wants_stats(p), key, move |s, opts| {
        engine.query_with(s.storage.as_ref(), &q, (start, end, step), opts)
    })
    .await)
}

/// Parses `match[]` selectors; each must have a matcher that does not match "".
fn selectors(p: &Params) -> Result<Vec<Vec<Matcher>>, ApiError> {
    let mut out = Vec::new();
    for s in p.all("match[]") {
        let ms =
            sightline_promql::parse_selector(s).map_err(|e| ApiError::bad_data(e.to_string()))?;
        if ms.iter().all(|m| m.matches_empty()) {
            return Err(ApiError::bad_data(
                "match[] must contain at least one non-empty matcher",
            ));
        }
        out.push(ms);
    }
    Ok(out)
}

fn range(p: &Params) -> Result<(i64, i64), ApiError> {
    Ok((
        time_param(p, "start", MIN_TIME_MS)?,
        time_param(p, "end", MAX_TIME_MS)?,
    ))
}

pub(crate) async fn series(State(st): S, p: Params) -> Response {
    in_query_slot(&st, move |st| {
        let limit = p.limit()?;
        let sels = selectors(&p)?;
        if sels.is_empty() {
            return Err(ApiError::bad_data("no match[] parameter provided"));
        }
        let (start, end) = range(&p)?;
        let q = st
            .storage
            .querier(start, end)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let mut all: BTreeSet<Labels> = BTreeSet::new();
        for ms in &sels {
            for s in q
                .select(true, None, ms)
                .map_err(|e| ApiError::internal(e.to_string()))?
            {
                all.insert(s.labels);
            }
        }
        let mut warnings = Vec::new();
        let n = all.len();
        let data: Vec<Value> = all
            .iter()
            .take(if limit > 0 { limit } else { n })
            .map(dto::labels)
            .collect();
        if limit > 0 && n > limit {
            warnings.push("results truncated due to limit".to_string());
        }
        Ok(envelope(Value::Array(data), &warnings, &[]))
    })
    .await
}

fn truncate_strings(mut v: Vec<String>, limit: usize) -> (Vec<String>, Vec<String>) {
    let mut w = Vec::new();
    if limit > 0 && v.len() > limit {
        v.truncate(limit);
        w.push("results truncated due to limit".to_string());
    }
    (v, w)
}

pub(crate) async fn labels(State(st): S, p: Params) -> Response {
    in_query_slot(&st, move |st| {
        let limit = p.limit()?;
        let sels = selectors(&p)?;
        let (start, end) = range(&p)?;
        let q = st
            .storage
            .querier(start, end)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let mut names = BTreeSet::new();
        if sels.is_empty() {
            names.extend(
                q.label_names(&[])
                    .map_err(|e| ApiError::internal(e.to_string()))?,
            );
        } else {
            for ms in &sels {
                names.extend(
                    q.label_names(ms)
                        .map_err(|e| ApiError::internal(e.to_string()))?,
                );
            }
        }
        let (v, w) = truncate_strings(names.into_iter().collect(), limit);
        Ok(envelope(json!(v), &w, &[]))
    })
    .await
}

/// Decodes the `U__` escaping of label names in paths (`U__http_2e_status` → `http.status`).
fn unescape_label_name(s: &str) -> Option<String> {
    let Some(rest) = s.strip_prefix("U__") else {
        return Some(s.to_string());
    };
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '_' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'_') {
            chars.next();
            out.push('_');
            continue;
        }
        let mut hex = String::new();
        loop {
            match chars.next() {
                Some('_') => break,
                Some(h) if h.is_ascii_hexdigit() => hex.push(h),
                _ => return None,
            }
        }
        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
    }
    Some(out)
}

pub(crate) async fn label_values(State(st): S, Path(name): Path<String>, p: Params) -> Response {
    in_query_slot(&st, move |st| {
        let name = unescape_label_name(&name)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ApiError::bad_data(format!("invalid label name: {name:?}")))?;
        let limit = p.limit()?;
        let sels = selectors(&p)?;
        let (start, end) = range(&p)?;
        let q = st
            .storage
            .querier(start, end)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let mut vals = BTreeSet::new();
        if sels.is_empty() {
            vals.extend(
                q.label_values(&name, &[])
                    .map_err(|e| ApiError::internal(e.to_string()))?,
            );
        } else {
            for ms in &sels {
                vals.extend(
                    q.label_values(&name, ms)
                        .map_err(|e| ApiError::internal(e.to_string()))?,
                );
            }
        }
        let (v, w) = truncate_strings(vals.into_iter().collect(), limit);
        Ok(envelope(json!(v), &w, &[]))
    })
    .await
}

pub(crate) async fn metadata(State(st): S, p: Params) -> Response {
    let r = (|| {
        let limit = p.limit()?;
        let per_metric = match p.get("limit_per_metric") {
            None | Some("") => 0,
            Some(s) => s
                .parse::<i64>()
                .map_err(|_| ApiError::bad_data("limit_per_metric must be a number"))?
                .max(0) as usize,
        };
        let metric = p.get("metric").filter(|m| !m.is_empty());
        let mut by_name: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for t in st.targets.active() {
            for (name, m) in &t.metadata {
                if metric.is_some_and(|x| x != name) {
                    continue;
                }
                let v = json!({"type": m.metric_type.as_str(), "help": m.help, "unit": m.unit});
                let e = by_name.entry(name.clone()).or_default();
                if !e.contains(&v) && (per_metric == 0 || e.len() < per_metric) {
                    e.push(v);
                }
            }
        }
        let mut out = Map::new();
        for (k, v) in by_name {
            if limit > 0 && out.len() >= limit {
                break;
            }
            out.insert(k, Value::Array(v));
        }
        Ok::<_, ApiError>(envelope(Value::Object(out), &[], &[]))
    })();
    r.unwrap_or_else(IntoResponse::into_response)
}

pub(crate) async fn format_query(State(st): S, p: Params) -> Response {
    in_query_slot(&st, move |_| {
        let expr = sightline_promql::parse(p.get("query").unwrap_or(""))
            .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))?;
        Ok(envelope(json!(expr.pretty()), &[], &[]))
    })
    .await
}

pub(crate) async fn query_exemplars(State(st): S, p: Params) -> Response {
    // Exemplars are not stored yet; the query must still be valid, as Prometheus checks it.
    in_query_slot(&st, move |_| {
        sightline_promql::parse(p.get("query").unwrap_or(""))
            .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))?;
        Ok(envelope(json!([]), &[], &[]))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::{BuildInfo, TargetsSource};
    use http_body_util::BodyExt;
    use sightline_storage_api::MemStorage;
    use sightline_storage_api::{Appendable, Querier, Queryable};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    /// The longest last cost of a query the tests' API runs inline.
    const INLINE_MAX_IN_TEST: Duration = Duration::from_millis(250);
    /// How long the slow store takes: past both the inline budget and the test's limit.
    const SLOW: Duration = Duration::from_millis(400);

    /// A store whose queriers take `delay_ms` to open.
    struct Slow(MemStorage, Arc<AtomicU64>);

    impl Queryable for Slow {
        fn querier(
            &self,
            min_t: i64,
            max_t: i64,
        ) -> sightline_storage_api::Result<Box<dyn Querier + '_>> {
            // A slow disk, as a storage read would block: on whichever thread runs the query.
            #[allow(clippy::disallowed_methods)]
            std::thread::sleep(Duration::from_millis(self.1.load(Ordering::Relaxed)));
            self.0.querier(min_t, max_t)
        }
    }

    struct NoTargets;

    impl TargetsSource for NoTargets {
        fn active(&self) -> Vec<sightline_scrape::TargetSnapshot> {
            Vec::new()
        }
        fn dropped(&self) -> Vec<sightline_scrape::DroppedTarget> {
            Vec::new()
        }
        fn pools(&self) -> Vec<String> {
            Vec::new()
        }
    }

    fn state(storage: Arc<dyn Queryable>) -> Arc<ApiState> {
        // Not 1 ms: a loaded test machine can take longer than that for any query.
        state_with(
            storage,
            crate::QueryCosts::with_limits(INLINE_MAX_IN_TEST, Duration::ZERO),
        )
    }

    fn state_with(storage: Arc<dyn Queryable>, costs: crate::QueryCosts) -> Arc<ApiState> {
        Arc::new(ApiState {
            storage,
            targets: Arc::new(NoTargets),
            config_yaml: Arc::default(),
            flags: Vec::new(),
            build: BuildInfo {
                version: "0".into(),
                revision: String::new(),
                branch: String::new(),
                build_user: String::new(),
                build_date: String::new(),
                toolchain: String::new(),
            },
            ready: Arc::new(AtomicBool::new(true)),
            reload: Arc::new(|| Box::pin(async { Ok(()) })),
            start_time_ms: 0,
            reload_status: Arc::default(),
            storage_retention: "15d".into(),
            engine: Arc::new(parking_lot::RwLock::new(Engine::new(
                sightline_promql::EngineOptions::default(),
            ))),
            query_slots: Arc::new(tokio::sync::Semaphore::new(4)),
            running: Arc::default(),
            query_costs: Arc::new(costs),
            plugins: Arc::new(|| json!([])),
            storage_admin: None,
            admin_enabled: false,
            subsystems: Vec::new(),
            root_routers: Vec::new(),
        })
    }

    async fn get(st: &Arc<ApiState>, uri: &str) -> (u16, String) {
        let uri: axum::http::Uri = uri.parse().unwrap();
        let p = Params::from_parts(
            &axum::http::Method::GET,
            &uri,
            &axum::http::HeaderMap::new(),
            &axum::body::Bytes::new(),
        );
        let r = if uri.path().ends_with("query_range") {
            query_range(State(st.clone()), p).await
        } else {
            query(State(st.clone()), p).await
        };
        let status = r.status().as_u16();
        let body = r.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    /// A store with ten samples of `up{job="a"}` 15 s apart, and the delay of its queriers
    /// (0 to start with).
    fn slow_up() -> (Slow, Arc<AtomicU64>) {
        let mem = MemStorage::new();
        let mut app = mem.appender();
        let up = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        for t in 0..10 {
            app.append(None, &up, t * 15_000, 1.0).unwrap();
        }
        app.commit().unwrap();
        let delay = Arc::new(AtomicU64::new(0));
        (Slow(mem, delay.clone()), delay)
    }

    /// A tiny query runs on the worker itself; one that has grown past the worker's short
    /// budget is answered, the same, from a blocking thread.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tiny_queries_run_on_the_worker_within_their_budget() {
        let (store, delay) = slow_up();
        let st = state_with(
            Arc::new(store),
            // Both limits long, so a loaded machine's run still counts as tiny.
            crate::QueryCosts::with_limits(INLINE_MAX_IN_TEST, INLINE_MAX_IN_TEST),
        );
        let costs = st.query_costs.clone();
        let instant = "/api/v1/query?query=up&time=120";
        let (code, first) = get(&st, instant).await;
        assert_eq!(code, 200, "{first}");
        assert_eq!(costs.on_worker_total(), 0, "never seen: a blocking thread");
        assert_eq!(get(&st, instant).await, (200, first.clone()));
        assert_eq!((costs.inline_total(), costs.on_worker_total()), (1, 1));

        // Slower than the worker's budget (2 ms), though within the test's limits: the
        // attempt is abandoned at the budget and the query answered from a blocking thread.
        delay.store(50, Ordering::Relaxed);
        let t0 = Instant::now();
        assert_eq!(get(&st, instant).await, (200, first.clone()));
        assert!(t0.elapsed() >= Duration::from_millis(50));
        assert_eq!((costs.on_worker_total(), costs.over_budget_total()), (1, 1));
        assert_eq!(
            costs.inline_total(),
            1,
            "the attempt is not counted as answered"
        );
        // Its last cost (50 ms) is within the test's worker limit: on the worker again.
        delay.store(0, Ordering::Relaxed);
        assert_eq!(get(&st, instant).await, (200, first.clone()));
        assert_eq!(get(&st, instant).await, (200, first));
        assert_eq!(
            (
                costs.inline_total(),
                costs.on_worker_total(),
                costs.over_budget_total()
            ),
            (3, 3, 1)
        );
        assert!(st.running.is_empty());
        assert_eq!(st.query_slots.available_permits(), 4);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cheap_queries_run_inline_and_one_grown_past_the_budget_runs_again() {
        let (store, delay) = slow_up();
        let st = state(Arc::new(store));
        let costs = st.query_costs.clone();
        let instant = "/api/v1/query?query=up&time=120";
        let range = "/api/v1/query_range?query=up&start=0&end=120&step=15";

        let (code, first) = get(&st, instant).await;
        assert_eq!(code, 200, "{first}");
        assert!(first.contains(r#""value":[120,"1"]"#), "{first}");
        assert_eq!(
            costs.inline_total(),
            0,
            "a query never seen runs on a blocking thread"
        );
        assert_eq!(get(&st, instant).await, (200, first.clone()));
        assert_eq!(
            costs.inline_total(),
            1,
            "the same query, cheap last time, runs inline"
        );
        let (code, r1) = get(&st, range).await;
        assert_eq!((code, costs.inline_total()), (200, 1), "another shape");
        assert_eq!(get(&st, range).await, (200, r1));
        assert_eq!(costs.inline_total(), 2);
        // Errors are answered inline too, and the same.
        let bad = "/api/v1/query?query=sum(&time=120";
        let (code, e1) = get(&st, bad).await;
        assert_eq!(code, 400, "{e1}");
        assert_eq!(get(&st, bad).await, (400, e1));
        assert_eq!(costs.inline_total(), 3);

        // The store became slow: the inline attempt stops at the budget, and the query is
        // answered, the same, from a blocking thread.
        delay.store(SLOW.as_millis() as u64, Ordering::Relaxed);
        assert_eq!(get(&st, instant).await, (200, first.clone()));
        assert_eq!((costs.inline_total(), costs.over_budget_total()), (3, 1));
        // Its last cost is now over the limit: no inline attempt.
        assert_eq!(get(&st, instant).await, (200, first.clone()));
        assert_eq!((costs.inline_total(), costs.over_budget_total()), (3, 1));
        // Cheap again, inline again.
        delay.store(0, Ordering::Relaxed);
        assert_eq!(get(&st, instant).await, (200, first.clone()));
        assert_eq!(costs.inline_total(), 3);
        assert_eq!(get(&st, instant).await, (200, first));
        assert_eq!((costs.inline_total(), costs.over_budget_total()), (4, 1));
        assert!(st.running.is_empty());
        assert_eq!(st.query_slots.available_permits(), 4);
    }

    #[test]
    fn label_name_unescaping() {
        assert_eq!(unescape_label_name("job").unwrap(), "job");
        assert_eq!(
            unescape_label_name("U__http_2e_status__code").unwrap(),
            "http.status_code"
        );
        assert!(unescape_label_name("U__bad_zz_").is_none());
    }
}
